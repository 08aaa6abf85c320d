// Request shapes of every client command (the MQTT API contract, DESIGN.md §4) and their output.
#include "cli_request.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace intelergy::app::cli {
namespace {

using Json = nlohmann::json;

CliArgs cmd(const std::string& command, std::string a0 = {}, std::string a1 = {}) {
    CliArgs a;
    a.command = command;
    a.args[0] = std::move(a0);
    a.args[1] = std::move(a1);
    return a;
}

// The request's path and payload, or "usage: <message>".
std::pair<std::string, Json> build(const CliArgs& a) {
    auto r = build_request(a);
    if (!r) return {"usage: " + r.error().message, Json()};
    return {r->path, Json::parse(r->payload)};
}

TEST(CliRequest, Hierarchy) {
    EXPECT_EQ(build(cmd("user add", "alice")),
              std::make_pair(std::string("user/add"), Json{{"name", "alice"}}));
    EXPECT_EQ(build(cmd("user remove", "alice")).second, (Json{{"name", "alice"}}));
    EXPECT_EQ(build(cmd("user list")), std::make_pair(std::string("user/list"), Json::object()));

    auto p = cmd("profile add", "alice/home");
    p.timezone = "Europe/Berlin";
    p.tariff = "0.32";
    p.currency = "EUR";
    EXPECT_EQ(build(p),
              std::make_pair(std::string("profile/add"), Json{{"user", "alice"},
                                                              {"name", "home"},
                                                              {"timezone", "Europe/Berlin"},
                                                              {"tariff_per_kwh", 0.32},
                                                              {"currency", "EUR"}}));
    auto u = cmd("profile update", "alice/home");
    u.tariff = "0";
    EXPECT_EQ(build(u).second,
              (Json{{"user", "alice"}, {"name", "home"}, {"tariff_per_kwh", 0.0}}));
    EXPECT_EQ(build(cmd("profile remove", "alice/home")).second,
              (Json{{"user", "alice"}, {"name", "home"}}));
    EXPECT_EQ(build(cmd("profile list", "alice")).second, (Json{{"user", "alice"}}));

    EXPECT_EQ(build(cmd("room add", "alice/home/kitchen")),
              std::make_pair(std::string("room/add"),
                             Json{{"user", "alice"}, {"profile", "home"}, {"name", "kitchen"}}));
    EXPECT_EQ(
        build(cmd("room rename", "alice/home/kitchen", "pantry")).second,
        (Json{{"user", "alice"}, {"profile", "home"}, {"name", "kitchen"}, {"to", "pantry"}}));
    EXPECT_EQ(build(cmd("room list", "alice/home")).second,
              (Json{{"user", "alice"}, {"profile", "home"}}));
}

TEST(CliRequest, HierarchyUsageErrors) {
    EXPECT_EQ(build(cmd("user add", "a/b")).first, "usage: user name must not contain '/'");
    EXPECT_EQ(build(cmd("user add", "a+b")).first, "usage: user name must not contain '+'");
    EXPECT_EQ(build(cmd("user add", std::string(65, 'x'))).first,
              "usage: user name is longer than 64 bytes");
    EXPECT_EQ(build(cmd("user add", "tab\there")).first,
              "usage: user name must not contain control characters");
    EXPECT_EQ(build(cmd("profile add", "alice/home")).first,
              "usage: --timezone is required, e.g. --timezone Europe/Berlin");
    EXPECT_EQ(build(cmd("profile update", "alice/home")).first,
              "usage: nothing to update: give --timezone, --tariff or --currency");
    auto p = cmd("profile add", "alice/home");
    p.timezone = "UTC";
    p.tariff = "cheap";
    EXPECT_EQ(build(p).first, "usage: --tariff must be a number >= 0 (price per kWh)");
    EXPECT_EQ(build(cmd("room add", "alice/home")).first,
              "usage: 'alice/home' is not a room (USER/PROFILE/ROOM): it needs 3 part(s) "
              "separated by '/'");
    EXPECT_EQ(build(cmd("room add", "alice/#/kitchen")).first,
              "usage: profile name must not contain '#' (in 'alice/#/kitchen')");
}

TEST(CliRequest, DeviceAddOverHttpAndMqtt) {
    auto a = cmd("device add", "alice/home/kitchen/kettle");
    a.url = "http://192.168.1.40";
    a.username = "admin";
    a.password = "s3cret";
    a.poll_interval = "10";
    EXPECT_EQ(build(a),
              std::make_pair(std::string("device/add"), Json{{"room", "alice/home/kitchen"},
                                                             {"name", "kettle"},
                                                             {"url", "http://192.168.1.40"},
                                                             {"username", "admin"},
                                                             {"password", "s3cret"},
                                                             {"poll_interval_s", 10}}));
    auto m = cmd("device add", "alice/home/kitchen/kettle");
    m.mqtt = true;
    m.topic_prefix = "shellyplusplugs-a1b2c3d4e5f6";
    EXPECT_EQ(build(m).second, (Json{{"room", "alice/home/kitchen"},
                                     {"name", "kettle"},
                                     {"transport", "mqtt"},
                                     {"topic_prefix", "shellyplusplugs-a1b2c3d4e5f6"}}));

    auto neither = cmd("device add", "alice/home/kitchen/kettle");
    EXPECT_EQ(build(neither).first.substr(0, 22), "usage: give either --u");
    auto both = m;
    both.url = "http://x";
    EXPECT_EQ(build(both).first.substr(0, 22), "usage: give either --u");
    auto no_prefix = cmd("device add", "alice/home/kitchen/kettle");
    no_prefix.mqtt = true;
    EXPECT_EQ(build(no_prefix).first,
              "usage: --mqtt needs --topic-prefix, e.g. shellyplusplugs-a1b2c3d4e5f6");
    auto bad_url = cmd("device add", "alice/home/kitchen/kettle");
    bad_url.url = "192.168.1.40";
    EXPECT_EQ(build(bad_url).first,
              "usage: --url must start with http:// or https://, e.g. http://192.168.1.40");
    auto bad_interval = a;
    bad_interval.poll_interval = "0";
    EXPECT_EQ(build(bad_interval).first,
              "usage: --poll-interval must be whole seconds from 1 to 86400");
    EXPECT_EQ(build(cmd("device add", "alice/home/kettle")).first.substr(0, 35),
              "usage: 'alice/home/kettle' is not a");
}

TEST(CliRequest, DeviceByIdOrPath) {
    EXPECT_EQ(build(cmd("device remove", "shelly-a1b2c3d4e5f6")),
              std::make_pair(std::string("device/remove"), Json{{"id", "shelly-a1b2c3d4e5f6"}}));
    EXPECT_EQ(build(cmd("device remove", "alice/home/kitchen/kettle")).second,
              (Json{{"device", "alice/home/kitchen/kettle"}}));
    EXPECT_EQ(build(cmd("device rename", "shelly-a1b2c3d4e5f6", "boiler")).second,
              (Json{{"id", "shelly-a1b2c3d4e5f6"}, {"to", "boiler"}}));
    EXPECT_EQ(
        build(cmd("device move", "alice/home/kitchen/kettle", "alice/home/pantry")),
        std::make_pair(std::string("device/move"), Json{{"device", "alice/home/kitchen/kettle"},
                                                        {"room", "alice/home/pantry"}}));
    auto set = cmd("device set", "shelly-a1b2c3d4e5f6", "Toggle");
    EXPECT_EQ(build(set), std::make_pair(std::string("device/set"),
                                         Json{{"id", "shelly-a1b2c3d4e5f6"}, {"relay", "TOGGLE"}}));
    set.args[1] = "on";
    set.channel = "1";
    EXPECT_EQ(build(set).second,
              (Json{{"id", "shelly-a1b2c3d4e5f6"}, {"relay", "ON"}, {"channel", 1}}));
    EXPECT_EQ(build(cmd("device set", "shelly-a1b2c3d4e5f6", "dim")).first,
              "usage: the relay state must be on, off or toggle");

    auto opts = cmd("device options", "shelly-a1b2c3d4e5f6");
    opts.poll_interval = "30";
    opts.disable = true;
    EXPECT_EQ(build(opts),
              std::make_pair(std::string("device/options"), Json{{"id", "shelly-a1b2c3d4e5f6"},
                                                                 {"poll_interval_s", 30},
                                                                 {"enabled", false}}));
    opts.enable = true;
    EXPECT_EQ(build(opts).first, "usage: give --enable or --disable, not both");
    EXPECT_EQ(build(cmd("device options", "shelly-a1b2c3d4e5f6")).first.substr(0, 24),
              "usage: nothing to change");
    EXPECT_EQ(build(cmd("device remove", "alice/home/kettle")).first.substr(0, 35),
              "usage: 'alice/home/kettle' is not a");

    EXPECT_EQ(build(cmd("device list")),
              std::make_pair(std::string("device/list"), Json::object()));
    EXPECT_EQ(build(cmd("device list", "alice/home")).first, "device/list");
    EXPECT_EQ(build(cmd("discovered")),
              std::make_pair(std::string("device/list_discovered"), Json::object()));
}

TEST(CliRequest, PasswordFileAndSeconds) {
    EXPECT_EQ(strip_trailing_newlines("s3cret\n"), "s3cret");
    EXPECT_EQ(strip_trailing_newlines("s3cret\r\n"), "s3cret");
    EXPECT_EQ(strip_trailing_newlines("with space \n\n"), "with space ");
    EXPECT_EQ(parse_seconds("10"), 10.0);
    EXPECT_EQ(parse_seconds("0.5"), 0.5);
    EXPECT_FALSE(parse_seconds("0"));
    EXPECT_FALSE(parse_seconds("ten"));
    EXPECT_FALSE(parse_seconds("10s"));
}

TEST(CliOutput, TablesAndLines) {
    EXPECT_EQ(human_output(cmd("user add", "alice"), R"({"name":"alice","profiles":0})"),
              "added user alice\n");
    EXPECT_EQ(
        human_output(cmd("user list"),
                     R"({"users":[{"name":"alice","profiles":1},{"name":"bob","profiles":0}]})"),
        "USER   PROFILES\nalice  1\nbob    0\n");
    EXPECT_EQ(human_output(cmd("user list"), R"({"users":[]})"), "no users\n");
    EXPECT_EQ(human_output(cmd("profile list", "alice"),
                           R"({"profiles":[{"path":"alice/home","timezone":"Europe/Berlin",)"
                           R"("tariff_per_kwh":0.32,"currency":"EUR","rooms":2}]})"),
              "PROFILE     TIME ZONE      TARIFF        ROOMS\n"
              "alice/home  Europe/Berlin  0.32 EUR/kWh  2\n");
    EXPECT_EQ(human_output(cmd("device add", "alice/home/kitchen/kettle"),
                           R"({"id":"shelly-a1b2c3d4e5f6","path":"alice/home/kitchen/kettle",)"
                           R"("model":"SNPL-00116EU","generation":2,"transport":"http"})"),
              "added device shelly-a1b2c3d4e5f6 as alice/home/kitchen/kettle "
              "(SNPL-00116EU, gen 2, http)\n");
    EXPECT_EQ(human_output(cmd("device set", "alice/home/kitchen/kettle", "off"), "{}"),
              "device alice/home/kitchen/kettle: relay OFF\n");
}

TEST(CliOutput, DeviceListFilteredByPath) {
    const std::string data =
        R"({"devices":[{"id":"shelly-000000000001","path":"alice/home/kitchen/kettle",)"
        R"("model":"SHPLG-S","generation":1,"transport":"http","availability":"online"},)"
        R"({"id":"shelly-000000000002","path":"alice/homework/desk/lamp","model":"SHPLG-S",)"
        R"("generation":1,"transport":"http","availability":"offline"}]})";
    const auto list = cmd("device list", "alice/home");
    EXPECT_EQ(human_output(list, data),
              "ID                   PATH                       MODEL    GEN  TRANSPORT  STATUS\n"
              "shelly-000000000001  alice/home/kitchen/kettle  SHPLG-S  1    http       online\n");
    const auto json = Json::parse(json_output(list, data));
    ASSERT_EQ(json["devices"].size(), 1U);
    EXPECT_EQ(json["devices"][0]["id"], "shelly-000000000001");
    EXPECT_EQ(Json::parse(json_output(cmd("device list"), data))["devices"].size(), 2U);
    EXPECT_EQ(human_output(cmd("device list", "bob"), data), "no devices\n");
}

}  // namespace
}  // namespace intelergy::app::cli
