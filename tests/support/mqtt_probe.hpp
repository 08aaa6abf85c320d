#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "intelergy/core/mqtt_client.hpp"

namespace mqtt {
class async_client;
}

namespace intelergy::test {

// A real MQTT client for integration tests: records every message it receives and lets a test
// wait (with a deadline) for one that matches, instead of sleeping.
class MqttProbe {
public:
    MqttProbe(const std::string& mqtt_url, const std::string& client_id);
    ~MqttProbe();
    MqttProbe(const MqttProbe&) = delete;
    MqttProbe& operator=(const MqttProbe&) = delete;

    void subscribe(const std::string& filter, int qos = 1);
    void publish(const std::string& topic, const std::string& payload, int qos = 1,
                 bool retain = false);
    // Waits for a message on exactly `topic` (received after `since_index`) satisfying `pred`.
    std::optional<MqttMessage> wait_for(
        const std::string& topic, std::chrono::milliseconds timeout,
        const std::function<bool(const MqttMessage&)>& pred = {}, std::size_t since_index = 0);
    // Publishes a request and waits for the response on <base>/bridge/response/<path>.
    std::optional<MqttMessage> request(const std::string& base, const std::string& path,
                                       const std::string& payload,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(10));
    [[nodiscard]] std::size_t count() const;
    [[nodiscard]] std::vector<MqttMessage> messages() const;

private:
    std::vector<std::pair<std::string, int>> subscriptions_;  // guarded by mutex_
    bool resubscribe_{false};
    std::unique_ptr<mqtt::async_client> client_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<MqttMessage> messages_;
};

}  // namespace intelergy::test
