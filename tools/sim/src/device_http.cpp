// SPDX-License-Identifier: MIT
#include "intelergy/sim/device_http.hpp"

#include <cctype>

namespace intelergy::sim {

namespace {

HttpReply json_reply(const Json& j, int status = 200) {
    HttpReply r;
    r.status = status;
    r.body = j.dump();
    return r;
}

HttpReply text_reply(int status, std::string text) {
    HttpReply r;
    r.status = status;
    r.content_type = "text/plain";
    r.body = std::move(text);
    return r;
}

const std::string* find_param(const HttpRequest& req, std::string_view key) {
    for (const auto& [k, v] : req.params) {
        if (k == key) return &v;
    }
    return nullptr;
}

// Query values are JSON where they parse as JSON (numbers, booleans, arrays), strings otherwise.
Json params_from_query(const HttpRequest& req) {
    Json p = Json::object();
    for (const auto& [k, v] : req.params) {
        auto parsed = Json::parse(v, nullptr, false);
        p[k] = parsed.is_discarded() ? Json(v) : parsed;
    }
    return p;
}

HttpReply rpc_error_reply(const RpcResult& r) {
    const int status = r.code == 404 ? 404 : (r.code == 401 ? 401 : 500);
    return json_reply(Json{{"code", r.code}, {"message", r.message}}, status);
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(s[i])) !=
            std::tolower(static_cast<unsigned char>(prefix[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace

HttpReply DeviceHttp::handle(Plug& plug, const HttpRequest& req) const {
    const auto faults = plug.faults();
    if (faults.offline) {
        HttpReply r;
        r.delivery = HttpReply::Delivery::DROP;
        return r;
    }
    HttpReply reply = route(plug, req);
    reply.delay_ms = faults.slow_ms;
    if (reply.status == 200) {
        if (plug.take_fault(&Faults::garbage)) {
            reply.body = "<html>\x01\x02 garbage {{{ not json";
        } else if (plug.take_fault(&Faults::truncated)) {
            reply.delivery = HttpReply::Delivery::TRUNCATED;
        } else if (plug.take_fault(&Faults::huge)) {
            // Still valid JSON, just far larger than any real device would send.
            auto j = Json::parse(reply.body, nullptr, false);
            if (j.is_object()) {
                j["_padding"] = std::string(faults.huge_bytes, 'x');
                reply.body = j.dump();
            }
        }
    }
    return reply;
}

HttpReply DeviceHttp::route(Plug& plug, const HttpRequest& req) const {
    if (req.path == "/shelly") return json_reply(plug.shelly_info());
    return plug.gen() == 1 ? gen1(plug, req) : gen2(plug, req);
}

HttpReply DeviceHttp::gen1(Plug& plug, const HttpRequest& req) const {
    if (plug.has_auth()) {
        bool ok = false;
        if (starts_with_ci(req.authorization, "Basic ")) {
            const auto decoded = base64_decode(std::string_view(req.authorization).substr(6));
            ok = decoded && *decoded == "admin:" + plug.spec().password;
        }
        if (!ok) {
            auto r = text_reply(401, "401 Unauthorized");
            r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"" + plug.id() + "\"");
            return r;
        }
    }
    const auto& p = req.path;
    if (p == "/status") return json_reply(plug.gen1_status());
    if (p == "/settings") return json_reply(plug.gen1_settings());
    if (p == "/reboot") {
        plug.reboot();
        return json_reply(Json{{"ok", true}});
    }
    if (p == "/meter/0") return json_reply(plug.gen1_meter(0));
    if (p == "/relay/0" || p == "/settings/relay/0") {
        const auto* turn = find_param(req, "turn");
        auto j = plug.gen1_turn(0, turn ? std::string_view(*turn) : std::string_view(), "http");
        if (!j) return text_reply(400, "Bad turn!");
        return json_reply(*j);
    }
    return text_reply(404, "Not Found");
}

bool DeviceHttp::gen2_authorized(Plug& plug, const HttpRequest& req) const {
    if (!starts_with_ci(req.authorization, "Digest ")) return false;
    auto a = parse_auth_params(std::string_view(req.authorization).substr(7));
    const auto get = [&](const char* k) -> const std::string& { return a[k]; };
    if (get("username") != "admin" || get("realm") != plug.id()) return false;
    if (!a["algorithm"].empty() && get("algorithm") != "SHA-256") return false;
    if (get("qop") != "auth" || !nonces_.verify(plug.id(), get("nonce"))) return false;
    if (get("uri") != req.target) return false;
    const auto expected =
        digest_response("admin", plug.id(), plug.spec().password, req.method, get("uri"),
                        get("nonce"), get("nc"), get("cnonce"), "auth");
    return expected == get("response");
}

HttpReply DeviceHttp::gen2_challenge(Plug& plug) const {
    HttpReply r;
    r.status = 401;
    r.body.clear();
    const auto now_s = static_cast<std::int64_t>(plug.uptime_s()) ^
                       static_cast<std::int64_t>(plug.seed() & 0xFFFFFFU);
    r.headers.emplace_back("WWW-Authenticate",
                           "Digest qop=\"auth\", realm=\"" + plug.id() + "\", nonce=\"" +
                               nonces_.issue(plug.id(), now_s) + "\", algorithm=SHA-256");
    return r;
}

HttpReply DeviceHttp::gen2(Plug& plug, const HttpRequest& req) const {
    const auto& p = req.path;
    if (p == "/rpc") {
        if (req.method != "POST") return text_reply(404, "Not Found");
        auto frame = Json::parse(req.body, nullptr, false);
        if (!frame.is_object() || !frame.contains("method") || !frame["method"].is_string()) {
            return json_reply(Json{{"code", -103}, {"message", "Invalid request frame"}}, 400);
        }
        const auto method = frame["method"].get<std::string>();
        if (plug.has_auth() && method != "Shelly.GetDeviceInfo" && !gen2_authorized(plug, req)) {
            return gen2_challenge(plug);
        }
        const Json params = frame.value("params", Json::object());
        const auto res = plug.rpc(method, params, "HTTP_in");
        Json out{{"id", frame.value("id", Json(nullptr))}, {"src", plug.id()}};
        if (frame.contains("src")) out["dst"] = frame["src"];
        if (res.ok) {
            out["result"] = res.result;
        } else {
            out["error"] = Json{{"code", res.code}, {"message", res.message}};
        }
        return json_reply(out);
    }
    if (!p.starts_with("/rpc/")) return text_reply(404, "Not Found");
    const auto method = p.substr(5);
    if (plug.has_auth() && method != "Shelly.GetDeviceInfo" && !gen2_authorized(plug, req)) {
        return gen2_challenge(plug);
    }
    Json params;
    if (req.method == "POST" && !req.body.empty()) {
        params = Json::parse(req.body, nullptr, false);
        if (params.is_discarded() || !params.is_object()) {
            return json_reply(Json{{"code", -103}, {"message", "Invalid params JSON"}}, 400);
        }
    } else {
        params = params_from_query(req);
    }
    const auto res = plug.rpc(method, params, "HTTP_in");
    if (!res.ok) return rpc_error_reply(res);
    return json_reply(res.result);
}

}  // namespace intelergy::sim
