// energy/query and the retained energy totals against a real bridge, PostgreSQL and broker,
// with synthetic feeds of exactly known energy (Europe/Berlin; a 23-hour DST day).
#include "energy_fixture.hpp"
#include "intelergy/fakes/fake_clock.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace intelergy::test {
namespace {

using namespace std::chrono_literals;

// alice/home (Europe/Berlin): kitchen holds a (100 W, counter) and b (50 W, no counter, a 2 h
// gap); living holds c (100 W, counter) over the spring-forward night of 2026-03-29.
class EnergyQueryTest : public EnergyFixture {
protected:
    void SetUp() override {
        EnergyFixture::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        home("Europe/Berlin", "alice", "home", "kitchen");
        home("Europe/Berlin", "alice", "home", "living");
        a_ = device("a", "alice", "home", "kitchen");
        b_ = device("b", "alice", "home", "kitchen");
        c_ = device("c", "alice", "home", "living");
        std::vector<Reading> all = make({a_, at("2026-02-28T20:00Z"), at("2026-03-02T02:00Z")});
        Feed fb{b_, at("2026-02-28T20:00Z"), at("2026-03-02T02:00Z")};
        fb.watts = 50;
        fb.counter = false;
        fb.gap_from = at("2026-03-01T09:00Z");  // last sample 08:59Z holds until 09:04Z
        fb.gap_to = at("2026-03-01T11:00Z");
        for (auto& r : make(fb)) all.push_back(r);
        for (auto& r : make({c_, at("2026-03-28T20:00Z"), at("2026-03-30T02:00Z")}))
            all.push_back(r);
        write(all);
        roll();
    }
    std::string a_, b_, c_;
};

TEST_F(EnergyQueryTest, DeviceHoursOfALocalDayAreExact) {
    const auto d = query({{"device", a_}, {"resolution", "hour"}, {"from", "2026-03-01"},
                          {"to", "2026-03-02"}});
    EXPECT_EQ(d["scope"], "alice/home/kitchen/a");
    EXPECT_EQ(d["kind"], "device");
    EXPECT_EQ(d["timezone"], "Europe/Berlin");
    EXPECT_EQ(d["from"], "2026-02-28T23:00:00.000Z");
    EXPECT_EQ(d["to"], "2026-03-01T23:00:00.000Z");
    ASSERT_EQ(d["buckets"].size(), 24U);
    EXPECT_EQ(d["buckets"][0]["start"], "2026-02-28T23:00:00.000Z");
    EXPECT_EQ(d["buckets"][0]["end"], "2026-03-01T00:00:00.000Z");
    EXPECT_EQ(d["buckets"][0]["label"], "2026-03-01T00:00+01:00");
    for (const auto& b : d["buckets"]) {
        EXPECT_NEAR(b["energy_wh"].get<double>(), 100.0, 0.01) << b.dump();
        EXPECT_NEAR(b["mean_power_w"].get<double>(), 100.0, 0.01);
        EXPECT_NEAR(b["max_power_w"].get<double>(), 100.0, 0.01);
        EXPECT_NEAR(b["coverage"].get<double>(), 1.0, 1e-9);
        EXPECT_EQ(b["samples"], 60);
    }
    EXPECT_NEAR(d["total_wh"].get<double>(), 2400.0, 0.01);
    EXPECT_NEAR(d["coverage"].get<double>(), 1.0, 1e-9);
}

TEST_F(EnergyQueryTest, AGapIsUnknownNotZero) {
    const auto d = query({{"device", "alice/home/kitchen/b"}, {"resolution", "hour"},
                          {"from", "2026-02-28T23:00:00Z"}, {"to", "2026-03-01T23:00:00Z"}});
    ASSERT_EQ(d["buckets"].size(), 23U);  // local 11:00 has no data: no bucket
    for (const auto& b : d["buckets"]) {
        EXPECT_NE(b["label"], "2026-03-01T11:00+01:00");
        if (b["label"] == "2026-03-01T10:00+01:00") {
            EXPECT_NEAR(b["energy_wh"].get<double>(), 50.0 * 4 / 60, 0.01);
            EXPECT_NEAR(b["coverage"].get<double>(), 240.0 / 3600, 1e-9);
        }
    }
    // 24 h minus [09:04Z, 11:00Z) covered, 50 W held.
    EXPECT_NEAR(d["total_wh"].get<double>(), 50.0 * (86400 - 6960) / 3600, 0.01);
    EXPECT_NEAR(d["coverage"].get<double>(), (86400.0 - 6960) / 86400, 1e-9);
}

TEST_F(EnergyQueryTest, RoomDaySumsItsDevicesWithCoverage) {
    const auto d = query({{"path", "alice/home/kitchen"}, {"resolution", "day"},
                          {"from", "2026-03-01"}, {"to", "2026-03-02"}});
    EXPECT_EQ(d["kind"], "room");
    ASSERT_EQ(d["buckets"].size(), 1U);
    const auto& b = d["buckets"][0];
    EXPECT_EQ(b["label"], "2026-03-01");
    EXPECT_NEAR(b["energy_wh"].get<double>(), 2400.0 + 50.0 * (86400 - 6960) / 3600, 0.01);
    EXPECT_NEAR(b["coverage"].get<double>(), (86400.0 + 86400 - 6960) / (2 * 86400), 1e-9);
}

TEST_F(EnergyQueryTest, SpringForwardDayHas23Hours) {
    const auto d = query({{"path", "alice/home/living"}, {"resolution", "day"},
                          {"from", "2026-03-29"}, {"to", "2026-03-30"}});
    ASSERT_EQ(d["buckets"].size(), 1U);
    EXPECT_EQ(d["buckets"][0]["start"], "2026-03-28T23:00:00.000Z");
    EXPECT_EQ(d["buckets"][0]["end"], "2026-03-29T22:00:00.000Z");
    EXPECT_NEAR(d["buckets"][0]["energy_wh"].get<double>(), 2300.0, 0.01);
    EXPECT_NEAR(d["coverage"].get<double>(), 1.0, 1e-9);
    const auto h = query({{"path", "alice/home/living"}, {"resolution", "hour"},
                          {"from", "2026-03-29"}, {"to", "2026-03-30"}});
    EXPECT_EQ(h["buckets"].size(), 23U);
    EXPECT_NEAR(h["total_wh"].get<double>(), 2300.0, 0.01);
}

TEST_F(EnergyQueryTest, ProfileWeekAndCurrentPeriod) {
    // ISO week 2026-W09 (Mon 23 Feb - Sun 1 Mar): a from 21:00 local on 28 Feb, 27 h.
    const auto d = query({{"path", "alice/home"}, {"resolution", "week"}, {"from", "2026-02-23"},
                          {"to", "2026-03-02"}});
    ASSERT_EQ(d["buckets"].size(), 1U);
    EXPECT_EQ(d["buckets"][0]["label"], "2026-W09");
    EXPECT_NEAR(d["buckets"][0]["energy_wh"].get<double>(),
                2700.0 + 50.0 * (27 * 3600 - 6960) / 3600, 0.01);
    // "period" = the local day/week/month containing now, in the scope's zone.
    const auto p = query({{"path", "alice"}, {"resolution", "day"}, {"period", "day"},
                          {"offset", -1}});
    const auto len = *parse_iso8601(p["to"].get<std::string>()) -
                     *parse_iso8601(p["from"].get<std::string>());
    EXPECT_TRUE(len == 23h || len == 24h || len == 25h) << p.dump();
    EXPECT_EQ(p["timezone"], "Europe/Berlin");
}

TEST_F(EnergyQueryTest, ErrorsNameTheProblem) {
    const auto err = [&](const Json& payload) {
        const auto r = request("energy/query", payload);
        EXPECT_EQ(r.value("status", ""), "error") << r.dump();
        return r.value("error", std::string());
    };
    const Json day{{"resolution", "hour"}, {"from", "2026-03-01T00:00Z"}, {"to", "2026-03-02T00:00Z"}};
    auto p = day;
    p["path"] = "alice/nohome";
    EXPECT_NE(err(p).find("unknown scope 'alice/nohome'"), std::string::npos);
    p = day;
    p["device"] = "shelly-nothere";
    EXPECT_NE(err(p).find("unknown scope 'shelly-nothere'"), std::string::npos);
    p = day;
    p["path"] = "alice/home/kitchen/zz";
    EXPECT_NE(err(p).find("alice/home/kitchen/zz"), std::string::npos);
    p = day;
    p["path"] = "alice";
    p["to"] = "2026-03-01T00:00Z";
    EXPECT_NE(err(p).find("'from' must be before 'to'"), std::string::npos);
    p = day;
    p["path"] = "alice";
    p["resolution"] = "minute";
    p["to"] = "2026-04-15T00:00Z";
    EXPECT_NE(err(p).find("at most 31 days"), std::string::npos);
    p = day;
    p["path"] = "alice";
    p["resolution"] = "year";
    EXPECT_NE(err(p).find("'resolution'"), std::string::npos);
    p = day;
    p["path"] = "alice";
    p["from"] = "yesterday";
    EXPECT_NE(err(p).find("'from'"), std::string::npos);
    p = day;
    p["path"] = "alice";
    p["device"] = a_;
    EXPECT_NE(err(p).find("exactly one"), std::string::npos);
    p = day;
    p["path"] = "alice";
    p["colour"] = "red";
    EXPECT_NE(err(p).find("colour"), std::string::npos);
}

TEST_F(EnergyQueryTest, TotalsArePublishedRetained) {
    fakes::FakeClock clock(at("2026-03-01T12:00Z"));
    const auto dsn = db_->dsn();
    bridge::EnergyTotalsPublisher totals(
        *mqtt_, base_, clock, [dsn] { return std::make_unique<store::PgStore>(dsn); },
        [dsn] { return std::make_unique<store::PgEnergyHistory>(dsn); });
    auto n = totals.refresh();
    ASSERT_TRUE(n) << n.error().describe();
    EXPECT_EQ(*n, 10U);  // 3 devices + 2 rooms, today and this week
    const auto payload = [&](const std::string& suffix) {
        const auto m = probe_->wait_for(base_ + "/" + suffix, 10s);
        EXPECT_TRUE(m) << suffix;
        return m ? Json::parse(m->payload) : Json::object();
    };
    auto today = payload("devices/" + a_ + "/energy_today");
    EXPECT_NEAR(today["energy_wh"].get<double>(), 2400.0, 0.01);
    EXPECT_EQ(today["since"], "2026-02-28T23:00:00.000Z");
    auto week = payload("devices/" + a_ + "/energy_week");
    EXPECT_NEAR(week["energy_wh"].get<double>(), 2700.0, 0.01);
    EXPECT_EQ(week["since"], "2026-02-22T23:00:00.000Z");
    auto room = payload("homes/alice/home/kitchen/energy_today");
    EXPECT_NEAR(room["energy_wh"].get<double>(), 2400.0 + 50.0 * (86400 - 6960) / 3600, 0.01);
    auto none = payload("devices/" + c_ + "/energy_today");  // no data on 1 March
    EXPECT_TRUE(none["energy_wh"].is_null()) << none.dump();
    // Unchanged totals are not re-published.
    auto again = totals.refresh();
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, 0U);
}

// Holds every query until the test opens the gate and counts the queries: query_energy
// calls and period_totals calls (the batch a totals round is).
class GatedHistory final : public store::EnergyHistory {
public:
    struct Gate {
        std::mutex m;
        std::condition_variable cv;
        bool inside{false};
        bool open{false};
        int queries{0};
        int batches{0};
        std::size_t requests{0};
    };
    GatedHistory(std::shared_ptr<Gate> gate, std::unique_ptr<store::EnergyHistory> real)
        : gate_(std::move(gate)), real_(std::move(real)) {}
    Result<std::vector<store::EnergyBucket>> query_energy(const std::string& scope,
                                                          store::Resolution resolution,
                                                          SysTime from, SysTime to) override {
        wait([&] { ++gate_->queries; });
        return real_->query_energy(scope, resolution, from, to);
    }
    Result<std::vector<store::PeriodTotal>> period_totals(
        const std::vector<store::TotalRequest>& requests) override {
        wait([&] {
            ++gate_->batches;
            gate_->requests += requests.size();
        });
        return real_->period_totals(requests);
    }

private:
    template <typename Count>
    void wait(Count count) {
        std::unique_lock lock(gate_->m);
        count();
        gate_->inside = true;
        gate_->cv.notify_all();
        gate_->cv.wait_for(lock, 10s, [&] { return gate_->open; });
    }
    std::shared_ptr<Gate> gate_;
    std::unique_ptr<store::EnergyHistory> real_;
};

// A round is one batched query for all devices and rooms (before issue 8 it was two queries
// per device and room: seconds with thousands of plugs). stop() (on SIGTERM) during the round
// must not publish anything of it.
TEST_F(EnergyQueryTest, StopAbandonsTheTotalsRoundInProgress) {
    fakes::FakeClock clock(at("2026-03-01T12:00Z"));
    const auto dsn = db_->dsn();
    auto gate = std::make_shared<GatedHistory::Gate>();
    bridge::EnergyTotalsPublisher totals(
        *mqtt_, base_, clock, [dsn] { return std::make_unique<store::PgStore>(dsn); },
        [dsn, gate] {
            return std::make_unique<GatedHistory>(gate, std::make_unique<store::PgEnergyHistory>(dsn));
        });
    totals.start();
    {
        std::unique_lock lock(gate->m);
        ASSERT_TRUE(gate->cv.wait_for(lock, 10s, [&] { return gate->inside; }));
    }
    // stop() joins the thread, so open the gate from another thread once stop() has been
    // called (it sets the abandon flag at once, then waits; 300 ms is ample).
    std::thread opener([&] {
        std::this_thread::sleep_for(300ms);
        std::lock_guard lock(gate->m);
        gate->open = true;
        gate->cv.notify_all();
    });
    totals.stop();
    opener.join();
    {
        // The whole round is one batch of 10 totals (3 devices and 2 rooms, today and this
        // week), no per-scope query.
        std::lock_guard lock(gate->m);
        EXPECT_EQ(gate->batches, 1);
        EXPECT_EQ(gate->requests, 10U);
        EXPECT_EQ(gate->queries, 0);
    }
    // Nothing of the abandoned round was published: a round now publishes all 10 topics.
    auto n = totals.refresh();
    ASSERT_TRUE(n) << n.error().describe();
    EXPECT_EQ(*n, 10U) << "a half-computed round was published";
}

TEST(LocalCalendar, PeriodsFollowTheZone) {
    using bridge::local_period;
    using store::Resolution;
    auto d = local_period("Europe/Berlin", Resolution::Day, at("2026-10-25T12:00Z"));
    ASSERT_TRUE(d);
    EXPECT_EQ(format_iso8601(d->from), "2026-10-24T22:00:00.000Z");
    EXPECT_EQ(format_iso8601(d->to), "2026-10-25T23:00:00.000Z");  // 25 h
    auto k = local_period("Asia/Kathmandu", Resolution::Day, at("2026-01-01T00:00Z"));
    ASSERT_TRUE(k);
    EXPECT_EQ(format_iso8601(k->from), "2025-12-31T18:15:00.000Z");
    auto w = local_period("America/New_York", Resolution::Week, at("2027-01-01T12:00Z"));
    ASSERT_TRUE(w);  // 2026-W53: Mon 28 Dec 2026 .. Sun 3 Jan 2027
    EXPECT_EQ(format_iso8601(w->from), "2026-12-28T05:00:00.000Z");
    EXPECT_EQ(format_iso8601(w->to), "2027-01-04T05:00:00.000Z");
    auto m = local_period("Europe/Berlin", Resolution::Month, at("2026-03-15T00:00Z"), -1);
    ASSERT_TRUE(m);
    EXPECT_EQ(format_iso8601(m->from), "2026-01-31T23:00:00.000Z");
    EXPECT_EQ(format_iso8601(m->to), "2026-02-28T23:00:00.000Z");
    EXPECT_FALSE(local_period("Mars/Olympus", Resolution::Day, at("2026-01-01T00:00Z")));
}

}  // namespace
}  // namespace intelergy::test
