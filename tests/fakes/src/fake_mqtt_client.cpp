#include "intelergy/fakes/fake_mqtt_client.hpp"

#include <algorithm>

namespace intelergy::fakes {

void FakeMqttClient::publish(std::string_view topic, std::string_view payload, int qos,
                             bool retain) {
    {
        std::lock_guard lock(mutex_);
        published_.push_back({std::string(topic), std::string(payload), qos, retain});
        if (retain) {
            if (payload.empty())
                retained_.erase(std::string(topic));
            else
                retained_[std::string(topic)] = std::string(payload);
        }
    }
    published_cv_.notify_all();
}

void FakeMqttClient::subscribe(std::string_view filter, int qos) {
    std::lock_guard lock(mutex_);
    const auto it = std::find_if(subscriptions_.begin(), subscriptions_.end(),
                                 [&](const auto& s) { return s.first == filter; });
    if (it != subscriptions_.end())
        it->second = qos;  // re-subscribing replaces, as a broker does
    else
        subscriptions_.emplace_back(std::string(filter), qos);
}

void FakeMqttClient::unsubscribe(std::string_view filter) {
    std::lock_guard lock(mutex_);
    std::erase_if(subscriptions_, [&](const auto& s) { return s.first == filter; });
}

bool FakeMqttClient::connected() const {
    std::lock_guard lock(mutex_);
    return connected_;
}

void FakeMqttClient::set_message_handler(MessageHandler handler) {
    std::lock_guard lock(mutex_);
    message_handler_ = std::move(handler);
}

void FakeMqttClient::set_connection_handler(ConnectionHandler handler) {
    std::lock_guard lock(mutex_);
    connection_handler_ = std::move(handler);
}

void FakeMqttClient::inject(MqttMessage message) {
    MessageHandler handler;
    {
        std::lock_guard lock(mutex_);
        handler = message_handler_;
    }
    if (handler) handler(std::move(message));
}

void FakeMqttClient::inject(std::string topic, std::string payload, bool retained) {
    inject(MqttMessage{std::move(topic), std::move(payload), 0, retained});
}

void FakeMqttClient::set_connected(bool up, bool force) {
    ConnectionHandler handler;
    {
        std::lock_guard lock(mutex_);
        if (connected_ == up && !force) return;
        connected_ = up;
        handler = connection_handler_;
    }
    if (handler) handler(up);
}

std::vector<PublishedMessage> FakeMqttClient::published() const {
    std::lock_guard lock(mutex_);
    return published_;
}

std::vector<PublishedMessage> FakeMqttClient::published_on(std::string_view topic) const {
    std::lock_guard lock(mutex_);
    std::vector<PublishedMessage> out;
    for (const auto& m : published_)
        if (m.topic == topic) out.push_back(m);
    return out;
}

std::optional<PublishedMessage> FakeMqttClient::last_on(std::string_view topic) const {
    std::lock_guard lock(mutex_);
    for (auto it = published_.rbegin(); it != published_.rend(); ++it)
        if (it->topic == topic) return *it;
    return std::nullopt;
}

std::size_t FakeMqttClient::count_on(std::string_view topic) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(published_.begin(), published_.end(),
                                                  [&](const auto& m) { return m.topic == topic; }));
}

std::optional<std::string> FakeMqttClient::retained(std::string_view topic) const {
    std::lock_guard lock(mutex_);
    const auto it = retained_.find(topic);
    if (it == retained_.end()) return std::nullopt;
    return it->second;
}

std::optional<PublishedMessage> FakeMqttClient::wait_for(std::string_view topic,
                                                         std::chrono::milliseconds timeout,
                                                         std::size_t count) const {
    std::unique_lock lock(mutex_);
    std::optional<PublishedMessage> last;
    const auto ready = [&] {
        std::size_t n = 0;
        for (const auto& m : published_) {
            if (m.topic != topic) continue;
            ++n;
            last = m;
        }
        return n >= count;
    };
    if (!published_cv_.wait_for(lock, timeout, ready)) return std::nullopt;
    return last;
}

std::vector<std::string> FakeMqttClient::subscriptions() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& s : subscriptions_) out.push_back(s.first);
    return out;
}

std::optional<int> FakeMqttClient::subscription_qos(std::string_view filter) const {
    std::lock_guard lock(mutex_);
    for (const auto& s : subscriptions_)
        if (s.first == filter) return s.second;
    return std::nullopt;
}

bool FakeMqttClient::is_subscribed_to(std::string_view topic) const {
    std::lock_guard lock(mutex_);
    return std::any_of(subscriptions_.begin(), subscriptions_.end(),
                       [&](const auto& s) { return topic_matches(s.first, topic); });
}

bool FakeMqttClient::has_message_handler() const {
    std::lock_guard lock(mutex_);
    return static_cast<bool>(message_handler_);
}

void FakeMqttClient::clear_published() {
    std::lock_guard lock(mutex_);
    published_.clear();
}

bool FakeMqttClient::topic_matches(std::string_view filter, std::string_view topic) {
    // Topics starting with '$' are not matched by wildcards at the first level (MQTT 4.7.2).
    if (!topic.empty() && topic.front() == '$' && !filter.empty() &&
        (filter.front() == '+' || filter.front() == '#'))
        return false;
    while (true) {
        const auto fslash = filter.find('/');
        const auto flevel = filter.substr(0, fslash);
        if (flevel == "#") return true;
        const auto tslash = topic.find('/');
        const auto tlevel = topic.substr(0, tslash);
        if (flevel != "+" && flevel != tlevel) return false;
        if (fslash == std::string_view::npos) return tslash == std::string_view::npos;
        if (tslash == std::string_view::npos) return filter.substr(fslash + 1) == "#";
        filter.remove_prefix(fslash + 1);
        topic.remove_prefix(tslash + 1);
    }
}

}  // namespace intelergy::fakes
