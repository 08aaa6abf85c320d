#pragma once

#include "intelergy/core/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace intelergy::drivers {

// JSON-RPC request frame for `<prefix>/rpc` (MQTT) or `POST /rpc` (HTTP):
// {"id":1,"src":"bridge-7f3a","method":"Switch.Set","params":{"id":0,"on":true}}.
// The device answers on `<src>/rpc`. `params_json` must be a JSON object (or "" for none);
// params that are not valid JSON or not an object are left out, so the device answers with an
// RPC error instead of the broker carrying a broken frame. Never throws.
std::string make_rpc_frame(std::uint64_t id, std::string_view src, std::string_view method,
                           std::string_view params_json);

struct RpcResponse {
    std::uint64_t id{0};
    std::optional<std::string> result_json;  // compact JSON of `result` (object or any value)
    std::optional<int> error_code;           // `error.code` (e.g. 401, -103)
    std::string error_message;               // `error.message` (may itself be JSON text)
};

// Parses a response frame. Errors: Parse (bad JSON), Protocol (not an object, `id` missing or
// not a non-negative integer, neither `result` nor an object `error`). A frame with `error`
// parses successfully; error_code is set when `error.code` is an integer.
Result<RpcResponse> parse_rpc_response(std::string_view frame);

}  // namespace intelergy::drivers
