// Synthetic feeds of exactly known energy through the writer, the rollup worker and
// query_energy (docs/data-model.md "Energy rollups").
#include <algorithm>
#include <random>

#include "intelergy/store/pg_energy_history.hpp"
#include "intelergy/store/reading_writer.hpp"
#include "intelergy/store/rollup_worker.hpp"
#include "store_fixture.hpp"

namespace intelergy::test {
namespace {

using namespace std::chrono_literals;
using store::EnergyBucket;
using store::Resolution;

struct Feed {
    std::string dev;
    SysTime from;
    SysTime to;  // inclusive last sample
    std::chrono::seconds step{60};
    double watts{100};
    bool counter{true};
    double counter_start{1000};
};

std::vector<Reading> make(const Feed& f) {
    std::vector<Reading> out;
    for (auto t = f.from; t <= f.to; t += f.step) {
        Reading r;
        r.device_id = f.dev;
        r.ts = t;
        r.power_w = f.watts;
        if (f.counter)
            r.energy_wh = f.counter_start +
                          f.watts * std::chrono::duration<double>(t - f.from).count() / 3600.0;
        out.push_back(r);
    }
    return out;
}

class RollupTest : public StoreFixture {
protected:
    void write(const std::vector<Reading>& readings) {
        auto sink = store::make_pg_batch_sink(db_->dsn());
        for (std::size_t i = 0; i < readings.size(); i += 2000) {
            store::WriteBatch b;
            b.readings.assign(readings.begin() + static_cast<std::ptrdiff_t>(i),
                              readings.begin() + static_cast<std::ptrdiff_t>(
                                                     std::min(readings.size(), i + 2000)));
            auto r = sink->write(b);
            ASSERT_TRUE(r) << r.error().describe();
        }
    }
    void roll() {
        store::RollupWorker w(db_->dsn(), clock_);
        auto r = w.process_pending();
        ASSERT_TRUE(r) << r.error().describe();
        EXPECT_EQ(w.stats().pending, 0U);
    }
    std::vector<EnergyBucket> query(const std::string& scope, Resolution res, const char* from,
                                    const char* to) {
        store::PgEnergyHistory h(db_->dsn());
        auto r = h.query_energy(scope, res, at(from), at(to));
        EXPECT_TRUE(r) << (r ? "" : r.error().describe());
        return r ? *r : std::vector<EnergyBucket>{};
    }
    // Every rollup row of every tier, for exact comparisons.
    std::string dump(const std::string& dev) {
        pqxx::connection c(db_->dsn());
        pqxx::nontransaction tx(c);
        std::string out;
        for (const char* t : {"energy_minute", "energy_hour", "energy_day", "energy_week", "energy_month"}) {
            for (const auto& row : tx.exec_params(
                     std::string("SELECT channel, bucket_start, bucket_end, energy_wh, "
                                 "energy_integrated_wh, counter_s, covered_s, bridged_s, sum_w_s, "
                                 "power_s, min_w, max_w, samples, first_ts, last_ts, resets FROM ") +
                         t + " WHERE device_id = $1 ORDER BY bucket_start",
                     dev)) {
                out += t;
                for (const auto& f : row) out += std::string("|") + (f.is_null() ? "~" : f.c_str());
                out += "\n";
            }
        }
        return out;
    }
    FixedClock clock_{at("2027-02-01T00:00:00Z")};
};

void expect_energy(const EnergyBucket& b, double wh, double coverage) {
    ASSERT_TRUE(b.energy_wh) << b.label;
    EXPECT_NEAR(*b.energy_wh, wh, 0.01) << b.label;
    EXPECT_NEAR(b.coverage, coverage, 1e-9) << b.label;
}

TEST_F(RollupTest, ConstantLoadGivesExactHoursWithFullCoverage) {
    home("Europe/Berlin");
    const auto dev = device("a");
    write(make({dev, at("2026-06-01T10:00:00Z"), at("2026-06-01T12:00:00Z"), 10s, 120}));
    roll();
    const auto hours = query(dev, Resolution::Hour, "2026-06-01T10:00:00Z", "2026-06-01T12:00:00Z");
    ASSERT_EQ(hours.size(), 2U);
    EXPECT_EQ(hours[0].label, "2026-06-01T12:00+02:00");
    for (const auto& h : hours) {
        expect_energy(h, 120, 1.0);
        EXPECT_NEAR(*h.mean_power_w, 120, 1e-9);
        EXPECT_NEAR(*h.energy_integrated_wh, 120, 1e-9);
        EXPECT_EQ(h.samples, 360);
    }
    const auto minutes = query("u/home/r/a", Resolution::Minute, "2026-06-01T10:00:00Z", "2026-06-01T10:05:00Z");
    ASSERT_EQ(minutes.size(), 5U);
    expect_energy(minutes[3], 2, 1.0);
}

TEST_F(RollupTest, GapsShorterThanTheHoldAreCoveredLongerOnesAreUnknown) {
    home("UTC");
    const auto power_only = device("p");
    const auto with_counter = device("c");
    for (const auto& [dev, counter] : {std::pair{power_only, false}, std::pair{with_counter, true}}) {
        auto feed = make({dev, at("2026-06-01T00:00:00Z"), at("2026-06-01T01:00:00Z"), 60s, 60, counter});
        // 4-minute gap (< 5-minute hold) at 00:40-00:44, 20-minute gap at 00:10-00:30.
        std::erase_if(feed, [](const Reading& r) {
            const auto m = std::chrono::duration_cast<std::chrono::minutes>(r.ts.time_since_epoch()).count() % 60;
            return (m > 10 && m < 30) || (m > 40 && m < 44);
        });
        write(feed);
    }
    roll();
    const auto p = query(power_only, Resolution::Hour, "2026-06-01T00:00:00Z", "2026-06-01T01:00:00Z");
    ASSERT_EQ(p.size(), 1U);
    expect_energy(p[0], 45, 0.75);  // 15 unknown minutes: neither zero nor held
    const auto c = query(with_counter, Resolution::Hour, "2026-06-01T00:00:00Z", "2026-06-01T01:00:00Z");
    ASSERT_EQ(c.size(), 1U);
    expect_energy(c[0], 60, 0.75);  // the counter knows the energy of the gap in total
    EXPECT_NEAR(*c[0].energy_integrated_wh, 45, 1e-9);
    const auto gap = query(power_only, Resolution::Minute, "2026-06-01T00:20:00Z", "2026-06-01T00:21:00Z");
    EXPECT_TRUE(gap.empty());  // no data: no bucket
    const auto bridged = query(with_counter, Resolution::Minute, "2026-06-01T00:20:00Z", "2026-06-01T00:21:00Z");
    ASSERT_EQ(bridged.size(), 1U);
    expect_energy(bridged[0], 1, 0.0);
}

TEST_F(RollupTest, DuplicatesOutOfOrderAndLateReadingsGiveTheSameRows) {
    home("Europe/Berlin");
    const auto ordered = device("o");
    const auto messy = device("m");
    const Feed f{ordered, at("2026-06-01T00:00:00Z"), at("2026-06-03T00:00:00Z"), 60s, 90};
    write(make(f));
    roll();
    Feed g = f;
    g.dev = messy;
    auto feed = make(g);
    // Late by 1 day, 1 hour and 1 minute: held back and delivered after a rollup pass.
    std::vector<Reading> late;
    for (const auto* ts : {"2026-06-01T12:00:00Z", "2026-06-02T22:00:00Z", "2026-06-02T23:59:00Z"}) {
        const auto it = std::find_if(feed.begin(), feed.end(), [&](const Reading& r) { return r.ts == at(ts); });
        late.push_back(*it);
        feed.erase(it);
    }
    std::mt19937 rng(7);
    std::vector<Reading> noisy = feed;
    for (std::size_t i = 0; i < feed.size(); i += 10) noisy.push_back(feed[i]);  // duplicates
    std::shuffle(noisy.begin(), noisy.end(), rng);
    write(noisy);
    roll();
    write(late);
    write(late);
    roll();
    auto a = dump(ordered), b = dump(messy);
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a, b);
    const auto days = query(messy, Resolution::Day, "2026-06-01T00:00:00Z", "2026-06-03T00:00:00Z");
    ASSERT_EQ(days.size(), 2U);  // local days starting in the range: 2 June and 3 June
    expect_energy(days[0], 90 * 24, 1.0);
    EXPECT_EQ(days[0].label, "2026-06-02");
    expect_energy(days[1], 90 * 2, 2.0 / 24.0);  // 3 June until 02:00 local
}

TEST_F(RollupTest, CounterResetIsFilledByIntegratedPowerAndGlitchIsIgnored) {
    home("UTC");
    const auto reset = device("reset");
    const auto glitch = device("glitch");
    auto r1 = make({reset, at("2026-06-01T00:00:00Z"), at("2026-06-01T01:00:00Z"), 60s, 100, true, 500});
    for (auto& r : r1)
        if (r.ts >= at("2026-06-01T00:30:30Z")) {
            *r.energy_wh -= 550 - 0.1;  // device counter restarted near zero (import without book)
        }
    auto g1 = make({glitch, at("2026-06-01T00:00:00Z"), at("2026-06-01T01:00:00Z"), 60s, 100, true, 500});
    for (auto& r : g1)
        if (r.ts == at("2026-06-01T00:20:00Z") || r.ts == at("2026-06-01T00:21:00Z")) r.energy_wh = 0.0;
    write(r1);
    write(g1);
    roll();
    const auto h = query(reset, Resolution::Hour, "2026-06-01T00:00:00Z", "2026-06-01T01:00:00Z");
    ASSERT_EQ(h.size(), 1U);
    expect_energy(h[0], 100, 1.0);
    EXPECT_EQ(h[0].resets, 1);
    const auto g = query(glitch, Resolution::Hour, "2026-06-01T00:00:00Z", "2026-06-01T01:00:00Z");
    ASSERT_EQ(g.size(), 1U);
    expect_energy(g[0], 100, 1.0);
    EXPECT_EQ(g[0].resets, 0);
}

TEST_F(RollupTest, BookWithRawCounterResetUsesIntegratedPowerForTheRebootInterval) {
    home("UTC");
    const auto dev = device("book");
    auto feed = make({dev, at("2026-06-01T00:00:00Z"), at("2026-06-01T01:00:00Z"), 60s, 60, true, 0});
    for (auto& r : feed) {
        // Device counter = book until 00:30; the device rebooted in the minute before 00:31,
        // its raw counter restarted, the book went on from the raw 0.25 Wh it then showed.
        r.counter_raw = *r.energy_wh;
        if (r.ts >= at("2026-06-01T00:31:00Z")) {
            r.counter_raw = *r.energy_wh - 31 + 0.25;
            r.energy_wh = 30 + *r.counter_raw;
        }
    }
    write(feed);
    roll();
    const auto h = query(dev, Resolution::Hour, "2026-06-01T00:00:00Z", "2026-06-01T01:00:00Z");
    ASSERT_EQ(h.size(), 1U);
    expect_energy(h[0], 60, 1.0);  // the book alone would say 59.25
    EXPECT_EQ(h[0].resets, 1);
}

struct DstCase {
    const char* tz;
    const char* day_start;  // UTC instant of local midnight
    const char* day_end;
    const char* label;
    int hours;
};

class DstTest : public RollupTest, public ::testing::WithParamInterface<DstCase> {};

TEST_P(DstTest, LocalDaysHaveTheirRealLength) {
    const auto& c = GetParam();
    home(c.tz);
    const auto dev = device("d");
    write(make({dev, at(c.day_start) - 1h, at(c.day_end) + 1h, 30s, 100}));
    roll();
    const auto days = query(dev, Resolution::Day, c.day_start, c.day_end);
    ASSERT_EQ(days.size(), 1U);
    EXPECT_EQ(days[0].label, c.label);
    expect_energy(days[0], 100.0 * c.hours, 1.0);
    EXPECT_EQ(days[0].end - days[0].start, std::chrono::hours(c.hours));
    const auto hours = query(dev, Resolution::Hour, c.day_start, c.day_end);
    ASSERT_EQ(hours.size(), static_cast<std::size_t>(c.hours));
    for (const auto& h : hours) expect_energy(h, 100, 1.0);
}

INSTANTIATE_TEST_SUITE_P(
    Zones, DstTest,
    ::testing::Values(
        DstCase{"Europe/Berlin", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", "2026-03-29", 23},
        DstCase{"Europe/Berlin", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", "2026-10-25", 25},
        DstCase{"America/New_York", "2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z", "2026-03-08", 23},
        DstCase{"America/New_York", "2026-11-01T04:00:00Z", "2026-11-02T05:00:00Z", "2026-11-01", 25},
        DstCase{"Asia/Kathmandu", "2026-06-30T18:15:00Z", "2026-07-01T18:15:00Z", "2026-07-01", 24}));

TEST_F(RollupTest, AutumnNightHasTwoDistinctTwoOClockHours) {
    home("Europe/Berlin");
    const auto dev = device("n");
    write(make({dev, at("2026-10-24T23:00:00Z"), at("2026-10-25T02:00:00Z"), 60s, 60}));
    roll();
    const auto hours = query(dev, Resolution::Hour, "2026-10-24T23:00:00Z", "2026-10-25T02:00:00Z");
    ASSERT_EQ(hours.size(), 3U);
    EXPECT_EQ(hours[1].label, "2026-10-25T02:00+02:00");
    EXPECT_EQ(hours[2].label, "2026-10-25T02:00+01:00");
    for (const auto& h : hours) expect_energy(h, 60, 1.0);
}

TEST_F(RollupTest, KathmanduHoursStartAtQuarterPastUtc) {
    home("Asia/Kathmandu");
    const auto dev = device("k");
    write(make({dev, at("2026-07-01T00:00:00Z"), at("2026-07-01T03:00:00Z"), 60s, 60}));
    roll();
    const auto hours = query(dev, Resolution::Hour, "2026-07-01T00:15:00Z", "2026-07-01T02:15:00Z");
    ASSERT_EQ(hours.size(), 2U);
    EXPECT_EQ(hours[0].start, at("2026-07-01T00:15:00Z"));
    EXPECT_EQ(hours[0].label, "2026-07-01T06:00+05:45");
    expect_energy(hours[0], 60, 1.0);
}

TEST_F(RollupTest, IsoWeek53AndTheYearEdge) {
    home("Europe/Berlin");
    const auto dev = device("w");
    // Monday 2026-12-28 00:00 CET to Monday 2027-01-04 00:00 CET, 10 W.
    write(make({dev, at("2026-12-27T23:00:00Z"), at("2027-01-03T23:00:00Z"), 60s, 10}));
    roll();
    const auto weeks = query(dev, Resolution::Week, "2026-12-27T23:00:00Z", "2027-01-03T23:00:00Z");
    ASSERT_EQ(weeks.size(), 1U);
    EXPECT_EQ(weeks[0].label, "2026-W53");
    expect_energy(weeks[0], 10 * 24 * 7, 1.0);
    const auto months = query(dev, Resolution::Month, "2026-11-30T23:00:00Z", "2027-01-31T23:00:00Z");
    ASSERT_EQ(months.size(), 2U);
    EXPECT_EQ(months[0].label, "2026-12");
    EXPECT_EQ(months[1].label, "2027-01");
    expect_energy(months[0], 10 * 24 * 4, 4.0 / 31.0);
    expect_energy(months[1], 10 * 24 * 3, 3.0 / 31.0);
    const auto days = query(dev, Resolution::Day, "2026-12-31T23:00:00Z", "2027-01-01T23:00:00Z");
    ASSERT_EQ(days.size(), 1U);
    EXPECT_EQ(days[0].label, "2027-01-01");
    expect_energy(days[0], 240, 1.0);
}

TEST_F(RollupTest, ReplayingTheFeedAndRecomputingFromScratchGiveIdenticalRows) {
    home("Europe/Berlin");
    const auto dev = device("x");
    auto feed = make({dev, at("2026-10-24T20:00:00Z"), at("2026-10-26T04:00:00Z"), 17s, 0});
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> w(0, 2000);
    double wh = 10;
    for (std::size_t i = 0; i < feed.size(); ++i) {
        feed[i].power_w = w(rng);
        if (i > 0) wh += *feed[i - 1].power_w * 17.0 / 3600.0;
        feed[i].energy_wh = wh;
    }
    write(feed);
    roll();
    const auto first = dump(dev);
    write(feed);  // replay: all duplicates, nothing marked dirty
    roll();
    EXPECT_EQ(dump(dev), first);
    {
        pqxx::connection c(db_->dsn());
        pqxx::nontransaction tx(c);
        for (const char* t : {"energy_minute", "energy_hour", "energy_day", "energy_week", "energy_month"})
            tx.exec(std::string("DELETE FROM ") + t);
    }
    store::RollupWorker worker(db_->dsn(), clock_);
    ASSERT_TRUE(worker.recompute(dev, at("2026-10-24T00:00:00Z"), at("2026-10-27T00:00:00Z")));
    EXPECT_EQ(dump(dev), first);
    // The whole local day of 25 hours: energy equals the counter difference.
    const auto days = query(dev, Resolution::Day, "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z");
    ASSERT_EQ(days.size(), 1U);
    EXPECT_NEAR(days[0].coverage, 1.0, 1e-9);
}

// One pass rolls up the marks of many device channels at once (set-based: a fixed number of
// statements per pass, whatever the number of plugs). Dense and sparse feeds, late batches and
// marks whose context windows overlap must give the same rows, bit for bit, as recomputing
// each device from scratch in small chunks; and hours of a +5:45 zone start at :15 UTC.
TEST_F(RollupTest, OneSetBasedPassOverManyDevicesEqualsRecomputingEachFromScratch) {
    home("Asia/Kathmandu");
    std::vector<std::string> devs;
    std::vector<Reading> all;
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> w(0, 2000);
    for (int d = 0; d < 6; ++d) {
        devs.push_back(device("m" + std::to_string(d)));
        // Dense (17 s), minute, and sparse (every 2 h: each mark is its own range, and their
        // context windows overlap) feeds over two local days.
        const auto step = d % 3 == 0 ? 17s : d % 3 == 1 ? 60s : std::chrono::seconds(2h);
        auto feed = make({devs.back(), at("2026-03-01T00:00:00Z"), at("2026-03-03T00:00:00Z"), step, 0});
        double wh = 100.0 * d;
        for (std::size_t i = 0; i < feed.size(); ++i) {
            feed[i].power_w = w(rng);
            if (i > 0)
                wh += *feed[i - 1].power_w * std::chrono::duration<double>(step).count() / 3600.0;
            if (d != 4) feed[i].energy_wh = wh;  // one plug without a counter
            else feed[i].energy_wh.reset();
        }
        all.insert(all.end(), feed.begin(), feed.end());
    }
    // Every 7th reading arrives late, in a batch of its own after the rest.
    std::vector<Reading> on_time, late;
    for (std::size_t i = 0; i < all.size(); ++i) (i % 7 == 3 ? late : on_time).push_back(all[i]);
    write(on_time);
    write(late);
    const auto marks = scalar("SELECT count(*) FROM rollup_dirty");
    ASSERT_GT(marks, 100);
    {
        store::RollupWorker w1(db_->dsn(), clock_);
        auto r = w1.process_pending();
        ASSERT_TRUE(r) << r.error().describe();
        EXPECT_EQ(w1.stats().passes, 1U) << "all the marks in one pass";
    }
    std::string first;
    for (const auto& d : devs) first += dump(d);
    {
        pqxx::connection c(db_->dsn());
        pqxx::nontransaction tx(c);
        for (const char* t : {"energy_minute", "energy_hour", "energy_day", "energy_week", "energy_month"})
            tx.exec(std::string("DELETE FROM ") + t);
    }
    store::RollupWorkerOptions opt;
    opt.chunk = 5h;  // chunk edges inside local days and hours
    store::RollupWorker w2(db_->dsn(), clock_, opt);
    for (const auto& d : devs)
        ASSERT_TRUE(w2.recompute(d, at("2026-02-28T00:00:00Z"), at("2026-03-04T00:00:00Z")));
    std::string again;
    for (const auto& d : devs) again += dump(d);
    EXPECT_EQ(again, first);
    // Local hours of Kathmandu (+5:45) start at :15 UTC.
    EXPECT_EQ(scalar("SELECT count(*) FROM energy_hour WHERE extract(minute FROM bucket_start) <> 15"), 0);
    EXPECT_EQ(scalar("SELECT count(DISTINCT device_id) FROM energy_month"), 6);
}

TEST_F(RollupTest, GroupsSumTheirDevicesWithCoverage) {
    home("Europe/Berlin");
    (void)store_->add_room({"u", "home", "kitchen", 0});
    const auto a = device("a");
    const auto b = device("b", "u", "home", "kitchen");
    write(make({a, at("2026-06-01T00:00:00Z"), at("2026-06-01T02:00:00Z"), 60s, 100}));
    write(make({b, at("2026-06-01T00:00:00Z"), at("2026-06-01T01:00:00Z"), 60s, 50}));
    roll();
    const auto home_hours = query("u/home", Resolution::Hour, "2026-06-01T00:00:00Z", "2026-06-01T02:00:00Z");
    ASSERT_EQ(home_hours.size(), 2U);
    expect_energy(home_hours[0], 150, 1.0);
    expect_energy(home_hours[1], 100, 0.5);  // b's last sample at 01:00 holds nothing
    EXPECT_EQ(home_hours[1].members, 2);
    const auto user = query("u", Resolution::Day, "2026-05-31T22:00:00Z", "2026-06-01T22:00:00Z");
    ASSERT_EQ(user.size(), 1U);
    expect_energy(user[0], 250, 3.0 / 48.0);
    const auto kitchen = query("u/home/kitchen", Resolution::Hour, "2026-06-01T00:00:00Z", "2026-06-01T02:00:00Z");
    ASSERT_EQ(kitchen.size(), 2U);
    expect_energy(kitchen[0], 50, 1.0);
    EXPECT_FALSE(kitchen[1].energy_wh);  // one sample, no known interval: unknown, not zero
    EXPECT_EQ(kitchen[1].samples, 1);
    store::PgEnergyHistory h(db_->dsn());
    auto missing = h.query_energy("u/nohome", Resolution::Day, at("2026-06-01T00:00:00Z"), at("2026-06-02T00:00:00Z"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, ErrorCode::NotFound);
}

TEST_F(RollupTest, WorkerThreadFollowsTheWriterAndReportsLag) {
    home("UTC");
    const auto dev = device("t");
    store::ReadingWriter writer(db_->dsn(), clock_);
    store::RollupWorkerOptions opt;
    opt.poll_interval = 50ms;
    store::RollupWorker worker(db_->dsn(), clock_, opt);
    for (const auto& r : make({dev, at("2026-06-01T00:00:00Z"), at("2026-06-01T01:00:00Z"), 60s, 60}))
        ASSERT_TRUE(writer.submit(r));
    ASSERT_TRUE(writer.flush());
    {
        store::RollupWorker probe(db_->dsn(), clock_);
        (void)probe.recompute(dev, at("2026-06-01T00:00:00Z"), at("2026-06-01T00:01:00Z"));
    }
    worker.start();
    for (int i = 0; i < 100 && scalar("SELECT count(*) FROM rollup_dirty") > 0; ++i)
        std::this_thread::sleep_for(50ms);
    std::this_thread::sleep_for(100ms);
    worker.stop();
    EXPECT_EQ(worker.stats().pending, 0U);
    EXPECT_EQ(worker.stats().lag, std::chrono::seconds(0));
    const auto h = query(dev, Resolution::Hour, "2026-06-01T00:00:00Z", "2026-06-01T01:00:00Z");
    ASSERT_EQ(h.size(), 1U);
    expect_energy(h[0], 60, 1.0);
}

// Passes follow each other at once while there is a backlog (a pass took claims_per_pass marks),
// and only then wait for poll_interval: a backlog must not drain at one pass per interval.
TEST_F(RollupTest, ABacklogDrainsInBackToBackPassesWithoutWaitingForTheInterval) {
    home("UTC");
    std::vector<Reading> readings;
    for (int d = 0; d < 4; ++d)
        for (const auto& r : make({device("b" + std::to_string(d)), at("2026-06-01T00:00:00Z"),
                                   at("2026-06-03T00:00:00Z"), 2h, 100}))
            readings.push_back(r);
    write(readings);
    const auto marks = scalar("SELECT count(*) FROM rollup_dirty");
    ASSERT_GE(marks, 100);  // readings two hours apart: no two share a mark
    store::RollupWorkerOptions opt;
    opt.claims_per_pass = 30;
    opt.poll_interval = std::chrono::hours(1);  // a wait for it would outlast the bound below
    store::RollupWorker worker(db_->dsn(), clock_, opt);
    worker.start();
    // Bounded (20 s): passes of at most 30 marks each.
    for (int i = 0; i < 400 && scalar("SELECT count(*) FROM rollup_dirty") > 0; ++i)
        std::this_thread::sleep_for(50ms);
    EXPECT_EQ(scalar("SELECT count(*) FROM rollup_dirty"), 0) << "the backlog waited for poll_interval";
    worker.stop();
    EXPECT_EQ(worker.stats().passes, static_cast<std::uint64_t>(marks + 29) / 30);
    EXPECT_EQ(scalar("SELECT count(DISTINCT device_id) FROM energy_day"), 4);
}

// A bridge with thousands of plugs stops with a large rollup backlog. stop() must not wait for a
// long pass to finish (SIGTERM once took over 20 s): the pass in progress gives up between its
// steps and rolls back, so no mark is lost and the next start rolls everything up. A pass is
// set-based and may also finish before stop() reaches it; either way it is all or nothing.
TEST_F(RollupTest, StopDuringALongPassIsPromptAndKeepsTheMarks) {
    home("UTC");
    std::vector<std::string> devs;
    for (int d = 0; d < 4; ++d) devs.push_back(device("p" + std::to_string(d)));
    std::vector<Reading> readings;
    // 25 readings per plug two hours apart: 100 marks that no merge joins into fewer ranges.
    for (const auto& dev : devs)
        for (const auto& r : make({dev, at("2026-06-01T00:00:00Z"), at("2026-06-03T00:00:00Z"), 2h, 100}))
            readings.push_back(r);
    ASSERT_EQ(readings.size(), 100U);
    write(readings);
    const auto marks = scalar("SELECT count(*) FROM rollup_dirty");
    ASSERT_GE(marks, 100);

    store::RollupWorker worker(db_->dsn(), clock_);
    worker.start();
    // Bounded: wait until the pass holds a range's advisory lock, i.e. it is inside the pass.
    bool inside = false;
    for (int i = 0; i < 5000 && !inside; ++i)
        inside = scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted") > 0;
    ASSERT_TRUE(inside) << "the worker never started its pass";
    SystemClock wall;
    const auto t0 = wall.steady();
    worker.stop();
    const auto took = wall.steady() - t0;
    EXPECT_LT(took, 1s) << "stop() took "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                        << " ms";
    const auto left = scalar("SELECT count(*) FROM rollup_dirty");
    if (left != 0) EXPECT_EQ(left, marks) << "an abandoned pass must leave every mark it claimed";
    else EXPECT_EQ(scalar("SELECT count(DISTINCT device_id) FROM energy_day"), 4) << "a finished pass wrote its rollups";

    roll();
    EXPECT_EQ(scalar("SELECT count(*) FROM rollup_dirty"), 0);
    EXPECT_EQ(scalar("SELECT count(DISTINCT device_id) FROM energy_day"), 4);
}

}  // namespace
}  // namespace intelergy::test
