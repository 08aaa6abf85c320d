#include <intelergy/fakes/fake_mqtt_client.hpp>

#include <gtest/gtest.h>

#include <thread>

namespace intelergy::fakes {
namespace {

using namespace std::chrono_literals;

TEST(FakeMqttClient, RecordsPublishesAndFindsTheLastOnATopic) {
    FakeMqttClient mqtt;
    mqtt.publish("a/b", "1", 0, false);
    mqtt.publish("a/c", "2", 1, true);
    mqtt.publish("a/b", "3", 1, false);
    ASSERT_EQ(mqtt.published().size(), 3U);
    EXPECT_EQ(mqtt.count_on("a/b"), 2U);
    const auto last = mqtt.last_on("a/b");
    ASSERT_TRUE(last);
    EXPECT_EQ(last->payload, "3");
    EXPECT_EQ(last->qos, 1);
    EXPECT_FALSE(last->retain);
    EXPECT_FALSE(mqtt.last_on("nope"));
    EXPECT_EQ(mqtt.retained("a/c"), "2");
    mqtt.publish("a/c", "", 1, true);  // an empty retained message clears
    EXPECT_FALSE(mqtt.retained("a/c"));
    mqtt.clear_published();
    EXPECT_TRUE(mqtt.published().empty());
}

TEST(FakeMqttClient, TracksSubscriptionsWithWildcards) {
    FakeMqttClient mqtt;
    mqtt.subscribe("base/bridge/request/#", 1);
    mqtt.subscribe("shellies/+/online", 0);
    mqtt.subscribe("shellies/+/online", 1);  // replaces
    EXPECT_EQ(mqtt.subscriptions().size(), 2U);
    EXPECT_EQ(mqtt.subscription_qos("shellies/+/online"), 1);
    EXPECT_TRUE(mqtt.is_subscribed_to("base/bridge/request/user/add"));
    EXPECT_TRUE(mqtt.is_subscribed_to("shellies/plug-1/online"));
    EXPECT_FALSE(mqtt.is_subscribed_to("shellies/plug-1/relay/0"));
    mqtt.unsubscribe("shellies/+/online");
    EXPECT_FALSE(mqtt.is_subscribed_to("shellies/plug-1/online"));
}

TEST(FakeMqttClient, TopicMatchingFollowsTheMqttRules) {
    EXPECT_TRUE(FakeMqttClient::topic_matches("#", "a/b"));
    EXPECT_TRUE(FakeMqttClient::topic_matches("a/#", "a"));
    EXPECT_TRUE(FakeMqttClient::topic_matches("a/#", "a/b/c"));
    EXPECT_TRUE(FakeMqttClient::topic_matches("a/+/c", "a/b/c"));
    EXPECT_TRUE(FakeMqttClient::topic_matches("a/+", "a/"));
    EXPECT_FALSE(FakeMqttClient::topic_matches("a/+", "a/b/c"));
    EXPECT_FALSE(FakeMqttClient::topic_matches("a/+", "a"));
    EXPECT_FALSE(FakeMqttClient::topic_matches("a/b", "a/bc"));
    EXPECT_FALSE(FakeMqttClient::topic_matches("#", "$SYS/x"));
}

TEST(FakeMqttClient, InjectAndSetConnectedCallTheHandlers) {
    FakeMqttClient mqtt(false);
    std::vector<MqttMessage> got;
    std::vector<bool> states;
    mqtt.inject("x", "dropped");  // no handler yet
    mqtt.set_message_handler([&](MqttMessage m) { got.push_back(std::move(m)); });
    mqtt.set_connection_handler([&](bool up) { states.push_back(up); });
    EXPECT_FALSE(mqtt.connected());
    mqtt.set_connected(true);
    mqtt.set_connected(true);  // no change, no call
    mqtt.set_connected(true, true);
    mqtt.set_connected(false);
    EXPECT_EQ(states, (std::vector<bool>{true, true, false}));
    mqtt.inject("t/1", "p", true);
    ASSERT_EQ(got.size(), 1U);
    EXPECT_EQ(got[0].topic, "t/1");
    EXPECT_EQ(got[0].payload, "p");
    EXPECT_TRUE(got[0].retained);
}

TEST(FakeMqttClient, HandlersMayPublishWithoutDeadlock) {
    FakeMqttClient mqtt;
    mqtt.set_message_handler(
        [&](MqttMessage m) { mqtt.publish("echo/" + m.topic, m.payload, 0, false); });
    mqtt.inject("ping", "1");
    EXPECT_EQ(mqtt.last_on("echo/ping")->payload, "1");
}

TEST(FakeMqttClient, WaitForSeesPublishesFromAnotherThread) {
    FakeMqttClient mqtt;
    std::thread t([&] { mqtt.publish("late", "x", 1, false); });
    const auto m = mqtt.wait_for("late", 5s);
    t.join();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->payload, "x");
    EXPECT_FALSE(mqtt.wait_for("late", 10ms, 2));
}

}  // namespace
}  // namespace intelergy::fakes
