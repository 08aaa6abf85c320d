#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "intelergy/core/net_policy.hpp"
#include "intelergy/core/result.hpp"

namespace intelergy::config {

enum class LogLevel { Trace, Debug, Info, Warn, Error, Off };
enum class DiscoveryMode { Device, Entity };  // device-based (HA >= 2024.11) or one topic/entity
enum class EnergyUnit { KilowattHour, WattHour };

struct MqttUrl {
    bool tls{false};            // mqtts://
    std::string host{"127.0.0.1"};
    std::uint16_t port{1883};
    [[nodiscard]] std::string server_uri() const;  // "tcp://host:port" / "ssl://host:port"
};

struct MqttConfig {
    MqttUrl url;                                  // default mqtt://127.0.0.1:1883
    std::string base_topic{"intelergy"};
    std::string client_id{"intelergy"};
    std::string username;                         // empty: anonymous
    std::string password;                         // from password_file or INTELERGY_MQTT_PASSWORD
    std::filesystem::path password_file;          // empty: not set (checked for permissions)
    // TLS (mqtts:// only). Empty paths are unset: the system trust store is used and no
    // client certificate is sent. The server certificate and host name are always verified.
    std::filesystem::path ca_file;
    std::filesystem::path cert_file;
    std::filesystem::path key_file;               // with cert_file; a secret
    std::chrono::seconds keepalive{30};
    std::chrono::seconds reconnect_min{1};
    std::chrono::seconds reconnect_max{30};
};

struct PostgresConfig {
    std::string dsn{"postgresql:///intelergy"};   // from dsn, dsn_file or INTELERGY_PG_DSN
    std::filesystem::path dsn_file;               // empty: not set (checked for permissions)
    bool dsn_written_inline{false};               // postgres.dsn came from the config file
};

struct HomeAssistantConfig {
    bool enabled{true};
    std::string discovery_prefix{"homeassistant"};
    std::string status_topic{"homeassistant/status"};
    DiscoveryMode mode{DiscoveryMode::Device};
    EnergyUnit energy_unit{EnergyUnit::KilowattHour};
};

struct PollingConfig {
    std::chrono::seconds default_interval{10};
    std::chrono::milliseconds timeout{3000};
    std::uint32_t max_in_flight{256};
    std::uint32_t offline_after_failures{3};
    std::chrono::seconds backoff_max{60};
    // Plug addresses the bridge may connect to; link-local and metadata addresses are refused
    // whatever this says (intelergy::always_denied_networks()).
    std::vector<IpNetwork> allowed_networks{default_allowed_networks()};
};

struct ShellyMqttConfig {
    bool enabled{true};
};

struct HttpConfig {
    bool enabled{true};
    std::string listen_host{"127.0.0.1"};
    std::uint16_t listen_port{9469};
};

struct LogConfig {
    LogLevel level{LogLevel::Info};
};

struct EnergyConfig {
    double max_power_w{3700.0};            // a counter jump implying more is rejected
    double dip_tolerance_wh{0.1};          // smaller backwards steps are rounding, held
};

struct StoreConfig {
    std::size_t batch_size{1000};
    std::chrono::milliseconds flush_interval{200};
    std::size_t queue_capacity{100000};
    std::filesystem::path spool_dir{"/var/lib/intelergy/spool"};
    std::uint64_t spool_max_bytes{512ULL * 1024 * 1024};
    // Key for device passwords at rest (AES-256-GCM), read from credentials_key_file: 32 raw
    // bytes or 64 hex digits. Unset: passwords are stored in clear (warned at start).
    std::filesystem::path credentials_key_file;
    std::optional<std::array<std::uint8_t, 32>> credentials_key;
};

struct RetentionConfig {
    std::chrono::days readings{90};
    std::chrono::days minutes{365};
    // hours, days, weeks, months: kept forever
};

struct AppConfig {
    std::filesystem::path source;          // the file it came from (for messages)
    MqttConfig mqtt;
    PostgresConfig postgres;
    HomeAssistantConfig homeassistant;
    PollingConfig polling;
    ShellyMqttConfig shelly_mqtt;
    HttpConfig http;
    LogConfig log;
    EnergyConfig energy;
    StoreConfig store;
    RetentionConfig retention;
};

// One problem found in a config file, e.g. {"intelergy.toml", 3, 1, "unknown key 'polling.intervall'"}.
struct ConfigError {
    std::string file;
    std::uint32_t line{0};
    std::uint32_t column{0};
    std::string message;
    [[nodiscard]] std::string describe() const;  // "file:line:column: message"
};

struct LoadResult {
    std::optional<AppConfig> config;       // set iff errors is empty
    std::vector<ConfigError> errors;       // every error found, not only the first
};

// Environment lookup, injectable for tests. Returns nullopt when unset.
using EnvLookup = std::optional<std::string> (*)(const char* name);
std::optional<std::string> process_env(const char* name);

// Parses and validates TOML text. `file` is used in messages and to resolve relative *_file paths.
LoadResult parse_config(std::string_view toml_text, const std::filesystem::path& file,
                        EnvLookup env = process_env);
LoadResult load_config(const std::filesystem::path& file, EnvLookup env = process_env);

// Warnings about secrets other users could read: the config file when it holds a secret
// inline (a DSN with a password), and every *_file secret (mqtt.password_file,
// postgres.dsn_file, mqtt.key_file, store.credentials_key_file) that is readable by others, or
// by a group other than the process's own. One message per file; empty when all is well.
std::vector<std::string> secret_permission_warnings(const AppConfig& config);

// True when a libpq DSN carries a password (keyword or URI form).
bool dsn_has_password(std::string_view dsn);

// Human summary of the effective config with secrets redacted (for the startup log).
std::string summarize(const AppConfig& config);

const char* to_string(LogLevel level) noexcept;

}  // namespace intelergy::config
