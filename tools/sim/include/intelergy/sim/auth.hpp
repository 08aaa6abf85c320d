// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace intelergy::sim {

std::string sha256_hex(std::string_view data);
std::optional<std::string> base64_decode(std::string_view in);
std::string base64_encode(std::string_view in);

// Parses `k="v", k2=v2` (the part after "Digest "). Keys are lower-cased.
std::map<std::string, std::string> parse_auth_params(std::string_view text);

// response = sha256(HA1:nonce:nc:cnonce:qop:HA2) with HA1 = sha256(user:realm:password).
std::string digest_response(std::string_view user, std::string_view realm,
                            std::string_view password, std::string_view method,
                            std::string_view uri, std::string_view nonce, std::string_view nc,
                            std::string_view cnonce, std::string_view qop);

// Stateless nonces: 8 hex digits of issue time followed by 8 hex digits of a keyed hash over
// (realm, time), so any nonce we issued verifies without per-plug memory.
class NonceIssuer {
public:
    explicit NonceIssuer(std::uint64_t secret) : secret_(secret) {}
    [[nodiscard]] std::string issue(std::string_view realm, std::int64_t now_s) const;
    [[nodiscard]] bool verify(std::string_view realm, std::string_view nonce) const;

private:
    [[nodiscard]] std::string tag(std::string_view realm, std::string_view time_hex) const;
    std::uint64_t secret_;
};

}  // namespace intelergy::sim
