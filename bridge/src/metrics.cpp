#include "intelergy/bridge/metrics.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace intelergy::bridge {

namespace {

void metric(std::ostringstream& out, const char* name, const char* type, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

std::string prometheus_text(const ServiceStats& s) {
    std::ostringstream out;
    const auto& b = s.bridge;
    metric(out, "intelergy_up", "gauge", "1 while the bridge serves.");
    out << "intelergy_up 1\n";
    metric(out, "intelergy_mqtt_connected", "gauge", "1 when connected to the MQTT broker.");
    out << "intelergy_mqtt_connected " << (s.mqtt_connected ? 1 : 0) << '\n';
    metric(out, "intelergy_database_up", "gauge", "1 when the last database check succeeded.");
    out << "intelergy_database_up " << (s.database_ok ? 1 : 0) << '\n';
    metric(out, "intelergy_polls_total", "counter", "HTTP polls of plugs by outcome.");
    out << "intelergy_polls_total{outcome=\"ok\"} " << b.polls_ok << '\n';
    out << "intelergy_polls_total{outcome=\"failed\"} " << b.polls_failed << '\n';
    metric(out, "intelergy_poll_duration_seconds", "histogram", "HTTP poll latency.");
    for (std::size_t i = 0; i < b.poll_buckets.size(); ++i)
        out << "intelergy_poll_duration_seconds_bucket{le=\"" << BridgeStats::POLL_BUCKETS_S[i]
            << "\"} " << b.poll_buckets[i] << '\n';
    out << "intelergy_poll_duration_seconds_bucket{le=\"+Inf\"} " << b.polls_ok + b.polls_failed
        << '\n';
    out << "intelergy_poll_duration_seconds_sum " << b.poll_seconds_sum << '\n';
    out << "intelergy_poll_duration_seconds_count " << b.polls_ok + b.polls_failed << '\n';
    metric(out, "intelergy_poll_start_delay_seconds", "histogram",
           "How late HTTP polls started against their schedule.");
    for (std::size_t i = 0; i < b.poll_delay_buckets.size(); ++i)
        out << "intelergy_poll_start_delay_seconds_bucket{le=\"" << BridgeStats::POLL_DELAY_BUCKETS_S[i]
            << "\"} " << b.poll_delay_buckets[i] << '\n';
    out << "intelergy_poll_start_delay_seconds_bucket{le=\"+Inf\"} " << b.polls_started << '\n';
    out << "intelergy_poll_start_delay_seconds_sum " << b.poll_delay_seconds_sum << '\n';
    out << "intelergy_poll_start_delay_seconds_count " << b.polls_started << '\n';
    metric(out, "intelergy_mqtt_messages_total", "counter", "MQTT messages by direction.");
    out << "intelergy_mqtt_messages_total{direction=\"in\"} " << b.mqtt_in << '\n';
    out << "intelergy_mqtt_messages_total{direction=\"out\"} " << b.mqtt_out << '\n';
    metric(out, "intelergy_devices", "gauge", "Registered plugs by availability.");
    out << "intelergy_devices{state=\"online\"} " << b.devices_online << '\n';
    out << "intelergy_devices{state=\"offline\"} " << b.devices_offline << '\n';
    out << "intelergy_devices{state=\"unknown\"} "
        << b.devices_total - b.devices_online - b.devices_offline << '\n';
    metric(out, "intelergy_readings_written_total", "counter", "Readings committed to PostgreSQL.");
    out << "intelergy_readings_written_total " << s.readings_written << '\n';
    metric(out, "intelergy_readings_duplicate_total", "counter",
           "Readings already stored (redelivered), not written twice.");
    out << "intelergy_readings_duplicate_total " << s.readings_duplicates << '\n';
    metric(out, "intelergy_readings_rejected_total", "counter",
           "Readings dropped for an absurd timestamp.");
    out << "intelergy_readings_rejected_total " << s.readings_rejected << '\n';
    metric(out, "intelergy_store_failures_total", "counter", "Failed batch writes (retried).");
    out << "intelergy_store_failures_total " << s.store_failures << '\n';
    metric(out, "intelergy_store_queue_depth", "gauge", "Readings waiting for the store writer.");
    out << "intelergy_store_queue_depth " << s.store_queue_depth << '\n';
    metric(out, "intelergy_spool_bytes", "gauge", "Bytes in the outage spool on disk.");
    out << "intelergy_spool_bytes " << s.spool_bytes << '\n';
    metric(out, "intelergy_spool_records", "gauge",
           "Batches in the outage spool not yet written to PostgreSQL.");
    out << "intelergy_spool_records " << s.spool_records << '\n';
    metric(out, "intelergy_spool_full", "gauge",
           "1 while the spool refuses batches (full or unwritable).");
    out << "intelergy_spool_full " << (s.spool_full ? 1 : 0) << '\n';
    metric(out, "intelergy_spooled_readings_total", "counter",
           "Readings appended to the outage spool.");
    out << "intelergy_spooled_readings_total " << s.spooled_readings << '\n';
    metric(out, "intelergy_spool_replayed_readings_total", "counter",
           "Spooled readings written to PostgreSQL.");
    out << "intelergy_spool_replayed_readings_total " << s.replayed_readings << '\n';
    metric(out, "intelergy_readings_dropped_total", "counter",
           "Readings lost because the spool was full while PostgreSQL was down.");
    out << "intelergy_readings_dropped_total " << s.spool_dropped_readings << '\n';
    metric(out, "intelergy_spool_corrupt_records_total", "counter",
           "Damaged spool records skipped on replay.");
    out << "intelergy_spool_corrupt_records_total " << s.spool_corrupt_records << '\n';
    if (s.rollup_lag_s) {
        metric(out, "intelergy_rollup_lag_seconds", "gauge",
               "Age of the oldest reading not yet rolled up.");
        out << "intelergy_rollup_lag_seconds " << *s.rollup_lag_s << '\n';
    }
    metric(out, "intelergy_core_queue_depth", "gauge", "Tasks waiting for the core loop.");
    out << "intelergy_core_queue_depth " << b.loop_queue_depth << '\n';
    metric(out, "intelergy_core_task_errors_total", "counter", "Core loop tasks that threw.");
    out << "intelergy_core_task_errors_total " << b.loop_task_errors << '\n';
    metric(out, "intelergy_process_resident_memory_bytes", "gauge", "Resident set size.");
    out << "intelergy_process_resident_memory_bytes " << s.resident_memory_bytes << '\n';
    return out.str();
}

std::uint64_t resident_memory_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size = 0, resident = 0;
    if (!(statm >> size >> resident)) return 0;
    return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

std::string status_line(const ServiceStats& s) {
    return std::to_string(s.bridge.devices_total) + " devices (" +
           std::to_string(s.bridge.devices_online) + " online), mqtt " +
           (s.mqtt_connected ? "connected" : "disconnected") + ", database " +
           (s.database_ok ? "ok" : "unreachable");
}

}  // namespace intelergy::bridge
