// Home Assistant discovery against the real broker: every config the bridge publishes passes the
// §1.5 checker; HA restarts, removals, renames and stale configs behave as HA users expect.
#include <fstream>

#include "bridge_fixture.hpp"
#include "support/ha_checker.hpp"
#include "support/sim_process.hpp"

namespace intelergy::test {
namespace {

using namespace std::chrono_literals;

class HomeAssistant : public BridgeFixture {
protected:
    void configure(config::AppConfig& c) override {
        prefix_ = base_ + "-ha";  // an isolated discovery prefix per test
        c.homeassistant.discovery_prefix = prefix_;
        c.homeassistant.status_topic = prefix_ + "/status";
        c.polling.default_interval = 1s;
        c.polling.timeout = 800ms;
    }

    void SetUp() override {
        BridgeFixture::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        probe_->subscribe(prefix_ + "/#");
        sim_config_ = "/tmp/" + base_ + "-sim.json";
        Json plugs = Json::array();
        plugs.push_back({{"name", "g1"}, {"kind", "gen1-plug-s"}, {"profile", "constant:50"}});
        plugs.push_back({{"name", "g2"}, {"kind", "gen2-plus-plug-s"}, {"profile", "constant:50"}});
        plugs.push_back({{"name", "pm"}, {"kind", "gen3-plug-pm"}, {"profile", "constant:50"}});
        plugs.push_back({{"name", "strip"}, {"kind", "gen4-strip"}, {"profile", "constant:50"}});
        std::ofstream(sim_config_) << Json{{"plugs", plugs}}.dump();
        sim_ = std::make_unique<SimProcess>(std::vector<std::string>{"--config", sim_config_});
        ASSERT_EQ(request("user/add", {{"name", "ann"}})["status"], "ok");
        ASSERT_EQ(request("profile/add", {{"user", "ann"}, {"name", "flat"}, {"timezone", "UTC"}})["status"], "ok");
        ASSERT_EQ(request("room/add", {{"room", "ann/flat/office"}})["status"], "ok");
        for (const auto* plug : {"g1", "g2", "pm", "strip"}) {
            const auto r = request("device/add", {{"room", "ann/flat/office"}, {"name", plug},
                                                  {"url", sim_->plug(plug)["url"]},
                                                  {"poll_interval_s", 1}});
            ASSERT_EQ(r["status"], "ok") << r.dump();
            ids_[plug] = r["data"]["id"];
        }
        for (const auto& [plug, id] : ids_)
            ASSERT_TRUE(probe_->wait_for(config_topic(id), 10s)) << plug;
    }

    void TearDown() override {
        sim_.reset();
        std::remove(sim_config_.c_str());
        BridgeFixture::TearDown();
    }

    std::string config_topic(const std::string& id) { return prefix_ + "/device/" + id + "/config"; }

    std::vector<MqttMessage> discovery_messages() {
        std::vector<MqttMessage> out;
        for (auto& m : probe_->messages())
            if (m.topic.rfind(prefix_ + "/", 0) == 0 && m.topic != prefix_ + "/status") out.push_back(m);
        return out;
    }

    Json last_config(const std::string& id) {
        Json last;
        for (const auto& m : probe_->messages())
            if (m.topic == config_topic(id)) last = m.payload.empty() ? Json() : Json::parse(m.payload);
        return last;
    }

    static std::set<std::string> unique_ids(const Json& config) {
        std::set<std::string> out;
        for (const auto& [key, c] : config["components"].items()) out.insert(c["unique_id"].get<std::string>());
        return out;
    }

    std::string prefix_;
    std::string sim_config_;
    std::unique_ptr<SimProcess> sim_;
    std::map<std::string, std::string> ids_;
};

TEST_F(HomeAssistant, EveryPublishedConfigPassesTheChecker) {
    const HaChecker checker(prefix_);
    const auto findings = checker.check_all(discovery_messages());
    for (const auto& f : findings) ADD_FAILURE() << f;
    EXPECT_EQ(findings.size(), 0U);

    // Each plug: a power sensor and an energy sensor fit for the energy dashboard.
    for (const auto& [plug, id] : ids_) {
        const auto config = last_config(id);
        ASSERT_TRUE(config.is_object()) << plug;
        bool power = false, energy = false;
        for (const auto& [key, c] : config["components"].items()) {
            if (c.value("device_class", "") == "power" && c.value("state_class", "") == "measurement")
                power = true;
            if (c.value("device_class", "") == "energy" && c.value("state_class", "") == "total_increasing")
                energy = true;
        }
        EXPECT_TRUE(power) << plug;
        EXPECT_TRUE(energy) << plug;
    }
    // The bridge itself is a device too.
    bool bridge_config = false;
    for (const auto& m : discovery_messages())
        if (m.topic.find("intelergy_bridge") != std::string::npos && !m.payload.empty()) bridge_config = true;
    EXPECT_TRUE(bridge_config);
}

TEST_F(HomeAssistant, RestartOfHomeAssistantBringsConfigsAndStatesBack) {
    probe_->publish(prefix_ + "/status", "offline");
    const auto mark = probe_->count();
    probe_->publish(prefix_ + "/status", "online");
    for (const auto& [plug, id] : ids_) {
        EXPECT_TRUE(probe_->wait_for(config_topic(id), 15s, {}, mark)) << plug;
        EXPECT_TRUE(probe_->wait_for(base_ + "/devices/" + id + "/availability", 15s, {}, mark)) << plug;
        EXPECT_TRUE(probe_->wait_for(base_ + "/devices/" + id + "/state", 15s, {}, mark)) << plug;
    }
}

TEST_F(HomeAssistant, RemovedPlugLeavesNoRetainedConfig) {
    const auto id = ids_["g2"];
    ASSERT_EQ(request("device/remove", {{"id", id}})["status"], "ok");
    EXPECT_TRUE(probe_->wait_for(config_topic(id), 15s, [](const MqttMessage& m) { return m.payload.empty(); }));
    // A client subscribing now (like HA after a restart) finds nothing retained for it.
    MqttProbe late(*mqtt_url(), base_ + "-late");
    late.subscribe(base_ + "/devices/" + id + "/#");
    late.subscribe(prefix_ + "/#");
    // The broker sends a subscription's retained messages together right after it; once the
    // other plugs' configs (from the later subscription) are in, everything retained has come.
    ASSERT_TRUE(late.wait_for(config_topic(ids_["g1"]), 20s));
    ASSERT_TRUE(late.wait_for(config_topic(ids_["strip"]), 20s));
    for (const auto& m : late.messages()) {
        EXPECT_NE(m.topic, config_topic(id)) << "removed plug's config still retained";
        EXPECT_NE(m.topic, base_ + "/devices/" + id + "/state") << "removed plug's state retained";
    }
}

TEST_F(HomeAssistant, RenameAndMoveKeepUniqueIds) {
    const auto id = ids_["g2"];
    const auto before = last_config(id);
    ASSERT_EQ(request("room/add", {{"room", "ann/flat/kitchen"}})["status"], "ok");
    auto mark = probe_->count();
    ASSERT_EQ(request("device/rename", {{"id", id}, {"to", "kettle"}})["status"], "ok");
    ASSERT_TRUE(probe_->wait_for(config_topic(id), 15s, {}, mark));
    mark = probe_->count();
    ASSERT_EQ(request("device/move", {{"id", id}, {"room", "ann/flat/kitchen"}})["status"], "ok");
    ASSERT_TRUE(probe_->wait_for(config_topic(id), 15s, {}, mark));
    const auto after = last_config(id);
    EXPECT_EQ(unique_ids(after), unique_ids(before));
    EXPECT_EQ(after["device"]["name"], "kettle");
    EXPECT_EQ(after["device"]["suggested_area"], "kitchen");
    const HaChecker checker(prefix_);
    EXPECT_EQ(checker.check_all(discovery_messages()).size(), 0U);
}

TEST_F(HomeAssistant, StaleConfigsOfThisBridgeAreClearedAtStart) {
    stop_bridge();
    // A plug this bridge once published but that is no longer registered.
    auto stale = last_config(ids_["g2"]);
    ASSERT_TRUE(stale.is_object());
    const std::string stale_topic = prefix_ + "/device/shelly-00000000abcd/config";
    probe_->publish(stale_topic, stale.dump(), 1, true);
    // Someone else's config under the same prefix stays untouched.
    const std::string foreign_topic = prefix_ + "/sensor/other/temp/config";
    probe_->publish(foreign_topic, R"({"name":"t","state_topic":"x/t","unique_id":"other_t"})", 1, true);
    const auto mark = probe_->count();
    start_bridge();
    EXPECT_TRUE(probe_->wait_for(stale_topic, 10s, [](const MqttMessage& m) { return m.payload.empty(); }, mark));
    EXPECT_TRUE(probe_->wait_for(config_topic(ids_["g1"]), 10s, {}, mark));
    for (const auto& m : probe_->messages()) {
        if (m.topic == foreign_topic) {
            EXPECT_FALSE(m.payload.empty()) << "foreign config cleared";
        }
    }
}

}  // namespace
}  // namespace intelergy::test
