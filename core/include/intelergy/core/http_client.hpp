#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace intelergy {

enum class HttpAuth { None, Basic, Digest };

struct HttpRequest {
    std::string url;                  // full URL, e.g. http://127.0.0.1:8001/rpc/Shelly.GetStatus
    std::string method{"GET"};
    std::string body;                 // POST body (JSON)
    HttpAuth auth{HttpAuth::None};
    std::string username;
    std::string password;
    std::chrono::milliseconds timeout{5000};
    std::size_t max_body_bytes{256 * 1024};  // larger responses fail with Protocol error
};

enum class HttpOutcome { Ok, Timeout, Unreachable, TooLarge, Protocol, AuthRejected };

struct HttpResponse {
    HttpOutcome outcome{HttpOutcome::Protocol};
    long status{0};                   // HTTP status when a response arrived
    std::string body;
    std::string error;                // human-readable cause when outcome != Ok
    std::chrono::microseconds elapsed{0};
};

// Asynchronous HTTP seam (real: CurlHttpClient on one curl multi loop; fake: FakeHttpClient).
// submit() never blocks; `done` runs exactly once, on the client's thread, and must only
// enqueue. A 401 after sending credentials yields AuthRejected.
class HttpClient {
public:
    using Callback = std::function<void(HttpResponse)>;
    virtual ~HttpClient() = default;
    virtual void submit(HttpRequest request, Callback done) = 0;
};

}  // namespace intelergy
