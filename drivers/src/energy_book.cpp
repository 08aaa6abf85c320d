#include "intelergy/drivers/energy_book.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace intelergy::drivers {

namespace {

std::string wh(double v) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.6g Wh", v);
    return buf;
}

// Largest counter increase that is physically possible between `state.last_ts` and `ts`.
double plausible_increase_wh(const CounterState& state, SysTime ts, const EnergyLimits& limits) {
    if (!state.last_ts) return INFINITY;
    const double elapsed_s = std::chrono::duration<double>(ts - *state.last_ts).count();
    const double window_s = std::max(elapsed_s, limits.min_window_s);
    return limits.max_power_w * 1.1 * window_s / 3600.0 + limits.spike_allowance_wh;
}

void accept(CounterState& state, double raw_wh, SysTime ts) {
    state.last_raw_wh = raw_wh;
    state.last_ts = ts;
    state.pending_rejects = 0;
    state.pending_raw_wh.reset();
}

CounterUpdate result(CounterEvent event, const CounterState& state, double delta,
                     std::string detail) {
    return CounterUpdate{event, state.lifetime_wh, delta, std::move(detail)};
}

// Keeps the invariant lifetime == offset + raw without ever lowering lifetime.
void rebase(CounterState& state, double raw_wh, SysTime ts) {
    state.offset_wh = state.lifetime_wh - raw_wh;
    accept(state, raw_wh, ts);
}

}  // namespace

const char* to_string(CounterEvent event) noexcept {
    switch (event) {
        case CounterEvent::First:
            return "first";
        case CounterEvent::Advanced:
            return "advanced";
        case CounterEvent::Unchanged:
            return "unchanged";
        case CounterEvent::Held:
            return "held";
        case CounterEvent::Reset:
            return "reset";
        case CounterEvent::Rejected:
            return "rejected";
        case CounterEvent::Rebased:
            return "rebased";
    }
    return "unknown";
}

namespace {

// Energy between the newest sample and this one from their powers (trapezoid), the interval
// measured on the device's clock when both carry it; nullopt when a power is missing or the
// interval is negative or longer than max_gap_estimate_s.
std::optional<double> interval_wh(const CounterState& state, SysTime ts,
                                  std::optional<SysTime> device_ts, std::optional<double> power_w,
                                  const EnergyLimits& limits) {
    if (!power_w || !state.last_power_w || !state.last_sample_ts) return std::nullopt;
    double gap_s = std::chrono::duration<double>(ts - *state.last_sample_ts).count();
    if (device_ts && state.last_sample_device_ts && *device_ts > *state.last_sample_device_ts)
        gap_s = std::chrono::duration<double>(*device_ts - *state.last_sample_device_ts).count();
    if (gap_s < 0 || gap_s > limits.max_gap_estimate_s) return std::nullopt;
    const double watts = std::min((std::fabs(*power_w) + std::fabs(*state.last_power_w)) / 2.0,
                                  limits.max_power_w);
    return watts * gap_s / 3600.0;
}

// Energy the device counted after its counter last moved and then lost with the reset: power
// integrated since then, minus what the counter holds since the reset.
double energy_lost_at_reset(const CounterState& state, double raw_since_reset_wh, SysTime ts,
                            std::optional<double> power_w, std::optional<SysTime> device_ts,
                            const EnergyLimits& limits) {
    if (!state.unreported_valid || !state.last_ts) return 0;
    const auto last = interval_wh(state, ts, device_ts, power_w, limits);
    if (!last) return 0;
    const double since_s = std::chrono::duration<double>(ts - *state.last_ts).count();
    const double cap = limits.max_power_w * std::max(since_s, 0.0) / 3600.0;
    return std::clamp(state.unreported_wh + *last - raw_since_reset_wh, 0.0, cap);
}

CounterUpdate update_counter_impl(CounterState& state, double raw, CounterUnit unit, SysTime ts,
                                  const EnergyLimits& limits, std::optional<double> power_w,
                                  std::optional<SysTime> device_ts);

}  // namespace

CounterUpdate update_counter(CounterState& state, double raw, CounterUnit unit, SysTime ts,
                             const EnergyLimits& limits, std::optional<double> power_w,
                             std::optional<SysTime> device_ts) {
    if (power_w && !std::isfinite(*power_w)) power_w.reset();
    const bool newest = !state.last_sample_ts || ts >= *state.last_sample_ts;
    const bool out_of_order = state.last_ts && ts < *state.last_ts;
    const auto counter_moved_at = state.last_ts;
    const auto interval = interval_wh(state, ts, device_ts, power_w, limits);
    auto up = update_counter_impl(state, raw, unit, ts, limits, power_w, device_ts);
    if (newest && !out_of_order && up.event != CounterEvent::Rejected) {
        if (state.last_ts != counter_moved_at) {  // the counter moved: all of it is reported
            state.unreported_wh = 0;
            state.unreported_valid = true;
        } else if (interval) {
            state.unreported_wh += *interval;
        } else {
            state.unreported_valid = false;  // a stretch without power: no estimate
        }
        state.last_sample_ts = ts;
        state.last_sample_device_ts = device_ts;
        state.last_power_w = power_w;
    }
    return up;
}

namespace {

CounterUpdate update_counter_impl(CounterState& state, double raw, CounterUnit unit, SysTime ts,
                                  const EnergyLimits& limits, std::optional<double> power_w,
                                  std::optional<SysTime> device_ts) {
    if (!std::isfinite(raw) || raw < 0) {
        return result(CounterEvent::Rejected, state, 0, "invalid raw counter value");
    }
    const double raw_wh = counter_to_wh(raw, unit);

    if (state.last_ts && ts < *state.last_ts) {
        return result(CounterEvent::Unchanged, state, 0,
                      "sample older than the last accepted one; ignored");
    }

    if (!state.last_raw_wh) {
        const double candidate = state.offset_wh + raw_wh;
        if (candidate >= state.lifetime_wh) {
            state.lifetime_wh = candidate;
        } else {
            state.offset_wh = state.lifetime_wh - raw_wh;  // never lower a restored book
        }
        accept(state, raw_wh, ts);
        return result(CounterEvent::First, state, 0, "first counter " + wh(raw_wh));
    }

    const double last = *state.last_raw_wh;
    if (raw_wh == last) {
        state.pending_rejects = 0;
        state.pending_raw_wh.reset();
        return result(CounterEvent::Unchanged, state, 0, "counter unchanged");
    }

    if (raw_wh > last) {
        const double increase = raw_wh - last;
        const double allowed = plausible_increase_wh(state, ts, limits);
        if (increase <= allowed) {
            const double before = state.lifetime_wh;
            state.lifetime_wh = std::max(state.lifetime_wh, state.offset_wh + raw_wh);
            accept(state, raw_wh, ts);
            return result(CounterEvent::Advanced, state, state.lifetime_wh - before,
                          "+" + wh(increase));
        }
        const bool consistent =
            state.pending_rejects > 0 && state.pending_raw_wh && raw_wh >= *state.pending_raw_wh;
        state.pending_rejects = consistent ? state.pending_rejects + 1 : 1;
        state.pending_raw_wh = raw_wh;
        if (state.pending_rejects >= 3) {
            rebase(state, raw_wh, ts);
            return result(CounterEvent::Rebased, state, 0,
                          "3 consistent jumps; rebased to " + wh(raw_wh) + " without counting");
        }
        return result(CounterEvent::Rejected, state, 0,
                      "implausible jump +" + wh(increase) + " (allowed " + wh(allowed) + ")");
    }

    // raw_wh < last
    const double drop = last - raw_wh;
    if (unit == CounterUnit::WattHour && drop <= limits.dip_tolerance_wh) {
        state.pending_rejects = 0;
        state.pending_raw_wh.reset();
        return result(CounterEvent::Held, state, 0, "rounding dip -" + wh(drop) + " held");
    }
    // The device counter restarted (reboot, ResetCounters). Count what it holds now if that is
    // possible in the time since the last sample.
    if (raw_wh <= plausible_increase_wh(state, ts, limits)) {
        const double before = state.lifetime_wh;
        const double lost = energy_lost_at_reset(state, raw_wh, ts, power_w, device_ts, limits);
        state.offset_wh += last + lost;
        state.lifetime_wh = std::max(state.lifetime_wh, state.offset_wh + raw_wh);
        state.offset_wh = state.lifetime_wh - raw_wh;
        accept(state, raw_wh, ts);
        std::string detail = "counter reset from " + wh(last) + " to " + wh(raw_wh);
        if (lost > 0) detail += "; " + wh(lost) + " before the reset estimated from power";
        return result(CounterEvent::Reset, state, state.lifetime_wh - before, std::move(detail));
    }
    rebase(state, raw_wh, ts);
    return result(CounterEvent::Rebased, state, 0,
                  "counter dropped from " + wh(last) + " to implausible " + wh(raw_wh) +
                      "; rebased without counting");
}

}  // namespace

}  // namespace intelergy::drivers
