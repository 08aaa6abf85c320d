// The `intelergy` setup CLI as a user runs it: the real executable against a real `intelergy run`
// (own base topic and database) on the test broker; stdout, stderr and exit codes asserted.
#include "common/temp_dir.hpp"
#include "support/mqtt_probe.hpp"
#include "support/sim_process.hpp"
#include "support/test_env.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace intelergy::test {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

std::string read_file(const std::string& path) {
    std::ifstream f(path);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

struct CliResult {
    int code{-1};
    std::string out;
    std::string err;
    std::chrono::milliseconds elapsed{0};
};

// One run of an executable with stdin from a string and stdout/stderr captured in files.
class Process {
public:
    Process(const std::vector<std::string>& args, const std::string& input, const std::string& tag)
        : in_("/tmp/" + tag + ".in"), out_("/tmp/" + tag + ".out"), err_("/tmp/" + tag + ".err") {
        std::ofstream(in_) << input;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, in_.c_str(), O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0600);
        posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0600);
        std::vector<std::string> copy = args;
        std::vector<char*> argv;
        for (auto& a : copy) argv.push_back(a.data());
        argv.push_back(nullptr);
        started_ = std::chrono::steady_clock::now();
        if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
        posix_spawn_file_actions_destroy(&actions);
    }
    ~Process() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        for (const auto* f : {&in_, &out_, &err_}) std::remove(f->c_str());
    }
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    [[nodiscard]] bool started() const { return pid_ > 0; }
    [[nodiscard]] std::string log() const { return read_file(out_) + read_file(err_); }

    void terminate() {
        if (pid_ > 0) kill(pid_, SIGTERM);
    }

    CliResult wait() {
        CliResult r;
        int status = 0;
        if (pid_ > 0 && waitpid(pid_, &status, 0) == pid_)
            r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        pid_ = -1;
        r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started_);
        r.out = read_file(out_);
        r.err = read_file(err_);
        return r;
    }

private:
    std::string in_, out_, err_;
    pid_t pid_{-1};
    std::chrono::steady_clock::time_point started_;
};

const std::string EXE = std::string(INTELERGY_BINARY_DIR) + "/intelergy";

// A base topic of its own and a CLI config naming only the broker and that base topic.
class CliTest : public ::testing::Test {
protected:
    void SetUp() override {
        url_ = mqtt_url();
        if (!url_) GTEST_SKIP() << "INTELERGY_TEST_MQTT_URL unset";
        base_ = "itc" + random_token(8);
        cli_config_ = "/tmp/" + base_ + "-cli.toml";
        std::ofstream(cli_config_)
            << "[mqtt]\nurl = \"" << *url_ << "\"\nbase_topic = \"" << base_ << "\"\n";
        probe_ = std::make_unique<MqttProbe>(*url_, base_ + "-probe");
        probe_->subscribe(base_ + "/bridge/#");
    }

    void TearDown() override {
        if (probe_) probe_->publish(base_ + "/bridge/state", "", 1, true);
        std::remove(cli_config_.c_str());
    }

    // Runs `intelergy ARGS -c <cli config>` with `input` on stdin.
    CliResult cli(std::vector<std::string> args, const std::string& input = {}) {
        return start(std::move(args), input)->wait();
    }

    std::unique_ptr<Process> start(std::vector<std::string> args, const std::string& input = {}) {
        args.insert(args.begin(), EXE);
        args.emplace_back("-c");
        args.push_back(cli_config_);
        auto p = std::make_unique<Process>(args, input, base_ + "-cli" + std::to_string(++runs_));
        EXPECT_TRUE(p->started());
        return p;
    }

    std::optional<std::string> url_;
    std::string base_;
    std::string cli_config_;
    std::unique_ptr<MqttProbe> probe_;
    int runs_{0};
};

// With `intelergy run` serving the base topic from a throwaway database.
class CliWithBridge : public CliTest {
protected:
    void SetUp() override {
        CliTest::SetUp();
        if (IsSkipped()) return;
        const auto dsn = pg_dsn();
        if (!dsn) GTEST_SKIP() << "INTELERGY_TEST_PG_DSN unset";
        db_ = std::make_unique<TestDatabase>(*dsn);
        bridge_config_ = "/tmp/" + base_ + "-bridge.toml";
        std::ofstream(bridge_config_)
            << "[mqtt]\nurl = \"" << *url_ << "\"\nbase_topic = \"" << base_ << "\"\nclient_id = \""
            << base_ << "\"\n[postgres]\ndsn = \"" << db_->dsn()
            << "\"\n[homeassistant]\nenabled = false\n[http]\nenabled = false\n"
               "[log]\nlevel = \"warn\"\n[store]\nspool_dir = \""
            << spool_dir_.path().string() << "\"\n";
        bridge_ = std::make_unique<Process>(
            std::vector<std::string>{EXE, "run", "-c", bridge_config_}, "", base_ + "-bridge");
        ASSERT_TRUE(bridge_->started());
        ASSERT_TRUE(probe_->wait_for(base_ + "/bridge/state", 20s, [](const MqttMessage& m) {
            return m.payload.find("online") != std::string::npos;
        })) << bridge_->log();
    }

    void TearDown() override {
        if (bridge_) {
            bridge_->terminate();  // clean stop: bridge/state goes offline
            bridge_->wait();
        }
        bridge_.reset();
        db_.reset();
        if (!bridge_config_.empty()) std::remove(bridge_config_.c_str());
        CliTest::TearDown();
    }

    std::unique_ptr<TestDatabase> db_;
    std::string bridge_config_;
    TempDir spool_dir_{"intelergy-spool"};
    std::unique_ptr<Process> bridge_;
};

TEST_F(CliWithBridge, UserProfileRoomAddListRemove) {
    auto r = cli({"user", "add", "alice"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "added user alice\n");
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(cli({"user", "add", "bob"}).code, 0);

    r = cli({"profile", "add", "alice/home", "--timezone", "Europe/Berlin", "--tariff", "0.32",
             "--currency", "EUR"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "added profile alice/home (time zone Europe/Berlin, tariff 0.32 EUR/kWh)\n");
    r = cli({"profile", "add", "alice/cabin", "--timezone", "America/New_York"});
    EXPECT_EQ(r.out, "added profile alice/cabin (time zone America/New_York)\n");
    r = cli({"profile", "update", "alice/cabin", "--timezone", "Europe/Oslo"});
    EXPECT_EQ(r.out, "updated profile alice/cabin (time zone Europe/Oslo)\n");

    EXPECT_EQ(cli({"room", "add", "alice/home/kitchen"}).out, "added room alice/home/kitchen\n");
    EXPECT_EQ(cli({"room", "add", "alice/home/living"}).out, "added room alice/home/living\n");
    r = cli({"room", "rename", "alice/home/living", "lounge"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "renamed room alice/home/living to alice/home/lounge\n");

    r = cli({"user", "list"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "USER   PROFILES\nalice  2\nbob    0\n");
    r = cli({"profile", "list", "alice"});
    EXPECT_EQ(r.out,
              "PROFILE      TIME ZONE      TARIFF        ROOMS\n"
              "alice/cabin  Europe/Oslo    -             0\n"
              "alice/home   Europe/Berlin  0.32 EUR/kWh  2\n");
    r = cli({"room", "list", "alice/home"});
    EXPECT_EQ(r.out, "ROOM                DEVICES\nalice/home/kitchen  0\nalice/home/lounge   0\n");

    r = cli({"room", "list", "alice/home", "--json"});
    EXPECT_EQ(r.code, 0);
    const auto rooms = Json::parse(r.out);
    ASSERT_EQ(rooms["rooms"].size(), 2U);
    EXPECT_EQ(rooms["rooms"][0]["path"], "alice/home/kitchen");

    EXPECT_EQ(cli({"room", "remove", "alice/home/lounge"}).out, "removed room alice/home/lounge\n");
    EXPECT_EQ(cli({"profile", "remove", "alice/cabin"}).out, "removed profile alice/cabin\n");
    EXPECT_EQ(cli({"user", "remove", "bob"}).out, "removed user bob\n");
    r = cli({"user", "list", "--json"});
    EXPECT_EQ(Json::parse(r.out), Json::parse(R"({"users":[{"name":"alice","profiles":1}]})"));
    r = cli({"user", "remove", "alice"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err, "error: user 'alice' still has 1 profile(s); remove them first\n");
    EXPECT_EQ(cli({"room", "remove", "alice/home/kitchen"}).code, 0);
    EXPECT_EQ(cli({"profile", "remove", "alice/home"}).code, 0);
    EXPECT_EQ(cli({"user", "remove", "alice"}).out, "removed user alice\n");
    EXPECT_EQ(cli({"user", "list"}).out, "no users\n");
}

TEST_F(CliWithBridge, ErrorResponseExitsOneWithTheBridgesMessage) {
    ASSERT_EQ(cli({"user", "add", "alice"}).code, 0);
    auto r = cli({"user", "add", "alice"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "error: user 'alice' already exists\n");

    r = cli({"profile", "add", "alice/home", "--timezone", "Mars/Olympus_Mons"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("error: unknown time zone 'Mars/Olympus_Mons'"), std::string::npos)
        << r.err;
    r = cli({"room", "list", "alice/nowhere"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err.rfind("error: ", 0), 0U) << r.err;
}

TEST_F(CliWithBridge, UsageErrorsExitTwoBeforeAnythingIsSent) {
    const auto before = probe_->count();
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"user", "add", "a/b"},
             {"user", "add"},
             {"user", "add", "alice", "extra"},
             {"user", "add", "alice", "--bogus"},
             {"user"},
             {"profile", "add", "alice/home"},
             {"room", "add", "alice/home"},
             {"device", "set", "alice/home/kitchen/kettle", "dim"},
             {"device", "add", "alice/home/kitchen/kettle"},
             {"user", "list", "--timeout", "soon"}}) {
        const auto r = cli(args);
        EXPECT_EQ(r.code, 2) << args.back() << ": " << r.err;
        EXPECT_EQ(r.out, "");
        EXPECT_NE(r.err.find("error: "), std::string::npos);
    }
    auto r = cli({"user", "add", "a+b"});
    EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "error: user name must not contain '+'");
    std::this_thread::sleep_for(200ms);
    for (std::size_t i = before; i < probe_->messages().size(); ++i)
        EXPECT_EQ(probe_->messages()[i].topic.find("/bridge/request/"), std::string::npos);
}

TEST_F(CliWithBridge, SetupAsksAgainForARefusedTimeZone) {
    // user, profile name (default "home"), a refused then an accepted time zone, no tariff,
    // an invalid then a valid room name, no plug.
    auto r = cli({"setup"}, "alice\n\nMars/Olympus_Mons\nEurope/Berlin\n\nkit/chen\nkitchen\nn\n");
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("error: unknown time zone 'Mars/Olympus_Mons'"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("room name must not contain '/'"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("added user alice"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("added profile alice/home (time zone Europe/Berlin)"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("added room alice/home/kitchen"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Setup done: alice/home/kitchen"), std::string::npos) << r.out;

    r = cli({"profile", "list", "alice", "--json"});
    const auto profiles = Json::parse(r.out)["profiles"];
    ASSERT_EQ(profiles.size(), 1U);
    EXPECT_EQ(profiles[0]["timezone"], "Europe/Berlin");
    EXPECT_EQ(cli({"room", "list", "alice/home"}).out,
              "ROOM                DEVICES\n"
              "alice/home/kitchen  0\n");

    // A second run reuses what exists; end of input aborts with a non-zero exit.
    r = cli({"setup"}, "alice\nhome\n");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find("using the existing user alice"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("using the existing profile alice/home"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("setup aborted: end of input"), std::string::npos) << r.err;
}

TEST_F(CliWithBridge, DeviceAddRefusedIsAnErrorAndNeverShowsThePassword) {
    ASSERT_EQ(cli({"user", "add", "alice"}).code, 0);
    ASSERT_EQ(cli({"profile", "add", "alice/home", "--timezone", "UTC"}).code, 0);
    ASSERT_EQ(cli({"room", "add", "alice/home/kitchen"}).code, 0);
    const std::string password_file = "/tmp/" + base_ + ".pw";
    std::ofstream(password_file) << "pw-" << base_ << "\n";
    // Nothing listens on port 1: whether or not device/add is served yet, this is refused.
    const auto r =
        cli({"device", "add", "alice/home/kitchen/kettle", "--url", "http://127.0.0.1:1",
             "--username", "admin", "--password-file", password_file, "--timeout", "20"});
    std::remove(password_file.c_str());
    EXPECT_EQ(r.code, 1) << r.out << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0U) << r.err;
    EXPECT_EQ((r.out + r.err).find("pw-" + base_), std::string::npos);
}

TEST_F(CliWithBridge, RegistersASimulatedPlugEndToEnd) {
    SimProcess sim({"--gen2", "1", "--password", "s3cret", "--profile", "constant:75"});
    const std::string url = sim.plugs()[0]["url"];
    const std::string mac = sim.plugs()[0]["mac"];
    ASSERT_EQ(cli({"user", "add", "alice"}).code, 0);
    ASSERT_EQ(cli({"profile", "add", "alice/home", "--timezone", "Europe/Berlin"}).code, 0);
    ASSERT_EQ(cli({"room", "add", "alice/home/kitchen"}).code, 0);
    const std::string password_file = "/tmp/" + base_ + ".pw";
    std::ofstream(password_file) << "wrong\n";
    auto r = cli({"device", "add", "alice/home/kitchen/kettle", "--url", url, "--password-file",
                  password_file, "--timeout", "20"});
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.err.find("rejected the credentials"), std::string::npos) << r.err;

    std::ofstream(password_file) << "s3cret\n";
    r = cli({"device", "add", "alice/home/kitchen/kettle", "--url", url, "--password-file",
             password_file, "--poll-interval", "1", "--timeout", "20", "--json"});
    std::remove(password_file.c_str());
    ASSERT_EQ(r.code, 0) << r.err;
    const auto added = Json::parse(r.out);
    EXPECT_EQ(added["mac"], mac);
    EXPECT_EQ(added["generation"], 2);
    EXPECT_EQ(added["path"], "alice/home/kitchen/kettle");
    EXPECT_EQ(r.out.find("s3cret"), std::string::npos);

    r = cli({"device", "list", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(Json::parse(r.out)["devices"][0]["id"], added["id"]);
    r = cli({"device", "set", "alice/home/kitchen/kettle", "off"});
    EXPECT_EQ(r.code, 0) << r.err;
    r = cli({"device", "remove", added["id"].get<std::string>()});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(cli({"device", "list", "--json"}).out.find(added["id"].get<std::string>()),
              std::string::npos);
}

std::string random_mac() {
    std::string hex;
    for (const char ch : random_token(12)) hex += "0123456789abcdef"[static_cast<unsigned char>(ch) % 16];
    return hex;
}

// Every device subcommand a user types, human output and --json, against a simulated plug, and
// `discovered` for a plug that only announced itself on the broker.
TEST_F(CliWithBridge, DeviceRenameMoveSetToggleAndDiscovered) {
    const std::string mq_mac = random_mac();
    const std::string mq_prefix = "shellyplusplugs-" + mq_mac;
    const std::string sim_config = "/tmp/" + base_ + "-sim.json";
    std::ofstream(sim_config) << Json{{"plugs",
                                       {{{"name", "g2"}, {"kind", "gen2-plus-plug-s"},
                                         {"mac", random_mac()}, {"profile", "constant:30"}},
                                        {{"name", "mq"}, {"kind", "gen2-plus-plug-s"}, {"mac", mq_mac},
                                         {"http", false}, {"mqtt", true}, {"profile", "constant:30"}}}}}
                                     .dump();
    SimProcess sim({"--config", sim_config, "--mqtt-url", *url_});
    std::remove(sim_config.c_str());
    const std::string url = sim.plug("g2")["url"];
    ASSERT_EQ(cli({"user", "add", "alice"}).code, 0);
    ASSERT_EQ(cli({"profile", "add", "alice/home", "--timezone", "Europe/Berlin"}).code, 0);
    ASSERT_EQ(cli({"room", "add", "alice/home/kitchen"}).code, 0);
    ASSERT_EQ(cli({"room", "add", "alice/home/hall"}).code, 0);

    auto r = cli({"device", "add", "alice/home/kitchen/kettle", "--url", url, "--timeout", "20"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("added device shelly-", 0), 0U) << r.out;
    EXPECT_NE(r.out.find(" as alice/home/kitchen/kettle (SNPL-00112EU, gen 2, http)"),
              std::string::npos) << r.out;

    r = cli({"device", "rename", "alice/home/kitchen/kettle", "teapot"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "renamed device alice/home/kitchen/kettle to teapot\n");
    r = cli({"device", "move", "alice/home/kitchen/teapot", "alice/home/hall"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "moved device alice/home/kitchen/teapot to alice/home/hall\n");
    r = cli({"device", "move", "alice/home/hall/teapot", "alice/home/attic"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err.rfind("error: room 'alice/home/attic' not found", 0), 0U) << r.err;

    // The relay: off, then toggle (back on), with --json; the simulator's relay follows.
    auto relay_on = [&] { return sim.control("/sim/plugs")["plugs"][0]["channels"][0]["output"]; };
    r = cli({"device", "set", "alice/home/hall/teapot", "off", "--timeout", "20"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "device alice/home/hall/teapot: relay OFF\n");
    EXPECT_EQ(relay_on(), false);
    r = cli({"device", "set", "alice/home/hall/teapot", "toggle", "--json", "--timeout", "20"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(Json::parse(r.out)["relay"], "TOGGLE");
    EXPECT_EQ(relay_on(), true);

    r = cli({"device", "list", "alice/home"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("alice/home/hall/teapot"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("kettle"), std::string::npos) << r.out;

    // The MQTT-only plug has announced itself (<prefix>/online): `discovered` lists it.
    std::string listed;
    for (int i = 0; i < 40 && listed.find(mq_prefix) == std::string::npos; ++i) {
        r = cli({"discovered"});
        ASSERT_EQ(r.code, 0) << r.err;
        listed = r.out;
        if (listed.find(mq_prefix) == std::string::npos) std::this_thread::sleep_for(250ms);
    }
    EXPECT_NE(listed.find("TOPIC PREFIX"), std::string::npos) << listed;
    EXPECT_NE(listed.find(mq_prefix), std::string::npos) << listed;
    r = cli({"discovered", "--json"});
    const auto discovered = Json::parse(r.out);
    bool found = false;
    for (const auto& d : discovered["devices"]) found = found || d["topic_prefix"] == mq_prefix;
    EXPECT_TRUE(found) << r.out;
    r = cli({"device", "add", "alice/home/kitchen/radio", "--mqtt", "--topic-prefix", mq_prefix,
             "--timeout", "20"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("as alice/home/kitchen/radio (SNPL-00112EU, gen 2, mqtt)"), std::string::npos)
        << r.out;
    EXPECT_EQ(cli({"discovered", "--json"}).out.find(mq_prefix), std::string::npos);

    r = cli({"device", "remove", "alice/home/hall/teapot"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "removed device alice/home/hall/teapot\n");
    r = cli({"device", "remove", "alice/home/hall/teapot"});
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(r.err.rfind("error: ", 0), 0U) << r.err;
}

// `intelergy setup` as a first-time user runs it: every step, a bad answer asked again at each
// kind of question, and a simulated plug registered for real at the end.
TEST_F(CliWithBridge, SetupRegistersAPlugAndAsksAgainForBadAnswers) {
    SimProcess sim({"--gen3", "1", "--password", "pw3", "--profile", "constant:20"});
    const std::string url = sim.plugs()[0]["url"];
    const std::string input =
        "bad/user\n"  // refused locally: '/' in a name
        "bob\n"
        "\n"           // profile name: the default "home"
        "Nowhere/Land\n"  // refused by the bridge
        "Europe/Paris\n"
        "abc\n"       // not a number: asked again at once, before the currency
        "0.25\n"
        "EUR\n"
        "kitchen\n"
        "maybe\n"      // not y/n
        "y\n"
        "kettle\n"
        "ftp\n"        // neither http nor mqtt
        "http\n" +
        url + "\n"
        "admin\n"
        "wrong\n"      // refused by the plug: the bridge's error is shown, setup goes on
        "\n"
        "y\n"          // try again
        "kettle\n"
        "http\n" +
        url + "\n"
        "admin\n"
        "pw3\n"
        "x5\n"        // not whole seconds: only the interval is asked again
        "5\n"
        "n\n";
    const auto r = cli({"setup", "--timeout", "20"}, input);
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    for (const char* refused : {"user name must not contain '/'", "unknown time zone 'Nowhere/Land'",
                                "please answer y or n", "please answer http or mqtt",
                                "rejected the credentials",
                                "--tariff must be a number >= 0 (price per kWh); try again",
                                "--poll-interval must be whole seconds from 1 to 86400; try again"})
        EXPECT_NE(r.err.find(refused), std::string::npos) << refused << "\n" << r.err;
    for (const char* done : {"added user bob", "added profile bob/home (time zone Europe/Paris)",
                             "tariff 0.25 EUR/kWh", "added room bob/home/kitchen",
                             "as bob/home/kitchen/kettle (S3PL-00112EU, gen 3, http)",
                             "Setup done: bob/home/kitchen with 1 plug(s) added"})
        EXPECT_NE(r.out.find(done), std::string::npos) << done << "\n" << r.out;
    EXPECT_EQ((r.out + r.err).find("pw3"), std::string::npos) << "password echoed";
    const auto list = Json::parse(cli({"device", "list", "bob", "--json"}).out);
    ASSERT_EQ(list["devices"].size(), 1U);
    EXPECT_EQ(list["devices"][0]["path"], "bob/home/kitchen/kettle");
    EXPECT_EQ(list["devices"][0]["poll_interval_s"], 5);
}

TEST_F(CliTest, NoBridgeExitsThreeWithinTheTimeout) {
    auto r = cli({"user", "list", "--timeout", "1"});
    EXPECT_EQ(r.code, 3);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "error: no response from the bridge at " + *url_ + "/" + base_ +
                         " within 1 s — is `intelergy run` running?\n");
    EXPECT_LT(r.elapsed, 4s);

    // A bridge that went away left its last will: say so.
    probe_->publish(base_ + "/bridge/state", R"({"state":"offline"})", 1, true);
    ASSERT_TRUE(probe_->wait_for(base_ + "/bridge/state", 5s));
    r = cli({"room", "list", "alice/home", "--timeout", "1"});
    EXPECT_EQ(r.code, 3);
    EXPECT_NE(r.err.find("the bridge is offline"), std::string::npos) << r.err;
}

TEST_F(CliTest, NoBrokerExitsThree) {
    const std::string config = "/tmp/" + base_ + "-nobroker.toml";
    std::ofstream(config) << "[mqtt]\nurl = \"mqtt://127.0.0.1:1\"\nbase_topic = \"x\"\n";
    Process p({EXE, "user", "list", "--timeout", "1", "-c", config}, "", base_ + "-nobroker");
    const auto r = p.wait();
    std::remove(config.c_str());
    EXPECT_EQ(r.code, 3);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("error: cannot connect to the MQTT broker at mqtt://127.0.0.1:1/x within "
                          "1 s",
                          0),
              0U)
        << r.err;
}

TEST_F(CliTest, BadConfigExitsTwo) {
    const std::string config = "/tmp/" + base_ + "-bad.toml";
    std::ofstream(config) << "[mqtt]\nurll = \"mqtt://127.0.0.1:1\"\n";
    Process p({EXE, "user", "list", "-c", config}, "", base_ + "-bad");
    const auto r = p.wait();
    std::remove(config.c_str());
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("unknown key"), std::string::npos) << r.err;
}

// Stands in for the bridge: the CLI must ignore a response carrying another transaction and take
// the one echoing its own.
TEST_F(CliTest, IgnoresResponsesForOtherTransactions) {
    probe_->subscribe(base_ + "/bridge/request/#");
    auto p = start({"user", "list", "--timeout", "5"});
    const auto req = probe_->wait_for(base_ + "/bridge/request/user/list", 5s);
    ASSERT_TRUE(req);
    const auto transaction = Json::parse(req->payload).at("transaction");
    EXPECT_TRUE(transaction.is_string());
    const std::string topic = base_ + "/bridge/response/user/list";
    probe_->publish(topic, R"({"status":"error","error":"not yours","transaction":"other"})");
    probe_->publish(topic, R"({"status":"error","error":"no transaction"})");
    probe_->publish(topic, Json{{"status", "ok"},
                                {"data", {{"users", {{{"name", "zoe"}, {"profiles", 3}}}}}},
                                {"transaction", transaction}}
                               .dump());
    const auto r = p->wait();
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "USER  PROFILES\nzoe   3\n");
    EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace intelergy::test
