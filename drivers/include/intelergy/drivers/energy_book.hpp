#pragma once

#include "intelergy/core/clock.hpp"
#include "intelergy/core/reading.hpp"

#include <optional>
#include <string>

namespace intelergy::drivers {

// The bridge's own lifetime energy book for one device channel. Persisted by the store per
// device + channel; copy it out, store it, copy it back after a restart and continue.
// Invariant once a counter has been seen: lifetime_wh == offset_wh + last_raw_wh.
struct CounterState {
    std::optional<double> last_raw_wh;  // last accepted device counter, converted to Wh
    double offset_wh{0};                // added to the device counter to get the lifetime book
    double lifetime_wh{0};              // the book; never decreases
    std::optional<SysTime> last_ts;     // when last_raw_wh was first seen
    int pending_rejects{0};             // consecutive rejected spikes
    // Newest rejected spike (Wh). Transient helper for the rebase rule; a store may skip it:
    // when it is missing, a persisted pending_rejects simply restarts counting at 1.
    std::optional<double> pending_raw_wh;
    // Transient (not persisted), for the energy of the unreported stretch before a reset (see
    // update_counter): the newest sample's times and power, and power integrated since the
    // counter last moved (invalid once a stretch had no power).
    std::optional<SysTime> last_sample_ts;
    std::optional<SysTime> last_sample_device_ts;
    std::optional<double> last_power_w;
    double unreported_wh{0};
    bool unreported_valid{true};
};

struct EnergyLimits {
    double max_power_w{3700};        // a plug's rating; spikes are judged against 1.1 x this
    double dip_tolerance_wh{0.1};    // Wh counters: drops up to this are rounding (held)
    double spike_allowance_wh{1.0};  // added to the plausible increase
    // The plausible increase is computed over max(elapsed, min_window_s): a counter that only
    // advances at minute rollover may legitimately jump by a whole minute of energy one second
    // after the previous sample.
    double min_window_s{60.0};
    // Longest gap between the last sample before a reset and the first one after it over which
    // the energy consumed before the reset is estimated from power; longer gaps count nothing.
    double max_gap_estimate_s{600.0};
};

enum class CounterEvent { First, Advanced, Unchanged, Held, Reset, Rejected, Rebased };

const char* to_string(CounterEvent event) noexcept;

struct CounterUpdate {
    CounterEvent event{CounterEvent::Unchanged};
    double lifetime_wh{0};  // the book after this sample
    double delta_wh{0};     // lifetime increase due to this sample (0 for First, which only
                            // adopts the device counter as the starting point)
    std::string detail;     // human-readable reason, for debug logs
};

// Feeds one raw counter sample into the book. Rules (shelly.md section 6):
//  * raw NaN / infinite / negative             -> Rejected, state untouched.
//  * ts older than last_ts (out of order)      -> Unchanged, state untouched: an older sample
//    can only repeat or contradict what is already booked.
//  * first sample (no last_raw_wh)             -> First: lifetime = offset + raw (the book
//    starts at the device's own counter), delta 0. If that would lower an existing lifetime
//    (state restored without last_raw), the offset is raised instead: lifetime kept.
//  * raw == last                               -> Unchanged (last_ts kept: it marks when the
//    value was first seen, so a later minute-rollover jump is judged over the true interval).
//  * raw > last, plausible                     -> Advanced: lifetime = offset + raw.
//  * raw > last, implausible                   -> Rejected (pending_rejects++). Plausible means
//    increase <= max_power_w * 1.1 * max(elapsed, min_window_s) / 3600 + spike_allowance_wh;
//    without last_ts every increase is plausible. The third consecutive rejected spike that is
//    not below the previous one -> Rebased to it: lifetime kept, offset = lifetime - raw, the
//    jump is not counted. A decreasing spike restarts the count at 1.
//  * Wh counter, drop <= dip_tolerance_wh      -> Held: nothing changes (last_raw NOT lowered,
//    so the catch-up after a reboot rounding dip is not counted twice).
//  * WattMinute counter, any drop; Wh counter, larger drop -> device counter was reset
//    (Gen1 reboot, Switch.ResetCounters): if raw itself is plausible for the time since last_ts
//    -> Reset: offset += last_raw, lifetime = offset + raw (energy since the reset counted);
//    else Rebased (count nothing). The device counted energy between the last sample and the
//    reset that it then threw away: everything since the counter last moved (a plug that
//    reports its counter once a minute over MQTT loses up to that minute). The book estimates
//    it from power: the trapezoid integral of `power_w` over the samples since the counter last
//    moved and up to this one, minus what the counter holds since the reset, never negative and
//    never above max_power_w over that time. Each interval is measured on the device's clock
//    when both of its samples carry `device_ts` (the clock the device meters by), else on `ts`.
//    A sample without power or an interval longer than max_gap_estimate_s disables the
//    estimate until the counter moves again. Exact for a constant load; without it the stretch
//    is not counted (an underestimate of at most one report interval of energy).
// Any accepted sample clears pending_rejects. lifetime_wh never decreases and no energy is
// counted twice.
CounterUpdate update_counter(CounterState& state, double raw, CounterUnit unit, SysTime ts,
                             const EnergyLimits& limits,
                             std::optional<double> power_w = std::nullopt,
                             std::optional<SysTime> device_ts = std::nullopt);

}  // namespace intelergy::drivers
