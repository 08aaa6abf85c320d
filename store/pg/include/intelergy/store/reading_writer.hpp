#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "intelergy/core/clock.hpp"
#include "intelergy/core/reading.hpp"
#include "intelergy/core/result.hpp"
#include "intelergy/store/batch_sink.hpp"
#include "intelergy/store/spool.hpp"
#include "intelergy/store/store.hpp"

namespace intelergy::store {

struct ReadingWriterOptions {
    std::size_t queue_capacity{10'000};                 // submit() blocks when this many wait
    std::size_t batch_size{1'000};                      // rows per transaction at most
    std::chrono::milliseconds flush_interval{500};      // a partial batch waits at most this
    std::chrono::milliseconds retry_initial{100};       // backoff after a failed batch...
    std::chrono::milliseconds retry_max{5'000};         // ...doubling up to this
    std::chrono::milliseconds stop_timeout{10'000};     // stop() gives up flushing after this
    // With a spool: called on the writer thread when the spool becomes full (or unwritable),
    // `full` true, and when it accepts batches again, `full` false, with the readings dropped
    // meanwhile. Must not block (the bridge publishes a bridge/event).
    std::function<void(bool full, std::uint64_t dropped, const std::string& reason)>
        on_spool_state;
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
    // With a spool (all 0 without one):
    std::uint64_t spooled{0};          // readings appended to the spool
    std::uint64_t replayed{0};         // spooled readings committed to PostgreSQL
    std::uint64_t spool_dropped{0};    // readings lost because the spool was full or unwritable
    std::uint64_t spool_bytes{0};      // spool size on disk
    std::uint64_t spool_records{0};    // spooled batches not yet committed
    std::uint64_t spool_corrupt{0};    // damaged spool records skipped
    bool spool_full{false};            // the last append was refused
};

// Moves readings and energy books from the core loop into PostgreSQL on its own thread with
// its own connection. Batches of up to batch_size rows (or what arrived within
// flush_interval) are written in one transaction each: readings via COPY into a staging table
// and INSERT ... ON CONFLICT DO NOTHING (a reading delivered twice is stored once), the energy
// books upserted (last per device + channel wins; lifetime_wh never decreases), the touched
// rollup minutes marked dirty, and the monthly partitions created as needed.
// Without a spool: when the database fails, the batch is kept and retried with capped backoff;
// submit() keeps accepting until the queue is full and then blocks (backpressure).
// With a spool (docs/reliability.md): a batch the database does not take is appended to the
// spool (fsync'd) and the database is retried with capped backoff; while the spool holds
// anything, new batches are appended behind it, so batches reach PostgreSQL in submission
// order. Spooled batches are replayed oldest first, one per loop turn between live batches.
// When the spool is full, a batch's readings go straight to the database if it is up and are
// dropped (counted in spool_dropped) if not; its energy books are kept in memory, newest per
// device + channel, and attached to the next batch that is stored, so books are never lost.
// Thread-safe: submit/flush/stats may be called from any thread.
class ReadingWriter {
public:
    // Writes to PostgreSQL at `dsn` (one connection, opened lazily, reopened after failures).
    ReadingWriter(std::string dsn, const Clock& clock, ReadingWriterOptions options = {});
    // Writes to any sink (tests, or the PostgreSQL sink with a spool below).
    ReadingWriter(std::unique_ptr<BatchSink> sink, const Clock& clock,
                  ReadingWriterOptions options = {});
    // Writes to `sink`, spooling to `spool` (if not null) while the sink fails. Records a
    // previous run left in the spool are replayed first.
    ReadingWriter(std::unique_ptr<BatchSink> sink, std::unique_ptr<Spool> spool,
                  const Clock& clock, ReadingWriterOptions options = {});
    ~ReadingWriter();  // stop()
    ReadingWriter(const ReadingWriter&) = delete;
    ReadingWriter& operator=(const ReadingWriter&) = delete;

    // Queues a reading (and the channel's energy book after it, if given). Blocks while the
    // queue is full. Returns false when not queued: after stop(), or when the timestamp is
    // absurd (before 2000-01-01 or more than one day after clock.now()); such drops are
    // counted in stats().rejected and logged at most once a minute.
    bool submit(Reading reading, std::optional<EnergyBookRow> book = std::nullopt);

    // Waits until everything submitted before this call is committed, and with a spool until
    // the spool is empty (so also what a previous run spooled). Timeout when that does not
    // happen within `timeout` (for instance while the database is down).
    Status flush(std::chrono::milliseconds timeout = std::chrono::seconds(10));

    // Flushes (up to options.stop_timeout; with a spool only while the database is up), then
    // ends the thread. With a spool, what is still queued is spooled, not abandoned. Idempotent.
    void stop();

    [[nodiscard]] ReadingWriterStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The PostgreSQL BatchSink ReadingWriter uses (one connection, not thread-safe).
std::unique_ptr<BatchSink> make_pg_batch_sink(std::string dsn);

// current_database() of `dsn` (one short connection). The outage spool is kept per database
// name, so a spool is never replayed into another database. Unreachable when it is down.
Result<std::string> pg_database_name(const std::string& dsn);

// A directory name for a database name: the name itself when it is made of letters, digits,
// '_', '-' and '.', not starting with '.', else "x" + its bytes in hex. Prefixed with "db-".
std::string spool_subdir_for(const std::string& database_name);

}  // namespace intelergy::store
