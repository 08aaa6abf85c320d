// SPDX-License-Identifier: MIT
#pragma once

#include "intelergy/sim/plug.hpp"

#include <string>
#include <vector>

namespace intelergy::sim {

// Parses {"plugs":[{...}, ...]} (or a bare array); see docs/simulator.md for the keys.
// Throws std::invalid_argument with a message naming the offending plug/key.
std::vector<PlugSpec> parse_config(const Json& doc);
std::vector<PlugSpec> load_config_file(const std::string& path);
ProfileSpec parse_profile_json(const Json& j, std::uint64_t seed);

struct QuickPlugs {
    int gen1 = 0;
    int gen2 = 0;
    int gen3 = 0;
    int gen3pm = 0;
    int gen4strip = 0;
    int mqtt_only_gen2 = 0;
    std::string password;
    int base_port = 0;    // 0 = auto; else consecutive ports from here
    bool mqtt = false;    // enable MQTT on every quick plug
    std::string profile;  // empty = seeded random walk 20..200 W
};

// Names: gen1-1.., gen2-1.., gen3-1.., gen3pm-1.., strip-1.., mqtt-gen2-1..
std::vector<PlugSpec> make_quick_plugs(const QuickPlugs& q, std::size_t first_index);

}  // namespace intelergy::sim
