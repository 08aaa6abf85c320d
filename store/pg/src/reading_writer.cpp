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
    std::unique_ptr<Spool> spool;  // null: no spool; touched only by the writer thread
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

    // Spool mode. A Mark settles the items up to seq_end once record `record` is committed
    // (or at once: direct write, drop). done_seq follows the longest settled prefix.
    struct Mark {
        std::uint64_t seq_end;
        std::uint64_t record;
        bool settled;
    };
    std::deque<Mark> marks;          // guarded by mu
    std::uint64_t taken_seq{0};      // items taken from the queue (guarded by mu)
    // Writer thread only:
    bool db_up{true};                // the last database attempt succeeded
    SteadyTime next_retry{};         // no database attempt before this while db is down
    std::chrono::milliseconds spool_backoff{0};
    std::map<std::pair<std::string, int>, EnergyBookRow> pending_books;  // newest, not stored
    std::size_t pending_count{0};    // pending_books.size() for flush() (guarded by mu)
    bool spool_refusing{false};      // last append refused (full or I/O error)
    std::uint64_t dropped_in_state{0};

    Impl(std::unique_ptr<BatchSink> s, std::unique_ptr<Spool> sp, const Clock& c,
         ReadingWriterOptions o)
        : sink(std::move(s)), spool(std::move(sp)), clock(c), opt(std::move(o)) {
        opt.batch_size = std::max<std::size_t>(1, opt.batch_size);
        opt.queue_capacity = std::max<std::size_t>(1, opt.queue_capacity);
        spool_backoff = opt.retry_initial;
        if (spool) sync_spool_stats();
        thread = std::thread([this] { run(); });
    }

    void run() noexcept {
        try {
            if (spool) loop_spooled();
            else loop();
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


    // ---- spool mode ---------------------------------------------------------------------

    void sync_spool_stats() {  // writer thread (or constructor); takes mu
        std::lock_guard lock(mu);
        sync_spool_stats_locked();
    }

    void sync_spool_stats_locked() {
        const auto& s = spool->stats();
        pending_count = pending_books.size();
        st.spool_bytes = s.bytes;
        st.spool_records = s.records;
        st.spool_corrupt = s.corrupt_skipped;
        progress.notify_all();
    }

    // Moves done_seq over the settled prefix of marks. Caller holds mu.
    void advance_marks() {
        bool moved = false;
        while (!marks.empty() && marks.front().settled) {
            done_seq = std::max(done_seq, marks.front().seq_end);
            marks.pop_front();
            moved = true;
        }
        if (moved) progress.notify_all();
    }

    bool retry_due() const { return db_up || clock.steady() >= next_retry; }

    // Spooled batches or held-back books to write, and the database is due for an attempt.
    bool backlog_due() const {
        return (!spool->empty() || !pending_books.empty()) && retry_due();
    }

    void db_failed(const Error& e, std::size_t rows) {
        const bool was_up = db_up;
        db_up = false;
        next_retry = clock.steady() + spool_backoff;
        spool_backoff = std::min(opt.retry_max, spool_backoff * 2);
        std::lock_guard lock(mu);
        ++st.failures;
        if (was_up && st.last_error.empty())
            log->warn("store writer batch failed rows={} err={} (spooling, retrying)", rows,
                      e.describe());
        st.last_error = e.describe();
        progress.notify_all();
    }

    void db_ok(const BatchOutcome& out) {
        const bool was_down = !db_up;
        db_up = true;
        spool_backoff = opt.retry_initial;
        std::lock_guard lock(mu);
        st.written += out.inserted;
        st.duplicates += out.duplicates;
        ++st.batches;
        if (was_down || !st.last_error.empty())
            log->info("store writer reached the database again spool_records={}",
                      spool->stats().records);
        st.last_error.clear();
    }

    void loop_spooled() {
        for (;;) {
            std::vector<Item> items;
            bool quitting = false;
            {
                std::unique_lock lock(mu);
                // Bounded waits: at most until the next retry is due.
                while (queue.empty() && !quit && !backlog_due()) {
                    if (spool->empty() && pending_books.empty()) not_empty.wait(lock);
                    else not_empty.wait_for(lock, next_retry - clock.steady());
                }
                quitting = quit;
                if (!queue.empty()) {
                    // A partial batch may fill for up to flush_interval while nothing else is
                    // due (as without a spool).
                    const auto deadline = clock.steady() + opt.flush_interval;
                    while (queue.size() < opt.batch_size && !quit && flush_waiters == 0 &&
                           !backlog_due()) {
                        const auto left = deadline - clock.steady();
                        if (left <= SteadyTime::duration::zero()) break;
                        not_empty.wait_for(lock, left);
                    }
                    quitting = quit;
                    // When quitting, everything left goes (into the spool) now.
                    const std::size_t n = quitting ? queue.size()
                                                   : std::min(opt.batch_size, queue.size());
                    items.reserve(n);
                    for (std::size_t i = 0; i < n; ++i) {
                        items.push_back(std::move(queue.front()));
                        queue.pop_front();
                    }
                    in_flight = n;
                    taken_seq += n;
                    not_full.notify_all();
                }
            }
            if (!items.empty()) handle_live(items);
            if (quitting) {
                if (!pending_books.empty())
                    log->warn("store writer stopped with energy books not stored books={} "
                              "(the spool was full; the next run continues from the database's)",
                              pending_books.size());
                return;
            }
            replay_one();
        }
    }

    // A live batch: straight to the database when nothing is spooled and the database is up
    // (or due for a retry), else behind the spooled ones.
    void handle_live(std::vector<Item>& items) {
        const std::size_t rows = items.size();
        std::uint64_t seq_end = 0;
        {
            std::lock_guard lock(mu);
            seq_end = taken_seq;
        }
        WriteBatch batch = make_batch(items);
        // Books held back while the spool was full are older than this batch's: the batch's
        // own book for the same device + channel wins.
        for (auto& b : batch.books) pending_books.erase({b.device_id, b.channel});
        for (auto& [key, b] : pending_books) batch.books.push_back(b);
        if (spool->empty() && retry_due()) {
            auto res = sink->write(batch);
            if (res) {
                db_ok(*res);
                pending_books.clear();
                settle_now(seq_end);
                return;
            }
            db_failed(res.error(), rows);
        }
        std::uint64_t id = 0;
        auto app = spool->append(batch, &id);
        if (app && *app == SpoolAppend::Stored) {
            pending_books.clear();
            spool_accepting();
            sync_spool_stats();
            std::lock_guard lock(mu);
            st.spooled += rows;
            marks.push_back({seq_end, id, false});
            in_flight = 0;
            return;
        }
        const std::string reason =
            app ? "spool full (" + std::to_string(spool->stats().bytes) + " bytes)"
                : app.error().describe();
        // Refused: keep the books (newest per device + channel) for the next stored batch.
        for (auto& b : batch.books) pending_books[{b.device_id, b.channel}] = b;
        batch.books.clear();
        std::size_t dropped = rows;
        if (db_up && !batch.readings.empty()) {
            // The database is up but still replaying the spool: readings are idempotent on
            // (device, channel, ts), so they may overtake the spooled ones. Books may not.
            auto res = sink->write(batch);
            if (res) {
                db_ok(*res);
                dropped = 0;
            } else {
                db_failed(res.error(), rows);
            }
        }
        spool_refusing_now(reason, dropped);
        settle_now(seq_end);
    }

    void settle_now(std::uint64_t seq_end) {
        std::lock_guard lock(mu);
        pending_count = pending_books.size();
        marks.push_back({seq_end, 0, true});
        in_flight = 0;
        advance_marks();
    }

    void spool_refusing_now(const std::string& reason, std::size_t dropped) {
        dropped_in_state += dropped;
        {
            std::lock_guard lock(mu);
            st.spool_dropped += dropped;
            st.spool_full = true;
        }
        if (spool_refusing) return;
        spool_refusing = true;
        log->error("store spool refuses batches: {}; readings are dropped while the database is "
                   "down (energy books are kept) dir={}",
                   reason, spool->dir().string());
        if (opt.on_spool_state) opt.on_spool_state(true, dropped_in_state, reason);
    }

    void spool_accepting() {
        if (!spool_refusing) return;
        spool_refusing = false;
        log->warn("store spool accepts batches again dropped_readings={}", dropped_in_state);
        {
            std::lock_guard lock(mu);
            st.spool_full = false;
        }
        if (opt.on_spool_state) opt.on_spool_state(false, dropped_in_state, "");
        dropped_in_state = 0;
    }

    // Writes the oldest spooled record when the database is due; pops it once committed.
    // With nothing spooled, writes the books held back while the spool was full.
    void replay_one() {
        if (spool->empty()) {
            write_pending_books();
            return;
        }
        if (!retry_due()) return;
        auto rec = spool->front();
        if (!rec) {
            log->error("store spool unreadable err={}", rec.error().describe());
            db_up = false;  // back off: retrying a failing disk in a tight loop helps nobody
            next_retry = clock.steady() + opt.retry_max;
            return;
        }
        if (!*rec) {
            sync_spool_stats();
            write_pending_books();
            return;
        }
        const auto& r = **rec;
        auto res = sink->write(r.batch);
        if (!res) {
            db_failed(res.error(), r.batch.readings.size());
            return;
        }
        db_ok(*res);
        const std::uint64_t id = r.id;
        const std::size_t rows = r.batch.readings.size();
        if (auto st_pop = spool->pop(); !st_pop)
            log->error("store spool could not remove a replayed segment err={}",
                       st_pop.error().describe());
        const bool drained = spool->empty();
        if (drained) {
            log->info("store spool drained");
            write_pending_books();  // before flush() can see the spool empty
            spool_accepting();
        }
        std::lock_guard lock(mu);  // one step for flush(): counts, spool depth, marks
        sync_spool_stats_locked();
        st.replayed += rows;
        for (auto& m : marks)
            if (!m.settled && m.record <= id) m.settled = true;
        advance_marks();
    }

    // Books held back while the spool was full, once nothing older is left in the spool.
    void write_pending_books() {
        if (pending_books.empty() || !spool->empty() || !retry_due()) return;
        WriteBatch batch;
        for (auto& [key, b] : pending_books) batch.books.push_back(b);
        auto res = sink->write(batch);
        if (!res) {
            db_failed(res.error(), 0);
            return;
        }
        db_ok(*res);
        pending_books.clear();
        std::lock_guard lock(mu);
        pending_count = 0;
        progress.notify_all();
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
    : impl_(std::make_unique<Impl>(std::move(sink), nullptr, clock, std::move(options))) {}

ReadingWriter::ReadingWriter(std::unique_ptr<BatchSink> sink, std::unique_ptr<Spool> spool,
                             const Clock& clock, ReadingWriterOptions options)
    : impl_(std::make_unique<Impl>(std::move(sink), std::move(spool), clock,
                                   std::move(options))) {}

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
    const bool spooled = m.spool != nullptr;
    const bool ok = m.progress.wait_for(lock, timeout, [&] {
        return m.done_seq >= target &&
               (!spooled || (m.st.spool_records == 0 && m.pending_count == 0));
    });
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
    if (m.spool) {
        // The spool keeps what is left: wait for the database only while it takes batches.
        std::unique_lock lock(m.mu);
        const auto target = m.queued_seq;
        ++m.flush_waiters;
        m.not_empty.notify_one();
        m.progress.wait_for(lock, m.opt.stop_timeout, [&] {
            return (m.done_seq >= target && m.st.spool_records == 0 && m.pending_count == 0) ||
                   !m.st.last_error.empty();
        });
        --m.flush_waiters;
    } else {
        (void)flush(m.opt.stop_timeout);
    }
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
