#include "request.hpp"

#include <cmath>

#include "intelergy/core/names.hpp"

namespace intelergy::bridge {

namespace {
const char* type_name(const Json& v) {
    switch (v.type()) {
        case Json::value_t::null: return "null";
        case Json::value_t::boolean: return "boolean";
        case Json::value_t::string: return "string";
        case Json::value_t::array: return "array";
        case Json::value_t::object: return "object";
        case Json::value_t::discarded: return "invalid";
        default: return "number";
    }
}
}  // namespace

const Json& Request::get(const std::string& key) {
    used_.insert(key);
    return body_.at(key);
}

std::string Request::string(const std::string& key) {
    if (!has(key)) throw RequestError("missing field '" + key + "'");
    const auto& v = get(key);
    if (!v.is_string())
        throw RequestError("field '" + key + "' must be a string, got " + type_name(v));
    return v.get<std::string>();
}

std::optional<std::string> Request::opt_string(const std::string& key) {
    if (!has(key)) return std::nullopt;
    return string(key);
}

std::optional<double> Request::opt_number(const std::string& key, double min, double max) {
    if (!has(key)) return std::nullopt;
    const auto& v = get(key);
    if (!v.is_number())
        throw RequestError("field '" + key + "' must be a number, got " + type_name(v));
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < min || d > max)
        throw RequestError("field '" + key + "' must be between " + Json(min).dump() + " and " +
                           Json(max).dump());
    return d;
}

std::optional<std::int64_t> Request::opt_integer(const std::string& key, std::int64_t min,
                                                 std::int64_t max) {
    if (!has(key)) return std::nullopt;
    const auto& v = get(key);
    if (!v.is_number_integer())
        throw RequestError("field '" + key + "' must be an integer, got " + type_name(v));
    const auto i = v.get<std::int64_t>();
    if (i < min || i > max)
        throw RequestError("field '" + key + "' must be between " + std::to_string(min) +
                           " and " + std::to_string(max));
    return i;
}

std::optional<bool> Request::opt_bool(const std::string& key) {
    if (!has(key)) return std::nullopt;
    const auto& v = get(key);
    if (!v.is_boolean())
        throw RequestError("field '" + key + "' must be true or false, got " + type_name(v));
    return v.get<bool>();
}

std::string Request::name(const std::string& key) {
    auto s = string(key);
    if (auto st = validate_name(s, "field '" + key + "'"); !st) throw RequestError(st.error());
    return s;
}

std::optional<std::string> Request::opt_name(const std::string& key) {
    if (!has(key)) return std::nullopt;
    return name(key);
}

std::vector<std::string> Request::path(const std::string& key, std::size_t parts) {
    const auto s = string(key);
    auto r = split_path(s, parts, "field '" + key + "'");
    if (!r) throw RequestError(r.error());
    return std::move(r).value();
}

void Request::finish() const {
    for (const auto& [key, _] : body_.items())
        if (!used_.contains(key)) throw RequestError("unknown field '" + key + "'");
}

}  // namespace intelergy::bridge
