#include "intelergy/drivers/gen1_mqtt_state.hpp"

#include "fixtures.hpp"
#include "intelergy/drivers/shelly_device.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace intelergy::drivers {
namespace {

using test::at_s;
using test::fixture;

const SysTime kReceived = at_s(1718371240);

TEST(Gen1MqttState, ReferenceMessages) {
    const auto doc = nlohmann::json::parse(fixture("gen1_mqtt_messages.json"));
    Gen1MqttState s;
    const std::string prefix = "shellies/shellyplug-s-D4E5F6/";
    int changed = 0;
    for (const auto& m : doc["messages"]) {
        const std::string topic = m["topic"];
        const std::string payload =
            m["payload"].is_string() ? m["payload"].get<std::string>() : m["payload"].dump();
        if (topic.rfind(prefix, 0) != 0) {
            auto a = parse_gen1_announce(payload);  // shellies/announce
            ASSERT_TRUE(a);
            EXPECT_EQ(a->id, "shellyplug-s-D4E5F6");
            continue;
        }
        if (s.apply(topic.substr(prefix.size()), payload)) ++changed;
    }
    EXPECT_EQ(changed, 5);  // online, relay, power, energy, temperature
    EXPECT_EQ(s.online(), true);
    auto r = s.readings(kReceived);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].channel, 0);
    EXPECT_EQ(r[0].ts, kReceived);
    EXPECT_EQ(r[0].relay, true);
    EXPECT_DOUBLE_EQ(r[0].power_w.value(), 61.42);
    EXPECT_DOUBLE_EQ(r[0].counter_raw.value(), 1234567.0);
    EXPECT_EQ(r[0].counter_unit, CounterUnit::WattMinute);
    EXPECT_DOUBLE_EQ(r[0].temperature_c.value(), 27.31);
    EXPECT_FALSE(r[0].device_time);
}

TEST(Gen1MqttState, ChangeDetectionAndOnline) {
    Gen1MqttState s;
    EXPECT_FALSE(s.online());
    EXPECT_TRUE(s.apply("online", "true"));
    EXPECT_FALSE(s.apply("online", "true"));
    EXPECT_TRUE(s.apply("online", "false"));
    EXPECT_EQ(s.online(), false);
    EXPECT_FALSE(s.apply("online", "maybe"));
    EXPECT_EQ(s.online(), false);

    EXPECT_TRUE(s.apply("relay/0/power", "10.5"));
    EXPECT_FALSE(s.apply("relay/0/power", " 10.5\n"));
    EXPECT_TRUE(s.apply("relay/0/power", "11"));
}

TEST(Gen1MqttState, OverpowerMeansOffAndIsFlagged) {
    Gen1MqttState s;
    EXPECT_TRUE(s.apply("relay/0", "on"));
    EXPECT_FALSE(s.overpower(0));
    EXPECT_TRUE(s.apply("relay/0", "overpower"));
    EXPECT_TRUE(s.overpower(0));
    EXPECT_EQ(s.readings(kReceived)[0].relay, false);
    EXPECT_TRUE(s.apply("relay/0", "off"));  // off without overpower is a change of flag
    EXPECT_FALSE(s.overpower(0));
    EXPECT_FALSE(s.apply("relay/0", "off"));
    EXPECT_FALSE(s.apply("relay/0", "ON"));  // case-sensitive like the firmware
}

TEST(Gen1MqttState, MultipleChannelsSorted) {
    Gen1MqttState s;
    EXPECT_TRUE(s.apply("relay/2/energy", "120"));
    EXPECT_TRUE(s.apply("relay/0/energy", "60"));
    EXPECT_TRUE(s.apply("relay/1", "on"));
    EXPECT_TRUE(s.apply("temperature", "40.5"));
    auto r = s.readings(kReceived);
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].channel, 0);
    EXPECT_DOUBLE_EQ(r[0].counter_raw.value(), 60.0);
    EXPECT_EQ(r[1].channel, 1);
    EXPECT_EQ(r[1].relay, true);
    EXPECT_FALSE(r[1].counter_raw);
    EXPECT_EQ(r[2].channel, 2);
    for (const auto& x : r) EXPECT_DOUBLE_EQ(x.temperature_c.value(), 40.5);
}

TEST(Gen1MqttState, TemperatureAloneGivesChannelZero) {
    Gen1MqttState s;
    EXPECT_TRUE(s.readings(kReceived).empty());
    EXPECT_TRUE(s.apply("temperature", "27.31"));
    auto r = s.readings(kReceived);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].channel, 0);
    EXPECT_FALSE(r[0].relay);
    EXPECT_DOUBLE_EQ(r[0].temperature_c.value(), 27.31);
}

TEST(Gen1MqttState, BadPayloadsAndUnknownTopicsAreIgnored) {
    Gen1MqttState s;
    ASSERT_TRUE(s.apply("relay/0/power", "50"));
    ASSERT_TRUE(s.apply("relay/0/energy", "600"));
    for (const char* p :
         {"", "abc", "nan", "NaN", "inf", "-inf", "1e10", "-200000", "12abc", "0x10", "1,5"}) {
        EXPECT_FALSE(s.apply("relay/0/power", p)) << p;
    }
    for (const char* p : {"-1", "nan", "1e10", "x", "inf"}) {
        EXPECT_FALSE(s.apply("relay/0/energy", p)) << p;
    }
    EXPECT_FALSE(s.apply("temperature", "999"));
    EXPECT_FALSE(s.apply("temperature_f", "81.16"));
    EXPECT_FALSE(s.apply("overtemperature", "0"));
    EXPECT_FALSE(s.apply("relay/0/overpower_value", "0.00"));
    EXPECT_FALSE(s.apply("relay/256", "on"));
    EXPECT_FALSE(s.apply("relay/x", "on"));
    EXPECT_FALSE(s.apply("relay/", "on"));
    EXPECT_FALSE(s.apply("relay", "on"));
    EXPECT_FALSE(s.apply("relay/0/command", "on"));
    EXPECT_FALSE(s.apply("announce", R"({"id":"x"})"));
    EXPECT_FALSE(s.apply("relay/0/power", std::string(100000, '1')));

    auto r = s.readings(kReceived);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_DOUBLE_EQ(r[0].power_w.value(), 50.0);
    EXPECT_DOUBLE_EQ(r[0].counter_raw.value(), 600.0);
    EXPECT_FALSE(r[0].temperature_c);
}

TEST(Gen1MqttState, NegativePowerWithinLimitIsAccepted) {
    Gen1MqttState s;
    EXPECT_TRUE(s.apply("relay/0/power", "-3.5"));
    EXPECT_DOUBLE_EQ(s.readings(kReceived)[0].power_w.value(), -3.5);
}

}  // namespace
}  // namespace intelergy::drivers
