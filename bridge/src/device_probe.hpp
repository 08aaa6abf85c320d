#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "intelergy/core/clock.hpp"
#include "intelergy/core/http_client.hpp"
#include "intelergy/core/mqtt_client.hpp"
#include "intelergy/drivers/shelly_device.hpp"
#include "mqtt_rpc.hpp"

namespace intelergy::bridge {

// What a real check of a plug found out (device/add validates before storing anything).
struct ProbeResult {
    drivers::DeviceInfo info;
    std::vector<Reading> readings;  // one per channel, from one status read
    int channels{1};
    bool has_relay{true};
    bool has_voltage{false};
    bool has_current{false};
    bool has_temperature{false};
};

// Plugs seen announcing themselves on the broker (Gen1 `shellies/announce`, Gen2+
// `<prefix>/online`). Thread-safe: written from the core loop, read by the API worker.
struct DiscoveredPlug {
    std::string topic_prefix;  // what device/add needs: "shellies/<id>" or the Gen2+ prefix
    std::string shelly_id;
    std::string model;
    std::string mac;  // may be empty for Gen2+ until probed
    std::string ip;
    std::string firmware;  // Gen1 announce `fw_ver`; empty when unknown
    int generation{0};  // 0 = unknown yet
    SysTime first_seen{};
};

class DiscoveredPlugs {
public:
    // Returns true the first time a prefix is seen (→ device_discovered event).
    bool record(const DiscoveredPlug& plug);
    void forget(const std::string& topic_prefix);
    [[nodiscard]] std::vector<DiscoveredPlug> list() const;
    // How many Gen1 announces of this id were recorded so far.
    std::uint64_t announce_count(const std::string& shelly_id);
    // Waits until the announce count of this id exceeds `after`.
    std::optional<DiscoveredPlug> wait_announce(const std::string& shelly_id, std::uint64_t after,
                                                std::chrono::milliseconds timeout);

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::map<std::string, DiscoveredPlug> plugs_;
    std::map<std::string, std::uint64_t> announce_seq_;  // shelly_id → announce count
};

struct ProbeRequest {
    std::string url;
    std::string topic_prefix;
    bool mqtt{false};
    std::string username;
    std::string password;
    std::chrono::milliseconds timeout{5000};
};

// Blocking checks, run on the API worker thread only.
class DeviceProbe {
public:
    DeviceProbe(HttpClient& http, MqttRpc& rpc, MqttClient& mqtt, DiscoveredPlugs& discovered,
                const Clock& clock)
        : http_(http), rpc_(rpc), mqtt_(mqtt), discovered_(discovered), clock_(clock) {}

    Result<ProbeResult> probe(const ProbeRequest& request);

private:
    Result<ProbeResult> probe_http(const ProbeRequest& request);
    Result<ProbeResult> probe_mqtt_gen2(const ProbeRequest& request);
    Result<ProbeResult> probe_mqtt_gen1(const ProbeRequest& request);
    HttpResponse fetch(HttpRequest request);

    HttpClient& http_;
    MqttRpc& rpc_;
    MqttClient& mqtt_;
    DiscoveredPlugs& discovered_;
    const Clock& clock_;
};

// Fills the capability flags of `result` from its readings.
void derive_capabilities(ProbeResult& result);

}  // namespace intelergy::bridge
