#include "intelergy/store/reading_writer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace intelergy::store {

namespace {

std::shared_ptr<spdlog::logger> store_log() {
    auto log = spdlog::get("store");
    return log ? log : spdlog::default_logger();
}

// 2000-01-01T00:00:00Z: anything earlier is an unsynced device clock, not history.
constexpr SysTime EARLIEST{std::chrono::milliseconds(946'684'800'000)};

struct Item {
    Reading reading;
    std::optional<EnergyBookRow> book;
};

}  // namespace

struct ReadingWriter::Impl {
    std::unique_ptr<BatchSink> sink;
    const Clock& clock;
    ReadingWriterOptions opt;
    std::shared_ptr<spdlog::logger> log = store_log();

    mutable std::mutex mu;
    std::condition_variable not_empty, not_full, progress, wake;
    std::deque<Item> queue;
    std::size_t in_flight{0};
    std::uint64_t queued_seq{0};     // items ever queued
    std::uint64_t done_seq{0};       // items committed (or abandoned)
    bool closed{false};              // no more submits
    bool quit{false};                // thread must end (after draining unless abandon)
    bool abandon{false};             // give up the batch in flight
    ReadingWriterStats st;
    std::optional<SteadyTime> last_reject_log;
    std::uint64_t rejects_since_log{0};
    std::thread thread;

    Impl(std::unique_ptr<BatchSink> s, const Clock& c, ReadingWriterOptions o)
        : sink(std::move(s)), clock(c), opt(o) {
        opt.batch_size = std::max<std::size_t>(1, opt.batch_size);
        opt.queue_capacity = std::max<std::size_t>(1, opt.queue_capacity);
        thread = std::thread([this] { run(); });
    }

    void run() noexcept {
        try {
            loop();
        } catch (const std::exception& e) {
            log->error("store writer thread failed err={}", e.what());
        } catch (...) {
            log->error("store writer thread failed");
        }
    }

    void loop() {
        for (;;) {
            std::vector<Item> items;
            {
                std::unique_lock lock(mu);
                not_empty.wait(lock, [&] { return !queue.empty() || quit; });
                if (queue.empty()) return;
                // Let a partial batch fill for up to flush_interval (not when flushing/quitting).
                const auto deadline = clock.steady() + opt.flush_interval;
                while (queue.size() < opt.batch_size && !quit && flush_waiters == 0) {
                    const auto left = deadline - clock.steady();
                    if (left <= SteadyTime::duration::zero()) break;
                    not_empty.wait_for(lock, left);
                }
                const std::size_t n = std::min(opt.batch_size, queue.size());
                items.reserve(n);
                for (std::size_t i = 0; i < n; ++i) {
                    items.push_back(std::move(queue.front()));
                    queue.pop_front();
                }
                in_flight = n;
                not_full.notify_all();
            }
            write_with_retry(make_batch(items));
        }
    }

    static WriteBatch make_batch(std::vector<Item>& items) {
        WriteBatch batch;
        batch.readings.reserve(items.size());
        std::map<std::pair<std::string, int>, EnergyBookRow> books;  // last wins
        for (auto& it : items) {
            if (it.book) books[{it.book->device_id, it.book->channel}] = std::move(*it.book);
            batch.readings.push_back(std::move(it.reading));
        }
        for (auto& [key, book] : books) batch.books.push_back(std::move(book));
        return batch;
    }

    void write_with_retry(const WriteBatch& batch) {
        auto backoff = opt.retry_initial;
        for (;;) {
            auto res = sink->write(batch);
            std::unique_lock lock(mu);
            if (res) {
                st.written += res->inserted;
                st.duplicates += res->duplicates;
                ++st.batches;
                if (!st.last_error.empty())
                    log->info("store writer recovered rows={}", batch.readings.size());
                st.last_error.clear();
                finish_batch();
                return;
            }
            ++st.failures;
            if (st.last_error.empty())
                log->warn("store writer batch failed rows={} err={} (retrying)",
                          batch.readings.size(), res.error().describe());
            st.last_error = res.error().describe();
            if (abandon) {
                st.abandoned += in_flight + queue.size();
                log->error("store writer gave up rows={} err={}", in_flight + queue.size(),
                           st.last_error);
                done_seq = queued_seq;
                queue.clear();
                in_flight = 0;
                progress.notify_all();
                not_full.notify_all();
                return;
            }
            wake.wait_for(lock, backoff, [&] { return abandon; });
            backoff = std::min(opt.retry_max, backoff * 2);
        }
    }

    void finish_batch() {
        done_seq += in_flight;
        in_flight = 0;
        progress.notify_all();
    }

    bool rejected(const Reading& r) {
        if (r.ts >= EARLIEST && r.ts <= clock.now() + std::chrono::hours(24)) return false;
        std::lock_guard lock(mu);
        ++st.rejected;
        ++rejects_since_log;
        const auto now = clock.steady();
        if (!last_reject_log || now - *last_reject_log >= std::chrono::minutes(1)) {
            log->warn("store writer dropped readings with absurd timestamps count={} device={} ts_ms={}",
                      rejects_since_log, r.device_id, r.ts.time_since_epoch().count());
            last_reject_log = now;
            rejects_since_log = 0;
        }
        return true;
    }

    int flush_waiters{0};
};

ReadingWriter::ReadingWriter(std::string dsn, const Clock& clock, ReadingWriterOptions options)
    : ReadingWriter(make_pg_batch_sink(std::move(dsn)), clock, options) {}

ReadingWriter::ReadingWriter(std::unique_ptr<BatchSink> sink, const Clock& clock,
                             ReadingWriterOptions options)
    : impl_(std::make_unique<Impl>(std::move(sink), clock, options)) {}

ReadingWriter::~ReadingWriter() { stop(); }

bool ReadingWriter::submit(Reading reading, std::optional<EnergyBookRow> book) {
    auto& m = *impl_;
    if (m.rejected(reading)) return false;
    std::unique_lock lock(m.mu);
    m.not_full.wait(lock, [&] { return m.queue.size() < m.opt.queue_capacity || m.closed; });
    if (m.closed) return false;
    m.queue.push_back({std::move(reading), std::move(book)});
    ++m.queued_seq;
    ++m.st.submitted;
    // Wake the writer only when it can act: the first item of an empty queue, or a full batch.
    // (A notify per reading costs a context switch per reading while a batch fills.)
    if (m.queue.size() == 1 || m.queue.size() >= m.opt.batch_size) m.not_empty.notify_one();
    return true;
}

Status ReadingWriter::flush(std::chrono::milliseconds timeout) {
    auto& m = *impl_;
    std::unique_lock lock(m.mu);
    const auto target = m.queued_seq;
    ++m.flush_waiters;
    m.not_empty.notify_one();
    const bool ok = m.progress.wait_for(lock, timeout, [&] { return m.done_seq >= target; });
    --m.flush_waiters;
    if (ok) return {};
    return make_error(ErrorCode::Timeout,
                      "readings not committed within " + std::to_string(timeout.count()) +
                          " ms" + (m.st.last_error.empty() ? "" : ": " + m.st.last_error),
                      "store writer");
}

void ReadingWriter::stop() {
    auto& m = *impl_;
    {
        std::lock_guard lock(m.mu);
        if (m.closed && !m.thread.joinable()) return;
        m.closed = true;
        m.not_full.notify_all();
    }
    (void)flush(m.opt.stop_timeout);
    {
        std::lock_guard lock(m.mu);
        m.quit = true;
        m.abandon = true;
        m.not_empty.notify_all();
        m.wake.notify_all();
    }
    if (m.thread.joinable()) m.thread.join();
    std::lock_guard lock(m.mu);
    if (!m.queue.empty()) {
        m.st.abandoned += m.queue.size();
        m.queue.clear();
    }
}

ReadingWriterStats ReadingWriter::stats() const {
    auto& m = *impl_;
    std::lock_guard lock(m.mu);
    ReadingWriterStats out = m.st;
    out.queue_depth = m.queue.size() + m.in_flight;
    return out;
}

}  // namespace intelergy::store
