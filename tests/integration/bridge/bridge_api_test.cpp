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
    // `info` answers with what bridge/info holds: the version and no secrets.
    const auto info = request("info", {{"transaction", "t-43"}});
    EXPECT_EQ(info["status"], "ok") << info.dump();
    EXPECT_EQ(info["transaction"], "t-43");
    EXPECT_FALSE(info["data"].value("version", "").empty()) << info.dump();
    EXPECT_EQ(info["data"].value("base_topic", ""), base_);
    EXPECT_EQ(info.dump().find(db_->dsn()), std::string::npos);
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
    std::string payload;  // a JSON object gets a "transaction" added, which must come back
    std::string expect_in_error;
};

// Each class of bad request from issue 2 point 5 / docs/mqtt-api.md: an error response on the
// matching response topic that names the problem, the transaction echoed, and not one row of
// the database changed, checked after every single request.
TEST_F(BridgeApi, EveryBadRequestGetsAnErrorAndWritesNothing) {
    ASSERT_EQ(request("user/add", {{"name", "bob"}})["status"], "ok");
    ASSERT_EQ(request("profile/add", {{"user", "bob"}, {"name", "flat"}, {"timezone", "UTC"}})
                  ["status"], "ok");
    ASSERT_EQ(request("room/add", {{"room", "bob/flat/hall"}})["status"], "ok");
    ASSERT_EQ(request("room/add", {{"room", "bob/flat/porch"}})["status"], "ok");
    // Every table of the schema, hierarchy and data alike.
    const auto full_snapshot = [this] {
        std::string out = snapshot();
        pqxx::connection c(db_->dsn());
        pqxx::read_transaction tx(c);
        for (const char* t : {"readings", "rollup_dirty", "energy_minute", "schema_migrations"})
            out += std::string(t) + "=" +
                   tx.exec1(std::string("SELECT count(*) FROM ") + t)[0].c_str() + "\n";
        return out;
    };
    const auto before = full_snapshot();
    const std::string long_name(65, 'x');

    const std::vector<BadCase> cases = {
        // unknown path
        {"no/such/thing", "{}", "unknown request 'no/such/thing'"},
        {"user/ad", R"({"name":"carol"})", "unknown request 'user/ad'"},
        // non-JSON
        {"user/add", "not json", "not valid JSON"},
        {"user/add", R"({"name":"carol")", "not valid JSON"},
        // non-object
        {"user/add", "[1,2]", "must be a JSON object"},
        {"user/add", "42", "must be a JSON object"},
        {"user/add", R"("carol")", "must be a JSON object"},
        {"user/add", "null", "must be a JSON object"},
        // missing field
        {"user/add", "{}", "missing field 'name'"},
        {"profile/add", R"({"user":"bob","name":"flat2"})", "missing field 'timezone'"},
        {"room/add", R"({"user":"bob","profile":"flat"})", "missing field 'name'"},
        {"room/rename", R"({"room":"bob/flat/hall"})", "missing field 'to'"},
        // wrongly typed field
        {"user/add", R"({"name":5})", "field 'name' must be a string, got number"},
        {"user/add", R"({"name":null})", "field 'name' must be a string, got null"},
        {"profile/add", R"({"user":"bob","name":"f3","timezone":7})",
         "field 'timezone' must be a string"},
        {"profile/add", R"({"user":"bob","name":"f3","timezone":"UTC","tariff_per_kwh":"cheap"})",
         "field 'tariff_per_kwh' must be a number"},
        {"profile/update", R"({"user":"bob","name":"flat","tariff_per_kwh":[1]})",
         "must be a number"},
        {"room/add", R"({"user":["bob"],"profile":"flat","name":"x"})",
         "field 'user' must be a string, got array"},
        // bad names: empty, too long, '/', '+', '#', NUL, control characters
        {"user/add", R"({"name":""})", "must not be empty"},
        {"user/add", R"({"name":")" + long_name + R"("})", "longer than 64"},
        {"user/add", R"({"name":"a/b"})", "must not contain '/'"},
        {"user/add", R"({"name":"a+b"})", "must not contain '+'"},
        {"user/add", R"({"name":"a#b"})", "must not contain '#'"},
        {"user/add", R"({"name":"a\u0000b"})", "control characters"},
        {"user/add", R"({"name":"a\nb"})", "control characters"},
        {"user/add", R"({"name":"a\u001fb"})", "control characters"},
        {"user/add", R"({"name":"a\u007fb"})", "control characters"},
        {"user/add", R"({"name":"a\u0085b"})", "control characters"},
        {"profile/add", R"({"user":"bob","name":")" + long_name + R"(","timezone":"UTC"})",
         "longer than 64"},
        {"profile/add", R"({"user":"bob","name":"","timezone":"UTC"})", "must not be empty"},
        {"room/add", R"({"user":"bob","profile":"flat","name":"a+b"})", "must not contain '+'"},
        {"room/add", R"({"room":"bob/flat/a\u0000b"})", "control characters"},
        {"room/rename", R"({"room":"bob/flat/hall","to":"a#"})", "must not contain '#'"},
        {"room/rename", R"({"room":"bob/flat/hall","to":""})", "must not be empty"},
        // unknown time zone
        {"profile/add", R"({"user":"bob","name":"flat2","timezone":"Mars/Olympus"})",
         "unknown time zone"},
        {"profile/add", R"({"user":"bob","name":"flat2","timezone":"Europe/Berln"})",
         "unknown time zone"},
        {"profile/add", R"({"user":"bob","name":"flat2","timezone":"../../etc/passwd"})",
         "unknown time zone"},
        {"profile/add", R"({"user":"bob","name":"flat2","timezone":""})", "time zone"},
        {"profile/update", R"({"user":"bob","name":"flat","timezone":"Nowhere"})",
         "unknown time zone"},
        // duplicate name
        {"user/add", R"({"name":"bob"})", "already exists"},
        {"profile/add", R"({"user":"bob","name":"flat","timezone":"UTC"})", "already exists"},
        {"room/add", R"({"user":"bob","profile":"flat","name":"hall"})", "already exists"},
        {"room/rename", R"({"room":"bob/flat/hall","to":"porch"})", "already exists"},
        // unknown field, unknown parent or item, malformed path, nothing to do
        {"user/add", R"({"name":"carol","nmae":"x"})", "unknown field 'nmae'"},
        {"profile/add", R"({"user":"nobody","name":"x","timezone":"UTC"})", "not found"},
        {"room/add", R"({"user":"bob","profile":"nope","name":"x"})", "not found"},
        {"room/add", R"({"room":"bob/flat"})", "3 parts"},
        {"profile/update", R"({"user":"bob","name":"flat"})", "nothing to update"},
        {"room/remove", R"({"room":"bob/flat/attic"})", "not found"},
        {"user/remove", R"({"name":"ghost"})", "not found"},
        {"user/remove", R"({"name":"bob"})", "profile"},  // not empty: history is kept
    };
    int n = 0;
    for (const auto& c : cases) {
        const std::string transaction = "bad-" + std::to_string(++n);
        std::string payload = c.payload;
        const auto parsed = Json::parse(payload, nullptr, false);
        const bool object = !parsed.is_discarded() && parsed.is_object();
        if (object) payload.insert(1, R"("transaction":")" + transaction + "\"" +
                                          (parsed.empty() ? "" : ","));
        const auto r = request_raw(c.path, payload);
        const std::string what = c.path + " " + payload + " → " + r.dump();
        EXPECT_EQ(r.value("status", ""), "error") << what;
        EXPECT_NE(r.value("error", "").find(c.expect_in_error), std::string::npos) << what;
        if (object) EXPECT_EQ(r.value("transaction", ""), transaction) << what;
        else EXPECT_FALSE(r.contains("transaction")) << what;
        EXPECT_EQ(full_snapshot(), before) << "database changed by " << what;
    }
    // The bridge is still serving, and a good request still writes.
    EXPECT_EQ(request("user/add", {{"name", "carol"}})["status"], "ok");
    EXPECT_NE(full_snapshot(), before);
}

}  // namespace
}  // namespace intelergy::test
