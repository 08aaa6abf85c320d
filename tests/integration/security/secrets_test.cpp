// "No secret appears anywhere in a captured run's logs and topics" (issue 6, done criterion).
// Runs the real `intelergy run` with an MQTT password, a DSN password and a password-protected
// simulated plug registered through the API, captures its whole output and every message under
// its topics, and searches both for the three secrets. Also checks the start-up warnings.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "integration/bridge/bridge_fixture.hpp"
#include "support/sim_process.hpp"

extern char** environ;

namespace intelergy::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class Secrets : public ::testing::Test {
protected:
    void SetUp() override {
        url_ = mqtt_url();
        const auto dsn = pg_dsn();
        if (!url_ || !dsn) GTEST_SKIP() << "INTELERGY_TEST_MQTT_URL/INTELERGY_TEST_PG_DSN unset";
        db_ = std::make_unique<TestDatabase>(*dsn);
        base_ = "its" + random_token(8);
        dir_ = fs::temp_directory_path() / base_;
        fs::create_directories(dir_);
        mqtt_secret_ = "MqttSecret" + random_token(12);
        dsn_secret_ = "DsnSecret" + random_token(12);
        plug_secret_ = "PlugSecret" + random_token(12);

        write(dir_ / "mqtt-password", mqtt_secret_ + "\n", 0600);
        // Trust authentication ignores the password, but the bridge still holds it.
        std::string dsn_text = db_->dsn();
        const auto at = dsn_text.find("postgres@");
        ASSERT_NE(at, std::string::npos) << dsn_text;
        dsn_text.replace(at, 9, "postgres:" + dsn_secret_ + "@");
        write(dir_ / "pg-dsn", dsn_text, 0600);
        write(dir_ / "credentials.key", std::string(64, 'c'), 0644);  // others may read: warned
        config_ = dir_ / "intelergy.toml";
        write(config_,
              "[mqtt]\nurl = \"" + *url_ + "\"\nbase_topic = \"" + base_ + "\"\nclient_id = \"" +
                  base_ + "\"\nusername = \"bridge\"\npassword_file = \"mqtt-password\"\n"
                  "[postgres]\ndsn_file = \"pg-dsn\"\n[homeassistant]\ndiscovery_prefix = \"" +
                  base_ + "-ha\"\nstatus_topic = \"" + base_ + "-ha/status\"\n"
                  "[polling]\ndefault_interval_s = 1\n[http]\nenabled = false\n"
                  "[store]\ncredentials_key_file = \"credentials.key\"\nspool_dir = \"" +
                  (dir_ / "spool").string() + "\"\n[log]\nlevel = \"debug\"\n",
              0644);
        write(dir_ / "sim.json",
              nlohmann::json{{"plugs", nlohmann::json::array({{{"name", "kettle"},
                                                               {"kind", "gen3-plug-s"},
                                                               {"password", plug_secret_},
                                                               {"profile", "constant:100"}}})}}
                  .dump(),
              0600);
        probe_ = std::make_unique<MqttProbe>(*url_, base_ + "-probe");
        probe_->subscribe(base_ + "/#");
        probe_->subscribe(base_ + "-ha/#");
        sim_ = std::make_unique<SimProcess>(
            std::vector<std::string>{"--config", (dir_ / "sim.json").string()});
    }

    void TearDown() override {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        sim_.reset();
        if (probe_) {
            std::set<std::string> topics;
            for (const auto& m : probe_->messages())
                if (m.retained || m.topic.find("/bridge/state") != std::string::npos)
                    topics.insert(m.topic);
            for (const auto& t : topics) probe_->publish(t, "", 1, true);
        }
        probe_.reset();
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    static void write(const fs::path& path, const std::string& text, mode_t mode) {
        std::ofstream(path) << text;
        ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    }

    void start() {
        const std::string exe = std::string(INTELERGY_BINARY_DIR) + "/intelergy";
        std::vector<std::string> args{exe, "run", "-c", config_.string()};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        const std::string log = (dir_ / "run.log").string();
        posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        ASSERT_EQ(posix_spawn(&pid_, exe.c_str(), &actions, nullptr, argv.data(), environ), 0);
        posix_spawn_file_actions_destroy(&actions);
    }

    Json request(const std::string& path, const Json& body) {
        const auto m = probe_->request(base_, path, body.dump(), 20s);
        if (!m) {
            ADD_FAILURE() << "no response to " << path;
            return Json::object();
        }
        return Json::parse(m->payload);
    }

    std::string read_log() {
        std::ifstream in(dir_ / "run.log");
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

    std::optional<std::string> url_;
    std::unique_ptr<TestDatabase> db_;
    std::string base_, mqtt_secret_, dsn_secret_, plug_secret_;
    fs::path dir_, config_;
    std::unique_ptr<MqttProbe> probe_;
    std::unique_ptr<SimProcess> sim_;
    pid_t pid_{-1};
};

TEST_F(Secrets, NoSecretInLogsTopicsResponsesOrTheDatabaseDump) {
    start();
    ASSERT_TRUE(probe_->wait_for(base_ + "/bridge/state", 30s, [](const MqttMessage& m) {
        return m.payload.find("online") != std::string::npos;
    }));
    ASSERT_EQ(request("user/add", {{"name", "alice"}})["status"], "ok");
    ASSERT_EQ(request("profile/add", {{"user", "alice"}, {"name", "home"}, {"timezone", "UTC"}})
                  ["status"], "ok");
    ASSERT_EQ(request("room/add", {{"room", "alice/home/kitchen"}})["status"], "ok");
    const auto wrong = request("device/add", {{"room", "alice/home/kitchen"}, {"name", "kettle"},
                                              {"url", sim_->plug("kettle")["url"]},
                                              {"password", plug_secret_ + "-wrong"}});
    EXPECT_EQ(wrong["status"], "error");
    const auto added = request("device/add", {{"room", "alice/home/kitchen"}, {"name", "kettle"},
                                              {"url", sim_->plug("kettle")["url"]},
                                              {"password", plug_secret_}});
    ASSERT_EQ(added["status"], "ok") << added.dump();
    const std::string id = added["data"]["id"];
    // Polled with the decrypted password: a state arrives.
    EXPECT_TRUE(probe_->wait_for(base_ + "/devices/" + id + "/state", 30s,
                                 [](const MqttMessage& m) { return !m.payload.empty(); }));
    EXPECT_EQ(request("device/options", {{"id", id}, {"password", plug_secret_}})["status"], "ok");
    EXPECT_EQ(request("device/list", Json::object())["status"], "ok");
    EXPECT_EQ(request("info", Json::object())["status"], "ok");

    ASSERT_EQ(kill(pid_, SIGTERM), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
    pid_ = -1;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_log();

    const auto log = read_log();
    const auto messages = probe_->messages();
    ASSERT_GT(messages.size(), 10U);
    std::size_t responses = 0;
    for (const auto& m : messages) responses += m.topic.starts_with(base_ + "/bridge/response/");
    EXPECT_GE(responses, 8U);
    for (const auto& secret : {mqtt_secret_, dsn_secret_, plug_secret_}) {
        EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in the log:\n" << log;
        for (const auto& m : messages) {
            // The requests are this test's own input (the admin's, kept from others by the
            // broker ACL); everything the bridge publishes must be clean.
            if (m.topic.starts_with(base_ + "/bridge/request/")) continue;
            EXPECT_EQ(m.topic.find(secret), std::string::npos) << m.topic;
            EXPECT_EQ(m.payload.find(secret), std::string::npos) << m.topic << " " << m.payload;
        }
    }
    // The database dump holds ciphertext only.
    pqxx::connection c(db_->dsn());
    pqxx::nontransaction tx(c);
    const auto raw = tx.exec1("SELECT string_agg(password, ',') FROM devices")[0].as<std::string>();
    EXPECT_TRUE(raw.starts_with("enc:v1:")) << raw;
    EXPECT_EQ(raw.find(plug_secret_), std::string::npos);

    // Start-up warnings: the key file is readable by all users; passwords are not in clear.
    EXPECT_NE(log.find("insecure secret: store.credentials_key_file"), std::string::npos) << log;
    EXPECT_EQ(log.find("mqtt.password_file '"), std::string::npos) << "0600 is not warned about";
    EXPECT_EQ(log.find("device passwords are stored in clear"), std::string::npos);
    EXPECT_NE(log.find("password=***"), std::string::npos) << "the summary redacts";
    EXPECT_NE(log.find("postgres:***@"), std::string::npos) << "the DSN password is redacted";
}

}  // namespace
}  // namespace intelergy::test
