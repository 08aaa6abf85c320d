#pragma once

#include <intelergy/core/http_client.hpp>
#include <intelergy/core/net_policy.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace intelergy::drivers {

struct CurlHttpClientOptions {
    // Idle keep-alive connections kept in the multi handle's cache (CURLMOPT_MAXCONNECTS).
    // Size it near the number of devices so each plug keeps its connection between polls.
    std::size_t max_connections{1024};
    // Transfers handed to curl at once; further submissions wait in a FIFO queue.
    std::size_t max_total_in_flight{512};
    // TCP connect limit per transfer (CURLOPT_CONNECTTIMEOUT_MS), capped by the request timeout.
    std::chrono::milliseconds connect_timeout{3000};
    // Empty means "intelergy/<VERSION>".
    std::string user_agent;
    // When set, every address curl is about to connect to (after DNS) is checked against it,
    // and a refused one fails the request as Unreachable "refused to connect to <host>: …".
    // Unset: no check (tests, tools). `intelergy run` sets polling.allowed_networks.
    std::optional<NetworkPolicy> allowed_networks;
};

// HttpClient on a single background thread running one curl multi loop.
//
// Thread-safety: submit() may be called from any thread and never blocks beyond a short mutex.
// Callbacks run on the client's loop thread, exactly once per submit(); an exception thrown by a
// callback is swallowed and counted. Callbacks must not destroy the client.
// Transport rules: no redirects (a 3xx is Protocol), http/https only, no proxy, HTTP/1.1 with
// keep-alive, per-request timeout and body cap from HttpRequest (enforced while the body
// arrives, so chunked bodies without a length are capped too), optional allowed networks.
// Only GET and POST are supported.
// Destruction aborts outstanding work: every queued or in-flight request completes with
// Unreachable "client shutting down" before the destructor returns.
// The constructor throws std::runtime_error if libcurl cannot be initialised (a startup failure).
class CurlHttpClient final : public HttpClient {
public:
    explicit CurlHttpClient(CurlHttpClientOptions options = {});
    ~CurlHttpClient() override;

    CurlHttpClient(const CurlHttpClient&) = delete;
    CurlHttpClient& operator=(const CurlHttpClient&) = delete;
    CurlHttpClient(CurlHttpClient&&) = delete;
    CurlHttpClient& operator=(CurlHttpClient&&) = delete;

    void submit(HttpRequest request, Callback done) override;

    // Metrics; each value is read without locking and may be momentarily stale.
    [[nodiscard]] std::size_t in_flight() const;          // handed to curl, not finished yet
    [[nodiscard]] std::size_t queued() const;             // accepted, waiting for an in-flight slot
    [[nodiscard]] std::uint64_t completed() const;        // callbacks delivered, any outcome
    [[nodiscard]] std::uint64_t failed() const;           // of those, outcome != Ok
    [[nodiscard]] std::uint64_t callback_errors() const;  // exceptions thrown by callbacks

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace intelergy::drivers
