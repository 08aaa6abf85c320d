#include "intelergy/store/credential_cipher.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

namespace intelergy::store {

namespace {

constexpr std::size_t NONCE = 12;
constexpr std::size_t TAG = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherCtx new_ctx() { return {EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free}; }

Error internal(std::string_view what) {
    return make_error(ErrorCode::Internal, "credential encryption: " + std::string(what));
}

std::string base64(const std::vector<unsigned char>& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::optional<std::vector<unsigned char>> unbase64(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) return std::nullopt;
    std::vector<unsigned char> out(text.size() / 4 * 3);
    const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0) return std::nullopt;
    // EVP_DecodeBlock counts the '=' padding as zero bytes; drop them.
    std::size_t size = static_cast<std::size_t>(n);
    if (text.ends_with("==")) size -= 2;
    else if (text.ends_with("=")) size -= 1;
    out.resize(size);
    // Only the canonical encoding is accepted, so no altered stored string decrypts (the
    // unused low bits of the last character would otherwise be ignored).
    if (base64(out) != text) return std::nullopt;
    return out;
}

}  // namespace

Result<std::string> CredentialCipher::seal(std::string_view plain,
                                           std::string_view device_id) const {
    if (plain.empty()) return std::string();
    std::vector<unsigned char> out(NONCE + plain.size() + TAG);
    if (RAND_bytes(out.data(), static_cast<int>(NONCE)) != 1) return internal("no random nonce");
    auto ctx = new_ctx();
    int len = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(NONCE), nullptr) != 1 ||
        EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), out.data()) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                          reinterpret_cast<const unsigned char*>(device_id.data()),
                          static_cast<int>(device_id.size())) != 1 ||
        EVP_EncryptUpdate(ctx.get(), out.data() + NONCE, &len,
                          reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), out.data() + NONCE + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(TAG),
                            out.data() + NONCE + plain.size()) != 1) {
        return internal("AES-256-GCM failed");
    }
    return std::string(PREFIX) + base64(out);
}

Result<std::string> CredentialCipher::open(std::string_view stored,
                                           std::string_view device_id) const {
    if (!is_sealed(stored)) return std::string(stored);
    if (!stored.starts_with(PREFIX)) {
        return make_error(ErrorCode::Parse,
                          "stored password uses an unknown encryption format (newer version?)");
    }
    const auto bytes = unbase64(stored.substr(PREFIX.size()));
    if (!bytes || bytes->size() < NONCE + TAG) {
        return make_error(ErrorCode::Parse, "stored password is damaged (bad encoding)");
    }
    const std::size_t text_size = bytes->size() - NONCE - TAG;
    std::string plain(text_size, '\0');
    std::array<unsigned char, TAG> tag{};
    std::copy_n(bytes->data() + NONCE + text_size, TAG, tag.begin());
    auto ctx = new_ctx();
    int len = 0;
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(NONCE), nullptr) != 1 ||
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), bytes->data()) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                          reinterpret_cast<const unsigned char*>(device_id.data()),
                          static_cast<int>(device_id.size())) != 1 ||
        EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                          bytes->data() + NONCE, static_cast<int>(text_size)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(TAG),
                            tag.data()) != 1) {
        return internal("AES-256-GCM failed");
    }
    if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len,
                            &len) != 1) {
        return make_error(ErrorCode::Auth,
                          "stored password cannot be decrypted with store.credentials_key_file "
                          "(wrong key, or the value was altered)");
    }
    return plain;
}

}  // namespace intelergy::store
