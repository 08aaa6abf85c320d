#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace intelergy::store {

// One reading as the rollup sees it (epoch milliseconds, UTC).
struct RollupSample {
    std::int64_t ts_ms{0};
    std::optional<double> power_w;
    std::optional<double> energy_wh;     // the lifetime counter (bridge book or imported counter)
    std::optional<double> counter_raw_wh;  // the device's own counter in Wh, for reset detection
};

// Rules of the minute rollup (docs/data-model.md "Rollup semantics"). Changing any of these
// changes rollups: recompute afterwards.
struct RollupParams {
    std::chrono::seconds hold_limit{300};  // a sample's power is held at most this long
    double max_power_w{4000};              // a counter increase above this rate is implausible
    double spike_allowance_wh{1.0};        // added to the plausible increase
    double reset_tolerance_wh{0.5};        // counter drops up to this are rounding, not resets
    int glitch_window{3};                  // a drop that returns within this many samples
};

// The minute bucket [start_ms, start_ms + 60 s). Additive fields sum exactly into parents.
struct MinuteBucket {
    std::int64_t start_ms{0};
    std::optional<double> energy_wh;             // counter where known, integrated fill elsewhere
    std::optional<double> energy_integrated_wh;  // sample-and-hold power only (cross-check)
    double counter_s{0};   // seconds whose energy came from the counter
    double covered_s{0};   // seconds within the hold limit of a sample (power/state known)
    double bridged_s{0};   // seconds only known through a counter interpolated over a long gap
    double sum_w_s{0};     // integral of held power over covered seconds with power (W*s)
    double power_s{0};     // seconds with held power (denominator of the mean)
    std::optional<double> min_w, max_w;
    int samples{0};
    std::optional<std::int64_t> first_ts_ms, last_ts_ms;
    int resets{0};

    [[nodiscard]] bool empty() const noexcept {
        return samples == 0 && covered_s <= 0 && bridged_s <= 0 && counter_s <= 0;
    }
};

constexpr std::int64_t MINUTE_MS = 60'000;

constexpr std::int64_t floor_minute(std::int64_t ts_ms) noexcept {
    const std::int64_t r = ts_ms % MINUTE_MS;
    return r < 0 ? ts_ms - r - MINUTE_MS : ts_ms - r;
}

// Marks counter samples that are glitches: a drop of more than reset_tolerance_wh below the
// highest of the previous `glitch_window` counters that comes back to that level within the
// next `glitch_window` samples (0-then-restore). Applied to energy_wh and counter_raw_wh alike.
std::vector<bool> find_counter_glitches(std::span<const RollupSample> samples,
                                        const RollupParams& params);

// Computes the minute buckets in [from_ms, to_ms) from `samples` (sorted by ts, unique ts).
// Only the buckets in that range are returned (empty buckets omitted), in order. The result
// for a minute depends only on the samples near it, so callers pass enough context samples
// on both sides (RollupContext below) and recomputing any range gives identical buckets.
std::vector<MinuteBucket> compute_minutes(std::span<const RollupSample> samples,
                                          std::int64_t from_ms, std::int64_t to_ms,
                                          const RollupParams& params);

// How many samples around a recomputed range influence it, and how many are rewritten.
struct RollupContext {
    static constexpr int REWRITE = 8;   // samples on each side whose minutes are rewritten
    static constexpr int LOAD = 16;     // samples on each side loaded as context
};

}  // namespace intelergy::store
