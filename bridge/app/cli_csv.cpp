#include "cli_energy.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "intelergy/core/time_format.hpp"

namespace intelergy::app::cli {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    return s;
}

std::vector<std::string_view> split(std::string_view line, char delimiter) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i <= line.size(); ++i) {
        if (i < line.size() && line[i] == '"') quoted = !quoted;
        if (i == line.size() || (line[i] == delimiter && !quoted)) {
            out.push_back(trim(line.substr(start, i - start)));
            start = i + 1;
        }
    }
    return out;
}

std::optional<double> number(std::string_view text, bool decimal_comma) {
    std::string s(text);
    if (decimal_comma) std::replace(s.begin(), s.end(), ',', '.');
    if (s.empty()) return std::nullopt;
    double v = 0;
    const char* begin = s.data() + (s.front() == '+' ? 1 : 0);
    const auto [end, ec] = std::from_chars(begin, s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::optional<SysTime> timestamp(std::string_view text) {
    if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
            return (c >= '0' && c <= '9') || c == '.';
        })) {
        const auto v = number(text, false);
        if (!v) return std::nullopt;
        return SysTime(std::chrono::milliseconds(std::llround(*v * 1000.0)));
    }
    return parse_iso8601(text);
}

}  // namespace

CsvParse parse_readings_csv(std::string_view text, SysTime now) {
    CsvParse out;
    const SysTime earliest = *parse_iso8601("2000-01-01T00:00:00Z");
    const SysTime latest = now + std::chrono::hours(24);
    std::map<SysTime, std::size_t> seen;  // ts → first line
    bool first = true;
    std::size_t line_no = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        auto nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        auto line = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++line_no;
        if (line_no == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // BOM
        const auto bare = trim(line);
        if (bare.empty() || bare.front() == '#') {
            if (nl == text.size()) break;
            continue;
        }
        if (first) out.delimiter = line.find(';') != std::string_view::npos ? ';' : ',';
        const bool decimal_comma = out.delimiter == ';';
        const auto fields = split(line, out.delimiter);
        const auto problem = [&](std::string message) {
            out.problems.push_back({line_no, std::move(message)});
        };
        if (first) {
            first = false;
            if (!timestamp(fields[0])) {  // a header
                out.header = true;
                if (fields.size() < 2 || fields.size() > 3)
                    problem("the header names " + std::to_string(fields.size()) +
                            " columns; expected timestamp, power W and optionally counter Wh");
                continue;
            }
        }
        if (fields.size() < 2 || fields.size() > 3) {
            problem("expected 2 or 3 columns (timestamp, power W[, counter Wh]), got " +
                    std::to_string(fields.size()));
            continue;
        }
        CsvReading r;
        r.line = line_no;
        const auto ts = timestamp(fields[0]);
        if (!ts) {
            problem("timestamp '" + std::string(fields[0]) +
                    "' is neither ISO-8601 nor Unix epoch seconds");
            continue;
        }
        if (*ts < earliest || *ts > latest) {
            problem("timestamp '" + std::string(fields[0]) + "' is before 2000 or in the future");
            continue;
        }
        r.ts = *ts;
        bool ok = true;
        if (!fields[1].empty()) {
            r.power_w = number(fields[1], decimal_comma);
            if (!r.power_w || std::fabs(*r.power_w) > 100'000) {
                problem("power '" + std::string(fields[1]) + "' is not a number of watts (|P| <= 100 kW)");
                ok = false;
            }
        }
        if (ok && fields.size() == 3 && !fields[2].empty()) {
            r.counter_wh = number(fields[2], decimal_comma);
            if (!r.counter_wh || *r.counter_wh < 0) {
                problem("counter '" + std::string(fields[2]) + "' is not a number of Wh (>= 0)");
                ok = false;
            }
        }
        if (!ok) continue;
        if (!r.power_w && !r.counter_wh) {
            problem("neither power nor counter given");
            continue;
        }
        if (const auto [it, inserted] = seen.emplace(r.ts, line_no); !inserted) {
            problem("timestamp '" + std::string(fields[0]) + "' repeats line " +
                    std::to_string(it->second));
            continue;
        }
        out.rows.push_back(r);
        if (nl == text.size()) break;
    }
    std::stable_sort(out.rows.begin(), out.rows.end(),
                     [](const CsvReading& a, const CsvReading& b) { return a.ts < b.ts; });
    return out;
}

}  // namespace intelergy::app::cli
