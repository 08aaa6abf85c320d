#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace intelergy {

// Bounded multi-producer queue. push() blocks while full (backpressure); try_push() does not;
// push_within() blocks for a bounded time, then goes over the capacity.
template <typename T>
class BlockingQueue {
public:
    explicit BlockingQueue(std::size_t capacity) : capacity_(capacity) {}
    BlockingQueue(const BlockingQueue&) = delete;
    BlockingQueue& operator=(const BlockingQueue&) = delete;

    void push(T item) {
        std::unique_lock lock(mutex_);
        not_full_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
        if (closed_) return;
        items_.push_back(std::move(item));
        not_empty_.notify_one();
    }

    // For a producer that must never stay blocked (it serves other work between items): queues
    // at once while fewer than `limit` items are queued, even beyond the capacity; at `limit`
    // waits up to `timeout` for the queue to shrink below it, then queues anyway. Returns true
    // if the item went in within the capacity.
    template <typename Rep, typename Period>
    bool push_within(T item, std::size_t limit, std::chrono::duration<Rep, Period> timeout) {
        std::unique_lock lock(mutex_);
        not_full_.wait_for(lock, timeout, [&] { return items_.size() < limit || closed_; });
        if (closed_) return false;
        const bool room = items_.size() < capacity_;
        items_.push_back(std::move(item));
        not_empty_.notify_one();
        return room;
    }

    bool try_push(T item) {
        std::lock_guard lock(mutex_);
        if (closed_ || items_.size() >= capacity_) return false;
        items_.push_back(std::move(item));
        not_empty_.notify_one();
        return true;
    }

    // Waits up to `timeout`; nullopt on timeout or when closed and drained.
    template <typename Rep, typename Period>
    std::optional<T> pop_for(std::chrono::duration<Rep, Period> timeout) {
        std::unique_lock lock(mutex_);
        if (!not_empty_.wait_for(lock, timeout, [&] { return !items_.empty() || closed_; }))
            return std::nullopt;
        if (items_.empty()) return std::nullopt;
        T item = std::move(items_.front());
        items_.pop_front();
        not_full_.notify_one();
        return item;
    }

    // Moves up to `max` items into `out` without waiting; returns how many.
    template <typename Container>
    std::size_t drain(Container& out, std::size_t max) {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        while (n < max && !items_.empty()) {
            out.push_back(std::move(items_.front()));
            items_.pop_front();
            ++n;
        }
        if (n > 0) not_full_.notify_all();
        return n;
    }

    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        not_empty_.notify_all();
        not_full_.notify_all();
    }

    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(mutex_);
        return items_.size();
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable not_empty_;
    std::condition_variable not_full_;
    std::deque<T> items_;
    std::size_t capacity_;
    bool closed_{false};
};

}  // namespace intelergy
