// SPDX-License-Identifier: MIT
#pragma once

#include "intelergy/sim/device_http.hpp"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace httplib {
class Server;
}

namespace intelergy::sim {

using ControlHandler = std::function<HttpReply(const HttpRequest&)>;

// httplib glue: per-plug servers, the shared-port server and the control server.
class HttpServers {
public:
    HttpServers(const DeviceHttp& api, std::string bind, int plug_threads, int shared_threads);
    ~HttpServers();
    HttpServers(const HttpServers&) = delete;
    HttpServers& operator=(const HttpServers&) = delete;

    int start_control(int port, ControlHandler handler);
    int start_shared(int port, const std::vector<Plug*>& plugs);
    int start_plug(Plug& plug, int port);  // returns the bound port
    void stop_plug(const Plug& plug);      // stop accepting: connections are refused
    [[nodiscard]] int plug_port(const Plug& plug) const;
    [[nodiscard]] int shared_port() const { return shared_port_; }
    void stop_all();

    struct Running;

private:
    const DeviceHttp& api_;
    std::string bind_;
    int plug_threads_;
    int shared_threads_;
    mutable std::mutex mu_;
    std::unordered_map<const Plug*, std::unique_ptr<Running>> per_plug_;
    std::unordered_map<const Plug*, int> plug_ports_;
    std::unordered_map<std::string, Plug*> shared_plugs_;
    std::unique_ptr<Running> shared_;
    std::unique_ptr<Running> control_;
    int shared_port_ = -1;
};

}  // namespace intelergy::sim
