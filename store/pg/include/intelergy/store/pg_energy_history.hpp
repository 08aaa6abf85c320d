#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "intelergy/store/energy.hpp"

namespace intelergy::store {

// EnergyHistory over the energy_* rollup tables. Opens its connection lazily and reopens it
// after a failure. Not thread-safe: one instance per thread.
// Group scopes (user, profile, room) sum the rows of their devices (soft-removed devices
// included: their history stays) per bucket; coverage = covered seconds / (bucket length x
// the number of device channels of the scope that have any row in [from, to)).
class PgEnergyHistory final : public EnergyHistory {
public:
    explicit PgEnergyHistory(std::string dsn);
    ~PgEnergyHistory() override;
    PgEnergyHistory(const PgEnergyHistory&) = delete;
    PgEnergyHistory& operator=(const PgEnergyHistory&) = delete;

    Result<std::vector<EnergyBucket>> query_energy(const std::string& scope, Resolution resolution,
                                                   SysTime from, SysTime to) override;

    // One statement for any number of requests (unnest of the scopes and ranges, one join
    // with the rollup tiers), the same sums as query_energy: the numeric sum per bucket as
    // float8, added up in bucket order.
    Result<std::vector<PeriodTotal>> period_totals(
        const std::vector<TotalRequest>& requests) override;

    // SQL statements this instance has sent (both methods), for tests of the statement count.
    [[nodiscard]] std::uint64_t statements() const noexcept;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace intelergy::store
