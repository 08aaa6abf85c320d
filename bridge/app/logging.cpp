#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>

#include "wiring.hpp"

namespace intelergy::app {

namespace {
// "<N>" syslog priority prefix (sd-daemon(3)): journald strips it and files the line under that
// priority, so `journalctl -p warning` finds warnings and errors.
class JournalPriority final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&,
                spdlog::memory_buf_t& dest) override {
        const char* p = "<6>";
        switch (msg.level) {
            case spdlog::level::trace:
            case spdlog::level::debug: p = "<7>"; break;
            case spdlog::level::info: p = "<6>"; break;
            case spdlog::level::warn: p = "<4>"; break;
            case spdlog::level::err: p = "<3>"; break;
            case spdlog::level::critical: p = "<2>"; break;
            default: break;
        }
        dest.append(p, p + 3);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<JournalPriority>();
    }
};

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
    // journal stamps lines itself, so no timestamp of our own, and a priority prefix instead.
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    if (std::getenv("JOURNAL_STREAM") != nullptr) {
        auto formatter = std::make_unique<spdlog::pattern_formatter>();
        formatter->add_flag<JournalPriority>('*').set_pattern("%*%l %n: %v");
        sink->set_formatter(std::move(formatter));
    } else {
        sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n: %v");
    }
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
