#include "device_api.hpp"

#include <algorithm>
#include <future>

#include "intelergy/core/names.hpp"
#include "intelergy/core/net_policy.hpp"
#include "intelergy/drivers/shelly_device.hpp"

namespace intelergy::bridge {

namespace {

constexpr std::size_t MAX_URL = 512;
constexpr std::size_t MAX_SECRET = 128;

std::string url_field(Request& req) {
    auto url = req.string("url");
    if (url.size() > MAX_URL) throw RequestError("field 'url' is too long");
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        throw RequestError("field 'url' must start with http:// or https://");
    if (std::any_of(url.begin(), url.end(),
                    [](unsigned char c) { return c <= 0x20 || c == 0x7F; }))
        throw RequestError("field 'url' must not contain spaces or control characters");
    while (url.size() > 8 && url.back() == '/') url.pop_back();
    const auto host_start = url.find("://") + 3;
    if (url.size() <= host_start || url[host_start] == '/' || url.find('@') != std::string::npos)
        throw RequestError("field 'url' needs a host (and no user@ part; use username/password)");
    return url;
}

// A literal address is checked here, so the answer names the problem at once. A host name is
// checked where it is resolved: the HTTP client refuses to connect to an address outside the
// allowed networks, and the probe reports that as the reason.
void check_url_address(const std::string& url, const config::PollingConfig& polling) {
    if (const auto ip = parse_ip_address(url_host(url))) {
        if (auto st = NetworkPolicy(polling.allowed_networks).check(*ip); !st)
            throw RequestError("field 'url' is refused: " + st.error().message);
    }
}

std::string topic_prefix_field(Request& req) {
    auto p = req.string("topic_prefix");
    while (!p.empty() && p.back() == '/') p.pop_back();
    if (p.empty() || p.size() > 256) throw RequestError("field 'topic_prefix' must be 1..256 bytes");
    if (p.front() == '$' || p.find_first_of("+#") != std::string::npos ||
        p.find("//") != std::string::npos || p.front() == '/')
        throw RequestError("field 'topic_prefix' must be a plain topic (no '+', '#', leading '$' or '/')");
    if (std::any_of(p.begin(), p.end(), [](unsigned char c) { return c < 0x20 || c == 0x7F; }))
        throw RequestError("field 'topic_prefix' must not contain control characters");
    return p;
}

std::optional<std::string> secret_field(Request& req, const std::string& key) {
    auto v = req.opt_string(key);
    if (v && v->size() > MAX_SECRET) throw RequestError("field '" + key + "' is too long");
    if (v && std::any_of(v->begin(), v->end(), [](unsigned char c) { return c < 0x20; }))
        throw RequestError("field '" + key + "' must not contain control characters");
    return v;
}

Json device_json(const store::DeviceRow& d) {
    Json j{{"id", d.id},
           {"path", d.path()},
           {"name", d.name},
           {"model", d.model},
           {"generation", static_cast<int>(d.generation)},
           {"mac", d.mac},
           {"transport", store::to_string(d.transport)},
           {"channels", d.channels},
           {"has_relay", d.has_relay},
           {"firmware", d.firmware},
           {"enabled", d.enabled}};
    if (d.transport == store::Transport::Http) {
        j["url"] = d.url;
        j["poll_interval_s"] = d.poll_interval.count();
    } else {
        j["topic_prefix"] = d.topic_prefix;
    }
    return j;
}

// A device is named by {"id": "shelly-…"} or {"device": "user/profile/room/name"}.
store::DeviceRow find_device(Request& req, store::Store& store) {
    std::string id, path;
    if (req.has("id")) {
        id = req.string("id");
    } else if (req.has("device")) {
        const auto parts = req.path("device", 4);
        path = parts[0] + "/" + parts[1] + "/" + parts[2] + "/" + parts[3];
    } else {
        throw RequestError("missing field 'id' or 'device'");
    }
    for (auto& d : unwrap(store.list_devices()))
        if ((!id.empty() && d.id == id) || (!path.empty() && d.path() == path)) return d;
    throw RequestError("device '" + (id.empty() ? path : id) + "' not found", ErrorCode::NotFound);
}

std::vector<store::EnergyBookRow> books_of(store::Store& store, const std::string& id) {
    std::vector<store::EnergyBookRow> out;
    for (auto& b : unwrap(store.load_energy_books()))
        if (b.device_id == id) out.push_back(std::move(b));
    return out;
}

void require_room(store::Store& store, const std::string& user, const std::string& profile,
                  const std::string& room) {
    const auto rooms = store.list_rooms(user, profile);
    if (!rooms) throw RequestError(rooms.error());
    const bool found = std::any_of(rooms->begin(), rooms->end(),
                                   [&](const store::RoomRow& r) { return r.name == room; });
    if (!found)
        throw RequestError("room '" + user + "/" + profile + "/" + room + "' not found",
                           ErrorCode::NotFound);
}

void apply_probe(store::DeviceRow& row, const ProbeResult& probe) {
    row.mac = probe.info.mac;
    row.id = drivers::device_id_from_mac(probe.info.mac);
    row.generation = probe.info.gen;
    row.model = probe.info.model;
    row.firmware = probe.info.firmware;
    row.shelly_id = probe.info.shelly_id;
    row.channels = probe.channels;
    row.has_relay = probe.has_relay;
}

}  // namespace

void register_device_handlers(HandlerTable& handlers, store::Store& store, DeviceApiContext& ctx) {
    auto upsert_on_loop = [&ctx](const store::DeviceRow& row,
                                 std::vector<store::EnergyBookRow> books) {
        if (!ctx.on_loop([&ctx, row, books = std::move(books)] { ctx.manager.upsert(row, books); }))
            throw RequestError("the bridge core is busy; the change is stored and applies shortly",
                               ErrorCode::Timeout);
    };

    handlers["device/add"] = [&store, &ctx, upsert_on_loop](Request& req) {
        const auto room = req.path("room", 3);
        const auto name = req.name("name");
        store::DeviceRow row;
        row.user = room[0], row.profile = room[1], row.room = room[2], row.name = name;
        const auto transport = req.opt_string("transport");
        if (transport && *transport != "http" && *transport != "mqtt")
            throw RequestError("field 'transport' must be \"http\" or \"mqtt\"");
        const bool mqtt = transport ? *transport == "mqtt" : req.has("topic_prefix");
        ProbeRequest probe;
        probe.mqtt = mqtt;
        probe.timeout = std::max<std::chrono::milliseconds>(ctx.config.polling.timeout,
                                                            std::chrono::seconds(3));
        if (mqtt) {
            row.transport = store::Transport::Mqtt;
            row.topic_prefix = probe.topic_prefix = topic_prefix_field(req);
        } else {
            row.transport = store::Transport::Http;
            row.url = probe.url = url_field(req);
            check_url_address(row.url, ctx.config.polling);
        }
        row.username = probe.username = secret_field(req, "username").value_or("");
        row.password = probe.password = secret_field(req, "password").value_or("");
        row.poll_interval = std::chrono::seconds(req.opt_integer("poll_interval_s", 1, 86400)
                                                     .value_or(ctx.config.polling.default_interval.count()));
        req.finish();

        require_room(store, row.user, row.profile, row.room);
        const auto found = ctx.probe.probe(probe);
        if (!found) throw RequestError(found.error());
        apply_probe(row, *found);
        if (auto dup = unwrap(store.find_device_by_mac(row.mac)))
            throw RequestError("a device with MAC " + row.mac + " is already registered as '" +
                                   dup->path() + "' (id " + dup->id + ")",
                               ErrorCode::Conflict);
        auto stored = unwrap(store.add_device(row));
        upsert_on_loop(stored, books_of(store, stored.id));
        ctx.discovered.forget(stored.topic_prefix);
        auto data = device_json(stored);
        ctx.event("device_added", data.dump());
        return data;
    };

    handlers["device/remove"] = [&store, &ctx](Request& req) {
        const auto row = find_device(req, store);
        req.finish();
        unwrap(store.remove_device(row.id));
        const auto id = row.id;
        ctx.on_loop([&ctx, id] { ctx.manager.remove(id); });
        Json data{{"id", row.id}, {"path", row.path()}};
        ctx.event("device_removed", data.dump());
        return data;
    };

    handlers["device/rename"] = [&store, upsert_on_loop](Request& req) {
        auto row = find_device(req, store);
        row.name = req.has("to") ? req.name("to") : req.name("name");
        req.finish();
        auto stored = unwrap(store.update_device(row));
        upsert_on_loop(stored, {});
        return device_json(stored);
    };

    handlers["device/move"] = [&store, upsert_on_loop](Request& req) {
        auto row = find_device(req, store);
        const auto room = req.path("room", 3);
        req.finish();
        row.user = room[0], row.profile = room[1], row.room = room[2];
        auto stored = unwrap(store.update_device(row));
        upsert_on_loop(stored, {});
        return device_json(stored);
    };

    handlers["device/options"] = [&store, &ctx, upsert_on_loop](Request& req) {
        auto row = find_device(req, store);
        bool reprobe = false;
        if (auto p = req.opt_integer("poll_interval_s", 1, 86400)) row.poll_interval = std::chrono::seconds(*p);
        if (auto e = req.opt_bool("enabled")) row.enabled = *e;
        if (req.has("url")) {
            if (row.transport != store::Transport::Http)
                throw RequestError("field 'url' applies to HTTP devices only");
            row.url = url_field(req);
            check_url_address(row.url, ctx.config.polling);
            reprobe = true;
        }
        if (auto u = secret_field(req, "username")) row.username = *u, reprobe = true;
        if (auto p = secret_field(req, "password")) {
            row.password = *p, reprobe = true;
            row.credentials_error.clear();  // a new password replaces an unreadable one
        }
        req.finish();
        if (reprobe) {
            ProbeRequest probe{row.url, row.topic_prefix, row.transport == store::Transport::Mqtt,
                               row.username, row.password,
                               std::max<std::chrono::milliseconds>(ctx.config.polling.timeout,
                                                                   std::chrono::seconds(3))};
            const auto found = ctx.probe.probe(probe);
            if (!found) throw RequestError(found.error());
            if (found->info.mac != row.mac)
                throw RequestError("the device at the new address has MAC " + found->info.mac +
                                       ", not " + row.mac + "; remove and add it instead",
                                   ErrorCode::Conflict);
            row.firmware = found->info.firmware;
        }
        auto stored = unwrap(store.update_device(row));
        upsert_on_loop(stored, {});
        return device_json(stored);
    };

    handlers["device/list"] = [&store, &ctx](Request& req) {
        const auto prefix = req.opt_string("path").value_or("");
        req.finish();
        auto rows = unwrap(store.list_devices());
        std::map<std::string, std::string> availability;
        ctx.on_loop([&ctx, &availability] {
            for (const auto* d : ctx.manager.devices())
                availability[d->row.id] = to_string(d->availability);
        });
        Json list = Json::array();
        for (const auto& d : rows) {
            // Whole path segments only: "alice" matches alice/… but not alice2/….
            const auto path = d.path();
            if (!prefix.empty() && !(path == prefix || path.rfind(prefix + "/", 0) == 0)) continue;
            auto j = device_json(d);
            const auto it = availability.find(d.id);
            j["availability"] = it == availability.end() ? "unknown" : it->second;
            list.push_back(std::move(j));
        }
        return Json{{"devices", list}};
    };

    handlers["device/set"] = [&store, &ctx](Request& req) {
        const auto row = find_device(req, store);
        auto relay = req.string("relay");
        std::transform(relay.begin(), relay.end(), relay.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        drivers::RelayCommand cmd;
        if (relay == "ON") cmd = drivers::RelayCommand::On;
        else if (relay == "OFF") cmd = drivers::RelayCommand::Off;
        else if (relay == "TOGGLE") cmd = drivers::RelayCommand::Toggle;
        else throw RequestError("field 'relay' must be \"ON\", \"OFF\" or \"TOGGLE\"");
        const auto channel = req.opt_integer("channel", 0, 15);
        req.finish();
        auto promise = std::make_shared<std::promise<Status>>();
        auto future = promise->get_future();
        const auto id = row.id;
        const std::optional<int> ch = channel ? std::optional<int>(static_cast<int>(*channel)) : std::nullopt;
        ctx.on_loop([&ctx, id, ch, cmd, promise] {
            ctx.manager.set_relay(id, ch, cmd, [promise](Status st) { promise->set_value(st); });
        });
        const auto wait = ctx.config.polling.timeout + std::chrono::seconds(2);
        if (future.wait_for(wait) != std::future_status::ready)
            throw RequestError("the device did not confirm the relay command in time", ErrorCode::Timeout);
        unwrap(future.get());
        Json data{{"id", row.id}, {"path", row.path()}, {"relay", relay}};
        if (channel) data["channel"] = *channel;
        return data;
    };

    handlers["device/list_discovered"] = [&ctx](Request& req) {
        req.finish();
        Json list = Json::array();
        for (const auto& p : ctx.discovered.list()) {
            Json j{{"topic_prefix", p.topic_prefix}, {"transport", "mqtt"}};
            if (!p.model.empty()) j["model"] = p.model;
            if (!p.mac.empty()) j["mac"] = p.mac;
            if (!p.ip.empty()) j["ip"] = p.ip, j["url"] = "http://" + p.ip;
            if (p.generation) j["generation"] = p.generation;
            list.push_back(std::move(j));
        }
        return Json{{"devices", list}};
    };
}

}  // namespace intelergy::bridge
