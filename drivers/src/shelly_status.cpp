#include "intelergy/drivers/shelly_status.hpp"

#include "json_util.hpp"
#include "status_normalize.hpp"

#include <algorithm>
#include <charconv>

namespace intelergy::drivers {

using detail::Json;

namespace {

constexpr std::size_t MAX_CHANNELS = 256;

std::optional<double> power_at(const Json& obj, std::string_view key) {
    return detail::bounded_at(obj, key, -MAX_ABS_POWER_W, MAX_ABS_POWER_W);
}

std::optional<double> counter_at(const Json& obj, std::string_view key) {
    return detail::bounded_at(obj, key, 0.0, MAX_COUNTER_RAW);
}

std::optional<double> temperature_at(const Json& obj, std::string_view key) {
    return detail::bounded_at(obj, key, MIN_TEMPERATURE_C, MAX_TEMPERATURE_C);
}

Result<std::vector<Reading>> gen1_readings(const Json& status, SysTime received) {
    if (!status.is_object()) {
        return make_error(ErrorCode::Protocol, "Gen1 status: expected a JSON object");
    }
    const Json* relays = detail::member(status, "relays");
    const Json* meters = detail::member(status, "meters");
    const std::size_t n_relays = relays != nullptr && relays->is_array() ? relays->size() : 0;
    const std::size_t n_meters = meters != nullptr && meters->is_array() ? meters->size() : 0;
    const std::size_t channels = std::min(std::max(n_relays, n_meters), MAX_CHANNELS);

    std::optional<double> temperature = temperature_at(status, "temperature");
    if (!temperature) {
        if (const Json* tmp = detail::member(status, "tmp");
            tmp != nullptr && detail::bool_at(*tmp, "is_valid").value_or(true)) {
            temperature = temperature_at(*tmp, "tC");
        }
    }
    const std::optional<SysTime> device_time =
        detail::synced_epoch(detail::number_at(status, "unixtime"));

    std::vector<Reading> out;
    for (std::size_t i = 0; i < channels; ++i) {
        const Json* relay = i < n_relays && (*relays)[i].is_object() ? &(*relays)[i] : nullptr;
        const Json* meter = i < n_meters && (*meters)[i].is_object() ? &(*meters)[i] : nullptr;
        if (relay == nullptr && meter == nullptr) continue;
        Reading r;
        r.channel = static_cast<std::uint8_t>(i);
        r.ts = received;
        r.device_time = device_time;
        r.temperature_c = temperature;
        r.counter_unit = CounterUnit::WattMinute;
        if (relay != nullptr) r.relay = detail::bool_at(*relay, "ison");
        if (meter != nullptr) {
            if (detail::bool_at(*meter, "is_valid").value_or(true)) {
                r.power_w = power_at(*meter, "power");
            }
            r.counter_raw = counter_at(*meter, "total");
        }
        out.push_back(std::move(r));
    }
    if (out.empty()) {
        return make_error(ErrorCode::Protocol,
                          "Gen1 status: no relays[] or meters[] object (not a Gen1 plug status?)");
    }
    return out;
}

}  // namespace

std::optional<std::uint8_t> metered_component_channel(std::string_view key) {
    std::string_view digits;
    if (key.starts_with("switch:")) {
        digits = key.substr(7);
    } else if (key.starts_with("pm1:")) {
        digits = key.substr(4);
    } else {
        return std::nullopt;
    }
    return detail::parse_channel(digits);
}

namespace detail {

Reading reading_from_component(std::uint8_t channel, const Json& component, SysTime received) {
    Reading r;
    r.channel = channel;
    r.ts = received;
    r.counter_unit = CounterUnit::WattHour;
    r.relay = bool_at(component, "output");
    r.power_w = power_at(component, "apower");
    r.voltage_v = bounded_at(component, "voltage", 0.0, MAX_VOLTAGE_V);
    r.current_a = bounded_at(component, "current", 0.0, MAX_CURRENT_A);
    if (const Json* aenergy = member(component, "aenergy")) {
        r.counter_raw = counter_at(*aenergy, "total");
    }
    if (const Json* temperature = member(component, "temperature")) {
        r.temperature_c = temperature_at(*temperature, "tC");
    }
    return r;
}

std::vector<Reading> readings_from_status(const Json& status, SysTime received,
                                          std::optional<SysTime> device_time) {
    std::vector<Reading> out;
    if (!status.is_object()) return out;
    for (auto it = status.begin(); it != status.end(); ++it) {
        const auto channel = metered_component_channel(it.key());
        if (!channel || !it.value().is_object()) continue;
        Reading r = reading_from_component(*channel, it.value(), received);
        r.device_time = device_time;
        out.push_back(std::move(r));
    }
    // Keys are ordered as strings ("switch:10" < "switch:2"); order by channel instead.
    std::stable_sort(out.begin(), out.end(),
                     [](const Reading& a, const Reading& b) { return a.channel < b.channel; });
    return out;
}

std::optional<SysTime> status_device_time(const Json& status) {
    const Json* sys = member(status, "sys");
    if (sys == nullptr) return std::nullopt;
    return synced_epoch(number_at(*sys, "unixtime"));
}

}  // namespace detail

Result<std::vector<Reading>> parse_gen1_status(std::string_view json, SysTime received) {
    try {
        auto parsed = detail::parse_json(json, "Gen1 status");
        if (!parsed) return parsed.error();
        return gen1_readings(*parsed, received);
    } catch (const std::exception& e) {
        return make_error(ErrorCode::Internal, std::string{"Gen1 status: "} + e.what());
    }
}

Result<std::vector<Reading>> parse_gen2_status(std::string_view json, SysTime received) {
    try {
        auto parsed = detail::parse_json(json, "Gen2 status");
        if (!parsed) return parsed.error();
        if (!parsed->is_object()) {
            return make_error(ErrorCode::Protocol, "Gen2 status: expected a JSON object");
        }
        auto out =
            detail::readings_from_status(*parsed, received, detail::status_device_time(*parsed));
        if (out.empty()) {
            return make_error(ErrorCode::Protocol,
                              "Gen2 status: no switch:N or pm1:N component object");
        }
        return out;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::Internal, std::string{"Gen2 status: "} + e.what());
    }
}

Result<Reading> parse_gen2_component(std::string_view component_key, std::string_view json,
                                     SysTime received) {
    try {
        const auto channel = metered_component_channel(component_key);
        if (!channel) {
            return make_error(ErrorCode::Invalid,
                              "not a metered component key (want switch:N or pm1:N): '" +
                                  std::string{component_key.substr(0, 64)} + "'");
        }
        auto parsed = detail::parse_json(json, "Gen2 component status");
        if (!parsed) return parsed.error();
        if (!parsed->is_object()) {
            return make_error(ErrorCode::Protocol, "Gen2 component status: expected a JSON object");
        }
        return detail::reading_from_component(*channel, *parsed, received);
    } catch (const std::exception& e) {
        return make_error(ErrorCode::Internal, std::string{"Gen2 component status: "} + e.what());
    }
}

}  // namespace intelergy::drivers
