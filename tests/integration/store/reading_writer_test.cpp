#include "intelergy/store/reading_writer.hpp"

#include <atomic>

#include "store_fixture.hpp"

namespace intelergy::test {
namespace {

using store::ReadingWriter;
using store::ReadingWriterOptions;

Reading reading(const std::string& dev, SysTime ts, double w, std::optional<double> wh) {
    Reading r;
    r.device_id = dev;
    r.ts = ts;
    r.power_w = w;
    r.energy_wh = wh;
    return r;
}

class ReadingWriterTest : public StoreFixture {};

TEST_F(ReadingWriterTest, WritesInBatchesAndStoresARedeliveredReadingOnce) {
    home("Europe/Berlin");
    const auto dev = device("a");
    FixedClock clock(at("2026-06-01T12:00:00Z"));
    ReadingWriterOptions opt;
    opt.batch_size = 64;
    ReadingWriter w(db_->dsn(), clock, opt);
    const auto t0 = at("2026-05-31T22:00:00Z");  // spans two monthly partitions
    for (int i = 0; i < 300; ++i)
        ASSERT_TRUE(w.submit(reading(dev, t0 + std::chrono::seconds(30 * i), 100, 1000 + i)));
    for (int i = 0; i < 50; ++i)  // redelivered
        ASSERT_TRUE(w.submit(reading(dev, t0 + std::chrono::seconds(30 * i), 100, 1000 + i)));
    ASSERT_TRUE(w.flush());
    const auto st = w.stats();
    EXPECT_EQ(st.submitted, 350U);
    EXPECT_EQ(st.written, 300U);
    EXPECT_EQ(st.duplicates, 50U);
    EXPECT_GE(st.batches, 6U);
    EXPECT_EQ(st.failures, 0U);
    EXPECT_EQ(st.queue_depth, 0U);
    EXPECT_TRUE(st.last_error.empty());
    EXPECT_EQ(scalar("SELECT count(*) FROM readings"), 300);
    EXPECT_EQ(scalar("SELECT count(*) FROM readings_202605"), 240);
    EXPECT_EQ(scalar("SELECT sum(energy_wh) - 300 * 1000 FROM readings"), 299 * 300 / 2);
    // Every inserted reading lies inside a dirty range written in the same transaction.
    EXPECT_EQ(scalar("SELECT count(*) FROM readings r WHERE NOT EXISTS (SELECT 1 FROM "
                     "rollup_dirty d WHERE d.device_id = r.device_id AND r.ts BETWEEN d.from_ts "
                     "AND d.to_ts)"),
              0);
    w.stop();
    EXPECT_FALSE(w.submit(reading(dev, t0, 1, 1)));
}

TEST_F(ReadingWriterTest, UpsertsTheNewestBookAndNeverLowersTheLifetime) {
    home("UTC");
    const auto dev = device("b");
    FixedClock clock(at("2026-06-01T12:00:00Z"));
    ReadingWriter w(db_->dsn(), clock);
    const auto t0 = at("2026-06-01T10:00:00Z");
    for (int i = 0; i < 5; ++i) {
        store::EnergyBookRow b{dev, 0, 10.0 + i, 0, 10.0 + i, t0 + std::chrono::seconds(i), 0};
        ASSERT_TRUE(w.submit(reading(dev, t0 + std::chrono::seconds(i), 5, 10 + i), b));
    }
    ASSERT_TRUE(w.flush());
    EXPECT_EQ(scalar("SELECT lifetime_wh FROM energy_books"), 14);
    store::EnergyBookRow lower{dev, 0, 3.0, 0, 3.0, t0 + std::chrono::seconds(9), 0};
    ASSERT_TRUE(w.submit(reading(dev, t0 + std::chrono::seconds(9), 5, 3), lower));
    // A book for a device that is not registered is skipped, not a poison batch.
    store::EnergyBookRow ghost{"shelly-ghost", 0, 1.0, 0, 1.0, t0, 0};
    ASSERT_TRUE(w.submit(reading("shelly-ghost", t0, 5, 1), ghost));
    ASSERT_TRUE(w.flush());
    EXPECT_EQ(scalar("SELECT lifetime_wh FROM energy_books"), 14);
    EXPECT_EQ(scalar("SELECT last_raw_wh FROM energy_books"), 3);
    EXPECT_EQ(scalar("SELECT count(*) FROM energy_books"), 1);
}

TEST_F(ReadingWriterTest, DropsAbsurdTimestampsAndCountsThem) {
    home("UTC");
    const auto dev = device("c");
    FixedClock clock(at("2026-06-01T12:00:00Z"));
    ReadingWriter w(db_->dsn(), clock);
    EXPECT_FALSE(w.submit(reading(dev, at("1970-01-01T00:00:10Z"), 1, 1)));
    EXPECT_FALSE(w.submit(reading(dev, at("1999-12-31T23:59:59Z"), 1, 1)));
    EXPECT_FALSE(w.submit(reading(dev, at("2026-06-02T12:00:01Z"), 1, 1)));
    EXPECT_TRUE(w.submit(reading(dev, at("2026-06-02T11:59:59Z"), 1, 1)));
    ASSERT_TRUE(w.flush());
    EXPECT_EQ(w.stats().rejected, 3U);
    EXPECT_EQ(w.stats().written, 1U);
}

// Fails the first `fail` writes, then passes through to PostgreSQL.
class FlakySink final : public store::BatchSink {
public:
    FlakySink(std::string dsn, int fail) : real_(store::make_pg_batch_sink(std::move(dsn))), fail_(fail) {}
    Result<store::BatchOutcome> write(const store::WriteBatch& b) override {
        if (fail_-- > 0) return make_error(ErrorCode::Unreachable, "injected outage");
        return real_->write(b);
    }

private:
    std::unique_ptr<store::BatchSink> real_;
    std::atomic<int> fail_;
};

TEST_F(ReadingWriterTest, KeepsTheBatchAcrossFailuresAndRetries) {
    home("UTC");
    const auto dev = device("d");
    FixedClock clock(at("2026-06-01T12:00:00Z"));
    ReadingWriterOptions opt;
    opt.retry_initial = std::chrono::milliseconds(10);
    ReadingWriter w(std::make_unique<FlakySink>(db_->dsn(), 3), clock, opt);
    const auto t0 = at("2026-06-01T10:00:00Z");
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(w.submit(reading(dev, t0 + std::chrono::seconds(i), 1, i)));
    ASSERT_TRUE(w.flush());
    EXPECT_EQ(w.stats().failures, 3U);
    EXPECT_EQ(w.stats().written, 20U);
    EXPECT_TRUE(w.stats().last_error.empty());
    EXPECT_EQ(scalar("SELECT count(*) FROM readings"), 20);
}

TEST_F(ReadingWriterTest, BuffersWhileTheDatabaseIsDownAndFlushTimesOut) {
    FixedClock clock(at("2026-06-01T12:00:00Z"));
    ReadingWriterOptions opt;
    opt.queue_capacity = 50;
    opt.retry_initial = std::chrono::milliseconds(10);
    opt.retry_max = std::chrono::milliseconds(50);
    opt.stop_timeout = std::chrono::milliseconds(200);
    ReadingWriter w("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1", clock, opt);
    const auto t0 = at("2026-06-01T10:00:00Z");
    for (int i = 0; i < 40; ++i) ASSERT_TRUE(w.submit(reading("x", t0 + std::chrono::seconds(i), 1, i)));
    const auto st = w.flush(std::chrono::milliseconds(300));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ErrorCode::Timeout);
    EXPECT_GT(w.stats().failures, 0U);
    EXPECT_FALSE(w.stats().last_error.empty());
    EXPECT_EQ(w.stats().queue_depth, 40U);
    w.stop();
    EXPECT_EQ(w.stats().abandoned, 40U);
}

}  // namespace
}  // namespace intelergy::test
