#pragma once

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

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace intelergy::store
