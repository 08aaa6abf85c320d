#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "intelergy/core/result.hpp"

namespace intelergy::bridge {

struct HealthHandlers {
    std::function<std::string()> metrics;  // Prometheus text exposition
    std::function<bool()> ready;           // MQTT and database connected
};

// GET /metrics (text/plain; version=0.0.4), /healthz (200 while the process serves), /readyz
// (200 when ready, 503 otherwise) on one listening socket with its own small thread pool.
class HealthServer {
public:
    explicit HealthServer(HealthHandlers handlers);
    ~HealthServer();
    HealthServer(const HealthServer&) = delete;
    HealthServer& operator=(const HealthServer&) = delete;

    // Binds and starts serving in the background; port 0 picks a free port.
    Status start(const std::string& host, std::uint16_t port);
    [[nodiscard]] std::uint16_t port() const;
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace intelergy::bridge
