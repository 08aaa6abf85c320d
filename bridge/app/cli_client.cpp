#include "cli_client.hpp"
#include "security.hpp"

#include "intelergy/bridge/paho_mqtt_client.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>

namespace intelergy::app::cli {

namespace {

using Json = nlohmann::json;

std::string random_hex(std::size_t n) {
    static constexpr char HEX[] = "0123456789abcdef";
    std::random_device rd;
    std::uniform_int_distribution<int> digit(0, 15);
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += HEX[digit(rd)];
    return s;
}

std::string seconds_text(std::chrono::milliseconds t) {
    std::ostringstream s;
    s << static_cast<double>(t.count()) / 1000.0 << " s";
    return s.str();
}

}  // namespace

int exit_code(const Reply& reply) {
    switch (reply.kind) {
        case Reply::Kind::Ok:
            return 0;
        case Reply::Kind::Error:
            return 1;
        case Reply::Kind::NoResponse:
        case Reply::Kind::NoBroker:
            return 3;
    }
    return 1;
}

void quiet_logging() {
    // Library warnings (if any) go to stderr; stdout carries only the command's output.
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_pattern("%l %n: %v");
    auto def = std::make_shared<spdlog::logger>("intelergy", sink);
    def->set_level(spdlog::level::err);
    spdlog::set_default_logger(def);
}

struct MqttApiClient::Impl {
    config::MqttConfig config;
    std::chrono::milliseconds timeout;
    std::string display;  // mqtt://host:port/base, for messages
    std::string state_topic;
    // Keeps the MQTT client's recent warnings instead of printing them; the last one says why
    // a connection failed.
    std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> log_sink;
    std::unique_ptr<bridge::PahoMqttClient> mqtt;
    std::set<std::string> subscribed;

    std::mutex mutex;
    std::condition_variable cv;
    std::string bridge_state;   // "online", "offline" or "" (unknown), from bridge/state
    std::string pending_topic;  // the response topic being waited for
    std::string pending_transaction;
    std::optional<std::string> response;

    void on_message(const MqttMessage& m) {
        std::lock_guard lock(mutex);
        if (m.topic == state_topic) {
            const Json j = Json::parse(m.payload, nullptr, false);
            bridge_state = j.is_object() && j.contains("state") && j["state"].is_string()
                               ? j["state"].get<std::string>()
                               : "";
            return;
        }
        if (m.topic != pending_topic || response) return;
        const Json j = Json::parse(m.payload, nullptr, false);
        if (!j.is_object() || !j.contains("transaction") || j["transaction"] != pending_transaction)
            return;  // someone else's response
        response = m.payload;
        cv.notify_all();
    }

    [[nodiscard]] std::string last_warning() const {
        const auto lines = log_sink->last_raw(1);
        if (lines.empty()) return {};
        return std::string(lines.front().payload.begin(), lines.front().payload.end());
    }
};

MqttApiClient::MqttApiClient(const config::MqttConfig& mqtt, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
    auto& d = *impl_;
    d.config = mqtt;
    d.timeout = timeout;
    d.display = std::string(mqtt.url.tls ? "mqtts://" : "mqtt://") + mqtt.url.host + ":" +
                std::to_string(mqtt.url.port) + "/" + mqtt.base_topic;
    d.state_topic = mqtt.base_topic + "/bridge/state";

    d.log_sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(4);
    d.log_sink->set_level(spdlog::level::warn);
    spdlog::drop("mqtt");
    auto logger = std::make_shared<spdlog::logger>("mqtt", d.log_sink);
    logger->set_level(spdlog::level::warn);
    spdlog::register_logger(logger);

    bridge::PahoOptions o;
    o.server_uri = mqtt.url.server_uri();
    o.client_id = mqtt.client_id + "-cli-" + random_hex(8);
    apply_mqtt_security(o, mqtt);  // username, password, TLS files
    o.keepalive = mqtt.keepalive;
    o.reconnect_min = std::chrono::seconds(1);
    o.reconnect_max = std::chrono::seconds(2);
    d.mqtt = std::make_unique<bridge::PahoMqttClient>(o);
    d.mqtt->set_message_handler([&d](MqttMessage m) { d.on_message(m); });
    d.mqtt->subscribe(d.state_topic, 1);  // retained: tells whether the bridge is up
    d.mqtt->start();
}

MqttApiClient::~MqttApiClient() {
    impl_->mqtt->stop(std::nullopt, std::chrono::seconds(1));
    impl_->mqtt.reset();
    spdlog::drop("mqtt");
}

Reply MqttApiClient::call(const ApiRequest& request) {
    auto& d = *impl_;
    if (!d.mqtt->wait_connected(d.timeout)) {
        std::string message = "cannot connect to the MQTT broker at " + d.display + " within " +
                              seconds_text(d.timeout);
        if (const auto why = d.last_warning(); !why.empty()) message += " (" + why + ")";
        return Reply{Reply::Kind::NoBroker, {}, message};
    }

    Json payload = Json::parse(request.payload, nullptr, false);
    if (!payload.is_object()) payload = Json::object();
    const std::string transaction = "cli-" + random_hex(16);
    payload["transaction"] = transaction;
    const std::string response_topic = d.config.base_topic + "/bridge/response/" + request.path;
    {
        std::lock_guard lock(d.mutex);
        d.pending_topic = response_topic;
        d.pending_transaction = transaction;
        d.response.reset();
    }
    // Subscribed before publishing: the broker handles one connection's packets in order, so
    // the response cannot overtake the subscription.
    if (d.subscribed.insert(response_topic).second) d.mqtt->subscribe(response_topic, 1);
    d.mqtt->publish(d.config.base_topic + "/bridge/request/" + request.path, payload.dump(), 1,
                    false);

    std::unique_lock lock(d.mutex);
    if (!d.cv.wait_for(lock, d.timeout, [&d] { return d.response.has_value(); })) {
        std::string message = "no response from the bridge at " + d.display + " within " +
                              seconds_text(d.timeout) + " — ";
        if (d.bridge_state == "offline")
            message += "the bridge is offline (" + d.state_topic +
                       " says so); start it with `intelergy run`";
        else if (d.bridge_state == "online")
            message += "the bridge says it is online but did not answer '" + request.path + "'";
        else
            message += "is `intelergy run` running?";
        return Reply{Reply::Kind::NoResponse, {}, message};
    }
    const Json r = Json::parse(*d.response, nullptr, false);
    if (r.is_object() && r.value("status", "") == "ok")
        return Reply{Reply::Kind::Ok, r.contains("data") ? r["data"].dump() : "{}", {}};
    std::string error = r.is_object() && r.contains("error") && r["error"].is_string()
                            ? r["error"].get<std::string>()
                            : "the bridge answered without status \"ok\": " + *d.response;
    return Reply{Reply::Kind::Error, {}, error};
}

}  // namespace intelergy::app::cli
