// The on-disk outage spool: format, order, damage, bounds, restart. Real files in a temporary
// directory; no database.
#include "common/temp_dir.hpp"
#include "intelergy/store/spool.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace intelergy::store {
namespace {

namespace fs = std::filesystem;

// Each test directory is named after its file.
class TempDir : public test::TempDir {
public:
    TempDir() : test::TempDir("intelergy-spool") {}
};

SysTime ms(std::int64_t v) { return SysTime{std::chrono::milliseconds(v)}; }

// A Gen2 plug's full reading (every field a plug reports) and its book.
Reading full_reading(const std::string& dev, std::int64_t ts_ms, double wh) {
    Reading r;
    r.device_id = dev;
    r.channel = 0;
    r.ts = ms(ts_ms);
    r.power_w = 1234.5;
    r.voltage_v = 231.2;
    r.current_a = 5.34;
    r.temperature_c = 41.7;
    r.relay = true;
    r.counter_raw = wh - 10;
    r.energy_wh = wh;
    r.device_time = ms(ts_ms - 150);
    return r;
}

EnergyBookRow book(const std::string& dev, double wh, std::int64_t ts_ms) {
    return EnergyBookRow{dev, 0, wh - 10, 10, wh, ms(ts_ms), 0};
}

WriteBatch batch_of(int first, int count, const std::string& dev = "shelly-a") {
    WriteBatch b;
    for (int i = first; i < first + count; ++i)
        b.readings.push_back(full_reading(dev, 1'767'225'600'000 + i * 10'000LL, 100.0 + i));
    b.books.push_back(book(dev, 100.0 + first + count - 1, 1'767'225'600'000));
    return b;
}

std::vector<fs::path> segments(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".seg") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::unique_ptr<Spool> open_spool(const fs::path& dir, SpoolOptions opt = {}) {
    auto s = Spool::open(dir, opt);
    EXPECT_TRUE(s) << (s ? "" : s.error().describe());
    return s ? std::move(*s) : nullptr;
}

// Pops everything, returning the first reading's energy of each record (its identity here).
std::vector<double> drain(Spool& spool) {
    std::vector<double> out;
    for (int guard = 0; guard < 100'000; ++guard) {
        auto f = spool.front();
        EXPECT_TRUE(f) << (f ? "" : f.error().describe());
        if (!f || !*f) break;
        out.push_back((*f)->batch.readings.empty() ? -1.0 : *(*f)->batch.readings[0].energy_wh);
        EXPECT_TRUE(spool.pop());
    }
    return out;
}

void flip_byte(const fs::path& file, std::uint64_t offset) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(static_cast<char>(c ^ 0x5A));
}

TEST(Crc32c, MatchesTheStandardCheckValue) {
    const std::string s = "123456789";
    EXPECT_EQ(crc32c({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}), 0xE3069283U);
    EXPECT_EQ(crc32c({}), 0U);
}

TEST(SpoolCodec, RoundTripsEveryFieldAndAbsentOnes) {
    WriteBatch b = batch_of(0, 2);
    Reading sparse;  // metering-only, Gen1 counter, nothing optional
    sparse.device_id = "shelly-b";
    sparse.channel = 3;
    sparse.ts = ms(1'767'225'600'123);
    sparse.counter_raw = 600;
    sparse.counter_unit = CounterUnit::WattMinute;
    sparse.relay = false;
    b.readings.push_back(sparse);
    b.books.push_back(EnergyBookRow{"shelly-b", 3, std::nullopt, 0, 0, std::nullopt, 2});
    const auto bytes = encode_batch(b);
    auto back = decode_batch(bytes);
    ASSERT_TRUE(back) << back.error().describe();
    ASSERT_EQ(back->readings.size(), 3U);
    const auto& r0 = back->readings[0];
    EXPECT_EQ(r0.device_id, "shelly-a");
    EXPECT_EQ(r0.ts, b.readings[0].ts);
    EXPECT_EQ(r0.power_w, 1234.5);
    EXPECT_EQ(r0.voltage_v, 231.2);
    EXPECT_EQ(r0.current_a, 5.34);
    EXPECT_EQ(r0.temperature_c, 41.7);
    EXPECT_EQ(r0.relay, true);
    EXPECT_EQ(r0.counter_raw, 90.0);
    EXPECT_EQ(r0.energy_wh, 100.0);
    EXPECT_EQ(r0.device_time, b.readings[0].device_time);
    const auto& r2 = back->readings[2];
    EXPECT_EQ(r2.channel, 3);
    EXPECT_FALSE(r2.power_w || r2.voltage_v || r2.current_a || r2.temperature_c || r2.energy_wh ||
                 r2.device_time);
    EXPECT_EQ(r2.relay, false);
    EXPECT_EQ(r2.counter_unit, CounterUnit::WattMinute);
    ASSERT_EQ(back->books.size(), 2U);
    EXPECT_EQ(back->books[0].lifetime_wh, 101.0);
    EXPECT_EQ(back->books[0].last_ts, b.books[0].last_ts);
    EXPECT_FALSE(back->books[1].last_raw_wh || back->books[1].last_ts);
    EXPECT_EQ(back->books[1].pending_rejects, 2);
    // Damage is an error, never a crash or a huge allocation.
    for (std::size_t cut = 0; cut < bytes.size(); ++cut)
        EXPECT_FALSE(decode_batch({bytes.data(), cut})) << cut;
    std::vector<std::uint8_t> huge_count{1, 0xFF, 0xFF, 0xFF, 0xFF};
    EXPECT_FALSE(decode_batch(huge_count));
}

// The figure in docs/configuration.md: bytes per spooled reading, worst case one reading per
// record (a 10 s poll interval rarely puts two readings of a plug into one 200 ms batch).
TEST(SpoolCodec, SizeOfAReadingFitsADayOfAHundredPlugsInTheDefault) {
    const std::string id = "shellyplusplugs-a8032ab12345";  // longest id the bridge derives
    WriteBatch one;
    one.readings.push_back(full_reading(id, 1'767'225'600'000, 1000));
    one.books.push_back(book(id, 1000, 1'767'225'600'000));
    const std::uint64_t record = 16 + encode_batch(one).size();  // header + payload
    const std::uint64_t per_day = record * 100 * 8640;            // 100 plugs, every 10 s
    std::printf("spool record for one reading with its book: %llu bytes; 100 plugs x 24 h: %llu "
                "bytes (%.1f MiB)\n",
                static_cast<unsigned long long>(record), static_cast<unsigned long long>(per_day),
                static_cast<double>(per_day) / (1024.0 * 1024.0));
    EXPECT_LE(record, 200U);
    EXPECT_LT(per_day, 512ULL * 1024 * 1024);
}

TEST(Spool, AppendsAndReplaysOldestFirstThenDeletesItsFiles) {
    TempDir tmp;
    auto spool = open_spool(tmp.path() / "spool");  // created on open
    ASSERT_TRUE(spool);
    EXPECT_TRUE(spool->empty());
    std::uint64_t last_id = 0;
    for (int i = 0; i < 10; ++i) {
        std::uint64_t id = 0;
        auto a = spool->append(batch_of(i * 3, 3), &id);
        ASSERT_TRUE(a) << a.error().describe();
        EXPECT_EQ(*a, SpoolAppend::Stored);
        EXPECT_GT(id, last_id);
        last_id = id;
    }
    EXPECT_EQ(spool->stats().records, 10U);
    EXPECT_EQ(segments(tmp.path() / "spool").size(), 1U);
    // front() is stable until pop().
    auto f1 = spool->front();
    auto f2 = spool->front();
    ASSERT_TRUE(f1 && *f1 && f2 && *f2);
    EXPECT_EQ((*f1)->id, (*f2)->id);
    EXPECT_EQ((*f1)->batch.readings.size(), 3U);
    EXPECT_EQ((*f1)->batch.books.size(), 1U);
    const auto got = drain(*spool);
    std::vector<double> want;
    for (int i = 0; i < 10; ++i) want.push_back(100.0 + i * 3);
    EXPECT_EQ(got, want);
    EXPECT_TRUE(spool->empty());
    EXPECT_EQ(spool->stats().bytes, 0U);
    EXPECT_TRUE(segments(tmp.path() / "spool").empty());
    EXPECT_FALSE(spool->pop());  // nothing to pop: an error, not a crash
    // Appending after a full drain starts a fresh segment.
    ASSERT_TRUE(spool->append(batch_of(100, 1)));
    EXPECT_EQ(drain(*spool), std::vector<double>{200.0});
    spool.reset();  // empty: no directory is left behind
    EXPECT_FALSE(fs::exists(tmp.path() / "spool"));
}

TEST(Spool, InterleavedAppendAndReplayKeepOrderAcrossSegments) {
    TempDir tmp;
    SpoolOptions opt;
    opt.segment_bytes = 2048;  // a few records per segment
    auto spool = open_spool(tmp.path(), opt);
    ASSERT_TRUE(spool);
    std::vector<double> got;
    int next = 0;
    for (int round = 0; round < 20; ++round) {
        for (int k = 0; k < 3; ++k) ASSERT_TRUE(spool->append(batch_of(next++, 1)));
        auto f = spool->front();
        ASSERT_TRUE(f && *f);
        got.push_back(*(*f)->batch.readings[0].energy_wh);
        ASSERT_TRUE(spool->pop());
    }
    EXPECT_GT(spool->stats().segments, 1U);
    for (auto v : drain(*spool)) got.push_back(v);
    ASSERT_EQ(got.size(), 60U);
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], 100.0 + static_cast<double>(i));
    EXPECT_TRUE(segments(tmp.path()).empty());
}

TEST(Spool, SyncsEveryAppendAndEveryNewSegmentWithItsDirectory) {
    TempDir tmp;
    SpoolOptions opt;
    opt.segment_bytes = 1024;
    auto spool = open_spool(tmp.path(), opt);
    ASSERT_TRUE(spool);
    for (int i = 0; i < 12; ++i) ASSERT_TRUE(spool->append(batch_of(i, 2)));
    const auto segs = segments(tmp.path()).size();
    EXPECT_GT(segs, 2U);
    EXPECT_EQ(spool->stats().segments, segs);
    // One data sync per append plus one per segment header; one directory sync per new segment.
    EXPECT_EQ(spool->stats().file_syncs, 12U + segs);
    EXPECT_EQ(spool->stats().dir_syncs, segs);
    std::uint64_t on_disk = 0;
    for (const auto& p : segments(tmp.path())) on_disk += fs::file_size(p);
    EXPECT_EQ(spool->stats().bytes, on_disk);
}

TEST(Spool, ReopensExistingSegmentsAndReplaysThemBeforeNewOnes) {
    TempDir tmp;
    {
        auto spool = open_spool(tmp.path());
        ASSERT_TRUE(spool);
        for (int i = 0; i < 5; ++i) ASSERT_TRUE(spool->append(batch_of(i, 1)));
        auto f = spool->front();  // the first record was committed before the "crash"
        ASSERT_TRUE(f && *f);
        ASSERT_TRUE(spool->pop());
    }  // no clean shutdown step exists: closing is all
    auto spool = open_spool(tmp.path());
    ASSERT_TRUE(spool);
    // The segment is only deleted when all its records are committed: the popped one returns
    // (a duplicate, harmless because readings are written idempotently).
    EXPECT_EQ(spool->stats().records, 5U);
    ASSERT_TRUE(spool->append(batch_of(50, 1)));
    EXPECT_EQ(segments(tmp.path()).size(), 2U);  // never appends to a segment of a past run
    EXPECT_EQ(drain(*spool), (std::vector<double>{100, 101, 102, 103, 104, 150}));
    EXPECT_TRUE(segments(tmp.path()).empty());
}

TEST(Spool, SkipsATornTailAfterACrashMidWrite) {
    TempDir tmp;
    {
        auto spool = open_spool(tmp.path());
        ASSERT_TRUE(spool);
        for (int i = 0; i < 3; ++i) ASSERT_TRUE(spool->append(batch_of(i, 2)));
    }
    const auto seg = segments(tmp.path()).at(0);
    fs::resize_file(seg, fs::file_size(seg) - 7);  // the last record lost its end
    {
        auto spool = open_spool(tmp.path());
        ASSERT_TRUE(spool);
        EXPECT_EQ(spool->stats().records, 2U);
        EXPECT_EQ(drain(*spool), (std::vector<double>{100, 101}));
        EXPECT_EQ(spool->stats().corrupt_skipped, 0U);  // the segment went when its last good record did
    }
    // A partial record header (a few bytes) at the very end.
    {
        auto spool = open_spool(tmp.path());
        ASSERT_TRUE(spool);
        ASSERT_TRUE(spool->append(batch_of(7, 1)));
    }
    const auto seg2 = segments(tmp.path()).at(0);
    {
        std::ofstream out(seg2, std::ios::app | std::ios::binary);
        out.write("\x53\x50\x4c", 3);
    }
    auto spool = open_spool(tmp.path());
    ASSERT_TRUE(spool);
    EXPECT_EQ(spool->stats().records, 1U);
    ASSERT_TRUE(spool->append(batch_of(8, 1)));
    EXPECT_EQ(drain(*spool), (std::vector<double>{107, 108}));
}

TEST(Spool, SkipsADamagedMiddleRecordAndKeepsTheOthers) {
    for (const bool in_header : {false, true}) {
        SCOPED_TRACE(in_header ? "damaged header" : "damaged payload");
        TempDir tmp;
        std::uint64_t second_offset = 0;
        {
            auto spool = open_spool(tmp.path());
            ASSERT_TRUE(spool);
            std::uint64_t id = 0;
            for (int i = 0; i < 3; ++i) {
                ASSERT_TRUE(spool->append(batch_of(i, 2), &id));
                if (i == 1) second_offset = id & 0xFFFF'FFFFU;
            }
        }
        const auto seg = segments(tmp.path()).at(0);
        // Header: the length field (offset 4); payload: a byte of the first reading.
        flip_byte(seg, second_offset + (in_header ? 5 : 40));
        auto spool = open_spool(tmp.path());
        ASSERT_TRUE(spool);
        EXPECT_EQ(spool->stats().records, 2U);
        EXPECT_EQ(drain(*spool), (std::vector<double>{100, 102}));
        EXPECT_EQ(spool->stats().corrupt_skipped, 1U);
        EXPECT_TRUE(segments(tmp.path()).empty());
    }
}

TEST(Spool, RemovesASegmentWhoseHeaderWasNeverCompleted) {
    TempDir tmp;
    {
        std::ofstream out(tmp.path() / "00000000000000000007.seg", std::ios::binary);
        out.write("INTLS", 5);
    }
    {
        std::ofstream out(tmp.path() / "notes.txt");  // foreign files are left alone
        out << "hello";
    }
    auto spool = open_spool(tmp.path());
    ASSERT_TRUE(spool);
    EXPECT_TRUE(spool->empty());
    EXPECT_TRUE(segments(tmp.path()).empty());
    EXPECT_TRUE(fs::exists(tmp.path() / "notes.txt"));
    ASSERT_TRUE(spool->append(batch_of(0, 1)));
    EXPECT_EQ(segments(tmp.path()).at(0).filename(), "00000000000000000008.seg");
}

TEST(Spool, NeverGrowsPastItsBoundAndAcceptsAgainWhenASegmentIsFreed) {
    TempDir tmp;
    SpoolOptions opt;
    opt.max_bytes = 8 * 1024;
    opt.segment_bytes = 2 * 1024;
    auto spool = open_spool(tmp.path(), opt);
    ASSERT_TRUE(spool);
    int stored = 0;
    for (int i = 0; i < 1000; ++i) {
        auto a = spool->append(batch_of(i, 2));
        ASSERT_TRUE(a);
        if (*a == SpoolAppend::Full) break;
        ++stored;
    }
    ASSERT_GT(stored, 10);
    ASSERT_LT(stored, 1000);
    EXPECT_LE(spool->stats().bytes, opt.max_bytes);
    std::uint64_t on_disk = 0;
    for (const auto& p : segments(tmp.path())) on_disk += fs::file_size(p);
    EXPECT_LE(on_disk, opt.max_bytes);
    auto again = spool->append(batch_of(5000, 2));
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, SpoolAppend::Full);  // still full: refused, nothing changed
    EXPECT_EQ(spool->stats().records, static_cast<std::uint64_t>(stored));
    // Committing one record frees nothing until its whole segment is committed.
    const auto segs_before = spool->stats().segments;
    for (int guard = 0; guard < 1000 && spool->stats().segments == segs_before; ++guard) {
        auto f = spool->front();
        ASSERT_TRUE(f && *f);
        ASSERT_TRUE(spool->pop());
    }
    auto after = spool->append(batch_of(6000, 2));
    ASSERT_TRUE(after);
    EXPECT_EQ(*after, SpoolAppend::Stored);
    // A batch larger than the whole spool can never be stored.
    EXPECT_EQ(*spool->append(batch_of(0, 200)), SpoolAppend::Full);
}

TEST(Spool, RefusesASecondUserAndAPathThatIsNotADirectory) {
    TempDir tmp;
    auto first = open_spool(tmp.path());
    ASSERT_TRUE(first);
    auto second = Spool::open(tmp.path());
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, ErrorCode::Config);
    EXPECT_NE(second.error().message.find("in use"), std::string::npos) << second.error().message;
    first.reset();
    EXPECT_TRUE(Spool::open(tmp.path()));  // the lock goes with the process's handle
    fs::create_directories(tmp.path());
    {
        std::ofstream out(tmp.path() / "file");
        out << "x";
    }
    auto not_dir = Spool::open(tmp.path() / "file");
    ASSERT_FALSE(not_dir);
    EXPECT_EQ(not_dir.error().code, ErrorCode::Config);
}

}  // namespace
}  // namespace intelergy::store
