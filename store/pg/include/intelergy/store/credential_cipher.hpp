#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "intelergy/core/result.hpp"

namespace intelergy::store {

// Encrypts device passwords at rest so that a database dump alone does not reveal them
// (issue 6 part 7). AES-256-GCM through OpenSSL's EVP interface; no home-made cryptography.
//
// Stored form: "enc:v1:" + base64(nonce[12] | ciphertext | tag[16]). A fresh random nonce per
// value. The device id is authenticated data, so a value copied onto another device's row does
// not decrypt. Values without the "enc:" prefix are plain text from before encryption was
// configured: they are read as they are and encrypted on the next write.
class CredentialCipher {
public:
    static constexpr std::string_view PREFIX = "enc:v1:";
    using Key = std::array<std::uint8_t, 32>;

    explicit CredentialCipher(const Key& key) : key_(key) {}

    // The stored form of `plain` for device `device_id`. Empty stays empty (no password).
    // Fails only if OpenSSL does (Internal).
    [[nodiscard]] Result<std::string> seal(std::string_view plain, std::string_view device_id) const;

    // The password from its stored form. Plain (legacy) values are returned unchanged. A sealed
    // value that does not authenticate (wrong key, altered bytes, another device's value) or is
    // malformed is an Auth / Parse error whose message never contains the value.
    [[nodiscard]] Result<std::string> open(std::string_view stored,
                                           std::string_view device_id) const;

    [[nodiscard]] static bool is_sealed(std::string_view stored) {
        return stored.starts_with("enc:");
    }

private:
    Key key_;
};

}  // namespace intelergy::store
