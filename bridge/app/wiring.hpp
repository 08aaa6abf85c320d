#pragma once

#include <functional>
#include <optional>
#include <string>

namespace CLI {
class App;
}

#include "intelergy/config/config.hpp"

namespace intelergy::app {

// Each returns the process exit code.
int run_bridge(const config::AppConfig& config);
int migrate_database(const config::AppConfig& config);

void setup_logging(config::LogLevel level);

// The client subcommands (user, profile, room, device, report, import, setup...), registered on
// `app`; run_if_parsed() runs the one the user chose and returns its exit code, or nullopt.
struct ClientCommands {
    std::function<std::optional<int>()> run_if_parsed;
};
ClientCommands register_client_commands(CLI::App& app, std::string& config_path);

}  // namespace intelergy::app
