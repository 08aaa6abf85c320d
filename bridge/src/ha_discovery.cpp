#include "ha_discovery.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "request.hpp"

namespace intelergy::bridge {

using namespace std::chrono_literals;

namespace {
// Retained messages arrive right after a subscription; this is how long we collect them.
constexpr auto COLLECT_WINDOW = 1500ms;
constexpr std::size_t SWEEP_SLICE = 25;  // devices per turn of the core loop
std::shared_ptr<spdlog::logger> log() {
    auto l = spdlog::get("discovery");
    return l ? l : spdlog::default_logger();
}

}  // namespace

HaDiscovery::HaDiscovery(const config::AppConfig& config, EventLoop& loop, MqttClient& mqtt,
                         DeviceManager& devices)
    : cfg_(config),
      loop_(loop),
      mqtt_(mqtt),
      devices_(devices),
      builder_(config.homeassistant, config.mqtt.base_topic),
      enabled_(config.homeassistant.enabled) {}

discovery::DeviceDescription HaDiscovery::describe(const store::DeviceRow& row) const {
    discovery::DeviceDescription d;
    d.id = row.id;
    d.name = row.name;
    d.user = row.user;
    d.profile = row.profile;
    d.room = row.room;
    d.model = row.model;
    d.mac = row.mac;
    d.firmware = row.firmware;
    d.generation = row.generation;
    d.channels = row.channels;
    d.has_relay = row.has_relay;
    // Gen1 plugs meter no voltage/current; Gen2+ Switch and PM1 components do. Temperature comes
    // with the Plug S (Gen1) and the Switch component.
    const bool gen1 = row.generation == Generation::Gen1;
    d.has_voltage = !gen1;
    d.has_current = !gen1;
    d.has_temperature = gen1 ? row.model == "SHPLG-S" : row.has_relay;
    if (row.transport == store::Transport::Http) {
        d.configuration_url = row.url + "/";
        d.poll_interval = row.poll_interval;
    }
    return d;
}

void HaDiscovery::publish(const std::vector<discovery::DiscoveryMessage>& messages) {
    for (const auto& m : messages) mqtt_.publish(m.topic, m.payload, 1, true);
}

void HaDiscovery::on_mqtt_connected() {
    if (!enabled_) return;
    mqtt_.subscribe(cfg_.homeassistant.status_topic, 1);
    if (!cleaned_) {
        if (collecting_) return;
        collecting_ = true;
        for (const auto& f : builder_.subscription_filters()) mqtt_.subscribe(f, 1);
        loop_.schedule_after(std::chrono::duration_cast<std::chrono::milliseconds>(COLLECT_WINDOW),
                             [this] { finish_cleanup(); });
        return;
    }
    publish_everything();
}

// Runs `each` for every registered device, SWEEP_SLICE devices per turn of the core loop, then
// `done`. Building and publishing the configs of 1,000 plugs in one task held the loop for about
// 300 ms, and every plug message queued behind it: the p99 latency at 1,000 msg/s was that stall
// (issue 8, bench/RESULTS.md). A newer sweep supersedes an unfinished one.
void HaDiscovery::sweep(std::function<void(const ManagedDevice&)> each, std::function<void()> done) {
    auto ids = std::make_shared<std::vector<std::string>>();
    for (const auto* d : devices_.devices()) ids->push_back(d->row.id);
    sweep_step(std::move(ids), 0, ++sweep_generation_, std::move(each), std::move(done));
}

void HaDiscovery::sweep_step(std::shared_ptr<std::vector<std::string>> ids, std::size_t next,
                             std::uint64_t generation, std::function<void(const ManagedDevice&)> each,
                             std::function<void()> done) {
    if (generation != sweep_generation_) return;
    const auto end = std::min(ids->size(), next + SWEEP_SLICE);
    for (; next < end; ++next)
        if (const auto* d = devices_.find((*ids)[next])) each(*d);  // removed meanwhile: skipped
    if (next < ids->size()) {
        loop_.schedule_after(std::chrono::milliseconds(0),
                             [this, ids = std::move(ids), next, generation, each = std::move(each),
                              done = std::move(done)]() mutable {
                                 sweep_step(std::move(ids), next, generation, std::move(each),
                                            std::move(done));
                             });
        return;
    }
    done();
}

void HaDiscovery::finish_cleanup() {
    collecting_ = false;
    for (const auto& f : builder_.subscription_filters()) mqtt_.unsubscribe(f);
    auto current = std::make_shared<std::set<std::string>>();
    for (const auto& m : builder_.bridge_configs()) current->insert(m.topic);
    sweep(
        [this, current](const ManagedDevice& d) {
            for (const auto& m : builder_.device_configs(describe(d.row))) current->insert(m.topic);
        },
        [this, current] {
            cleaned_ = true;
            std::size_t cleared = 0;
            for (const auto& topic : owned_retained_) {
                if (current->count(topic)) continue;
                mqtt_.publish(topic, "", 1, true);
                ++cleared;
            }
            owned_retained_.clear();
            if (cleared) log()->info("cleared {} stale Home Assistant config(s)", cleared);
            publish_everything();
        });
}

void HaDiscovery::publish_everything() {
    publish(builder_.bridge_configs());
    sweep(
        [this](const ManagedDevice& d) {
            auto configs = builder_.device_configs(describe(d.row));
            publish(configs);
            published_[d.row.id] = std::move(configs);
        },
        [this] {
            publish_stats();
            devices_.republish();  // availability, then states
        });
}

bool HaDiscovery::handle_message(const MqttMessage& m) {
    if (!enabled_) return false;
    if (m.topic == cfg_.homeassistant.status_topic) {
        if (m.payload == "online" && cleaned_) {
            log()->info("Home Assistant is online; publishing discovery");
            publish_everything();
        }
        return true;
    }
    if (m.topic.rfind(cfg_.homeassistant.discovery_prefix + "/", 0) != 0) return false;
    if (collecting_ && m.retained && !m.payload.empty() && builder_.owns_config(m.topic, m.payload))
        owned_retained_.insert(m.topic);
    return true;
}

void HaDiscovery::device_changed(const ManagedDevice& device) {
    if (!enabled_ || !cleaned_) return;  // the first full publish covers it
    auto configs = builder_.device_configs(describe(device.row));
    // A mode switch or a lost channel may leave topics of the previous set behind: clear them.
    if (const auto it = published_.find(device.row.id); it != published_.end()) {
        for (const auto& old : it->second) {
            const bool kept = std::any_of(configs.begin(), configs.end(),
                                          [&](const auto& m) { return m.topic == old.topic; });
            if (!kept) mqtt_.publish(old.topic, "", 1, true);
        }
    }
    publish(configs);
    published_[device.row.id] = std::move(configs);
}

void HaDiscovery::device_removed(const store::DeviceRow& row) {
    if (!enabled_) return;
    // Clear exactly the topics published for it. An empty payload on a device topic HA never
    // saw makes HA log "No device components to cleanup", so the other mode's topics are not
    // touched: retained leftovers of an earlier mode were cleared at start (finish_cleanup).
    std::vector<discovery::DiscoveryMessage> configs;
    if (const auto it = published_.find(row.id); it != published_.end()) {
        configs = std::move(it->second);
        published_.erase(it);
    } else if (cleaned_) {
        configs = builder_.device_configs(describe(row));
    }  // else: not published yet; the start-up cleanup clears any retained config of it
    for (const auto& m : configs) mqtt_.publish(m.topic, "", 1, true);
}

void HaDiscovery::publish_stats() {
    const auto all = devices_.devices();
    mqtt_.publish(builder_.bridge_stats_topic(),
                  Json{{"devices_online", devices_.online_count()}, {"devices_total", all.size()}}
                      .dump(),
                  1, true);
}

}  // namespace intelergy::bridge
