// The systemd notify protocol of the real `intelergy run`, without systemd: the test binds the
// NOTIFY_SOCKET datagram socket itself, sets WATCHDOG_USEC and WATCHDOG_PID the way systemd
// does, and holds the two things READY=1 waits for:
//   - the schema migration, by holding the bridge's migration advisory lock in the test database;
//   - the MQTT connection, by pointing the bridge at a TCP gate that forwards to the real broker
//     only once opened.
// It checks that READY=1 comes only after both, that it carries a STATUS= summary, that
// WATCHDOG=1 pings arrive at half the watchdog period, and that every message comes from the
// bridge's own pid (NotifyAccess=main).
//
// That the pings come from the core loop (a stuck loop stops them) is checked in process by
// tests/unit/bridge_app/service_monitor_test.cpp, which can block the loop.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <atomic>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "bridge_fixture.hpp"
#include "common/temp_dir.hpp"

extern char** environ;

namespace intelergy::test {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// PgStore's migration lock (store/pg/src/pg_store.cpp, "intel").
constexpr long long MIGRATION_LOCK_KEY = 0x696e74656c;

struct Notification {
    std::string text;
    pid_t sender{-1};
    SteadyClock::time_point at;
    [[nodiscard]] bool has(std::string_view line) const {
        std::size_t pos = 0;
        while (pos <= text.size()) {
            const auto end = std::min(text.find('\n', pos), text.size());
            if (std::string_view(text).substr(pos, end - pos) == line) return true;
            pos = end + 1;
        }
        return false;
    }
    [[nodiscard]] std::string status() const {
        const auto pos = text.find("STATUS=");
        if (pos == std::string::npos) return {};
        return text.substr(pos + 7, text.find('\n', pos) - pos - 7);
    }
};

// The receiving end of sd_notify(3): a unix datagram socket with SO_PASSCRED, so each message
// carries the sender's pid.
class NotifySocket {
public:
    explicit NotifySocket(std::string path) : path_(std::move(path)) {
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
        std::remove(path_.c_str());
        ok_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        const int on = 1;
        ok_ = ok_ && setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) == 0;
    }
    ~NotifySocket() {
        if (fd_ >= 0) close(fd_);
        std::remove(path_.c_str());
    }
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    [[nodiscard]] bool ok() const { return ok_; }
    [[nodiscard]] const std::string& path() const { return path_; }

    // The next message, or nullopt after `timeout`.
    std::optional<Notification> next(std::chrono::milliseconds timeout) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
        char buf[4096];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
        iovec iov{buf, sizeof buf};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const auto n = recvmsg(fd_, &msg, MSG_DONTWAIT);
        if (n < 0) return std::nullopt;
        Notification out{std::string(buf, static_cast<std::size_t>(n)), -1, SteadyClock::now()};
        for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                ucred cred{};
                std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
                out.sender = cred.pid;
            }
        }
        all_.push_back(out);
        return out;
    }

    // Reads messages until one satisfies `pred` or `timeout` passes.
    std::optional<Notification> wait_for(const std::function<bool(const Notification&)>& pred,
                                         std::chrono::milliseconds timeout) {
        const auto deadline = SteadyClock::now() + timeout;
        while (true) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
            if (left.count() <= 0) return std::nullopt;
            auto n = next(left);
            if (n && pred(*n)) return n;
        }
    }

    // Every message received so far, in order.
    [[nodiscard]] const std::vector<Notification>& all() const { return all_; }

private:
    std::string path_;
    int fd_{-1};
    bool ok_{false};
    std::vector<Notification> all_;
};

// A loopback TCP port that accepts connections (the kernel completes the handshake) but
// forwards nothing until open(): a broker that does not answer yet. After open(), every
// connection is relayed to the real broker.
class TcpGate {
public:
    TcpGate(std::string target_host, std::uint16_t target_port)
        : host_(std::move(target_host)), target_port_(target_port) {
        listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        listen(listen_fd_, 16);
        socklen_t len = sizeof addr;
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
    }
    ~TcpGate() {
        stop_ = true;
        if (relay_.joinable()) relay_.join();
        for (auto& [a, b] : pairs_) {
            close(a);
            close(b);
        }
        close(listen_fd_);
    }
    TcpGate(const TcpGate&) = delete;
    TcpGate& operator=(const TcpGate&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] int accepted() const { return accepted_; }

    void open() {
        relay_ = std::thread([this] { relay(); });
    }

private:
    int connect_target() const {
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(target_port_);
        inet_pton(AF_INET, host_ == "localhost" ? "127.0.0.1" : host_.c_str(), &addr.sin_addr);
        if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            close(fd);
            return -1;
        }
        return fd;
    }

    // One thread, poll() over the listening socket and every relayed pair; stops with the gate.
    void relay() {
        char buf[16384];
        while (!stop_) {
            std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
            for (auto& [a, b] : pairs_) {
                fds.push_back({a, POLLIN, 0});
                fds.push_back({b, POLLIN, 0});
            }
            if (poll(fds.data(), fds.size(), 100) <= 0) continue;
            if (fds[0].revents & POLLIN) {
                const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
                const int upstream = client >= 0 ? connect_target() : -1;
                if (upstream >= 0) {
                    pairs_.emplace_back(client, upstream);
                    ++accepted_;
                } else if (client >= 0) {
                    close(client);
                }
            }
            std::vector<std::size_t> dead;
            for (std::size_t i = 0; i + 1 < fds.size(); i += 2) {
                const auto k = i / 2;
                for (int side = 0; side < 2; ++side) {
                    const auto& p = fds[1 + i + static_cast<std::size_t>(side)];
                    if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
                    const int from = side == 0 ? pairs_[k].first : pairs_[k].second;
                    const int to = side == 0 ? pairs_[k].second : pairs_[k].first;
                    const auto n = read(from, buf, sizeof buf);
                    if (n <= 0 || write(to, buf, static_cast<std::size_t>(n)) != n) {
                        dead.push_back(k);
                        break;
                    }
                }
            }
            std::sort(dead.begin(), dead.end());
            dead.erase(std::unique(dead.begin(), dead.end()), dead.end());
            for (auto it = dead.rbegin(); it != dead.rend(); ++it) {
                close(pairs_[*it].first);
                close(pairs_[*it].second);
                pairs_.erase(pairs_.begin() + static_cast<std::ptrdiff_t>(*it));
            }
        }
    }

    std::string host_;
    std::uint16_t target_port_;
    int listen_fd_{-1};
    std::uint16_t port_{0};
    std::thread relay_;
    std::atomic<bool> stop_{false};
    std::atomic<int> accepted_{0};
    std::vector<std::pair<int, int>> pairs_;  // relay thread only, then the destructor
};

class SystemdNotify : public ::testing::Test {
protected:
    void SetUp() override {
        url_ = mqtt_url();
        const auto dsn = pg_dsn();
        if (!url_ || !dsn) GTEST_SKIP() << "INTELERGY_TEST_MQTT_URL/INTELERGY_TEST_PG_DSN unset";
        db_ = std::make_unique<TestDatabase>(*dsn);
        base_ = "itn" + random_token(8);
        const auto hostport = url_->substr(url_->find("://") + 3);
        gate_ = std::make_unique<TcpGate>(
            hostport.substr(0, hostport.rfind(':')),
            static_cast<std::uint16_t>(std::stoi(hostport.substr(hostport.rfind(':') + 1))));
        config_path_ = "/tmp/" + base_ + ".toml";
        std::ofstream(config_path_) << "[mqtt]\nurl = \"mqtt://127.0.0.1:" << gate_->port()
                                    << "\"\nbase_topic = \"" << base_ << "\"\nclient_id = \""
                                    << base_ << "\"\nreconnect_min_s = 1\nreconnect_max_s = 1\n"
                                    << "[postgres]\ndsn = \"" << db_->dsn()
                                    << "\"\n[http]\nenabled = false\n[store]\nspool_dir = \""
                                    << spool_dir_.path().string() << "\"\n";
        notify_ = std::make_unique<NotifySocket>("/tmp/" + base_ + ".notify");
        ASSERT_TRUE(notify_->ok()) << "cannot bind " << notify_->path();
        probe_ = std::make_unique<MqttProbe>(*url_, base_ + "-probe");
        probe_->subscribe(base_ + "/bridge/state");
    }

    void TearDown() override {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (probe_) probe_->publish(base_ + "/bridge/state", "", 1, true);
        if (!config_path_.empty()) std::remove(config_path_.c_str());
    }

    // Starts `intelergy run` as systemd would for Type=notify with WatchdogSec=1: NOTIFY_SOCKET,
    // WATCHDOG_USEC and WATCHDOG_PID (set by a shell to its own pid, which exec keeps).
    void start() {
        const std::string exe = std::string(INTELERGY_BINARY_DIR) + "/intelergy";
        std::vector<std::string> env_strings{"NOTIFY_SOCKET=" + notify_->path(),
                                             "WATCHDOG_USEC=1000000"};
        for (char** e = environ; *e; ++e) {
            const std::string_view v(*e);
            if (v.rfind("NOTIFY_SOCKET=", 0) != 0 && v.rfind("WATCHDOG_", 0) != 0)
                env_strings.emplace_back(v);
        }
        std::vector<std::string> args{"/bin/sh", "-c", "WATCHDOG_PID=$$ exec \"$0\" run -c \"$1\"",
                                      exe, config_path_};
        std::vector<char*> argv, envp;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        for (auto& e : env_strings) envp.push_back(e.data());
        envp.push_back(nullptr);
        ASSERT_EQ(posix_spawn(&pid_, "/bin/sh", nullptr, nullptr, argv.data(), envp.data()), 0);
    }

    // Waits (bounded) until the bridge's connection waits for the migration lock the test holds.
    bool bridge_waits_for_lock(pqxx::connection& c) {
        const auto deadline = SteadyClock::now() + 15s;
        while (SteadyClock::now() < deadline) {
            pqxx::nontransaction tx(c);
            const auto waiting = tx.exec1(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")[0]
                                     .as<int>();
            if (waiting > 0) return true;
            std::this_thread::sleep_for(50ms);  // pg_locks has no change notification
        }
        return false;
    }

    int migrations_applied() {
        pqxx::connection c(db_->dsn());
        pqxx::nontransaction tx(c);
        if (!tx.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL")[0].as<bool>())
            return 0;
        return tx.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>();
    }

    [[nodiscard]] bool any(std::string_view line) const {
        return std::any_of(notify_->all().begin(), notify_->all().end(),
                           [&](const Notification& n) { return n.has(line); });
    }
    [[nodiscard]] std::size_t count(std::string_view line) const {
        return static_cast<std::size_t>(
            std::count_if(notify_->all().begin(), notify_->all().end(),
                          [&](const Notification& n) { return n.has(line); }));
    }

    std::optional<std::string> url_;
    std::unique_ptr<TestDatabase> db_;
    std::string base_;
    TempDir spool_dir_{"intelergy-spool"};
    std::unique_ptr<TcpGate> gate_;
    std::string config_path_;
    std::unique_ptr<NotifySocket> notify_;
    std::unique_ptr<MqttProbe> probe_;
    pid_t pid_{-1};
};

TEST_F(SystemdNotify, ReadyOnlyAfterMigrationsAndMqttThenWatchdogAtHalfPeriod) {
    // 1. Migrations blocked: the bridge says so in STATUS= and is not ready.
    auto lock = std::make_unique<pqxx::connection>(db_->dsn());
    {
        pqxx::nontransaction tx(*lock);
        tx.exec1("SELECT pg_advisory_lock(" + std::to_string(MIGRATION_LOCK_KEY) + ")");
    }
    start();
    const auto migrating = notify_->wait_for(
        [](const Notification& n) { return n.status().find("migrations") != std::string::npos; },
        15s);
    ASSERT_TRUE(migrating) << "no STATUS= about migrations";
    EXPECT_EQ(migrating->sender, pid_) << "notification not sent by the main process";
    ASSERT_TRUE(bridge_waits_for_lock(*lock)) << "the bridge never waited for the migration lock";
    while (notify_->next(0ms)) {
    }
    EXPECT_FALSE(any("READY=1")) << "READY=1 while migrations were blocked";
    EXPECT_EQ(migrations_applied(), 0);

    // 2. Migrations done, the broker does not answer: the core loop runs (watchdog pings) but
    //    the bridge is not ready, and its STATUS= says why.
    lock.reset();  // closing the session releases the advisory lock
    ASSERT_TRUE(notify_->wait_for([](const Notification& n) { return n.has("WATCHDOG=1"); }, 15s))
        << "no WATCHDOG=1 after migrations";
    const std::size_t pings_before = count("WATCHDOG=1");
    ASSERT_TRUE(notify_->wait_for(
        [&](const Notification&) { return count("WATCHDOG=1") >= pings_before + 4; }, 10s));
    EXPECT_FALSE(any("READY=1")) << "READY=1 before MQTT was connected";
    const int migrations = migrations_applied();  // all of them: nothing migrates after this
    EXPECT_GE(migrations, 2);
    EXPECT_FALSE(probe_->wait_for(base_ + "/bridge/state", 0ms, [](const MqttMessage& m) {
        return m.payload.find("online") != std::string::npos;
    })) << "bridge/state online before the broker was reachable";
    const auto waiting = std::find_if(notify_->all().rbegin(), notify_->all().rend(),
                                      [](const Notification& n) { return !n.status().empty(); });
    ASSERT_NE(waiting, notify_->all().rend());
    EXPECT_NE(waiting->status().find("starting"), std::string::npos) << waiting->status();
    EXPECT_NE(waiting->status().find("mqtt disconnected"), std::string::npos) << waiting->status();

    // 3. The broker answers: READY=1 with a summary, and bridge/state online.
    gate_->open();
    const auto ready = notify_->wait_for([](const Notification& n) { return n.has("READY=1"); }, 20s);
    ASSERT_TRUE(ready) << "no READY=1 after the broker became reachable";
    EXPECT_GE(gate_->accepted(), 1);
    EXPECT_EQ(ready->sender, pid_);
    for (const char* part : {"0 devices", "mqtt connected", "database ok"})
        EXPECT_NE(ready->status().find(part), std::string::npos) << ready->text;
    EXPECT_EQ(ready->status().find("starting"), std::string::npos) << ready->text;
    EXPECT_TRUE(probe_->wait_for(base_ + "/bridge/state", 10s, [](const MqttMessage& m) {
        return m.payload == R"({"state":"online"})";
    })) << "READY=1 but bridge/state never said online";
    EXPECT_EQ(count("READY=1"), 1u);

    // 4. Watchdog: WATCHDOG_USEC=1 s, so a ping every 0.5 s, each from the main process, none
    //    later than the watchdog period.
    std::vector<SteadyClock::time_point> pings;
    const auto ping_deadline = SteadyClock::now() + 15s;
    while (pings.size() < 9 && SteadyClock::now() < ping_deadline) {
        auto n = notify_->next(1500ms);
        ASSERT_TRUE(n) << "no notification for 1.5 s after READY=1 (watchdog pings stopped)";
        if (!n->has("WATCHDOG=1")) continue;
        EXPECT_EQ(n->sender, pid_);
        pings.push_back(n->at);
    }
    ASSERT_EQ(pings.size(), 9u);
    std::vector<double> gaps;
    for (std::size_t i = 1; i < pings.size(); ++i)
        gaps.push_back(std::chrono::duration<double>(pings[i] - pings[i - 1]).count());
    std::sort(gaps.begin(), gaps.end());
    EXPECT_GT(gaps[gaps.size() / 2], 0.4) << "median ping gap";
    EXPECT_LT(gaps[gaps.size() / 2], 0.7) << "median ping gap";
    EXPECT_LT(gaps.back(), 1.0) << "a ping gap as long as the watchdog period";

    // 5. SIGTERM: STOPPING=1, then a clean exit.
    ASSERT_EQ(kill(pid_, SIGTERM), 0);
    EXPECT_TRUE(notify_->wait_for([](const Notification& n) { return n.has("STOPPING=1"); }, 15s));
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(migrations_applied(), migrations) << "a migration ran after READY=1";
}

TEST_F(SystemdNotify, FailedStartSaysWhyInStatus) {
    {
        pqxx::connection c(db_->dsn());
        pqxx::work tx(c);
        tx.exec("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT now())");
        tx.exec("INSERT INTO schema_migrations VALUES (9999, 'from_the_future')");
        tx.commit();
    }
    start();
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_NE(WEXITSTATUS(status), 0);
    while (notify_->next(0ms)) {
    }
    EXPECT_FALSE(any("READY=1"));
    const auto last = std::find_if(notify_->all().rbegin(), notify_->all().rend(),
                                   [](const Notification& n) { return !n.status().empty(); });
    ASSERT_NE(last, notify_->all().rend());
    EXPECT_EQ(last->status().rfind("cannot start: ", 0), 0u) << last->status();
    EXPECT_NE(last->status().find("newer than this intelergy binary"), std::string::npos)
        << last->status();
}

}  // namespace
}  // namespace intelergy::test
