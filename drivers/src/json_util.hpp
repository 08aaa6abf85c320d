#pragma once

// Private helpers: the only place that decides how untrusted JSON is read.

#include "intelergy/core/clock.hpp"
#include "intelergy/core/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace intelergy::drivers::detail {

using Json = nlohmann::json;

// Size + depth pre-check, then a non-throwing parse. Errors are ErrorCode::Parse and name
// `what` ("Gen1 status", "rpc frame", ...).
Result<Json> parse_json(std::string_view text, std::string_view what);

// Member lookup; nullptr when `obj` is not an object or lacks the key.
const Json* member(const Json& obj, std::string_view key);

// A finite JSON number (integer or float) at obj[key], else nullopt. Bools are not numbers.
std::optional<double> number_at(const Json& obj, std::string_view key);
std::optional<double> as_number(const Json& value);

// number_at() limited to [lo, hi]; outside -> nullopt.
std::optional<double> bounded_at(const Json& obj, std::string_view key, double lo, double hi);
std::optional<double> bounded(std::optional<double> v, double lo, double hi);

std::optional<bool> bool_at(const Json& obj, std::string_view key);
std::optional<std::string> string_at(const Json& obj, std::string_view key);

// Epoch seconds -> SysTime when within the "synced" window of shelly_status.hpp.
std::optional<SysTime> synced_epoch(std::optional<double> seconds);

// Dump that never throws on odd strings (invalid UTF-8 is replaced).
std::string dump_compact(const Json& value);

// A channel number of 1..3 decimal digits, 0..255 ("switch:<N>", "relay/<N>").
std::optional<std::uint8_t> parse_channel(std::string_view digits);

}  // namespace intelergy::drivers::detail
