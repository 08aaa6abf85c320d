#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "intelergy/core/mqtt_client.hpp"
#include "intelergy/core/result.hpp"

namespace intelergy::bridge {

// Shelly Gen2+ RPC over MQTT: requests go to `<prefix>/rpc` with our `src`; replies arrive on
// `<src>/rpc` and are matched by id. Thread-safe; a call()'s callback runs on the thread that
// calls on_reply() (the reply) or expire() (the timeout): in the bridge both are the core loop,
// so a reply is handled in its place among the plug's other frames. call_sync() never runs
// another caller's callback.
class MqttRpc {
public:
    using Callback = std::function<void(Result<std::string /*result json*/>)>;

    MqttRpc(MqttClient& mqtt, std::string src);

    [[nodiscard]] const std::string& reply_topic() const { return reply_topic_; }
    // Sends `method` to the device at `prefix`; `done` runs exactly once. Returns the call id.
    std::uint64_t call(const std::string& prefix, std::string_view method, std::string_view params_json,
              std::chrono::steady_clock::time_point deadline, Callback done);
    // Routes a message from reply_topic(); returns false if it is not ours.
    bool on_reply(const MqttMessage& message);
    // Fails calls whose deadline has passed.
    void expire(std::chrono::steady_clock::time_point now);
    // Blocking convenience for the API worker thread.
    Result<std::string> call_sync(const std::string& prefix, std::string_view method,
                                  std::string_view params_json, std::chrono::milliseconds timeout,
                                  std::chrono::steady_clock::time_point now);

private:
    // Fails the calls in `ids` (all of them if null) whose deadline is at or before `now`.
    void expire(std::chrono::steady_clock::time_point now, const std::vector<std::uint64_t>* ids);

    struct Pending {
        std::chrono::steady_clock::time_point deadline;
        Callback done;
        std::string prefix;
    };
    MqttClient& mqtt_;
    std::string src_;
    std::string reply_topic_;
    std::mutex mutex_;
    std::map<std::uint64_t, Pending> pending_;
    std::uint64_t next_id_{1};
};

}  // namespace intelergy::bridge
