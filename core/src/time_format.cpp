#include "intelergy/core/time_format.hpp"

#include <charconv>
#include <cstdio>

namespace intelergy {

std::string format_iso8601(SysTime t) {
    using namespace std::chrono;
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> hms{t - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                  int(hms.minutes().count()), int(hms.seconds().count()),
                  int(hms.subseconds().count()));
    return buf;
}

namespace {

bool read_int(std::string_view s, size_t& pos, size_t digits, int& out) {
    if (pos + digits > s.size()) return false;
    int v = 0;
    for (size_t i = 0; i < digits; ++i) {
        const char c = s[pos + i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    pos += digits;
    out = v;
    return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
    if (pos < s.size() && s[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

}  // namespace

std::optional<SysTime> parse_iso8601(std::string_view s) {
    using namespace std::chrono;
    size_t pos = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
    if (!read_int(s, pos, 4, y) || !expect(s, pos, '-') || !read_int(s, pos, 2, mo) ||
        !expect(s, pos, '-') || !read_int(s, pos, 2, d))
        return std::nullopt;
    const year_month_day ymd{year{y}, month{unsigned(mo)}, day{unsigned(d)}};
    if (!ymd.ok()) return std::nullopt;
    int offset_min = 0;
    if (pos < s.size()) {
        if (!(expect(s, pos, 'T') || expect(s, pos, ' ')) || !read_int(s, pos, 2, h) ||
            !expect(s, pos, ':') || !read_int(s, pos, 2, mi))
            return std::nullopt;
        if (expect(s, pos, ':')) {
            if (!read_int(s, pos, 2, sec)) return std::nullopt;
            if (expect(s, pos, '.')) {
                int digits = 0;
                int frac = 0;
                while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
                    if (digits < 3) frac = frac * 10 + (s[pos] - '0');
                    ++digits;
                    ++pos;
                }
                if (digits == 0) return std::nullopt;
                for (int i = digits; i < 3; ++i) frac *= 10;
                ms = frac;
            }
        }
        if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
        if (pos < s.size()) {
            if (expect(s, pos, 'Z') || expect(s, pos, 'z')) {
            } else if (s[pos] == '+' || s[pos] == '-') {
                const int sign = s[pos] == '-' ? -1 : 1;
                ++pos;
                int oh = 0, om = 0;
                if (!read_int(s, pos, 2, oh)) return std::nullopt;
                expect(s, pos, ':');
                if (!read_int(s, pos, 2, om) || oh > 23 || om > 59) return std::nullopt;
                offset_min = sign * (oh * 60 + om);
            } else {
                return std::nullopt;
            }
        }
    }
    if (pos != s.size()) return std::nullopt;
    const auto t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + milliseconds{ms} -
                   minutes{offset_min};
    return time_point_cast<milliseconds>(t);
}

}  // namespace intelergy
