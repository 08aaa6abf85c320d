#include "intelergy/config/config.hpp"
#include "rules.hpp"

#include <sstream>

namespace intelergy::config {
namespace {

const char* yes_no(bool value) { return value ? "true" : "false"; }

std::string or_none(const std::string& value) { return value.empty() ? "(none)" : value; }

}  // namespace

// One line per table in key=value style, so the startup log can be grepped in journald.
// Secrets never appear: the MQTT password is "***" when set and the DSN password is redacted.
std::string summarize(const AppConfig& config) {
    const auto& m = config.mqtt;
    const auto& ha = config.homeassistant;
    const auto& p = config.polling;
    const auto& s = config.store;
    std::ostringstream out;
    out << "config: file="
        << (config.source.empty() ? "(built-in defaults)" : config.source.string()) << '\n';
    out << "mqtt: url=" << (m.url.tls ? "mqtts://" : "mqtt://")
        << detail::join_host_port(m.url.host, m.url.port) << " base_topic=" << m.base_topic
        << " client_id=" << m.client_id << " username=" << or_none(m.username)
        << " password=" << (m.password.empty() ? "(none)" : "***")
        << " keepalive=" << m.keepalive.count() << "s reconnect=" << m.reconnect_min.count()
        << "s.." << m.reconnect_max.count() << "s";
    if (m.url.tls) {
        out << " ca_file=" << (m.ca_file.empty() ? "(system trust store)" : m.ca_file.string())
            << " cert_file=" << or_none(m.cert_file.string())
            << " key_file=" << or_none(m.key_file.string());
    }
    out << '\n';
    out << "postgres: dsn=" << detail::redact_dsn(config.postgres.dsn) << '\n';
    out << "homeassistant: enabled=" << yes_no(ha.enabled)
        << " discovery_prefix=" << ha.discovery_prefix << " status_topic=" << ha.status_topic
        << " mode=" << (ha.mode == DiscoveryMode::Device ? "device" : "entity")
        << " energy_unit=" << (ha.energy_unit == EnergyUnit::KilowattHour ? "kWh" : "Wh") << '\n';
    out << "polling: default_interval=" << p.default_interval.count()
        << "s timeout=" << p.timeout.count() << "ms max_in_flight=" << p.max_in_flight
        << " offline_after_failures=" << p.offline_after_failures
        << " backoff_max=" << p.backoff_max.count() << "s allowed_networks=";
    for (std::size_t i = 0; i < p.allowed_networks.size(); ++i) {
        out << (i == 0 ? "" : ",") << p.allowed_networks[i].to_string();
    }
    if (p.allowed_networks.empty()) out << "(none)";
    out << '\n';
    out << "shelly_mqtt: enabled=" << yes_no(config.shelly_mqtt.enabled) << '\n';
    out << "http: enabled=" << yes_no(config.http.enabled)
        << " listen=" << detail::join_host_port(config.http.listen_host, config.http.listen_port)
        << '\n';
    out << "log: level=" << to_string(config.log.level) << '\n';
    out << "energy: max_power_w=" << config.energy.max_power_w
        << " dip_tolerance_wh=" << config.energy.dip_tolerance_wh << '\n';
    out << "store: batch_size=" << s.batch_size << " flush_interval=" << s.flush_interval.count()
        << "ms queue_capacity=" << s.queue_capacity << " spool_dir=" << s.spool_dir.string()
        << " spool_max=" << s.spool_max_bytes / (1024U * 1024U) << "MiB"
        << " credentials_key_file="
        << (s.credentials_key ? s.credentials_key_file.string() : "(none: device passwords in clear)")
        << '\n';
    out << "retention: readings=" << config.retention.readings.count()
        << "d minutes=" << config.retention.minutes.count() << "d";
    return out.str();
}

}  // namespace intelergy::config
