// Shelly status parsing: the same input through parse_gen1_status, parse_gen2_status and
// parse_gen2_component. An optional first line shorter than 40 bytes without '{' names the
// component key for parse_gen2_component (default "switch:0") and goes through
// metered_component_channel.
#include "fuzz_common.hpp"

#include <string>

#include "intelergy/drivers/shelly_status.hpp"

using namespace intelergy;
using namespace intelergy::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input = as_text(data, size);
    std::string_view key = "switch:0";
    if (const auto nl = input.find('\n');
        nl != std::string_view::npos && nl < 40 && input.substr(0, nl).find('{') == std::string_view::npos) {
        key = input.substr(0, nl);
        input.remove_prefix(nl + 1);
    }
    const auto now = fixed_now();
    BookChecker book;

    if (auto r = drivers::parse_gen1_status(input, now)) {
        check_readings(*r);
        FUZZ_CHECK(!r->empty() && r->size() <= 256);
        for (const auto& x : *r) FUZZ_CHECK(x.counter_unit == CounterUnit::WattMinute);
        book.feed(*r);
    }
    if (auto r = drivers::parse_gen2_status(input, now)) {
        check_readings(*r);
        FUZZ_CHECK(!r->empty());
        for (const auto& x : *r) FUZZ_CHECK(x.counter_unit == CounterUnit::WattHour);
        book.feed(*r);
    }
    const auto channel = drivers::metered_component_channel(key);
    if (auto r = drivers::parse_gen2_component(key, input, now)) {
        FUZZ_CHECK(channel.has_value());
        FUZZ_CHECK(r->channel == *channel);
        FUZZ_CHECK(!r->device_time);
        check_reading(*r);
        book.feed(std::vector<Reading>{*r});
    }
    if (channel) {
        // Round trip: a channel the parser accepts prints back to a key it accepts.
        const std::string prefix(key.substr(0, key.find(':') + 1));
        FUZZ_CHECK(drivers::metered_component_channel(prefix + std::to_string(*channel)) == channel);
    }
    return 0;
}
