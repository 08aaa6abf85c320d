// The real `intelergy run` process against the real simulator (one plug of each kind: two with
// passwords, one Gen2 over MQTT only), a real broker and a real PostgreSQL: start, SIGKILL,
// register plugs through the MQTT API, freeze loads, compare books with ground truth. Shared by
// the restart test (tests/integration/bridge) and the fault suite (tests/integration/fault).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <vector>

#include "common/temp_dir.hpp"
#include "support/mqtt_probe.hpp"
#include "support/sim_process.hpp"
#include "support/test_env.hpp"

extern char** environ;

namespace intelergy::test {

using namespace std::chrono_literals;
using Json = nlohmann::json;

constexpr double WATTS = 120.0;  // every channel draws a constant load
constexpr int SPEED = 10;        // simulated seconds per real second
constexpr int STRIP_CHANNELS = 4;

struct PlugSpec {
    std::string name;
    std::string password;
};

// Energy per channel of one state payload (multi-channel devices: channels[].energy_wh);
// nullopt for a channel that carries no energy.
inline std::vector<std::optional<double>> energies(const Json& s) {
    std::vector<std::optional<double>> out;
    auto one = [](const Json& j) -> std::optional<double> {
        if (j.contains("energy_wh") && j["energy_wh"].is_number()) return j["energy_wh"].get<double>();
        return std::nullopt;
    };
    if (s.contains("channels") && s["channels"].is_array()) {
        for (const auto& c : s["channels"]) out.push_back(one(c));
    } else {
        out.push_back(one(s));
    }
    return out;
}

inline bool has_all_energies(const Json& s, std::size_t channels) {
    const auto e = energies(s);
    return e.size() == channels && std::ranges::all_of(e, [](const auto& v) { return v.has_value(); });
}

class BridgeProcessFixture : public ::testing::Test {
protected:
    // Where the broker and the database server are; the fault suite brings its own.
    virtual std::optional<std::string> broker_url() { return mqtt_url(); }
    virtual std::optional<std::string> admin_dsn() { return pg_dsn(); }
    // Whether the bridge publishes Home Assistant discovery (on the shared broker: no).
    virtual bool home_assistant() { return false; }
    // Extra TOML appended to the bridge's config: by default the outage spool under /tmp (not
    // /var/lib/intelergy, where every test database would leave a directory).
    virtual std::string extra_config() {
        return "[store]\nspool_dir = \"" + spool_dir_.path().string() + "\"\n";
    }

    void SetUp() override {
        url_ = broker_url();
        const auto dsn = admin_dsn();
        if (!url_ || !dsn) GTEST_SKIP() << "INTELERGY_TEST_MQTT_URL/INTELERGY_TEST_PG_DSN unset";
        db_ = std::make_unique<TestDatabase>(*dsn);
        base_ = "itr" + random_token(8);
        config_path_ = "/tmp/" + base_ + ".toml";
        std::ofstream(config_path_) << "[mqtt]\nurl = \"" << *url_ << "\"\nbase_topic = \"" << base_
                                    << "\"\nclient_id = \"" << base_ << "\"\n[postgres]\ndsn = \""
                                    << db_->dsn()
                                    << "\"\n[polling]\ndefault_interval_s = 1\ntimeout_ms = 800\n"
                                       "[http]\nenabled = false\n[homeassistant]\nenabled = "
                                    << (home_assistant() ? "true" : "false") << "\n"
                                       "[log]\nlevel = \"info\"\n"
                                    << extra_config();
        probe_ = std::make_unique<MqttProbe>(*url_, base_ + "-probe");
        probe_->subscribe(base_ + "/#");
        probe_->subscribe(base_ + "-mq/online");
        probe_->subscribe(base_ + "-mq/events/rpc");

        sim_config_ = "/tmp/" + base_ + "-sim.json";
        const std::string watts = "constant:" + std::to_string(WATTS);
        std::ofstream(sim_config_) << one_plug_of_each_kind(base_ + "-mq", watts).dump();
        sim_ = std::make_unique<SimProcess>(std::vector<std::string>{
            "--config", sim_config_, "--mqtt-url", *url_, "--speed", std::to_string(SPEED)});
    }

    void TearDown() override {
        stop_bridge(SIGKILL);
        sim_.reset();
        if (probe_) {
            for (const auto& m : probe_->messages())
                if (m.retained || m.topic.find("/bridge/") != std::string::npos)
                    probe_->publish(m.topic, "", 1, true);
            probe_->publish(base_ + "/bridge/state", "", 1, true);
        }
        probe_.reset();
        db_.reset();
        if (!config_path_.empty()) std::remove(config_path_.c_str());
        if (!sim_config_.empty()) std::remove(sim_config_.c_str());
    }

    // Spawns `intelergy run`; with `log_path`, its stdout and stderr go to that file.
    void spawn_bridge(const std::string& log_path = "") {
        const std::string exe = std::string(INTELERGY_BINARY_DIR) + "/intelergy";
        std::vector<std::string> args{exe, "run", "-c", config_path_};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        if (!log_path.empty()) {
            posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                             0644);
            posix_spawn_file_actions_adddup2(&fa, 1, 2);
        }
        const int rc = posix_spawn(&pid_, exe.c_str(), &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        ASSERT_EQ(rc, 0);
    }

    // Spawns `intelergy run` and waits until it reports online.
    void start_bridge() {
        const auto mark = probe_->count();
        ASSERT_NO_FATAL_FAILURE(spawn_bridge());
        ASSERT_TRUE(probe_->wait_for(base_ + "/bridge/state", 20s,
                                     [](const MqttMessage& m) {
                                         return m.payload == R"({"state":"online"})";
                                     },
                                     mark))
            << "bridge did not come online";
    }

    void stop_bridge(int sig) {
        if (pid_ <= 0) return;
        kill(pid_, sig);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    // kill -9; the broker publishes the last will.
    void kill_nine() {
        ASSERT_GT(pid_, 0);
        const auto mark = probe_->count();
        ASSERT_EQ(kill(pid_, SIGKILL), 0);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        ASSERT_TRUE(WIFSIGNALED(status));
        EXPECT_TRUE(probe_->wait_for(base_ + "/bridge/state", 15s,
                                     [](const MqttMessage& m) {
                                         return m.payload == R"({"state":"offline"})";
                                     },
                                     mark))
            << "no last will after kill -9";
    }

    Json request(const std::string& path, const Json& payload) {
        const auto m = probe_->request(base_, path, payload.dump(), 20s);
        if (!m) {
            ADD_FAILURE() << "no response to " << path;
            return Json::object();
        }
        return Json::parse(m->payload);
    }

    // alice/home/kitchen with g1, g2, g3, pm, strip (HTTP, polled every second) and mq (MQTT).
    void register_plugs() {
        ASSERT_EQ(request("user/add", {{"name", "alice"}})["status"], "ok");
        ASSERT_EQ(request("profile/add", {{"user", "alice"}, {"name", "home"}, {"timezone", "Europe/Berlin"}})
                      ["status"], "ok");
        ASSERT_EQ(request("room/add", {{"room", "alice/home/kitchen"}})["status"], "ok");
        for (const auto& p : std::vector<PlugSpec>{{"g1", "pw1"}, {"g2", ""}, {"g3", "pw3"}, {"pm", ""},
                                                   {"strip", ""}}) {
            Json body{{"room", "alice/home/kitchen"}, {"name", p.name}, {"url", sim_->plug(p.name)["url"]},
                      {"poll_interval_s", 1}};
            if (!p.password.empty()) body["password"] = p.password;
            const auto r = request("device/add", body);
            ASSERT_EQ(r["status"], "ok") << p.name << " " << r.dump();
            ids_[p.name] = r["data"]["id"];
        }
        ASSERT_TRUE(probe_->wait_for(base_ + "-mq/online", 20s,
                                     [](const MqttMessage& m) { return m.payload == "true"; }));
        const auto mq = request("device/add", {{"room", "alice/home/kitchen"}, {"name", "mq"},
                                               {"transport", "mqtt"}, {"topic_prefix", base_ + "-mq"}});
        ASSERT_EQ(mq["status"], "ok") << mq.dump();
        ids_["mq"] = mq["data"]["id"];
    }

    std::string state_topic(const std::string& id) const { return base_ + "/devices/" + id + "/state"; }

    // Waits for a state of `id` published after `mark` satisfying `pred`; returns it.
    std::optional<Json> wait_state(const std::string& id, const std::function<bool(const Json&)>& pred,
                                   std::chrono::milliseconds timeout, std::size_t mark) {
        const auto m = probe_->wait_for(
            state_topic(id), timeout,
            [&](const MqttMessage& msg) {
                if (msg.payload.empty()) return false;
                const auto j = Json::parse(msg.payload, nullptr, false);
                return !j.is_discarded() && pred(j);
            },
            mark);
        if (!m) return std::nullopt;
        return Json::parse(m->payload);
    }

    // The newest state of `id` received so far.
    Json latest_state(const std::string& id) const {
        for (const auto& m : probe_->messages() | std::views::reverse)
            if (m.topic == state_topic(id) && !m.payload.empty()) return Json::parse(m.payload);
        return Json::object();
    }

    std::size_t channels_of(const std::string& plug) const { return plug == "strip" ? STRIP_CHANNELS : 1; }

    void set_loads(const std::string& watts) {
        for (int ch = 0; ch < STRIP_CHANNELS; ++ch) {
            const auto r = sim_->control("/sim/power?plug=" + std::string(ch == 0 ? "*" : "strip") +
                                         "&channel=" + std::to_string(ch) + "&watts=" + watts);
            ASSERT_EQ(r.value("ok", false), true) << r.dump();
        }
    }

    // Every device has published a state with energy on every channel after `mark`.
    void wait_fresh_states(std::size_t mark, std::chrono::milliseconds timeout, const char* what) {
        for (const auto& [plug, id] : ids_) {
            const auto n = channels_of(plug);
            ASSERT_TRUE(wait_state(id, [&](const Json& s) { return has_all_energies(s, n); }, timeout, mark))
                << plug << ": no state with energy " << what;
        }
    }

    // Waits until every channel of every device reports at least `more` Wh beyond `from`.
    void wait_growth(const std::map<std::string, std::vector<double>>& from, double more,
                     std::chrono::milliseconds timeout) {
        for (const auto& [plug, id] : ids_) {
            const auto& base = from.at(plug);
            ASSERT_TRUE(wait_state(id,
                                   [&](const Json& s) {
                                       const auto e = energies(s);
                                       if (e.size() != base.size()) return false;
                                       for (std::size_t ch = 0; ch < e.size(); ++ch)
                                           if (!e[ch] || *e[ch] < base[ch] + more) return false;
                                       return true;
                                   },
                                   timeout, 0))
                << plug << ": energy did not grow by " << more << " Wh";
        }
    }

    std::map<std::string, std::vector<double>> book_snapshot() const {
        std::map<std::string, std::vector<double>> out;
        for (const auto& [plug, id] : ids_) {
            for (const auto& e : energies(latest_state(id))) out[plug].push_back(e.value_or(-1.0));
        }
        return out;
    }

    // Loads to 0 W; returns once every plug reported 0 W and (polled plugs) one more state, so
    // the published books are final. The MQTT-only plug reports its counter only at each
    // simulated minute (NotifyStatus `aenergy`): wait for the first one after the freeze and the
    // state that follows it.
    void freeze() {
        auto mark = probe_->count();
        set_loads("0");
        // Frames of one publisher on one topic arrive in order: the counter report that follows
        // the frame announcing 0 W carries the final counter.
        const std::string events = base_ + "-mq/events/rpc";
        const auto frame = [](const MqttMessage& m) {
            const auto j = Json::parse(m.payload, nullptr, false);
            if (j.is_discarded() || !j.contains("params") || !j["params"].contains("switch:0"))
                return Json::object();
            return j["params"]["switch:0"];
        };
        const auto zero_watts = [&](const MqttMessage& m) {
            const auto f = frame(m);
            return f.contains("apower") && f["apower"].is_number() && f["apower"].get<double>() == 0.0;
        };
        const auto counter_report = [&](const MqttMessage& m) { return frame(m).contains("aenergy"); };
        ASSERT_TRUE(probe_->wait_for(events, 20s, zero_watts, mark)) << "mq: no 0 W frame";
        const auto index_of = [&](std::size_t from, const std::function<bool(const MqttMessage&)>& pred) {
            const auto messages = probe_->messages();
            for (std::size_t i = from; i < messages.size(); ++i)
                if (messages[i].topic == events && pred(messages[i])) return i;
            return messages.size();
        };
        const auto zero_at = index_of(mark, zero_watts);
        ASSERT_TRUE(probe_->wait_for(events, 30s, counter_report, zero_at))
            << "mq: no counter report after the freeze";
        const auto reported = index_of(zero_at, counter_report);
        ASSERT_TRUE(wait_state(ids_.at("mq"), [](const Json&) { return true; }, 10s, reported + 1))
            << "mq: no state after its counter report";
        for (const auto& [plug, id] : ids_) {
            ASSERT_TRUE(wait_state(id,
                                   [&](const Json& s) {
                                       return s.contains("power_w") && s["power_w"].is_number() &&
                                              s["power_w"].get<double>() == 0.0 &&
                                              has_all_energies(s, channels_of(plug));
                                   },
                                   20s, mark))
                << plug << " never reported 0 W";
        }
        mark = probe_->count();
        for (const auto& [plug, id] : ids_) {
            if (plug == "mq") continue;  // pushes only on change: its state is final (above)
            ASSERT_TRUE(wait_state(id, [](const Json&) { return true; }, 10s, mark)) << plug;
        }
    }

    // After freeze(): every channel's book within max(1 Wh, 0.5 %) of the simulator's truth.
    void expect_books_match_truth() {
        const auto truth = sim_->control("/sim/truth");
        const auto after = book_snapshot();
        for (const auto& [plug, id] : ids_) {
            ASSERT_TRUE(truth["plugs"].contains(plug)) << truth.dump();
            const auto t = truth["plugs"][plug].get<std::vector<double>>();
            const auto& book = after.at(plug);
            ASSERT_EQ(book.size(), t.size()) << plug;
            for (std::size_t ch = 0; ch < t.size(); ++ch) {
                const double tolerance = std::max(1.0, t[ch] * 0.005);
                EXPECT_NEAR(book[ch], t[ch], tolerance) << plug << " channel " << ch;
                std::printf("[ truth   ] %s ch%zu book=%.3f truth=%.3f deviation=%+.3f Wh (%.3f%%)\n",
                            plug.c_str(), ch, book[ch], t[ch], book[ch] - t[ch],
                            t[ch] > 0 ? 100.0 * (book[ch] - t[ch]) / t[ch] : 0.0);
            }
        }
    }

    // Energy never decreased on any state message of any device, per channel, over the run.
    void expect_monotonic() {
        for (const auto& [plug, id] : ids_) {
            std::vector<double> last(channels_of(plug), 0.0);
            std::size_t seen = 0;
            for (const auto& m : probe_->messages()) {
                if (m.topic != state_topic(id) || m.payload.empty()) continue;
                const auto e = energies(Json::parse(m.payload));
                if (e.size() != last.size()) continue;
                for (std::size_t ch = 0; ch < e.size(); ++ch) {
                    if (!e[ch]) continue;
                    ++seen;
                    EXPECT_GE(*e[ch] + 1e-9, last[ch])
                        << plug << " channel " << ch << " went backwards: " << m.payload;
                    last[ch] = std::max(last[ch], *e[ch]);
                }
            }
            EXPECT_GT(seen, 0U) << plug;
        }
    }

    std::optional<std::string> url_;
    std::unique_ptr<TestDatabase> db_;
    std::string base_;
    TempDir spool_dir_{"intelergy-spool"};
    std::string config_path_;
    std::string sim_config_;
    std::unique_ptr<MqttProbe> probe_;
    std::unique_ptr<SimProcess> sim_;
    std::map<std::string, std::string> ids_;  // plug name -> device id
    pid_t pid_{-1};
};

}  // namespace intelergy::test
