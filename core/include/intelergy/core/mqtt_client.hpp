#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace intelergy {

struct MqttMessage {
    std::string topic;
    std::string payload;
    int qos{0};
    bool retained{false};
};

// Narrow MQTT seam (real: PahoMqttClient, fake: FakeMqttClient).
// Thread-safety: publish/subscribe may be called from any thread and never block on the network
// (messages published while disconnected are buffered up to a bound or dropped with a log line).
// Handlers run on the library's thread and must only enqueue.
class MqttClient {
public:
    using MessageHandler = std::function<void(MqttMessage)>;
    using ConnectionHandler = std::function<void(bool connected)>;

    virtual ~MqttClient() = default;
    virtual void publish(std::string_view topic, std::string_view payload, int qos,
                         bool retain) = 0;
    virtual void subscribe(std::string_view filter, int qos) = 0;
    virtual void unsubscribe(std::string_view filter) = 0;
    [[nodiscard]] virtual bool connected() const = 0;
    virtual void set_message_handler(MessageHandler handler) = 0;
    virtual void set_connection_handler(ConnectionHandler handler) = 0;
};

}  // namespace intelergy
