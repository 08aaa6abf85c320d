#pragma once

#include <string>

#include "intelergy/config/config.hpp"

namespace intelergy::app {

// Each returns the process exit code.
int run_bridge(const config::AppConfig& config);
int migrate_database(const config::AppConfig& config);

void setup_logging(config::LogLevel level);

}  // namespace intelergy::app
