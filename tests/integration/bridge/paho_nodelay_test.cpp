// The bridge's MQTT connection runs with TCP_NODELAY (core/tcp_nodelay.hpp): Paho leaves
// Nagle's algorithm on, which holds small publishes for up to 40 ms.
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "intelergy/bridge/paho_mqtt_client.hpp"
#include "intelergy/core/tcp_nodelay.hpp"
#include "support/mqtt_probe.hpp"
#include "support/test_env.hpp"

namespace intelergy::test {
namespace {

using namespace std::chrono_literals;

bool nodelay(int fd) {
    int on = 0;
    socklen_t len = sizeof on;
    return ::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0 && on != 0;
}

TEST(PahoNodelay, TheBrokerConnectionHasNagleOff) {
    const auto url = mqtt_url();
    if (!url) GTEST_SKIP() << "INTELERGY_TEST_MQTT_URL unset";
    bridge::PahoOptions o;
    o.server_uri = "tcp://" + url->substr(url->find("://") + 3);
    o.client_id = "nodelay-" + random_token(8);
    const int port = uri_port(o.server_uri);
    ASSERT_GT(port, 0) << o.server_uri;

    bridge::PahoMqttClient client(o);
    client.start();
    ASSERT_TRUE(client.wait_connected(10s));
    const auto sockets = tcp_sockets_to_port(port);
    ASSERT_FALSE(sockets.empty()) << "no socket to the broker found in /proc/self/fd";
    for (const int fd : sockets) EXPECT_TRUE(nodelay(fd)) << "fd " << fd;
    client.stop(std::nullopt, 2s);
}

// Paho refuses publishes beyond max_buffered even while connected; a burst faster than its send
// thread must wait for the queue, not lose messages.
TEST(PahoNodelay, ABurstBeyondPahosQueueIsDeliveredWhole) {
    const auto url = mqtt_url();
    if (!url) GTEST_SKIP() << "INTELERGY_TEST_MQTT_URL unset";
    const std::string topic = "burst-" + random_token(8);
    MqttProbe probe(*url, topic + "-probe");
    probe.subscribe(topic, 0);
    bridge::PahoOptions o;
    o.server_uri = "tcp://" + url->substr(url->find("://") + 3);
    o.client_id = topic;
    o.max_buffered = 10;
    bridge::PahoMqttClient client(o);
    client.start();
    ASSERT_TRUE(client.wait_connected(10s));
    constexpr int N = 3000;
    for (int i = 0; i < N; ++i) client.publish(topic, std::to_string(i), 0, false);
    ASSERT_TRUE(probe.wait_for(topic, 30s, [](const MqttMessage& m) { return m.payload == std::to_string(N - 1); }))
        << "the last message never arrived";
    std::size_t got = 0;
    for (const auto& m : probe.messages()) got += m.topic == topic ? 1U : 0U;
    EXPECT_EQ(got, static_cast<std::size_t>(N));
    client.stop(std::nullopt, 2s);
}

TEST(PahoNodelay, UriPort) {
    EXPECT_EQ(uri_port("tcp://127.0.0.1:1883"), 1883);
    EXPECT_EQ(uri_port("ssl://[::1]:8883"), 8883);
    EXPECT_EQ(uri_port("mqtt://broker.lan:11883"), 11883);
    EXPECT_EQ(uri_port("tcp://broker.lan"), -1);
    EXPECT_EQ(uri_port("tcp://h:0"), -1);
    EXPECT_EQ(uri_port("tcp://h:70000"), -1);
    EXPECT_EQ(uri_port("tcp://h:12ab"), -1);
}

}  // namespace
}  // namespace intelergy::test
