#include <intelergy/bridge/api.hpp>
#include <intelergy/fakes/in_memory_store.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <string>
#include <thread>
#include <vector>

namespace intelergy::bridge {
namespace {

using Json = nlohmann::json;
using fakes::InMemoryStore;

class ApiTest : public ::testing::Test {
protected:
    ApiTest() : api_(store_, hooks()) {}

    ApiHooks hooks() {
        ApiHooks h;
        h.info_json = [this] { return info_; };
        h.mqtt_connected = [this] { return mqtt_up_; };
        h.hierarchy_changed = [this] { ++changes_; };
        return h;
    }

    Json call(std::string_view path, const Json& body) { return call_raw(path, body.dump()); }
    Json call_raw(std::string_view path, std::string_view payload) {
        const auto out = api_.handle(path, payload);
        auto j = Json::parse(out, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << "response is not JSON: " << out;
        EXPECT_TRUE(j.is_object()) << out;
        return j;
    }
    static std::string error_of(const Json& r) { return r.value("error", std::string()); }

    // alice/home (Europe/Berlin)/kitchen
    void seed() {
        ASSERT_EQ(call("user/add", {{"name", "alice"}})["status"], "ok");
        ASSERT_EQ(
            call("profile/add",
                 {{"user", "alice"}, {"name", "home"}, {"timezone", "Europe/Berlin"}})["status"],
            "ok");
        ASSERT_EQ(call("room/add", {{"room", "alice/home/kitchen"}})["status"], "ok");
    }

    InMemoryStore store_;
    std::string info_{R"({"version":"test"})"};
    bool mqtt_up_{true};
    int changes_{0};
    Api api_;
};

// ---- the envelope ----------------------------------------------------------------------------

TEST_F(ApiTest, OkEnvelopeHasStatusAndDataAndNoError) {
    const auto r = call("user/list", Json::object());
    EXPECT_EQ(r["status"], "ok");
    EXPECT_TRUE(r["data"].is_object());
    EXPECT_FALSE(r.contains("error"));
    EXPECT_FALSE(r.contains("transaction"));
}

TEST_F(ApiTest, ErrorEnvelopeHasEmptyDataAndAMessage) {
    const auto r = call_raw("user/add", "{}");
    EXPECT_EQ(r["status"], "error");
    EXPECT_EQ(r["data"], Json::object());
    EXPECT_EQ(error_of(r), "missing field 'name'");
}

TEST_F(ApiTest, EmptyPayloadIsAnEmptyObject) {
    EXPECT_EQ(call_raw("user/list", "")["status"], "ok");
    EXPECT_EQ(error_of(call_raw("user/add", "")), "missing field 'name'");
}

TEST_F(ApiTest, TransactionIsEchoedWhateverItsJsonType) {
    const std::vector<Json> transactions = {"t-1",
                                            7,
                                            -3.5,
                                            true,
                                            false,
                                            Json::array({1, "x"}),
                                            Json{{"id", 1}, {"k", {"v"}}},
                                            "",
                                            Json::object()};
    for (const auto& t : transactions) {
        const auto ok = call("health_check", {{"transaction", t}});
        EXPECT_EQ(ok["status"], "ok");
        EXPECT_EQ(ok["transaction"], t) << t.dump();
        // Also on errors raised before and inside the handler.
        const auto unknown = call("no/such", {{"transaction", t}});
        EXPECT_EQ(unknown["status"], "error");
        EXPECT_EQ(unknown["transaction"], t) << t.dump();
        const auto bad = call("user/add", {{"transaction", t}, {"name", "a/b"}});
        EXPECT_EQ(bad["status"], "error");
        EXPECT_EQ(bad["transaction"], t) << t.dump();
    }
    EXPECT_EQ(store_.mutations(), 0U);
}

TEST_F(ApiTest, NullTransactionIsNotEchoed) {
    const auto r = call("health_check", {{"transaction", nullptr}});
    EXPECT_EQ(r["status"], "ok");
    EXPECT_FALSE(r.contains("transaction"));
}

// ---- health_check and info -------------------------------------------------------------------

TEST_F(ApiTest, HealthCheckReportsDatabaseAndMqtt) {
    auto r = call("health_check", Json::object());
    EXPECT_EQ(r["data"], (Json{{"healthy", true}, {"database", true}, {"mqtt", true}}));
    mqtt_up_ = false;
    r = call("health_check", Json::object());
    EXPECT_EQ(r["status"], "ok");
    EXPECT_EQ(r["data"]["healthy"], false);
    EXPECT_EQ(r["data"]["mqtt"], false);
    mqtt_up_ = true;
    store_.fail_next(InMemoryStore::outage());
    r = call("health_check", Json::object());
    EXPECT_EQ(r["status"], "ok");
    EXPECT_EQ(r["data"], (Json{{"healthy", false}, {"database", false}, {"mqtt", true}}));
    EXPECT_EQ(error_of(call("health_check", {{"verbose", true}})), "unknown field 'verbose'");
}

TEST_F(ApiTest, InfoReturnsTheHookPayload) {
    EXPECT_EQ(call("info", Json::object())["data"], (Json{{"version", "test"}}));
    InMemoryStore other;
    Api bare(other, ApiHooks{});
    const auto r = Json::parse(bare.handle("info", "{}"));
    EXPECT_EQ(r["status"], "ok");
    EXPECT_EQ(r["data"], Json::object());
    const auto h = Json::parse(bare.handle("health_check", "{}"));
    EXPECT_EQ(h["data"]["healthy"], true);  // no MQTT hook: MQTT is not judged
}

TEST_F(ApiTest, BrokenInfoHookBecomesAnInternalErrorNotACrash) {
    info_ = "not json {";
    const auto r = call("info", Json::object());
    EXPECT_EQ(r["status"], "error");
    EXPECT_EQ(error_of(r).rfind("internal error: ", 0), 0U) << r.dump();
}

// ---- users -----------------------------------------------------------------------------------

TEST_F(ApiTest, UserAddListRemove) {
    auto r = call("user/add", {{"name", "alice"}});
    EXPECT_EQ(r["status"], "ok");
    EXPECT_EQ(r["data"], (Json{{"name", "alice"}, {"profiles", 0}}));
    EXPECT_EQ(changes_, 1);
    ASSERT_EQ(call("user/add", {{"name", "Küche-Bob"}})["status"], "ok");
    r = call("user/list", Json::object());
    ASSERT_EQ(r["data"]["users"].size(), 2U);
    EXPECT_EQ(r["data"]["users"][0]["name"], "Küche-Bob");
    EXPECT_EQ(r["data"]["users"][1]["name"], "alice");

    r = call("user/remove", {{"name", "alice"}});
    EXPECT_EQ(r["status"], "ok");
    EXPECT_EQ(r["data"], (Json{{"name", "alice"}}));
    r = call("user/remove", {{"user", "Küche-Bob"}});  // the parent-key spelling works too
    EXPECT_EQ(r["status"], "ok") << r.dump();
    EXPECT_EQ(call("user/list", Json::object())["data"]["users"], Json::array());
    EXPECT_EQ(changes_, 4);
}

TEST_F(ApiTest, UserRemoveRefusesAUserWithProfiles) {
    seed();
    const auto before = store_.dump();
    const auto r = call("user/remove", {{"name", "alice"}});
    EXPECT_EQ(r["status"], "error");
    EXPECT_EQ(error_of(r), "user 'alice' still has 1 profile(s); remove them first");
    EXPECT_EQ(store_.dump(), before);
}

// ---- profiles --------------------------------------------------------------------------------

TEST_F(ApiTest, ProfileAddWithTariffAndCurrency) {
    ASSERT_EQ(call("user/add", {{"name", "alice"}})["status"], "ok");
    const auto r = call("profile/add", {{"user", "alice"},
                                        {"name", "home"},
                                        {"timezone", "Asia/Kathmandu"},
                                        {"tariff_per_kwh", 0.31},
                                        {"currency", "EUR"}});
    ASSERT_EQ(r["status"], "ok") << r.dump();
    EXPECT_EQ(r["data"], (Json{{"user", "alice"},
                               {"name", "home"},
                               {"path", "alice/home"},
                               {"timezone", "Asia/Kathmandu"},
                               {"rooms", 0},
                               {"tariff_per_kwh", 0.31},
                               {"currency", "EUR"}}));
}

TEST_F(ApiTest, ProfileAddByJoinedPath) {
    ASSERT_EQ(call("user/add", {{"name", "alice"}})["status"], "ok");
    const auto r = call("profile/add", {{"path", "alice/flat"}, {"timezone", "UTC"}});
    ASSERT_EQ(r["status"], "ok") << r.dump();
    EXPECT_EQ(r["data"]["path"], "alice/flat");
    EXPECT_FALSE(r["data"].contains("tariff_per_kwh"));
    EXPECT_FALSE(r["data"].contains("currency"));
}

TEST_F(ApiTest, ProfileUpdateListRemove) {
    seed();
    auto r = call("profile/update", {{"user", "alice"},
                                     {"name", "home"},
                                     {"timezone", "America/New_York"},
                                     {"tariff_per_kwh", 0}});
    ASSERT_EQ(r["status"], "ok") << r.dump();
    EXPECT_EQ(r["data"]["timezone"], "America/New_York");
    EXPECT_EQ(r["data"]["tariff_per_kwh"], 0.0);
    EXPECT_EQ(r["data"]["rooms"], 1);
    r = call("profile/update", {{"path", "alice/home"}, {"currency", "USD"}});
    ASSERT_EQ(r["status"], "ok") << r.dump();
    EXPECT_EQ(r["data"]["currency"], "USD");
    EXPECT_EQ(r["data"]["timezone"], "America/New_York");

    r = call("profile/list", {{"user", "alice"}});
    ASSERT_EQ(r["data"]["profiles"].size(), 1U);
    EXPECT_EQ(r["data"]["profiles"][0]["currency"], "USD");

    r = call("profile/remove", {{"user", "alice"}, {"name", "home"}});
    EXPECT_EQ(r["status"], "error");
    EXPECT_EQ(error_of(r), "profile 'alice/home' still has 1 room(s); remove them first");
    ASSERT_EQ(call("room/remove", {{"room", "alice/home/kitchen"}})["status"], "ok");
    r = call("profile/remove", {{"path", "alice/home"}});
    EXPECT_EQ(r["status"], "ok") << r.dump();
    EXPECT_EQ(r["data"], (Json{{"user", "alice"}, {"name", "home"}}));
    EXPECT_EQ(call("profile/list", {{"user", "alice"}})["data"]["profiles"], Json::array());
}

TEST_F(ApiTest, ProfileListOfAnUnknownUserIsNotFound) {
    EXPECT_EQ(error_of(call("profile/list", {{"user", "ghost"}})), "user 'ghost' not found");
}

// ---- rooms -----------------------------------------------------------------------------------

TEST_F(ApiTest, RoomAddRenameListRemove) {
    seed();
    auto r = call("room/add", {{"user", "alice"}, {"profile", "home"}, {"name", "office"}});
    ASSERT_EQ(r["status"], "ok");
    EXPECT_EQ(r["data"], (Json{{"user", "alice"},
                               {"profile", "home"},
                               {"name", "office"},
                               {"path", "alice/home/office"},
                               {"devices", 0}}));

    r = call("room/rename",
             {{"user", "alice"}, {"profile", "home"}, {"name", "office"}, {"to", "study"}});
    ASSERT_EQ(r["status"], "ok") << r.dump();
    EXPECT_EQ(r["data"]["path"], "alice/home/study");
    // By path, "name" is the new name.
    r = call("room/rename", {{"room", "alice/home/study"}, {"name", "den"}});
    ASSERT_EQ(r["status"], "ok") << r.dump();
    EXPECT_EQ(r["data"]["name"], "den");
    r = call("room/rename", {{"room", "alice/home/den"}, {"to", "library"}});
    ASSERT_EQ(r["status"], "ok") << r.dump();

    r = call("room/list", {{"user", "alice"}, {"profile", "home"}});
    ASSERT_EQ(r["data"]["rooms"].size(), 2U);
    EXPECT_EQ(r["data"]["rooms"][0]["name"], "kitchen");
    EXPECT_EQ(r["data"]["rooms"][1]["path"], "alice/home/library");
    EXPECT_EQ(call("room/list", {{"path", "alice/home"}})["data"]["rooms"].size(), 2U);

    r = call("room/remove", {{"user", "alice"}, {"profile", "home"}, {"name", "library"}});
    EXPECT_EQ(r["status"], "ok");
    EXPECT_EQ(r["data"]["path"], "alice/home/library");
    EXPECT_EQ(call("room/list", {{"path", "alice/home"}})["data"]["rooms"].size(), 1U);
}

TEST_F(ApiTest, RoomRemoveKeepsARoomWithDevicesOrTheirHistory) {
    seed();
    store::DeviceRow d;
    d.id = "shelly-aabbccddeeff";
    d.user = "alice";
    d.profile = "home";
    d.room = "kitchen";
    d.name = "kettle";
    d.mac = "aabbccddeeff";
    ASSERT_TRUE(store_.add_device(d));
    auto r = call("room/remove", {{"room", "alice/home/kitchen"}});
    EXPECT_EQ(error_of(r),
              "room 'alice/home/kitchen' still has 1 device(s); remove or move them first");
    EXPECT_EQ(call("room/list", {{"path", "alice/home"}})["data"]["rooms"][0]["devices"], 1);
    ASSERT_TRUE(store_.remove_device(d.id));
    r = call("room/remove", {{"room", "alice/home/kitchen"}});
    EXPECT_EQ(error_of(r),
              "room 'alice/home/kitchen' holds the history of removed devices; it is kept");
}

// ---- every bad request: an error naming the problem, and nothing written ---------------------

struct BadCase {
    std::string path;
    std::string payload;
    std::string expect_in_error;
};

void PrintTo(const BadCase& c, std::ostream* os) {
    *os << c.path << " " << c.payload.substr(0, 80) << (c.payload.size() > 80 ? "…" : "");
}

class ApiBadRequest : public ApiTest, public ::testing::WithParamInterface<BadCase> {};

TEST_P(ApiBadRequest, GetsAnErrorNamingTheProblemAndWritesNothing) {
    seed();
    const auto before = store_.dump();
    const auto writes = store_.mutations();
    const int changes = changes_;
    const auto& c = GetParam();
    const auto r = call_raw(c.path, c.payload);
    EXPECT_EQ(r.value("status", ""), "error") << r.dump();
    EXPECT_NE(error_of(r).find(c.expect_in_error), std::string::npos) << r.dump();
    EXPECT_EQ(r["data"], Json::object());
    EXPECT_EQ(store_.dump(), before);
    EXPECT_EQ(store_.mutations(), writes);
    EXPECT_EQ(changes_, changes) << "hierarchy_changed fired for a rejected request";
}

const std::string LONG_NAME(65, 'x');

INSTANTIATE_TEST_SUITE_P(
    EveryClass, ApiBadRequest,
    ::testing::Values(
        // unknown path
        BadCase{"no/such/thing", "{}", "unknown request 'no/such/thing'"},
        BadCase{"", "{}", "unknown request ''"},
        BadCase{"user/add/", R"({"name":"x"})", "unknown request 'user/add/'"},
        BadCase{"USER/ADD", R"({"name":"x"})", "unknown request"},
        // not JSON / not an object
        BadCase{"user/add", "not json", "not valid JSON"},
        BadCase{"user/add", R"({"name":"x")", "not valid JSON"},
        BadCase{"user/add", R"({"name":"x"} trailing)", "not valid JSON"},
        BadCase{"user/add", " ", "not valid JSON"},
        BadCase{"user/add", "{\"name\":\"\xff\"}", "not valid JSON"},
        BadCase{"user/add", "[1,2]", "must be a JSON object"},
        BadCase{"user/add", "42", "must be a JSON object"},
        BadCase{"user/add", R"("name")", "must be a JSON object"},
        BadCase{"user/add", "null", "must be a JSON object"},
        BadCase{"user/add", "true", "must be a JSON object"},
        BadCase{"user/add", R"({"name":")" + std::string(MAX_REQUEST_BYTES, 'a') + R"("})",
                "payload too large"},
        // missing fields
        BadCase{"user/add", "{}", "missing field 'name'"},
        BadCase{"user/remove", "{}", "missing field 'name'"},
        BadCase{"profile/add", R"({"user":"alice","name":"flat"})", "missing field 'timezone'"},
        BadCase{"profile/add", R"({"name":"flat","timezone":"UTC"})", "missing field 'user'"},
        BadCase{"profile/update", R"({"user":"alice"})", "missing field 'name'"},
        BadCase{"profile/list", "{}", "missing field 'user'"},
        BadCase{"room/add", R"({"user":"alice","name":"x"})", "missing field 'profile'"},
        BadCase{"room/list", R"({"user":"alice"})", "missing field 'profile'"},
        BadCase{"room/rename", R"({"room":"alice/home/kitchen"})", "missing field 'to'"},
        BadCase{"room/rename", R"({"user":"alice","profile":"home","name":"kitchen"})",
                "missing field 'to'"},
        BadCase{"room/remove", R"({"user":"alice","profile":"home"})", "missing field 'name'"},
        // wrongly typed fields
        BadCase{"user/add", R"({"name":5})", "field 'name' must be a string, got number"},
        BadCase{"user/add", R"({"name":null})", "must be a string, got null"},
        BadCase{"user/add", R"({"name":["a"]})", "must be a string, got array"},
        BadCase{"user/add", R"({"name":{"a":1}})", "must be a string, got object"},
        BadCase{"user/add", R"({"name":true})", "must be a string, got boolean"},
        BadCase{"profile/add", R"({"user":"alice","name":"f","timezone":1})",
                "field 'timezone' must be a string"},
        BadCase{"profile/add",
                R"({"user":"alice","name":"f","timezone":"UTC","tariff_per_kwh":"cheap"})",
                "field 'tariff_per_kwh' must be a number, got string"},
        BadCase{"profile/add",
                R"({"user":"alice","name":"f","timezone":"UTC","tariff_per_kwh":-1})",
                "field 'tariff_per_kwh' must be between"},
        BadCase{"profile/add",
                R"({"user":"alice","name":"f","timezone":"UTC","tariff_per_kwh":1e300})",
                "field 'tariff_per_kwh' must be between"},
        BadCase{"profile/add",
                R"({"user":"alice","name":"f","timezone":"UTC","tariff_per_kwh":1e400})",
                "not valid JSON"},
        BadCase{"profile/add", R"({"user":"alice","name":"f","timezone":"UTC","currency":3})",
                "field 'currency' must be a string"},
        BadCase{"profile/add",
                R"({"user":"alice","name":"f","timezone":"UTC","currency":"EURO-DOLLAR"})",
                "field 'currency' is too long"},
        BadCase{"profile/update", R"({"user":"alice","name":"home","tariff_per_kwh":true})",
                "must be a number, got boolean"},
        BadCase{"room/add", R"({"room":7})", "field 'room' must be a string"},
        BadCase{"room/rename", R"({"room":"alice/home/kitchen","to":false})",
                "field 'to' must be a string"},
        // names: empty, too long, '/', '+', '#', NUL, control characters
        BadCase{"user/add", R"({"name":""})", "field 'name' must not be empty"},
        BadCase{"user/add", R"({"name":")" + LONG_NAME + R"("})", "longer than 64"},
        BadCase{"user/add", R"({"name":"a/b"})", "must not contain '/'"},
        BadCase{"user/add", R"({"name":"a+b"})", "must not contain '+'"},
        BadCase{"user/add", R"({"name":"a#b"})", "must not contain '#'"},
        BadCase{"user/add", R"({"name":"a\u0000b"})", "control characters"},
        BadCase{"user/add", R"({"name":"a\nb"})", "control characters"},
        BadCase{"user/add", R"({"name":"a\tb"})", "control characters"},
        BadCase{"user/add", R"({"name":"a\u007fb"})", "control characters"},
        BadCase{"user/add", R"({"name":"a\u0085b"})", "control characters"},
        BadCase{"user/add", R"({"name":".."})", "must not be '.' or '..'"},
        BadCase{"user/add", R"({"name":" alice"})", "must not start or end with a space"},
        BadCase{"profile/add", R"({"user":"alice","name":"a#","timezone":"UTC"})",
                "field 'name' must not contain '#'"},
        BadCase{"profile/add", R"({"path":"alice/","timezone":"UTC"})", "must not be empty"},
        BadCase{"room/add", R"({"user":"alice","profile":"home","name":"k+"})",
                "field 'name' must not contain '+'"},
        BadCase{"room/add", R"({"room":"alice/home/a+b"})", "field 'room' must not contain '+'"},
        BadCase{"room/add", R"({"room":"alice/home"})", "must have 3 parts"},
        BadCase{"room/add", R"({"room":"alice/home/kitchen/x"})", "must have 3 parts"},
        BadCase{"room/add", R"({"room":"alice//kitchen"})", "must not be empty"},
        BadCase{"room/rename", R"({"room":"alice/home/kitchen","to":"a#"})",
                "field 'to' must not contain '#'"},
        BadCase{"room/rename", R"({"room":"alice/home/kitchen","to":")" + LONG_NAME + R"("})",
                "field 'to' is longer than 64"},
        // time zones
        BadCase{"profile/add", R"({"user":"alice","name":"f","timezone":"Mars/Olympus"})",
                "unknown time zone 'Mars/Olympus'"},
        BadCase{"profile/add", R"({"user":"alice","name":"f","timezone":"../../etc/passwd"})",
                "unknown time zone"},
        BadCase{"profile/add", R"({"user":"alice","name":"f","timezone":"/etc/localtime"})",
                "unknown time zone"},
        BadCase{"profile/add", R"({"user":"alice","name":"f","timezone":"zone.tab"})",
                "unknown time zone"},
        BadCase{"profile/add", R"({"user":"alice","name":"f","timezone":""})", "unknown time zone"},
        BadCase{"profile/add", R"({"user":"alice","name":"f","timezone":"Europe"})",
                "unknown time zone"},
        BadCase{"profile/update", R"({"user":"alice","name":"home","timezone":"Nowhere"})",
                "unknown time zone 'Nowhere'"},
        // duplicates and missing parents (the store's answer)
        BadCase{"user/add", R"({"name":"alice"})", "user 'alice' already exists"},
        BadCase{"profile/add", R"({"user":"alice","name":"home","timezone":"UTC"})",
                "profile 'alice/home' already exists"},
        BadCase{"profile/add", R"({"user":"nobody","name":"x","timezone":"UTC"})",
                "user 'nobody' not found"},
        BadCase{"profile/update", R"({"user":"alice","name":"flat","currency":"EUR"})",
                "profile 'alice/flat' not found"},
        BadCase{"room/add", R"({"room":"alice/home/kitchen"})",
                "room 'alice/home/kitchen' already exists"},
        BadCase{"room/add", R"({"user":"alice","profile":"nope","name":"x"})",
                "profile 'alice/nope' not found"},
        BadCase{"room/rename", R"({"room":"alice/home/kitchen","to":"kitchen"})", "already exists"},
        BadCase{"room/rename", R"({"room":"alice/home/attic","to":"loft"})",
                "room 'alice/home/attic' not found"},
        BadCase{"room/remove", R"({"room":"alice/home/attic"})", "not found"},
        BadCase{"room/list", R"({"user":"alice","profile":"flat"})", "not found"},
        BadCase{"user/remove", R"({"name":"ghost"})", "user 'ghost' not found"},
        BadCase{"profile/remove", R"({"user":"alice","name":"flat"})", "not found"},
        // unknown fields
        BadCase{"user/add", R"({"name":"carol","nmae":"x"})", "unknown field 'nmae'"},
        BadCase{"user/list", R"({"all":true})", "unknown field 'all'"},
        BadCase{"info", R"({"x":1})", "unknown field 'x'"},
        BadCase{"user/remove", R"({"user":"alice","name":"alice"})", "unknown field 'name'"},
        BadCase{"profile/add", R"({"user":"alice","name":"f","timezone":"UTC","tarif":1})",
                "unknown field 'tarif'"},
        BadCase{"profile/add", R"({"path":"alice/f","user":"alice","timezone":"UTC"})",
                "unknown field 'user'"},
        BadCase{"room/add", R"({"room":"alice/home/x","name":"y"})", "unknown field 'name'"},
        BadCase{"room/list", R"({"user":"alice","profile":"home","name":"kitchen"})",
                "unknown field 'name'"},
        // nothing to do
        BadCase{"profile/update", R"({"user":"alice","name":"home"})", "nothing to update"}),
    // Test names: index and path ("12_user_add"); the payload is printed on failure.
    [](const ::testing::TestParamInfo<BadCase>& param) {
        std::string name = std::to_string(param.index) + "_";
        for (const char ch : param.param.path)
            name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
        return name;
    });

// ---- database outage -------------------------------------------------------------------------

TEST_F(ApiTest, DatabaseOutageGivesAnErrorResponseForEveryRequest) {
    seed();
    const auto before = store_.dump();
    const std::vector<std::pair<std::string, Json>> requests = {
        {"user/add", {{"name", "bob"}}},
        {"user/remove", {{"name", "alice"}}},
        {"user/list", Json::object()},
        {"profile/add", {{"user", "alice"}, {"name", "flat"}, {"timezone", "UTC"}}},
        {"profile/update", {{"path", "alice/home"}, {"timezone", "UTC"}}},
        {"profile/remove", {{"path", "alice/home"}}},
        {"profile/list", {{"user", "alice"}}},
        {"room/add", {{"room", "alice/home/hall"}}},
        {"room/rename", {{"room", "alice/home/kitchen"}, {"to", "cuisine"}}},
        {"room/remove", {{"room", "alice/home/kitchen"}}},
        {"room/list", {{"path", "alice/home"}}},
    };
    store_.fail_always(InMemoryStore::outage());
    for (const auto& [path, body] : requests) {
        auto req = body;
        req["transaction"] = path;
        const auto r = call(path, req);
        EXPECT_EQ(r["status"], "error") << path;
        EXPECT_NE(error_of(r).find("database unreachable"), std::string::npos)
            << path << " → " << r.dump();
        EXPECT_EQ(r["transaction"], path);
    }
    store_.fail_always(std::nullopt);
    EXPECT_EQ(store_.dump(), before);
    EXPECT_EQ(call("user/add", {{"name", "bob"}})["status"], "ok");  // and it recovers
}

TEST_F(ApiTest, UnexpectedStoreErrorsAreErrorsToo) {
    store_.fail_next(make_error(ErrorCode::Internal, "ERROR:  deadlock detected"));
    const auto r = call("user/add", {{"name", "bob"}});
    EXPECT_EQ(r["status"], "error");
    EXPECT_NE(error_of(r).find("deadlock detected"), std::string::npos);
    EXPECT_EQ(changes_, 0);
}

// ---- hostile payloads ------------------------------------------------------------------------

// The API worker runs on its own thread; check there, with the default thread stack.
template <typename Fn>
void on_worker_thread(Fn fn) {
    std::thread t(fn);
    t.join();
}

TEST_F(ApiTest, DeeplyNestedPayloadIsRejectedWithoutCrashing) {
    const std::size_t depth = MAX_REQUEST_BYTES / 2 - 16;
    const std::string nested = std::string(depth, '[') + std::string(depth, ']');
    on_worker_thread([&] {
        const auto r = call_raw("user/add", nested);
        EXPECT_EQ(r["status"], "error");
        const auto f = call_raw("user/add", R"({"name":"x","deep":)" + nested + "}");
        EXPECT_EQ(error_of(f), "payload nests deeper than 32 levels");
    });
}

TEST_F(ApiTest, DeeplyNestedTransactionIsRejectedWithoutCrashing) {
    // A 64 KiB {"transaction":[[[…]]]} once overflowed the worker's stack when echoed.
    const std::size_t depth = MAX_REQUEST_BYTES / 2 - 32;
    const std::string nested = std::string(depth, '[') + std::string(depth, ']');
    on_worker_thread([&] {
        const auto out = api_.handle("health_check", R"({"transaction":)" + nested + "}");
        EXPECT_NE(out.find("nests deeper than 32 levels"), std::string::npos);
    });
    // Up to the limit it is echoed as given.
    const std::string ok = std::string(31, '[') + std::string(31, ']');
    const auto out = api_.handle("health_check", R"({"transaction":)" + ok + "}");
    EXPECT_NE(out.find(R"("status":"ok")"), std::string::npos);
}

TEST_F(ApiTest, ResponsesStayValidJsonForInvalidUtf8InThePath) {
    const auto r = call_raw("user/\xff\xfe", "{}");
    EXPECT_EQ(r["status"], "error");
    EXPECT_NE(error_of(r).find("unknown request"), std::string::npos);
}

}  // namespace
}  // namespace intelergy::bridge
