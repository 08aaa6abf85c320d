// MQTT over TLS with Paho (issue 6 part 7): a private Mosquitto with TLS listeners on 127.0.0.1
// and a CA, server and client certificate made by `openssl` for this test only. The bridge's
// client connects when given the CA (and, where required, its client certificate) and fails
// with OpenSSL's reason otherwise.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <gtest/gtest.h>

#include "intelergy/bridge/paho_mqtt_client.hpp"
#include "support/test_env.hpp"

extern char** environ;

namespace intelergy::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Collects the "mqtt" logger's lines so a test can wait for a particular one.
class WaitableSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    // Waits for `text` logged at or after offset `from` (see size()).
    bool wait_for(const std::string& text, std::chrono::milliseconds timeout, std::size_t from = 0) {
        std::unique_lock lock(lines_mutex_);
        return cv_.wait_for(lock, timeout,
                            [&] { return all_.find(text, from) != std::string::npos; });
    }
    std::size_t size() {
        std::lock_guard lock(lines_mutex_);
        return all_.size();
    }
    std::string all() {
        std::lock_guard lock(lines_mutex_);
        return all_;
    }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        {
            std::lock_guard lock(lines_mutex_);
            all_.append(msg.payload.data(), msg.payload.size()).append("\n");
        }
        cv_.notify_all();
    }
    void flush_() override {}

private:
    std::mutex lines_mutex_;
    std::condition_variable cv_;
    std::string all_;
};

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

class MqttTls : public ::testing::Test {
protected:
    void SetUp() override {
        if (!have("openssl") || !have("mosquitto"))
            GTEST_SKIP() << "openssl or mosquitto not installed (scripts/setup installs both)";
        dir_ = fs::temp_directory_path() / ("intelergy-tls-" + random_token(8));
        fs::create_directories(dir_);
        const std::string d = dir_.string();
        const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
        std::ofstream(dir_ / "server.ext") << "subjectAltName=IP:127.0.0.1\n";
        const std::string script =
            "set -e; cd '" + d + "'; "
            "openssl req -x509" + ec + "-keyout ca.key -out ca.pem -days 1 -subj /CN=intelergy-test-ca; "
            "openssl req" + ec + "-keyout server.key -out server.csr -subj /CN=127.0.0.1; "
            "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
            "-out server.pem -days 1 -extfile server.ext; "
            "openssl req" + ec + "-keyout client.key -out client.csr -subj /CN=intelergy; "
            "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
            "-out client.pem -days 1; "
            "openssl req -x509" + ec + "-keyout other.key -out other-ca.pem -days 1 -subj /CN=other-ca; "
            "chmod 0644 server.key";  // mosquitto may drop privileges when run as root
        ASSERT_EQ(std::system(("( " + script + " ) >openssl.log 2>&1 || { cat openssl.log; exit 1; }").c_str()), 0);

        server_port_ = free_port();
        client_cert_port_ = free_port();
        std::ofstream(dir_ / "mosquitto.conf")
            << "per_listener_settings true\npersistence false\n"
            << "listener " << server_port_ << " 127.0.0.1\nallow_anonymous true\n"
            << "cafile " << d << "/ca.pem\ncertfile " << d << "/server.pem\nkeyfile " << d
            << "/server.key\n"
            << "listener " << client_cert_port_ << " 127.0.0.1\nallow_anonymous true\n"
            << "cafile " << d << "/ca.pem\ncertfile " << d << "/server.pem\nkeyfile " << d
            << "/server.key\nrequire_certificate true\n";
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

        sink_ = std::make_shared<WaitableSink>();
        spdlog::drop("mqtt");
        logger_ = std::make_shared<spdlog::logger>("mqtt", sink_);
        spdlog::register_logger(logger_);
    }

    void TearDown() override {
        if (broker_ > 0) {
            kill(broker_, SIGTERM);
            waitpid(broker_, nullptr, 0);
        }
        spdlog::drop("mqtt");
        std::error_code ec;
        if (!dir_.empty()) fs::remove_all(dir_, ec);
    }

    bridge::PahoOptions options(int port) {
        bridge::PahoOptions o;
        o.server_uri = "ssl://127.0.0.1:" + std::to_string(port);
        o.client_id = "intelergy-tls-" + random_token(6);
        o.reconnect_min = 1s;
        o.reconnect_max = 1s;
        return o;
    }

    fs::path dir_;
    int server_port_{0};
    int client_cert_port_{0};
    pid_t broker_{-1};
    std::shared_ptr<WaitableSink> sink_;
    std::shared_ptr<spdlog::logger> logger_;
};

TEST_F(MqttTls, ConnectsWithTheCaAndFailsClearlyWithoutIt) {
    auto good = options(server_port_);
    good.ca_file = (dir_ / "ca.pem").string();
    bridge::PahoMqttClient client(good);
    client.start();
    // The broker may still be starting: the client's own retry loop covers that.
    ASSERT_TRUE(client.wait_connected(20s)) << sink_->all();

    // Without our CA (system trust store) and with a CA that did not sign the server: refused.
    for (const auto& ca : {std::string(), (dir_ / "other-ca.pem").string()}) {
        auto bad = options(server_port_);
        bad.ca_file = ca;
        const auto mark = sink_->size();
        bridge::PahoMqttClient untrusted(bad);
        untrusted.start();
        EXPECT_TRUE(sink_->wait_for("certificate verify failed", 20s, mark)) << sink_->all();
        EXPECT_FALSE(untrusted.connected());
        untrusted.stop(std::nullopt, 1s);
    }
    client.stop(std::nullopt, 2s);
}

TEST_F(MqttTls, ClientCertificateWhenTheBrokerRequiresOne) {
    auto with_cert = options(client_cert_port_);
    with_cert.ca_file = (dir_ / "ca.pem").string();
    with_cert.cert_file = (dir_ / "client.pem").string();
    with_cert.key_file = (dir_ / "client.key").string();
    bridge::PahoMqttClient client(with_cert);
    client.start();
    ASSERT_TRUE(client.wait_connected(20s)) << sink_->all();

    auto without = options(client_cert_port_);
    without.ca_file = (dir_ / "ca.pem").string();
    bridge::PahoMqttClient refused(without);
    refused.start();
    EXPECT_TRUE(sink_->wait_for("mqtt connect failed server=ssl://127.0.0.1:" +
                                    std::to_string(client_cert_port_),
                                20s))
        << sink_->all();
    EXPECT_FALSE(refused.connected());
    refused.stop(std::nullopt, 1s);
    client.stop(std::nullopt, 2s);
}

}  // namespace
}  // namespace intelergy::test
