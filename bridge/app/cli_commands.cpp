// Client subcommands over the MQTT API. Filled in by the setup CLI work.
#include <CLI/CLI.hpp>

#include "wiring.hpp"

namespace intelergy::app {

ClientCommands register_client_commands(CLI::App& /*app*/, std::string& /*config_path*/) {
    return ClientCommands{[]() -> std::optional<int> { return std::nullopt; }};
}

}  // namespace intelergy::app
