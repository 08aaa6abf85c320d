#pragma once

// Energy history on the MQTT API (energy/query), local calendar periods from the system tz
// database, and the retained "energy today / this week" topics. See docs/energy.md.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "intelergy/bridge/bridge.hpp"
#include "intelergy/core/clock.hpp"
#include "intelergy/core/mqtt_client.hpp"
#include "intelergy/core/result.hpp"
#include "intelergy/store/energy.hpp"
#include "intelergy/store/store.hpp"
#include "request.hpp"

namespace intelergy::bridge {

// ---- Local calendar (IANA zones read from TZif files; no C++20 tzdb in GCC 12) -------------

struct LocalPeriod {
    SysTime from{};  // local start (e.g. 00:00 of the day / the Monday / the 1st), as UTC
    SysTime to{};    // the next period's start
};

// The local day, ISO week (Monday) or month (Resolution::Day/Week/Month) of zone `tz` that
// contains `at`, shifted by `offset` periods (-1 = the previous one). 23/25-hour days follow
// the zone's transitions. Times past the last transition in the file (2037 in "fat" tzdata)
// keep the last known offset.
Result<LocalPeriod> local_period(const std::string& tz, store::Resolution period, SysTime at,
                                 int offset = 0);
// 00:00 local time of the civil date `ymd` ("2026-11-01") in zone `tz`, as UTC. When midnight
// does not exist (a DST gap at midnight), the instant the day starts.
Result<SysTime> local_midnight(const std::string& tz, std::chrono::year_month_day ymd);
// `t` as local time in zone `tz`: "2026-03-01T00:00+01:00".
Result<std::string> format_local(const std::string& tz, SysTime t);
// Test seam: where the TZif files are (default /usr/share/zoneinfo).
void set_zoneinfo_dir(std::filesystem::path dir);

// ---- energy/query -----------------------------------------------------------------------------

struct EnergyApiContext {
    EnergyHistoryFactory open_history;
    const Clock& clock;
};

// Registers energy/query. The handler resolves the scope through `store` (hierarchy, time
// zone), checks the range limits, and queries a lazily opened EnergyHistory.
void register_energy_handlers(HandlerTable& handlers, store::Store& store, EnergyApiContext& ctx);


// Largest from..to span per resolution (minute 31 days, hour 732 days, day/week 20 years,
// month 100 years).
std::chrono::seconds max_query_span(store::Resolution r);

// ---- Retained energy totals -------------------------------------------------------------------

struct EnergyTotalsOptions {
    std::chrono::milliseconds interval{60'000};
};

// Publishes, retained, from the rollups:
//   <base>/devices/<id>/energy_today, <base>/devices/<id>/energy_week
//   <base>/homes/<user>/<profile>/<room>/energy_today, .../energy_week
// payload {"energy_wh":12.34 (null when no data: unknown is not zero),"since":ISO,"until":ISO}
// in each device's profile time zone. refresh() does one round on the caller's thread;
// start() runs refresh() every `interval` on its own thread. A payload is re-published only
// when it changed (and after reset_published(), e.g. on an MQTT reconnect).
class EnergyTotalsPublisher {
public:
    EnergyTotalsPublisher(MqttClient& mqtt, std::string base_topic, const Clock& clock,
                          std::function<std::unique_ptr<store::Store>()> open_store,
                          EnergyHistoryFactory open_history, EnergyTotalsOptions options = {});
    ~EnergyTotalsPublisher();  // stop()
    EnergyTotalsPublisher(const EnergyTotalsPublisher&) = delete;
    EnergyTotalsPublisher& operator=(const EnergyTotalsPublisher&) = delete;

    void start();
    void stop();
    // One round; returns the number of topics published (changed payloads).
    Result<std::size_t> refresh();
    void reset_published();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace intelergy::bridge
