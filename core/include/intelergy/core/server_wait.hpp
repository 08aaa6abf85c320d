// SPDX-License-Identifier: MIT
#pragma once

#include <chrono>
#include <thread>

namespace intelergy {

// cpp-httplib's Server::stop() does nothing until listen_after_bind() has set the server's
// running flag on its own thread, so a stop() that comes too soon leaves that thread in its
// accept loop and the join after it hangs for ever. Call this right after starting the listener
// thread; it returns whether the server is accepting (false only if the bound passed).
template <typename Server>
bool wait_until_running(const Server& server,
                        std::chrono::milliseconds bound = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + bound;  // lint: allow-clock
    while (!server.is_running()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;  // lint: allow-clock
        std::this_thread::sleep_for(std::chrono::microseconds(200));  // lint: allow-clock (httplib has no event)
    }
    return true;
}

}  // namespace intelergy
