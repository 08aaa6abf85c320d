// SPDX-License-Identifier: MIT
#pragma once

#include "intelergy/sim/mqtt_logic.hpp"
#include "intelergy/sim/sim_clock.hpp"

#include <memory>
#include <string>
#include <vector>

namespace intelergy::sim {

struct MqttHubOptions {
    std::string url;  // mqtt://127.0.0.1:1883 or tcp://...
    bool shared_connection = false;
    double notify_rate = 0.0;  // shared mode: forced NotifyStatus msgs/s in total (0 = deltas)
    std::string client_prefix = "intelergy-sim";
};

// Owns the broker connections. Per-plug mode: one Paho client per plug with its own last will
// ("<prefix>/online" = false, retained); faults drop the connection with MQTT v5 reason 0x04
// (disconnect with will message) so the broker publishes the will. Shared mode: one client for
// all plugs, no per-plug will; offline/reboot publish "false" on the plug's behalf.
class MqttHub {
public:
    MqttHub(MqttHubOptions opts, std::vector<Plug*> plugs, const SimClock& clock);
    ~MqttHub();
    MqttHub(const MqttHub&) = delete;
    MqttHub& operator=(const MqttHub&) = delete;

    void start();
    // Called periodically: reconcile connection state with faults, publish deltas.
    void tick();
    void stop();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace intelergy::sim
