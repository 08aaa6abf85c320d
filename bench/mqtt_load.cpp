// mqtt_load: the MQTT ingest load generator of bench/run (issue 8, part 2).
//
// Plays N Gen2 Plus Plug S plugs on one MQTT connection: answers the bridge's Shelly.GetStatus
// RPC on <prefix>/rpc (the baseline every MQTT plug needs before its NotifyStatus deltas count),
// then publishes NotifyStatus frames on <prefix>/events/rpc, round-robin over the plugs, at the
// given rates. A second connection counts what comes back:
//   bridge mode       <base>/devices/<id>/state (live, not retained), latency from the plug's
//                     last publish to that state publish, and readings in PostgreSQL (--dsn)
//   passthrough mode  the plugs' own <prefix>/events/rpc (the broker alone, same client library)
// One result line per step on stdout (key=value).
//
//   mqtt_load --url mqtt://127.0.0.1:PORT --plugs N --rates 1000,2000,max --seconds S
//             [--max-messages M] [--base intelergy] [--prefix benchplug] [--passthrough]
//             [--dsn DSN] [--pid BRIDGE_PID | --pid-file FILE] [--baseline-timeout S]
//             [--watch NAME=PID]...  (CPU of PID and its descendants per step: cpu_NAME=)
// A rate of "max" publishes --max-messages frames as fast as the client can.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mqtt/async_client.h>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "intelergy/core/tcp_nodelay.hpp"

namespace {

using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now().time_since_epoch())
        .count();
}

struct Options {
    std::string url;
    int plugs{1000};
    std::vector<long> rates{1000};  // 0 = max
    double seconds{10};
    long max_messages{20000};
    std::string base{"intelergy"};
    std::string prefix{"benchplug"};
    bool passthrough{false};
    std::string dsn;
    long pid{0};
    std::string pid_file;  // read at each step: the bridge may start after this program
    double baseline_timeout{60};
    double rollup_timeout{30};  // after the last step only
    // --watch NAME=PID: CPU of that process and its descendants per step (cpu_NAME=cores), to
    // see where the machine's cores went (broker, database, this program).
    std::vector<std::pair<std::string, long>> watch;
};

std::string plug_name(const Options& o, int i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%05d", i);
    return o.prefix + buf;
}

// Device time as real plugs send it in NotifyStatus: Unix seconds with two decimals. The bridge
// stores readings under it, so two frames of one plug must not share it.
double unix_now() {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count()) /
           1000.0;
}

// Index of a plug from a topic segment "<prefix>NNNNN", or -1.
int plug_index(const Options& o, std::string_view seg) {
    if (seg.size() != o.prefix.size() + 5 || seg.substr(0, o.prefix.size()) != o.prefix) return -1;
    int v = 0;
    for (char c : seg.substr(o.prefix.size())) {
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    return v < o.plugs ? v : -1;
}

// Value of a top-level "key":<number or string> in a small JSON frame (no nesting needed).
std::string json_field(std::string_view s, std::string_view key) {
    const std::string k = "\"" + std::string(key) + "\":";
    const auto p = s.find(k);
    if (p == std::string_view::npos) return {};
    auto b = p + k.size();
    if (b < s.size() && s[b] == '"') {
        const auto e = s.find('"', b + 1);
        return e == std::string_view::npos ? std::string{} : std::string(s.substr(b + 1, e - b - 1));
    }
    auto e = b;
    while (e < s.size() && s[e] != ',' && s[e] != '}') ++e;
    return std::string(s.substr(b, e - b));
}

// Paho C wants tcp://; the bridge's configs say mqtt://.
std::string tcp_url(const std::string& url) {
    return url.rfind("mqtt://", 0) == 0 ? "tcp://" + url.substr(7) : url;
}

struct CpuSample {
    double cpu_s{0};
    long rss_kb{0};
};

CpuSample sample_process(long pid) {
    CpuSample out;
    if (pid <= 0) return out;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close != std::string::npos) {
        std::istringstream rest(line.substr(close + 2));
        std::string field;
        unsigned long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14) utime = std::stoul(field);
            if (i == 15) stime = std::stoul(field);
        }
        out.cpu_s = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) out.rss_kb = std::stol(line.substr(6));
    return out;
}

// CPU seconds of `root` and every process below it (PostgreSQL's work is in its backends).
double tree_cpu_s(long root) {
    std::map<long, std::vector<long>> children;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        const auto name = e.path().filename().string();
        if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
        std::ifstream stat(e.path() / "stat");
        std::string line;
        if (!std::getline(stat, line)) continue;
        const auto close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 2));
        std::string state;
        long ppid = 0;
        rest >> state >> ppid;
        children[ppid].push_back(std::stol(name));
    }
    double total = 0;
    std::vector<long> todo{root};
    while (!todo.empty()) {
        const long pid = todo.back();
        todo.pop_back();
        total += sample_process(pid).cpu_s;
        for (long c : children[pid]) todo.push_back(c);
    }
    return total;
}

// Busy CPU seconds of the whole machine (all cores, everything but idle and iowait).
double machine_busy_s() {
    std::ifstream stat("/proc/stat");
    std::string cpu;
    unsigned long v[8] = {};
    stat >> cpu;
    for (auto& x : v) stat >> x;
    const unsigned long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return static_cast<double>(busy) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

class Load {
public:
    explicit Load(Options o)
        : o_(std::move(o)),
          last_send_(static_cast<std::size_t>(o_.plugs)),
          baselined_(static_cast<std::size_t>(o_.plugs)),
          ready_(static_cast<std::size_t>(o_.plugs)),
          pub_(tcp_url(o_.url), "intelergy-bench-plugs-" + std::to_string(getpid()), 1'000'000),
          sub_(tcp_url(o_.url), "intelergy-bench-count-" + std::to_string(getpid())) {
        for (auto& a : last_send_) a = 0;
        for (auto& a : baselined_) a = false;
        for (auto& a : ready_) a = false;
    }

    int run() {
        auto conn = mqtt::connect_options_builder().clean_session(true).keep_alive_interval(30s).finalize();
        sub_.set_message_callback([this](mqtt::const_message_ptr m) { on_count(m); });
        pub_.set_message_callback([this](mqtt::const_message_ptr m) { on_rpc(m); });
        sub_.connect(conn)->wait();
        pub_.connect(conn)->wait();
        // One connection plays a thousand plugs, each a connection of its own in real life:
        // without TCP_NODELAY Nagle's algorithm would hold its publishes (core/tcp_nodelay.hpp).
        intelergy::disable_nagle_to_port(intelergy::uri_port(tcp_url(o_.url)));
        if (o_.passthrough) {
            sub_.subscribe("+/events/rpc", 0)->wait();
        } else {
            sub_.subscribe(o_.base + "/devices/+/state", 0)->wait();
            pub_.subscribe("+/rpc", 1)->wait();
        }
        std::printf("listening plugs=%d\n", o_.plugs);
        std::fflush(stdout);
        if (!o_.passthrough && !wait_baselines()) return 1;

        std::unique_ptr<pqxx::connection> db;
        if (!o_.dsn.empty()) {
            db = std::make_unique<pqxx::connection>(o_.dsn);
            // The baseline readings must be committed before the first step counts rows, or
            // the late ones are counted as that step's (bounded to 30 s).
            for (int k = 0; k < 300 && !o_.passthrough && db_count(db.get(), o_.prefix) < o_.plugs; ++k)
                std::this_thread::sleep_for(100ms);
        }
        for (std::size_t k = 0; k < o_.rates.size(); ++k)
            step(o_.rates[k], db.get(), k + 1 == o_.rates.size());
        pub_.disconnect()->wait();
        sub_.disconnect()->wait();
        return 0;
    }

private:
    bool wait_baselines() {
        const auto deadline = Steady::now() + std::chrono::duration<double>(o_.baseline_timeout);
        while (Steady::now() < deadline) {
            // A NotifyStatus that reaches the bridge before it has merged the baseline is held
            // back by design (it asks again): wait until every plug's baseline state is out.
            if (baselines_.load() >= o_.plugs && ready_count_.load() >= o_.plugs) {
                std::this_thread::sleep_for(500ms);
                std::printf("baselines answered=%d states=%d\n", baselines_.load(), ready_count_.load());
                std::fflush(stdout);
                return true;
            }
            std::this_thread::sleep_for(50ms);
        }
        std::printf("baselines answered=%d states=%d of %d: timeout\n", baselines_.load(),
                    ready_count_.load(), o_.plugs);
        return false;
    }

    static long db_count(pqxx::connection* db, const std::string& prefix) {
        pqxx::nontransaction tx(*db);
        return tx.exec1("SELECT count(*) FROM readings WHERE device_id LIKE " +
                        tx.quote(prefix + "%"))[0]
            .as<long>();
    }

    void step(long rate, pqxx::connection* db, bool last) {
        const long before_db = db ? db_count(db, o_.prefix) : 0;
        const long total = rate > 0 ? static_cast<long>(static_cast<double>(rate) * o_.seconds)
                                    : o_.max_messages;
        {
            std::lock_guard lock(lat_mutex_);
            latencies_.clear();
            latencies_.reserve(static_cast<std::size_t>(total));
        }
        received_ = 0;
        other_ = 0;
        {
            std::vector<std::atomic<bool>> fresh(static_cast<std::size_t>(total));
            for (auto& f : fresh) f = false;
            std::lock_guard lock(lat_mutex_);
            seen_.swap(fresh);
        }
        step_base_ = sent_total_.load();
        last_receive_ns_ = 0;
        if (!o_.pid_file.empty()) {
            std::ifstream f(o_.pid_file);
            f >> o_.pid;
        }
        const auto cpu0 = sample_process(o_.pid);
        std::vector<double> watch0;
        for (const auto& w : o_.watch) watch0.push_back(tree_cpu_s(w.second));
        const double self0 = sample_process(getpid()).cpu_s, machine0 = machine_busy_s();
        const auto t0 = now_ns();
        long sent = 0;
        // Pace in 1 ms slices: after each slice, publish what the schedule says is due.
        while (sent < total) {
            long due = total;
            if (rate > 0) {
                const double el = static_cast<double>(now_ns() - t0) / 1e9;
                due = std::min<long>(total, static_cast<long>(el * static_cast<double>(rate)) + 1);
            }
            while (sent < due) {
                const long n = step_base_.load() + sent++;
                ++sent_total_;  // before the publish: its state may come back at once
                publish(n);
            }
            if (rate > 0 && sent < total) std::this_thread::sleep_for(1ms);
        }
        const auto t_sent = now_ns();
        // Drain: everything back, or no progress for 5 s (bounded to 120 s).
        long seen = -1;
        auto last_progress = now_ns();
        while (received_.load() < total) {
            const long r = received_.load();
            if (r != seen) seen = r, last_progress = now_ns();
            if (now_ns() - last_progress > 5'000'000'000L || now_ns() - t_sent > 120'000'000'000L) break;
            std::this_thread::sleep_for(5ms);
        }
        const long received = received_.load();
        const auto t_end = received > 0 ? last_receive_ns_.load() : now_ns();
        const auto cpu1 = sample_process(o_.pid);
        std::string watched;  // " cpu_NAME=cores …" over the same span as bridge_cpu
        {
            const double span = static_cast<double>(std::max(t_end, t_sent) - t0) / 1e9;
            char buf[64];
            for (std::size_t k = 0; k < o_.watch.size(); ++k) {
                std::snprintf(buf, sizeof buf, " cpu_%s=%.3f", o_.watch[k].first.c_str(),
                              (tree_cpu_s(o_.watch[k].second) - watch0[k]) / span);
                watched += buf;
            }
            std::snprintf(buf, sizeof buf, " cpu_self=%.3f machine_busy_cores=%.3f",
                          (sample_process(getpid()).cpu_s - self0) / span, (machine_busy_s() - machine0) / span);
            watched += buf;
        }
        long db_rows = -1;
        double db_wait_s = 0;
        double rollup_s = -1;
        long rollup_left = -1;
        if (db) {
            // The writer batches: wait until every reading is committed (bounded to 60 s).
            const auto d0 = now_ns();
            long prev = -1;
            auto prev_t = now_ns();
            for (;;) {
                db_rows = db_count(db, o_.prefix) - before_db;
                if (db_rows >= total) break;
                if (db_rows != prev) prev = db_rows, prev_t = now_ns();
                if (now_ns() - prev_t > 10'000'000'000L || now_ns() - d0 > 60'000'000'000L) break;
                std::this_thread::sleep_for(100ms);
            }
            db_wait_s = static_cast<double>(now_ns() - d0) / 1e9;
            // Rollup catch-up after the last step: from here until no dirty mark is left
            // (bounded; -1 and the marks left when it did not finish in time).
            const auto r0 = now_ns();
            for (; last;) {
                pqxx::nontransaction tx(*db);
                rollup_left = tx.exec1("SELECT count(*) FROM rollup_dirty")[0].as<long>();
                if (rollup_left == 0) {
                    rollup_s = static_cast<double>(now_ns() - r0) / 1e9;
                    break;
                }
                if (static_cast<double>(now_ns() - r0) / 1e9 > o_.rollup_timeout) {
                    rollup_s = -1;
                    break;
                }
                std::this_thread::sleep_for(50ms);
            }
        }
        const double send_s = static_cast<double>(t_sent - t0) / 1e9;
        const double span_s = static_cast<double>(std::max(t_end, t_sent) - t0) / 1e9;
        std::vector<std::int64_t> lat;
        {
            std::lock_guard lock(lat_mutex_);
            lat = latencies_;
        }
        std::sort(lat.begin(), lat.end());
        auto pct = [&](double p) {
            if (lat.empty()) return -1.0;
            const auto i = std::min(lat.size() - 1, static_cast<std::size_t>(p * static_cast<double>(lat.size())));
            return static_cast<double>(lat[i]) / 1e6;
        };
        std::printf(
            "step mode=%s target=%s sent=%ld received=%ld lost=%ld other_states=%ld send_rate=%.0f "
            "processed_rate=%.0f drain_ms=%.0f lat_p50_ms=%.3f lat_p99_ms=%.3f lat_max_ms=%.3f "
            "db_rows=%ld db_wait_s=%.1f rollup_catchup_s=%.2f rollup_marks_left=%ld bridge_cpu=%.3f bridge_rss_kb=%ld%s\n",
            o_.passthrough ? "passthrough" : "bridge", rate > 0 ? std::to_string(rate).c_str() : "max",
            total, received, total - received, other_.load(), static_cast<double>(total) / send_s,
            static_cast<double>(received) / span_s,
            static_cast<double>(std::max<std::int64_t>(0, t_end - t_sent)) / 1e6, pct(0.50), pct(0.99),
            lat.empty() ? -1.0 : static_cast<double>(lat.back()) / 1e6, db_rows, db_wait_s, rollup_s, rollup_left,
            o_.pid > 0 ? (cpu1.cpu_s - cpu0.cpu_s) / span_s : -1.0, cpu1.rss_kb, watched.c_str());
        std::fflush(stdout);
        std::this_thread::sleep_for(1s);
    }

    void publish(long n) {
        const int i = static_cast<int>(n % o_.plugs);
        const long round = n / o_.plugs;
        const auto name = plug_name(o_, i);
        // apower differs from the previous frame of the same plug; the counter creeps up.
        char payload[320];
        const long deciwatts = 500 + (round * 7 + i) % 1000;
        const double apower = static_cast<double>(deciwatts) / 10.0;
        const double total = 1000.0 + static_cast<double>(round + 1) * 0.001;
        const int len = std::snprintf(
            payload, sizeof payload,
            R"({"src":"%s","dst":"%s/events","method":"NotifyStatus","params":{"ts":%.2f,"switch:0":{"id":0,"apower":%.1f,"aenergy":{"total":%.3f}}}})",
            name.c_str(), name.c_str(), unix_now(), apower, total);
        last_send_[static_cast<std::size_t>(i)].store(now_ns(), std::memory_order_relaxed);
        auto msg = mqtt::make_message(name + "/events/rpc", payload, static_cast<std::size_t>(len), 0, false);
        for (int attempt = 0;; ++attempt) {
            try {
                pub_.publish(msg);
                return;
            } catch (const mqtt::exception&) {  // client buffer full: let it drain
                if (attempt > 10000) throw;
                std::this_thread::sleep_for(100us);
            }
        }
    }

    void on_count(const mqtt::const_message_ptr& m) {
        if (m->is_retained()) return;
        const auto t = now_ns();
        const std::string& topic = m->get_topic();
        std::string_view seg;
        if (o_.passthrough) {
            seg = std::string_view(topic).substr(0, topic.find('/'));
        } else {
            const auto b = o_.base.size() + 9;  // "<base>/devices/"
            const auto e = topic.find('/', b);
            if (e == std::string::npos) return;
            seg = std::string_view(topic).substr(b, e - b);
        }
        const int i = plug_index(o_, seg);
        if (i < 0) return;
        const auto sent = last_send_[static_cast<std::size_t>(i)].load(std::memory_order_relaxed);
        if (sent != 0 && !o_.passthrough) {
            // Count only the state of the frame sent last to this plug (its power); any other
            // state (a repeated baseline, a republish) is not an answer to a sent message.
            // The power identifies the round (7 × 143 ≡ 1 mod 1000), hence the message index.
            const auto payload = m->to_string();
            const auto p = json_field(payload, "power_w");
            bool ours = false;
            if (!p.empty()) {
                const long d = std::lround(std::stod(p) * 10.0) - 500;
                const long r = (((d - i) % 1000 + 1000) % 1000) * 143 % 1000;
                const long n = r * o_.plugs + i;
                ours = d >= 0 && d < 1000 && n >= step_base_.load() && n < sent_total_.load();
                // A frame's state seen again (a republish after a reconnect) counts once.
                const auto k = static_cast<std::size_t>(n - step_base_.load());
                std::lock_guard lock(lat_mutex_);
                if (ours && k < seen_.size() && seen_[k].exchange(true)) ours = false;
            }
            if (!ours) {
                ++other_;
                return;
            }
        }
        if (sent == 0) {  // before the first step: the bridge's state from the baseline
            if (!ready_[static_cast<std::size_t>(i)].exchange(true)) ++ready_count_;
            return;
        }
        ++received_;
        last_receive_ns_ = t;
        std::lock_guard lock(lat_mutex_);
        latencies_.push_back(t - sent);
    }

    void on_rpc(const mqtt::const_message_ptr& m) {
        // <prefix>/rpc: {"id":N,"src":"<reply root>","method":"Shelly.GetStatus"}
        const std::string& topic = m->get_topic();
        const int i = plug_index(o_, std::string_view(topic).substr(0, topic.find('/')));
        if (i < 0) return;
        const std::string payload = m->to_string();
        const auto id = json_field(payload, "id");
        const auto src = json_field(payload, "src");
        const auto method = json_field(payload, "method");
        if (id.empty() || src.empty()) return;
        const auto name = plug_name(o_, i);
        std::string reply = R"({"id":)" + id + R"(,"src":")" + name + R"(","dst":")" + src + "\",";
        if (method == "Shelly.GetStatus") {
            const long unixtime = static_cast<long>(std::time(nullptr));
            char result[600];
            std::snprintf(
                result, sizeof result,
                R"("result":{"sys":{"mac":"B0B21C%06X","time":"12:00","unixtime":%ld,"uptime":100},"switch:0":{"id":0,"source":"init","output":true,"apower":50.0,"voltage":230.0,"current":0.217,"aenergy":{"total":1000.000,"by_minute":[0,0,0],"minute_ts":%ld},"temperature":{"tC":30.0,"tF":86.0}}}})",
                static_cast<unsigned>(i), unixtime, unixtime - unixtime % 60);
            reply += result;
            if (!baselined_[static_cast<std::size_t>(i)].exchange(true)) ++baselines_;
        } else {
            reply += R"("error":{"code":404,"message":"No handler for )" + method + "\"}}";
        }
        try {
            pub_.publish(src + "/rpc", reply, 1, false);
        } catch (const mqtt::exception& e) {
            std::fprintf(stderr, "mqtt_load: reply failed: %s\n", e.what());
        }
    }

    Options o_;
    std::vector<std::atomic<std::int64_t>> last_send_;
    std::vector<std::atomic<bool>> baselined_;
    std::atomic<long> sent_total_{0};  // message index across steps (round = index / plugs)
    std::atomic<long> step_base_{0};
    std::vector<std::atomic<bool>> seen_;  // per frame of the current step
    std::atomic<long> other_{0};
    std::vector<std::atomic<bool>> ready_;  // the bridge published a state from the baseline
    std::atomic<int> ready_count_{0};
    std::atomic<int> baselines_{0};
    std::atomic<long> received_{0};
    std::atomic<std::int64_t> last_receive_ns_{0};
    std::mutex lat_mutex_;
    std::vector<std::int64_t> latencies_;
    mqtt::async_client pub_;
    mqtt::async_client sub_;
};

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "mqtt_load: " << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--url") o.url = next();
        else if (a == "--plugs") o.plugs = std::stoi(next());
        else if (a == "--seconds") o.seconds = std::stod(next());
        else if (a == "--max-messages") o.max_messages = std::stol(next());
        else if (a == "--base") o.base = next();
        else if (a == "--prefix") o.prefix = next();
        else if (a == "--passthrough") o.passthrough = true;
        else if (a == "--dsn") o.dsn = next();
        else if (a == "--pid") o.pid = std::stol(next());
        else if (a == "--pid-file") o.pid_file = next();
        else if (a == "--watch") {
            const auto v = next();
            const auto eq = v.find('=');
            if (eq == std::string::npos || eq == 0) {
                std::cerr << "mqtt_load: --watch needs NAME=PID\n";
                return 2;
            }
            o.watch.emplace_back(v.substr(0, eq), std::stol(v.substr(eq + 1)));
        }
        else if (a == "--baseline-timeout") o.baseline_timeout = std::stod(next());
        else if (a == "--rollup-timeout") o.rollup_timeout = std::stod(next());
        else if (a == "--rates") {
            o.rates.clear();
            std::istringstream in(next());
            std::string r;
            while (std::getline(in, r, ',')) o.rates.push_back(r == "max" ? 0 : std::stol(r));
        } else {
            std::cerr << "mqtt_load: unknown argument " << a << "\n";
            return 2;
        }
    }
    if (o.url.empty() || o.plugs < 1 || o.plugs > 99999) {
        std::cerr << "usage: mqtt_load --url mqtt://HOST:PORT --plugs N --rates R1,R2,max "
                     "--seconds S [--passthrough] [--dsn DSN] [--pid PID]\n";
        return 2;
    }
    try {
        return Load(std::move(o)).run();
    } catch (const std::exception& e) {
        std::cerr << "mqtt_load: " << e.what() << "\n";
        return 1;
    }
}
