#include "fixtures.hpp"
#include "intelergy/drivers/shelly_status.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace intelergy::drivers {
namespace {

using test::at_s;
using test::fixture;

const SysTime kReceived = at_s(1718371240);

// ---- Gen1 ---------------------------------------------------------------------------------

TEST(Gen1Status, PlugSFullStatus) {
    auto r = parse_gen1_status(fixture("gen1_status.json"), kReceived);
    ASSERT_TRUE(r) << r.error().describe();
    ASSERT_EQ(r->size(), 1u);
    const Reading& x = r->front();
    EXPECT_EQ(x.device_id, "");
    EXPECT_EQ(x.channel, 0);
    EXPECT_EQ(x.ts, kReceived);
    EXPECT_EQ(x.relay, true);
    EXPECT_DOUBLE_EQ(x.power_w.value(), 61.42);
    EXPECT_DOUBLE_EQ(x.counter_raw.value(), 1234567.0);
    EXPECT_EQ(x.counter_unit, CounterUnit::WattMinute);
    EXPECT_NEAR(counter_to_wh(*x.counter_raw, x.counter_unit), 20576.1167, 1e-3);
    EXPECT_DOUBLE_EQ(x.temperature_c.value(), 27.31);
    EXPECT_FALSE(x.voltage_v);
    EXPECT_FALSE(x.current_a);
    EXPECT_FALSE(x.energy_wh);
    // unixtime, never meters[].timestamp (local time, +7200 here)
    EXPECT_EQ(x.device_time, at_s(1718371234));
}

TEST(Gen1Status, UnsyncedPlugWithoutTemperature) {
    auto r = parse_gen1_status(fixture("gen1_status_unsynced.json"), kReceived);
    ASSERT_TRUE(r) << r.error().describe();
    ASSERT_EQ(r->size(), 1u);
    const Reading& x = r->front();
    EXPECT_EQ(x.relay, false);
    EXPECT_DOUBLE_EQ(x.power_w.value(), 0.0);
    EXPECT_DOUBLE_EQ(x.counter_raw.value(), 0.0);
    EXPECT_FALSE(x.temperature_c);
    EXPECT_FALSE(x.device_time);
}

TEST(Gen1Status, TemperatureFallsBackToTmpAndHonoursIsValid) {
    auto r = parse_gen1_status(R"({"relays":[{"ison":true}],"tmp":{"tC":30.5,"is_valid":true}})",
                               kReceived);
    ASSERT_TRUE(r);
    EXPECT_DOUBLE_EQ(r->front().temperature_c.value(), 30.5);
    auto invalid = parse_gen1_status(
        R"({"relays":[{"ison":true}],"tmp":{"tC":30.5,"is_valid":false}})", kReceived);
    ASSERT_TRUE(invalid);
    EXPECT_FALSE(invalid->front().temperature_c);
}

TEST(Gen1Status, MultiChannelAndPartialArrays) {
    auto r = parse_gen1_status(
        R"({"relays":[{"ison":true},{"ison":false}],"meters":[{"power":5,"total":60}],
            "unixtime":1718371234.0})",
        kReceived);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].channel, 0);
    EXPECT_DOUBLE_EQ((*r)[0].counter_raw.value(), 60.0);
    EXPECT_EQ((*r)[1].channel, 1);
    EXPECT_EQ((*r)[1].relay, false);
    EXPECT_FALSE((*r)[1].power_w);
    EXPECT_FALSE((*r)[1].counter_raw);
}

TEST(Gen1Status, MeterRelayAndMeterFixturesAreNotStatuses) {
    // /meter/0 and /relay/0 are bare objects, not /status: clear Protocol error.
    for (const char* f : {"gen1_meter0.json", "gen1_relay0.json"}) {
        auto r = parse_gen1_status(fixture(f), kReceived);
        ASSERT_FALSE(r) << f;
        EXPECT_EQ(r.error().code, ErrorCode::Protocol) << f;
    }
}

TEST(Gen1Status, InvalidMeterDropsPowerKeepsCounter) {
    auto r =
        parse_gen1_status(R"({"meters":[{"power":61.4,"is_valid":false,"total":100}]})", kReceived);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->front().power_w);
    EXPECT_DOUBLE_EQ(r->front().counter_raw.value(), 100.0);
    EXPECT_FALSE(r->front().relay);
}

TEST(Gen1Status, WrongTypesAndAbsurdValuesDropFields) {
    auto r = parse_gen1_status(
        R"({"relays":[{"ison":"true"}],"meters":[{"power":"61.4","total":-5}],
            "temperature":"hot","unixtime":"1718371234"})",
        kReceived);
    ASSERT_TRUE(r) << r.error().describe();
    const Reading& x = r->front();
    EXPECT_FALSE(x.relay);
    EXPECT_FALSE(x.power_w);
    EXPECT_FALSE(x.counter_raw);
    EXPECT_FALSE(x.temperature_c);
    EXPECT_FALSE(x.device_time);

    auto big = parse_gen1_status(R"({"meters":[{"power":1e12,"total":2e9}]})", kReceived);
    ASSERT_TRUE(big);
    EXPECT_FALSE(big->front().power_w);
    EXPECT_FALSE(big->front().counter_raw);
}

TEST(Gen1Status, ChannelCountIsCapped) {
    std::string relays;
    for (int i = 0; i < 300; ++i) relays += std::string{i ? "," : ""} + R"({"ison":true})";
    auto r = parse_gen1_status(R"({"relays":[)" + relays + "]}", kReceived);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->size(), 256u);
    EXPECT_EQ(r->back().channel, 255);
}

TEST(Gen1Status, NotAStatus) {
    for (const char* bad :
         {"{}", R"({"relays":{}})", R"({"relays":[1,2]})", "[]", "42", R"({"meters":"x"})"}) {
        auto r = parse_gen1_status(bad, kReceived);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::Protocol) << bad;
    }
}

// ---- Gen2+ --------------------------------------------------------------------------------

TEST(Gen2Status, PlusPlugSGetStatus) {
    auto r = parse_gen2_status(fixture("gen2_shelly_getstatus.json"), kReceived);
    ASSERT_TRUE(r) << r.error().describe();
    ASSERT_EQ(r->size(), 1u);
    const Reading& x = r->front();
    EXPECT_EQ(x.channel, 0);
    EXPECT_EQ(x.ts, kReceived);
    EXPECT_EQ(x.relay, true);
    EXPECT_DOUBLE_EQ(x.power_w.value(), 61.4);
    EXPECT_DOUBLE_EQ(x.voltage_v.value(), 230.1);
    EXPECT_DOUBLE_EQ(x.current_a.value(), 0.291);
    EXPECT_DOUBLE_EQ(x.counter_raw.value(), 20576.114);
    EXPECT_EQ(x.counter_unit, CounterUnit::WattHour);
    EXPECT_DOUBLE_EQ(x.temperature_c.value(), 31.6);
    EXPECT_EQ(x.device_time, at_s(1718371234));
}

TEST(Gen2Status, UnsyncedClockAndNullTemperature) {
    auto r = parse_gen2_status(fixture("gen2_shelly_getstatus_unsynced.json"), kReceived);
    ASSERT_TRUE(r) << r.error().describe();
    const Reading& x = r->front();
    EXPECT_FALSE(x.device_time);
    EXPECT_FALSE(x.temperature_c);
    EXPECT_EQ(x.relay, false);
    EXPECT_DOUBLE_EQ(x.counter_raw.value(), 20576.114);
    EXPECT_DOUBLE_EQ(x.voltage_v.value(), 229.4);
}

TEST(Gen2Status, UptimeLikeUnixtimeIsNotSynced) {
    auto r = parse_gen2_status(R"({"switch:0":{"apower":1},"sys":{"unixtime":41}})", kReceived);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->front().device_time);
}

TEST(Gen2Status, Gen3PlugPmMeteringOnly) {
    auto r = parse_gen2_status(fixture("gen3_plugpm_getstatus.json"), kReceived);
    ASSERT_TRUE(r) << r.error().describe();
    ASSERT_EQ(r->size(), 1u);
    const Reading& x = r->front();
    EXPECT_EQ(x.channel, 0);
    EXPECT_FALSE(x.relay);
    EXPECT_DOUBLE_EQ(x.power_w.value(), 98.7);
    EXPECT_DOUBLE_EQ(x.voltage_v.value(), 231.4);
    EXPECT_DOUBLE_EQ(x.current_a.value(), 0.512);
    EXPECT_DOUBLE_EQ(x.counter_raw.value(), 1532.408);
    EXPECT_FALSE(x.temperature_c);
    EXPECT_EQ(x.device_time, at_s(1718371234));
}

TEST(Gen2Status, Gen4PowerStripFourChannelsInChannelOrder) {
    auto r = parse_gen2_status(fixture("gen4_powerstrip_getstatus.json"), kReceived);
    ASSERT_TRUE(r) << r.error().describe();
    ASSERT_EQ(r->size(), 4u);
    const double power[] = {12.3, 3.1, 0.0, 1450.2};
    const double total[] = {100.5, 7.25, 0.0, 40210.017};
    const bool relay[] = {true, true, false, true};
    for (std::uint8_t i = 0; i < 4; ++i) {
        const Reading& x = (*r)[i];
        EXPECT_EQ(x.channel, i);
        EXPECT_DOUBLE_EQ(x.power_w.value(), power[i]) << int{i};
        EXPECT_DOUBLE_EQ(x.counter_raw.value(), total[i]) << int{i};
        EXPECT_EQ(x.relay, relay[i]) << int{i};
        EXPECT_DOUBLE_EQ(x.temperature_c.value(), 35.1);
    }
    EXPECT_DOUBLE_EQ((*r)[3].current_a.value(), 6.312);
}

TEST(Gen2Status, ChannelsAboveNineSortNumerically) {
    auto r = parse_gen2_status(R"({"switch:10":{"apower":10},"switch:2":{"apower":2},
                                   "pm1:1":{"apower":1}})",
                               kReceived);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].channel, 1);
    EXPECT_EQ((*r)[1].channel, 2);
    EXPECT_EQ((*r)[2].channel, 10);
}

TEST(Gen2Status, NoMeteredComponentIsProtocolError) {
    for (const char* bad : {R"({"sys":{},"wifi":{}})", R"({"switch:0":5})", R"({"switch:x":{}})",
                            R"({"switch:256":{}})", R"({"light:0":{"apower":1}})", "[]", "null"}) {
        auto r = parse_gen2_status(bad, kReceived);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::Protocol) << bad;
    }
}

TEST(Gen2Status, NegativePowerWithinLimitsIsKept) {
    auto r = parse_gen2_status(R"({"switch:0":{"apower":-412.5}})", kReceived);
    ASSERT_TRUE(r);
    EXPECT_DOUBLE_EQ(r->front().power_w.value(), -412.5);
    auto edge = parse_gen2_status(R"({"switch:0":{"apower":-100000}})", kReceived);
    ASSERT_TRUE(edge);
    EXPECT_DOUBLE_EQ(edge->front().power_w.value(), -100000.0);
    auto over = parse_gen2_status(R"({"switch:0":{"apower":-100000.5}})", kReceived);
    ASSERT_TRUE(over);
    EXPECT_FALSE(over->front().power_w);
}

TEST(Gen2Status, WrongTypesAndOutOfRangeValuesAreDroppedIndividually) {
    auto r = parse_gen2_status(
        R"({"switch:0":{"output":"on","apower":"61.4","voltage":-3,"current":5000,
                        "aenergy":{"total":"20576"},"temperature":{"tC":500}},
            "switch:1":{"output":true,"apower":true,"voltage":230,"current":null,
                        "aenergy":12,"temperature":31},
            "switch:2":{"apower":1e300,"aenergy":{"total":-0.5}},
            "switch:3":{"apower":5,"aenergy":{"total":1000000001}},
            "sys":{"unixtime":"now"}})",
        kReceived);
    ASSERT_TRUE(r) << r.error().describe();
    ASSERT_EQ(r->size(), 4u);
    const Reading& a = (*r)[0];
    EXPECT_FALSE(a.relay);
    EXPECT_FALSE(a.power_w);
    EXPECT_FALSE(a.voltage_v);
    EXPECT_FALSE(a.current_a);
    EXPECT_FALSE(a.counter_raw);
    EXPECT_FALSE(a.temperature_c);
    EXPECT_FALSE(a.device_time);
    const Reading& b = (*r)[1];
    EXPECT_EQ(b.relay, true);
    EXPECT_FALSE(b.power_w);  // bool is not a number
    EXPECT_DOUBLE_EQ(b.voltage_v.value(), 230.0);
    EXPECT_FALSE(b.current_a);
    EXPECT_FALSE(b.counter_raw);
    EXPECT_FALSE(b.temperature_c);
    EXPECT_FALSE((*r)[2].power_w);
    EXPECT_FALSE((*r)[2].counter_raw);
    EXPECT_DOUBLE_EQ((*r)[3].power_w.value(), 5.0);
    EXPECT_FALSE((*r)[3].counter_raw);
}

TEST(Gen2Status, OverflowingNumberLiteralIsDroppedNotInfinite) {
    // 1e999 overflows a double; whatever the JSON parser makes of it, no Inf may leak out.
    auto r = parse_gen2_status(R"({"switch:0":{"apower":1e999,"voltage":230}})", kReceived);
    if (r) {
        EXPECT_FALSE(r->front().power_w);
        EXPECT_DOUBLE_EQ(r->front().voltage_v.value(), 230.0);
    } else {
        EXPECT_EQ(r.error().code, ErrorCode::Parse);
    }
}

TEST(Gen2Status, NanAndInfinityLiteralsAreInvalidJson) {
    for (const char* bad : {R"({"switch:0":{"apower":NaN}})", R"({"switch:0":{"apower":Infinity}})",
                            R"({"switch:0":{"apower":-inf}})"}) {
        auto r = parse_gen2_status(bad, kReceived);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::Parse) << bad;
    }
}

// ---- single components --------------------------------------------------------------------

TEST(Gen2Component, SwitchGetStatusSuperset) {
    auto r = parse_gen2_component("switch:0", fixture("gen2_switch_getstatus.json"), kReceived);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->channel, 0);
    EXPECT_EQ(r->relay, true);
    EXPECT_DOUBLE_EQ(r->power_w.value(), 61.4);
    EXPECT_DOUBLE_EQ(r->voltage_v.value(), 230.1);
    EXPECT_DOUBLE_EQ(r->current_a.value(), 0.291);
    EXPECT_DOUBLE_EQ(r->counter_raw.value(), 20576.114);  // aenergy, not ret_aenergy (0)
    EXPECT_DOUBLE_EQ(r->temperature_c.value(), 31.6);
    EXPECT_FALSE(r->device_time);
}

TEST(Gen2Component, UnsyncedSwitchAndPm1) {
    auto u =
        parse_gen2_component("switch:0", fixture("gen2_switch_getstatus_unsynced.json"), kReceived);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->relay, false);
    EXPECT_DOUBLE_EQ(u->counter_raw.value(), 20576.114);
    EXPECT_DOUBLE_EQ(u->temperature_c.value(), 29.8);

    auto pm = parse_gen2_component("pm1:0", fixture("gen3_pm1_getstatus.json"), kReceived);
    ASSERT_TRUE(pm);
    EXPECT_FALSE(pm->relay);
    EXPECT_DOUBLE_EQ(pm->power_w.value(), 98.7);
    EXPECT_DOUBLE_EQ(pm->counter_raw.value(), 1532.408);
}

TEST(Gen2Component, MqttStatusTopicPayloadAndChannelFromKey) {
    const auto doc = nlohmann::json::parse(fixture("gen2_mqtt_notifystatus.json"));
    const auto& msg = doc["messages"][4];
    ASSERT_EQ(msg["topic"], "shellyplusplugs-a1b2c3d4e5f6/status/switch:0");
    auto r = parse_gen2_component("switch:0", msg["payload"].dump(), kReceived);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->relay, false);
    EXPECT_DOUBLE_EQ(r->power_w.value(), 0.0);
    EXPECT_DOUBLE_EQ(r->voltage_v.value(), 230.3);
    EXPECT_DOUBLE_EQ(r->counter_raw.value(), 20577.85);
    EXPECT_DOUBLE_EQ(r->temperature_c.value(), 31.2);

    auto ch3 = parse_gen2_component("switch:3", R"({"id":3,"apower":1})", kReceived);
    ASSERT_TRUE(ch3);
    EXPECT_EQ(ch3->channel, 3);
}

TEST(Gen2Component, BadKeyOrPayload) {
    for (const char* key : {"sys", "switch", "switch:", "switch:-1", "switch:256", "pm1:x",
                            "switch:0 ", "Switch:0"}) {
        auto r = parse_gen2_component(key, R"({"apower":1})", kReceived);
        ASSERT_FALSE(r) << key;
        EXPECT_EQ(r.error().code, ErrorCode::Invalid) << key;
    }
    auto arr = parse_gen2_component("switch:0", "[1]", kReceived);
    ASSERT_FALSE(arr);
    EXPECT_EQ(arr.error().code, ErrorCode::Protocol);
}

TEST(MeteredComponentChannel, Keys) {
    EXPECT_EQ(metered_component_channel("switch:0"), 0);
    EXPECT_EQ(metered_component_channel("pm1:3"), 3);
    EXPECT_EQ(metered_component_channel("switch:255"), 255);
    EXPECT_FALSE(metered_component_channel("switch:256"));
    EXPECT_FALSE(metered_component_channel("switch:1000"));
    EXPECT_FALSE(metered_component_channel("cover:0"));
    EXPECT_FALSE(metered_component_channel("switch:1a"));
}

// ---- hostile input, every parser ----------------------------------------------------------

TEST(HostileInput, GarbageNeverCrashes) {
    const std::string inputs[] = {"",
                                  " ",
                                  "\x00\x01\xff",
                                  "{",
                                  "}",
                                  "[",
                                  "\"",
                                  "{\"switch:0\":",
                                  "{\"a\":\"\\",
                                  "nul",
                                  "tru",
                                  "1e",
                                  "-",
                                  "{\"switch:0\":{}}}",
                                  std::string(5000, '{'),
                                  std::string(5000, ']')};
    for (const auto& in : inputs) {
        EXPECT_FALSE(parse_gen1_status(in, kReceived));
        EXPECT_FALSE(parse_gen2_status(in, kReceived));
        EXPECT_FALSE(parse_gen2_component("switch:0", in, kReceived));
    }
}

TEST(HostileInput, EveryTruncationOfRealPayloadsFailsCleanly) {
    for (const char* name :
         {"gen1_status.json", "gen2_shelly_getstatus.json", "gen4_powerstrip_getstatus.json"}) {
        std::string full = fixture(name);
        while (!full.empty() && (full.back() == '\n' || full.back() == ' ')) full.pop_back();
        for (std::size_t n = 0; n < full.size(); ++n) {
            const std::string_view cut{full.data(), n};
            EXPECT_FALSE(parse_gen1_status(cut, kReceived)) << name << " @" << n;
            EXPECT_FALSE(parse_gen2_status(cut, kReceived)) << name << " @" << n;
        }
    }
}

TEST(HostileInput, DeepNestingIsRejectedBeforeParsing) {
    const std::string deep = std::string(200000, '[') + std::string(200000, ']');
    auto r = parse_gen2_status(deep, kReceived);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::Parse);
    EXPECT_NE(r.error().message.find("nested"), std::string::npos) << r.error().message;

    std::string inner = "1";
    for (int i = 0; i < 40; ++i) inner = "[" + inner + "]";
    auto in_component = parse_gen2_status(R"({"switch:0":{"apower":)" + inner + "}}", kReceived);
    ASSERT_FALSE(in_component);
    EXPECT_EQ(in_component.error().code, ErrorCode::Parse);

    // Brackets inside strings do not count.
    auto in_string = parse_gen2_status(
        R"({"switch:0":{"apower":1,"source":")" + std::string(100, '[') + R"("}})", kReceived);
    ASSERT_TRUE(in_string);
}

TEST(HostileInput, OversizePayloadIsRejected) {
    std::string huge =
        R"({"switch:0":{"apower":1},"pad":")" + std::string(MAX_PAYLOAD_BYTES, 'x') + "\"}";
    auto r = parse_gen2_status(huge, kReceived);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::Parse);
    EXPECT_NE(r.error().message.find("exceeds"), std::string::npos);
}

}  // namespace
}  // namespace intelergy::drivers
