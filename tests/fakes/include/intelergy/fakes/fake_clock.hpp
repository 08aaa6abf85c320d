#pragma once

#include "intelergy/core/clock.hpp"

#include <chrono>
#include <mutex>

namespace intelergy::fakes {

// A Clock that only moves when the test says so. Thread-safe: the code under test may read it
// from any thread while the test advances it.
class FakeClock final : public Clock {
public:
    // 2026-01-01T00:00:00Z: a fixed, readable start so golden timestamps stay stable.
    static constexpr SysTime DEFAULT_START{std::chrono::milliseconds(1767225600000)};

    explicit FakeClock(SysTime start = DEFAULT_START);

    [[nodiscard]] SysTime now() const override;
    [[nodiscard]] SteadyTime steady() const override;

    // Moves wall and steady time forward together. Negative durations are a test bug.
    template <typename Rep, typename Period>
    void advance(std::chrono::duration<Rep, Period> d) {
        advance_by(std::chrono::duration_cast<std::chrono::nanoseconds>(d));
    }

    // Steps the wall clock only (an NTP correction or a DST-free jump); steady time is untouched.
    void set_now(SysTime t);

private:
    void advance_by(std::chrono::nanoseconds d);

    mutable std::mutex mutex_;
    std::chrono::sys_time<std::chrono::nanoseconds> wall_;
    SteadyTime steady_;
};

}  // namespace intelergy::fakes
