#include "device_manager.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "intelergy/core/time_format.hpp"
#include "intelergy/drivers/shelly_device.hpp"
#include "intelergy/drivers/shelly_status.hpp"
#include "intelergy/drivers/state_json.hpp"
#include "request.hpp"

namespace intelergy::bridge {

using namespace std::chrono_literals;

const char* to_string(Availability a) noexcept {
    switch (a) {
        case Availability::Online: return "online";
        case Availability::Offline: return "offline";
        case Availability::Unknown: return "unknown";
    }
    return "unknown";
}

namespace {

store::EnergyBookRow to_row(const std::string& id, int channel, const drivers::CounterState& st) {
    store::EnergyBookRow b;
    b.device_id = id;
    b.channel = channel;
    b.last_raw_wh = st.last_raw_wh;
    b.offset_wh = st.offset_wh;
    b.lifetime_wh = st.lifetime_wh;
    b.last_ts = st.last_ts;
    b.pending_rejects = st.pending_rejects;
    return b;
}

drivers::CounterState from_row(const store::EnergyBookRow& b) {
    drivers::CounterState st;
    st.last_raw_wh = b.last_raw_wh;
    st.offset_wh = b.offset_wh;
    st.lifetime_wh = b.lifetime_wh;
    st.last_ts = b.last_ts;
    st.pending_rejects = b.pending_rejects;
    return st;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Does an MQTT prefix look like a Shelly Gen2+ default prefix ("shellyplusplugs-<12 hex>")?
bool looks_like_shelly_id(std::string_view prefix) {
    if (prefix.rfind("shelly", 0) != 0 || prefix.size() < 19) return false;
    const auto dash = prefix.rfind('-');
    if (dash == std::string_view::npos || prefix.size() - dash - 1 != 12) return false;
    return std::all_of(prefix.begin() + static_cast<long>(dash) + 1, prefix.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

}  // namespace

DeviceManager::DeviceManager(const config::AppConfig& config, EventLoop& loop, MqttClient& mqtt,
                             HttpClient& http, MqttRpc& rpc, DiscoveredPlugs& discovered,
                             const Clock& clock, ReadingSink sink)
    : cfg_(config),
      loop_(loop),
      mqtt_(mqtt),
      http_(http),
      rpc_(rpc),
      discovered_(discovered),
      clock_(clock),
      sink_(std::move(sink)) {
    limits_.max_power_w = cfg_.energy.max_power_w;
    limits_.dip_tolerance_wh = cfg_.energy.dip_tolerance_wh;
    log_ = spdlog::get("drivers");
    if (!log_) log_ = spdlog::default_logger();
    expire_rpcs();
}

DeviceManager::~DeviceManager() {
    if (rpc_timer_) loop_.cancel(*rpc_timer_);
    for (auto& [_, d] : devices_)
        if (d->timer) loop_.cancel(*d->timer);
}

void DeviceManager::expire_rpcs() {
    rpc_.expire(clock_.steady());
    rpc_timer_ = loop_.schedule_after(500ms, [this] { expire_rpcs(); });
}

ManagedDevice* DeviceManager::find_mutable(const std::string& id) {
    const auto it = devices_.find(id);
    return it == devices_.end() ? nullptr : it->second.get();
}

const ManagedDevice* DeviceManager::find(const std::string& id) const {
    const auto it = devices_.find(id);
    return it == devices_.end() ? nullptr : it->second.get();
}

std::vector<const ManagedDevice*> DeviceManager::devices() const {
    std::vector<const ManagedDevice*> out;
    for (const auto& [_, d] : devices_) out.push_back(d.get());
    return out;
}

std::size_t DeviceManager::online_count() const {
    return static_cast<std::size_t>(std::count_if(devices_.begin(), devices_.end(), [](const auto& kv) {
        return kv.second->availability == Availability::Online;
    }));
}

// ---- registration --------------------------------------------------------------------------

void DeviceManager::upsert(const store::DeviceRow& row,
                           const std::vector<store::EnergyBookRow>& books) {
    auto* existing = find_mutable(row.id);
    std::unique_ptr<ManagedDevice> fresh;
    if (existing) {
        // Keep runtime state (books, latest readings, availability); re-arm transport.
        if (existing->timer) loop_.cancel(*existing->timer);
        existing->timer.reset();
        unsubscribe_device(*existing);
        if (existing->row.path() != row.path()) clear_topics(*existing);
    } else {
        fresh = std::make_unique<ManagedDevice>();
        for (const auto& b : books)
            if (b.device_id == row.id) fresh->books[b.channel] = from_row(b);
        existing = fresh.get();
    }
    auto& d = *existing;
    d.row = row;
    d.epoch = next_epoch_++;
    d.in_flight = false;
    d.failures = 0;
    d.auth_failed = false;
    d.homes_topic = cfg_.mqtt.base_topic + "/homes/" + row.path();
    if (fresh) devices_.emplace(row.id, std::move(fresh));
    by_mac_[row.mac] = row.id;
    if (row.transport == store::Transport::Mqtt) {
        by_prefix_[row.topic_prefix] = row.id;
        discovered_.forget(row.topic_prefix);
        if (mqtt_.connected()) subscribe_device(d);
        if (row.generation != Generation::Gen1 && !d.gen2.has_baseline()) request_baseline(d);
        if (row.generation == Generation::Gen1) request_gen1_update(d);
    } else if (!row.credentials_error.empty()) {
        // Polling without the real password would only earn auth failures: say why, once
        // per (re)load, and leave the plug offline until the key or the password is fixed.
        log_->error("device password unusable device={} path={} reason={}; fix "
                    "store.credentials_key_file or set the password again with device/options",
                    row.id, row.path(), row.credentials_error);
    } else if (row.enabled) {
        // Spread first polls over the interval so a restart does not poll everything at once.
        const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(row.poll_interval);
        std::uniform_int_distribution<long> spread(0, std::max<long>(1, interval.count() / 4));
        d.next_due = clock_.steady() + std::chrono::milliseconds(spread(rng_));
        schedule_poll(d, std::chrono::duration_cast<std::chrono::milliseconds>(d.next_due -
                                                                                clock_.steady()));
    }
    if (!d.latest.empty()) publish_state(d);
    publish_availability(d);
    recount();
    if (listener_.added_or_updated) listener_.added_or_updated(d);
    if (listener_.devices_changed) listener_.devices_changed();
}

void DeviceManager::remove(const std::string& id) {
    const auto it = devices_.find(id);
    if (it == devices_.end()) return;
    auto& d = *it->second;
    if (d.timer) loop_.cancel(*d.timer);
    unsubscribe_device(d);
    clear_topics(d);
    mqtt_.publish(cfg_.mqtt.base_topic + "/devices/" + id + "/availability", "", 1, true);
    if (d.row.transport == store::Transport::Mqtt) by_prefix_.erase(d.row.topic_prefix);
    by_mac_.erase(d.row.mac);
    const auto row = d.row;
    const auto was = d.availability;
    devices_.erase(it);
    recount(was, Availability::Unknown);
    log_->info("device removed device={} path={}", id, row.path());
    if (listener_.removed) listener_.removed(row);
    if (listener_.devices_changed) listener_.devices_changed();
}

void DeviceManager::on_mqtt_connected() {
    if (cfg_.shelly_mqtt.enabled) {
        // Wildcards see every plug on the broker (for discovery) and cover registered plugs with
        // one-level prefixes; overlapping per-device subscriptions would duplicate messages.
        mqtt_.subscribe("shellies/#", 0);
        mqtt_.subscribe("+/online", 1);
        mqtt_.subscribe("+/events/rpc", 0);
        mqtt_.subscribe("+/status/+", 0);
        // Gen1 plugs announce only when they connect and announces are not retained: ask every
        // Gen1 plug already on the broker to announce itself, so it is discovered now.
        mqtt_.publish("shellies/command", "announce", 0, false);
    }
    mqtt_.subscribe(rpc_.reply_topic(), 1);
    mqtt_.subscribe(cfg_.mqtt.base_topic + "/devices/+/set", 1);
    mqtt_.subscribe(cfg_.mqtt.base_topic + "/devices/+/channel/+/set", 1);
    for (auto& [_, d] : devices_) {
        subscribe_device(*d);
        publish_availability(*d);
        if (!d->latest.empty()) publish_state(*d);
        if (d->row.transport == store::Transport::Mqtt && d->row.generation != Generation::Gen1)
            request_baseline(*d);  // values may have gone stale while we were away
        if (d->row.transport == store::Transport::Mqtt && d->row.generation == Generation::Gen1)
            request_gen1_update(*d);
    }
}

void DeviceManager::request_gen1_update(const ManagedDevice& d) {
    // A Gen1 plug publishes on its own only every mqtt_update_period (30 s by default, 0 = never):
    // ask it to republish relay, power and energy now ("update" on shellies/<id>/command).
    if (mqtt_.connected()) mqtt_.publish(d.row.topic_prefix + "/command", "update", 0, false);
}

bool DeviceManager::covered_by_wildcards(const ManagedDevice& d) const {
    if (!cfg_.shelly_mqtt.enabled) return false;
    const auto& p = d.row.topic_prefix;
    if (d.row.generation == Generation::Gen1) return p.rfind("shellies/", 0) == 0;
    return p.find('/') == std::string::npos;
}

void DeviceManager::republish() {
    for (auto& [_, d] : devices_) publish_availability(*d);
    for (auto& [_, d] : devices_)
        if (!d->latest.empty()) publish_state(*d);
}

void DeviceManager::subscribe_device(const ManagedDevice& d) {
    if (d.row.transport != store::Transport::Mqtt || covered_by_wildcards(d)) return;
    const auto& p = d.row.topic_prefix;
    if (d.row.generation == Generation::Gen1) {
        mqtt_.subscribe(p + "/#", 0);
    } else {
        mqtt_.subscribe(p + "/online", 1);
        mqtt_.subscribe(p + "/events/rpc", 0);
        mqtt_.subscribe(p + "/status/+", 0);
    }
}

void DeviceManager::unsubscribe_device(const ManagedDevice& d) {
    if (d.row.transport != store::Transport::Mqtt || covered_by_wildcards(d)) return;
    const auto& p = d.row.topic_prefix;
    if (d.row.generation == Generation::Gen1) {
        mqtt_.unsubscribe(p + "/#");
    } else {
        mqtt_.unsubscribe(p + "/online");
        mqtt_.unsubscribe(p + "/events/rpc");
        mqtt_.unsubscribe(p + "/status/+");
    }
}

// ---- HTTP polling --------------------------------------------------------------------------

HttpRequest DeviceManager::device_request(const ManagedDevice& d, std::string url) const {
    HttpRequest req;
    req.url = std::move(url);
    req.timeout = std::min<std::chrono::milliseconds>(
        cfg_.polling.timeout, std::chrono::duration_cast<std::chrono::milliseconds>(
                                  d.row.poll_interval));
    if (!d.row.password.empty()) {
        const bool gen1 = d.row.generation == Generation::Gen1;
        req.auth = gen1 ? HttpAuth::Basic : HttpAuth::Digest;
        req.username = gen1 ? (d.row.username.empty() ? "admin" : d.row.username) : "admin";
        req.password = d.row.password;
    }
    return req;
}

void DeviceManager::schedule_poll(ManagedDevice& d, std::chrono::milliseconds delay) {
    if (d.timer) loop_.cancel(*d.timer);
    const std::string id = d.row.id;
    d.timer = loop_.schedule_after(std::max(delay, 0ms), [this, id] { poll(id); });
}

void DeviceManager::poll(const std::string& id) {
    auto* d = find_mutable(id);
    if (!d) return;
    d->timer.reset();
    if (!d->row.enabled || d->row.transport != store::Transport::Http) return;
    if (d->in_flight) {  // at most one request per device; try again next interval
        schedule_poll(*d, std::chrono::duration_cast<std::chrono::milliseconds>(d->row.poll_interval));
        return;
    }
    d->in_flight = true;
    count_poll_start(*d);
    const auto epoch = d->epoch;
    http_.submit(device_request(*d, drivers::status_url(d->row.url, d->row.generation)),
                 [this, id, epoch](HttpResponse r) {
                     loop_.post([this, id, epoch, r = std::move(r)]() mutable {
                         on_poll_done(id, epoch, std::move(r));
                     });
                 });
}

std::chrono::milliseconds DeviceManager::backoff(int failures) {
    // Capped exponential with ±25 % jitter, starting at the poll interval's scale.
    const auto max = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.polling.backoff_max);
    const double base = 1000.0 * std::pow(2.0, std::min(failures, 16));
    std::uniform_real_distribution<double> jitter(0.75, 1.25);
    const auto ms = std::min<double>(base * jitter(rng_), static_cast<double>(max.count()));
    return std::chrono::milliseconds(static_cast<long>(ms));
}

void DeviceManager::count_poll(const HttpResponse& r) {
    (r.outcome == HttpOutcome::Ok ? stats_.polls_ok : stats_.polls_failed)++;
    const double seconds = static_cast<double>(r.elapsed.count()) / 1e6;
    stats_.poll_micros_sum += static_cast<std::uint64_t>(r.elapsed.count());
    for (std::size_t i = 0; i < BridgeStats::POLL_BUCKETS_S.size(); ++i)
        if (seconds <= BridgeStats::POLL_BUCKETS_S[i]) stats_.poll_buckets[i]++;
}

void DeviceManager::count_poll_start(const ManagedDevice& d) {
    // Start delay against the fixed-cadence schedule (next_due); a retry after a failure or a
    // skipped interval is scheduled from next_due too, so it is measured the same way.
    const auto late = std::chrono::duration_cast<std::chrono::microseconds>(clock_.steady() - d.next_due);
    const auto us = std::max<std::int64_t>(0, late.count());
    stats_.polls_started++;
    stats_.poll_delay_micros_sum += static_cast<std::uint64_t>(us);
    for (std::size_t i = 0; i < BridgeStats::POLL_DELAY_BUCKETS_S.size(); ++i)
        if (static_cast<double>(us) / 1e6 <= BridgeStats::POLL_DELAY_BUCKETS_S[i]) stats_.poll_delay_buckets[i]++;
}

// Availability counters, kept incrementally: one device moves from `from` to `to`. Scanning
// every device on each online/offline flip was O(plugs) per change, about 11 % of the bridge's
// CPU polling 5,000 plugs (issue 8, bench/RESULTS.md).
void DeviceManager::recount(Availability from, Availability to) {
    auto counter = [this](Availability a) -> std::atomic<std::size_t>* {
        if (a == Availability::Online) return &stats_.online;
        if (a == Availability::Offline) return &stats_.offline;
        return nullptr;
    };
    if (auto* c = counter(from)) --*c;
    if (auto* c = counter(to)) ++*c;
    stats_.total = devices_.size();
}

void DeviceManager::on_poll_done(const std::string& id, std::uint64_t epoch, HttpResponse r) {
    count_poll(r);
    auto* d = find_mutable(id);
    if (!d || d->epoch != epoch) return;  // removed or re-registered meanwhile
    d->in_flight = false;
    if (r.outcome == HttpOutcome::AuthRejected) {
        poll_failed(*d, r.error, true);
        return;
    }
    if (r.outcome != HttpOutcome::Ok) {
        poll_failed(*d, r.error, false);
        return;
    }
    const auto now = clock_.now();
    auto readings = d->row.generation == Generation::Gen1 ? drivers::parse_gen1_status(r.body, now)
                                                          : drivers::parse_gen2_status(r.body, now);
    if (!readings) {
        poll_failed(*d, "unusable status: " + readings.error().message, false);
        return;
    }
    d->failures = 0;
    d->auth_failed = false;
    set_availability(*d, Availability::Online, "");
    process(*d, std::move(*readings));
    // Fixed cadence: the next poll is due one interval after the previous due time.
    const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(d->row.poll_interval);
    const auto steady_now = clock_.steady();
    d->next_due += interval;
    if (d->next_due < steady_now) d->next_due = steady_now + interval;
    schedule_poll(*d, std::chrono::duration_cast<std::chrono::milliseconds>(d->next_due - steady_now));
}

void DeviceManager::poll_failed(ManagedDevice& d, const std::string& why, bool auth) {
    ++d.failures;
    if (auth) {
        if (!d.auth_failed)
            log_->error("device credentials rejected device={} path={} detail={}", d.row.id,
                        d.row.path(), why);
        d.auth_failed = true;
        set_availability(d, Availability::Offline, "credentials rejected");
    } else if (d.failures >= static_cast<int>(cfg_.polling.offline_after_failures)) {
        set_availability(d, Availability::Offline, why);
    } else {
        log_->debug("poll failed device={} failures={} error={}", d.row.id, d.failures, why);
    }
    const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(d.row.poll_interval);
    const auto delay = auth ? std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.polling.backoff_max)
                            : std::max(interval, backoff(d.failures - 1));
    d.next_due = clock_.steady() + delay;
    schedule_poll(d, delay);
}

// ---- MQTT ----------------------------------------------------------------------------------

void DeviceManager::request_baseline(ManagedDevice& d) {
    if (d.baseline_pending || !mqtt_.connected()) return;
    d.baseline_pending = true;
    const std::string id = d.row.id;
    const auto epoch = d.epoch;
    // The reply is applied right here, on the core loop (handle_message and expire_rpcs call the
    // RPC there), in its place among the plug's NotifyStatus frames. Posting it once more would
    // let a delta that arrived just after the reply be overwritten by this older snapshot, and a
    // plug pushes a value only when it changes.
    rpc_.call(d.row.topic_prefix, "Shelly.GetStatus", "", clock_.steady() + cfg_.polling.timeout,
              [this, id, epoch](Result<std::string> r) {
                  auto* dev = find_mutable(id);
                  if (!dev || dev->epoch != epoch) return;
                  dev->baseline_pending = false;
                  if (!r) {
                      log_->debug("baseline failed device={} error={}", id, r.error().message);
                      retry_baseline(*dev);
                      return;
                  }
                  dev->baseline_failures = 0;
                  if (auto st = dev->gen2.set_full(*r); !st) {
                      log_->warn("baseline unusable device={} error={}", id, st.error().message);
                      return;
                  }
                  set_availability(*dev, Availability::Online, "");
                  process(*dev, dev->gen2.readings(clock_.now()));
              });
}

void DeviceManager::retry_baseline(ManagedDevice& d) {
    // Without a baseline every NotifyStatus delta is held back, and a plug pushes only on change:
    // a lost GetStatus must not leave the device silent until its next change. Back off to 30 s.
    if (d.gen2.has_baseline() || d.timer) return;
    const auto delay = std::chrono::milliseconds(500L << std::min(d.baseline_failures++, 6));
    d.timer = loop_.schedule_after(std::min<std::chrono::milliseconds>(delay, 30s),
                                   [this, id = d.row.id, epoch = d.epoch] {
                                       auto* dev = find_mutable(id);
                                       if (!dev || dev->epoch != epoch) return;
                                       dev->timer.reset();
                                       if (!dev->gen2.has_baseline()) request_baseline(*dev);
                                   });
}

bool DeviceManager::handle_message(const MqttMessage& m) {
    if (rpc_.on_reply(m)) return true;
    if (m.topic.rfind(cfg_.mqtt.base_topic + "/devices/", 0) == 0) return handle_set_command(m);
    return handle_shelly_message(m);
}

bool DeviceManager::handle_set_command(const MqttMessage& m) {
    // <base>/devices/<id>/set or <base>/devices/<id>/channel/<n>/set
    const std::string rest = m.topic.substr(cfg_.mqtt.base_topic.size() + 9);
    if (!ends_with(rest, "/set") || m.retained) return false;
    const auto first = rest.find('/');
    const std::string id = rest.substr(0, first);
    std::optional<int> channel;
    const std::string middle = rest.substr(first, rest.size() - first - 4);  // "" or "/channel/n"
    if (!middle.empty()) {
        if (middle.rfind("/channel/", 0) != 0) return false;
        try {
            channel = std::stoi(middle.substr(9));
        } catch (...) {
            return false;
        }
    }
    std::string cmd = m.payload;
    std::transform(cmd.begin(), cmd.end(), cmd.begin(), [](unsigned char c) { return std::toupper(c); });
    drivers::RelayCommand c;
    if (cmd == "ON") c = drivers::RelayCommand::On;
    else if (cmd == "OFF") c = drivers::RelayCommand::Off;
    else if (cmd == "TOGGLE") c = drivers::RelayCommand::Toggle;
    else {
        log_->warn("ignored relay command device={} payload={} (expected ON, OFF or TOGGLE)", id,
                   m.payload.substr(0, 32));
        return true;
    }
    set_relay(id, channel, c, [this, id](Status st) {
        if (!st) log_->warn("relay command failed device={} error={}", id, st.error().message);
    });
    return true;
}

bool DeviceManager::handle_shelly_message(const MqttMessage& m) {
    const std::string_view topic = m.topic;
    // Gen1: shellies/<id>/<suffix>
    if (topic.rfind("shellies/", 0) == 0) {
        if (topic == "shellies/announce" || ends_with(topic, "/announce")) {
            auto a = drivers::parse_gen1_announce(m.payload);
            if (!a) return true;
            DiscoveredPlug p;
            p.topic_prefix = "shellies/" + a->id;
            p.shelly_id = a->id;
            p.model = a->model;
            p.mac = a->mac;
            p.ip = a->ip;
            p.firmware = a->fw_ver;
            p.generation = 1;
            p.first_seen = clock_.now();
            note_discovered(p);
            return true;
        }
        const auto slash = topic.find('/', 9);
        if (slash == std::string_view::npos) return false;
        const std::string prefix(topic.substr(0, slash));
        const auto it = by_prefix_.find(prefix);
        if (it == by_prefix_.end()) return false;
        auto* d = find_mutable(it->second);
        if (!d) return false;
        if (!d->row.enabled) return true;
        const auto suffix = topic.substr(slash + 1);
        if (suffix == "online") {
            const bool up = m.payload == "true" || m.payload == "1";
            set_availability(*d, up ? Availability::Online : Availability::Offline,
                             up ? "" : "device reported offline");
            return true;
        }
        if (d->gen1.apply(suffix, m.payload)) {
            set_availability(*d, Availability::Online, "");
            process(*d, d->gen1.readings(clock_.now()));
        }
        return true;
    }
    // Gen2+: <prefix>/online, <prefix>/events/rpc, <prefix>/status/<component>
    std::string prefix;
    std::string_view kind;
    if (ends_with(topic, "/online")) {
        prefix = topic.substr(0, topic.size() - 7);
        kind = "online";
    } else if (ends_with(topic, "/events/rpc")) {
        prefix = topic.substr(0, topic.size() - 11);
        kind = "rpc";
    } else if (const auto pos = topic.rfind("/status/"); pos != std::string_view::npos) {
        prefix = topic.substr(0, pos);
        kind = "status";
    } else {
        return false;
    }
    const auto it = by_prefix_.find(prefix);
    if (it == by_prefix_.end()) {
        // Not registered: maybe a plug to offer for registration.
        if (kind == "online" && m.payload == "true" && looks_like_shelly_id(prefix)) {
            DiscoveredPlug p;
            p.topic_prefix = prefix;
            p.shelly_id = prefix;
            p.first_seen = clock_.now();
            note_discovered(p);
        } else if (kind == "rpc" && m.payload.find("\"src\":\"shelly") != std::string::npos &&
                   m.payload.find("NotifyStatus") != std::string::npos) {
            DiscoveredPlug p;
            p.topic_prefix = prefix;
            p.first_seen = clock_.now();
            note_discovered(p);
        }
        return kind != "online";
    }
    auto* d = find_mutable(it->second);
    if (!d) return false;
    if (!d->row.enabled) return true;  // disabled: its messages are ignored, like its polls
    if (kind == "online") {
        const bool up = m.payload == "true";
        set_availability(*d, up ? Availability::Online : Availability::Offline,
                         up ? "" : "device reported offline");
        if (up) request_baseline(*d);
        return true;
    }
    if (kind == "rpc") {
        auto changed = d->gen2.apply_notify(m.payload);
        if (!changed) {
            log_->debug("ignored frame device={} error={}", d->row.id, changed.error().message);
            return true;
        }
        if (!d->gen2.has_baseline()) {
            request_baseline(*d);
            return true;
        }
        if (*changed) {
            set_availability(*d, Availability::Online, "");
            process(*d, d->gen2.readings(clock_.now()));
        }
        return true;
    }
    const std::string component(topic.substr(topic.rfind('/') + 1));
    if (!drivers::metered_component_channel(component)) return true;
    if (auto st = d->gen2.apply_component(component, m.payload); !st) {
        log_->debug("ignored status device={} error={}", d->row.id, st.error().message);
        return true;
    }
    if (!d->gen2.has_baseline()) {
        request_baseline(*d);
        return true;
    }
    set_availability(*d, Availability::Online, "");
    process(*d, d->gen2.readings(clock_.now()));
    return true;
}

void DeviceManager::note_discovered(const DiscoveredPlug& plug) {
    // Registered already (by MAC or prefix)? Then it is not news.
    if (by_prefix_.count(plug.topic_prefix) || (!plug.mac.empty() && by_mac_.count(plug.mac)))
        return;
    if (!discovered_.record(plug)) return;
    Json data{{"topic_prefix", plug.topic_prefix}, {"transport", "mqtt"}};
    if (!plug.model.empty()) data["model"] = plug.model;
    if (!plug.mac.empty()) data["mac"] = plug.mac;
    if (!plug.ip.empty()) data["ip"] = plug.ip, data["url"] = "http://" + plug.ip;
    if (plug.generation) data["generation"] = plug.generation;
    log_->info("plug discovered topic_prefix={} model={}", plug.topic_prefix, plug.model);
    event("device_discovered", data.dump());
}

// ---- readings ------------------------------------------------------------------------------

void DeviceManager::process(ManagedDevice& d, std::vector<Reading> readings) {
    for (auto& r : readings) {
        r.device_id = d.row.id;
        std::optional<store::EnergyBookRow> book;
        if (r.counter_raw) {
            auto& st = d.books[r.channel];
            const auto up = drivers::update_counter(st, *r.counter_raw, r.counter_unit, r.ts, limits_,
                                                    r.power_w, r.device_time);
            switch (up.event) {
                case drivers::CounterEvent::Reset:
                    log_->info("counter reset device={} channel={} {}", d.row.id, r.channel, up.detail);
                    event("counter_reset",
                          Json{{"id", d.row.id}, {"path", d.row.path()}, {"channel", r.channel},
                               {"energy_wh", st.lifetime_wh}, {"detail", up.detail}}
                              .dump());
                    break;
                case drivers::CounterEvent::Rejected:
                    if (st.pending_rejects <= 1)
                        log_->warn("counter jump rejected device={} channel={} {}", d.row.id,
                                   r.channel, up.detail);
                    break;
                case drivers::CounterEvent::Rebased:
                    log_->warn("counter rebased device={} channel={} {}", d.row.id, r.channel, up.detail);
                    break;
                default: break;
            }
            if (st.last_raw_wh) r.energy_wh = st.lifetime_wh;
            book = to_row(d.row.id, r.channel, st);
        } else if (const auto b = d.books.find(r.channel); b != d.books.end()) {
            r.energy_wh = b->second.lifetime_wh;
        }
        if (sink_) sink_(r, book);
        d.latest[r.channel] = std::move(r);
    }
    publish_state(d);
}

std::string DeviceManager::state_json(const ManagedDevice& d) const {
    if (d.latest.empty()) return "{}";
    if (d.row.channels <= 1 && d.latest.size() == 1) return drivers::state_json(d.latest.begin()->second);
    // Several channels: device totals at the top, one object per channel.
    Json channels = Json::array();
    double power = 0, energy = 0;
    bool has_power = false, has_energy = false;
    SysTime ts{};
    for (const auto& [ch, r] : d.latest) {
        auto c = Json::parse(drivers::state_json(r));
        c.erase("ts");
        c["channel"] = ch;
        channels.push_back(std::move(c));
        if (r.power_w) power += *r.power_w, has_power = true;
        if (r.energy_wh) energy += *r.energy_wh, has_energy = true;
        ts = std::max(ts, r.ts);
    }
    Json out = Json::object();
    if (has_power) out["power_w"] = Json::parse(drivers::format_number(power, 2));
    if (has_energy) out["energy_wh"] = Json::parse(drivers::format_number(energy, 3));
    out["channels"] = std::move(channels);
    out["ts"] = format_iso8601(ts);
    return out.dump();
}

void DeviceManager::publish_state(const ManagedDevice& d) {
    const auto base = cfg_.mqtt.base_topic + "/devices/" + d.row.id;
    mqtt_.publish(base + "/state", state_json(d), 0, true);
    double power = 0, energy = 0;
    bool has_power = false, has_energy = false;
    for (const auto& [_, r] : d.latest) {
        if (r.power_w) power += *r.power_w, has_power = true;
        if (r.energy_wh) energy += *r.energy_wh, has_energy = true;
    }
    if (has_power) mqtt_.publish(d.homes_topic + "/power", drivers::format_number(power, 2), 0, true);
    if (has_energy)
        mqtt_.publish(d.homes_topic + "/energy", drivers::format_number(energy, 3), 0, true);
}

void DeviceManager::publish_availability(const ManagedDevice& d) {
    if (d.availability == Availability::Unknown) return;
    mqtt_.publish(cfg_.mqtt.base_topic + "/devices/" + d.row.id + "/availability",
                  to_string(d.availability), 1, true);
}

void DeviceManager::clear_topics(const ManagedDevice& d) {
    mqtt_.publish(cfg_.mqtt.base_topic + "/devices/" + d.row.id + "/state", "", 1, true);
    mqtt_.publish(d.homes_topic + "/power", "", 1, true);
    mqtt_.publish(d.homes_topic + "/energy", "", 1, true);
}

void DeviceManager::set_availability(ManagedDevice& d, Availability a, const std::string& detail) {
    if (d.availability == a) return;
    const auto was = d.availability;
    d.availability = a;
    d.state_detail = detail;
    recount(was, a);
    if (a == Availability::Online)
        log_->info("device online device={} path={}", d.row.id, d.row.path());
    else
        log_->warn("device offline device={} path={} reason={}", d.row.id, d.row.path(), detail);
    publish_availability(d);
    Json data{{"id", d.row.id}, {"path", d.row.path()}};
    if (!detail.empty()) data["reason"] = detail;
    event(a == Availability::Online ? "device_online" : "device_offline", data.dump());
    if (listener_.devices_changed) listener_.devices_changed();
}

void DeviceManager::event(std::string_view type, const std::string& data_json) {
    mqtt_.publish(cfg_.mqtt.base_topic + "/bridge/event",
                  R"({"type":")" + std::string(type) + R"(","data":)" + data_json + "}", 1, false);
}

// ---- relay ---------------------------------------------------------------------------------

void DeviceManager::set_relay(const std::string& id, std::optional<int> channel,
                              drivers::RelayCommand cmd, std::function<void(Status)> done) {
    auto* d = find_mutable(id);
    if (!d) return done(make_error(ErrorCode::NotFound, "device '" + id + "' not found"));
    if (!d->row.has_relay) return done(make_error(ErrorCode::Invalid, "device '" + id + "' has no relay"));
    const int ch = channel.value_or(0);
    if (ch < 0 || ch >= d->row.channels)
        return done(make_error(ErrorCode::Invalid, "device '" + id + "' has no channel " + std::to_string(ch)));
    const auto cmd_text = cmd == drivers::RelayCommand::On    ? "on"
                          : cmd == drivers::RelayCommand::Off ? "off"
                                                              : "toggle";
    log_->info("relay command device={} channel={} command={}", id, ch, cmd_text);
    if (d->row.transport == store::Transport::Http) {
        const auto epoch = d->epoch;
        http_.submit(device_request(*d, drivers::relay_url(d->row.url, d->row.generation,
                                                           static_cast<std::uint8_t>(ch), cmd)),
                     [this, id, epoch, done = std::move(done)](HttpResponse r) mutable {
                         loop_.post([this, id, epoch, r = std::move(r), done = std::move(done)] {
                             if (r.outcome != HttpOutcome::Ok)
                                 return done(make_error(ErrorCode::Unreachable,
                                                        "device did not switch: " + r.error));
                             done({});
                             // Refresh the state topic now rather than at the next interval.
                             auto* dev = find_mutable(id);
                             if (dev && dev->epoch == epoch && !dev->in_flight) poll(id);
                         });
                     });
        return;
    }
    if (d->row.generation == Generation::Gen1) {
        mqtt_.publish(d->row.topic_prefix + "/relay/" + std::to_string(ch) + "/command", cmd_text, 1,
                      false);
        return done({});
    }
    const std::string method = cmd == drivers::RelayCommand::Toggle ? "Switch.Toggle" : "Switch.Set";
    Json params{{"id", ch}};
    if (cmd != drivers::RelayCommand::Toggle) params["on"] = cmd == drivers::RelayCommand::On;
    rpc_.call(d->row.topic_prefix, method, params.dump(), clock_.steady() + cfg_.polling.timeout,
              [this, id, done = std::move(done)](Result<std::string> r) mutable {
                  loop_.post([this, id, r = std::move(r), done = std::move(done)] {
                      if (!r) return done(r.error());
                      done({});
                      if (auto* dev = find_mutable(id)) request_baseline(*dev);
                  });
              });
}

}  // namespace intelergy::bridge
