// SPDX-License-Identifier: MIT
#include "intelergy/sim/mqtt_hub.hpp"

#include "device_mqtt_conn.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace intelergy::sim {

namespace {

std::string to_paho_uri(const std::string& url) {
    if (url.starts_with("mqtt://")) return "tcp://" + url.substr(7);
    return url;
}

mqtt::connect_options make_connect_options(const MqttMessage* will) {
    auto b = mqtt::connect_options_builder()
                 .mqtt_version(MQTTVERSION_5)
                 .clean_start(true)
                 .keep_alive_interval(std::chrono::seconds(30))
                 .automatic_reconnect(std::chrono::seconds(1), std::chrono::seconds(10));
    if (will) b.will(mqtt::message(will->topic, will->payload, 1, true));
    return b.finalize();
}

void publish_all(mqtt::async_client& cli, const std::vector<MqttMessage>& msgs) {
    for (const auto& m : msgs) {
        try {
            cli.publish(m.topic, m.payload.data(), m.payload.size(), m.retained ? 1 : 0,
                        m.retained);
        } catch (const mqtt::exception& e) {
            spdlog::debug("sim mqtt publish failed topic={} err={}", m.topic, e.what());
        }
    }
}

}  // namespace

struct Agent {
    explicit Agent(Plug& p) : plug(p), logic(p), boot_seen(p.boot_count()) {}
    Plug& plug;
    MqttDeviceLogic logic;
    std::mutex mu;  // serialises logic between the ticker and Paho's callback thread
    std::unique_ptr<DeviceMqttConn> cli;  // per-plug mode only
    std::atomic<bool> connected{false};
    bool active = false;  // we want a connection (per-plug) / have announced online (shared)
    std::uint64_t boot_seen;
};

struct MqttHub::Impl {
    MqttHubOptions opts;
    const SimClock& clock;
    std::vector<std::unique_ptr<Agent>> agents;
    std::unordered_map<std::string, Agent*> by_prefix;
    std::unique_ptr<mqtt::async_client> shared;
    std::atomic<bool> shared_connected{false};
    std::mutex shared_mu;
    std::thread pacer;
    std::mutex pacer_mu;
    std::condition_variable pacer_cv;
    bool stopping = false;

    Impl(MqttHubOptions o, const SimClock& c) : opts(std::move(o)), clock(c) {}

    // Client ids carry the process id: two simulators with the same plugs (e.g. two tests run
    // at once) must not take over each other's sessions, which would leave a plug's RPC topic
    // without a subscriber.
    std::string process_client_prefix() const {
        return opts.client_prefix + "-" + std::to_string(::getpid());
    }

    // --- per-plug mode ---
    void connect_agent(Agent& a) {
        if (!a.cli) {
            DeviceMqttConn::Callbacks cbs;
            cbs.connected = [this, &a] {
                a.connected = true;
                a.plug.set_mqtt_connected(true);
                std::lock_guard lock(a.mu);
                for (const auto& t : a.logic.subscriptions()) a.cli->subscribe(t);
                for (const auto& m : a.logic.on_connect(clock.now_us())) a.cli->publish(m);
            };
            cbs.lost = [&a] {
                a.connected = false;
                a.plug.set_mqtt_connected(false);
            };
            cbs.message = [this, &a](const std::string& topic, const std::string& payload) {
                std::lock_guard lock(a.mu);
                for (const auto& m : a.logic.on_message(topic, payload, clock.now_us())) {
                    a.cli->publish(m);
                }
            };
            a.cli = std::make_unique<DeviceMqttConn>(
                to_paho_uri(opts.url), process_client_prefix() + "-" + a.plug.id(), std::move(cbs));
        }
        a.cli->connect(a.logic.will());
    }

    void drop_agent(Agent& a) {
        a.connected = false;
        a.plug.set_mqtt_connected(false);
        if (a.cli) a.cli->drop_with_will();
    }

    void tick_per_plug(Agent& a, SimMicros now) {
        const bool offline = a.plug.faults().offline;
        const auto boot = a.plug.boot_count();
        if (boot != a.boot_seen) {
            a.boot_seen = boot;
            if (a.active) drop_agent(a);
            a.active = false;
        }
        if (offline && a.active) {
            drop_agent(a);
            a.active = false;
        } else if (!offline && !a.active) {
            connect_agent(a);
            a.active = true;
        }
        if (a.connected) {
            std::lock_guard lock(a.mu);
            for (const auto& m : a.logic.tick(now)) a.cli->publish(m);
        }
    }

    // --- shared mode ---
    Agent* route(const std::string& topic) {
        const auto try_prefix = [&](std::string_view suffix) -> Agent* {
            if (topic.size() <= suffix.size() || !topic.ends_with(suffix)) return nullptr;
            const auto it = by_prefix.find(topic.substr(0, topic.size() - suffix.size()));
            return it == by_prefix.end() ? nullptr : it->second;
        };
        if (auto* a = try_prefix("/rpc")) return a;
        if (auto* a = try_prefix("/command")) return a;
        if (auto* a = try_prefix("/relay/0/command")) return a;
        const auto slash = topic.rfind('/');
        if (slash != std::string::npos && topic.substr(0, slash).ends_with("/command")) {
            const auto base = topic.substr(0, slash - 8);
            const auto it = by_prefix.find(base);
            if (it != by_prefix.end()) return it->second;
        }
        return nullptr;
    }

    void on_shared_message(const mqtt::const_message_ptr& msg) {
        const auto& topic = msg->get_topic();
        std::vector<Agent*> targets;
        if (topic == "shellies/command") {
            for (auto& a : agents) {
                if (a->plug.gen() == 1) targets.push_back(a.get());
            }
        } else if (auto* a = route(topic)) {
            targets.push_back(a);
        }
        for (auto* a : targets) {
            if (!a->active) continue;
            std::vector<MqttMessage> out;
            {
                std::lock_guard lock(a->mu);
                out = a->logic.on_message(topic, msg->get_payload_str(), clock.now_us());
            }
            std::lock_guard lock(shared_mu);
            publish_all(*shared, out);
        }
    }

    void start_shared() {
        for (auto& a : agents) by_prefix[a->plug.mqtt_prefix()] = a.get();
        shared = std::make_unique<mqtt::async_client>(
            to_paho_uri(opts.url), process_client_prefix() + "-shared",
            mqtt::create_options(MQTTVERSION_5));
        shared->set_connected_handler([this](const std::string&) {
            try {
                std::vector<std::string> topics{"+/rpc",
                                                "+/command",
                                                "+/command/+",
                                                "shellies/+/relay/0/command",
                                                "shellies/+/command",
                                                "shellies/command"};
                for (auto& a : agents) {
                    const auto& p = a->plug.mqtt_prefix();
                    if (a->plug.gen() > 1 && p.find('/') != std::string::npos) {
                        for (const auto& t : a->logic.subscriptions()) topics.push_back(t);
                    }
                }
                for (const auto& t : topics) shared->subscribe(t, 1);
            } catch (const mqtt::exception& e) {
                spdlog::warn("sim mqtt shared subscribe failed err={}", e.what());
            }
            for (auto& a : agents) a->active = false;  // re-announce everything on (re)connect
            shared_connected = true;
        });
        shared->set_connection_lost_handler(
            [this](const std::string&) { shared_connected = false; });
        shared->set_message_callback([this](mqtt::const_message_ptr msg) {
            try {
                on_shared_message(msg);
            } catch (const std::exception& e) {
                spdlog::warn("sim mqtt shared message failed err={}", e.what());
            }
        });
        shared->connect(make_connect_options(nullptr));
        if (opts.notify_rate > 0) pacer = std::thread([this] { pace(); });
    }

    void tick_shared(Agent& a, SimMicros now) {
        const bool offline = a.plug.faults().offline;
        const auto boot = a.plug.boot_count();
        std::vector<MqttMessage> out;
        {
            std::lock_guard lock(a.mu);
            if ((offline || boot != a.boot_seen) && a.active) {
                out.push_back(a.logic.will());  // the broker can't do it for us here
                a.active = false;
                a.plug.set_mqtt_connected(false);
            }
            a.boot_seen = boot;
            if (!offline && !a.active) {
                auto on = a.logic.on_connect(now);
                out.insert(out.end(), on.begin(), on.end());
                a.active = true;
                a.plug.set_mqtt_connected(true);
            } else if (a.active && opts.notify_rate <= 0) {
                auto t = a.logic.tick(now);
                out.insert(out.end(), t.begin(), t.end());
            }
        }
        if (!out.empty()) {
            std::lock_guard lock(shared_mu);
            publish_all(*shared, out);
        }
    }

    // Forced NotifyStatus at opts.notify_rate msgs/s, round-robin over plugs, 5 ms granularity.
    void pace() {
        using namespace std::chrono;
        std::size_t cursor = 0;
        double tokens = 0.0;
        auto last = steady_clock::now();
        std::unique_lock lk(pacer_mu);
        while (!stopping) {
            pacer_cv.wait_for(lk, milliseconds(5));
            const auto now = steady_clock::now();
            tokens = std::min(tokens + opts.notify_rate * duration<double>(now - last).count(),
                              std::max(1.0, opts.notify_rate));
            last = now;
            if (!shared_connected || agents.empty()) continue;
            std::size_t skipped = 0;
            while (tokens >= 1.0 && skipped < agents.size()) {
                auto& a = *agents[cursor];
                cursor = (cursor + 1) % agents.size();
                if (!a.active) {
                    ++skipped;
                    continue;
                }
                std::vector<MqttMessage> out;
                {
                    std::lock_guard lock(a.mu);
                    out = a.logic.forced_notify(clock.now_us());
                }
                {
                    std::lock_guard lock(shared_mu);
                    publish_all(*shared, out);
                }
                tokens -= 1.0;
                skipped = 0;
            }
        }
    }
};

MqttHub::MqttHub(MqttHubOptions opts, std::vector<Plug*> plugs, const SimClock& clock)
    : impl_(std::make_unique<Impl>(std::move(opts), clock)) {
    for (auto* p : plugs) impl_->agents.push_back(std::make_unique<Agent>(*p));
}

MqttHub::~MqttHub() { stop(); }

void MqttHub::start() {
    if (impl_->opts.shared_connection) impl_->start_shared();
    tick();
}

void MqttHub::tick() {
    const auto now = impl_->clock.now_us();
    if (impl_->opts.shared_connection) {
        if (!impl_->shared_connected) return;
        for (auto& a : impl_->agents) impl_->tick_shared(*a, now);
        return;
    }
    for (auto& a : impl_->agents) impl_->tick_per_plug(*a, now);
}

void MqttHub::stop() {
    {
        std::lock_guard lk(impl_->pacer_mu);
        if (impl_->stopping) return;
        impl_->stopping = true;
    }
    impl_->pacer_cv.notify_all();
    if (impl_->pacer.joinable()) impl_->pacer.join();
    // A clean shutdown of the simulator is a clean disconnect: publish offline explicitly.
    const auto offline_then_disconnect = [](mqtt::async_client& cli,
                                            const std::vector<MqttMessage>& wills) {
        try {
            if (cli.is_connected()) {
                publish_all(cli, wills);
                cli.disconnect(std::chrono::seconds(2))->wait_for(std::chrono::seconds(3));
            }
        } catch (const mqtt::exception& e) {
            spdlog::debug("sim mqtt stop err={}", e.what());
        }
    };
    if (impl_->shared) {
        std::vector<MqttMessage> wills;
        for (auto& a : impl_->agents) wills.push_back(a->logic.will());
        offline_then_disconnect(*impl_->shared, wills);
    }
    for (auto& a : impl_->agents) {
        if (!a->cli) continue;
        if (a->connected) a->cli->publish(a->logic.will());
        a->cli->disconnect_clean();
        a->cli.reset();
    }
}

}  // namespace intelergy::sim
