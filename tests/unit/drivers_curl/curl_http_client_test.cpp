// CurlHttpClient against a real cpp-httplib server on 127.0.0.1 (cpp-httplib's own test style).
#include <intelergy/core/clock.hpp>
#include <intelergy/core/server_wait.hpp>
#include <intelergy/drivers/curl_http_client.hpp>
#include <intelergy/version.hpp>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using intelergy::HttpAuth;
using intelergy::HttpOutcome;
using intelergy::HttpRequest;
using intelergy::HttpResponse;
using intelergy::drivers::CurlHttpClient;
using intelergy::drivers::CurlHttpClientOptions;

// Upper bound for any single completion; a healthy run needs milliseconds.
constexpr auto COMPLETION_WAIT = 10s;

// Minimal SHA-256 (FIPS 180-4) so the digest server side needs no extra library.
std::string sha256_hex(std::string_view input) {
    static constexpr std::array<std::uint32_t, 64> K = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2};
    std::array<std::uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::vector<std::uint8_t> msg(input.begin(), input.end());
    const std::uint64_t bit_len = std::uint64_t{input.size()} * 8U;
    msg.push_back(0x80);
    while (msg.size() % 64 != 56) msg.push_back(0);
    for (int shift = 56; shift >= 0; shift -= 8) {
        msg.push_back(static_cast<std::uint8_t>(bit_len >> shift));
    }
    for (std::size_t off = 0; off < msg.size(); off += 64) {
        std::array<std::uint32_t, 64> w{};
        for (std::size_t i = 0; i < 16; ++i) {
            w[i] = (std::uint32_t{msg[off + 4 * i]} << 24) |
                   (std::uint32_t{msg[off + 4 * i + 1]} << 16) |
                   (std::uint32_t{msg[off + 4 * i + 2]} << 8) | std::uint32_t{msg[off + 4 * i + 3]};
        }
        for (std::size_t i = 16; i < 64; ++i) {
            const std::uint32_t s0 =
                std::rotr(w[i - 15], 7) ^ std::rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const std::uint32_t s1 =
                std::rotr(w[i - 2], 17) ^ std::rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        auto [a, b, c, d, e, f, g, hh] = h;
        for (std::size_t i = 0; i < 64; ++i) {
            const std::uint32_t t1 = hh + (std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25)) +
                                     ((e & f) ^ (~e & g)) + K[i] + w[i];
            const std::uint32_t t2 = (std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22)) +
                                     ((a & b) ^ (a & c) ^ (b & c));
            hh = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        const std::array<std::uint32_t, 8> add = {a, b, c, d, e, f, g, hh};
        for (std::size_t i = 0; i < 8; ++i) h[i] += add[i];
    }
    static constexpr std::string_view HEX = "0123456789abcdef";
    std::string out;
    for (const std::uint32_t word : h) {
        for (int shift = 28; shift >= 0; shift -= 4) out += HEX[(word >> shift) & 0xfU];
    }
    return out;
}

// Parses `Digest k=v, k="v", ...` into a map (values unquoted).
std::map<std::string, std::string> parse_digest(std::string_view header) {
    std::map<std::string, std::string> fields;
    constexpr std::string_view PREFIX = "Digest ";
    if (!header.starts_with(PREFIX)) return fields;
    header.remove_prefix(PREFIX.size());
    while (!header.empty()) {
        while (!header.empty() && (header.front() == ' ' || header.front() == ',')) {
            header.remove_prefix(1);
        }
        const auto eq = header.find('=');
        if (eq == std::string_view::npos) break;
        const std::string key(header.substr(0, eq));
        header.remove_prefix(eq + 1);
        std::string value;
        if (!header.empty() && header.front() == '"') {
            const auto close = header.find('"', 1);
            if (close == std::string_view::npos) break;
            value = header.substr(1, close - 1);
            header.remove_prefix(close + 1);
        } else {
            const auto comma = header.find(',');
            value = header.substr(0, comma);
            header.remove_prefix(comma == std::string_view::npos ? header.size() : comma);
        }
        fields[key] = value;
    }
    return fields;
}

// Blocks slow handlers until the test (or the server's teardown) opens it; counts arrivals so a
// test can wait for "N requests are now inside the server".
class Gate {
public:
    bool wait_open(std::chrono::seconds limit) {
        std::unique_lock lock(mutex_);
        ++arrived_;
        changed_.notify_all();
        return changed_.wait_for(lock, limit, [&] { return open_; });
    }
    void open() {
        std::lock_guard lock(mutex_);
        open_ = true;
        changed_.notify_all();
    }
    bool wait_arrived(int count) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, COMPLETION_WAIT, [&] { return arrived_ >= count; });
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    int arrived_{0};
    bool open_{false};
};

class TestServer {
public:
    TestServer() {
        // Each keep-alive connection pins one server thread; leave room for the client's limit.
        server_.new_task_queue = [] { return new httplib::ThreadPool(48); };
        server_.set_keep_alive_max_count(1000);
        // httplib writes headers and body separately; without this Nagle + delayed ACK add
        // ~40 ms to every keep-alive exchange.
        server_.set_tcp_nodelay(true);
    }
    ~TestServer() {
        gate.open();
        if (thread_.joinable()) {
            server_.stop();
            thread_.join();
        }
    }
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    httplib::Server& http() { return server_; }

    // Call after registering handlers.
    void start() {
        port_ = server_.bind_to_any_port("127.0.0.1");
        ASSERT_GT(port_, 0);
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        // The socket already listens, so requests would queue anyway; waiting for the accept loop
        // only makes stop() in the destructor reliable.
        ASSERT_TRUE(intelergy::wait_until_running(server_));
    }

    std::string url(std::string_view path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }

    // Records the client side of the connection and the handler concurrency.
    void track(const httplib::Request& req) {
        std::lock_guard lock(mutex_);
        ports_.insert(req.remote_port);
        ++requests_;
    }
    std::size_t connections() {
        std::lock_guard lock(mutex_);
        return ports_.size();
    }
    int requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }

    Gate gate;

private:
    httplib::Server server_;
    std::thread thread_;
    int port_{0};
    std::mutex mutex_;
    std::set<int> ports_;
    int requests_{0};
};

// Submits one request and waits (bounded) for its callback.
HttpResponse fetch(CurlHttpClient& client, HttpRequest request) {
    auto promise = std::make_shared<std::promise<HttpResponse>>();
    auto future = promise->get_future();
    client.submit(std::move(request),
                  [promise](HttpResponse response) { promise->set_value(std::move(response)); });
    if (future.wait_for(COMPLETION_WAIT) != std::future_status::ready) {
        ADD_FAILURE() << "request did not complete within the bound";
        HttpResponse none;
        none.error = "test: no completion";
        return none;
    }
    return future.get();
}

HttpRequest get(std::string url) {
    HttpRequest request;
    request.url = std::move(url);
    return request;
}

// A loopback port that was bound and closed again, so nothing listens there.
int closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    ::close(fd);
    return ntohs(addr.sin_port);
}

TEST(Sha256, MatchesKnownVectors) {
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // Test vector from shared/reference/payloads/gen2_401_digest_challenge.json.
    EXPECT_EQ(sha256_hex("admin:shellyplusplugs-a1b2c3d4e5f6:s3cret"),
              "bb072cd5320fe338c7d9a117194e90770c115c6b047841e7655e77f6b4ea3212");
}

TEST(CurlHttpClient, GetReturnsBodyAndSendsUserAgent) {
    TestServer server;
    std::string user_agent;
    server.http().Get("/rpc/Shelly.GetStatus",
                      [&](const httplib::Request& req, httplib::Response& res) {
                          user_agent = req.get_header_value("User-Agent");
                          res.set_content(R"({"switch:0":{"output":true}})", "application/json");
                      });
    server.start();
    CurlHttpClient client;

    const HttpResponse response = fetch(client, get(server.url("/rpc/Shelly.GetStatus")));

    EXPECT_EQ(response.outcome, HttpOutcome::Ok) << response.error;
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, R"({"switch:0":{"output":true}})");
    EXPECT_TRUE(response.error.empty());
    EXPECT_GT(response.elapsed.count(), 0);
    EXPECT_EQ(user_agent, "intelergy/" + std::string(intelergy::VERSION));
    EXPECT_EQ(client.completed(), 1U);
    EXPECT_EQ(client.failed(), 0U);
}

TEST(CurlHttpClient, PostSendsJsonBody) {
    TestServer server;
    std::string content_type;
    server.http().Post("/rpc", [&](const httplib::Request& req, httplib::Response& res) {
        content_type = req.get_header_value("Content-Type");
        res.set_content(req.body, "application/json");
    });
    server.start();
    CurlHttpClient client;
    HttpRequest request = get(server.url("/rpc"));
    request.method = "POST";
    // Longer than 1 KiB so curl would otherwise add "Expect: 100-continue".
    request.body = R"({"id":1,"method":"Switch.Set","params":{"id":0,"on":true},"pad":")" +
                   std::string(2000, 'p') + R"("})";

    const HttpResponse response = fetch(client, request);

    EXPECT_EQ(response.outcome, HttpOutcome::Ok) << response.error;
    EXPECT_EQ(response.body, request.body);
    EXPECT_EQ(content_type, "application/json");
}

TEST(CurlHttpClient, NonSuccessStatusIsProtocolWithBody) {
    TestServer server;
    server.http().Get("/settings", [](const httplib::Request&, httplib::Response& res) {
        res.status = 500;
        res.set_content("bad things", "text/plain");
    });
    server.start();
    CurlHttpClient client;

    const HttpResponse response = fetch(client, get(server.url("/settings")));

    EXPECT_EQ(response.outcome, HttpOutcome::Protocol);
    EXPECT_EQ(response.status, 500);
    EXPECT_EQ(response.error, "HTTP 500");
    EXPECT_EQ(response.body, "bad things");
    EXPECT_EQ(client.failed(), 1U);
}

TEST(CurlHttpClient, SlowServerTimesOut) {
    TestServer server;
    server.http().Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
        server.gate.wait_open(5s);
        res.set_content("late", "text/plain");
    });
    server.start();
    CurlHttpClient client;
    HttpRequest request = get(server.url("/slow"));
    request.timeout = 200ms;

    const HttpResponse response = fetch(client, request);

    EXPECT_EQ(response.outcome, HttpOutcome::Timeout) << response.error;
    EXPECT_FALSE(response.error.empty());
    EXPECT_GE(response.elapsed, std::chrono::microseconds(150ms));
}

TEST(CurlHttpClient, RefusedConnectionIsUnreachable) {
    CurlHttpClient client;

    const HttpResponse response =
        fetch(client, get("http://127.0.0.1:" + std::to_string(closed_port()) + "/shelly"));

    EXPECT_EQ(response.outcome, HttpOutcome::Unreachable);
    EXPECT_EQ(response.status, 0);
    EXPECT_NE(response.error.find("connect"), std::string::npos) << response.error;
}

TEST(CurlHttpClient, BodyAboveCapIsTooLargeAndAtCapIsOk) {
    TestServer server;
    server.http().Get("/big", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(std::string(100'000, 'x'), "application/json");
    });
    server.start();
    CurlHttpClient client;

    HttpRequest over = get(server.url("/big"));
    over.max_body_bytes = 1000;
    const HttpResponse too_large = fetch(client, over);
    EXPECT_EQ(too_large.outcome, HttpOutcome::TooLarge);
    EXPECT_TRUE(too_large.body.empty());
    EXPECT_NE(too_large.error.find("1000"), std::string::npos) << too_large.error;

    HttpRequest exact = get(server.url("/big"));
    exact.max_body_bytes = 100'000;
    const HttpResponse ok = fetch(client, exact);
    EXPECT_EQ(ok.outcome, HttpOutcome::Ok) << ok.error;
    EXPECT_EQ(ok.body.size(), 100'000U);
}

// CURLOPT_MAXFILESIZE alone would not stop a chunked body (no Content-Length): the cap is
// enforced in the write callback, while the body streams in.
TEST(CurlHttpClient, ChunkedBodyAboveCapIsTooLarge) {
    TestServer server;
    server.http().Get("/stream", [](const httplib::Request&, httplib::Response& res) {
        auto sent = std::make_shared<int>(0);  // per response
        res.set_chunked_content_provider("application/json",
                                         [sent](std::size_t, httplib::DataSink& sink) {
                                             // Bounded: 64 chunks of 4 KiB, far above the cap.
                                             if (*sent >= 64) {
                                                 sink.done();
                                                 return true;
                                             }
                                             ++*sent;
                                             const std::string chunk(4096, 'x');
                                             return sink.write(chunk.data(), chunk.size());
                                         });
    });
    server.start();
    CurlHttpClient client;

    HttpRequest request = get(server.url("/stream"));
    request.max_body_bytes = 10'000;
    const HttpResponse response = fetch(client, request);
    EXPECT_EQ(response.outcome, HttpOutcome::TooLarge) << response.error;
    EXPECT_TRUE(response.body.empty());
    EXPECT_NE(response.error.find("10000"), std::string::npos) << response.error;

    request.max_body_bytes = 64 * 4096;
    const HttpResponse whole = fetch(client, request);
    EXPECT_EQ(whole.outcome, HttpOutcome::Ok) << whole.error;
    EXPECT_EQ(whole.body.size(), 64U * 4096U);
}

intelergy::NetworkPolicy only(std::initializer_list<const char*> networks) {
    std::vector<intelergy::IpNetwork> list;
    for (const char* n : networks) list.push_back(*intelergy::parse_ip_network(n));
    return intelergy::NetworkPolicy(list);
}

TEST(CurlHttpClient, AddressOutsideAllowedNetworksIsRefusedBeforeConnecting) {
    TestServer server;
    std::atomic<int> hits{0};
    server.http().Get("/shelly", [&](const httplib::Request&, httplib::Response& res) {
        ++hits;
        res.set_content("{}", "application/json");
    });
    server.start();

    CurlHttpClientOptions options;
    options.allowed_networks = only({"10.0.0.0/8"});
    CurlHttpClient refusing(options);
    const HttpResponse refused = fetch(refusing, get(server.url("/shelly")));
    EXPECT_EQ(refused.outcome, HttpOutcome::Unreachable);
    EXPECT_EQ(refused.error,
              "refused to connect to 127.0.0.1: address 127.0.0.1 is not in "
              "polling.allowed_networks");
    EXPECT_EQ(hits.load(), 0);

    options.allowed_networks = intelergy::NetworkPolicy{};  // the defaults include loopback
    CurlHttpClient allowing(options);
    const HttpResponse ok = fetch(allowing, get(server.url("/shelly")));
    EXPECT_EQ(ok.outcome, HttpOutcome::Ok) << ok.error;
    EXPECT_EQ(hits.load(), 1);
}

// The check runs on the resolved address, so a host name works when it resolves inside the
// allowed networks and is refused when it does not.
TEST(CurlHttpClient, HostNamesAreCheckedByTheAddressTheyResolveTo) {
    TestServer server;
    std::atomic<int> hits{0};
    server.http().Get("/shelly", [&](const httplib::Request&, httplib::Response& res) {
        ++hits;
        res.set_content("{}", "application/json");
    });
    server.start();
    const std::string port = server.url("").substr(std::string("http://127.0.0.1:").size());

    CurlHttpClientOptions options;
    options.allowed_networks = only({"127.0.0.0/8"});
    CurlHttpClient allowing(options);
    const HttpResponse ok = fetch(allowing, get("http://localhost:" + port + "/shelly"));
    EXPECT_EQ(ok.outcome, HttpOutcome::Ok) << ok.error;
    EXPECT_EQ(hits.load(), 1);

    options.allowed_networks = only({"192.168.0.0/16"});
    CurlHttpClient refusing(options);
    const HttpResponse refused = fetch(refusing, get("http://localhost:" + port + "/shelly"));
    EXPECT_EQ(refused.outcome, HttpOutcome::Unreachable);
    EXPECT_EQ(refused.error.rfind("refused to connect to localhost: address ", 0), 0U)
        << refused.error;
    EXPECT_NE(refused.error.find("is not in polling.allowed_networks"), std::string::npos);
    EXPECT_EQ(hits.load(), 1);
}

TEST(CurlHttpClient, MetadataAddressIsRefusedEvenWhenEverythingIsAllowed) {
    CurlHttpClientOptions options;
    options.allowed_networks = only({"0.0.0.0/0", "::/0"});
    CurlHttpClient client(options);
    // Refused before a socket exists, so nothing leaves the machine.
    for (const char* url : {"http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/",
                            "http://[::ffff:169.254.169.254]/"}) {
        const HttpResponse refused = fetch(client, get(url));
        EXPECT_EQ(refused.outcome, HttpOutcome::Unreachable) << url;
        EXPECT_NE(refused.error.find("is never allowed"), std::string::npos) << refused.error;
    }
}

TEST(CurlHttpClient, RedirectIsNotFollowed) {
    TestServer server;
    std::atomic<int> target_hits{0};
    server.http().Get(
        "/old", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/new"); });
    server.http().Get("/new", [&](const httplib::Request&, httplib::Response& res) {
        ++target_hits;
        res.set_content("moved", "text/plain");
    });
    server.start();
    CurlHttpClient client;

    const HttpResponse response = fetch(client, get(server.url("/old")));

    EXPECT_EQ(response.outcome, HttpOutcome::Protocol);
    EXPECT_EQ(response.status, 302);
    EXPECT_NE(response.error.find("HTTP 302"), std::string::npos) << response.error;
    EXPECT_NE(response.error.find("/new"), std::string::npos) << response.error;
    EXPECT_EQ(target_hits.load(), 0);
}

TEST(CurlHttpClient, UnsupportedMethodIsProtocol) {
    CurlHttpClient client;
    HttpRequest request = get("http://127.0.0.1:1/");
    request.method = "DELETE";

    const HttpResponse response = fetch(client, request);

    EXPECT_EQ(response.outcome, HttpOutcome::Protocol);
    EXPECT_NE(response.error.find("DELETE"), std::string::npos);
}

// Gen1: every resource needs Basic auth once a login is set.
class BasicAuth : public ::testing::Test {
protected:
    void SetUp() override {
        server_.http().Get("/status", [](const httplib::Request& req, httplib::Response& res) {
            // base64("admin:secret")
            if (req.get_header_value("Authorization") != "Basic YWRtaW46c2VjcmV0") {
                res.status = 401;
                res.set_header("WWW-Authenticate", R"(Basic realm="shelly1-abc")");
                return;
            }
            res.set_content(R"({"relays":[{"ison":true}]})", "application/json");
        });
        server_.start();
    }
    HttpRequest request(std::string password) {
        HttpRequest r = get(server_.url("/status"));
        r.auth = HttpAuth::Basic;
        r.username = "admin";
        r.password = std::move(password);
        return r;
    }
    TestServer server_;
    CurlHttpClient client_;
};

TEST_F(BasicAuth, CorrectPasswordIsOk) {
    const HttpResponse response = fetch(client_, request("secret"));
    EXPECT_EQ(response.outcome, HttpOutcome::Ok) << response.error;
    EXPECT_EQ(response.body, R"({"relays":[{"ison":true}]})");
}

TEST_F(BasicAuth, WrongPasswordIsRejected) {
    const HttpResponse response = fetch(client_, request("wrong"));
    EXPECT_EQ(response.outcome, HttpOutcome::AuthRejected);
    EXPECT_EQ(response.status, 401);
    EXPECT_EQ(response.error, "credentials rejected");
}

TEST_F(BasicAuth, MissingCredentialsNeedAuthentication) {
    const HttpResponse response = fetch(client_, get(server_.url("/status")));
    EXPECT_EQ(response.outcome, HttpOutcome::AuthRejected);
    EXPECT_EQ(response.error, "authentication required");
}

// Gen2+: RFC 7616 digest, SHA-256 only, challenge formatted exactly like a Shelly Plus Plug S.
class DigestAuth : public ::testing::Test {
protected:
    static constexpr std::string_view REALM = "shellyplusplugs-aabbccddeeff";
    static constexpr std::string_view NONCE = "642dabce";
    static constexpr std::string_view PASSWORD = "s3cret";

    void SetUp() override {
        server_.http().Get("/rpc/Switch.GetStatus", [this](const httplib::Request& req,
                                                           httplib::Response& res) {
            if (accept(req)) {
                res.set_content(R"({"id":0,"output":false})", "application/json");
                return;
            }
            ++challenges_;
            res.status = 401;
            res.set_header("WWW-Authenticate", R"(Digest qop="auth", realm=")" +
                                                   std::string(REALM) + R"(", nonce=")" +
                                                   std::string(NONCE) + R"(", algorithm=SHA-256)");
        });
        server_.start();
    }

    bool accept(const httplib::Request& req) {
        const std::string header = req.get_header_value("Authorization");
        if (header.empty()) return false;
        auto f = parse_digest(header);
        std::lock_guard lock(mutex_);
        last_fields_ = f;
        last_target_ = req.target;
        const std::string ha1 =
            sha256_hex("admin:" + std::string(REALM) + ":" + std::string(PASSWORD));
        const std::string ha2 = sha256_hex(req.method + ":" + f["uri"]);
        const std::string expected = sha256_hex(ha1 + ":" + f["nonce"] + ":" + f["nc"] + ":" +
                                                f["cnonce"] + ":" + f["qop"] + ":" + ha2);
        return f["username"] == "admin" && f["realm"] == REALM && f["nonce"] == NONCE &&
               f["qop"] == "auth" && f["algorithm"] == "SHA-256" && f["uri"] == req.target &&
               f["response"] == expected;
    }

    HttpRequest request(std::string password) {
        HttpRequest r = get(server_.url("/rpc/Switch.GetStatus?id=0"));
        r.auth = HttpAuth::Digest;
        r.username = "admin";
        r.password = std::move(password);
        return r;
    }

    TestServer server_;
    CurlHttpClient client_;
    std::atomic<int> challenges_{0};
    std::mutex mutex_;
    std::map<std::string, std::string> last_fields_;
    std::string last_target_;
};

TEST_F(DigestAuth, Sha256ChallengeIsAnswered) {
    const HttpResponse response = fetch(client_, request(std::string(PASSWORD)));

    EXPECT_EQ(response.outcome, HttpOutcome::Ok) << response.error;
    EXPECT_EQ(response.body, R"({"id":0,"output":false})");
    EXPECT_EQ(challenges_.load(), 1);
    std::lock_guard lock(mutex_);
    EXPECT_EQ(last_fields_["algorithm"], "SHA-256");
    EXPECT_EQ(last_fields_["uri"], "/rpc/Switch.GetStatus?id=0");
    EXPECT_EQ(last_target_, "/rpc/Switch.GetStatus?id=0");
    EXPECT_EQ(last_fields_["nc"], "00000001");
}

TEST_F(DigestAuth, WrongPasswordIsRejected) {
    const HttpResponse response = fetch(client_, request("wrong"));

    EXPECT_EQ(response.outcome, HttpOutcome::AuthRejected);
    EXPECT_EQ(response.status, 401);
    EXPECT_EQ(response.error, "credentials rejected");
    EXPECT_TRUE(response.body.empty());
}

TEST_F(DigestAuth, MissingCredentialsNeedAuthentication) {
    const HttpResponse response = fetch(client_, get(server_.url("/rpc/Switch.GetStatus?id=0")));

    EXPECT_EQ(response.outcome, HttpOutcome::AuthRejected);
    EXPECT_EQ(response.error, "authentication required");
}

// A real plug's nonces expire: every challenge carries a fresh nonce and each nonce is good for
// one request. Sequential polls on the same client (reused handles and connection) must each
// answer the challenge they get, never replay an old nonce into a "credentials rejected".
TEST(CurlHttpClient, DigestWithAFreshNonceOnEveryChallengeKeepsWorking) {
    constexpr std::string_view REALM = "shellyplugsg3-aabbccddeeff";
    TestServer server;
    std::mutex mutex;
    std::set<std::string> issued;
    int next_nonce = 600;
    int challenges = 0;
    int accepted = 0;
    server.http().Get("/rpc/Shelly.GetStatus", [&](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(mutex);
        auto f = parse_digest(req.get_header_value("Authorization"));
        if (!f.empty() && issued.erase(f["nonce"]) == 1) {
            const std::string ha1 = sha256_hex("admin:" + std::string(REALM) + ":s3cret");
            const std::string ha2 = sha256_hex(req.method + ":" + f["uri"]);
            if (f["realm"] == REALM && f["qop"] == "auth" && f["uri"] == req.target &&
                f["response"] == sha256_hex(ha1 + ":" + f["nonce"] + ":" + f["nc"] + ":" + f["cnonce"] +
                                            ":auth:" + ha2)) {
                ++accepted;
                res.set_content(R"({"switch:0":{"id":0}})", "application/json");
                return;
            }
        }
        ++challenges;
        const std::string nonce = std::to_string(next_nonce++);  // decimal, as seen on devices
        issued.insert(nonce);
        res.status = 401;
        res.set_header("WWW-Authenticate", R"(Digest qop="auth", realm=")" + std::string(REALM) +
                                               R"(", nonce=")" + nonce + R"(", algorithm=SHA-256)");
    });
    server.start();
    CurlHttpClient client;
    for (int i = 0; i < 5; ++i) {
        HttpRequest r = get(server.url("/rpc/Shelly.GetStatus"));
        r.auth = HttpAuth::Digest;
        r.username = "admin";
        r.password = "s3cret";
        const HttpResponse response = fetch(client, r);
        EXPECT_EQ(response.outcome, HttpOutcome::Ok) << "request " << i << ": " << response.error;
    }
    std::lock_guard lock(mutex);
    EXPECT_EQ(accepted, 5);
    EXPECT_LE(challenges, 10);
}

TEST(CurlHttpClient, SequentialRequestsReuseTheConnection) {
    TestServer server;
    server.http().Get("/shelly", [&](const httplib::Request& req, httplib::Response& res) {
        server.track(req);
        res.set_content(R"({"type":"SHPLG-S"})", "application/json");
    });
    server.start();
    CurlHttpClient client;

    for (int i = 0; i < 50; ++i) {
        const HttpResponse response = fetch(client, get(server.url("/shelly")));
        ASSERT_EQ(response.outcome, HttpOutcome::Ok) << "request " << i << ": " << response.error;
    }

    EXPECT_EQ(server.requests(), 50);
    EXPECT_LE(server.connections(), 2U);
}

TEST(CurlHttpClient, ConcurrentSubmissionsCompleteExactlyOnce) {
    constexpr int TOTAL = 500;
    constexpr int SUBMITTERS = 4;
    constexpr std::size_t LIMIT = 32;

    TestServer server;
    std::atomic<int> inside{0};
    std::atomic<int> max_inside{0};
    server.http().Get("/rpc/Switch.GetStatus",
                      [&](const httplib::Request& req, httplib::Response& res) {
                          server.track(req);
                          const int now = ++inside;
                          int seen = max_inside.load();
                          while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
                          }
                          res.set_content(req.get_param_value("n"), "text/plain");
                          --inside;
                      });
    server.start();
    CurlHttpClientOptions options;
    options.max_total_in_flight = LIMIT;
    CurlHttpClient client(options);

    std::mutex mutex;
    std::condition_variable all_done;
    std::vector<int> calls(TOTAL, 0);
    int done = 0;
    int ok = 0;
    std::vector<std::thread> submitters;
    for (int s = 0; s < SUBMITTERS; ++s) {
        submitters.emplace_back([&, s] {
            for (int i = s; i < TOTAL; i += SUBMITTERS) {
                client.submit(get(server.url("/rpc/Switch.GetStatus?n=" + std::to_string(i))),
                              [&, i](HttpResponse response) {
                                  std::lock_guard lock(mutex);
                                  ++calls[static_cast<std::size_t>(i)];
                                  if (response.outcome == HttpOutcome::Ok &&
                                      response.body == std::to_string(i)) {
                                      ++ok;
                                  }
                                  if (++done == TOTAL) all_done.notify_all();
                              });
            }
        });
    }
    for (auto& t : submitters) t.join();

    std::unique_lock lock(mutex);
    ASSERT_TRUE(all_done.wait_for(lock, COMPLETION_WAIT, [&] { return done == TOTAL; }))
        << done << " of " << TOTAL << " completed";
    EXPECT_EQ(ok, TOTAL);
    EXPECT_TRUE(std::all_of(calls.begin(), calls.end(), [](int c) { return c == 1; }));
    EXPECT_EQ(client.completed(), static_cast<std::uint64_t>(TOTAL));
    EXPECT_EQ(client.failed(), 0U);
    EXPECT_EQ(client.in_flight(), 0U);
    EXPECT_EQ(client.queued(), 0U);
    EXPECT_LE(max_inside.load(), static_cast<int>(LIMIT));
    EXPECT_LE(server.connections(), LIMIT);
}

TEST(CurlHttpClient, QueueIsFifoBeyondInFlightLimit) {
    TestServer server;
    server.http().Get("/n", [](const httplib::Request& req, httplib::Response& res) {
        res.set_content(req.get_param_value("i"), "text/plain");
    });
    server.start();
    CurlHttpClientOptions options;
    options.max_total_in_flight = 1;
    CurlHttpClient client(options);

    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::string> order;
    for (int i = 0; i < 5; ++i) {
        client.submit(get(server.url("/n?i=" + std::to_string(i))), [&](HttpResponse response) {
            std::lock_guard lock(mutex);
            order.push_back(response.body);
            changed.notify_all();
        });
    }

    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, COMPLETION_WAIT, [&] { return order.size() == 5; }));
    EXPECT_EQ(order, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
}

TEST(CurlHttpClient, ThrowingCallbackDoesNotStopTheLoop) {
    TestServer server;
    server.http().Get("/shelly", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("{}", "application/json");
    });
    server.start();
    CurlHttpClient client;

    std::promise<void> thrown;
    client.submit(get(server.url("/shelly")), [&thrown](HttpResponse) {
        thrown.set_value();
        throw std::runtime_error("consumer bug");
    });
    ASSERT_EQ(thrown.get_future().wait_for(COMPLETION_WAIT), std::future_status::ready);
    const HttpResponse after = fetch(client, get(server.url("/shelly")));

    EXPECT_EQ(after.outcome, HttpOutcome::Ok) << after.error;
    EXPECT_EQ(client.callback_errors(), 1U);
}

TEST(CurlHttpClient, DestructorCompletesOutstandingRequests) {
    TestServer server;
    server.http().Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
        server.gate.wait_open(5s);
        res.set_content("late", "text/plain");
    });
    server.start();
    CurlHttpClientOptions options;
    options.max_total_in_flight = 2;  // the third request waits in the client's queue
    auto client = std::make_unique<CurlHttpClient>(options);

    std::mutex mutex;
    std::vector<HttpResponse> responses;
    for (int i = 0; i < 3; ++i) {
        HttpRequest request = get(server.url("/slow"));
        request.timeout = 30s;
        client->submit(std::move(request), [&](HttpResponse response) {
            std::lock_guard lock(mutex);
            responses.push_back(std::move(response));
        });
    }
    ASSERT_TRUE(server.gate.wait_arrived(2));
    EXPECT_EQ(client->in_flight(), 2U);
    EXPECT_EQ(client->queued(), 1U);

    auto destroyed = std::async(std::launch::async, [&] { client.reset(); });
    ASSERT_EQ(destroyed.wait_for(COMPLETION_WAIT), std::future_status::ready);

    std::lock_guard lock(mutex);
    ASSERT_EQ(responses.size(), 3U);
    for (const auto& response : responses) {
        EXPECT_EQ(response.outcome, HttpOutcome::Unreachable);
        EXPECT_EQ(response.error, "client shutting down");
    }
}

// A listening socket that never accepts: connections complete in the kernel's backlog (or wait
// for it), the request goes out, and no answer ever comes.
class SilentListener {
public:
    SilentListener() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = 0;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        EXPECT_EQ(::listen(fd_, 4096), 0);
        socklen_t len = sizeof addr;
        EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
        port_ = ntohs(addr.sin_port);
    }
    ~SilentListener() { ::close(fd_); }
    SilentListener(const SilentListener&) = delete;
    SilentListener& operator=(const SilentListener&) = delete;
    std::string url(std::string_view path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }

private:
    int fd_{-1};
    int port_{0};
};

// A bridge polling thousands of plugs stops with hundreds of polls in flight and thousands
// queued. Destruction must not wait for their timeouts (or anything proportional to them):
// every callback runs exactly once with "client shutting down", and promptly.
TEST(CurlHttpClient, DestructionWithThousandsOutstandingIsPrompt) {
    SilentListener silent;
    constexpr int REQUESTS = 3000;
    CurlHttpClientOptions options;
    options.max_total_in_flight = 512;  // the bridge's default polling.max_in_flight
    auto client = std::make_unique<CurlHttpClient>(options);

    std::vector<std::atomic<int>> calls(REQUESTS);
    std::atomic<int> wrong{0};
    for (int i = 0; i < REQUESTS; ++i) {
        HttpRequest request = get(silent.url("/rpc/Shelly.GetStatus?i=" + std::to_string(i)));
        request.timeout = 30s;
        client->submit(std::move(request), [&calls, &wrong, i](HttpResponse response) {
            calls[static_cast<std::size_t>(i)].fetch_add(1);
            if (response.outcome != HttpOutcome::Unreachable ||
                response.error != "client shutting down")
                wrong.fetch_add(1);
        });
    }
    // Bounded wait until the loop has taken its full share in flight (no completion can come).
    intelergy::SystemClock wall;
    const auto deadline = wall.steady() + COMPLETION_WAIT;
    while (client->in_flight() < 512U && wall.steady() < deadline) std::this_thread::yield();
    ASSERT_EQ(client->in_flight(), 512U);
    EXPECT_EQ(client->queued(), static_cast<std::size_t>(REQUESTS - 512));

    const auto started = wall.steady();
    auto destroyed = std::async(std::launch::async, [&] { client.reset(); });
    ASSERT_EQ(destroyed.wait_for(COMPLETION_WAIT), std::future_status::ready);
    const auto took = wall.steady() - started;
    EXPECT_LT(took, 1s) << "destruction took "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                        << " ms";

    EXPECT_EQ(wrong.load(), 0);
    int never = 0;
    int twice = 0;
    for (const auto& c : calls) {
        if (c.load() == 0) ++never;
        if (c.load() > 1) ++twice;
    }
    EXPECT_EQ(never, 0);
    EXPECT_EQ(twice, 0);
}

}  // namespace
