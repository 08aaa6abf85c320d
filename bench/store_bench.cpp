// store_bench: readings/s through ReadingWriter (new rows, then the same rows replayed as
// duplicates) vs a raw `psql \copy` of the same rows, and the time to recompute one device-year
// of minute data vs a raw `psql \copy` of the minute rows it wrote. Each part runs in its own
// throwaway database created from the admin DSN and dropped afterwards.
//
//   store_bench [ADMIN_DSN] [--rows N] [--devices D] [--batch B] [--no-year] [--year-only]
//   store_bench [ADMIN_DSN] --year-query [--devices D] [--runs R]
//   store_bench [ADMIN_DSN] --lag [--devices D] [--seconds S]
//   (ADMIN_DSN defaults to $INTELERGY_TEST_PG_DSN; psql must be on PATH)
//
// --lag is the rollup lag under a steady ingest, without MQTT: D plugs (default 1,000) each
// send one reading a second (D readings/s) through a ReadingWriter with the bridge's options,
// while a RollupWorker thread with the bridge's options rolls them up, for S seconds (default
// 30). Every second it samples the dirty marks waiting and the lag (age of the oldest reading
// not rolled up yet); at the end, the time until no mark is left (bounded: 120 s).
//
// --year-query measures only the query of a year of daily totals for a home of D devices
// (default 50) through PgEnergyHistory::query_energy, the code behind energy/query and
// `intelergy report`: R runs (default 9) of the home's query, and of what `intelergy report
// HOME --by room` asks for (the home and each of its rooms); prints min/median/max.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <pqxx/pqxx>
#include <random>
#include <thread>
#include <unistd.h>
#include <string>
#include <vector>

#include "intelergy/core/time_format.hpp"
#include "intelergy/store/pg_energy_history.hpp"
#include "intelergy/store/pg_store.hpp"
#include "intelergy/store/reading_writer.hpp"
#include "intelergy/store/rollup_worker.hpp"

using namespace intelergy;
using Steady = std::chrono::steady_clock;

namespace {

std::string with_database(const std::string& dsn, const std::string& db) {
    const auto scheme = dsn.find("://");
    const auto slash = dsn.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    const auto query = dsn.find('?');
    const std::string head = slash == std::string::npos ? dsn : dsn.substr(0, slash);
    const std::string tail = query == std::string::npos ? "" : dsn.substr(query);
    return head + "/" + db + tail;
}

class BenchDb {
public:
    BenchDb(std::string admin, const std::string& name) : admin_(std::move(admin)), name_(name) {
        pqxx::connection c(admin_);
        pqxx::nontransaction tx(c);
        tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        tx.exec("CREATE DATABASE " + name_);
        dsn_ = with_database(admin_, name_);
        store::PgStore s(dsn_);
        if (!s.migrate()) throw std::runtime_error("migrate failed");
    }
    ~BenchDb() {
        if (std::getenv("INTELERGY_BENCH_KEEP_DB")) return;  // for EXPLAIN afterwards
        try {
            pqxx::connection c(admin_);
            pqxx::nontransaction tx(c);
            tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        } catch (...) {
        }
    }
    BenchDb(const BenchDb&) = delete;
    BenchDb& operator=(const BenchDb&) = delete;
    [[nodiscard]] const std::string& dsn() const { return dsn_; }

    std::vector<std::string> devices(int n) {
        store::PgStore s(dsn_);
        (void)s.add_user("bench");
        (void)s.add_profile({"bench", "home", "Europe/Berlin", std::nullopt, "", 0});
        (void)s.add_room({"bench", "home", "room", 0});
        std::vector<std::string> ids;
        for (int i = 0; i < n; ++i) {
            store::DeviceRow d;
            d.id = "shelly-bench" + std::to_string(i);
            d.user = "bench";
            d.profile = "home";
            d.room = "room";
            d.name = "plug" + std::to_string(i);
            d.mac = "bench" + std::to_string(i);
            d.model = "bench";
            (void)s.add_device(d);
            ids.push_back(d.id);
        }
        return ids;
    }

private:
    std::string admin_, name_, dsn_;
};

std::vector<Reading> feed(const std::vector<std::string>& devs, std::size_t rows, SysTime start,
                          std::chrono::seconds step) {
    std::vector<Reading> out;
    out.reserve(rows);
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> w(0, 2000);
    std::vector<double> wh(devs.size(), 0);
    for (std::size_t i = 0; out.size() < rows; ++i) {
        for (std::size_t d = 0; d < devs.size() && out.size() < rows; ++d) {
            Reading r;
            r.device_id = devs[d];
            r.ts = start + step * static_cast<long>(i);
            r.power_w = w(rng);
            wh[d] += *r.power_w * static_cast<double>(step.count()) / 3600.0;
            r.energy_wh = wh[d];
            r.voltage_v = 230.1;
            r.current_a = *r.power_w / 230.1;
            r.relay = true;
            out.push_back(std::move(r));
        }
    }
    return out;
}

// Runs one psql meta-command (a `\copy`) against `dsn`; true when it succeeded.
bool psql_command(const std::string& dsn, const std::string& meta) {
    return std::system(("psql -q -v ON_ERROR_STOP=1 '" + dsn + "' -c \"" + meta + "\"").c_str()) == 0;
}

double seconds_since(Steady::time_point t0) {
    return std::chrono::duration<double>(Steady::now() - t0).count();
}

struct Spread {
    double min, median, max;
};

Spread spread(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return {v.front(), v[v.size() / 2], v.back()};
}

// A year of daily totals for a home of `devices` plugs in 5 rooms (Europe/Berlin, 2026).
// The hour rows of every plug for the whole year are generated in SQL (a different energy
// each hour); the days, ISO weeks and months above them are built by the rollup SQL
// (intelergy_rollup_tier), as the rollup worker does. Readings and minutes are not generated:
// the query reads only the day tier.
int year_query(const std::string& admin, int devices, int runs) {
    BenchDb db(admin, "intelergy_bench_year_query");
    const int rooms = 5;
    {
        store::PgStore s(db.dsn());
        (void)s.add_user("bench");
        (void)s.add_profile({"bench", "home", "Europe/Berlin", std::nullopt, "", 0});
        for (int r = 0; r < rooms; ++r) (void)s.add_room({"bench", "home", "room" + std::to_string(r), 0});
        for (int i = 0; i < devices; ++i) {
            store::DeviceRow d;
            d.id = "shelly-yq" + std::to_string(i);
            d.user = "bench";
            d.profile = "home";
            d.room = "room" + std::to_string(i % rooms);
            d.name = "plug" + std::to_string(i);
            d.mac = "yq" + std::to_string(i);
            d.model = "bench";
            if (auto a = s.add_device(d); !a) {
                std::cerr << "add_device: " << a.error().describe() << "\n";
                return 1;
            }
        }
    }
    const char* y0 = "2025-12-31T23:00:00Z";  // 2026-01-01 00:00 Europe/Berlin
    const char* y1 = "2026-12-31T23:00:00Z";  // 2027-01-01 00:00
    double truth_wh = 0;
    {
        pqxx::connection c(db.dsn());
        pqxx::work tx(c);
        const auto t0 = Steady::now();
        tx.exec0(std::string(
            "INSERT INTO energy_hour SELECT d.id, 0, h, h + interval '1 hour', e, e, 3600, 3600, "
            "0, e * 3600, 3600, e / 2, e * 2, 360, h, h + interval '3590 seconds', 0 FROM devices d "
            "CROSS JOIN generate_series('") + y0 + "'::timestamptz, '" + y1 +
            "'::timestamptz - interval '1 hour', interval '1 hour') h CROSS JOIN LATERAL (SELECT "
            "(5 + (hashtext(d.id || h::text) & 1023) / 4.0)::float8 AS e) x");
        tx.exec(std::string("SELECT intelergy_rollup_tier('energy_hour', 'energy_day', 'day', id, "
                             "0::smallint, '") + y0 + "', '" + y1 + "', 'Europe/Berlin') FROM devices");
        for (const char* tier : {"week", "month"})
            tx.exec(std::string("SELECT intelergy_rollup_tier('energy_day', 'energy_") + tier +
                     "', '" + tier + "', id, 0::smallint, '2025-12-28T23:00:00Z', "
                     "'2027-01-04T23:00:00Z', 'Europe/Berlin') FROM devices");
        truth_wh = tx.exec1("SELECT sum(energy_wh::numeric)::float8 FROM energy_hour")[0].as<double>();
        const auto n = tx.exec1("SELECT (SELECT count(*) FROM energy_hour), (SELECT count(*) FROM "
                                "energy_day)");
        tx.commit();
        std::printf("year_query_data devices=%d rooms=%d hour_rows=%ld day_rows=%ld seconds=%.1f\n",
                    devices, rooms, n[0].as<long>(), n[1].as<long>(), seconds_since(t0));
        pqxx::nontransaction a(c);
        a.exec0("ANALYZE");
    }
    const auto from = *parse_iso8601(y0);
    const auto to = *parse_iso8601(y1);
    store::PgEnergyHistory history(db.dsn());  // one connection, as the API worker has
    std::vector<double> home_ms, report_ms, week_ms, month_ms;
    for (int run = 0; run < runs; ++run) {
        auto t0 = Steady::now();
        auto days = history.query_energy("bench/home", store::Resolution::Day, from, to);
        home_ms.push_back(seconds_since(t0) * 1000);
        if (!days) {
            std::cerr << "query: " << days.error().describe() << "\n";
            return 1;
        }
        double total = 0;
        for (const auto& b : *days) total += b.energy_wh.value_or(0);
        if (days->size() != 365 || std::abs(total - truth_wh) > 0.01 ||
            days->front().members != devices) {
            std::fprintf(stderr, "wrong answer: %zu days, %.3f Wh (truth %.3f), %d members\n",
                         days->size(), total, truth_wh, days->front().members);
            return 1;
        }
        // `intelergy report bench/home --by room --from 2026-01-01 --to 2026-12-31`: the home and
        // each room, at day resolution.
        t0 = Steady::now();
        for (int r = -1; r < rooms; ++r) {
            const auto scope = r < 0 ? std::string("bench/home") : "bench/home/room" + std::to_string(r);
            if (auto q = history.query_energy(scope, store::Resolution::Day, from, to); !q || q->size() != 365) {
                std::cerr << "report query failed for " << scope << "\n";
                return 1;
            }
        }
        report_ms.push_back(seconds_since(t0) * 1000);
        // The same year as ISO weeks and as months.
        for (auto [res, out, n] : {std::tuple{store::Resolution::Week, &week_ms, std::size_t{52}},
                                   std::tuple{store::Resolution::Month, &month_ms, std::size_t{12}}}) {
            t0 = Steady::now();
            auto q = history.query_energy("bench/home", res, from, to);
            out->push_back(seconds_since(t0) * 1000);
            if (!q || q->size() < n) {
                std::cerr << "week/month query failed\n";
                return 1;
            }
        }
    }
    const auto h = spread(home_ms), r = spread(report_ms), w = spread(week_ms), m = spread(month_ms);
    std::printf("year_query  devices=%d days=365 runs=%d home_ms min=%.1f median=%.1f max=%.1f\n",
                devices, runs, h.min, h.median, h.max);
    std::printf("year_report devices=%d rooms=%d queries=%d runs=%d ms min=%.1f median=%.1f max=%.1f\n",
                devices, rooms, rooms + 1, runs, r.min, r.median, r.max);
    std::printf("year_weeks  devices=%d runs=%d home_ms min=%.1f median=%.1f max=%.1f\n", devices,
                runs, w.min, w.median, w.max);
    std::printf("year_months devices=%d runs=%d home_ms min=%.1f median=%.1f max=%.1f\n", devices,
                runs, m.min, m.median, m.max);
    return 0;
}

int lag_bench(const std::string& admin, int devices, int seconds) {
    BenchDb db(admin, "intelergy_bench_lag");
    const auto ids = db.devices(devices);
    const SystemClock clock;
    store::ReadingWriter writer(db.dsn(), clock);  // the bridge's defaults
    store::RollupWorkerOptions ro;
    ro.lag_warning = std::chrono::minutes(1);
    store::RollupWorker worker(db.dsn(), clock, ro);
    worker.start();
    pqxx::connection probe(db.dsn());
    const auto sample = [&] {
        pqxx::nontransaction tx(probe);
        const auto r = tx.exec1("SELECT count(*), coalesce(extract(epoch FROM now() - min(from_ts)), 0) "
                                "FROM rollup_dirty");
        return std::pair{r[0].as<long>(), r[1].as<double>()};
    };
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> w(0, 2000);
    std::vector<double> wh(ids.size(), 0);
    std::vector<double> lags;
    long max_marks = 0;
    const auto t0 = Steady::now();
    for (int sec = 0; sec < seconds; ++sec) {
        const auto now = clock.now();
        for (std::size_t d = 0; d < ids.size(); ++d) {
            Reading r;
            r.device_id = ids[d];
            // Spread over the second, as plugs are.
            r.ts = now + std::chrono::milliseconds(static_cast<long>(d * 1000 / ids.size()));
            r.power_w = w(rng);
            wh[d] += *r.power_w / 3600.0;
            r.energy_wh = wh[d];
            writer.submit(std::move(r));
        }
        std::this_thread::sleep_until(t0 + std::chrono::seconds(sec + 1));
        const auto [marks, lag] = sample();
        lags.push_back(lag);
        max_marks = std::max(max_marks, marks);
        std::printf("lag_sample  t=%d pending_marks=%ld lag_s=%.1f\n", sec + 1, marks, lag);
    }
    if (auto st = writer.flush(std::chrono::minutes(2)); !st) {
        std::cerr << "flush failed: " << st.error().describe() << "\n";
        return 1;
    }
    const auto t_end = Steady::now();
    double catchup = -1;
    while (seconds_since(t_end) < 120) {
        if (sample().first == 0) {
            catchup = seconds_since(t_end);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    worker.stop();
    const auto st = worker.stats();
    const auto l = spread(lags);
    // Skip the first 5 s (start-up) for the steady-state figure.
    std::vector<double> steady(lags.begin() + std::min<long>(5, static_cast<long>(lags.size()) - 1), lags.end());
    const auto s = spread(steady);
    std::printf("lag         devices=%d readings_per_s=%d seconds=%d lag_s min=%.1f median=%.1f max=%.1f "
                "steady_max=%.1f max_pending_marks=%ld catchup_s=%.1f passes=%lu ranges=%lu "
                "minutes=%lu failures=%lu\n",
                devices, devices, seconds, l.min, l.median, l.max, s.max, max_marks, catchup,
                static_cast<unsigned long>(st.passes), static_cast<unsigned long>(st.ranges),
                static_cast<unsigned long>(st.minutes_written),
                static_cast<unsigned long>(st.failures));
    return catchup < 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string admin;
    if (const char* env = std::getenv("INTELERGY_TEST_PG_DSN")) admin = env;
    std::size_t rows = 200'000;
    int devices = -1;  // per mode: 50, or 1,000 for --lag
    std::size_t batch = 5'000;
    bool year = true;
    bool year_query_only = false;
    bool writer_parts = true;  // --year-only: only the device-year recompute
    bool lag_only = false;
    int seconds = 30;
    int runs = 9;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--rows" && i + 1 < argc) rows = std::stoul(argv[++i]);
        else if (a == "--devices" && i + 1 < argc) devices = std::stoi(argv[++i]);
        else if (a == "--batch" && i + 1 < argc) batch = std::stoul(argv[++i]);
        else if (a == "--no-year") year = false;
        else if (a == "--year-only") writer_parts = false;
        else if (a == "--lag") lag_only = true;
        else if (a == "--seconds" && i + 1 < argc) seconds = std::max(1, std::stoi(argv[++i]));
        else if (a == "--year-query") year_query_only = true;
        else if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::stoi(argv[++i]));
        else admin = a;
    }
    if (admin.empty()) {
        std::cerr << "usage: store_bench ADMIN_DSN [--rows N] [--devices D] [--batch B] [--no-year]\n"
                     "       store_bench ADMIN_DSN --year-query [--devices D] [--runs R]\n";
        return 2;
    }
    try {
        if (lag_only) return lag_bench(admin, devices < 0 ? 1000 : devices, seconds);
        if (devices < 0) devices = 50;
        if (year_query_only) return year_query(admin, devices, runs);
        const SystemClock clock;
        const auto start = *parse_iso8601("2026-01-05T00:00:00Z");

        // 1. ReadingWriter.
        double writer_rate = 0;
        std::vector<Reading> readings;
        if (writer_parts) {
            BenchDb db(admin, "intelergy_bench_writer");
            readings = feed(db.devices(devices), rows, start, std::chrono::seconds(10));
            store::ReadingWriterOptions opt;
            opt.batch_size = batch;
            opt.queue_capacity = batch * 4;
            store::ReadingWriter w(db.dsn(), clock, opt);
            const auto t0 = Steady::now();
            for (const auto& r : readings) w.submit(r);
            if (auto st = w.flush(std::chrono::minutes(30)); !st) {
                std::cerr << "flush failed: " << st.error().describe() << "\n";
                return 1;
            }
            const double s = seconds_since(t0);
            writer_rate = static_cast<double>(rows) / s;
            std::printf("writer      rows=%zu devices=%d batch=%zu seconds=%.3f rows_per_s=%.0f\n",
                        rows, devices, batch, s, writer_rate);

            // The same rows again: every one is a duplicate (the redelivery/replay path).
            const auto before = w.stats();
            const auto t1 = Steady::now();
            for (const auto& r : readings) w.submit(r);
            if (auto st = w.flush(std::chrono::minutes(30)); !st) {
                std::cerr << "flush failed: " << st.error().describe() << "\n";
                return 1;
            }
            const double s1 = seconds_since(t1);
            const auto after = w.stats();
            std::printf("replay      rows=%zu duplicates=%lu seconds=%.3f rows_per_s=%.0f\n", rows,
                        static_cast<unsigned long>(after.duplicates - before.duplicates), s1,
                        static_cast<double>(rows) / s1);
        }

        // 2. Raw psql \copy of the same rows into the same schema (partitions pre-created).
        if (writer_parts) {
            BenchDb db(admin, "intelergy_bench_copy");
            (void)db.devices(devices);
            const std::string csv = "/tmp/intelergy_store_bench.csv";
            {
                std::ofstream out(csv);
                for (const auto& r : readings)
                    out << r.device_id << ",0," << format_iso8601(r.ts) << "," << *r.power_w << ","
                        << *r.voltage_v << "," << *r.current_a << ",t," << *r.energy_wh << "\n";
            }
            {
                pqxx::connection c(db.dsn());
                pqxx::work tx(c);
                tx.exec("SELECT intelergy_ensure_partitions('2026-01-01', 12)");
                tx.commit();
            }
            const auto t0 = Steady::now();
            if (!psql_command(db.dsn(), "\\copy readings (device_id, channel, ts, power_w, "
                                        "voltage_v, current_a, relay, energy_wh) FROM '" + csv +
                                        "' CSV")) {
                std::cerr << "psql \\copy failed\n";
                return 1;
            }
            const double s = seconds_since(t0);
            const double rate = static_cast<double>(rows) / s;
            std::printf("psql_copy   rows=%zu seconds=%.3f rows_per_s=%.0f\n", rows, s, rate);
            std::printf("ratio       writer/copy=%.2f\n", writer_rate / rate);
            std::remove(csv.c_str());
        }

        // 3. Recompute one device-year of minute data (525,600 readings).
        if (year) {
            BenchDb db(admin, "intelergy_bench_year");
            const auto devs = db.devices(1);
            const auto year_start = *parse_iso8601("2026-01-01T00:00:00Z");
            auto one = feed(devs, 525'600, year_start, std::chrono::seconds(60));
            auto sink = store::make_pg_batch_sink(db.dsn());
            const auto t_ingest = Steady::now();
            for (std::size_t i = 0; i < one.size(); i += 20'000) {
                store::WriteBatch b;
                b.readings.assign(one.begin() + static_cast<long>(i),
                                  one.begin() + static_cast<long>(std::min(one.size(), i + 20'000)));
                if (!sink->write(b)) return 1;
            }
            std::printf("year_ingest rows=%zu seconds=%.3f\n", one.size(), seconds_since(t_ingest));
            {
                pqxx::connection c(db.dsn());
                pqxx::nontransaction tx(c);
                tx.exec("DELETE FROM rollup_dirty");
                tx.exec("ANALYZE");
            }
            store::RollupWorker worker(db.dsn(), clock);
            const auto t0 = Steady::now();
            if (auto st = worker.recompute(devs[0], year_start, *parse_iso8601("2027-01-01T00:00:00Z"));
                !st) {
                std::cerr << "recompute failed: " << st.error().describe() << "\n";
                return 1;
            }
            const double recompute_s = seconds_since(t0);
            std::printf("recompute   device_year_minutes=%lu seconds=%.3f\n",
                        static_cast<unsigned long>(worker.stats().minutes_written), recompute_s);
            // Check: the parents rebuilt by the per-range SQL
            // (intelergy_rollup_parents, one call for the whole year) are the same rows, bit for
            // bit, as the set-based pass wrote.
            pqxx::connection c(db.dsn());
            pqxx::work tx(c);
            const std::string sums =
                "SELECT (SELECT md5(string_agg(t::text, ',' ORDER BY bucket_start)) FROM energy_hour "
                "t), (SELECT md5(string_agg(t::text, ',' ORDER BY bucket_start)) FROM energy_day t), "
                "(SELECT md5(string_agg(t::text, ',' ORDER BY bucket_start)) FROM energy_week t), "
                "(SELECT md5(string_agg(t::text, ',' ORDER BY bucket_start)) FROM energy_month t), "
                "(SELECT count(*) FROM energy_minute) + (SELECT count(*) FROM energy_hour) + "
                "(SELECT count(*) FROM energy_day) + (SELECT count(*) FROM energy_week) + (SELECT "
                "count(*) FROM energy_month)";
            const auto a = tx.exec1(sums);
            tx.exec_params("SELECT intelergy_rollup_parents($1, 0::smallint, '2026-01-01T00:00:00Z', "
                           "'2027-01-01T00:00:00Z')",
                           devs[0]);
            const auto b = tx.exec1(sums);
            bool same = true;
            for (int i = 0; i < 5; ++i) same = same && a[i].as<std::string>() == b[i].as<std::string>();
            std::printf("recompute_check rows=%ld parents_identical_to_per_range_sql=%s\n", a[4].as<long>(),
                        same ? "yes" : "NO");
            if (!same) return 1;
            tx.abort();

            // Baseline, same run: the floor of the minute tier. The minute rows the recompute
            // wrote are saved to a binary file, the table is emptied (as it was before the
            // recompute), and `psql \copy … (FORMAT binary)` loads the same rows into the same
            // table, primary key and BRIN index included, in one statement: no readings to read,
            // no minutes to compute, no parents.
            const std::string minute_cols =
                "device_id, channel, bucket_start, bucket_end, energy_wh, energy_integrated_wh, "
                "counter_s, covered_s, bridged_s, sum_w_s, power_s, min_w, max_w, samples, "
                "first_ts, last_ts, resets";
            const std::string bin =
                "/tmp/intelergy_store_bench_minutes." + std::to_string(::getpid()) + ".bin";
            const auto psql = [&](const std::string& meta) { return psql_command(db.dsn(), meta); };
            if (!psql("\\copy (SELECT " + minute_cols +
                      " FROM energy_minute ORDER BY device_id, channel, bucket_start) TO '" + bin +
                      "' (FORMAT binary)")) {
                std::cerr << "psql \\copy of energy_minute to a file failed\n";
                return 1;
            }
            long minute_rows = 0;
            {
                pqxx::nontransaction nt(c);
                minute_rows = nt.exec1("SELECT count(*) FROM energy_minute")[0].as<long>();
                nt.exec0("TRUNCATE energy_minute");
            }
            const auto t_copy = Steady::now();
            const bool copied =
                psql("\\copy energy_minute (" + minute_cols + ") FROM '" + bin + "' (FORMAT binary)");
            const double copy_s = seconds_since(t_copy);
            std::remove(bin.c_str());
            if (!copied) {
                std::cerr << "psql \\copy of energy_minute from a file failed\n";
                return 1;
            }
            {
                pqxx::nontransaction nt(c);
                const long back = nt.exec1("SELECT count(*) FROM energy_minute")[0].as<long>();
                if (back != minute_rows) {
                    std::cerr << "psql \\copy loaded " << back << " of " << minute_rows << " minute rows\n";
                    return 1;
                }
            }
            std::printf("year_minute_copy rows=%ld seconds=%.3f\n", minute_rows, copy_s);
            std::printf("recompute_vs_copy ratio=%.2f\n", recompute_s / copy_s);
        }
    } catch (const std::exception& e) {
        std::cerr << "store_bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
