#pragma once

// Shared helpers of the libFuzzer targets (tests/fuzz/README.md). A violated invariant calls
// FUZZ_CHECK, which prints the condition and aborts, so libFuzzer records the input as a crash.

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "intelergy/core/clock.hpp"
#include "intelergy/core/reading.hpp"
#include "intelergy/drivers/energy_book.hpp"
#include "intelergy/drivers/shelly_status.hpp"

#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            std::abort();                                                                  \
        }                                                                                  \
    } while (false)

namespace intelergy::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// Splits on '\n' (a frame / message / request per line), at most `max` pieces; the last piece
// keeps any further newlines.
inline std::vector<std::string_view> split_lines(std::string_view text, std::size_t max = 64) {
    std::vector<std::string_view> out;
    while (!text.empty() && out.size() + 1 < max) {
        const auto nl = text.find('\n');
        if (nl == std::string_view::npos) break;
        out.push_back(text.substr(0, nl));
        text.remove_prefix(nl + 1);
    }
    if (!text.empty()) out.push_back(text);
    return out;
}

inline SysTime fixed_now() { return SysTime{std::chrono::milliseconds{1'718'371'300'000}}; }

inline bool finite_in(const std::optional<double>& v, double lo, double hi) {
    return !v || (std::isfinite(*v) && *v >= lo && *v <= hi);
}

// The per-field plausibility contract of shelly_status.hpp, for every Reading a parser or a
// state object hands out.
inline void check_reading(const Reading& r) {
    using namespace intelergy::drivers;
    FUZZ_CHECK(finite_in(r.power_w, -MAX_ABS_POWER_W, MAX_ABS_POWER_W));
    FUZZ_CHECK(finite_in(r.voltage_v, 0, MAX_VOLTAGE_V));
    FUZZ_CHECK(finite_in(r.current_a, 0, MAX_CURRENT_A));
    FUZZ_CHECK(finite_in(r.temperature_c, MIN_TEMPERATURE_C, MAX_TEMPERATURE_C));
    FUZZ_CHECK(finite_in(r.counter_raw, 0, MAX_COUNTER_RAW));
    FUZZ_CHECK(finite_in(r.energy_wh, 0, 1e300));
    if (r.device_time) {
        const double s = std::chrono::duration<double>(r.device_time->time_since_epoch()).count();
        FUZZ_CHECK(s >= MIN_SYNCED_EPOCH_S - 1 && s <= MAX_SYNCED_EPOCH_S + 1);
    }
}

// Readings of one device: valid each, sorted by channel. Not checked: one Reading per channel
// (a status with both switch:N and pm1:N yields two channel-N Readings, as documented: "one
// Reading per switch:N / pm1:N object"; see tests/fuzz/README.md, findings).
inline void check_readings(const std::vector<Reading>& rs) {
    for (std::size_t i = 0; i < rs.size(); ++i) {
        check_reading(rs[i]);
        if (i > 0) FUZZ_CHECK(rs[i - 1].channel <= rs[i].channel);
    }
}

// Energy book fed with parsed counters: lifetime finite, never decreasing, delta never negative.
class BookChecker {
public:
    void feed(double raw, CounterUnit unit) {
        ts_ += std::chrono::seconds{10};
        const double before = state_.lifetime_wh;
        const auto u = drivers::update_counter(state_, raw, unit, ts_, limits_);
        FUZZ_CHECK(std::isfinite(state_.lifetime_wh));
        FUZZ_CHECK(std::isfinite(u.delta_wh) && u.delta_wh >= 0);
        FUZZ_CHECK(state_.lifetime_wh >= before);
        FUZZ_CHECK(u.lifetime_wh == state_.lifetime_wh);
    }
    void feed(const std::vector<Reading>& rs) {
        for (const auto& r : rs)
            if (r.counter_raw) feed(*r.counter_raw, r.counter_unit);
    }

private:
    drivers::CounterState state_;
    drivers::EnergyLimits limits_;
    SysTime ts_{fixed_now()};
};

}  // namespace intelergy::fuzz
