#include "fixtures.hpp"
#include "intelergy/drivers/shelly_http.hpp"
#include "intelergy/drivers/shelly_rpc.hpp"
#include "intelergy/drivers/state_json.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace intelergy::drivers {
namespace {

using test::at_ms;
using test::fixture;

// ---- RPC over MQTT ------------------------------------------------------------------------

TEST(RpcFrame, MatchesReferenceRequest) {
    const auto doc = nlohmann::json::parse(fixture("gen2_mqtt_notifystatus.json"));
    const auto& expected = doc["rpc_over_mqtt"]["request"]["payload"];
    const std::string f = make_rpc_frame(17, "bridge-7f3a", "Switch.Set", R"({"id":0,"on":true})");
    EXPECT_EQ(f,
              R"({"id":17,"src":"bridge-7f3a","method":"Switch.Set","params":{"id":0,"on":true}})");
    EXPECT_EQ(nlohmann::json::parse(f), expected);
}

TEST(RpcFrame, NoParamsEscapingAndBadParams) {
    EXPECT_EQ(make_rpc_frame(1, "b", "Shelly.GetStatus", ""),
              R"({"id":1,"src":"b","method":"Shelly.GetStatus"})");
    EXPECT_EQ(make_rpc_frame(2, "a\"b", "M", ""), R"({"id":2,"src":"a\"b","method":"M"})");
    EXPECT_EQ(make_rpc_frame(3, "b", "M", "{not json"), R"({"id":3,"src":"b","method":"M"})");
    EXPECT_EQ(make_rpc_frame(4, "b", "M", "[1,2]"), R"({"id":4,"src":"b","method":"M"})");
    EXPECT_EQ(make_rpc_frame(18446744073709551615ULL, "b", "M", "{}"),
              R"({"id":18446744073709551615,"src":"b","method":"M","params":{}})");
    // Invalid UTF-8 in src must not throw.
    const std::string odd = make_rpc_frame(5, std::string{"\xff\xfe"}, "M", "");
    EXPECT_FALSE(odd.empty());
    EXPECT_TRUE(nlohmann::json::accept(odd));
}

TEST(RpcResponse, ResultFrame) {
    const auto doc = nlohmann::json::parse(fixture("gen2_mqtt_notifystatus.json"));
    auto r = parse_rpc_response(doc["rpc_over_mqtt"]["response"]["payload"].dump());
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->id, 17u);
    EXPECT_EQ(r->result_json, R"({"was_on":false})");
    EXPECT_FALSE(r->error_code);
    EXPECT_EQ(r->error_message, "");
}

TEST(RpcResponse, ErrorFrameFromDigestChallenge) {
    const auto doc = nlohmann::json::parse(fixture("gen2_401_digest_challenge.json"));
    auto r = parse_rpc_response(doc["ws_or_rpc_error_frame"].dump());
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->id, 5u);
    EXPECT_FALSE(r->result_json);
    EXPECT_EQ(r->error_code, 401);
    const auto challenge = nlohmann::json::parse(r->error_message);
    EXPECT_EQ(challenge["realm"], "shellyplusplugs-a1b2c3d4e5f6");
    EXPECT_EQ(challenge["nonce"], 1718371234);
}

TEST(RpcResponse, ScalarResultAndOddErrors) {
    auto scalar = parse_rpc_response(R"({"id":3,"result":null})");
    ASSERT_TRUE(scalar);
    EXPECT_EQ(scalar->result_json, "null");
    auto no_code = parse_rpc_response(R"({"id":3,"error":{"message":"boom"}})");
    ASSERT_TRUE(no_code);
    EXPECT_EQ(no_code->error_code, -1);
    EXPECT_EQ(no_code->error_message, "boom");
    auto neg = parse_rpc_response(R"({"id":3,"error":{"code":-103,"message":"Invalid argument"}})");
    ASSERT_TRUE(neg);
    EXPECT_EQ(neg->error_code, -103);
}

TEST(RpcResponse, Malformed) {
    for (const char* bad :
         {"", "x", "[]", R"({"result":{}})", R"({"id":-1,"result":{}})",
          R"({"id":"7","result":{}})", R"({"id":1.5,"result":{}})", R"({"id":7})",
          R"({"id":7,"error":"nope"})", R"({"id":7,"method":"NotifyStatus","params":{}})"}) {
        auto r = parse_rpc_response(bad);
        EXPECT_FALSE(r) << bad;
    }
}

// ---- HTTP URLs ----------------------------------------------------------------------------

TEST(HttpUrls, Builders) {
    EXPECT_EQ(shelly_info_url("http://10.0.0.5"), "http://10.0.0.5/shelly");
    EXPECT_EQ(shelly_info_url("http://127.0.0.1:8000/p/3//"), "http://127.0.0.1:8000/p/3/shelly");
    EXPECT_EQ(status_url("http://h/", Generation::Gen1), "http://h/status");
    EXPECT_EQ(status_url("http://h", Generation::Gen2), "http://h/rpc/Shelly.GetStatus");
    EXPECT_EQ(status_url("http://h", Generation::Gen4), "http://h/rpc/Shelly.GetStatus");
    EXPECT_EQ(relay_url("http://h/p/3/", Generation::Gen1, 0, RelayCommand::On),
              "http://h/p/3/relay/0?turn=on");
    EXPECT_EQ(relay_url("http://h", Generation::Gen1, 1, RelayCommand::Off),
              "http://h/relay/1?turn=off");
    EXPECT_EQ(relay_url("http://h", Generation::Gen1, 0, RelayCommand::Toggle),
              "http://h/relay/0?turn=toggle");
    EXPECT_EQ(relay_url("http://h", Generation::Gen2, 0, RelayCommand::On),
              "http://h/rpc/Switch.Set?id=0&on=true");
    EXPECT_EQ(relay_url("http://h", Generation::Gen3, 3, RelayCommand::Off),
              "http://h/rpc/Switch.Set?id=3&on=false");
    EXPECT_EQ(relay_url("http://h", Generation::Gen4, 2, RelayCommand::Toggle),
              "http://h/rpc/Switch.Toggle?id=2");
}

TEST(RelayResponse, Gen1AndGen2) {
    auto g1 = parse_relay_response(Generation::Gen1, fixture("gen1_relay0.json"));
    ASSERT_TRUE(g1);
    EXPECT_EQ(*g1, std::optional<bool>{true});
    auto g2 = parse_relay_response(Generation::Gen2, R"({"was_on":false})");
    ASSERT_TRUE(g2);
    EXPECT_FALSE(g2->has_value());
    auto on = parse_relay_response(Generation::Gen2, RelayCommand::On, R"({"was_on":false})");
    ASSERT_TRUE(on);
    EXPECT_EQ(*on, std::optional<bool>{true});
    auto off = parse_relay_response(Generation::Gen3, RelayCommand::Off, R"({"was_on":true})");
    EXPECT_EQ(*off, std::optional<bool>{false});
    auto tg = parse_relay_response(Generation::Gen4, RelayCommand::Toggle, R"({"was_on":true})");
    EXPECT_EQ(*tg, std::optional<bool>{false});
    auto g1cmd = parse_relay_response(Generation::Gen1, RelayCommand::Toggle, R"({"ison":false})");
    EXPECT_EQ(*g1cmd, std::optional<bool>{false});

    EXPECT_FALSE(parse_relay_response(Generation::Gen1, R"({"was_on":true})"));
    EXPECT_FALSE(parse_relay_response(Generation::Gen2, R"({"ison":true})"));
    EXPECT_FALSE(parse_relay_response(Generation::Gen2, RelayCommand::On, "Bad Request"));
    EXPECT_FALSE(parse_relay_response(Generation::Gen1, "[]"));
}

// ---- normalised state JSON ----------------------------------------------------------------

TEST(StateJson, FullReading) {
    Reading r;
    r.ts = at_ms(1795784400000);  // 2026-11-27T13:00:00Z
    r.power_w = 61.4;
    r.energy_wh = 20576.114;
    r.voltage_v = 230.1;
    r.current_a = 0.291;
    r.relay = true;
    r.temperature_c = 31.6;
    r.counter_raw = 99999;  // never published
    EXPECT_EQ(state_json(r),
              R"({"power_w":61.4,"energy_wh":20576.114,"voltage_v":230.1,"current_a":0.291,)"
              R"("relay":"ON","temperature_c":31.6,"ts":"2026-11-27T13:00:00.000Z"})");
    EXPECT_TRUE(nlohmann::json::accept(state_json(r)));
}

TEST(StateJson, AbsentFieldsAreLeftOut) {
    Reading r;
    r.ts = at_ms(1795784400123);
    r.relay = false;
    EXPECT_EQ(state_json(r), R"({"relay":"OFF","ts":"2026-11-27T13:00:00.123Z"})");
    Reading pm;
    pm.ts = at_ms(1795784400000);
    pm.power_w = 98.7;
    pm.energy_wh = std::numeric_limits<double>::quiet_NaN();
    EXPECT_EQ(state_json(pm), R"({"power_w":98.7,"ts":"2026-11-27T13:00:00.000Z"})");
}

TEST(StateJson, NumberFormatting) {
    EXPECT_EQ(format_number(61.42, 2), "61.42");
    EXPECT_EQ(format_number(61.4249, 2), "61.42");
    EXPECT_EQ(format_number(230.0, 1), "230");
    EXPECT_EQ(format_number(0.0, 3), "0");
    EXPECT_EQ(format_number(-0.0001, 2), "0");
    EXPECT_EQ(format_number(-3.5, 2), "-3.5");
    EXPECT_EQ(format_number(20576.116666667, 3), "20576.117");
    EXPECT_EQ(format_number(100.0, 0), "100");
    EXPECT_EQ(format_number(1e300, 2).empty(), false);
    Reading gen1;
    gen1.ts = at_ms(0);
    gen1.energy_wh = 1234567.0 / 60.0;
    gen1.power_w = 1450.25;
    EXPECT_EQ(state_json(gen1),
              R"({"power_w":1450.25,"energy_wh":20576.117,"ts":"1970-01-01T00:00:00.000Z"})");
}

}  // namespace
}  // namespace intelergy::drivers
