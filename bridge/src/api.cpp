#include "intelergy/bridge/api.hpp"

#include <spdlog/spdlog.h>

#include <map>

#include "intelergy/store/timezone.hpp"
#include "device_api.hpp"
#include "energy_api.hpp"
#include "request.hpp"

namespace intelergy::bridge {

namespace {

Json user_json(const store::UserRow& u) { return {{"name", u.name}, {"profiles", u.profiles}}; }

Json profile_json(const store::ProfileRow& p) {
    Json j{{"user", p.user},
           {"name", p.name},
           {"path", p.user + "/" + p.name},
           {"timezone", p.timezone},
           {"rooms", p.rooms}};
    if (p.tariff_per_kwh) j["tariff_per_kwh"] = *p.tariff_per_kwh;
    if (!p.currency.empty()) j["currency"] = p.currency;
    return j;
}

Json room_json(const store::RoomRow& r) {
    return {{"user", r.user},
            {"profile", r.profile},
            {"name", r.name},
            {"path", r.user + "/" + r.profile + "/" + r.name},
            {"devices", r.devices}};
}

std::string timezone_field(Request& req, const std::string& key) {
    const auto tz = req.string(key);
    if (auto st = store::validate_timezone(tz); !st) throw RequestError(st.error());
    return tz;
}

// A profile is named by {"user","profile"} (or {"user","name"} for its own requests), or by
// {"path":"alice/home"}.
std::pair<std::string, std::string> profile_key(Request& req, const char* own_key) {
    if (req.has("path")) {
        auto parts = req.path("path", 2);
        return {parts[0], parts[1]};
    }
    return {req.name("user"), req.name(own_key)};
}

// A room is named by {"user","profile","name"} or {"room":"alice/home/kitchen"}.
store::RoomRow room_key(Request& req, bool name_is_key) {
    store::RoomRow r;
    if (req.has("room")) {
        auto parts = req.path("room", 3);
        r.user = parts[0], r.profile = parts[1], r.name = parts[2];
        return r;
    }
    r.user = req.name("user");
    r.profile = req.name("profile");
    if (name_is_key) r.name = req.name("name");
    return r;
}

// Deepest bracket nesting outside strings. Checked before parsing: nlohmann parses, copies and
// dumps recursively, so a deeply nested value (e.g. as "transaction") would exhaust the stack.
std::size_t nesting_depth(std::string_view text) {
    std::size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (const char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            deepest = std::max(deepest, ++depth);
        } else if ((c == '}' || c == ']') && depth > 0) {
            --depth;
        }
    }
    return deepest;
}

}  // namespace

struct Api::Impl {
    store::Store& store;
    ApiHooks hooks;
    HandlerTable handlers;

    Impl(store::Store& s, ApiHooks h) : store(s), hooks(std::move(h)) {
        register_handlers();
        if (hooks.devices) register_device_handlers(handlers, store, *hooks.devices);
        if (hooks.energy) register_energy_handlers(handlers, store, *hooks.energy);
    }

    void changed() {
        if (hooks.hierarchy_changed) hooks.hierarchy_changed();
    }

    void register_handlers() {
        handlers["health_check"] = [this](Request& req) {
            req.finish();
            const bool db = static_cast<bool>(store.list_users());
            const bool mqtt = !hooks.mqtt_connected || hooks.mqtt_connected();
            return Json{{"healthy", db && mqtt}, {"database", db}, {"mqtt", mqtt}};
        };
        handlers["info"] = [this](Request& req) {
            req.finish();
            return hooks.info_json ? Json::parse(hooks.info_json()) : Json::object();
        };

        handlers["user/add"] = [this](Request& req) {
            const auto name = req.name("name");
            req.finish();
            auto u = unwrap(store.add_user(name));
            changed();
            return user_json(u);
        };
        handlers["user/remove"] = [this](Request& req) {
            const auto name = req.has("user") ? req.name("user") : req.name("name");
            req.finish();
            unwrap(store.remove_user(name));
            changed();
            return Json{{"name", name}};
        };
        handlers["user/list"] = [this](Request& req) {
            req.finish();
            Json users = Json::array();
            for (const auto& u : unwrap(store.list_users())) users.push_back(user_json(u));
            return Json{{"users", users}};
        };

        handlers["profile/add"] = [this](Request& req) {
            store::ProfileRow p;
            std::tie(p.user, p.name) = profile_key(req, "name");
            p.timezone = timezone_field(req, "timezone");
            p.tariff_per_kwh = req.opt_number("tariff_per_kwh", 0, 1000);
            p.currency = req.opt_string("currency").value_or("");
            if (p.currency.size() > 8) throw RequestError("field 'currency' is too long");
            req.finish();
            auto out = unwrap(store.add_profile(p));
            changed();
            return profile_json(out);
        };
        handlers["profile/update"] = [this](Request& req) {
            const auto [user, name] = profile_key(req, "name");
            store::ProfileUpdate u;
            if (req.has("timezone")) u.timezone = timezone_field(req, "timezone");
            if (req.has("tariff_per_kwh")) u.tariff_per_kwh = req.opt_number("tariff_per_kwh", 0, 1000);
            u.currency = req.opt_string("currency");
            if (u.currency && u.currency->size() > 8)
                throw RequestError("field 'currency' is too long");
            req.finish();
            if (!u.timezone && !u.tariff_per_kwh && !u.currency)
                throw RequestError("nothing to update: give timezone, tariff_per_kwh or currency");
            auto out = unwrap(store.update_profile(user, name, u));
            changed();
            return profile_json(out);
        };
        handlers["profile/remove"] = [this](Request& req) {
            const auto [user, name] = profile_key(req, "name");
            req.finish();
            unwrap(store.remove_profile(user, name));
            changed();
            return Json{{"user", user}, {"name", name}};
        };
        handlers["profile/list"] = [this](Request& req) {
            const auto user = req.name("user");
            req.finish();
            Json list = Json::array();
            for (const auto& p : unwrap(store.list_profiles(user))) list.push_back(profile_json(p));
            return Json{{"profiles", list}};
        };

        handlers["room/add"] = [this](Request& req) {
            auto r = room_key(req, true);
            req.finish();
            auto out = unwrap(store.add_room(r));
            changed();
            return room_json(out);
        };
        handlers["room/rename"] = [this](Request& req) {
            const bool by_path = req.has("room");
            auto r = room_key(req, true);
            std::string to;
            if (req.has("to")) to = req.name("to");
            else if (by_path && req.has("name")) to = req.name("name");
            else throw RequestError("missing field 'to'");
            req.finish();
            unwrap(store.rename_room(r, to));
            changed();
            r.name = to;
            return room_json(r);
        };
        handlers["room/remove"] = [this](Request& req) {
            auto r = room_key(req, true);
            req.finish();
            unwrap(store.remove_room(r));
            changed();
            return room_json(r);
        };
        handlers["room/list"] = [this](Request& req) {
            const auto [user, profile] = profile_key(req, "profile");
            req.finish();
            Json list = Json::array();
            for (const auto& r : unwrap(store.list_rooms(user, profile)))
                list.push_back(room_json(r));
            return Json{{"rooms", list}};
        };
    }
};

Api::Api(store::Store& store, ApiHooks hooks)
    : impl_(std::make_unique<Impl>(store, std::move(hooks))) {}
Api::~Api() = default;

std::string Api::handle(std::string_view path, std::string_view payload) {
    Json response{{"status", "ok"}, {"data", Json::object()}};
    Json transaction;
    try {
        if (payload.size() > MAX_REQUEST_BYTES)
            throw RequestError("payload too large (" + std::to_string(payload.size()) +
                               " bytes; the limit is " + std::to_string(MAX_REQUEST_BYTES) + ")");
        if (nesting_depth(payload) > MAX_REQUEST_DEPTH)
            throw RequestError("payload nests deeper than " + std::to_string(MAX_REQUEST_DEPTH) +
                               " levels");
        Json body = payload.empty() ? Json::object() : Json::parse(payload, nullptr, false);
        if (body.is_discarded()) throw RequestError("payload is not valid JSON");
        if (!body.is_object()) throw RequestError("payload must be a JSON object");
        if (body.contains("transaction")) transaction = body["transaction"];
        const auto it = impl_->handlers.find(path);
        if (it == impl_->handlers.end())
            throw RequestError("unknown request '" + std::string(path) + "'", ErrorCode::NotFound);
        Request req(body);
        response["data"] = it->second(req);
    } catch (const RequestError& e) {
        response["status"] = "error";
        response["error"] = e.what();
    } catch (const std::exception& e) {
        spdlog::error("request failed path={} error={}", path, e.what());
        response["status"] = "error";
        response["error"] = std::string("internal error: ") + e.what();
    }
    if (!transaction.is_null()) response["transaction"] = transaction;
    return response.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace intelergy::bridge
