// The real `intelergy` executable: last will on kill -9, schema reuse on restart, clean stop on
// SIGTERM and SIGINT, a database newer than the binary refused with a clear message, and
// `intelergy db migrate` run twice.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "bridge_fixture.hpp"
#include "common/temp_dir.hpp"

extern char** environ;

namespace intelergy::test {
namespace {

class BridgeProcess : public ::testing::Test {
protected:
    void SetUp() override {
        url_ = mqtt_url();
        const auto dsn = pg_dsn();
        if (!url_ || !dsn) GTEST_SKIP() << "INTELERGY_TEST_MQTT_URL/INTELERGY_TEST_PG_DSN unset";
        db_ = std::make_unique<TestDatabase>(*dsn);
        base_ = "itp" + random_token(8);
        config_path_ = std::string("/tmp/") + base_ + ".toml";
        std::ofstream(config_path_) << "[mqtt]\nurl = \"" << *url_ << "\"\nbase_topic = \""
                                    << base_ << "\"\nclient_id = \"" << base_
                                    << "\"\n[postgres]\ndsn = \"" << db_->dsn()
                                    << "\"\n[http]\nenabled = false\n[log]\nlevel = \"info\"\n"
                                    << "[store]\nspool_dir = \"" << spool_dir_.path().string()
                                    << "\"\n";
        probe_ = std::make_unique<MqttProbe>(*url_, base_ + "-probe");
        probe_->subscribe(base_ + "/bridge/#");
    }

    void TearDown() override {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        if (probe_) probe_->publish(base_ + "/bridge/state", "", 1, true);
        std::remove(config_path_.c_str());
        for (const auto& f : logs_) std::remove(f.c_str());
    }

    // Spawns `intelergy <args…> -c <config>` with stdout and stderr going to a fresh log file,
    // whose path is returned (read it with log_of()).
    std::string spawn(std::vector<std::string> args) {
        const std::string exe = std::string(INTELERGY_BINARY_DIR) + "/intelergy";
        const std::string log = config_path_ + "." + std::to_string(logs_.size()) + ".log";
        logs_.push_back(log);
        args.insert(args.begin(), exe);
        args.insert(args.end(), {"-c", config_path_});
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        const int rc = posix_spawn(&pid_, exe.c_str(), &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        EXPECT_EQ(rc, 0);
        return log;
    }

    std::string start() { return spawn({"run"}); }

    // Waits for the spawned process; its exit code, or -1 if a signal ended it.
    int wait_exit() {
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    int run_to_end(std::vector<std::string> args, std::string* output) {
        const auto log = spawn(std::move(args));
        const int rc = wait_exit();
        *output = log_of(log);
        return rc;
    }

    static std::string log_of(const std::string& path) {
        std::ifstream in(path);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

    // Log lines at level error or critical ("<time> error <logger>: …").
    static std::string error_lines(const std::string& log) {
        std::istringstream in(log);
        std::string line, out;
        while (std::getline(in, line))
            if (line.find(" error ") != std::string::npos ||
                line.find(" critical ") != std::string::npos)
                out += line + "\n";
        return out;
    }

    bool wait_state(const std::string& state, std::size_t since) {
        return probe_
            ->wait_for(base_ + "/bridge/state", std::chrono::seconds(15),
                       [&](const MqttMessage& m) {
                           return m.payload == R"({"state":")" + state + R"("})";
                       },
                       since)
            .has_value();
    }

    int migrations_applied() {
        pqxx::connection c(db_->dsn());
        pqxx::read_transaction tx(c);
        return tx.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>();
    }

    std::optional<std::string> url_;
    std::unique_ptr<TestDatabase> db_;
    std::string base_;
    TempDir spool_dir_{"intelergy-spool"};
    std::string config_path_;
    std::unique_ptr<MqttProbe> probe_;
    pid_t pid_{-1};
    std::vector<std::string> logs_;
};

TEST_F(BridgeProcess, KillNineShowsOfflineAndRestartReusesSchema) {
    const auto first_log = start();
    ASSERT_TRUE(wait_state("online", 0));
    const int migrations = migrations_applied();
    EXPECT_GE(migrations, 1);
    {
        // `run` created the readings partitions of this UTC month and the 3 after it.
        pqxx::connection c(db_->dsn());
        pqxx::read_transaction tx(c);
        for (int ahead = 0; ahead <= 3; ++ahead)
            EXPECT_TRUE(tx.exec1("SELECT to_regclass('readings_' || to_char(date_trunc('month', "
                                 "now() AT TIME ZONE 'UTC') + interval '" + std::to_string(ahead) +
                                 " month', 'YYYYMM')) IS NOT NULL")[0].as<bool>())
                << ahead << " month(s) ahead";
    }
    const auto added = probe_->request(base_, "user/add", R"({"name":"alice"})");
    ASSERT_TRUE(added);
    ASSERT_NE(added->payload.find(R"("status":"ok")"), std::string::npos) << added->payload;

    auto mark = probe_->count();
    ASSERT_EQ(kill(pid_, SIGKILL), 0);
    EXPECT_EQ(wait_exit(), -1);
    // Between the kill and the restart, bridge/state says offline: the broker's last will.
    EXPECT_TRUE(wait_state("offline", mark)) << "last will not published after kill -9";

    mark = probe_->count();
    const auto second_log = start();
    ASSERT_TRUE(wait_state("online", mark));
    EXPECT_EQ(migrations_applied(), migrations);

    const auto r = probe_->request(base_, "health_check", "{}");
    ASSERT_TRUE(r);
    EXPECT_NE(r->payload.find(R"("status":"ok")"), std::string::npos);
    const auto users = probe_->request(base_, "user/list", "{}");
    ASSERT_TRUE(users);
    EXPECT_NE(users->payload.find(R"("name":"alice")"), std::string::npos) << users->payload;

    mark = probe_->count();
    ASSERT_EQ(kill(pid_, SIGTERM), 0);
    EXPECT_EQ(wait_exit(), 0);
    EXPECT_TRUE(wait_state("offline", mark));

    // The restart reused the schema: nothing applied, no error logged.
    const auto log = log_of(second_log);
    EXPECT_NE(log.find("database schema at version " + std::to_string(migrations) +
                       " (0 migration(s) applied now)"),
              std::string::npos)
        << log;
    EXPECT_EQ(error_lines(log), "") << log;
    EXPECT_NE(log_of(first_log).find("(" + std::to_string(migrations) +
                                     " migration(s) applied now)"),
              std::string::npos)
        << log_of(first_log);
}

// SIGINT and SIGTERM: bridge/state offline (published by the bridge, retained), exit code 0,
// "intelergy stopped" logged after the store writer was flushed (the flush itself, with readings,
// is checked in restart_test.cpp).
TEST_F(BridgeProcess, SigintAndSigtermPublishOfflineAndExitZero) {
    for (const int sig : {SIGINT, SIGTERM}) {
        SCOPED_TRACE(sig == SIGINT ? "SIGINT" : "SIGTERM");
        auto mark = probe_->count();
        const auto log = start();
        ASSERT_TRUE(wait_state("online", mark));
        mark = probe_->count();
        ASSERT_EQ(kill(pid_, sig), 0);
        EXPECT_EQ(wait_exit(), 0);
        EXPECT_TRUE(wait_state("offline", mark));
        // Retained: a client that comes later sees offline too.
        MqttProbe late(*url_, base_ + "-late");
        late.subscribe(base_ + "/bridge/state");
        const auto retained = late.wait_for(base_ + "/bridge/state", std::chrono::seconds(5));
        ASSERT_TRUE(retained);
        EXPECT_TRUE(retained->retained);
        EXPECT_EQ(retained->payload, R"({"state":"offline"})");
        const auto text = log_of(log);
        EXPECT_EQ(error_lines(text), "") << text;
        EXPECT_NE(text.find(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
                            ", shutting down"),
                  std::string::npos)
            << text;
        EXPECT_NE(text.find("intelergy stopped"), std::string::npos) << text;
    }
}

TEST_F(BridgeProcess, RefusesDatabaseNewerThanBinaryWithAClearMessage) {
    std::string out;
    ASSERT_EQ(run_to_end({"db", "migrate"}, &out), 0) << out;
    const int version = migrations_applied();
    {
        pqxx::connection c(db_->dsn());
        pqxx::work tx(c);
        tx.exec("INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')");
        tx.commit();
    }
    const std::string expected = "database schema version 9999 is newer than this intelergy "
                                 "binary supports (" + std::to_string(version) +
                                 "); upgrade intelergy or point it at another database";
    const auto mark = probe_->count();
    EXPECT_EQ(run_to_end({"run"}, &out), 1);
    EXPECT_NE(out.find("cannot start: " + expected), std::string::npos) << out;
    EXPECT_EQ(run_to_end({"db", "migrate"}, &out), 1);
    EXPECT_NE(out.find(expected), std::string::npos) << out;
    // It never came online, and nothing was applied on top.
    const auto messages = probe_->messages();
    for (std::size_t i = mark; i < messages.size(); ++i)
        EXPECT_NE(messages[i].payload, R"({"state":"online"})") << messages[i].topic;
    EXPECT_EQ(migrations_applied(), version + 1);
}

TEST_F(BridgeProcess, DbMigrateTwiceChangesNothing) {
    std::string out;
    ASSERT_EQ(run_to_end({"db", "migrate"}, &out), 0) << out;
    const int version = migrations_applied();
    EXPECT_NE(out.find("(" + std::to_string(version) + " migration(s) applied now)"),
              std::string::npos)
        << out;
    const auto schema = [this] {
        pqxx::connection c(db_->dsn());
        pqxx::read_transaction tx(c);
        std::string s;
        for (const auto& row : tx.exec(
                 "SELECT table_name || '.' || column_name || ':' || data_type FROM "
                 "information_schema.columns WHERE table_schema = 'public' ORDER BY 1"))
            s += row[0].c_str() + std::string("\n");
        for (const auto& row : tx.exec("SELECT version || ' ' || name || ' ' || applied_at "
                                       "FROM schema_migrations ORDER BY version"))
            s += row[0].c_str() + std::string("\n");
        return s;
    };
    const auto before = schema();
    ASSERT_EQ(run_to_end({"db", "migrate"}, &out), 0) << out;
    EXPECT_NE(out.find("database schema at version " + std::to_string(version) +
                       " (0 migration(s) applied now)"),
              std::string::npos)
        << out;
    EXPECT_EQ(schema(), before);
}

}  // namespace
}  // namespace intelergy::test
