#include <intelergy/fakes/fake_http_client.hpp>

#include <gtest/gtest.h>

#include <optional>

namespace intelergy::fakes {
namespace {

HttpRequest get(std::string url) {
    HttpRequest r;
    r.url = std::move(url);
    return r;
}

TEST(FakeHttpClient, ScriptedResponsesAreUsedInOrderAndTheLastRepeats) {
    FakeHttpClient http;
    http.respond_ok("http://a/shelly", R"({"gen":2})");
    http.respond_error("http://a/shelly", HttpOutcome::Timeout, "timed out");
    std::vector<HttpResponse> got;
    for (int i = 0; i < 3; ++i)
        http.submit(get("http://a/shelly"), [&](HttpResponse r) { got.push_back(std::move(r)); });
    ASSERT_EQ(got.size(), 3U);  // immediate mode: completed inside submit()
    EXPECT_EQ(got[0].outcome, HttpOutcome::Ok);
    EXPECT_EQ(got[0].status, 200);
    EXPECT_EQ(got[0].body, R"({"gen":2})");
    EXPECT_EQ(got[1].outcome, HttpOutcome::Timeout);
    EXPECT_EQ(got[1].error, "timed out");
    EXPECT_EQ(got[2].outcome, HttpOutcome::Timeout);
    EXPECT_EQ(http.request_count("http://a/shelly"), 3U);
}

TEST(FakeHttpClient, ResponderAnswersUnscriptedUrlsAndUnknownUrlsAreUnreachable) {
    FakeHttpClient http;
    std::optional<HttpResponse> got;
    http.submit(get("http://nowhere/"), [&](HttpResponse r) { got = std::move(r); });
    ASSERT_TRUE(got);
    EXPECT_EQ(got->outcome, HttpOutcome::Unreachable);
    EXPECT_NE(got->error.find("http://nowhere/"), std::string::npos);

    http.set_responder(
        [](const HttpRequest& r) { return FakeHttpClient::ok(r.method + " " + r.url); });
    http.submit(get("http://b/x"), [&](HttpResponse r) { got = std::move(r); });
    EXPECT_EQ(got->body, "GET http://b/x");
}

TEST(FakeHttpClient, ManualModeHoldsCompletionsUntilTheTestReleasesThem) {
    FakeHttpClient http;
    http.set_manual(true);
    http.respond_ok("http://a/1", "one");
    std::vector<std::string> order;
    http.submit(get("http://a/1"), [&](HttpResponse r) { order.push_back(r.body); });
    http.submit(get("http://a/2"), [&](HttpResponse r) { order.push_back(r.body); });
    EXPECT_TRUE(order.empty());
    EXPECT_EQ(http.pending(), 2U);
    // Scripts may still change before completion.
    http.respond_ok("http://a/2", "two");
    EXPECT_TRUE(http.complete_next());
    EXPECT_EQ(order, std::vector<std::string>{"one"});
    EXPECT_EQ(http.complete_pending(), 1U);
    EXPECT_EQ(order, (std::vector<std::string>{"one", "two"}));
    EXPECT_FALSE(http.complete_next());
    ASSERT_EQ(http.requests().size(), 2U);
    EXPECT_EQ(http.requests()[1].url, "http://a/2");
}

TEST(FakeHttpClient, CallbacksMaySubmitAgain) {
    FakeHttpClient http;
    http.set_manual(true);
    int done = 0;
    std::function<void(HttpResponse)> again = [&](HttpResponse) {
        if (++done < 3) http.submit(get("http://a/retry"), again);
    };
    http.submit(get("http://a/retry"), again);
    EXPECT_EQ(http.complete_pending(), 1U);  // the resubmitted one waits for the next round
    EXPECT_EQ(http.pending(), 1U);
    http.complete_pending();
    http.complete_pending();
    EXPECT_EQ(done, 3);
    EXPECT_EQ(http.pending(), 0U);
}

}  // namespace
}  // namespace intelergy::fakes
