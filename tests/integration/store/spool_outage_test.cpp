// A real PostgreSQL outage under the store writer: the test owns a private cluster, stops it
// while readings keep coming, starts it again, and checks that every reading is stored exactly
// once and the energy books are the newest. Also: a spool replayed twice (a crash after the
// commit, before the segment was deleted) only produces duplicates the database ignores.
#include "common/temp_dir.hpp"
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <pqxx/pqxx>
#include <thread>

#include "intelergy/store/pg_store.hpp"
#include "intelergy/store/reading_writer.hpp"
#include "intelergy/store/spool.hpp"
#include "store_fixture.hpp"
#include "support/private_postgres.hpp"

namespace intelergy::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using store::ReadingWriter;
using store::ReadingWriterOptions;

// Each test directory is named after its file.
class TempDir : public test::TempDir {
public:
    TempDir() : test::TempDir("intelergy-spool-it") {}
};

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit) {
    SystemClock clock;
    const auto deadline = clock.steady() + limit;
    while (!pred()) {
        if (clock.steady() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polls stats, bounded above
    }
    return true;
}

std::size_t segment_files(const fs::path& dir) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".seg";
    return n;
}

const SysTime T0 = SysTime{std::chrono::milliseconds(1'780'000'000'000)};  // 2026-05-28

Reading reading(const std::string& dev, int i) {
    Reading r;
    r.device_id = dev;
    r.ts = T0 + std::chrono::seconds(10 * i);
    r.power_w = 100 + i % 7;
    r.voltage_v = 230;
    r.relay = true;
    r.counter_raw = 500.0 + i;
    r.energy_wh = 1000.0 + i;
    return r;
}

store::EnergyBookRow book(const std::string& dev, int i) {
    return store::EnergyBookRow{dev, 0, 500.0 + i, 500, 1000.0 + i,
                                T0 + std::chrono::seconds(10 * i), 0};
}

class SpoolOutageTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!pg_dsn()) GTEST_SKIP() << "INTELERGY_TEST_PG_DSN not set (integration run only)";
        if (!pg_.unavailable().empty()) GTEST_SKIP() << pg_.unavailable();
        std::string err;
        ASSERT_TRUE(pg_.start(&err)) << err;
        store::PgStore s(pg_.dsn());
        ASSERT_TRUE(s.migrate());
        ASSERT_TRUE(s.add_user("u"));
        ASSERT_TRUE(s.add_profile({"u", "home", "UTC", std::nullopt, "", 0}));
        ASSERT_TRUE(s.add_room({"u", "home", "r", 0}));
        for (const char* name : {"a", "b"}) {
            store::DeviceRow d;
            d.id = std::string("shelly-") + name;
            d.user = "u";
            d.profile = "home";
            d.room = "r";
            d.name = name;
            d.mac = std::string("mac-") + name;
            d.model = "SNPL-00112EU";
            ASSERT_TRUE(s.add_device(d));
        }
    }

    std::unique_ptr<ReadingWriter> writer(const fs::path& spool_dir) {
        auto spool = store::Spool::open(spool_dir);
        EXPECT_TRUE(spool) << (spool ? "" : spool.error().describe());
        ReadingWriterOptions o;
        o.batch_size = 50;
        o.queue_capacity = 100;  // far less than the outage brings
        o.flush_interval = 20ms;
        o.retry_initial = 50ms;
        o.retry_max = 400ms;
        return std::make_unique<ReadingWriter>(store::make_pg_batch_sink(pg_.dsn()),
                                               spool ? std::move(*spool) : nullptr, clock_, o);
    }

    double scalar(const std::string& sql) {
        pqxx::connection c(pg_.dsn());
        pqxx::nontransaction tx(c);
        const auto r = tx.exec1(sql);
        return r[0].is_null() ? -1.0 : r[0].as<double>();
    }

    void submit(ReadingWriter& w, int from, int to) {
        for (int i = from; i < to; ++i)
            for (const char* dev : {"shelly-a", "shelly-b"})
                ASSERT_TRUE(w.submit(reading(dev, i), book(dev, i)));
    }

    PrivatePostgres pg_;
    FixedClock clock_{T0 + std::chrono::hours(24)};
};

TEST_F(SpoolOutageTest, ReadingsDuringAnOutageAreStoredExactlyOnceAndBooksAreTheNewest) {
    TempDir spool_dir;
    auto w = writer(spool_dir.path());
    submit(*w, 0, 100);
    ASSERT_TRUE(w->flush(30s));
    EXPECT_EQ(scalar("SELECT count(*) FROM readings"), 200);

    std::string err;
    ASSERT_TRUE(pg_.stop(&err)) << err;
    submit(*w, 100, 400);  // 600 readings: six times the memory queue
    ASSERT_TRUE(eventually([&] { return w->stats().spooled == 600; }, 60s))
        << "spooled=" << w->stats().spooled << " err=" << w->stats().last_error;
    auto st = w->stats();
    EXPECT_GT(st.failures, 0U);
    EXPECT_FALSE(st.last_error.empty());
    EXPECT_GT(st.spool_records, 0U);
    EXPECT_GT(st.spool_bytes, 0U);
    EXPECT_GT(segment_files(spool_dir.path()), 0U);
    EXPECT_FALSE(w->flush(100ms));

    ASSERT_TRUE(pg_.start(&err)) << err;
    submit(*w, 400, 500);  // live readings while the spool drains
    ASSERT_TRUE(w->flush(60s)) << w->stats().last_error;
    st = w->stats();
    EXPECT_EQ(st.written, 1000U);
    EXPECT_EQ(st.duplicates, 0U);
    EXPECT_EQ(st.replayed, st.spooled);
    EXPECT_EQ(st.spool_dropped, 0U);
    EXPECT_EQ(st.spool_records, 0U);
    EXPECT_EQ(st.spool_bytes, 0U);
    EXPECT_TRUE(st.last_error.empty());
    EXPECT_EQ(segment_files(spool_dir.path()), 0U);

    // Every reading exactly once (the primary key forbids twins; the count and sum prove none
    // is missing), with its values.
    EXPECT_EQ(scalar("SELECT count(*) FROM readings"), 1000);
    EXPECT_EQ(scalar("SELECT count(DISTINCT (device_id, ts)) FROM readings"), 1000);
    EXPECT_EQ(scalar("SELECT sum(energy_wh - 1000) FROM readings"), 2.0 * (499 * 500 / 2));
    EXPECT_EQ(scalar("SELECT count(*) FROM readings WHERE voltage_v = 230 AND relay AND "
                     "counter_raw = energy_wh - 500"),
              1000);
    EXPECT_EQ(scalar("SELECT min(lifetime_wh) FROM energy_books"), 1499);
    EXPECT_EQ(scalar("SELECT max(last_raw_wh) FROM energy_books"), 999);
    EXPECT_EQ(scalar("SELECT min(last_raw_wh) FROM energy_books"), 999);
    EXPECT_EQ(scalar("SELECT count(*) FROM energy_books"), 2);
    // The spooled readings marked their minutes dirty like live ones.
    EXPECT_EQ(scalar("SELECT count(*) FROM readings r WHERE NOT EXISTS (SELECT 1 FROM "
                     "rollup_dirty d WHERE d.device_id = r.device_id AND r.ts BETWEEN d.from_ts "
                     "AND d.to_ts)"),
              0);
}

TEST_F(SpoolOutageTest, ASpoolReplayedTwiceStoresEveryReadingOnce) {
    TempDir spool_dir;
    std::string err;
    ASSERT_TRUE(pg_.stop(&err)) << err;
    {
        auto w = writer(spool_dir.path());
        submit(*w, 0, 150);
        w->stop();  // the database is down: the spool keeps everything
        EXPECT_EQ(w->stats().spooled, 300U);
        EXPECT_EQ(w->stats().abandoned, 0U);
    }
    const fs::path copy = spool_dir.path() / "copy";
    fs::create_directory(copy);
    for (const auto& e : fs::directory_iterator(spool_dir.path()))
        if (e.path().extension() == ".seg") fs::copy_file(e.path(), copy / e.path().filename());
    ASSERT_TRUE(pg_.start(&err)) << err;
    {
        auto w = writer(spool_dir.path());
        ASSERT_TRUE(w->flush(60s)) << w->stats().last_error;
        EXPECT_EQ(w->stats().written, 300U);
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM readings"), 300);
    // As if the process died after those commits but before the segments were deleted.
    for (const auto& e : fs::directory_iterator(copy))
        fs::copy_file(e.path(), spool_dir.path() / e.path().filename());
    auto w = writer(spool_dir.path());
    ASSERT_TRUE(w->flush(60s)) << w->stats().last_error;
    EXPECT_EQ(w->stats().written, 0U);
    EXPECT_EQ(w->stats().duplicates, 300U);
    EXPECT_EQ(scalar("SELECT count(*) FROM readings"), 300);
    EXPECT_EQ(scalar("SELECT min(lifetime_wh) FROM energy_books"), 1149);
    EXPECT_EQ(scalar("SELECT min(last_raw_wh) FROM energy_books"), 649);
}

}  // namespace
}  // namespace intelergy::test
