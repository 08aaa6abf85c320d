#include "intelergy/store/energy.hpp"

#include <array>
#include <utility>

namespace intelergy::store {

namespace {
constexpr std::array<std::pair<Resolution, const char*>, 5> NAMES{{
    {Resolution::Minute, "minute"},
    {Resolution::Hour, "hour"},
    {Resolution::Day, "day"},
    {Resolution::Week, "week"},
    {Resolution::Month, "month"},
}};
}  // namespace

const char* to_string(Resolution r) noexcept {
    for (const auto& [res, name] : NAMES)
        if (res == r) return name;
    return "minute";
}

std::optional<Resolution> parse_resolution(std::string_view text) {
    for (const auto& [res, name] : NAMES)
        if (text == name) return res;
    return std::nullopt;
}

}  // namespace intelergy::store
