// SPDX-License-Identifier: MIT
#include "intelergy/sim/config.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace intelergy::sim {

namespace {

void check_keys(const Json& j, const std::set<std::string>& allowed, const std::string& where) {
    for (const auto& [k, v] : j.items()) {
        if (!allowed.contains(k)) throw std::invalid_argument(where + ": unknown key '" + k + "'");
    }
}

ProfileSpec default_profile(std::uint64_t seed) {
    ProfileSpec p;
    p.type = ProfileType::RANDOM_WALK;
    p.min = 20;
    p.max = 200;
    p.start = 20 + static_cast<double>(seed % 160U);
    p.step_w = 5;
    p.step_s = 1;
    p.seed = seed;
    return p;
}

}  // namespace

ProfileSpec parse_profile_json(const Json& j, std::uint64_t seed) {
    if (j.is_string()) return parse_profile_spec(j.get<std::string>(), seed);
    if (j.is_number()) {
        ProfileSpec p;
        p.watts = j.get<double>();
        return p;
    }
    if (!j.is_object()) throw std::invalid_argument("profile must be a string or an object");
    check_keys(j,
               {"type", "watts", "low", "high", "period_s", "duty", "min", "max", "start", "step_w",
                "step_s", "seed"},
               "profile");
    ProfileSpec p;
    p.seed = j.value("seed", seed);
    const auto type = j.value("type", std::string("constant"));
    if (type == "constant") {
        p.type = ProfileType::CONSTANT;
    } else if (type == "square") {
        p.type = ProfileType::SQUARE;
    } else if (type == "random_walk" || type == "walk") {
        p.type = ProfileType::RANDOM_WALK;
    } else {
        throw std::invalid_argument("profile type must be constant|square|random_walk");
    }
    p.watts = j.value("watts", p.watts);
    p.low = j.value("low", p.low);
    p.high = j.value("high", p.high);
    p.period_s = j.value("period_s", p.period_s);
    p.duty = j.value("duty", p.duty);
    p.min = j.value("min", p.min);
    p.max = j.value("max", p.max);
    p.start = j.value("start", (p.min + p.max) / 2.0);
    p.step_w = j.value("step_w", p.step_w);
    p.step_s = j.value("step_s", p.step_s);
    if (p.period_s <= 0 || p.step_s <= 0 || p.duty < 0 || p.duty > 1 || p.min > p.max) {
        throw std::invalid_argument("profile parameters out of range");
    }
    return p;
}

std::vector<PlugSpec> parse_config(const Json& doc) {
    const Json* list = &doc;
    if (doc.is_object()) {
        check_keys(doc, {"plugs"}, "config");
        if (!doc.contains("plugs")) throw std::invalid_argument("config: missing 'plugs'");
        list = &doc.at("plugs");
    }
    if (!list->is_array()) throw std::invalid_argument("config: 'plugs' must be an array");
    std::vector<PlugSpec> out;
    std::uint64_t index = 0;
    for (const auto& j : *list) {
        ++index;
        const std::string where = "plug #" + std::to_string(index);
        if (!j.is_object()) throw std::invalid_argument(where + ": must be an object");
        try {
            check_keys(j,
                       {"name", "kind", "port", "password", "mqtt", "http", "mqtt_prefix", "mac",
                        "profile", "channels", "on", "tz_offset_s", "update_period_s", "status_ntf",
                        "notify_threshold_w", "synced", "initial_total_wh"},
                       where);
            PlugSpec s;
            const auto kind_name = j.value("kind", std::string("gen2-plus-plug-s"));
            const auto kind = parse_kind(kind_name);
            if (!kind) throw std::invalid_argument(where + ": unknown kind '" + kind_name + "'");
            s.kind = *kind;
            s.name = j.value("name", std::string());
            s.port = j.value("port", 0);
            s.password = j.value("password", std::string());
            s.mqtt = j.value("mqtt", false);
            s.http = j.value("http", true);
            s.mqtt_prefix = j.value("mqtt_prefix", std::string());
            s.mac = j.value("mac", std::string());
            s.tz_offset_s = j.value("tz_offset_s", s.tz_offset_s);
            s.update_period_s = j.value("update_period_s", s.update_period_s);
            s.status_ntf = j.value("status_ntf", false);
            s.notify_threshold_w = j.value("notify_threshold_w", s.notify_threshold_w);
            s.synced = j.value("synced", true);
            s.initial_total_wh = j.value("initial_total_wh", 0.0);
            const std::uint64_t seed = splitmix64(index);
            const ProfileSpec base = j.contains("profile")
                                         ? parse_profile_json(j.at("profile"), seed)
                                         : default_profile(seed);
            const bool on = j.value("on", true);
            if (j.contains("channels")) {
                std::uint64_t ch_seed = seed;
                for (const auto& c : j.at("channels")) {
                    ch_seed = splitmix64(ch_seed);
                    ChannelSpec cs;
                    cs.profile =
                        c.contains("profile") ? parse_profile_json(c.at("profile"), ch_seed) : base;
                    cs.on = c.value("on", on);
                    s.channels.push_back(cs);
                }
            } else {
                s.channels.push_back(ChannelSpec{base, on});
            }
            if (!s.http && !s.mqtt) {
                throw std::invalid_argument(where + ": needs http or mqtt (or both)");
            }
            out.push_back(std::move(s));
        } catch (const Json::exception& e) {
            throw std::invalid_argument(where + ": " + e.what());
        }
    }
    return out;
}

std::vector<PlugSpec> load_config_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::invalid_argument("cannot open config file " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    const auto doc = Json::parse(ss.str(), nullptr, false);
    if (doc.is_discarded()) throw std::invalid_argument("config file " + path + " is not JSON");
    return parse_config(doc);
}

std::vector<PlugSpec> make_quick_plugs(const QuickPlugs& q, std::size_t first_index) {
    std::vector<PlugSpec> out;
    std::size_t index = first_index;
    const auto add = [&](int n, PlugKind kind, const std::string& stem, bool http) {
        for (int i = 1; i <= n; ++i) {
            PlugSpec s;
            s.kind = kind;
            s.name = stem + "-" + std::to_string(i);
            s.password = q.password;
            s.http = http;
            s.mqtt = q.mqtt || !http;
            if (q.base_port > 0 && http) s.port = q.base_port + static_cast<int>(out.size());
            const auto seed = splitmix64(++index);
            const auto profile =
                q.profile.empty() ? default_profile(seed) : parse_profile_spec(q.profile, seed);
            s.channels.push_back(ChannelSpec{profile, true});
            out.push_back(std::move(s));
        }
    };
    add(q.gen1, PlugKind::GEN1_PLUG_S, "gen1", true);
    add(q.gen2, PlugKind::GEN2_PLUS_PLUG_S, "gen2", true);
    add(q.gen3, PlugKind::GEN3_PLUG_S, "gen3", true);
    add(q.gen3pm, PlugKind::GEN3_PLUG_PM, "gen3pm", true);
    add(q.gen4strip, PlugKind::GEN4_STRIP, "strip", true);
    add(q.mqtt_only_gen2, PlugKind::GEN2_PLUS_PLUG_S, "mqtt-gen2", false);
    return out;
}

}  // namespace intelergy::sim
