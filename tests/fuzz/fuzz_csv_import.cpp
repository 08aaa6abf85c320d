// The CSV importer's pure parser, parse_readings_csv(text, now) (bridge/app/cli_csv.cpp).
// Rows come sorted by time with unique, plausible timestamps (2000 .. now + 1 day), finite
// values and power or counter in each; problems in line order with a line inside the text;
// the lifetime counters fed into an energy book never lower it.
#include "fuzz_common.hpp"

#include <algorithm>
#include <set>

#include "cli_energy.hpp"

using namespace intelergy;
using namespace intelergy::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = as_text(data, size);
    const auto now = fixed_now();
    const auto parsed = app::cli::parse_readings_csv(text, now);
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    FUZZ_CHECK(parsed.delimiter == ',' || parsed.delimiter == ';');

    const SysTime y2000{std::chrono::seconds{946'684'800}};
    std::set<SysTime> seen;
    BookChecker book;
    for (std::size_t i = 0; i < parsed.rows.size(); ++i) {
        const auto& r = parsed.rows[i];
        FUZZ_CHECK(r.line >= 1 && r.line <= lines);
        FUZZ_CHECK(r.ts >= y2000 && r.ts <= now + std::chrono::hours{24});
        if (i > 0) FUZZ_CHECK(parsed.rows[i - 1].ts <= r.ts);
        FUZZ_CHECK(seen.insert(r.ts).second);
        FUZZ_CHECK(r.power_w || r.counter_wh);
        FUZZ_CHECK(finite_in(r.power_w, -1e300, 1e300));
        FUZZ_CHECK(finite_in(r.counter_wh, 0, 1e300));
        if (r.counter_wh) book.feed(*r.counter_wh, CounterUnit::WattHour);
    }
    for (std::size_t i = 0; i < parsed.problems.size(); ++i) {
        const auto& p = parsed.problems[i];
        FUZZ_CHECK(p.line >= 1 && p.line <= lines);
        FUZZ_CHECK(!p.message.empty());
        if (i > 0) FUZZ_CHECK(parsed.problems[i - 1].line <= p.line);
    }
    return 0;
}
