#include "intelergy/fakes/fake_http_client.hpp"

#include <algorithm>

namespace intelergy::fakes {

void FakeHttpClient::submit(HttpRequest request, Callback done) {
    {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
        if (manual_) {
            held_.push_back({std::move(request), std::move(done)});
            return;
        }
    }
    auto response = answer(request);
    if (done) done(std::move(response));
}

HttpResponse FakeHttpClient::answer(const HttpRequest& request) {
    Responder responder;
    {
        std::lock_guard lock(mutex_);
        const auto it = scripts_.find(request.url);
        if (it != scripts_.end() && !it->second.empty()) {
            HttpResponse r = it->second.front();
            if (it->second.size() > 1) it->second.pop_front();
            return r;
        }
        responder = responder_;
    }
    if (responder) return responder(request);
    return failure(HttpOutcome::Unreachable, "no scripted response for " + request.url);
}

void FakeHttpClient::respond(const std::string& url, HttpResponse response) {
    std::lock_guard lock(mutex_);
    scripts_[url].push_back(std::move(response));
}

void FakeHttpClient::respond_ok(const std::string& url, std::string body, long status) {
    respond(url, ok(std::move(body), status));
}

void FakeHttpClient::respond_error(const std::string& url, HttpOutcome outcome, std::string error) {
    respond(url, failure(outcome, std::move(error)));
}

void FakeHttpClient::set_responder(Responder responder) {
    std::lock_guard lock(mutex_);
    responder_ = std::move(responder);
}

void FakeHttpClient::set_manual(bool manual) {
    std::lock_guard lock(mutex_);
    manual_ = manual;
}

HttpResponse FakeHttpClient::ok(std::string body, long status) {
    HttpResponse r;
    r.outcome = HttpOutcome::Ok;
    r.status = status;
    r.body = std::move(body);
    return r;
}

HttpResponse FakeHttpClient::failure(HttpOutcome outcome, std::string error) {
    HttpResponse r;
    r.outcome = outcome;
    r.error = error.empty() ? "scripted failure" : std::move(error);
    if (outcome == HttpOutcome::AuthRejected) r.status = 401;
    return r;
}

bool FakeHttpClient::complete_next() {
    Held held;
    {
        std::lock_guard lock(mutex_);
        if (held_.empty()) return false;
        held = std::move(held_.front());
        held_.pop_front();
    }
    auto response = answer(held.request);
    if (held.done) held.done(std::move(response));
    return true;
}

std::size_t FakeHttpClient::complete_pending() {
    std::size_t n = pending();
    std::size_t done = 0;
    while (done < n && complete_next()) ++done;
    return done;
}

std::size_t FakeHttpClient::pending() const {
    std::lock_guard lock(mutex_);
    return held_.size();
}

std::vector<HttpRequest> FakeHttpClient::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

std::size_t FakeHttpClient::request_count(const std::string& url) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(requests_.begin(), requests_.end(),
                                                  [&](const auto& r) { return r.url == url; }));
}

void FakeHttpClient::clear_requests() {
    std::lock_guard lock(mutex_);
    requests_.clear();
}

}  // namespace intelergy::fakes
