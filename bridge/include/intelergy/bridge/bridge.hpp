#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "intelergy/config/config.hpp"
#include "intelergy/core/clock.hpp"
#include "intelergy/core/http_client.hpp"
#include "intelergy/core/mqtt_client.hpp"
#include "intelergy/store/energy.hpp"
#include "intelergy/store/store.hpp"

namespace intelergy::bridge {

using StoreFactory = std::function<std::unique_ptr<store::Store>()>;
// Where readings (and the energy book state they advanced) leave the core loop.
using ReadingSink =
    std::function<void(const Reading&, const std::optional<store::EnergyBookRow>&)>;
// Opens the read side of the energy history (energy/query). Called on the thread that uses the
// result; each caller gets its own instance and connection. Empty: energy/query is not served.
using EnergyHistoryFactory = std::function<std::unique_ptr<store::EnergyHistory>()>;

// The bridge service: wires MQTT in → core loop → API worker / devices → MQTT out.
// Threads: the caller's thread runs the core loop in run(); one API worker thread owns its own
// Store (from the factory) and serves bridge/request/# one request at a time.
// Counters for /metrics and the systemd status line. Snapshot; safe from any thread.
struct BridgeStats {
    static constexpr std::array<double, 10> POLL_BUCKETS_S{0.005, 0.01, 0.025, 0.05, 0.1,
                                                           0.25,  0.5,  1.0,   2.5,  5.0};
    std::uint64_t polls_ok{0};
    std::uint64_t polls_failed{0};
    std::array<std::uint64_t, POLL_BUCKETS_S.size()> poll_buckets{};  // cumulative counts
    double poll_seconds_sum{0};
    // How late each poll started against its schedule (fixed cadence), cumulative like above.
    static constexpr std::array<double, 8> POLL_DELAY_BUCKETS_S{0.001, 0.01, 0.05, 0.1,
                                                                0.25,  0.5,  1.0,  5.0};
    std::uint64_t polls_started{0};
    std::array<std::uint64_t, POLL_DELAY_BUCKETS_S.size()> poll_delay_buckets{};
    double poll_delay_seconds_sum{0};
    std::uint64_t mqtt_in{0};
    std::uint64_t mqtt_out{0};
    std::size_t devices_total{0};
    std::size_t devices_online{0};
    std::size_t devices_offline{0};
    std::size_t loop_queue_depth{0};
    std::uint64_t loop_task_errors{0};
    // MQTT is connected and bridge/state "online" has been published on this connection.
    bool announced{false};
};

class Bridge {
public:
    Bridge(const config::AppConfig& config, MqttClient& mqtt, HttpClient& http,
           const Clock& clock, StoreFactory store_factory, ReadingSink sink,
           EnergyHistoryFactory energy_history = {});
    ~Bridge();
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    // Loads the registered devices, subscribes and publishes bridge state; safe to call before
    // MQTT is connected (subscriptions and state are repeated on every (re)connect).
    Status start();
    // Runs the core loop on the calling thread until stop(), then joins the workers.
    void run();
    // Asks run() to return; callable from any thread (e.g. a signal handler thread).
    void stop();

    [[nodiscard]] BridgeStats stats() const;
    // Runs `task` on the core loop every `period` (first run after one period), e.g. the
    // systemd watchdog ping: if the loop is stuck, the pings stop. Call before run().
    void every(std::chrono::milliseconds period, std::function<void()> task);

    // Topic helpers (public for tests and tools).
    [[nodiscard]] std::string topic(std::string_view suffix) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace intelergy::bridge
