// SPDX-License-Identifier: MIT
#pragma once

#include "intelergy/sim/mqtt_logic.hpp"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

namespace intelergy::sim {

// One device's own broker connection, on the Paho C async API. Used instead of the C++ wrapper
// because Paho C++ 1.2 cannot send an MQTT v5 DISCONNECT with reason 0x04 ("disconnect with will
// message"), which is how a simulated crash makes the broker publish the device's last will.
// Callbacks run on Paho's thread.
class DeviceMqttConn {
public:
    struct Callbacks {
        std::function<void()> connected;  // also after automatic reconnects
        std::function<void()> lost;
        std::function<void(const std::string& topic, const std::string& payload)> message;
    };
    DeviceMqttConn(const std::string& uri, const std::string& client_id, Callbacks cbs);
    ~DeviceMqttConn();
    DeviceMqttConn(const DeviceMqttConn&) = delete;
    DeviceMqttConn& operator=(const DeviceMqttConn&) = delete;

    bool connect(const MqttMessage& will);  // asynchronous; false if it could not be queued
    void publish(const MqttMessage& msg);
    void subscribe(const std::string& filter);
    // Disconnect so that the broker publishes the will (waits up to 2 s for completion).
    void drop_with_will();
    void disconnect_clean();

private:
    friend struct DeviceMqttTrampolines;
    void disconnect(bool with_will);
    void disconnect_finished();

    void* handle_ = nullptr;  // MQTTAsync
    Callbacks cbs_;
    std::string will_topic_;
    std::string will_payload_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool disconnect_done_ = false;
};

}  // namespace intelergy::sim
