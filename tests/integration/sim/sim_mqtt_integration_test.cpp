// SPDX-License-Identifier: MIT
#include "intelergy/core/clock.hpp"
#include "intelergy/sim/mqtt_logic.hpp"
#include "intelergy/sim/simulator.hpp"

#include <gtest/gtest.h>
#include <mqtt/async_client.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <random>

namespace intelergy::sim {
namespace {

using namespace std::chrono_literals;

std::string broker_url() {
    const char* url = std::getenv("INTELERGY_TEST_MQTT_URL");
    return url ? url : "";
}

std::string paho_uri(const std::string& url) {
    return url.starts_with("mqtt://") ? "tcp://" + url.substr(7) : url;
}

std::string unique(const std::string& stem) {
    std::random_device rd;
    return stem + std::to_string(rd() % 1000000U);
}

// Subscribes to filters and records every message; waits are bounded.
class Recorder {
public:
    Recorder(const std::string& url, const std::vector<std::string>& filters)
        : cli_(paho_uri(url), unique("sim-itest-rec-")) {
        cli_.set_message_callback([this](mqtt::const_message_ptr m) {
            {
                std::lock_guard lock(mu_);
                msgs_.push_back({m->get_topic(), m->get_payload_str(), m->is_retained()});
            }
            cv_.notify_all();
        });
        cli_.connect(mqtt::connect_options_builder().clean_session(true).finalize())->wait();
        for (const auto& f : filters) cli_.subscribe(f, 1)->wait();
    }
    ~Recorder() {
        try {
            cli_.disconnect()->wait();
        } catch (const mqtt::exception&) {
        }
    }
    void publish(const std::string& topic, const std::string& payload) {
        cli_.publish(topic, payload.data(), payload.size(), 1, false)->wait();
    }
    // First message after index `from` matching pred; nullopt on timeout.
    std::optional<MqttMessage> wait_for(const std::function<bool(const MqttMessage&)>& pred,
                                        std::size_t from = 0,
                                        std::chrono::milliseconds timeout = 20000ms) {
        std::unique_lock lock(mu_);
        std::optional<MqttMessage> found;
        cv_.wait_for(lock, timeout, [&] {
            for (std::size_t i = from; i < msgs_.size(); ++i) {
                if (pred(msgs_[i])) {
                    found = msgs_[i];
                    return true;
                }
            }
            return false;
        });
        return found;
    }
    std::size_t size() {
        std::lock_guard lock(mu_);
        return msgs_.size();
    }

private:
    mqtt::async_client cli_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<MqttMessage> msgs_;
};

auto topic_is(const std::string& t, const std::string& payload = "") {
    return [t, payload](const MqttMessage& m) {
        return m.topic == t && (payload.empty() || m.payload == payload);
    };
}

class SimMqtt : public ::testing::Test {
protected:
    void SetUp() override {
        url_ = broker_url();
        if (url_.empty()) GTEST_SKIP() << "INTELERGY_TEST_MQTT_URL not set";
    }
    void start(std::vector<PlugSpec> specs, bool shared = false, double rate = 0.0) {
        SimOptions o;
        o.mqtt_url = url_;
        o.tick_ms = 20;
        o.mqtt_shared_connection = shared;
        o.notify_rate = rate;
        sim_ = std::make_unique<Simulator>(o, std::move(specs), clock_);
        sim_->start();
    }
    HttpReply control(const std::string& path,
                      std::vector<std::pair<std::string, std::string>> params) {
        HttpRequest r;
        r.path = path;
        r.params = std::move(params);
        return sim_->control(r);
    }
    static PlugSpec gen2(const std::string& prefix) {
        PlugSpec s;
        s.name = "p";
        s.kind = PlugKind::GEN2_PLUS_PLUG_S;
        s.mqtt = true;
        s.http = false;
        s.mqtt_prefix = prefix;
        s.channels.push_back(ChannelSpec{parse_profile_spec("constant:50", 1), true});
        return s;
    }

    std::string url_;
    SystemClock real_;
    ScaledClock clock_{real_, 30.0};  // a simulated minute every 2 s
    std::unique_ptr<Simulator> sim_;
};

TEST_F(SimMqtt, Gen2OnlineAndLastWillOnOfflineAndReboot) {
    const auto prefix = unique("itest/gen2-");
    Recorder rec(url_, {prefix + "/#"});
    start({gen2(prefix)});
    ASSERT_TRUE(rec.wait_for(topic_is(prefix + "/online", "true")));

    auto mark = rec.size();
    ASSERT_EQ(control("/sim/fault", {{"plug", "p"}, {"type", "offline"}}).status, 200);
    const auto will = rec.wait_for(topic_is(prefix + "/online", "false"), mark);
    ASSERT_TRUE(will);  // published by the broker: the simulator never sends it itself here
    {
        Recorder late(url_, {prefix + "/online"});  // the will is retained
        const auto retained = late.wait_for(topic_is(prefix + "/online", "false"));
        ASSERT_TRUE(retained);
        EXPECT_TRUE(retained->retained);
    }

    mark = rec.size();
    control("/sim/fault", {{"plug", "p"}, {"type", "online"}});
    ASSERT_TRUE(rec.wait_for(topic_is(prefix + "/online", "true"), mark));

    mark = rec.size();
    control("/sim/fault", {{"plug", "p"}, {"type", "reboot"}});
    const auto down = rec.wait_for(topic_is(prefix + "/online", "false"), mark);
    ASSERT_TRUE(down);
    ASSERT_TRUE(rec.wait_for(topic_is(prefix + "/online", "true"), mark + 1));
}

TEST_F(SimMqtt, NotifyStatusDeltasCarryOnlyChangedFields) {
    const auto prefix = unique("itest/delta-");
    Recorder rec(url_, {prefix + "/#"});
    start({gen2(prefix)});
    ASSERT_TRUE(rec.wait_for(topic_is(prefix + "/online", "true")));
    const auto mark = rec.size();
    control("/sim/power", {{"plug", "p"}, {"watts", "80"}});
    const auto msg = rec.wait_for(
        [&](const MqttMessage& m) {
            if (m.topic != prefix + "/events/rpc") return false;
            const auto j = Json::parse(m.payload);
            return j["params"]["switch:0"].contains("apower");
        },
        mark);
    ASSERT_TRUE(msg);
    const auto j = Json::parse(msg->payload);
    EXPECT_EQ(j["method"], "NotifyStatus");
    EXPECT_EQ(j["dst"], prefix + "/events");
    EXPECT_TRUE(j["params"]["ts"].is_number_float());
    const auto sw = j["params"]["switch:0"];
    EXPECT_DOUBLE_EQ(sw["apower"].get<double>(), 80.0);
    EXPECT_EQ(sw["id"], 0);
    EXPECT_FALSE(sw.contains("output"));  // relay did not change
    EXPECT_FALSE(sw.contains("source"));

    // aenergy arrives around the (simulated) minute rollover, on its own.
    const auto energy = rec.wait_for(
        [&](const MqttMessage& m) {
            return m.topic == prefix + "/events/rpc" &&
                   Json::parse(m.payload)["params"]["switch:0"].contains("aenergy");
        },
        mark, 8000ms);
    ASSERT_TRUE(energy);
    const auto ae = Json::parse(energy->payload)["params"]["switch:0"]["aenergy"];
    EXPECT_TRUE(ae.contains("total"));
    EXPECT_EQ(ae["minute_ts"].get<std::int64_t>() % 60, 0);
}

TEST_F(SimMqtt, RpcOverMqttRoundTrip) {
    const auto prefix = unique("itest/rpc-");
    const auto src = unique("itest-client-");
    Recorder rec(url_, {prefix + "/#", src + "/rpc"});
    start({gen2(prefix)});
    ASSERT_TRUE(rec.wait_for(topic_is(prefix + "/online", "true")));
    rec.publish(prefix + "/rpc", R"({"id":17,"src":")" + src +
                                     R"(","method":"Switch.Set","params":{"id":0,"on":false}})");
    const auto reply = rec.wait_for(topic_is(src + "/rpc"));
    ASSERT_TRUE(reply);
    const auto j = Json::parse(reply->payload);
    EXPECT_EQ(j["id"], 17);
    EXPECT_EQ(j["dst"], src);
    EXPECT_EQ(j["result"]["was_on"], true);
    EXPECT_FALSE(sim_->find("p")->reading(0).output);

    rec.publish(prefix + "/rpc", R"({"id":18,"src":")" + src + R"(","method":"Shelly.GetStatus"})");
    const auto status = rec.wait_for([&](const MqttMessage& m) {
        return m.topic == src + "/rpc" && Json::parse(m.payload)["id"] == 18;
    });
    ASSERT_TRUE(status);
    EXPECT_TRUE(Json::parse(status->payload)["result"].contains("switch:0"));
}

TEST_F(SimMqtt, Gen1TopicsAndCommands) {
    const auto id = unique("itest-g1-");
    const auto base = "shellies/" + id;
    Recorder rec(url_, {base + "/#", "shellies/announce"});
    PlugSpec s;
    s.name = "g1";
    s.kind = PlugKind::GEN1_PLUG_S;
    s.mqtt = true;
    s.mqtt_prefix = id;
    s.channels.push_back(ChannelSpec{parse_profile_spec("constant:60", 1), true});
    start({s});
    ASSERT_TRUE(rec.wait_for(topic_is(base + "/online", "true")));
    const auto ann = rec.wait_for([&](const MqttMessage& m) {
        return m.topic == "shellies/announce" && Json::parse(m.payload)["id"] == id;
    });
    ASSERT_TRUE(ann);
    EXPECT_EQ(Json::parse(ann->payload)["model"], "SHPLG-S");
    ASSERT_TRUE(rec.wait_for(topic_is(base + "/announce")));
    ASSERT_TRUE(rec.wait_for(topic_is(base + "/relay/0", "on")));
    ASSERT_TRUE(rec.wait_for(topic_is(base + "/relay/0/power", "60.00")));
    ASSERT_TRUE(rec.wait_for(topic_is(base + "/relay/0/energy")));
    ASSERT_TRUE(rec.wait_for(topic_is(base + "/temperature")));

    const auto mark = rec.size();
    rec.publish(base + "/relay/0/command", "off");
    ASSERT_TRUE(rec.wait_for(topic_is(base + "/relay/0", "off"), mark));
    ASSERT_TRUE(rec.wait_for(topic_is(base + "/relay/0/power", "0.00"), mark));

    const auto mark2 = rec.size();
    control("/sim/fault", {{"plug", "g1"}, {"type", "offline"}});
    ASSERT_TRUE(rec.wait_for(topic_is(base + "/online", "false"), mark2));
}

TEST_F(SimMqtt, SharedConnectionPacesTimestampedNotifications) {
    const auto p1 = unique("itest/shared-a-");
    const auto p2 = unique("itest/shared-b-");
    Recorder rec(url_, {p1 + "/#", p2 + "/#"});
    auto a = gen2(p1);
    auto b = gen2(p2);
    b.name = "q";
    start({a, b}, true, 50.0);
    ASSERT_TRUE(rec.wait_for(topic_is(p1 + "/online", "true")));
    ASSERT_TRUE(rec.wait_for(topic_is(p2 + "/online", "true")));
    for (const auto& p : {p1, p2}) {
        const auto frame = rec.wait_for(topic_is(p + "/events/rpc"));
        ASSERT_TRUE(frame);
        const auto j = Json::parse(frame->payload);
        EXPECT_TRUE(j["params"].contains("ts"));
        EXPECT_TRUE(j["params"]["switch:0"].contains("apower"));
    }
    const auto mark = rec.size();
    control("/sim/fault", {{"plug", "q"}, {"type", "offline"}});
    ASSERT_TRUE(rec.wait_for(topic_is(p2 + "/online", "false"), mark));
}

}  // namespace
}  // namespace intelergy::sim
