// SPDX-License-Identifier: MIT
#include "intelergy/sim/config.hpp"
#include "intelergy/sim/plug.hpp"
#include "sim_test_util.hpp"

#include <gtest/gtest.h>

namespace intelergy::sim {
namespace {

using test::constant_plug;
using test::keys;
using test::load_payload;
using test::T0;

TEST(SimEnergy, ConstantPowerIntegratesExactly) {
    ManualClock clock(T0 + 17 * MICROS_PER_SECOND);  // not minute aligned on purpose
    Plug plug(constant_plug(PlugKind::GEN2_PLUS_PLUG_S, 100.0), clock, 1);
    clock.advance_s(3600.0);
    const auto r = plug.reading(0);
    // Exact up to double rounding of ~60 per-minute additions.
    EXPECT_NEAR(r.truth_wh, 100.0, 1e-9);
    EXPECT_NEAR(r.counter_wh, 100.0, 1e-9);
    EXPECT_DOUBLE_EQ(r.total_wh, 100.0);
    EXPECT_DOUBLE_EQ(r.apower, 100.0);
}

TEST(SimEnergy, SquareWaveIntegratesExactly) {
    ManualClock clock(T0);
    PlugSpec s = constant_plug(PlugKind::GEN3_PLUG_S, 0);
    s.channels[0].profile = parse_profile_spec("square:10:250:60:0.25", 1);
    Plug plug(s, clock, 1);
    EXPECT_DOUBLE_EQ(plug.reading(0).power_exact, 250.0);
    clock.advance_s(20.0);
    EXPECT_DOUBLE_EQ(plug.reading(0).power_exact, 10.0);
    clock.advance_s(580.0);  // 10 periods in total
    // per period: 15 s at 250 W + 45 s at 10 W = 4200 Ws
    EXPECT_NEAR(plug.reading(0).truth_wh, 10 * 4200.0 / 3600.0, 1e-9);
}

TEST(SimEnergy, RandomWalkIsDeterministicAndBounded) {
    const auto run = [](std::uint64_t seed, int polls) {
        ManualClock clock(T0);
        PlugSpec s = constant_plug(PlugKind::GEN2_PLUS_PLUG_S, 0);
        s.channels[0].profile = parse_profile_spec("walk:20:80:10:1", seed);
        Plug plug(s, clock, 1);
        for (int i = 0; i < polls; ++i) {
            clock.advance_s(600.0 / polls);
            const auto p = plug.reading(0).power_exact;
            EXPECT_GE(p, 20.0);
            EXPECT_LE(p, 80.0);
        }
        return plug.reading(0).truth_wh;
    };
    // Same seed -> same energy, however often it is sampled; other seed -> different curve.
    EXPECT_NEAR(run(7, 3), run(7, 600), 1e-9);
    EXPECT_NE(run(7, 3), run(8, 3));
}

TEST(SimEnergy, RelayOffMeansZeroPower) {
    ManualClock clock(T0);
    Plug plug(constant_plug(PlugKind::GEN2_PLUS_PLUG_S, 120.0), clock, 1);
    clock.advance_s(1800.0);
    ASSERT_TRUE(plug.set_relay(0, false, "button"));
    clock.advance_s(1800.0);
    const auto r = plug.reading(0);
    EXPECT_DOUBLE_EQ(r.apower, 0.0);
    EXPECT_DOUBLE_EQ(r.current, 0.0);
    EXPECT_NEAR(r.truth_wh, 60.0, 1e-9);
    EXPECT_FALSE(r.output);
}

TEST(SimEnergy, ByMinuteHoldsLastThreeCompleteMinutes) {
    ManualClock clock(T0);
    Plug plug(constant_plug(PlugKind::GEN2_PLUS_PLUG_S, 60.0), clock, 1);
    clock.advance_s(150.0);
    auto st = plug.component_status(0);
    EXPECT_EQ(st["aenergy"]["minute_ts"].get<std::int64_t>(), T0 / MICROS_PER_SECOND + 120);
    // 60 W for one minute = 1 Wh = 1000 mWh
    EXPECT_EQ(st["aenergy"]["by_minute"], Json::parse("[1000.0, 1000.0, 0.0]"));
    const auto g1 = Plug(constant_plug(PlugKind::GEN1_PLUG_S, 60.0), clock, 2).gen1_meter(0);
    EXPECT_EQ(g1["counters"].size(), 3U);
}

TEST(SimCounters, Gen1RebootResetsCounterButNotTruth) {
    ManualClock clock(T0);
    Plug plug(constant_plug(PlugKind::GEN1_PLUG_S, 60.0), clock, 1);
    clock.advance_s(600.0);
    EXPECT_EQ(plug.gen1_meter(0)["total"].get<std::int64_t>(), 600);  // 60 W * 10 min = 600 Wmin
    plug.reboot();
    EXPECT_EQ(plug.gen1_meter(0)["total"].get<std::int64_t>(), 0);
    EXPECT_EQ(plug.gen1_status()["uptime"].get<std::int64_t>(), 0);
    clock.advance_s(60.0);
    EXPECT_EQ(plug.gen1_meter(0)["total"].get<std::int64_t>(), 60);
    EXPECT_NEAR(plug.reading(0).truth_wh, 11.0, 1e-9);
}

TEST(SimCounters, Gen2RebootPersistsTotalFlooredToThreeDecimals) {
    ManualClock clock(T0);
    PlugSpec s = constant_plug(PlugKind::GEN2_PLUS_PLUG_S, 0.0);
    s.initial_total_wh = 544.587493;
    Plug plug(s, clock, 1);
    EXPECT_DOUBLE_EQ(plug.component_status(0)["aenergy"]["total"].get<double>(), 544.587);
    plug.reboot();
    EXPECT_DOUBLE_EQ(plug.reading(0).counter_wh, 544.587);
    EXPECT_DOUBLE_EQ(plug.reading(0).truth_wh, 0.0);  // truth counts only simulated energy
    EXPECT_EQ(plug.sys_status()["uptime"].get<std::int64_t>(), 0);
    EXPECT_EQ(plug.boot_count(), 1U);
    EXPECT_DOUBLE_EQ(floor_to(29.750418, 3), 29.75);
}

TEST(SimCounters, Gen2ResetCountersZeroesCounterKeepsTruth) {
    ManualClock clock(T0);
    Plug plug(constant_plug(PlugKind::GEN4_STRIP, 360.0), clock, 1);
    clock.advance_s(60.0);
    const auto res = plug.rpc("Switch.ResetCounters", Json{{"id", 2}}, "HTTP_in");
    ASSERT_TRUE(res.ok);
    EXPECT_DOUBLE_EQ(res.result["aenergy"]["total"].get<double>(), 6.0);
    EXPECT_DOUBLE_EQ(plug.reading(2).counter_wh, 0.0);
    EXPECT_DOUBLE_EQ(plug.reading(2).truth_wh, 6.0);
    EXPECT_DOUBLE_EQ(plug.reading(1).counter_wh, 6.0);
    EXPECT_EQ(plug.rpc("Switch.GetStatus", Json{{"id", 4}}, "x").code, -105);
}

TEST(SimShapes, Gen1MatchesReferencePayloads) {
    ManualClock clock(T0);
    PlugSpec s = constant_plug(PlugKind::GEN1_PLUG_S, 61.42);
    s.password = "pw";
    Plug plug(s, clock, 1);
    EXPECT_EQ(keys(plug.shelly_info()), keys(load_payload("gen1_shelly.json")));
    const auto status = plug.gen1_status();
    const auto ref = load_payload("gen1_status.json");
    for (const auto& k : keys(ref)) EXPECT_TRUE(status.contains(k)) << k;
    EXPECT_EQ(keys(status["meters"][0]), keys(load_payload("gen1_meter0.json")));
    EXPECT_EQ(keys(status["relays"][0]), keys(load_payload("gen1_relay0.json")));
    EXPECT_TRUE(status["meters"][0]["total"].is_number_integer());
    EXPECT_EQ(status["meters"][0]["timestamp"].get<std::int64_t>(),
              status["unixtime"].get<std::int64_t>() + 3600);  // local time, tz +1 h
    EXPECT_FALSE(plug.shelly_info().contains("gen"));
    EXPECT_TRUE(plug.shelly_info()["auth"].get<bool>());
    EXPECT_EQ(plug.id(), "shellyplug-s-000001");
    plug.set_synced(false);
    EXPECT_EQ(plug.gen1_status()["unixtime"].get<std::int64_t>(), 0);
    EXPECT_EQ(plug.gen1_meter(0)["timestamp"].get<std::int64_t>(), 0);
}

TEST(SimShapes, Gen2AndGen3MatchReferencePayloads) {
    ManualClock clock(T0);
    PlugSpec s = constant_plug(PlugKind::GEN2_PLUS_PLUG_S, 61.4);
    s.mac = "A1B2C3D4E5F6";
    s.password = "s3cret";
    Plug g2(s, clock, 1);
    EXPECT_EQ(keys(g2.shelly_info()), keys(load_payload("gen2_shelly.json")));
    EXPECT_EQ(g2.shelly_info()["auth_domain"], "shellyplusplugs-a1b2c3d4e5f6");
    EXPECT_EQ(g2.id(), "shellyplusplugs-a1b2c3d4e5f6");
    const auto st = g2.rpc("Shelly.GetStatus", Json::object(), "x").result;
    const auto ref = load_payload("gen2_shelly_getstatus.json");
    EXPECT_EQ(keys(st), keys(ref));
    EXPECT_EQ(keys(st["switch:0"]), keys(ref["switch:0"]));
    EXPECT_EQ(keys(st["sys"]), keys(ref["sys"]));
    EXPECT_EQ(keys(st["switch:0"]["aenergy"]), keys(ref["switch:0"]["aenergy"]));

    Plug g3(constant_plug(PlugKind::GEN3_PLUG_S, 61.4), clock, 2);
    EXPECT_EQ(keys(g3.shelly_info()), keys(load_payload("gen3_shelly.json")));
    EXPECT_EQ(g3.shelly_info()["gen"], 3);
    EXPECT_EQ(keys(g3.component_status(0)), keys(load_payload("gen2_switch_getstatus.json")));

    g2.set_synced(false);
    const auto unsynced = g2.rpc("Shelly.GetStatus", Json::object(), "x").result;
    EXPECT_TRUE(unsynced["sys"]["unixtime"].is_null());
    EXPECT_TRUE(unsynced["sys"]["time"].is_null());
    EXPECT_EQ(keys(unsynced["switch:0"]["aenergy"]), std::set<std::string>{"total"});
    EXPECT_EQ(keys(unsynced["switch:0"]),
              keys(load_payload("gen2_switch_getstatus_unsynced.json")));
}

TEST(SimShapes, PlugPmHasPm1AndNoSwitch) {
    ManualClock clock(T0);
    Plug pm(constant_plug(PlugKind::GEN3_PLUG_PM, 100.0), clock, 1);
    const auto st = pm.rpc("Shelly.GetStatus", Json::object(), "x").result;
    EXPECT_TRUE(st.contains("pm1:0"));
    EXPECT_FALSE(st.contains("switch:0"));
    EXPECT_FALSE(st["pm1:0"].contains("output"));
    EXPECT_EQ(pm.rpc("Switch.GetStatus", Json{{"id", 0}}, "x").code, 404);
    EXPECT_TRUE(pm.rpc("PM1.GetStatus", Json{{"id", 0}}, "x").ok);
    EXPECT_TRUE(pm.rpc("PM1.ResetCounters", Json{{"id", 0}}, "x").ok);
}

TEST(SimShapes, StripHasFourSwitches) {
    ManualClock clock(T0);
    Plug strip(constant_plug(PlugKind::GEN4_STRIP, 10.0), clock, 1);
    const auto st = strip.rpc("Shelly.GetStatus", Json::object(), "x").result;
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(st.contains("switch:" + std::to_string(i)));
    EXPECT_TRUE(st.contains("powerstrip_ui"));
    EXPECT_TRUE(strip.id().starts_with("shellypstripg4-"));
    const auto set = strip.rpc("Switch.Set", Json{{"id", 3}, {"on", false}}, "HTTP_in");
    EXPECT_EQ(set.result, Json::parse(R"({"was_on":true})"));
    EXPECT_FALSE(strip.reading(3).output);
    EXPECT_TRUE(strip.reading(2).output);
    EXPECT_EQ(strip.rpc("Nope.Method", Json::object(), "x").code, 404);
}

TEST(SimConfig, ParsesPlugsAndRejectsUnknownKeys) {
    const auto specs = parse_config(Json::parse(R"({"plugs":[
        {"name":"a","kind":"gen1-plug-s","password":"x","profile":"constant:42"},
        {"name":"b","kind":"gen4-strip","mqtt":true,"http":false,
         "channels":[{"profile":{"type":"square","low":1,"high":2,"period_s":10}},{"on":false}]}
    ]})"));
    ASSERT_EQ(specs.size(), 2U);
    EXPECT_EQ(specs[0].kind, PlugKind::GEN1_PLUG_S);
    EXPECT_DOUBLE_EQ(specs[0].channels[0].profile.watts, 42.0);
    EXPECT_FALSE(specs[1].http);
    EXPECT_EQ(specs[1].channels[0].profile.type, ProfileType::SQUARE);
    EXPECT_FALSE(specs[1].channels[1].on);
    EXPECT_THROW(parse_config(Json::parse(R"({"plugs":[{"nmae":"x"}]})")), std::invalid_argument);
    EXPECT_THROW(parse_config(Json::parse(R"({"plugs":[{"kind":"gen9"}]})")),
                 std::invalid_argument);
}

}  // namespace
}  // namespace intelergy::sim
