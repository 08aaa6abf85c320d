#include "intelergy/drivers/shelly_device.hpp"

#include "json_util.hpp"

#include <cctype>

namespace intelergy::drivers {

using detail::Json;

namespace {

char upper(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string gen1_id_prefix(const std::string& type) {
    if (type == "SHPLG-S") return "shellyplug-s";
    if (type == "SHPLG-1" || type == "SHPLG2-1" || type == "SHPLG-U1") return "shellyplug";
    std::string out;
    out.reserve(type.size());
    for (const char c : type) out.push_back(lower(c));
    return out;
}

Result<Generation> generation_of(const Json& info) {
    const Json* gen = detail::member(info, "gen");
    if (gen == nullptr) return Generation::Gen1;
    if (gen->is_number_integer()) {
        const auto g = gen->get<std::int64_t>();
        if (g == 2) return Generation::Gen2;
        if (g == 3) return Generation::Gen3;
        if (g == 4) return Generation::Gen4;
        return make_error(ErrorCode::Protocol,
                          "unsupported Shelly generation gen=" + std::to_string(g));
    }
    return make_error(ErrorCode::Protocol,
                      "device info: `gen` must be an integer, got " + detail::dump_compact(*gen));
}

std::string string_or_empty(const Json& obj, std::string_view key) {
    return detail::string_at(obj, key).value_or(std::string{});
}

Result<DeviceInfo> device_info_from(const Json& info) {
    if (!info.is_object()) {
        return make_error(ErrorCode::Protocol, "device info: expected a JSON object");
    }
    const Json* mac_field = detail::member(info, "mac");
    if (mac_field == nullptr && detail::member(info, "type") == nullptr &&
        detail::member(info, "model") == nullptr) {
        return make_error(ErrorCode::Protocol,
                          "not a Shelly device: /shelly answer has no mac, type or model");
    }
    auto gen = generation_of(info);
    if (!gen) return gen.error();

    DeviceInfo out;
    out.gen = *gen;
    if (mac_field == nullptr || !mac_field->is_string()) {
        return make_error(ErrorCode::Protocol, "device info: missing or non-string `mac`");
    }
    auto mac = normalize_mac(mac_field->get<std::string>());
    if (!mac) return make_error(ErrorCode::Protocol, "device info: " + mac.error().message);
    out.mac = std::move(*mac);
    out.name = string_or_empty(info, "name");

    if (out.gen == Generation::Gen1) {
        auto type = detail::string_at(info, "type");
        if (!type || type->empty()) {
            return make_error(ErrorCode::Protocol, "Gen1 device info without string `type`");
        }
        out.model = *type;
        out.shelly_id = gen1_id_prefix(*type) + "-" + out.mac.substr(6);
        out.firmware = string_or_empty(info, "fw");
        out.auth_required = detail::bool_at(info, "auth").value_or(false);
    } else {
        auto model = detail::string_at(info, "model");
        if (!model || model->empty()) {
            return make_error(ErrorCode::Protocol, "Gen2+ device info without string `model`");
        }
        auto id = detail::string_at(info, "id");
        if (!id || id->empty()) {
            return make_error(ErrorCode::Protocol, "Gen2+ device info without string `id`");
        }
        out.model = std::move(*model);
        out.shelly_id = std::move(*id);
        out.firmware = string_or_empty(info, "fw_id");
        if (out.firmware.empty()) out.firmware = string_or_empty(info, "ver");
        out.app = string_or_empty(info, "app");
        out.auth_required = detail::bool_at(info, "auth_en").value_or(false);
    }
    return out;
}

}  // namespace

Result<std::string> normalize_mac(std::string_view mac) {
    std::string out;
    out.reserve(12);
    for (const char c : mac) {
        if (c == ':' || c == '-') continue;
        if (!std::isxdigit(static_cast<unsigned char>(c)) || out.size() == 12) {
            return make_error(ErrorCode::Invalid, "invalid MAC '" + std::string{mac.substr(0, 40)} +
                                                      "': expected 12 hex digits");
        }
        out.push_back(upper(c));
    }
    if (out.size() != 12) {
        return make_error(ErrorCode::Invalid, "invalid MAC '" + std::string{mac.substr(0, 40)} +
                                                  "': expected 12 hex digits");
    }
    return out;
}

std::string device_id_from_mac(std::string_view mac) {
    auto normalized = normalize_mac(mac);
    if (!normalized) return {};
    std::string out = "shelly-";
    for (const char c : *normalized) out.push_back(lower(c));
    return out;
}

Result<DeviceInfo> parse_device_info(std::string_view json) {
    try {
        auto parsed = detail::parse_json(json, "device info");
        if (!parsed) return parsed.error();
        return device_info_from(*parsed);
    } catch (const std::exception& e) {
        return make_error(ErrorCode::Internal, std::string{"device info: "} + e.what());
    }
}

Result<AnnounceInfo> parse_gen1_announce(std::string_view json) {
    try {
        auto parsed = detail::parse_json(json, "Gen1 announce");
        if (!parsed) return parsed.error();
        const Json& j = *parsed;
        if (!j.is_object()) {
            return make_error(ErrorCode::Protocol, "Gen1 announce: expected a JSON object");
        }
        AnnounceInfo out;
        auto id = detail::string_at(j, "id");
        if (!id || id->empty() || id->find_first_of("/+#") != std::string::npos) {
            return make_error(ErrorCode::Protocol, "Gen1 announce: missing or unusable `id`");
        }
        out.id = std::move(*id);
        auto mac_text = detail::string_at(j, "mac");
        if (!mac_text) return make_error(ErrorCode::Protocol, "Gen1 announce: missing `mac`");
        auto mac = normalize_mac(*mac_text);
        if (!mac) return make_error(ErrorCode::Protocol, "Gen1 announce: " + mac.error().message);
        out.mac = std::move(*mac);
        out.model = string_or_empty(j, "model");
        out.ip = string_or_empty(j, "ip");
        out.fw_ver = string_or_empty(j, "fw_ver");
        out.new_fw = detail::bool_at(j, "new_fw").value_or(false);
        return out;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::Internal, std::string{"Gen1 announce: "} + e.what());
    }
}

}  // namespace intelergy::drivers
