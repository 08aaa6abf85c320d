#include "intelergy/bridge/paho_mqtt_client.hpp"

#include <spdlog/spdlog.h>

#include <MQTTAsync.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mqtt/async_client.h>
#include <mutex>
#include <thread>

#include "intelergy/core/tcp_nodelay.hpp"

namespace intelergy::bridge {

struct PahoMqttClient::Impl {
    PahoOptions opts;
    std::unique_ptr<mqtt::async_client> client;
    mqtt::connect_options conn_opts;
    std::shared_ptr<spdlog::logger> log;

    mutable std::mutex mutex;
    std::condition_variable cv;
    std::map<std::string, int> subscriptions;  // re-subscribed after every reconnect
    MessageHandler on_message;
    ConnectionHandler on_connection;
    std::atomic<bool> is_connected{false};
    std::atomic<bool> stopping{false};
    std::thread connector;  // retries the first connection with backoff

    void notify_connection(bool up) {
        ConnectionHandler handler;
        {
            std::lock_guard lock(mutex);
            handler = on_connection;
        }
        if (handler) handler(up);
    }

    void resubscribe() {
        std::map<std::string, int> subs;
        {
            std::lock_guard lock(mutex);
            subs = subscriptions;
        }
        for (const auto& [filter, qos] : subs) {
            try {
                client->subscribe(filter, qos);
            } catch (const mqtt::exception& e) {
                log->warn("subscribe failed filter={} error={}", filter, e.what());
            }
        }
    }
};

PahoMqttClient::PahoMqttClient(PahoOptions options) : impl_(std::make_unique<Impl>()) {
    auto& d = *impl_;
    d.opts = std::move(options);
    d.log = spdlog::get("mqtt");
    if (!d.log) d.log = spdlog::default_logger();
    // Paho C records a trace entry (a global mutex, a strcpy, and for protocol records a
    // vsnprintf) at every function entry and exit and every packet, from TRACE_MINIMUM up, into a
    // ring buffer that nothing here reads. From ERROR up it skips them: the bridge's CPU for a
    // 20,000-message burst fell from 3.74 to 2.97 s (medians of 3, bench/RESULTS.md). The level
    // is global to the library, which every client in this process shares.
    static std::once_flag quiet_trace;
    std::call_once(quiet_trace, [] { MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR); });
    mqtt::create_options create(MQTTVERSION_3_1_1, d.opts.max_buffered);
    create.set_send_while_disconnected(true, true);
    d.client = std::make_unique<mqtt::async_client>(d.opts.server_uri, d.opts.client_id, create,
                                                    nullptr);
    d.conn_opts.set_clean_session(d.opts.clean_session);
    d.conn_opts.set_keep_alive_interval(d.opts.keepalive);
    d.conn_opts.set_automatic_reconnect(d.opts.reconnect_min, d.opts.reconnect_max);
    d.conn_opts.set_connect_timeout(std::chrono::seconds(5));
    if (!d.opts.username.empty()) d.conn_opts.set_user_name(d.opts.username);
    if (!d.opts.password.empty()) d.conn_opts.set_password(d.opts.password);
    if (d.opts.will) {
        d.conn_opts.set_will(mqtt::will_options(d.opts.will->topic, d.opts.will->payload,
                                                d.opts.will->qos, d.opts.will->retained));
    }
    if (d.opts.server_uri.rfind("ssl://", 0) == 0) {
        mqtt::ssl_options ssl;
        ssl.set_enable_server_cert_auth(true);  // verify the chain ...
        ssl.set_verify(true);                   // ... and that it names the host we dialled
        if (!d.opts.ca_file.empty()) ssl.set_trust_store(d.opts.ca_file);
        if (!d.opts.cert_file.empty()) ssl.set_key_store(d.opts.cert_file);
        if (!d.opts.key_file.empty()) ssl.set_private_key(d.opts.key_file);
        // OpenSSL's reason (e.g. "certificate verify failed") is far clearer than Paho's rc.
        auto log = d.log;
        auto server = d.opts.server_uri;
        ssl.set_error_handler([log, server](const std::string& message) {
            log->warn("mqtt tls error server={} error={}", server, message);
        });
        d.conn_opts.set_ssl(std::move(ssl));
    }

    d.client->set_connected_handler([&d](const std::string&) {
        // Paho leaves Nagle's algorithm on: up to 40 ms per publish (core/tcp_nodelay.hpp).
        if (const int port = uri_port(d.opts.server_uri); port > 0) disable_nagle_to_port(port);
        d.is_connected = true;
        d.log->info("mqtt connected server={}", d.opts.server_uri);
        d.resubscribe();
        d.cv.notify_all();
        d.notify_connection(true);
    });
    d.client->set_connection_lost_handler([&d](const std::string& cause) {
        d.is_connected = false;
        d.log->warn("mqtt connection lost server={} cause={}", d.opts.server_uri,
                    cause.empty() ? "unknown" : cause);
        d.notify_connection(false);
    });
    d.client->set_message_callback([&d](mqtt::const_message_ptr msg) {
        MessageHandler handler;
        {
            std::lock_guard lock(d.mutex);
            handler = d.on_message;
        }
        if (!handler) return;
        try {
            handler(MqttMessage{msg->get_topic(), msg->get_payload_str(), msg->get_qos(),
                                msg->is_retained()});
        } catch (const std::exception& e) {
            d.log->error("mqtt message handler threw topic={} error={}", msg->get_topic(),
                         e.what());
        }
    });
}

PahoMqttClient::~PahoMqttClient() {
    impl_->stopping = true;
    impl_->cv.notify_all();
    if (impl_->connector.joinable()) impl_->connector.join();
    try {
        impl_->client->disable_callbacks();
        if (impl_->client->is_connected()) impl_->client->disconnect()->wait_for(1000);
    } catch (const mqtt::exception&) {
    }
}

void PahoMqttClient::start() {
    auto& d = *impl_;
    d.connector = std::thread([&d] {
        // Paho's automatic reconnect only covers connections lost after a first success, so
        // the first connection is retried here with the same capped backoff.
        auto delay = d.opts.reconnect_min;
        while (!d.stopping) {
            try {
                d.client->connect(d.conn_opts)->wait();
                return;
            } catch (const mqtt::exception& e) {
                d.log->warn("mqtt connect failed server={} error={} retry_in={}s",
                            d.opts.server_uri, e.what(), delay.count());
            }
            std::unique_lock lock(d.mutex);
            d.cv.wait_for(lock, delay, [&d] { return d.stopping.load(); });
            delay = std::min(delay * 2, d.opts.reconnect_max);
        }
    });
}

bool PahoMqttClient::wait_connected(std::chrono::milliseconds timeout) {
    std::unique_lock lock(impl_->mutex);
    return impl_->cv.wait_for(lock, timeout, [this] { return impl_->is_connected.load(); });
}

void PahoMqttClient::stop(const std::optional<MqttMessage>& final_message,
                          std::chrono::milliseconds timeout) {
    auto& d = *impl_;
    d.stopping = true;
    d.cv.notify_all();
    if (d.connector.joinable()) d.connector.join();
    try {
        if (final_message && d.client->is_connected()) {
            d.client
                ->publish(final_message->topic, final_message->payload.data(),
                          final_message->payload.size(), final_message->qos,
                          final_message->retained)
                ->wait_for(timeout);
        }
        if (d.client->is_connected())
            d.client->disconnect(static_cast<int>(timeout.count()))->wait_for(timeout);
    } catch (const mqtt::exception& e) {
        d.log->warn("mqtt disconnect error={}", e.what());
    }
    d.is_connected = false;
}

void PahoMqttClient::publish(std::string_view topic, std::string_view payload, int qos,
                             bool retain) {
    auto& d = *impl_;
    // Paho queues publishes for its send thread and refuses more than max_buffered of them even
    // while connected (MQTTASYNC_MAX_BUFFERED_MESSAGES). In a burst the caller outruns the send
    // thread: wait for the queue to drain (backpressure, at most 2 s) instead of dropping.
    for (int waited_ms = 0;; ++waited_ms) {
        try {
            d.client->publish(std::string(topic), payload.data(), payload.size(), qos, retain);
            return;
        } catch (const mqtt::exception& e) {
            if (e.get_return_code() != MQTTASYNC_MAX_BUFFERED_MESSAGES || !d.is_connected ||
                waited_ms >= 2000) {
                d.log->warn("mqtt publish dropped topic={} error={}", topic, e.what());
                return;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // lint: allow-clock (no drain event)
    }
}

void PahoMqttClient::subscribe(std::string_view filter, int qos) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->subscriptions[std::string(filter)] = qos;
    }
    if (!impl_->is_connected) return;  // done on (re)connect
    try {
        impl_->client->subscribe(std::string(filter), qos);
    } catch (const mqtt::exception& e) {
        impl_->log->warn("mqtt subscribe failed filter={} error={}", filter, e.what());
    }
}

void PahoMqttClient::unsubscribe(std::string_view filter) {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->subscriptions.erase(std::string(filter));
    }
    if (!impl_->is_connected) return;
    try {
        impl_->client->unsubscribe(std::string(filter));
    } catch (const mqtt::exception& e) {
        impl_->log->warn("mqtt unsubscribe failed filter={} error={}", filter, e.what());
    }
}

bool PahoMqttClient::connected() const { return impl_->is_connected; }

void PahoMqttClient::set_message_handler(MessageHandler handler) {
    std::lock_guard lock(impl_->mutex);
    impl_->on_message = std::move(handler);
}

void PahoMqttClient::set_connection_handler(ConnectionHandler handler) {
    std::lock_guard lock(impl_->mutex);
    impl_->on_connection = std::move(handler);
}

}  // namespace intelergy::bridge
