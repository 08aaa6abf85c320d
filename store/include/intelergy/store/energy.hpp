#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "intelergy/core/clock.hpp"
#include "intelergy/core/result.hpp"

namespace intelergy::store {

enum class Resolution { Minute, Hour, Day, Week, Month };

const char* to_string(Resolution r) noexcept;  // "minute" ... "month"
std::optional<Resolution> parse_resolution(std::string_view text);

// One bucket of an energy series. Hours, days, weeks (ISO, Monday) and months are local to
// the profile's time zone; `start`/`end` are UTC instants, `label` the local name
// ("2026-10-25T02:00+01:00", "2026-10-25", "2026-W53", "2026-10").
struct EnergyBucket {
    SysTime start{};
    SysTime end{};
    std::string label;
    std::optional<double> energy_wh;             // unknown (no data) is nullopt, never 0
    std::optional<double> energy_integrated_wh;  // sample-and-hold power only
    std::optional<double> mean_power_w;          // time-weighted over the seconds with power
    std::optional<double> min_power_w;
    std::optional<double> max_power_w;
    double covered_s{0};   // summed over members
    double coverage{0};    // covered_s / (bucket length x members), 0..1
    long samples{0};
    int resets{0};
    int members{0};        // device channels contributing to this bucket
};

// One request of EnergyHistory::period_totals: the energy of `scope` in [from, to) at
// `resolution` (the tier whose buckets are summed).
struct TotalRequest {
    std::string scope;
    Resolution resolution{Resolution::Day};
    SysTime from{};
    SysTime to{};
};

// One answer of period_totals: the Wh, nullopt when no bucket has energy (unknown, not 0), or
// the error query_energy gives for that request (NotFound, Invalid).
using PeriodTotal = Result<std::optional<double>>;

// Read side of the energy history (real: PgEnergyHistory).
// Scope: a device id ("shelly-aabbcc"), or a hierarchy path "user", "user/profile",
// "user/profile/room" or "user/profile/room/device". Returns the buckets whose start lies in
// [from, to), oldest first; buckets without data are absent. Group scopes sum their device
// channels per bucket. Errors: NotFound (unknown scope), Invalid (from >= to), Unreachable.
class EnergyHistory {
public:
    virtual ~EnergyHistory() = default;
    virtual Result<std::vector<EnergyBucket>> query_energy(const std::string& scope,
                                                           Resolution resolution, SysTime from,
                                                           SysTime to) = 0;

    // Many totals at once: answer i is exactly what summing, in order, the energy_wh of the
    // buckets of query_energy(requests[i]...) gives (nullopt when none has energy_wh). The
    // call fails as a whole only when the store does (Unreachable, Internal); a bad or unknown
    // scope fails its own answer. This default asks query_energy once per request (fine for
    // fakes); PgEnergyHistory answers any number of requests with one statement.
    virtual Result<std::vector<PeriodTotal>> period_totals(
        const std::vector<TotalRequest>& requests);
};

}  // namespace intelergy::store
