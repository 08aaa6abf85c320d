#include "intelergy/drivers/shelly_http.hpp"

#include "json_util.hpp"

namespace intelergy::drivers {

using detail::Json;

namespace {

std::string root(std::string_view base) {
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    return std::string{base};
}

}  // namespace

std::string shelly_info_url(std::string_view base) { return root(base) + "/shelly"; }

std::string status_url(std::string_view base, Generation gen) {
    return root(base) + (gen == Generation::Gen1 ? "/status" : "/rpc/Shelly.GetStatus");
}

std::string relay_url(std::string_view base, Generation gen, std::uint8_t channel,
                      RelayCommand command) {
    const std::string n = std::to_string(channel);
    if (gen == Generation::Gen1) {
        const char* turn = command == RelayCommand::On    ? "on"
                           : command == RelayCommand::Off ? "off"
                                                          : "toggle";
        return root(base) + "/relay/" + n + "?turn=" + turn;
    }
    if (command == RelayCommand::Toggle) return root(base) + "/rpc/Switch.Toggle?id=" + n;
    return root(base) + "/rpc/Switch.Set?id=" + n +
           (command == RelayCommand::On ? "&on=true" : "&on=false");
}

Result<std::optional<bool>> parse_relay_response(Generation gen, std::string_view json) {
    try {
        auto parsed = detail::parse_json(json, "relay response");
        if (!parsed) return parsed.error();
        if (!parsed->is_object()) {
            return make_error(ErrorCode::Protocol, "relay response: expected a JSON object");
        }
        if (gen == Generation::Gen1) {
            const auto ison = detail::bool_at(*parsed, "ison");
            if (!ison) return make_error(ErrorCode::Protocol, "relay response: no bool `ison`");
            return std::optional<bool>{*ison};
        }
        if (!detail::bool_at(*parsed, "was_on")) {
            return make_error(ErrorCode::Protocol, "relay response: no bool `was_on`");
        }
        return std::optional<bool>{};
    } catch (const std::exception& e) {
        return make_error(ErrorCode::Internal, std::string{"relay response: "} + e.what());
    }
}

Result<std::optional<bool>> parse_relay_response(Generation gen, RelayCommand command,
                                                 std::string_view json) {
    if (gen == Generation::Gen1) return parse_relay_response(gen, json);
    try {
        auto parsed = detail::parse_json(json, "relay response");
        if (!parsed) return parsed.error();
        const auto was_on = detail::bool_at(*parsed, "was_on");
        if (!was_on) return make_error(ErrorCode::Protocol, "relay response: no bool `was_on`");
        switch (command) {
            case RelayCommand::On:
                return std::optional<bool>{true};
            case RelayCommand::Off:
                return std::optional<bool>{false};
            case RelayCommand::Toggle:
                return std::optional<bool>{!*was_on};
        }
        return std::optional<bool>{};
    } catch (const std::exception& e) {
        return make_error(ErrorCode::Internal, std::string{"relay response: "} + e.what());
    }
}

}  // namespace intelergy::drivers
