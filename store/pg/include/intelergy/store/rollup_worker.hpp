#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "intelergy/core/clock.hpp"
#include "intelergy/core/result.hpp"
#include "intelergy/store/rollup_math.hpp"

namespace intelergy::store {

// Retention per tier (docs/data-model.md "Retention"). nullopt keeps a tier forever; hours,
// days, weeks, months and energy books are always kept.
struct RetentionOptions {
    std::optional<std::chrono::days> readings;  // monthly partitions wholly older are dropped
    std::optional<std::chrono::days> minutes;   // minute rollups older are deleted
    std::chrono::minutes interval{60};          // how often the worker thread applies it
    std::chrono::seconds lock_timeout{5};       // wait at most this for the readings lock

    [[nodiscard]] bool enabled() const { return readings.has_value() || minutes.has_value(); }
};

// What one retention run removed and where the horizons stand after it.
struct RetentionOutcome {
    std::vector<std::string> partitions_dropped;  // readings_YYYYMM
    std::uint64_t readings_deleted{0};            // rows in the dropped partitions
    std::uint64_t minutes_deleted{0};
    // Partitions past readings_days kept because readings in or after them are not rolled up.
    std::size_t partitions_kept_unrolled{0};
    // The horizons recorded by this run for the channels that had data before them.
    std::optional<SysTime> readings_horizon;
    std::optional<SysTime> minutes_horizon;
};

struct RollupWorkerOptions {
    std::chrono::milliseconds poll_interval{1'000};  // how often the thread looks for dirty marks
    std::size_t claims_per_pass{10'000};             // dirty marks consumed per transaction
    // recompute() works in chunks of this, one transaction each (bounds its memory: a month
    // of minute readings is about 45,000 samples)
    std::chrono::hours chunk{24 * 31};
    std::chrono::minutes lag_warning{5};             // log when the rollup lag exceeds this
    RollupParams params;
    RetentionOptions retention;  // applied by the worker thread; off by default
    int partitions_ahead{3};     // readings partitions the thread keeps created ahead (months)
};

struct RollupWorkerStats {
    std::uint64_t passes{0};           // transactions that consumed dirty marks
    std::uint64_t ranges{0};           // (device, channel, range) recomputed
    std::uint64_t minutes_written{0};  // minute rows written
    std::uint64_t failures{0};
    std::size_t pending{0};            // dirty marks waiting (after the last pass)
    // Age of the oldest reading whose rollups are not yet recomputed (0 when none pending).
    std::chrono::seconds lag{0};
    std::uint64_t frozen_ranges{0};  // dirty ranges (or parts) before a retention horizon, skipped
    std::uint64_t partition_checks{0};  // successful "partitions ahead" checks by the thread
    std::uint64_t retention_runs{0};
    std::uint64_t partitions_dropped{0};
    std::uint64_t readings_purged{0};
    std::uint64_t minutes_purged{0};
    std::string last_error;
};

// Keeps energy_minute/hour/day/week/month up to date: consumes the dirty marks the
// ReadingWriter writes, recomputes the minutes of each marked range (plus the context that a
// new sample can influence) from readings, replaces them, then rebuilds the local-time hour,
// day, week and month rows above them. Each pass is one transaction: a crash leaves the marks
// in place and the next pass redoes the work. Recomputing is idempotent: the same readings
// always give identical rows. Owns one connection; its methods are serialised internally and
// may be called from any thread. With retention options, the thread also purges old readings
// partitions and minute rollups every retention.interval (apply_retention()). The thread also
// keeps the readings partitions of this month and the next `partitions_ahead` months in place
// (at start, then every 6 hours), so a bridge that runs for months still has them ahead.
// (The writer creates a missing month on demand as well: no reading is ever refused.)
class RollupWorker {
public:
    RollupWorker(std::string dsn, const Clock& clock, RollupWorkerOptions options = {});
    ~RollupWorker();  // stop()
    RollupWorker(const RollupWorker&) = delete;
    RollupWorker& operator=(const RollupWorker&) = delete;

    void start();  // runs passes on its own thread every poll_interval until stop()
    void stop();

    // Runs passes on the caller's thread until no dirty marks are left; returns the number of
    // ranges recomputed.
    Result<std::size_t> process_pending();

    // Recomputes every channel of `device_id` for readings in [from, to) from scratch, in
    // chunks (for the importer and repairs). Leaves dirty marks alone.
    Status recompute(const std::string& device_id, SysTime from, SysTime to);

    // Applies the retention options once, as of `now`, on the caller's thread: drops the readings
    // partitions that end at least readings_days before now and deletes minute rollups older
    // than minutes_days, except what pending dirty marks may still need (never data that is not
    // rolled up yet). Records the horizons, so later recomputes leave the final rollups below
    // them alone. Logs one line with the counts.
    Result<RetentionOutcome> apply_retention(SysTime now);

    [[nodiscard]] RollupWorkerStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace intelergy::store
