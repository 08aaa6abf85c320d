// Composition root: builds the long-lived objects and hands out references.
#include "wiring.hpp"

#include "security.hpp"
#include "service.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <string>
#include <nlohmann/json.hpp>
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

namespace {

// Spools that other databases left in spool_dir are not replayed here: say so once at start.
void warn_foreign_spools(const std::filesystem::path& root, const std::filesystem::path& mine) {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(root, ec), end; !ec && it != end;
         it.increment(ec)) {
        if (it->path() == mine || it->path().filename().string().rfind("db-", 0) != 0) continue;
        std::size_t segments = 0;
        std::error_code ec2;
        for (std::filesystem::directory_iterator f(it->path(), ec2), fend; !ec2 && f != fend;
             f.increment(ec2))
            segments += f->path().extension() == ".seg" ? 1U : 0U;
        if (segments > 0)
            spdlog::warn("spool of another database left in {} ({} segment files): not replayed "
                         "into this one; move its .seg files into {} if they belong here",
                         it->path().string(), segments, mine.string());
    }
}

}  // namespace

int run_bridge(const config::AppConfig& config) {
    // Signals are taken synchronously by this thread; block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    // One log line per config table: journald stores each line of a multi-line message as an
    // entry of its own, without our level and module prefix.
    {
        std::istringstream summary(config::summarize(config));
        for (std::string line; std::getline(summary, line);) {
            spdlog::info("intelergy starting: {}", line);
        }
    }
    log_security_warnings(config);
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
    // Connect to the broker while the database work below runs: the connection is up by the
    // time the devices are loaded, and Bridge::start() announces bridge/state then (it
    // publishes nothing before). Connecting after the database work put the broker's round
    // trips on the path from start to online (issue 8, bench/RESULTS.md).
    mqtt.start();
    {
        // Waits on the migration lock if another process is migrating; READY=1 comes later.
        notify("STATUS=starting: applying database migrations");
        store::PgStore store(config.postgres.dsn);
        auto st = store.migrate();
        // PostgreSQL may not be up yet (boot order, a restart of the database): wait for it as
        // for the broker, 1 s doubling to 10 s, instead of exiting. SIGINT/SIGTERM still stop
        // us at once; under systemd, TimeoutStartSec bounds the wait.
        std::chrono::seconds delay{1};
        for (bool told = false; !st && st.error().code == ErrorCode::Unreachable;) {
            if (!told)
                spdlog::warn("waiting for PostgreSQL: {} (retrying until it answers)",
                             st.error().describe());
            told = true;
            notify("STATUS=waiting for PostgreSQL: " + st.error().describe());
            notify("WATCHDOG=1");
            const timespec wait{static_cast<time_t>(delay.count()), 0};
            if (const int sig = sigtimedwait(&signals, nullptr, &wait); sig == SIGINT || sig == SIGTERM) {
                spdlog::info("received {} while waiting for PostgreSQL, stopping",
                             sig == SIGINT ? "SIGINT" : "SIGTERM");
                return 0;
            }
            delay = std::min(delay * 2, std::chrono::seconds{10});
            st = store.migrate();
            if (st) spdlog::info("PostgreSQL answers");
        }
        if (!st) {
            spdlog::error("cannot start: {}", st.error().describe());
            notify("STATUS=cannot start: " + st.error().describe());
            return 1;
        }
        spdlog::info("database schema at version {} ({} migration(s) applied now)",
                     st->database_version, st->applied_now);
        if (auto p = store.ensure_partitions(SystemClock().now(), 3); !p)
            spdlog::warn("could not create readings partitions: {}", p.error().describe());
    }


    SystemClock clock;
    const std::string dsn = config.postgres.dsn;
    store::ReadingWriterOptions writer_opts;
    writer_opts.queue_capacity = config.store.queue_capacity;
    writer_opts.batch_size = config.store.batch_size;
    writer_opts.flush_interval = config.store.flush_interval;
    // The outage spool (docs/reliability.md). Its state changes are bridge events.
    writer_opts.on_spool_state = [&mqtt, base](bool full, std::uint64_t dropped,
                                               const std::string& reason) {
        nlohmann::json data{{"dropped_readings", dropped}};
        if (full) data["reason"] = reason;
        mqtt.publish(base + "/bridge/event",
                     nlohmann::json{{"type", full ? "spool_full" : "spool_accepting"},
                                    {"data", data}}.dump(),
                     1, false);
    };
    std::unique_ptr<store::Spool> spool;
    {
        // One spool per database name, so batches are never replayed into another database.
        auto db_name = store::pg_database_name(dsn);
        auto opened = [&]() -> Result<std::unique_ptr<store::Spool>> {
            if (!db_name) return db_name.error();
            store::SpoolOptions spool_opts;
            spool_opts.max_bytes = config.store.spool_max_bytes;
            return store::Spool::open(
                config.store.spool_dir / store::spool_subdir_for(*db_name), spool_opts);
        }();
        if (opened) {
            spool = std::move(*opened);
            warn_foreign_spools(config.store.spool_dir, spool->dir());
        } else {
            spdlog::error("running without the outage spool: {}; readings wait in memory while "
                          "PostgreSQL is down",
                          opened.error().describe());
        }
    }
    const bool spooled_before = spool && !spool->empty();
    store::ReadingWriter writer(store::make_pg_batch_sink(dsn), std::move(spool), clock,
                                writer_opts);
    // A previous run's spool holds energy books newer than the database's: replay it before the
    // bridge loads its books (bounded; the writer keeps replaying in the background after).
    if (spooled_before) {
        if (auto st = writer.flush(std::chrono::seconds(60)); !st)
            spdlog::warn("spool not fully replayed before start: {}", st.error().describe());
    }

    // Rollups: the schema is migrated above; marks left by a previous run are consumed first.
    store::RollupWorkerOptions rollup_opts;
    rollup_opts.lag_warning = std::chrono::minutes(1);  // logged at most once a minute
    rollup_opts.retention.readings = config.retention.readings;  // hours/days/weeks: forever
    rollup_opts.retention.minutes = config.retention.minutes;
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

    ServiceMonitor monitor(config, bridge, mqtt, [&writer, &rollups](bridge::ServiceStats& s) {
        const auto w = writer.stats();
        s.readings_written = w.written;
        s.readings_duplicates = w.duplicates;
        s.readings_rejected = w.rejected;
        s.store_failures = w.failures;
        s.store_queue_depth = w.queue_depth;
        s.spool_bytes = w.spool_bytes;
        s.spool_records = w.spool_records;
        s.spooled_readings = w.spooled;
        s.replayed_readings = w.replayed;
        s.spool_dropped_readings = w.spool_dropped;
        s.spool_corrupt_records = w.spool_corrupt;
        s.spool_full = w.spool_full;
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
    writer.stop();  // flushes while the database takes batches; otherwise the spool keeps them
    if (const auto w = writer.stats(); w.abandoned > 0 || w.spool_records > 0)
        spdlog::warn("readings not in the database at exit: abandoned={} spooled_batches={}",
                     w.abandoned, w.spool_records);
    rollups.stop();  // unprocessed marks stay in rollup_dirty for the next start
    spdlog::info("intelergy stopped");
    return 0;
}

}  // namespace intelergy::app
