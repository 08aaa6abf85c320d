// SPDX-License-Identifier: MIT
#pragma once

// The simulator is a test tool whose domain is Shelly's JSON, so (like drivers/) it uses
// nlohmann::json in its headers.
#include "intelergy/sim/profile.hpp"
#include "intelergy/sim/sim_clock.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace intelergy::sim {

using Json = nlohmann::json;

enum class PlugKind { GEN1_PLUG_S, GEN2_PLUS_PLUG_S, GEN3_PLUG_S, GEN3_PLUG_PM, GEN4_STRIP };

struct KindInfo {
    PlugKind kind;
    std::string_view name;       // CLI/config name, e.g. "gen2-plus-plug-s"
    std::string_view model;      // e.g. "SNPL-00112EU"
    int gen;                     // 1..4
    std::string_view id_prefix;  // e.g. "shellyplusplugs-"
    std::string_view app;        // Gen2+ only
    std::string_view fw;         // Gen1 "fw" / Gen2+ "fw_id"
    std::string_view ver;        // Gen2+ "ver"
    std::string_view ui_component;
    int channels;
    bool pm1;                  // metering-only pm1:N component instead of switch:N
    bool extended_fields;      // freq, pf, ret_aenergy present (Gen3/Gen4)
    std::string_view mac_oui;  // first 6 hex digits of generated MACs
};

const KindInfo& kind_info(PlugKind kind);
std::optional<PlugKind> parse_kind(std::string_view name);

struct ChannelSpec {
    ProfileSpec profile;
    bool on = true;
};

struct PlugSpec {
    std::string name;
    PlugKind kind = PlugKind::GEN2_PLUS_PLUG_S;
    int port = 0;          // 0 = pick a free port (per-port mode)
    std::string password;  // empty = no auth
    bool mqtt = false;
    bool http = true;
    std::string mqtt_prefix;            // empty = default (Gen2+: device id; Gen1: shellies/<id>)
    std::string mac;                    // 12 upper-case hex; empty = generated from the plug index
    std::vector<ChannelSpec> channels;  // empty/short = filled with default profile
    int tz_offset_s = 3600;             // device local time = UTC + this
    double update_period_s = 30.0;      // Gen1 MQTT periodic update (simulated seconds)
    bool status_ntf = false;            // Gen2+: also publish <prefix>/status/<component>
    double notify_threshold_w = 1.0;    // Gen2+: NotifyStatus when apower moves this much
    bool synced = true;                 // clock synced at start
    double initial_total_wh = 0.0;      // device counter at start (truth starts at 0)
};

// Per-channel numbers as the device would report them now (plus ground truth).
struct ChannelReading {
    bool output = true;
    std::string source;
    double apower = 0.0;  // W, 1 decimal
    double power_exact = 0.0;
    double voltage = 230.0;                // V, 1 decimal
    double current = 0.0;                  // A, 3 decimals
    double counter_wh = 0.0;               // device lifetime counter, exact
    double total_wh = 0.0;                 // as reported by Gen2+ (3 decimals)
    std::int64_t total_wmin = 0;           // as reported by Gen1 (integer Wmin)
    double truth_wh = 0.0;                 // never resets
    std::array<double, 3> by_minute_wh{};  // [0] = newest complete minute
    std::int64_t minute_ts = 0;            // UTC start of the current minute (s)
    double temp_c = 0.0;
};

struct Faults {
    bool offline = false;
    int slow_ms = 0;
    int garbage = 0;    // remaining responses to corrupt; -1 = until cleared
    int truncated = 0;  // same
    int huge = 0;       // same
    std::size_t huge_bytes = 4U << 20U;
};

struct RpcResult {
    bool ok = true;
    Json result;
    int code = 0;  // error code when !ok (404 = no handler, -103 = bad argument, -105 = not found)
    std::string message;
    static RpcResult success(Json j) { return {true, std::move(j), 0, {}}; }
    static RpcResult error(int c, std::string msg) { return {false, nullptr, c, std::move(msg)}; }
};

// One simulated device. All public methods are thread-safe (one mutex per plug) and advance the
// energy integration to the clock's "now" before answering.
class Plug {
public:
    Plug(PlugSpec spec, const SimClock& clock, std::uint64_t index);
    Plug(const Plug&) = delete;
    Plug& operator=(const Plug&) = delete;

    [[nodiscard]] const PlugSpec& spec() const { return spec_; }
    [[nodiscard]] const KindInfo& info() const { return info_; }
    [[nodiscard]] const std::string& name() const { return spec_.name; }
    [[nodiscard]] const std::string& id() const { return id_; }
    [[nodiscard]] const std::string& mac() const { return spec_.mac; }
    [[nodiscard]] const std::string& mqtt_prefix() const { return prefix_; }
    [[nodiscard]] int gen() const { return info_.gen; }
    [[nodiscard]] int channel_count() const { return static_cast<int>(channels_.size()); }
    [[nodiscard]] bool has_auth() const { return !spec_.password.empty(); }
    [[nodiscard]] std::string component_key(int ch) const;  // "switch:0" / "pm1:0"

    // --- device API -----------------------------------------------------------------------
    Json shelly_info();       // GET /shelly (and Shelly.GetDeviceInfo on Gen2+)
    Json gen1_status();       // GET /status
    Json gen1_meter(int ch);  // GET /meter/N
    Json gen1_relay(int ch);  // GET /relay/N
    Json gen1_settings();     // GET /settings
    // turn = on|off|toggle; empty = just report. nullopt when ch/turn is invalid.
    std::optional<Json> gen1_turn(int ch, std::string_view turn, std::string_view source);
    RpcResult rpc(std::string_view method, const Json& params, std::string_view source);
    Json component_status(int ch);  // Switch/PM1.GetStatus body
    Json sys_status();

    // --- simulation control ---------------------------------------------------------------
    void advance();
    ChannelReading reading(int ch);
    void set_power(int ch, std::optional<double> watts);       // nullopt = back to the profile
    bool set_relay(int ch, bool on, std::string_view source);  // false if ch invalid/no relay
    void reboot();
    void reset_counters(int ch);  // -1 = all
    void set_synced(bool synced);
    [[nodiscard]] bool synced();
    [[nodiscard]] Faults faults();
    void update_faults(const std::function<void(Faults&)>& fn);
    // Consumes one use of a counted response fault; returns whether it applies.
    bool take_fault(int Faults::*which);
    [[nodiscard]] std::uint64_t boot_count();  // increments on every reboot
    [[nodiscard]] std::int64_t uptime_s();
    [[nodiscard]] std::uint64_t seed() const { return seed_; }
    void set_mqtt_connected(bool c) { mqtt_connected_.store(c); }
    [[nodiscard]] bool mqtt_connected() const { return mqtt_connected_.load(); }

private:
    struct Channel {
        PowerProfile profile;
        std::optional<double> override_w;
        bool on = true;
        std::string source = "init";
        double truth_wh = 0.0;
        double counter_wh = 0.0;
        double minute_acc_wh = 0.0;
        std::array<double, 3> by_minute_wh{};
        double last_power = 0.0;
    };

    void advance_locked(SimMicros now);
    double power_now_locked(Channel& c, SimMicros now);
    ChannelReading reading_locked(int ch, SimMicros now);
    double voltage_locked(int ch, SimMicros now) const;
    Json component_status_locked(int ch, SimMicros now);
    Json sys_status_locked(SimMicros now);
    Json shelly_info_locked() const;
    Json relay_json_locked(int ch) const;
    Json meter_json_locked(int ch, SimMicros now);
    [[nodiscard]] bool valid_channel(int ch) const { return ch >= 0 && ch < channel_count(); }
    std::string local_hhmm(SimMicros now) const;

    PlugSpec spec_;
    const KindInfo& info_;
    const SimClock& clock_;
    std::uint64_t seed_;
    std::string id_;
    std::string prefix_;
    std::mutex mutex_;
    std::vector<Channel> channels_;
    SimMicros last_us_;
    SimMicros boot_us_;
    SimMicros minute_start_us_;
    std::uint64_t boot_count_ = 0;
    bool synced_;
    Faults faults_;
    std::atomic<bool> mqtt_connected_{false};
};

// 2-decimal epoch seconds as used in NotifyStatus "ts".
double epoch_seconds_2dec(SimMicros t);
double round_to(double v, int decimals);
double floor_to(double v, int decimals);

}  // namespace intelergy::sim
