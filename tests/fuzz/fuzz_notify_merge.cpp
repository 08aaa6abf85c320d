// NotifyStatus merging in Gen2StatusState. The input is split into lines: the first is the
// baseline (set_full), each further line a frame for apply_notify, or "@<key> <json>" for
// apply_component(key, json). After every step the merged readings must be plausible, the
// device time must never move backwards, a baseline never gets lost, a rejected frame leaves
// the state unchanged, and the energy book fed with the merged counters never decreases.
#include "fuzz_common.hpp"

#include <string>

#include "intelergy/drivers/gen2_status_state.hpp"

using namespace intelergy;
using namespace intelergy::fuzz;

namespace {

bool same(const std::vector<Reading>& a, const std::vector<Reading>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto& x = a[i];
        const auto& y = b[i];
        if (x.channel != y.channel || x.power_w != y.power_w || x.voltage_v != y.voltage_v ||
            x.current_a != y.current_a || x.temperature_c != y.temperature_c ||
            x.relay != y.relay || x.counter_raw != y.counter_raw || x.device_time != y.device_time)
            return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto lines = split_lines(as_text(data, size), 32);
    if (lines.empty()) return 0;
    const auto now = fixed_now();
    drivers::Gen2StatusState state;
    BookChecker book;

    const bool full_ok = static_cast<bool>(state.set_full(lines[0]));
    FUZZ_CHECK(state.has_baseline() == full_ok);
    auto prev = state.readings(now);
    check_readings(prev);
    if (full_ok) {
        // The merged state normalises exactly like the one-shot parser.
        if (auto direct = drivers::parse_gen2_status(lines[0], now)) {
            FUZZ_CHECK(same(*direct, prev));
        } else {
            FUZZ_CHECK(prev.empty());
        }
    }
    book.feed(prev);
    auto prev_ts = state.last_device_ts();
    bool had_baseline = state.has_baseline();

    for (std::size_t i = 1; i < lines.size(); ++i) {
        const auto line = lines[i];
        bool ok = false;
        bool changed = true;  // apply_component does not report changes
        if (!line.empty() && line.front() == '@') {
            const auto sp = line.find(' ');
            const auto key = line.substr(1, sp == std::string_view::npos ? line.npos : sp - 1);
            const auto json = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
            ok = static_cast<bool>(state.apply_component(key, json));
            if (ok) FUZZ_CHECK(!key.empty());
        } else {
            auto r = state.apply_notify(line);
            ok = static_cast<bool>(r);
            if (ok) changed = *r;
        }
        const auto cur = state.readings(now);
        check_readings(cur);
        if (!ok) FUZZ_CHECK(same(prev, cur));  // on error the state is unchanged
        // "false" = no switch/pm1 content changed; device_time may still advance.
        if (ok && !changed) {
            auto a = prev, b = cur;
            for (auto& x : a) x.device_time.reset();
            for (auto& x : b) x.device_time.reset();
            FUZZ_CHECK(same(a, b));
        }
        const auto ts = state.last_device_ts();
        if (prev_ts) FUZZ_CHECK(ts && *ts >= *prev_ts);
        if (had_baseline) FUZZ_CHECK(state.has_baseline());
        for (const auto& x : cur) FUZZ_CHECK(x.device_time == ts);
        book.feed(cur);
        prev = cur;
        prev_ts = ts;
        had_baseline = state.has_baseline();
    }
    return 0;
}
