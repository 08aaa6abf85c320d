#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "intelergy/core/mqtt_client.hpp"
#include "intelergy/core/result.hpp"

namespace intelergy::bridge {

struct PahoOptions {
    std::string server_uri;  // "tcp://127.0.0.1:1883" or "ssl://…"
    std::string client_id;
    std::string username;
    std::string password;
    std::chrono::seconds keepalive{30};
    std::chrono::seconds reconnect_min{1};
    std::chrono::seconds reconnect_max{30};
    bool clean_session{true};
    // TLS, used with an "ssl://" server_uri. The server certificate and host name are always
    // verified. Empty ca_file: the system trust store. cert_file + key_file: client certificate.
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    std::optional<MqttMessage> will;  // last will (e.g. bridge/state offline, retained)
    int max_buffered{10000};          // publishes kept while disconnected
};

// MqttClient over Paho's async client: automatic reconnect with capped backoff (also for the
// first connection), re-subscription after every reconnect, publishes buffered while offline.
class PahoMqttClient final : public MqttClient {
public:
    explicit PahoMqttClient(PahoOptions options);
    ~PahoMqttClient() override;
    PahoMqttClient(const PahoMqttClient&) = delete;
    PahoMqttClient& operator=(const PahoMqttClient&) = delete;

    // Starts connecting in the background; returns at once.
    void start();
    // Waits up to `timeout` for the first connection.
    bool wait_connected(std::chrono::milliseconds timeout);
    // Publishes `final_message` (if any), waits for in-flight deliveries up to `timeout` and
    // disconnects cleanly (no last will).
    void stop(const std::optional<MqttMessage>& final_message, std::chrono::milliseconds timeout);

    void publish(std::string_view topic, std::string_view payload, int qos, bool retain) override;
    void subscribe(std::string_view filter, int qos) override;
    void unsubscribe(std::string_view filter) override;
    [[nodiscard]] bool connected() const override;
    void set_message_handler(MessageHandler handler) override;
    void set_connection_handler(ConnectionHandler handler) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace intelergy::bridge
