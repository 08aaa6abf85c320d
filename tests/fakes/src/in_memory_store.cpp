#include "intelergy/fakes/in_memory_store.hpp"

#include <algorithm>
#include <sstream>
#include <tuple>

namespace intelergy::fakes {

using store::DeviceRow;
using store::EnergyBookRow;
using store::ProfileRow;
using store::ProfileUpdate;
using store::RoomRow;
using store::UserRow;

namespace {

// The same wording as PgStore, so tests of error responses hold against both.
std::string q(const std::string& s) { return "'" + s + "'"; }

Error not_found(const std::string& what) {
    return make_error(ErrorCode::NotFound, what + " not found");
}

Error conflict(std::string message) { return make_error(ErrorCode::Conflict, std::move(message)); }

// PostgreSQL's CHECK constraints on devices surface from PgStore as Internal sql errors.
std::optional<Error> device_checks(const DeviceRow& d) {
    const auto gen = static_cast<int>(d.generation);
    const auto poll = d.poll_interval.count();
    if (gen < 1 || gen > 9 || poll < 1 || poll > 86400 || d.channels < 1 || d.channels > 16)
        return make_error(ErrorCode::Internal,
                          "ERROR:  new row for relation \"devices\" violates check constraint");
    return std::nullopt;
}

}  // namespace

std::optional<Error> InMemoryStore::begin_call() {
    ++calls_;
    if (fail_always_ && fail_error_) return fail_error_;
    if (fail_times_ > 0 && fail_error_) {
        --fail_times_;
        auto e = fail_error_;
        if (fail_times_ == 0) fail_error_.reset();
        return e;
    }
    return std::nullopt;
}

void InMemoryStore::fail_next(Error error, std::size_t times) {
    std::lock_guard lock(mutex_);
    fail_always_ = false;
    fail_error_ = std::move(error);
    fail_times_ = times;
}

void InMemoryStore::fail_always(std::optional<Error> error) {
    std::lock_guard lock(mutex_);
    fail_always_ = error.has_value();
    fail_error_ = std::move(error);
    fail_times_ = 0;
}

Error InMemoryStore::outage(std::string_view what) {
    return make_error(ErrorCode::Unreachable,
                      "database unreachable: connection to server failed: Connection refused",
                      std::string(what));
}

std::size_t InMemoryStore::calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
}

std::size_t InMemoryStore::mutations() const {
    std::lock_guard lock(mutex_);
    return mutations_;
}

// ---- lookups (caller holds the lock) --------------------------------------------------------

const InMemoryStore::User* InMemoryStore::user_by_name(const std::string& name) const {
    for (const auto& [id, u] : users_)
        if (u.name == name) return &u;
    return nullptr;
}

const InMemoryStore::Profile* InMemoryStore::profile_by_name(const std::string& user,
                                                             const std::string& name) const {
    const auto* u = user_by_name(user);
    if (!u) return nullptr;
    for (const auto& [id, p] : profiles_)
        if (p.user_id == u->id && p.name == name) return &p;
    return nullptr;
}

const InMemoryStore::Room* InMemoryStore::room_by_name(const std::string& user,
                                                       const std::string& profile,
                                                       const std::string& name) const {
    const auto* p = profile_by_name(user, profile);
    if (!p) return nullptr;
    for (const auto& [id, r] : rooms_)
        if (r.profile_id == p->id && r.name == name) return &r;
    return nullptr;
}

ProfileRow InMemoryStore::profile_row(const Profile& p) const {
    ProfileRow row;
    row.user = users_.at(p.user_id).name;
    row.name = p.name;
    row.timezone = p.timezone;
    row.tariff_per_kwh = p.tariff_per_kwh;
    row.currency = p.currency;
    row.rooms = static_cast<int>(std::count_if(
        rooms_.begin(), rooms_.end(), [&](const auto& r) { return r.second.profile_id == p.id; }));
    return row;
}

DeviceRow InMemoryStore::device_row(const Device& d) const {
    DeviceRow row = d.row;
    const auto& room = rooms_.at(d.room_id);
    const auto& profile = profiles_.at(room.profile_id);
    row.room = room.name;
    row.profile = profile.name;
    row.user = users_.at(profile.user_id).name;
    row.timezone = profile.timezone;
    return row;
}

int InMemoryStore::active_devices_in(long room_id) const {
    return static_cast<int>(std::count_if(devices_.begin(), devices_.end(), [&](const auto& d) {
        return d.second.room_id == room_id && !d.second.removed;
    }));
}

// ---- users ---------------------------------------------------------------------------------

Result<UserRow> InMemoryStore::add_user(const std::string& name) {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    if (user_by_name(name)) return conflict("user " + q(name) + " already exists");
    const long id = next_id_++;
    users_.emplace(id, User{id, name});
    ++mutations_;
    return UserRow{name, 0};
}

Status InMemoryStore::remove_user(const std::string& name) {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    const auto* u = user_by_name(name);
    if (!u) return not_found("user " + q(name));
    const auto n = std::count_if(profiles_.begin(), profiles_.end(),
                                 [&](const auto& p) { return p.second.user_id == u->id; });
    if (n > 0)
        return conflict("user " + q(name) + " still has " + std::to_string(n) +
                        " profile(s); remove them first");
    users_.erase(u->id);
    ++mutations_;
    return {};
}

Result<std::vector<UserRow>> InMemoryStore::list_users() {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    std::vector<UserRow> out;
    for (const auto& [id, u] : users_) {
        const auto n = std::count_if(profiles_.begin(), profiles_.end(),
                                     [&, id = id](const auto& p) { return p.second.user_id == id; });
        out.push_back({u.name, static_cast<int>(n)});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

// ---- profiles ------------------------------------------------------------------------------

Result<ProfileRow> InMemoryStore::add_profile(const ProfileRow& p) {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    const auto* u = user_by_name(p.user);
    if (!u) return not_found("user " + q(p.user));
    if (profile_by_name(p.user, p.name))
        return conflict("profile " + q(p.user + "/" + p.name) + " already exists");
    const long id = next_id_++;
    profiles_.emplace(id, Profile{id, u->id, p.name, p.timezone, p.tariff_per_kwh, p.currency});
    ++mutations_;
    ProfileRow out = p;
    out.rooms = 0;
    return out;
}

Result<ProfileRow> InMemoryStore::update_profile(const std::string& user, const std::string& name,
                                                 const ProfileUpdate& u) {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    const auto* found = profile_by_name(user, name);
    if (!found) return not_found("profile " + q(user + "/" + name));
    auto& p = profiles_.at(found->id);
    if (u.timezone) p.timezone = *u.timezone;
    if (u.tariff_per_kwh) p.tariff_per_kwh = *u.tariff_per_kwh;
    if (u.currency) p.currency = *u.currency;
    ++mutations_;
    return profile_row(p);
}

Status InMemoryStore::remove_profile(const std::string& user, const std::string& name) {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    const auto* p = profile_by_name(user, name);
    if (!p) return not_found("profile " + q(user + "/" + name));
    const auto n = std::count_if(rooms_.begin(), rooms_.end(),
                                 [&](const auto& r) { return r.second.profile_id == p->id; });
    if (n > 0)
        return conflict("profile " + q(user + "/" + name) + " still has " + std::to_string(n) +
                        " room(s); remove them first");
    profiles_.erase(p->id);
    ++mutations_;
    return {};
}

Result<std::vector<ProfileRow>> InMemoryStore::list_profiles(const std::string& user) {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    const auto* u = user_by_name(user);
    if (!u) return not_found("user " + q(user));
    std::vector<ProfileRow> out;
    for (const auto& [id, p] : profiles_)
        if (p.user_id == u->id) out.push_back(profile_row(p));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

// ---- rooms ---------------------------------------------------------------------------------

Result<RoomRow> InMemoryStore::add_room(const RoomRow& room) {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    const auto* p = profile_by_name(room.user, room.profile);
    if (!p) return not_found("profile " + q(room.user + "/" + room.profile));
    if (room_by_name(room.user, room.profile, room.name))
        return conflict("room " + q(room.user + "/" + room.profile + "/" + room.name) +
                        " already exists");
    const long id = next_id_++;
    rooms_.emplace(id, Room{id, p->id, room.name});
    ++mutations_;
    RoomRow out = room;
    out.devices = 0;
    return out;
}

Status InMemoryStore::rename_room(const RoomRow& room, const std::string& to) {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    const std::string path = room.user + "/" + room.profile + "/";
    const auto* r = room_by_name(room.user, room.profile, room.name);
    if (!r) return not_found("room " + q(path + room.name));
    // As in PgStore, renaming to the current name is a conflict with itself.
    if (room_by_name(room.user, room.profile, to))
        return conflict("room " + q(path + to) + " already exists");
    rooms_.at(r->id).name = to;
    ++mutations_;
    return {};
}

Status InMemoryStore::remove_room(const RoomRow& room) {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    const std::string path = room.user + "/" + room.profile + "/" + room.name;
    const auto* r = room_by_name(room.user, room.profile, room.name);
    if (!r) return not_found("room " + q(path));
    const int n = active_devices_in(r->id);
    if (n > 0)
        return conflict("room " + q(path) + " still has " + std::to_string(n) +
                        " device(s); remove or move them first");
    const bool history = std::any_of(devices_.begin(), devices_.end(),
                                     [&](const auto& d) { return d.second.room_id == r->id; });
    if (history)
        return conflict("room " + q(path) + " holds the history of removed devices; it is kept");
    rooms_.erase(r->id);
    ++mutations_;
    return {};
}

Result<std::vector<RoomRow>> InMemoryStore::list_rooms(const std::string& user,
                                                       const std::string& profile) {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    const auto* p = profile_by_name(user, profile);
    if (!p) return not_found("profile " + q(user + "/" + profile));
    std::vector<RoomRow> out;
    for (const auto& [id, r] : rooms_)
        if (r.profile_id == p->id) out.push_back({user, profile, r.name, active_devices_in(id)});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

// ---- devices -------------------------------------------------------------------------------

Result<DeviceRow> InMemoryStore::add_device(const DeviceRow& d) {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    const auto* r = room_by_name(d.user, d.profile, d.room);
    if (!r) return not_found("room " + q(d.user + "/" + d.profile + "/" + d.room));
    for (const auto& [id, dev] : devices_)
        if ((id == d.id || dev.row.mac == d.mac) && !dev.removed)
            return conflict("a device with MAC " + d.mac + " is already registered");
    for (const auto& [id, dev] : devices_)
        if (dev.room_id == r->id && dev.row.name == d.name && !dev.removed)
            return conflict("device " + q(d.path()) + " already exists");
    // The MAC is unique over all rows, removed ones too (a UNIQUE column in PostgreSQL).
    for (const auto& [id, dev] : devices_)
        if (id != d.id && dev.row.mac == d.mac)
            return conflict(
                "ERROR:  duplicate key value violates unique constraint \"devices_mac_key\"");
    if (auto e = device_checks(d)) return *e;

    const auto it = devices_.find(d.id);
    if (it == devices_.end()) {
        devices_.emplace(d.id, Device{d, r->id, false});
    } else {
        // Re-activation of a soft-removed device: everything but id and MAC is replaced.
        auto& dev = it->second;
        const std::string mac = dev.row.mac;
        dev.row = d;
        dev.row.mac = mac;
        dev.room_id = r->id;
        dev.removed = false;
    }
    ++mutations_;
    return device_row(devices_.at(d.id));
}

Result<DeviceRow> InMemoryStore::update_device(const DeviceRow& d) {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    const auto* r = room_by_name(d.user, d.profile, d.room);
    if (!r) return not_found("room " + q(d.user + "/" + d.profile + "/" + d.room));
    for (const auto& [id, dev] : devices_)
        if (dev.room_id == r->id && dev.row.name == d.name && !dev.removed && id != d.id)
            return conflict("device " + q(d.path()) + " already exists");
    const auto it = devices_.find(d.id);
    if (it == devices_.end() || it->second.removed) return not_found("device " + q(d.id));
    if (d.poll_interval.count() < 1 || d.poll_interval.count() > 86400)
        return make_error(ErrorCode::Internal,
                          "ERROR:  new row for relation \"devices\" violates check constraint");
    // Only what PgStore::update_device changes; model, generation, MAC... stay.
    auto& dev = it->second;
    dev.room_id = r->id;
    dev.row.name = d.name;
    dev.row.url = d.url;
    dev.row.topic_prefix = d.topic_prefix;
    dev.row.username = d.username;
    dev.row.password = d.password;
    dev.row.poll_interval = d.poll_interval;
    dev.row.enabled = d.enabled;
    dev.row.firmware = d.firmware;
    ++mutations_;
    return device_row(dev);
}

Status InMemoryStore::remove_device(const std::string& id) {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    const auto it = devices_.find(id);
    if (it == devices_.end() || it->second.removed) return not_found("device " + q(id));
    it->second.removed = true;
    ++mutations_;
    return {};
}

Result<std::vector<DeviceRow>> InMemoryStore::list_devices() {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    std::vector<DeviceRow> out;
    for (const auto& [id, dev] : devices_)
        if (!dev.removed) out.push_back(device_row(dev));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return std::tie(a.user, a.profile, a.room, a.name) <
               std::tie(b.user, b.profile, b.room, b.name);
    });
    return out;
}

Result<std::optional<DeviceRow>> InMemoryStore::find_device_by_mac(const std::string& mac) {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    for (const auto& [id, dev] : devices_)
        if (!dev.removed && dev.row.mac == mac) return std::optional<DeviceRow>{device_row(dev)};
    return std::optional<DeviceRow>{};
}

// ---- energy books --------------------------------------------------------------------------

Result<std::vector<EnergyBookRow>> InMemoryStore::load_energy_books() {
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    std::vector<EnergyBookRow> out;
    for (const auto& [key, b] : books_) out.push_back(b);
    return out;
}

Status InMemoryStore::save_energy_books(const std::vector<EnergyBookRow>& books) {
    if (books.empty()) return {};  // PgStore returns before touching the database
    std::lock_guard lock(mutex_);
    if (auto e = begin_call()) return *e;
    for (const auto& b : books)  // all or nothing: check every row before writing any
        if (!devices_.contains(b.device_id))
            return conflict(
                "ERROR:  insert or update on table \"energy_books\" violates foreign key "
                "constraint \"energy_books_device_id_fkey\"");
    for (const auto& b : books) {
        const auto key = std::make_pair(b.device_id, b.channel);
        const auto it = books_.find(key);
        if (it == books_.end()) {
            books_.emplace(key, b);
            continue;
        }
        const double lifetime = std::max(it->second.lifetime_wh, b.lifetime_wh);
        it->second = b;
        it->second.lifetime_wh = lifetime;
    }
    ++mutations_;
    return {};
}

// ---- inspection ----------------------------------------------------------------------------

std::string InMemoryStore::dump() const {
    std::lock_guard lock(mutex_);
    std::ostringstream out;
    out.precision(17);
    for (const auto& [id, u] : users_) out << "user " << id << ' ' << u.name << '\n';
    for (const auto& [id, p] : profiles_) {
        out << "profile " << id << " user=" << p.user_id << ' ' << p.name << " tz=" << p.timezone
            << " tariff=";
        if (p.tariff_per_kwh)
            out << *p.tariff_per_kwh;
        else
            out << "null";
        out << " currency=" << p.currency << '\n';
    }
    for (const auto& [id, r] : rooms_)
        out << "room " << id << " profile=" << r.profile_id << ' ' << r.name << '\n';
    for (const auto& [id, d] : devices_) {
        const auto& r = d.row;
        out << "device " << id << " room=" << d.room_id << ' ' << r.name << " mac=" << r.mac
            << " gen=" << static_cast<int>(r.generation) << " model=" << r.model
            << " fw=" << r.firmware << " shelly_id=" << r.shelly_id
            << " transport=" << store::to_string(r.transport) << " url=" << r.url
            << " prefix=" << r.topic_prefix << " user=" << r.username << " pw=" << r.password
            << " poll=" << r.poll_interval.count() << " enabled=" << r.enabled
            << " channels=" << r.channels << " relay=" << r.has_relay << " removed=" << d.removed
            << '\n';
    }
    for (const auto& [key, b] : books_) {
        out << "book " << key.first << ':' << key.second << " last_raw=";
        if (b.last_raw_wh)
            out << *b.last_raw_wh;
        else
            out << "null";
        out << " offset=" << b.offset_wh << " lifetime=" << b.lifetime_wh << " last_ts=";
        if (b.last_ts)
            out << b.last_ts->time_since_epoch().count();
        else
            out << "null";
        out << " rejects=" << b.pending_rejects << '\n';
    }
    return out.str();
}

}  // namespace intelergy::fakes
