#pragma once

#include <memory>
#include <string>

#include "intelergy/store/credential_cipher.hpp"
#include "intelergy/store/store.hpp"

namespace intelergy::store {

struct SchemaStatus {
    int database_version{0};  // highest applied migration (0 = empty database)
    int binary_version{0};    // highest migration compiled in
    int applied_now{0};       // migrations applied by this call
};

// PostgreSQL implementation of Store. Opens its connection lazily and reconnects after a
// broken connection on the next call. Not thread-safe: one PgStore per thread.
class PgStore final : public Store {
public:
    // With a cipher, device passwords are written encrypted (CredentialCipher) and read back
    // decrypted; without one they are written as given. Plain values are read either way.
    explicit PgStore(std::string dsn, std::shared_ptr<const CredentialCipher> cipher = nullptr);
    ~PgStore() override;
    PgStore(const PgStore&) = delete;
    PgStore& operator=(const PgStore&) = delete;

    // Applies pending migrations, each in its own transaction, under an advisory lock so two
    // processes never migrate at once. Fails (Config) if the database is newer than the binary.
    Result<SchemaStatus> migrate();
    // Checks without changing anything: fails if the database is newer than this binary or
    // migrations are pending.
    Result<SchemaStatus> check_schema();
    // Makes sure monthly readings partitions exist from `from` for `months_ahead` months.
    Status ensure_partitions(SysTime from, int months_ahead);
    Status ping();

    Result<UserRow> add_user(const std::string& name) override;
    Status remove_user(const std::string& name) override;
    Result<std::vector<UserRow>> list_users() override;

    Result<ProfileRow> add_profile(const ProfileRow& profile) override;
    Result<ProfileRow> update_profile(const std::string& user, const std::string& name,
                                      const ProfileUpdate& update) override;
    Status remove_profile(const std::string& user, const std::string& name) override;
    Result<std::vector<ProfileRow>> list_profiles(const std::string& user) override;

    Result<RoomRow> add_room(const RoomRow& room) override;
    Status rename_room(const RoomRow& room, const std::string& to) override;
    Status remove_room(const RoomRow& room) override;
    Result<std::vector<RoomRow>> list_rooms(const std::string& user,
                                            const std::string& profile) override;

    Result<DeviceRow> add_device(const DeviceRow& device) override;
    Result<DeviceRow> update_device(const DeviceRow& device) override;
    Status remove_device(const std::string& id) override;
    Result<std::vector<DeviceRow>> list_devices() override;
    Result<std::optional<DeviceRow>> find_device_by_mac(const std::string& mac) override;

    Result<std::vector<EnergyBookRow>> load_energy_books() override;
    Status save_energy_books(const std::vector<EnergyBookRow>& books) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace intelergy::store
