#pragma once

#include <functional>

#include "device_manager.hpp"
#include "device_probe.hpp"
#include "request.hpp"

namespace intelergy::bridge {

// What the device/* request handlers (API worker thread) need. The DeviceManager may only be
// touched inside on_loop() tasks.
struct DeviceApiContext {
    const config::AppConfig& config;
    DeviceProbe& probe;
    DiscoveredPlugs& discovered;
    DeviceManager& manager;
    // Runs `task` on the core loop and waits for it (bounded); false if it did not run in time.
    std::function<bool(std::function<void()> task)> on_loop;
    // Publishes a bridge/event.
    std::function<void(std::string_view type, const std::string& data_json)> event;
};

void register_device_handlers(HandlerTable& handlers, store::Store& store, DeviceApiContext& ctx);

}  // namespace intelergy::bridge
