// SPDX-License-Identifier: MIT
#include "intelergy/sim/sim_clock.hpp"

#include <chrono>

namespace intelergy::sim {

ScaledClock::ScaledClock(const Clock& real, double speed)
    : real_(real),
      speed_(speed),
      start_steady_(real.steady()),
      start_us_(std::chrono::duration_cast<std::chrono::microseconds>(real.now().time_since_epoch())
                    .count()) {}

SimMicros ScaledClock::now_us() const {
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(real_.steady() - start_steady_);
    return start_us_ + static_cast<SimMicros>(static_cast<double>(elapsed.count()) * speed_);
}

}  // namespace intelergy::sim
