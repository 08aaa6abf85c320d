#pragma once

#include "intelergy/core/clock.hpp"
#include "intelergy/core/reading.hpp"
#include "intelergy/core/result.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace intelergy::drivers {

// ---- Input hardening shared by every parser in this module --------------------------------
// Payloads larger than this or nested deeper than MAX_JSON_DEPTH are rejected before parsing
// (a deeply nested payload would otherwise recurse through the JSON parser).
inline constexpr std::size_t MAX_PAYLOAD_BYTES = 1024 * 1024;
inline constexpr int MAX_JSON_DEPTH = 32;

// Per-field plausibility. A field that is missing, of the wrong JSON type (a string where a
// number belongs, a number where a bool belongs), non-finite, or outside its range is DROPPED
// (left absent in the Reading); the rest of the payload is still used. Nothing is clamped.
//   power_w       [-100000, 100000] W. Negative values are kept: reverse flow (balcony PV) and
//                 small negative noise are real. A plug is rated <= 3.7 kW, so |P| > 100 kW is a
//                 corrupt sample; the energy book, not this filter, guards energy.
//   voltage_v     [0, 1000] V
//   current_a     [0, 1000] A (RMS, never negative)
//   temperature_c [-60, 200] C; JSON null (sensor out of range) -> absent
//   counter_raw   [0, 1e9] in the device unit (1e9 Wmin = 16.7 MWh = 500 years at 3.7 kW)
//   relay         JSON bool only
inline constexpr double MAX_ABS_POWER_W = 100000.0;
inline constexpr double MAX_VOLTAGE_V = 1000.0;
inline constexpr double MAX_CURRENT_A = 1000.0;
inline constexpr double MIN_TEMPERATURE_C = -60.0;
inline constexpr double MAX_TEMPERATURE_C = 200.0;
inline constexpr double MAX_COUNTER_RAW = 1e9;

// Device clocks: an epoch (s) below this (2001-09-09) means "not synced" (Gen1 sends 0, Gen2+
// null; a never-synced device may count from boot). Such values never become device_time.
inline constexpr double MIN_SYNCED_EPOCH_S = 1e9;
inline constexpr double MAX_SYNCED_EPOCH_S = 4102444800.0;  // 2100-01-01

// Whole-payload errors (Result holds an Error): Parse for invalid JSON, oversize or too deep;
// Protocol when the top level is not an object or has no channel at all (see each function).
// No function in this module throws.

// Gen1 `GET /status`. One Reading per index of `relays`/`meters` (up to 256), channel = index:
// relays[i].ison -> relay, meters[i].power -> power_w (dropped when meters[i].is_valid is
// false), meters[i].total -> counter_raw in CounterUnit::WattMinute. temperature: top-level
// `temperature`, else `tmp.tC` (unless tmp.is_valid is false), attached to every channel.
// device_time = `unixtime` when synced. Protocol error when neither `relays` nor `meters` is an
// array holding an object.
Result<std::vector<Reading>> parse_gen1_status(std::string_view json, SysTime received);

// Gen2+ `Shelly.GetStatus` (also NotifyFullStatus params). One Reading per `switch:N` / `pm1:N`
// object (N = 0..255), sorted by channel: output -> relay, apower, voltage, current,
// aenergy.total -> counter_raw (Wh), temperature.tC. device_time = `sys.unixtime` when synced.
// Protocol error when no switch:N / pm1:N object exists.
Result<std::vector<Reading>> parse_gen2_status(std::string_view json, SysTime received);

// One component status: `Switch.GetStatus` / `PM1.GetStatus` results and the MQTT
// `<prefix>/status/switch:N` payload. `component_key` must be "switch:N" or "pm1:N" (Invalid
// otherwise); the payload must be an object. device_time stays empty.
Result<Reading> parse_gen2_component(std::string_view component_key, std::string_view json,
                                     SysTime received);

// "switch:3" -> 3, "pm1:0" -> 0; nullopt for anything else (other components, N > 255, "switch:",
// "switch:01x").
std::optional<std::uint8_t> metered_component_channel(std::string_view component_key);

}  // namespace intelergy::drivers
