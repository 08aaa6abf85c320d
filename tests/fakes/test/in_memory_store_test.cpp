#include <intelergy/fakes/in_memory_store.hpp>

#include <gtest/gtest.h>

namespace intelergy::fakes {
namespace {

using store::DeviceRow;
using store::EnergyBookRow;
using store::ProfileRow;
using store::ProfileUpdate;
using store::RoomRow;

class InMemoryStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(store_.add_user("alice"));
        ProfileRow p;
        p.user = "alice";
        p.name = "home";
        p.timezone = "Europe/Berlin";
        ASSERT_TRUE(store_.add_profile(p));
        ASSERT_TRUE(store_.add_room(RoomRow{"alice", "home", "kitchen", 0}));
    }

    static DeviceRow plug(std::string name, std::string mac) {
        DeviceRow d;
        d.id = "shelly-" + mac;
        d.user = "alice";
        d.profile = "home";
        d.room = "kitchen";
        d.name = std::move(name);
        d.mac = std::move(mac);
        d.generation = Generation::Gen2;
        d.model = "SNPL-00112EU";
        return d;
    }

    InMemoryStore store_;
};

TEST_F(InMemoryStoreTest, DuplicatesAndMissingParentsUsePgStoreWording) {
    auto u = store_.add_user("alice");
    ASSERT_FALSE(u);
    EXPECT_EQ(u.error().code, ErrorCode::Conflict);
    EXPECT_EQ(u.error().message, "user 'alice' already exists");

    ProfileRow p;
    p.user = "bob";
    p.name = "x";
    p.timezone = "UTC";
    auto np = store_.add_profile(p);
    ASSERT_FALSE(np);
    EXPECT_EQ(np.error().code, ErrorCode::NotFound);
    EXPECT_EQ(np.error().message, "user 'bob' not found");

    auto dr = store_.add_room(RoomRow{"alice", "home", "kitchen", 0});
    EXPECT_EQ(dr.error().message, "room 'alice/home/kitchen' already exists");
    auto nr = store_.add_room(RoomRow{"alice", "flat", "kitchen", 0});
    EXPECT_EQ(nr.error().message, "profile 'alice/flat' not found");
    EXPECT_EQ(store_.list_profiles("bob").error().code, ErrorCode::NotFound);
    EXPECT_EQ(store_.list_rooms("alice", "flat").error().code, ErrorCode::NotFound);
}

TEST_F(InMemoryStoreTest, OnlyEmptyParentsCanBeRemoved) {
    auto busy_user = store_.remove_user("alice");
    ASSERT_FALSE(busy_user);
    EXPECT_EQ(busy_user.error().code, ErrorCode::Conflict);
    EXPECT_EQ(busy_user.error().message, "user 'alice' still has 1 profile(s); remove them first");
    EXPECT_EQ(store_.remove_profile("alice", "home").error().message,
              "profile 'alice/home' still has 1 room(s); remove them first");

    ASSERT_TRUE(store_.add_device(plug("kettle", "aabbccddeeff")));
    const RoomRow kitchen{"alice", "home", "kitchen", 0};
    EXPECT_EQ(store_.remove_room(kitchen).error().message,
              "room 'alice/home/kitchen' still has 1 device(s); remove or move them first");
    ASSERT_TRUE(store_.remove_device("shelly-aabbccddeeff"));
    EXPECT_EQ(store_.remove_room(kitchen).error().message,
              "room 'alice/home/kitchen' holds the history of removed devices; it is kept");

    ASSERT_TRUE(store_.add_room(RoomRow{"alice", "home", "hall", 0}));
    EXPECT_TRUE(store_.remove_room(RoomRow{"alice", "home", "hall", 0}));
    EXPECT_EQ(store_.remove_room(RoomRow{"alice", "home", "hall", 0}).error().code,
              ErrorCode::NotFound);
}

TEST_F(InMemoryStoreTest, CountsAndOrderOfLists) {
    ASSERT_TRUE(store_.add_user("Zed"));
    ASSERT_TRUE(store_.add_user("bob"));
    const auto users = store_.list_users();
    ASSERT_TRUE(users);
    ASSERT_EQ(users->size(), 3U);
    EXPECT_EQ((*users)[0].name, "Zed");  // byte order, like the C collation
    EXPECT_EQ((*users)[1].name, "alice");
    EXPECT_EQ((*users)[1].profiles, 1);

    ASSERT_TRUE(store_.add_room(RoomRow{"alice", "home", "attic", 0}));
    ASSERT_TRUE(store_.add_device(plug("kettle", "aabbccddeeff")));
    const auto rooms = store_.list_rooms("alice", "home");
    ASSERT_EQ(rooms->size(), 2U);
    EXPECT_EQ((*rooms)[0].name, "attic");
    EXPECT_EQ((*rooms)[1].devices, 1);
    EXPECT_EQ((*store_.list_profiles("alice"))[0].rooms, 2);
}

TEST_F(InMemoryStoreTest, RenameRoomMovesItsDevicesAlongAndRejectsTakenNames) {
    ASSERT_TRUE(store_.add_device(plug("kettle", "aabbccddeeff")));
    const RoomRow kitchen{"alice", "home", "kitchen", 0};
    EXPECT_EQ(store_.rename_room(kitchen, "kitchen").error().code, ErrorCode::Conflict);
    ASSERT_TRUE(store_.rename_room(kitchen, "cuisine"));
    const auto devices = store_.list_devices();
    ASSERT_EQ(devices->size(), 1U);
    EXPECT_EQ((*devices)[0].path(), "alice/home/cuisine/kettle");
    EXPECT_EQ((*devices)[0].timezone, "Europe/Berlin");
}

TEST_F(InMemoryStoreTest, UpdateProfileChangesOnlyWhatIsGivenAndCanClearTheTariff) {
    ProfileUpdate u;
    u.tariff_per_kwh = std::optional<double>(0.3);
    u.currency = "EUR";
    auto p = store_.update_profile("alice", "home", u);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->timezone, "Europe/Berlin");
    EXPECT_EQ(p->tariff_per_kwh, 0.3);
    EXPECT_EQ(p->rooms, 1);
    ProfileUpdate clear;
    clear.tariff_per_kwh = std::optional<double>();
    p = store_.update_profile("alice", "home", clear);
    EXPECT_FALSE(p->tariff_per_kwh);
    EXPECT_EQ(p->currency, "EUR");
    EXPECT_EQ(store_.update_profile("alice", "flat", u).error().message,
              "profile 'alice/flat' not found");
}

TEST_F(InMemoryStoreTest, DevicesHaveUniqueActiveMacsAndNamesAndComeBackAfterRemoval) {
    ASSERT_TRUE(store_.add_device(plug("kettle", "aabbccddeeff")));
    auto same_mac = store_.add_device(plug("other", "aabbccddeeff"));
    ASSERT_FALSE(same_mac);
    EXPECT_EQ(same_mac.error().code, ErrorCode::Conflict);
    EXPECT_EQ(same_mac.error().message, "a device with MAC aabbccddeeff is already registered");
    auto same_name = store_.add_device(plug("kettle", "001122334455"));
    EXPECT_EQ(same_name.error().message, "device 'alice/home/kitchen/kettle' already exists");

    ASSERT_TRUE(store_.remove_device("shelly-aabbccddeeff"));
    EXPECT_EQ(store_.remove_device("shelly-aabbccddeeff").error().code, ErrorCode::NotFound);
    EXPECT_TRUE(store_.list_devices()->empty());
    EXPECT_FALSE(*store_.find_device_by_mac("aabbccddeeff"));
    // The name is free again among active devices, and the same plug re-activates its row.
    ASSERT_TRUE(store_.add_device(plug("kettle", "001122334455")));
    auto back = store_.add_device(plug("kettle2", "aabbccddeeff"));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->id, "shelly-aabbccddeeff");
    EXPECT_EQ(back->name, "kettle2");
    EXPECT_EQ(store_.list_devices()->size(), 2U);
    EXPECT_TRUE(*store_.find_device_by_mac("aabbccddeeff"));
}

TEST_F(InMemoryStoreTest, UpdateDeviceKeepsIdentityAndChecksTheTargetRoom) {
    ASSERT_TRUE(store_.add_device(plug("kettle", "aabbccddeeff")));
    ASSERT_TRUE(store_.add_room(RoomRow{"alice", "home", "hall", 0}));
    auto d = plug("lamp", "aabbccddeeff");
    d.room = "hall";
    d.model = "changed";
    d.poll_interval = std::chrono::seconds(30);
    auto out = store_.update_device(d);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->path(), "alice/home/hall/lamp");
    EXPECT_EQ(out->model, "SNPL-00112EU");
    EXPECT_EQ(out->poll_interval, std::chrono::seconds(30));
    d.room = "cellar";
    EXPECT_EQ(store_.update_device(d).error().code, ErrorCode::NotFound);
    auto ghost = plug("ghost", "000000000000");
    EXPECT_EQ(store_.update_device(ghost).error().message,
              "device 'shelly-000000000000' not found");
}

TEST_F(InMemoryStoreTest, EnergyBooksUpsertWithLifetimeNeverDecreasing) {
    ASSERT_TRUE(store_.add_device(plug("kettle", "aabbccddeeff")));
    EnergyBookRow b;
    b.device_id = "shelly-aabbccddeeff";
    b.channel = 0;
    b.last_raw_wh = 100;
    b.lifetime_wh = 500;
    ASSERT_TRUE(store_.save_energy_books({b}));
    b.last_raw_wh = 5;  // counter reset
    b.offset_wh = 100;
    b.lifetime_wh = 400;
    ASSERT_TRUE(store_.save_energy_books({b}));
    auto books = store_.load_energy_books();
    ASSERT_EQ(books->size(), 1U);
    EXPECT_EQ((*books)[0].lifetime_wh, 500);
    EXPECT_EQ((*books)[0].last_raw_wh, 5);
    EXPECT_EQ((*books)[0].offset_wh, 100);

    const auto before = store_.dump();
    EnergyBookRow stray = b;
    stray.device_id = "shelly-unknown";
    b.lifetime_wh = 900;
    auto bad = store_.save_energy_books({b, stray});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ErrorCode::Conflict);
    EXPECT_EQ(store_.dump(), before);  // all or nothing
}

TEST_F(InMemoryStoreTest, FailNextSimulatesAnOutageWithoutTouchingData) {
    const auto before = store_.dump();
    const auto writes = store_.mutations();
    store_.fail_next(InMemoryStore::outage(), 2);
    auto a = store_.add_user("bob");
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().code, ErrorCode::Unreachable);
    EXPECT_NE(a.error().message.find("database unreachable"), std::string::npos);
    EXPECT_FALSE(store_.list_users());
    EXPECT_TRUE(store_.list_users());
    EXPECT_EQ(store_.dump(), before);
    EXPECT_EQ(store_.mutations(), writes);

    store_.fail_always(make_error(ErrorCode::Internal, "boom"));
    EXPECT_FALSE(store_.list_users());
    EXPECT_FALSE(store_.list_users());
    store_.fail_always(std::nullopt);
    EXPECT_TRUE(store_.add_user("bob"));
    EXPECT_NE(store_.dump(), before);
}

}  // namespace
}  // namespace intelergy::fakes
