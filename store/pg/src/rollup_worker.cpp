#include "intelergy/store/rollup_worker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <libpq-fe.h>

#include <pqxx/largeobject>
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

constexpr std::int64_t HOUR_MS = 3'600'000;
constexpr std::int64_t DAY_MS = 86'400'000;

std::int64_t floor_hour(std::int64_t ms) { return ms - (((ms % HOUR_MS) + HOUR_MS) % HOUR_MS); }

// The earliest reading (epoch ms) that the pending dirty marks may still need: each channel's
// oldest mark and the context loaded before it. nullopt when nothing is pending.
std::optional<std::int64_t> pending_need(pqxx::work& tx) {
    const auto row = tx.exec1(
        "SELECT " + pg::ms_from_ts("min(least(m.f, c.ctx))") +
        " FROM (SELECT device_id, channel, min(from_ts) AS f FROM rollup_dirty GROUP BY 1, 2) m "
        "LEFT JOIN LATERAL (SELECT min(ts) AS ctx FROM (SELECT ts FROM readings r WHERE "
        "r.device_id = m.device_id AND r.channel = m.channel AND r.ts < m.f ORDER BY ts DESC "
        "LIMIT " + std::to_string(RollupContext::LOAD) + ") x) c ON true");
    if (row[0].is_null()) return std::nullopt;
    return row[0].as<std::int64_t>();
}

template <typename T>
std::optional<T> nullable(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return f.as<T>();
}

using pg::int_array;
using pg::text_array;

// Reads the results that follow a COPY; returns the first error message, empty on success.
std::string drain_results(PGconn* conn) {
    std::string err;
    while (PGresult* r = PQgetResult(conn)) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && err.empty()) err = PQresultErrorMessage(r);
        PQclear(r);
    }
    return err;
}

// The raw libpq connection of a transaction: libpqxx 6 has only text COPY, and its large-object
// class is the one public way to the connection in 6.x.
struct RawConn : pqxx::largeobject {
    static PGconn* of(const pqxx::dbtransaction& tx) { return raw_connection(tx); }
};

// COPY … FROM STDIN in PostgreSQL's binary format. libpqxx 6 streams only text, and for a
// year of minutes (525,600 rows of 17 fields) the server spends about a third of the COPY
// parsing timestamps and numbers from text; binary fields are taken as they are, and doubles
// travel bit for bit. The raw connection comes from libpqxx's large-object class, the one
// public way to it in 6.x; the COPY runs inside the caller's transaction.
class BinaryCopy {
public:
    BinaryCopy(pqxx::work& tx, const std::string& table, const std::vector<std::string>& columns)
        : conn_(RawConn::of(tx)) {
        std::string cols;
        for (const auto& c : columns) cols += (cols.empty() ? "" : ", ") + tx.quote_name(c);
        tx.exec0("COPY " + tx.quote_name(table) + " (" + cols + ") FROM STDIN WITH (FORMAT binary)");
        buf_.append("PGCOPY\n\377\r\n\0", 11);
        i32(0);  // flags
        i32(0);  // header extension length
    }
    BinaryCopy(const BinaryCopy&) = delete;
    BinaryCopy& operator=(const BinaryCopy&) = delete;
    ~BinaryCopy() {
        if (!done_) PQputCopyEnd(conn_, "abandoned");  // the transaction then fails and rolls back
        if (!done_) drain();
    }

    void row(std::int16_t fields) {
        i16(fields);
        if (buf_.size() > (1U << 20)) send();
    }
    void text(const std::string& v) {
        i32(static_cast<std::int32_t>(v.size()));
        buf_ += v;
    }
    void int2(std::int16_t v) {
        i32(2);
        i16(v);
    }
    void int4(std::int32_t v) {
        i32(4);
        i32(v);
    }
    void float8(double v) {
        std::uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        i32(8);
        u64(bits);
    }
    void float8(const std::optional<double>& v) { v ? float8(*v) : null(); }
    // Epoch milliseconds as a timestamptz (microseconds since 2000-01-01 UTC).
    void timestamptz(std::int64_t ms) {
        i32(8);
        u64(static_cast<std::uint64_t>((ms - 946'684'800'000) * 1000));
    }
    void timestamptz(const std::optional<std::int64_t>& ms) { ms ? timestamptz(*ms) : null(); }
    void null() { i32(-1); }

    void complete() {
        i16(-1);
        send();
        done_ = true;
        if (PQputCopyEnd(conn_, nullptr) != 1) throw std::runtime_error(PQerrorMessage(conn_));
        if (const auto err = drain(); !err.empty()) throw std::runtime_error("COPY failed: " + err);
    }

private:
    void i16(std::int16_t v) {
        const auto u = static_cast<std::uint16_t>(v);
        buf_ += static_cast<char>(u >> 8);
        buf_ += static_cast<char>(u & 0xff);
    }
    void i32(std::int32_t v) {
        const auto u = static_cast<std::uint32_t>(v);
        for (int s = 24; s >= 0; s -= 8) buf_ += static_cast<char>((u >> s) & 0xff);
    }
    void u64(std::uint64_t u) {
        for (int s = 56; s >= 0; s -= 8) buf_ += static_cast<char>((u >> s) & 0xff);
    }
    void send() {
        if (!buf_.empty() && PQputCopyData(conn_, buf_.data(), static_cast<int>(buf_.size())) != 1)
            throw std::runtime_error(PQerrorMessage(conn_));
        buf_.clear();
    }
    std::string drain() { return drain_results(conn_); }

    PGconn* conn_;
    std::string buf_;
    bool done_{false};
};

// The rows of `COPY (query) TO STDOUT (FORMAT binary)`, inside the caller's transaction. A year
// of readings (525,600 rows) as text cost the server a float8out and the client a parse per
// number; binary fields are the values themselves, doubles bit for bit.
class BinaryCopyOut {
public:
    BinaryCopyOut(pqxx::work& tx, const std::string& query) : conn_(RawConn::of(tx)) {
        tx.exec0("COPY (" + query + ") TO STDOUT WITH (FORMAT binary)");
    }
    BinaryCopyOut(const BinaryCopyOut&) = delete;
    BinaryCopyOut& operator=(const BinaryCopyOut&) = delete;
    ~BinaryCopyOut() {
        if (done_) return;
        // Abandoned part way: read the rest so that the connection leaves the COPY state.
        free();
        char* b = nullptr;
        while (PQgetCopyData(conn_, &b, 0) > 0) PQfreemem(b);
        drain();
    }

    // Moves to the next row; false after the last one.
    bool next() {
        for (;;) {
            if (done_) return false;
            if (pos_ >= len_) {
                free();
                const int n = PQgetCopyData(conn_, &msg_, 0);
                if (n == -1) {
                    done_ = true;
                    if (const auto err = drain(); !err.empty())
                        throw std::runtime_error("COPY failed: " + err);
                    if (!trailer_) throw std::runtime_error("COPY ended without its trailer");
                    return false;
                }
                if (n < 0) throw std::runtime_error(PQerrorMessage(conn_));
                len_ = static_cast<std::size_t>(n);
                pos_ = 0;
                if (!header_) {
                    if (len_ < 19 || std::memcmp(msg_, "PGCOPY\n\377\r\n\0", 11) != 0)
                        throw std::runtime_error("COPY: not a binary COPY header");
                    pos_ = 15;
                    pos_ += static_cast<std::size_t>(i32());  // header extension
                    header_ = true;
                }
                continue;
            }
            const auto fields = static_cast<std::int16_t>(u16());
            if (fields == -1) {
                trailer_ = true;
                pos_ = len_;
                continue;
            }
            fields_.clear();
            for (int f = 0; f < fields; ++f) {
                const auto n = i32();
                if (n >= 0 && pos_ + static_cast<std::size_t>(n) > len_)
                    throw std::runtime_error("COPY: row longer than its message");
                fields_.push_back({n < 0 ? nullptr : msg_ + pos_, n});
                if (n > 0) pos_ += static_cast<std::size_t>(n);
            }
            return true;
        }
    }

    [[nodiscard]] std::size_t size() const { return fields_.size(); }
    [[nodiscard]] bool is_null(std::size_t i) const { return fields_.at(i).data == nullptr; }
    [[nodiscard]] std::int64_t int8(std::size_t i) const { return static_cast<std::int64_t>(u64(i, 8)); }
    [[nodiscard]] double float8(std::size_t i) const {
        const auto bits = u64(i, 8);
        double v;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    [[nodiscard]] std::optional<double> nullable_float8(std::size_t i) const {
        if (is_null(i)) return std::nullopt;
        return float8(i);
    }
    // A timestamptz as epoch milliseconds, rounded down: the same value as
    // floor(extract(epoch FROM ts) * 1000) (pg::ms_from_ts).
    [[nodiscard]] std::int64_t timestamptz_ms(std::size_t i) const {
        const auto us = static_cast<std::int64_t>(u64(i, 8));
        if (us == INT64_MAX || us == INT64_MIN) throw std::runtime_error("COPY: infinite timestamp");
        const auto unix_us = us + 946'684'800'000'000;
        return unix_us / 1000 - (unix_us % 1000 < 0 ? 1 : 0);
    }

private:
    struct Field {
        const char* data;
        std::int32_t len;
    };
    std::uint64_t u64(std::size_t i, std::int32_t want) const {
        const auto& f = fields_.at(i);
        if (f.data == nullptr || f.len != want) throw std::runtime_error("COPY: unexpected field size");
        std::uint64_t u = 0;
        for (int k = 0; k < 8; ++k) u = (u << 8) | static_cast<unsigned char>(f.data[k]);
        return u;
    }
    std::uint16_t u16() {
        if (pos_ + 2 > len_) throw std::runtime_error("COPY: truncated row");
        const auto* p = reinterpret_cast<const unsigned char*>(msg_ + pos_);
        pos_ += 2;
        return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
    }
    std::int32_t i32() {
        if (pos_ + 4 > len_) throw std::runtime_error("COPY: truncated row");
        const auto* p = reinterpret_cast<const unsigned char*>(msg_ + pos_);
        pos_ += 4;
        return static_cast<std::int32_t>((std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                                         (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]});
    }
    void free() {
        if (msg_ != nullptr) PQfreemem(msg_);
        msg_ = nullptr;
        len_ = pos_ = 0;
    }
    std::string drain() { return drain_results(conn_); }

    PGconn* conn_;
    char* msg_{nullptr};
    std::size_t len_{0}, pos_{0};
    bool header_{false}, trailer_{false}, done_{false};
    std::vector<Field> fields_;
};

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
    bool last_pass_full{false};  // the last pass claimed claims_per_pass marks: a backlog
    // Set by stop(): a pass in progress gives up between ranges and rolls back, so its marks stay
    // in rollup_dirty for the next start. A pass over a large backlog (one range per device-hour,
    // thousands of plugs) takes many seconds; stop() must not wait for it.
    std::atomic<bool> stopping{false};
    RollupWorkerStats st;
    std::optional<SteadyTime> last_lag_log;
    std::optional<SteadyTime> last_retention;
    std::optional<SteadyTime> last_partitions;
    std::thread thread;
    std::uint64_t frozen_in_call{0};  // ranges clamped or skipped by a horizon (work_mu)

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

    // Recomputes the minutes that changes of the readings in the given ranges ([from_ms, to_ms]
    // each) can influence, then their parents, set-based: whatever the number of ranges and
    // device channels, a fixed number of statements (bounds, readings, delete, one COPY, one
    // DELETE and one INSERT per parent tier). Returns the number of minute rows written, or
    // nullopt when stop() was called in between (the caller rolls back).
    std::optional<std::size_t> recompute_ranges(pqxx::work& tx, std::vector<Range> ranges) {
        if (ranges.empty()) return std::size_t{0};
        std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
            return std::tie(a.device, a.channel, a.from_ms) < std::tie(b.device, b.channel, b.from_ms);
        });
        const auto abandoned = [&] { return stopping.load(); };
        // Every statement below reads a few device channels' ranges through a primary key.
        // With few devices the planner prefers the BRIN index on energy_minute.bucket_start,
        // whose pages appended since the last VACUUM are not summarised yet and are all read:
        // the DELETE of one month of one plug's minutes read the whole table (EXPLAIN ANALYZE
        // in bench/RESULTS.md, section ROLLUP-PERF).
        tx.exec0("SET LOCAL enable_bitmapscan = off");

        // One advisory lock per device channel, always taken in (device, channel) order, so two
        // sessions recomputing overlapping sets never wait on each other in a cycle.
        {
            std::vector<std::string> devs;
            std::vector<std::int64_t> chs;
            for (const auto& r : ranges)
                if (devs.empty() || devs.back() != r.device || chs.back() != r.channel) {
                    devs.push_back(r.device);
                    chs.push_back(r.channel);
                }
            tx.exec_params("SELECT pg_advisory_xact_lock(hashtext(u.d), u.c) FROM unnest($1::text[], "
                           "$2::int[]) WITH ORDINALITY AS u(d, c, i) ORDER BY u.i",
                           text_array(devs), int_array(chs));
        }
        if (abandoned()) return std::nullopt;

        // The minutes to rewrite: REWRITE readings of context on each side of every range.
        std::vector<std::string> devs;
        std::vector<std::int64_t> chs, a, b;
        for (const auto& r : ranges) {
            devs.push_back(r.device);
            chs.push_back(r.channel);
            a.push_back(r.from_ms);
            b.push_back(r.to_ms);
        }
        const std::string rewrite = std::to_string(RollupContext::REWRITE);
        const auto bounds = tx.exec_params(
            "SELECT u.i, (SELECT min(x.ms) FROM (SELECT " + pg::ms_from_ts("r.ts") +
                " AS ms FROM readings r WHERE r.device_id = u.d AND r.channel = u.c AND r.ts < " +
                pg::ts_from_ms("u.f") + " ORDER BY r.ts DESC LIMIT " + rewrite +
                ") x), (SELECT max(x.ms) FROM (SELECT " + pg::ms_from_ts("r.ts") +
                " AS ms FROM readings r WHERE r.device_id = u.d AND r.channel = u.c AND r.ts > " +
                pg::ts_from_ms("u.t") + " ORDER BY r.ts LIMIT " + rewrite +
                ") x) FROM unnest($1::text[], $2::smallint[], $3::bigint[], $4::bigint[]) WITH "
                "ORDINALITY AS u(d, c, f, t, i)",
            text_array(devs), int_array(chs), int_array(a), int_array(b));
        std::vector<Range> windows;  // [from_ms, to_ms) of minutes, per range
        windows.reserve(ranges.size());
        for (const auto& row : bounds) {
            const auto& r = ranges.at(row[0].as<std::size_t>() - 1);
            windows.push_back(
                {r.device, r.channel,
                 floor_minute(std::min(r.from_ms, nullable<std::int64_t>(row[1]).value_or(r.from_ms))),
                 floor_minute(std::max(r.to_ms, nullable<std::int64_t>(row[2]).value_or(r.to_ms))) +
                     MINUTE_MS});
        }

        // Below a retention horizon the rollups are final: never rewrite them from what is left.
        std::map<std::pair<std::string, int>, std::optional<std::int64_t>> freeze;
        for (const auto& row :
             tx.exec_params("SELECT DISTINCT device_id, channel FROM retention_horizon WHERE "
                            "device_id = ANY($1::text[])",
                            text_array(devs))) {
            const auto dev = row[0].as<std::string>();
            const auto ch = row[1].as<int>();
            freeze[{dev, ch}] = frozen_before(tx, dev, ch);
        }
        if (!freeze.empty()) {
            std::vector<Range> kept;
            for (auto& w : windows) {
                const auto it = freeze.find({w.device, w.channel});
                if (it != freeze.end() && it->second && w.from_ms < *it->second) {
                    ++frozen_in_call;
                    if (w.to_ms <= *it->second) continue;
                    w.from_ms = *it->second;
                }
                kept.push_back(std::move(w));
            }
            windows = std::move(kept);
        }
        // Windows of a channel that overlap are merged: each minute is computed once.
        std::sort(windows.begin(), windows.end(), [](const Range& x, const Range& y) {
            return std::tie(x.device, x.channel, x.from_ms) < std::tie(y.device, y.channel, y.from_ms);
        });
        {
            std::vector<Range> merged;
            for (auto& w : windows) {
                if (!merged.empty() && merged.back().device == w.device &&
                    merged.back().channel == w.channel && w.from_ms <= merged.back().to_ms)
                    merged.back().to_ms = std::max(merged.back().to_ms, w.to_ms);
                else
                    merged.push_back(std::move(w));
            }
            windows = std::move(merged);
        }
        if (windows.empty()) return std::size_t{0};
        if (abandoned()) return std::nullopt;

        // The readings of every window with LOAD readings of context on each side, in one query.
        devs.clear();
        chs.clear();
        a.clear();
        b.clear();
        for (const auto& w : windows) {
            devs.push_back(w.device);
            chs.push_back(w.channel);
            a.push_back(w.from_ms);
            b.push_back(w.to_ms);
        }
        const std::string dev_ch = "r.device_id = u.d AND r.channel = u.c";
        std::vector<std::vector<RollupSample>> samples(windows.size());
        // Binary COPY out (BinaryCopyOut): as text through exec_params, a year of readings took
        // 1.1 to 1.8 s to read (formatting and parsing doubles and the numeric epoch of every
        // ts), binary 0.5 to 0.8 s. ts comes as a timestamptz and is turned into epoch ms on
        // the client. COPY takes no parameters: the arrays are quoted literals.
        const std::string cols = "r.ts, r.power_w, r.energy_wh, CASE r.counter_unit WHEN 'Wmin' "
                                 "THEN r.counter_raw / 60 ELSE r.counter_raw END AS raw";
        const std::string load = std::to_string(RollupContext::LOAD);
        BinaryCopyOut rows(
            tx, "SELECT u.i, s.ts, s.power_w, s.energy_wh, s.raw FROM unnest(" +
                    tx.quote(text_array(devs)) + "::text[], " + tx.quote(int_array(chs)) +
                    "::smallint[], " + tx.quote(int_array(a)) + "::bigint[], " +
                    tx.quote(int_array(b)) +
                    "::bigint[]) WITH ORDINALITY AS u(d, c, a, b, i) CROSS JOIN LATERAL ((SELECT " +
                    cols + " FROM readings r WHERE " + dev_ch + " AND r.ts < " +
                    pg::ts_from_ms("u.a") + " ORDER BY r.ts DESC LIMIT " + load +
                    ") UNION ALL (SELECT " + cols + " FROM readings r WHERE " + dev_ch +
                    " AND r.ts >= " + pg::ts_from_ms("u.a") + " AND r.ts < " +
                    pg::ts_from_ms("u.b") + ") UNION ALL (SELECT " + cols + " FROM readings r WHERE " +
                    dev_ch + " AND r.ts >= " + pg::ts_from_ms("u.b") + " ORDER BY r.ts LIMIT " +
                    load + ")) s");
        while (rows.next())
            samples.at(static_cast<std::size_t>(rows.int8(0) - 1))
                .push_back({rows.timestamptz_ms(1), rows.nullable_float8(2), rows.nullable_float8(3),
                            rows.nullable_float8(4)});
        if (abandoned()) return std::nullopt;

        tx.exec_params0("DELETE FROM energy_minute m USING unnest($1::text[], $2::smallint[], "
                        "$3::bigint[], $4::bigint[]) AS u(d, c, a, b) WHERE m.device_id = u.d AND "
                        "m.channel = u.c AND m.bucket_start >= " + pg::ts_from_ms("u.a") +
                            " AND m.bucket_start < " + pg::ts_from_ms("u.b"),
                        text_array(devs), int_array(chs), int_array(a), int_array(b));
        std::size_t written = 0;
        {
            BinaryCopy copy(tx, "energy_minute",
                            {"device_id", "channel", "bucket_start", "bucket_end", "energy_wh",
                             "energy_integrated_wh", "counter_s", "covered_s", "bridged_s",
                             "sum_w_s", "power_s", "min_w", "max_w", "samples", "first_ts",
                             "last_ts", "resets"});
            for (std::size_t i = 0; i < windows.size(); ++i) {
                auto& s = samples[i];
                std::sort(s.begin(), s.end(), [](const RollupSample& x, const RollupSample& y) {
                    return x.ts_ms < y.ts_ms;
                });
                const auto& w = windows[i];
                const auto minutes = compute_minutes(s, w.from_ms, w.to_ms, opt.params);
                s = {};
                for (const auto& m : minutes) {
                    copy.row(17);
                    copy.text(w.device);
                    copy.int2(static_cast<std::int16_t>(w.channel));
                    copy.timestamptz(m.start_ms);
                    copy.timestamptz(m.start_ms + MINUTE_MS);
                    copy.float8(m.energy_wh);
                    copy.float8(m.energy_integrated_wh);
                    copy.float8(m.counter_s);
                    copy.float8(m.covered_s);
                    copy.float8(m.bridged_s);
                    copy.float8(m.sum_w_s);
                    copy.float8(m.power_s);
                    copy.float8(m.min_w);
                    copy.float8(m.max_w);
                    copy.int4(m.samples);
                    copy.timestamptz(m.first_ts_ms);
                    copy.timestamptz(m.last_ts_ms);
                    copy.int4(m.resets);
                }
                written += minutes.size();
            }
            copy.complete();
        }
        if (abandoned()) return std::nullopt;

        // Hours, days, weeks and months above every window: one DELETE and one INSERT per tier.
        tx.exec_params("SELECT intelergy_rollup_parents_many($1::text[], $2::smallint[], "
                       "ARRAY(SELECT " + pg::ts_from_ms("x") +
                           " FROM unnest($3::bigint[]) WITH ORDINALITY AS t(x, o) ORDER BY o), "
                           "ARRAY(SELECT " + pg::ts_from_ms("x") +
                           " FROM unnest($4::bigint[]) WITH ORDINALITY AS t(x, o) ORDER BY o))",
                       text_array(devs), int_array(chs), int_array(a), int_array(b));
        return written;
    }

    // The first minute of a channel that may be rewritten (epoch ms), if retention purged any of
    // its data: minutes whose context reaches before the readings horizon are final (from the
    // REWRITE-th reading at or after it on), and so are hours before the minute horizon (+1 h,
    // so that an hour rebuilt from minutes has all of them). nullopt: nothing is frozen.
    std::optional<std::int64_t> frozen_before(pqxx::work& tx, const std::string& device, int ch) {
        const auto rows = tx.exec_params(
            "SELECT tier, " + pg::ms_from_ts("horizon") +
                " FROM retention_horizon WHERE device_id = $1 AND channel = $2",
            device, ch);
        std::optional<std::int64_t> freeze;
        for (const auto& row : rows) {
            const auto tier = row[0].as<std::string>();
            const auto h = row[1].as<std::int64_t>();
            std::int64_t f = h;
            if (tier == "minute") {
                f = h + HOUR_MS;
            } else {
                const auto g = tx.exec_params(
                    "SELECT " + pg::ms_from_ts("ts") +
                        " FROM readings WHERE device_id = $1 AND channel = $2 AND ts >= " +
                        pg::ts_from_ms("$3") + " ORDER BY ts OFFSET " +
                        std::to_string(RollupContext::REWRITE) + " LIMIT 1",
                    device, ch, h);
                if (!g.empty()) f = std::max(f, floor_minute(g[0][0].as<std::int64_t>()));
            }
            freeze = std::max(freeze.value_or(f), f);
        }
        return freeze;
    }

    void log_frozen(const char* what) {
        if (frozen_in_call == 0) return;
        log->warn("store rollup {} skipped ranges={} reason=before the retention horizon (rollups "
                  "there are final; readings there are dropped by the next retention run)",
                  what, frozen_in_call);
        std::lock_guard lock(mu);
        st.frozen_ranges += frozen_in_call;
        frozen_in_call = 0;
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
            // All the claimed ranges at once, whatever the number of devices. Abandoned by
            // stop(): the transaction rolls back, the claimed marks are not consumed.
            if (stopping.load()) return std::size_t{0};
            const auto written = recompute_ranges(tx, ranges);
            if (!written) return std::size_t{0};
            const std::size_t minutes = *written;
            const auto left = tx.exec1("SELECT count(*), " + pg::ms_from_ts("min(from_ts)") +
                                       " FROM rollup_dirty");
            tx.commit();
            log_frozen("pass");
            update_lag(left[0].as<std::size_t>(), nullable<std::int64_t>(left[1]));
            std::lock_guard lock(mu);
            last_pass_full = claimed.size() >= opt.claims_per_pass;
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
            // One transaction per chunk, all channels together.
            for (std::int64_t a = from_ms; a < to_ms; a += chunk_ms) {
                std::vector<Range> ranges;
                for (const int ch : channels)
                    ranges.push_back({device, ch, a, std::min(to_ms, a + chunk_ms) - 1});
                pqxx::work tx(connection());
                const auto n = recompute_ranges(tx, ranges);
                if (!n) return make_error(ErrorCode::Internal, "stopped", "rollup/recompute");
                tx.commit();
                std::lock_guard lock(mu);
                st.ranges += ranges.size();
                st.minutes_written += *n;
            }
            log_frozen("recompute");
            return {};
        });
    }

    // Drops whole readings partitions that end at least readings_days before now, and deletes
    // minute rows older than minutes_days; neither reaches what a pending dirty mark may still
    // need. Records per channel the horizon below which that channel's rollups are now final.
    Result<RetentionOutcome> retention(SysTime now) {
        std::lock_guard work(work_mu);
        const auto& ro = opt.retention;
        const std::int64_t now_ms = now.time_since_epoch().count();
        RetentionOutcome out;
        auto r = guarded("rollup/retention", [&]() -> Status {
            auto& c = connection();
            if (ro.readings) {
                const std::int64_t cut = now_ms - ro.readings->count() * DAY_MS;
                // Candidates and their rows per channel, counted before the lock so that the
                // writer is not held up by the scans.
                struct Part {
                    std::string name;
                    std::int64_t end_ms;
                };
                std::vector<Part> parts;
                std::map<std::string, std::vector<std::pair<std::string, int>>> channels;
                std::map<std::string, std::uint64_t> rows;
                {
                    pqxx::read_transaction tx(c);
                    for (const auto& row : tx.exec_params(
                             "SELECT c.relname, " + pg::ms_from_ts("b.e") +
                                 " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                                 "CROSS JOIN LATERAL (SELECT (to_date(substr(c.relname, 10), "
                                 "'YYYYMM') + interval '1 month')::timestamp AT TIME ZONE 'UTC' "
                                 "AS e) b WHERE i.inhparent = 'readings'::regclass AND c.relname "
                                 "~ '^readings_[0-9]{6}$' AND b.e <= " +
                                 pg::ts_from_ms("$1") + " ORDER BY b.e",
                             cut))
                        parts.push_back({row[0].as<std::string>(), row[1].as<std::int64_t>()});
                    for (const auto& p : parts)
                        for (const auto& row : tx.exec("SELECT device_id, channel, count(*) FROM " +
                                                       tx.quote_name(p.name) + " GROUP BY 1, 2")) {
                            channels[p.name].emplace_back(row[0].as<std::string>(), row[1].as<int>());
                            rows[p.name] += row[2].as<std::uint64_t>();
                        }
                }
                if (!parts.empty()) {
                    pqxx::work tx(c);
                    tx.exec0("SET LOCAL lock_timeout = '" + std::to_string(ro.lock_timeout.count()) +
                             "s'");
                    // Writers wait while this transaction runs, so the pending marks read below
                    // cannot change under it.
                    tx.exec0("LOCK TABLE readings IN ACCESS EXCLUSIVE MODE");
                    const auto need = pending_need(tx);
                    for (const auto& p : parts) {
                        if (need && p.end_ms > *need) {
                            ++out.partitions_kept_unrolled;
                            continue;
                        }
                        tx.exec0("DROP TABLE " + tx.quote_name(p.name));
                        out.partitions_dropped.push_back(p.name);
                        out.readings_deleted += rows[p.name];
                        for (const auto& [dev, ch] : channels[p.name])
                            tx.exec_params0(
                                "INSERT INTO retention_horizon (device_id, channel, tier, horizon) "
                                "VALUES ($1, $2, 'readings', " + pg::ts_from_ms("$3") +
                                    ") ON CONFLICT (device_id, channel, tier) DO UPDATE SET "
                                    "horizon = greatest(retention_horizon.horizon, "
                                    "EXCLUDED.horizon), applied_at = now()",
                                dev, ch, p.end_ms);
                        out.readings_horizon = SysTime(std::chrono::milliseconds(p.end_ms));
                    }
                    tx.commit();
                }
            }
            if (ro.minutes) {
                pqxx::work tx(c);
                std::int64_t cut = floor_hour(now_ms - ro.minutes->count() * DAY_MS);
                // An hour that pending work rebuilds must still find all its minutes.
                if (const auto need = pending_need(tx)) cut = std::min(cut, floor_hour(*need) - HOUR_MS);
                const auto purged = tx.exec_params(
                    "WITH d AS (DELETE FROM energy_minute WHERE bucket_start < " +
                        pg::ts_from_ms("$1") +
                        " RETURNING device_id, channel), g AS (SELECT device_id, channel, count(*) "
                        "AS n FROM d GROUP BY 1, 2), h AS (INSERT INTO retention_horizon "
                        "(device_id, channel, tier, horizon) SELECT device_id, channel, 'minute', " +
                        pg::ts_from_ms("$1") +
                        " FROM g ON CONFLICT (device_id, channel, tier) DO UPDATE SET horizon = "
                        "greatest(retention_horizon.horizon, EXCLUDED.horizon), applied_at = "
                        "now()) SELECT coalesce(sum(n), 0) FROM g",
                    cut);
                out.minutes_deleted = purged[0][0].as<std::uint64_t>();
                if (out.minutes_deleted > 0)
                    out.minutes_horizon = SysTime(std::chrono::milliseconds(cut));
                tx.commit();
            }
            return {};
        });
        if (!r) return r.error();
        std::string dropped;
        for (const auto& p : out.partitions_dropped) dropped += (dropped.empty() ? "" : ",") + p;
        log->info("store retention partitions_dropped={} readings_deleted={} minutes_deleted={} "
                  "partitions_kept_unrolled={}{}{}",
                  out.partitions_dropped.size(), out.readings_deleted, out.minutes_deleted,
                  out.partitions_kept_unrolled, dropped.empty() ? "" : " partitions=", dropped);
        std::lock_guard lock(mu);
        ++st.retention_runs;
        st.partitions_dropped += out.partitions_dropped.size();
        st.readings_purged += out.readings_deleted;
        st.minutes_purged += out.minutes_deleted;
        return out;
    }

    void maybe_retention() {
        if (!opt.retention.enabled()) return;
        const auto steady = clock.steady();
        if (last_retention && steady - *last_retention < opt.retention.interval) return;
        last_retention = steady;
        if (auto r = retention(clock.now()); !r)
            log->warn("store retention failed err={} (retried in {} min)", r.error().describe(),
                      opt.retention.interval.count());
    }

    // Readings partitions for this month and the next opt.partitions_ahead, at start and then
    // every 6 hours: cheap (CREATE … IF NOT EXISTS), and never re-creates a dropped old month.
    void maybe_partitions() {
        const auto steady = clock.steady();
        if (last_partitions && steady - *last_partitions < std::chrono::hours(6)) return;
        try {
            std::lock_guard work(work_mu);
            pqxx::work tx(connection());
            tx.exec_params("SELECT intelergy_ensure_partitions(" + pg::ts_from_ms("$1") + ", $2)",
                           pg::epoch_ms_text(clock.now()), opt.partitions_ahead);
            tx.commit();
            last_partitions = steady;
            std::lock_guard lock(mu);
            ++st.partition_checks;
        } catch (const std::exception& e) {
            log->warn("store readings partitions ahead not created err={} (retried)", e.what());
            last_partitions = steady - std::chrono::hours(6) + std::chrono::minutes(1);
        }
    }

    void run() noexcept {
        bool failing = false;
        for (;;) {
            try {
                // Passes follow each other at once only while a backlog lasts (a full pass).
                // Otherwise the next pass waits for poll_interval and takes every mark made in
                // between: each pass rewrites the parent rows of every device it touches, so
                // one pass per writer batch kept PostgreSQL rolling up the same open minutes,
                // hours and days back to back under a steady ingest (bench/RESULTS.md).
                auto r = pass();
                const auto backlog = [&] {
                    std::lock_guard lock(mu);
                    return !quit && last_pass_full;
                };
                while (r && *r > 0 && backlog()) r = pass();
                // One line per change of state, not one per second through an outage.
                if (!r) {
                    if (!failing) log->warn("store rollup pass failed err={}", r.error().describe());
                    failing = true;
                } else {
                    if (failing) log->info("store rollup passes work again");
                    failing = false;
                    if (!stopping.load()) maybe_partitions();
                    if (!stopping.load()) maybe_retention();
                }
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
    impl_->stopping = false;
    impl_->thread = std::thread([this] { impl_->run(); });
}

void RollupWorker::stop() {
    {
        std::lock_guard lock(impl_->mu);
        impl_->quit = true;
        impl_->stopping = true;
        impl_->wake.notify_all();
    }
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->stopping = false;  // process_pending() and recompute() on this worker still work
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

Result<RetentionOutcome> RollupWorker::apply_retention(SysTime now) {
    return impl_->retention(now);
}

RollupWorkerStats RollupWorker::stats() const {
    std::lock_guard lock(impl_->mu);
    return impl_->st;
}

}  // namespace intelergy::store
