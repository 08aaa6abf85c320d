#pragma once

// Start-up security wiring for `intelergy run` and the CLI (issue 6 part 7): MQTT credentials
// and TLS, the device-password cipher and the warnings about readable secrets.

#include <memory>

#include "intelergy/bridge/paho_mqtt_client.hpp"
#include "intelergy/config/config.hpp"
#include "intelergy/store/credential_cipher.hpp"

namespace intelergy::app {

// Username, password and TLS files from [mqtt] into Paho's options.
void apply_mqtt_security(bridge::PahoOptions& options, const config::MqttConfig& mqtt);

// The cipher for store.credentials_key_file, or null when none is configured.
std::shared_ptr<const store::CredentialCipher> credential_cipher(const config::AppConfig& config);

// Logs (warn) every secret file others can read, and that device passwords are stored in clear
// when no credentials key is configured. Called once at start.
void log_security_warnings(const config::AppConfig& config);

}  // namespace intelergy::app
