// Issue 6 part 7: allowed plug networks, MQTT TLS files, the credentials key and warnings about
// secret files other users can read.
#include <intelergy/config/config.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace {

using namespace intelergy::config;
namespace fs = std::filesystem;

std::optional<std::string> no_env(const char*) { return std::nullopt; }

std::string all_errors(const LoadResult& r) {
    std::string out;
    for (const auto& e : r.errors) out += e.describe() + "\n";
    return out;
}

// A private directory with a config file path inside, removed afterwards.
class TempDir : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() /
               ("intelergy-cfgsec-" + std::to_string(::getpid()) + "-" + info->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path write(const std::string& name, const std::string& content, fs::perms mode) {
        const auto path = dir_ / name;
        {
            std::ofstream out(path, std::ios::binary);
            out << content;
        }
        fs::permissions(path, mode);
        return path;
    }
    LoadResult parse(const std::string& text) {
        return parse_config(text, dir_ / "intelergy.toml", no_env);
    }
    fs::path dir_;
};

using Perm = fs::perms;
constexpr auto kOwnerOnly = Perm::owner_read | Perm::owner_write;
constexpr auto kWorldReadable = kOwnerOnly | Perm::group_read | Perm::others_read;

TEST(AllowedNetworks, DefaultIsLoopbackAndPrivate) {
    const AppConfig c;
    std::string joined;
    for (const auto& n : c.polling.allowed_networks) joined += n.to_string() + " ";
    EXPECT_EQ(joined, "127.0.0.0/8 ::1/128 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7 ");
}

TEST(AllowedNetworks, ConfiguredListReplacesTheDefault) {
    const auto r = parse_config("[polling]\nallowed_networks = ['192.168.1.0/24', '::1']\n",
                                "t.toml", no_env);
    ASSERT_TRUE(r.errors.empty()) << all_errors(r);
    ASSERT_EQ(r.config->polling.allowed_networks.size(), 2U);
    EXPECT_EQ(r.config->polling.allowed_networks[0].to_string(), "192.168.1.0/24");
    EXPECT_EQ(r.config->polling.allowed_networks[1].to_string(), "::1/128");
    EXPECT_NE(summarize(*r.config).find("allowed_networks=192.168.1.0/24,::1/128\n"),
              std::string::npos);
}

TEST(AllowedNetworks, BadEntriesAreErrorsAtTheirPosition) {
    const auto r = parse_config(
        "[polling]\nallowed_networks = ['10.0.0.0/8', 'lan', 3, '192.168.1.1/16', "
        "'169.254.169.254', 'fe80::/64']\n",
        "t.toml", no_env);
    ASSERT_EQ(r.errors.size(), 5U) << all_errors(r);
    EXPECT_EQ(r.errors[0].column, 35U);
    EXPECT_EQ(r.errors[0].message,
              "polling.allowed_networks entry 'lan' is not an IPv4 or IPv6 network (address[/prefix])");
    EXPECT_EQ(r.errors[1].message, "polling.allowed_networks entries must be strings, got integer");
    EXPECT_NE(r.errors[2].message.find("did you mean 192.168.0.0/16?"), std::string::npos);
    EXPECT_NE(r.errors[3].message.find("lies in 169.254.0.0/16"), std::string::npos);
    EXPECT_NE(r.errors[4].message.find("lies in fe80::/10"), std::string::npos);
    EXPECT_EQ(parse_config("[polling]\nallowed_networks = '10.0.0.0/8'\n", "t.toml", no_env)
                  .errors.at(0)
                  .message,
              "polling.allowed_networks must be an array of networks such as "
              "\"192.168.0.0/16\", got string");
}

TEST_F(TempDir, TlsFilesNeedMqttsAndBothHalvesOfTheClientCertificate) {
    write("ca.pem", "x", kWorldReadable);
    write("client.pem", "x", kWorldReadable);
    write("client.key", "x", kOwnerOnly);
    auto r = parse("[mqtt]\nurl = 'mqtt://127.0.0.1'\nca_file = 'ca.pem'\n");
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].message, "mqtt.ca_file is set but mqtt.url is not mqtts:// (TLS is off)");

    r = parse("[mqtt]\nurl = 'mqtts://127.0.0.1'\ncert_file = 'client.pem'\n");
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_NE(r.errors[0].message.find("must be set together"), std::string::npos);

    r = parse("[mqtt]\nurl = 'mqtts://127.0.0.1'\nca_file = 'missing.pem'\n");
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_EQ(r.errors[0].message, "mqtt.ca_file: cannot read '" + (dir_ / "missing.pem").string() +
                                       "': No such file or directory");

    r = parse("[mqtt]\nurl = 'mqtts://127.0.0.1'\nca_file = 'ca.pem'\ncert_file = "
              "'client.pem'\nkey_file = 'client.key'\n");
    ASSERT_TRUE(r.errors.empty()) << all_errors(r);
    EXPECT_EQ(r.config->mqtt.ca_file, dir_ / "ca.pem");
    EXPECT_EQ(r.config->mqtt.cert_file, dir_ / "client.pem");
    EXPECT_EQ(r.config->mqtt.key_file, dir_ / "client.key");
}

TEST_F(TempDir, CredentialsKeyIsRawOrHex) {
    std::string raw(32, '\0');
    for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<char>(i * 7 + 1);
    raw.back() = '\n';  // a raw key may end in a newline byte; it must not be stripped
    write("raw.key", raw, kOwnerOnly);
    auto r = parse("[store]\ncredentials_key_file = 'raw.key'\n");
    ASSERT_TRUE(r.errors.empty()) << all_errors(r);
    ASSERT_TRUE(r.config->store.credentials_key);
    EXPECT_EQ((*r.config->store.credentials_key)[1], 8);
    EXPECT_EQ((*r.config->store.credentials_key)[31], '\n');

    write("hex.key", std::string(62, 'a') + "0F\n", kOwnerOnly);
    r = parse("[store]\ncredentials_key_file = 'hex.key'\n");
    ASSERT_TRUE(r.errors.empty()) << all_errors(r);
    EXPECT_EQ((*r.config->store.credentials_key)[0], 0xaa);
    EXPECT_EQ((*r.config->store.credentials_key)[31], 0x0f);
    EXPECT_NE(summarize(*r.config).find("credentials_key_file=" + (dir_ / "hex.key").string()),
              std::string::npos);

    for (const std::string& bad : {std::string("short"), std::string(64, 'g'), std::string(33, 'x')}) {
        write("bad.key", bad, kOwnerOnly);
        r = parse("[store]\ncredentials_key_file = 'bad.key'\n");
        ASSERT_EQ(r.errors.size(), 1U);
        EXPECT_NE(r.errors[0].message.find("must hold exactly 32 random bytes or 64 hex digits"),
                  std::string::npos);
        EXPECT_EQ(r.errors[0].message.find(bad), std::string::npos) << "key material echoed";
    }
    EXPECT_NE(summarize(AppConfig{}).find("credentials_key_file=(none: device passwords in clear)"),
              std::string::npos);
}

TEST_F(TempDir, SecretFilesReadableByOthersAreWarnedAbout) {
    write("mqtt.pw", "pw", kWorldReadable);
    write("dsn", "host=x password=y", kOwnerOnly);
    write("cred.key", std::string(64, 'a'), kOwnerOnly | Perm::others_read);
    auto r = parse(
        "[mqtt]\nusername = 'u'\npassword_file = 'mqtt.pw'\n[postgres]\ndsn_file = 'dsn'\n"
        "[store]\ncredentials_key_file = 'cred.key'\n");
    ASSERT_TRUE(r.errors.empty()) << all_errors(r);
    auto warnings = secret_permission_warnings(*r.config);
    ASSERT_EQ(warnings.size(), 2U);
    EXPECT_NE(warnings[0].find("mqtt.password_file '" + (dir_ / "mqtt.pw").string() +
                               "' is readable by all users (mode 0644)"),
              std::string::npos)
        << warnings[0];
    EXPECT_NE(warnings[1].find("store.credentials_key_file"), std::string::npos) << warnings[1];

    fs::permissions(dir_ / "mqtt.pw", kOwnerOnly);
    fs::permissions(dir_ / "cred.key", kOwnerOnly | Perm::group_read);  // our own group: fine
    EXPECT_TRUE(secret_permission_warnings(*r.config).empty());
}

TEST_F(TempDir, ConfigFileIsWarnedAboutOnlyWhenItHoldsADsnPassword) {
    const auto plain = write("plain.toml", "[postgres]\ndsn = 'postgresql:///intelergy'\n",
                             kWorldReadable);
    auto r = load_config(plain, no_env);
    ASSERT_TRUE(r.errors.empty()) << all_errors(r);
    EXPECT_TRUE(secret_permission_warnings(*r.config).empty());

    const auto secret = write("secret.toml", "[postgres]\ndsn = 'host=db password=hunter2'\n",
                              kWorldReadable);
    r = load_config(secret, no_env);
    ASSERT_TRUE(r.errors.empty()) << all_errors(r);
    const auto warnings = secret_permission_warnings(*r.config);
    ASSERT_EQ(warnings.size(), 1U);
    EXPECT_NE(warnings[0].find("holds a password in postgres.dsn"), std::string::npos);
    EXPECT_EQ(warnings[0].find("hunter2"), std::string::npos);

    fs::permissions(secret, kOwnerOnly);
    EXPECT_TRUE(secret_permission_warnings(*r.config).empty());
}

}  // namespace
