#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "intelergy/core/clock.hpp"
#include "intelergy/core/time_format.hpp"
#include "intelergy/store/pg_store.hpp"
#include "support/test_env.hpp"

namespace intelergy::test {

class FixedClock final : public Clock {
public:
    explicit FixedClock(SysTime now) : now_(now) {}
    [[nodiscard]] SysTime now() const override { return now_; }
    [[nodiscard]] SteadyTime steady() const override { return std::chrono::steady_clock::now(); }

private:
    SysTime now_;
};

inline SysTime at(const char* iso) {
    auto t = parse_iso8601(iso);
    EXPECT_TRUE(t) << iso;
    return t.value_or(SysTime{});
}

// A migrated throwaway database with user "u", profile "home" in `tz`, room "r".
class StoreFixture : public ::testing::Test {
protected:
    void SetUp() override {
        if (!pg_dsn()) GTEST_SKIP() << "INTELERGY_TEST_PG_DSN not set";
        db_ = std::make_unique<TestDatabase>(*pg_dsn());
        store_ = std::make_unique<store::PgStore>(db_->dsn());
        ASSERT_TRUE(store_->migrate());
    }

    void home(const std::string& tz, const std::string& user = "u",
              const std::string& profile = "home", const std::string& room = "r") {
        if (!store_->list_profiles(user)) {
            ASSERT_TRUE(store_->add_user(user));
        }
        if (!store_->list_rooms(user, profile)) {
            ASSERT_TRUE(store_->add_profile({user, profile, tz, std::nullopt, "", 0}));
        }
        (void)store_->add_room({user, profile, room, 0});
    }

    std::string device(const std::string& name, const std::string& user = "u",
                       const std::string& profile = "home", const std::string& room = "r") {
        store::DeviceRow d;
        d.id = "shelly-" + name;
        d.user = user;
        d.profile = profile;
        d.room = room;
        d.name = name;
        d.mac = "mac-" + name;
        d.model = "SNPL-00112EU";
        auto r = store_->add_device(d);
        EXPECT_TRUE(r) << (r ? "" : r.error().describe());
        return d.id;
    }

    double scalar(const std::string& sql) {
        pqxx::connection c(db_->dsn());
        pqxx::nontransaction tx(c);
        const auto r = tx.exec1(sql);
        return r[0].is_null() ? -1.0 : r[0].as<double>();
    }

    std::unique_ptr<TestDatabase> db_;
    std::unique_ptr<store::PgStore> store_;
};

}  // namespace intelergy::test
