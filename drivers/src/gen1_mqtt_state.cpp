#include "intelergy/drivers/gen1_mqtt_state.hpp"

#include "intelergy/drivers/shelly_status.hpp"
#include "json_util.hpp"

#include <charconv>
#include <cmath>

namespace intelergy::drivers {

namespace {

std::string_view trim(std::string_view s) {
    constexpr std::string_view ws = " \t\r\n";
    const auto first = s.find_first_not_of(ws);
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(ws);
    return s.substr(first, last - first + 1);
}

std::optional<double> parse_number(std::string_view text, double lo, double hi) {
    text = trim(text);
    if (text.empty() || text.size() > 64) return std::nullopt;
    double value = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || !std::isfinite(value) ||
        value < lo || value > hi) {
        return std::nullopt;
    }
    return value;
}


template <typename T>
bool assign(std::optional<T>& slot, T value) {
    if (slot && *slot == value) return false;
    slot = value;
    return true;
}

}  // namespace

bool Gen1MqttState::apply(std::string_view suffix, std::string_view payload) {
    const std::string_view text = trim(payload);
    if (suffix == "online") {
        if (text == "true") return assign(online_, true);
        if (text == "false") return assign(online_, false);
        return false;
    }
    if (suffix == "temperature") {
        const auto t = parse_number(text, MIN_TEMPERATURE_C, MAX_TEMPERATURE_C);
        return t ? assign(temperature_c_, *t) : false;
    }
    if (!suffix.starts_with("relay/")) return false;
    std::string_view rest = suffix.substr(6);
    const auto slash = rest.find('/');
    const auto channel = detail::parse_channel(rest.substr(0, slash));
    if (!channel) return false;
    const std::string_view field =
        slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);

    if (field.empty()) {
        bool on = false;
        bool overpower = false;
        if (text == "on") {
            on = true;
        } else if (text == "overpower") {
            overpower = true;
        } else if (text != "off") {
            return false;
        }
        Channel& ch = channels_[*channel];
        const bool changed = assign(ch.relay, on) || ch.overpower != overpower;
        ch.overpower = overpower;
        return changed;
    }
    if (field == "power") {
        const auto p = parse_number(text, -MAX_ABS_POWER_W, MAX_ABS_POWER_W);
        return p ? assign(channels_[*channel].power_w, *p) : false;
    }
    if (field == "energy") {
        const auto e = parse_number(text, 0.0, MAX_COUNTER_RAW);
        return e ? assign(channels_[*channel].energy_wmin, *e) : false;
    }
    return false;
}

bool Gen1MqttState::overpower(std::uint8_t channel) const {
    const auto it = channels_.find(channel);
    return it != channels_.end() && it->second.overpower;
}

std::vector<Reading> Gen1MqttState::readings(SysTime received) const {
    std::vector<Reading> out;
    auto make = [&](std::uint8_t channel) {
        Reading r;
        r.channel = channel;
        r.ts = received;
        r.counter_unit = CounterUnit::WattMinute;
        r.temperature_c = temperature_c_;
        return r;
    };
    for (const auto& [channel, ch] : channels_) {
        Reading r = make(channel);
        r.relay = ch.relay;
        r.power_w = ch.power_w;
        r.counter_raw = ch.energy_wmin;
        out.push_back(std::move(r));
    }
    if (out.empty() && temperature_c_) out.push_back(make(0));
    return out;
}

}  // namespace intelergy::drivers
