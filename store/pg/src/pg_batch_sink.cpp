// The PostgreSQL BatchSink: one transaction per batch (COPY to staging, insert-or-ignore,
// energy books, dirty rollup marks, partitions).
#include <charconv>
#include <cmath>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <tuple>

#include "intelergy/store/reading_writer.hpp"
#include "pg_common.hpp"

namespace intelergy::store {

namespace {

// Shortest text that parses back to the same double.
std::string num(double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, r.ptr);
}

const char* opt_ptr(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

// Non-finite measurements are stored as NULL (unknown).
std::optional<std::string> opt_num(const std::optional<double>& v) {
    if (!v || !std::isfinite(*v)) return std::nullopt;
    return num(*v);
}

// Months as yyyymm (UTC) for the partition cache.
int month_key(SysTime t) {
    const auto days = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::year_month_day ymd{days};
    return static_cast<int>(ymd.year()) * 100 + static_cast<int>(static_cast<unsigned>(ymd.month()));
}

class PgBatchSink final : public BatchSink {
public:
    explicit PgBatchSink(std::string dsn) : dsn_(std::move(dsn)) {}

    Result<BatchOutcome> write(const WriteBatch& batch) override {
        bool broken = false;
        auto out = pg::guarded("readings/write", broken, [&]() -> Result<BatchOutcome> {
            return write_once(batch);
        });
        if (broken || !out) conn_.reset();  // a failed COPY can leave the connection unusable
        return out;
    }

private:
    pqxx::connection& connection() {
        if (!conn_ || !conn_->is_open()) {
            conn_ = std::make_unique<pqxx::connection>(dsn_);
            pqxx::nontransaction tx(*conn_);
            tx.exec0(
                "CREATE TEMP TABLE IF NOT EXISTS readings_stage (device_id text, channel "
                "smallint, ts_ms bigint, power_w float8, voltage_v float8, current_a float8, "
                "temperature_c float8, relay boolean, counter_raw float8, counter_unit text, "
                "energy_wh float8) ON COMMIT DELETE ROWS");
            partitions_.clear();
        }
        return *conn_;
    }

    Result<BatchOutcome> write_once(const WriteBatch& batch) {
        auto& c = connection();
        pqxx::work tx(c);
        std::set<int> fresh;
        for (const auto& r : batch.readings) {
            const int key = month_key(r.ts);
            if (partitions_.count(key) == 0 && fresh.insert(key).second)
                tx.exec_params("SELECT intelergy_ensure_partitions(" + pg::ts_from_ms("$1") +
                                   ", 0)",
                               pg::epoch_ms_text(r.ts));
        }
        BatchOutcome outcome;
        if (!batch.readings.empty()) {
            {
                pqxx::stream_to copy(tx, "readings_stage",
                                     std::vector<std::string>{"device_id", "channel", "ts_ms",
                                                              "power_w", "voltage_v", "current_a",
                                                              "temperature_c", "relay",
                                                              "counter_raw", "counter_unit",
                                                              "energy_wh"});
                for (const auto& r : batch.readings) {
                    const std::string ch = std::to_string(r.channel);
                    const std::string ts = pg::epoch_ms_text(r.ts);
                    const auto p = opt_num(r.power_w), v = opt_num(r.voltage_v),
                               a = opt_num(r.current_a), t = opt_num(r.temperature_c),
                               raw = opt_num(r.counter_raw), e = opt_num(r.energy_wh);
                    const std::optional<std::string> relay =
                        r.relay ? std::optional<std::string>(*r.relay ? "t" : "f") : std::nullopt;
                    const std::optional<std::string> unit =
                        r.counter_raw ? std::optional<std::string>(
                                            r.counter_unit == CounterUnit::WattMinute ? "Wmin" : "Wh")
                                      : std::nullopt;
                    copy << std::make_tuple(r.device_id.c_str(), ch.c_str(), ts.c_str(), opt_ptr(p),
                                            opt_ptr(v), opt_ptr(a), opt_ptr(t), opt_ptr(relay),
                                            opt_ptr(raw), opt_ptr(unit), opt_ptr(e));
                }
                copy.complete();
            }
            // Insert-or-ignore; only rows really inserted mark their minutes dirty (grouped by
            // UTC hour so a late reading does not dirty everything in between).
            const auto row = tx.exec1(
                "WITH ins AS (INSERT INTO readings (device_id, channel, ts, power_w, voltage_v, "
                "current_a, temperature_c, relay, counter_raw, counter_unit, energy_wh) "
                "SELECT device_id, channel, " + pg::ts_from_ms("ts_ms") +
                ", power_w, voltage_v, current_a, temperature_c, relay, counter_raw, "
                "counter_unit, energy_wh FROM readings_stage "
                "ON CONFLICT (device_id, channel, ts) DO NOTHING RETURNING device_id, channel, ts), "
                "dirty AS (INSERT INTO rollup_dirty (device_id, channel, from_ts, to_ts) "
                "SELECT device_id, channel, min(ts), max(ts) FROM ins "
                "GROUP BY device_id, channel, date_trunc('hour', ts, 'UTC') RETURNING 1) "
                "SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM dirty)");
            outcome.inserted = row[0].as<std::size_t>();
            outcome.duplicates = batch.readings.size() - outcome.inserted;
        }
        for (const auto& b : batch.books) {
            const std::optional<std::string> ts =
                b.last_ts ? std::optional<std::string>(pg::epoch_ms_text(*b.last_ts)) : std::nullopt;
            tx.exec_params0(
                "INSERT INTO energy_books (device_id, channel, last_raw_wh, offset_wh, "
                "lifetime_wh, last_ts, pending_rejects, updated_at) SELECT $1, $2, $3, $4, $5, " +
                    pg::ts_from_ms("$6") +
                    ", $7, now() WHERE EXISTS (SELECT 1 FROM devices WHERE id = $1) "
                    "ON CONFLICT (device_id, channel) DO UPDATE SET last_raw_wh = "
                    "EXCLUDED.last_raw_wh, offset_wh = EXCLUDED.offset_wh, lifetime_wh = "
                    "greatest(energy_books.lifetime_wh, EXCLUDED.lifetime_wh), last_ts = "
                    "EXCLUDED.last_ts, pending_rejects = EXCLUDED.pending_rejects, updated_at = "
                    "now()",
                b.device_id, b.channel, b.last_raw_wh, b.offset_wh, b.lifetime_wh, ts,
                b.pending_rejects);
        }
        tx.commit();
        partitions_.insert(fresh.begin(), fresh.end());
        return outcome;
    }

    std::string dsn_;
    std::unique_ptr<pqxx::connection> conn_;
    std::set<int> partitions_;  // months known to exist (valid for this connection's life)
};

}  // namespace

std::unique_ptr<BatchSink> make_pg_batch_sink(std::string dsn) {
    return std::make_unique<PgBatchSink>(std::move(dsn));
}

}  // namespace intelergy::store
