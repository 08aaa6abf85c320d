#pragma once

#include "intelergy/config/config.hpp"
#include "intelergy/discovery/device_description.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace intelergy::discovery {

// Builds Home Assistant MQTT discovery messages for plugs and for the bridge itself. Pure: no
// I/O, no clock, no MQTT client; every call returns the same messages for the same input, so
// re-publishing is cheap (HA ignores unchanged configs).
//
// Topics (prefix = HomeAssistantConfig::discovery_prefix, <id> = DeviceDescription::id):
//   Device mode: <prefix>/device/<id>/config                       one payload per plug
//   Entity mode: <prefix>/<platform>/<id>/<object>/config          one payload per entity
//   <object> = component key: ch<N>_power, ch<N>_energy, ch<N>_voltage, ch<N>_current,
//   ch<N>_temperature, ch<N>_relay (and total_power / total_energy on multi-channel plugs).
// unique_id = "intelergy_<mac12 lower>_<object>", e.g. intelergy_a1b2c3d4e5f6_ch0_power. It
// depends on the MAC only: renames and moves change name / suggested_area, never unique_ids.
// The bridge is an HA device too: identifier bridge_device_id() = "intelergy_bridge_<base>",
// topics <prefix>/device/<bridge id>/config or <prefix>/<platform>/<bridge id>/<object>/config.
//
// State topics read (the bridge publishes them): <base>/devices/<id>/state (JSON, see
// docs/home-assistant.md), <base>/devices/<id>/availability, <base>/bridge/state,
// <base>/bridge/info ("version"), <base>/bridge/stats ({"devices_online":N,"devices_total":M}).
// Commands: <base>/devices/<id>/set, or <base>/devices/<id>/channel/<n>/set on multi-channel.
//
// Stale cleanup at start (recommended order): subscribe to subscription_filters(), collect
// retained configs for which owns_config() is true, clear (empty retained) every topic that is
// not among the topics of the current device_configs()/bridge_configs(), THEN publish the
// current configs. Clearing first matters when switching modes: HA refuses a second entity with
// a unique_id that is still owned by the old topic.
class DiscoveryBuilder {
public:
    DiscoveryBuilder(const config::HomeAssistantConfig& config, std::string base_topic);

    // Config messages for one plug in the configured mode (1 message in Device mode, one per
    // entity in Entity mode).
    [[nodiscard]] std::vector<DiscoveryMessage> device_configs(const DeviceDescription& d) const;
    // Empty payloads on every topic device_configs() uses in EITHER mode, so a removal or a mode
    // switch leaves no ghost behind.
    [[nodiscard]] std::vector<DiscoveryMessage> clear_device(const DeviceDescription& d) const;

    // The bridge as an HA device: connectivity (bridge/state), devices online / total
    // (bridge/stats), version (bridge/info).
    [[nodiscard]] std::vector<DiscoveryMessage> bridge_configs() const;
    [[nodiscard]] std::vector<DiscoveryMessage> clear_bridge() const;

    // True when (topic, payload) is a non-empty retained config published by THIS bridge: the
    // topic is a discovery topic under our prefix, origin.name is "Intelergy" and at least one
    // topic in the payload lies under "<base>/". Abbreviated keys are understood.
    [[nodiscard]] bool owns_config(std::string_view topic, std::string_view payload) const;
    // The plug id (node id) of a discovery topic under our prefix, in either form; nullopt for
    // other topics and for the bridge's own configs.
    [[nodiscard]] std::optional<std::string> device_id_of(std::string_view topic) const;

    // "<prefix>/+/+/config" and "<prefix>/+/+/+/config": what to subscribe to for cleanup.
    [[nodiscard]] std::vector<std::string> subscription_filters() const;
    [[nodiscard]] const std::string& bridge_device_id() const { return bridge_id_; }
    [[nodiscard]] std::string bridge_stats_topic() const { return base_ + "/bridge/stats"; }

private:
    config::HomeAssistantConfig config_;
    std::string base_;
    std::string bridge_id_;
};

}  // namespace intelergy::discovery
