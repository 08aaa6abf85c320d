#include "security.hpp"

#include <spdlog/spdlog.h>

namespace intelergy::app {

void apply_mqtt_security(bridge::PahoOptions& options, const config::MqttConfig& mqtt) {
    options.username = mqtt.username;
    options.password = mqtt.password;
    if (mqtt.url.tls) {
        options.ca_file = mqtt.ca_file.string();
        options.cert_file = mqtt.cert_file.string();
        options.key_file = mqtt.key_file.string();
    }
}

std::shared_ptr<const store::CredentialCipher> credential_cipher(const config::AppConfig& config) {
    if (!config.store.credentials_key) return nullptr;
    return std::make_shared<const store::CredentialCipher>(*config.store.credentials_key);
}

void log_security_warnings(const config::AppConfig& config) {
    for (const auto& warning : config::secret_permission_warnings(config)) {
        spdlog::warn("insecure secret: {}", warning);
    }
    if (!config.store.credentials_key) {
        spdlog::warn("store.credentials_key_file is not set: device passwords are stored in clear "
                     "in the database (see docs/security.md)");
    }
}

}  // namespace intelergy::app
