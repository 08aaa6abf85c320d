#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "intelergy/bridge/bridge.hpp"
#include "intelergy/bridge/event_loop.hpp"
#include "intelergy/config/config.hpp"
#include "intelergy/core/http_client.hpp"
#include "intelergy/core/mqtt_client.hpp"
#include "intelergy/drivers/energy_book.hpp"
#include "intelergy/drivers/gen1_mqtt_state.hpp"
#include "intelergy/drivers/gen2_status_state.hpp"
#include "intelergy/drivers/shelly_http.hpp"
#include "intelergy/store/store.hpp"
#include "device_probe.hpp"
#include "mqtt_rpc.hpp"

namespace spdlog {
class logger;
}

namespace intelergy::bridge {


enum class Availability { Unknown, Online, Offline };
const char* to_string(Availability a) noexcept;

// Poll and availability counters, written on the loop thread, read from any thread.
struct DeviceStats {
    std::atomic<std::uint64_t> polls_ok{0};
    std::atomic<std::uint64_t> polls_failed{0};
    std::array<std::atomic<std::uint64_t>, BridgeStats::POLL_BUCKETS_S.size()> poll_buckets{};
    std::atomic<std::uint64_t> poll_micros_sum{0};
    std::atomic<std::uint64_t> polls_started{0};
    std::array<std::atomic<std::uint64_t>, BridgeStats::POLL_DELAY_BUCKETS_S.size()> poll_delay_buckets{};
    std::atomic<std::uint64_t> poll_delay_micros_sum{0};
    std::atomic<std::size_t> total{0};
    std::atomic<std::size_t> online{0};
    std::atomic<std::size_t> offline{0};
};

// Everything the core loop knows about one registered plug.
struct ManagedDevice {
    store::DeviceRow row;
    std::uint64_t epoch{0};  // bumps on every re-registration; stale completions are ignored
    Availability availability{Availability::Unknown};
    std::string state_detail;  // e.g. "credentials rejected"
    int failures{0};
    bool in_flight{false};
    bool auth_failed{false};
    std::optional<EventLoop::TimerId> timer;
    SteadyTime next_due{};
    drivers::Gen2StatusState gen2;
    drivers::Gen1MqttState gen1;
    bool baseline_pending{false};
    int baseline_failures{0};  // consecutive failed GetStatus baselines (MQTT plugs)
    std::map<int, drivers::CounterState> books;
    std::map<int, Reading> latest;  // per channel
    std::string homes_topic;        // <base>/homes/<user>/<profile>/<room>/<device>
};

// Hooks for the parts of the bridge that react to device changes (HA discovery, bridge/devices).
struct DeviceListener {
    std::function<void(const ManagedDevice&)> added_or_updated;
    std::function<void(const store::DeviceRow&)> removed;
    std::function<void()> devices_changed;  // bridge/devices must be re-published
};

// The device side of the core loop: polling over HTTP, Shelly MQTT consumption, energy books,
// normalised topics, relay control. Every method runs on the core loop thread only.
class DeviceManager {
public:
    DeviceManager(const config::AppConfig& config, EventLoop& loop, MqttClient& mqtt,
                  HttpClient& http, MqttRpc& rpc, DiscoveredPlugs& discovered, const Clock& clock,
                  ReadingSink sink);
    ~DeviceManager();
    DeviceManager(const DeviceManager&) = delete;
    DeviceManager& operator=(const DeviceManager&) = delete;

    void set_listener(DeviceListener listener) { listener_ = std::move(listener); }

    // Registers (or re-registers after an update) a device with its persisted energy books.
    void upsert(const store::DeviceRow& row, const std::vector<store::EnergyBookRow>& books);
    void remove(const std::string& id);
    // After every (re)connect to the broker: subscriptions, availability and states again.
    void on_mqtt_connected();
    // Availability, then current state, of every device (after HA comes back).
    void republish();
    // Shelly topics and <base>/devices/+/set; returns false if the message is not for us.
    bool handle_message(const MqttMessage& message);
    // Relay control; `done` runs on the loop thread once the device confirmed (or failed).
    void set_relay(const std::string& id, std::optional<int> channel, drivers::RelayCommand cmd,
                   std::function<void(Status)> done);

    [[nodiscard]] const DeviceStats& stats() const { return stats_; }
    [[nodiscard]] const ManagedDevice* find(const std::string& id) const;
    [[nodiscard]] std::vector<const ManagedDevice*> devices() const;
    [[nodiscard]] std::size_t online_count() const;
    // Returns the device's current state JSON (what <base>/devices/<id>/state carries).
    [[nodiscard]] std::string state_json(const ManagedDevice& device) const;

private:
    ManagedDevice* find_mutable(const std::string& id);
    [[nodiscard]] bool covered_by_wildcards(const ManagedDevice& d) const;
    void subscribe_device(const ManagedDevice& d);
    void unsubscribe_device(const ManagedDevice& d);
    void schedule_poll(ManagedDevice& d, std::chrono::milliseconds delay);
    void poll(const std::string& id);
    void on_poll_done(const std::string& id, std::uint64_t epoch, HttpResponse response);
    void poll_failed(ManagedDevice& d, const std::string& why, bool auth);
    void request_baseline(ManagedDevice& d);
    void retry_baseline(ManagedDevice& d);
    void request_gen1_update(const ManagedDevice& d);
    void process(ManagedDevice& d, std::vector<Reading> readings);
    void set_availability(ManagedDevice& d, Availability a, const std::string& detail);
    void publish_state(const ManagedDevice& d);
    void publish_availability(const ManagedDevice& d);
    void clear_topics(const ManagedDevice& d);
    void event(std::string_view type, const std::string& data_json);
    bool handle_set_command(const MqttMessage& message);
    bool handle_shelly_message(const MqttMessage& message);
    void note_discovered(const DiscoveredPlug& plug);
    std::chrono::milliseconds backoff(int failures);
    HttpRequest device_request(const ManagedDevice& d, std::string url) const;
    void expire_rpcs();
    void count_poll(const HttpResponse& response);
    void count_poll_start(const ManagedDevice& d);
    void recount(Availability from = Availability::Unknown, Availability to = Availability::Unknown);

    const config::AppConfig& cfg_;
    EventLoop& loop_;
    MqttClient& mqtt_;
    HttpClient& http_;
    MqttRpc& rpc_;
    DiscoveredPlugs& discovered_;
    const Clock& clock_;
    ReadingSink sink_;
    DeviceListener listener_;
    drivers::EnergyLimits limits_;
    std::shared_ptr<spdlog::logger> log_;
    std::map<std::string, std::unique_ptr<ManagedDevice>> devices_;
    std::unordered_map<std::string, std::string> by_prefix_;  // MQTT topic prefix → device id
    std::map<std::string, std::string> by_mac_;               // MAC → device id
    std::uint64_t next_epoch_{1};
    std::mt19937 rng_{std::random_device{}()};
    std::optional<EventLoop::TimerId> rpc_timer_;
    DeviceStats stats_;
};

}  // namespace intelergy::bridge
