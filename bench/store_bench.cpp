// store_bench: readings/s through ReadingWriter (new rows, then the same rows replayed as
// duplicates) vs a raw `psql \copy` of the same rows, and the time to recompute one device-year
// of minute data. Each part runs in its own throwaway database created from the admin DSN and
// dropped afterwards.
//
//   store_bench [ADMIN_DSN] [--rows N] [--devices D] [--batch B] [--no-year]
//   (ADMIN_DSN defaults to $INTELERGY_TEST_PG_DSN; psql must be on PATH)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <vector>

#include "intelergy/core/time_format.hpp"
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

double seconds_since(Steady::time_point t0) {
    return std::chrono::duration<double>(Steady::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    std::string admin;
    if (const char* env = std::getenv("INTELERGY_TEST_PG_DSN")) admin = env;
    std::size_t rows = 200'000;
    int devices = 50;
    std::size_t batch = 5'000;
    bool year = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--rows" && i + 1 < argc) rows = std::stoul(argv[++i]);
        else if (a == "--devices" && i + 1 < argc) devices = std::stoi(argv[++i]);
        else if (a == "--batch" && i + 1 < argc) batch = std::stoul(argv[++i]);
        else if (a == "--no-year") year = false;
        else admin = a;
    }
    if (admin.empty()) {
        std::cerr << "usage: store_bench ADMIN_DSN [--rows N] [--devices D] [--batch B] [--no-year]\n";
        return 2;
    }
    try {
        const SystemClock clock;
        const auto start = *parse_iso8601("2026-01-05T00:00:00Z");

        // 1. ReadingWriter.
        double writer_rate = 0;
        std::vector<Reading> readings;
        {
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
        {
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
            const std::string cmd = "psql -q '" + db.dsn() +
                                    "' -c \"\\copy readings (device_id, channel, ts, power_w, "
                                    "voltage_v, current_a, relay, energy_wh) FROM '" + csv +
                                    "' CSV\"";
            const auto t0 = Steady::now();
            if (std::system(cmd.c_str()) != 0) {
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
            std::printf("recompute   device_year_minutes=%lu seconds=%.3f\n",
                        static_cast<unsigned long>(worker.stats().minutes_written), seconds_since(t0));
        }
    } catch (const std::exception& e) {
        std::cerr << "store_bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
