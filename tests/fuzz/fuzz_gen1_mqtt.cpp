// Gen1 plain-text MQTT topics in Gen1MqttState. Each input line is "<suffix>=<payload>" (the
// topic after shellies/<id>/); a line without '=' is a suffix with an empty payload. apply()
// must report exactly whether something it exposes changed, readings stay plausible, and the
// energy book fed with relay/N/energy never decreases.
#include "fuzz_common.hpp"

#include "intelergy/drivers/gen1_mqtt_state.hpp"

using namespace intelergy;
using namespace intelergy::fuzz;

namespace {

bool same(const std::vector<Reading>& a, const std::vector<Reading>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto& x = a[i];
        const auto& y = b[i];
        if (x.channel != y.channel || x.power_w != y.power_w || x.temperature_c != y.temperature_c ||
            x.relay != y.relay || x.counter_raw != y.counter_raw)
            return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto now = fixed_now();
    drivers::Gen1MqttState state;
    BookChecker book;
    auto prev = state.readings(now);
    FUZZ_CHECK(prev.empty());
    for (const auto line : split_lines(as_text(data, size), 64)) {
        const auto eq = line.find('=');
        const auto suffix = line.substr(0, eq);
        const auto payload = eq == std::string_view::npos ? std::string_view{} : line.substr(eq + 1);
        const auto online_before = state.online();
        bool over_before[256];
        for (int c = 0; c < 256; ++c) over_before[c] = state.overpower(static_cast<std::uint8_t>(c));

        const bool changed = state.apply(suffix, payload);

        const auto cur = state.readings(now);
        check_readings(cur);
        for (const auto& r : cur) FUZZ_CHECK(r.counter_unit == CounterUnit::WattMinute);
        bool over_changed = false;
        for (int c = 0; c < 256; ++c)
            over_changed |= over_before[c] != state.overpower(static_cast<std::uint8_t>(c));
        const bool visible = !same(prev, cur) || online_before != state.online() || over_changed;
        if (visible) FUZZ_CHECK(changed);
        book.feed(cur);
        prev = cur;
    }
    return 0;
}
