#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "device_manager.hpp"
#include "intelergy/discovery/discovery_builder.hpp"

namespace intelergy::bridge {

// Home Assistant discovery lifecycle, on the core loop thread:
// - at the first connection, collect retained configs of this bridge, clear those that match
//   no registered device, then publish every config (clearing first: HA refuses a unique_id
//   still owned by an old topic);
// - after every reconnect and every `homeassistant/status` = online: all configs, then
//   availability, then current states;
// - device added, renamed or moved: its configs again (same unique_ids, new name/area);
// - device removed: its configs cleared (empty retained), so no ghost entity comes back.
// The passes over every device run a slice of devices per turn of the loop (sweep()), so plug
// messages are not held up behind the whole fleet's configs.
class HaDiscovery {
public:
    HaDiscovery(const config::AppConfig& config, EventLoop& loop, MqttClient& mqtt,
                DeviceManager& devices);

    void on_mqtt_connected();
    // Discovery prefix and HA status topics; returns false when not ours.
    bool handle_message(const MqttMessage& message);
    void device_changed(const ManagedDevice& device);
    void device_removed(const store::DeviceRow& row);
    // <base>/bridge/stats for the bridge's own HA entities.
    void publish_stats();

private:
    [[nodiscard]] discovery::DeviceDescription describe(const store::DeviceRow& row) const;
    void publish(const std::vector<discovery::DiscoveryMessage>& messages);
    void finish_cleanup();
    void publish_everything();
    void sweep(std::function<void(const ManagedDevice&)> each, std::function<void()> done);
    void sweep_step(std::shared_ptr<std::vector<std::string>> ids, std::size_t next,
                    std::uint64_t generation, std::function<void(const ManagedDevice&)> each,
                    std::function<void()> done);

    const config::AppConfig& cfg_;
    EventLoop& loop_;
    MqttClient& mqtt_;
    DeviceManager& devices_;
    discovery::DiscoveryBuilder builder_;
    bool enabled_;
    bool cleaned_{false};
    bool collecting_{false};
    std::set<std::string> owned_retained_;  // config topics of ours seen while collecting
    std::map<std::string, std::vector<discovery::DiscoveryMessage>> published_;  // by device id
    std::uint64_t sweep_generation_{0};  // see sweep()
};

}  // namespace intelergy::bridge
