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

Result<std::vector<PeriodTotal>> EnergyHistory::period_totals(
    const std::vector<TotalRequest>& requests) {
    std::vector<PeriodTotal> out;
    out.reserve(requests.size());
    for (const auto& r : requests) {
        auto buckets = query_energy(r.scope, r.resolution, r.from, r.to);
        if (!buckets) {
            const auto code = buckets.error().code;
            if (code != ErrorCode::NotFound && code != ErrorCode::Invalid) return buckets.error();
            out.emplace_back(buckets.error());
            continue;
        }
        std::optional<double> wh;
        for (const auto& b : *buckets)
            if (b.energy_wh) wh = wh.value_or(0.0) + *b.energy_wh;
        out.emplace_back(wh);
    }
    return out;
}

}  // namespace intelergy::store
