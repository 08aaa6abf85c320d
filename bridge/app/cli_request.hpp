#pragma once

// The setup CLI's pure part: command-line arguments → API request, response data → text.
// No I/O here, so every request shape is unit-tested without a broker.

#include "intelergy/core/result.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace intelergy::app::cli {

// One request of the MQTT API: published on <base>/bridge/request/<path>; `payload` is a JSON
// object (without "transaction", which the client adds).
struct ApiRequest {
    std::string path;
    std::string payload;
};

// What a client command was given, as typed (numbers are parsed by build_request so every
// mistake becomes a usage error with a message, exit code 2).
struct CliArgs {
    std::string command;              // "user add", "device set", "discovered", ...
    std::array<std::string, 3> args;  // positional arguments in order; "" = not given
    std::optional<std::string> timezone;
    std::optional<std::string> tariff;  // per kWh
    std::optional<std::string> currency;
    std::optional<std::string> url;
    std::optional<std::string> username;
    std::optional<std::string> password;  // the password itself (read from --password-file)
    std::optional<std::string> poll_interval;
    std::optional<std::string> channel;
    std::optional<std::string> topic_prefix;
    bool mqtt{false};
    bool enable{false};
    bool disable{false};
};

// The request for `args`, or an Invalid error naming what is wrong with the arguments.
Result<ApiRequest> build_request(const CliArgs& args);

// A device is named by its id ("shelly-<12 hex>") or by its path "user/profile/room/device":
// {"id":…} or {"device":…} as a JSON member pair.
Result<std::pair<std::string, std::string>> device_key(std::string_view id_or_path);

// Checks a "a/b/c" path of exactly `parts` valid names; `what` names it in messages.
Status check_path(std::string_view path, std::size_t parts, std::string_view what);

// A password file's contents with the trailing line break(s) removed.
std::string strip_trailing_newlines(std::string text);

// `data` (the response's "data" JSON text) as what --json prints: device lists are filtered
// by the optional path prefix given to `device list`, everything else is passed through.
std::string json_output(const CliArgs& args, std::string_view data);

// The human-readable output for a successful response: one line for changes, a table for lists.
std::string human_output(const CliArgs& args, std::string_view data);

// Seconds from --timeout / --poll-interval text ("10", "1.5"); nullopt when not a positive number.
std::optional<double> parse_seconds(std::string_view text);

}  // namespace intelergy::app::cli
