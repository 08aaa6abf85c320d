#include "intelergy/drivers/state_json.hpp"

#include "intelergy/core/time_format.hpp"

#include <cmath>
#include <cstdio>

namespace intelergy::drivers {

std::string format_number(double value, int decimals) {
    if (!std::isfinite(value)) return "null";
    if (decimals < 0) decimals = 0;
    if (decimals > 9) decimals = 9;
    char buf[64];
    const int n = std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) {
        std::snprintf(buf, sizeof buf, "%.17g", value);  // |value| > ~1e50: rare, still valid
        return buf;
    }
    std::string out{buf, static_cast<std::size_t>(n)};
    if (out.find('.') != std::string::npos) {
        while (out.back() == '0') out.pop_back();
        if (out.back() == '.') out.pop_back();
    }
    if (out == "-0") out = "0";
    return out;
}

std::string state_json(const Reading& r) {
    std::string out = "{";
    auto add = [&out](const char* key, const std::optional<double>& v, int decimals) {
        if (!v || !std::isfinite(*v)) return;
        out += '"';
        out += key;
        out += "\":";
        out += format_number(*v, decimals);
        out += ',';
    };
    add("power_w", r.power_w, 2);
    add("energy_wh", r.energy_wh, 3);
    add("voltage_v", r.voltage_v, 1);
    add("current_a", r.current_a, 3);
    if (r.relay) out += *r.relay ? "\"relay\":\"ON\"," : "\"relay\":\"OFF\",";
    add("temperature_c", r.temperature_c, 1);
    out += "\"ts\":\"" + format_iso8601(r.ts) + "\"}";
    return out;
}

}  // namespace intelergy::drivers
