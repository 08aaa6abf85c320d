#include "support/ha_checker.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace intelergy::test {
namespace {

using Json = nlohmann::json;

const std::string SENSOR_TOPIC = "homeassistant/sensor/shelly-aabbccddeeff/ch0_power/config";
const std::string SWITCH_TOPIC = "homeassistant/switch/shelly-aabbccddeeff/ch0_relay/config";
const std::string DEVICE_TOPIC = "homeassistant/device/shelly-aabbccddeeff/config";

Json device_block() {
    return {{"identifiers", {"intelergy_shelly-aabbccddeeff"}},
            {"connections", Json::array({Json::array({"mac", "aa:bb:cc:dd:ee:ff"})})},
            {"name", "Kettle"},
            {"manufacturer", "Shelly"},
            {"configuration_url", "http://192.168.1.40/"},
            {"via_device", "intelergy_bridge_intelergy"}};
}
Json origin_block() {
    return {
        {"name", "Intelergy"}, {"sw_version", "0.1.0"}, {"support_url", "https://example.org/"}};
}
Json availability() {
    return Json::array(
        {{{"topic", "intelergy/bridge/state"}, {"value_template", "{{ value_json.state }}"}},
         {{"topic", "intelergy/devices/shelly-aabbccddeeff/availability"}}});
}

// A valid single-component power sensor; each test breaks one thing.
Json power_sensor() {
    return {{"name", "Power"},
            {"unique_id", "intelergy_aabbccddeeff_ch0_power"},
            {"state_topic", "intelergy/devices/shelly-aabbccddeeff/state"},
            {"value_template", "{{ value_json.power_w }}"},
            {"device_class", "power"},
            {"state_class", "measurement"},
            {"unit_of_measurement", "W"},
            {"availability", availability()},
            {"availability_mode", "all"},
            {"device", device_block()},
            {"origin", origin_block()}};
}

Json relay_switch() {
    return {{"name", nullptr},
            {"unique_id", "intelergy_aabbccddeeff_ch0_relay"},
            {"state_topic", "intelergy/devices/shelly-aabbccddeeff/state"},
            {"value_template", "{{ value_json.relay }}"},
            {"command_topic", "intelergy/devices/shelly-aabbccddeeff/set"},
            {"device_class", "outlet"},
            {"availability", availability()},
            {"availability_mode", "all"},
            {"device", device_block()},
            {"origin", origin_block()}};
}

Json device_payload() {
    Json power = power_sensor();
    for (const char* key : {"availability", "availability_mode", "device", "origin"}) {
        power.erase(key);
    }
    power["platform"] = "sensor";
    Json relay = relay_switch();
    for (const char* key : {"availability", "availability_mode", "device", "origin"}) {
        relay.erase(key);
    }
    relay["platform"] = "switch";
    return {{"device", device_block()},
            {"origin", origin_block()},
            {"availability", availability()},
            {"availability_mode", "all"},
            {"components", {{"ch0_power", power}, {"ch0_relay", relay}}}};
}

std::vector<Finding> check(const std::string& topic, const Json& payload) {
    return HaChecker{}.check(topic, payload.dump());
}

// True when exactly the expected kind of finding for `rule` is present.
bool has(const std::vector<Finding>& findings, Severity severity, const std::string& rule) {
    for (const auto& f : findings) {
        if (f.severity == severity && f.rule == rule) return true;
    }
    return false;
}

std::string dump(const std::vector<Finding>& findings) {
    std::string out;
    for (const auto& f : findings) out += f.describe() + "\n";
    return out;
}

#define EXPECT_FINDING(findings, severity, rule)                                    \
    EXPECT_TRUE(has(findings, severity, rule)) << "expected " << rule << ", got:\n" \
                                               << dump(findings)

TEST(HaChecker, ValidBaselinesHaveNoFindings) {
    EXPECT_EQ(dump(check(SENSOR_TOPIC, power_sensor())), "");
    EXPECT_EQ(dump(check(SWITCH_TOPIC, relay_switch())), "");
    EXPECT_EQ(dump(check(DEVICE_TOPIC, device_payload())), "");
}

TEST(HaChecker, EmptyPayloadIsARemoval) {
    EXPECT_TRUE(HaChecker{}.check(SENSOR_TOPIC, "").empty());
    EXPECT_TRUE(HaChecker{}.check(DEVICE_TOPIC, "").empty());
}

// §1.5.A1
TEST(HaChecker, BadTopicForms) {
    const Json p = power_sensor();
    for (const std::string topic :
         {"homeassistant/sensor/shelly.aabb/ch0_power/config",          // dot in node id
          "homeassistant/sensor/shelly-aabb/ch0:power/config",          // colon in object id
          "homeassistant/sensor/a/b/c/config",                          // too deep
          "homeassistant/sensor/config",                                // no object id
          "homeassistant/sensor/shelly-aabb/ch0_power/state",           // not .../config
          "other/sensor/shelly-aabb/ch0_power/config",                  // wrong prefix
          "homeassistant/sensor/shelly aabb/ch0_power/config",          // space
          "homeassistant/frobnicator/shelly-aabb/ch0_power/config"}) {  // unsupported component
        EXPECT_FINDING(check(topic, p), Severity::Error, "§1.5.A1") << topic;
    }
    EXPECT_TRUE(check("homeassistant/sensor/ch0_power/config", p).empty());  // node optional
}

TEST(HaChecker, PayloadMustBeAJsonObject) {
    EXPECT_FINDING(HaChecker{}.check(SENSOR_TOPIC, "not json"), Severity::Error, "§1.5.A1");
    EXPECT_FINDING(HaChecker{}.check(SENSOR_TOPIC, "[1,2]"), Severity::Error, "§1.5.A1");
    EXPECT_FINDING(HaChecker{}.check(SENSOR_TOPIC, "\"online\""), Severity::Error, "§1.5.A1");
}

// §1.5.A2
TEST(HaChecker, OriginRules) {
    Json p = power_sensor();
    p["origin"].erase("name");
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A2");
    p = power_sensor();
    p["origin"]["support_url"] = "not a url";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A2");
    p = power_sensor();
    p["origin"]["sw_version"] = 1;
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A2");
    p = power_sensor();
    p.erase("origin");
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Warning, "§1.3");
    p = power_sensor();
    p["origin"]["version"] = "1.0";  // the origin schema allows no extra keys
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A2");
}

// §1.5.A3
TEST(HaChecker, DeviceRules) {
    Json p = power_sensor();
    p["device"].erase("identifiers");
    p["device"].erase("connections");
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A3");
    p = power_sensor();
    p["device"]["connections"] = Json::array({Json::array({"mac"})});
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A3");
    p = power_sensor();
    p["device"]["configuration_url"] = "192.168.1.40";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A3");
    p = power_sensor();
    p["device"]["identifiers"] = Json::array();
    p["device"]["connections"] = Json::array();
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A3");
    p = power_sensor();
    p["device"]["colour"] = "red";  // the device schema allows no extra keys
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A3");
    p = power_sensor();
    p.erase("device");
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Warning, "§1.3");
    p = power_sensor();
    p["device"]["configuration_url"] = "homeassistant://config/integrations";
    EXPECT_TRUE(check(SENSOR_TOPIC, p).empty());
}

// §1.5.A4
TEST(HaChecker, AvailabilityRules) {
    Json p = power_sensor();
    p["availability_topic"] = "intelergy/bridge/state";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A4");
    p = power_sensor();
    p["availability"][1].erase("topic");
    p["availability"][1]["payload_available"] = "online";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A4");
    p = power_sensor();
    p["availability_mode"] = "both";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A4");
    p = power_sensor();
    p["availability"] = Json::array();
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A4");
    p = power_sensor();
    p["availability"][0]["topic"] = "intelergy/#/state";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A5");
    p = power_sensor();
    p.erase("availability");
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Warning, "§1.5.A4");  // mode without list
    p = power_sensor();
    p["availability"][1]["qos"] = 1;  // the item schema allows no extra keys
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A4");
}

// §1.5.A5
TEST(HaChecker, RequiredKeysAndValueTypes) {
    Json p = power_sensor();
    p.erase("state_topic");
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A5");
    Json s = relay_switch();
    s.erase("command_topic");
    EXPECT_FINDING(check(SWITCH_TOPIC, s), Severity::Error, "§1.5.A5");
    s = relay_switch();
    s["command_topic"] = "intelergy/devices/+/set";
    EXPECT_FINDING(check(SWITCH_TOPIC, s), Severity::Error, "§1.5.A5");
    p = power_sensor();
    p["qos"] = 3;
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A5");
    p = power_sensor();
    p["expire_after"] = -1;
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A5");
    p = power_sensor();
    p["suggested_display_precision"] = 1.5;
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A5");
    p = power_sensor();
    p["state_topic"] = "";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A5");
    const Json binary = {{"name", "Connection state"},
                         {"unique_id", "x_connection_state"},
                         {"device_class", "connectivity"},
                         {"device", device_block()},
                         {"origin", origin_block()}};
    EXPECT_FINDING(check("homeassistant/binary_sensor/x/connection_state/config", binary),
                   Severity::Error, "§1.5.A5");
}

// §1.5.A6
TEST(HaChecker, DeviceAndStateClassMustBeKnown) {
    Json p = power_sensor();
    p["device_class"] = "wattage";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A6");
    p = power_sensor();
    p["state_class"] = "increasing";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A6");
    Json s = relay_switch();
    s["device_class"] = "plug";
    EXPECT_FINDING(check(SWITCH_TOPIC, s), Severity::Error, "§1.5.A6");
    p = power_sensor();
    p["device_class"] = "POWER";  // HA lower-cases it
    EXPECT_TRUE(check(SENSOR_TOPIC, p).empty()) << dump(check(SENSOR_TOPIC, p));
}

// §1.5.A7
TEST(HaChecker, LastResetOnlyWithTotal) {
    Json p = power_sensor();
    p["device_class"] = "energy";
    p["unit_of_measurement"] = "kWh";
    p["state_class"] = "total_increasing";
    p["last_reset_value_template"] = "{{ value_json.last_reset }}";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A7");
    p["state_class"] = "total";
    EXPECT_TRUE(check(SENSOR_TOPIC, p).empty()) << dump(check(SENSOR_TOPIC, p));
}

// §1.5.A8
TEST(HaChecker, OptionsOnlyForEnum) {
    Json p = power_sensor();
    p["options"] = Json::array({"a", "b"});
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A8");
    Json e = power_sensor();
    e["device_class"] = "enum";
    e.erase("state_class");
    e.erase("unit_of_measurement");
    e["options"] = Json::array();
    EXPECT_FINDING(check(SENSOR_TOPIC, e), Severity::Error, "§1.5.A8");
    e["options"] = Json::array({"idle", "running"});
    EXPECT_TRUE(check(SENSOR_TOPIC, e).empty()) << dump(check(SENSOR_TOPIC, e));
}

// §1.5.A9
TEST(HaChecker, MeasurementAngleNeedsDegrees) {
    Json p = power_sensor();
    p.erase("device_class");
    p["state_class"] = "measurement_angle";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A9");
    p["unit_of_measurement"] = "°";
    EXPECT_TRUE(check(SENSOR_TOPIC, p).empty()) << dump(check(SENSOR_TOPIC, p));
}

// §1.5.A10 + §1.5.C
TEST(HaChecker, UnitMustMatchDeviceClass) {
    const std::vector<std::tuple<std::string, std::string, std::string>> bad{
        {"power", "Watt", "measurement"},      {"power", "w", "measurement"},
        {"energy", "KWh", "total_increasing"}, {"energy", "W", "total_increasing"},
        {"voltage", "v", "measurement"},       {"current", "mAh", "measurement"},
        {"temperature", "C", "measurement"},   {"frequency", "hz", "measurement"}};
    for (const auto& [cls, unit, state] : bad) {
        Json p = power_sensor();
        p["device_class"] = cls;
        p["unit_of_measurement"] = unit;
        p["state_class"] = state;
        EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.5.A10") << cls << " " << unit;
    }
    const std::vector<std::tuple<std::string, std::string, std::string>> good{
        {"power", "kW", "measurement"},
        {"energy", "Wh", "total_increasing"},
        {"energy", "MWh", "total"},
        {"voltage", "V", "measurement"},
        {"voltage", "\xCE\xBCV", "measurement"},  // Greek mu, normalised to the micro sign
        {"current", "A", "measurement"},
        {"temperature", "°F", "measurement"}};
    for (const auto& [cls, unit, state] : good) {
        Json p = power_sensor();
        p["device_class"] = cls;
        p["unit_of_measurement"] = unit;
        p["state_class"] = state;
        EXPECT_TRUE(check(SENSOR_TOPIC, p).empty()) << cls << " " << unit << "\n"
                                                    << dump(check(SENSOR_TOPIC, p));
    }
}

// §1.5.B1 / B2
TEST(HaChecker, StateClassAndMissingUnitWarnings) {
    Json p = power_sensor();
    p["device_class"] = "energy";
    p["unit_of_measurement"] = "kWh";
    p["state_class"] = "measurement";  // the energy-dashboard classic
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Warning, "§1.5.B1");
    p = power_sensor();
    p["state_class"] = "total_increasing";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Warning, "§1.5.B1");
    p = power_sensor();
    p.erase("unit_of_measurement");
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Warning, "§1.5.B2");
}

// §1.5.B4
TEST(HaChecker, DeprecatedObjectId) {
    Json p = power_sensor();
    p["object_id"] = "kettle_power";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Warning, "§1.5.B4");
    p = power_sensor();
    p["obj_id"] = "kettle_power";  // abbreviated form too
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Warning, "§1.5.B4");
}

TEST(HaChecker, DefaultEntityId) {
    Json p = power_sensor();
    p["default_entity_id"] = "sensor.kettle_power";
    EXPECT_TRUE(check(SENSOR_TOPIC, p).empty()) << dump(check(SENSOR_TOPIC, p));
    p["default_entity_id"] = "switch.kettle_power";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.3");
    p["default_entity_id"] = "sensor.Kettle Power";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.3");
    p["default_entity_id"] = "kettle_power";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.3");
}

// §1.2.4 / §1.2.7
TEST(HaChecker, AbbreviationsAndUnknownKeys) {
    const Json abbreviated = {
        {"name", "Power"},
        {"uniq_id", "intelergy_aabbccddeeff_ch0_power"},
        {"stat_t", "~/state"},
        {"~", "intelergy/devices/shelly-aabbccddeeff"},
        {"val_tpl", "{{ value_json.power_w }}"},
        {"dev_cla", "power"},
        {"stat_cla", "measurement"},
        {"unit_of_meas", "W"},
        {"avty",
         Json::array({{{"t", "intelergy/bridge/state"}, {"val_tpl", "{{ value_json.state }}"}},
                      {{"t", "~/availability"}}})},
        {"avty_mode", "all"},
        {"dev", {{"ids", {"intelergy_shelly-aabbccddeeff"}}, {"name", "Kettle"}, {"mf", "Shelly"}}},
        {"o", {{"name", "Intelergy"}, {"sw", "0.1.0"}, {"url", "https://example.org/"}}}};
    EXPECT_EQ(dump(check(SENSOR_TOPIC, abbreviated)), "");
    Json both = abbreviated;
    both["state_topic"] = "intelergy/x";
    EXPECT_FINDING(check(SENSOR_TOPIC, both), Severity::Error, "§1.2.4");
    Json typo = power_sensor();
    typo["unit_of_measure"] = "W";
    EXPECT_FINDING(check(SENSOR_TOPIC, typo), Severity::Warning, "§1.2.7");
    Json wrong_platform = power_sensor();
    wrong_platform["command_topic"] = "intelergy/set";
    EXPECT_FINDING(check(SENSOR_TOPIC, wrong_platform), Severity::Warning, "§1.2.7");
    Json bad_template = power_sensor();
    bad_template["value_template"] = "{{ value_json.power_w }";
    EXPECT_FINDING(check(SENSOR_TOPIC, bad_template), Severity::Error, "§1.2.7");
}

TEST(HaChecker, EntityConventions) {
    Json p = power_sensor();
    p.erase("unique_id");
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Warning, "§1.3");
    p = power_sensor();
    p["name"] = "Kettle power";  // repeats the device name
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Warning, "§1.3");
    p = power_sensor();
    p["entity_category"] = "config";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.3");
    p = power_sensor();
    p["entity_category"] = "diagnostics";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.3");
    p = power_sensor();
    p["icon"] = "flash";
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.3");
    Json s = relay_switch();
    s["retain"] = true;
    EXPECT_FINDING(check(SWITCH_TOPIC, s), Severity::Warning, "§1.3");
}

// §1.5.A11 and §1.1
TEST(HaChecker, DeviceDiscoveryRules) {
    for (const char* key : {"device", "origin", "components"}) {
        Json d = device_payload();
        d.erase(key);
        EXPECT_FINDING(check(DEVICE_TOPIC, d), Severity::Error, "§1.5.A11") << key;
    }
    Json d = device_payload();
    d["components"]["ch0_power"].erase("platform");
    EXPECT_FINDING(check(DEVICE_TOPIC, d), Severity::Error, "§1.5.A11");
    d = device_payload();
    d["components"]["ch0_power"]["platform"] = "gauge";
    EXPECT_FINDING(check(DEVICE_TOPIC, d), Severity::Error, "§1.5.A11");
    d = device_payload();
    d["components"]["ch0_power"].erase("unique_id");
    EXPECT_FINDING(check(DEVICE_TOPIC, d), Severity::Error, "§1.5.A11");
    d = device_payload();
    d["components"]["ch0_relay"]["unique_id"] = "intelergy_aabbccddeeff_ch0_power";
    EXPECT_FINDING(check(DEVICE_TOPIC, d), Severity::Error, "§1.3");
    d = device_payload();
    d["components"]["ch0_power"]["device"] = device_block();
    EXPECT_FINDING(check(DEVICE_TOPIC, d), Severity::Error, "§1.1");
    d = device_payload();
    d["components"]["ch0.power"] = d["components"]["ch0_power"];
    d["components"].erase("ch0_power");
    EXPECT_FINDING(check(DEVICE_TOPIC, d), Severity::Error, "§1.1");
    d = device_payload();
    d["unit_of_measurement"] = "W";  // not a shared option: the whole payload is rejected
    EXPECT_FINDING(check(DEVICE_TOPIC, d), Severity::Error, "§1.5.A11");
    // Shared availability is inherited: a component adding availability_topic conflicts.
    d = device_payload();
    d["components"]["ch0_power"]["availability_topic"] = "intelergy/x";
    EXPECT_FINDING(check(DEVICE_TOPIC, d), Severity::Error, "§1.5.A4");
    // The component removal marker is valid.
    d = device_payload();
    d["components"]["ch0_power"] = {{"platform", "sensor"}};
    EXPECT_EQ(dump(check(DEVICE_TOPIC, d)), "");
    // components in a single-component payload
    Json p = power_sensor();
    p["components"] = Json::object();
    EXPECT_FINDING(check(SENSOR_TOPIC, p), Severity::Error, "§1.1");
    // Migration marker alone is fine.
    EXPECT_TRUE(HaChecker{}.check(SENSOR_TOPIC, R"({"migrate_discovery": true})").empty());
}

// §1.5.B3 on live data: templates rendered on the states the entities read.
TEST(HaChecker, StatesRenderThroughTheTemplates) {
    const std::string state_topic = "intelergy/devices/shelly-aabbccddeeff/state";
    std::map<std::string, std::string> states{
        {state_topic, R"({"power_w":61.4,"energy_wh":2057.5,"relay":"ON"})"},
        {"intelergy/bridge/state", R"({"state":"online"})"},
        {"intelergy/devices/shelly-aabbccddeeff/availability", "online"}};
    Json d = device_payload();
    d["components"]["ch0_energy"] = {
        {"platform", "sensor"},
        {"unique_id", "intelergy_aabbccddeeff_ch0_energy"},
        {"state_topic", state_topic},
        {"value_template", "{{ (value_json.energy_wh / 1000) | round(6) }}"},
        {"device_class", "energy"},
        {"state_class", "total_increasing"},
        {"unit_of_measurement", "kWh"}};
    const std::vector<ConfigMessage> configs{{DEVICE_TOPIC, d.dump()}};
    const HaChecker checker;
    EXPECT_EQ(dump(checker.check_all(configs)), "");
    EXPECT_EQ(dump(checker.check_states(configs, states)), "");

    auto broken = states;
    broken.erase(state_topic);
    EXPECT_FINDING(checker.check_states(configs, broken), Severity::Error, "§1.5.B3");
    broken = states;
    broken[state_topic] = R"({"power_w":"61.4 W","energy_wh":2057.5,"relay":"ON"})";
    EXPECT_FINDING(checker.check_states(configs, broken), Severity::Error, "§1.5.B3");
    broken[state_topic] = R"({"energy_wh":2057.5,"relay":"ON"})";  // no power_w
    EXPECT_FINDING(checker.check_states(configs, broken), Severity::Error, "§1.5.B3");
    broken[state_topic] = R"({"power_w":61.4,"energy_wh":"x","relay":"ON"})";
    EXPECT_FINDING(checker.check_states(configs, broken), Severity::Error, "§1.5.B3");
    broken[state_topic] = R"({"power_w":61.4,"energy_wh":2057.5,"relay":true})";
    EXPECT_FINDING(checker.check_states(configs, broken), Severity::Error, "§1.5.B3");
    broken[state_topic] = R"({"power_w":null,"energy_wh":2057.5,"relay":"OFF"})";
    EXPECT_FINDING(checker.check_states(configs, broken), Severity::Warning, "§1.5.B3");
    broken = states;
    broken["intelergy/bridge/state"] = "online";  // not JSON: value_json.state is undefined
    EXPECT_FINDING(checker.check_states(configs, broken), Severity::Error, "§1.5.B3");
    broken = states;
    broken["intelergy/devices/shelly-aabbccddeeff/availability"] = "true";
    EXPECT_FINDING(checker.check_states(configs, broken), Severity::Error, "§1.5.B3");

    // Channel paths, and a template form the checker does not evaluate.
    Json strip = device_payload();
    strip["components"]["ch0_power"]["value_template"] = "{{ value_json.channels[1].power_w }}";
    const std::vector<ConfigMessage> strip_configs{{DEVICE_TOPIC, strip.dump()}};
    auto strip_states = states;
    strip_states[state_topic] = R"({"relay":"OFF","channels":[{"power_w":1},{"power_w":2.5}]})";
    EXPECT_EQ(dump(checker.check_states(strip_configs, strip_states)), "");
    strip_states[state_topic] = R"({"relay":"OFF","channels":[{"power_w":1}]})";
    EXPECT_FINDING(checker.check_states(strip_configs, strip_states), Severity::Error, "§1.5.B3");
    strip["components"]["ch0_power"]["value_template"] = "{{ value_json.power_w | float(0) }}";
    EXPECT_FINDING(checker.check_states({{DEVICE_TOPIC, strip.dump()}}, states), Severity::Warning,
                   "§1.5.B3");
    // A removed config is not checked.
    EXPECT_TRUE(checker.check_states({{DEVICE_TOPIC, d.dump()}, {DEVICE_TOPIC, ""}}, {}).empty());
}

TEST(HaChecker, CheckAllFindsDuplicateUniqueIdsAcrossTopics) {
    Json other = power_sensor();
    const std::string other_topic = "homeassistant/sensor/shelly-aabbccddeeff/power/config";
    auto findings = HaChecker{}.check_all(std::vector<ConfigMessage>{
        {SENSOR_TOPIC, power_sensor().dump()}, {other_topic, other.dump()}});
    EXPECT_FINDING(findings, Severity::Error, "§1.3");

    // Re-publishing the same topic is an update, not a duplicate.
    findings = HaChecker{}.check_all(std::vector<ConfigMessage>{
        {SENSOR_TOPIC, power_sensor().dump()}, {SENSOR_TOPIC, power_sensor().dump()}});
    EXPECT_EQ(dump(findings), "");

    // A cleared topic no longer counts.
    findings = HaChecker{}.check_all(std::vector<ConfigMessage>{
        {SENSOR_TOPIC, power_sensor().dump()}, {SENSOR_TOPIC, ""}, {other_topic, other.dump()}});
    EXPECT_EQ(dump(findings), "");

    // Device form and entity form of the same entity: same unique_id and discovery id.
    findings = HaChecker{}.check_all(std::vector<ConfigMessage>{
        {SENSOR_TOPIC, power_sensor().dump()}, {DEVICE_TOPIC, device_payload().dump()}});
    EXPECT_FINDING(findings, Severity::Error, "§1.3");
    EXPECT_FINDING(findings, Severity::Error, "§1.1");
}

TEST(HaChecker, CustomPrefix) {
    const HaChecker checker{"ha"};
    EXPECT_TRUE(
        checker.check("ha/sensor/shelly-aabbccddeeff/ch0_power/config", power_sensor().dump())
            .empty());
    EXPECT_FINDING(checker.check(SENSOR_TOPIC, power_sensor().dump()), Severity::Error, "§1.5.A1");
}

}  // namespace
}  // namespace intelergy::test
