#include "support/mqtt_probe.hpp"

#include <mqtt/async_client.h>

#include "support/test_env.hpp"

namespace intelergy::test {

MqttProbe::MqttProbe(const std::string& mqtt_url, const std::string& client_id)
    : client_(std::make_unique<mqtt::async_client>(paho_uri(mqtt_url), client_id)) {
    client_->set_message_callback([this](mqtt::const_message_ptr m) {
        std::lock_guard lock(mutex_);
        messages_.push_back(
            MqttMessage{m->get_topic(), m->get_payload_str(), m->get_qos(), m->is_retained()});
        cv_.notify_all();
    });
    // Survives a broker restart (the fault suite): reconnect and subscribe again.
    client_->set_connected_handler([this](const std::string&) {
        std::lock_guard lock(mutex_);
        if (!resubscribe_) return;  // the first connect: subscribe() does it
        for (const auto& [filter, qos] : subscriptions_) client_->subscribe(filter, qos);
    });
    mqtt::connect_options opts;
    opts.set_clean_session(true);
    opts.set_automatic_reconnect(std::chrono::milliseconds(200), std::chrono::seconds(2));
    client_->connect(opts)->wait();
    std::lock_guard lock(mutex_);
    resubscribe_ = true;
}

MqttProbe::~MqttProbe() {
    try {
        client_->disable_callbacks();
        client_->disconnect()->wait_for(2000);
    } catch (...) {
    }
}

void MqttProbe::subscribe(const std::string& filter, int qos) {
    {
        std::lock_guard lock(mutex_);
        subscriptions_.emplace_back(filter, qos);
    }
    client_->subscribe(filter, qos)->wait();
}

void MqttProbe::publish(const std::string& topic, const std::string& payload, int qos,
                        bool retain) {
    client_->publish(topic, payload.data(), payload.size(), qos, retain)->wait();
}

std::optional<MqttMessage> MqttProbe::wait_for(
    const std::string& topic, std::chrono::milliseconds timeout,
    const std::function<bool(const MqttMessage&)>& pred, std::size_t since_index) {
    std::unique_lock lock(mutex_);
    std::optional<MqttMessage> found;
    std::size_t next = since_index;
    cv_.wait_for(lock, timeout, [&] {
        for (; next < messages_.size(); ++next) {
            const auto& m = messages_[next];
            if (m.topic == topic && (!pred || pred(m))) {
                found = m;
                return true;
            }
        }
        return false;
    });
    return found;
}

std::optional<MqttMessage> MqttProbe::request(const std::string& base, const std::string& path,
                                              const std::string& payload,
                                              std::chrono::milliseconds timeout) {
    const std::size_t mark = count();
    publish(base + "/bridge/request/" + path, payload, 1, false);
    return wait_for(base + "/bridge/response/" + path, timeout, {}, mark);
}

std::size_t MqttProbe::count() const {
    std::lock_guard lock(mutex_);
    return messages_.size();
}

std::vector<MqttMessage> MqttProbe::messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
}

}  // namespace intelergy::test
