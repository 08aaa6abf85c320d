// ReadingWriter with a spool in front of a sink that can be "down": spooling, replay order,
// the full spool, books, restart. The sink behaves like PostgreSQL's (readings idempotent on
// device + channel + ts, books upserted with lifetime = max); the spool is real files.
#include "common/temp_dir.hpp"
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include "intelergy/core/clock.hpp"
#include "intelergy/store/reading_writer.hpp"
#include "intelergy/store/spool.hpp"

namespace intelergy::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Each test directory is named after its file.
class TempDir : public test::TempDir {
public:
    TempDir() : test::TempDir("intelergy-spoolw") {}
};

// What the "database" holds; shared by the sinks of several writers (restart tests).
struct Db {
    std::mutex mu;
    std::atomic<bool> up{true};
    std::atomic<int> fail_books_only{0};  // fail this many batches that carry books only
    std::map<std::tuple<std::string, int, std::int64_t>, double> readings;  // → energy_wh
    std::vector<std::int64_t> commit_order;  // ts of every inserted reading, in commit order
    std::map<std::pair<std::string, int>, EnergyBookRow> books;
    std::size_t writes{0};
};

class DbSink final : public BatchSink {
public:
    explicit DbSink(Db& db) : db_(db) {}
    Result<BatchOutcome> write(const WriteBatch& batch) override {
        if (!db_.up) return make_error(ErrorCode::Unreachable, "database unreachable: test");
        if (batch.readings.empty() && !batch.books.empty() && db_.fail_books_only > 0) {
            --db_.fail_books_only;
            return make_error(ErrorCode::Unreachable, "database unreachable: test (books)");
        }
        std::lock_guard lock(db_.mu);
        ++db_.writes;
        BatchOutcome out;
        for (const auto& r : batch.readings) {
            const auto key = std::make_tuple(r.device_id, int{r.channel}, r.ts.time_since_epoch().count());
            if (db_.readings.emplace(key, r.energy_wh.value_or(-1)).second) {
                ++out.inserted;
                db_.commit_order.push_back(r.ts.time_since_epoch().count());
            } else {
                ++out.duplicates;
            }
        }
        for (const auto& b : batch.books) {
            auto& slot = db_.books[{b.device_id, b.channel}];
            const double lifetime = std::max(slot.lifetime_wh, b.lifetime_wh);
            slot = b;
            slot.lifetime_wh = lifetime;
        }
        return out;
    }

private:
    Db& db_;
};

const SysTime T0{std::chrono::milliseconds(1'767'225'600'000)};  // 2026-01-01

Reading reading(const std::string& dev, int i) {
    Reading r;
    r.device_id = dev;
    r.ts = T0 + std::chrono::seconds(10 * i);
    r.power_w = 100;
    r.energy_wh = 1000.0 + i;
    return r;
}

EnergyBookRow book(const std::string& dev, int i) {
    return EnergyBookRow{dev, 0, 1000.0 + i, 0, 1000.0 + i, T0 + std::chrono::seconds(10 * i), 0};
}

// Waits for a condition the writer thread brings about; bounded.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 10s) {
    SystemClock clock;
    const auto deadline = clock.steady() + limit;
    while (!pred()) {
        if (clock.steady() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polls stats, bounded above
    }
    return true;
}

std::unique_ptr<Spool> open_spool(const fs::path& dir, std::uint64_t max_bytes = 64 << 20) {
    SpoolOptions o;
    o.max_bytes = max_bytes;
    o.segment_bytes = max_bytes / 4;
    auto s = Spool::open(dir, o);
    EXPECT_TRUE(s) << (s ? "" : s.error().describe());
    return s ? std::move(*s) : nullptr;
}

ReadingWriterOptions fast_options() {
    ReadingWriterOptions o;
    o.queue_capacity = 16;  // smaller than what an outage brings: the spool must take it
    o.batch_size = 8;
    o.flush_interval = 5ms;
    o.retry_initial = 5ms;
    o.retry_max = 20ms;
    o.stop_timeout = 30s;
    return o;
}

std::size_t segment_files(const fs::path& dir) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".seg";
    return n;
}

TEST(SpoolingWriter, SpoolsDuringAnOutageWithoutBlockingAndReplaysInOrderOnce) {
    TempDir tmp;
    Db db;
    SystemClock clock;
    ReadingWriter w(std::make_unique<DbSink>(db), open_spool(tmp.path()), clock, fast_options());
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(w.submit(reading("a", i), book("a", i)));
    ASSERT_TRUE(w.flush(10s));
    db.up = false;
    // 200 readings into a 16-reading queue: without the spool this would block the caller.
    for (int i = 20; i < 220; ++i) ASSERT_TRUE(w.submit(reading("a", i), book("a", i)));
    ASSERT_TRUE(eventually([&] { return w.stats().spooled == 200; }));
    EXPECT_FALSE(w.flush(50ms));  // not committed while the database is down
    auto st = w.stats();
    EXPECT_GT(st.spool_records, 0U);
    EXPECT_GT(st.spool_bytes, 0U);
    EXPECT_GT(st.failures, 0U);
    EXPECT_FALSE(st.last_error.empty());
    EXPECT_GT(segment_files(tmp.path()), 0U);
    db.up = true;
    // Live readings keep coming while the spool drains.
    for (int i = 220; i < 300; ++i) ASSERT_TRUE(w.submit(reading("a", i), book("a", i)));
    ASSERT_TRUE(w.flush(10s));
    st = w.stats();
    EXPECT_EQ(st.written, 300U);
    EXPECT_EQ(st.duplicates, 0U);
    EXPECT_EQ(st.replayed, st.spooled);
    EXPECT_EQ(st.spool_records, 0U);
    EXPECT_EQ(st.spool_bytes, 0U);
    EXPECT_EQ(st.spool_dropped, 0U);
    EXPECT_TRUE(st.last_error.empty());
    EXPECT_EQ(segment_files(tmp.path()), 0U);
    std::lock_guard lock(db.mu);
    ASSERT_EQ(db.readings.size(), 300U);
    // Live batches never overtook spooled ones: committed in submission order.
    ASSERT_EQ(db.commit_order.size(), 300U);
    for (std::size_t i = 1; i < db.commit_order.size(); ++i)
        ASSERT_LT(db.commit_order[i - 1], db.commit_order[i]) << i;
    EXPECT_EQ(db.books.at({"a", 0}).lifetime_wh, 1299.0);
    EXPECT_EQ(db.books.at({"a", 0}).last_raw_wh, 1299.0);
}

TEST(SpoolingWriter, AFullSpoolDropsReadingsLoudlyButKeepsTheNewestBooks) {
    TempDir tmp;
    Db db;
    db.up = false;
    SystemClock clock;
    std::mutex ev_mu;
    std::vector<std::pair<bool, std::uint64_t>> events;
    auto opt = fast_options();
    opt.on_spool_state = [&](bool full, std::uint64_t dropped, const std::string& reason) {
        std::lock_guard lock(ev_mu);
        events.emplace_back(full, dropped);
        if (full) {
            EXPECT_NE(reason.find("full"), std::string::npos) << reason;
        }
    };
    ReadingWriter w(std::make_unique<DbSink>(db), open_spool(tmp.path(), 4096), clock, opt);
    for (int i = 0; i < 400; ++i) {
        ASSERT_TRUE(w.submit(reading("a", i), book("a", i)));
        ASSERT_TRUE(w.submit(reading("b", i), book("b", i)));
    }
    ASSERT_TRUE(eventually([&] {
        const auto s = w.stats();
        return s.spooled + s.spool_dropped == 800;
    }));
    auto st = w.stats();
    EXPECT_TRUE(st.spool_full);
    EXPECT_GT(st.spool_dropped, 0U);
    EXPECT_GT(st.spooled, 0U);
    EXPECT_LE(st.spool_bytes, 4096U);
    {
        std::lock_guard lock(ev_mu);
        ASSERT_EQ(events.size(), 1U);  // once per state change, not per batch
        EXPECT_TRUE(events[0].first);
    }
    db.up = true;
    ASSERT_TRUE(w.flush(10s));
    st = w.stats();
    EXPECT_FALSE(st.spool_full);
    EXPECT_EQ(st.spool_records, 0U);
    std::lock_guard lock(db.mu);
    EXPECT_EQ(db.readings.size() + st.spool_dropped, 800U);
    // The books are the newest ones although their readings were dropped.
    EXPECT_EQ(db.books.at({"a", 0}).lifetime_wh, 1399.0);
    EXPECT_EQ(db.books.at({"a", 0}).last_raw_wh, 1399.0);
    EXPECT_EQ(db.books.at({"b", 0}).last_raw_wh, 1399.0);
    std::lock_guard ev_lock(ev_mu);
    ASSERT_EQ(events.size(), 2U);
    EXPECT_FALSE(events[1].first);
    EXPECT_EQ(events[1].second, st.spool_dropped);
}

TEST(SpoolingWriter, HeldBackBooksAreRetriedWithoutNewReadings) {
    TempDir tmp;
    Db db;
    db.up = false;
    SystemClock clock;
    ReadingWriter w(std::make_unique<DbSink>(db), open_spool(tmp.path(), 2048), clock,
                    fast_options());
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(w.submit(reading("a", i), book("a", i)));
    ASSERT_TRUE(eventually([&] {
        const auto s = w.stats();
        return s.spooled + s.spool_dropped == 200;
    }));
    ASSERT_GT(w.stats().spool_dropped, 0U);
    db.fail_books_only = 2;  // the first attempts to write the held-back books fail
    db.up = true;
    ASSERT_TRUE(w.flush(10s));  // no reading arrives to carry them: the writer retries alone
    EXPECT_EQ(db.fail_books_only, 0);
    std::lock_guard lock(db.mu);
    EXPECT_EQ(db.books.at({"a", 0}).lifetime_wh, 1199.0);
}

TEST(SpoolingWriter, StopsPromptlyDuringAnOutageAndTheNextRunReplaysTheSpool) {
    TempDir tmp;
    Db db;
    SystemClock clock;
    db.up = false;
    {
        ReadingWriter w(std::make_unique<DbSink>(db), open_spool(tmp.path()), clock,
                        fast_options());
        for (int i = 0; i < 50; ++i) ASSERT_TRUE(w.submit(reading("a", i), book("a", i)));
        ASSERT_TRUE(eventually([&] { return w.stats().failures > 0; }));
        const auto before = clock.steady();
        w.stop();  // stop_timeout is 30 s: must not wait for a database that is down
        EXPECT_LT(clock.steady() - before, 5s);
        const auto st = w.stats();
        EXPECT_EQ(st.spooled, 50U);
        EXPECT_EQ(st.abandoned, 0U);
    }
    EXPECT_GT(segment_files(tmp.path()), 0U);
    db.up = true;
    ReadingWriter w(std::make_unique<DbSink>(db), open_spool(tmp.path()), clock, fast_options());
    ASSERT_TRUE(w.flush(10s));  // waits for the previous run's records too
    EXPECT_EQ(w.stats().replayed, 50U);  // spooled by the previous run, committed by this one
    EXPECT_EQ(w.stats().spooled, 0U);
    EXPECT_EQ(w.stats().written, 50U);
    EXPECT_EQ(segment_files(tmp.path()), 0U);
    std::lock_guard lock(db.mu);
    EXPECT_EQ(db.readings.size(), 50U);
    EXPECT_EQ(db.books.at({"a", 0}).lifetime_wh, 1049.0);
}

TEST(SpoolingWriter, ACrashBeforeTheSegmentIsDeletedOnlyRedeliversDuplicates) {
    TempDir tmp;
    Db db;
    SystemClock clock;
    db.up = false;
    {
        ReadingWriter w(std::make_unique<DbSink>(db), open_spool(tmp.path()), clock,
                        fast_options());
        for (int i = 0; i < 30; ++i) ASSERT_TRUE(w.submit(reading("a", i), book("a", i)));
        w.stop();
    }
    // Keep a copy of the segments: as if the process died after the commit, before the unlink.
    const fs::path copy = tmp.path() / "copy";
    fs::create_directory(copy);
    for (const auto& e : fs::directory_iterator(tmp.path()))
        if (e.path().extension() == ".seg") fs::copy_file(e.path(), copy / e.path().filename());
    db.up = true;
    {
        ReadingWriter w(std::make_unique<DbSink>(db), open_spool(tmp.path()), clock,
                        fast_options());
        ASSERT_TRUE(w.flush(10s));
        EXPECT_EQ(w.stats().written, 30U);
    }
    for (const auto& e : fs::directory_iterator(copy))
        fs::copy_file(e.path(), tmp.path() / e.path().filename());
    ReadingWriter w(std::make_unique<DbSink>(db), open_spool(tmp.path()), clock, fast_options());
    ASSERT_TRUE(w.flush(10s));
    EXPECT_EQ(w.stats().written, 0U);
    EXPECT_EQ(w.stats().duplicates, 30U);
    std::lock_guard lock(db.mu);
    EXPECT_EQ(db.readings.size(), 30U);
    EXPECT_EQ(db.books.at({"a", 0}).lifetime_wh, 1029.0);
}

}  // namespace
}  // namespace intelergy::store
