// The real `intelergy run` with its HTTP endpoint: /healthz, /readyz and /metrics whose numbers
// move with a simulated plug.
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include "bridge_fixture.hpp"
#include "common/temp_dir.hpp"
#include "support/sim_process.hpp"

extern char** environ;

namespace intelergy::test {
namespace {

using namespace std::chrono_literals;

std::uint16_t free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
}

double metric_value(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return -1;
}

TEST(MetricsEndpoint, HealthReadinessAndMetricsMoveWithPlugs) {
    const auto url = mqtt_url();
    const auto dsn = pg_dsn();
    if (!url || !dsn) GTEST_SKIP() << "INTELERGY_TEST_MQTT_URL/INTELERGY_TEST_PG_DSN unset";
    TestDatabase db(*dsn);
    const std::string base = "itm" + random_token(8);
    const auto port = free_port();
    const TempDir spool_dir("intelergy-spool");
    const std::string config_path = "/tmp/" + base + ".toml";
    std::ofstream(config_path) << "[mqtt]\nurl = \"" << *url << "\"\nbase_topic = \"" << base
                               << "\"\nclient_id = \"" << base << "\"\n[postgres]\ndsn = \""
                               << db.dsn() << "\"\n[http]\nlisten = \"127.0.0.1:" << port
                               << "\"\n[polling]\ndefault_interval_s = 1\n[store]\nspool_dir = \""
                               << spool_dir.path().string() << "\"\n";
    MqttProbe probe(*url, base + "-probe");
    probe.subscribe(base + "/#");
    SimProcess sim({"--gen2", "1", "--profile", "constant:40"});

    const std::string exe = std::string(INTELERGY_BINARY_DIR) + "/intelergy";
    std::vector<std::string> args{exe, "run", "-c", config_path};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    ASSERT_EQ(posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), environ), 0);
    ASSERT_TRUE(probe.wait_for(base + "/bridge/state", 15s,
                               [](const MqttMessage& m) { return m.payload.find("online") != std::string::npos; }));

    httplib::Client http("127.0.0.1", port);
    http.set_read_timeout(5, 0);
    auto health = http.Get("/healthz");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    auto ready = http.Get("/readyz");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 200) << ready->body;

    const auto before = http.Get("/metrics");
    ASSERT_TRUE(before);
    EXPECT_EQ(metric_value(before->body, "intelergy_up"), 1);
    EXPECT_EQ(metric_value(before->body, "intelergy_polls_total{outcome=\"ok\"}"), 0);

    ASSERT_EQ(probe.request(base, "user/add", R"({"name":"m"})")->payload.find("error"), std::string::npos);
    probe.request(base, "profile/add", R"({"user":"m","name":"h","timezone":"UTC"})");
    probe.request(base, "room/add", R"({"room":"m/h/r"})");
    const auto added = probe.request(base, "device/add",
                                     Json{{"room", "m/h/r"}, {"name", "p"}, {"url", sim.plugs()[0]["url"]},
                                          {"poll_interval_s", 1}}.dump());
    ASSERT_TRUE(added);
    ASSERT_NE(added->payload.find("\"ok\""), std::string::npos) << added->payload;
    // A few polls later the counters have moved.
    const auto id = Json::parse(added->payload)["data"]["id"].get<std::string>();
    auto mark = probe.count();
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(probe.wait_for(base + "/devices/" + id + "/state", 10s, {}, mark));
        mark = probe.count();
    }
    const auto after = http.Get("/metrics");
    ASSERT_TRUE(after);
    EXPECT_GE(metric_value(after->body, "intelergy_polls_total{outcome=\"ok\"}"), 2);
    EXPECT_EQ(metric_value(after->body, "intelergy_devices{state=\"online\"}"), 1);
    EXPECT_GT(metric_value(after->body, "intelergy_mqtt_messages_total{direction=\"out\"}"),
              metric_value(before->body, "intelergy_mqtt_messages_total{direction=\"out\"}"));
    EXPECT_GT(metric_value(after->body, "intelergy_process_resident_memory_bytes"), 1e6);
    EXPECT_GE(metric_value(after->body, "intelergy_poll_duration_seconds_count"), 2);

    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    std::remove(config_path.c_str());
    for (const auto& m : probe.messages()) probe.publish(m.topic, "", 1, true);
}

}  // namespace
}  // namespace intelergy::test
