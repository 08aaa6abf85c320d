#pragma once

// Pure text rules behind the config module: no toml++ here, so they stay easy to reason about.
// Every checker returns an error message without the key name; the caller prefixes it.

#include "intelergy/config/config.hpp"
#include "intelergy/core/result.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace intelergy::config::detail {

// Optimal-string-alignment distance (insert, delete, substitute, swap neighbours = 1 each).
std::size_t edit_distance(std::string_view a, std::string_view b);

// "mqtt://host[:port]" or "mqtts://host[:port]"; IPv6 hosts in brackets. The port defaults to
// 1883 / 8883. No user info, path, query or fragment.
Result<MqttUrl> parse_mqtt_url(std::string_view text);

struct HostPort {
    std::string host;  // without IPv6 brackets
    std::uint16_t port{0};
};

// "host:port" or "[v6addr]:port"; the port is required (1..65535).
Result<HostPort> parse_listen(std::string_view text);

// A topic (or topic prefix) we publish under or subscribe to literally: non-empty, no
// wildcards, no NUL, no leading or trailing '/', no empty level, not starting with '$'.
Status check_topic(std::string_view topic);

// "host:port", bracketing IPv6 literals.
std::string join_host_port(std::string_view host, std::uint16_t port);

// Replaces the password in a libpq DSN with "***": the keyword form (password=...) and the URI
// form (postgresql://user:secret@host/db, and a password= query parameter).
std::string redact_dsn(std::string_view dsn);

}  // namespace intelergy::config::detail
