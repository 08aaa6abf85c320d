#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "intelergy/core/clock.hpp"
#include "intelergy/core/reading.hpp"
#include "intelergy/core/result.hpp"
#include "intelergy/store/batch_sink.hpp"
#include "intelergy/store/store.hpp"

namespace intelergy::store {

struct ReadingWriterOptions {
    std::size_t queue_capacity{10'000};                 // submit() blocks when this many wait
    std::size_t batch_size{1'000};                      // rows per transaction at most
    std::chrono::milliseconds flush_interval{500};      // a partial batch waits at most this
    std::chrono::milliseconds retry_initial{100};       // backoff after a failed batch...
    std::chrono::milliseconds retry_max{5'000};         // ...doubling up to this
    std::chrono::milliseconds stop_timeout{10'000};     // stop() gives up flushing after this
};

struct ReadingWriterStats {
    std::uint64_t submitted{0};   // readings queued
    std::uint64_t written{0};     // new rows committed
    std::uint64_t duplicates{0};  // rows already stored (redelivery), committed as no-ops
    std::uint64_t rejected{0};    // dropped at submit: timestamp before 2000 or > now + 1 day
    std::uint64_t batches{0};     // committed batches
    std::uint64_t failures{0};    // failed batch attempts (each retried)
    std::uint64_t abandoned{0};   // readings lost because stop() timed out while failing
    std::size_t queue_depth{0};   // readings waiting (queue + the batch in flight)
    std::string last_error;       // empty when the last attempt succeeded
};

// Moves readings and energy books from the core loop into PostgreSQL on its own thread with
// its own connection. Batches of up to batch_size rows (or what arrived within
// flush_interval) are written in one transaction each: readings via COPY into a staging table
// and INSERT ... ON CONFLICT DO NOTHING (a reading delivered twice is stored once), the energy
// books upserted (last per device + channel wins; lifetime_wh never decreases), the touched
// rollup minutes marked dirty, and the monthly partitions created as needed.
// When the database fails, the batch is kept and retried with capped backoff; submit() keeps
// accepting until the queue is full and then blocks (backpressure, bounded memory).
// Thread-safe: submit/flush/stats may be called from any thread.
class ReadingWriter {
public:
    // Writes to PostgreSQL at `dsn` (one connection, opened lazily, reopened after failures).
    ReadingWriter(std::string dsn, const Clock& clock, ReadingWriterOptions options = {});
    // Writes to any sink (tests; a disk spool in front of PostgreSQL later).
    ReadingWriter(std::unique_ptr<BatchSink> sink, const Clock& clock,
                  ReadingWriterOptions options = {});
    ~ReadingWriter();  // stop()
    ReadingWriter(const ReadingWriter&) = delete;
    ReadingWriter& operator=(const ReadingWriter&) = delete;

    // Queues a reading (and the channel's energy book after it, if given). Blocks while the
    // queue is full. Returns false when not queued: after stop(), or when the timestamp is
    // absurd (before 2000-01-01 or more than one day after clock.now()); such drops are
    // counted in stats().rejected and logged at most once a minute.
    bool submit(Reading reading, std::optional<EnergyBookRow> book = std::nullopt);

    // Waits until everything submitted before this call is committed. Timeout when that does
    // not happen within `timeout` (for instance while the database is down).
    Status flush(std::chrono::milliseconds timeout = std::chrono::seconds(10));

    // Flushes (up to options.stop_timeout), then ends the thread. Idempotent.
    void stop();

    [[nodiscard]] ReadingWriterStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The PostgreSQL BatchSink ReadingWriter uses (one connection, not thread-safe).
std::unique_ptr<BatchSink> make_pg_batch_sink(std::string dsn);

}  // namespace intelergy::store
