#pragma once

#include <filesystem>
#include <string_view>

#include "intelergy/core/result.hpp"

namespace intelergy::store {

// An IANA zone name ("Europe/Berlin", "Asia/Kathmandu", "UTC") known to the system tz
// database (tzdata under `zoneinfo_dir`). Rejects paths, "..", and files that are not TZif.
Status validate_timezone(std::string_view name,
                         const std::filesystem::path& zoneinfo_dir = "/usr/share/zoneinfo");

}  // namespace intelergy::store
