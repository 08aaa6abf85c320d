#include "support/ha_checker.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <utility>

// Rules are cited as §<section>.<letter><number> of shared/reference/home-assistant.md, e.g.
// "§1.5.A10" = validation rule A.10. Findings use the same strings in `rule`.

namespace intelergy::test {

namespace {

using Json = nlohmann::json;
using Table = std::map<std::string, std::string, std::less<>>;
using Set = std::set<std::string, std::less<>>;

// --- Reference tables -----------------------------------------------------------------------

// §1.2.4 entity abbreviations (HA mqtt/abbreviations.py), covering the common schema and the
// sensor, binary_sensor and switch platforms plus device discovery; `name`-like identities are
// not listed.
const Table& entity_abbreviations() {
    static const Table table{
        {"avty", "availability"},
        {"avty_mode", "availability_mode"},
        {"avty_t", "availability_topic"},
        {"avty_tpl", "availability_template"},
        {"cmd_t", "command_topic"},
        {"cmd_tpl", "command_template"},
        {"cmps", "components"},
        {"def_ent_id", "default_entity_id"},
        {"dev", "device"},
        {"dev_cla", "device_class"},
        {"e", "encoding"},
        {"en", "enabled_by_default"},
        {"ent_cat", "entity_category"},
        {"ent_pic", "entity_picture"},
        {"exp_aft", "expire_after"},
        {"frc_upd", "force_update"},
        {"ic", "icon"},
        {"json_attr_t", "json_attributes_topic"},
        {"json_attr_tpl", "json_attributes_template"},
        {"lrst_t", "last_reset_topic"},
        {"lrst_val_tpl", "last_reset_value_template"},
        {"migr_discvry", "migrate_discovery"},
        {"o", "origin"},
        {"obj_id", "object_id"},
        {"off_dly", "off_delay"},
        {"ops", "options"},
        {"opt", "optimistic"},
        {"p", "platform"},
        {"pl_avail", "payload_available"},
        {"pl_not_avail", "payload_not_available"},
        {"pl_off", "payload_off"},
        {"pl_on", "payload_on"},
        {"ret", "retain"},
        {"stat_cla", "state_class"},
        {"stat_off", "state_off"},
        {"stat_on", "state_on"},
        {"stat_t", "state_topic"},
        {"sug_dsp_prc", "suggested_display_precision"},
        {"uniq_id", "unique_id"},
        {"unit_of_meas", "unit_of_measurement"},
        {"val_tpl", "value_template"},
    };
    return table;
}

const Table& device_abbreviations() {
    static const Table table{
        {"cns", "connections"},   {"cu", "configuration_url"},
        {"ids", "identifiers"},   {"mf", "manufacturer"},
        {"mdl", "model"},         {"mdl_id", "model_id"},
        {"hw", "hw_version"},     {"sw", "sw_version"},
        {"sa", "suggested_area"}, {"sn", "serial_number"},
    };
    return table;
}

const Table& origin_abbreviations() {
    static const Table table{{"sw", "sw_version"}, {"url", "support_url"}};
    return table;
}

const Table& availability_abbreviations() {
    static const Table table{{"t", "topic"},
                             {"pl_avail", "payload_available"},
                             {"pl_not_avail", "payload_not_available"},
                             {"val_tpl", "value_template"}};
    return table;
}

// §1.1: platforms HA subscribes to (MQTT SUPPORTED_COMPONENTS).
const Set& supported_components() {
    static const Set set{"alarm_control_panel",
                         "binary_sensor",
                         "button",
                         "camera",
                         "climate",
                         "cover",
                         "device_automation",
                         "device_tracker",
                         "event",
                         "fan",
                         "humidifier",
                         "image",
                         "lawn_mower",
                         "light",
                         "lock",
                         "notify",
                         "number",
                         "scene",
                         "select",
                         "sensor",
                         "siren",
                         "switch",
                         "tag",
                         "text",
                         "update",
                         "vacuum",
                         "valve",
                         "water_heater"};
    return set;
}

// §1.3 / §1.5.A4: keys of MQTT_ENTITY_COMMON_SCHEMA + the availability schema.
const Set& common_keys() {
    static const Set set{"availability",
                         "availability_mode",
                         "availability_template",
                         "availability_topic",
                         "payload_available",
                         "payload_not_available",
                         "device",
                         "origin",
                         "default_entity_id",
                         "object_id",
                         "enabled_by_default",
                         "encoding",
                         "entity_category",
                         "entity_picture",
                         "icon",
                         "json_attributes_topic",
                         "json_attributes_template",
                         "name",
                         "qos",
                         "unique_id"};
    return set;
}

// §1.3 platform keys.
const std::map<std::string, Set, std::less<>>& platform_keys() {
    static const std::map<std::string, Set, std::less<>> map{
        {"sensor",
         {"state_topic", "value_template", "device_class", "state_class", "unit_of_measurement",
          "suggested_display_precision", "expire_after", "force_update",
          "last_reset_value_template", "options"}},
        {"binary_sensor",
         {"state_topic", "value_template", "device_class", "expire_after", "force_update",
          "off_delay", "payload_on", "payload_off"}},
        {"switch",
         {"command_topic", "command_template", "state_topic", "value_template", "payload_on",
          "payload_off", "state_on", "state_off", "optimistic", "retain", "device_class"}},
    };
    return map;
}

// §1.1: options a device payload may share at its root.
const Set& device_root_keys() {
    static const Set set{"device",
                         "origin",
                         "components",
                         "availability",
                         "availability_mode",
                         "availability_template",
                         "availability_topic",
                         "payload_available",
                         "payload_not_available",
                         "state_topic",
                         "command_topic",
                         "qos",
                         "encoding",
                         "~",
                         "migrate_discovery"};
    return set;
}
const Set& shared_keys() {
    static const Set set{"availability",
                         "availability_mode",
                         "availability_template",
                         "availability_topic",
                         "payload_available",
                         "payload_not_available",
                         "state_topic",
                         "command_topic",
                         "qos",
                         "encoding"};
    return set;
}

const Set& device_keys() {
    static const Set set{
        "identifiers",       "connections", "name",       "manufacturer",  "model",
        "model_id",          "hw_version",  "sw_version", "serial_number", "suggested_area",
        "configuration_url", "via_device"};
    return set;
}

// §1.5.A6: SensorDeviceClass values.
const Set& sensor_device_classes() {
    static const Set set{"absolute_humidity",
                         "apparent_power",
                         "aqi",
                         "area",
                         "atmospheric_pressure",
                         "battery",
                         "blood_glucose_concentration",
                         "carbon_dioxide",
                         "carbon_monoxide",
                         "conductivity",
                         "current",
                         "data_rate",
                         "data_size",
                         "date",
                         "distance",
                         "duration",
                         "energy",
                         "energy_distance",
                         "energy_storage",
                         "enum",
                         "frequency",
                         "gas",
                         "humidity",
                         "illuminance",
                         "irradiance",
                         "moisture",
                         "monetary",
                         "nitrogen_dioxide",
                         "nitrogen_monoxide",
                         "nitrous_oxide",
                         "ozone",
                         "ph",
                         "pm1",
                         "pm10",
                         "pm25",
                         "pm4",
                         "power_factor",
                         "power",
                         "precipitation",
                         "precipitation_intensity",
                         "pressure",
                         "reactive_energy",
                         "reactive_power",
                         "signal_strength",
                         "sound_pressure",
                         "speed",
                         "sulphur_dioxide",
                         "temperature",
                         "timestamp",
                         "volatile_organic_compounds",
                         "volatile_organic_compounds_parts",
                         "voltage",
                         "volume",
                         "volume_flow_rate",
                         "volume_storage",
                         "water",
                         "weight",
                         "wind_direction",
                         "wind_speed"};
    return set;
}

const Set& binary_sensor_device_classes() {
    static const Set set{"battery",
                         "battery_charging",
                         "carbon_monoxide",
                         "cold",
                         "connectivity",
                         "door",
                         "garage_door",
                         "gas",
                         "heat",
                         "light",
                         "lock",
                         "moisture",
                         "motion",
                         "moving",
                         "occupancy",
                         "opening",
                         "plug",
                         "power",
                         "presence",
                         "problem",
                         "running",
                         "safety",
                         "smoke",
                         "sound",
                         "tamper",
                         "update",
                         "vibration",
                         "window"};
    return set;
}

const Set& state_classes() {
    static const Set set{"measurement", "measurement_angle", "total", "total_increasing"};
    return set;
}

// §1.5.C: DEVICE_CLASS_UNITS for the classes a plug bridge can meet ("" = no unit allowed).
const std::map<std::string, Set, std::less<>>& device_class_units() {
    static const Set energy{"J",   "kJ",  "MJ",  "GJ",  "mWh",  "Wh",   "kWh",
                            "MWh", "GWh", "TWh", "cal", "kcal", "Mcal", "Gcal"};
    static const std::map<std::string, Set, std::less<>> map{
        {"power", {"mW", "W", "kW", "MW", "GW", "TW"}},
        {"energy", energy},
        {"energy_storage", energy},
        {"voltage", {"µV", "mV", "V", "kV", "MV"}},
        {"current", {"mA", "A"}},
        {"apparent_power", {"mVA", "VA", "kVA", "MVA"}},
        {"reactive_power", {"mvar", "var", "kvar"}},
        {"power_factor", {"%", ""}},
        {"frequency", {"Hz", "kHz", "MHz", "GHz"}},
        {"temperature", {"°C", "°F", "K"}},
        {"duration", {"d", "h", "min", "s", "ms", "µs"}},
        {"battery", {"%"}},
        {"humidity", {"%"}},
        {"signal_strength", {"dB", "dBm"}},
    };
    return map;
}

// §1.5.C: DEVICE_CLASS_STATE_CLASSES (empty set = no state_class allowed).
const std::map<std::string, Set, std::less<>>& device_class_state_classes() {
    static const Set measurement{"measurement"};
    static const std::map<std::string, Set, std::less<>> map{
        {"power", measurement},
        {"energy", {"total", "total_increasing"}},
        {"energy_storage", measurement},
        {"voltage", measurement},
        {"current", measurement},
        {"apparent_power", measurement},
        {"reactive_power", measurement},
        {"power_factor", measurement},
        {"frequency", measurement},
        {"temperature", measurement},
        {"monetary", {"total"}},
        {"duration", {"measurement", "total", "total_increasing"}},
        {"battery", measurement},
        {"humidity", measurement},
        {"signal_strength", measurement},
        {"date", {}},
        {"enum", {}},
        {"timestamp", {}},
    };
    return map;
}

// Classes whose unit HA requires (a missing unit is §1.5.B2).
const Set& unit_required() {
    static const Set set{"power",          "energy",         "energy_storage", "voltage",
                         "current",        "apparent_power", "reactive_power", "frequency",
                         "temperature",    "duration",       "battery",        "humidity",
                         "signal_strength"};
    return set;
}

// --- Helpers ---------------------------------------------------------------------------------

struct Sink {
    std::string topic;
    std::vector<Finding>* out;
    void error(std::string rule, std::string message) const {
        out->push_back({Severity::Error, topic, std::move(rule), std::move(message)});
    }
    void warn(std::string rule, std::string message) const {
        out->push_back({Severity::Warning, topic, std::move(rule), std::move(message)});
    }
};

// §1.5.A1: the topic regex HA applies after the prefix.
const std::regex& topic_regex() {
    static const std::regex re{R"(^(\w+)/(?:([a-zA-Z0-9_-]+)/)?([a-zA-Z0-9_-]+)/config$)"};
    return re;
}

bool valid_subscribe_topic(const std::string& topic) {
    if (topic.empty() || topic.size() > 65535 || topic.find('\0') != std::string::npos) {
        return false;
    }
    std::size_t start = 0;
    while (true) {
        const std::size_t slash = topic.find('/', start);
        const std::string level =
            topic.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (level.find('#') != std::string::npos && (level != "#" || slash != std::string::npos)) {
            return false;
        }
        if (level.find('+') != std::string::npos && level != "+") return false;
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return true;
}

bool valid_publish_topic(const std::string& topic) {
    return valid_subscribe_topic(topic) && topic.find_first_of("+#") == std::string::npos;
}

std::size_t occurrences(const std::string& text, std::string_view needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + needle.size())) {
        ++n;
    }
    return n;
}

// A template must at least have balanced Jinja delimiters (HA compiles it at schema time).
bool balanced_template(const std::string& text) {
    return occurrences(text, "{{") == occurrences(text, "}}") &&
           occurrences(text, "{%") == occurrences(text, "%}");
}

bool is_url(const std::string& text, bool allow_homeassistant) {
    static const std::regex re{R"(^https?://[^\s/?#]+([/?#]\S*)?$)"};
    if (allow_homeassistant && text.starts_with("homeassistant://") && text.size() > 16) {
        return true;
    }
    return std::regex_match(text, re);
}

bool non_negative_int(const Json& v) {
    return (v.is_number_unsigned()) || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
}

std::string normalise_unit(std::string unit) {
    // HA's ambiguous-unit normalisation: Greek small mu (U+03BC) -> micro sign (U+00B5).
    const std::string greek_mu = "\xCE\xBC";
    const std::string micro = "\xC2\xB5";
    for (auto pos = unit.find(greek_mu); pos != std::string::npos; pos = unit.find(greek_mu)) {
        unit.replace(pos, greek_mu.size(), micro);
    }
    return unit;
}

// §1.2.4: expands abbreviated keys of one object with `table`; the same key given twice (full and
// abbreviated) is ambiguous.
Json expand_object(const Json& in, const Table& table, const Sink& sink, const std::string& where) {
    Json out = Json::object();
    for (auto it = in.begin(); it != in.end(); ++it) {
        const auto found = table.find(it.key());
        const std::string key = found == table.end() ? it.key() : found->second;
        if (out.contains(key)) {
            sink.error("§1.2.4", where + "key '" + key + "' given both abbreviated and in full");
        }
        out[key] = *it;
    }
    return out;
}

// §1.2.6: leading/trailing '~' in keys ending in "topic" is replaced by the value of '~'.
void expand_tilde(Json& config) {
    if (!config.contains("~") || !config["~"].is_string()) return;
    const std::string base = config["~"].get<std::string>();
    auto fix = [&base](Json& value) {
        if (!value.is_string()) return;
        std::string text = value.get<std::string>();
        if (text.starts_with('~')) text = base + text.substr(1);
        if (text.ends_with('~')) text = text.substr(0, text.size() - 1) + base;
        value = text;
    };
    for (auto it = config.begin(); it != config.end(); ++it) {
        if (it.key().ends_with("topic")) fix(*it);
    }
    if (config.contains("availability") && config["availability"].is_array()) {
        for (auto& item : config["availability"]) {
            if (item.is_object() && item.contains("topic")) fix(item["topic"]);
        }
    }
}

// Full expansion of an entity or device payload (§1.2.4: top level, availability items, device,
// origin, and every component).
Json expand_config(const Json& in, const Sink& sink, const std::string& where) {
    Json out = expand_object(in, entity_abbreviations(), sink, where);
    if (out.contains("device") && out["device"].is_object()) {
        out["device"] =
            expand_object(out["device"], device_abbreviations(), sink, where + "device: ");
    }
    if (out.contains("origin") && out["origin"].is_object()) {
        out["origin"] =
            expand_object(out["origin"], origin_abbreviations(), sink, where + "origin: ");
    }
    if (out.contains("availability") && out["availability"].is_array()) {
        for (auto& item : out["availability"]) {
            if (item.is_object()) {
                item = expand_object(item, availability_abbreviations(), sink,
                                     where + "availability item: ");
            }
        }
    }
    if (out.contains("components") && out["components"].is_object()) {
        for (auto it = out["components"].begin(); it != out["components"].end(); ++it) {
            if (it->is_object()) {
                *it = expand_config(*it, sink, where + "component '" + it.key() + "': ");
            }
        }
    }
    expand_tilde(out);
    return out;
}

bool is_string_or_absent(const Json& config, const char* key) {
    return !config.contains(key) || config[key].is_string();
}

// §1.5.A2: origin needs a string name; sw_version a string; support_url a URL.
void check_origin(const Json& origin, const Sink& sink, const std::string& where) {
    if (!origin.is_object()) {
        sink.error("§1.5.A2", where + "origin must be an object");
        return;
    }
    if (!origin.contains("name") || !origin["name"].is_string() ||
        origin["name"].get<std::string>().empty()) {
        sink.error("§1.5.A2", where + "origin without a string 'name' (whole message dropped)");
    }
    if (!is_string_or_absent(origin, "sw_version")) {
        sink.error("§1.5.A2", where + "origin.sw_version must be a string");
    }
    if (origin.contains("support_url") &&
        (!origin["support_url"].is_string() ||
         !is_url(origin["support_url"].get<std::string>(), false))) {
        sink.error("§1.5.A2", where + "origin.support_url is not a URL");
    }
    for (auto it = origin.begin(); it != origin.end(); ++it) {
        if (it.key() != "name" && it.key() != "sw_version" && it.key() != "support_url") {
            // MQTT_ORIGIN_INFO_SCHEMA allows no extra keys: the whole message is dropped.
            sink.error("§1.5.A2", where + "unknown origin key '" + it.key() +
                                      "' (origin invalid, whole message dropped)");
        }
    }
}

// §1.5.A3: device needs identifiers or connections; connections are [type, value] pairs;
// configuration_url must be a URL.
void check_device(const Json& device, const Sink& sink, const std::string& where) {
    if (!device.is_object()) {
        sink.error("§1.5.A3", where + "device must be an object");
        return;
    }
    bool has_identity = false;
    if (device.contains("identifiers")) {
        const Json& ids = device["identifiers"];
        if (ids.is_string()) {
            has_identity = !ids.get<std::string>().empty();
        } else if (ids.is_array()) {
            has_identity = !ids.empty();
            for (const auto& id : ids) {
                if (!id.is_string() || id.get<std::string>().empty()) {
                    sink.error("§1.5.A3", where + "device.identifiers must be non-empty strings");
                }
            }
        } else {
            sink.error("§1.5.A3", where + "device.identifiers must be a string or a list");
        }
    }
    if (device.contains("connections")) {
        const Json& cns = device["connections"];
        if (!cns.is_array()) {
            sink.error("§1.5.A3", where + "device.connections must be a list of [type, value]");
        } else {
            has_identity = has_identity || !cns.empty();
            for (const auto& pair : cns) {
                if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() ||
                    !pair[1].is_string()) {
                    sink.error("§1.5.A3",
                               where + "device.connections item is not a 2-element [type, value]");
                }
            }
        }
    }
    if (!has_identity) {
        sink.error("§1.5.A3", where + "device without non-empty identifiers or connections");
    }
    if (device.contains("configuration_url") &&
        (!device["configuration_url"].is_string() ||
         !is_url(device["configuration_url"].get<std::string>(), true))) {
        sink.error("§1.5.A3", where + "device.configuration_url is not a URL");
    }
    for (const char* key : {"name", "manufacturer", "model", "model_id", "hw_version", "sw_version",
                            "serial_number", "suggested_area", "via_device"}) {
        if (!is_string_or_absent(device, key)) {
            sink.error("§1.5.A3", where + "device." + key + " must be a string");
        }
    }
    for (auto it = device.begin(); it != device.end(); ++it) {
        if (!device_keys().contains(it.key())) {
            // MQTT_ENTITY_DEVICE_INFO_SCHEMA allows no extra keys: the config is rejected.
            sink.error("§1.5.A3", where + "unknown device key '" + it.key() + "'");
        }
    }
}

void check_topic_value(const Json& config, const char* key, bool publish, const Sink& sink,
                       const std::string& where) {
    if (!config.contains(key)) return;
    const Json& v = config[key];
    const bool ok = v.is_string() && (publish ? valid_publish_topic(v.get<std::string>())
                                              : valid_subscribe_topic(v.get<std::string>()));
    if (!ok) {
        sink.error("§1.5.A5", where + "'" + key + "' is not a valid " +
                                  (publish ? "publish topic (no wildcards)" : "subscribe topic"));
    }
}

void check_template(const Json& config, const std::string& key, const Sink& sink,
                    const std::string& where) {
    if (!config.contains(key)) return;
    if (!config[key].is_string() || !balanced_template(config[key].get<std::string>())) {
        sink.error("§1.2.7", where + "'" + key + "' is not a valid template (unbalanced {{ }})");
    }
}

// §1.5.A4: availability rules.
void check_availability(const Json& config, const Sink& sink, const std::string& where) {
    const bool list = config.contains("availability");
    const bool single = config.contains("availability_topic");
    if (list && single) {
        sink.error("§1.5.A4", where + "'availability' and 'availability_topic' are exclusive");
    }
    if (list) {
        const Json& items = config["availability"];
        if (!items.is_array() || items.empty()) {
            sink.error("§1.5.A4", where + "'availability' must be a non-empty list");
        } else {
            for (const auto& item : items) {
                if (!item.is_object() || !item.contains("topic")) {
                    sink.error("§1.5.A4", where + "availability item without 'topic'");
                    continue;
                }
                check_topic_value(item, "topic", false, sink, where + "availability item: ");
                check_template(item, "value_template", sink, where + "availability item: ");
                for (auto it = item.begin(); it != item.end(); ++it) {
                    if (!availability_abbreviations().contains(it.key()) && it.key() != "topic" &&
                        it.key() != "payload_available" && it.key() != "payload_not_available" &&
                        it.key() != "value_template") {
                        // The availability item schema allows no extra keys.
                        sink.error("§1.5.A4",
                                   where + "unknown availability item key '" + it.key() + "'");
                    }
                }
            }
        }
    }
    if (single) check_topic_value(config, "availability_topic", false, sink, where);
    check_template(config, "availability_template", sink, where);
    if (config.contains("availability_mode")) {
        const Json& mode = config["availability_mode"];
        if (!mode.is_string() || (mode != "all" && mode != "any" && mode != "latest")) {
            sink.error("§1.5.A4", where + "availability_mode must be all, any or latest");
        }
        if (!list) {
            sink.warn("§1.5.A4", where + "availability_mode without an 'availability' list");
        }
    }
    if (!single &&
        (config.contains("availability_template") || config.contains("payload_available") ||
         config.contains("payload_not_available"))) {
        sink.warn("§1.5.A4", where +
                                 "availability_template/payload_(not_)available without "
                                 "availability_topic have no effect");
    }
}

// §1.5.A6/A8/A9/A10/B1/B2: the sensor's device_class, state_class and unit.
void check_sensor_classes(const Json& config, const Sink& sink, const std::string& where) {
    std::optional<std::string> device_class;
    std::optional<std::string> state_class;
    std::optional<std::string> unit;
    if (config.contains("device_class") && !config["device_class"].is_null()) {
        if (!config["device_class"].is_string()) {
            sink.error("§1.5.A6", where + "device_class must be a string");
        } else {
            device_class = config["device_class"].get<std::string>();
            std::string lower = *device_class;
            std::transform(lower.begin(), lower.end(), lower.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (!sensor_device_classes().contains(lower)) {
                sink.error("§1.5.A6", where + "device_class '" + *device_class +
                                          "' is not a sensor device class");
                device_class.reset();
            } else {
                device_class = lower;
            }
        }
    }
    if (config.contains("state_class") && !config["state_class"].is_null()) {
        if (!config["state_class"].is_string() ||
            !state_classes().contains(config["state_class"].get<std::string>())) {
            sink.error("§1.5.A6", where +
                                      "state_class must be one of measurement, "
                                      "measurement_angle, total, total_increasing");
        } else {
            state_class = config["state_class"].get<std::string>();
        }
    }
    if (config.contains("unit_of_measurement") && !config["unit_of_measurement"].is_null()) {
        if (!config["unit_of_measurement"].is_string()) {
            sink.error("§1.5.A10", where + "unit_of_measurement must be a string");
        } else {
            unit = normalise_unit(config["unit_of_measurement"].get<std::string>());
            if (unit->find_first_not_of(" \t") == std::string::npos) {
                sink.warn("§1.3", where + "empty unit_of_measurement is dropped by HA");
                unit.reset();
            }
        }
    }
    // A7: last_reset_value_template only with state_class total.
    if (config.contains("last_reset_value_template") && state_class != "total") {
        sink.error("§1.5.A7", where + "last_reset_value_template requires state_class 'total'");
    }
    // A8: options only for device_class enum, non-empty, without state_class/unit.
    if (config.contains("options")) {
        const Json& options = config["options"];
        if (!options.is_array() || options.empty()) {
            sink.error("§1.5.A8", where + "options must be a non-empty list");
        }
        if (state_class || unit) {
            sink.error("§1.5.A8", where + "options cannot be combined with state_class or unit");
        }
        if (device_class != "enum") {
            sink.error("§1.5.A8", where + "options requires device_class 'enum'");
        }
    }
    // A9: measurement_angle only with degrees.
    if (state_class == "measurement_angle" && unit != "°") {
        sink.error("§1.5.A9", where + "state_class measurement_angle requires unit '°'");
    }
    if (!device_class) return;
    // A10: unit must belong to the device class (enforced since HA 2025.7).
    const auto& units = device_class_units();
    if (const auto allowed = units.find(*device_class); allowed != units.end()) {
        if (unit && !allowed->second.contains(*unit)) {
            sink.error("§1.5.A10", where + "the unit of measurement '" + *unit +
                                       "' is not valid together with device class '" +
                                       *device_class + "'");
        }
        // B2: missing unit for a class that needs one.
        if (!unit && unit_required().contains(*device_class)) {
            sink.warn("§1.5.B2",
                      where + "device class '" + *device_class + "' without unit_of_measurement");
        }
    }
    // B1: state_class impossible for the device class.
    const auto& classes = device_class_state_classes();
    if (const auto allowed = classes.find(*device_class);
        allowed != classes.end() && state_class && !allowed->second.contains(*state_class)) {
        sink.warn("§1.5.B1", where + "state class '" + *state_class +
                                 "' is impossible considering device class '" + *device_class +
                                 "'" +
                                 (*device_class == "energy"
                                      ? " (unusable in the energy dashboard; use total_increasing)"
                                      : ""));
    }
    if ((*device_class == "enum" || *device_class == "date" || *device_class == "timestamp") &&
        unit) {
        sink.error("§1.5.A8", where + "device class '" + *device_class + "' cannot have a unit");
    }
}

// §1.3: default_entity_id = "<platform>.<object>" with a valid entity object id.
void check_default_entity_id(const Json& config, const std::string& platform, const Sink& sink,
                             const std::string& where) {
    if (!config.contains("default_entity_id")) return;
    static const std::regex re{R"(^([a-z0-9_]+)\.([a-z0-9]|[a-z0-9][a-z0-9_]*[a-z0-9])$)"};
    std::smatch m;
    const Json& v = config["default_entity_id"];
    const std::string text = v.is_string() ? v.get<std::string>() : std::string{};
    if (!v.is_string() || !std::regex_match(text, m, re) || text.find("__") != std::string::npos) {
        sink.error("§1.3", where + "default_entity_id '" + text +
                               "' is not a valid entity id (<domain>.<object_id>, lower case)");
    } else if (m[1].str() != platform) {
        sink.error("§1.3", where + "default_entity_id domain '" + m[1].str() +
                               "' does not match platform '" + platform + "'");
    }
}

// All §1.3/§1.5 rules for one (expanded) entity config of `platform`.
void check_entity(const std::string& platform, const Json& config, bool in_device_payload,
                  const Sink& sink, const std::string& where) {
    const auto keys = platform_keys().find(platform);
    if (keys == platform_keys().end()) {
        sink.warn("§1.5",
                  where + "platform '" + platform + "' is not validated in depth by this checker");
    }
    // Unknown keys (§1.2.7: silently removed by HA — almost always a typo or a wrong platform).
    for (auto it = config.begin(); it != config.end(); ++it) {
        const std::string& key = it.key();
        const bool known = common_keys().contains(key) ||
                           (keys != platform_keys().end() && keys->second.contains(key)) ||
                           (in_device_payload && key == "platform") || key == "~";
        if (!known && keys != platform_keys().end()) {
            sink.warn("§1.2.7", where + "unknown key '" + key + "' for platform " + platform +
                                    " (HA drops it silently)");
        }
    }
    // B4: object_id is deprecated (2025.10), stops working in 2026.4.
    if (config.contains("object_id")) {
        sink.warn("§1.5.B4", where + "'object_id' is deprecated; use default_entity_id");
    }
    check_default_entity_id(config, platform, sink, where);
    // unique_id: required for device components (A11), required in practice otherwise (§1.3).
    if (!config.contains("unique_id")) {
        if (in_device_payload) {
            sink.error("§1.5.A11", where + "entity component without unique_id");
        } else {
            sink.warn("§1.3", where +
                                  "no unique_id: the entity cannot be edited or linked to a "
                                  "device");
        }
    } else if (!config["unique_id"].is_string() || config["unique_id"].get<std::string>().empty()) {
        sink.error("§1.3", where + "unique_id must be a non-empty string");
    }
    if (config.contains("name") && !config["name"].is_string() && !config["name"].is_null()) {
        sink.error("§1.3", where + "name must be a string or null");
    }
    if (config.contains("origin")) {
        check_origin(config["origin"], sink, where);
    } else if (!in_device_payload) {
        sink.warn("§1.3", where + "no origin block (recommended; required in device discovery)");
    }
    if (config.contains("device")) {
        check_device(config["device"], sink, where);
        // §1.3: entity names must not repeat the device name.
        const Json& device = config["device"];
        if (device.is_object() && device.contains("name") && device["name"].is_string() &&
            config.contains("name") && config["name"].is_string()) {
            const std::string dev = device["name"].get<std::string>();
            const std::string name = config["name"].get<std::string>();
            if (!dev.empty() && name.starts_with(dev)) {
                sink.warn("§1.3", where + "entity name '" + name + "' repeats the device name");
            }
        }
        if (config.contains("name") && config["name"].is_null() &&
            (!device.is_object() || !device.contains("name"))) {
            sink.warn("§1.3", where + "name null (main feature) but the device has no name");
        }
    } else {
        sink.warn("§1.3", where + "no device block: the entity is not linked to a device");
    }
    check_availability(config, sink, where);
    // A5: qos, expire_after, suggested_display_precision.
    if (config.contains("qos")) {
        const Json& qos = config["qos"];
        if (!qos.is_number_integer() || qos.get<std::int64_t>() < 0 ||
            qos.get<std::int64_t>() > 2) {
            sink.error("§1.5.A5", where + "qos must be 0, 1 or 2");
        }
    }
    for (const char* key : {"expire_after", "suggested_display_precision", "off_delay"}) {
        if (config.contains(key) && !non_negative_int(config[key])) {
            sink.error("§1.5.A5", where + "'" + key + "' must be a non-negative integer");
        }
    }
    for (const char* key : {"enabled_by_default", "force_update", "optimistic", "retain"}) {
        if (config.contains(key) && !config[key].is_boolean()) {
            sink.error("§1.3", where + "'" + key + "' must be a boolean");
        }
    }
    for (const char* key : {"encoding", "payload_on", "payload_off", "state_on", "state_off",
                            "payload_available", "payload_not_available"}) {
        if (!is_string_or_absent(config, key)) {
            sink.error("§1.3", where + "'" + key + "' must be a string");
        }
    }
    if (config.contains("entity_category")) {
        const Json& cat = config["entity_category"];
        if (!cat.is_string() || (cat != "config" && cat != "diagnostic")) {
            sink.error("§1.3", where + "entity_category must be 'config' or 'diagnostic'");
        } else if (cat == "config" && (platform == "sensor" || platform == "binary_sensor")) {
            sink.error("§1.3", where + "a " + platform + " cannot have entity_category 'config'");
        }
    }
    if (config.contains("icon") &&
        (!config["icon"].is_string() ||
         config["icon"].get<std::string>().find(':') == std::string::npos)) {
        sink.error("§1.3", where + "icon must look like 'mdi:name'");
    }
    check_topic_value(config, "state_topic", false, sink, where);
    check_topic_value(config, "json_attributes_topic", false, sink, where);
    check_topic_value(config, "command_topic", true, sink, where);
    for (const char* key : {"value_template", "json_attributes_template", "command_template",
                            "last_reset_value_template"}) {
        check_template(config, key, sink, where);
    }

    if (platform == "sensor") {
        if (!config.contains("state_topic")) {
            sink.error("§1.5.A5", where + "sensor without state_topic");
        }
        check_sensor_classes(config, sink, where);
    } else if (platform == "binary_sensor") {
        if (!config.contains("state_topic")) {
            sink.error("§1.5.A5", where + "binary_sensor without state_topic");
        }
        if (config.contains("device_class") && !config["device_class"].is_null() &&
            (!config["device_class"].is_string() ||
             !binary_sensor_device_classes().contains(config["device_class"].get<std::string>()))) {
            sink.error("§1.5.A6", where + "device_class is not a binary_sensor device class");
        }
    } else if (platform == "switch") {
        if (!config.contains("command_topic")) {
            sink.error("§1.5.A5", where + "switch without command_topic");
        }
        if (config.contains("device_class") && !config["device_class"].is_null() &&
            config["device_class"] != "outlet" && config["device_class"] != "switch") {
            sink.error("§1.5.A6", where + "switch device_class must be 'outlet' or 'switch'");
        }
        if (config.contains("retain") && config["retain"] == true) {
            sink.warn("§1.3", where +
                                  "retained commands replay after a reconnect; keep retain "
                                  "false");
        }
        if (!config.contains("state_topic")) {
            sink.warn("§1.3", where + "switch without state_topic runs optimistically");
        }
    }
}

struct ParsedTopic {
    std::string component;
    std::string node;  // empty when absent
    std::string object;
};

std::optional<ParsedTopic> parse_topic(const std::string& prefix, std::string_view topic) {
    if (topic.size() <= prefix.size() + 1 || topic.substr(0, prefix.size()) != prefix ||
        topic[prefix.size()] != '/') {
        return std::nullopt;
    }
    const std::string rest{topic.substr(prefix.size() + 1)};
    std::smatch m;
    if (!std::regex_match(rest, m, topic_regex())) return std::nullopt;
    return ParsedTopic{m[1].str(), m[2].matched ? m[2].str() : std::string{}, m[3].str()};
}

// §1.5.A11 and §1.1: the device payload and each component with the shared options merged in.
void check_device_payload(const Json& root, const Sink& sink) {
    for (const char* key : {"device", "origin", "components"}) {
        if (!root.contains(key)) {
            sink.error("§1.5.A11", std::string{"device discovery without '"} + key + "'");
        }
    }
    for (auto it = root.begin(); it != root.end(); ++it) {
        if (!device_root_keys().contains(it.key())) {
            // DEVICE_DISCOVERY_SCHEMA allows no extra keys at the root: HA logs "Invalid MQTT
            // device discovery payload" and drops every component.
            sink.error("§1.5.A11", "key '" + it.key() +
                                       "' is not allowed at the root of a device payload "
                                       "(the whole payload is rejected)");
        }
    }
    if (root.contains("origin")) check_origin(root["origin"], sink, "");
    if (root.contains("device")) check_device(root["device"], sink, "");
    if (!root.contains("components")) return;
    const Json& components = root["components"];
    if (!components.is_object() || components.empty()) {
        sink.error("§1.5.A11", "'components' must be a non-empty object");
        return;
    }
    std::map<std::string, std::string> unique_ids;
    static const std::regex id_re{R"(^[a-zA-Z0-9_-]+$)"};
    for (auto it = components.begin(); it != components.end(); ++it) {
        const std::string where = "component '" + it.key() + "': ";
        if (!std::regex_match(it.key(), id_re)) {
            sink.error("§1.1", where + "component id may only contain letters, digits, _ and -");
        }
        const Json& component = *it;
        if (!component.is_object()) {
            sink.error("§1.5.A11", where + "component config must be an object");
            continue;
        }
        if (!component.contains("platform") || !component["platform"].is_string() ||
            !supported_components().contains(component["platform"].get<std::string>())) {
            sink.error("§1.5.A11", where + "component without a valid 'platform'");
            continue;
        }
        const std::string platform = component["platform"].get<std::string>();
        if (component.size() == 1) continue;  // {"platform": ...} alone = removal marker (§1.1)
        if (component.contains("device") || component.contains("origin")) {
            sink.error("§1.1", where + "device/origin cannot be overridden per component");
        }
        Json merged = component;
        for (const auto& key : shared_keys()) {
            if (root.contains(key) && !merged.contains(key)) merged[key] = root[key];
        }
        if (root.contains("device")) merged["device"] = root["device"];
        if (root.contains("origin")) merged["origin"] = root["origin"];
        if (platform == "device_automation" || platform == "tag") continue;
        check_entity(platform, merged, true, sink, where);
        if (merged.contains("unique_id") && merged["unique_id"].is_string()) {
            const std::string uid = merged["unique_id"].get<std::string>();
            if (const auto [pos, fresh] = unique_ids.emplace(uid, it.key()); !fresh) {
                sink.error("§1.3", where + "duplicate unique_id '" + uid + "' (also component '" +
                                       pos->second + "')");
            }
        }
    }
}

struct Identity {
    std::string unique_id;       // empty if none
    std::string discovery_hash;  // "<platform> <discovery id>"
    std::string label;           // topic[#component]
};

// The parsed topic and the expanded config of one retained discovery message; nullopt when the
// topic is not a discovery topic or the payload is empty or not a JSON object. Findings are
// dropped: check() reports them.
std::optional<std::pair<ParsedTopic, Json>> expanded(const std::string& prefix,
                                                     const std::string& topic,
                                                     const std::string& payload) {
    auto parsed = parse_topic(prefix, topic);
    if (!parsed || payload.empty()) return std::nullopt;
    const Json raw = Json::parse(payload, nullptr, false);
    if (!raw.is_object()) return std::nullopt;
    std::vector<Finding> ignored;
    return std::pair{std::move(*parsed), expand_config(raw, Sink{topic, &ignored}, "")};
}

std::vector<Identity> identities(const std::string& prefix, const std::string& topic,
                                 const std::string& payload) {
    std::vector<Identity> out;
    const auto message = expanded(prefix, topic, payload);
    if (!message) return out;
    const auto& [parsed, config] = *message;
    auto uid_of = [](const Json& c) {
        return c.contains("unique_id") && c["unique_id"].is_string()
                   ? c["unique_id"].get<std::string>()
                   : std::string{};
    };
    if (parsed.component == "device") {
        if (!config.contains("components") || !config["components"].is_object()) return out;
        const std::string& base_id = parsed.object;  // the node id of its components
        for (auto it = config["components"].begin(); it != config["components"].end(); ++it) {
            if (!it->is_object() || !it->contains("platform") || !(*it)["platform"].is_string() ||
                it->size() == 1) {
                continue;
            }
            const std::string object =
                parsed.node.empty() ? it.key() : parsed.node + "_" + it.key();
            out.push_back({uid_of(*it),
                           (*it)["platform"].get<std::string>() + " " + base_id + " " + object,
                           topic + "#" + it.key()});
        }
        return out;
    }
    const std::string id =
        parsed.node.empty() ? parsed.object : parsed.node + " " + parsed.object;
    out.push_back({uid_of(config), parsed.component + " " + id, topic});
    return out;
}


// --- §1.5.B3: rendering value templates on live states ---------------------------------------

struct Rendered {
    bool understood{false};  // the template has a form we can evaluate
    bool resolved{false};    // its path exists in the payload
    Json value;              // the value HA would get (before string conversion)
};

// "{{ value_json.a.b[2].c }}" or "{{ (value_json.x / 1000) | round(6) }}"; no template = payload.
Rendered render_template(const std::optional<std::string>& tpl, const std::string& payload) {
    Rendered r;
    if (!tpl) {
        r.understood = r.resolved = true;
        const Json parsed = Json::parse(payload, nullptr, false);
        r.value = !parsed.is_discarded() && parsed.is_number() ? parsed : Json(payload);
        return r;
    }
    static const std::regex form{
        R"(^\{\{\s*(\(\s*)?value_json((?:\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\])+)\s*(?:/\s*([0-9]+(?:\.[0-9]+)?)\s*)?(\))?\s*(?:\|\s*round\(\s*([0-9]+)\s*\))?\s*\}\}$)"};
    std::smatch m;
    if (!std::regex_match(*tpl, m, form) || m[1].matched != m[4].matched) return r;
    r.understood = true;
    const Json json = Json::parse(payload, nullptr, false);
    if (json.is_discarded()) return r;
    const Json* at = &json;
    static const std::regex step{R"(\.([A-Za-z_][A-Za-z0-9_]*)|\[([0-9]+)\])"};
    const std::string path = m[2].str();
    for (auto it = std::sregex_iterator(path.begin(), path.end(), step);
         it != std::sregex_iterator(); ++it) {
        if ((*it)[1].matched) {
            if (!at->is_object() || !at->contains((*it)[1].str())) return r;
            at = &(*at)[(*it)[1].str()];
        } else {
            const auto index = std::stoul((*it)[2].str());
            if (!at->is_array() || index >= at->size()) return r;
            at = &(*at)[index];
        }
    }
    r.resolved = true;
    r.value = *at;
    if (m[3].matched) {
        if (!at->is_number()) {
            r.value = nullptr;  // division of a non-number: a template error in HA
            r.resolved = false;
            return r;
        }
        r.value = at->get<double>() / std::stod(m[3].str());
    }
    return r;
}

std::optional<std::string> string_key(const Json& config, const char* key) {
    if (config.contains(key) && config[key].is_string()) return config[key].get<std::string>();
    return std::nullopt;
}

// Every entity config (platform, expanded config with device-level shared options merged in)
// of one retained discovery message.
std::vector<std::pair<std::string, Json>> entities_of(const std::string& prefix,
                                                      const std::string& topic,
                                                      const std::string& payload) {
    std::vector<std::pair<std::string, Json>> out;
    const auto message = expanded(prefix, topic, payload);
    if (!message) return out;
    const auto& [parsed, config] = *message;
    if (parsed.component != "device") {
        out.emplace_back(parsed.component, config);
        return out;
    }
    if (!config.contains("components") || !config["components"].is_object()) return out;
    for (auto it = config["components"].begin(); it != config["components"].end(); ++it) {
        if (!it->is_object() || it->size() <= 1 || !it->contains("platform") ||
            !(*it)["platform"].is_string()) {
            continue;
        }
        Json merged = *it;
        for (const auto& key : shared_keys()) {
            if (config.contains(key) && !merged.contains(key)) merged[key] = config[key];
        }
        out.emplace_back((*it)["platform"].get<std::string>(), merged);
    }
    return out;
}

bool numeric_sensor(const Json& config) {
    static const Set non_numeric{"enum", "date", "timestamp"};
    const auto device_class = string_key(config, "device_class");
    if (device_class && non_numeric.contains(*device_class)) return false;
    return device_class || string_key(config, "state_class") ||
           string_key(config, "unit_of_measurement");
}

// HA compares the rendered template as a string; a JSON string renders as itself.
std::optional<std::string> as_text(const Json& value) {
    if (value.is_string()) return value.get<std::string>();
    return std::nullopt;
}

void check_entity_state(const std::string& platform, const Json& config,
                        const std::map<std::string, std::string>& states, const Sink& sink,
                        const std::string& where) {
    const auto state_topic = string_key(config, "state_topic");
    if (state_topic && (platform == "sensor" || platform == "binary_sensor" ||
                        platform == "switch")) {
        const auto state = states.find(*state_topic);
        if (state == states.end() || state->second.empty()) {
            sink.error("§1.5.B3", where + "no state was published on '" + *state_topic + "'");
        } else {
            const Rendered r = render_template(string_key(config, "value_template"),
                                               state->second);
            if (!r.understood) {
                sink.warn("§1.5.B3", where + "value_template not evaluated by the checker");
            } else if (!r.resolved) {
                sink.error("§1.5.B3", where + "value_template does not resolve on " +
                                          *state_topic + ": " + state->second);
            } else if (platform == "sensor") {
                if (numeric_sensor(config)) {
                    if (r.value.is_null()) {
                        sink.warn("§1.5.B3", where + "numeric sensor renders None (unknown)");
                    } else if (!r.value.is_number()) {
                        sink.error("§1.5.B3",
                                   where + "numeric sensor gets a non-number: " + r.value.dump());
                    }
                } else if (!r.value.is_primitive() || r.value.is_null()) {
                    sink.error("§1.5.B3", where + "sensor gets no scalar: " + r.value.dump());
                }
            } else {
                // state_on/state_off default to payload_on/payload_off ("ON"/"OFF").
                const std::string on = string_key(config, "state_on")
                                           .value_or(string_key(config, "payload_on").value_or("ON"));
                const std::string off =
                    string_key(config, "state_off")
                        .value_or(string_key(config, "payload_off").value_or("OFF"));
                const auto text = as_text(r.value);
                if (!text || (*text != on && *text != off)) {
                    sink.error("§1.5.B3", where + platform + " state " + r.value.dump() +
                                              " matches neither '" + on + "' nor '" + off + "'");
                }
            }
        }
    }
    if (!config.contains("availability") || !config["availability"].is_array()) return;
    for (const auto& item : config["availability"]) {
        if (!item.is_object()) continue;
        const auto topic = string_key(item, "topic");
        if (!topic) continue;
        const auto state = states.find(*topic);
        if (state == states.end() || state->second.empty()) {
            sink.error("§1.5.B3", where + "no availability was published on '" + *topic + "'");
            continue;
        }
        const Rendered r = render_template(string_key(item, "value_template"), state->second);
        const std::string on = string_key(item, "payload_available").value_or("online");
        const std::string off = string_key(item, "payload_not_available").value_or("offline");
        const auto text = r.resolved ? as_text(r.value) : std::nullopt;
        if (!r.understood) {
            sink.warn("§1.5.B3", where + "availability value_template not evaluated");
        } else if (!text || (*text != on && *text != off)) {
            sink.error("§1.5.B3", where + "availability on '" + *topic + "' renders " +
                                      (r.resolved ? r.value.dump() : std::string{"nothing"}) +
                                      ", neither '" + on + "' nor '" + off + "'");
        }
    }
}
}  // namespace

std::string Finding::describe() const {
    std::ostringstream out;
    out << (severity == Severity::Error ? "error" : "warning") << " [" << rule << "] " << topic
        << ": " << message;
    return out.str();
}

std::ostream& operator<<(std::ostream& out, const Finding& finding) {
    return out << finding.describe();
}

HaChecker::HaChecker(std::string discovery_prefix) : prefix_(std::move(discovery_prefix)) {}

std::vector<Finding> HaChecker::check(std::string_view topic, std::string_view payload) const {
    std::vector<Finding> findings;
    const Sink sink{std::string{topic}, &findings};
    // §1.5.A1: topic form under the prefix, supported component.
    const auto parsed = parse_topic(prefix_, topic);
    if (!parsed) {
        sink.error("§1.5.A1", "illegal discovery topic: expected " + prefix_ +
                                  "/<component>/[<node_id>/]<object_id>/config with ids of "
                                  "[a-zA-Z0-9_-]");
        return findings;
    }
    const bool device_form = parsed->component == "device";
    if (!device_form && !supported_components().contains(parsed->component)) {
        sink.error("§1.5.A1", "unsupported component '" + parsed->component + "'");
        return findings;
    }
    // §1.2.1: an empty payload removes the config.
    if (payload.empty()) return findings;
    // §1.5.A1 / §1.2.2: the payload must be a JSON object.
    const Json raw = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (raw.is_discarded() || !raw.is_object()) {
        sink.error("§1.5.A1", "payload is not a JSON object");
        return findings;
    }
    const Json config = expand_config(raw, sink, "");
    // §1.1: {"migrate_discovery": true} alone is a migration marker.
    if (config.contains("migrate_discovery")) {
        if (config.size() != 1 || config["migrate_discovery"] != true) {
            sink.warn("§1.1",
                      "migrate_discovery must be sent alone as {\"migrate_discovery\": true}");
        }
        return findings;
    }
    if (device_form) {
        check_device_payload(config, sink);
    } else {
        if (config.contains("components")) {
            sink.error("§1.1", "'components' only belongs in a <prefix>/device/... payload");
        }
        check_entity(parsed->component, config, false, sink, "");
    }
    return findings;
}

std::vector<Finding> HaChecker::check_all(const std::vector<ConfigMessage>& messages) const {
    std::vector<Finding> findings;
    std::map<std::string, std::string> retained;  // topic -> last payload, in topic order
    for (const auto& m : messages) {
        auto one = check(m.topic, m.payload);
        findings.insert(findings.end(), one.begin(), one.end());
        if (m.payload.empty()) {
            retained.erase(m.topic);
        } else {
            retained[m.topic] = m.payload;
        }
    }
    // Cross-message rules on what stays retained: a unique_id or discovery id used twice means
    // HA refuses the second entity ("ID already exists") or two topics fight over one entity.
    std::map<std::string, std::string> by_uid;
    std::map<std::string, std::string> by_hash;
    for (const auto& [topic, payload] : retained) {
        for (const auto& id : identities(prefix_, topic, payload)) {
            if (!id.unique_id.empty()) {
                if (const auto [pos, fresh] = by_uid.emplace(id.unique_id, id.label);
                    !fresh && pos->second.substr(0, pos->second.find('#')) != topic) {
                    findings.push_back({Severity::Error, topic, "§1.3",
                                        "duplicate unique_id '" + id.unique_id + "' in " +
                                            id.label + " and " + pos->second});
                }
            }
            if (const auto [pos, fresh] = by_hash.emplace(id.discovery_hash, id.label);
                !fresh && pos->second.substr(0, pos->second.find('#')) != topic) {
                findings.push_back({Severity::Error, topic, "§1.1",
                                    "discovery id '" + id.discovery_hash + "' used by " + id.label +
                                        " and " + pos->second});
            }
        }
    }
    return findings;
}

std::vector<Finding> HaChecker::check_states(
    const std::vector<ConfigMessage>& configs,
    const std::map<std::string, std::string>& states) const {
    std::map<std::string, std::string> retained;
    for (const auto& m : configs) {
        if (m.payload.empty()) {
            retained.erase(m.topic);
        } else {
            retained[m.topic] = m.payload;
        }
    }
    std::vector<Finding> findings;
    for (const auto& [topic, payload] : retained) {
        const Sink sink{topic, &findings};
        for (const auto& [platform, config] : entities_of(prefix_, topic, payload)) {
            const std::string where = string_key(config, "unique_id").value_or(platform) + ": ";
            check_entity_state(platform, config, states, sink, where);
        }
    }
    return findings;
}

std::size_t HaChecker::count(const std::vector<Finding>& findings, Severity severity) {
    return static_cast<std::size_t>(
        std::count_if(findings.begin(), findings.end(),
                      [severity](const Finding& f) { return f.severity == severity; }));
}

}  // namespace intelergy::test
