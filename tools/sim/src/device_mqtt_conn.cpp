// SPDX-License-Identifier: MIT
#include "device_mqtt_conn.hpp"

#include <MQTTAsync.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <stdexcept>

namespace intelergy::sim {

// C callbacks -> member calls. No exception may cross into Paho.
struct DeviceMqttTrampolines {
    static void connected(void* ctx, char* /*cause*/) {
        auto* self = static_cast<DeviceMqttConn*>(ctx);
        try {
            if (self->cbs_.connected) self->cbs_.connected();
        } catch (const std::exception& e) {
            spdlog::warn("sim mqtt connected handler failed err={}", e.what());
        }
    }
    static void lost(void* ctx, char* /*cause*/) {
        auto* self = static_cast<DeviceMqttConn*>(ctx);
        try {
            if (self->cbs_.lost) self->cbs_.lost();
        } catch (const std::exception& e) {
            spdlog::warn("sim mqtt lost handler failed err={}", e.what());
        }
    }
    static int message(void* ctx, char* topic, int topic_len, MQTTAsync_message* msg) {
        auto* self = static_cast<DeviceMqttConn*>(ctx);
        try {
            const std::string t = topic_len > 0
                                      ? std::string(topic, static_cast<std::size_t>(topic_len))
                                      : std::string(topic);
            const std::string payload(static_cast<const char*>(msg->payload),
                                      static_cast<std::size_t>(msg->payloadlen));
            if (self->cbs_.message) self->cbs_.message(t, payload);
        } catch (const std::exception& e) {
            spdlog::warn("sim mqtt message handler failed err={}", e.what());
        }
        MQTTAsync_freeMessage(&msg);
        MQTTAsync_free(topic);
        return 1;
    }
    static void disconnected_ok(void* ctx, MQTTAsync_successData5* /*unused*/) {
        static_cast<DeviceMqttConn*>(ctx)->disconnect_finished();
    }
    static void disconnected_failed(void* ctx, MQTTAsync_failureData5* /*unused*/) {
        static_cast<DeviceMqttConn*>(ctx)->disconnect_finished();
    }
};

DeviceMqttConn::DeviceMqttConn(const std::string& uri, const std::string& client_id, Callbacks cbs)
    : cbs_(std::move(cbs)) {
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    MQTTAsync h = nullptr;
    if (MQTTAsync_createWithOptions(&h, uri.c_str(), client_id.c_str(), MQTTCLIENT_PERSISTENCE_NONE,
                                    nullptr, &co) != MQTTASYNC_SUCCESS) {
        throw std::runtime_error("MQTTAsync_create failed for " + uri);
    }
    handle_ = h;
    MQTTAsync_setCallbacks(h, this, &DeviceMqttTrampolines::lost, &DeviceMqttTrampolines::message,
                           nullptr);
    MQTTAsync_setConnected(h, this, &DeviceMqttTrampolines::connected);
}

DeviceMqttConn::~DeviceMqttConn() {
    MQTTAsync h = handle_;
    if (h) MQTTAsync_destroy(&h);
}

bool DeviceMqttConn::connect(const MqttMessage& will) {
    will_topic_ = will.topic;
    will_payload_ = will.payload;
    MQTTAsync_willOptions wo = MQTTAsync_willOptions_initializer;
    wo.topicName = will_topic_.c_str();
    wo.message = will_payload_.c_str();
    wo.retained = will.retained ? 1 : 0;
    wo.qos = 1;
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer5;
    o.keepAliveInterval = 30;
    o.cleanstart = 1;
    o.will = &wo;
    o.automaticReconnect = 1;
    o.minRetryInterval = 1;
    o.maxRetryInterval = 10;
    const int rc = MQTTAsync_connect(handle_, &o);
    if (rc != MQTTASYNC_SUCCESS) {
        spdlog::warn("sim mqtt connect failed rc={}", rc);
        return false;
    }
    return true;
}

void DeviceMqttConn::publish(const MqttMessage& msg) {
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    const int rc =
        MQTTAsync_send(handle_, msg.topic.c_str(), static_cast<int>(msg.payload.size()),
                       msg.payload.data(), msg.retained ? 1 : 0, msg.retained ? 1 : 0, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        spdlog::debug("sim mqtt publish failed topic={} rc={}", msg.topic, rc);
}

void DeviceMqttConn::subscribe(const std::string& filter) {
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    const int rc = MQTTAsync_subscribe(handle_, filter.c_str(), 1, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        spdlog::warn("sim mqtt subscribe failed topic={} rc={}", filter, rc);
}

void DeviceMqttConn::disconnect_finished() {
    {
        std::lock_guard lock(mu_);
        disconnect_done_ = true;
    }
    cv_.notify_all();
}

void DeviceMqttConn::disconnect(bool with_will) {
    if (!MQTTAsync_isConnected(handle_)) return;
    {
        std::lock_guard lock(mu_);
        disconnect_done_ = false;
    }
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
    d.timeout = 0;
    d.context = this;
    d.onSuccess5 = &DeviceMqttTrampolines::disconnected_ok;
    d.onFailure5 = &DeviceMqttTrampolines::disconnected_failed;
    if (with_will) d.reasonCode = MQTTREASONCODE_DISCONNECT_WITH_WILL_MESSAGE;
    if (MQTTAsync_disconnect(handle_, &d) != MQTTASYNC_SUCCESS) return;
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(2), [this] { return disconnect_done_; })) {
        spdlog::warn("sim mqtt disconnect did not complete within 2 s");
    }
}

void DeviceMqttConn::drop_with_will() { disconnect(true); }
void DeviceMqttConn::disconnect_clean() { disconnect(false); }

}  // namespace intelergy::sim
