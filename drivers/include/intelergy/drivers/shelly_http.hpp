#pragma once

#include "intelergy/core/reading.hpp"
#include "intelergy/core/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace intelergy::drivers {

// URL builders. `base` is the device root, e.g. "http://192.168.1.5" or, behind a proxy or
// simulator, "http://127.0.0.1:8000/p/3"; trailing '/' characters are stripped.

enum class RelayCommand { On, Off, Toggle };

std::string shelly_info_url(std::string_view base);             // <base>/shelly
std::string status_url(std::string_view base, Generation gen);  // /status | /rpc/Shelly.GetStatus
// Gen1: /relay/N?turn=on|off|toggle. Gen2+: /rpc/Switch.Set?id=N&on=true|false,
// /rpc/Switch.Toggle?id=N.
std::string relay_url(std::string_view base, Generation gen, std::uint8_t channel,
                      RelayCommand command);

// Relay state stated by a relay command's response: Gen1 `{"ison":true,...}` -> true/false;
// Gen2+ `{"was_on":...}` states only the previous state -> nullopt. Errors: Parse / Protocol
// (not an object; Gen1 without bool `ison`; Gen2+ without bool `was_on`).
Result<std::optional<bool>> parse_relay_response(Generation gen, std::string_view json);

// Same, but derives the Gen2+ new state from the command: On -> true, Off -> false,
// Toggle -> !was_on.
Result<std::optional<bool>> parse_relay_response(Generation gen, RelayCommand command,
                                                 std::string_view json);

}  // namespace intelergy::drivers
