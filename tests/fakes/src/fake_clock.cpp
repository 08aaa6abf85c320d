#include "intelergy/fakes/fake_clock.hpp"

#include <cassert>

namespace intelergy::fakes {

FakeClock::FakeClock(SysTime start)
    // Steady time starts well away from the epoch so "zero = never" sentinels are not hit.
    : wall_(start), steady_(SteadyTime{} + std::chrono::hours(1000)) {}

SysTime FakeClock::now() const {
    std::lock_guard lock(mutex_);
    return std::chrono::floor<std::chrono::milliseconds>(wall_);
}

SteadyTime FakeClock::steady() const {
    std::lock_guard lock(mutex_);
    return steady_;
}

void FakeClock::advance_by(std::chrono::nanoseconds d) {
    assert(d.count() >= 0 && "FakeClock::advance: time does not go backwards");
    std::lock_guard lock(mutex_);
    wall_ += d;
    steady_ += std::chrono::duration_cast<SteadyTime::duration>(d);
}

void FakeClock::set_now(SysTime t) {
    std::lock_guard lock(mutex_);
    wall_ = t;
}

}  // namespace intelergy::fakes
