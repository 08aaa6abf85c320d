// The TOML config: parse_config(text, file, env) with an environment where nothing is set.
// config is present iff there are no errors, every error has a message and a position inside
// the text, and summarize() never shows the PostgreSQL password.
#include "fuzz_common.hpp"

#include <algorithm>
#include <string>

#include "intelergy/config/config.hpp"

using namespace intelergy;
using namespace intelergy::fuzz;

namespace {

std::optional<std::string> no_env(const char*) { return std::nullopt; }

// The password of a keyword DSN ("... password=secret ...") or a URI DSN
// ("postgresql://user:secret@host/db"); empty when there is none.
std::string dsn_password(const std::string& dsn) {
    if (const auto p = dsn.find("password="); p != std::string::npos) {
        const auto start = p + 9;
        const auto end = dsn.find_first_of(" \t'", start);
        return dsn.substr(start, end == std::string::npos ? std::string::npos : end - start);
    }
    if (const auto scheme = dsn.find("://"); scheme != std::string::npos) {
        const auto at = dsn.find('@', scheme + 3);
        const auto colon = dsn.find(':', scheme + 3);
        if (at != std::string::npos && colon != std::string::npos && colon < at)
            return dsn.substr(colon + 1, at - colon - 1);
    }
    return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = as_text(data, size);
    // A file in a directory that does not exist: relative *_file paths resolve to nothing.
    const auto result = config::parse_config(text, "/nonexistent-fuzz/intelergy.toml", &no_env);
    FUZZ_CHECK(result.config.has_value() == result.errors.empty());
    const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    for (const auto& e : result.errors) {
        FUZZ_CHECK(!e.message.empty());
        FUZZ_CHECK(e.line <= lines);
        (void)e.describe();
    }
    if (result.config) {
        const auto& c = *result.config;
        FUZZ_CHECK(c.mqtt.password.empty());  // only from password_file or the environment
        FUZZ_CHECK(c.mqtt.reconnect_min <= c.mqtt.reconnect_max);
        FUZZ_CHECK(!c.mqtt.base_topic.empty());
        FUZZ_CHECK(c.mqtt.base_topic.find_first_of("+#") == std::string::npos);
        FUZZ_CHECK(std::isfinite(c.energy.max_power_w) && c.energy.max_power_w > 0);
        FUZZ_CHECK(std::isfinite(c.energy.dip_tolerance_wh) && c.energy.dip_tolerance_wh >= 0);
        const auto summary = config::summarize(c);
        const auto secret = dsn_password(c.postgres.dsn);
        if (secret.size() >= 4) {
            auto without = c;
            without.postgres.dsn.clear();
            if (config::summarize(without).find(secret) == std::string::npos)
                FUZZ_CHECK(summary.find(secret) == std::string::npos);
        }
    }
    return 0;
}
