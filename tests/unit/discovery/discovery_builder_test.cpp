#include "intelergy/discovery/discovery_builder.hpp"

#include "support/ha_checker.hpp"

#include <intelergy/version.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace intelergy::discovery {
namespace {

using Json = nlohmann::ordered_json;
using config::DiscoveryMode;
using config::EnergyUnit;
using config::HomeAssistantConfig;
using test::HaChecker;
using test::Severity;

const std::string DATA_DIR = std::string{INTELERGY_SOURCE_DIR} + "/tests/data/discovery/";

DeviceDescription plus_plug_s() {
    DeviceDescription d;
    d.id = "shelly-a1b2c3d4e5f6";
    d.name = "Desk plug";
    d.user = "alice";
    d.profile = "home";
    d.room = "Office";
    d.model = "SNPL-00112EU";
    d.mac = "A1B2C3D4E5F6";
    d.firmware = "1.4.2";
    d.configuration_url = "http://192.168.1.40/";
    d.generation = Generation::Gen2;
    d.channels = 1;
    d.has_relay = true;
    d.has_voltage = true;
    d.has_current = true;
    d.has_temperature = true;
    d.poll_interval = std::chrono::seconds{10};
    return d;
}

// Gen3 Plug PM: metering only (pm1:0), no relay, pushed over MQTT (no poll interval).
DeviceDescription plug_pm_gen3() {
    DeviceDescription d;
    d.id = "shelly-a1b2c3d4e5f8";
    d.name = "Fridge";
    d.user = "alice";
    d.profile = "home";
    d.room = "Kitchen";
    d.model = "S3PL-30116EU";
    d.mac = "a1:b2:c3:d4:e5:f8";
    d.firmware = "1.5.1";
    d.configuration_url = "http://192.168.1.41/";
    d.generation = Generation::Gen3;
    d.channels = 1;
    d.has_relay = false;
    d.has_voltage = true;
    d.has_current = true;
    d.has_temperature = false;
    return d;
}

DeviceDescription power_strip_gen4() {
    DeviceDescription d;
    d.id = "shelly-a1b2c3d4e600";
    d.name = "Desk strip";
    d.user = "alice";
    d.profile = "home";
    d.room = "Office";
    d.model = "S4PL-00416EU";
    d.mac = "A1B2C3D4E600";
    d.firmware = "1.8.0";
    d.configuration_url = "http://192.168.10.44/";
    d.generation = Generation::Gen4;
    d.channels = 4;
    d.has_relay = true;
    d.has_voltage = true;
    d.has_current = true;
    d.has_temperature = true;
    d.poll_interval = std::chrono::seconds{5};
    return d;
}

// Gen1 Plug S: power and energy (watt-minutes, converted by the bridge) only.
DeviceDescription plug_s_gen1() {
    DeviceDescription d;
    d.id = "shelly-c45bbe0a1b2c";
    d.name = "Kettle";
    d.user = "alice";
    d.profile = "home";
    d.room = "Kitchen";
    d.model = "SHPLG-S";
    d.mac = "C4:5B:BE:0A:1B:2C";
    d.firmware = "20230913-114150/v1.14.0-gcb84623";
    d.configuration_url = "http://192.168.1.42/";
    d.generation = Generation::Gen1;
    d.channels = 1;
    d.has_relay = true;
    d.has_voltage = false;
    d.has_current = false;
    d.has_temperature = true;
    d.poll_interval = std::chrono::seconds{10};
    return d;
}

HomeAssistantConfig ha(DiscoveryMode mode, EnergyUnit unit = EnergyUnit::KilowattHour) {
    HomeAssistantConfig c;
    c.mode = mode;
    c.energy_unit = unit;
    return c;
}

std::vector<DeviceDescription> all_devices() {
    return {plus_plug_s(), plug_pm_gen3(), power_strip_gen4(), plug_s_gen1()};
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (auto pos = text.find(from); pos != std::string::npos;
         pos = text.find(from, pos + to.size())) {
        text.replace(pos, from.size(), to);
    }
    return text;
}

// Golden form: [{"topic": ..., "payload": <object> | null}] with the version and support URL as
// placeholders so a release does not touch the goldens.
std::string golden_text(const std::vector<DiscoveryMessage>& messages) {
    Json doc = Json::array();
    for (const auto& m : messages) {
        Json payload = m.payload.empty() ? Json(nullptr) : Json::parse(m.payload);
        doc.push_back(Json{{"topic", m.topic}, {"payload", payload}});
    }
    std::string text = doc.dump(2) + "\n";
    text = replace_all(text, "\"" + std::string{VERSION} + "\"", "\"@VERSION@\"");
    return replace_all(text, std::string{SUPPORT_URL}, "@SUPPORT_URL@");
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// INTELERGY_UPDATE_GOLDEN=1 rewrites the files instead of comparing (then review the diff).
void expect_golden(const std::string& name, const std::vector<DiscoveryMessage>& messages) {
    const std::string path = DATA_DIR + name;
    const std::string actual = golden_text(messages);
    if (std::getenv("INTELERGY_UPDATE_GOLDEN") != nullptr) {
        std::ofstream(path) << actual;
        return;
    }
    const std::string expected = read_file(path);
    ASSERT_FALSE(expected.empty()) << "missing golden file " << path;
    EXPECT_EQ(expected, actual) << "golden " << name;
    // The payload is exactly the compact, ordered form of the golden object.
    const Json doc = Json::parse(
        replace_all(replace_all(expected, "\"@VERSION@\"", "\"" + std::string{VERSION} + "\""),
                    "@SUPPORT_URL@", std::string{SUPPORT_URL}));
    ASSERT_EQ(doc.size(), messages.size());
    for (std::size_t i = 0; i < messages.size(); ++i) {
        EXPECT_EQ(doc[i]["topic"].get<std::string>(), messages[i].topic);
        EXPECT_EQ(doc[i]["payload"].is_null() ? std::string{} : doc[i]["payload"].dump(),
                  messages[i].payload);
    }
}

void expect_clean(const std::vector<DiscoveryMessage>& messages) {
    const auto findings = HaChecker{}.check_all(messages);
    for (const auto& f : findings) ADD_FAILURE() << f;
    EXPECT_TRUE(findings.empty());
}

std::set<std::string> unique_ids(const std::vector<DiscoveryMessage>& messages) {
    std::set<std::string> out;
    for (const auto& m : messages) {
        const Json j = Json::parse(m.payload);
        if (j.contains("components")) {
            for (const auto& [key, c] : j["components"].items()) out.insert(c["unique_id"]);
        } else {
            out.insert(j["unique_id"].get<std::string>());
        }
    }
    return out;
}

struct GoldenCase {
    std::string name;
    DeviceDescription device;
    DiscoveryMode mode;
    EnergyUnit unit;
};

std::string mode_name(DiscoveryMode m) { return m == DiscoveryMode::Device ? "device" : "entity"; }
std::string unit_name(EnergyUnit u) { return u == EnergyUnit::KilowattHour ? "kwh" : "wh"; }

std::vector<GoldenCase> golden_cases() {
    const std::vector<std::pair<std::string, DeviceDescription>> devices{
        {"gen2_plus_plug_s", plus_plug_s()},
        {"gen3_plug_pm", plug_pm_gen3()},
        {"gen4_power_strip", power_strip_gen4()},
        {"gen1_plug_s", plug_s_gen1()}};
    std::vector<GoldenCase> out;
    for (const auto& [name, device] : devices) {
        for (const auto mode : {DiscoveryMode::Device, DiscoveryMode::Entity}) {
            for (const auto unit : {EnergyUnit::KilowattHour, EnergyUnit::WattHour}) {
                out.push_back(
                    {name + "_" + mode_name(mode) + "_" + unit_name(unit), device, mode, unit});
            }
        }
    }
    return out;
}

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, MatchesGoldenFileAndPassesChecker) {
    const auto& c = GetParam();
    const DiscoveryBuilder builder(ha(c.mode, c.unit), "intelergy");
    const auto messages = builder.device_configs(c.device);
    expect_golden(c.name + ".json", messages);
    expect_clean(messages);
    if (c.mode == DiscoveryMode::Device) {
        EXPECT_EQ(messages.size(), 1U);
    }
}

std::string case_name(const ::testing::TestParamInfo<GoldenCase>& param) {
    return param.param.name;
}

INSTANTIATE_TEST_SUITE_P(Devices, GoldenTest, ::testing::ValuesIn(golden_cases()), case_name);

TEST(DiscoveryBuilder, BridgeGoldenBothModes) {
    for (const auto mode : {DiscoveryMode::Device, DiscoveryMode::Entity}) {
        const DiscoveryBuilder builder(ha(mode), "intelergy");
        const auto messages = builder.bridge_configs();
        expect_golden("bridge_" + mode_name(mode) + ".json", messages);
        expect_clean(messages);
    }
}

TEST(DiscoveryBuilder, EverythingTogetherPassesCheckerInBothModes) {
    for (const auto mode : {DiscoveryMode::Device, DiscoveryMode::Entity}) {
        for (const auto unit : {EnergyUnit::KilowattHour, EnergyUnit::WattHour}) {
            const DiscoveryBuilder builder(ha(mode, unit), "intelergy");
            auto all = builder.bridge_configs();
            for (const auto& d : all_devices()) {
                const auto m = builder.device_configs(d);
                all.insert(all.end(), m.begin(), m.end());
            }
            expect_clean(all);
        }
    }
}

TEST(DiscoveryBuilder, DeviceModeTopicAndEntityModeTopics) {
    const auto d = plus_plug_s();
    const auto device = DiscoveryBuilder(ha(DiscoveryMode::Device), "intelergy").device_configs(d);
    ASSERT_EQ(device.size(), 1U);
    EXPECT_EQ(device[0].topic, "homeassistant/device/shelly-a1b2c3d4e5f6/config");

    const auto entity = DiscoveryBuilder(ha(DiscoveryMode::Entity), "intelergy").device_configs(d);
    std::vector<std::string> topics;
    for (const auto& m : entity) topics.push_back(m.topic);
    EXPECT_EQ(topics, (std::vector<std::string>{
                          "homeassistant/sensor/shelly-a1b2c3d4e5f6/ch0_power/config",
                          "homeassistant/sensor/shelly-a1b2c3d4e5f6/ch0_energy/config",
                          "homeassistant/sensor/shelly-a1b2c3d4e5f6/ch0_voltage/config",
                          "homeassistant/sensor/shelly-a1b2c3d4e5f6/ch0_current/config",
                          "homeassistant/sensor/shelly-a1b2c3d4e5f6/ch0_temperature/config",
                          "homeassistant/switch/shelly-a1b2c3d4e5f6/ch0_relay/config"}));
    // Same entities, same unique_ids in both modes.
    EXPECT_EQ(unique_ids(device), unique_ids(entity));
}

TEST(DiscoveryBuilder, CustomPrefixAndBaseTopic) {
    HomeAssistantConfig c = ha(DiscoveryMode::Device);
    c.discovery_prefix = "ha-test";
    const DiscoveryBuilder builder(c, "home/energy");
    const auto messages = builder.device_configs(plus_plug_s());
    EXPECT_EQ(messages[0].topic, "ha-test/device/shelly-a1b2c3d4e5f6/config");
    const Json j = Json::parse(messages[0].payload);
    EXPECT_EQ(j["availability"][0]["topic"], "home/energy/bridge/state");
    EXPECT_EQ(j["device"]["via_device"], "intelergy_bridge_home_energy");
    EXPECT_EQ(builder.bridge_device_id(), "intelergy_bridge_home_energy");
    EXPECT_EQ(builder.bridge_configs()[0].topic,
              "ha-test/device/intelergy_bridge_home_energy/config");
    const auto findings = HaChecker{"ha-test"}.check_all(messages);
    for (const auto& f : findings) ADD_FAILURE() << f;
}

TEST(DiscoveryBuilder, RenameAndMoveKeepTopicsAndUniqueIds) {
    for (const auto mode : {DiscoveryMode::Device, DiscoveryMode::Entity}) {
        const DiscoveryBuilder builder(ha(mode), "intelergy");
        const auto before_desc = power_strip_gen4();
        auto after_desc = before_desc;
        after_desc.name = "Living room strip";
        after_desc.room = "Living room";
        after_desc.user = "bob";
        after_desc.profile = "flat";
        const auto before = builder.device_configs(before_desc);
        const auto after = builder.device_configs(after_desc);
        ASSERT_EQ(before.size(), after.size());
        for (std::size_t i = 0; i < before.size(); ++i) {
            EXPECT_EQ(before[i].topic, after[i].topic);
            EXPECT_NE(before[i].payload, after[i].payload);
            const Json j = Json::parse(after[i].payload);
            EXPECT_EQ(j["device"]["name"], "Living room strip");
            EXPECT_EQ(j["device"]["suggested_area"], "Living room");
        }
        EXPECT_EQ(unique_ids(before), unique_ids(after));
        expect_clean(after);
    }
}

TEST(DiscoveryBuilder, UniqueIdsComeFromTheMacAndAreUnique) {
    const DiscoveryBuilder builder(ha(DiscoveryMode::Device), "intelergy");
    const auto strip = unique_ids(builder.device_configs(power_strip_gen4()));
    // totals (2) + 4 channels x (power, energy, voltage, current, temperature, relay)
    EXPECT_EQ(strip.size(), 2U + 4U * 6U);
    EXPECT_TRUE(strip.contains("intelergy_a1b2c3d4e600_total_energy"));
    EXPECT_TRUE(strip.contains("intelergy_a1b2c3d4e600_ch3_relay"));
    // The MAC spelling does not matter.
    auto d = plug_pm_gen3();
    const auto a = unique_ids(builder.device_configs(d));
    d.mac = "A1-B2-C3-D4-E5-F8";
    EXPECT_EQ(a, unique_ids(builder.device_configs(d)));
    EXPECT_TRUE(a.contains("intelergy_a1b2c3d4e5f8_ch0_power"));
}

TEST(DiscoveryBuilder, EnergySensorIsFitForTheEnergyDashboard) {
    for (const auto unit : {EnergyUnit::KilowattHour, EnergyUnit::WattHour}) {
        const auto m = DiscoveryBuilder(ha(DiscoveryMode::Device, unit), "intelergy")
                           .device_configs(plus_plug_s());
        const Json energy = Json::parse(m[0].payload)["components"]["ch0_energy"];
        EXPECT_EQ(energy["device_class"], "energy");
        EXPECT_EQ(energy["state_class"], "total_increasing");
        EXPECT_EQ(energy["unit_of_measurement"], unit == EnergyUnit::KilowattHour ? "kWh" : "Wh");
        EXPECT_NE(energy["value_template"].get<std::string>().find("value_json.energy_wh"),
                  std::string::npos);
    }
}

TEST(DiscoveryBuilder, ExpireAfterOnlyForPolledPlugs) {
    const DiscoveryBuilder builder(ha(DiscoveryMode::Device), "intelergy");
    const Json polled = Json::parse(builder.device_configs(plus_plug_s())[0].payload);
    EXPECT_EQ(polled["components"]["ch0_power"]["expire_after"], 40);  // 3 x 10 s + 10 s
    EXPECT_FALSE(polled["components"]["ch0_relay"].contains("expire_after"));
    const Json pushed = Json::parse(builder.device_configs(plug_pm_gen3())[0].payload);
    EXPECT_FALSE(pushed["components"]["ch0_power"].contains("expire_after"));
    EXPECT_FALSE(pushed["components"].contains("ch0_relay"));
}

TEST(DiscoveryBuilder, NoDeprecatedKeys) {
    for (const auto mode : {DiscoveryMode::Device, DiscoveryMode::Entity}) {
        const DiscoveryBuilder builder(ha(mode), "intelergy");
        auto all = builder.bridge_configs();
        for (const auto& d : all_devices()) {
            const auto m = builder.device_configs(d);
            all.insert(all.end(), m.begin(), m.end());
        }
        for (const auto& m : all) {
            EXPECT_EQ(m.payload.find("object_id"), std::string::npos) << m.topic;
            EXPECT_EQ(m.payload.find("obj_id"), std::string::npos) << m.topic;
        }
    }
}

TEST(DiscoveryBuilder, ClearDeviceCoversBothModes) {
    for (const auto mode : {DiscoveryMode::Device, DiscoveryMode::Entity}) {
        const DiscoveryBuilder builder(ha(mode), "intelergy");
        for (const auto& d : all_devices()) {
            const auto clear = builder.clear_device(d);
            std::set<std::string> cleared;
            for (const auto& m : clear) {
                EXPECT_TRUE(m.payload.empty()) << m.topic;
                cleared.insert(m.topic);
            }
            for (const auto other : {DiscoveryMode::Device, DiscoveryMode::Entity}) {
                for (const auto& m : DiscoveryBuilder(ha(other), "intelergy").device_configs(d)) {
                    EXPECT_TRUE(cleared.contains(m.topic)) << m.topic;
                }
            }
        }
        std::set<std::string> cleared;
        for (const auto& m : builder.clear_bridge()) {
            EXPECT_TRUE(m.payload.empty());
            cleared.insert(m.topic);
        }
        for (const auto other : {DiscoveryMode::Device, DiscoveryMode::Entity}) {
            for (const auto& m : DiscoveryBuilder(ha(other), "intelergy").bridge_configs()) {
                EXPECT_TRUE(cleared.contains(m.topic)) << m.topic;
            }
        }
    }
}

TEST(DiscoveryBuilder, ModeSwitchWithClearLeavesNoGhostWithoutClearCollides) {
    const DiscoveryBuilder entity(ha(DiscoveryMode::Entity), "intelergy");
    const DiscoveryBuilder device(ha(DiscoveryMode::Device), "intelergy");
    const auto d = power_strip_gen4();
    auto sequence = entity.device_configs(d);
    const auto clear = entity.clear_device(d);
    sequence.insert(sequence.end(), clear.begin(), clear.end());
    const auto now = device.device_configs(d);
    sequence.insert(sequence.end(), now.begin(), now.end());
    expect_clean(sequence);

    auto ghost = entity.device_configs(d);
    ghost.insert(ghost.end(), now.begin(), now.end());
    EXPECT_GT(HaChecker::count(HaChecker{}.check_all(ghost), Severity::Error), 0U);
}

TEST(DiscoveryBuilder, OwnsConfigRecognisesOnlyThisBridge) {
    const DiscoveryBuilder builder(ha(DiscoveryMode::Device), "intelergy");
    const DiscoveryBuilder other(ha(DiscoveryMode::Device), "intelergy2");
    for (const auto mode : {DiscoveryMode::Device, DiscoveryMode::Entity}) {
        const DiscoveryBuilder b(ha(mode), "intelergy");
        for (const auto& m : b.device_configs(plus_plug_s())) {
            EXPECT_TRUE(builder.owns_config(m.topic, m.payload)) << m.topic;
            EXPECT_FALSE(other.owns_config(m.topic, m.payload)) << m.topic;
        }
        for (const auto& m : b.bridge_configs()) {
            EXPECT_TRUE(builder.owns_config(m.topic, m.payload)) << m.topic;
        }
    }
    const std::string topic = "homeassistant/sensor/shelly-a1b2c3d4e5f6/ch0_power/config";
    // Abbreviated keys are understood.
    EXPECT_TRUE(builder.owns_config(
        topic, R"({"o":{"name":"Intelergy"},"stat_t":"intelergy/devices/x/state"})"));
    EXPECT_TRUE(builder.owns_config(
        topic, R"({"o":{"name":"Intelergy"},"avty":[{"t":"intelergy/bridge/state"}]})"));
    // Someone else's config on the same broker.
    EXPECT_FALSE(builder.owns_config(
        topic, R"({"o":{"name":"Zigbee2MQTT"},"stat_t":"intelergy/devices/x/state"})"));
    EXPECT_FALSE(builder.owns_config(topic, R"({"stat_t":"intelergy/devices/x/state"})"));
    EXPECT_FALSE(builder.owns_config(topic, ""));
    EXPECT_FALSE(builder.owns_config(topic, "not json"));
    EXPECT_FALSE(builder.owns_config("zigbee2mqtt/bridge/config",
                                     R"({"o":{"name":"Intelergy"},"stat_t":"intelergy/x"})"));
}

TEST(DiscoveryBuilder, DeviceIdOfTopic) {
    const DiscoveryBuilder builder(ha(DiscoveryMode::Device), "intelergy");
    EXPECT_EQ(builder.device_id_of("homeassistant/device/shelly-a1b2c3d4e5f6/config"),
              "shelly-a1b2c3d4e5f6");
    EXPECT_EQ(builder.device_id_of("homeassistant/sensor/shelly-a1b2c3d4e5f6/ch0_power/config"),
              "shelly-a1b2c3d4e5f6");
    EXPECT_EQ(builder.device_id_of("homeassistant/device/intelergy_bridge_intelergy/config"),
              std::nullopt);
    EXPECT_EQ(builder.device_id_of(
                  "homeassistant/binary_sensor/intelergy_bridge_intelergy/connection_state/config"),
              std::nullopt);
    EXPECT_EQ(builder.device_id_of("homeassistant/sensor/ch0_power/config"), std::nullopt);
    EXPECT_EQ(builder.device_id_of("other/device/shelly-a1b2c3d4e5f6/config"), std::nullopt);
    EXPECT_EQ(builder.device_id_of("homeassistant/device/shelly-a1b2c3d4e5f6/state"), std::nullopt);
    EXPECT_EQ(builder.device_id_of("homeassistant/device/shelly.x/config"), std::nullopt);
    // Every topic the builder itself produces maps back to its device.
    for (const auto mode : {DiscoveryMode::Device, DiscoveryMode::Entity}) {
        for (const auto& m :
             DiscoveryBuilder(ha(mode), "intelergy").device_configs(power_strip_gen4())) {
            EXPECT_EQ(builder.device_id_of(m.topic), "shelly-a1b2c3d4e600");
        }
    }
}

TEST(DiscoveryBuilder, SubscriptionFilters) {
    const DiscoveryBuilder builder(ha(DiscoveryMode::Device), "intelergy");
    EXPECT_EQ(builder.subscription_filters(),
              (std::vector<std::string>{"homeassistant/+/+/config", "homeassistant/+/+/+/config"}));
    EXPECT_EQ(builder.bridge_stats_topic(), "intelergy/bridge/stats");
}

TEST(DiscoveryBuilder, OptionalDeviceFieldsAreLeftOut) {
    auto d = plug_pm_gen3();
    d.room.clear();
    d.configuration_url.clear();
    d.firmware.clear();
    d.name.clear();
    const auto m = DiscoveryBuilder(ha(DiscoveryMode::Device), "intelergy").device_configs(d);
    const Json dev = Json::parse(m[0].payload)["device"];
    EXPECT_FALSE(dev.contains("suggested_area"));
    EXPECT_FALSE(dev.contains("configuration_url"));
    EXPECT_FALSE(dev.contains("sw_version"));
    EXPECT_EQ(dev["name"], d.id);
    expect_clean(m);
}

}  // namespace
}  // namespace intelergy::discovery
