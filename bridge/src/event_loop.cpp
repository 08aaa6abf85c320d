#include "intelergy/bridge/event_loop.hpp"

#include <spdlog/spdlog.h>

namespace intelergy::bridge {

EventLoop::EventLoop(const Clock& clock, std::size_t capacity)
    : clock_(clock), queue_(capacity) {}

bool EventLoop::post(Task task) {
    if (stopped_) return false;
    queue_.push(std::move(task));  // returns without queueing once stop() closed the queue
    return !stopped_;
}

bool EventLoop::try_post(Task task) { return !stopped_ && queue_.try_push(std::move(task)); }

bool EventLoop::post_within(Task task, std::size_t limit, std::chrono::milliseconds wait) {
    if (stopped_) return false;
    if (!queue_.push_within(std::move(task), limit, wait) && !stopped_) ++overflows_;
    return !stopped_;
}

EventLoop::TimerId EventLoop::schedule_at(SteadyTime when, Task task) {
    const TimerId id = next_timer_++;
    timers_.emplace(when, std::make_pair(id, std::move(task)));
    timer_index_.emplace(id, when);
    return id;
}

EventLoop::TimerId EventLoop::schedule_after(std::chrono::milliseconds delay, Task task) {
    return schedule_at(clock_.steady() + delay, std::move(task));
}

void EventLoop::cancel(TimerId id) {
    const auto it = timer_index_.find(id);
    if (it == timer_index_.end()) return;
    auto [lo, hi] = timers_.equal_range(it->second);
    for (auto t = lo; t != hi; ++t) {
        if (t->second.first == id) {
            timers_.erase(t);
            break;
        }
    }
    timer_index_.erase(it);
}

void EventLoop::execute(Task& task) {
    try {
        task();
    } catch (const std::exception& e) {
        ++task_errors_;
        spdlog::error("core loop task failed error={}", e.what());
    } catch (...) {
        ++task_errors_;
        spdlog::error("core loop task failed with a non-standard exception");
    }
}

std::size_t EventLoop::run_due_timers() {
    std::size_t n = 0;
    const auto now = clock_.steady();
    while (!stopped_ && !timers_.empty() && timers_.begin()->first <= now) {
        auto node = timers_.extract(timers_.begin());
        timer_index_.erase(node.mapped().first);
        execute(node.mapped().second);
        ++n;
    }
    return n;
}

SteadyTime EventLoop::last_iteration() const {
    std::lock_guard lock(beat_mutex_);
    return last_beat_;
}

void EventLoop::run() {
    std::vector<Task> batch;
    batch.reserve(256);
    while (!stopped_) {
        {
            std::lock_guard lock(beat_mutex_);
            last_beat_ = clock_.steady();
        }
        run_due_timers();
        auto wait = std::chrono::milliseconds(500);
        if (!timers_.empty()) {
            const auto until = timers_.begin()->first - clock_.steady();
            wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(until),
                              std::chrono::milliseconds(0), wait);
        }
        auto first = queue_.pop_for(wait);
        if (!first || stopped_) continue;
        execute(*first);
        batch.clear();
        queue_.drain(batch, 256);
        for (auto& t : batch) {
            if (stopped_) break;
            execute(t);
        }
    }
}

void EventLoop::stop() {
    // Immediate, not queued behind the backlog: with thousands of plugs the queue can hold
    // seconds of work (poll completions, bridge/devices publishes), and SIGTERM waited for all
    // of it. run() ends after the task it is running; queued tasks are dropped (none of them
    // has committed anything yet). Closing the queue wakes run() and releases producers blocked
    // in post() on a full queue (an HTTP completion), so the HTTP client can stop too.
    stopped_ = true;
    queue_.close();
}

std::size_t EventLoop::run_pending() {
    std::size_t n = run_due_timers();
    std::vector<Task> batch;
    while (queue_.drain(batch, 1024) > 0) {
        for (auto& t : batch) execute(t);
        n += batch.size();
        batch.clear();
    }
    return n;
}

}  // namespace intelergy::bridge
