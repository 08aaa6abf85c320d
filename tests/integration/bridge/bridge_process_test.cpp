// The real `intelergy` executable: last will on kill -9, schema reuse on restart, clean stop.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <pqxx/pqxx>

#include "bridge_fixture.hpp"

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
                                    << "\"\n[http]\nenabled = false\n[log]\nlevel = \"info\"\n";
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
    }

    void start() {
        const std::string exe = std::string(INTELERGY_BINARY_DIR) + "/intelergy";
        std::vector<std::string> args{exe, "run", "-c", config_path_};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ASSERT_EQ(posix_spawn(&pid_, exe.c_str(), nullptr, nullptr, argv.data(), environ), 0);
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
    std::string config_path_;
    std::unique_ptr<MqttProbe> probe_;
    pid_t pid_{-1};
};

TEST_F(BridgeProcess, KillNineShowsOfflineAndRestartReusesSchema) {
    start();
    ASSERT_TRUE(wait_state("online", 0));
    const int migrations = migrations_applied();
    EXPECT_GE(migrations, 1);

    auto mark = probe_->count();
    ASSERT_EQ(kill(pid_, SIGKILL), 0);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    EXPECT_TRUE(wait_state("offline", mark)) << "last will not published after kill -9";

    mark = probe_->count();
    start();
    ASSERT_TRUE(wait_state("online", mark));
    EXPECT_EQ(migrations_applied(), migrations);

    const auto r = probe_->request(base_, "health_check", "{}");
    ASSERT_TRUE(r);
    EXPECT_NE(r->payload.find(R"("status":"ok")"), std::string::npos);

    mark = probe_->count();
    ASSERT_EQ(kill(pid_, SIGTERM), 0);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_TRUE(wait_state("offline", mark));
}

TEST_F(BridgeProcess, RefusesDatabaseNewerThanBinary) {
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
}

}  // namespace
}  // namespace intelergy::test
