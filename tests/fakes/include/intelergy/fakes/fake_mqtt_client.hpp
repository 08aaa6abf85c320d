#pragma once

#include "intelergy/core/mqtt_client.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace intelergy::fakes {

struct PublishedMessage {
    std::string topic;
    std::string payload;
    int qos{0};
    bool retain{false};
};

// An MqttClient with no broker. Records every publish and subscription; the test drives the
// other direction with inject() (an incoming message) and set_connected() (a (re)connect or a
// loss). Handlers run on the thread that calls inject()/set_connected(), as Paho's run on its
// own thread. Thread-safe; no lock is held while a handler runs.
class FakeMqttClient final : public MqttClient {
public:
    explicit FakeMqttClient(bool connected = true) : connected_(connected) {}

    // --- MqttClient -------------------------------------------------------------------------
    void publish(std::string_view topic, std::string_view payload, int qos, bool retain) override;
    void subscribe(std::string_view filter, int qos) override;
    void unsubscribe(std::string_view filter) override;
    [[nodiscard]] bool connected() const override;
    void set_message_handler(MessageHandler handler) override;
    void set_connection_handler(ConnectionHandler handler) override;

    // --- driving it -------------------------------------------------------------------------
    // Delivers a message to the handler (whether or not a subscription matches; use
    // is_subscribed_to() to assert that the code under test asked for it). No handler: dropped.
    void inject(MqttMessage message);
    void inject(std::string topic, std::string payload, bool retained = false);
    // Changes the state and, when it changed or `force`, calls the connection handler.
    void set_connected(bool up, bool force = false);

    // --- inspecting it ----------------------------------------------------------------------
    [[nodiscard]] std::vector<PublishedMessage> published() const;
    [[nodiscard]] std::vector<PublishedMessage> published_on(std::string_view topic) const;
    [[nodiscard]] std::optional<PublishedMessage> last_on(std::string_view topic) const;
    [[nodiscard]] std::size_t count_on(std::string_view topic) const;
    // What a client subscribing now would get as retained (empty retained payloads clear).
    [[nodiscard]] std::optional<std::string> retained(std::string_view topic) const;
    // Blocks until at least `count` messages were published on `topic`, or `timeout` passes;
    // returns the newest one. For code that publishes from its own worker thread.
    std::optional<PublishedMessage> wait_for(std::string_view topic,
                                             std::chrono::milliseconds timeout,
                                             std::size_t count = 1) const;
    // Active subscription filters in subscription order, and their QoS.
    [[nodiscard]] std::vector<std::string> subscriptions() const;
    [[nodiscard]] std::optional<int> subscription_qos(std::string_view filter) const;
    // True when some active subscription filter matches `topic` (MQTT '+' and '#' rules).
    [[nodiscard]] bool is_subscribed_to(std::string_view topic) const;
    [[nodiscard]] bool has_message_handler() const;
    void clear_published();

    // MQTT topic filter matching ('+' one level, '#' the rest, including the parent level).
    [[nodiscard]] static bool topic_matches(std::string_view filter, std::string_view topic);

private:
    mutable std::mutex mutex_;
    mutable std::condition_variable published_cv_;
    bool connected_;
    MessageHandler message_handler_;
    ConnectionHandler connection_handler_;
    std::vector<PublishedMessage> published_;
    std::vector<std::pair<std::string, int>> subscriptions_;
    std::map<std::string, std::string, std::less<>> retained_;
};

}  // namespace intelergy::fakes
