#include "intelergy/bridge/health_server.hpp"

#include "intelergy/core/server_wait.hpp"

#include <httplib.h>

#include <thread>

namespace intelergy::bridge {

struct HealthServer::Impl {
    HealthHandlers handlers;
    httplib::Server server;
    std::thread thread;
    int port{0};
};

HealthServer::HealthServer(HealthHandlers handlers) : impl_(std::make_unique<Impl>()) {
    impl_->handlers = std::move(handlers);
    auto& d = *impl_;
    d.server.new_task_queue = [] { return new httplib::ThreadPool(2); };
    d.server.Get("/metrics", [&d](const httplib::Request&, httplib::Response& res) {
        res.set_content(d.handlers.metrics ? d.handlers.metrics() : "",
                        "text/plain; version=0.0.4; charset=utf-8");
    });
    d.server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("ok\n", "text/plain");
    });
    d.server.Get("/readyz", [&d](const httplib::Request&, httplib::Response& res) {
        const bool ready = d.handlers.ready && d.handlers.ready();
        res.status = ready ? 200 : 503;
        res.set_content(ready ? "ready\n" : "not ready\n", "text/plain");
    });
}

HealthServer::~HealthServer() { stop(); }

Status HealthServer::start(const std::string& host, std::uint16_t port) {
    auto& d = *impl_;
    if (port == 0) {
        d.port = d.server.bind_to_any_port(host);
    } else {
        d.port = d.server.bind_to_port(host, port) ? port : -1;
    }
    if (d.port <= 0)
        return make_error(ErrorCode::Config, "cannot listen on " + host + ":" +
                                                 std::to_string(port) + " for /metrics");
    d.thread = std::thread([&d] { d.server.listen_after_bind(); });
    if (!wait_until_running(d.server)) {
        return make_error(ErrorCode::Config, "the /metrics listener did not start");
    }
    return {};
}

std::uint16_t HealthServer::port() const { return static_cast<std::uint16_t>(impl_->port); }

void HealthServer::stop() {
    auto& d = *impl_;
    if (d.thread.joinable()) {
        d.server.stop();
        d.thread.join();
    }
}

}  // namespace intelergy::bridge
