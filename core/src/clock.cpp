#include "intelergy/core/clock.hpp"

namespace intelergy {

SysTime SystemClock::now() const {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
}

SteadyTime SystemClock::steady() const { return std::chrono::steady_clock::now(); }

}  // namespace intelergy
