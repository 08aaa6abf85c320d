#include "support/sim_process.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <poll.h>

#include <cstdlib>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <fstream>

#include "support/test_env.hpp"

extern char** environ;

namespace intelergy::test {

nlohmann::json one_plug_of_each_kind(const std::string& mqtt_prefix, const std::string& profile) {
    nlohmann::json plugs = nlohmann::json::array();
    plugs.push_back({{"name", "g1"}, {"kind", "gen1-plug-s"}, {"password", "pw1"}, {"profile", profile}});
    plugs.push_back({{"name", "g2"}, {"kind", "gen2-plus-plug-s"}, {"profile", profile}});
    plugs.push_back({{"name", "g3"}, {"kind", "gen3-plug-s"}, {"password", "pw3"}, {"profile", profile}});
    plugs.push_back({{"name", "pm"}, {"kind", "gen3-plug-pm"}, {"profile", profile}});
    plugs.push_back({{"name", "strip"}, {"kind", "gen4-strip"}, {"profile", profile}});
    plugs.push_back({{"name", "mq"}, {"kind", "gen2-plus-plug-s"}, {"http", false}, {"mqtt", true},
                     {"mqtt_prefix", mqtt_prefix}, {"profile", profile}});
    return nlohmann::json{{"plugs", plugs}};
}

SimProcess::SimProcess(std::vector<std::string> args) {
    plugs_file_ = "/tmp/intelergy-sim-" + random_token(8) + ".json";
    const std::string exe = std::string(INTELERGY_BINARY_DIR) + "/tools/sim/intelergy-sim";
    args.insert(args.begin(), exe);
    args.push_back("--plugs-out");
    args.push_back(plugs_file_);
    args.push_back("--log-level");
    const char* level = std::getenv("INTELERGY_TEST_LOG");  // as the bridge fixture
    args.push_back(level ? level : "warn");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    const int rc = posix_spawn(&pid_, exe.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        throw std::runtime_error("cannot start " + exe);
    }
    // The simulator prints one line per plug once all ports listen, then writes plugs-out
    // atomically. Wait for output (poll) and check for the file between lines, up to 60 s.
    std::string pending;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool eof = false;
    while (control_url_.empty() && !eof && std::chrono::steady_clock::now() < deadline) {
        pollfd pfd{out[0], POLLIN, 0};
        if (::poll(&pfd, 1, 100) > 0) {
            char buf[4096];
            const auto n = ::read(out[0], buf, sizeof buf);
            if (n <= 0) eof = true;
            else pending.append(buf, static_cast<std::size_t>(n));
        }
        std::ifstream file(plugs_file_);
        if (!file.good()) continue;
        auto all = nlohmann::json::parse(file, nullptr, false);
        if (all.is_object() && all.contains("control_url") && all.contains("plugs")) {
            control_url_ = all["control_url"].get<std::string>();
            for (const auto& p : all["plugs"]) plugs_.push_back(p);
        }
    }
    // Keep draining stdout in the background so the child never blocks on a full pipe.
    std::thread([fd = out[0]] {
        char buf[4096];
        while (::read(fd, buf, sizeof buf) > 0) {
        }
        ::close(fd);
    }).detach();
    if (control_url_.empty()) throw std::runtime_error("intelergy-sim did not start");
}

SimProcess::~SimProcess() {
    stop();
    std::remove(plugs_file_.c_str());
}

void SimProcess::stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

const nlohmann::json& SimProcess::plug(const std::string& name) const {
    for (const auto& p : plugs_)
        if (p["name"] == name) return p;
    throw std::runtime_error("no simulated plug named " + name);
}

nlohmann::json SimProcess::control(const std::string& path_and_query) {
    httplib::Client client(control_url_);
    client.set_read_timeout(10, 0);
    auto res = client.Get(path_and_query);
    if (!res) {
        ADD_FAILURE() << "simulator control request failed: " << path_and_query;
        return nlohmann::json::object();
    }
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (res->status != 200) ADD_FAILURE() << path_and_query << " → " << res->status << " " << res->body;
    return j;
}

std::vector<double> SimProcess::truth(const std::string& name) {
    const auto j = control("/sim/truth");
    std::vector<double> out;
    for (const auto& v : j["plugs"][name]) out.push_back(v.get<double>());
    return out;
}

}  // namespace intelergy::test
