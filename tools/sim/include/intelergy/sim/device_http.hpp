// SPDX-License-Identifier: MIT
#pragma once

#include "intelergy/sim/auth.hpp"
#include "intelergy/sim/plug.hpp"

#include <string>
#include <utility>
#include <vector>

namespace intelergy::sim {

// Transport-neutral view of one HTTP request to a plug. `path` is relative to the plug
// ("/rpc/Switch.GetStatus"); `target` is the raw request target as sent (used for the digest uri).
struct HttpRequest {
    std::string method = "GET";
    std::string path;
    std::string target;
    std::vector<std::pair<std::string, std::string>> params;
    std::string authorization;
    std::string body;
};

struct HttpReply {
    enum class Delivery {
        NORMAL,
        TRUNCATED,  // headers announce the full length, half the body is sent, then close
        DROP,       // connection closed without a usable response (offline in shared-port mode)
    };
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    int delay_ms = 0;
    Delivery delivery = Delivery::NORMAL;
};

// The device-side HTTP protocol (Gen1 REST or Gen2+ RPC), auth and response faults.
class DeviceHttp {
public:
    explicit DeviceHttp(const NonceIssuer& nonces) : nonces_(nonces) {}
    [[nodiscard]] HttpReply handle(Plug& plug, const HttpRequest& req) const;

private:
    [[nodiscard]] HttpReply route(Plug& plug, const HttpRequest& req) const;
    [[nodiscard]] HttpReply gen1(Plug& plug, const HttpRequest& req) const;
    [[nodiscard]] HttpReply gen2(Plug& plug, const HttpRequest& req) const;
    [[nodiscard]] bool gen2_authorized(Plug& plug, const HttpRequest& req) const;
    [[nodiscard]] HttpReply gen2_challenge(Plug& plug) const;

    const NonceIssuer& nonces_;
};

}  // namespace intelergy::sim
