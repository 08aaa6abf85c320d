#include "intelergy/drivers/gen2_status_state.hpp"

#include "intelergy/drivers/shelly_status.hpp"
#include "json_util.hpp"
#include "status_normalize.hpp"

namespace intelergy::drivers {

using detail::Json;

namespace {

// aioshelly-style mergedicts: objects merge recursively, everything else replaces. Returns true
// when `target` actually changed.
bool deep_merge(Json& target, const Json& delta) {
    if (!delta.is_object() || !target.is_object()) {
        if (target == delta) return false;
        target = delta;
        return true;
    }
    bool changed = false;
    for (auto it = delta.begin(); it != delta.end(); ++it) {
        auto found = target.find(it.key());
        if (found == target.end()) {
            target.emplace(it.key(), it.value());
            changed = true;
        } else {
            changed = deep_merge(*found, it.value()) || changed;
        }
    }
    return changed;
}

bool has_metered_component(const Json& status) {
    for (auto it = status.begin(); it != status.end(); ++it) {
        if (metered_component_channel(it.key()) && it.value().is_object()) return true;
    }
    return false;
}

}  // namespace

struct Gen2StatusState::Impl {
    Json status = Json::object();
    bool baseline{false};
    std::optional<SysTime> device_ts;

    void note_device_ts(std::optional<SysTime> ts) {
        if (ts && (!device_ts || *ts > *device_ts)) device_ts = ts;
    }

    // Full replacement from a status object (GetStatus result or NotifyFullStatus params).
    void replace(Json full) {
        full.erase("ts");
        note_device_ts(detail::status_device_time(full));
        status = std::move(full);
        baseline = true;
    }
};

Gen2StatusState::Gen2StatusState() : impl_(std::make_unique<Impl>()) {}
Gen2StatusState::~Gen2StatusState() = default;
Gen2StatusState::Gen2StatusState(Gen2StatusState&&) noexcept = default;
Gen2StatusState& Gen2StatusState::operator=(Gen2StatusState&&) noexcept = default;

Status Gen2StatusState::set_full(std::string_view getstatus_json) {
    try {
        if (!impl_) impl_ = std::make_unique<Impl>();  // moved-from: start afresh
        auto parsed = detail::parse_json(getstatus_json, "Gen2 status");
        if (!parsed) return parsed.error();
        if (!parsed->is_object()) {
            return make_error(ErrorCode::Protocol, "Gen2 status: expected a JSON object");
        }
        impl_->replace(std::move(*parsed));
        return {};
    } catch (const std::exception& e) {
        return make_error(ErrorCode::Internal, std::string{"Gen2 status: "} + e.what());
    }
}

Status Gen2StatusState::apply_component(std::string_view key,
                                        std::string_view full_component_json) {
    try {
        if (!impl_) impl_ = std::make_unique<Impl>();
        if (key.empty()) return make_error(ErrorCode::Invalid, "empty component key");
        auto parsed = detail::parse_json(full_component_json, "Gen2 component status");
        if (!parsed) return parsed.error();
        if (!parsed->is_object()) {
            return make_error(ErrorCode::Protocol, "Gen2 component status: expected a JSON object");
        }
        impl_->status[std::string{key}] = std::move(*parsed);
        return {};
    } catch (const std::exception& e) {
        return make_error(ErrorCode::Internal, std::string{"Gen2 component status: "} + e.what());
    }
}

Result<bool> Gen2StatusState::apply_notify(std::string_view frame_json) {
    try {
        if (!impl_) impl_ = std::make_unique<Impl>();
        auto parsed = detail::parse_json(frame_json, "rpc event frame");
        if (!parsed) return parsed.error();
        Json& frame = *parsed;
        if (!frame.is_object()) {
            return make_error(ErrorCode::Protocol, "rpc event frame: expected a JSON object");
        }
        const auto method = detail::string_at(frame, "method");
        if (!method) {
            return make_error(ErrorCode::Protocol, "rpc event frame: no string `method`");
        }
        const bool full = *method == "NotifyFullStatus";
        if (!full && *method != "NotifyStatus") return false;  // NotifyEvent & co.

        auto params_it = frame.find("params");
        if (params_it == frame.end() || !params_it->is_object()) {
            return make_error(ErrorCode::Protocol,
                              "rpc event frame: " + *method + " without object `params`");
        }
        Json& params = *params_it;
        const auto ts = detail::synced_epoch(detail::number_at(params, "ts"));

        if (full) {
            params.erase("ts");
            // A full status without switch/pm1 still changes the metered content when it
            // replaces a state that had some (found by tests/fuzz notify_merge).
            const bool metered =
                has_metered_component(params) || has_metered_component(impl_->status);
            impl_->replace(std::move(params));
            impl_->note_device_ts(ts);
            return metered;
        }

        bool metered_changed = false;
        for (auto it = params.begin(); it != params.end(); ++it) {
            if (it.key() == "ts") continue;
            // A component is always an object; a scalar/array delta for one is corrupt and
            // must not wipe the known component.
            if (!it.value().is_object()) continue;
            auto found = impl_->status.find(it.key());
            bool changed = false;
            if (found == impl_->status.end()) {
                impl_->status.emplace(it.key(), std::move(it.value()));
                changed = true;
            } else {
                changed = deep_merge(*found, it.value());
            }
            if (changed && metered_component_channel(it.key())) metered_changed = true;
        }
        impl_->note_device_ts(ts);
        return metered_changed;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::Internal, std::string{"rpc event frame: "} + e.what());
    }
}

bool Gen2StatusState::has_baseline() const { return impl_ && impl_->baseline; }

std::vector<Reading> Gen2StatusState::readings(SysTime received) const {
    if (!impl_) return {};
    try {
        return detail::readings_from_status(impl_->status, received, impl_->device_ts);
    } catch (const std::exception&) {
        return {};
    }
}

std::optional<SysTime> Gen2StatusState::last_device_ts() const {
    return impl_ ? impl_->device_ts : std::nullopt;
}

}  // namespace intelergy::drivers
