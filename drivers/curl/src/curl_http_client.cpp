#include "intelergy/drivers/curl_http_client.hpp"

#include <intelergy/version.hpp>

#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace intelergy::drivers {

namespace {

// Upper bound for one epoll wait; curl's own timer (CURLMOPT_TIMERFUNCTION) shortens it.
constexpr int MAX_POLL_WAIT_MS = 1000;
// Socket events taken per epoll_wait.
constexpr int MAX_EVENTS = 256;
// Pooled transfers drop body buffers larger than this so idle handles don't pin memory.
constexpr std::size_t KEEP_BODY_CAPACITY = 16 * 1024;

constexpr std::string_view SHUTTING_DOWN = "client shutting down";

struct Job {
    HttpRequest request;
    HttpClient::Callback done;
};

// One reusable easy handle plus the state its callbacks write into. Addresses are stable (owned
// through unique_ptr) because curl keeps pointers to `error_buffer` and to the Transfer itself.
struct Transfer {
    CURL* easy{nullptr};
    bool busy{false};
    HttpRequest request;
    HttpClient::Callback done;
    std::string body;
    int responses{0};  // status lines seen; a digest exchange is challenge + retry = 2
    bool too_large{false};
    const NetworkPolicy* policy{nullptr};  // the client's; null: every address is allowed
    std::string refused;                   // why the last address was not connected to
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
};

// Runs after name resolution, once per address curl tries: the only place that sees the
// address actually connected to, so a host name that resolves outside the allowed networks
// (or a DNS answer that changes after device/add) is refused here.
curl_socket_t on_open_socket(void* user, curlsocktype purpose, curl_sockaddr* address) {
    auto* transfer = static_cast<Transfer*>(user);
    if (purpose != CURLSOCKTYPE_IPCXN || address == nullptr) return CURL_SOCKET_BAD;
    if (transfer->policy != nullptr) {
        std::optional<IpAddress> ip;
        if (address->family == AF_INET &&
            address->addrlen >= static_cast<unsigned int>(sizeof(sockaddr_in))) {
            sockaddr_in in{};
            std::memcpy(&in, &address->addr, sizeof in);
            std::uint8_t bytes[4];
            std::memcpy(bytes, &in.sin_addr, sizeof bytes);
            ip = ip_from_v4(bytes);
        } else if (address->family == AF_INET6 &&
                   address->addrlen >= static_cast<unsigned int>(sizeof(sockaddr_in6))) {
            sockaddr_in6 in6{};
            std::memcpy(&in6, &address->addr, sizeof in6);
            std::uint8_t bytes[16];
            std::memcpy(bytes, &in6.sin6_addr, sizeof bytes);
            ip = ip_from_v6(bytes);
        }
        if (!ip) {
            transfer->refused = "address family " + std::to_string(address->family) +
                                " is not allowed for plugs";
            return CURL_SOCKET_BAD;
        }
        if (auto st = transfer->policy->check(*ip); !st) {
            transfer->refused = st.error().message;
            return CURL_SOCKET_BAD;
        }
    }
    return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    if (transfer->body.size() + n > transfer->request.max_body_bytes) {
        transfer->too_large = true;
        return n == 0 ? 1 : 0;  // any value != n aborts with CURLE_WRITE_ERROR
    }
    transfer->body.append(data, n);
    return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    if (std::string_view(data, n).starts_with("HTTP/")) {
        // A new response starts (e.g. the retry after a digest challenge): only the final
        // response's body is reported.
        ++transfer->responses;
        transfer->body.clear();
    }
    return n;
}

bool is_unreachable(CURLcode rc) {
    switch (rc) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
        case CURLE_INTERFACE_FAILED:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
            return true;
        default:
            return false;
    }
}

std::string curl_message(CURLcode rc, const Transfer& transfer) {
    std::string message = curl_easy_strerror(rc);
    const std::string_view detail(transfer.error_buffer.data());
    if (!detail.empty()) {
        message += ": ";
        message += detail;
    }
    return message;
}

HttpResponse failure(HttpOutcome outcome, std::string_view message) {
    HttpResponse response;
    response.outcome = outcome;
    response.error = message;
    return response;
}

}  // namespace

class CurlHttpClient::Impl {
public:
    explicit Impl(CurlHttpClientOptions options) : options_(std::move(options)) {
        if (options_.user_agent.empty()) {
            options_.user_agent = "intelergy/" + std::string(VERSION);
        }
        options_.max_total_in_flight = std::max<std::size_t>(options_.max_total_in_flight, 1);
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw std::runtime_error("curl_global_init failed");
        }
        multi_ = curl_multi_init();
        if (multi_ == nullptr) {
            curl_global_cleanup();
            throw std::runtime_error("curl_multi_init failed");
        }
        curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                          static_cast<long>(std::max<std::size_t>(options_.max_connections, 1)));
        // Event-driven: curl tells which sockets to watch and when its next timeout is, and
        // curl_multi_socket_action() handles only the sockets that are ready. curl_multi_perform
        // walked (and poll()ed) every transfer in flight on every wake-up, O(in flight) per
        // completion: a third of the bridge's CPU polling 5,000 plugs (issue 8, bench/RESULTS.md).
        epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
        wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (epoll_ < 0 || wake_ < 0) {
            if (epoll_ >= 0) ::close(epoll_);
            if (wake_ >= 0) ::close(wake_);
            curl_multi_cleanup(multi_);
            curl_global_cleanup();
            throw std::runtime_error("epoll_create1/eventfd failed");
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = wake_;
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
        curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
        curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
        curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Impl::on_timer);
        curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
        post_headers_ = curl_slist_append(nullptr, "Content-Type: application/json");
        // Disable "Expect: 100-continue": small device web servers don't answer it.
        post_headers_ = curl_slist_append(post_headers_, "Expect:");
        thread_ = std::thread([this] { thread_main(); });
    }

    ~Impl() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake();
        if (thread_.joinable()) thread_.join();
        for (auto& transfer : transfers_) curl_easy_cleanup(transfer->easy);
        curl_multi_cleanup(multi_);
        ::close(epoll_);
        ::close(wake_);
        curl_slist_free_all(post_headers_);
        curl_global_cleanup();
    }

    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;

    void submit(HttpRequest request, Callback done) {
        bool wake = false;
        {
            std::lock_guard lock(mutex_);
            if (!closed_) {
                // Wake only on the empty → non-empty edge: the loop drains the whole list.
                wake = pending_.empty();
                pending_.push_back(Job{std::move(request), std::move(done)});
                queued_.fetch_add(1);
                done = nullptr;
            }
        }
        if (wake) {
            this->wake();
        } else if (done) {
            // Only reachable from a callback running during shutdown: complete right here, on
            // the loop thread, so the exactly-once contract still holds.
            deliver(done, failure(HttpOutcome::Unreachable, SHUTTING_DOWN));
        }
    }

    std::size_t in_flight() const { return active_.load(); }
    std::size_t queued() const { return queued_.load(); }
    std::uint64_t completed() const { return completed_.load(); }
    std::uint64_t failed() const { return failed_.load(); }
    std::uint64_t callback_errors() const { return callback_errors_.load(); }

private:
    void thread_main() noexcept {
        try {
            run();
            abort_all(SHUTTING_DOWN);
        } catch (...) {
            try {
                abort_all("http client loop failed");
            } catch (...) {
                // Nothing left to report to; the destructor still joins and cleans up.
            }
        }
    }

    void run() {
        std::vector<Job> intake;
        for (;;) {
            {
                std::lock_guard lock(mutex_);
                if (stopping_) return;
                intake.swap(pending_);
            }
            for (auto& job : intake) waiting_.push_back(std::move(job));
            intake.clear();

            start_waiting();
            if (timer_due()) socket_action(CURL_SOCKET_TIMEOUT, 0);
            const bool finished_any = collect_finished();
            // Freed slots can take queued work immediately instead of after the next wait.
            if (finished_any && !waiting_.empty()) continue;

            std::array<epoll_event, MAX_EVENTS> events{};
            const int n = ::epoll_wait(epoll_, events.data(), MAX_EVENTS, wait_ms());
            for (int i = 0; i < n; ++i) {
                const int fd = events[static_cast<std::size_t>(i)].data.fd;
                const auto ev = events[static_cast<std::size_t>(i)].events;
                if (fd == wake_) {
                    std::uint64_t count = 0;
                    while (::read(wake_, &count, sizeof count) > 0) {
                    }
                    continue;
                }
                int mask = 0;
                if ((ev & EPOLLIN) != 0U) mask |= CURL_CSELECT_IN;
                if ((ev & EPOLLOUT) != 0U) mask |= CURL_CSELECT_OUT;
                if ((ev & (EPOLLERR | EPOLLHUP)) != 0U) mask |= CURL_CSELECT_ERR;
                socket_action(fd, mask);
            }
        }
    }

    void wake() const {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(wake_, &one, sizeof one);
    }

    void socket_action(curl_socket_t fd, int mask) {
        int running = 0;
        curl_multi_socket_action(multi_, fd, mask, &running);
    }

    // curl's timer: -1 none, else due `timeout_ms` from now (0: as soon as possible).
    static int on_timer(CURLM* /*multi*/, long timeout_ms, void* user) {
        auto* self = static_cast<Impl*>(user);
        if (timeout_ms < 0) {
            self->timer_.reset();
        } else {
            self->timer_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);  // lint: allow-clock
        }
        return 0;
    }

    [[nodiscard]] bool timer_due() const {
        return timer_ && *timer_ <= std::chrono::steady_clock::now();  // lint: allow-clock
    }

    [[nodiscard]] int wait_ms() const {
        if (!timer_) return MAX_POLL_WAIT_MS;
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(*timer_ - std::chrono::steady_clock::now());  // lint: allow-clock
        return static_cast<int>(std::clamp<long>(left.count(), 0, MAX_POLL_WAIT_MS));
    }

    // curl's socket callback: which events to watch on `fd`, or stop watching it.
    static int on_socket(CURL* /*easy*/, curl_socket_t fd, int what, void* user, void* /*socketp*/) {
        auto* self = static_cast<Impl*>(user);
        if (what == CURL_POLL_REMOVE) {
            ::epoll_ctl(self->epoll_, EPOLL_CTL_DEL, fd, nullptr);  // may be closed already
            return 0;
        }
        epoll_event ev{};
        ev.data.fd = fd;
        if ((what & CURL_POLL_IN) != 0) ev.events |= EPOLLIN;
        if ((what & CURL_POLL_OUT) != 0) ev.events |= EPOLLOUT;
        // MOD first; a socket not registered yet (or closed and its number reused) is ADDed.
        if (::epoll_ctl(self->epoll_, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
            ::epoll_ctl(self->epoll_, EPOLL_CTL_ADD, fd, &ev);
        return 0;
    }

    void start_waiting() {
        while (!waiting_.empty() && active_.load() < options_.max_total_in_flight) {
            Job job = std::move(waiting_.front());
            waiting_.pop_front();
            queued_.fetch_sub(1);
            start(std::move(job));
        }
    }

    void start(Job job) {
        if (job.request.method != "GET" && job.request.method != "POST") {
            deliver(job.done, failure(HttpOutcome::Protocol,
                                      "unsupported HTTP method " + job.request.method));
            return;
        }
        Transfer* transfer = acquire();
        if (transfer == nullptr) {
            deliver(job.done, failure(HttpOutcome::Protocol, "curl_easy_init failed"));
            return;
        }
        transfer->request = std::move(job.request);
        transfer->done = std::move(job.done);
        configure(*transfer);
        const CURLMcode mc = curl_multi_add_handle(multi_, transfer->easy);
        if (mc != CURLM_OK) {
            Callback done = std::move(transfer->done);
            release(*transfer);
            deliver(done, failure(HttpOutcome::Protocol, curl_multi_strerror(mc)));
            return;
        }
        active_.fetch_add(1);
    }

    Transfer* acquire() {
        if (!idle_.empty()) {
            Transfer* transfer = idle_.back();
            idle_.pop_back();
            // Clears options only; connections stay in the multi handle's shared cache.
            curl_easy_reset(transfer->easy);
            transfer->busy = true;
            return transfer;
        }
        CURL* easy = curl_easy_init();
        if (easy == nullptr) return nullptr;
        auto transfer = std::make_unique<Transfer>();
        transfer->easy = easy;
        transfer->busy = true;
        transfers_.push_back(std::move(transfer));
        return transfers_.back().get();
    }

    void release(Transfer& transfer) {
        transfer.busy = false;
        transfer.request = HttpRequest{};
        transfer.done = nullptr;
        if (transfer.body.capacity() > KEEP_BODY_CAPACITY) {
            std::string().swap(transfer.body);
        } else {
            transfer.body.clear();
        }
        transfer.responses = 0;
        transfer.too_large = false;
        transfer.refused.clear();
        transfer.error_buffer[0] = '\0';
        idle_.push_back(&transfer);
    }

    void configure(Transfer& transfer) {
        CURL* easy = transfer.easy;
        const HttpRequest& request = transfer.request;
        // A zero timeout would mean "no limit" to curl; never let a device hang the loop.
        const long timeout_ms = std::max<long>(static_cast<long>(request.timeout.count()), 1);
        const long connect_ms = std::min(
            timeout_ms, std::max<long>(static_cast<long>(options_.connect_timeout.count()), 1));

        transfer.error_buffer[0] = '\0';
        curl_easy_setopt(easy, CURLOPT_PRIVATE, &transfer);
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer.error_buffer.data());
        curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
        curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
        // Plugs are reached directly: a proxy from the environment (http_proxy) would both leak
        // device traffic and hide the real address from the allowed-networks check.
        curl_easy_setopt(easy, CURLOPT_PROXY, "");
        transfer.policy = options_.allowed_networks ? &*options_.allowed_networks : nullptr;
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &on_open_socket);
        curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &transfer);
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
        curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
        curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
        curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);

        if (request.method == "POST") {
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(request.body.size()));
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.c_str());
            curl_easy_setopt(easy, CURLOPT_HTTPHEADER, post_headers_);
        } else {
            curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
        }

        if (request.auth != HttpAuth::None) {
            const unsigned long scheme =
                request.auth == HttpAuth::Basic ? CURLAUTH_BASIC : CURLAUTH_DIGEST;
            curl_easy_setopt(easy, CURLOPT_HTTPAUTH, scheme);
            curl_easy_setopt(easy, CURLOPT_USERNAME, request.username.c_str());
            curl_easy_setopt(easy, CURLOPT_PASSWORD, request.password.c_str());
        }
    }

    bool collect_finished() {
        bool any = false;
        int remaining = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi_, &remaining)) {
            if (msg->msg != CURLMSG_DONE) continue;
            void* priv = nullptr;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            auto* transfer = static_cast<Transfer*>(priv);
            const CURLcode rc = msg->data.result;  // read before remove_handle invalidates msg
            curl_multi_remove_handle(multi_, msg->easy_handle);
            active_.fetch_sub(1);
            any = true;
            HttpResponse response = build_response(*transfer, rc);
            Callback done = std::move(transfer->done);
            release(*transfer);
            deliver(done, std::move(response));
        }
        return any;
    }

    static HttpResponse build_response(Transfer& transfer, CURLcode rc) {
        HttpResponse response;
        long status = 0;
        curl_easy_getinfo(transfer.easy, CURLINFO_RESPONSE_CODE, &status);
        curl_off_t total_us = 0;
        curl_easy_getinfo(transfer.easy, CURLINFO_TOTAL_TIME_T, &total_us);
        response.status = status;
        response.elapsed = std::chrono::microseconds(total_us);

        if (transfer.too_large) {
            response.outcome = HttpOutcome::TooLarge;
            response.error = "response body exceeds " +
                             std::to_string(transfer.request.max_body_bytes) + " bytes";
            return response;
        }
        if (rc == CURLE_OPERATION_TIMEDOUT) {
            response.outcome = HttpOutcome::Timeout;
            response.error = curl_message(rc, transfer);
            return response;
        }
        if (rc != CURLE_OK && !transfer.refused.empty()) {
            char* url = nullptr;
            curl_easy_getinfo(transfer.easy, CURLINFO_EFFECTIVE_URL, &url);
            response.outcome = HttpOutcome::Unreachable;
            response.error = "refused to connect to " + url_host(url != nullptr ? url : "") +
                             ": " + transfer.refused;
            return response;
        }
        if (rc != CURLE_OK) {
            response.outcome =
                is_unreachable(rc) ? HttpOutcome::Unreachable : HttpOutcome::Protocol;
            response.error = curl_message(rc, transfer);
            return response;
        }

        response.body = std::move(transfer.body);
        if (status >= 200 && status < 300) {
            response.outcome = HttpOutcome::Ok;
        } else if (status == 401) {
            response.outcome = HttpOutcome::AuthRejected;
            if (transfer.request.auth == HttpAuth::None) {
                response.error = "authentication required";
            } else if (transfer.request.auth == HttpAuth::Digest && transfer.responses < 2) {
                // curl did not retry, so no credentials went out: the challenge was unusable.
                response.error = "authentication required (no usable digest challenge)";
            } else {
                response.error = "credentials rejected";
            }
        } else if (status >= 300 && status < 400) {
            response.outcome = HttpOutcome::Protocol;
            response.error = "HTTP " + std::to_string(status) + " redirect not followed";
            char* location = nullptr;
            curl_easy_getinfo(transfer.easy, CURLINFO_REDIRECT_URL, &location);
            if (location != nullptr) {
                response.error += " (to ";
                response.error += location;
                response.error += ")";
            }
        } else {
            response.outcome = HttpOutcome::Protocol;
            response.error = "HTTP " + std::to_string(status);
        }
        return response;
    }

    void deliver(Callback& done, HttpResponse response) {
        completed_.fetch_add(1);
        if (response.outcome != HttpOutcome::Ok) failed_.fetch_add(1);
        if (!done) return;
        try {
            done(std::move(response));
        } catch (...) {
            callback_errors_.fetch_add(1);
        }
    }

    // Completes everything still owned by the loop; runs on the loop thread after it stops.
    void abort_all(std::string_view reason) {
        for (auto& transfer : transfers_) {
            if (!transfer->busy) continue;
            curl_multi_remove_handle(multi_, transfer->easy);
            active_.fetch_sub(1);
            Callback done = std::move(transfer->done);
            release(*transfer);
            deliver(done, failure(HttpOutcome::Unreachable, reason));
        }
        // Callbacks may submit more work while we drain; keep going until nothing is left, then
        // close so later submissions complete inline.
        for (;;) {
            std::vector<Job> intake;
            {
                std::lock_guard lock(mutex_);
                intake.swap(pending_);
                if (intake.empty() && waiting_.empty()) {
                    closed_ = true;
                    return;
                }
            }
            for (auto& job : intake) waiting_.push_back(std::move(job));
            while (!waiting_.empty()) {
                Job job = std::move(waiting_.front());
                waiting_.pop_front();
                queued_.fetch_sub(1);
                deliver(job.done, failure(HttpOutcome::Unreachable, reason));
            }
        }
    }

    CurlHttpClientOptions options_;
    CURLM* multi_{nullptr};
    curl_slist* post_headers_{nullptr};
    int epoll_{-1};  // the sockets curl asked to watch, and wake_
    int wake_{-1};   // eventfd: submit() and the destructor wake the loop
    std::optional<std::chrono::steady_clock::time_point> timer_;  // curl's next timeout (loop thread)

    // Shared with submit().
    std::mutex mutex_;
    std::vector<Job> pending_;
    bool stopping_{false};
    bool closed_{false};

    // Loop thread only.
    std::deque<Job> waiting_;
    std::vector<std::unique_ptr<Transfer>> transfers_;
    std::vector<Transfer*> idle_;

    std::atomic<std::size_t> active_{0};
    std::atomic<std::size_t> queued_{0};
    std::atomic<std::uint64_t> completed_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::atomic<std::uint64_t> callback_errors_{0};

    std::thread thread_;  // started at the end of the constructor
};

CurlHttpClient::CurlHttpClient(CurlHttpClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

CurlHttpClient::~CurlHttpClient() = default;

void CurlHttpClient::submit(HttpRequest request, Callback done) {
    impl_->submit(std::move(request), std::move(done));
}

std::size_t CurlHttpClient::in_flight() const { return impl_->in_flight(); }
std::size_t CurlHttpClient::queued() const { return impl_->queued(); }
std::uint64_t CurlHttpClient::completed() const { return impl_->completed(); }
std::uint64_t CurlHttpClient::failed() const { return impl_->failed(); }
std::uint64_t CurlHttpClient::callback_errors() const { return impl_->callback_errors(); }

}  // namespace intelergy::drivers
