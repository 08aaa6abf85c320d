#pragma once

// An in-process bridge (BridgeFixture) with energy/query enabled, plus helpers to register
// devices directly in the database and feed them synthetic readings of exactly known energy.

#include <pqxx/pqxx>

#include <string>
#include <vector>

#include "bridge/bridge_fixture.hpp"
#include "energy_api.hpp"
#include "intelergy/core/time_format.hpp"
#include "intelergy/store/pg_energy_history.hpp"
#include "intelergy/store/rollup_worker.hpp"

namespace intelergy::test {

inline SysTime at(const char* iso) {
    auto t = parse_iso8601(iso);
    EXPECT_TRUE(t) << iso;
    return t.value_or(SysTime{});
}

// Readings every `step` from `from` to `to` (inclusive) at constant `watts`; with a counter
// (energy_wh) starting at `counter_start` unless `counter` is false. Samples in [gap_from,
// gap_to) are left out.
struct Feed {
    std::string dev;
    SysTime from;
    SysTime to;
    std::chrono::seconds step{60};
    double watts{100};
    bool counter{true};
    double counter_start{1000};
    SysTime gap_from{};
    SysTime gap_to{};
};

inline std::vector<Reading> make(const Feed& f) {
    std::vector<Reading> out;
    for (auto t = f.from; t <= f.to; t += f.step) {
        if (t >= f.gap_from && t < f.gap_to) continue;
        Reading r;
        r.device_id = f.dev;
        r.ts = t;
        r.power_w = f.watts;
        if (f.counter)
            r.energy_wh = f.counter_start +
                          f.watts * std::chrono::duration<double>(t - f.from).count() / 3600.0;
        out.push_back(r);
    }
    return out;
}

class EnergyFixture : public BridgeFixture {
protected:
    store::PgStore& pg() {
        if (!store_) store_ = std::make_unique<store::PgStore>(db_->dsn());
        return *store_;
    }

    // user/profile/room in `tz`, created as needed.
    void home(const std::string& tz, const std::string& user, const std::string& profile,
              const std::string& room) {
        (void)pg().add_user(user);
        (void)pg().add_profile({user, profile, tz, std::nullopt, "", 0});
        (void)pg().add_room({user, profile, room, 0});
    }

    // A device registered in the database only (the running bridge does not poll it).
    std::string device(const std::string& name, const std::string& user,
                       const std::string& profile, const std::string& room) {
        store::DeviceRow d;
        d.id = "shelly-" + name;
        d.user = user, d.profile = profile, d.room = room, d.name = name;
        d.mac = "mac-" + name;
        d.model = "SNPL-00112EU";
        d.url = "http://127.0.0.1:9";
        auto r = pg().add_device(d);
        EXPECT_TRUE(r) << (r ? "" : r.error().describe());
        return d.id;
    }

    void write(const std::vector<Reading>& readings) {
        auto sink = store::make_pg_batch_sink(db_->dsn());
        for (std::size_t i = 0; i < readings.size(); i += 5000) {
            store::WriteBatch b;
            b.readings.assign(readings.begin() + static_cast<std::ptrdiff_t>(i),
                              readings.begin() + static_cast<std::ptrdiff_t>(
                                                     std::min(readings.size(), i + 5000)));
            auto r = sink->write(b);
            ASSERT_TRUE(r) << r.error().describe();
        }
    }

    void roll() {
        store::RollupWorker w(db_->dsn(), clock_);
        auto r = w.process_pending();
        ASSERT_TRUE(r) << r.error().describe();
    }

    Json query(const Json& payload) {
        auto r = request("energy/query", payload);
        EXPECT_EQ(r.value("status", ""), "ok") << r.dump();
        return r["data"];
    }

    std::unique_ptr<store::PgStore> store_;
};

}  // namespace intelergy::test
