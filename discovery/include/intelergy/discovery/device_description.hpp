#pragma once

#include "intelergy/core/reading.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace intelergy::discovery {

// Everything discovery needs to know about one plug. Built by the bridge from its device table.
struct DeviceDescription {
    std::string id;    // stable "shelly-<mac lower>"; topic level, never renamed
    std::string name;  // user-facing device name (HA device name); may change
    std::string user;  // hierarchy, informational
    std::string profile;
    std::string room;               // becomes suggested_area; may change (move)
    std::string model;              // e.g. "SNPL-00112EU", "SHPLG-S"
    std::string mac;                // any case, with or without ':'/'-' separators
    std::string firmware;           // sw_version
    std::string configuration_url;  // e.g. "http://192.168.1.40/"; empty: left out
    Generation generation{Generation::Gen2};
    int channels{1};  // > 1: multi-channel (power strip), state carries "channels"
    bool has_relay{true};
    bool has_voltage{true};
    bool has_current{true};
    bool has_temperature{false};
    std::optional<std::chrono::seconds> poll_interval;  // set for polled plugs -> expire_after
};

// One retained discovery message. An empty payload clears (removes) the config in HA and at the
// broker. Publish retained, QoS 1.
struct DiscoveryMessage {
    std::string topic;
    std::string payload;

    friend bool operator==(const DiscoveryMessage&, const DiscoveryMessage&) = default;
};

}  // namespace intelergy::discovery
