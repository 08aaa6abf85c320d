// SPDX-License-Identifier: MIT
#include "http_servers.hpp"

#include "intelergy/core/server_wait.hpp"

#include <httplib.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace intelergy::sim {

struct HttpServers::Running {
    std::unique_ptr<httplib::Server> svr;
    std::thread th;
    int port = 0;

    ~Running() { stop(); }
    void stop() {
        if (svr) svr->stop();
        if (th.joinable()) th.join();
    }
};

namespace {

HttpRequest to_request(const httplib::Request& req, std::string path) {
    HttpRequest r;
    r.method = req.method;
    r.path = std::move(path);
    r.target = req.target;
    r.params.assign(req.params.begin(), req.params.end());
    r.authorization = req.get_header_value("Authorization");
    r.body = req.body;
    return r;
}

void write_reply(const HttpReply& reply, httplib::Response& res) {
    if (reply.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(reply.delay_ms));
    res.status = reply.status;
    for (const auto& [k, v] : reply.headers) res.set_header(k, v);
    switch (reply.delivery) {
        case HttpReply::Delivery::NORMAL:
            res.set_content(reply.body, reply.content_type.c_str());
            break;
        case HttpReply::Delivery::DROP:
            // Headers may already be on the wire, but no body follows: the client sees the
            // connection die, the closest a shared socket can get to a vanished device.
            res.set_content_provider(
                64, "application/json",
                [](std::size_t, std::size_t, httplib::DataSink&) { return false; });
            break;
        case HttpReply::Delivery::TRUNCATED: {
            auto body = std::make_shared<std::string>(reply.body);
            res.set_content_provider(
                body->size(), reply.content_type.c_str(),
                [body](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                    const auto half = body->size() / 2;
                    if (offset < half) sink.write(body->data() + offset, half - offset);
                    return false;
                });
            break;
        }
    }
}

std::unique_ptr<httplib::Server> make_server(int threads) {
    auto svr = std::make_unique<httplib::Server>();
    const auto n = static_cast<std::size_t>(std::max(1, threads));
    svr->new_task_queue = [n] { return new httplib::ThreadPool(n); };
    svr->set_keep_alive_max_count(1000);
    svr->set_keep_alive_timeout(5);
    return svr;
}

template <typename Fn>
void route_all(httplib::Server& svr, Fn fn) {
    svr.Get(".*", fn);
    svr.Post(".*", fn);
    svr.Put(".*", fn);
    svr.Delete(".*", fn);
}

int bind_and_run(HttpServers::Running& r, const std::string& host, int port) {
    if (port == 0) {
        r.port = r.svr->bind_to_any_port(host);
        if (r.port <= 0) throw std::runtime_error("cannot bind any port on " + host);
    } else {
        if (!r.svr->bind_to_port(host, port)) {
            throw std::runtime_error("cannot bind " + host + ":" + std::to_string(port));
        }
        r.port = port;
    }
    r.th = std::thread([svr = r.svr.get()] { svr->listen_after_bind(); });
    if (!wait_until_running(*r.svr)) {
        throw std::runtime_error("HTTP listener on " + host + " did not start");
    }
    return r.port;
}

}  // namespace

HttpServers::HttpServers(const DeviceHttp& api, std::string bind, int plug_threads,
                         int shared_threads)
    : api_(api),
      bind_(std::move(bind)),
      plug_threads_(plug_threads),
      shared_threads_(shared_threads) {}

HttpServers::~HttpServers() { stop_all(); }

int HttpServers::start_control(int port, ControlHandler handler) {
    control_ = std::make_unique<Running>();
    control_->svr = make_server(2);
    route_all(*control_->svr, [handler](const httplib::Request& req, httplib::Response& res) {
        write_reply(handler(to_request(req, req.path)), res);
    });
    return bind_and_run(*control_, bind_, port);
}

int HttpServers::start_shared(int port, const std::vector<Plug*>& plugs) {
    for (auto* p : plugs) shared_plugs_[p->name()] = p;
    shared_ = std::make_unique<Running>();
    shared_->svr = make_server(shared_threads_);
    route_all(*shared_->svr, [this](const httplib::Request& req, httplib::Response& res) {
        // /<name>/<device path>
        const auto slash = req.path.find('/', 1);
        const auto name =
            req.path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
        const auto it = shared_plugs_.find(name);
        if (it == shared_plugs_.end()) {
            res.status = 404;
            res.set_content("no such plug", "text/plain");
            return;
        }
        const auto rest = slash == std::string::npos ? std::string("/") : req.path.substr(slash);
        write_reply(api_.handle(*it->second, to_request(req, rest)), res);
    });
    shared_port_ = bind_and_run(*shared_, bind_, port);
    return shared_port_;
}

int HttpServers::start_plug(Plug& plug, int port) {
    auto r = std::make_unique<Running>();
    r->svr = make_server(plug_threads_);
    route_all(*r->svr, [this, &plug](const httplib::Request& req, httplib::Response& res) {
        write_reply(api_.handle(plug, to_request(req, req.path)), res);
    });
    {
        std::lock_guard lock(mu_);
        const auto known = plug_ports_.find(&plug);
        if (known != plug_ports_.end()) port = known->second;  // come back on the same port
    }
    const int bound = bind_and_run(*r, bind_, port);
    std::lock_guard lock(mu_);
    plug_ports_[&plug] = bound;
    per_plug_[&plug] = std::move(r);
    return bound;
}

void HttpServers::stop_plug(const Plug& plug) {
    std::unique_ptr<Running> r;
    {
        std::lock_guard lock(mu_);
        const auto it = per_plug_.find(&plug);
        if (it == per_plug_.end()) return;
        r = std::move(it->second);
        per_plug_.erase(it);
    }
    r->stop();
}

int HttpServers::plug_port(const Plug& plug) const {
    std::lock_guard lock(mu_);
    const auto it = plug_ports_.find(&plug);
    return it == plug_ports_.end() ? -1 : it->second;
}

void HttpServers::stop_all() {
    if (control_) control_->stop();
    if (shared_) shared_->stop();
    std::unordered_map<const Plug*, std::unique_ptr<Running>> plugs;
    {
        std::lock_guard lock(mu_);
        plugs.swap(per_plug_);
    }
    for (auto& [p, r] : plugs) r->stop();
}

}  // namespace intelergy::sim
