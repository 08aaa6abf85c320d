#pragma once

#include "intelergy/core/http_client.hpp"

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace intelergy::fakes {

// An HttpClient with scripted answers. A response is chosen when the request completes:
//   1. the URL's script (respond()): entries are used in order, the last one repeats;
//   2. else the responder function (set_responder());
//   3. else Unreachable with "no scripted response for <url>".
// Completion is immediate (inside submit(), on the caller's thread) unless manual mode is on;
// then requests wait until the test calls complete_pending()/complete_next(), which run the
// callbacks on the test's thread, in submission order. Thread-safe; callbacks run unlocked.
class FakeHttpClient final : public HttpClient {
public:
    using Responder = std::function<HttpResponse(const HttpRequest&)>;

    void submit(HttpRequest request, Callback done) override;

    // --- scripting --------------------------------------------------------------------------
    void respond(const std::string& url, HttpResponse response);
    void respond_ok(const std::string& url, std::string body, long status = 200);
    void respond_error(const std::string& url, HttpOutcome outcome, std::string error = {});
    void set_responder(Responder responder);
    void set_manual(bool manual);  // true: hold completions until complete_*()

    static HttpResponse ok(std::string body, long status = 200);
    static HttpResponse failure(HttpOutcome outcome, std::string error = {});

    // --- completing held requests (manual mode) ---------------------------------------------
    std::size_t complete_pending();  // all held ones (not ones submitted by their callbacks)
    bool complete_next();
    [[nodiscard]] std::size_t pending() const;

    // --- inspecting -------------------------------------------------------------------------
    [[nodiscard]] std::vector<HttpRequest> requests() const;  // every submitted request
    [[nodiscard]] std::size_t request_count(const std::string& url) const;
    void clear_requests();

private:
    struct Held {
        HttpRequest request;
        Callback done;
    };
    HttpResponse answer(const HttpRequest& request);  // caller holds no lock

    mutable std::mutex mutex_;
    std::map<std::string, std::deque<HttpResponse>> scripts_;
    Responder responder_;
    bool manual_{false};
    std::deque<Held> held_;
    std::vector<HttpRequest> requests_;
};

}  // namespace intelergy::fakes
