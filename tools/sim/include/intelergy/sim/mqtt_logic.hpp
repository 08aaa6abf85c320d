// SPDX-License-Identifier: MIT
#pragma once

#include "intelergy/sim/plug.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace intelergy::sim {

struct MqttMessage {
    std::string topic;
    std::string payload;
    bool retained = false;
};

// What a plug publishes and how it answers, independent of the MQTT transport. Not thread-safe:
// the owner serialises calls (one mutex per plug agent).
class MqttDeviceLogic {
public:
    explicit MqttDeviceLogic(Plug& plug) : plug_(plug) {}

    [[nodiscard]] MqttMessage will() const;  // <prefix>/online = false, retained
    [[nodiscard]] std::vector<std::string> subscriptions() const;
    std::vector<MqttMessage> on_connect(SimMicros now);  // online true, announce, baselines
    std::vector<MqttMessage> tick(SimMicros now);        // deltas / periodic updates due now
    std::vector<MqttMessage> on_message(std::string_view topic, std::string_view payload,
                                        SimMicros now);
    // One NotifyStatus (Gen2+) or power/energy pair (Gen1) regardless of change; benchmark mode.
    std::vector<MqttMessage> forced_notify(SimMicros now);
    [[nodiscard]] Plug& plug() { return plug_; }

private:
    struct Last {
        bool valid = false;
        bool output = true;
        std::string source;
        double apower = 0, voltage = 0, current = 0, temp = 0, total = 0;
        std::int64_t minute_ts = 0;
        SimMicros energy_sent_us = 0;
    };
    std::vector<MqttMessage> gen1_full();
    std::vector<MqttMessage> gen2_status_topics();
    std::vector<MqttMessage> gen2_tick(SimMicros now);
    MqttMessage notify_frame(SimMicros now, Json components) const;
    void remember(int ch, const ChannelReading& r, SimMicros now);

    Plug& plug_;
    std::vector<Last> last_;
    SimMicros last_periodic_us_ = 0;
};

}  // namespace intelergy::sim
