#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "intelergy/core/reading.hpp"
#include "intelergy/core/result.hpp"

namespace intelergy::store {

struct UserRow {
    std::string name;
    int profiles{0};
};

struct ProfileRow {
    std::string user;
    std::string name;
    std::string timezone;
    std::optional<double> tariff_per_kwh;
    std::string currency;
    int rooms{0};
};

struct RoomRow {
    std::string user;
    std::string profile;
    std::string name;
    int devices{0};
};

enum class Transport { Http, Mqtt };
const char* to_string(Transport t) noexcept;

struct DeviceRow {
    std::string id;  // "shelly-<mac lower>"
    std::string user, profile, room, name;
    std::string mac;
    Generation generation{Generation::Gen1};
    std::string model;
    std::string firmware;
    std::string shelly_id;
    Transport transport{Transport::Http};
    std::string url;
    std::string topic_prefix;
    std::string username;
    std::string password;  // never logged or published
    // Set when the stored password could not be read back (encrypted with another key, no key
    // configured, damaged): `password` is then empty and the device is not polled. Writing
    // the row keeps the stored value unless a new password is given (clear this field).
    std::string credentials_error;
    std::chrono::seconds poll_interval{10};
    bool enabled{true};
    int channels{1};
    bool has_relay{true};
    std::string timezone;  // the profile's, for rollups and "today"

    [[nodiscard]] std::string path() const { return user + "/" + profile + "/" + room + "/" + name; }
};

struct ProfileUpdate {
    std::optional<std::string> timezone;
    std::optional<std::optional<double>> tariff_per_kwh;  // engaged+nullopt clears
    std::optional<std::string> currency;
};

// Persistent per-channel energy book (see drivers::CounterState).
struct EnergyBookRow {
    std::string device_id;
    int channel{0};
    std::optional<double> last_raw_wh;
    double offset_wh{0};
    double lifetime_wh{0};
    std::optional<SysTime> last_ts;
    int pending_rejects{0};
};

// Hierarchy and device registry (real: PgStore; fake: tests/fakes InMemoryStore).
// Blocking; not thread-safe: one instance per thread. Errors: NotFound for a missing parent or
// item, Conflict for a duplicate or a non-empty parent on removal, Unreachable when the
// database is down, Internal otherwise. Every mutation is one transaction: all or nothing.
class Store {
public:
    virtual ~Store() = default;

    virtual Result<UserRow> add_user(const std::string& name) = 0;
    virtual Status remove_user(const std::string& name) = 0;
    virtual Result<std::vector<UserRow>> list_users() = 0;

    virtual Result<ProfileRow> add_profile(const ProfileRow& profile) = 0;
    virtual Result<ProfileRow> update_profile(const std::string& user, const std::string& name,
                                              const ProfileUpdate& update) = 0;
    virtual Status remove_profile(const std::string& user, const std::string& name) = 0;
    virtual Result<std::vector<ProfileRow>> list_profiles(const std::string& user) = 0;

    virtual Result<RoomRow> add_room(const RoomRow& room) = 0;
    virtual Status rename_room(const RoomRow& room, const std::string& to) = 0;
    virtual Status remove_room(const RoomRow& room) = 0;
    virtual Result<std::vector<RoomRow>> list_rooms(const std::string& user,
                                                    const std::string& profile) = 0;

    // Devices. add_device re-activates a soft-removed device with the same id.
    virtual Result<DeviceRow> add_device(const DeviceRow& device) = 0;
    virtual Result<DeviceRow> update_device(const DeviceRow& device) = 0;  // by id
    virtual Status remove_device(const std::string& id) = 0;               // soft
    virtual Result<std::vector<DeviceRow>> list_devices() = 0;             // active only
    virtual Result<std::optional<DeviceRow>> find_device_by_mac(const std::string& mac) = 0;

    virtual Result<std::vector<EnergyBookRow>> load_energy_books() = 0;
    virtual Status save_energy_books(const std::vector<EnergyBookRow>& books) = 0;
};

}  // namespace intelergy::store
