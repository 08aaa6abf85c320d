// Plugs end to end: the real simulator over real HTTP and a real broker, registered through the
// MQTT API, polled/consumed by the bridge, with reboots, counter resets and an offline period.
#include <cmath>
#include <map>
#include <ranges>
#include <fstream>
#include <httplib.h>
#include <pqxx/pqxx>

#include <thread>

#include "bridge_fixture.hpp"
#include "support/sim_process.hpp"

namespace intelergy::test {
namespace {

using namespace std::chrono_literals;

constexpr double WATTS = 120.0;  // every channel draws a constant load
constexpr int SPEED = 10;        // simulated seconds per real second

class Plugs : public BridgeFixture {
protected:
    void configure(config::AppConfig& c) override {
        c.polling.default_interval = 1s;
        c.polling.timeout = 800ms;
        c.polling.offline_after_failures = 2;
        c.polling.backoff_max = 2s;
    }

    void SetUp() override {
        BridgeFixture::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        sim_config_ = "/tmp/" + base_ + "-sim.json";
        const std::string watts = "constant:" + std::to_string(WATTS);
        std::ofstream(sim_config_) << one_plug_of_each_kind(base_ + "-mq", watts).dump();
        probe_->subscribe(base_ + "-mq/online");
        sim_ = std::make_unique<SimProcess>(std::vector<std::string>{
            "--config", sim_config_, "--mqtt-url", *mqtt_url(), "--speed", std::to_string(SPEED)});
        ASSERT_EQ(request("user/add", {{"name", "alice"}})["status"], "ok");
        ASSERT_EQ(request("profile/add", {{"user", "alice"}, {"name", "home"}, {"timezone", "Europe/Berlin"}})
                      ["status"], "ok");
        ASSERT_EQ(request("room/add", {{"room", "alice/home/kitchen"}})["status"], "ok");
    }

    void TearDown() override {
        sim_.reset();
        std::remove(sim_config_.c_str());
        BridgeFixture::TearDown();
    }

    // The MQTT-only plug is usable once it has told the broker it is online.
    Json add_mq() {
        EXPECT_TRUE(probe_->wait_for(base_ + "-mq/online", 20s,
                                     [](const MqttMessage& m) { return m.payload == "true"; }));
        return add("mq", {{"transport", "mqtt"}, {"topic_prefix", base_ + "-mq"}});
    }

    Json add(const std::string& name, Json extra) {
        Json body{{"room", "alice/home/kitchen"}, {"name", name}};
        body.update(extra);
        return request("device/add", body);
    }

    Json add_http(const std::string& plug, const std::string& password = "") {
        Json extra{{"url", sim_->plug(plug)["url"]}, {"poll_interval_s", 1}};
        if (!password.empty()) extra["password"] = password;
        return add(plug, extra);
    }

    // The latest retained state of a device, as any MQTT client sees it.
    Json state(const std::string& id) {
        for (auto m : probe_->messages() | std::views::reverse)
            if (m.topic == base_ + "/devices/" + id + "/state" && !m.payload.empty())
                return Json::parse(m.payload);
        return Json::object();
    }

    std::vector<double> channel_energy(const std::string& id) {
        const auto s = state(id);
        std::vector<double> out;
        if (s.contains("channels")) {
            for (const auto& c : s["channels"]) out.push_back(c.value("energy_wh", -1.0));
        } else {
            out.push_back(s.value("energy_wh", -1.0));
        }
        return out;
    }

    // Waits until a state published after `mark` satisfies `pred`.
    bool wait_state(const std::string& id, const std::function<bool(const Json&)>& pred,
                    std::chrono::milliseconds timeout = 15s, std::size_t mark = 0) {
        return probe_
            ->wait_for(base_ + "/devices/" + id + "/state", timeout,
                       [&](const MqttMessage& m) { return !m.payload.empty() && pred(Json::parse(m.payload)); },
                       mark)
            .has_value();
    }

    std::string sim_config_;
    std::unique_ptr<SimProcess> sim_;
};

TEST_F(Plugs, RegistrationChecksTheDeviceForReal) {
    const auto g2 = add_http("g2");
    ASSERT_EQ(g2["status"], "ok") << g2.dump();
    EXPECT_EQ(g2["data"]["generation"], 2);
    EXPECT_EQ(g2["data"]["model"], "SNPL-00112EU");
    EXPECT_EQ(g2["data"]["mac"], sim_->plug("g2")["mac"]);
    EXPECT_EQ(g2["data"]["transport"], "http");
    EXPECT_EQ(g2["data"]["path"], "alice/home/kitchen/g2");
    EXPECT_EQ(g2["data"]["id"], "shelly-" + [&] {
        auto m = sim_->plug("g2")["mac"].get<std::string>();
        for (auto& c : m) c = static_cast<char>(std::tolower(c));
        return m;
    }());

    const auto wrong = add_http("g3", "not-the-password");
    EXPECT_EQ(wrong["status"], "error");
    EXPECT_NE(wrong["error"].get<std::string>().find("rejected the credentials"), std::string::npos)
        << wrong.dump();
    const auto missing = add_http("g1");
    EXPECT_EQ(missing["status"], "error");
    EXPECT_NE(missing["error"].get<std::string>().find("requires a password"), std::string::npos);

    const auto dup = add("again", {{"url", sim_->plug("g2")["url"]}});
    EXPECT_EQ(dup["status"], "error");
    EXPECT_NE(dup["error"].get<std::string>().find("already registered"), std::string::npos);

    const auto unreachable = add("ghost", {{"url", "http://127.0.0.1:9"}});
    EXPECT_EQ(unreachable["status"], "error");
    EXPECT_NE(unreachable["error"].get<std::string>().find("unreachable"), std::string::npos);

    const auto no_room = request("device/add", {{"room", "alice/home/attic"}, {"name", "x"},
                                                {"url", sim_->plug("g3")["url"]}});
    EXPECT_EQ(no_room["status"], "error");
    EXPECT_NE(no_room["error"].get<std::string>().find("room 'alice/home/attic' not found"),
              std::string::npos);

    // A web server that is not a Shelly: /shelly answers a web page.
    httplib::Server web;
    web.Get("/shelly", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("<html><body>router login</body></html>", "text/html");
    });
    const int web_port = web.bind_to_any_port("127.0.0.1");
    ASSERT_GT(web_port, 0);
    std::thread web_thread([&] { web.listen_after_bind(); });  // bound: connections queue meanwhile
    const auto not_shelly = add("fake", {{"url", "http://127.0.0.1:" + std::to_string(web_port)}});
    web.stop();
    web_thread.join();
    EXPECT_EQ(not_shelly["status"], "error");
    EXPECT_NE(not_shelly.value("error", "").find("is not a Shelly"), std::string::npos) << not_shelly.dump();

    const auto list = request("device/list", Json::object());
    ASSERT_EQ(list["data"]["devices"].size(), 1U);  // only the one good plug was stored
}

TEST_F(Plugs, EveryKindReportsAndEnergyMatchesGroundTruth) {
    std::map<std::string, std::string> ids;
    for (const auto& [plug, password] : std::vector<std::pair<std::string, std::string>>{
             {"g1", "pw1"}, {"g2", ""}, {"g3", "pw3"}, {"pm", ""}, {"strip", ""}}) {
        const auto r = add_http(plug, password);
        ASSERT_EQ(r["status"], "ok") << plug << " " << r.dump();
        ids[plug] = r["data"]["id"];
    }
    const auto mq = add_mq();
    ASSERT_EQ(mq["status"], "ok") << mq.dump();
    EXPECT_EQ(mq["data"]["transport"], "mqtt");
    ids["mq"] = mq["data"]["id"];

    const auto strip = request("device/list", {{"path", "alice/home/kitchen/strip"}});
    ASSERT_EQ(strip["data"]["devices"].size(), 1U);
    EXPECT_EQ(strip["data"]["devices"][0]["channels"], 4);
    const auto pm = request("device/list", {{"path", "alice/home/kitchen/pm"}});
    EXPECT_EQ(pm["data"]["devices"][0]["has_relay"], false);

    // Every plug publishes energy; let some accumulate.
    for (const auto& [plug, id] : ids)
        ASSERT_TRUE(wait_state(id, [](const Json& s) {
            return s.value("energy_wh", 0.0) > 1.0;
        }, 30s)) << plug;

    // Faults: Gen1 reboot (counter to 0), Gen2 reboot (rounded down), ResetCounters on Gen3, an
    // offline period on the strip.
    sim_->control("/sim/fault?plug=g1&type=reboot");
    sim_->control("/sim/fault?plug=g2&type=reboot");
    sim_->control("/sim/fault?plug=g3&type=reset_counters");
    auto mark = probe_->count();
    sim_->control("/sim/fault?plug=strip&type=offline");
    EXPECT_TRUE(probe_->wait_for(base_ + "/devices/" + ids["strip"] + "/availability", 15s,
                                 [](const MqttMessage& m) { return m.payload == "offline"; }, mark));
    mark = probe_->count();
    sim_->control("/sim/fault?plug=strip&type=online");
    EXPECT_TRUE(probe_->wait_for(base_ + "/devices/" + ids["strip"] + "/availability", 15s,
                                 [](const MqttMessage& m) { return m.payload == "online"; }, mark));
    // The counter resets were seen and reported.
    EXPECT_TRUE(probe_->wait_for(base_ + "/bridge/event", 15s, [&](const MqttMessage& m) {
        return m.payload.find("counter_reset") != std::string::npos &&
               m.payload.find(ids["g1"]) != std::string::npos;
    }));

    // Energy never decreases on the state topic of any device.
    std::map<std::string, double> last;
    for (const auto& m : probe_->messages()) {
        for (const auto& [plug, id] : ids) {
            if (m.topic != base_ + "/devices/" + id + "/state" || m.payload.empty()) continue;
            const double e = Json::parse(m.payload).value("energy_wh", 0.0);
            EXPECT_GE(e + 1e-9, last[plug]) << plug << " went backwards";
            last[plug] = e;
        }
    }

    // Freeze the loads, let every plug report once more, then compare with ground truth.
    for (int ch = 0; ch < 4; ++ch)
        sim_->control("/sim/power?plug=" + std::string(ch == 0 ? "*" : "strip") +
                      "&channel=" + std::to_string(ch) + "&watts=0");
    mark = probe_->count();
    for (const auto& [plug, id] : ids)
        ASSERT_TRUE(wait_state(id, [](const Json& s) { return s.value("power_w", 1.0) == 0.0; },
                               20s, mark)) << plug;
    mark = probe_->count();
    for (const auto& [plug, id] : ids) {
        if (plug == "mq") continue;  // pushes only on change: waited for below
        ASSERT_TRUE(wait_state(id, [](const Json&) { return true; }, 10s, mark)) << plug;
    }
    // The MQTT plug's zero-power delta carries no counter: its aenergy comes with the next
    // simulated minute rollover (6 s at SPEED 10). Its truth is frozen now, so wait for that.
    const double mq_truth = sim_->truth("mq").at(0);
    EXPECT_TRUE(wait_state(ids["mq"], [&](const Json& s) {
        return std::abs(s.value("energy_wh", 0.0) - mq_truth) <= std::max(1.0, mq_truth * 0.005);
    }, 20s)) << "mq never reported its final counter " << mq_truth;
    for (const auto& [plug, id] : ids) {
        const auto truth = sim_->truth(plug);
        const auto book = channel_energy(id);
        ASSERT_EQ(book.size(), truth.size()) << plug;
        for (std::size_t ch = 0; ch < truth.size(); ++ch) {
            const double tolerance = std::max(1.0, truth[ch] * 0.005);
            EXPECT_NEAR(book[ch], truth[ch], tolerance) << plug << " channel " << ch;
        }
    }
}

TEST_F(Plugs, RelayControlAndPartialUpdatesNeverBlankFields) {
    const auto g2 = add_http("g2");
    ASSERT_EQ(g2["status"], "ok");
    const std::string id = g2["data"]["id"];
    ASSERT_TRUE(wait_state(id, [](const Json& s) { return s.value("relay", "") == "ON"; }));

    auto mark = probe_->count();
    probe_->publish(base_ + "/devices/" + id + "/set", "OFF");
    EXPECT_TRUE(wait_state(id, [](const Json& s) { return s.value("relay", "") == "OFF"; }, 10s, mark));
    const auto r = request("device/set", {{"id", id}, {"relay", "on"}});
    EXPECT_EQ(r["status"], "ok") << r.dump();
    EXPECT_TRUE(wait_state(id, [](const Json& s) { return s.value("relay", "") == "ON"; }, 10s));

    const auto mq = add_mq();
    ASSERT_EQ(mq["status"], "ok") << mq.dump();
    const std::string mq_id = mq["data"]["id"];
    // NotifyStatus deltas carry only what changed; every published state keeps all fields.
    mark = probe_->count();
    sim_->control("/sim/power?plug=mq&watts=333");
    ASSERT_TRUE(wait_state(mq_id, [](const Json& s) { return s.value("power_w", 0.0) == 333.0; }, 15s, mark));
    for (const auto& m : probe_->messages()) {
        if (m.topic != base_ + "/devices/" + mq_id + "/state" || m.payload.empty()) continue;
        const auto s = Json::parse(m.payload);
        for (const char* field : {"power_w", "energy_wh", "voltage_v", "current_a", "relay", "ts"})
            EXPECT_TRUE(s.contains(field)) << field << " missing in " << m.payload;
    }
    mark = probe_->count();
    probe_->publish(base_ + "/devices/" + mq_id + "/set", "OFF");
    EXPECT_TRUE(wait_state(mq_id, [](const Json& s) { return s.value("relay", "") == "OFF"; }, 10s, mark));
}

// A Gen1 Plug S that speaks MQTT only (shellies/<id>/...): registered through its announce,
// counted from relay/0/energy in watt-minutes, through a reboot (counter back to 0, last will,
// online again) and an offline period, and compared with the simulator's ground truth.
TEST_F(Plugs, Gen1OverMqttOnlyThroughARebootAndAnOfflinePeriodMatchesGroundTruth) {
    const std::string mqtt_id = base_ + "-g1";
    const std::string prefix = "shellies/" + mqtt_id;
    const std::string config = "/tmp/" + base_ + "-g1mq.json";
    std::ofstream(config) << Json{{"plugs", Json::array({Json{{"name", "g1mq"},
                                                              {"kind", "gen1-plug-s"},
                                                              {"http", false},
                                                              {"mqtt", true},
                                                              {"mqtt_prefix", mqtt_id},
                                                              {"update_period_s", 10},
                                                              {"profile", "constant:120"}}})}}
                                 .dump();
    probe_->subscribe(prefix + "/#");
    SimProcess sim({"--config", config, "--mqtt-url", *mqtt_url(), "--speed", std::to_string(SPEED)});
    std::remove(config.c_str());
    ASSERT_TRUE(probe_->wait_for(prefix + "/online", 20s,
                                 [](const MqttMessage& m) { return m.payload == "true"; }));

    const auto r = add("g1mq", {{"transport", "mqtt"}, {"topic_prefix", prefix}});
    ASSERT_EQ(r["status"], "ok") << r.dump();
    EXPECT_EQ(r["data"]["generation"], 1);
    EXPECT_EQ(r["data"]["model"], "SHPLG-S");
    EXPECT_EQ(r["data"]["mac"], sim.plug("g1mq")["mac"]);
    EXPECT_NE(r["data"].value("firmware", ""), "") << "the announce's fw_ver: " << r.dump();
    const std::string id = r["data"]["id"];
    ASSERT_TRUE(wait_state(id, [](const Json& s) { return s.value("energy_wh", 0.0) > 1.0; }, 30s));
    const auto energy_of = [](const MqttMessage& m) { return Json::parse(m.payload).value("energy_wh", 0.0); };

    auto mark = probe_->count();
    sim.control("/sim/fault?plug=g1mq&type=reboot");
    EXPECT_TRUE(probe_->wait_for(base_ + "/devices/" + id + "/availability", 15s,
                                 [](const MqttMessage& m) { return m.payload == "offline"; }, mark));
    EXPECT_TRUE(probe_->wait_for(base_ + "/devices/" + id + "/availability", 15s,
                                 [](const MqttMessage& m) { return m.payload == "online"; }, mark));
    EXPECT_TRUE(probe_->wait_for(base_ + "/bridge/event", 15s, [&](const MqttMessage& m) {
        return m.payload.find("counter_reset") != std::string::npos && m.payload.find(id) != std::string::npos;
    }, mark));

    mark = probe_->count();
    sim.control("/sim/fault?plug=g1mq&type=offline");
    EXPECT_TRUE(probe_->wait_for(base_ + "/devices/" + id + "/availability", 15s,
                                 [](const MqttMessage& m) { return m.payload == "offline"; }, mark));
    const double before_online = channel_energy(id).at(0);
    mark = probe_->count();
    sim.control("/sim/fault?plug=g1mq&type=online");
    EXPECT_TRUE(probe_->wait_for(base_ + "/devices/" + id + "/availability", 15s,
                                 [](const MqttMessage& m) { return m.payload == "online"; }, mark));
    // The energy metered while it was away arrives with its next report.
    ASSERT_TRUE(wait_state(id, [&](const Json& s) { return s.value("energy_wh", 0.0) > before_online + 1.0; },
                           30s, mark));

    // The relay over MQTT: shellies/<id>/relay/0/command, and the state follows.
    mark = probe_->count();
    probe_->publish(base_ + "/devices/" + id + "/set", "OFF");
    EXPECT_TRUE(probe_->wait_for(prefix + "/relay/0/command", 10s,
                                 [](const MqttMessage& m) { return m.payload == "off"; }, mark));
    EXPECT_TRUE(wait_state(id, [](const Json& s) { return s.value("relay", "") == "OFF"; }, 10s, mark));
    mark = probe_->count();
    probe_->publish(base_ + "/devices/" + id + "/set", "ON");
    EXPECT_TRUE(wait_state(id, [](const Json& s) { return s.value("relay", "") == "ON"; }, 10s, mark));

    // Freeze, then compare once the book has the plug's energy reports after the 0 W one
    // (relay/0/energy every update period). A report that repeats the last counter publishes
    // no new state, so wait for the book to reach the truth, not for one more state.
    mark = probe_->count();
    sim.control("/sim/power?plug=g1mq&watts=0");
    ASSERT_TRUE(wait_state(id, [](const Json& s) { return s.value("power_w", 1.0) == 0.0; }, 20s, mark));
    const double truth = sim.truth("g1mq").at(0);
    const double tolerance = std::max(1.0, truth * 0.005);
    const auto reached = [&](const Json& s) { return std::fabs(s.value("energy_wh", -1.0) - truth) <= tolerance; };
    EXPECT_TRUE(wait_state(id, reached, 20s, mark)) << "no state within " << tolerance << " Wh of " << truth;
    const double book = channel_energy(id).at(0);
    std::printf("[ gen1mqtt ] book=%.3f truth=%.3f deviation=%+.3f Wh\n", book, truth, book - truth);
    EXPECT_NEAR(book, truth, tolerance);

    double last = 0;
    std::size_t states = 0;
    for (const auto& m : probe_->messages()) {
        if (m.topic != base_ + "/devices/" + id + "/state" || m.payload.empty()) continue;
        ++states;
        EXPECT_GE(energy_of(m) + 1e-9, last) << m.payload;
        last = std::max(last, energy_of(m));
        const auto s = Json::parse(m.payload);
        if (s.contains("energy_wh")) {
            for (const char* field : {"power_w", "relay", "ts"}) EXPECT_TRUE(s.contains(field)) << m.payload;
        }
    }
    EXPECT_GT(states, 3U);
}

TEST_F(Plugs, RemoveClearsRetainedTopicsAndKeepsHistory) {
    const auto g2 = add_http("g2");
    ASSERT_EQ(g2["status"], "ok");
    const std::string id = g2["data"]["id"];
    ASSERT_TRUE(wait_state(id, [](const Json& s) { return s.contains("energy_wh"); }));
    auto renamed = request("device/rename", {{"device", "alice/home/kitchen/g2"}, {"to", "kettle"}});
    ASSERT_EQ(renamed["status"], "ok") << renamed.dump();
    EXPECT_EQ(renamed["data"]["id"], id);
    EXPECT_EQ(renamed["data"]["path"], "alice/home/kitchen/kettle");
    EXPECT_TRUE(probe_->wait_for(base_ + "/homes/alice/home/kitchen/kettle/energy", 10s));

    const auto removed = request("device/remove", {{"id", id}});
    ASSERT_EQ(removed["status"], "ok") << removed.dump();
    EXPECT_TRUE(probe_->wait_for(base_ + "/devices/" + id + "/state", 5s,
                                 [](const MqttMessage& m) { return m.payload.empty(); }));
    // History stays in the database.
    ASSERT_TRUE(writer_->flush());
    pqxx::connection c(db_->dsn());
    pqxx::read_transaction tx(c);
    EXPECT_GT(tx.exec_params1("SELECT count(*) FROM readings WHERE device_id = $1", id)[0].as<long>(), 0);
}

}  // namespace
}  // namespace intelergy::test
