#include "intelergy/bridge/bridge.hpp"

#include <spdlog/spdlog.h>

#include <future>
#include <optional>
#include <thread>

#include "intelergy/bridge/api.hpp"
#include "device_api.hpp"
#include "device_manager.hpp"
#include "device_probe.hpp"
#include "energy_api.hpp"
#include "ha_discovery.hpp"
#include "mqtt_rpc.hpp"
#include "intelergy/bridge/event_loop.hpp"
#include "intelergy/core/blocking_queue.hpp"
#include "intelergy/version.hpp"
#include "request.hpp"

namespace intelergy::bridge {

namespace {
constexpr std::size_t LOOP_CAPACITY = 65536;
constexpr std::size_t API_QUEUE_CAPACITY = 1024;
constexpr std::string_view REQUEST_PREFIX = "bridge/request/";
}  // namespace

// Counts outgoing publishes for /metrics; everything else passes straight through.
class CountingMqtt final : public MqttClient {
public:
    explicit CountingMqtt(MqttClient& inner) : inner_(inner) {}
    void publish(std::string_view topic, std::string_view payload, int qos, bool retain) override {
        ++out;
        inner_.publish(topic, payload, qos, retain);
    }
    void subscribe(std::string_view filter, int qos) override { inner_.subscribe(filter, qos); }
    void unsubscribe(std::string_view filter) override { inner_.unsubscribe(filter); }
    [[nodiscard]] bool connected() const override { return inner_.connected(); }
    void set_message_handler(MessageHandler h) override { inner_.set_message_handler(std::move(h)); }
    void set_connection_handler(ConnectionHandler h) override {
        inner_.set_connection_handler(std::move(h));
    }
    std::atomic<std::uint64_t> out{0};

private:
    MqttClient& inner_;
};

struct Bridge::Impl {
    const config::AppConfig& cfg;
    CountingMqtt mqtt;
    std::atomic<std::uint64_t> mqtt_in{0};
    HttpClient& http;
    const Clock& clock;
    StoreFactory store_factory;
    EnergyHistoryFactory energy_history;
    EventLoop loop;
    std::shared_ptr<spdlog::logger> log;
    MqttRpc rpc;
    DiscoveredPlugs discovered;
    DeviceManager devices;
    DeviceProbe probe;
    HaDiscovery ha;
    bool devices_publish_scheduled{false};
    std::optional<SteadyTime> devices_published_at;  // last bridge/devices publish
    std::atomic<bool> announced{false};  // see BridgeStats::announced

    BlockingQueue<MqttMessage> api_queue{API_QUEUE_CAPACITY};
    std::thread api_thread;
    std::string request_prefix;  // "<base>/bridge/request/"

    Impl(const config::AppConfig& c, MqttClient& m, HttpClient& h, const Clock& clk,
         StoreFactory f, ReadingSink sink, EnergyHistoryFactory energy)
        : cfg(c),
          mqtt(m),
          http(h),
          clock(clk),
          store_factory(std::move(f)),
          energy_history(std::move(energy)),
          loop(clk, LOOP_CAPACITY),
          rpc(mqtt, c.mqtt.client_id + "-rpc"),
          devices(c, loop, mqtt, h, rpc, discovered, clk, std::move(sink)),
          probe(h, rpc, mqtt, discovered, clk),
          ha(c, loop, mqtt, devices) {
        log = spdlog::get("bridge");
        if (!log) log = spdlog::default_logger();
        request_prefix = topic(REQUEST_PREFIX);
        DeviceListener listener;
        listener.devices_changed = [this] { schedule_devices_publish(); };
        listener.added_or_updated = [this](const ManagedDevice& d) { ha.device_changed(d); };
        listener.removed = [this](const store::DeviceRow& row) { ha.device_removed(row); };
        devices.set_listener(std::move(listener));
    }

    // bridge/devices: every registered device with path, model, transport and availability.
    // Coalesced: many changes within 100 ms give one publish, and while changes keep coming
    // (plugs flapping online/offline) at most one publish per second. The list is the whole
    // fleet (about 1 MB with 5,000 plugs), so a publish every 100 ms was a tenth of the bridge's
    // CPU when polled plugs flapped (issue 8, bench/RESULTS.md).
    void schedule_devices_publish() {
        if (devices_publish_scheduled) return;
        devices_publish_scheduled = true;
        const auto now = clock.steady();
        auto delay = std::chrono::milliseconds(100);
        if (devices_published_at && *devices_published_at + std::chrono::seconds(1) > now + delay)
            delay = std::chrono::duration_cast<std::chrono::milliseconds>(
                *devices_published_at + std::chrono::seconds(1) - now);
        loop.schedule_after(delay, [this] {
            devices_publish_scheduled = false;
            devices_published_at = clock.steady();
            Json list = Json::array();
            for (const auto* d : devices.devices()) {
                Json j{{"id", d->row.id},
                       {"path", d->row.path()},
                       {"name", d->row.name},
                       {"model", d->row.model},
                       {"generation", static_cast<int>(d->row.generation)},
                       {"mac", d->row.mac},
                       {"transport", store::to_string(d->row.transport)},
                       {"channels", d->row.channels},
                       {"availability", to_string(d->availability)}};
                if (d->row.transport == store::Transport::Http) j["url"] = d->row.url;
                else j["topic_prefix"] = d->row.topic_prefix;
                list.push_back(std::move(j));
            }
            mqtt.publish(topic("bridge/devices"), list.dump(), 1, true);
            ha.publish_stats();
        });
    }

    [[nodiscard]] std::string topic(std::string_view suffix) const {
        std::string t = cfg.mqtt.base_topic;
        t += '/';
        t += suffix;
        return t;
    }

    void publish_state_online() {
        mqtt.publish(topic("bridge/state"), R"({"state":"online"})", 1, true);
    }

    // bridge/info: version and a config summary without secrets, plus hierarchy counts.
    std::string info_json(store::Store* store) const {
        Json counts = Json::object();
        if (store) {
            int profiles = 0;
            if (auto users = store->list_users()) {
                counts["users"] = users->size();
                for (const auto& u : *users) profiles += u.profiles;
                counts["profiles"] = profiles;
            }
            if (auto rows = store->list_devices()) counts["devices"] = rows->size();
        }
        const auto& url = cfg.mqtt.url;
        return Json{{"version", std::string(VERSION)},
                    {"commit", std::string(GIT_SHA)},
                    {"base_topic", cfg.mqtt.base_topic},
                    {"mqtt",
                     {{"server", (url.tls ? "mqtts://" : "mqtt://") + url.host + ":" +
                                     std::to_string(url.port)},
                      {"client_id", cfg.mqtt.client_id}}},
                    {"homeassistant",
                     {{"enabled", cfg.homeassistant.enabled},
                      {"discovery_prefix", cfg.homeassistant.discovery_prefix}}},
                    {"polling",
                     {{"default_interval_s", cfg.polling.default_interval.count()},
                      {"timeout_ms", cfg.polling.timeout.count()}}},
                    {"shelly_mqtt", cfg.shelly_mqtt.enabled},
                    {"counts", counts}}
            .dump();
    }

    void on_connection(bool up) {
        announced = false;
        if (!up) return;
        // Runs on the MQTT thread: publish is thread-safe; the will has said offline meanwhile.
        publish_state_online();
        announced = true;
        api_queue.try_push(MqttMessage{"", "publish_info", 0, false});
        loop.post([this] {
            devices.on_mqtt_connected();
            ha.on_mqtt_connected();
            schedule_devices_publish();
        });
    }

    void on_message(MqttMessage msg) {
        ++mqtt_in;
        if (msg.topic.rfind(request_prefix, 0) == 0) {
            if (msg.retained) return;  // a stale retained request is never replayed
            if (!api_queue.try_push(msg)) {
                const auto path = msg.topic.substr(request_prefix.size());
                mqtt.publish(topic("bridge/response/" + path),
                             R"({"status":"error","data":{},"error":"bridge busy, retry later"})",
                             1, false);
            }
            return;
        }
        // On Paho's receive thread, which must not stay blocked (EventLoop::post_within): a
        // burst beyond the loop's capacity queues here, up to 4x, rather than in the broker
        // (which drops QoS 0 messages beyond its max_queued_messages, 1,000 by default).
        loop.post_within([this, m = std::move(msg)] { dispatch(m); }, 4 * LOOP_CAPACITY,
                         std::chrono::milliseconds(20));
    }

    void dispatch(const MqttMessage& msg) {
        if (!ha.handle_message(msg) && !devices.handle_message(msg)) log->trace("unhandled message topic={}", msg.topic);
    }

    void api_worker() {
        std::unique_ptr<store::Store> store = store_factory();
        ApiHooks hooks;
        hooks.info_json = [this, &store] { return info_json(store.get()); };
        hooks.mqtt_connected = [this] { return mqtt.connected(); };
        hooks.hierarchy_changed = [this, &store] {
            mqtt.publish(topic("bridge/info"), info_json(store.get()), 1, true);
        };
        DeviceApiContext device_ctx{cfg, probe, discovered, devices,
                                    [this](std::function<void()> task) { return run_on_loop(std::move(task)); },
                                    [this](std::string_view type, const std::string& data) {
                                        mqtt.publish(topic("bridge/event"),
                                                     R"({"type":")" + std::string(type) +
                                                         R"(","data":)" + data + "}",
                                                     1, false);
                                    }};
        hooks.devices = &device_ctx;
        EnergyApiContext energy_ctx{energy_history, clock};
        if (energy_history) hooks.energy = &energy_ctx;
        Api api(*store, hooks);
        while (true) {
            auto msg = api_queue.pop_for(std::chrono::seconds(1));
            if (!msg) {
                if (api_stopping) break;
                continue;
            }
            if (msg->topic.empty()) {  // internal: (re)publish bridge/info
                hooks.hierarchy_changed();
                continue;
            }
            const auto path = msg->topic.substr(request_prefix.size());
            log->debug("request path={}", path);
            const auto response = api.handle(path, msg->payload);
            mqtt.publish(topic("bridge/response/" + path), response, 1, false);
        }
    }

    std::atomic<bool> api_stopping{false};
    std::vector<std::shared_ptr<std::function<void()>>> periodic;  // owned here, see every()

    // Runs `task` on the core loop and waits for it (API worker thread only).
    bool run_on_loop(std::function<void()> task) {
        auto done = std::make_shared<std::promise<void>>();
        auto future = done->get_future();
        if (!loop.post([task = std::move(task), done] {
                task();
                done->set_value();
            }))
            return false;
        return future.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
    }

    // Only on the owner's thread (end of run(), destructor).
    void join_workers() {
        if (api_thread.joinable()) api_thread.join();
    }
};

Bridge::Bridge(const config::AppConfig& config, MqttClient& mqtt, HttpClient& http,
               const Clock& clock, StoreFactory store_factory, ReadingSink sink,
               EnergyHistoryFactory energy_history)
    : impl_(std::make_unique<Impl>(config, mqtt, http, clock, std::move(store_factory),
                                   std::move(sink), std::move(energy_history))) {}

Bridge::~Bridge() {
    stop();
    impl_->join_workers();
}

std::string Bridge::topic(std::string_view suffix) const { return impl_->topic(suffix); }

Status Bridge::start() {
    auto& d = *impl_;
    {
        // Registered devices and their energy books, handed to the core loop before it runs.
        auto store = d.store_factory();
        auto rows = store->list_devices();
        if (!rows) return rows.error();
        auto books = store->load_energy_books();
        if (!books) return books.error();
        std::map<std::string, std::vector<store::EnergyBookRow>> by_device;
        for (auto& b : *books) by_device[b.device_id].push_back(std::move(b));
        for (auto& row : *rows)
            d.loop.post([&d, row, b = std::move(by_device[row.id])] { d.devices.upsert(row, b); });
        d.log->info("loaded {} device(s)", rows->size());
    }
    d.mqtt.set_message_handler([&d](MqttMessage m) { d.on_message(std::move(m)); });
    d.mqtt.set_connection_handler([&d](bool up) { d.on_connection(up); });
    d.mqtt.subscribe(d.topic("bridge/request/#"), 1);
    d.api_thread = std::thread([&d] {
        try {
            d.api_worker();
        } catch (const std::exception& e) {
            d.log->error("api worker stopped error={}", e.what());
        }
    });
    // Usually connected by now (the client connects while the database work runs): announce.
    if (d.mqtt.connected() && !d.announced) d.on_connection(true);
    return {};
}

BridgeStats Bridge::stats() const {
    const auto& d = *impl_;
    const auto& ds = d.devices.stats();
    BridgeStats s;
    s.polls_ok = ds.polls_ok;
    s.polls_failed = ds.polls_failed;
    for (std::size_t i = 0; i < s.poll_buckets.size(); ++i) s.poll_buckets[i] = ds.poll_buckets[i];
    s.poll_seconds_sum = static_cast<double>(ds.poll_micros_sum.load()) / 1e6;
    s.polls_started = ds.polls_started;
    for (std::size_t i = 0; i < s.poll_delay_buckets.size(); ++i)
        s.poll_delay_buckets[i] = ds.poll_delay_buckets[i];
    s.poll_delay_seconds_sum = static_cast<double>(ds.poll_delay_micros_sum.load()) / 1e6;
    s.mqtt_in = d.mqtt_in;
    s.mqtt_out = d.mqtt.out;
    s.devices_total = ds.total;
    s.devices_online = ds.online;
    s.devices_offline = ds.offline;
    s.loop_queue_depth = d.loop.queue_depth();
    s.loop_task_errors = d.loop.task_errors();
    s.announced = d.announced && d.mqtt.connected();
    return s;
}

void Bridge::every(std::chrono::milliseconds period, std::function<void()> task) {
    auto& d = *impl_;
    // Re-arms itself on the loop after each run.
    auto tick = std::make_shared<std::function<void()>>();
    *tick = [&d, period, task = std::move(task), weak = std::weak_ptr(tick)] {
        task();
        if (auto self = weak.lock()) d.loop.schedule_after(period, *self);
    };
    d.periodic.push_back(tick);
    d.loop.post([&d, period, tick] { d.loop.schedule_after(period, *tick); });
}

void Bridge::run() {
    impl_->loop.run();
    impl_->join_workers();
}

void Bridge::stop() {
    auto& d = *impl_;
    d.loop.stop();
    d.api_stopping = true;
    d.api_queue.close();
}

}  // namespace intelergy::bridge
