// packaging/mosquitto-acl.example, used verbatim by a private Mosquitto on 127.0.0.1: only the
// admin account may publish bridge requests and relay commands (issue 6 part 7).
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <gtest/gtest.h>
#include <mqtt/async_client.h>

#include "support/test_env.hpp"

extern char** environ;

namespace intelergy::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool have(const char* tool) {
    return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0;
}

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

// One authenticated client; records what it receives.
class Client : public virtual mqtt::callback {
public:
    Client(int port, const std::string& user) {
        client_ = std::make_unique<mqtt::async_client>("tcp://127.0.0.1:" + std::to_string(port),
                                                       user + "-" + random_token(6));
        client_->set_callback(*this);
        auto opts = mqtt::connect_options_builder()
                        .user_name(user)
                        .password(user + "-pw")
                        .clean_session(true)
                        .connect_timeout(5s)
                        .finalize();
        // The broker may still be starting: bounded retries on the connect itself.
        for (int attempt = 0; attempt < 50; ++attempt) {
            try {
                client_->connect(opts)->wait();
                return;
            } catch (const mqtt::exception&) {
                std::unique_lock lock(mutex_);
                cv_.wait_for(lock, 200ms, [] { return false; });  // back off, bounded
            }
        }
        ADD_FAILURE() << user << " could not connect";
    }
    ~Client() override {
        try {
            if (client_->is_connected()) client_->disconnect()->wait();
        } catch (const mqtt::exception&) {
        }
    }
    void subscribe(const std::string& filter) { client_->subscribe(filter, 1)->wait(); }
    // QoS 1 and waits for the PUBACK: the broker has handled (delivered or dropped) it.
    void publish(const std::string& topic, const std::string& payload) {
        client_->publish(topic, payload.data(), payload.size(), 1, false)->wait();
    }
    bool wait_for(const std::string& payload, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] {
            for (const auto& [t, p] : received_)
                if (p == payload) return true;
            return false;
        });
    }
    std::vector<std::pair<std::string, std::string>> received() {
        std::lock_guard lock(mutex_);
        return received_;
    }

private:
    void message_arrived(mqtt::const_message_ptr msg) override {
        {
            std::lock_guard lock(mutex_);
            received_.emplace_back(msg->get_topic(), msg->get_payload_str());
        }
        cv_.notify_all();
    }
    std::unique_ptr<mqtt::async_client> client_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::pair<std::string, std::string>> received_;
};

class AclExample : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have("mosquitto") || !have("mosquitto_passwd")) GTEST_SKIP() << "mosquitto not installed";
        dir_ = fs::temp_directory_path() / ("intelergy-acl-" + random_token(8));
        fs::create_directories(dir_);
        const std::string d = dir_.string();
        std::string cmd = "set -e; cd '" + d + "'; : > passwd; ";
        for (const char* user : {"intelergy", "intelergy-admin", "homeassistant", "shellyplusplugs-a1"})
            cmd += std::string("mosquitto_passwd -b passwd ") + user + " " + user + "-pw; ";
        cmd += "chmod 0644 passwd";
        ASSERT_EQ(std::system(("( " + cmd + " ) >passwd.log 2>&1").c_str()), 0);
        port_ = free_port();
        std::ofstream(dir_ / "mosquitto.conf")
            << "persistence false\nlistener " << port_ << " 127.0.0.1\nallow_anonymous false\n"
            << "password_file " << d << "/passwd\nacl_file " << INTELERGY_SOURCE_DIR
            << "/packaging/mosquitto-acl.example\n";
        std::string exe = "mosquitto";
        std::string conf = (dir_ / "mosquitto.conf").string();
        std::vector<char*> argv{exe.data(), const_cast<char*>("-c"), conf.data(), nullptr};
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        const std::string log = (dir_ / "mosquitto.log").string();
        posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        ASSERT_EQ(posix_spawnp(&broker_, exe.c_str(), &actions, nullptr, argv.data(), environ), 0);
        posix_spawn_file_actions_destroy(&actions);
    }
    void TearDown() override {
        if (broker_ > 0) {
            kill(broker_, SIGTERM);
            waitpid(broker_, nullptr, 0);
        }
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }
    fs::path dir_;
    int port_{0};
    pid_t broker_{-1};
};

TEST_F(AclExample, OnlyTheAdminSendsRequestsAndRelayCommands) {
    Client bridge(port_, "intelergy");  // the bridge account subscribes to both
    bridge.subscribe("intelergy/bridge/request/#");
    bridge.subscribe("intelergy/devices/+/set");
    bridge.subscribe("intelergy/devices/+/channel/+/set");
    Client admin(port_, "intelergy-admin");
    Client ha(port_, "homeassistant");
    Client plug(port_, "shellyplusplugs-a1");

    const std::vector<std::string> topics{"intelergy/bridge/request/user/add",
                                          "intelergy/devices/shelly-1/set",
                                          "intelergy/devices/shelly-1/channel/0/set"};
    for (const auto& topic : topics) {
        // Refused ones first; each publish is acknowledged, so the broker has dealt with it
        // before the admin's, and the bridge would have received it first.
        ha.publish(topic, "from-homeassistant");
        plug.publish(topic, "from-plug");
        admin.publish(topic, "from-admin " + topic);
        EXPECT_TRUE(bridge.wait_for("from-admin " + topic, 10s)) << topic;
    }
    for (const auto& [topic, payload] : bridge.received()) {
        EXPECT_EQ(payload.rfind("from-admin", 0), 0U) << topic << " " << payload;
    }
    EXPECT_EQ(bridge.received().size(), topics.size());

    // Home Assistant still reads the bridge's state.
    ha.subscribe("intelergy/devices/+/state");
    bridge.publish("intelergy/devices/shelly-1/state", "state-1");
    EXPECT_TRUE(ha.wait_for("state-1", 10s));
}

}  // namespace
}  // namespace intelergy::test
