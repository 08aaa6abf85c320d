// SPDX-License-Identifier: MIT
#include "intelergy/sim/auth.hpp"

#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace intelergy::sim {

std::string sha256_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("EVP_Digest(sha256) failed");
    }
    static constexpr char HEX[] = "0123456789abcdef";
    std::string out;
    out.reserve(static_cast<std::size_t>(len) * 2);
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(HEX[md[i] >> 4U]);
        out.push_back(HEX[md[i] & 0xFU]);
    }
    return out;
}

namespace {
constexpr std::string_view B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string base64_encode(std::string_view in) {
    std::string out;
    unsigned int val = 0;
    int bits = -6;
    for (char ch : in) {
        const auto c = static_cast<unsigned char>(ch);
        val = (val << 8U) + c;
        bits += 8;
        while (bits >= 0) {
            out.push_back(B64[(val >> static_cast<unsigned>(bits)) & 0x3FU]);
            bits -= 6;
        }
    }
    if (bits > -6) out.push_back(B64[((val << 8U) >> static_cast<unsigned>(bits + 8)) & 0x3FU]);
    while (out.size() % 4 != 0) out.push_back('=');
    return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
    std::string out;
    unsigned int val = 0;
    int bits = -8;
    for (char c : in) {
        if (c == '=') break;
        const auto pos = B64.find(c);
        if (pos == std::string_view::npos) return std::nullopt;
        val = (val << 6U) + static_cast<unsigned int>(pos);
        bits += 6;
        if (bits >= 0) {
            out.push_back(static_cast<char>((val >> static_cast<unsigned>(bits)) & 0xFFU));
            bits -= 8;
        }
    }
    return out;
}

std::map<std::string, std::string> parse_auth_params(std::string_view text) {
    std::map<std::string, std::string> out;
    std::size_t i = 0;
    const auto skip = [&] {
        while (i < text.size() && (text[i] == ' ' || text[i] == ',' || text[i] == '\t')) ++i;
    };
    while (true) {
        skip();
        if (i >= text.size()) break;
        const auto eq = text.find('=', i);
        if (eq == std::string_view::npos) break;
        std::string key(text.substr(i, eq - i));
        for (auto& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        while (!key.empty() && key.back() == ' ') key.pop_back();
        i = eq + 1;
        std::string value;
        if (i < text.size() && text[i] == '"') {
            ++i;
            while (i < text.size() && text[i] != '"') {
                if (text[i] == '\\' && i + 1 < text.size()) ++i;
                value.push_back(text[i++]);
            }
            ++i;
        } else {
            while (i < text.size() && text[i] != ',') value.push_back(text[i++]);
            while (!value.empty() && value.back() == ' ') value.pop_back();
        }
        out[key] = value;
    }
    return out;
}

std::string digest_response(std::string_view user, std::string_view realm,
                            std::string_view password, std::string_view method,
                            std::string_view uri, std::string_view nonce, std::string_view nc,
                            std::string_view cnonce, std::string_view qop) {
    const auto ha1 =
        sha256_hex(std::string(user) + ":" + std::string(realm) + ":" + std::string(password));
    const auto ha2 = sha256_hex(std::string(method) + ":" + std::string(uri));
    return sha256_hex(ha1 + ":" + std::string(nonce) + ":" + std::string(nc) + ":" +
                      std::string(cnonce) + ":" + std::string(qop) + ":" + ha2);
}

std::string NonceIssuer::tag(std::string_view realm, std::string_view time_hex) const {
    return sha256_hex(std::to_string(secret_) + ":" + std::string(realm) + ":" +
                      std::string(time_hex))
        .substr(0, 8);
}

std::string NonceIssuer::issue(std::string_view realm, std::int64_t now_s) const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned int>(now_s & 0xFFFFFFFF));
    return std::string(buf) + tag(realm, buf);
}

bool NonceIssuer::verify(std::string_view realm, std::string_view nonce) const {
    if (nonce.size() != 16) return false;
    return tag(realm, nonce.substr(0, 8)) == nonce.substr(8);
}

}  // namespace intelergy::sim
