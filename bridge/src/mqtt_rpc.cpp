#include "mqtt_rpc.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "intelergy/drivers/shelly_rpc.hpp"

namespace intelergy::bridge {

MqttRpc::MqttRpc(MqttClient& mqtt, std::string src)
    : mqtt_(mqtt), src_(std::move(src)), reply_topic_(src_ + "/rpc") {}

std::uint64_t MqttRpc::call(const std::string& prefix, std::string_view method,
                            std::string_view params_json,
                            std::chrono::steady_clock::time_point deadline, Callback done) {
    std::uint64_t id = 0;
    {
        std::lock_guard lock(mutex_);
        id = next_id_++;
        pending_.emplace(id, Pending{deadline, std::move(done), prefix});
    }
    mqtt_.publish(prefix + "/rpc", drivers::make_rpc_frame(id, src_, method, params_json), 1,
                  false);
    return id;
}

bool MqttRpc::on_reply(const MqttMessage& message) {
    if (message.topic != reply_topic_) return false;
    auto parsed = drivers::parse_rpc_response(message.payload);
    if (!parsed) return true;  // ours, but garbage: the caller's deadline will fail it
    Callback done;
    {
        std::lock_guard lock(mutex_);
        const auto it = pending_.find(parsed->id);
        if (it == pending_.end()) return true;  // late reply after timeout
        done = std::move(it->second.done);
        pending_.erase(it);
    }
    if (parsed->result_json) {
        done(std::move(*parsed->result_json));
    } else {
        done(make_error(parsed->error_code == 401 ? ErrorCode::Auth : ErrorCode::Protocol,
                        "device answered with error " +
                            std::to_string(parsed->error_code.value_or(0)) + ": " +
                            parsed->error_message));
    }
    return true;
}

void MqttRpc::expire(std::chrono::steady_clock::time_point now) { expire(now, nullptr); }

void MqttRpc::expire(std::chrono::steady_clock::time_point now,
                     const std::vector<std::uint64_t>* ids) {
    std::vector<Pending> expired;
    {
        std::lock_guard lock(mutex_);
        for (auto it = pending_.begin(); it != pending_.end();) {
            const bool selected =
                !ids || std::find(ids->begin(), ids->end(), it->first) != ids->end();
            if (selected && it->second.deadline <= now) {
                expired.push_back(std::move(it->second));
                it = pending_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& p : expired)
        p.done(make_error(ErrorCode::Timeout,
                          "no RPC reply from '" + p.prefix + "' over MQTT (is the plug online and "
                          "is its MQTT RPC enabled?)"));
}

Result<std::string> MqttRpc::call_sync(const std::string& prefix, std::string_view method,
                                       std::string_view params_json,
                                       std::chrono::milliseconds timeout,
                                       std::chrono::steady_clock::time_point now) {
    // A plug that has just come online may not have subscribed to its RPC topic yet, and the
    // broker drops requests nobody is subscribed to: ask up to three times within the timeout.
    // Every attempt stays open until the overall deadline, so a reply that is merely late (a
    // busy broker or client) still counts instead of being thrown away with its attempt.
    struct Outcome {
        std::mutex mutex;
        std::condition_variable changed;
        std::optional<Result<std::string>> answer;  // a result, or a non-timeout error
        std::optional<Result<std::string>> last_timeout;
    };
    constexpr int ATTEMPTS = 3;
    const auto slice = timeout / ATTEMPTS;
    const auto deadline = now + timeout;
    auto outcome = std::make_shared<Outcome>();
    std::vector<std::uint64_t> ids;
    for (int attempt = 0; attempt < ATTEMPTS; ++attempt) {
        ids.push_back(call(prefix, method, params_json, deadline, [outcome](Result<std::string> r) {
            std::lock_guard lock(outcome->mutex);
            if (outcome->answer) return;
            if (r || r.error().code != ErrorCode::Timeout) {
                outcome->answer = std::move(r);
            } else {
                outcome->last_timeout = std::move(r);
            }
            outcome->changed.notify_all();
        }));
        std::unique_lock lock(outcome->mutex);
        if (outcome->changed.wait_for(lock, slice, [&] { return outcome->answer.has_value(); }))
            break;
    }
    {
        std::lock_guard lock(outcome->mutex);
        if (outcome->answer) return std::move(*outcome->answer);  // open attempts expire later
    }
    expire(deadline, &ids);  // the whole timeout has passed: fail our attempts still open
    std::lock_guard lock(outcome->mutex);
    if (outcome->answer) return std::move(*outcome->answer);
    if (outcome->last_timeout) return std::move(*outcome->last_timeout);
    return make_error(ErrorCode::Timeout, "no reply");
}

}  // namespace intelergy::bridge
