#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "intelergy/store/store.hpp"

namespace intelergy::bridge {

inline constexpr std::size_t MAX_REQUEST_BYTES = 64 * 1024;
inline constexpr std::size_t MAX_REQUEST_DEPTH = 32;  // bracket nesting of a request payload

struct DeviceApiContext;  // bridge-private: probe, core loop access, discovered plugs
struct EnergyApiContext;  // bridge-private: energy history factory (energy/query)

// What the API needs from the rest of the bridge, beyond the Store.
struct ApiHooks {
    DeviceApiContext* devices{nullptr};               // device/* requests when set
    EnergyApiContext* energy{nullptr};                // energy/query requests when set
    std::function<std::string()> info_json;           // bridge/info payload (no secrets)
    std::function<bool()> mqtt_connected;
    std::function<void()> hierarchy_changed;          // e.g. re-publish bridge/info
};

// The MQTT command API (`<base>/bridge/request/<path>` → `<base>/bridge/response/<path>`).
// handle() validates the request completely before touching the Store, so a bad request writes
// nothing; every request yields exactly one response envelope:
//   {"status":"ok","data":{…},"transaction":…} or {"status":"error","data":{},"error":"…",…}
// Runs on the API worker thread (blocking Store calls are fine there, never on the core loop).
class Api {
public:
    Api(store::Store& store, ApiHooks hooks);
    ~Api();
    Api(const Api&) = delete;
    Api& operator=(const Api&) = delete;

    [[nodiscard]] std::string handle(std::string_view path, std::string_view payload);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace intelergy::bridge
