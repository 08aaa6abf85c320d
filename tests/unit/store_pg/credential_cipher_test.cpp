// Device passwords at rest (issue 6 part 7): AES-256-GCM round trip, tamper detection, wrong
// key, legacy plain values and malformed input. No database needed.
#include <intelergy/store/credential_cipher.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace {

using intelergy::ErrorCode;
using intelergy::store::CredentialCipher;

CredentialCipher::Key key_of(std::uint8_t seed) {
    CredentialCipher::Key k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(seed + i * 13);
    return k;
}

const CredentialCipher cipher{key_of(1)};
constexpr const char* ID = "shelly-a8032ab12345";

TEST(CredentialCipher, RoundTripHidesThePassword) {
    for (const std::string& password : std::vector<std::string>{
             "x", "hunter2", "pässwörd with spaces ", std::string(128, 'p')}) {
        const auto sealed = cipher.seal(password, ID);
        ASSERT_TRUE(sealed) << sealed.error().describe();
        EXPECT_TRUE(sealed->starts_with("enc:v1:")) << *sealed;
        if (password.size() > 3) {
            EXPECT_EQ(sealed->find(password), std::string::npos);
        }
        EXPECT_TRUE(CredentialCipher::is_sealed(*sealed));
        const auto opened = cipher.open(*sealed, ID);
        ASSERT_TRUE(opened) << opened.error().describe();
        EXPECT_EQ(*opened, password);
    }
}

TEST(CredentialCipher, EveryValueHasAFreshNonce) {
    std::set<std::string> seen;
    for (int i = 0; i < 20; ++i) seen.insert(*cipher.seal("same", ID));
    EXPECT_EQ(seen.size(), 20U);
}

TEST(CredentialCipher, EmptyStaysEmptyAndPlainValuesPassThrough) {
    EXPECT_EQ(*cipher.seal("", ID), "");
    EXPECT_EQ(*cipher.open("", ID), "");
    // Written before a key was configured: read as it is (re-encrypted on the next write).
    EXPECT_EQ(*cipher.open("legacy-plain", ID), "legacy-plain");
    EXPECT_FALSE(CredentialCipher::is_sealed("legacy-plain"));
}

TEST(CredentialCipher, WrongKeyIsAClearErrorNotACrash) {
    const auto sealed = *cipher.seal("hunter2", ID);
    const CredentialCipher other{key_of(2)};
    const auto opened = other.open(sealed, ID);
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, ErrorCode::Auth);
    EXPECT_NE(opened.error().message.find("wrong key"), std::string::npos);
    EXPECT_EQ(opened.error().message.find(sealed), std::string::npos);
}

TEST(CredentialCipher, AnyAlteredByteIsDetected) {
    const auto sealed = *cipher.seal("hunter2", ID);
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    // Flip every base64 character of the body (nonce, ciphertext and tag) in turn.
    for (std::size_t i = CredentialCipher::PREFIX.size(); i < sealed.size(); ++i) {
        if (sealed[i] == '=') continue;
        std::string altered = sealed;
        altered[i] = alphabet[(alphabet.find(sealed[i]) + 1) % alphabet.size()];
        const auto opened = cipher.open(altered, ID);
        EXPECT_FALSE(opened && *opened == "hunter2") << "position " << i;
    }
}

TEST(CredentialCipher, ValueMovedToAnotherDeviceDoesNotDecrypt) {
    const auto sealed = *cipher.seal("hunter2", ID);
    const auto opened = cipher.open(sealed, "shelly-000000000000");
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, ErrorCode::Auth);
}

TEST(CredentialCipher, MalformedValuesAreErrors) {
    for (const char* bad : {"enc:v1:", "enc:v1:!!!!", "enc:v1:QUJD", "enc:v1:QUJDRA==",
                            "enc:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}) {
        const auto opened = cipher.open(bad, ID);
        EXPECT_FALSE(opened) << bad;
    }
    const auto future = cipher.open("enc:v9:abcd", ID);
    ASSERT_FALSE(future);
    EXPECT_NE(future.error().message.find("unknown encryption format"), std::string::npos);
}

}  // namespace
