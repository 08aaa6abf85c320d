#pragma once

#include <functional>
#include <memory>
#include <string>

#include "intelergy/bridge/bridge.hpp"
#include "intelergy/bridge/health_server.hpp"
#include "intelergy/bridge/metrics.hpp"
#include "intelergy/config/config.hpp"

namespace intelergy::app {

// Sends one sd_notify(3) message (e.g. "STATUS=applying database migrations"); does nothing
// without NOTIFY_SOCKET or in a build without libsystemd.
void notify(const std::string& state);

// The service's face to its operator: systemd notifications (READY=1 once the schema is migrated,
// MQTT is connected with bridge/state online, and the database has not failed; STATUS= summary;
// WATCHDOG=1 fed by the core loop so a stuck loop gets restarted) and the loopback HTTP endpoint
// (/metrics, /healthz, /readyz).
class ServiceMonitor {
public:
    // `collect` fills the parts of ServiceStats the bridge cannot know (store, rollups).
    ServiceMonitor(const config::AppConfig& config, bridge::Bridge& bridge, MqttClient& mqtt,
                   std::function<void(bridge::ServiceStats&)> collect);
    ~ServiceMonitor();
    ServiceMonitor(const ServiceMonitor&) = delete;
    ServiceMonitor& operator=(const ServiceMonitor&) = delete;

    // Call before Bridge::run(): registers the periodic tasks and starts the HTTP endpoint.
    Status start();
    void stopping();  // STOPPING=1

private:
    [[nodiscard]] bridge::ServiceStats snapshot() const;
    void tick();

    const config::AppConfig& config_;
    bridge::Bridge& bridge_;
    MqttClient& mqtt_;
    std::function<void(bridge::ServiceStats&)> collect_;
    std::unique_ptr<bridge::HealthServer> http_;
    bool ready_sent_{false};
    int ticks_{0};
};

}  // namespace intelergy::app
