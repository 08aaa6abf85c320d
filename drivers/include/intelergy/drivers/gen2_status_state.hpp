#pragma once

#include "intelergy/core/clock.hpp"
#include "intelergy/core/reading.hpp"
#include "intelergy/core/result.hpp"

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace intelergy::drivers {

// The last known `Shelly.GetStatus` of one Gen2+ device, kept current from MQTT.
//
// NotifyStatus carries only changed fields ({"switch:0":{"id":0,"apower":581.6}}), so deltas are
// deep-merged into the known status: objects merge key by key, scalars and arrays are replaced,
// and a key the delta does not mention is never removed or blanked. Each message is parsed once
// and merged in place; the state is never re-serialised or re-parsed.
//
// Not thread-safe; own one per device on the bridge loop. Movable, not copyable.
class Gen2StatusState {
public:
    Gen2StatusState();
    ~Gen2StatusState();
    Gen2StatusState(Gen2StatusState&&) noexcept;
    Gen2StatusState& operator=(Gen2StatusState&&) noexcept;
    Gen2StatusState(const Gen2StatusState&) = delete;
    Gen2StatusState& operator=(const Gen2StatusState&) = delete;

    // Replaces the whole state with a `Shelly.GetStatus` result and marks the baseline as known.
    // `sys.unixtime` (when synced) becomes last_device_ts. On error the state is unchanged.
    Status set_full(std::string_view getstatus_json);

    // Replaces one component with its complete status (`<prefix>/status/<key>` topic). Any
    // component key is accepted (e.g. "sys"); it must not be empty and the payload must be an
    // object. Does not establish the baseline.
    Status apply_component(std::string_view key, std::string_view full_component_json);

    // A whole `<prefix>/events/rpc` frame. NotifyStatus: params (minus `ts`) deep-merged;
    // NotifyFullStatus: params replace the state and establish the baseline; NotifyEvent and any
    // other method: ignored, returns false. Returns true when a switch:N / pm1:N component's
    // content actually changed (or a full status with one arrived, or one replaced a state that had
    // one). `params.ts` (synced epoch s)
    // becomes last_device_ts. Top-level params that are not objects are skipped (a component
    // is always an object). A delta before any baseline is merged too, but has_baseline()
    // stays false until set_full() or NotifyFullStatus.
    // Errors: Parse (bad JSON), Protocol (not an object, no string `method`, NotifyStatus /
    // NotifyFullStatus without object `params`). On error the state is unchanged.
    Result<bool> apply_notify(std::string_view frame_json);

    [[nodiscard]] bool has_baseline() const;

    // Same normalisation as parse_gen2_status(), from the merged state. ts = received,
    // device_time = last_device_ts(). Empty when no metered component is known yet.
    [[nodiscard]] std::vector<Reading> readings(SysTime received) const;

    // Newest synced device time seen (NotifyStatus/NotifyFullStatus `params.ts`, or
    // `sys.unixtime` of a full status); never moves backwards.
    [[nodiscard]] std::optional<SysTime> last_device_ts() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace intelergy::drivers
