#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "intelergy/core/clock.hpp"

namespace intelergy {

enum class Generation : std::uint8_t { Gen1 = 1, Gen2 = 2, Gen3 = 3, Gen4 = 4 };

// Unit of a device's raw energy counter. Gen1 plugs count watt-minutes, Gen2+ watt-hours.
enum class CounterUnit : std::uint8_t { WattHour, WattMinute };

constexpr double counter_to_wh(double raw, CounterUnit unit) noexcept {
    return unit == CounterUnit::WattMinute ? raw / 60.0 : raw;
}

// One normalised measurement of one channel of one plug. Fields a device does not report stay
// empty (never zero-filled).
struct Reading {
    std::string device_id;           // stable id derived from the MAC
    std::uint8_t channel{0};         // switch:N / pm1:N / relays[N]
    SysTime ts{};                    // UTC, when the bridge took the reading (or device ts)
    std::optional<double> power_w;
    std::optional<double> voltage_v;
    std::optional<double> current_a;
    std::optional<double> temperature_c;
    std::optional<bool> relay;       // absent on metering-only devices (PM1)
    std::optional<double> counter_raw;  // as the device reports it, in counter_unit
    CounterUnit counter_unit{CounterUnit::WattHour};
    std::optional<double> energy_wh;    // the bridge's lifetime book, filled by EnergyBook
    std::optional<SysTime> device_time;  // device clock (UTC) when synced
};

}  // namespace intelergy
