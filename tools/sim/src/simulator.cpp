// SPDX-License-Identifier: MIT
#include "intelergy/sim/simulator.hpp"

#include "http_servers.hpp"
#include "intelergy/sim/mqtt_hub.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <random>
#include <stdexcept>
#include <unordered_set>

namespace intelergy::sim {

namespace {

HttpReply json_reply(const Json& j, int status = 200) {
    HttpReply r;
    r.status = status;
    r.body = j.dump();
    return r;
}

HttpReply error_reply(const std::string& msg, int status = 400) {
    return json_reply(Json{{"ok", false}, {"error", msg}}, status);
}

const std::string* param(const HttpRequest& req, std::string_view key) {
    for (const auto& [k, v] : req.params) {
        if (k == key) return &v;
    }
    return nullptr;
}

int int_param(const HttpRequest& req, std::string_view key, int dflt) {
    const auto* v = param(req, key);
    if (!v) return dflt;
    try {
        return std::stoi(*v);
    } catch (const std::exception&) {
        throw std::invalid_argument("parameter '" + std::string(key) + "' must be an integer");
    }
}

bool valid_name(const std::string& n) {
    if (n.empty()) return false;
    for (char c : n) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
            return false;
        }
    }
    return true;
}

}  // namespace

Simulator::Simulator(SimOptions opts, std::vector<PlugSpec> specs, const SimClock& clock)
    : opts_(std::move(opts)),
      clock_(clock),
      nonces_(std::random_device{}()),
      device_http_(nonces_) {
    std::unordered_set<std::string> names;
    std::uint64_t index = 0;
    for (auto& s : specs) {
        if (opts_.mqtt_url.empty()) s.mqtt = false;
        auto plug = std::make_unique<Plug>(std::move(s), clock_, ++index);
        if (!valid_name(plug->name())) {
            throw std::invalid_argument("plug name '" + plug->name() +
                                        "' must match [A-Za-z0-9_.-]+");
        }
        if (!names.insert(plug->name()).second) {
            throw std::invalid_argument("duplicate plug name '" + plug->name() + "'");
        }
        plugs_.push_back(std::move(plug));
    }
    http_ = std::make_unique<HttpServers>(device_http_, opts_.bind, opts_.plug_threads,
                                          opts_.shared_threads);
}

Simulator::~Simulator() { stop(); }

void Simulator::start() {
    control_port_ = http_->start_control(opts_.control_port,
                                         [this](const HttpRequest& r) { return control(r); });
    std::vector<Plug*> http_plugs;
    std::vector<Plug*> mqtt_plugs;
    for (auto& p : plugs_) {
        if (p->spec().http) http_plugs.push_back(p.get());
        if (p->spec().mqtt) mqtt_plugs.push_back(p.get());
    }
    if (opts_.shared_port >= 0) {
        http_->start_shared(opts_.shared_port, http_plugs);
    } else {
        for (auto* p : http_plugs) http_->start_plug(*p, p->spec().port);
    }
    if (!mqtt_plugs.empty()) {
        MqttHubOptions mo;
        mo.url = opts_.mqtt_url;
        mo.shared_connection = opts_.mqtt_shared_connection;
        mo.notify_rate = opts_.notify_rate;
        mqtt_ = std::make_unique<MqttHub>(mo, mqtt_plugs, clock_);
        mqtt_->start();
        ticker_ = std::thread([this] {
            std::unique_lock lock(tick_mu_);
            while (!stopping_) {
                tick_cv_.wait_for(lock, std::chrono::milliseconds(opts_.tick_ms));
                if (stopping_) break;
                lock.unlock();
                try {
                    mqtt_->tick();
                } catch (const std::exception& e) {
                    spdlog::error("sim tick failed err={}", e.what());
                }
                lock.lock();
            }
        });
    }
    started_ = true;
}

void Simulator::stop() {
    {
        std::lock_guard lock(tick_mu_);
        if (stopping_) return;
        stopping_ = true;
    }
    tick_cv_.notify_all();
    if (ticker_.joinable()) ticker_.join();
    if (mqtt_) mqtt_->stop();
    if (http_) http_->stop_all();
}

int Simulator::control_port() const { return control_port_; }

std::string Simulator::control_url() const {
    return "http://" + opts_.bind + ":" + std::to_string(control_port_);
}

Plug* Simulator::find(std::string_view name) {
    for (auto& p : plugs_) {
        if (p->name() == name) return p.get();
    }
    return nullptr;
}

std::string Simulator::plug_url(const Plug& plug) const {
    if (!plug.spec().http) return {};
    if (opts_.shared_port >= 0) {
        return "http://" + opts_.bind + ":" + std::to_string(http_->shared_port()) + "/" +
               plug.name();
    }
    return "http://" + opts_.bind + ":" + std::to_string(http_->plug_port(plug));
}

Json Simulator::plug_line(const Plug& plug) const {
    const auto url = plug_url(plug);
    return Json{{"name", plug.name()},
                {"kind", plug.info().name},
                {"model", plug.info().model},
                {"gen", plug.gen()},
                {"url", url.empty() ? Json(nullptr) : Json(url)},
                {"mac", plug.mac()},
                {"id", plug.id()},
                {"mqtt_prefix", plug.mqtt_prefix()},
                {"http", plug.spec().http},
                {"mqtt", plug.spec().mqtt},
                {"auth", plug.has_auth()},
                {"channels", plug.channel_count()}};
}

Json Simulator::plug_detail(Plug& plug) {
    auto j = plug_line(plug);
    const auto f = plug.faults();
    j["port"] = plug.spec().http
                    ? Json(opts_.shared_port >= 0 ? http_->shared_port() : http_->plug_port(plug))
                    : Json(nullptr);
    j["online"] = !f.offline;
    j["synced"] = plug.synced();
    j["uptime"] = plug.uptime_s();
    j["boot_count"] = plug.boot_count();
    j["mqtt_connected"] = plug.mqtt_connected();
    j["faults"] = Json{{"offline", f.offline},
                       {"slow_ms", f.slow_ms},
                       {"garbage", f.garbage},
                       {"truncated", f.truncated},
                       {"huge", f.huge}};
    Json chans = Json::array();
    for (int ch = 0; ch < plug.channel_count(); ++ch) {
        const auto r = plug.reading(ch);
        chans.push_back(
            Json{{"channel", ch},
                 {"component", plug.component_key(ch)},
                 {"output", r.output},
                 {"power_w", r.power_exact},
                 {"counter_wh", r.counter_wh},
                 {"reported_total", plug.gen() == 1 ? Json(r.total_wmin) : Json(r.total_wh)},
                 {"reported_unit", plug.gen() == 1 ? "Wmin" : "Wh"},
                 {"truth_wh", r.truth_wh}});
    }
    j["channels"] = chans;
    return j;
}

std::string Simulator::apply_fault(Plug& plug, std::string_view type, const HttpRequest& req) {
    const bool per_port = opts_.shared_port < 0 && plug.spec().http && started_;
    const int count = int_param(req, "count", -1);
    if (type == "reboot") {
        plug.reboot();
        if (per_port && !plug.faults().offline) {
            // The device's socket goes away and comes back.
            http_->stop_plug(plug);
            http_->start_plug(plug, 0);
        }
    } else if (type == "reset_counters") {
        plug.reset_counters(int_param(req, "channel", -1));
    } else if (type == "offline") {
        plug.update_faults([](Faults& f) { f.offline = true; });
        if (per_port) http_->stop_plug(plug);
    } else if (type == "online") {
        const bool was_offline = plug.faults().offline;
        plug.update_faults([](Faults& f) { f.offline = false; });
        if (per_port && was_offline) http_->start_plug(plug, 0);
    } else if (type == "slow") {
        const int ms = int_param(req, "ms", 2000);
        plug.update_faults([ms](Faults& f) { f.slow_ms = std::max(0, ms); });
    } else if (type == "garbage") {
        plug.update_faults([count](Faults& f) { f.garbage = count; });
    } else if (type == "truncated") {
        plug.update_faults([count](Faults& f) { f.truncated = count; });
    } else if (type == "huge") {
        const int bytes = int_param(req, "bytes", 4 << 20);
        plug.update_faults([count, bytes](Faults& f) {
            f.huge = count;
            f.huge_bytes = static_cast<std::size_t>(std::max(1, bytes));
        });
    } else if (type == "unsynced" || type == "synced") {
        plug.set_synced(type == "synced");
    } else if (type == "clear") {
        plug.update_faults([](Faults& f) {
            f.slow_ms = 0;
            f.garbage = 0;
            f.truncated = 0;
            f.huge = 0;
        });
    } else {
        return "unknown fault type '" + std::string(type) +
               "' (reboot|reset_counters|offline|online|slow|garbage|truncated|huge|unsynced|"
               "synced|clear)";
    }
    spdlog::info("sim fault plug={} type={}", plug.name(), type);
    return {};
}

HttpReply Simulator::control(const HttpRequest& req) {
    try {
        const auto& path = req.path;
        if (path == "/sim/plugs") {
            Json list = Json::array();
            for (auto& p : plugs_) list.push_back(plug_detail(*p));
            return json_reply(Json{{"plugs", list}, {"time", epoch_seconds_2dec(clock_.now_us())}});
        }
        if (path == "/sim/truth") {
            Json plugs = Json::object();
            for (auto& p : plugs_) {
                Json chans = Json::array();
                for (int ch = 0; ch < p->channel_count(); ++ch) {
                    chans.push_back(p->reading(ch).truth_wh);
                }
                plugs[p->name()] = chans;
            }
            return json_reply(
                Json{{"time", epoch_seconds_2dec(clock_.now_us())}, {"plugs", plugs}});
        }
        // Everything below targets plug=<name> (or plug=* for all plugs).
        const auto* name = param(req, "plug");
        if (!name) return error_reply("missing parameter 'plug'");
        std::vector<Plug*> targets;
        if (*name == "*") {
            for (auto& p : plugs_) targets.push_back(p.get());
        } else if (auto* p = find(*name)) {
            targets.push_back(p);
        } else {
            return error_reply("no plug named '" + *name + "'", 404);
        }
        if (path == "/sim/fault") {
            const auto* type = param(req, "type");
            if (!type) return error_reply("missing parameter 'type'");
            for (auto* p : targets) {
                const auto err = apply_fault(*p, *type, req);
                if (!err.empty()) return error_reply(err);
            }
            return json_reply(Json{{"ok", true}, {"plug", *name}, {"type", *type}});
        }
        const int channel = int_param(req, "channel", 0);
        for (auto* p : targets) {
            if (channel < 0 || channel >= p->channel_count()) {
                return error_reply("plug '" + p->name() + "' has no channel " +
                                   std::to_string(channel));
            }
        }
        if (path == "/sim/power") {
            const auto* w = param(req, "watts");
            std::optional<double> watts;
            if (w && *w != "profile") {
                try {
                    watts = std::stod(*w);
                } catch (const std::exception&) {
                    return error_reply("watts must be a number or 'profile'");
                }
                if (*watts < 0) return error_reply("watts must be >= 0");
            }
            for (auto* p : targets) p->set_power(channel, watts);
            return json_reply(Json{{"ok", true},
                                   {"plug", *name},
                                   {"channel", channel},
                                   {"watts", watts ? Json(*watts) : Json("profile")}});
        }
        if (path == "/sim/relay") {
            const auto* on = param(req, "on");
            if (!on) return error_reply("missing parameter 'on' (true|false|toggle)");
            for (auto* p : targets) {
                const bool value = *on == "toggle" ? !p->reading(channel).output
                                                   : (*on == "true" || *on == "1" || *on == "on");
                if (!p->set_relay(channel, value, "button")) {
                    return error_reply("plug '" + p->name() + "' has no relay");
                }
            }
            return json_reply(Json{{"ok", true}, {"plug", *name}, {"channel", channel}});
        }
        return error_reply("unknown control path " + path, 404);
    } catch (const std::exception& e) {
        return error_reply(e.what());
    }
}

}  // namespace intelergy::sim
