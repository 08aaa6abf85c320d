#pragma once

// Private: Gen2+ status -> Reading normalisation shared by parse_gen2_status() and
// Gen2StatusState.

#include "intelergy/core/reading.hpp"
#include "json_util.hpp"

#include <optional>
#include <vector>

namespace intelergy::drivers::detail {

// One switch:N / pm1:N component object -> Reading (channel set by the caller's key).
Reading reading_from_component(std::uint8_t channel, const Json& component, SysTime received);

// All metered components of a status object, sorted by channel.
std::vector<Reading> readings_from_status(const Json& status, SysTime received,
                                          std::optional<SysTime> device_time);

// sys.unixtime when synced.
std::optional<SysTime> status_device_time(const Json& status);

}  // namespace intelergy::drivers::detail
