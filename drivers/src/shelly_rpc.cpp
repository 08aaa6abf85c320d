#include "intelergy/drivers/shelly_rpc.hpp"

#include "json_util.hpp"

#include <limits>

namespace intelergy::drivers {

using detail::Json;

std::string make_rpc_frame(std::uint64_t id, std::string_view src, std::string_view method,
                           std::string_view params_json) {
    try {
        // Built by hand to keep the key order id, src, method, params (nlohmann sorts keys).
        std::string out = "{\"id\":" + std::to_string(id) +
                          ",\"src\":" + detail::dump_compact(Json(std::string{src})) +
                          ",\"method\":" + detail::dump_compact(Json(std::string{method}));
        if (!params_json.empty()) {
            auto params = detail::parse_json(params_json, "rpc params");
            if (params && params->is_object()) {
                out += ",\"params\":" + detail::dump_compact(*params);
            }
        }
        out += '}';
        return out;
    } catch (const std::exception&) {
        return "{\"id\":" + std::to_string(id) + "}";
    }
}

Result<RpcResponse> parse_rpc_response(std::string_view frame) {
    try {
        auto parsed = detail::parse_json(frame, "rpc response");
        if (!parsed) return parsed.error();
        const Json& j = *parsed;
        if (!j.is_object()) {
            return make_error(ErrorCode::Protocol, "rpc response: expected a JSON object");
        }
        const Json* id = detail::member(j, "id");
        if (id == nullptr || !(id->is_number_unsigned() ||
                               (id->is_number_integer() && id->get<std::int64_t>() >= 0))) {
            return make_error(ErrorCode::Protocol,
                              "rpc response: missing or non-integer `id` (not a response?)");
        }
        RpcResponse out;
        out.id = id->get<std::uint64_t>();
        if (const Json* error = detail::member(j, "error")) {
            if (!error->is_object()) {
                return make_error(ErrorCode::Protocol, "rpc response: `error` is not an object");
            }
            if (const Json* code = detail::member(*error, "code");
                code != nullptr && code->is_number_integer()) {
                const auto c = code->get<std::int64_t>();
                if (c >= std::numeric_limits<int>::min() && c <= std::numeric_limits<int>::max()) {
                    out.error_code = static_cast<int>(c);
                }
            }
            out.error_message = detail::string_at(*error, "message").value_or(std::string{});
            if (!out.error_code) out.error_code = -1;  // an error frame is always an error
            return out;
        }
        if (const Json* result = detail::member(j, "result")) {
            out.result_json = detail::dump_compact(*result);
            return out;
        }
        return make_error(ErrorCode::Protocol, "rpc response: neither `result` nor `error`");
    } catch (const std::exception& e) {
        return make_error(ErrorCode::Internal, std::string{"rpc response: "} + e.what());
    }
}

}  // namespace intelergy::drivers
