#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "intelergy/bridge/bridge.hpp"

namespace intelergy::bridge {

// Everything /metrics shows, gathered from the bridge, the store writer and the rollup worker.
struct ServiceStats {
    BridgeStats bridge;
    bool mqtt_connected{false};
    bool database_ok{false};
    std::uint64_t readings_written{0};
    std::uint64_t readings_duplicates{0};
    std::uint64_t readings_rejected{0};
    std::uint64_t store_failures{0};
    std::size_t store_queue_depth{0};
    std::uint64_t spool_bytes{0};
    std::uint64_t spool_records{0};           // spooled batches not yet in PostgreSQL
    std::uint64_t spooled_readings{0};        // readings ever appended to the spool
    std::uint64_t replayed_readings{0};       // spooled readings committed
    std::uint64_t spool_dropped_readings{0};  // lost: the spool was full while the database was down
    std::uint64_t spool_corrupt_records{0};   // damaged spool records skipped
    bool spool_full{false};
    std::optional<double> rollup_lag_s;
    std::uint64_t resident_memory_bytes{0};
};

// Prometheus text exposition format 0.0.4.
std::string prometheus_text(const ServiceStats& stats);

// Resident set size of this process (from /proc/self/statm), 0 if unknown.
std::uint64_t resident_memory_bytes();

// One line for systemd's STATUS=: "5 devices (4 online), mqtt connected, database ok".
std::string status_line(const ServiceStats& stats);

}  // namespace intelergy::bridge
