#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

#include "intelergy/core/blocking_queue.hpp"
#include "intelergy/core/clock.hpp"

namespace intelergy::bridge {

// The bridge's single core loop: one thread drains one queue of tasks and runs due timers.
// post() is thread-safe and is the only way other threads (MQTT callbacks, HTTP completions,
// the API worker) hand work to the loop. Timers are only added/cancelled on the loop thread.
class EventLoop {
public:
    using Task = std::function<void()>;
    using TimerId = std::uint64_t;

    EventLoop(const Clock& clock, std::size_t capacity);
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Blocks when the queue is full (backpressure on producers). Returns false once stopped.
    bool post(Task task);
    bool try_post(Task task);
    // Never blocks for long: queues at once, beyond the capacity (counted in overflows()), while
    // fewer than `limit` tasks are queued; at `limit` waits at most `wait`, then queues anyway.
    // For Paho's receive thread, which also finishes Paho's pending socket writes: the loop may
    // itself be waiting for those (a publish on a full Paho queue), so blocking that thread on a
    // full loop queue stalled both until a publish gave up (bench/RESULTS.md).
    bool post_within(Task task, std::size_t limit, std::chrono::milliseconds wait);

    TimerId schedule_at(SteadyTime when, Task task);
    TimerId schedule_after(std::chrono::milliseconds delay, Task task);
    void cancel(TimerId id);

    // Runs until stop(); exceptions thrown by tasks are caught, logged and counted.
    void run();
    // Thread-safe and immediate: run() returns after the task it is running; queued tasks and
    // due timers are dropped, and post() no longer queues (producers blocked on a full queue
    // are released).
    void stop();
    // Runs every ready task and due timer, without blocking (tests).
    std::size_t run_pending();

    [[nodiscard]] std::uint64_t task_errors() const { return task_errors_; }
    [[nodiscard]] std::uint64_t overflows() const { return overflows_; }
    [[nodiscard]] std::size_t queue_depth() const { return queue_.size(); }
    [[nodiscard]] SteadyTime last_iteration() const;  // watchdog: when the loop last woke

private:
    void execute(Task& task);
    std::size_t run_due_timers();

    const Clock& clock_;
    BlockingQueue<Task> queue_;
    std::multimap<SteadyTime, std::pair<TimerId, Task>> timers_;
    std::map<TimerId, SteadyTime> timer_index_;
    TimerId next_timer_{1};
    std::atomic<bool> stopped_{false};
    std::atomic<std::uint64_t> task_errors_{0};
    std::atomic<std::uint64_t> overflows_{0};
    mutable std::mutex beat_mutex_;
    SteadyTime last_beat_{};
};

}  // namespace intelergy::bridge
