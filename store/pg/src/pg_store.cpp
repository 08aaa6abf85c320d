#include "intelergy/store/pg_store.hpp"

#include <algorithm>
#include <pqxx/pqxx>

#include "intelergy/store/migrations.hpp"

namespace intelergy::store {

namespace {

constexpr long MIGRATION_LOCK_KEY = 0x696e74656c;  // "intel"

std::string pg_time(SysTime t) {
    // Epoch milliseconds → a timestamptz literal PostgreSQL parses exactly.
    const auto ms = t.time_since_epoch().count();
    return std::to_string(ms / 1000) + "." +
           std::to_string(1000 + (ms % 1000 + 1000) % 1000).substr(1);
}

template <typename T>
std::optional<T> opt(const pqxx::field& f) {
    if (f.is_null()) return std::nullopt;
    return f.as<T>();
}

const char* DEVICE_SELECT = R"SQL(
    SELECT d.id, u.name, p.name, r.name, d.name, d.mac, d.generation, d.model, d.firmware,
           d.shelly_id, d.transport, d.url, d.topic_prefix, d.username, d.password,
           d.poll_interval_s, d.enabled, d.channels, d.has_relay, p.timezone
      FROM devices d JOIN rooms r ON r.id = d.room_id JOIN profiles p ON p.id = r.profile_id
      JOIN users u ON u.id = p.user_id)SQL";

// The stored password made usable: decrypted, or cleared with credentials_error set.
void reveal_password(DeviceRow& d, const CredentialCipher* cipher) {
    if (!CredentialCipher::is_sealed(d.password)) return;
    if (cipher == nullptr) {
        d.password.clear();
        d.credentials_error =
            "stored password is encrypted but store.credentials_key_file is not set";
        return;
    }
    auto plain = cipher->open(d.password, d.id);
    if (plain) {
        d.password = std::move(*plain);
    } else {
        d.password.clear();
        d.credentials_error = plain.error().message;
    }
}

DeviceRow device_from(const pqxx::row& row, const CredentialCipher* cipher) {
    DeviceRow d;
    d.id = row[0].as<std::string>();
    d.user = row[1].as<std::string>();
    d.profile = row[2].as<std::string>();
    d.room = row[3].as<std::string>();
    d.name = row[4].as<std::string>();
    d.mac = row[5].as<std::string>();
    d.generation = static_cast<Generation>(row[6].as<int>());
    d.model = row[7].as<std::string>();
    d.firmware = row[8].as<std::string>();
    d.shelly_id = row[9].as<std::string>();
    d.transport = row[10].as<std::string>() == "mqtt" ? Transport::Mqtt : Transport::Http;
    d.url = row[11].as<std::string>();
    d.topic_prefix = row[12].as<std::string>();
    d.username = row[13].as<std::string>();
    d.password = row[14].as<std::string>();
    d.poll_interval = std::chrono::seconds(row[15].as<int>());
    d.enabled = row[16].as<bool>();
    d.channels = row[17].as<int>();
    d.has_relay = row[18].as<bool>();
    d.timezone = row[19].as<std::string>();
    reveal_password(d, cipher);
    return d;
}

}  // namespace

struct PgStore::Impl {
    std::string dsn;
    std::shared_ptr<const CredentialCipher> cipher;

    // The password as it goes into the devices table.
    Result<std::string> stored_password(const DeviceRow& d) const {
        if (!cipher) return d.password;
        return cipher->seal(d.password, d.id);
    }
    std::unique_ptr<pqxx::connection> conn;

    pqxx::connection& connection() {
        if (!conn || !conn->is_open()) conn = std::make_unique<pqxx::connection>(dsn);
        return *conn;
    }

    // Runs `fn` and translates libpqxx exceptions into Error values.
    template <typename Fn>
    auto run(const char* what, Fn&& fn) -> decltype(fn(std::declval<pqxx::connection&>())) {
        try {
            return fn(connection());
        } catch (const pqxx::broken_connection& e) {
            conn.reset();
            return make_error(ErrorCode::Unreachable, std::string("database unreachable: ") +
                                                          first_line(e.what()), what);
        } catch (const pqxx::unique_violation& e) {
            return make_error(ErrorCode::Conflict, first_line(e.what()), what);
        } catch (const pqxx::foreign_key_violation& e) {
            return make_error(ErrorCode::Conflict, first_line(e.what()), what);
        } catch (const pqxx::sql_error& e) {
            return make_error(ErrorCode::Internal, first_line(e.what()), what);
        } catch (const std::exception& e) {
            conn.reset();
            return make_error(ErrorCode::Internal, first_line(e.what()), what);
        }
    }

    // libpq quotes pieces of a malformed connection string in its parse errors (e.g.
    // `missing "=" after "secret" in connection info string` when an unquoted password holds a
    // space), so those quoted pieces are hidden: the DSN may carry a password.
    static std::string first_line(const std::string& s) {
        std::string line = s.substr(0, s.find('\n'));
        const bool conninfo_error = line.find("connection info string") != std::string::npos ||
                                    line.find("URI") != std::string::npos ||
                                    line.find("connection option") != std::string::npos ||
                                    line.find("percent-encoded") != std::string::npos;
        if (!conninfo_error) return line;
        std::string out;
        bool quoted = false;
        for (char c : line) {
            if (c == '"') {
                out += quoted ? "\"" : "\"(hidden)";
                quoted = !quoted;
            } else if (!quoted) {
                out += c;
            }
        }
        return out;
    }
};

PgStore::PgStore(std::string dsn, std::shared_ptr<const CredentialCipher> cipher)
    : impl_(std::make_unique<Impl>()) {
    impl_->dsn = std::move(dsn);
    impl_->cipher = std::move(cipher);
}
PgStore::~PgStore() = default;

Status PgStore::ping() {
    return impl_->run("ping", [](pqxx::connection& c) -> Status {
        pqxx::nontransaction tx(c);
        tx.exec("SELECT 1");
        return {};
    });
}

namespace {

int database_version(pqxx::transaction_base& tx) {
    tx.exec0(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
        "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
    return tx.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations")[0].as<int>();
}

int binary_version() {
    const auto& all = migrations();
    return all.empty() ? 0 : all.back().version;
}

Error newer_schema(int db, int bin) {
    return make_error(ErrorCode::Config,
                      "database schema version " + std::to_string(db) +
                          " is newer than this intelergy binary supports (" + std::to_string(bin) +
                          "); upgrade intelergy or point it at another database");
}

}  // namespace

Result<SchemaStatus> PgStore::migrate() {
    return impl_->run("migrate", [](pqxx::connection& c) -> Result<SchemaStatus> {
        SchemaStatus st;
        st.binary_version = binary_version();
        {
            pqxx::work tx(c);
            tx.exec_params("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY);
            st.database_version = database_version(tx);
            tx.commit();
        }
        Result<SchemaStatus> outcome = st;
        if (st.database_version > st.binary_version) {
            outcome = newer_schema(st.database_version, st.binary_version);
        } else {
            try {
                for (const auto& m : migrations()) {
                    if (m.version <= st.database_version) continue;
                    pqxx::work tx(c);
                    tx.exec(std::string(m.sql));
                    tx.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                   m.version, std::string(m.name));
                    tx.commit();
                    st.database_version = m.version;
                    ++st.applied_now;
                }
                outcome = st;
            } catch (...) {
                pqxx::nontransaction unlock(c);
                unlock.exec_params("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY);
                throw;
            }
        }
        pqxx::nontransaction unlock(c);
        unlock.exec_params("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY);
        return outcome;
    });
}

Result<SchemaStatus> PgStore::check_schema() {
    return impl_->run("check_schema", [](pqxx::connection& c) -> Result<SchemaStatus> {
        pqxx::read_transaction tx(c);
        SchemaStatus st;
        st.binary_version = binary_version();
        const auto exists =
            tx.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL")[0].as<bool>();
        st.database_version =
            exists ? tx.exec1("SELECT coalesce(max(version),0) FROM schema_migrations")[0].as<int>()
                   : 0;
        if (st.database_version > st.binary_version)
            return newer_schema(st.database_version, st.binary_version);
        if (st.database_version < st.binary_version)
            return make_error(ErrorCode::Config,
                              "database schema version " + std::to_string(st.database_version) +
                                  " needs migrating to " + std::to_string(st.binary_version) +
                                  "; run `intelergy db migrate`");
        return st;
    });
}

Status PgStore::ensure_partitions(SysTime from, int months_ahead) {
    return impl_->run("ensure_partitions", [&](pqxx::connection& c) -> Status {
        pqxx::work tx(c);
        tx.exec_params("SELECT intelergy_ensure_partitions(to_timestamp($1::double precision), $2)",
                       pg_time(from), months_ahead);
        tx.commit();
        return {};
    });
}

// ---- users ---------------------------------------------------------------------------------

namespace {

Error not_found(const std::string& what) {
    return make_error(ErrorCode::NotFound, what + " not found");
}

std::optional<long> user_id(pqxx::transaction_base& tx, const std::string& user) {
    const auto r = tx.exec_params("SELECT id FROM users WHERE name = $1", user);
    if (r.empty()) return std::nullopt;
    return r[0][0].as<long>();
}

std::optional<long> profile_id(pqxx::transaction_base& tx, const std::string& user,
                               const std::string& profile) {
    const auto r = tx.exec_params(
        "SELECT p.id FROM profiles p JOIN users u ON u.id = p.user_id "
        "WHERE u.name = $1 AND p.name = $2",
        user, profile);
    if (r.empty()) return std::nullopt;
    return r[0][0].as<long>();
}

std::optional<long> room_id(pqxx::transaction_base& tx, const std::string& user,
                            const std::string& profile, const std::string& room) {
    const auto r = tx.exec_params(
        "SELECT r.id FROM rooms r JOIN profiles p ON p.id = r.profile_id "
        "JOIN users u ON u.id = p.user_id WHERE u.name = $1 AND p.name = $2 AND r.name = $3",
        user, profile, room);
    if (r.empty()) return std::nullopt;
    return r[0][0].as<long>();
}

std::string q(const std::string& s) { return "'" + s + "'"; }

}  // namespace

Result<UserRow> PgStore::add_user(const std::string& name) {
    return impl_->run("user/add", [&](pqxx::connection& c) -> Result<UserRow> {
        pqxx::work tx(c);
        const auto r = tx.exec_params(
            "INSERT INTO users (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id", name);
        if (r.empty()) return make_error(ErrorCode::Conflict, "user " + q(name) + " already exists");
        tx.commit();
        return UserRow{name, 0};
    });
}

Status PgStore::remove_user(const std::string& name) {
    return impl_->run("user/remove", [&](pqxx::connection& c) -> Status {
        pqxx::work tx(c);
        const auto id = user_id(tx, name);
        if (!id) return not_found("user " + q(name));
        const auto n = tx.exec_params1("SELECT count(*) FROM profiles WHERE user_id = $1", *id)[0]
                           .as<long>();
        if (n > 0)
            return make_error(ErrorCode::Conflict, "user " + q(name) + " still has " +
                                                       std::to_string(n) +
                                                       " profile(s); remove them first");
        tx.exec_params0("DELETE FROM users WHERE id = $1", *id);
        tx.commit();
        return {};
    });
}

Result<std::vector<UserRow>> PgStore::list_users() {
    return impl_->run("user/list", [&](pqxx::connection& c) -> Result<std::vector<UserRow>> {
        pqxx::read_transaction tx(c);
        std::vector<UserRow> out;
        for (const auto& row : tx.exec(
                 "SELECT u.name, (SELECT count(*) FROM profiles p WHERE p.user_id = u.id) "
                 "FROM users u ORDER BY u.name"))
            out.push_back({row[0].as<std::string>(), row[1].as<int>()});
        return out;
    });
}

// ---- profiles ------------------------------------------------------------------------------

namespace {

const char* PROFILE_SELECT =
    "SELECT u.name, p.name, p.timezone, p.tariff_per_kwh, coalesce(p.currency, ''), "
    "(SELECT count(*) FROM rooms r WHERE r.profile_id = p.id) "
    "FROM profiles p JOIN users u ON u.id = p.user_id ";

ProfileRow profile_from(const pqxx::row& row) {
    return ProfileRow{row[0].as<std::string>(), row[1].as<std::string>(),
                      row[2].as<std::string>(), opt<double>(row[3]),
                      row[4].as<std::string>(),  row[5].as<int>()};
}

}  // namespace

Result<ProfileRow> PgStore::add_profile(const ProfileRow& p) {
    return impl_->run("profile/add", [&](pqxx::connection& c) -> Result<ProfileRow> {
        pqxx::work tx(c);
        const auto uid = user_id(tx, p.user);
        if (!uid) return not_found("user " + q(p.user));
        const auto r = tx.exec_params(
            "INSERT INTO profiles (user_id, name, timezone, tariff_per_kwh, currency) "
            "VALUES ($1, $2, $3, $4, nullif($5, '')) ON CONFLICT (user_id, name) DO NOTHING "
            "RETURNING id",
            *uid, p.name, p.timezone, p.tariff_per_kwh, p.currency);
        if (r.empty())
            return make_error(ErrorCode::Conflict,
                              "profile " + q(p.user + "/" + p.name) + " already exists");
        tx.commit();
        ProfileRow out = p;
        out.rooms = 0;
        return out;
    });
}

Result<ProfileRow> PgStore::update_profile(const std::string& user, const std::string& name,
                                           const ProfileUpdate& u) {
    return impl_->run("profile/update", [&](pqxx::connection& c) -> Result<ProfileRow> {
        pqxx::work tx(c);
        const auto pid = profile_id(tx, user, name);
        if (!pid) return not_found("profile " + q(user + "/" + name));
        if (u.timezone)
            tx.exec_params0("UPDATE profiles SET timezone = $2 WHERE id = $1", *pid, *u.timezone);
        if (u.tariff_per_kwh)
            tx.exec_params0("UPDATE profiles SET tariff_per_kwh = $2 WHERE id = $1", *pid,
                            *u.tariff_per_kwh);
        if (u.currency)
            tx.exec_params0("UPDATE profiles SET currency = nullif($2, '') WHERE id = $1", *pid,
                            *u.currency);
        const auto row = tx.exec_params1(std::string(PROFILE_SELECT) + "WHERE p.id = $1", *pid);
        tx.commit();
        return profile_from(row);
    });
}

Status PgStore::remove_profile(const std::string& user, const std::string& name) {
    return impl_->run("profile/remove", [&](pqxx::connection& c) -> Status {
        pqxx::work tx(c);
        const auto pid = profile_id(tx, user, name);
        if (!pid) return not_found("profile " + q(user + "/" + name));
        const auto n =
            tx.exec_params1("SELECT count(*) FROM rooms WHERE profile_id = $1", *pid)[0].as<long>();
        if (n > 0)
            return make_error(ErrorCode::Conflict, "profile " + q(user + "/" + name) +
                                                       " still has " + std::to_string(n) +
                                                       " room(s); remove them first");
        tx.exec_params0("DELETE FROM profiles WHERE id = $1", *pid);
        tx.commit();
        return {};
    });
}

Result<std::vector<ProfileRow>> PgStore::list_profiles(const std::string& user) {
    return impl_->run("profile/list", [&](pqxx::connection& c) -> Result<std::vector<ProfileRow>> {
        pqxx::read_transaction tx(c);
        if (!user_id(tx, user)) return not_found("user " + q(user));
        std::vector<ProfileRow> out;
        for (const auto& row : tx.exec_params(
                 std::string(PROFILE_SELECT) + "WHERE u.name = $1 ORDER BY p.name", user))
            out.push_back(profile_from(row));
        return out;
    });
}

// ---- rooms ---------------------------------------------------------------------------------

Result<RoomRow> PgStore::add_room(const RoomRow& room) {
    return impl_->run("room/add", [&](pqxx::connection& c) -> Result<RoomRow> {
        pqxx::work tx(c);
        const auto pid = profile_id(tx, room.user, room.profile);
        if (!pid) return not_found("profile " + q(room.user + "/" + room.profile));
        const auto r = tx.exec_params(
            "INSERT INTO rooms (profile_id, name) VALUES ($1, $2) "
            "ON CONFLICT (profile_id, name) DO NOTHING RETURNING id",
            *pid, room.name);
        if (r.empty())
            return make_error(ErrorCode::Conflict,
                              "room " + q(room.user + "/" + room.profile + "/" + room.name) +
                                  " already exists");
        tx.commit();
        RoomRow out = room;
        out.devices = 0;
        return out;
    });
}

Status PgStore::rename_room(const RoomRow& room, const std::string& to) {
    return impl_->run("room/rename", [&](pqxx::connection& c) -> Status {
        pqxx::work tx(c);
        const std::string path = room.user + "/" + room.profile + "/";
        const auto rid = room_id(tx, room.user, room.profile, room.name);
        if (!rid) return not_found("room " + q(path + room.name));
        if (room_id(tx, room.user, room.profile, to))
            return make_error(ErrorCode::Conflict, "room " + q(path + to) + " already exists");
        tx.exec_params0("UPDATE rooms SET name = $2 WHERE id = $1", *rid, to);
        tx.commit();
        return {};
    });
}

Status PgStore::remove_room(const RoomRow& room) {
    return impl_->run("room/remove", [&](pqxx::connection& c) -> Status {
        pqxx::work tx(c);
        const std::string path = room.user + "/" + room.profile + "/" + room.name;
        const auto rid = room_id(tx, room.user, room.profile, room.name);
        if (!rid) return not_found("room " + q(path));
        const auto n = tx.exec_params1(
                             "SELECT count(*) FROM devices WHERE room_id = $1 AND removed_at IS NULL",
                             *rid)[0]
                           .as<long>();
        if (n > 0)
            return make_error(ErrorCode::Conflict, "room " + q(path) + " still has " +
                                                       std::to_string(n) +
                                                       " device(s); remove or move them first");
        const auto removed =
            tx.exec_params1("SELECT count(*) FROM devices WHERE room_id = $1", *rid)[0].as<long>();
        if (removed > 0)
            return make_error(ErrorCode::Conflict,
                              "room " + q(path) +
                                  " holds the history of removed devices; it is kept");
        tx.exec_params0("DELETE FROM rooms WHERE id = $1", *rid);
        tx.commit();
        return {};
    });
}

Result<std::vector<RoomRow>> PgStore::list_rooms(const std::string& user,
                                                 const std::string& profile) {
    return impl_->run("room/list", [&](pqxx::connection& c) -> Result<std::vector<RoomRow>> {
        pqxx::read_transaction tx(c);
        const auto pid = profile_id(tx, user, profile);
        if (!pid) return not_found("profile " + q(user + "/" + profile));
        std::vector<RoomRow> out;
        for (const auto& row : tx.exec_params(
                 "SELECT r.name, (SELECT count(*) FROM devices d WHERE d.room_id = r.id AND "
                 "d.removed_at IS NULL) FROM rooms r WHERE r.profile_id = $1 ORDER BY r.name",
                 *pid))
            out.push_back({user, profile, row[0].as<std::string>(), row[1].as<int>()});
        return out;
    });
}

// ---- devices -------------------------------------------------------------------------------

Result<DeviceRow> PgStore::add_device(const DeviceRow& d) {
    return impl_->run("device/add", [&](pqxx::connection& c) -> Result<DeviceRow> {
        pqxx::work tx(c);
        const auto rid = room_id(tx, d.user, d.profile, d.room);
        if (!rid) return not_found("room " + q(d.user + "/" + d.profile + "/" + d.room));
        const auto existing =
            tx.exec_params("SELECT removed_at IS NULL FROM devices WHERE id = $1 OR mac = $2",
                           d.id, d.mac);
        if (!existing.empty() && existing[0][0].as<bool>())
            return make_error(ErrorCode::Conflict,
                              "a device with MAC " + d.mac + " is already registered");
        const auto dup = tx.exec_params(
            "SELECT 1 FROM devices WHERE room_id = $1 AND name = $2 AND removed_at IS NULL", *rid,
            d.name);
        if (!dup.empty())
            return make_error(ErrorCode::Conflict, "device " + q(d.path()) + " already exists");
        const auto password = impl_->stored_password(d);
        if (!password) return password.error();
        tx.exec_params0(
            "INSERT INTO devices (id, room_id, name, mac, generation, model, firmware, shelly_id, "
            "transport, url, topic_prefix, username, password, poll_interval_s, enabled, "
            "channels, has_relay) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,"
            "$17) ON CONFLICT (id) DO UPDATE SET room_id = EXCLUDED.room_id, name = "
            "EXCLUDED.name, generation = EXCLUDED.generation, model = EXCLUDED.model, firmware = "
            "EXCLUDED.firmware, shelly_id = EXCLUDED.shelly_id, transport = EXCLUDED.transport, "
            "url = EXCLUDED.url, topic_prefix = EXCLUDED.topic_prefix, username = "
            "EXCLUDED.username, password = EXCLUDED.password, poll_interval_s = "
            "EXCLUDED.poll_interval_s, enabled = EXCLUDED.enabled, channels = EXCLUDED.channels, "
            "has_relay = EXCLUDED.has_relay, removed_at = NULL",
            d.id, *rid, d.name, d.mac, static_cast<int>(d.generation), d.model, d.firmware,
            d.shelly_id, std::string(to_string(d.transport)), d.url, d.topic_prefix, d.username,
            *password, static_cast<int>(d.poll_interval.count()), d.enabled, d.channels,
            d.has_relay);
        const auto row = tx.exec_params1(std::string(DEVICE_SELECT) + " WHERE d.id = $1", d.id);
        tx.commit();
        return device_from(row, impl_->cipher.get());
    });
}

Result<DeviceRow> PgStore::update_device(const DeviceRow& d) {
    return impl_->run("device/update", [&](pqxx::connection& c) -> Result<DeviceRow> {
        pqxx::work tx(c);
        const auto rid = room_id(tx, d.user, d.profile, d.room);
        if (!rid) return not_found("room " + q(d.user + "/" + d.profile + "/" + d.room));
        const auto dup = tx.exec_params(
            "SELECT 1 FROM devices WHERE room_id = $1 AND name = $2 AND removed_at IS NULL "
            "AND id <> $3",
            *rid, d.name, d.id);
        if (!dup.empty())
            return make_error(ErrorCode::Conflict, "device " + q(d.path()) + " already exists");
        // A password that could not be read back is kept as stored unless a new one is given.
        const bool keep_password = !d.credentials_error.empty();
        const auto password = keep_password ? Result<std::string>(std::string())
                                            : impl_->stored_password(d);
        if (!password) return password.error();
        const auto r = tx.exec_params(
            "UPDATE devices SET room_id = $2, name = $3, url = $4, topic_prefix = $5, "
            "username = $6, password = CASE WHEN $11 THEN password ELSE $7 END, "
            "poll_interval_s = $8, enabled = $9, firmware = $10 "
            "WHERE id = $1 AND removed_at IS NULL RETURNING id",
            d.id, *rid, d.name, d.url, d.topic_prefix, d.username, *password,
            static_cast<int>(d.poll_interval.count()), d.enabled, d.firmware, keep_password);
        if (r.empty()) return not_found("device " + q(d.id));
        const auto row = tx.exec_params1(std::string(DEVICE_SELECT) + " WHERE d.id = $1", d.id);
        tx.commit();
        return device_from(row, impl_->cipher.get());
    });
}

Status PgStore::remove_device(const std::string& id) {
    return impl_->run("device/remove", [&](pqxx::connection& c) -> Status {
        pqxx::work tx(c);
        const auto r = tx.exec_params(
            "UPDATE devices SET removed_at = now() WHERE id = $1 AND removed_at IS NULL "
            "RETURNING id",
            id);
        if (r.empty()) return not_found("device " + q(id));
        tx.commit();
        return {};
    });
}

Result<std::vector<DeviceRow>> PgStore::list_devices() {
    return impl_->run("device/list", [&](pqxx::connection& c) -> Result<std::vector<DeviceRow>> {
        pqxx::read_transaction tx(c);
        std::vector<DeviceRow> out;
        for (const auto& row : tx.exec(std::string(DEVICE_SELECT) +
                                       " WHERE d.removed_at IS NULL ORDER BY u.name, p.name, "
                                       "r.name, d.name"))
            out.push_back(device_from(row, impl_->cipher.get()));
        return out;
    });
}

Result<std::optional<DeviceRow>> PgStore::find_device_by_mac(const std::string& mac) {
    return impl_->run("device/find",
                      [&](pqxx::connection& c) -> Result<std::optional<DeviceRow>> {
                          pqxx::read_transaction tx(c);
                          const auto r = tx.exec_params(
                              std::string(DEVICE_SELECT) +
                                  " WHERE d.mac = $1 AND d.removed_at IS NULL",
                              mac);
                          if (r.empty()) return std::optional<DeviceRow>{};
                          return std::optional<DeviceRow>{device_from(r[0], impl_->cipher.get())};
                      });
}

// ---- energy books --------------------------------------------------------------------------

Result<std::vector<EnergyBookRow>> PgStore::load_energy_books() {
    return impl_->run("energy/load", [&](pqxx::connection& c) -> Result<std::vector<EnergyBookRow>> {
        pqxx::read_transaction tx(c);
        std::vector<EnergyBookRow> out;
        for (const auto& row : tx.exec(
                 "SELECT device_id, channel, last_raw_wh, offset_wh, lifetime_wh, "
                 "(extract(epoch FROM last_ts) * 1000)::bigint, pending_rejects FROM energy_books")) {
            EnergyBookRow b;
            b.device_id = row[0].as<std::string>();
            b.channel = row[1].as<int>();
            b.last_raw_wh = opt<double>(row[2]);
            b.offset_wh = row[3].as<double>();
            b.lifetime_wh = row[4].as<double>();
            if (!row[5].is_null()) b.last_ts = SysTime(std::chrono::milliseconds(row[5].as<long>()));
            b.pending_rejects = row[6].as<int>();
            out.push_back(std::move(b));
        }
        return out;
    });
}

Status PgStore::save_energy_books(const std::vector<EnergyBookRow>& books) {
    if (books.empty()) return {};
    return impl_->run("energy/save", [&](pqxx::connection& c) -> Status {
        pqxx::work tx(c);
        for (const auto& b : books) {
            const std::optional<std::string> ts =
                b.last_ts ? std::optional<std::string>(pg_time(*b.last_ts)) : std::nullopt;
            tx.exec_params0(
                "INSERT INTO energy_books (device_id, channel, last_raw_wh, offset_wh, "
                "lifetime_wh, last_ts, pending_rejects, updated_at) VALUES ($1, $2, $3, $4, $5, "
                "to_timestamp($6::double precision), $7, now()) ON CONFLICT (device_id, channel) "
                "DO UPDATE SET last_raw_wh = EXCLUDED.last_raw_wh, offset_wh = "
                "EXCLUDED.offset_wh, lifetime_wh = greatest(energy_books.lifetime_wh, "
                "EXCLUDED.lifetime_wh), last_ts = EXCLUDED.last_ts, pending_rejects = "
                "EXCLUDED.pending_rejects, updated_at = now()",
                b.device_id, b.channel, b.last_raw_wh, b.offset_wh, b.lifetime_wh, ts,
                b.pending_rejects);
        }
        tx.commit();
        return {};
    });
}

}  // namespace intelergy::store
