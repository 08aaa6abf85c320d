#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "intelergy/core/clock.hpp"
#include "intelergy/core/result.hpp"

namespace intelergy::store::pg {

// Epoch milliseconds as "seconds.mmm" for to_timestamp($n::double precision)... exact to the
// millisecond when parsed as numeric: use `to_timestamp_ms($n)` helpers in SQL instead of
// doubles where exactness matters.
inline std::string epoch_ms_text(SysTime t) { return std::to_string(t.time_since_epoch().count()); }

// SQL expression turning a bigint epoch-milliseconds parameter into an exact timestamptz.
inline std::string ts_from_ms(const std::string& param) {
    return "('epoch'::timestamptz + (" + param + ")::bigint * interval '1 millisecond')";
}

// SQL expression turning a timestamptz into bigint epoch milliseconds (exact).
inline std::string ms_from_ts(const std::string& column) {
    return "(floor(extract(epoch FROM " + column + ") * 1000))::bigint";
}

// A PostgreSQL array literal of text values ('{"a","b"}'), every element quoted.
inline std::string text_array(const std::vector<std::string>& v) {
    std::string out = "{";
    for (const auto& s : v) {
        if (out.size() > 1) out += ',';
        out += '"';
        for (const char c : s) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

// A PostgreSQL array literal of integers ('{1,2}').
template <typename Int>
std::string int_array(const std::vector<Int>& v) {
    std::string out = "{";
    for (const auto x : v) {
        if (out.size() > 1) out += ',';
        out += std::to_string(x);
    }
    return out + "}";
}

inline std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Runs fn(); libpqxx exceptions become Errors. `broken` is set when the connection must be
// dropped and reopened.
template <typename Fn>
auto guarded(const char* what, bool& broken, Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const pqxx::broken_connection& e) {
        broken = true;
        return make_error(ErrorCode::Unreachable,
                          std::string("database unreachable: ") + first_line(e.what()), what);
    } catch (const pqxx::sql_error& e) {
        return make_error(ErrorCode::Internal, first_line(e.what()), what);
    } catch (const std::exception& e) {
        broken = true;
        return make_error(ErrorCode::Internal, first_line(e.what()), what);
    }
}

}  // namespace intelergy::store::pg
