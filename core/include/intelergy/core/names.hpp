#pragma once

#include <string>
#include <vector>
#include <string_view>

#include "intelergy/core/result.hpp"

namespace intelergy {

inline constexpr size_t MAX_NAME_LENGTH = 64;

// A hierarchy name (user, profile, room, device) must be usable as one MQTT topic level and one
// path segment: 1..64 bytes of valid UTF-8, no '/', '+', '#', NUL or control characters, not
// "." or "..", no leading/trailing whitespace. `what` names the field in the error message.
Status validate_name(std::string_view name, std::string_view what);

// Splits "a/b/c" into exactly `parts` non-empty segments, or fails.
Result<std::vector<std::string>> split_path(std::string_view path, size_t parts,
                                            std::string_view what);

}  // namespace intelergy
