#include "fixtures.hpp"
#include "intelergy/drivers/gen1_mqtt_state.hpp"
#include "intelergy/drivers/gen2_status_state.hpp"
#include "intelergy/drivers/shelly_device.hpp"
#include "intelergy/drivers/shelly_http.hpp"
#include "intelergy/drivers/shelly_rpc.hpp"
#include "intelergy/drivers/shelly_status.hpp"
#include "intelergy/drivers/state_json.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

namespace intelergy::drivers {
namespace {

using test::at_s;
using test::fixture;

// Deterministic byte-level mutations of every fixture, fed to every parser. Whatever comes out
// must be an error or a Reading whose present fields respect the documented limits.
void check(const Reading& r) {
    if (r.power_w) {
        EXPECT_TRUE(std::isfinite(*r.power_w));
        EXPECT_LE(std::fabs(*r.power_w), MAX_ABS_POWER_W);
    }
    if (r.counter_raw) {
        EXPECT_GE(*r.counter_raw, 0.0);
        EXPECT_LE(*r.counter_raw, MAX_COUNTER_RAW);
    }
    if (r.voltage_v) {
        EXPECT_LE(*r.voltage_v, MAX_VOLTAGE_V);
    }
    if (r.current_a) {
        EXPECT_GE(*r.current_a, 0.0);
    }
    if (r.temperature_c) {
        EXPECT_LE(*r.temperature_c, MAX_TEMPERATURE_C);
    }
    EXPECT_FALSE(state_json(r).empty());
}

TEST(Fuzz, MutatedFixturesNeverCrashOrLeakInvalidValues) {
    const char* names[] = {"gen1_status.json",           "gen1_shelly.json",
                           "gen2_shelly.json",           "gen2_shelly_getstatus.json",
                           "gen2_switch_getstatus.json", "gen4_powerstrip_getstatus.json",
                           "gen2_notifyfullstatus.json", "gen3_plugpm_getstatus.json"};
    const char junk[] = {'{', '}', '[', ']', '"',  ',',  ':',   '-',
                         '9', 'e', '.', 'n', '\\', '\0', '\xff'};
    std::mt19937 rng(12345);
    const SysTime now = at_s(1718371300);
    for (const char* name : names) {
        const std::string base = fixture(name);
        Gen2StatusState state;
        Gen1MqttState gen1;
        for (int i = 0; i < 400; ++i) {
            std::string m = base;
            const int edits = 1 + static_cast<int>(rng() % 4);
            for (int e = 0; e < edits && !m.empty(); ++e) {
                const std::size_t pos = rng() % m.size();
                switch (rng() % 3) {
                    case 0:
                        m[pos] = junk[rng() % sizeof junk];
                        break;
                    case 1:
                        m.erase(pos, 1 + rng() % 8);
                        break;
                    default:
                        m.insert(pos, 1, junk[rng() % sizeof junk]);
                        break;
                }
            }
            if (auto r = parse_gen1_status(m, now)) {
                for (const auto& x : *r) check(x);
            }
            if (auto r = parse_gen2_status(m, now)) {
                for (const auto& x : *r) check(x);
            }
            if (auto r = parse_gen2_component("switch:0", m, now)) check(*r);
            (void)parse_device_info(m);
            (void)parse_gen1_announce(m);
            (void)parse_rpc_response(m);
            (void)parse_relay_response(Generation::Gen2, RelayCommand::Toggle, m);
            (void)make_rpc_frame(1, "src", "M", m);
            (void)state.set_full(m);
            (void)state.apply_notify(m);
            (void)state.apply_component("switch:0", m);
            for (const auto& x : state.readings(now)) check(x);
            gen1.apply("relay/0/power", m.substr(0, 12));
            gen1.apply("relay/0/energy", m.substr(0, 12));
            for (const auto& x : gen1.readings(now)) check(x);
        }
    }
}

}  // namespace
}  // namespace intelergy::drivers
