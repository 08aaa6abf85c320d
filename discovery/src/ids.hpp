#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace intelergy::discovery::detail {

// 12 lower-case hex digits from a MAC in any case with optional ':'/'-' separators; nullopt if
// it is not a MAC.
std::optional<std::string> mac12(std::string_view mac);
// "aa:bb:cc:dd:ee:ff" from 12 hex digits (HA's canonical connection format).
std::string mac_colon(std::string_view mac12);
// Keeps [A-Za-z0-9_-], replaces anything else with '_' (HA's node_id/object_id alphabet).
std::string sanitize_topic_id(std::string_view text);
// True when `text` is non-empty and only [A-Za-z0-9_-].
bool is_topic_id(std::string_view text);

}  // namespace intelergy::discovery::detail
