// SPDX-License-Identifier: MIT
#include "intelergy/sim/profile.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace intelergy::sim {

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31U);
}

double unit_noise(std::uint64_t seed, std::int64_t index) {
    const std::uint64_t h = splitmix64(seed ^ splitmix64(static_cast<std::uint64_t>(index)));
    const double u = static_cast<double>(h >> 11U) / static_cast<double>(1ULL << 53U);  // [0,1)
    return u * 2.0 - 1.0;
}

namespace {

std::vector<double> numbers_after_colon(const std::string& text) {
    std::vector<double> out;
    std::stringstream ss(text);
    std::string part;
    std::getline(ss, part, ':');  // kind
    while (std::getline(ss, part, ':')) {
        std::size_t used = 0;
        const double v = std::stod(part, &used);
        if (used != part.size()) throw std::invalid_argument("bad number in profile: " + text);
        out.push_back(v);
    }
    return out;
}

SimMicros to_us(double seconds) {
    return static_cast<SimMicros>(std::llround(seconds * static_cast<double>(MICROS_PER_SECOND)));
}

}  // namespace

ProfileSpec parse_profile_spec(const std::string& text, std::uint64_t seed) {
    ProfileSpec p;
    p.seed = seed;
    const auto kind = text.substr(0, text.find(':'));
    const auto n = numbers_after_colon(text);
    if (kind == "constant" && n.size() == 1) {
        p.type = ProfileType::CONSTANT;
        p.watts = n[0];
    } else if (kind == "square" && (n.size() == 3 || n.size() == 4)) {
        p.type = ProfileType::SQUARE;
        p.low = n[0];
        p.high = n[1];
        p.period_s = n[2];
        if (n.size() == 4) p.duty = n[3];
    } else if (kind == "walk" && n.size() >= 2 && n.size() <= 4) {
        p.type = ProfileType::RANDOM_WALK;
        p.min = n[0];
        p.max = n[1];
        p.start = (n[0] + n[1]) / 2.0;
        if (n.size() >= 3) p.step_w = n[2];
        if (n.size() == 4) p.step_s = n[3];
    } else {
        throw std::invalid_argument("bad profile '" + text +
                                    "' (constant:W | square:LOW:HIGH:PERIOD[:DUTY] | "
                                    "walk:MIN:MAX[:STEP_W[:STEP_S]])");
    }
    if (p.period_s <= 0 || p.step_s <= 0 || p.duty < 0 || p.duty > 1 || p.min > p.max) {
        throw std::invalid_argument("profile parameters out of range: " + text);
    }
    return p;
}

PowerProfile::PowerProfile(const ProfileSpec& spec, SimMicros origin)
    : spec_(spec),
      origin_(origin),
      step_us_(std::max<SimMicros>(
          1, to_us(spec.type == ProfileType::SQUARE ? spec.period_s : spec.step_s))),
      walk_value_(std::clamp(spec.start, spec.min, spec.max)) {}

PowerProfile::Segment PowerProfile::segment(SimMicros t) {
    constexpr SimMicros FOREVER = std::numeric_limits<SimMicros>::max();
    switch (spec_.type) {
        case ProfileType::CONSTANT:
            return {spec_.watts, FOREVER};
        case ProfileType::SQUARE: {
            const SimMicros rel = t - origin_;
            const SimMicros k = rel >= 0 ? rel / step_us_ : (rel - step_us_ + 1) / step_us_;
            const SimMicros period_start = origin_ + k * step_us_;
            const SimMicros high_end =
                period_start + static_cast<SimMicros>(static_cast<double>(step_us_) * spec_.duty);
            if (t < high_end) return {spec_.high, high_end};
            return {spec_.low, period_start + step_us_};
        }
        case ProfileType::RANDOM_WALK: {
            const SimMicros rel = std::max<SimMicros>(0, t - origin_);
            const std::int64_t k = rel / step_us_;
            while (walk_step_ < k) {
                ++walk_step_;
                walk_value_ =
                    std::clamp(walk_value_ + unit_noise(spec_.seed, walk_step_) * spec_.step_w,
                               spec_.min, spec_.max);
            }
            return {walk_value_, origin_ + (k + 1) * step_us_};
        }
    }
    return {0.0, FOREVER};
}

double PowerProfile::integrate_wh(SimMicros t0, SimMicros t1) {
    double wh = 0.0;
    while (t0 < t1) {
        const auto seg = segment(t0);
        const SimMicros e = std::min(seg.end, t1);
        wh += seg.watts * static_cast<double>(e - t0) / 3.6e9;
        t0 = e;
    }
    return wh;
}

}  // namespace intelergy::sim
