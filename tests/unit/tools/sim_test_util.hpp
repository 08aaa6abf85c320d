// SPDX-License-Identifier: MIT
#pragma once

#include "intelergy/sim/plug.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace intelergy::sim::test {

inline Json load_payload(const std::string& file) {
    std::ifstream in(std::string(SIM_TEST_DATA_DIR) + "/" + file);
    std::stringstream ss;
    ss << in.rdbuf();
    return Json::parse(ss.str());
}

inline std::set<std::string> keys(const Json& j) {
    std::set<std::string> out;
    for (const auto& [k, v] : j.items()) {
        if (!k.starts_with("_")) out.insert(k);
    }
    return out;
}

// 2024-06-14T13:20:00Z, minute aligned.
inline constexpr SimMicros T0 = 1718371200LL * MICROS_PER_SECOND;

inline PlugSpec constant_plug(PlugKind kind, double watts, std::string name = "p1") {
    PlugSpec s;
    s.name = std::move(name);
    s.kind = kind;
    ProfileSpec p;
    p.type = ProfileType::CONSTANT;
    p.watts = watts;
    s.channels.push_back(ChannelSpec{p, true});
    return s;
}

}  // namespace intelergy::sim::test
