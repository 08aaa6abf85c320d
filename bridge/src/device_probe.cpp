#include "device_probe.hpp"

#include <algorithm>
#include <future>

#include "intelergy/drivers/shelly_http.hpp"
#include "intelergy/drivers/shelly_status.hpp"

namespace intelergy::bridge {

bool DiscoveredPlugs::record(const DiscoveredPlug& plug) {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = plugs_.try_emplace(plug.topic_prefix, plug);
    if (!inserted) {
        auto& known = it->second;
        if (!plug.mac.empty()) known.mac = plug.mac;
        if (!plug.model.empty()) known.model = plug.model;
        if (!plug.ip.empty()) known.ip = plug.ip;
        if (plug.generation) known.generation = plug.generation;
    }
    if (plug.generation == 1 && !plug.shelly_id.empty()) ++announce_seq_[plug.shelly_id];
    cv_.notify_all();
    return inserted;
}

void DiscoveredPlugs::forget(const std::string& topic_prefix) {
    std::lock_guard lock(mutex_);
    plugs_.erase(topic_prefix);
}

std::vector<DiscoveredPlug> DiscoveredPlugs::list() const {
    std::lock_guard lock(mutex_);
    std::vector<DiscoveredPlug> out;
    for (const auto& [_, p] : plugs_) out.push_back(p);
    return out;
}

std::uint64_t DiscoveredPlugs::announce_count(const std::string& shelly_id) {
    std::lock_guard lock(mutex_);
    return announce_seq_[shelly_id];
}

std::optional<DiscoveredPlug> DiscoveredPlugs::wait_announce(const std::string& shelly_id,
                                                             std::uint64_t after,
                                                             std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return announce_seq_[shelly_id] > after; }))
        return std::nullopt;
    const auto it = plugs_.find("shellies/" + shelly_id);
    if (it == plugs_.end()) return std::nullopt;
    return it->second;
}

void derive_capabilities(ProbeResult& r) {
    r.channels = std::max<int>(1, static_cast<int>(r.readings.size()));
    if (!r.readings.empty()) {
        int max_channel = 0;
        for (const auto& rd : r.readings) max_channel = std::max<int>(max_channel, rd.channel);
        r.channels = max_channel + 1;
    }
    r.has_relay = std::any_of(r.readings.begin(), r.readings.end(),
                              [](const Reading& x) { return x.relay.has_value(); });
    r.has_voltage = std::any_of(r.readings.begin(), r.readings.end(),
                                [](const Reading& x) { return x.voltage_v.has_value(); });
    r.has_current = std::any_of(r.readings.begin(), r.readings.end(),
                                [](const Reading& x) { return x.current_a.has_value(); });
    r.has_temperature = std::any_of(r.readings.begin(), r.readings.end(),
                                    [](const Reading& x) { return x.temperature_c.has_value(); });
}

HttpResponse DeviceProbe::fetch(HttpRequest request) {
    auto promise = std::make_shared<std::promise<HttpResponse>>();
    auto future = promise->get_future();
    const auto timeout = request.timeout;
    http_.submit(std::move(request),
                 [promise](HttpResponse r) { promise->set_value(std::move(r)); });
    // The client enforces the timeout itself; this bound only guards against a lost callback.
    if (future.wait_for(timeout + std::chrono::seconds(5)) != std::future_status::ready) {
        HttpResponse r;
        r.outcome = HttpOutcome::Timeout;
        r.error = "no answer";
        return r;
    }
    return future.get();
}

Result<ProbeResult> DeviceProbe::probe(const ProbeRequest& request) {
    if (!request.mqtt) return probe_http(request);
    if (request.topic_prefix.rfind("shellies/", 0) == 0) return probe_mqtt_gen1(request);
    return probe_mqtt_gen2(request);
}

Result<ProbeResult> DeviceProbe::probe_http(const ProbeRequest& req) {
    HttpRequest info_req;
    info_req.url = drivers::shelly_info_url(req.url);
    info_req.timeout = req.timeout;
    auto info_resp = fetch(info_req);
    if (info_resp.outcome == HttpOutcome::Timeout || info_resp.outcome == HttpOutcome::Unreachable)
        return make_error(ErrorCode::Unreachable,
                          "device at " + req.url + " is unreachable: " + info_resp.error);
    if (info_resp.outcome != HttpOutcome::Ok)
        return make_error(ErrorCode::Protocol, "device at " + req.url +
                                                   " is not a Shelly: /shelly answered " +
                                                   info_resp.error);
    auto info = drivers::parse_device_info(info_resp.body);
    if (!info)
        return make_error(ErrorCode::Protocol,
                          "device at " + req.url + " is not a Shelly: " + info.error().message);
    ProbeResult result;
    result.info = *info;
    if (info->auth_required && req.password.empty())
        return make_error(ErrorCode::Auth, "device " + info->shelly_id +
                                               " requires a password; give username and password");

    HttpRequest status_req;
    status_req.url = drivers::status_url(req.url, info->gen);
    status_req.timeout = req.timeout;
    if (!req.password.empty()) {
        status_req.auth = info->gen == Generation::Gen1 ? HttpAuth::Basic : HttpAuth::Digest;
        status_req.username = info->gen == Generation::Gen1
                                  ? (req.username.empty() ? "admin" : req.username)
                                  : "admin";
        status_req.password = req.password;
    }
    auto status = fetch(status_req);
    if (status.outcome == HttpOutcome::AuthRejected)
        return make_error(ErrorCode::Auth,
                          "device " + info->shelly_id + " rejected the credentials (" +
                              status.error + "); check the username and password");
    if (status.outcome != HttpOutcome::Ok)
        return make_error(ErrorCode::Unreachable,
                          "device " + info->shelly_id + " did not return its status: " +
                              status.error);
    auto readings = info->gen == Generation::Gen1
                        ? drivers::parse_gen1_status(status.body, clock_.now())
                        : drivers::parse_gen2_status(status.body, clock_.now());
    if (!readings)
        return make_error(ErrorCode::Protocol, "device " + info->shelly_id +
                                                   " returned an unusable status: " +
                                                   readings.error().message);
    result.readings = std::move(*readings);
    derive_capabilities(result);
    return result;
}

Result<ProbeResult> DeviceProbe::probe_mqtt_gen2(const ProbeRequest& req) {
    auto info_json =
        rpc_.call_sync(req.topic_prefix, "Shelly.GetDeviceInfo", "", req.timeout, clock_.steady());
    if (!info_json) return info_json.error();
    auto info = drivers::parse_device_info(*info_json);
    if (!info)
        return make_error(ErrorCode::Protocol, "'" + req.topic_prefix +
                                                   "' is not a Shelly: " + info.error().message);
    if (info->gen == Generation::Gen1)
        return make_error(ErrorCode::Protocol, "a Gen1 plug has no RPC; use its shellies/<id> prefix");
    auto status_json =
        rpc_.call_sync(req.topic_prefix, "Shelly.GetStatus", "", req.timeout, clock_.steady());
    if (!status_json) return status_json.error();
    auto readings = drivers::parse_gen2_status(*status_json, clock_.now());
    if (!readings)
        return make_error(ErrorCode::Protocol, "device " + info->shelly_id +
                                                   " returned an unusable status: " +
                                                   readings.error().message);
    ProbeResult result;
    result.info = *info;
    result.readings = std::move(*readings);
    derive_capabilities(result);
    return result;
}

Result<ProbeResult> DeviceProbe::probe_mqtt_gen1(const ProbeRequest& req) {
    const std::string id = req.topic_prefix.substr(std::string("shellies/").size());
    if (id.empty() || id.find('/') != std::string::npos)
        return make_error(ErrorCode::Invalid, "Gen1 topic prefix must be shellies/<id>");
    // Ask the plug to announce itself and wait for it: a real round trip over the broker.
    const auto seen = discovered_.announce_count(id);
    mqtt_.publish(req.topic_prefix + "/command", "announce", 1, false);
    const auto announced = discovered_.wait_announce(id, seen, req.timeout);
    if (!announced)
        return make_error(ErrorCode::Timeout, "no announce from '" + req.topic_prefix +
                                                  "' over MQTT (is the plug online?)");
    ProbeResult result;
    result.info.gen = Generation::Gen1;
    result.info.model = announced->model;
    result.info.mac = announced->mac;
    result.info.firmware = announced->firmware;  // HA shows it as the device's sw_version
    result.info.shelly_id = id;
    result.channels = 1;
    result.has_relay = true;
    result.has_temperature = announced->model == "SHPLG-S";
    return result;
}

}  // namespace intelergy::bridge
