#include "intelergy/drivers/gen2_status_state.hpp"

#include "fixtures.hpp"
#include "intelergy/drivers/shelly_status.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace intelergy::drivers {
namespace {

using test::at_ms;
using test::at_s;
using test::fixture;

const SysTime kReceived = at_s(1718371300);

std::vector<std::string> frames_of(const std::string& fixture_name) {
    const auto doc = nlohmann::json::parse(fixture(fixture_name));
    std::vector<std::string> out;
    for (const auto& f : doc["frames"]) out.push_back(f.dump());
    return out;
}

std::string frame(const std::string& method, const std::string& params) {
    return R"({"src":"shellyplusplugs-a1b2c3d4e5f6","dst":"x/events","method":")" + method +
           R"(","params":)" + params + "}";
}

TEST(Gen2StatusState, EmptyStateHasNothing) {
    Gen2StatusState s;
    EXPECT_FALSE(s.has_baseline());
    EXPECT_TRUE(s.readings(kReceived).empty());
    EXPECT_FALSE(s.last_device_ts());
}

TEST(Gen2StatusState, BaselineThenPartialDeltasNeverBlankEachOther) {
    Gen2StatusState s;
    ASSERT_TRUE(s.set_full(fixture("gen2_shelly_getstatus.json")));
    EXPECT_TRUE(s.has_baseline());
    EXPECT_EQ(s.last_device_ts(), at_s(1718371234));

    const auto frames = frames_of("gen2_notify_partial_sequence.json");
    ASSERT_EQ(frames.size(), 5u);

    // 1: power only
    auto changed = s.apply_notify(frames[0]);
    ASSERT_TRUE(changed) << changed.error().describe();
    EXPECT_TRUE(*changed);
    auto r = s.readings(kReceived);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_DOUBLE_EQ(r[0].power_w.value(), 581.6);
    EXPECT_DOUBLE_EQ(r[0].current_a.value(), 0.291);  // from baseline, not blanked
    EXPECT_DOUBLE_EQ(r[0].voltage_v.value(), 230.1);
    EXPECT_DOUBLE_EQ(r[0].counter_raw.value(), 20576.114);
    EXPECT_EQ(r[0].relay, true);
    EXPECT_EQ(r[0].device_time, at_ms(1718371236410));

    // 2: current only
    ASSERT_TRUE(*s.apply_notify(frames[1]));
    r = s.readings(kReceived);
    EXPECT_DOUBLE_EQ(r[0].power_w.value(), 581.6);
    EXPECT_DOUBLE_EQ(r[0].current_a.value(), 1.819);

    // 3: aenergy only
    ASSERT_TRUE(*s.apply_notify(frames[2]));
    r = s.readings(kReceived);
    EXPECT_DOUBLE_EQ(r[0].power_w.value(), 581.6);
    EXPECT_DOUBLE_EQ(r[0].current_a.value(), 1.819);
    EXPECT_DOUBLE_EQ(r[0].counter_raw.value(), 20577.138);
    EXPECT_DOUBLE_EQ(r[0].temperature_c.value(), 31.6);
    EXPECT_EQ(s.last_device_ts(), at_ms(1718371260020));

    // 4: NotifyEvent is ignored
    auto ev = s.apply_notify(frames[3]);
    ASSERT_TRUE(ev);
    EXPECT_FALSE(*ev);
    EXPECT_EQ(s.last_device_ts(), at_ms(1718371260020));

    // 5: temperature only (nested object merged, tF kept in sync, nothing else touched)
    ASSERT_TRUE(*s.apply_notify(frames[4]));
    r = s.readings(kReceived);
    EXPECT_DOUBLE_EQ(r[0].temperature_c.value(), 33.4);
    EXPECT_DOUBLE_EQ(r[0].power_w.value(), 581.6);
    EXPECT_DOUBLE_EQ(r[0].counter_raw.value(), 20577.138);
    EXPECT_EQ(r[0].ts, kReceived);
}

TEST(Gen2StatusState, ReferenceCaptureSequenceFromSharedFixture) {
    const auto doc = nlohmann::json::parse(fixture("gen2_mqtt_notifystatus.json"));
    Gen2StatusState s;
    ASSERT_TRUE(s.set_full(fixture("gen2_shelly_getstatus.json")));
    for (std::size_t i = 1; i <= 3; ++i) {
        auto c = s.apply_notify(doc["messages"][i]["payload"].dump());
        ASSERT_TRUE(c);
        // message 1 repeats the baseline's apower/current: merged, but nothing changed
        EXPECT_EQ(*c, i != 1) << i;
    }
    auto r = s.readings(kReceived);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].relay, false);                  // switched off by button
    EXPECT_DOUBLE_EQ(r[0].power_w.value(), 61.4);  // device only sends apower later
    EXPECT_DOUBLE_EQ(r[0].counter_raw.value(), 20577.138);
    // status/switch:0 full component replaces the component
    ASSERT_TRUE(s.apply_component("switch:0", doc["messages"][4]["payload"].dump()));
    r = s.readings(kReceived);
    EXPECT_DOUBLE_EQ(r[0].power_w.value(), 0.0);
    EXPECT_DOUBLE_EQ(r[0].counter_raw.value(), 20577.85);
    EXPECT_DOUBLE_EQ(r[0].voltage_v.value(), 230.3);
    EXPECT_EQ(s.last_device_ts(), at_ms(1718371301770));
}

TEST(Gen2StatusState, ArraysAreReplacedNotMerged) {
    Gen2StatusState s;
    ASSERT_TRUE(s.set_full(
        R"({"switch:0":{"aenergy":{"total":1,"by_minute":[1,2,3]},"errors":["overtemp"]}})"));
    ASSERT_TRUE(*s.apply_notify(
        frame("NotifyStatus", R"({"switch:0":{"aenergy":{"by_minute":[9]},"errors":[]}})")));
    // Merged view is internal; observe through an unchanged counter and a second identical delta
    auto again = s.apply_notify(
        frame("NotifyStatus", R"({"switch:0":{"aenergy":{"by_minute":[9]},"errors":[]}})"));
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);  // identical delta: nothing changed
    EXPECT_DOUBLE_EQ(s.readings(kReceived)[0].counter_raw.value(), 1.0);
}

TEST(Gen2StatusState, ChangedFlagOnlyForMeteredComponents) {
    Gen2StatusState s;
    ASSERT_TRUE(s.set_full(fixture("gen2_shelly_getstatus.json")));
    auto sys = s.apply_notify(frame("NotifyStatus", R"({"ts":1718371400.5,"sys":{"uptime":9}})"));
    ASSERT_TRUE(sys);
    EXPECT_FALSE(*sys);
    EXPECT_EQ(s.last_device_ts(), at_ms(1718371400500));
    auto same = s.apply_notify(frame("NotifyStatus", R"({"switch:0":{"apower":61.4}})"));
    ASSERT_TRUE(same);
    EXPECT_FALSE(*same);
    auto diff = s.apply_notify(frame("NotifyStatus", R"({"switch:0":{"apower":61.5}})"));
    ASSERT_TRUE(diff);
    EXPECT_TRUE(*diff);
    auto pm = s.apply_notify(frame("NotifyStatus", R"({"pm1:1":{"apower":3}})"));
    ASSERT_TRUE(pm);
    EXPECT_TRUE(*pm);
    EXPECT_EQ(s.readings(kReceived).size(), 2u);
}

TEST(Gen2StatusState, DeltaBeforeBaselineIsKeptButNoBaseline) {
    Gen2StatusState s;
    auto c = s.apply_notify(
        frame("NotifyStatus", R"({"ts":1718371236.41,"switch:0":{"id":0,"apower":581.6}})"));
    ASSERT_TRUE(c);
    EXPECT_TRUE(*c);
    EXPECT_FALSE(s.has_baseline());
    auto r = s.readings(kReceived);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_DOUBLE_EQ(r[0].power_w.value(), 581.6);
    EXPECT_FALSE(r[0].counter_raw);
    EXPECT_FALSE(r[0].relay);
    EXPECT_EQ(s.last_device_ts(), at_ms(1718371236410));

    ASSERT_TRUE(s.set_full(fixture("gen2_shelly_getstatus.json")));
    EXPECT_TRUE(s.has_baseline());
    r = s.readings(kReceived);
    EXPECT_DOUBLE_EQ(r[0].power_w.value(), 61.4);  // the full status replaces
    EXPECT_DOUBLE_EQ(r[0].counter_raw.value(), 20576.114);
    // device ts never moves backwards (baseline's sys.unixtime is older than the delta's ts)
    EXPECT_EQ(s.last_device_ts(), at_ms(1718371236410));
}

TEST(Gen2StatusState, NotifyFullStatusReplacesAndEstablishesBaseline) {
    Gen2StatusState s;
    ASSERT_TRUE(*s.apply_notify(frame("NotifyStatus", R"({"switch:5":{"apower":1}})")));
    auto c = s.apply_notify(fixture("gen2_notifyfullstatus.json"));
    ASSERT_TRUE(c) << c.error().describe();
    EXPECT_TRUE(*c);
    EXPECT_TRUE(s.has_baseline());
    auto r = s.readings(kReceived);
    ASSERT_EQ(r.size(), 1u);  // switch:5 from before is gone: replaced
    EXPECT_EQ(r[0].channel, 0);
    EXPECT_DOUBLE_EQ(r[0].power_w.value(), 7.5);
    EXPECT_DOUBLE_EQ(r[0].counter_raw.value(), 812.004);
    EXPECT_EQ(s.last_device_ts(), at_ms(1718371300550));
}

// Found by tests/fuzz (notify_merge): a full status without switch/pm1 wipes the metered
// components, so it must report a change.
TEST(Gen2StatusState, NotifyFullStatusWithoutMeteredComponentsReportsTheWipe) {
    Gen2StatusState s;
    ASSERT_TRUE(*s.apply_notify(frame("NotifyStatus", R"({"switch:1":{}})")));
    ASSERT_EQ(s.readings(kReceived).size(), 1u);
    auto c = s.apply_notify(frame("NotifyFullStatus", R"({"sys":{}})"));
    ASSERT_TRUE(c) << c.error().describe();
    EXPECT_TRUE(*c);
    EXPECT_TRUE(s.readings(kReceived).empty());
    // Nothing metered before or after: no change.
    c = s.apply_notify(frame("NotifyFullStatus", R"({"sys":{"uptime":5}})"));
    ASSERT_TRUE(c);
    EXPECT_FALSE(*c);
}

TEST(Gen2StatusState, UnsyncedTsIsNotDeviceTime) {
    Gen2StatusState s;
    ASSERT_TRUE(s.set_full(fixture("gen2_shelly_getstatus_unsynced.json")));
    EXPECT_TRUE(s.has_baseline());
    EXPECT_FALSE(s.last_device_ts());
    ASSERT_TRUE(s.apply_notify(frame("NotifyStatus", R"({"ts":12.5,"switch:0":{"apower":3}})")));
    EXPECT_FALSE(s.last_device_ts());
    ASSERT_TRUE(s.apply_notify(frame("NotifyStatus", R"({"ts":null,"switch:0":{"apower":4}})")));
    auto r = s.readings(kReceived);
    EXPECT_FALSE(r[0].device_time);
    EXPECT_FALSE(r[0].temperature_c);  // tC null
    EXPECT_DOUBLE_EQ(r[0].power_w.value(), 4.0);
}

TEST(Gen2StatusState, PowerStripComponentsMergeIndependently) {
    Gen2StatusState s;
    ASSERT_TRUE(s.set_full(fixture("gen4_powerstrip_getstatus.json")));
    ASSERT_TRUE(*s.apply_notify(
        frame("NotifyStatus",
              R"({"ts":1718371301.0,"switch:2":{"id":2,"output":true,"apower":800.0},
            "switch:3":{"id":3,"aenergy":{"total":40211.5}}})")));
    auto r = s.readings(kReceived);
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[2].relay, true);
    EXPECT_DOUBLE_EQ(r[2].power_w.value(), 800.0);
    EXPECT_DOUBLE_EQ(r[2].voltage_v.value(), 229.9);
    EXPECT_DOUBLE_EQ(r[3].counter_raw.value(), 40211.5);
    EXPECT_DOUBLE_EQ(r[3].power_w.value(), 1450.2);
    EXPECT_DOUBLE_EQ(r[0].power_w.value(), 12.3);
    EXPECT_DOUBLE_EQ(r[1].counter_raw.value(), 7.25);
}

TEST(Gen2StatusState, BadFramesLeaveStateUntouched) {
    Gen2StatusState s;
    ASSERT_TRUE(s.set_full(fixture("gen2_shelly_getstatus.json")));
    const std::string bad[] = {"garbage",
                               "[]",
                               R"({"params":{}})",
                               R"({"method":5})",
                               frame("NotifyStatus", "[1]"),
                               R"({"method":"NotifyStatus"})",
                               frame("NotifyFullStatus", "7"),
                               std::string(100, '{'),
                               frame("NotifyStatus", R"({"switch:0":{"apower":61.)")};
    for (const auto& b : bad) {
        EXPECT_FALSE(s.apply_notify(b)) << b;
    }
    // A scalar in place of a component is skipped rather than wiping it.
    auto scalar = s.apply_notify(frame("NotifyStatus", R"({"switch:0":null})"));
    ASSERT_TRUE(scalar);
    EXPECT_FALSE(*scalar);
    // Unknown methods are ignored, not errors.
    auto other = s.apply_notify(R"({"method":"NotifyWakeup","params":{}})");
    ASSERT_TRUE(other);
    EXPECT_FALSE(*other);

    EXPECT_FALSE(s.set_full("{"));
    EXPECT_FALSE(s.set_full("[]"));
    EXPECT_FALSE(s.apply_component("", "{}"));
    EXPECT_FALSE(s.apply_component("switch:0", "42"));
    auto r = s.readings(kReceived);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_DOUBLE_EQ(r[0].power_w.value(), 61.4);
    EXPECT_DOUBLE_EQ(r[0].counter_raw.value(), 20576.114);
    EXPECT_EQ(r[0].relay, true);
}

TEST(Gen2StatusState, WrongTypedDeltaFieldDropsOnlyThatField) {
    Gen2StatusState s;
    ASSERT_TRUE(s.set_full(fixture("gen2_shelly_getstatus.json")));
    ASSERT_TRUE(s.apply_notify(frame("NotifyStatus", R"({"switch:0":{"apower":"lots"}})")));
    auto r = s.readings(kReceived);
    EXPECT_FALSE(r[0].power_w);
    EXPECT_DOUBLE_EQ(r[0].current_a.value(), 0.291);
    ASSERT_TRUE(s.apply_notify(frame("NotifyStatus", R"({"switch:0":{"apower":12}})")));
    EXPECT_DOUBLE_EQ(s.readings(kReceived)[0].power_w.value(), 12.0);
}

TEST(Gen2StatusState, MatchesStatelessParser) {
    Gen2StatusState s;
    const std::string full = fixture("gen4_powerstrip_getstatus.json");
    ASSERT_TRUE(s.set_full(full));
    auto a = s.readings(kReceived);
    auto b = parse_gen2_status(full, kReceived);
    ASSERT_TRUE(b);
    ASSERT_EQ(a.size(), b->size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].channel, (*b)[i].channel);
        EXPECT_EQ(a[i].power_w, (*b)[i].power_w);
        EXPECT_EQ(a[i].counter_raw, (*b)[i].counter_raw);
        EXPECT_EQ(a[i].relay, (*b)[i].relay);
        EXPECT_EQ(a[i].device_time, (*b)[i].device_time);
    }
}

TEST(Gen2StatusState, MovedFromStateIsUsable) {
    Gen2StatusState a;
    ASSERT_TRUE(a.set_full(fixture("gen2_shelly_getstatus.json")));
    Gen2StatusState b = std::move(a);
    EXPECT_TRUE(b.has_baseline());
    EXPECT_EQ(b.readings(kReceived).size(), 1u);
    EXPECT_FALSE(a.has_baseline());  // NOLINT(bugprone-use-after-move): defined as empty
    EXPECT_TRUE(a.readings(kReceived).empty());
    ASSERT_TRUE(a.apply_notify(frame("NotifyStatus", R"({"switch:0":{"apower":1}})")));
    EXPECT_EQ(a.readings(kReceived).size(), 1u);
}

TEST(Gen2StatusState, ManyDeltasStayCheap) {
    Gen2StatusState s;
    ASSERT_TRUE(s.set_full(fixture("gen4_powerstrip_getstatus.json")));
    double total = 40210.017;
    for (int i = 0; i < 20000; ++i) {
        total += 0.01;
        const std::string f = frame(
            "NotifyStatus", R"({"switch:3":{"aenergy":{"total":)" + std::to_string(total) + "}}}");
        ASSERT_TRUE(s.apply_notify(f));
    }
    EXPECT_NEAR(s.readings(kReceived)[3].counter_raw.value(), total, 1e-6);
}

}  // namespace
}  // namespace intelergy::drivers
