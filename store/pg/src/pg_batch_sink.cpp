// The PostgreSQL BatchSink: one transaction per batch (readings, energy books, dirty rollup
// marks, partitions).
//
// Readings take one of two paths, chosen per batch, with the same result:
//  - fast: the batch has no key twice and no stored reading lies inside the time range of any of
//    its device channels (one indexed probe per device channel), so every row is new. The rows
//    are COPied straight into `readings`, and the dirty marks, computed here, follow in one
//    statement. This is the normal case for live readings, which are newer than anything stored.
//  - careful: COPY into the temporary `readings_stage`, then INSERT ... ON CONFLICT DO NOTHING
//    RETURNING, so a reading delivered twice is stored once and only the rows really inserted
//    mark their minutes dirty. Used for redelivered, late and out-of-order readings.
// A concurrent writer can still store a conflicting row between the probe and the COPY; the
// COPY then fails with a unique violation and the batch is written again on the careful path.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <pqxx/pqxx>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "intelergy/store/reading_writer.hpp"
#include "pg_common.hpp"

namespace intelergy::store {

namespace {

constexpr std::int64_t MS_PER_HOUR = 3'600'000;
constexpr std::int64_t MS_PER_DAY = 86'400'000;

std::int64_t epoch_ms(SysTime t) { return t.time_since_epoch().count(); }

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    const std::int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// One COPY text field, formatted into a fixed buffer (no allocation). null() → \N.
class Field {
public:
    [[nodiscard]] const char* get() const { return null_ ? nullptr : buf_; }

    void set_null() { null_ = true; }

    void set_text(const char* s) {
        const std::size_t n = std::char_traits<char>::length(s);
        std::copy_n(s, n, buf_);
        buf_[n] = '\0';
        null_ = false;
    }

    template <typename Int>
    void set_int(Int v) {
        const auto r = std::to_chars(buf_, buf_ + sizeof(buf_) - 1, v);
        *r.ptr = '\0';
        null_ = false;
    }

    // Shortest text that parses back to the same double; non-finite values are unknown (NULL).
    void set_num(const std::optional<double>& v) {
        if (!v || !std::isfinite(*v)) {
            null_ = true;
            return;
        }
        const auto r = std::to_chars(buf_, buf_ + sizeof(buf_) - 1, *v);
        *r.ptr = '\0';
        null_ = false;
    }

    // Exact timestamptz text, UTC: "2026-01-05 00:00:10.123+00".
    void set_ts(std::int64_t ms) {
        const std::int64_t days = floor_div(ms, MS_PER_DAY);
        const std::int64_t in_day = ms - days * MS_PER_DAY;
        const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
        const int y = static_cast<int>(ymd.year());
        if (y < 1 || y > 9999) throw std::out_of_range("reading timestamp out of range");
        char* p = buf_;
        auto put = [&p](std::int64_t v, int width) {
            for (int i = width - 1; i >= 0; --i) {
                p[i] = static_cast<char>('0' + v % 10);
                v /= 10;
            }
            p += width;
        };
        put(y, 4);
        *p++ = '-';
        put(static_cast<unsigned>(ymd.month()), 2);
        *p++ = '-';
        put(static_cast<unsigned>(ymd.day()), 2);
        *p++ = ' ';
        put(in_day / MS_PER_HOUR, 2);
        *p++ = ':';
        put(in_day / 60'000 % 60, 2);
        *p++ = ':';
        put(in_day / 1000 % 60, 2);
        *p++ = '.';
        put(in_day % 1000, 3);
        *p++ = '+';
        *p++ = '0';
        *p++ = '0';
        *p = '\0';
        null_ = false;
    }
private:
    char buf_[40]{};
    bool null_{true};
};

// The text fields of one reading in `readings` column order (ts as timestamptz text).
struct RowText {
    Field ch, ts, p, v, a, t, relay, raw, unit, e;

    void fill(const Reading& r) {
        ch.set_int(static_cast<int>(r.channel));
        ts.set_ts(epoch_ms(r.ts));
        p.set_num(r.power_w);
        v.set_num(r.voltage_v);
        a.set_num(r.current_a);
        t.set_num(r.temperature_c);
        if (r.relay) relay.set_text(*r.relay ? "t" : "f");
        else relay.set_null();
        raw.set_num(r.counter_raw);
        if (r.counter_raw) unit.set_text(r.counter_unit == CounterUnit::WattMinute ? "Wmin" : "Wh");
        else unit.set_null();
        e.set_num(r.energy_wh);
    }
};

// A double as an SQL float8 literal (books are never NULL here).
std::string float8(double v) {
    if (std::isnan(v)) return "'NaN'::float8";
    if (std::isinf(v)) return v > 0 ? "'Infinity'::float8" : "'-Infinity'::float8";
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    return "'" + std::string(buf, r.ptr) + "'::float8";
}

// Months as yyyymm (UTC) for the partition cache.
int month_key(std::int64_t ms) {
    const std::chrono::year_month_day ymd{
        std::chrono::sys_days{std::chrono::days{floor_div(ms, MS_PER_DAY)}}};
    return static_cast<int>(ymd.year()) * 100 + static_cast<int>(static_cast<unsigned>(ymd.month()));
}

// The batch sorted by (device, channel, ts): duplicates within the batch, the time range of
// each device channel, and the dirty marks (min/max ts per device, channel and UTC hour).
struct BatchShape {
    struct Range {
        const std::string* device;
        int channel;
        std::int64_t from_ms, to_ms;
    };
    bool has_internal_duplicates{false};
    std::vector<Range> channels;  // one per device channel
    std::vector<Range> marks;     // one per device channel and UTC hour

    explicit BatchShape(const std::vector<Reading>& rs) {
        std::vector<std::uint32_t> order(rs.size());
        std::iota(order.begin(), order.end(), 0U);
        std::sort(order.begin(), order.end(), [&](std::uint32_t x, std::uint32_t y) {
            const auto& a = rs[x];
            const auto& b = rs[y];
            if (const int c = a.device_id.compare(b.device_id); c != 0) return c < 0;
            if (a.channel != b.channel) return a.channel < b.channel;
            return a.ts < b.ts;
        });
        const Reading* prev = nullptr;
        for (const auto i : order) {
            const auto& r = rs[i];
            const auto ms = epoch_ms(r.ts);
            const bool same_channel =
                prev != nullptr && prev->channel == r.channel && prev->device_id == r.device_id;
            if (same_channel && prev->ts == r.ts) has_internal_duplicates = true;
            if (same_channel) {
                channels.back().to_ms = ms;
                if (floor_div(marks.back().from_ms, MS_PER_HOUR) == floor_div(ms, MS_PER_HOUR))
                    marks.back().to_ms = ms;
                else
                    marks.push_back({&r.device_id, r.channel, ms, ms});
            } else {
                channels.push_back({&r.device_id, r.channel, ms, ms});
                marks.push_back({&r.device_id, r.channel, ms, ms});
            }
            prev = &r;
        }
    }
};

const std::vector<std::string> READING_COLUMNS{"device_id", "channel",   "ts",
                                               "power_w",   "voltage_v", "current_a",
                                               "temperature_c", "relay", "counter_raw",
                                               "counter_unit",  "energy_wh"};

class PgBatchSink final : public BatchSink {
public:
    explicit PgBatchSink(std::string dsn) : dsn_(std::move(dsn)) {}

    Result<BatchOutcome> write(const WriteBatch& batch) override {
        bool broken = false;
        auto out = pg::guarded("readings/write", broken, [&]() -> Result<BatchOutcome> {
            try {
                return write_once(batch, true);
            } catch (const pqxx::unique_violation&) {
                // Another writer stored one of these readings after the probe: the careful path.
                conn_.reset();
                return write_once(batch, false);
            }
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
                "smallint, ts timestamptz, power_w float8, voltage_v float8, current_a float8, "
                "temperature_c float8, relay boolean, counter_raw float8, counter_unit text, "
                "energy_wh float8) ON COMMIT DELETE ROWS");
            partitions_.clear();
        }
        return *conn_;
    }

    // COPY the readings into `table` (readings or readings_stage: same columns).
    static void copy_rows(pqxx::work& tx, const std::string& table, const std::vector<Reading>& rs) {
        pqxx::stream_to copy(tx, table, READING_COLUMNS);
        RowText f;
        for (const auto& r : rs) {
            f.fill(r);
            copy << std::make_tuple(r.device_id.c_str(), f.ch.get(), f.ts.get(), f.p.get(),
                                    f.v.get(), f.a.get(), f.t.get(), f.relay.get(), f.raw.get(),
                                    f.unit.get(), f.e.get());
        }
        copy.complete();
    }

    // Does any stored reading lie inside the batch's time range of one of its device channels?
    static bool overlaps_stored(pqxx::work& tx, const BatchShape& shape) {
        std::string values;
        values.reserve(shape.channels.size() * 64);
        for (const auto& c : shape.channels) {
            if (!values.empty()) values += ',';
            values += '(' + tx.quote(*c.device) + ',' + std::to_string(c.channel) + ',' +
                      std::to_string(c.from_ms) + ',' + std::to_string(c.to_ms) + ')';
        }
        const auto row = tx.exec1(
            "SELECT EXISTS (SELECT 1 FROM (VALUES " + values +
            ") AS k(device_id, channel, lo, hi) WHERE EXISTS (SELECT 1 FROM readings r WHERE "
            "r.device_id = k.device_id AND r.channel = k.channel AND r.ts BETWEEN " +
            pg::ts_from_ms("k.lo") + " AND " + pg::ts_from_ms("k.hi") + "))");
        return row[0].as<bool>();
    }

    static void insert_marks(pqxx::work& tx, const BatchShape& shape) {
        std::string values;
        values.reserve(shape.marks.size() * 96);
        for (const auto& m : shape.marks) {
            if (!values.empty()) values += ',';
            values += '(' + tx.quote(*m.device) + ',' + std::to_string(m.channel) + ',' +
                      pg::ts_from_ms(std::to_string(m.from_ms)) + ',' +
                      pg::ts_from_ms(std::to_string(m.to_ms)) + ')';
        }
        tx.exec0("INSERT INTO rollup_dirty (device_id, channel, from_ts, to_ts) VALUES " + values);
    }

    // All books of the batch in one statement. Several books of one device channel behave as if
    // upserted in order: the last one's fields, the greatest lifetime.
    static void upsert_books(pqxx::work& tx, const std::vector<EnergyBookRow>& books) {
        std::vector<const EnergyBookRow*> order;
        order.reserve(books.size());
        for (const auto& b : books) order.push_back(&b);
        std::stable_sort(order.begin(), order.end(), [](const auto* x, const auto* y) {
            return std::tie(x->device_id, x->channel) < std::tie(y->device_id, y->channel);
        });
        std::string values;
        for (std::size_t i = 0; i < order.size(); ++i) {
            const auto& b = *order[i];
            double lifetime = b.lifetime_wh;
            std::size_t j = i;
            while (j + 1 < order.size() && order[j + 1]->device_id == b.device_id &&
                   order[j + 1]->channel == b.channel) {
                lifetime = std::max(lifetime, order[++j]->lifetime_wh);
            }
            const auto& last = *order[j];
            lifetime = std::max(lifetime, last.lifetime_wh);
            i = j;
            if (!values.empty()) values += ',';
            values += '(' + tx.quote(last.device_id) + ',' + std::to_string(last.channel) +
                      "::smallint," +
                      (last.last_raw_wh ? float8(*last.last_raw_wh) : std::string("NULL::float8")) +
                      ',' + float8(last.offset_wh) + ',' + float8(lifetime) + ',' +
                      (last.last_ts ? pg::ts_from_ms(std::to_string(epoch_ms(*last.last_ts)))
                                    : std::string("NULL::timestamptz")) +
                      ',' + std::to_string(last.pending_rejects) + ')';
        }
        if (values.empty()) return;
        tx.exec0(
            "INSERT INTO energy_books (device_id, channel, last_raw_wh, offset_wh, lifetime_wh, "
            "last_ts, pending_rejects, updated_at) SELECT b.device_id, b.channel, b.last_raw_wh, "
            "b.offset_wh, b.lifetime_wh, b.last_ts, b.pending_rejects, now() FROM (VALUES " +
            values +
            ") AS b(device_id, channel, last_raw_wh, offset_wh, lifetime_wh, last_ts, "
            "pending_rejects) WHERE EXISTS (SELECT 1 FROM devices WHERE id = b.device_id) "
            "ON CONFLICT (device_id, channel) DO UPDATE SET last_raw_wh = EXCLUDED.last_raw_wh, "
            "offset_wh = EXCLUDED.offset_wh, lifetime_wh = greatest(energy_books.lifetime_wh, "
            "EXCLUDED.lifetime_wh), last_ts = EXCLUDED.last_ts, pending_rejects = "
            "EXCLUDED.pending_rejects, updated_at = now()");
    }

    Result<BatchOutcome> write_once(const WriteBatch& batch, bool allow_fast) {
        auto& c = connection();
        pqxx::work tx(c);
        std::set<int> fresh;
        int last_key = 0;
        for (const auto& r : batch.readings) {
            const int key = month_key(epoch_ms(r.ts));
            if (key == last_key) continue;
            last_key = key;
            if (partitions_.count(key) == 0 && fresh.insert(key).second)
                tx.exec_params("SELECT intelergy_ensure_partitions(" + pg::ts_from_ms("$1") +
                                   ", 0)",
                               pg::epoch_ms_text(r.ts));
        }
        BatchOutcome outcome;
        if (!batch.readings.empty()) {
            const BatchShape shape(batch.readings);
            const bool fast =
                allow_fast && !shape.has_internal_duplicates && !overlaps_stored(tx, shape);
            if (fast) {
                copy_rows(tx, "readings", batch.readings);
                insert_marks(tx, shape);
                outcome.inserted = batch.readings.size();
            } else {
                copy_rows(tx, "readings_stage", batch.readings);
                // Insert-or-ignore; only rows really inserted mark their minutes dirty (grouped
                // by UTC hour so a late reading does not dirty everything in between).
                const auto row = tx.exec1(
                    "WITH ins AS (INSERT INTO readings (device_id, channel, ts, power_w, "
                    "voltage_v, current_a, temperature_c, relay, counter_raw, counter_unit, "
                    "energy_wh) SELECT device_id, channel, ts, power_w, voltage_v, current_a, "
                    "temperature_c, relay, counter_raw, counter_unit, energy_wh FROM "
                    "readings_stage ON CONFLICT (device_id, channel, ts) DO NOTHING RETURNING "
                    "device_id, channel, ts), "
                    "dirty AS (INSERT INTO rollup_dirty (device_id, channel, from_ts, to_ts) "
                    "SELECT device_id, channel, min(ts), max(ts) FROM ins "
                    "GROUP BY device_id, channel, date_trunc('hour', ts, 'UTC') RETURNING 1) "
                    "SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM dirty)");
                outcome.inserted = row[0].as<std::size_t>();
            }
            outcome.duplicates = batch.readings.size() - outcome.inserted;
        }
        upsert_books(tx, batch.books);
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

Result<std::string> pg_database_name(const std::string& dsn) {
    bool broken = false;
    return pg::guarded("spool/database", broken, [&]() -> Result<std::string> {
        pqxx::connection c(dsn);
        pqxx::nontransaction tx(c);
        return tx.exec1("SELECT current_database()")[0].as<std::string>();
    });
}

std::string spool_subdir_for(const std::string& name) {
    bool plain = !name.empty() && name.front() != '.';
    for (const char ch : name) {
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                        (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';
        plain = plain && ok;
    }
    if (plain) return "db-" + name;
    static constexpr char HEX[] = "0123456789abcdef";
    std::string out = "db-x";
    for (const char ch : name) {
        const auto b = static_cast<unsigned char>(ch);
        out += HEX[b >> 4];
        out += HEX[b & 0xFU];
    }
    return out;
}

}  // namespace intelergy::store
