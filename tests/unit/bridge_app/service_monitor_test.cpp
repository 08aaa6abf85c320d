// ServiceMonitor (bridge/app/service.cpp) in process, with the real sd_notify(3) talking to a
// socket this test binds: WATCHDOG=1 comes from the core loop, so a stuck loop stops the pings
// (the loop is blocked here by a task of its own), and READY=1 waits for the database as well as
// for MQTT. The real `intelergy run` is checked end to end by
// tests/integration/bridge/systemd_notify_test.cpp.
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "intelergy/fakes/fake_http_client.hpp"
#include "intelergy/fakes/fake_mqtt_client.hpp"
#include "intelergy/fakes/in_memory_store.hpp"
#include "service.hpp"

namespace intelergy::app {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

#ifdef INTELERGY_HAVE_SYSTEMD

class NotifyReceiver {
public:
    NotifyReceiver() {
        path_ = "/tmp/intelergy-sm-" + std::to_string(getpid()) + ".notify";
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
        std::remove(path_.c_str());
        ok_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~NotifyReceiver() {
        close(fd_);
        std::remove(path_.c_str());
    }
    NotifyReceiver(const NotifyReceiver&) = delete;
    NotifyReceiver& operator=(const NotifyReceiver&) = delete;
    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] const std::string& path() const { return path_; }

    std::optional<std::string> next(std::chrono::milliseconds timeout) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
        char buf[4096];
        const auto n = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) return std::nullopt;
        return std::string(buf, static_cast<std::size_t>(n));
    }
    // The first message containing `needle` within `timeout`; every message read is counted.
    std::optional<std::string> wait_for(std::string_view needle, std::chrono::milliseconds timeout) {
        const auto deadline = SteadyClock::now() + timeout;
        while (SteadyClock::now() < deadline) {
            auto m = next(std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - SteadyClock::now()));
            if (!m) continue;
            seen_.push_back(*m);
            if (m->find(needle) != std::string::npos) return m;
        }
        return std::nullopt;
    }
    void drain() {
        while (auto m = next(0ms)) seen_.push_back(*m);
    }
    [[nodiscard]] std::size_t count(std::string_view needle) const {
        std::size_t n = 0;
        for (const auto& m : seen_) n += m.find(needle) != std::string::npos ? 1u : 0u;
        return n;
    }

private:
    std::string path_;
    int fd_{-1};
    bool ok_{false};
    std::vector<std::string> seen_;
};

// A bridge on fakes whose core loop runs on its own thread, with a task that can hold the loop.
class ServiceMonitorTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(receiver_.ok());
        setenv("NOTIFY_SOCKET", receiver_.path().c_str(), 1);
        setenv("WATCHDOG_USEC", "200000", 1);  // ping every 100 ms
        unsetenv("WATCHDOG_PID");
        config_.http.enabled = false;
        bridge_ = std::make_unique<bridge::Bridge>(
            config_, mqtt_, http_, clock_, [] { return std::make_unique<fakes::InMemoryStore>(); },
            [](const Reading&, const std::optional<store::EnergyBookRow>&) {});
        ASSERT_TRUE(bridge_->start());
        monitor_ = std::make_unique<ServiceMonitor>(
            config_, *bridge_, mqtt_, [this](bridge::ServiceStats& s) { s.database_ok = database_ok_; });
        ASSERT_TRUE(monitor_->start());
        bridge_->every(20ms, [this] {
            std::unique_lock lock(mutex_);
            if (!hold_) return;
            held_ = true;
            cv_.notify_all();
            cv_.wait_for(lock, 10s, [this] { return !hold_; });  // bounded: never hangs the test
            held_ = false;
        });
        loop_ = std::thread([this] { bridge_->run(); });
    }

    void TearDown() override {
        release();
        if (bridge_) bridge_->stop();
        if (loop_.joinable()) loop_.join();
        monitor_.reset();
        bridge_.reset();
        unsetenv("NOTIFY_SOCKET");
        unsetenv("WATCHDOG_USEC");
    }

    bool hold() {
        std::unique_lock lock(mutex_);
        hold_ = true;
        return cv_.wait_for(lock, 5s, [this] { return held_; });
    }
    void release() {
        std::lock_guard lock(mutex_);
        hold_ = false;
        cv_.notify_all();
    }

    NotifyReceiver receiver_;
    config::AppConfig config_;
    fakes::FakeMqttClient mqtt_{true};
    fakes::FakeHttpClient http_;
    SystemClock clock_;
    std::atomic<bool> database_ok_{true};
    std::unique_ptr<bridge::Bridge> bridge_;
    std::unique_ptr<ServiceMonitor> monitor_;
    std::thread loop_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool hold_{false};
    bool held_{false};
};

TEST_F(ServiceMonitorTest, StuckCoreLoopStopsWatchdogPings) {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(receiver_.wait_for("WATCHDOG=1", 2s)) << "ping " << i;

    ASSERT_TRUE(hold()) << "the holding task never ran on the core loop";
    receiver_.drain();  // a ping already queued before the loop was held
    const auto pings = receiver_.count("WATCHDOG=1");
    // Five ping periods with the loop held: no ping may come (this wait is the property tested).
    EXPECT_FALSE(receiver_.wait_for("WATCHDOG=1", 500ms)) << "a ping while the core loop was stuck";
    EXPECT_EQ(receiver_.count("WATCHDOG=1"), pings);

    release();
    EXPECT_TRUE(receiver_.wait_for("WATCHDOG=1", 2s)) << "pings did not resume";
}

TEST_F(ServiceMonitorTest, ReadyWaitsForTheDatabase) {
    // READY=1 normally comes at the first 1 s tick; hold it back with the database failing.
    database_ok_ = false;
    for (int i = 0; i < 2; ++i) {
        const auto status = receiver_.wait_for("STATUS=", 3s);
        ASSERT_TRUE(status);
        EXPECT_EQ(status->find("READY=1"), std::string::npos) << *status;
        EXPECT_NE(status->find("STATUS=starting: "), std::string::npos) << *status;
        EXPECT_NE(status->find("database unreachable"), std::string::npos) << *status;
    }
    EXPECT_EQ(receiver_.count("READY=1"), 0u);

    database_ok_ = true;
    const auto ready = receiver_.wait_for("READY=1", 3s);
    ASSERT_TRUE(ready);
    EXPECT_NE(ready->find("\nSTATUS="), std::string::npos) << *ready;
    EXPECT_NE(ready->find("mqtt connected, database ok"), std::string::npos) << *ready;
}

TEST_F(ServiceMonitorTest, ReadyWaitsForMqtt) {
    mqtt_.set_connected(false);
    for (int i = 0; i < 2; ++i) {
        const auto status = receiver_.wait_for("STATUS=", 3s);
        ASSERT_TRUE(status);
        EXPECT_EQ(status->find("READY=1"), std::string::npos) << *status;
        EXPECT_NE(status->find("mqtt disconnected"), std::string::npos) << *status;
    }
    mqtt_.set_connected(true);
    EXPECT_TRUE(receiver_.wait_for("READY=1", 3s));
}

#else
TEST(ServiceMonitorTest, NeedsLibsystemd) { GTEST_SKIP() << "built without libsystemd"; }
#endif

}  // namespace
}  // namespace intelergy::app
