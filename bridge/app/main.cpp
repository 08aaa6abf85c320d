// The `intelergy` executable: argument parsing, config loading and exit codes only.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "intelergy/config/config.hpp"
#include "intelergy/version.hpp"
#include "wiring.hpp"

namespace {

std::string default_config_path() {
    if (const char* env = std::getenv("INTELERGY_CONFIG"); env && *env) return env;
    return "/etc/intelergy/intelergy.toml";
}

// Loads the config or prints every error as file:line:column and returns nullopt.
std::optional<intelergy::config::AppConfig> load(const std::string& path) {
    auto result = intelergy::config::load_config(path);
    for (const auto& e : result.errors) std::cerr << e.describe() << "\n";
    if (!result.config) {
        std::cerr << path << ": " << result.errors.size() << " error(s)\n";
        return std::nullopt;
    }
    return result.config;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Intelergy: Shelly smart plugs to MQTT, Home Assistant and PostgreSQL",
                 "intelergy"};
    app.require_subcommand(1);
    std::string config_path = default_config_path();
    app.add_option("-c,--config", config_path, "config file (default $INTELERGY_CONFIG or "
                                               "/etc/intelergy/intelergy.toml)");
    app.set_version_flag("--version", std::string("intelergy ") + std::string(intelergy::VERSION) +
                                          " (" + std::string(intelergy::GIT_SHA) + ")");

    auto* run = app.add_subcommand("run", "run the bridge (foreground)");
    auto* check = app.add_subcommand("check-config", "validate a config file");
    auto* db = app.add_subcommand("db", "database maintenance");
    db->require_subcommand(1);
    auto* migrate = db->add_subcommand("migrate", "apply schema migrations");
    for (auto* sub : {run, check, migrate})
        sub->add_option("-c,--config", config_path, "config file");
    // Setup, report and import commands: clients of the MQTT API and the database.
    const auto client_commands = intelergy::app::register_client_commands(app, config_path);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // Help and version exit 0; every usage error exits 2, as the client commands do.
        const int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }

    if (auto handled = client_commands.run_if_parsed()) return *handled;

    const auto config = load(config_path);
    if (!config) return 2;
    if (check->parsed()) {
        // Valid, but say so when a secret is readable by others (the same lines `run` logs).
        for (const auto& w : intelergy::config::secret_permission_warnings(*config))
            std::cerr << "warning: " << w << "\n";
        std::cout << config_path << ": OK\n";
        return 0;
    }
    intelergy::app::setup_logging(config->log.level);
    try {
        if (migrate->parsed()) return intelergy::app::migrate_database(*config);
        if (run->parsed()) return intelergy::app::run_bridge(*config);
    } catch (const std::exception& e) {
        spdlog::error("fatal: {}", e.what());
        return 1;
    }
    return 0;
}
