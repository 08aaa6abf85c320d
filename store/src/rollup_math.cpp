#include "intelergy/store/rollup_math.hpp"

#include <algorithm>
#include <cstddef>
#include <map>

namespace intelergy::store {

namespace {

using Getter = std::optional<double> (*)(const RollupSample&);

std::optional<double> get_energy(const RollupSample& s) { return s.energy_wh; }
std::optional<double> get_raw(const RollupSample& s) { return s.counter_raw_wh; }

void mark_glitches(std::span<const RollupSample> samples, Getter get, const RollupParams& p,
                   std::vector<bool>& out) {
    const auto n = static_cast<std::ptrdiff_t>(samples.size());
    const auto w = static_cast<std::ptrdiff_t>(std::max(1, p.glitch_window));
    for (std::ptrdiff_t i = 0; i < n; ++i) {
        const auto c = get(samples[static_cast<std::size_t>(i)]);
        if (!c) continue;
        std::optional<double> before;
        for (std::ptrdiff_t j = std::max<std::ptrdiff_t>(0, i - w); j < i; ++j) {
            const auto v = get(samples[static_cast<std::size_t>(j)]);
            if (v && (!before || *v > *before)) before = v;
        }
        if (!before || *c >= *before - p.reset_tolerance_wh) continue;
        for (std::ptrdiff_t j = i + 1; j < std::min(n, i + 1 + w); ++j) {
            const auto v = get(samples[static_cast<std::size_t>(j)]);
            if (v && *v >= *before - p.reset_tolerance_wh) {
                out[static_cast<std::size_t>(i)] = true;
                break;
            }
        }
    }
}

// The accumulators of one minute: the bucket, and the energy from the counter and from the
// integrated-power fill, kept apart until take() adds them.
struct Slot {
    MinuteBucket b;
    double counter_wh{0}, fill_wh{0}, fill_s{0};
};

// Per-minute accumulator; minutes outside [from, to) are dropped on the floor. The steps below
// walk time forwards, so the slot after the last one used is tried first (a year of minutes
// is 525,600 slots: a tree lookup for each split was a tenth of a recompute's client time).
class Accumulator {
public:
    Accumulator(std::int64_t from_ms, std::int64_t to_ms) : from_(from_ms), to_(to_ms) {}

    // Calls fn(slot, seconds) for each minute overlapping [t0, t1) inside the range.
    template <typename Fn>
    void split(std::int64_t t0, std::int64_t t1, Fn&& fn) {
        t0 = std::max(t0, from_);
        t1 = std::min(t1, to_);
        for (std::int64_t m = floor_minute(t0); m < t1; m += MINUTE_MS) {
            const std::int64_t a = std::max(t0, m);
            const std::int64_t b = std::min(t1, m + MINUTE_MS);
            if (b > a) fn(slot(m), static_cast<double>(b - a) / 1000.0);
        }
    }

    MinuteBucket* at(std::int64_t ts_ms) {
        if (ts_ms < from_ || ts_ms >= to_) return nullptr;
        return &slot(floor_minute(ts_ms)).b;
    }

    std::vector<MinuteBucket> take() {
        std::vector<MinuteBucket> out;
        out.reserve(slots_.size());
        for (auto& [start, s] : slots_) {
            auto& b = s.b;
            if (b.empty()) continue;
            if (b.counter_s > 0 || s.fill_s > 0) b.energy_wh = s.counter_wh + s.fill_wh;
            if (b.power_s > 0) b.energy_integrated_wh = b.sum_w_s / 3600.0;
            out.push_back(b);
        }
        return out;
    }

private:
    Slot& slot(std::int64_t m) {
        if (last_ != slots_.end()) {
            if (last_->first == m) return last_->second;
            if (last_->first < m) {
                const auto next = std::next(last_);
                if (next != slots_.end() && next->first == m) return (last_ = next)->second;
                if (next == slots_.end() || next->first > m) {
                    last_ = slots_.emplace_hint(next, m, Slot{});
                    last_->second.b.start_ms = m;
                    return last_->second;
                }
            }
        }
        auto [it, inserted] = slots_.try_emplace(m);
        if (inserted) it->second.b.start_ms = m;
        last_ = it;
        return it->second;
    }

    std::int64_t from_, to_;
    std::map<std::int64_t, Slot> slots_;
    std::map<std::int64_t, Slot>::iterator last_{slots_.end()};
};

struct CounterSegment {
    std::int64_t t0, t1;
    double delta_wh;
};

void fold_extremes(MinuteBucket& b, double w) {
    b.min_w = b.min_w ? std::min(*b.min_w, w) : w;
    b.max_w = b.max_w ? std::max(*b.max_w, w) : w;
}

}  // namespace

std::vector<bool> find_counter_glitches(std::span<const RollupSample> samples,
                                        const RollupParams& params) {
    std::vector<bool> out(samples.size(), false);
    mark_glitches(samples, get_energy, params, out);
    mark_glitches(samples, get_raw, params, out);
    return out;
}

std::vector<MinuteBucket> compute_minutes(std::span<const RollupSample> samples,
                                          std::int64_t from_ms, std::int64_t to_ms,
                                          const RollupParams& p) {
    Accumulator acc(from_ms, to_ms);
    const std::size_t n = samples.size();
    const std::int64_t hold_ms = std::chrono::duration_cast<std::chrono::milliseconds>(p.hold_limit).count();
    const auto glitch = find_counter_glitches(samples, p);

    // 1. Counter segments between consecutive valid counter samples; resets and implausible
    //    jumps are not counter segments (their time is filled by integrated power).
    std::vector<CounterSegment> segments;
    std::optional<std::size_t> prev;
    for (std::size_t i = 0; i < n; ++i) {
        if (!samples[i].energy_wh || glitch[i]) continue;
        if (prev) {
            const auto& a = samples[*prev];
            const auto& b = samples[i];
            const double dt_s = static_cast<double>(b.ts_ms - a.ts_ms) / 1000.0;
            double d = *b.energy_wh - *a.energy_wh;
            const bool raw_reset = a.counter_raw_wh && b.counter_raw_wh &&
                                   *b.counter_raw_wh < *a.counter_raw_wh - p.reset_tolerance_wh;
            const bool reset = raw_reset || d < -p.reset_tolerance_wh;
            const bool implausible = d > p.max_power_w * dt_s / 3600.0 + p.spike_allowance_wh;
            if (reset) {
                if (auto* bucket = acc.at(b.ts_ms)) ++bucket->resets;
            } else if (!implausible) {
                segments.push_back({a.ts_ms, b.ts_ms, std::max(0.0, d)});
            }
        }
        prev = i;
    }
    for (const auto& s : segments) {
        const double len_s = static_cast<double>(s.t1 - s.t0) / 1000.0;
        acc.split(s.t0, s.t1, [&](Slot& slot, double sec) {
            slot.b.counter_s += sec;
            slot.counter_wh += s.delta_wh * sec / len_s;
        });
    }

    // 2. Sample-and-hold: each sample makes [ts, min(next ts, ts + hold)) known. The newest
    //    sample holds nothing until its successor arrives (no extrapolation into the future).
    std::size_t seg = 0;
    for (std::size_t i = 0; i + 1 < n; ++i) {
        const auto& s = samples[i];
        const std::int64_t t0 = s.ts_ms;
        const std::int64_t t1 = std::min(samples[i + 1].ts_ms, t0 + hold_ms);
        acc.split(t0, t1, [&](Slot& slot, double sec) { slot.b.covered_s += sec; });
        if (!s.power_w) continue;
        const double w = *s.power_w;
        acc.split(t0, t1, [&](Slot& slot, double sec) {
            slot.b.power_s += sec;
            slot.b.sum_w_s += w * sec;
            fold_extremes(slot.b, w);
        });
        // Parts of the hold outside every counter segment are filled with integrated power.
        while (seg < segments.size() && segments[seg].t1 <= t0) ++seg;
        std::int64_t cursor = t0;
        for (std::size_t k = seg; k < segments.size() && cursor < t1; ++k) {
            if (segments[k].t0 >= t1) break;
            if (segments[k].t0 > cursor) {
                acc.split(cursor, segments[k].t0, [&](Slot& slot, double sec) {
                    slot.fill_s += sec;
                    slot.fill_wh += w * sec / 3600.0;
                });
            }
            cursor = std::max(cursor, segments[k].t1);
        }
        if (cursor < t1) {
            acc.split(cursor, t1, [&](Slot& slot, double sec) {
                slot.fill_s += sec;
                slot.fill_wh += w * sec / 3600.0;
            });
        }
    }

    // 3. Counter time beyond every sample's hold is "bridged": energy known only in total.
    for (const auto& s : segments) {
        std::int64_t cursor = s.t0;
        // Samples inside the segment each cover up to hold_ms after themselves.
        auto it = std::lower_bound(samples.begin(), samples.end(), s.t0,
                                   [](const RollupSample& r, std::int64_t t) { return r.ts_ms < t; });
        for (; it != samples.end() && it->ts_ms < s.t1; ++it) {
            const std::int64_t covered_to = std::min(s.t1, it->ts_ms + hold_ms);
            if (it->ts_ms > cursor)
                acc.split(cursor, it->ts_ms, [](Slot& slot, double sec) { slot.b.bridged_s += sec; });
            cursor = std::max(cursor, covered_to);
        }
        if (cursor < s.t1)
            acc.split(cursor, s.t1, [](Slot& slot, double sec) { slot.b.bridged_s += sec; });
    }

    // 4. Sample counts, extremes and first/last timestamps.
    for (std::size_t i = 0; i < n; ++i) {
        auto* b = acc.at(samples[i].ts_ms);
        if (!b) continue;
        ++b->samples;
        if (!b->first_ts_ms) b->first_ts_ms = samples[i].ts_ms;
        b->last_ts_ms = samples[i].ts_ms;
        if (samples[i].power_w) fold_extremes(*b, *samples[i].power_w);
    }
    return acc.take();
}

}  // namespace intelergy::store
