#include "intelergy/store/rollup_worker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>
#include <tuple>
#include <vector>

#include "intelergy/core/time_format.hpp"
#include "pg_common.hpp"

namespace intelergy::store {

namespace {

std::shared_ptr<spdlog::logger> store_log() {
    auto log = spdlog::get("store");
    return log ? log : spdlog::default_logger();
}

struct Range {
    std::string device;
    int channel{0};
    std::int64_t from_ms{0};  // first reading ts (inclusive)
    std::int64_t to_ms{0};    // last reading ts (inclusive)
};

std::string num(double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, r.ptr);
}

std::optional<std::string> opt_num(const std::optional<double>& v) {
    if (!v) return std::nullopt;
    return num(*v);
}

std::optional<std::string> opt_ts(const std::optional<std::int64_t>& ms) {
    if (!ms) return std::nullopt;
    return format_iso8601(SysTime(std::chrono::milliseconds(*ms)));
}

const char* ptr(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

template <typename T>
std::optional<T> nullable(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return f.as<T>();
}

// Merges the ranges of the same channel that overlap or lie within `slack` of each other.
std::vector<Range> merge(std::vector<Range> ranges, std::int64_t slack_ms) {
    std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
        return std::tie(a.device, a.channel, a.from_ms) < std::tie(b.device, b.channel, b.from_ms);
    });
    std::vector<Range> out;
    for (auto& r : ranges) {
        if (!out.empty() && out.back().device == r.device && out.back().channel == r.channel &&
            r.from_ms <= out.back().to_ms + slack_ms) {
            out.back().to_ms = std::max(out.back().to_ms, r.to_ms);
        } else {
            out.push_back(std::move(r));
        }
    }
    return out;
}

}  // namespace

struct RollupWorker::Impl {
    std::string dsn;
    const Clock& clock;
    RollupWorkerOptions opt;
    std::shared_ptr<spdlog::logger> log = store_log();

    std::mutex work_mu;  // serialises use of the connection
    std::unique_ptr<pqxx::connection> conn;

    mutable std::mutex mu;  // guards the fields below
    std::condition_variable wake;
    bool running{false};
    bool quit{false};
    RollupWorkerStats st;
    std::optional<SteadyTime> last_lag_log;
    std::thread thread;

    Impl(std::string d, const Clock& c, RollupWorkerOptions o)
        : dsn(std::move(d)), clock(c), opt(o) {}

    pqxx::connection& connection() {
        if (!conn || !conn->is_open()) conn = std::make_unique<pqxx::connection>(dsn);
        return *conn;
    }

    template <typename Fn>
    auto guarded(const char* what, Fn&& fn) -> decltype(fn()) {
        bool broken = false;
        auto r = pg::guarded(what, broken, std::forward<Fn>(fn));
        if (broken) conn.reset();
        if (!r) {
            std::lock_guard lock(mu);
            ++st.failures;
            st.last_error = r.error().describe();
        }
        return r;
    }

    // Recomputes the minutes a change of the readings in [from_ms, to_ms] can influence, then
    // their parents. Returns the number of minute rows written.
    std::size_t recompute_range(pqxx::work& tx, const Range& r) {
        const int ch = r.channel;
        tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1), $2)", r.device, ch);
        const std::string dev_ch = "device_id = $1 AND channel = $2";
        const auto before = tx.exec_params1(
            "SELECT min(ms) FROM (SELECT " + pg::ms_from_ts("ts") + " AS ms FROM readings WHERE " +
                dev_ch + " AND ts < " + pg::ts_from_ms("$3") + " ORDER BY ts DESC LIMIT " +
                std::to_string(RollupContext::REWRITE) + ") b",
            r.device, ch, r.from_ms);
        const auto after = tx.exec_params1(
            "SELECT max(ms) FROM (SELECT " + pg::ms_from_ts("ts") + " AS ms FROM readings WHERE " +
                dev_ch + " AND ts > " + pg::ts_from_ms("$3") + " ORDER BY ts LIMIT " +
                std::to_string(RollupContext::REWRITE) + ") a",
            r.device, ch, r.to_ms);
        const std::int64_t w0 =
            floor_minute(std::min(r.from_ms, nullable<std::int64_t>(before[0]).value_or(r.from_ms)));
        const std::int64_t w1 =
            floor_minute(std::max(r.to_ms, nullable<std::int64_t>(after[0]).value_or(r.to_ms))) +
            MINUTE_MS;

        const std::string cols = pg::ms_from_ts("ts") +
                                 ", power_w, energy_wh, CASE counter_unit WHEN 'Wmin' THEN "
                                 "counter_raw / 60 ELSE counter_raw END";
        const std::string load = std::to_string(RollupContext::LOAD);
        const auto rows = tx.exec_params(
            "(SELECT * FROM (SELECT " + cols + " FROM readings WHERE " + dev_ch + " AND ts < " +
                pg::ts_from_ms("$3") + " ORDER BY ts DESC LIMIT " + load +
                ") b ORDER BY 1) UNION ALL (SELECT " + cols + " FROM readings WHERE " + dev_ch +
                " AND ts >= " + pg::ts_from_ms("$3") + " AND ts < " + pg::ts_from_ms("$4") +
                " ORDER BY ts) UNION ALL (SELECT " + cols + " FROM readings WHERE " + dev_ch +
                " AND ts >= " + pg::ts_from_ms("$4") + " ORDER BY ts LIMIT " + load + ")",
            r.device, ch, w0, w1);
        std::vector<RollupSample> samples;
        samples.reserve(rows.size());
        for (const auto& row : rows)
            samples.push_back({row[0].as<std::int64_t>(), nullable<double>(row[1]),
                               nullable<double>(row[2]), nullable<double>(row[3])});
        const auto minutes = compute_minutes(samples, w0, w1, opt.params);

        tx.exec_params0("DELETE FROM energy_minute WHERE " + dev_ch + " AND bucket_start >= " +
                            pg::ts_from_ms("$3") + " AND bucket_start < " + pg::ts_from_ms("$4"),
                        r.device, ch, w0, w1);
        if (!minutes.empty()) {
            pqxx::stream_to copy(
                tx, "energy_minute",
                std::vector<std::string>{"device_id", "channel", "bucket_start", "bucket_end",
                                         "energy_wh", "energy_integrated_wh", "counter_s",
                                         "covered_s", "bridged_s", "sum_w_s", "power_s", "min_w",
                                         "max_w", "samples", "first_ts", "last_ts", "resets"});
            const std::string chs = std::to_string(ch);
            for (const auto& m : minutes) {
                const auto s = format_iso8601(SysTime(std::chrono::milliseconds(m.start_ms)));
                const auto e =
                    format_iso8601(SysTime(std::chrono::milliseconds(m.start_ms + MINUTE_MS)));
                const auto ewh = opt_num(m.energy_wh), eint = opt_num(m.energy_integrated_wh),
                           mn = opt_num(m.min_w), mx = opt_num(m.max_w);
                const auto cs = num(m.counter_s), cov = num(m.covered_s), br = num(m.bridged_s),
                           sw = num(m.sum_w_s), ps = num(m.power_s);
                const auto n = std::to_string(m.samples), rs = std::to_string(m.resets);
                const auto f = opt_ts(m.first_ts_ms), l = opt_ts(m.last_ts_ms);
                copy << std::make_tuple(r.device.c_str(), chs.c_str(), s.c_str(), e.c_str(),
                                        ptr(ewh), ptr(eint), cs.c_str(), cov.c_str(), br.c_str(),
                                        sw.c_str(), ps.c_str(), ptr(mn), ptr(mx), n.c_str(),
                                        ptr(f), ptr(l), rs.c_str());
            }
            copy.complete();
        }
        tx.exec_params("SELECT intelergy_rollup_parents($1, $2::smallint, " +
                           pg::ts_from_ms("$3") + ", " + pg::ts_from_ms("$4") + ")",
                       r.device, ch, w0, w1);
        return minutes.size();
    }

    // One pass: claims up to claims_per_pass marks and recomputes them in one transaction.
    Result<std::size_t> pass() {
        std::lock_guard work(work_mu);
        return guarded("rollup/pass", [&]() -> Result<std::size_t> {
            pqxx::work tx(connection());
            const auto claimed = tx.exec_params(
                "DELETE FROM rollup_dirty WHERE id IN (SELECT id FROM rollup_dirty ORDER BY id "
                "LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING device_id, channel, " +
                    pg::ms_from_ts("from_ts") + ", " + pg::ms_from_ts("to_ts"),
                static_cast<long>(opt.claims_per_pass));
            std::vector<Range> ranges;
            for (const auto& row : claimed)
                ranges.push_back({row[0].as<std::string>(), row[1].as<int>(),
                                  row[2].as<std::int64_t>(), row[3].as<std::int64_t>()});
            ranges = merge(std::move(ranges), 3'600'000);
            std::size_t minutes = 0;
            for (const auto& r : ranges) minutes += recompute_range(tx, r);
            const auto left = tx.exec1("SELECT count(*), " + pg::ms_from_ts("min(from_ts)") +
                                       " FROM rollup_dirty");
            tx.commit();
            update_lag(left[0].as<std::size_t>(), nullable<std::int64_t>(left[1]));
            std::lock_guard lock(mu);
            if (!claimed.empty()) ++st.passes;
            st.ranges += ranges.size();
            st.minutes_written += minutes;
            st.last_error.clear();
            return ranges.size();
        });
    }

    void update_lag(std::size_t pending, std::optional<std::int64_t> oldest_ms) {
        std::lock_guard lock(mu);
        st.pending = pending;
        const auto now_ms = clock.now().time_since_epoch().count();
        st.lag = oldest_ms ? std::chrono::seconds(std::max<std::int64_t>(0, (now_ms - *oldest_ms) / 1000))
                           : std::chrono::seconds(0);
        const auto steady = clock.steady();
        if (st.lag > opt.lag_warning &&
            (!last_lag_log || steady - *last_lag_log > std::chrono::minutes(1))) {
            log->warn("store rollup lag lag_s={} pending={}", st.lag.count(), pending);
            last_lag_log = steady;
        }
    }

    Status recompute(const std::string& device, SysTime from, SysTime to) {
        std::lock_guard work(work_mu);
        return guarded("rollup/recompute", [&]() -> Status {
            std::vector<int> channels;
            {
                pqxx::read_transaction tx(connection());
                for (const auto& row :
                     tx.exec_params("SELECT DISTINCT channel FROM readings WHERE device_id = $1 "
                                    "ORDER BY 1",
                                    device))
                    channels.push_back(row[0].as<int>());
            }
            const auto chunk_ms =
                std::chrono::duration_cast<std::chrono::milliseconds>(opt.chunk).count();
            const auto from_ms = from.time_since_epoch().count();
            const auto to_ms = to.time_since_epoch().count();
            for (const int ch : channels) {
                for (std::int64_t a = from_ms; a < to_ms; a += chunk_ms) {
                    pqxx::work tx(connection());
                    const Range r{device, ch, a, std::min(to_ms, a + chunk_ms) - 1};
                    const auto n = recompute_range(tx, r);
                    tx.commit();
                    std::lock_guard lock(mu);
                    ++st.ranges;
                    st.minutes_written += n;
                }
            }
            return {};
        });
    }

    void run() noexcept {
        for (;;) {
            try {
                auto r = pass();
                while (r && *r > 0) {
                    {
                        std::lock_guard lock(mu);
                        if (quit) break;
                    }
                    r = pass();
                }
                if (!r) log->warn("store rollup pass failed err={}", r.error().describe());
            } catch (const std::exception& e) {
                log->error("store rollup thread error err={}", e.what());
            } catch (...) {
                log->error("store rollup thread error");
            }
            std::unique_lock lock(mu);
            wake.wait_for(lock, opt.poll_interval, [&] { return quit; });
            if (quit) return;
        }
    }
};

RollupWorker::RollupWorker(std::string dsn, const Clock& clock, RollupWorkerOptions options)
    : impl_(std::make_unique<Impl>(std::move(dsn), clock, options)) {}

RollupWorker::~RollupWorker() { stop(); }

void RollupWorker::start() {
    std::lock_guard lock(impl_->mu);
    if (impl_->running) return;
    impl_->running = true;
    impl_->quit = false;
    impl_->thread = std::thread([this] { impl_->run(); });
}

void RollupWorker::stop() {
    {
        std::lock_guard lock(impl_->mu);
        impl_->quit = true;
        impl_->wake.notify_all();
    }
    if (impl_->thread.joinable()) impl_->thread.join();
    std::lock_guard lock(impl_->mu);
    impl_->running = false;
}

Result<std::size_t> RollupWorker::process_pending() {
    std::size_t total = 0;
    for (;;) {
        auto r = impl_->pass();
        if (!r) return r;
        if (*r == 0) return total;
        total += *r;
    }
}

Status RollupWorker::recompute(const std::string& device_id, SysTime from, SysTime to) {
    return impl_->recompute(device_id, from, to);
}

RollupWorkerStats RollupWorker::stats() const {
    std::lock_guard lock(impl_->mu);
    return impl_->st;
}

}  // namespace intelergy::store
