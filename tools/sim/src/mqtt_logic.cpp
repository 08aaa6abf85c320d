// SPDX-License-Identifier: MIT
#include "intelergy/sim/mqtt_logic.hpp"

#include <cmath>
#include <cstdio>

namespace intelergy::sim {

namespace {

std::string num(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

Json aenergy_json(const ChannelReading& r, bool synced) {
    Json a{{"total", r.total_wh}};
    if (synced) {
        Json bm = Json::array();
        for (double wh : r.by_minute_wh) bm.push_back(round_to(wh * 1000.0, 3));
        a["by_minute"] = bm;
        a["minute_ts"] = r.minute_ts;
    }
    return a;
}

}  // namespace

MqttMessage MqttDeviceLogic::will() const {
    return {plug_.mqtt_prefix() + "/online", "false", true};
}

std::vector<std::string> MqttDeviceLogic::subscriptions() const {
    const auto& p = plug_.mqtt_prefix();
    if (plug_.gen() == 1) return {p + "/relay/0/command", p + "/command", "shellies/command"};
    return {p + "/rpc", p + "/command", p + "/command/+"};
}

void MqttDeviceLogic::remember(int ch, const ChannelReading& r, SimMicros now) {
    auto& l = last_.at(static_cast<std::size_t>(ch));
    l = Last{true,      r.output, r.source,   r.apower,    r.voltage,
             r.current, r.temp_c, r.total_wh, r.minute_ts, now};
}

std::vector<MqttMessage> MqttDeviceLogic::on_connect(SimMicros now) {
    std::vector<MqttMessage> out;
    out.push_back({plug_.mqtt_prefix() + "/online", "true", true});
    last_.assign(static_cast<std::size_t>(plug_.channel_count()), Last{});
    for (int ch = 0; ch < plug_.channel_count(); ++ch) remember(ch, plug_.reading(ch), now);
    last_periodic_us_ = now;
    if (plug_.gen() == 1) {
        const auto ann = Json{{"id", plug_.mqtt_prefix().substr(9)},
                              {"model", plug_.info().model},
                              {"mac", plug_.mac()},
                              {"ip", "127.0.0.1"},
                              {"new_fw", false},
                              {"fw_ver", plug_.info().fw}}
                             .dump();
        out.push_back({"shellies/announce", ann});
        out.push_back({plug_.mqtt_prefix() + "/announce", ann});
        auto full = gen1_full();
        out.insert(out.end(), full.begin(), full.end());
    } else if (plug_.spec().status_ntf) {
        auto st = gen2_status_topics();
        out.insert(out.end(), st.begin(), st.end());
    }
    return out;
}

std::vector<MqttMessage> MqttDeviceLogic::gen1_full() {
    const auto& p = plug_.mqtt_prefix();
    const auto r = plug_.reading(0);
    const double temp = round_to(r.temp_c, 2);
    return {{p + "/relay/0", r.output ? "on" : "off"},
            {p + "/relay/0/power", num(round_to(r.power_exact, 2), 2)},
            {p + "/relay/0/energy", std::to_string(r.total_wmin)},
            {p + "/relay/0/overpower_value", "0.00"},
            {p + "/temperature", num(temp, 2)},
            {p + "/temperature_f", num(temp * 9.0 / 5.0 + 32.0, 2)},
            {p + "/overtemperature", "0"}};
}

std::vector<MqttMessage> MqttDeviceLogic::gen2_status_topics() {
    std::vector<MqttMessage> out;
    for (int ch = 0; ch < plug_.channel_count(); ++ch) {
        out.push_back({plug_.mqtt_prefix() + "/status/" + plug_.component_key(ch),
                       plug_.component_status(ch).dump()});
    }
    out.push_back({plug_.mqtt_prefix() + "/status/sys", plug_.sys_status().dump()});
    return out;
}

MqttMessage MqttDeviceLogic::notify_frame(SimMicros now, Json components) const {
    components["ts"] = epoch_seconds_2dec(now);
    Json frame{{"src", plug_.id()},
               {"dst", plug_.mqtt_prefix() + "/events"},
               {"method", "NotifyStatus"},
               {"params", std::move(components)}};
    return {plug_.mqtt_prefix() + "/events/rpc", frame.dump()};
}

std::vector<MqttMessage> MqttDeviceLogic::tick(SimMicros now) {
    if (last_.empty()) return {};
    if (plug_.gen() != 1) return gen2_tick(now);
    std::vector<MqttMessage> out;
    const auto r = plug_.reading(0);
    auto& l = last_.at(0);
    const auto period = static_cast<SimMicros>(plug_.spec().update_period_s * 1e6);
    if (period > 0 && now - last_periodic_us_ >= period) {
        last_periodic_us_ = now;
        remember(0, r, now);
        return gen1_full();
    }
    if (r.output != l.output) {
        out.push_back({plug_.mqtt_prefix() + "/relay/0", r.output ? "on" : "off"});
        out.push_back({plug_.mqtt_prefix() + "/relay/0/power", num(round_to(r.power_exact, 2), 2)});
        l.output = r.output;
    }
    return out;
}

std::vector<MqttMessage> MqttDeviceLogic::gen2_tick(SimMicros now) {
    const bool synced = plug_.synced();
    const bool pm1 = plug_.info().pm1;
    const double thr = plug_.spec().notify_threshold_w;
    Json comps = Json::object();
    for (int ch = 0; ch < plug_.channel_count(); ++ch) {
        const auto r = plug_.reading(ch);
        auto& l = last_.at(static_cast<std::size_t>(ch));
        Json c = Json::object();
        if (!pm1 && (r.output != l.output || r.source != l.source)) {
            c["output"] = r.output;
            c["source"] = r.source;
            l.output = r.output;
            l.source = r.source;
        }
        if (std::abs(r.apower - l.apower) >= thr) {
            c["apower"] = r.apower;
            l.apower = r.apower;
        }
        if (std::abs(r.current - l.current) >= std::max(0.001, thr / 230.0)) {
            c["current"] = r.current;
            l.current = r.current;
        }
        if (std::abs(r.voltage - l.voltage) >= 1.5) {
            c["voltage"] = r.voltage;
            l.voltage = r.voltage;
        }
        if (!pm1 && std::abs(r.temp_c - l.temp) >= 1.0) {
            c["temperature"] = Json{{"tC", r.temp_c}, {"tF", round_to(r.temp_c * 1.8 + 32.0, 1)}};
            l.temp = r.temp_c;
        }
        const bool dropped = r.total_wh + 0.0005 < l.total;  // reset or reboot
        const bool rollover = synced && r.minute_ts != l.minute_ts;
        const bool unsynced_due = !synced && now - l.energy_sent_us >= MICROS_PER_MINUTE;
        if (dropped || rollover || unsynced_due) {
            c["aenergy"] = aenergy_json(r, synced);
            l.total = r.total_wh;
            l.minute_ts = r.minute_ts;
            l.energy_sent_us = now;
        }
        if (!c.empty()) {
            c["id"] = ch;
            comps[plug_.component_key(ch)] = std::move(c);
        }
    }
    std::vector<MqttMessage> out;
    if (comps.empty()) return out;
    if (plug_.spec().status_ntf) {
        for (const auto& [key, value] : comps.items()) {
            const int ch = value.at("id").get<int>();
            out.push_back(
                {plug_.mqtt_prefix() + "/status/" + key, plug_.component_status(ch).dump()});
        }
    }
    out.insert(out.begin(), notify_frame(now, std::move(comps)));
    return out;
}

std::vector<MqttMessage> MqttDeviceLogic::forced_notify(SimMicros now) {
    if (plug_.gen() == 1) {
        const auto r = plug_.reading(0);
        return {{plug_.mqtt_prefix() + "/relay/0/power", num(round_to(r.power_exact, 2), 2)},
                {plug_.mqtt_prefix() + "/relay/0/energy", std::to_string(r.total_wmin)}};
    }
    Json comps = Json::object();
    for (int ch = 0; ch < plug_.channel_count(); ++ch) {
        const auto r = plug_.reading(ch);
        comps[plug_.component_key(ch)] =
            Json{{"id", ch}, {"apower", r.apower}, {"aenergy", Json{{"total", r.total_wh}}}};
    }
    return {notify_frame(now, std::move(comps))};
}

std::vector<MqttMessage> MqttDeviceLogic::on_message(std::string_view topic,
                                                     std::string_view payload, SimMicros now) {
    std::vector<MqttMessage> out;
    const auto& p = plug_.mqtt_prefix();
    const std::string t(topic);
    const std::string body(payload);
    if (plug_.gen() == 1) {
        if (t == p + "/relay/0/command") {
            if (plug_.gen1_turn(0, body, "mqtt")) {
                auto r = plug_.reading(0);
                out.push_back({p + "/relay/0", r.output ? "on" : "off"});
                out.push_back({p + "/relay/0/power", num(round_to(r.power_exact, 2), 2)});
                if (!last_.empty()) last_.at(0).output = r.output;
            }
        } else if (t == p + "/command" || t == "shellies/command") {
            if (body == "announce") {
                auto all = on_connect(now);
                out.assign(all.begin() + 1, all.begin() + 3);
            } else if (body == "update") {
                out = gen1_full();
            }
        }
        return out;
    }
    if (t == p + "/rpc") {
        const auto req = Json::parse(body, nullptr, false);
        if (!req.is_object() || !req.contains("src") || !req["src"].is_string() ||
            !req.contains("method") || !req["method"].is_string()) {
            return out;  // real devices drop frames without src
        }
        const auto src = req["src"].get<std::string>();
        const auto res = plug_.rpc(req["method"].get<std::string>(),
                                   req.value("params", Json::object()), "MQTT");
        Json resp{{"id", req.value("id", Json(nullptr))}, {"src", plug_.id()}, {"dst", src}};
        if (res.ok) {
            resp["result"] = res.result;
        } else {
            resp["error"] = Json{{"code", res.code}, {"message", res.message}};
        }
        out.push_back({src + "/rpc", resp.dump()});
        return out;
    }
    if (t == p + "/command") {
        if (body == "status_update") out = gen2_status_topics();
        return out;
    }
    const std::string cmd_prefix = p + "/command/switch:";
    if (t.starts_with(cmd_prefix) && !plug_.info().pm1) {
        int ch = -1;
        try {
            ch = std::stoi(t.substr(cmd_prefix.size()));
        } catch (const std::exception&) {
            return out;
        }
        if (ch < 0 || ch >= plug_.channel_count()) return out;
        if (body == "on" || body == "off") {
            plug_.set_relay(ch, body == "on", "MQTT");
        } else if (body == "toggle") {
            plug_.set_relay(ch, !plug_.reading(ch).output, "MQTT");
        }
    }
    return out;
}

}  // namespace intelergy::sim
