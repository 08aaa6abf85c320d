// DeviceManager (the device side of the core loop) against FakeMqttClient, FakeHttpClient and
// FakeClock: what real plugs send, as in the reference payloads (tests/data/shelly), and what the
// normalised topics must show. No broker, no plug, no database.
#include "../../../bridge/src/device_manager.hpp"

#include <intelergy/fakes/fake_clock.hpp>
#include <intelergy/fakes/fake_http_client.hpp>
#include <intelergy/fakes/fake_mqtt_client.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace intelergy::bridge {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

std::string fixture(const std::string& name) {
    std::ifstream in(std::string{INTELERGY_SOURCE_DIR} + "/tests/data/shelly/" + name);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

class DeviceManagerTest : public ::testing::Test {
protected:
    DeviceManagerTest()
        : loop_(clock_, 1024),
          rpc_(mqtt_, "intelergy-test"),
          manager_(config_, loop_, mqtt_, http_, rpc_, discovered_, clock_,
                   [this](const Reading& r, const std::optional<store::EnergyBookRow>& b) {
                       readings_.push_back(r);
                       if (b) books_.push_back(*b);
                   }) {
        manager_.on_mqtt_connected();
    }

    static store::DeviceRow row(const std::string& id, Generation gen, store::Transport transport) {
        store::DeviceRow r;
        r.id = id;
        r.user = "alice";
        r.profile = "home";
        r.room = "kitchen";
        r.name = id;
        r.mac = "A1B2C3D4E5F6";
        r.generation = gen;
        r.transport = transport;
        r.poll_interval = 10s;
        return r;
    }

    void deliver(const std::string& topic, const std::string& payload) {
        manager_.handle_message(MqttMessage{topic, payload, 0, false});
        loop_.run_pending();
    }

    // The reply to the newest RPC request published on <prefix>/rpc, carrying `result`.
    MqttMessage rpc_reply(const std::string& prefix, const std::string& result_json) {
        const auto request = mqtt_.last_on(prefix + "/rpc");
        if (!request) ADD_FAILURE() << "no RPC request on " << prefix << "/rpc";
        const auto frame = Json::parse(request ? request->payload : "{}");
        EXPECT_EQ(frame.value("src", ""), "intelergy-test");
        return {rpc_.reply_topic(),
                Json{{"id", frame.value("id", 0)}, {"src", prefix}, {"dst", "intelergy-test"},
                     {"result", Json::parse(result_json)}}
                    .dump(),
                0, false};
    }

    // Answers the newest RPC request published on <prefix>/rpc with `result`.
    void answer_rpc(const std::string& prefix, const std::string& result_json) {
        const auto reply = rpc_reply(prefix, result_json);
        deliver(reply.topic, reply.payload);
    }

    Json state(const std::string& id) {
        const auto m = mqtt_.last_on("intelergy/devices/" + id + "/state");
        if (!m) return Json::object();
        return Json::parse(m->payload);
    }

    std::string availability(const std::string& id) {
        const auto m = mqtt_.retained("intelergy/devices/" + id + "/availability");
        return m.value_or("");
    }

    std::vector<Json> events(const std::string& type) {
        std::vector<Json> out;
        for (const auto& m : mqtt_.published_on("intelergy/bridge/event")) {
            auto j = Json::parse(m.payload);
            if (j["type"] == type) out.push_back(std::move(j));
        }
        return out;
    }

    // Runs polls and their completions for `span` of fake time, in one-second steps.
    void run_for(std::chrono::seconds span) {
        for (auto t = 0s; t < span; t += 1s) {
            clock_.advance(1s);
            loop_.run_pending();
            loop_.run_pending();
        }
    }

    config::AppConfig config_;
    fakes::FakeClock clock_;
    EventLoop loop_;
    fakes::FakeMqttClient mqtt_;
    fakes::FakeHttpClient http_;
    MqttRpc rpc_;
    DiscoveredPlugs discovered_;
    std::vector<Reading> readings_;
    std::vector<store::EnergyBookRow> books_;
    DeviceManager manager_;
};

// ---- Gen1 over MQTT: shellies/<id>/... ------------------------------------------------------

TEST_F(DeviceManagerTest, Gen1MqttWattMinutesAreDividedBySixtyAndARebootIsAReset) {
    auto r = row("shelly-a1b2c3d4e5f6", Generation::Gen1, store::Transport::Mqtt);
    r.topic_prefix = "shellies/shellyplug-s-D4E5F6";
    manager_.upsert(r, {});
    const std::string p = r.topic_prefix;
    EXPECT_TRUE(mqtt_.is_subscribed_to(p + "/relay/0/energy"));
    // It publishes by itself only every mqtt_update_period: ask for its state now.
    ASSERT_TRUE(mqtt_.last_on(p + "/command"));
    EXPECT_EQ(mqtt_.last_on(p + "/command")->payload, "update");

    deliver(p + "/online", "true");
    EXPECT_EQ(availability(r.id), "online");
    deliver(p + "/relay/0", "on");
    deliver(p + "/relay/0/power", "61.42");
    deliver(p + "/relay/0/energy", "1234567");  // Wmin → 20576.117 Wh
    deliver(p + "/temperature", "27.31");
    auto s = state(r.id);
    EXPECT_EQ(s["relay"], "ON");
    EXPECT_DOUBLE_EQ(s["power_w"].get<double>(), 61.42);
    EXPECT_NEAR(s["energy_wh"].get<double>(), 1234567.0 / 60.0, 0.001);
    EXPECT_DOUBLE_EQ(s["temperature_c"].get<double>(), 27.3);
    EXPECT_EQ(mqtt_.retained("intelergy/homes/alice/home/kitchen/" + r.id + "/energy"), "20576.117");

    // Reboot: last will, back online, the counter restarts at 0 Wmin.
    deliver(p + "/online", "false");
    EXPECT_EQ(availability(r.id), "offline");
    deliver(p + "/online", "true");
    EXPECT_EQ(availability(r.id), "online");
    clock_.advance(60s);
    deliver(p + "/relay/0/energy", "120");  // 2 Wh since boot
    s = state(r.id);
    EXPECT_NEAR(s["energy_wh"].get<double>(), 1234567.0 / 60.0 + 2.0, 0.001);
    EXPECT_EQ(s["relay"], "ON");  // a counter-only message blanks nothing
    EXPECT_DOUBLE_EQ(s["power_w"].get<double>(), 61.42);
    ASSERT_EQ(events("counter_reset").size(), 1U);
    EXPECT_EQ(events("counter_reset")[0]["data"]["id"], r.id);
    ASSERT_FALSE(books_.empty());
    EXPECT_NEAR(books_.back().lifetime_wh, 1234567.0 / 60.0 + 2.0, 0.001);

    // Garbage on a value topic changes nothing.
    const auto published = mqtt_.count_on("intelergy/devices/" + r.id + "/state");
    deliver(p + "/relay/0/energy", "NaN");
    deliver(p + "/relay/0/power", "lots");
    deliver(p + "/relay/0/energy", "-5");
    EXPECT_EQ(mqtt_.count_on("intelergy/devices/" + r.id + "/state"), published);
}

TEST_F(DeviceManagerTest, Gen1AnnounceOfAnUnregisteredPlugIsOfferedOnce) {
    const auto doc = Json::parse(fixture("gen1_mqtt_messages.json"));
    const auto announce = doc["messages"][1]["payload"].dump();
    deliver("shellies/announce", announce);
    deliver("shellies/shellyplug-s-D4E5F6/announce", announce);
    const auto found = events("device_discovered");
    ASSERT_EQ(found.size(), 1U);
    EXPECT_EQ(found[0]["data"]["topic_prefix"], "shellies/shellyplug-s-D4E5F6");
    EXPECT_EQ(found[0]["data"]["mac"], "A1B2C3D4E5F6");
    EXPECT_EQ(found[0]["data"]["model"], "SHPLG-S");
    EXPECT_EQ(found[0]["data"]["generation"], 1);
}

TEST_F(DeviceManagerTest, EveryConnectAsksGen1PlugsAlreadyOnTheBrokerToAnnounce) {
    // Gen1 announces are not retained: without asking, a plug connected before the bridge would
    // stay undiscovered until it reconnects.
    const auto asked = [&] {
        std::size_t n = 0;
        for (const auto& m : mqtt_.published_on("shellies/command"))
            if (m.payload == "announce" && !m.retain) ++n;
        return n;
    };
    EXPECT_EQ(asked(), 1U);
    manager_.on_mqtt_connected();  // a reconnect asks again
    EXPECT_EQ(asked(), 2U);
}

// ---- Gen2+ over MQTT: <prefix>/online, events/rpc, status/<component> -------------------------

TEST_F(DeviceManagerTest, Gen2MqttDeltasMergeIntoTheBaselineAndNeverBlankAField) {
    auto r = row("shelly-a1b2c3d4e5f6", Generation::Gen2, store::Transport::Mqtt);
    r.topic_prefix = "shellyplusplugs-a1b2c3d4e5f6";
    const std::string p = r.topic_prefix;
    manager_.upsert(r, {});
    // Registration asks for a baseline right away (RPC over MQTT, answered on <src>/rpc).
    const auto request = mqtt_.last_on(p + "/rpc");
    ASSERT_TRUE(request);
    EXPECT_EQ(Json::parse(request->payload)["method"], "Shelly.GetStatus");
    ASSERT_NO_FATAL_FAILURE(answer_rpc(p, fixture("gen2_shelly_getstatus.json")));
    auto s = state(r.id);
    EXPECT_NEAR(s["energy_wh"].get<double>(), 20576.114, 1e-9);
    EXPECT_EQ(availability(r.id), "online");

    // The reference capture: first power+current, then only the counter.
    const auto doc = Json::parse(fixture("gen2_mqtt_notifystatus.json"));
    std::vector<std::string> frames;
    for (const auto& m : doc["messages"])
        if (m["topic"] == p + "/events/rpc" && m["payload"]["method"] == "NotifyStatus")
            frames.push_back(m["payload"].dump());
    ASSERT_GE(frames.size(), 2U);
    for (const auto& f : frames) {
        clock_.advance(30s);
        deliver(p + "/events/rpc", f);
        s = state(r.id);
        for (const char* field : {"power_w", "energy_wh", "voltage_v", "current_a", "relay", "temperature_c"})
            EXPECT_TRUE(s.contains(field)) << field << " blanked by " << f;
    }
    EXPECT_NEAR(s["energy_wh"].get<double>(), 20577.138, 1e-9);

    // A delta carrying one field only.
    deliver(p + "/events/rpc",
            R"({"src":"x","dst":"y","method":"NotifyStatus","params":{"ts":1718371300.5,"switch:0":{"id":0,"apower":99.5}}})");
    s = state(r.id);
    EXPECT_DOUBLE_EQ(s["power_w"].get<double>(), 99.5);
    EXPECT_DOUBLE_EQ(s["voltage_v"].get<double>(), 230.1);
    EXPECT_NEAR(s["energy_wh"].get<double>(), 20577.138, 1e-9);

    // NotifyEvent is not a status: nothing is published.
    const auto before = mqtt_.count_on("intelergy/devices/" + r.id + "/state");
    deliver(p + "/events/rpc",
            R"({"src":"x","dst":"y","method":"NotifyEvent","params":{"ts":1718371301,"events":[{"component":"switch:0","id":0,"event":"toggle","ts":1718371301}]}})");
    EXPECT_EQ(mqtt_.count_on("intelergy/devices/" + r.id + "/state"), before);

    // status_ntf: the complete component on <prefix>/status/switch:0.
    deliver(p + "/status/switch:0",
            R"({"id":0,"source":"button","output":false,"apower":0,"voltage":229.0,"current":0,"aenergy":{"total":20578.0}})");
    s = state(r.id);
    EXPECT_EQ(s["relay"], "OFF");
    EXPECT_NEAR(s["energy_wh"].get<double>(), 20578.0, 1e-9);

    // Last will, then back: a fresh baseline is fetched.
    deliver(p + "/online", "false");
    EXPECT_EQ(availability(r.id), "offline");
    const auto rpcs = mqtt_.count_on(p + "/rpc");
    deliver(p + "/online", "true");
    EXPECT_EQ(mqtt_.count_on(p + "/rpc"), rpcs + 1);
    EXPECT_EQ(availability(r.id), "online");
}

TEST_F(DeviceManagerTest, Gen2DeltaBeforeAnyBaselineIsHeldAndFetchesOne) {
    auto r = row("shelly-a1b2c3d4e5f6", Generation::Gen2, store::Transport::Mqtt);
    r.topic_prefix = "plug/with/levels";  // a custom prefix with slashes: own subscriptions
    const std::string p = r.topic_prefix;
    mqtt_.set_connected(false);
    manager_.upsert(r, {});  // offline broker: no baseline yet
    EXPECT_EQ(mqtt_.count_on(p + "/rpc"), 0U);
    mqtt_.set_connected(true);
    manager_.on_mqtt_connected();
    EXPECT_TRUE(mqtt_.is_subscribed_to(p + "/events/rpc"));
    EXPECT_TRUE(mqtt_.is_subscribed_to(p + "/status/switch:0"));
    EXPECT_TRUE(mqtt_.is_subscribed_to(p + "/online"));
    deliver(p + "/events/rpc",
            R"({"src":"x","dst":"y","method":"NotifyStatus","params":{"ts":1718371300.5,"switch:0":{"id":0,"apower":99.5}}})");
    // Without a baseline, a delta alone is never published (it would blank every other field).
    EXPECT_FALSE(mqtt_.last_on("intelergy/devices/" + r.id + "/state"));
    ASSERT_NO_FATAL_FAILURE(answer_rpc(p, fixture("gen2_shelly_getstatus.json")));
    // The baseline (answered after the delta) is the complete, newer status.
    const auto s = state(r.id);
    EXPECT_DOUBLE_EQ(s["power_w"].get<double>(), 61.4);
    EXPECT_DOUBLE_EQ(s["voltage_v"].get<double>(), 230.1);
    EXPECT_NEAR(s["energy_wh"].get<double>(), 20576.114, 1e-9);
}

TEST_F(DeviceManagerTest, Gen2DeltaRightAfterTheBaselineReplyIsNotOverwrittenByIt) {
    // The plug answers GetStatus, then its power changes and it pushes the change. Both frames
    // wait on the core loop, in that order: the older snapshot must not win over the delta.
    auto r = row("shelly-a1b2c3d4e5f6", Generation::Gen2, store::Transport::Mqtt);
    r.topic_prefix = "shellyplusplugs-a1b2c3d4e5f6";
    const std::string p = r.topic_prefix;
    manager_.upsert(r, {});  // asks for the baseline
    const auto reply = rpc_reply(p, fixture("gen2_shelly_getstatus.json"));
    const MqttMessage delta{p + "/events/rpc",
                            R"({"src":"x","dst":"y","method":"NotifyStatus","params":{"ts":1718371300.5,"switch:0":{"id":0,"apower":333.0}}})",
                            0, false};
    for (const auto& m : {reply, delta}) loop_.post([this, m] { manager_.handle_message(m); });
    loop_.run_pending();
    loop_.run_pending();
    const auto s = state(r.id);
    EXPECT_DOUBLE_EQ(s.value("power_w", 0.0), 333.0) << s.dump();
    EXPECT_NEAR(s.value("energy_wh", 0.0), 20576.114, 1e-9);
}

TEST(MqttRpcTest, AWaitingCallerNeverFailsAnotherCallersRequest) {
    // call_sync runs on the API thread; an asynchronous call belongs to the core loop, whose
    // callback must not run on the API thread when call_sync gives up.
    fakes::FakeMqttClient mqtt;
    MqttRpc rpc(mqtt, "intelergy-test");
    const auto start = std::chrono::steady_clock::now();
    bool other_done = false;
    rpc.call("other", "Shelly.GetStatus", "", start, [&](Result<std::string>) { other_done = true; });
    const auto r = rpc.call_sync("plug", "Shelly.GetStatus", "", 30ms, std::chrono::steady_clock::now());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::Timeout);
    EXPECT_FALSE(other_done);
    rpc.expire(std::chrono::steady_clock::now());
    EXPECT_TRUE(other_done);
}

// ---- HTTP polling ---------------------------------------------------------------------------

TEST_F(DeviceManagerTest, HttpCredentialsUseBasicForGen1AndDigestForGen2) {
    auto g1 = row("shelly-a1b2c3d4e5f6", Generation::Gen1, store::Transport::Http);
    g1.url = "http://192.0.2.10";
    g1.username = "owner";
    g1.password = "pw1";
    auto g2 = row("shelly-a1b2c3d4e5f7", Generation::Gen3, store::Transport::Http);
    g2.mac = "A1B2C3D4E5F7";
    g2.url = "http://192.0.2.11";
    g2.username = "ignored";
    g2.password = "pw3";
    http_.respond_ok("http://192.0.2.10/status", fixture("gen1_status.json"));
    http_.respond_ok("http://192.0.2.11/rpc/Shelly.GetStatus", fixture("gen2_shelly_getstatus.json"));
    manager_.upsert(g1, {});
    manager_.upsert(g2, {});
    run_for(5s);
    bool saw_g1 = false, saw_g2 = false;
    for (const auto& q : http_.requests()) {
        if (q.url == "http://192.0.2.10/status") {
            saw_g1 = true;
            EXPECT_EQ(q.auth, HttpAuth::Basic);
            EXPECT_EQ(q.username, "owner");
            EXPECT_EQ(q.password, "pw1");
        } else if (q.url == "http://192.0.2.11/rpc/Shelly.GetStatus") {
            saw_g2 = true;
            EXPECT_EQ(q.auth, HttpAuth::Digest);
            EXPECT_EQ(q.username, "admin");  // Gen2+ digest user is always admin
        }
    }
    EXPECT_TRUE(saw_g1);
    EXPECT_TRUE(saw_g2);
    EXPECT_NEAR(state(g1.id)["energy_wh"].get<double>(), 1234567.0 / 60.0, 0.001);  // Wmin ÷ 60
    EXPECT_NEAR(state(g2.id)["energy_wh"].get<double>(), 20576.114, 1e-9);           // Wh
}

TEST_F(DeviceManagerTest, RejectedCredentialsAreAStateNotARetryStorm) {
    auto r = row("shelly-a1b2c3d4e5f6", Generation::Gen2, store::Transport::Http);
    r.url = "http://192.0.2.10";
    r.password = "changed-on-the-device";
    r.poll_interval = 1s;
    config_.polling.backoff_max = 60s;
    http_.respond("http://192.0.2.10/rpc/Shelly.GetStatus",
                  fakes::FakeHttpClient::failure(HttpOutcome::AuthRejected, "credentials rejected"));
    manager_.upsert(r, {});
    run_for(120s);
    EXPECT_EQ(availability(r.id), "offline");
    EXPECT_EQ(manager_.find(r.id)->state_detail, "credentials rejected");
    // One attempt per backoff_max, not one per interval: 120 s → about 3, never 120.
    EXPECT_LE(http_.requests().size(), 4U);
    EXPECT_GE(http_.requests().size(), 2U);
    EXPECT_EQ(events("device_offline").size(), 1U);  // reported once per change
}

TEST_F(DeviceManagerTest, OfflineAfterConsecutiveFailuresOnlineAtFirstSuccessWithoutBlanking) {
    auto r = row("shelly-a1b2c3d4e5f6", Generation::Gen2, store::Transport::Http);
    r.url = "http://192.0.2.10";
    r.poll_interval = 1s;
    config_.polling.offline_after_failures = 3;
    config_.polling.backoff_max = 4s;
    bool up = true;
    http_.set_responder([&](const HttpRequest&) {
        return up ? fakes::FakeHttpClient::ok(fixture("gen2_shelly_getstatus.json"))
                  : fakes::FakeHttpClient::failure(HttpOutcome::Unreachable, "connection refused");
    });
    manager_.upsert(r, {});
    run_for(3s);
    EXPECT_EQ(availability(r.id), "online");
    const auto states = mqtt_.count_on("intelergy/devices/" + r.id + "/state");
    up = false;
    run_for(30s);
    EXPECT_EQ(availability(r.id), "offline");
    EXPECT_EQ(mqtt_.count_on("intelergy/devices/" + r.id + "/state"), states);  // no empty state
    EXPECT_EQ(mqtt_.count_on("intelergy/devices/" + r.id + "/availability"), 2U);  // online, offline
    up = true;
    run_for(6s);  // within one capped backoff
    EXPECT_EQ(availability(r.id), "online");
    EXPECT_EQ(events("device_offline").size(), 1U);
    EXPECT_EQ(events("device_online").size(), 2U);
    EXPECT_NEAR(state(r.id)["energy_wh"].get<double>(), 20576.114, 1e-9);
}

TEST_F(DeviceManagerTest, AtMostOneRequestInFlightPerDevice) {
    auto r = row("shelly-a1b2c3d4e5f6", Generation::Gen2, store::Transport::Http);
    r.url = "http://192.0.2.10";
    r.poll_interval = 1s;
    http_.set_manual(true);  // the plug does not answer until told
    http_.respond_ok("http://192.0.2.10/rpc/Shelly.GetStatus", fixture("gen2_shelly_getstatus.json"));
    manager_.upsert(r, {});
    run_for(10s);
    EXPECT_EQ(http_.requests().size(), 1U);  // ten intervals, one outstanding request
    EXPECT_EQ(http_.complete_pending(), 1U);
    loop_.run_pending();
    EXPECT_NEAR(state(r.id)["energy_wh"].get<double>(), 20576.114, 1e-9);
    run_for(2s);
    EXPECT_EQ(http_.requests().size(), 2U);  // polling goes on once it answered
}

TEST_F(DeviceManagerTest, GarbageAndWronglyTypedStatusesNeverBlankTheState) {
    auto r = row("shelly-a1b2c3d4e5f6", Generation::Gen2, store::Transport::Http);
    r.url = "http://192.0.2.10";
    r.poll_interval = 1s;
    config_.polling.backoff_max = 2s;
    std::vector<std::string> answers{
        fixture("gen2_shelly_getstatus.json"),
        "<html>not json</html>",
        R"({"switch:0":"off"})",
        std::string(300 * 1024, '['),
        R"({"sys":{}})",
    };
    std::size_t next = 0;
    http_.set_responder([&](const HttpRequest&) {
        return fakes::FakeHttpClient::ok(answers[std::min(next++, answers.size() - 1)]);
    });
    manager_.upsert(r, {});
    run_for(30s);
    ASSERT_GE(next, answers.size());
    const auto s = state(r.id);
    EXPECT_NEAR(s["energy_wh"].get<double>(), 20576.114, 1e-9);
    EXPECT_DOUBLE_EQ(s["voltage_v"].get<double>(), 230.1);
    for (const auto& m : mqtt_.published_on("intelergy/devices/" + r.id + "/state"))
        EXPECT_NE(Json::parse(m.payload).value("energy_wh", -1.0), -1.0) << m.payload;
}

}  // namespace
}  // namespace intelergy::bridge
