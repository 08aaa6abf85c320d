#pragma once

#include "intelergy/core/clock.hpp"
#include "intelergy/core/reading.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace intelergy::drivers {

// Last known values of one Gen1 plug assembled from its plain-text MQTT topics.
// Not thread-safe; own one per device on the bridge loop.
class Gen1MqttState {
public:
    // `suffix` is the topic after "shellies/<id>/". Understood:
    //   relay/N          "on" | "off" | "overpower" (overpower = switched off by protection)
    //   relay/N/power    W as text
    //   relay/N/energy   Watt-minutes as text (resets at device boot)
    //   temperature      C as text
    //   online           "true" | "false"
    // N = 0..255. Payloads are trimmed of ASCII whitespace. Values failing the limits of
    // shelly_status.hpp or unparsable text are ignored, as are unknown suffixes
    // (temperature_f, overtemperature, relay/0/overpower_value, announce, info, ...).
    // Returns true when a stored value changed.
    bool apply(std::string_view suffix, std::string_view payload);

    // One Reading per channel seen (sorted), counter_unit WattMinute, temperature on every
    // channel. When only the temperature is known, a single channel-0 Reading carries it.
    [[nodiscard]] std::vector<Reading> readings(SysTime received) const;

    [[nodiscard]] std::optional<bool> online() const { return online_; }
    // True when the last relay/N payload for that channel was "overpower".
    [[nodiscard]] bool overpower(std::uint8_t channel) const;

private:
    struct Channel {
        std::optional<bool> relay;
        bool overpower{false};
        std::optional<double> power_w;
        std::optional<double> energy_wmin;
    };
    std::map<std::uint8_t, Channel> channels_;
    std::optional<double> temperature_c_;
    std::optional<bool> online_;
};

}  // namespace intelergy::drivers
