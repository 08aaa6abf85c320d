#pragma once

#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace intelergy::test {

enum class Severity { Error, Warning };

// One problem in a discovery message. `rule` names the reference rule, e.g. "§1.5.A10"
// (shared/reference/home-assistant.md); Error = HA rejects the config (entity not created),
// Warning = HA accepts it but logs/repairs or it violates a §1.3/§1.4 convention.
struct Finding {
    Severity severity{Severity::Error};
    std::string topic;
    std::string rule;
    std::string message;
    [[nodiscard]] std::string describe() const;
};
std::ostream& operator<<(std::ostream& out, const Finding& finding);

struct ConfigMessage {
    std::string topic;
    std::string payload;
};

// Static checker for Home Assistant MQTT discovery messages: applies the §1.5 validation rules
// (topic form, JSON object, abbreviations, origin/device/availability, required keys per
// platform, device_class/unit/state_class tables, deprecated and unknown keys) and, over a set of
// messages, duplicate unique_ids and discovery ids. Stricter than HA on purpose: anything HA
// would silently drop or warn about is at least a Warning.
class HaChecker {
public:
    explicit HaChecker(std::string discovery_prefix = "homeassistant");

    // One retained message as HA would receive it. An empty payload is a valid removal.
    [[nodiscard]] std::vector<Finding> check(std::string_view topic,
                                             std::string_view payload) const;

    // Every message (in publish order; a later message on the same topic replaces the earlier,
    // an empty one removes it) plus the cross-message rules on what remains retained.
    [[nodiscard]] std::vector<Finding> check_all(const std::vector<ConfigMessage>& messages) const;
    template <typename Range>
    [[nodiscard]] std::vector<Finding> check_all(const Range& messages) const {
        std::vector<ConfigMessage> copy;
        for (const auto& m : messages)
            copy.push_back({std::string(m.topic), std::string(m.payload)});
        return check_all(copy);
    }

    // §1.5.B3 on live data: renders the value_template of every sensor, binary_sensor and switch
    // that stays retained in `configs` on the last payload of its state_topic in `states`
    // (topic -> payload), and every availability item on its topic, and reports what HA would
    // meet: no state at all (Error), a template path that does not resolve (Error), a numeric
    // sensor (device_class, state_class or unit) getting a non-number (Error) or null (Warning,
    // "unknown"), a switch/binary_sensor value matching neither payload_on nor payload_off
    // (Error), an availability value matching neither payload_(not_)available (Error).
    // Templates understood: "{{ value_json.<path> }}" and "{{ (value_json.<path> / N) |
    // round(k) }}" (path = .key and [index] steps); any other template is a Warning.
    [[nodiscard]] std::vector<Finding> check_states(
        const std::vector<ConfigMessage>& configs,
        const std::map<std::string, std::string>& states) const;

    [[nodiscard]] static std::size_t count(const std::vector<Finding>& findings, Severity severity);

private:
    std::string prefix_;
};

}  // namespace intelergy::test
