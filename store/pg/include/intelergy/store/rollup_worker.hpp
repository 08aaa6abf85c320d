#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "intelergy/core/clock.hpp"
#include "intelergy/core/result.hpp"
#include "intelergy/store/rollup_math.hpp"

namespace intelergy::store {

struct RollupWorkerOptions {
    std::chrono::milliseconds poll_interval{1'000};  // how often the thread looks for dirty marks
    std::size_t claims_per_pass{1'000};              // dirty marks consumed per transaction
    std::chrono::hours chunk{24};                    // recompute() works in chunks of this
    std::chrono::minutes lag_warning{5};             // log when the rollup lag exceeds this
    RollupParams params;
};

struct RollupWorkerStats {
    std::uint64_t passes{0};           // transactions that consumed dirty marks
    std::uint64_t ranges{0};           // (device, channel, range) recomputed
    std::uint64_t minutes_written{0};  // minute rows written
    std::uint64_t failures{0};
    std::size_t pending{0};            // dirty marks waiting (after the last pass)
    // Age of the oldest reading whose rollups are not yet recomputed (0 when none pending).
    std::chrono::seconds lag{0};
    std::string last_error;
};

// Keeps energy_minute/hour/day/week/month up to date: consumes the dirty marks the
// ReadingWriter writes, recomputes the minutes of each marked range (plus the context that a
// new sample can influence) from readings, replaces them, then rebuilds the local-time hour,
// day, week and month rows above them. Each pass is one transaction: a crash leaves the marks
// in place and the next pass redoes the work. Recomputing is idempotent: the same readings
// always give identical rows. Owns one connection; its methods are serialised internally and
// may be called from any thread.
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

    [[nodiscard]] RollupWorkerStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace intelergy::store
