// SPDX-License-Identifier: MIT
#pragma once

#include "intelergy/sim/sim_clock.hpp"

#include <cstdint>
#include <string>

namespace intelergy::sim {

enum class ProfileType { CONSTANT, SQUARE, RANDOM_WALK };

// Power draw of one channel while its relay is on. All profiles are piecewise constant, so the
// energy integral over any span is exact.
struct ProfileSpec {
    ProfileType type = ProfileType::CONSTANT;
    double watts = 60.0;  // constant
    double low = 5.0;     // square: level during the second part of each period
    double high = 100.0;  // square: level during the first duty*period of each period
    double period_s = 60.0;
    double duty = 0.5;
    double min = 10.0;  // random walk bounds, start value and max step per step_s
    double max = 200.0;
    double start = 60.0;
    double step_w = 5.0;
    double step_s = 1.0;
    std::uint64_t seed = 1;
};

// "constant:60", "square:LOW:HIGH:PERIOD_S[:DUTY]", "walk:MIN:MAX[:STEP_W[:STEP_S]]".
// Throws std::invalid_argument on malformed text.
ProfileSpec parse_profile_spec(const std::string& text, std::uint64_t seed);

// Stateful evaluator; time only moves forward (random walk state is advanced sequentially, so a
// given seed always produces the same power curve).
class PowerProfile {
public:
    PowerProfile(const ProfileSpec& spec, SimMicros origin);

    // Power at t and the first instant after t where the value may change.
    struct Segment {
        double watts;
        SimMicros end;
    };
    Segment segment(SimMicros t);

    // Exact energy in Wh over [t0, t1).
    double integrate_wh(SimMicros t0, SimMicros t1);

    [[nodiscard]] const ProfileSpec& spec() const { return spec_; }

private:
    ProfileSpec spec_;
    SimMicros origin_;
    SimMicros step_us_;
    std::int64_t walk_step_ = 0;
    double walk_value_;
};

std::uint64_t splitmix64(std::uint64_t x);
// Deterministic uniform value in [-1, 1] for (seed, index).
double unit_noise(std::uint64_t seed, std::int64_t index);

}  // namespace intelergy::sim
