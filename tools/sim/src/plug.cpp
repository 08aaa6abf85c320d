// SPDX-License-Identifier: MIT
#include "intelergy/sim/plug.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace intelergy::sim {

namespace {

constexpr std::array<KindInfo, 5> KINDS{{
    {PlugKind::GEN1_PLUG_S, "gen1-plug-s", "SHPLG-S", 1, "shellyplug-s-", "",
     "20230913-113421/v1.14.0-gcb84623", "", "", 1, false, false, "E868E7"},
    {PlugKind::GEN2_PLUS_PLUG_S, "gen2-plus-plug-s", "SNPL-00112EU", 2, "shellyplusplugs-",
     "PlusPlugS", "20240819-074343/1.4.2-gc2639da", "1.4.2", "plugs_ui", 1, false, false, "A0A3B3"},
    {PlugKind::GEN3_PLUG_S, "gen3-plug-s", "S3PL-00112EU", 3, "shellyplugsg3-", "PlugSG3",
     "20250310-101010/1.5.1-g0000000", "1.5.1", "plugs_ui", 1, false, true, "8CBFEA"},
    {PlugKind::GEN3_PLUG_PM, "gen3-plug-pm", "S3PL-30116EU", 3, "shellyplugpmg3-", "PlugPMG3",
     "20250310-101010/1.5.1-g0000000", "1.5.1", "plugpm_ui", 1, true, true, "8CBFEB"},
    {PlugKind::GEN4_STRIP, "gen4-strip", "S4PL-00416EU", 4, "shellypstripg4-", "PowerStrip",
     "20250711-093010/1.8.0-g5e3b8f1", "1.8.0", "powerstrip_ui", 4, false, true, "7C2C67"},
}};

constexpr double PF = 0.92;

std::string upper(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return s;
}
std::string lower(std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

std::int64_t to_seconds(SimMicros t) {
    return t >= 0 ? t / MICROS_PER_SECOND : (t - MICROS_PER_SECOND + 1) / MICROS_PER_SECOND;
}

int param_int(const Json& params, const char* key, int dflt) {
    if (!params.is_object() || !params.contains(key)) return dflt;
    const auto& v = params.at(key);
    if (v.is_number_integer()) return v.get<int>();
    if (v.is_number()) return static_cast<int>(v.get<double>());
    if (v.is_string()) {
        try {
            return std::stoi(v.get<std::string>());
        } catch (const std::exception&) {
            return -1;
        }
    }
    return -1;
}

std::optional<bool> param_bool(const Json& params, const char* key) {
    if (!params.is_object() || !params.contains(key)) return std::nullopt;
    const auto& v = params.at(key);
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_string()) {
        const auto s = lower(v.get<std::string>());
        if (s == "true" || s == "1") return true;
        if (s == "false" || s == "0") return false;
    }
    if (v.is_number()) return v.get<double>() != 0.0;
    return std::nullopt;
}

double c_to_f(double c) { return round_to(c * 9.0 / 5.0 + 32.0, 1); }

}  // namespace

double round_to(double v, int decimals) {
    const double f = std::pow(10.0, decimals);
    return std::round(v * f) / f;
}

double floor_to(double v, int decimals) {
    const double f = std::pow(10.0, decimals);
    // The epsilon keeps values such as 29.75 from flooring to 29.749 through binary noise.
    return std::floor(v * f + 1e-7) / f;
}

double epoch_seconds_2dec(SimMicros t) { return static_cast<double>(t / 10'000) / 100.0; }

const KindInfo& kind_info(PlugKind kind) {
    for (const auto& k : KINDS) {
        if (k.kind == kind) return k;
    }
    throw std::logic_error("unknown plug kind");
}

std::optional<PlugKind> parse_kind(std::string_view name) {
    for (const auto& k : KINDS) {
        if (k.name == name) return k.kind;
    }
    return std::nullopt;
}

Plug::Plug(PlugSpec spec, const SimClock& clock, std::uint64_t index)
    : spec_(std::move(spec)), info_(kind_info(spec_.kind)), clock_(clock), synced_(spec_.synced) {
    if (spec_.mac.empty()) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "%06llX",
                      static_cast<unsigned long long>(index & 0xFFFFFFULL));
        spec_.mac = std::string(info_.mac_oui) + buf;
    }
    spec_.mac.erase(std::remove(spec_.mac.begin(), spec_.mac.end(), ':'), spec_.mac.end());
    spec_.mac = upper(spec_.mac);
    if (spec_.mac.size() != 12 || !std::all_of(spec_.mac.begin(), spec_.mac.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) != 0;
        })) {
        throw std::invalid_argument("plug '" + spec_.name + "': mac must be 12 hex digits");
    }
    if (info_.gen == 1) {
        id_ = std::string(info_.id_prefix) + spec_.mac.substr(6);
        prefix_ = "shellies/" + (spec_.mqtt_prefix.empty() ? id_ : spec_.mqtt_prefix);
    } else {
        id_ = std::string(info_.id_prefix) + lower(spec_.mac);
        prefix_ = spec_.mqtt_prefix.empty() ? id_ : spec_.mqtt_prefix;
    }
    if (spec_.name.empty()) spec_.name = id_;
    seed_ = splitmix64(index ^ std::stoull(spec_.mac, nullptr, 16));

    const SimMicros now = clock_.now_us();
    last_us_ = now;
    boot_us_ = now;
    minute_start_us_ = now - (now % MICROS_PER_MINUTE);
    if (spec_.channels.empty()) spec_.channels.push_back(ChannelSpec{});
    while (static_cast<int>(spec_.channels.size()) < info_.channels) {
        auto next = spec_.channels.back();
        next.profile.seed = splitmix64(next.profile.seed);
        spec_.channels.push_back(next);
    }
    spec_.channels.resize(static_cast<std::size_t>(info_.channels));
    for (const auto& cs : spec_.channels) {
        Channel c{PowerProfile(cs.profile, now), std::nullopt, cs.on || info_.pm1};
        c.counter_wh = spec_.initial_total_wh;
        channels_.push_back(std::move(c));
    }
}

std::string Plug::component_key(int ch) const {
    return (info_.pm1 ? "pm1:" : "switch:") + std::to_string(ch);
}

void Plug::advance_locked(SimMicros now) {
    SimMicros t = last_us_;
    while (t < now) {
        const SimMicros next_min = minute_start_us_ + MICROS_PER_MINUTE;
        const SimMicros e = std::min(now, next_min);
        for (auto& c : channels_) {
            double wh = 0.0;
            if (c.on) {
                wh = c.override_w ? *c.override_w * static_cast<double>(e - t) / 3.6e9
                                  : c.profile.integrate_wh(t, e);
            }
            c.truth_wh += wh;
            c.counter_wh += wh;
            c.minute_acc_wh += wh;
            if (e == next_min) {
                c.by_minute_wh = {c.minute_acc_wh, c.by_minute_wh[0], c.by_minute_wh[1]};
                c.minute_acc_wh = 0.0;
            }
        }
        if (e == next_min) minute_start_us_ = next_min;
        t = e;
    }
    last_us_ = std::max(last_us_, now);
}

double Plug::power_now_locked(Channel& c, SimMicros now) {
    if (!c.on) return 0.0;
    if (c.override_w) return *c.override_w;
    return c.profile.segment(now).watts;
}

double Plug::voltage_locked(int ch, SimMicros now) const {
    // ~230 V with +-1 V noise that changes every 10 simulated seconds.
    const auto bucket = to_seconds(now) / 10;
    return round_to(230.0 + unit_noise(seed_ + static_cast<std::uint64_t>(ch), bucket), 1);
}

ChannelReading Plug::reading_locked(int ch, SimMicros now) {
    auto& c = channels_.at(static_cast<std::size_t>(ch));
    ChannelReading r;
    r.output = c.on;
    r.source = c.source;
    r.power_exact = power_now_locked(c, now);
    r.apower = round_to(r.power_exact, 1);
    r.voltage = voltage_locked(ch, now);
    r.current = round_to(r.power_exact / r.voltage, 3);
    r.counter_wh = c.counter_wh;
    r.total_wh = round_to(c.counter_wh, 3);
    r.total_wmin = static_cast<std::int64_t>(std::floor(c.counter_wh * 60.0 + 1e-9));
    r.truth_wh = c.truth_wh;
    r.by_minute_wh = c.by_minute_wh;
    r.minute_ts = minute_start_us_ / MICROS_PER_SECOND;
    r.temp_c = round_to(25.0 + r.power_exact * 0.01 + static_cast<double>(ch) * 0.3, 1);
    return r;
}

void Plug::advance() {
    std::lock_guard lock(mutex_);
    advance_locked(clock_.now_us());
}

ChannelReading Plug::reading(int ch) {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now_us();
    advance_locked(now);
    return reading_locked(ch, now);
}

std::string Plug::local_hhmm(SimMicros now) const {
    const auto local = to_seconds(now) + spec_.tz_offset_s;
    const auto day = ((local % 86400) + 86400) % 86400;
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d:%02d", static_cast<int>(day / 3600),
                  static_cast<int>((day % 3600) / 60));
    return buf;
}

Json Plug::shelly_info_locked() const {
    if (info_.gen == 1) {
        return Json{{"type", info_.model}, {"mac", spec_.mac},     {"auth", has_auth()},
                    {"fw", info_.fw},      {"discoverable", true}, {"num_outputs", 1},
                    {"num_meters", 1},     {"name", spec_.name}};
    }
    Json j{{"name", spec_.name},
           {"id", id_},
           {"mac", spec_.mac},
           {"slot", 0},
           {"model", info_.model},
           {"gen", info_.gen},
           {"fw_id", info_.fw},
           {"ver", info_.ver},
           {"app", info_.app},
           {"auth_en", has_auth()},
           {"auth_domain", has_auth() ? Json(id_) : Json(nullptr)}};
    if (info_.gen >= 3) j["matter"] = false;
    return j;
}

Json Plug::shelly_info() {
    std::lock_guard lock(mutex_);
    return shelly_info_locked();
}

Json Plug::relay_json_locked(int ch) const {
    const auto& c = channels_.at(static_cast<std::size_t>(ch));
    return Json{{"ison", c.on},        {"has_timer", false},   {"timer_started", 0},
                {"timer_duration", 0}, {"timer_remaining", 0}, {"overpower", false},
                {"source", c.source}};
}

Json Plug::meter_json_locked(int ch, SimMicros now) {
    const auto r = reading_locked(ch, now);
    Json counters = Json::array();
    for (double wh : r.by_minute_wh) counters.push_back(round_to(wh * 60.0, 3));
    return Json{{"power", round_to(r.power_exact, 2)},
                {"overpower", 0.0},
                {"is_valid", true},
                {"timestamp", synced_ ? to_seconds(now) + spec_.tz_offset_s : 0},
                {"counters", counters},
                {"total", r.total_wmin}};
}

Json Plug::gen1_status() {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now_us();
    advance_locked(now);
    const auto r = reading_locked(0, now);
    const double temp = round_to(r.temp_c + 0.01 * static_cast<double>(seed_ % 10U), 2);
    return Json{
        {"wifi_sta",
         {{"connected", true}, {"ssid", "sim-lan"}, {"ip", "127.0.0.1"}, {"rssi", -55}}},
        {"cloud", {{"enabled", false}, {"connected", false}}},
        {"mqtt", {{"connected", mqtt_connected()}}},
        {"time", synced_ ? local_hhmm(now) : std::string()},
        {"unixtime", synced_ ? to_seconds(now) : 0},
        {"serial", to_seconds(now - boot_us_) / 30},
        {"has_update", false},
        {"mac", spec_.mac},
        {"cfg_changed_cnt", 0},
        {"actions_stats", {{"skipped", 0}}},
        {"relays", Json::array({relay_json_locked(0)})},
        {"meters", Json::array({meter_json_locked(0, now)})},
        {"temperature", temp},
        {"overtemperature", false},
        {"tmp", {{"tC", temp}, {"tF", round_to(temp * 9.0 / 5.0 + 32.0, 2)}, {"is_valid", true}}},
        {"update",
         {{"status", "idle"},
          {"has_update", false},
          {"new_version", info_.fw},
          {"old_version", info_.fw}}},
        {"ram_total", 52064},
        {"ram_free", 39880},
        {"fs_size", 233681},
        {"fs_free", 165907},
        {"uptime", to_seconds(now - boot_us_)}};
}

Json Plug::gen1_meter(int ch) {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now_us();
    advance_locked(now);
    if (!valid_channel(ch)) return nullptr;
    return meter_json_locked(ch, now);
}

Json Plug::gen1_relay(int ch) {
    std::lock_guard lock(mutex_);
    if (!valid_channel(ch)) return nullptr;
    return relay_json_locked(ch);
}

Json Plug::gen1_settings() {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now_us();
    const auto& c = channels_.at(0);
    return Json{{"device",
                 {{"type", info_.model},
                  {"mac", spec_.mac},
                  {"hostname", id_},
                  {"num_outputs", 1},
                  {"num_meters", 1}}},
                {"mqtt",
                 {{"enable", spec_.mqtt},
                  {"server", ""},
                  {"user", ""},
                  {"id", prefix_.substr(std::string_view("shellies/").size())},
                  {"update_period", static_cast<int>(spec_.update_period_s)},
                  {"max_qos", 0},
                  {"retain", false}}},
                {"login", {{"enabled", has_auth()}, {"unprotected", false}, {"username", "admin"}}},
                {"name", spec_.name},
                {"fw", info_.fw},
                {"discoverable", true},
                {"tz_utc_offset", spec_.tz_offset_s},
                {"timezone", "Etc/GMT"},
                {"time", synced_ ? local_hhmm(now) : std::string()},
                {"unixtime", synced_ ? to_seconds(now) : 0},
                {"max_power", 2500},
                {"led_power_disable", false},
                {"relays", Json::array({{{"name", nullptr},
                                         {"appliance_type", "General"},
                                         {"ison", c.on},
                                         {"has_timer", false},
                                         {"overpower", false},
                                         {"default_state", "last"},
                                         {"auto_on", 0.0},
                                         {"auto_off", 0.0},
                                         {"schedule", false},
                                         {"schedule_rules", Json::array()},
                                         {"max_power", 2500}}})}};
}

std::optional<Json> Plug::gen1_turn(int ch, std::string_view turn, std::string_view source) {
    std::lock_guard lock(mutex_);
    if (!valid_channel(ch)) return std::nullopt;
    advance_locked(clock_.now_us());
    auto& c = channels_.at(static_cast<std::size_t>(ch));
    if (!turn.empty()) {
        if (turn == "on") {
            c.on = true;
        } else if (turn == "off") {
            c.on = false;
        } else if (turn == "toggle") {
            c.on = !c.on;
        } else {
            return std::nullopt;
        }
        c.source = std::string(source);
    }
    return relay_json_locked(ch);
}

Json Plug::component_status_locked(int ch, SimMicros now) {
    const auto r = reading_locked(ch, now);
    Json aenergy{{"total", r.total_wh}};
    Json ret{{"total", 0.0}};
    if (synced_) {
        Json bm = Json::array();
        for (double wh : r.by_minute_wh) bm.push_back(round_to(wh * 1000.0, 3));
        aenergy["by_minute"] = bm;
        aenergy["minute_ts"] = r.minute_ts;
        ret["by_minute"] = Json::array({0.0, 0.0, 0.0});
        ret["minute_ts"] = r.minute_ts;
    }
    const double pf = r.power_exact > 0.0 ? PF : 0.0;
    if (info_.pm1) {
        return Json{{"id", ch},
                    {"voltage", r.voltage},
                    {"current", r.current},
                    {"apower", r.apower},
                    {"aprtpower", pf > 0.0 ? round_to(r.power_exact / pf, 1) : 0.0},
                    {"pf", pf},
                    {"freq", 50.0},
                    {"aenergy", aenergy},
                    {"ret_aenergy", ret}};
    }
    Json j{{"id", ch},
           {"source", r.source},
           {"output", r.output},
           {"apower", r.apower},
           {"voltage", r.voltage}};
    if (info_.extended_fields) j["freq"] = 50.0;
    j["current"] = r.current;
    if (info_.extended_fields) j["pf"] = pf;
    j["aenergy"] = aenergy;
    if (info_.extended_fields) j["ret_aenergy"] = ret;
    j["temperature"] = Json{{"tC", r.temp_c}, {"tF", c_to_f(r.temp_c)}};
    return j;
}

Json Plug::component_status(int ch) {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now_us();
    advance_locked(now);
    return component_status_locked(ch, now);
}

Json Plug::sys_status_locked(SimMicros now) {
    return Json{{"mac", spec_.mac},
                {"restart_required", false},
                {"time", synced_ ? Json(local_hhmm(now)) : Json(nullptr)},
                {"unixtime", synced_ ? Json(to_seconds(now)) : Json(nullptr)},
                {"uptime", to_seconds(now - boot_us_)},
                {"ram_size", 246084},
                {"ram_free", 139812},
                {"fs_size", 458752},
                {"fs_free", 143360},
                {"cfg_rev", 14},
                {"kvs_rev", 0},
                {"schedule_rev", 0},
                {"webhook_rev", 0},
                {"available_updates", Json::object()},
                {"reset_reason", boot_count_ > 0 ? 3 : 1}};
}

Json Plug::sys_status() {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now_us();
    advance_locked(now);
    return sys_status_locked(now);
}

RpcResult Plug::rpc(std::string_view method, const Json& params, std::string_view source) {
    std::unique_lock lock(mutex_);
    const auto now = clock_.now_us();
    advance_locked(now);
    const auto no_handler = [&] {
        return RpcResult::error(404, "No handler for " + std::string(method));
    };
    if (info_.gen < 2) return no_handler();
    const std::string_view comp_prefix = info_.pm1 ? "PM1." : "Switch.";
    const auto channel_arg = [&](int& ch) -> std::optional<RpcResult> {
        ch = param_int(params, "id", 0);
        if (!valid_channel(ch)) {
            return RpcResult::error(-105,
                                    "Argument 'id', value " + std::to_string(ch) + " not found!");
        }
        return std::nullopt;
    };

    if (method == "Shelly.GetDeviceInfo") return RpcResult::success(shelly_info_locked());
    if (method == "Shelly.GetStatus") {
        Json j{{"ble", Json::object()},
               {"cloud", {{"connected", false}}},
               {"mqtt", {{"connected", mqtt_connected()}}},
               {std::string(info_.ui_component), Json::object()}};
        for (int ch = 0; ch < channel_count(); ++ch) {
            j[component_key(ch)] = component_status_locked(ch, now);
        }
        j["sys"] = sys_status_locked(now);
        j["wifi"] =
            Json{{"sta_ip", "127.0.0.1"}, {"status", "got ip"}, {"ssid", "sim-lan"}, {"rssi", -58}};
        j["ws"] = Json{{"connected", false}};
        return RpcResult::success(j);
    }
    if (method == "Sys.GetStatus") return RpcResult::success(sys_status_locked(now));
    if (method == "Shelly.GetConfig" || method == "MQTT.GetConfig") {
        Json mqtt{{"enable", spec_.mqtt},
                  {"server", nullptr},
                  {"client_id", id_},
                  {"user", nullptr},
                  {"topic_prefix", prefix_},
                  {"rpc_ntf", true},
                  {"status_ntf", spec_.status_ntf},
                  {"enable_rpc", true},
                  {"enable_control", true}};
        if (method == "MQTT.GetConfig") return RpcResult::success(mqtt);
        Json j{
            {"mqtt", mqtt},
            {"sys", {{"device", {{"name", spec_.name}, {"mac", spec_.mac}, {"fw_id", info_.fw}}}}}};
        for (int ch = 0; ch < channel_count(); ++ch) {
            j[component_key(ch)] = Json{{"id", ch}, {"name", nullptr}};
        }
        return RpcResult::success(j);
    }
    if (method == "Shelly.Reboot") {
        lock.unlock();
        reboot();
        return RpcResult::success(nullptr);
    }
    if (!method.starts_with(comp_prefix)) return no_handler();
    const auto op = method.substr(comp_prefix.size());
    int ch = 0;
    if (op == "GetStatus") {
        if (auto err = channel_arg(ch)) return *err;
        return RpcResult::success(component_status_locked(ch, now));
    }
    if (op == "ResetCounters") {
        if (auto err = channel_arg(ch)) return *err;
        bool reset_active = true;
        if (params.is_object() && params.contains("type")) {
            const auto& t = params.at("type");
            Json types = t;
            if (t.is_string()) types = Json::parse(t.get<std::string>(), nullptr, false);
            if (!types.is_array()) return RpcResult::error(-103, "Invalid argument 'type'!");
            reset_active = std::find(types.begin(), types.end(), Json("aenergy")) != types.end();
        }
        auto& c = channels_.at(static_cast<std::size_t>(ch));
        Json result{{"aenergy", {{"total", round_to(c.counter_wh, 3)}}},
                    {"ret_aenergy", {{"total", 0.0}}}};
        if (reset_active) {
            c.counter_wh = 0.0;
            c.minute_acc_wh = 0.0;
            c.by_minute_wh = {};
        }
        return RpcResult::success(result);
    }
    if (info_.pm1) return no_handler();
    if (op == "Set" || op == "Toggle") {
        if (auto err = channel_arg(ch)) return *err;
        auto& c = channels_.at(static_cast<std::size_t>(ch));
        const bool was_on = c.on;
        if (op == "Set") {
            const auto on = param_bool(params, "on");
            if (!on) return RpcResult::error(-103, "Missing required argument 'on'!");
            c.on = *on;
        } else {
            c.on = !c.on;
        }
        c.source = std::string(source);
        return RpcResult::success(Json{{"was_on", was_on}});
    }
    return no_handler();
}

void Plug::set_power(int ch, std::optional<double> watts) {
    std::lock_guard lock(mutex_);
    advance_locked(clock_.now_us());
    channels_.at(static_cast<std::size_t>(ch)).override_w = watts;
}

bool Plug::set_relay(int ch, bool on, std::string_view source) {
    std::lock_guard lock(mutex_);
    if (!valid_channel(ch) || info_.pm1) return false;
    advance_locked(clock_.now_us());
    auto& c = channels_.at(static_cast<std::size_t>(ch));
    c.on = on;
    c.source = std::string(source);
    return true;
}

void Plug::reboot() {
    std::lock_guard lock(mutex_);
    const auto now = clock_.now_us();
    advance_locked(now);
    boot_us_ = now;
    ++boot_count_;
    for (auto& c : channels_) {
        // Gen1 counts since boot; Gen2+ persists the total with 3-decimal precision (floored),
        // so it comes back slightly smaller (544.587493 -> 544.587).
        c.counter_wh = info_.gen == 1 ? 0.0 : floor_to(c.counter_wh, 3);
        c.minute_acc_wh = 0.0;
        c.by_minute_wh = {};
        c.source = "init";
    }
}

void Plug::reset_counters(int ch) {
    std::lock_guard lock(mutex_);
    advance_locked(clock_.now_us());
    for (int i = 0; i < channel_count(); ++i) {
        if (ch >= 0 && ch != i) continue;
        auto& c = channels_.at(static_cast<std::size_t>(i));
        c.counter_wh = 0.0;
        c.minute_acc_wh = 0.0;
        c.by_minute_wh = {};
    }
}

void Plug::set_synced(bool synced) {
    std::lock_guard lock(mutex_);
    synced_ = synced;
}

bool Plug::synced() {
    std::lock_guard lock(mutex_);
    return synced_;
}

Faults Plug::faults() {
    std::lock_guard lock(mutex_);
    return faults_;
}

void Plug::update_faults(const std::function<void(Faults&)>& fn) {
    std::lock_guard lock(mutex_);
    fn(faults_);
}

bool Plug::take_fault(int Faults::*which) {
    std::lock_guard lock(mutex_);
    int& n = faults_.*which;
    if (n == 0) return false;
    if (n > 0) --n;
    return true;
}

std::uint64_t Plug::boot_count() {
    std::lock_guard lock(mutex_);
    return boot_count_;
}

std::int64_t Plug::uptime_s() {
    std::lock_guard lock(mutex_);
    return to_seconds(clock_.now_us() - boot_us_);
}

}  // namespace intelergy::sim
