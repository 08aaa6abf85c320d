#include "json_util.hpp"

#include <charconv>

#include "intelergy/drivers/shelly_status.hpp"

#include <chrono>
#include <cmath>

namespace intelergy::drivers::detail {

namespace {

// Counts bracket nesting outside of strings; stops early once `max_depth` is exceeded.
bool nesting_within(std::string_view text, int max_depth) {
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_depth) return false;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return true;
}

}  // namespace

Result<Json> parse_json(std::string_view text, std::string_view what) {
    const std::string name{what};
    if (text.size() > MAX_PAYLOAD_BYTES) {
        return make_error(ErrorCode::Parse, name + ": payload of " + std::to_string(text.size()) +
                                                " bytes exceeds the limit of " +
                                                std::to_string(MAX_PAYLOAD_BYTES));
    }
    if (!nesting_within(text, MAX_JSON_DEPTH)) {
        return make_error(ErrorCode::Parse, name + ": JSON nested deeper than " +
                                                std::to_string(MAX_JSON_DEPTH) + " levels");
    }
    try {
        Json parsed = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
        if (parsed.is_discarded()) {
            return make_error(ErrorCode::Parse, name + ": not valid JSON");
        }
        return parsed;
    } catch (const std::exception& e) {  // bad_alloc and friends: report, never propagate
        return make_error(ErrorCode::Parse, name + ": " + e.what());
    }
}

const Json* member(const Json& obj, std::string_view key) {
    if (!obj.is_object()) return nullptr;
    const auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
}

std::optional<double> as_number(const Json& value) {
    if (!value.is_number()) return std::nullopt;
    const double v = value.get<double>();
    if (!std::isfinite(v)) return std::nullopt;
    return v;
}

std::optional<double> number_at(const Json& obj, std::string_view key) {
    const Json* v = member(obj, key);
    return v == nullptr ? std::nullopt : as_number(*v);
}

std::optional<double> bounded(std::optional<double> v, double lo, double hi) {
    if (!v || *v < lo || *v > hi) return std::nullopt;
    return v;
}

std::optional<double> bounded_at(const Json& obj, std::string_view key, double lo, double hi) {
    return bounded(number_at(obj, key), lo, hi);
}

std::optional<bool> bool_at(const Json& obj, std::string_view key) {
    const Json* v = member(obj, key);
    if (v == nullptr || !v->is_boolean()) return std::nullopt;
    return v->get<bool>();
}

std::optional<std::string> string_at(const Json& obj, std::string_view key) {
    const Json* v = member(obj, key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return v->get<std::string>();
}

std::optional<SysTime> synced_epoch(std::optional<double> seconds) {
    if (!seconds || *seconds < MIN_SYNCED_EPOCH_S || *seconds > MAX_SYNCED_EPOCH_S) {
        return std::nullopt;
    }
    const auto ms = static_cast<std::int64_t>(std::llround(*seconds * 1000.0));
    return SysTime{std::chrono::milliseconds{ms}};
}

std::string dump_compact(const Json& value) {
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<std::uint8_t> parse_channel(std::string_view digits) {
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc{} || ptr != digits.data() + digits.size() || value > 255) {
        return std::nullopt;
    }
    return static_cast<std::uint8_t>(value);
}

}  // namespace intelergy::drivers::detail
