#include "bridge_fixture.hpp"

namespace intelergy::test {
namespace {

using BridgeApi = BridgeFixture;

TEST_F(BridgeApi, PublishesInfoWithoutSecrets) {
    const auto info = probe_->wait_for(base_ + "/bridge/info", std::chrono::seconds(10));
    ASSERT_TRUE(info);
    // A client that subscribes later gets it as a retained message.
    MqttProbe late(*mqtt_url(), base_ + "-late");
    late.subscribe(base_ + "/bridge/info");
    const auto retained = late.wait_for(base_ + "/bridge/info", std::chrono::seconds(5));
    ASSERT_TRUE(retained);
    EXPECT_TRUE(retained->retained);
    const auto j = Json::parse(info->payload);
    EXPECT_EQ(j["base_topic"], base_);
    EXPECT_FALSE(j["version"].get<std::string>().empty());
    EXPECT_EQ(info->payload.find("password"), std::string::npos);
    EXPECT_EQ(info->payload.find(db_->dsn()), std::string::npos);
}

TEST_F(BridgeApi, HealthCheckAndTransactionEcho) {
    const auto r = request("health_check", {{"transaction", "t-42"}});
    EXPECT_EQ(r["status"], "ok");
    EXPECT_EQ(r["transaction"], "t-42");
    EXPECT_EQ(r["data"]["healthy"], true);
    EXPECT_EQ(r["data"]["database"], true);
    const auto n = request("health_check", {{"transaction", 7}});
    EXPECT_EQ(n["transaction"], 7);
}

TEST_F(BridgeApi, HierarchyRoundTrip) {
    EXPECT_EQ(request("user/add", {{"name", "alice"}})["status"], "ok");
    auto p = request("profile/add", {{"user", "alice"}, {"name", "home"},
                                     {"timezone", "Europe/Berlin"}, {"tariff_per_kwh", 0.31}});
    ASSERT_EQ(p["status"], "ok") << p.dump();
    EXPECT_EQ(p["data"]["timezone"], "Europe/Berlin");
    EXPECT_EQ(request("room/add", {{"user", "alice"}, {"profile", "home"}, {"name", "kitchen"}})
                  ["status"], "ok");
    EXPECT_EQ(request("room/add", {{"room", "alice/home/office"}})["status"], "ok");

    auto rooms = request("room/list", {{"user", "alice"}, {"profile", "home"}});
    ASSERT_EQ(rooms["status"], "ok");
    ASSERT_EQ(rooms["data"]["rooms"].size(), 2U);
    EXPECT_EQ(rooms["data"]["rooms"][0]["name"], "kitchen");
    EXPECT_EQ(rooms["data"]["rooms"][1]["path"], "alice/home/office");

    auto renamed = request("room/rename", {{"user", "alice"}, {"profile", "home"},
                                           {"name", "office"}, {"to", "study"}});
    EXPECT_EQ(renamed["status"], "ok") << renamed.dump();
    EXPECT_EQ(renamed["data"]["path"], "alice/home/study");

    auto upd = request("profile/update", {{"user", "alice"}, {"name", "home"},
                                          {"timezone", "Asia/Kathmandu"}});
    EXPECT_EQ(upd["data"]["timezone"], "Asia/Kathmandu");

    auto users = request("user/list", Json::object());
    ASSERT_EQ(users["data"]["users"].size(), 1U);
    EXPECT_EQ(users["data"]["users"][0]["profiles"], 1);

    // Removal only of empty parents: history is never dropped by accident.
    auto busy = request("user/remove", {{"name", "alice"}});
    EXPECT_EQ(busy["status"], "error");
    EXPECT_NE(busy["error"].get<std::string>().find("profile"), std::string::npos);
    EXPECT_EQ(request("room/remove", {{"room", "alice/home/study"}})["status"], "ok");
    EXPECT_EQ(request("room/remove", {{"room", "alice/home/kitchen"}})["status"], "ok");
    EXPECT_EQ(request("profile/remove", {{"user", "alice"}, {"name", "home"}})["status"], "ok");
    EXPECT_EQ(request("user/remove", {{"name", "alice"}})["status"], "ok");
    EXPECT_EQ(request("user/list", Json::object())["data"]["users"].size(), 0U);
}

struct BadCase {
    std::string path;
    std::string payload;
    std::string expect_in_error;
};

TEST_F(BridgeApi, EveryBadRequestGetsAnErrorAndWritesNothing) {
    ASSERT_EQ(request("user/add", {{"name", "bob"}})["status"], "ok");
    ASSERT_EQ(request("profile/add", {{"user", "bob"}, {"name", "flat"}, {"timezone", "UTC"}})
                  ["status"], "ok");
    ASSERT_EQ(request("room/add", {{"room", "bob/flat/hall"}})["status"], "ok");
    const auto before = snapshot();

    const std::vector<BadCase> cases = {
        {"no/such/thing", "{}", "unknown request 'no/such/thing'"},
        {"user/add", "not json", "not valid JSON"},
        {"user/add", "[1,2]", "must be a JSON object"},
        {"user/add", "42", "must be a JSON object"},
        {"user/add", "{}", "missing field 'name'"},
        {"user/add", R"({"name":5})", "must be a string"},
        {"user/add", R"({"name":""})", "must not be empty"},
        {"user/add", R"({"name":")" + std::string(65, 'x') + R"("})", "longer than 64"},
        {"user/add", R"({"name":"a/b"})", "must not contain '/'"},
        {"user/add", R"({"name":"a+b"})", "must not contain '+'"},
        {"user/add", R"({"name":"a#b"})", "must not contain '#'"},
        {"user/add", R"({"name":"a\u0000b"})", "control characters"},
        {"user/add", R"({"name":"a\nb"})", "control characters"},
        {"user/add", R"({"name":"bob"})", "already exists"},
        {"user/add", R"({"name":"carol","nmae":"x"})", "unknown field 'nmae'"},
        {"profile/add", R"({"user":"bob","name":"flat2","timezone":"Mars/Olympus"})",
         "unknown time zone"},
        {"profile/add", R"({"user":"bob","name":"flat2","timezone":"../../etc/passwd"})",
         "unknown time zone"},
        {"profile/add", R"({"user":"bob","name":"flat2"})", "missing field 'timezone'"},
        {"profile/add", R"({"user":"nobody","name":"x","timezone":"UTC"})", "not found"},
        {"profile/add", R"({"user":"bob","name":"flat","timezone":"UTC"})", "already exists"},
        {"profile/add", R"({"user":"bob","name":"f3","timezone":"UTC","tariff_per_kwh":"cheap"})",
         "must be a number"},
        {"profile/update", R"({"user":"bob","name":"flat"})", "nothing to update"},
        {"profile/update", R"({"user":"bob","name":"flat","timezone":"Nowhere"})",
         "unknown time zone"},
        {"room/add", R"({"user":"bob","profile":"flat","name":"hall"})", "already exists"},
        {"room/add", R"({"user":"bob","profile":"nope","name":"x"})", "not found"},
        {"room/add", R"({"room":"bob/flat"})", "3 parts"},
        {"room/rename", R"({"room":"bob/flat/hall"})", "missing field 'to'"},
        {"room/rename", R"({"room":"bob/flat/hall","to":"a#"})", "must not contain '#'"},
        {"room/remove", R"({"room":"bob/flat/attic"})", "not found"},
        {"user/remove", R"({"name":"ghost"})", "not found"},
    };
    for (const auto& c : cases) {
        const auto r = request_raw(c.path, c.payload);
        EXPECT_EQ(r.value("status", ""), "error") << c.path << " " << c.payload;
        EXPECT_NE(r.value("error", "").find(c.expect_in_error), std::string::npos)
            << c.path << " " << c.payload << " → " << r.dump();
    }
    EXPECT_EQ(snapshot(), before);
}

}  // namespace
}  // namespace intelergy::test
