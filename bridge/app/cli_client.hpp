#pragma once

#include "cli_request.hpp"
#include "intelergy/config/config.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace intelergy::app::cli {

// The bridge's answer to one request, or why there is none.
struct Reply {
    enum class Kind {
        Ok,          // status "ok"; `data` is the response's data (JSON text)
        Error,       // status "error"; `message` is the bridge's error message
        NoResponse,  // nothing within the timeout; `message` explains (bridge offline?)
        NoBroker,    // could not connect to the broker within the timeout
    };
    Kind kind{Kind::NoResponse};
    std::string data;
    std::string message;
};

// Process exit code for a reply: 0 ok, 1 error response, 3 no answer.
int exit_code(const Reply& reply);

// One request/response round trip over the MQTT API. Blocking; not thread-safe.
class ApiClient {
public:
    virtual ~ApiClient() = default;
    virtual Reply call(const ApiRequest& request) = 0;
};

// ApiClient over MQTT: its own client id, subscribes to <base>/bridge/state (retained) and to
// the response topic before publishing the request (QoS 1) with a unique "transaction";
// responses carrying another transaction are ignored. A call waits up to `timeout` for the
// broker connection (the first call only), then up to `timeout` for the response.
class MqttApiClient final : public ApiClient {
public:
    MqttApiClient(const config::MqttConfig& mqtt, std::chrono::milliseconds timeout);
    ~MqttApiClient() override;
    MqttApiClient(const MqttApiClient&) = delete;
    MqttApiClient& operator=(const MqttApiClient&) = delete;

    Reply call(const ApiRequest& request) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Routes the MQTT client's log lines away from stdout: warnings are kept (the last one explains
// a failed connection) and nothing is printed. Call once before creating an MqttApiClient.
void quiet_logging();

}  // namespace intelergy::app::cli
