#include "cli_request.hpp"

#include "intelergy/core/names.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <vector>

namespace intelergy::app::cli {

namespace {

using Json = nlohmann::json;

Error usage(std::string message) { return make_error(ErrorCode::Invalid, std::move(message)); }

std::vector<std::string> split(std::string_view path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const auto slash = path.find('/', start);
        parts.emplace_back(path.substr(start, slash - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return parts;
}

std::optional<std::int64_t> parse_integer(std::string_view text, std::int64_t min,
                                          std::int64_t max) {
    std::int64_t v = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || ptr != end || v < min || v > max) return std::nullopt;
    return v;
}

std::optional<double> parse_number(std::string_view text) {
    if (text.empty()) return std::nullopt;
    const std::string s(text);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

// Adds the device's key ({"id"} or {"device"}) for the first positional argument.
Status add_device_key(Json& payload, const std::string& id_or_path) {
    auto key = device_key(id_or_path);
    if (!key) return key.error();
    payload[key->first] = key->second;
    return {};
}

Result<ApiRequest> build_user(const CliArgs& a, std::string_view verb) {
    if (verb == "list") return ApiRequest{"user/list", "{}"};
    if (auto st = validate_name(a.args[0], "user name"); !st) return st.error();
    return ApiRequest{"user/" + std::string(verb), Json{{"name", a.args[0]}}.dump()};
}

Result<Json> profile_changes(const CliArgs& a, Json payload) {
    if (a.timezone) {
        if (a.timezone->empty()) return usage("--timezone must not be empty");
        payload["timezone"] = *a.timezone;
    }
    if (a.tariff) {
        const auto t = parse_number(*a.tariff);
        if (!t || *t < 0) return usage("--tariff must be a number >= 0 (price per kWh)");
        payload["tariff_per_kwh"] = *t;
    }
    if (a.currency) {
        if (a.currency->empty() || a.currency->size() > 8)
            return usage("--currency must be 1 to 8 characters, e.g. EUR");
        payload["currency"] = *a.currency;
    }
    return payload;
}

Result<ApiRequest> build_profile(const CliArgs& a, std::string_view verb) {
    if (verb == "list") {
        if (auto st = validate_name(a.args[0], "user name"); !st) return st.error();
        return ApiRequest{"profile/list", Json{{"user", a.args[0]}}.dump()};
    }
    if (auto st = check_path(a.args[0], 2, "profile (USER/PROFILE)"); !st) return st.error();
    const auto parts = split(a.args[0]);
    Json payload{{"user", parts[0]}, {"name", parts[1]}};
    if (verb == "remove") return ApiRequest{"profile/remove", payload.dump()};
    if (verb == "add" && !a.timezone)
        return usage("--timezone is required, e.g. --timezone Europe/Berlin");
    if (verb == "update" && !a.timezone && !a.tariff && !a.currency)
        return usage("nothing to update: give --timezone, --tariff or --currency");
    auto changed = profile_changes(a, std::move(payload));
    if (!changed) return changed.error();
    return ApiRequest{"profile/" + std::string(verb), changed->dump()};
}

Result<ApiRequest> build_room(const CliArgs& a, std::string_view verb) {
    if (verb == "list") {
        if (auto st = check_path(a.args[0], 2, "profile (USER/PROFILE)"); !st) return st.error();
        const auto parts = split(a.args[0]);
        return ApiRequest{"room/list", Json{{"user", parts[0]}, {"profile", parts[1]}}.dump()};
    }
    if (auto st = check_path(a.args[0], 3, "room (USER/PROFILE/ROOM)"); !st) return st.error();
    const auto parts = split(a.args[0]);
    Json payload{{"user", parts[0]}, {"profile", parts[1]}, {"name", parts[2]}};
    if (verb == "rename") {
        if (auto st = validate_name(a.args[1], "new room name"); !st) return st.error();
        payload["to"] = a.args[1];
    }
    return ApiRequest{"room/" + std::string(verb), payload.dump()};
}

Result<ApiRequest> build_device_add(const CliArgs& a) {
    if (auto st = check_path(a.args[0], 4, "device (USER/PROFILE/ROOM/NAME)"); !st)
        return st.error();
    const auto parts = split(a.args[0]);
    Json payload{{"room", parts[0] + "/" + parts[1] + "/" + parts[2]}, {"name", parts[3]}};
    if (a.mqtt == a.url.has_value())
        return usage(
            "give either --url http://… (polled over HTTP) or --mqtt --topic-prefix PREFIX");
    if (a.mqtt) {
        if (!a.topic_prefix || a.topic_prefix->empty())
            return usage("--mqtt needs --topic-prefix, e.g. shellyplusplugs-a1b2c3d4e5f6");
        if (a.topic_prefix->find_first_of("+#") != std::string::npos)
            return usage("--topic-prefix must not contain '+' or '#'");
        if (a.username || a.password || a.poll_interval)
            return usage("--username, --password-file and --poll-interval apply to --url devices");
        payload["transport"] = "mqtt";
        payload["topic_prefix"] = *a.topic_prefix;
        return ApiRequest{"device/add", payload.dump()};
    }
    if (a.topic_prefix) return usage("--topic-prefix applies to --mqtt devices");
    if (a.url->rfind("http://", 0) != 0 && a.url->rfind("https://", 0) != 0)
        return usage("--url must start with http:// or https://, e.g. http://192.168.1.40");
    payload["url"] = *a.url;
    if (a.username) payload["username"] = *a.username;
    if (a.password) payload["password"] = *a.password;
    if (a.poll_interval) {
        const auto s = parse_integer(*a.poll_interval, 1, 86400);
        if (!s) return usage("--poll-interval must be whole seconds from 1 to 86400");
        payload["poll_interval_s"] = *s;
    }
    return ApiRequest{"device/add", payload.dump()};
}

Result<ApiRequest> build_device(const CliArgs& a, std::string_view verb) {
    if (verb == "add") return build_device_add(a);
    if (verb == "list") {
        if (!a.args[0].empty()) {
            const auto n = split(a.args[0]).size();
            if (n > 4) return usage("device list takes a path of at most 4 parts");
            if (auto st = check_path(a.args[0], n, "path"); !st) return st.error();
        }
        return ApiRequest{"device/list", "{}"};
    }
    Json payload = Json::object();
    if (auto st = add_device_key(payload, a.args[0]); !st) return st.error();
    if (verb == "rename") {
        if (auto st = validate_name(a.args[1], "new device name"); !st) return st.error();
        payload["to"] = a.args[1];
    } else if (verb == "move") {
        if (auto st = check_path(a.args[1], 3, "room (USER/PROFILE/ROOM)"); !st) return st.error();
        payload["room"] = a.args[1];
    } else if (verb == "set") {
        std::string relay = a.args[1];
        std::transform(relay.begin(), relay.end(), relay.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        if (relay != "ON" && relay != "OFF" && relay != "TOGGLE")
            return usage("the relay state must be on, off or toggle");
        payload["relay"] = relay;
        if (a.channel) {
            const auto ch = parse_integer(*a.channel, 0, 15);
            if (!ch) return usage("--channel must be a number from 0 to 15");
            payload["channel"] = *ch;
        }
    } else if (verb == "options") {
        if (a.enable && a.disable) return usage("give --enable or --disable, not both");
        if (!a.enable && !a.disable && !a.poll_interval)
            return usage("nothing to change: give --poll-interval, --enable or --disable");
        if (a.poll_interval) {
            const auto s = parse_integer(*a.poll_interval, 1, 86400);
            if (!s) return usage("--poll-interval must be whole seconds from 1 to 86400");
            payload["poll_interval_s"] = *s;
        }
        if (a.enable || a.disable) payload["enabled"] = a.enable;
    }
    return ApiRequest{"device/" + std::string(verb), payload.dump()};
}

// ---- output ---------------------------------------------------------------------------------

Json parse_data(std::string_view data) {
    Json j = Json::parse(data, nullptr, false);
    return j.is_discarded() ? Json::object() : j;
}

std::string text(const Json& v) {
    if (v.is_null()) return "-";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
    return v.dump();
}

std::string field(const Json& obj, const char* key, std::string fallback = "-") {
    if (!obj.is_object() || !obj.contains(key)) return fallback;
    return text(obj[key]);
}

std::size_t display_width(std::string_view s) {
    return static_cast<std::size_t>(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string table(const std::vector<std::string>& headers,
                  const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths(headers.size());
    for (std::size_t c = 0; c < headers.size(); ++c) {
        widths[c] = display_width(headers[c]);
        for (const auto& r : rows) widths[c] = std::max(widths[c], display_width(r[c]));
    }
    std::ostringstream out;
    auto line = [&](const std::vector<std::string>& cells) {
        std::string l;
        for (std::size_t c = 0; c < cells.size(); ++c) {
            l += cells[c];
            if (c + 1 < cells.size())
                l += std::string(widths[c] - display_width(cells[c]) + 2, ' ');
        }
        out << l << "\n";
    };
    line(headers);
    for (const auto& r : rows) line(r);
    return out.str();
}

// The list inside a response's data: data[key], else the first array member, else data itself.
const Json* find_list(const Json& data, const char* key) {
    if (data.is_array()) return &data;
    if (!data.is_object()) return nullptr;
    if (data.contains(key) && data[key].is_array()) return &data[key];
    for (const auto& [k, v] : data.items())
        if (v.is_array()) return &v;
    return nullptr;
}

// A table of the columns (key, header) that at least one row has, in the order given.
std::string object_table(const Json& list,
                         const std::vector<std::pair<const char*, const char*>>& columns,
                         const char* empty_text) {
    if (list.empty()) return std::string(empty_text) + "\n";
    std::vector<std::string> headers;
    std::vector<const char*> keys;
    for (const auto& [key, header] : columns) {
        if (std::any_of(list.begin(), list.end(), [k = key](const Json& row) {
                return row.is_object() && row.contains(k);
            })) {
            headers.emplace_back(header);
            keys.push_back(key);
        }
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& row : list) {
        std::vector<std::string> cells;
        for (const auto* key : keys) cells.push_back(field(row, key));
        rows.push_back(std::move(cells));
    }
    return table(headers, rows);
}

std::string tariff_text(const Json& p) {
    if (!p.contains("tariff_per_kwh")) return "-";
    std::ostringstream s;
    s << p["tariff_per_kwh"].get<double>();
    if (p.contains("currency")) s << " " << text(p["currency"]);
    return s.str() + "/kWh";
}

std::string profile_line(const char* verb, const Json& p, const std::string& fallback_path) {
    std::string line = std::string(verb) + " profile " + field(p, "path", fallback_path);
    if (p.contains("timezone")) {
        line += " (time zone " + text(p["timezone"]);
        if (p.contains("tariff_per_kwh")) line += ", tariff " + tariff_text(p);
        line += ")";
    }
    return line + "\n";
}

// A device list's entries under `prefix` ("alice" or "alice/home/kitchen"); all when empty.
Json filter_devices(Json data, const std::string& prefix) {
    if (prefix.empty()) return data;
    Json* list = nullptr;
    if (data.is_array())
        list = &data;
    else if (data.is_object() && data.contains("devices") && data["devices"].is_array())
        list = &data["devices"];
    if (!list) return data;
    Json kept = Json::array();
    for (const auto& d : *list) {
        const auto path = field(d, "path", "");
        if (path == prefix || path.rfind(prefix + "/", 0) == 0) kept.push_back(d);
    }
    *list = kept;
    return data;
}

std::string device_status(const Json& d) {
    if (d.contains("availability")) return text(d["availability"]);
    for (const char* key : {"online", "available"})
        if (d.contains(key) && d[key].is_boolean())
            return d[key].get<bool>() ? "online" : "offline";
    return "-";
}

std::string device_table(const Json& data) {
    const Json* list = find_list(data, "devices");
    if (!list || list->empty()) return "no devices\n";
    Json rows = Json::array();
    for (const auto& d : *list) {
        Json r = d;
        if (r.is_object()) r["status"] = device_status(d);
        rows.push_back(std::move(r));
    }
    return object_table(rows,
                        {{"id", "ID"},
                         {"path", "PATH"},
                         {"model", "MODEL"},
                         {"generation", "GEN"},
                         {"transport", "TRANSPORT"},
                         {"status", "STATUS"},
                         {"enabled", "ENABLED"}},
                        "no devices");
}

std::string discovered_table(const Json& data) {
    const Json* list = find_list(data, "devices");
    if (!list) return "no plugs discovered\n";
    return object_table(*list,
                        {{"id", "ID"},
                         {"topic_prefix", "TOPIC PREFIX"},
                         {"model", "MODEL"},
                         {"generation", "GEN"},
                         {"mac", "MAC"},
                         {"ip", "IP"},
                         {"first_seen", "FIRST SEEN"}},
                        "no plugs discovered");
}

std::string device_changed(const CliArgs& a, const Json& d) {
    const std::string who = a.args[0];
    if (a.command == "device remove") return "removed device " + who + "\n";
    if (a.command == "device rename") return "renamed device " + who + " to " + a.args[1] + "\n";
    if (a.command == "device move") return "moved device " + who + " to " + a.args[1] + "\n";
    if (a.command == "device set") {
        std::string relay = field(d, "relay", "");
        if (relay.empty()) {
            relay = a.args[1];
            std::transform(relay.begin(), relay.end(), relay.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        }
        return "device " + who + ": relay " + relay + "\n";
    }
    std::string line = "updated device " + who;
    std::vector<std::string> changes;
    if (a.poll_interval) changes.push_back("poll interval " + *a.poll_interval + " s");
    if (a.enable) changes.emplace_back("enabled");
    if (a.disable) changes.emplace_back("disabled");
    for (std::size_t i = 0; i < changes.size(); ++i) line += (i ? ", " : ": ") + changes[i];
    return line + "\n";
}

}  // namespace

Status check_path(std::string_view path, std::size_t parts, std::string_view what) {
    const auto p = split(path);
    if (path.empty() || p.size() != parts)
        return usage("'" + std::string(path) + "' is not a " + std::string(what) + ": it needs " +
                     std::to_string(parts) + " part(s) separated by '/'");
    static constexpr std::array<const char*, 4> NAMES{"user name", "profile name", "room name",
                                                      "device name"};
    for (std::size_t i = 0; i < p.size(); ++i)
        if (auto st = validate_name(p[i], NAMES.at(std::min<std::size_t>(i, 3))); !st)
            return usage(st.error().message + " (in '" + std::string(path) + "')");
    return {};
}

Result<std::pair<std::string, std::string>> device_key(std::string_view id_or_path) {
    if (id_or_path.find('/') != std::string_view::npos) {
        if (auto st = check_path(id_or_path, 4, "device path (USER/PROFILE/ROOM/DEVICE)"); !st)
            return st.error();
        return std::pair<std::string, std::string>{"device", std::string(id_or_path)};
    }
    if (auto st = validate_name(id_or_path, "device id"); !st)
        return usage(st.error().message +
                     "; name a device by its id (shelly-<12 hex digits>) "
                     "or its path USER/PROFILE/ROOM/DEVICE");
    return std::pair<std::string, std::string>{"id", std::string(id_or_path)};
}

std::string strip_trailing_newlines(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

std::optional<double> parse_seconds(std::string_view text) {
    const auto v = parse_number(text);
    if (!v || *v <= 0 || *v > 3600) return std::nullopt;
    return v;
}

Result<ApiRequest> build_request(const CliArgs& args) {
    const auto space = args.command.find(' ');
    const std::string noun = args.command.substr(0, space);
    const std::string verb = space == std::string::npos ? "" : args.command.substr(space + 1);
    if (noun == "user") return build_user(args, verb);
    if (noun == "profile") return build_profile(args, verb);
    if (noun == "room") return build_room(args, verb);
    if (noun == "device") return build_device(args, verb);
    if (noun == "discovered") return ApiRequest{"device/list_discovered", "{}"};
    return usage("unknown command '" + args.command + "'");
}

std::string json_output(const CliArgs& args, std::string_view data) {
    if (args.command == "device list")
        return filter_devices(parse_data(data), args.args[0]).dump() + "\n";
    return std::string(data) + "\n";
}

std::string human_output(const CliArgs& a, std::string_view data_text) {
    const Json d = parse_data(data_text);
    const auto& c = a.command;
    if (c == "user add") return "added user " + field(d, "name", a.args[0]) + "\n";
    if (c == "user remove") return "removed user " + a.args[0] + "\n";
    if (c == "user list") {
        const Json* list = find_list(d, "users");
        if (!list) return "no users\n";
        return object_table(*list, {{"name", "USER"}, {"profiles", "PROFILES"}}, "no users");
    }
    if (c == "profile add") return profile_line("added", d, a.args[0]);
    if (c == "profile update") return profile_line("updated", d, a.args[0]);
    if (c == "profile remove") return "removed profile " + a.args[0] + "\n";
    if (c == "profile list") {
        const Json* list = find_list(d, "profiles");
        if (!list || list->empty()) return "no profiles for user " + a.args[0] + "\n";
        std::vector<std::vector<std::string>> rows;
        for (const auto& p : *list)
            rows.push_back(
                {field(p, "path"), field(p, "timezone"), tariff_text(p), field(p, "rooms")});
        return table({"PROFILE", "TIME ZONE", "TARIFF", "ROOMS"}, rows);
    }
    if (c == "room add") return "added room " + field(d, "path", a.args[0]) + "\n";
    if (c == "room rename")
        return "renamed room " + a.args[0] + " to " + field(d, "path", a.args[1]) + "\n";
    if (c == "room remove") return "removed room " + a.args[0] + "\n";
    if (c == "room list") {
        const Json* list = find_list(d, "rooms");
        if (!list || list->empty()) return "no rooms in " + a.args[0] + "\n";
        return object_table(*list, {{"path", "ROOM"}, {"devices", "DEVICES"}}, "no rooms");
    }
    if (c == "device add") {
        std::string line =
            "added device " + field(d, "id", "?") + " as " + field(d, "path", a.args[0]);
        std::vector<std::string> details;
        if (d.contains("model")) details.push_back(text(d["model"]));
        if (d.contains("generation")) details.push_back("gen " + text(d["generation"]));
        if (d.contains("transport")) details.push_back(text(d["transport"]));
        for (std::size_t i = 0; i < details.size(); ++i) line += (i ? ", " : " (") + details[i];
        return line + (details.empty() ? "" : ")") + "\n";
    }
    if (c == "device list") return device_table(filter_devices(d, a.args[0]));
    if (c == "discovered") return discovered_table(d);
    if (c.rfind("device ", 0) == 0) return device_changed(a, d);
    return std::string(data_text) + "\n";
}

}  // namespace intelergy::app::cli
