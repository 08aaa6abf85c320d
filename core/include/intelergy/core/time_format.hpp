#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "intelergy/core/clock.hpp"

namespace intelergy {

// "2026-11-27T13:00:00.000Z"
std::string format_iso8601(SysTime t);

// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]" with "Z", "+HH:MM", "+HHMM" or no zone
// (no zone = UTC). Returns nullopt on anything else, including out-of-range fields.
std::optional<SysTime> parse_iso8601(std::string_view text);

}  // namespace intelergy
