// SPDX-License-Identifier: MIT
#pragma once

#include "intelergy/core/clock.hpp"

#include <atomic>
#include <cstdint>

namespace intelergy::sim {

// Simulated UTC epoch in microseconds. Integer so that energy integration over known spans is
// exact (no drift from differencing large doubles).
using SimMicros = std::int64_t;

inline constexpr SimMicros MICROS_PER_SECOND = 1'000'000;
inline constexpr SimMicros MICROS_PER_MINUTE = 60 * MICROS_PER_SECOND;

// The simulator's notion of "now". Thread-safe.
class SimClock {
public:
    virtual ~SimClock() = default;
    [[nodiscard]] virtual SimMicros now_us() const = 0;
};

// Simulated time = wall time at construction + speed x elapsed real (monotonic) time.
class ScaledClock final : public SimClock {
public:
    ScaledClock(const Clock& real, double speed);
    [[nodiscard]] SimMicros now_us() const override;
    [[nodiscard]] double speed() const { return speed_; }

private:
    const Clock& real_;
    double speed_;
    SteadyTime start_steady_;
    SimMicros start_us_;
};

// Test clock: time moves only when told to.
class ManualClock final : public SimClock {
public:
    explicit ManualClock(SimMicros start) : now_(start) {}
    [[nodiscard]] SimMicros now_us() const override { return now_.load(); }
    void set(SimMicros t) { now_.store(t); }
    void advance_s(double seconds) {
        now_.fetch_add(static_cast<SimMicros>(seconds * static_cast<double>(MICROS_PER_SECOND)));
    }

private:
    std::atomic<SimMicros> now_;
};

}  // namespace intelergy::sim
