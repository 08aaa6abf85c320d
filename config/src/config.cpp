#include "intelergy/config/config.hpp"

#include "rules.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

#include <system_error>
#include <tuple>
#include <utility>

namespace intelergy::config {
namespace {

using namespace std::string_view_literals;

constexpr std::string_view kMqttPasswordEnv = "INTELERGY_MQTT_PASSWORD";
constexpr std::string_view kPgDsnEnv = "INTELERGY_PG_DSN";
constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;

const char* type_name(toml::node_type type) {
    switch (type) {
        case toml::node_type::table:
            return "table";
        case toml::node_type::array:
            return "array";
        case toml::node_type::string:
            return "string";
        case toml::node_type::integer:
            return "integer";
        case toml::node_type::floating_point:
            return "float";
        case toml::node_type::boolean:
            return "boolean";
        case toml::node_type::date:
            return "date";
        case toml::node_type::time:
            return "time";
        case toml::node_type::date_time:
            return "date-time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

// Control characters in toml++ messages (it quotes what it saw, newlines included) would break
// the one-line "file:line:column: message" format.
std::string printable(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += '?';
        } else {
            out += c;
        }
    }
    return out;
}

struct Position {
    std::uint32_t line{0};
    std::uint32_t column{0};
};

Position position_of(const toml::source_region& region) {
    return {region.begin.line, region.begin.column};
}

// Reads a small secret file; strips trailing CR/LF (editors and `echo` add them) but keeps
// other trailing whitespace, which may be part of the secret.
Result<std::string> read_secret_file(const std::filesystem::path& path) {
    const auto fail = [&](int err) {
        return make_error(ErrorCode::Config, "cannot read '" + path.string() +
                                                 "': " + std::generic_category().message(err));
    };
    errno = 0;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                         &std::fclose);
    if (!file) {
        return fail(errno);
    }
    std::string content;
    std::array<char, 4096> buffer{};
    while (true) {
        const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
        content.append(buffer.data(), n);
        if (content.size() > kMaxSecretFileBytes) {
            return make_error(ErrorCode::Config,
                              "'" + path.string() + "' is too large for a secret (over 64 KiB)");
        }
        if (n < buffer.size()) {
            if (std::ferror(file.get()) != 0) {
                return fail(errno != 0 ? errno : EIO);
            }
            break;
        }
    }
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
        content.pop_back();
    }
    if (content.empty()) {
        return make_error(ErrorCode::Config, "'" + path.string() + "' is empty");
    }
    return content;
}

// The credentials key: exactly 32 bytes of raw key, or 64 hex digits (a trailing newline and
// surrounding whitespace allowed). Raw is tried first so a binary key ending in '\n' works.
Result<std::array<std::uint8_t, 32>> read_key_file(const std::filesystem::path& path) {
    errno = 0;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                         &std::fclose);
    if (!file) {
        return make_error(ErrorCode::Config, "cannot read '" + path.string() +
                                                 "': " + std::generic_category().message(errno));
    }
    std::array<char, 256> buffer{};
    const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    std::array<std::uint8_t, 32> key{};
    if (n == key.size()) {
        std::copy_n(buffer.begin(), key.size(), key.begin());
        return key;
    }
    std::string_view text(buffer.data(), n);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
        text.remove_suffix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
        text.remove_prefix(1);
    }
    const auto hex = [](char ch) -> int {
        if (ch >= '0' && ch <= '9') return ch - '0';
        if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
        return -1;
    };
    bool good = text.size() == 64;
    for (std::size_t i = 0; good && i < key.size(); ++i) {
        const int hi = hex(text[2 * i]);
        const int lo = hex(text[2 * i + 1]);
        good = hi >= 0 && lo >= 0;
        key[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    if (!good) {
        return make_error(ErrorCode::Config,
                          "'" + path.string() +
                              "' must hold exactly 32 random bytes or 64 hex digits (create "
                              "one with: openssl rand -hex 32 > FILE)");
    }
    return key;
}

class Converter;
using Apply = void (*)(Converter&, const toml::node&, AppConfig&);

struct KeySpec {
    std::string_view table;
    std::string_view key;
    Apply apply;
};

// A secret file key as written: the path (already resolved) and where it was written.
struct FileRef {
    std::filesystem::path path;
    Position where;
};

class Converter {
public:
    Converter(const std::filesystem::path& file, EnvLookup env)
        : file_(file.string()), base_dir_(file.parent_path()), env_(env) {}

    void error(Position where, std::string message) {
        errors_.push_back({file_, where.line, where.column, std::move(message)});
    }
    void error(const toml::source_region& where, std::string message) {
        error(position_of(where), std::move(message));
    }

    std::vector<ConfigError> take_errors() { return std::move(errors_); }

    void convert(const toml::table& root, AppConfig& config);

    // --- typed readers used by the key table; they report and return nullopt on failure ---
    std::optional<std::int64_t> integer(const toml::node& node, std::int64_t min,
                                        std::int64_t max) {
        const auto* value = node.as_integer();
        if (value == nullptr) {
            wrong_type(node, "an integer");
            return std::nullopt;
        }
        const std::int64_t v = value->get();
        if (v < min || v > max) {
            error(node.source(), current_ + " must be between " + std::to_string(min) + " and " +
                                     std::to_string(max) + ", got " + std::to_string(v));
            return std::nullopt;
        }
        return v;
    }

    // Accepts integers too: `max_power_w = 3700` is what people write.
    std::optional<double> number(const toml::node& node, double min, bool min_exclusive) {
        double v = 0.0;
        if (const auto* i = node.as_integer()) {
            v = static_cast<double>(i->get());
        } else if (const auto* f = node.as_floating_point()) {
            v = f->get();
        } else {
            wrong_type(node, "a number");
            return std::nullopt;
        }
        if (!std::isfinite(v)) {
            error(node.source(), current_ + " must be a finite number");
            return std::nullopt;
        }
        if (min_exclusive ? !(v > min) : !(v >= min)) {
            error(node.source(), current_ + " must be " +
                                     (min_exclusive ? "greater than " : "at least ") +
                                     toml_number(min) + ", got " + toml_number(v));
            return std::nullopt;
        }
        return v;
    }

    std::optional<bool> boolean(const toml::node& node) {
        const auto* value = node.as_boolean();
        if (value == nullptr) {
            wrong_type(node, "a boolean (true or false)");
            return std::nullopt;
        }
        return value->get();
    }

    std::optional<std::string> string(const toml::node& node) {
        const auto* value = node.as_string();
        if (value == nullptr) {
            wrong_type(node, "a string");
            return std::nullopt;
        }
        return value->get();
    }

    // A non-empty string without NUL (paths, ids, names).
    std::optional<std::string> plain_string(const toml::node& node, bool allow_empty = false) {
        auto value = string(node);
        if (!value) {
            return std::nullopt;
        }
        if (!allow_empty && value->empty()) {
            error(node.source(), current_ + " must not be empty");
            return std::nullopt;
        }
        if (value->find('\0') != std::string::npos) {
            error(node.source(), current_ + " must not contain a NUL character");
            return std::nullopt;
        }
        return value;
    }

    std::optional<std::string> topic(const toml::node& node) {
        auto value = string(node);
        if (!value) {
            return std::nullopt;
        }
        if (auto ok = detail::check_topic(*value); !ok) {
            error(node.source(), current_ + " " + ok.error().message);
            return std::nullopt;
        }
        return value;
    }

    // One of `choices` (exact spelling); the error lists them.
    template <typename T, std::size_t N>
    std::optional<T> choice(const toml::node& node,
                            const std::array<std::pair<std::string_view, T>, N>& choices) {
        auto value = string(node);
        if (!value) {
            return std::nullopt;
        }
        std::string allowed;
        for (const auto& [name, v] : choices) {
            if (name == *value) {
                return v;
            }
            allowed += (allowed.empty() ? "'" : ", '") + std::string(name) + "'";
        }
        error(node.source(),
              current_ + " must be one of " + allowed + ", got '" + printable(*value) + "'");
        return std::nullopt;
    }

    [[nodiscard]] std::filesystem::path resolve(const std::filesystem::path& path) const {
        return path.is_absolute() || base_dir_.empty() ? path : base_dir_ / path;
    }

    [[nodiscard]] const std::string& current() const { return current_; }

    std::optional<FileRef> mqtt_password_file;
    std::optional<FileRef> mqtt_ca_file;
    std::optional<FileRef> mqtt_cert_file;
    std::optional<FileRef> mqtt_key_file;
    std::optional<FileRef> credentials_key_file;
    std::optional<FileRef> pg_dsn_file;
    std::optional<Position> pg_dsn_at;
    std::map<std::string, Position, std::less<>> seen;  // dotted key -> value position

private:
    void wrong_type(const toml::node& node, std::string_view expected) {
        error(node.source(),
              current_ + " must be " + std::string(expected) + ", got " + type_name(node.type()));
    }

    static std::string toml_number(double v) {
        std::string s = std::to_string(v);  // "%f": trim trailing zeros for messages
        if (s.find('.') != std::string::npos) {
            while (s.back() == '0') {
                s.pop_back();
            }
            if (s.back() == '.') {
                s.pop_back();
            }
        }
        return s;
    }

    void check_table(const toml::table& table, std::string_view name, AppConfig& config);
    void unknown_key(const toml::key& key, std::string_view table);
    void finish(AppConfig& config);

    std::string file_;
    std::filesystem::path base_dir_;
    EnvLookup env_;
    std::string current_;
    std::vector<ConfigError> errors_;
};

using std::chrono::days;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::array<std::pair<std::string_view, LogLevel>, 6> kLogLevels{{
    {"trace", LogLevel::Trace},
    {"debug", LogLevel::Debug},
    {"info", LogLevel::Info},
    {"warn", LogLevel::Warn},
    {"error", LogLevel::Error},
    {"off", LogLevel::Off},
}};
constexpr std::array<std::pair<std::string_view, DiscoveryMode>, 2> kModes{{
    {"device", DiscoveryMode::Device},
    {"entity", DiscoveryMode::Entity},
}};
constexpr std::array<std::pair<std::string_view, EnergyUnit>, 2> kUnits{{
    {"kWh", EnergyUnit::KilowattHour},
    {"Wh", EnergyUnit::WattHour},
}};

constexpr std::int64_t kMaxDays = 36500;

// The schema: every accepted key, in documentation order. Ranges are documented in
// docs/configuration.md and packaging/intelergy.toml; keep the three in step.
const auto kKeys = std::to_array<KeySpec>({
    {"mqtt", "url",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto s = c.string(n)) {
             auto url = detail::parse_mqtt_url(*s);
             if (url) {
                 a.mqtt.url = std::move(*url);
             } else {
                 c.error(n.source(), c.current() + " '" + printable(*s) + "' " +
                                         url.error().message);
             }
         }
     }},
    {"mqtt", "base_topic",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto s = c.topic(n)) a.mqtt.base_topic = std::move(*s);
     }},
    {"mqtt", "client_id",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto s = c.plain_string(n)) a.mqtt.client_id = std::move(*s);
     }},
    {"mqtt", "username",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto s = c.plain_string(n, true)) a.mqtt.username = std::move(*s);
     }},
    {"mqtt", "password_file",
     [](Converter& c, const toml::node& n, AppConfig&) {
         if (auto s = c.plain_string(n)) {
             c.mqtt_password_file = FileRef{c.resolve(*s), position_of(n.source())};
         }
     }},
    {"mqtt", "ca_file",
     [](Converter& c, const toml::node& n, AppConfig&) {
         if (auto s = c.plain_string(n)) {
             c.mqtt_ca_file = FileRef{c.resolve(*s), position_of(n.source())};
         }
     }},
    {"mqtt", "cert_file",
     [](Converter& c, const toml::node& n, AppConfig&) {
         if (auto s = c.plain_string(n)) {
             c.mqtt_cert_file = FileRef{c.resolve(*s), position_of(n.source())};
         }
     }},
    {"mqtt", "key_file",
     [](Converter& c, const toml::node& n, AppConfig&) {
         if (auto s = c.plain_string(n)) {
             c.mqtt_key_file = FileRef{c.resolve(*s), position_of(n.source())};
         }
     }},
    {"mqtt", "keepalive_s",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.integer(n, 1, 65535)) a.mqtt.keepalive = seconds{*v};
     }},
    {"mqtt", "reconnect_min_s",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.integer(n, 1, 3600)) a.mqtt.reconnect_min = seconds{*v};
     }},
    {"mqtt", "reconnect_max_s",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.integer(n, 1, 86400)) a.mqtt.reconnect_max = seconds{*v};
     }},
    {"postgres", "dsn",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto s = c.plain_string(n)) {
             a.postgres.dsn = std::move(*s);
             a.postgres.dsn_written_inline = true;
             c.pg_dsn_at = position_of(n.source());
         }
     }},
    {"postgres", "dsn_file",
     [](Converter& c, const toml::node& n, AppConfig&) {
         if (auto s = c.plain_string(n)) {
             c.pg_dsn_file = FileRef{c.resolve(*s), position_of(n.source())};
         }
     }},
    {"homeassistant", "enabled",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.boolean(n)) a.homeassistant.enabled = *v;
     }},
    {"homeassistant", "discovery_prefix",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto s = c.topic(n)) a.homeassistant.discovery_prefix = std::move(*s);
     }},
    {"homeassistant", "status_topic",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto s = c.topic(n)) a.homeassistant.status_topic = std::move(*s);
     }},
    {"homeassistant", "mode",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.choice(n, kModes)) a.homeassistant.mode = *v;
     }},
    {"homeassistant", "energy_unit",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.choice(n, kUnits)) a.homeassistant.energy_unit = *v;
     }},
    {"polling", "default_interval_s",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.integer(n, 1, 86400)) a.polling.default_interval = seconds{*v};
     }},
    {"polling", "timeout_ms",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.integer(n, 100, 60000)) a.polling.timeout = milliseconds{*v};
     }},
    {"polling", "max_in_flight",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.integer(n, 1, 100000)) {
             a.polling.max_in_flight = static_cast<std::uint32_t>(*v);
         }
     }},
    {"polling", "offline_after_failures",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.integer(n, 1, 100)) {
             a.polling.offline_after_failures = static_cast<std::uint32_t>(*v);
         }
     }},
    {"polling", "backoff_max_s",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.integer(n, 1, 86400)) a.polling.backoff_max = seconds{*v};
     }},
    {"polling", "allowed_networks",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         const auto* list = n.as_array();
         if (list == nullptr) {
             c.error(n.source(), c.current() + " must be an array of networks such as "
                                               "\"192.168.0.0/16\", got " +
                                     type_name(n.type()));
             return;
         }
         std::vector<IpNetwork> networks;
         bool good = true;
         for (const auto& item : *list) {
             const auto* text = item.as_string();
             if (text == nullptr) {
                 c.error(item.source(), c.current() + " entries must be strings, got " +
                                            type_name(item.type()));
                 good = false;
                 continue;
             }
             auto net = parse_ip_network(text->get());
             if (!net) {
                 c.error(item.source(), c.current() + " entry '" + printable(text->get()) +
                                            "' " + net.error().message);
                 good = false;
                 continue;
             }
             for (const auto& denied : always_denied_networks()) {
                 if (denied.contains(net->base) && net->prefix >= denied.prefix) {
                     c.error(item.source(),
                             c.current() + " entry '" + printable(text->get()) +
                                 "' lies in " + denied.to_string() +
                                 " (link-local, cloud metadata or unspecified), which is never "
                                 "allowed");
                     good = false;
                     break;
                 }
             }
             networks.push_back(*net);
         }
         if (good) a.polling.allowed_networks = std::move(networks);
     }},
    {"shelly_mqtt", "enabled",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.boolean(n)) a.shelly_mqtt.enabled = *v;
     }},
    {"http", "enabled",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.boolean(n)) a.http.enabled = *v;
     }},
    {"http", "listen",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto s = c.string(n)) {
             auto hp = detail::parse_listen(*s);
             if (hp) {
                 a.http.listen_host = std::move(hp->host);
                 a.http.listen_port = hp->port;
             } else {
                 c.error(n.source(),
                         c.current() + " '" + printable(*s) + "' " + hp.error().message);
             }
         }
     }},
    {"log", "level",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.choice(n, kLogLevels)) a.log.level = *v;
     }},
    {"energy", "max_power_w",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.number(n, 0.0, true)) a.energy.max_power_w = *v;
     }},
    {"energy", "dip_tolerance_wh",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.number(n, 0.0, false)) a.energy.dip_tolerance_wh = *v;
     }},
    {"store", "batch_size",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.integer(n, 1, 1000000)) a.store.batch_size = static_cast<std::size_t>(*v);
     }},
    {"store", "flush_interval_ms",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.integer(n, 1, 60000)) a.store.flush_interval = milliseconds{*v};
     }},
    {"store", "queue_capacity",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.integer(n, 1, 100000000)) {
             a.store.queue_capacity = static_cast<std::size_t>(*v);
         }
     }},
    {"store", "spool_dir",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto s = c.plain_string(n)) a.store.spool_dir = c.resolve(*s);
     }},
    {"store", "spool_max_mb",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.integer(n, 1, 1048576)) {
             a.store.spool_max_bytes = static_cast<std::uint64_t>(*v) * 1024U * 1024U;
         }
     }},
    {"store", "credentials_key_file",
     [](Converter& c, const toml::node& n, AppConfig&) {
         if (auto s = c.plain_string(n)) {
             c.credentials_key_file = FileRef{c.resolve(*s), position_of(n.source())};
         }
     }},
    {"retention", "readings_days",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.integer(n, 1, kMaxDays)) a.retention.readings = days{*v};
     }},
    {"retention", "minutes_days",
     [](Converter& c, const toml::node& n, AppConfig& a) {
         if (auto v = c.integer(n, 1, kMaxDays)) a.retention.minutes = days{*v};
     }},
    // Not real keys: recognised so the message can say what to do instead.
    {"mqtt", "password",
     [](Converter& c, const toml::node& n, AppConfig&) {
         c.error(n.source(),
                 "mqtt.password must not be written in the config file; put the password in a "
                 "file and set mqtt.password_file, or set " +
                     std::string(kMqttPasswordEnv));
     }},
});

constexpr std::array<std::string_view, 10> kTables{
    "mqtt", "postgres", "homeassistant", "polling", "shelly_mqtt",
    "http", "log",      "energy",        "store",   "retention",
};

bool is_real_key(const KeySpec& spec) { return !(spec.table == "mqtt" && spec.key == "password"); }

std::string_view strip_unit(std::string_view key) {
    for (std::string_view suffix : {"_s"sv, "_ms"sv, "_days"sv, "_mb"sv, "_w"sv, "_wh"sv}) {
        if (key.size() > suffix.size() && key.ends_with(suffix)) {
            return key.substr(0, key.size() - suffix.size());
        }
    }
    return key;
}

// Picks the one candidate within edit distance 2 (also comparing without unit suffixes, so
// `timeout` finds `timeout_ms`); a tie means no hint rather than a guess.
std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::pair<std::string, std::string>>& cands) {
    std::size_t best = 3;
    std::optional<std::string> found;
    bool tie = false;
    for (const auto& [compare, display] : cands) {
        const std::size_t d = std::min(detail::edit_distance(word, compare),
                                       detail::edit_distance(word, strip_unit(compare)));
        if (d < best) {
            best = d;
            found = display;
            tie = false;
        } else if (d == best && found && *found != display) {
            tie = true;
        }
    }
    return tie ? std::nullopt : found;
}

std::string dotted(std::string_view table, std::string_view key) {
    return table.empty() ? std::string(key) : std::string(table) + "." + std::string(key);
}

void Converter::unknown_key(const toml::key& key, std::string_view table) {
    const std::string name = dotted(table, key.str());
    std::string message = "unknown key '" + printable(name) + "'";
    std::vector<std::pair<std::string, std::string>> same_table;
    for (const auto& spec : kKeys) {
        if (is_real_key(spec) && spec.table == table) {
            same_table.emplace_back(std::string(spec.key), dotted(spec.table, spec.key));
        }
    }
    auto hint = closest(key.str(), same_table);
    if (!hint) {
        // Right key, wrong table (or written at the top level): `[mqtt] dsn`, `level = "info"`.
        std::vector<std::pair<std::string, std::string>> elsewhere;
        for (const auto& spec : kKeys) {
            if (is_real_key(spec) && spec.table != table && spec.key == key.str()) {
                elsewhere.emplace_back(std::string(spec.key), dotted(spec.table, spec.key));
            }
        }
        if (elsewhere.size() == 1) {
            hint = elsewhere.front().second;
        }
    }
    if (hint) {
        message += "; did you mean '" + *hint + "'?";
    }
    error(key.source(), std::move(message));
}

void Converter::check_table(const toml::table& table, std::string_view name, AppConfig& config) {
    for (auto&& [key, node] : table) {
        // Structured bindings are captured explicitly: clang 14 (the fuzz build) refuses them in
        // an implicit capture.
        const auto it = std::find_if(kKeys.begin(), kKeys.end(),
                                     [&, &key = key](const KeySpec& spec) {
                                         return spec.table == name && spec.key == key.str();
                                     });
        if (it == kKeys.end()) {
            unknown_key(key, name);
            continue;
        }
        current_ = dotted(name, key.str());
        seen[current_] = position_of(node.source());
        it->apply(*this, node, config);
    }
}

void Converter::convert(const toml::table& root, AppConfig& config) {
    for (auto&& [key, node] : root) {
        const bool known = std::find(kTables.begin(), kTables.end(), key.str()) != kTables.end();
        if (known) {
            if (const auto* table = node.as_table()) {
                check_table(*table, key.str(), config);
            } else {
                error(node.source(), "'" + std::string(key.str()) + "' must be a table ([" +
                                         std::string(key.str()) + "]), got " +
                                         type_name(node.type()));
            }
            continue;
        }
        if (node.is_table()) {
            std::vector<std::pair<std::string, std::string>> tables;
            for (auto t : kTables) {
                tables.emplace_back(std::string(t), std::string(t));
            }
            std::string message = "unknown table '" + printable(key.str()) + "'";
            if (auto hint = closest(key.str(), tables)) {
                message += "; did you mean '" + *hint + "'?";
            }
            error(key.source(), std::move(message));
        } else {
            unknown_key(key, "");
        }
    }
    finish(config);
}

// Cross-key checks and secrets, after every key has been read.
void Converter::finish(AppConfig& config) {
    const auto where = [&](std::string_view key) -> std::optional<Position> {
        const auto it = seen.find(key);
        return it == seen.end() ? std::nullopt : std::optional<Position>{it->second};
    };

    if (config.mqtt.reconnect_max < config.mqtt.reconnect_min) {
        const auto at = where("mqtt.reconnect_max_s")
                            .value_or(where("mqtt.reconnect_min_s").value_or(Position{}));
        error(at, "mqtt.reconnect_max_s (" + std::to_string(config.mqtt.reconnect_max.count()) +
                      ") must not be less than mqtt.reconnect_min_s (" +
                      std::to_string(config.mqtt.reconnect_min.count()) + ")");
    }
    if (config.store.queue_capacity < config.store.batch_size) {
        const auto at =
            where("store.queue_capacity").value_or(where("store.batch_size").value_or(Position{}));
        error(at, "store.queue_capacity (" + std::to_string(config.store.queue_capacity) +
                      ") must not be less than store.batch_size (" +
                      std::to_string(config.store.batch_size) + ")");
    }

    // MQTT password: password_file (explicit) > INTELERGY_MQTT_PASSWORD > none.
    if (mqtt_password_file) {
        auto secret = read_secret_file(mqtt_password_file->path);
        if (secret) {
            config.mqtt.password = std::move(*secret);
        } else {
            error(mqtt_password_file->where, "mqtt.password_file: " + secret.error().message);
        }
        if (config.mqtt.username.empty()) {
            error(mqtt_password_file->where,
                  "mqtt.password_file is set but mqtt.username is empty (MQTT sends a password "
                  "only together with a user name)");
        }
    } else if (auto value = env_(kMqttPasswordEnv.data()); value && !value->empty()) {
        config.mqtt.password = std::move(*value);
    }

    if (mqtt_password_file) config.mqtt.password_file = mqtt_password_file->path;

    // TLS files: only with mqtts://, certificate and key together, each readable now (a typo
    // is reported here rather than as a failed handshake at run time).
    const auto tls_file = [&](const std::optional<FileRef>& ref, std::string_view key,
                              std::filesystem::path& out) {
        if (!ref) return;
        if (!config.mqtt.url.tls) {
            error(ref->where, "mqtt." + std::string(key) +
                                  " is set but mqtt.url is not mqtts:// (TLS is off)");
            return;
        }
        errno = 0;
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(ref->path.c_str(), "rb"),
                                                          &std::fclose);
        if (!f) {
            error(ref->where, "mqtt." + std::string(key) + ": cannot read '" +
                                  ref->path.string() +
                                  "': " + std::generic_category().message(errno));
            return;
        }
        out = ref->path;
    };
    tls_file(mqtt_ca_file, "ca_file", config.mqtt.ca_file);
    tls_file(mqtt_cert_file, "cert_file", config.mqtt.cert_file);
    tls_file(mqtt_key_file, "key_file", config.mqtt.key_file);
    if (mqtt_cert_file.has_value() != mqtt_key_file.has_value()) {
        const auto& set = mqtt_cert_file ? mqtt_cert_file : mqtt_key_file;
        error(set->where, "mqtt.cert_file and mqtt.key_file must be set together (the client "
                          "certificate and its private key)");
    }

    if (credentials_key_file) {
        auto key = read_key_file(credentials_key_file->path);
        if (key) {
            config.store.credentials_key = *key;
            config.store.credentials_key_file = credentials_key_file->path;
        } else {
            error(credentials_key_file->where,
                  "store.credentials_key_file: " + key.error().message);
        }
    }

    // PostgreSQL DSN: dsn_file (explicit) > INTELERGY_PG_DSN > dsn > built-in default.
    if (pg_dsn_file && pg_dsn_at) {
        error(pg_dsn_file->where, "set only one of postgres.dsn and postgres.dsn_file");
    } else if (pg_dsn_file) {
        auto secret = read_secret_file(pg_dsn_file->path);
        config.postgres.dsn_file = pg_dsn_file->path;
        if (secret) {
            config.postgres.dsn = std::move(*secret);
        } else {
            error(pg_dsn_file->where, "postgres.dsn_file: " + secret.error().message);
        }
    } else if (auto value = env_(kPgDsnEnv.data()); value && !value->empty()) {
        config.postgres.dsn = std::move(*value);
        config.postgres.dsn_written_inline = false;
    }
}

}  // namespace

std::string ConfigError::describe() const {
    if (line == 0) {
        return file + ": " + message;
    }
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

std::string MqttUrl::server_uri() const {
    return std::string(tls ? "ssl://" : "tcp://") + detail::join_host_port(host, port);
}

std::optional<std::string> process_env(const char* name) {
    // getenv is only unsafe against concurrent setenv, which this program never calls.
    const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) {
        return std::nullopt;
    }
    return std::string(value);
}

const char* to_string(LogLevel level) noexcept {
    for (const auto& [name, value] : kLogLevels) {
        if (value == level) {
            return name.data();  // the literals are NUL-terminated
        }
    }
    return "unknown";
}

LoadResult parse_config(std::string_view toml_text, const std::filesystem::path& file,
                        EnvLookup env) {
    LoadResult result;
    const std::string file_name = file.string();
    if (env == nullptr) {
        env = process_env;
    }
    toml::table root;
    try {
        root = toml::parse(toml_text, std::string_view{file_name});
    } catch (const toml::parse_error& e) {
        const auto at = position_of(e.source());
        result.errors.push_back({file_name, at.line, at.column, printable(e.description())});
        return result;
    } catch (const std::exception& e) {  // e.g. bad_alloc; never let toml++ escape
        result.errors.push_back({file_name, 0, 0, std::string("cannot parse: ") + e.what()});
        return result;
    }

    AppConfig config;
    config.source = file;
    Converter converter(file, env);
    converter.convert(root, config);
    result.errors = converter.take_errors();
    std::stable_sort(result.errors.begin(), result.errors.end(),
                     [](const ConfigError& a, const ConfigError& b) {
                         return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                     });
    if (result.errors.empty()) {
        result.config = std::move(config);
    }
    return result;
}

bool dsn_has_password(std::string_view dsn) { return detail::redact_dsn(dsn) != dsn; }

std::vector<std::string> secret_permission_warnings(const AppConfig& config) {
    std::vector<std::string> out;
    const auto check = [&](const std::filesystem::path& path, std::string_view what) {
        if (path.empty()) return;
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) return;  // read errors were reported at load time
        const bool others = (st.st_mode & S_IROTH) != 0;
        // Group-readable is fine when the group is the service's own (root:intelergy 0640).
        const bool foreign_group = (st.st_mode & S_IRGRP) != 0 && st.st_gid != ::getegid();
        if (!others && !foreign_group) return;
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        out.push_back(std::string(what) + " '" + path.string() + "' is readable by " +
                      (others ? "all users" : "group " + std::to_string(st.st_gid)) +
                      " (mode " + mode + "); restrict it, e.g. chmod 0600 or 0640 with the "
                      "service's group");
    };
    if (config.postgres.dsn_written_inline && dsn_has_password(config.postgres.dsn)) {
        check(config.source, "the config file (it holds a password in postgres.dsn)");
    }
    check(config.mqtt.password_file, "mqtt.password_file");
    check(config.postgres.dsn_file, "postgres.dsn_file");
    check(config.mqtt.key_file, "mqtt.key_file");
    check(config.store.credentials_key_file, "store.credentials_key_file");
    return out;
}

LoadResult load_config(const std::filesystem::path& file, EnvLookup env) {
    errno = 0;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> handle(std::fopen(file.c_str(), "rb"),
                                                           &std::fclose);
    const auto fail = [&](int err) {
        LoadResult result;
        result.errors.push_back(
            {file.string(), 0, 0,
             "cannot read config file: " + std::generic_category().message(err)});
        return result;
    };
    if (!handle) {
        return fail(errno);
    }
    std::string text;
    std::array<char, 8192> buffer{};
    while (true) {
        const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), handle.get());
        text.append(buffer.data(), n);
        if (n < buffer.size()) {
            if (std::ferror(handle.get()) != 0) {
                return fail(errno != 0 ? errno : EIO);
            }
            break;
        }
    }
    return parse_config(text, file, env);
}

}  // namespace intelergy::config
