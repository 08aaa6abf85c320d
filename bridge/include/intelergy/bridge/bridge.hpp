#pragma once

#include <functional>
#include <memory>

#include "intelergy/config/config.hpp"
#include "intelergy/core/clock.hpp"
#include "intelergy/core/http_client.hpp"
#include "intelergy/core/mqtt_client.hpp"
#include "intelergy/store/store.hpp"

namespace intelergy::bridge {

using StoreFactory = std::function<std::unique_ptr<store::Store>()>;
// Where readings (and the energy book state they advanced) leave the core loop.
using ReadingSink =
    std::function<void(const Reading&, const std::optional<store::EnergyBookRow>&)>;

// The bridge service: wires MQTT in → core loop → API worker / devices → MQTT out.
// Threads: the caller's thread runs the core loop in run(); one API worker thread owns its own
// Store (from the factory) and serves bridge/request/# one request at a time.
class Bridge {
public:
    Bridge(const config::AppConfig& config, MqttClient& mqtt, HttpClient& http,
           const Clock& clock, StoreFactory store_factory, ReadingSink sink);
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

    // Topic helpers (public for tests and tools).
    [[nodiscard]] std::string topic(std::string_view suffix) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace intelergy::bridge
