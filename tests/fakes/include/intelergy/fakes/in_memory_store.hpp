#pragma once

#include "intelergy/store/store.hpp"

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace intelergy::fakes {

// store::Store in memory, with PgStore's semantics and error messages (store/pg/src/pg_store.cpp):
// NotFound "<kind> '<path>' not found"; Conflict for duplicates, for removing a user/profile/room
// that still has children (a room that holds removed devices' history is kept too), for a MAC
// already registered to an active device and for a device name taken in its room; soft-removed
// devices are re-activated by add_device with the same id; energy books are upserted with
// lifetime = max(old, new) and must reference a known device. Every mutation is all or nothing.
//
// fail_next() makes the next `times` calls fail with the given error before touching any data
// (a database outage); fail_always() keeps failing until cleared. Unlike PgStore, an instance may
// be shared between threads (calls are serialised), so a test can inspect it while a worker uses
// it.
class InMemoryStore final : public store::Store {
public:
    InMemoryStore() = default;
    InMemoryStore(const InMemoryStore&) = delete;
    InMemoryStore& operator=(const InMemoryStore&) = delete;

    Result<store::UserRow> add_user(const std::string& name) override;
    Status remove_user(const std::string& name) override;
    Result<std::vector<store::UserRow>> list_users() override;

    Result<store::ProfileRow> add_profile(const store::ProfileRow& profile) override;
    Result<store::ProfileRow> update_profile(const std::string& user, const std::string& name,
                                             const store::ProfileUpdate& update) override;
    Status remove_profile(const std::string& user, const std::string& name) override;
    Result<std::vector<store::ProfileRow>> list_profiles(const std::string& user) override;

    Result<store::RoomRow> add_room(const store::RoomRow& room) override;
    Status rename_room(const store::RoomRow& room, const std::string& to) override;
    Status remove_room(const store::RoomRow& room) override;
    Result<std::vector<store::RoomRow>> list_rooms(const std::string& user,
                                                   const std::string& profile) override;

    Result<store::DeviceRow> add_device(const store::DeviceRow& device) override;
    Result<store::DeviceRow> update_device(const store::DeviceRow& device) override;
    Status remove_device(const std::string& id) override;
    Result<std::vector<store::DeviceRow>> list_devices() override;
    Result<std::optional<store::DeviceRow>> find_device_by_mac(const std::string& mac) override;

    Result<std::vector<store::EnergyBookRow>> load_energy_books() override;
    Status save_energy_books(const std::vector<store::EnergyBookRow>& books) override;

    // --- test knobs -------------------------------------------------------------------------
    void fail_next(Error error, std::size_t times = 1);
    void fail_always(std::optional<Error> error);  // nullopt: healthy again
    // What PgStore returns when PostgreSQL is down.
    static Error outage(std::string_view what = "user/list");

    // Deterministic text of everything stored (including soft-removed devices and books), for
    // "nothing was written" assertions: EXPECT_EQ(store.dump(), before).
    [[nodiscard]] std::string dump() const;
    [[nodiscard]] std::size_t calls() const;      // Store calls so far, failed ones included
    [[nodiscard]] std::size_t mutations() const;  // successful writes so far

private:
    struct User {
        long id;
        std::string name;
    };
    struct Profile {
        long id;
        long user_id;
        std::string name;
        std::string timezone;
        std::optional<double> tariff_per_kwh;
        std::string currency;
    };
    struct Room {
        long id;
        long profile_id;
        std::string name;
    };
    struct Device {
        store::DeviceRow row;  // hierarchy names and timezone are filled on read
        long room_id;
        bool removed{false};
    };

    std::optional<Error> begin_call();  // counts the call; returns an injected failure
    const User* user_by_name(const std::string& name) const;
    const Profile* profile_by_name(const std::string& user, const std::string& name) const;
    const Room* room_by_name(const std::string& user, const std::string& profile,
                             const std::string& name) const;
    store::ProfileRow profile_row(const Profile& p) const;
    store::DeviceRow device_row(const Device& d) const;
    int active_devices_in(long room_id) const;

    mutable std::mutex mutex_;
    long next_id_{1};
    std::map<long, User> users_;
    std::map<long, Profile> profiles_;
    std::map<long, Room> rooms_;
    std::map<std::string, Device> devices_;  // by id
    std::map<std::pair<std::string, int>, store::EnergyBookRow> books_;
    std::optional<Error> fail_error_;
    std::size_t fail_times_{0};
    bool fail_always_{false};
    std::size_t calls_{0};
    std::size_t mutations_{0};
};

}  // namespace intelergy::fakes
