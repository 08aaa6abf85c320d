#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "wiring.hpp"

namespace intelergy::app {

namespace {
spdlog::level::level_enum to_spdlog(config::LogLevel level) {
    switch (level) {
        case config::LogLevel::Trace: return spdlog::level::trace;
        case config::LogLevel::Debug: return spdlog::level::debug;
        case config::LogLevel::Info: return spdlog::level::info;
        case config::LogLevel::Warn: return spdlog::level::warn;
        case config::LogLevel::Error: return spdlog::level::err;
        case config::LogLevel::Off: return spdlog::level::off;
    }
    return spdlog::level::info;
}
}  // namespace

void setup_logging(config::LogLevel level) {
    // One named logger per module over one shared sink. Under systemd (JOURNAL_STREAM set) the
    // journal stamps lines itself, so no timestamp of our own.
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    const bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
    sink->set_pattern(journald ? "%l %n: %v" : "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n: %v");
    spdlog::drop_all();
    for (const char* name :
         {"bridge", "mqtt", "store", "drivers", "discovery", "config", "api", "poller"}) {
        auto logger = std::make_shared<spdlog::logger>(name, sink);
        logger->set_level(to_spdlog(level));
        spdlog::register_logger(logger);
    }
    auto def = std::make_shared<spdlog::logger>("intelergy", sink);
    def->set_level(to_spdlog(level));
    spdlog::set_default_logger(def);
    spdlog::set_error_handler([](const std::string& msg) {
        std::fprintf(stderr, "logging error: %s\n", msg.c_str());
    });
}

}  // namespace intelergy::app
