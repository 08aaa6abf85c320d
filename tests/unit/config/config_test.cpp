#include <intelergy/config/config.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace {

using namespace intelergy::config;
using namespace std::chrono_literals;

const std::filesystem::path kDataDir =
    std::filesystem::path(INTELERGY_SOURCE_DIR) / "tests" / "data" / "config";
// A config "file" living next to the secret fixtures, so relative *_file paths resolve there.
const std::filesystem::path kFileInData = kDataDir / "intelergy.toml";

std::optional<std::string> no_env(const char*) { return std::nullopt; }

std::optional<std::string> both_env(const char* name) {
    const std::string n(name);
    if (n == "INTELERGY_MQTT_PASSWORD") return "env-password";
    if (n == "INTELERGY_PG_DSN") return "postgresql://envuser:envpw@envhost/intelergy";
    return std::nullopt;
}

std::optional<std::string> empty_env(const char*) { return std::string(); }

LoadResult parse(std::string_view text, EnvLookup env = no_env) {
    return parse_config(text, "test.toml", env);
}

std::string all_errors(const LoadResult& r) {
    std::string out;
    for (const auto& e : r.errors) out += e.describe() + "\n";
    return out;
}

// Parses text expected to be valid and returns the config.
AppConfig ok(std::string_view text, EnvLookup env = no_env,
             const std::filesystem::path& file = "test.toml") {
    auto r = parse_config(text, file, env);
    EXPECT_TRUE(r.errors.empty()) << all_errors(r);
    EXPECT_TRUE(r.config.has_value());
    return r.config.value_or(AppConfig{});
}

// Parses text expected to fail with exactly one error and returns it.
ConfigError one_error(std::string_view text, EnvLookup env = no_env,
                      const std::filesystem::path& file = "test.toml") {
    auto r = parse_config(text, file, env);
    EXPECT_FALSE(r.config.has_value());
    EXPECT_EQ(r.errors.size(), 1U) << all_errors(r);
    return r.errors.empty() ? ConfigError{} : r.errors.front();
}

TEST(ParseConfig, EmptyTextGivesStructDefaults) {
    const AppConfig c = ok("");
    const AppConfig d;
    EXPECT_EQ(c.source, "test.toml");
    EXPECT_FALSE(c.mqtt.url.tls);
    EXPECT_EQ(c.mqtt.url.host, "127.0.0.1");
    EXPECT_EQ(c.mqtt.url.port, 1883);
    EXPECT_EQ(c.mqtt.base_topic, "intelergy");
    EXPECT_EQ(c.mqtt.client_id, "intelergy");
    EXPECT_EQ(c.mqtt.username, "");
    EXPECT_EQ(c.mqtt.password, "");
    EXPECT_EQ(c.mqtt.keepalive, 30s);
    EXPECT_EQ(c.mqtt.reconnect_min, 1s);
    EXPECT_EQ(c.mqtt.reconnect_max, 30s);
    EXPECT_EQ(c.postgres.dsn, "postgresql:///intelergy");
    EXPECT_TRUE(c.homeassistant.enabled);
    EXPECT_EQ(c.homeassistant.discovery_prefix, "homeassistant");
    EXPECT_EQ(c.homeassistant.status_topic, "homeassistant/status");
    EXPECT_EQ(c.homeassistant.mode, DiscoveryMode::Device);
    EXPECT_EQ(c.homeassistant.energy_unit, EnergyUnit::KilowattHour);
    EXPECT_EQ(c.polling.default_interval, 10s);
    EXPECT_EQ(c.polling.timeout, 3000ms);
    EXPECT_EQ(c.polling.max_in_flight, 256U);
    EXPECT_EQ(c.polling.offline_after_failures, 3U);
    EXPECT_EQ(c.polling.backoff_max, 60s);
    EXPECT_TRUE(c.shelly_mqtt.enabled);
    EXPECT_TRUE(c.http.enabled);
    EXPECT_EQ(c.http.listen_host, "127.0.0.1");
    EXPECT_EQ(c.http.listen_port, 9469);
    EXPECT_EQ(c.log.level, LogLevel::Info);
    EXPECT_DOUBLE_EQ(c.energy.max_power_w, 3700.0);
    EXPECT_DOUBLE_EQ(c.energy.dip_tolerance_wh, 0.1);
    EXPECT_EQ(c.store.batch_size, 1000U);
    EXPECT_EQ(c.store.flush_interval, 200ms);
    EXPECT_EQ(c.store.queue_capacity, 100000U);
    EXPECT_EQ(c.store.spool_dir, "/var/lib/intelergy/spool");
    EXPECT_EQ(c.store.spool_max_bytes, 512ULL * 1024 * 1024);
    EXPECT_EQ(c.retention.readings, std::chrono::days{90});
    EXPECT_EQ(c.retention.minutes, std::chrono::days{365});
    EXPECT_EQ(c.retention.readings, d.retention.readings);
}

TEST(ParseConfig, EveryKeyIsRead) {
    const auto r = load_config(kDataDir / "full.toml", no_env);
    ASSERT_TRUE(r.errors.empty()) << all_errors(r);
    const AppConfig& c = *r.config;
    EXPECT_EQ(c.source, kDataDir / "full.toml");
    EXPECT_TRUE(c.mqtt.url.tls);
    EXPECT_EQ(c.mqtt.url.host, "broker.example");
    EXPECT_EQ(c.mqtt.url.port, 8884);
    EXPECT_EQ(c.mqtt.base_topic, "home/energy");
    EXPECT_EQ(c.mqtt.client_id, "intelergy-test");
    EXPECT_EQ(c.mqtt.username, "bridge");
    EXPECT_EQ(c.mqtt.password, "s3cret pass ");  // newline stripped, trailing space kept
    EXPECT_EQ(c.mqtt.keepalive, 45s);
    EXPECT_EQ(c.mqtt.reconnect_min, 2s);
    EXPECT_EQ(c.mqtt.reconnect_max, 60s);
    EXPECT_EQ(c.postgres.dsn, "host=db.example user=intelergy password=filepw dbname=intelergy");
    EXPECT_FALSE(c.homeassistant.enabled);
    EXPECT_EQ(c.homeassistant.discovery_prefix, "ha");
    EXPECT_EQ(c.homeassistant.status_topic, "ha/status");
    EXPECT_EQ(c.homeassistant.mode, DiscoveryMode::Entity);
    EXPECT_EQ(c.homeassistant.energy_unit, EnergyUnit::WattHour);
    EXPECT_EQ(c.polling.default_interval, 15s);
    EXPECT_EQ(c.polling.timeout, 2500ms);
    EXPECT_EQ(c.polling.max_in_flight, 64U);
    EXPECT_EQ(c.polling.offline_after_failures, 5U);
    EXPECT_EQ(c.polling.backoff_max, 600s);
    EXPECT_FALSE(c.shelly_mqtt.enabled);
    EXPECT_FALSE(c.http.enabled);
    EXPECT_EQ(c.http.listen_host, "::1");
    EXPECT_EQ(c.http.listen_port, 9470);
    EXPECT_EQ(c.log.level, LogLevel::Debug);
    EXPECT_DOUBLE_EQ(c.energy.max_power_w, 2500.5);
    EXPECT_DOUBLE_EQ(c.energy.dip_tolerance_wh, 0.0);
    EXPECT_EQ(c.store.batch_size, 500U);
    EXPECT_EQ(c.store.flush_interval, 100ms);
    EXPECT_EQ(c.store.queue_capacity, 5000U);
    EXPECT_EQ(c.store.spool_dir, kDataDir / "spool");  // relative to the config file
    EXPECT_EQ(c.store.spool_max_bytes, 64ULL * 1024 * 1024);
    EXPECT_EQ(c.retention.readings, std::chrono::days{30});
    EXPECT_EQ(c.retention.minutes, std::chrono::days{180});
}

TEST(ParseConfig, PackagedExampleValidates) {
    const auto path = std::filesystem::path(INTELERGY_SOURCE_DIR) / "packaging" / "intelergy.toml";
    const auto r = load_config(path, no_env);
    EXPECT_TRUE(r.errors.empty()) << all_errors(r);
    ASSERT_TRUE(r.config.has_value());
    // The example documents the defaults, so it must produce exactly them.
    AppConfig defaults;
    defaults.source = path;
    EXPECT_EQ(summarize(*r.config), summarize(defaults));
}

TEST(ParseConfig, MisspeltKeyHasPositionAndHint) {
    const auto e = one_error("[polling]\ndefault_interval_s = 5\n  timout_ms = 100\n");
    EXPECT_EQ(e.file, "test.toml");
    EXPECT_EQ(e.line, 3U);
    EXPECT_EQ(e.column, 3U);
    EXPECT_EQ(e.message, "unknown key 'polling.timout_ms'; did you mean 'polling.timeout_ms'?");
    EXPECT_EQ(e.describe(),
              "test.toml:3:3: unknown key 'polling.timout_ms'; did you mean 'polling.timeout_ms'?");
}

TEST(ParseConfig, UnknownKeyWithoutCloseMatchHasNoHint) {
    const auto e = one_error("[polling]\nintervall = 5\n");
    EXPECT_EQ(e.message, "unknown key 'polling.intervall'");
    EXPECT_EQ(e.line, 2U);
    EXPECT_EQ(e.column, 1U);
}

TEST(ParseConfig, HintFindsKeyWithoutUnitSuffix) {
    EXPECT_EQ(one_error("[polling]\ntimeout = 5\n").message,
              "unknown key 'polling.timeout'; did you mean 'polling.timeout_ms'?");
}

TEST(ParseConfig, HintFindsKeyInOtherTable) {
    EXPECT_EQ(one_error("[mqtt]\ndsn = 'x'\n").message,
              "unknown key 'mqtt.dsn'; did you mean 'postgres.dsn'?");
    EXPECT_EQ(one_error("level = 'info'\n").message,
              "unknown key 'level'; did you mean 'log.level'?");
}

TEST(ParseConfig, UnknownTableIsAnError) {
    const auto e = one_error("[mqtt]\n[polling]\n[polin]\nx = 1\n");
    EXPECT_EQ(e.line, 3U);
    EXPECT_EQ(e.message, "unknown table 'polin'; did you mean 'polling'?");
}

TEST(ParseConfig, KnownTableMustBeATable) {
    const auto e = one_error("mqtt = 'mqtt://x'\n");
    EXPECT_EQ(e.message, "'mqtt' must be a table ([mqtt]), got string");
}

TEST(ParseConfig, SubTableOfKnownTableIsUnknownKey) {
    EXPECT_EQ(one_error("[polling.devices]\nx = 1\n").message, "unknown key 'polling.devices'");
}

TEST(ParseConfig, WrongTypes) {
    auto e = one_error("[polling]\ntimeout_ms = \"3000\"\n");
    EXPECT_EQ(e.message, "polling.timeout_ms must be an integer, got string");
    EXPECT_EQ(e.line, 2U);
    EXPECT_EQ(e.column, 14U);  // the value, not the key
    EXPECT_EQ(one_error("[polling]\ndefault_interval_s = 1.5\n").message,
              "polling.default_interval_s must be an integer, got float");
    EXPECT_EQ(one_error("[http]\nenabled = 'yes'\n").message,
              "http.enabled must be a boolean (true or false), got string");
    EXPECT_EQ(one_error("[mqtt]\nurl = 1883\n").message, "mqtt.url must be a string, got integer");
    EXPECT_EQ(one_error("[energy]\nmax_power_w = 'lots'\n").message,
              "energy.max_power_w must be a number, got string");
    EXPECT_EQ(one_error("[mqtt]\nbase_topic = ['a']\n").message,
              "mqtt.base_topic must be a string, got array");
}

TEST(ParseConfig, IntegerAcceptedForFloatKeys) {
    EXPECT_DOUBLE_EQ(ok("[energy]\nmax_power_w = 3000\n").energy.max_power_w, 3000.0);
}

TEST(ParseConfig, OutOfRange) {
    EXPECT_EQ(one_error("[polling]\ntimeout_ms = 99\n").message,
              "polling.timeout_ms must be between 100 and 60000, got 99");
    EXPECT_EQ(one_error("[polling]\ndefault_interval_s = 0\n").message,
              "polling.default_interval_s must be between 1 and 86400, got 0");
    EXPECT_EQ(one_error("[polling]\nmax_in_flight = 100001\n").message,
              "polling.max_in_flight must be between 1 and 100000, got 100001");
    EXPECT_EQ(one_error("[polling]\noffline_after_failures = -3\n").message,
              "polling.offline_after_failures must be between 1 and 100, got -3");
    EXPECT_EQ(one_error("[retention]\nminutes_days = 0\n").message,
              "retention.minutes_days must be between 1 and 36500, got 0");
    EXPECT_EQ(one_error("[energy]\nmax_power_w = 0\n").message,
              "energy.max_power_w must be greater than 0, got 0");
    EXPECT_EQ(one_error("[energy]\ndip_tolerance_wh = -0.5\n").message,
              "energy.dip_tolerance_wh must be at least 0, got -0.5");
    EXPECT_EQ(one_error("[energy]\nmax_power_w = inf\n").message,
              "energy.max_power_w must be a finite number");
    // Boundaries are inclusive.
    const auto c = ok("[polling]\ntimeout_ms = 100\ndefault_interval_s = 86400\n");
    EXPECT_EQ(c.polling.timeout, 100ms);
    EXPECT_EQ(c.polling.default_interval, 86400s);
}

TEST(ParseConfig, EnumValues) {
    EXPECT_EQ(ok("[log]\nlevel = 'trace'\n").log.level, LogLevel::Trace);
    EXPECT_EQ(ok("[log]\nlevel = 'off'\n").log.level, LogLevel::Off);
    EXPECT_EQ(one_error("[log]\nlevel = 'verbose'\n").message,
              "log.level must be one of 'trace', 'debug', 'info', 'warn', 'error', 'off', got "
              "'verbose'");
    EXPECT_EQ(one_error("[homeassistant]\nenergy_unit = 'kwh'\n").message,
              "homeassistant.energy_unit must be one of 'kWh', 'Wh', got 'kwh'");
    EXPECT_EQ(one_error("[homeassistant]\nmode = 'both'\n").message,
              "homeassistant.mode must be one of 'device', 'entity', got 'both'");
}

TEST(ParseConfig, CrossKeyChecks) {
    auto e = one_error("[mqtt]\nreconnect_min_s = 10\nreconnect_max_s = 5\n");
    EXPECT_EQ(e.line, 3U);
    EXPECT_EQ(e.message,
              "mqtt.reconnect_max_s (5) must not be less than mqtt.reconnect_min_s (10)");
    e = one_error("[store]\nbatch_size = 100\nqueue_capacity = 10\n");
    EXPECT_EQ(e.line, 3U);
    EXPECT_EQ(e.message, "store.queue_capacity (10) must not be less than store.batch_size (100)");
}

TEST(ParseConfig, AllErrorsAreCollectedInFileOrder) {
    const auto r = parse(
        "[polling]\n"
        "timeout_ms = 5\n"  // 2: range
        "intervall = 10\n"  // 3: unknown
        "[mqtt]\n"
        "url = 'http://x'\n"    // 5: scheme
        "base_topic = 'a/#'\n"  // 6: wildcard
        "keepalive_s = '30'\n"  // 7: type
        "[bogus]\n");           // 8: table
    ASSERT_FALSE(r.config.has_value());
    ASSERT_EQ(r.errors.size(), 6U) << all_errors(r);
    const std::uint32_t lines[] = {2, 3, 5, 6, 7, 8};
    for (std::size_t i = 0; i < r.errors.size(); ++i) {
        EXPECT_EQ(r.errors[i].line, lines[i]) << r.errors[i].describe();
        EXPECT_EQ(r.errors[i].file, "test.toml");
    }
    EXPECT_EQ(r.errors[1].message, "unknown key 'polling.intervall'");
    EXPECT_EQ(r.errors[5].message, "unknown table 'bogus'");
}

TEST(ParseConfig, SyntaxErrorHasLineAndColumn) {
    const auto e = one_error("[mqtt]\nurl = \"mqtt://x\"\nkeepalive_s = tru\n");
    EXPECT_EQ(e.file, "test.toml");
    EXPECT_EQ(e.line, 3U);
    EXPECT_GT(e.column, 0U);
    EXPECT_NE(e.message.find("boolean"), std::string::npos) << e.message;
    EXPECT_EQ(e.message.find('\n'), std::string::npos) << "messages stay on one line";
}

TEST(ParseConfig, DuplicateKeyIsReported) {
    const auto e = one_error("[log]\nlevel = 'info'\nlevel = 'debug'\n");
    EXPECT_EQ(e.line, 3U);
}

TEST(ParseConfig, DescribeWithoutPosition) {
    const ConfigError e{"/etc/x.toml", 0, 0, "cannot read config file: No such file"};
    EXPECT_EQ(e.describe(), "/etc/x.toml: cannot read config file: No such file");
}

TEST(LoadConfig, MissingFileIsAnError) {
    const auto r = load_config(kDataDir / "does-not-exist.toml", no_env);
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_FALSE(r.config.has_value());
    EXPECT_EQ(r.errors[0].line, 0U);
    EXPECT_EQ(r.errors[0].message, "cannot read config file: No such file or directory");
}

// --- URLs and listen addresses ---

TEST(MqttUrl, Accepted) {
    struct Case {
        const char* url;
        bool tls;
        const char* host;
        std::uint16_t port;
        const char* server_uri;
    };
    const Case cases[] = {
        {"mqtt://broker", false, "broker", 1883, "tcp://broker:1883"},
        {"mqtts://broker", true, "broker", 8883, "ssl://broker:8883"},
        {"mqtt://10.0.0.5:1884", false, "10.0.0.5", 1884, "tcp://10.0.0.5:1884"},
        {"MQTTS://broker.example:443/", true, "broker.example", 443, "ssl://broker.example:443"},
        {"mqtt://[::1]", false, "::1", 1883, "tcp://[::1]:1883"},
        {"mqtts://[fe80::1]:9000", true, "fe80::1", 9000, "ssl://[fe80::1]:9000"},
    };
    for (const auto& c : cases) {
        const auto cfg = ok(std::string("[mqtt]\nurl = '") + c.url + "'\n");
        EXPECT_EQ(cfg.mqtt.url.tls, c.tls) << c.url;
        EXPECT_EQ(cfg.mqtt.url.host, c.host) << c.url;
        EXPECT_EQ(cfg.mqtt.url.port, c.port) << c.url;
        EXPECT_EQ(cfg.mqtt.url.server_uri(), c.server_uri) << c.url;
    }
}

TEST(MqttUrl, Rejected) {
    struct Case {
        const char* url;
        const char* message;
    };
    const Case cases[] = {
        {"http://broker", "has unsupported scheme 'http' (use mqtt:// or mqtts://)"},
        {"tcp://broker:1883", "has unsupported scheme 'tcp' (use mqtt:// or mqtts://)"},
        {"broker:1883", "must look like mqtt://host:port or mqtts://host:port"},
        {"mqtt://", "has no host"},
        {"mqtt://:1883", "has no host"},
        {"mqtt://broker:0", "has a bad port '0' (expected 1..65535)"},
        {"mqtt://broker:65536", "has a bad port '65536' (expected 1..65535)"},
        {"mqtt://broker:12a", "has a bad port '12a' (expected 1..65535)"},
        {"mqtt://broker:", "has a bad port '' (expected 1..65535)"},
        {"mqtt://::1:1883", "has an IPv6 address without brackets (write [::1]:port)"},
        {"mqtt://broker/topic", "must not contain a path, query or fragment"},
        {"mqtt://user:pw@broker",
         "must not contain user info; use mqtt.username and mqtt.password_file "
         "(or INTELERGY_MQTT_PASSWORD)"},
    };
    for (const auto& c : cases) {
        const auto e = one_error(std::string("[mqtt]\nurl = '") + c.url + "'\n");
        EXPECT_EQ(e.message, std::string("mqtt.url '") + c.url + "' " + c.message);
        EXPECT_EQ(e.line, 2U);
        EXPECT_EQ(e.column, 7U);
    }
}

TEST(HttpListen, AcceptedAndRejected) {
    auto c = ok("[http]\nlisten = '0.0.0.0:8080'\n");
    EXPECT_EQ(c.http.listen_host, "0.0.0.0");
    EXPECT_EQ(c.http.listen_port, 8080);
    c = ok("[http]\nlisten = '[::]:9469'\n");
    EXPECT_EQ(c.http.listen_host, "::");
    EXPECT_EQ(c.http.listen_port, 9469);
    c = ok("[http]\nlisten = 'localhost:1'\n");
    EXPECT_EQ(c.http.listen_host, "localhost");
    EXPECT_EQ(one_error("[http]\nlisten = 'localhost'\n").message,
              "http.listen 'localhost' has no port (expected host:port, e.g. 127.0.0.1:9469 or "
              "[::1]:9469)");
    EXPECT_EQ(one_error("[http]\nlisten = '::1:9469'\n").message,
              "http.listen '::1:9469' has an IPv6 address without brackets (write [::1]:port)");
    EXPECT_EQ(one_error("[http]\nlisten = ':9469'\n").message, "http.listen ':9469' has no host");
    EXPECT_EQ(one_error("[http]\nlisten = '[::1:9469'\n").message,
              "http.listen '[::1:9469' has an unterminated '[' in the host");
}

// --- topics ---

TEST(Topics, BaseTopicValidation) {
    EXPECT_EQ(ok("[mqtt]\nbase_topic = 'site/energy'\n").mqtt.base_topic, "site/energy");
    struct Case {
        const char* toml_value;
        const char* message;
    };
    const Case cases[] = {
        {"''", "must not be empty"},
        {"'a/+/b'", "must not contain the MQTT wildcards '+' or '#'"},
        {"'a/#'", "must not contain the MQTT wildcards '+' or '#'"},
        {"'/a'", "must not start or end with '/'"},
        {"'a/'", "must not start or end with '/'"},
        {"'a//b'", "must not contain an empty level ('//')"},
        {"\"a\\u0000b\"", "must not contain a NUL character"},
        {"'$SYS/x'", "must not start with '$' (reserved for broker topics such as $SYS)"},
    };
    for (const auto& c : cases) {
        const auto e = one_error(std::string("[mqtt]\nbase_topic = ") + c.toml_value + "\n");
        EXPECT_EQ(e.message, std::string("mqtt.base_topic ") + c.message) << c.toml_value;
    }
}

TEST(Topics, HomeAssistantTopicsValidated) {
    EXPECT_EQ(one_error("[homeassistant]\ndiscovery_prefix = 'ha/'\n").message,
              "homeassistant.discovery_prefix must not start or end with '/'");
    EXPECT_EQ(one_error("[homeassistant]\nstatus_topic = 'ha/+'\n").message,
              "homeassistant.status_topic must not contain the MQTT wildcards '+' or '#'");
}

// --- secrets ---

TEST(Secrets, LiteralPasswordIsRejected) {
    const auto e = one_error("[mqtt]\nusername = 'u'\npassword = 'hunter2'\n");
    EXPECT_EQ(e.line, 3U);
    EXPECT_EQ(e.message,
              "mqtt.password must not be written in the config file; put the password in a file "
              "and set mqtt.password_file, or set INTELERGY_MQTT_PASSWORD");
    EXPECT_EQ(e.message.find("hunter2"), std::string::npos);
}

TEST(Secrets, PasswordFileIsRelativeToConfigFile) {
    const auto c =
        ok("[mqtt]\nusername = 'u'\npassword_file = 'mqtt_password'\n", no_env, kFileInData);
    EXPECT_EQ(c.mqtt.password, "s3cret pass ");
}

TEST(Secrets, PasswordFileAbsolutePath) {
    const auto text =
        "[mqtt]\nusername = 'u'\npassword_file = '" + (kDataDir / "mqtt_password").string() + "'\n";
    EXPECT_EQ(ok(text, no_env, "/nonexistent/dir/intelergy.toml").mqtt.password, "s3cret pass ");
}

TEST(Secrets, MissingPasswordFileIsReportedAtTheKey) {
    const auto e =
        one_error("[mqtt]\nusername = 'u'\npassword_file = 'nope'\n", both_env, kFileInData);
    EXPECT_EQ(e.file, kFileInData.string());
    EXPECT_EQ(e.line, 3U);
    EXPECT_EQ(e.column, 17U);
    EXPECT_EQ(e.message, "mqtt.password_file: cannot read '" + (kDataDir / "nope").string() +
                             "': No such file or directory");
}

TEST(Secrets, EmptyPasswordFileIsAnError) {
    const auto e =
        one_error("[mqtt]\nusername = 'u'\npassword_file = 'empty_secret'\n", no_env, kFileInData);
    EXPECT_EQ(e.message,
              "mqtt.password_file: '" + (kDataDir / "empty_secret").string() + "' is empty");
}

TEST(Secrets, PasswordFileNeedsUsername) {
    const auto e = one_error("[mqtt]\npassword_file = 'mqtt_password'\n", no_env, kFileInData);
    EXPECT_EQ(e.line, 2U);
    EXPECT_NE(e.message.find("mqtt.username is empty"), std::string::npos) << e.message;
}

TEST(Secrets, PasswordFileWinsOverEnvironment) {
    const auto c =
        ok("[mqtt]\nusername = 'u'\npassword_file = 'mqtt_password'\n", both_env, kFileInData);
    EXPECT_EQ(c.mqtt.password, "s3cret pass ");
}

TEST(Secrets, PasswordFromEnvironmentWhenNoFile) {
    EXPECT_EQ(ok("[mqtt]\nusername = 'u'\n", both_env).mqtt.password, "env-password");
    EXPECT_EQ(ok("", no_env).mqtt.password, "");
    EXPECT_EQ(ok("", empty_env).mqtt.password, "") << "set-but-empty counts as unset";
}

TEST(Secrets, DsnPrecedence) {
    // Inline dsn < INTELERGY_PG_DSN < dsn_file.
    EXPECT_EQ(ok("[postgres]\ndsn = 'host=inline'\n", no_env).postgres.dsn, "host=inline");
    EXPECT_EQ(ok("[postgres]\ndsn = 'host=inline'\n", both_env).postgres.dsn,
              "postgresql://envuser:envpw@envhost/intelergy");
    EXPECT_EQ(ok("", both_env).postgres.dsn, "postgresql://envuser:envpw@envhost/intelergy");
    EXPECT_EQ(ok("", empty_env).postgres.dsn, "postgresql:///intelergy");
    EXPECT_EQ(ok("[postgres]\ndsn_file = 'pg_dsn'\n", both_env, kFileInData).postgres.dsn,
              "host=db.example user=intelergy password=filepw dbname=intelergy");
}

TEST(Secrets, DsnAndDsnFileTogetherIsAnError) {
    const auto e =
        one_error("[postgres]\ndsn = 'host=x'\ndsn_file = 'pg_dsn'\n", no_env, kFileInData);
    EXPECT_EQ(e.line, 3U);
    EXPECT_EQ(e.message, "set only one of postgres.dsn and postgres.dsn_file");
}

TEST(Secrets, MissingDsnFile) {
    const auto e = one_error("[postgres]\ndsn_file = 'missing'\n", both_env, kFileInData);
    EXPECT_EQ(e.line, 2U);
    EXPECT_NE(e.message.find("postgres.dsn_file: cannot read"), std::string::npos) << e.message;
}

TEST(Env, ProcessEnvReadsTheEnvironment) {
    EXPECT_FALSE(process_env("INTELERGY_TEST_SURELY_UNSET_VARIABLE").has_value());
    const auto path = process_env("PATH");
    EXPECT_TRUE(path.has_value());
}

// --- summary ---

TEST(Summarize, RedactsMqttPassword) {
    AppConfig c;
    c.mqtt.username = "bridge";
    c.mqtt.password = "hunter2";
    const auto text = summarize(c);
    EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
    EXPECT_NE(text.find("username=bridge password=***"), std::string::npos) << text;
    c.mqtt.password.clear();
    EXPECT_NE(summarize(c).find("password=(none)"), std::string::npos);
}

TEST(Summarize, RedactsDsnPasswords) {
    struct Case {
        const char* dsn;
        const char* shown;
    };
    const Case cases[] = {
        {"postgresql:///intelergy", "postgresql:///intelergy"},
        {"postgresql://user:hunter2@db:5432/intelergy", "postgresql://user:***@db:5432/intelergy"},
        {"postgres://user@db/intelergy", "postgres://user@db/intelergy"},
        {"postgresql://db:5432/intelergy", "postgresql://db:5432/intelergy"},
        {"postgresql://u:hu@n/ter2@db/x", "postgresql://u:***@db/x"},
        {"postgresql://db/x?user=u&password=hunter2&sslmode=require",
         "postgresql://db/x?user=u&password=***&sslmode=require"},
        {"host=db user=u password=hunter2 dbname=x", "host=db user=u password=*** dbname=x"},
        {"host=db password = 'hun ter\\'2' dbname=x", "host=db password = *** dbname=x"},
        {"password=hunter2", "password=***"},
        {"host=db dbname=x", "host=db dbname=x"},
    };
    for (const auto& c : cases) {
        AppConfig cfg;
        cfg.postgres.dsn = c.dsn;
        const auto text = summarize(cfg);
        EXPECT_NE(text.find(std::string("postgres: dsn=") + c.shown + "\n"), std::string::npos)
            << c.dsn << "\n"
            << text;
        EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
        EXPECT_EQ(text.find("ter2"), std::string::npos) << text;
    }
}

TEST(Summarize, ShowsEffectiveValues) {
    const auto c =
        ok("[mqtt]\nurl = 'mqtts://[::1]'\n[http]\nlisten = '[::1]:9000'\n[log]\nlevel = 'warn'\n");
    const auto text = summarize(c);
    EXPECT_NE(text.find("config: file=test.toml\n"), std::string::npos) << text;
    EXPECT_NE(text.find("mqtt: url=mqtts://[::1]:8883 "), std::string::npos) << text;
    EXPECT_NE(text.find("http: enabled=true listen=[::1]:9000\n"), std::string::npos) << text;
    EXPECT_NE(text.find("log: level=warn\n"), std::string::npos) << text;
    EXPECT_NE(text.find("polling: default_interval=10s timeout=3000ms max_in_flight=256 "),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("spool_max=512MiB"), std::string::npos) << text;
}

TEST(ToString, LogLevels) {
    EXPECT_STREQ(to_string(LogLevel::Trace), "trace");
    EXPECT_STREQ(to_string(LogLevel::Debug), "debug");
    EXPECT_STREQ(to_string(LogLevel::Info), "info");
    EXPECT_STREQ(to_string(LogLevel::Warn), "warn");
    EXPECT_STREQ(to_string(LogLevel::Error), "error");
    EXPECT_STREQ(to_string(LogLevel::Off), "off");
}

}  // namespace
