#include "service.hpp"

#include <spdlog/spdlog.h>

#ifdef INTELERGY_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace intelergy::app {

namespace {

// Half the watchdog period systemd asked for, or 0 when there is no watchdog.
std::chrono::milliseconds watchdog_period() {
#ifdef INTELERGY_HAVE_SYSTEMD
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        return std::chrono::milliseconds(usec / 2000);
#endif
    return std::chrono::milliseconds(0);
}

}  // namespace

void notify(const std::string& state) {
#ifdef INTELERGY_HAVE_SYSTEMD
    sd_notify(0, state.c_str());
#else
    (void)state;
#endif
}

ServiceMonitor::ServiceMonitor(const config::AppConfig& config, bridge::Bridge& bridge,
                               MqttClient& mqtt, std::function<void(bridge::ServiceStats&)> collect)
    : config_(config), bridge_(bridge), mqtt_(mqtt), collect_(std::move(collect)) {}

ServiceMonitor::~ServiceMonitor() {
    if (http_) http_->stop();
}

bridge::ServiceStats ServiceMonitor::snapshot() const {
    bridge::ServiceStats s;
    s.bridge = bridge_.stats();
    s.mqtt_connected = mqtt_.connected();
    s.resident_memory_bytes = bridge::resident_memory_bytes();
    if (collect_) collect_(s);
    return s;
}

Status ServiceMonitor::start() {
    if (config_.http.enabled) {
        http_ = std::make_unique<bridge::HealthServer>(bridge::HealthHandlers{
            [this] { return bridge::prometheus_text(snapshot()); },
            [this] {
                const auto s = snapshot();
                return s.mqtt_connected && s.database_ok;
            }});
        if (auto st = http_->start(config_.http.listen_host, config_.http.listen_port); !st)
            return st;
        spdlog::info("http endpoint listening on {}:{} (/metrics /healthz /readyz)",
                     config_.http.listen_host, http_->port());
    }
    bridge_.every(std::chrono::seconds(1), [this] { tick(); });
    if (const auto period = watchdog_period(); period.count() > 0) {
        // Fed by the core loop itself: if the loop hangs, the pings stop and systemd restarts us.
        bridge_.every(period, [] { notify("WATCHDOG=1"); });
        spdlog::info("systemd watchdog ping every {} ms", period.count());
    }
    return {};
}

void ServiceMonitor::tick() {
    const auto s = snapshot();
    // The schema was migrated before this monitor existed (run_bridge), so ready means: the
    // broker accepted us and bridge/state "online" is out, and the writer has no database error.
    // Same condition as /readyz, plus the announcement.
    if (!ready_sent_ && s.bridge.announced && s.mqtt_connected && s.database_ok) {
        ready_sent_ = true;
        spdlog::info("ready: {}", bridge::status_line(s));
        notify("READY=1\nSTATUS=" + bridge::status_line(s));
    } else if (!ready_sent_ || ++ticks_ % 10 == 0) {
        notify("STATUS=" + std::string(ready_sent_ ? "" : "starting: ") + bridge::status_line(s));
    }
}

void ServiceMonitor::stopping() { notify("STOPPING=1"); }

}  // namespace intelergy::app
