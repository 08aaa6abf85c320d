// PgStore against real PostgreSQL: migrations (twice changes nothing, a newer database is
// refused), monthly readings partitions created ahead, names unique within their parent, and
// the removal policy of docs/data-model.md (history is never dropped by removing something).
#include "store_fixture.hpp"

#include <algorithm>

#include "intelergy/store/migrations.hpp"

namespace intelergy::test {
namespace {

using store::migrations;

class PgStoreTest : public StoreFixture {
protected:
    // Columns, indexes, constraints, functions and migrations: what a second migrate must not touch.
    std::string schema_dump() {
        pqxx::connection c(db_->dsn());
        pqxx::read_transaction tx(c);
        std::string s;
        const char* queries[] = {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || "
            "coalesce(column_default, '') FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY 1",
            "SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "ORDER BY 1",
            "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace ORDER BY 1",
            "SELECT p.proname || ' ' || md5(p.prosrc) FROM pg_proc p "
            "WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1",
            "SELECT version || ' ' || name || ' ' || applied_at FROM schema_migrations "
            "ORDER BY version",
        };
        for (const char* q : queries)
            for (const auto& row : tx.exec(q)) s += std::string(row[0].c_str()) + "\n";
        return s;
    }

    std::vector<std::string> partitions() {
        pqxx::connection c(db_->dsn());
        pqxx::read_transaction tx(c);
        std::vector<std::string> out;
        for (const auto& row : tx.exec("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON "
                                       "c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass "
                                       "ORDER BY 1"))
            out.emplace_back(row[0].c_str());
        return out;
    }

    void exec(const std::string& sql) {
        pqxx::connection c(db_->dsn());
        pqxx::work tx(c);
        tx.exec(sql);
        tx.commit();
    }
};

TEST_F(PgStoreTest, MigratingTwiceChangesNothing) {
    const int newest = migrations().back().version;
    const auto before = schema_dump();
    const auto again = store_->migrate();
    ASSERT_TRUE(again) << again.error().describe();
    EXPECT_EQ(again->applied_now, 0);
    EXPECT_EQ(again->database_version, newest);
    EXPECT_EQ(again->binary_version, newest);
    // A second store on its own connection, as a second `intelergy db migrate` would be.
    store::PgStore other(db_->dsn());
    ASSERT_TRUE(other.migrate());
    EXPECT_EQ(schema_dump(), before);
    EXPECT_TRUE(store_->check_schema());
}

TEST_F(PgStoreTest, FreshDatabaseGetsEveryMigrationInOrder) {
    TestDatabase fresh(*pg_dsn());
    store::PgStore s(fresh.dsn());
    const auto pending = s.check_schema();
    ASSERT_FALSE(pending);
    EXPECT_NE(pending.error().message.find("run `intelergy db migrate`"), std::string::npos);
    const auto st = s.migrate();
    ASSERT_TRUE(st) << st.error().describe();
    EXPECT_EQ(st->applied_now, static_cast<int>(migrations().size()));
    EXPECT_EQ(st->database_version, migrations().back().version);
}

TEST_F(PgStoreTest, DatabaseNewerThanBinaryIsRefusedAndLeftAlone) {
    const int newest = migrations().back().version;
    const int future = newest + 1;
    exec("INSERT INTO schema_migrations (version, name) VALUES (" + std::to_string(future) +
         ", 'from_a_newer_intelergy')");
    const auto before = schema_dump();
    for (auto r : {store_->migrate(), store_->check_schema()}) {
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, ErrorCode::Config);
        EXPECT_EQ(r.error().message,
                  "database schema version " + std::to_string(future) +
                      " is newer than this intelergy binary supports (" + std::to_string(newest) +
                      "); upgrade intelergy or point it at another database");
    }
    EXPECT_EQ(schema_dump(), before);
}

TEST_F(PgStoreTest, MonthlyPartitionsAreCreatedAheadOnce) {
    const auto before = partitions();
    ASSERT_TRUE(store_->ensure_partitions(at("2031-11-30T23:59:59Z"), 3));
    auto after = partitions();
    for (const char* p : {"readings_203111", "readings_203112", "readings_203201", "readings_203202"})
        EXPECT_NE(std::find(after.begin(), after.end(), p), after.end()) << p;
    EXPECT_EQ(after.size(), before.size() + 4);
    EXPECT_EQ(std::find(after.begin(), after.end(), "readings_203203"), after.end());
    // Again, and overlapping: nothing new, nothing fails.
    ASSERT_TRUE(store_->ensure_partitions(at("2031-12-01T00:00:00Z"), 1));
    EXPECT_EQ(partitions(), after);
    // Each partition holds exactly its UTC month: the last microsecond of November goes to 203111.
    home("UTC");
    const auto dev = device("p1");
    exec("INSERT INTO readings (device_id, channel, ts, power_w) VALUES ('" + dev +
         "', 0, '2031-11-30T23:59:59.999999Z', 1), ('" + dev + "', 0, '2031-12-01T00:00:00Z', 2)");
    EXPECT_EQ(scalar("SELECT power_w FROM readings_203111"), 1.0);
    EXPECT_EQ(scalar("SELECT power_w FROM readings_203112"), 2.0);
}

TEST_F(PgStoreTest, NamesAreUniqueWithinTheirParentOnly) {
    ASSERT_TRUE(store_->add_user("a"));
    ASSERT_TRUE(store_->add_user("b"));
    EXPECT_EQ(store_->add_user("a").error().code, ErrorCode::Conflict);
    ASSERT_TRUE(store_->add_profile({"a", "home", "UTC", std::nullopt, "", 0}));
    ASSERT_TRUE(store_->add_profile({"b", "home", "UTC", std::nullopt, "", 0}));  // other user
    EXPECT_EQ(store_->add_profile({"a", "home", "UTC", std::nullopt, "", 0}).error().code,
              ErrorCode::Conflict);
    ASSERT_TRUE(store_->add_room({"a", "home", "kitchen", 0}));
    ASSERT_TRUE(store_->add_room({"b", "home", "kitchen", 0}));  // other profile
    EXPECT_EQ(store_->add_room({"a", "home", "kitchen", 0}).error().code, ErrorCode::Conflict);
    ASSERT_TRUE(store_->add_room({"a", "home", "hall", 0}));
    EXPECT_EQ(store_->rename_room({"a", "home", "hall", 0}, "kitchen").error().code,
              ErrorCode::Conflict);
}

// docs/data-model.md "Removal policy": users, profiles and rooms only when empty; devices are
// soft-removed and keep readings, rollups and energy book; the same plug added again resumes.
TEST_F(PgStoreTest, RemovalNeverDropsHistory) {
    home("Europe/Berlin");
    const auto id = device("kettle");
    ASSERT_TRUE(store_->ensure_partitions(at("2030-01-01T00:00:00Z"), 0));
    exec("INSERT INTO readings (device_id, channel, ts, power_w, energy_wh) VALUES ('" + id +
         "', 0, '2030-01-01T12:00:00Z', 100, 42.5)");
    ASSERT_TRUE(store_->save_energy_books({{id, 0, 40.0, 2.5, 42.5, std::nullopt, 0}}));

    // Parents with children are refused, with a message that says why.
    auto busy_user = store_->remove_user("u");
    ASSERT_FALSE(busy_user);
    EXPECT_EQ(busy_user.error().code, ErrorCode::Conflict);
    EXPECT_NE(busy_user.error().message.find("profile"), std::string::npos);
    auto busy_profile = store_->remove_profile("u", "home");
    ASSERT_FALSE(busy_profile);
    EXPECT_NE(busy_profile.error().message.find("room"), std::string::npos);
    auto busy_room = store_->remove_room({"u", "home", "r", 0});
    ASSERT_FALSE(busy_room);
    EXPECT_NE(busy_room.error().message.find("device"), std::string::npos);

    // The device goes (soft): not listed, but its readings and book stay.
    ASSERT_TRUE(store_->remove_device(id));
    EXPECT_TRUE(store_->list_devices()->empty());
    EXPECT_EQ(scalar("SELECT count(*) FROM readings WHERE device_id = '" + id + "'"), 1.0);
    EXPECT_EQ(scalar("SELECT lifetime_wh FROM energy_books WHERE device_id = '" + id + "'"), 42.5);
    EXPECT_EQ(store_->remove_device(id).error().code, ErrorCode::NotFound);  // once only

    // The room keeps that history, so it (and the profile and user above it) stays.
    auto kept = store_->remove_room({"u", "home", "r", 0});
    ASSERT_FALSE(kept);
    EXPECT_EQ(kept.error().code, ErrorCode::Conflict);
    EXPECT_NE(kept.error().message.find("holds the history of removed devices"), std::string::npos);
    EXPECT_EQ(scalar("SELECT count(*) FROM rooms"), 1.0);

    // The same plug added again resumes its id, readings and book.
    const auto again = device("kettle");
    EXPECT_EQ(again, id);
    ASSERT_EQ(store_->list_devices()->size(), 1U);
    EXPECT_EQ(scalar("SELECT count(*) FROM readings WHERE device_id = '" + id + "'"), 1.0);
    const auto books = store_->load_energy_books();
    ASSERT_TRUE(books);
    ASSERT_EQ(books->size(), 1U);
    EXPECT_EQ(books->front().lifetime_wh, 42.5);

    // An empty room, profile and user go, top-down only when empty.
    ASSERT_TRUE(store_->add_room({"u", "home", "spare", 0}));
    EXPECT_TRUE(store_->remove_room({"u", "home", "spare", 0}));
    ASSERT_TRUE(store_->add_user("empty"));
    ASSERT_TRUE(store_->add_profile({"empty", "flat", "UTC", std::nullopt, "", 0}));
    EXPECT_TRUE(store_->remove_profile("empty", "flat"));
    EXPECT_TRUE(store_->remove_user("empty"));
    EXPECT_EQ(store_->remove_user("empty").error().code, ErrorCode::NotFound);
}

// The foreign keys hold even for a client that bypasses the store: deleting a parent row that
// still has children fails in PostgreSQL itself (ON DELETE RESTRICT), never cascades.
TEST_F(PgStoreTest, DatabaseRefusesCascadingDeletes) {
    home("UTC");
    const auto id = device("lamp");
    ASSERT_TRUE(store_->save_energy_books({{id, 0, 1.0, 0.0, 1.0, std::nullopt, 0}}));
    for (const char* sql : {"DELETE FROM users", "DELETE FROM profiles", "DELETE FROM rooms",
                            "DELETE FROM devices"}) {
        EXPECT_THROW(exec(sql), pqxx::sql_error) << sql;
    }
    EXPECT_EQ(scalar("SELECT count(*) FROM energy_books"), 1.0);
}

}  // namespace
}  // namespace intelergy::test
