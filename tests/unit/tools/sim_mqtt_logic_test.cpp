// SPDX-License-Identifier: MIT
#include "intelergy/sim/mqtt_logic.hpp"
#include "sim_test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace intelergy::sim {
namespace {

using test::constant_plug;
using test::keys;
using test::load_payload;
using test::T0;

Json only(const std::vector<MqttMessage>& msgs, const std::string& topic_suffix) {
    for (const auto& m : msgs) {
        if (m.topic.ends_with(topic_suffix)) return Json::parse(m.payload);
    }
    return nullptr;
}

TEST(SimMqttLogic, NotifyStatusCarriesOnlyChangedFields) {
    ManualClock clock(T0 + 5 * MICROS_PER_SECOND);
    Plug plug(constant_plug(PlugKind::GEN2_PLUS_PLUG_S, 50.0), clock, 1);
    MqttDeviceLogic logic(plug);
    const auto hello = logic.on_connect(clock.now_us());
    ASSERT_EQ(hello.front().topic, plug.mqtt_prefix() + "/online");
    EXPECT_EQ(hello.front().payload, "true");
    EXPECT_TRUE(hello.front().retained);
    EXPECT_EQ(logic.will().payload, "false");
    EXPECT_TRUE(logic.tick(clock.now_us()).empty());

    plug.set_power(0, 52.0);
    auto frame = only(logic.tick(clock.now_us()), "/events/rpc");
    ASSERT_TRUE(frame.is_object());
    EXPECT_EQ(frame["method"], "NotifyStatus");
    EXPECT_EQ(frame["src"], plug.id());
    EXPECT_EQ(frame["dst"], plug.mqtt_prefix() + "/events");
    const auto sw = frame["params"]["switch:0"];
    EXPECT_EQ(sw["id"], 0);
    EXPECT_DOUBLE_EQ(sw["apower"].get<double>(), 52.0);
    EXPECT_FALSE(sw.contains("output"));
    EXPECT_FALSE(sw.contains("aenergy"));
    EXPECT_FALSE(sw.contains("voltage"));
    EXPECT_DOUBLE_EQ(frame["params"]["ts"].get<double>(), 1718371205.0);

    plug.set_relay(0, false, "MQTT");
    const auto off = only(logic.tick(clock.now_us()), "/events/rpc")["params"]["switch:0"];
    EXPECT_EQ(off["output"], false);
    EXPECT_EQ(off["source"], "MQTT");

    clock.advance_s(60.0);  // minute rollover -> aenergy delta
    const auto energy = only(logic.tick(clock.now_us()), "/events/rpc")["params"]["switch:0"];
    EXPECT_TRUE(energy["aenergy"].contains("minute_ts"));
    EXPECT_EQ(energy["aenergy"]["by_minute"].size(), 3U);
}

TEST(SimMqttLogic, RpcOverMqttAnswersOnSrcTopic) {
    ManualClock clock(T0);
    Plug plug(constant_plug(PlugKind::GEN3_PLUG_S, 50.0), clock, 1);
    MqttDeviceLogic logic(plug);
    logic.on_connect(clock.now_us());
    const auto out = logic.on_message(
        plug.mqtt_prefix() + "/rpc",
        R"({"id":17,"src":"bridge-7f3a","method":"Switch.Set","params":{"id":0,"on":false}})",
        clock.now_us());
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].topic, "bridge-7f3a/rpc");
    const auto resp = Json::parse(out[0].payload);
    EXPECT_EQ(resp["id"], 17);
    EXPECT_EQ(resp["dst"], "bridge-7f3a");
    EXPECT_EQ(resp["result"]["was_on"], true);
    EXPECT_TRUE(
        logic.on_message(plug.mqtt_prefix() + "/rpc", R"({"id":1,"method":"x"})",
                         clock.now_us())
            .empty());  // no src -> dropped
    logic.on_message(plug.mqtt_prefix() + "/command/switch:0", "toggle", clock.now_us());
    EXPECT_TRUE(plug.reading(0).output);
}

TEST(SimMqttLogic, Gen1TopicsAndUnits) {
    ManualClock clock(T0);
    Plug plug(constant_plug(PlugKind::GEN1_PLUG_S, 60.0), clock, 1);
    MqttDeviceLogic logic(plug);
    const auto hello = logic.on_connect(clock.now_us());
    const auto ann = only(hello, "shellies/announce");
    EXPECT_EQ(ann["id"], "shellyplug-s-000001");
    EXPECT_EQ(ann["model"], "SHPLG-S");
    for (const auto* k : {"mac", "ip", "new_fw", "fw_ver"}) EXPECT_TRUE(ann.contains(k)) << k;
    clock.advance_s(30.0);  // default update period
    const auto upd = logic.tick(clock.now_us());
    bool saw_energy = false;
    for (const auto& m : upd) {
        if (m.topic == plug.mqtt_prefix() + "/relay/0/energy") {
            EXPECT_EQ(m.payload, "30");  // 60 W * 0.5 min = 30 Wmin
            saw_energy = true;
        }
    }
    EXPECT_TRUE(saw_energy);
    const auto cmd =
        logic.on_message(plug.mqtt_prefix() + "/relay/0/command", "off", clock.now_us());
    ASSERT_FALSE(cmd.empty());
    EXPECT_EQ(cmd[0].topic, plug.mqtt_prefix() + "/relay/0");
    EXPECT_EQ(cmd[0].payload, "off");
}

// Every Gen1 topic of the reference capture (tests/unit/tools/data/gen1_mqtt_messages.json) is
// published by the simulator, with the same kind of payload; "update" republishes them.
TEST(SimMqttLogic, Gen1TopicsMatchTheReferenceCapture) {
    ManualClock clock(T0);
    Plug plug(constant_plug(PlugKind::GEN1_PLUG_S, 61.42), clock, 1);
    MqttDeviceLogic logic(plug);
    auto out = logic.on_connect(clock.now_us());
    clock.advance_s(30.0);
    const auto periodic = logic.tick(clock.now_us());
    out.insert(out.end(), periodic.begin(), periodic.end());
    const auto ref = load_payload("gen1_mqtt_messages.json");
    const std::string ref_prefix = "shellies/shellyplug-s-D4E5F6";
    for (const auto& m : ref["messages"]) {
        std::string topic = m["topic"];
        if (topic.starts_with(ref_prefix)) topic = plug.mqtt_prefix() + topic.substr(ref_prefix.size());
        const auto found = std::find_if(out.begin(), out.end(), [&](const MqttMessage& x) { return x.topic == topic; });
        ASSERT_NE(found, out.end()) << topic;
        if (m["payload"].is_object()) {
            const auto j = Json::parse(found->payload);
            for (auto it = m["payload"].begin(); it != m["payload"].end(); ++it)
                EXPECT_TRUE(j.contains(it.key())) << topic << " lacks " << it.key();
        } else {
            // Numbers stay numbers as text, words stay words.
            const std::string want = m["payload"];
            const bool numeric = want.find_first_not_of("0123456789.-") == std::string::npos;
            EXPECT_EQ(found->payload.find_first_not_of("0123456789.-") == std::string::npos, numeric)
                << topic << ": " << found->payload;
        }
    }
    const auto update = logic.on_message(plug.mqtt_prefix() + "/command", "update", clock.now_us());
    EXPECT_TRUE(std::any_of(update.begin(), update.end(), [&](const MqttMessage& x) {
        return x.topic == plug.mqtt_prefix() + "/relay/0/energy";
    }));
}

// NotifyStatus frames have the reference capture's envelope (gen2_mqtt_notifystatus.json).
TEST(SimMqttLogic, NotifyStatusEnvelopeMatchesTheReferenceCapture) {
    ManualClock clock(T0);
    Plug plug(constant_plug(PlugKind::GEN2_PLUS_PLUG_S, 61.4), clock, 1);
    MqttDeviceLogic logic(plug);
    logic.on_connect(clock.now_us());
    plug.set_power(0, 70.0);
    const auto frame = only(logic.tick(clock.now_us()), "/events/rpc");
    ASSERT_TRUE(frame.is_object());
    const auto ref = load_payload("gen2_mqtt_notifystatus.json");
    Json ref_frame;
    for (const auto& m : ref["messages"])
        if (m["topic"].get<std::string>().ends_with("/events/rpc")) {
            ref_frame = m["payload"];
            break;
        }
    ASSERT_TRUE(ref_frame.is_object());
    EXPECT_EQ(keys(frame), keys(ref_frame));
    EXPECT_TRUE(frame["params"]["ts"].is_number());
    EXPECT_TRUE(frame["params"]["switch:0"].contains("id"));
}

}  // namespace
}  // namespace intelergy::sim
