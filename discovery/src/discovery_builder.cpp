#include "intelergy/discovery/discovery_builder.hpp"

#include "entity.hpp"
#include "ids.hpp"
#include "intelergy/discovery/ha_keys.hpp"

#include <intelergy/version.hpp>

#include <memory>
#include <utility>

namespace intelergy::discovery {

namespace {

using detail::Entity;
using detail::EntityContext;
using detail::Json;
using EntityList = std::vector<std::unique_ptr<Entity>>;

constexpr std::string_view ORIGIN_NAME = "Intelergy";
constexpr std::string_view MANUFACTURER_SHELLY = "Shelly";
// expire_after = 3 missed polls plus a margin for a slow poll (reference §1.3: "≈ 3× poll").
constexpr int EXPIRE_POLLS = 3;
constexpr std::chrono::seconds EXPIRE_MARGIN{10};

Json origin_block() {
    return Json{{ha::NAME, ORIGIN_NAME}, {ha::SW_VERSION, VERSION}, {ha::SUPPORT_URL, SUPPORT_URL}};
}

const char* generation_label(Generation g) {
    switch (g) {
        case Generation::Gen1:
            return "Gen1";
        case Generation::Gen2:
            return "Gen2";
        case Generation::Gen3:
            return "Gen3";
        case Generation::Gen4:
            return "Gen4";
    }
    return "Gen?";
}

// "value_json.power_w" or "value_json.channels[2].power_w".
std::string field(std::optional<int> channel, std::string_view key) {
    std::string out = "value_json.";
    if (channel) out += "channels[" + std::to_string(*channel) + "].";
    out += key;
    return out;
}

std::string plain_template(const std::string& path) { return "{{ " + path + " }}"; }

struct PlugNames {
    std::string mac12;  // identity of every unique_id
    std::string node;   // topic node id
};

PlugNames plug_names(const DeviceDescription& d) {
    PlugNames n;
    n.node = detail::sanitize_topic_id(d.id);
    // The MAC is the identity; an unusable MAC falls back to the (equally stable) id.
    n.mac12 = detail::mac12(d.mac).value_or(n.node);
    return n;
}

// Adds the sensors and switch for one channel (nullopt channel = single-channel plug reading the
// top level of the state JSON).
void add_channel(EntityList& out, const DeviceDescription& d, const PlugNames& names,
                 const config::HomeAssistantConfig& cfg, const std::string& state_topic,
                 const std::string& base_device_topic, std::optional<int> channel) {
    const int ch = channel.value_or(0);
    const std::string key = "ch" + std::to_string(ch) + "_";
    const std::string uid = "intelergy_" + names.mac12 + "_" + key;
    // Single-channel entities are named after the quantity; the relay is the main feature.
    const std::string prefix = channel ? "Channel " + std::to_string(ch) + " " : "";
    auto label = [&](std::string_view quantity) {
        std::string text = prefix.empty() ? std::string{quantity} : prefix + std::string{quantity};
        if (prefix.empty() && !text.empty()) text[0] = static_cast<char>(text[0] - 'a' + 'A');
        return text;
    };
    std::optional<std::chrono::seconds> expire;
    if (d.poll_interval) expire = EXPIRE_POLLS * *d.poll_interval + EXPIRE_MARGIN;

    auto sensor = [&](const std::string& object, std::string_view quantity, detail::SensorSpec spec,
                      std::string value_template) {
        spec.expire_after = expire;
        auto e = std::make_unique<detail::SensorEntity>(key + object, uid + object, label(quantity),
                                                        std::move(spec));
        e->set_state(state_topic, std::move(value_template));
        return e;
    };

    out.push_back(sensor("power", "power", {"power", ha::STATE_CLASS_MEASUREMENT, "W", 1, {}},
                         plain_template(field(channel, "power_w"))));
    if (cfg.energy_unit == config::EnergyUnit::KilowattHour) {
        out.push_back(sensor("energy", "energy",
                             {"energy", ha::STATE_CLASS_TOTAL_INCREASING, "kWh", 3, {}},
                             "{{ (" + field(channel, "energy_wh") + " / 1000) | round(6) }}"));
    } else {
        out.push_back(sensor("energy", "energy",
                             {"energy", ha::STATE_CLASS_TOTAL_INCREASING, "Wh", 0, {}},
                             plain_template(field(channel, "energy_wh"))));
    }
    if (d.has_voltage) {
        auto e = sensor("voltage", "voltage", {"voltage", ha::STATE_CLASS_MEASUREMENT, "V", 1, {}},
                        plain_template(field(channel, "voltage_v")));
        e->set_diagnostic();
        out.push_back(std::move(e));
    }
    if (d.has_current) {
        auto e = sensor("current", "current", {"current", ha::STATE_CLASS_MEASUREMENT, "A", 2, {}},
                        plain_template(field(channel, "current_a")));
        e->set_diagnostic();
        out.push_back(std::move(e));
    }
    if (d.has_temperature) {
        auto e = sensor("temperature", "temperature",
                        {"temperature", ha::STATE_CLASS_MEASUREMENT, "°C", 1, {}},
                        plain_template(field(channel, "temperature_c")));
        e->set_diagnostic();
        e->set_disabled_by_default();
        out.push_back(std::move(e));
    }
    if (d.has_relay) {
        const std::string command =
            channel ? base_device_topic + "/channel/" + std::to_string(ch) + "/set"
                    : base_device_topic + "/set";
        std::optional<std::string> name;
        if (channel) name = "Channel " + std::to_string(ch);
        auto e = std::make_unique<detail::SwitchEntity>(key + "relay", uid + "relay",
                                                        std::move(name), command);
        e->set_state(state_topic, plain_template(field(channel, "relay")));
        out.push_back(std::move(e));
    }
}

EntityList plug_entities(const DeviceDescription& d, const config::HomeAssistantConfig& cfg,
                         const std::string& base) {
    const PlugNames names = plug_names(d);
    const std::string device_topic = base + "/devices/" + d.id;
    const std::string state_topic = device_topic + "/state";
    EntityList out;
    if (d.channels <= 1) {
        add_channel(out, d, names, cfg, state_topic, device_topic, std::nullopt);
        return out;
    }
    // Multi-channel: device totals from the top level, then every channel from channels[n].
    std::optional<std::chrono::seconds> expire;
    if (d.poll_interval) expire = EXPIRE_POLLS * *d.poll_interval + EXPIRE_MARGIN;
    const std::string uid = "intelergy_" + names.mac12 + "_total_";
    auto power = std::make_unique<detail::SensorEntity>(
        "total_power", uid + "power", "Total power",
        detail::SensorSpec{"power", ha::STATE_CLASS_MEASUREMENT, "W", 1, expire});
    power->set_state(state_topic, plain_template(field(std::nullopt, "power_w")));
    out.push_back(std::move(power));
    const bool kwh = cfg.energy_unit == config::EnergyUnit::KilowattHour;
    auto energy = std::make_unique<detail::SensorEntity>(
        "total_energy", uid + "energy", "Total energy",
        detail::SensorSpec{"energy", ha::STATE_CLASS_TOTAL_INCREASING, kwh ? "kWh" : "Wh",
                           kwh ? 3 : 0, expire});
    energy->set_state(state_topic, kwh ? "{{ (value_json.energy_wh / 1000) | round(6) }}"
                                       : plain_template(field(std::nullopt, "energy_wh")));
    out.push_back(std::move(energy));
    for (int ch = 0; ch < d.channels; ++ch) {
        add_channel(out, d, names, cfg, state_topic, device_topic, ch);
    }
    return out;
}

Json plug_device_block(const DeviceDescription& d, const std::string& bridge_id) {
    Json dev = Json::object();
    dev[ha::IDENTIFIERS] = Json::array({"intelergy_" + d.id});
    if (auto mac = detail::mac12(d.mac)) {
        dev[ha::CONNECTIONS] =
            Json::array({Json::array({ha::CONNECTION_MAC, detail::mac_colon(*mac)})});
    }
    dev[ha::NAME] = d.name.empty() ? d.id : d.name;
    dev[ha::MANUFACTURER] = MANUFACTURER_SHELLY;
    if (!d.model.empty()) dev[ha::MODEL] = d.model;
    dev[ha::HW_VERSION] = generation_label(d.generation);
    if (!d.firmware.empty()) dev[ha::SW_VERSION] = d.firmware;
    if (!d.configuration_url.empty()) dev[ha::CONFIGURATION_URL] = d.configuration_url;
    if (!d.room.empty()) dev[ha::SUGGESTED_AREA] = d.room;
    dev[ha::VIA_DEVICE] = bridge_id;
    return dev;
}

Json availability_entry(const std::string& topic, bool json_state) {
    Json entry{{ha::TOPIC, topic}};
    if (json_state) entry[ha::VALUE_TEMPLATE] = "{{ value_json.state }}";
    return entry;
}

// Device mode: one payload with shared device/origin/availability at the root; Entity mode: one
// payload per entity carrying everything itself.
std::vector<DiscoveryMessage> render(const config::HomeAssistantConfig& cfg,
                                     const std::string& node, const EntityList& entities,
                                     const Json& device, const Json& availability,
                                     bool shared_availability) {
    const Json origin = origin_block();
    std::vector<DiscoveryMessage> out;
    if (cfg.mode == config::DiscoveryMode::Device) {
        Json root = Json::object();
        root[ha::DEVICE] = device;
        root[ha::ORIGIN] = origin;
        if (shared_availability) {
            for (const auto& [key, value] : availability.items()) root[key] = value;
        }
        Json components = Json::object();
        EntityContext ctx;
        ctx.with_platform = true;
        ctx.availability = shared_availability ? nullptr : &availability;
        for (const auto& e : entities) components[e->object_id()] = e->to_json(ctx);
        root[ha::COMPONENTS] = std::move(components);
        out.push_back({cfg.discovery_prefix + "/" + ha::DEVICE_COMPONENT + "/" + node + "/config",
                       root.dump()});
        return out;
    }
    EntityContext ctx;
    ctx.availability = &availability;
    ctx.device = &device;
    ctx.origin = &origin;
    for (const auto& e : entities) {
        out.push_back({cfg.discovery_prefix + "/" + e->platform() + "/" + node + "/" +
                           e->object_id() + "/config",
                       e->to_json(ctx).dump()});
    }
    return out;
}

std::vector<DiscoveryMessage> clear_all(const config::HomeAssistantConfig& cfg,
                                        const std::string& node, const EntityList& entities) {
    std::vector<DiscoveryMessage> out;
    out.push_back({cfg.discovery_prefix + "/" + ha::DEVICE_COMPONENT + "/" + node + "/config", ""});
    for (const auto& e : entities) {
        out.push_back({cfg.discovery_prefix + "/" + e->platform() + "/" + node + "/" +
                           e->object_id() + "/config",
                       ""});
    }
    return out;
}

EntityList bridge_entities(const std::string& base, const std::string& bridge_id) {
    EntityList out;
    const std::string uid = bridge_id + "_";
    auto connectivity = std::make_unique<detail::BinarySensorEntity>(
        "connection_state", uid + "connection_state", "Connection state", "connectivity", "online",
        "offline");
    connectivity->set_state(base + "/bridge/state", "{{ value_json.state }}");
    connectivity->set_diagnostic();
    connectivity->set_without_availability();  // must read "offline", not "unavailable"
    out.push_back(std::move(connectivity));

    const std::string stats = base + "/bridge/stats";
    auto online = std::make_unique<detail::SensorEntity>(
        "devices_online", uid + "devices_online", "Devices online",
        detail::SensorSpec{"", ha::STATE_CLASS_MEASUREMENT, "", 0, {}});
    online->set_state(stats, "{{ value_json.devices_online }}");
    online->set_icon("mdi:power-plug");
    out.push_back(std::move(online));

    auto total = std::make_unique<detail::SensorEntity>(
        "devices_total", uid + "devices_total", "Devices total",
        detail::SensorSpec{"", ha::STATE_CLASS_MEASUREMENT, "", 0, {}});
    total->set_state(stats, "{{ value_json.devices_total }}");
    total->set_icon("mdi:power-plug-outline");
    out.push_back(std::move(total));

    auto version = std::make_unique<detail::SensorEntity>("version", uid + "version", "Version",
                                                          detail::SensorSpec{});
    version->set_state(base + "/bridge/info", "{{ value_json.version }}");
    version->set_diagnostic();
    version->set_icon("mdi:information-outline");
    out.push_back(std::move(version));
    return out;
}

// Splits "<prefix>/<a>/<b>[/<c>]/config" (under our prefix) into its levels after the prefix.
std::optional<std::vector<std::string_view>> discovery_levels(std::string_view prefix,
                                                              std::string_view topic) {
    if (topic.size() <= prefix.size() + 1 || topic.substr(0, prefix.size()) != prefix ||
        topic[prefix.size()] != '/') {
        return std::nullopt;
    }
    std::string_view rest = topic.substr(prefix.size() + 1);
    std::vector<std::string_view> levels;
    while (true) {
        const auto slash = rest.find('/');
        levels.push_back(rest.substr(0, slash));
        if (slash == std::string_view::npos) break;
        rest = rest.substr(slash + 1);
    }
    if (levels.size() < 3 || levels.size() > 4 || levels.back() != "config") return std::nullopt;
    for (std::size_t i = 0; i + 1 < levels.size(); ++i) {
        if (!detail::is_topic_id(levels[i])) return std::nullopt;
    }
    return levels;
}

const Json* find_key(const Json& object, std::string_view full, std::string_view abbreviated) {
    if (!object.is_object()) return nullptr;
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (it.key() == full || it.key() == abbreviated) return &it.value();
    }
    return nullptr;
}

// True when any string under a key ending in "topic" / "_t" (or an availability item "t") lies
// under `base` + "/".
bool mentions_base(const Json& json, const std::string& base_slash) {
    if (json.is_array()) {
        for (const auto& item : json) {
            if (mentions_base(item, base_slash)) return true;
        }
        return false;
    }
    if (!json.is_object()) return false;
    for (auto it = json.begin(); it != json.end(); ++it) {
        const std::string& key = it.key();
        const bool topic_key = key == "t" || key == "topic" ||
                               (key.size() > 2 && key.ends_with("_t")) ||
                               (key.size() > 6 && key.ends_with("_topic"));
        if (topic_key && it->is_string() && it->get<std::string>().starts_with(base_slash)) {
            return true;
        }
        if ((it->is_object() || it->is_array()) && mentions_base(*it, base_slash)) return true;
    }
    return false;
}

}  // namespace

DiscoveryBuilder::DiscoveryBuilder(const config::HomeAssistantConfig& config,
                                   std::string base_topic)
    : config_(config),
      base_(std::move(base_topic)),
      bridge_id_("intelergy_bridge_" + detail::sanitize_topic_id(base_)) {}

std::vector<DiscoveryMessage> DiscoveryBuilder::device_configs(const DeviceDescription& d) const {
    const EntityList entities = plug_entities(d, config_, base_);
    const Json availability{
        {ha::AVAILABILITY,
         Json::array({availability_entry(base_ + "/bridge/state", true),
                      availability_entry(base_ + "/devices/" + d.id + "/availability", false)})},
        {ha::AVAILABILITY_MODE, ha::MODE_ALL}};
    return render(config_, plug_names(d).node, entities, plug_device_block(d, bridge_id_),
                  availability, /*shared_availability=*/true);
}

std::vector<DiscoveryMessage> DiscoveryBuilder::clear_device(const DeviceDescription& d) const {
    return clear_all(config_, plug_names(d).node, plug_entities(d, config_, base_));
}

std::vector<DiscoveryMessage> DiscoveryBuilder::bridge_configs() const {
    Json device = Json::object();
    device[ha::IDENTIFIERS] = Json::array({bridge_id_});
    device[ha::NAME] =
        base_ == "intelergy" ? std::string{"Intelergy bridge"} : "Intelergy bridge (" + base_ + ")";
    device[ha::MANUFACTURER] = ORIGIN_NAME;
    device[ha::MODEL] = "Intelergy bridge";
    device[ha::SW_VERSION] = VERSION;
    const Json availability{
        {ha::AVAILABILITY, Json::array({availability_entry(base_ + "/bridge/state", true)})}};
    return render(config_, bridge_id_, bridge_entities(base_, bridge_id_), device, availability,
                  /*shared_availability=*/false);
}

std::vector<DiscoveryMessage> DiscoveryBuilder::clear_bridge() const {
    return clear_all(config_, bridge_id_, bridge_entities(base_, bridge_id_));
}

bool DiscoveryBuilder::owns_config(std::string_view topic, std::string_view payload) const {
    if (payload.empty() || !discovery_levels(config_.discovery_prefix, topic)) return false;
    const Json json = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object()) return false;
    const Json* origin = find_key(json, ha::ORIGIN, "o");
    if (origin == nullptr) return false;
    const Json* name = find_key(*origin, ha::NAME, ha::NAME);
    if (name == nullptr || !name->is_string() || name->get<std::string>() != ORIGIN_NAME) {
        return false;
    }
    return mentions_base(json, base_ + "/");
}

std::optional<std::string> DiscoveryBuilder::device_id_of(std::string_view topic) const {
    const auto levels = discovery_levels(config_.discovery_prefix, topic);
    if (!levels) return std::nullopt;
    std::string_view node;
    if ((*levels)[0] == ha::DEVICE_COMPONENT && levels->size() == 3) {
        node = (*levels)[1];
    } else if (levels->size() == 4) {
        node = (*levels)[1];
    } else {
        return std::nullopt;
    }
    if (node == bridge_id_) return std::nullopt;
    return std::string{node};
}

std::vector<std::string> DiscoveryBuilder::subscription_filters() const {
    return {config_.discovery_prefix + "/+/+/config", config_.discovery_prefix + "/+/+/+/config"};
}

}  // namespace intelergy::discovery
