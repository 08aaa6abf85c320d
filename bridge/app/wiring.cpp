// Composition root: builds the long-lived objects and hands out references.
#include "wiring.hpp"

#include "security.hpp"
#include "service.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "intelergy/bridge/bridge.hpp"
#include "intelergy/bridge/paho_mqtt_client.hpp"
#include "intelergy/drivers/curl_http_client.hpp"
#include "intelergy/store/pg_energy_history.hpp"
#include "intelergy/store/pg_store.hpp"
#include "intelergy/store/reading_writer.hpp"
#include "intelergy/store/rollup_worker.hpp"
#include "../src/energy_api.hpp"  // bridge-private: energy/query context, energy totals

namespace intelergy::app {

int migrate_database(const config::AppConfig& config) {
    store::PgStore store(config.postgres.dsn);
    const auto st = store.migrate();
    if (!st) {
        spdlog::error("database migration failed: {}", st.error().describe());
        return 1;
    }
    spdlog::info("database schema at version {} ({} migration(s) applied now)",
                 st->database_version, st->applied_now);
    return 0;
}

int run_bridge(const config::AppConfig& config) {
    // Signals are taken synchronously by this thread; block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    spdlog::info("intelergy starting: {}", config::summarize(config));
    log_security_warnings(config);
    {
        store::PgStore store(config.postgres.dsn);
        const auto st = store.migrate();
        if (!st) {
            spdlog::error("cannot start: {}", st.error().describe());
            return 1;
        }
        if (auto p = store.ensure_partitions(SystemClock().now(), 3); !p)
            spdlog::warn("could not create readings partitions: {}", p.error().describe());
    }

    const std::string base = config.mqtt.base_topic;
    bridge::PahoOptions opts;
    opts.server_uri = config.mqtt.url.server_uri();
    opts.client_id = config.mqtt.client_id;
    apply_mqtt_security(opts, config.mqtt);  // username, password, TLS files
    opts.keepalive = config.mqtt.keepalive;
    opts.reconnect_min = config.mqtt.reconnect_min;
    opts.reconnect_max = config.mqtt.reconnect_max;
    opts.will = MqttMessage{base + "/bridge/state", R"({"state":"offline"})", 1, true};
    bridge::PahoMqttClient mqtt(opts);

    SystemClock clock;
    const std::string dsn = config.postgres.dsn;
    store::ReadingWriterOptions writer_opts;
    writer_opts.queue_capacity = config.store.queue_capacity;
    writer_opts.batch_size = config.store.batch_size;
    writer_opts.flush_interval = config.store.flush_interval;
    store::ReadingWriter writer(dsn, clock, writer_opts);

    // Rollups: the schema is migrated above; marks left by a previous run are consumed first.
    store::RollupWorkerOptions rollup_opts;
    rollup_opts.lag_warning = std::chrono::minutes(1);  // logged at most once a minute
    store::RollupWorker rollups(dsn, clock, rollup_opts);
    rollups.start();

    // energy/query: the API worker opens its own PgEnergyHistory (its own connection).
    const bridge::EnergyHistoryFactory open_history = [dsn] {
        return std::make_unique<store::PgEnergyHistory>(dsn);
    };

    drivers::CurlHttpClientOptions http_opts;
    http_opts.max_total_in_flight = config.polling.max_in_flight;
    // Every address a plug URL resolves to is checked right before connecting.
    http_opts.allowed_networks = NetworkPolicy(config.polling.allowed_networks);
    // Destroyed right after the core loop stops (below), so its final callbacks only meet a
    // stopped loop, never a destroyed bridge.
    auto http = std::make_unique<drivers::CurlHttpClient>(http_opts);

    bridge::Bridge bridge(
        config, mqtt, *http, clock,
        [dsn, cipher = credential_cipher(config)] {
            return std::make_unique<store::PgStore>(dsn, cipher);  // device passwords at rest
        },
        [&writer](const Reading& r, const std::optional<store::EnergyBookRow>& book) {
            writer.submit(r, book);
        },
        open_history);
    if (auto st = bridge.start(); !st) {
        spdlog::error("cannot start: {}", st.error().describe());
        return 1;
    }
    mqtt.start();

    ServiceMonitor monitor(config, bridge, mqtt, [&writer, &rollups](bridge::ServiceStats& s) {
        const auto w = writer.stats();
        s.readings_written = w.written;
        s.readings_duplicates = w.duplicates;
        s.readings_rejected = w.rejected;
        s.store_failures = w.failures;
        s.store_queue_depth = w.queue_depth;
        s.database_ok = w.last_error.empty();
        s.rollup_lag_s = std::chrono::duration<double>(rollups.stats().lag).count();
    });
    if (auto st = monitor.start(); !st) {
        spdlog::error("cannot start: {}", st.error().describe());
        return 1;
    }

    // Retained energy_today / energy_week per plug and room, refreshed every minute.
    bridge::EnergyTotalsPublisher totals(
        mqtt, base, clock, [dsn] { return std::make_unique<store::PgStore>(dsn); }, open_history);
    totals.start();

    std::atomic<bool> signalled{false};
    std::thread signal_waiter([&] {
        int sig = 0;
        sigwait(&signals, &sig);
        signalled = true;
        spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
        bridge.stop();
    });
    bridge.run();  // returns after stop(), from the signal thread
    monitor.stopping();
    totals.stop();
    http.reset();
    mqtt.stop(MqttMessage{base + "/bridge/state", R"({"state":"offline"})", 1, true},
              std::chrono::seconds(3));
    if (!signalled) pthread_kill(signal_waiter.native_handle(), SIGTERM);
    signal_waiter.join();
    if (auto st = writer.flush(std::chrono::seconds(10)); !st)
        spdlog::warn("readings not flushed at exit: {}", st.error().describe());
    writer.stop();
    rollups.stop();  // unprocessed marks stay in rollup_dirty for the next start
    spdlog::info("intelergy stopped");
    return 0;
}

}  // namespace intelergy::app
