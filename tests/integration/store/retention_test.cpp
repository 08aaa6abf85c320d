// Retention per tier (docs/data-model.md "Retention"): old readings partitions are dropped whole
// and old minute rollups deleted, recent ones stay, hours/days/weeks/months and energy books are
// untouched, data that is not rolled up yet is kept, and rollups below a horizon stay final.
#include <thread>

#include "intelergy/store/pg_energy_history.hpp"
#include "intelergy/store/reading_writer.hpp"
#include "intelergy/store/rollup_worker.hpp"
#include "store_fixture.hpp"

namespace intelergy::test {
namespace {

using namespace std::chrono_literals;

// 100 W with a counter, one sample every 4 minutes (within the 5-minute hold: full coverage).
std::vector<Reading> feed(const std::string& dev, SysTime from, SysTime to) {
    std::vector<Reading> out;
    for (auto t = from; t <= to; t += 4min) {
        Reading r;
        r.device_id = dev;
        r.ts = t;
        r.power_w = 100;
        r.energy_wh = 1000 + 100 * std::chrono::duration<double>(t - from).count() / 3600.0;
        out.push_back(r);
    }
    return out;
}

class RetentionTest : public StoreFixture {
protected:
    void write(const std::vector<Reading>& readings, std::vector<store::EnergyBookRow> books = {}) {
        auto sink = store::make_pg_batch_sink(db_->dsn());
        store::WriteBatch b;
        b.readings = readings;
        b.books = std::move(books);
        auto r = sink->write(b);
        ASSERT_TRUE(r) << r.error().describe();
    }
    void roll(store::RollupWorker& w) {
        auto r = w.process_pending();
        ASSERT_TRUE(r) << r.error().describe();
    }
    store::RetentionOutcome retain(store::RollupWorker& w) {
        auto r = w.apply_retention(now_);
        EXPECT_TRUE(r) << (r ? "" : r.error().describe());
        return r ? *r : store::RetentionOutcome{};
    }
    // Every row of the tiers above minutes, and the energy books, for exact comparison.
    std::string upper_tiers() {
        pqxx::connection c(db_->dsn());
        pqxx::nontransaction tx(c);
        std::string out;
        for (const char* t : {"energy_hour", "energy_day", "energy_week", "energy_month"})
            for (const auto& row : tx.exec(std::string("SELECT * FROM ") + t +
                                           " ORDER BY device_id, channel, bucket_start")) {
                out += t;
                for (const auto& f : row) out += std::string("|") + (f.is_null() ? "~" : f.c_str());
                out += "\n";
            }
        for (const auto& row : tx.exec("SELECT device_id, channel, lifetime_wh, last_raw_wh "
                                       "FROM energy_books ORDER BY 1, 2")) {
            out += "book";
            for (const auto& f : row) out += std::string("|") + (f.is_null() ? "~" : f.c_str());
            out += "\n";
        }
        return out;
    }
    bool exists(const std::string& table) {
        return scalar("SELECT (to_regclass('" + table + "') IS NOT NULL)::int") == 1.0;
    }
    double count(const std::string& sql) { return scalar("SELECT count(*) FROM " + sql); }

    const SysTime now_ = at("2026-04-15T00:00:00Z");
    FixedClock clock_{now_};
};

TEST_F(RetentionTest, DropsOldPartitionsAndMinutesKeepsUnrolledDataAndHigherTiers) {
    home("Europe/Berlin");
    const auto a = device("a");
    const auto b = device("b");
    // a: 2026-01-25 .. 2026-03-05 (partitions 202601, 202602, 202603), rolled up.
    store::EnergyBookRow book{a, 0, 42.0, 0.0, 5000.0, at("2026-03-05T00:00:00Z"), 0};
    write(feed(a, at("2026-01-25T00:00:00Z"), at("2026-03-05T00:00:00Z")), {book});
    store::RollupWorkerOptions opt;
    opt.retention.readings = std::chrono::days(40);  // cut 2026-03-06: 202601 and 202602 end before
    opt.retention.minutes = std::chrono::days(60);   // cut 2026-02-14T00:00Z
    store::RollupWorker worker(db_->dsn(), clock_, opt);
    roll(worker);
    const auto rolled = upper_tiers();
    const double days_wh = scalar("SELECT sum(energy_wh) FROM energy_day WHERE device_id = 'shelly-a'");
    EXPECT_NEAR(days_wh, 100.0 * 24 * 39, 0.01);  // 39 whole days of 100 W

    // b: readings in January that are not rolled up yet keep every partition from January on,
    // and the minutes their rollup may still rebuild.
    write(feed(b, at("2026-01-28T00:00:00Z"), at("2026-01-28T02:00:00Z")));
    const double readings_before = count("readings");
    auto out = retain(worker);
    EXPECT_TRUE(out.partitions_dropped.empty());
    EXPECT_EQ(out.partitions_kept_unrolled, 2U);
    EXPECT_TRUE(exists("readings_202601"));
    EXPECT_EQ(count("readings"), readings_before);
    // Minutes of a before b's pending range (less an hour) went; the rest stayed.
    EXPECT_EQ(count("energy_minute WHERE bucket_start < '2026-01-27T23:00:00Z'"), 0);
    EXPECT_EQ(out.minutes_deleted, static_cast<std::uint64_t>(2 * 1440 + 23 * 60));
    EXPECT_EQ(count("energy_minute WHERE bucket_start >= '2026-01-27T23:00:00Z' AND "
                    "bucket_start < '2026-02-14T00:00:00Z'"),
              17 * 1440 + 60);
    EXPECT_EQ(upper_tiers(), rolled);

    // Once b is rolled up, the old partitions go whole and minutes before the cut go.
    roll(worker);
    const auto with_b = upper_tiers();
    EXPECT_NE(with_b, rolled);  // b's hours are there now
    const double jan_feb = count("readings WHERE ts < '2026-03-01T00:00:00Z'");
    const double march = count("readings WHERE ts >= '2026-03-01T00:00:00Z'");
    const double recent_minutes = count("energy_minute WHERE bucket_start >= '2026-02-14T00:00:00Z'");
    out = retain(worker);
    ASSERT_EQ(out.partitions_dropped, (std::vector<std::string>{"readings_202601", "readings_202602"}));
    EXPECT_EQ(out.readings_deleted, static_cast<std::uint64_t>(jan_feb));
    EXPECT_EQ(out.partitions_kept_unrolled, 0U);
    EXPECT_FALSE(exists("readings_202601"));
    EXPECT_FALSE(exists("readings_202602"));
    EXPECT_TRUE(exists("readings_202603"));
    EXPECT_EQ(count("readings"), march);
    EXPECT_EQ(count("energy_minute WHERE bucket_start < '2026-02-14T00:00:00Z'"), 0);
    EXPECT_EQ(count("energy_minute"), recent_minutes);
    EXPECT_GT(recent_minutes, 0);
    EXPECT_EQ(upper_tiers(), with_b);  // hours, days, weeks, months and books unchanged
    EXPECT_EQ(scalar("SELECT sum(energy_wh) FROM energy_day WHERE device_id = 'shelly-a'"), days_wh);
    EXPECT_EQ(worker.stats().partitions_dropped, 2U);

    // Through the query path too: February's days are still exact.
    store::PgEnergyHistory history(db_->dsn());
    auto q = history.query_energy(a, store::Resolution::Day, at("2026-02-01T00:00:00+01:00"),
                                  at("2026-03-01T00:00:00+01:00"));
    ASSERT_TRUE(q);
    ASSERT_EQ(q->size(), 28U);
    for (const auto& d : *q) {
        ASSERT_TRUE(d.energy_wh);
        EXPECT_NEAR(*d.energy_wh, 2400, 0.01) << d.label;
    }

    // A reading far below the horizon arrives late: its partition comes back, but the final
    // rollups there are not rewritten from what is left; the next run drops it again.
    Reading late;
    late.device_id = a;
    late.ts = at("2026-02-10T00:02:00Z");
    late.power_w = 5000;
    late.energy_wh = 999999;
    write({late});
    roll(worker);
    EXPECT_GE(worker.stats().frozen_ranges, 1U);
    EXPECT_EQ(upper_tiers(), with_b);
    out = retain(worker);
    EXPECT_EQ(out.partitions_dropped, std::vector<std::string>{"readings_202602"});
    EXPECT_EQ(out.readings_deleted, 1U);
    EXPECT_EQ(upper_tiers(), with_b);
}

TEST_F(RetentionTest, ATierWithoutRetentionIsKeptAndTheWorkerThreadAppliesIt) {
    home("UTC");
    const auto a = device("a");
    write(feed(a, at("2026-01-30T00:00:00Z"), at("2026-02-02T00:00:00Z")));
    store::RollupWorkerOptions opt;
    opt.poll_interval = 20ms;
    opt.retention.readings = std::chrono::days(60);  // cut 2026-02-14: only 202601 ends before
    store::RollupWorker worker(db_->dsn(), clock_, opt);
    const double minutes_expected = 3 * 1440 + 1;  // + the newest sample's minute
    worker.start();
    for (int i = 0; i < 500 && worker.stats().retention_runs == 0; ++i)
        std::this_thread::sleep_for(20ms);
    worker.stop();
    EXPECT_EQ(worker.stats().retention_runs, 1U);  // then not again within the hour
    EXPECT_EQ(worker.stats().partitions_dropped, 1U);
    EXPECT_FALSE(exists("readings_202601"));
    EXPECT_EQ(count("readings"), 360 * 1 + 1);     // 2026-02-01 .. 02-02 00:00
    EXPECT_EQ(count("energy_minute"), minutes_expected);  // minutes: no retention, all kept
    EXPECT_EQ(worker.stats().minutes_purged, 0U);
}

// A bridge that runs for months keeps its readings partitions created ahead: the worker thread
// creates this month's and the next partitions_ahead months' at start (and every 6 hours).
TEST_F(RetentionTest, TheWorkerThreadKeepsReadingsPartitionsCreatedAhead) {
    FixedClock later{at("2031-01-15T12:00:00Z")};
    store::RollupWorkerOptions opt;
    opt.poll_interval = 20ms;
    opt.partitions_ahead = 3;
    ASSERT_FALSE(exists("readings_203101"));
    store::RollupWorker worker(db_->dsn(), later, opt);
    worker.start();
    for (int i = 0; i < 500 && worker.stats().partition_checks == 0; ++i)
        std::this_thread::sleep_for(20ms);
    worker.stop();
    EXPECT_EQ(worker.stats().partition_checks, 1U);  // then not again within 6 hours
    for (const char* month : {"readings_203101", "readings_203102", "readings_203103",
                              "readings_203104"})
        EXPECT_TRUE(exists(month)) << month;
    EXPECT_FALSE(exists("readings_203105"));
    EXPECT_FALSE(exists("readings_203012"));
}

}  // namespace
}  // namespace intelergy::test
