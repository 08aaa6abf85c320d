// SPDX-License-Identifier: MIT
#pragma once

#include "intelergy/sim/device_http.hpp"
#include "intelergy/sim/plug.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace intelergy::sim {

struct SimOptions {
    std::string bind = "127.0.0.1";
    int control_port = 0;     // 0 = any free port
    int shared_port = -1;     // >= 0: all plugs on one port under /<name>/ (0 = any free port)
    int shared_threads = 32;  // worker pool of the shared-port server
    int plug_threads = 2;     // worker pool of each per-plug server
    std::string mqtt_url;     // empty = MQTT off for every plug
    bool mqtt_shared_connection = false;
    double notify_rate = 0.0;  // msgs/s total, shared connection only
    int tick_ms = 100;         // real-time period of the MQTT/physics tick
};

class HttpServers;  // src/http_servers.hpp
class MqttHub;

// Owns the plugs, their HTTP endpoints, the MQTT hub, the control API and the ticker thread.
class Simulator {
public:
    Simulator(SimOptions opts, std::vector<PlugSpec> specs, const SimClock& clock);
    ~Simulator();
    Simulator(const Simulator&) = delete;
    Simulator& operator=(const Simulator&) = delete;

    // Binds every port (throws std::runtime_error when a port can't be bound) and starts threads.
    void start();
    void stop();

    [[nodiscard]] int control_port() const;
    [[nodiscard]] std::string control_url() const;
    [[nodiscard]] std::vector<std::unique_ptr<Plug>>& plugs() { return plugs_; }
    [[nodiscard]] Plug* find(std::string_view name);
    // Base URL of a plug's HTTP API ("" when http = false).
    [[nodiscard]] std::string plug_url(const Plug& plug) const;
    // The per-plug line printed on stdout / written to --plugs-out.
    [[nodiscard]] Json plug_line(const Plug& plug) const;
    // Control API (transport-neutral, see docs/simulator.md).
    [[nodiscard]] HttpReply control(const HttpRequest& req);

    // Offline/online for per-port plugs also stops/starts the listening socket.
    std::string apply_fault(Plug& plug, std::string_view type, const HttpRequest& req);

private:
    Json plug_detail(Plug& plug);

    SimOptions opts_;
    const SimClock& clock_;
    std::vector<std::unique_ptr<Plug>> plugs_;
    NonceIssuer nonces_;
    DeviceHttp device_http_;
    std::unique_ptr<HttpServers> http_;
    std::unique_ptr<MqttHub> mqtt_;
    std::thread ticker_;
    std::mutex tick_mu_;
    std::condition_variable tick_cv_;
    bool stopping_ = false;
    bool started_ = false;
    int control_port_ = 0;
};

}  // namespace intelergy::sim
