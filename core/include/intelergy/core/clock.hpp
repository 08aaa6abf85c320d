#pragma once

#include <chrono>

namespace intelergy {

using SysTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;
using SteadyTime = std::chrono::steady_clock::time_point;

// Source of time for everything that schedules or stamps. Thread-safe.
class Clock {
public:
    virtual ~Clock() = default;
    [[nodiscard]] virtual SysTime now() const = 0;           // wall clock, UTC, ms
    [[nodiscard]] virtual SteadyTime steady() const = 0;     // monotonic, for intervals
};

class SystemClock final : public Clock {
public:
    [[nodiscard]] SysTime now() const override;
    [[nodiscard]] SteadyTime steady() const override;
};

}  // namespace intelergy
