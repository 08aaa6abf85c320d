// Composition root: builds the long-lived objects and hands out references.
#include "wiring.hpp"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "intelergy/bridge/bridge.hpp"
#include "intelergy/bridge/paho_mqtt_client.hpp"
#include "intelergy/store/pg_store.hpp"

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
    opts.username = config.mqtt.username;
    opts.password = config.mqtt.password;
    opts.keepalive = config.mqtt.keepalive;
    opts.reconnect_min = config.mqtt.reconnect_min;
    opts.reconnect_max = config.mqtt.reconnect_max;
    opts.will = MqttMessage{base + "/bridge/state", R"({"state":"offline"})", 1, true};
    bridge::PahoMqttClient mqtt(opts);

    SystemClock clock;
    const std::string dsn = config.postgres.dsn;
    bridge::Bridge bridge(config, mqtt, clock,
                          [dsn] { return std::make_unique<store::PgStore>(dsn); });
    bridge.start();
    mqtt.start();

    std::atomic<bool> signalled{false};
    std::thread signal_waiter([&] {
        int sig = 0;
        sigwait(&signals, &sig);
        signalled = true;
        spdlog::info("received {}, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
        bridge.stop();
    });
    bridge.run();  // returns after stop(), from the signal thread
    mqtt.stop(MqttMessage{base + "/bridge/state", R"({"state":"offline"})", 1, true},
              std::chrono::seconds(3));
    if (!signalled) pthread_kill(signal_waiter.native_handle(), SIGTERM);
    signal_waiter.join();
    spdlog::info("intelergy stopped");
    return 0;
}

}  // namespace intelergy::app
