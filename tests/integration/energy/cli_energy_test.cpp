// `intelergy report` and `intelergy import` as a user runs them: the real executable against
// an in-process bridge (report) and the test database (import).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "energy_fixture.hpp"

extern char** environ;

namespace intelergy::test {
namespace {

using namespace std::chrono_literals;

struct ProcResult {
    int code{-1};
    std::string out, err;
};

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

ProcResult run(std::vector<std::string> args, const std::string& tag) {
    const std::string out = "/tmp/" + tag + ".out", err = "/tmp/" + tag + ".err";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    args.insert(args.begin(), std::string(INTELERGY_BINARY_DIR) + "/intelergy");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    ProcResult r;
    if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0) {
        int status = 0;
        waitpid(pid, &status, 0);
        r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    posix_spawn_file_actions_destroy(&actions);
    r.out = slurp(out);
    r.err = slurp(err);
    std::remove(out.c_str());
    std::remove(err.c_str());
    return r;
}

class EnergyCliTest : public EnergyFixture {
protected:
    void SetUp() override {
        EnergyFixture::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        cfg_ = "/tmp/" + base_ + "-energy.toml";
        std::ofstream(cfg_) << "[mqtt]\nurl = \"" << *mqtt_url() << "\"\nbase_topic = \"" << base_
                            << "\"\n[postgres]\ndsn = \"" << db_->dsn() << "\"\n";
        home("Europe/Berlin", "alice", "home", "kitchen");
        home("Europe/Berlin", "alice", "home", "living");
    }
    void TearDown() override {
        if (!cfg_.empty()) std::remove(cfg_.c_str());
        EnergyFixture::TearDown();
    }
    ProcResult intelergy(std::vector<std::string> args) {
        args.push_back("-c");
        args.push_back(cfg_);
        return run(std::move(args), base_);
    }
    std::string cfg_;
};

TEST_F(EnergyCliTest, ReportJsonCsvAndTable) {
    const auto a = device("a", "alice", "home", "kitchen");
    const auto b = device("b", "alice", "home", "kitchen");
    (void)device("c", "alice", "home", "living");  // no data: unknown, not zero
    auto all = make({a, at("2026-02-28T20:00Z"), at("2026-03-02T02:00Z")});
    Feed fb{b, at("2026-02-28T20:00Z"), at("2026-03-02T02:00Z")};
    fb.watts = 50;
    fb.counter = false;
    for (auto& r : make(fb)) all.push_back(r);
    write(all);
    roll();

    auto r = intelergy({"report", "alice/home", "--by", "room", "--from", "2026-03-01", "--to",
                        "2026-03-01", "--compare", "previous", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto j = Json::parse(r.out);
    EXPECT_EQ(j["timezone"], "Europe/Berlin");
    EXPECT_EQ(j["from"], "2026-02-28T23:00:00.000Z");
    EXPECT_NEAR(j["total_wh"].get<double>(), 3600.0, 0.01);
    ASSERT_EQ(j["members"].size(), 2U);
    EXPECT_EQ(j["members"][0]["name"], "kitchen");
    EXPECT_NEAR(j["members"][0]["energy_wh"].get<double>(), 3600.0, 0.01);
    EXPECT_NEAR(j["members"][0]["share"].get<double>(), 1.0, 1e-9);
    EXPECT_NEAR(j["members"][0]["coverage"].get<double>(), 1.0, 1e-9);
    // 28 Feb local: data from 21:00 to midnight, 150 W for 3 h.
    EXPECT_NEAR(j["members"][0]["previous_wh"].get<double>(), 450.0, 0.01);
    EXPECT_NEAR(j["members"][0]["change"].get<double>(), 7.0, 1e-6);
    EXPECT_EQ(j["members"][1]["name"], "living");
    EXPECT_TRUE(j["members"][1]["energy_wh"].is_null());
    EXPECT_NEAR(j["previous"]["total_wh"].get<double>(), 450.0, 0.01);

    r = intelergy({"report", "alice/home/kitchen", "--from", "2026-03-01", "--to", "2026-03-01",
                   "--csv"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out,
              "member,path,energy_kwh,share_pct,coverage_pct\n"
              "a,alice/home/kitchen/a,2.40000,66.67,100.00\n"
              "b,alice/home/kitchen/b,1.20000,33.33,100.00\n"
              "total,alice/home/kitchen,3.60000,100.00,100.00\n");

    r = intelergy({"report", "alice/home", "--from", "2026-03-01", "--to", "2026-03-01"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("alice/home by room, 2026-03-01 .. 2026-03-01 (Europe/Berlin)"),
              std::string::npos) << r.out;
    EXPECT_NE(r.out.find("kitchen"), std::string::npos);
    EXPECT_NE(r.out.find("3.600"), std::string::npos) << r.out;

    // Current period (no data today): works and names the zone.
    r = intelergy({"report", "alice", "--period", "week", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(Json::parse(r.out)["members"][0]["path"], "alice/home");

    r = intelergy({"report", "alice/nohome", "--json"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("alice/nohome"), std::string::npos) << r.err;
    r = intelergy({"report", "alice", "--period", "year"});
    EXPECT_EQ(r.code, 2);
}

TEST_F(EnergyCliTest, ImportRollsUpAndWeeklyTotalsMatch) {
    const auto d = device("d", "alice", "home", "living");
    // Two ISO weeks of minute readings, 200 W with a counter: Mon 2026-01-05 .. Sun 2026-01-18
    // local, i.e. 2026-01-04T23:00Z .. 2026-01-18T23:00Z (the last sample closes the range).
    const std::string csv = "/tmp/" + base_ + "-good.csv";
    {
        std::ofstream f(csv);
        f << "timestamp;power_w;energy_wh\n";
        const auto from = at("2026-01-04T23:00Z");
        for (int i = 0; i <= 14 * 1440; ++i) {
            const auto t = from + std::chrono::minutes(i);
            const double wh = 5000.0 + 200.0 * i / 60.0;
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.4f", wh);
            std::string counter = buf;
            counter[counter.find('.')] = ',';  // decimal comma with ';'
            if (i % 2)
                f << std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
            else
                f << format_iso8601(t);
            f << ";200;" << counter << "\n";
        }
    }
    auto r = intelergy({"import", "--csv", csv, "--device", "alice/home/living/d"});
    std::remove(csv.c_str());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("imported 20161 reading(s)"), std::string::npos) << r.out;
    EXPECT_EQ(r.err, "");  // not a terminal: no progress bar

    const auto q = query({{"device", d}, {"resolution", "week"}, {"from", "2026-01-05"},
                          {"to", "2026-01-19"}});
    ASSERT_EQ(q["buckets"].size(), 2U);
    EXPECT_EQ(q["buckets"][0]["label"], "2026-W02");
    EXPECT_EQ(q["buckets"][1]["label"], "2026-W03");
    for (const auto& b : q["buckets"]) {
        EXPECT_NEAR(b["energy_wh"].get<double>(), 200.0 * 168, 0.01);
        EXPECT_NEAR(b["coverage"].get<double>(), 1.0, 1e-9);
    }
    // Importing the same file again stores nothing twice.
    // (duplicates are reported, the totals stay)
}

// Issue 5 "Done when": an importer run of a year of minute data for one plug finishes and its
// weekly totals match. Whole ISO weeks of minutes in Europe/Berlin ending Sunday 2026-11-22
// local, with a power that changes every minute, so every day and week has its own exactly
// known energy (the counter is the running sum of P/60). By default 5 weeks (50k rows, the
// autumn 25-hour day inside); INTELERGY_TEST_IMPORT_WEEKS=52 runs the whole year, 2025-11-24 ..
// 2026-11-22 with both DST changes (524,161 rows; bench/RESULTS.md has its time).
TEST_F(EnergyCliTest, ImportOfWeeksOfMinutesGivesExactDaysAndWeeks) {
    long weeks_n = 5;
    if (const char* w = std::getenv("INTELERGY_TEST_IMPORT_WEEKS")) weeks_n = std::strtol(w, nullptr, 10);
    ASSERT_TRUE(weeks_n >= 1 && weeks_n <= 52) << "INTELERGY_TEST_IMPORT_WEEKS must be 1..52";
    const auto weeks_count = static_cast<std::size_t>(weeks_n);
    const auto d = device("y", "alice", "home", "living");
    const auto spring = at("2026-03-29T01:00Z"), autumn = at("2026-10-25T01:00Z");
    const auto to = at("2026-11-22T23:00Z");  // Monday 2026-11-23 00:00 local (last sample)
    auto from = to - std::chrono::days(7 * weeks_n);  // a local Monday 00:00 ...
    if (from >= spring && from < autumn) from -= std::chrono::hours(1);  // ... in summer time
    auto local_day = [&](SysTime t) {  // days since the epoch, local to Europe/Berlin
        const auto off = (t >= spring && t < autumn) ? std::chrono::hours(2) : std::chrono::hours(1);
        return std::chrono::floor<std::chrono::days>(t + off).time_since_epoch().count();
    };
    auto date_of = [](long day) {
        const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
        char buf[16];
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
        return std::string(buf);
    };
    const auto first_day = local_day(from);
    const std::size_t days_count = 7 * weeks_count;
    std::vector<double> day_wh(days_count, 0.0);
    const std::string csv = "/tmp/" + base_ + "-weeks.csv";
    std::size_t rows = 0;
    {
        std::ofstream f(csv);
        f << "timestamp,power_w,energy_wh\n";
        double counter = 1000.0;
        double written = counter;  // the counter as written (6 decimals): the truth uses it
        for (auto t = from; t <= to; t += std::chrono::minutes(1), ++rows) {
            const auto i = static_cast<long>(rows);
            const double watts = 20.0 + 7.0 * static_cast<double>(i % 13) +
                                 90.0 * static_cast<double>((i / 60) % 24 >= 18);
            char buf[96];
            std::snprintf(buf, sizeof buf, "%lld,%.1f,%.6f\n",
                          static_cast<long long>(
                              std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())
                                  .count()),
                          watts, counter);
            f << buf;
            const double now_written = std::strtod(std::strrchr(buf, ',') + 1, nullptr);
            if (rows > 0)
                day_wh[static_cast<std::size_t>(local_day(t - std::chrono::minutes(1)) - first_day)] +=
                    now_written - written;
            written = now_written;
            counter += watts / 60.0;
        }
    }
    // The 25-hour day adds an hour of minutes; with the whole year, the 23-hour day takes it back.
    const int short_expected = weeks_count > 34 ? 1 : 0;  // 2026-03-29
    ASSERT_EQ(rows, days_count * 1440U + 1U + (short_expected ? 0U : 60U));
    const auto t0 = SystemClock().steady();
    auto r = intelergy({"import", "--csv", csv, "--device", "alice/home/living/y"});
    const double seconds = std::chrono::duration<double>(SystemClock().steady() - t0).count();
    std::remove(csv.c_str());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("imported " + std::to_string(rows) + " reading(s)"), std::string::npos)
        << r.out;
    std::printf("import: %zu weeks, %zu readings imported and rolled up in %.1f s\n", weeks_count,
                rows, seconds);
    RecordProperty("import_seconds", std::to_string(seconds));

    const auto from_date = date_of(first_day);
    const auto days = query({{"device", d}, {"resolution", "day"}, {"from", from_date},
                             {"to", "2026-11-23"}});
    ASSERT_EQ(days["buckets"].size(), days_count);
    int short_days = 0, long_days = 0;
    for (std::size_t i = 0; i < days_count; ++i) {
        const auto& b = days["buckets"][i];
        EXPECT_EQ(b["label"], date_of(first_day + static_cast<long>(i)));
        EXPECT_NEAR(b["energy_wh"].get<double>(), day_wh[i], 0.01) << b["label"];
        EXPECT_NEAR(b["coverage"].get<double>(), 1.0, 1e-9) << b["label"];
        const auto hours = (at(b["end"].get<std::string>().c_str()) -
                            at(b["start"].get<std::string>().c_str())) / std::chrono::hours(1);
        short_days += hours == 23;
        long_days += hours == 25;
    }
    EXPECT_EQ(long_days, 1);                         // 2026-10-25
    EXPECT_EQ(short_days, short_expected);
    const auto weeks = query({{"device", d}, {"resolution", "week"}, {"from", from_date},
                              {"to", "2026-11-23"}});
    ASSERT_EQ(weeks["buckets"].size(), weeks_count);
    double all_wh = 0;
    for (std::size_t w = 0; w < weeks_count; ++w) {
        double truth = 0;
        for (std::size_t k = 0; k < 7; ++k) truth += day_wh[w * 7 + k];
        all_wh += truth;
        const auto& b = weeks["buckets"][w];
        EXPECT_NEAR(b["energy_wh"].get<double>(), truth, 0.01) << b["label"];
        EXPECT_NEAR(b["coverage"].get<double>(), 1.0, 1e-9) << b["label"];
    }
    EXPECT_EQ(weeks["buckets"][weeks_count - 1]["label"], "2026-W47");
    EXPECT_NEAR(weeks["total_wh"].get<double>(), all_wh, 0.01);
}

TEST_F(EnergyCliTest, ABadRowImportsNothingAndNamesTheLine) {
    (void)device("e", "alice", "home", "living");
    const std::string csv = "/tmp/" + base_ + "-bad.csv";
    std::ofstream(csv) << "timestamp,power_w\n"
                          "2026-01-05T00:00:00Z,100\n"
                          "2026-01-05T00:01:00Z,100\n"
                          "2026-01-05T00:02:00Z,100\n"
                          "2026-01-05T00:03:00Z,lots\n"
                          "2026-01-05T00:04:00Z,100\n";
    auto r = intelergy({"import", "--csv", csv, "--device", "shelly-e"});
    std::remove(csv.c_str());
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find(csv + ":5: power 'lots'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing was imported"), std::string::npos) << r.err;
    pqxx::connection c(db_->dsn());
    pqxx::nontransaction tx(c);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM readings")[0].as<long>(), 0);

    r = intelergy({"import", "--csv", "/nonexistent.csv", "--device", "shelly-e"});
    EXPECT_EQ(r.code, 2);
}

}  // namespace
}  // namespace intelergy::test
