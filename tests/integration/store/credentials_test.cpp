// Device passwords at rest in real PostgreSQL (issue 6 part 7): a dump shows only ciphertext,
// older plain values still work and are encrypted on the next write, and a wrong or missing key
// is a per-device error that never overwrites what is stored.
#include "store_fixture.hpp"

namespace intelergy::test {
namespace {

using store::CredentialCipher;

std::shared_ptr<const CredentialCipher> cipher_of(std::uint8_t seed) {
    CredentialCipher::Key k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(seed * 31 + i);
    return std::make_shared<const CredentialCipher>(k);
}

class Credentials : public StoreFixture {
protected:
    void SetUp() override {
        StoreFixture::SetUp();
        if (IsSkipped()) return;
        home("UTC");
    }

    store::DeviceRow row(const std::string& name, const std::string& password) {
        store::DeviceRow d;
        d.id = "shelly-" + name;
        d.user = "u", d.profile = "home", d.room = "r", d.name = name;
        d.mac = "mac-" + name;
        d.model = "SNPL-00112EU";
        d.url = "http://192.168.1.40";
        d.password = password;
        return d;
    }

    // What a database dump shows.
    std::string raw_password(const std::string& id) {
        pqxx::connection c(db_->dsn());
        pqxx::nontransaction tx(c);
        return tx.exec_params1("SELECT password FROM devices WHERE id = $1", id)[0].as<std::string>();
    }

    store::DeviceRow only_device(store::PgStore& s) {
        auto rows = s.list_devices();
        EXPECT_TRUE(rows) << rows.error().describe();
        EXPECT_EQ(rows->size(), 1U);
        return rows && !rows->empty() ? rows->front() : store::DeviceRow{};
    }
};

TEST_F(Credentials, DumpShowsOnlyCiphertextAndTheStoreReadsThePassword) {
    store::PgStore s(db_->dsn(), cipher_of(1));
    const auto added = s.add_device(row("kettle", "Kettle-Secret-42"));
    ASSERT_TRUE(added) << added.error().describe();
    EXPECT_EQ(added->password, "Kettle-Secret-42");
    EXPECT_TRUE(added->credentials_error.empty());

    const auto raw = raw_password("shelly-kettle");
    EXPECT_TRUE(raw.starts_with("enc:v1:")) << raw;
    EXPECT_EQ(raw.find("Kettle-Secret"), std::string::npos);

    EXPECT_EQ(only_device(s).password, "Kettle-Secret-42");
    const auto by_mac = s.find_device_by_mac("mac-kettle");
    ASSERT_TRUE(by_mac && *by_mac);
    EXPECT_EQ((*by_mac)->password, "Kettle-Secret-42");
}

TEST_F(Credentials, PlainValuesFromBeforeTheKeyAreReadAndEncryptedOnTheNextWrite) {
    {
        store::PgStore plain(db_->dsn());  // no key: stored as given
        ASSERT_TRUE(plain.add_device(row("radio", "Radio-Secret-7")));
    }
    EXPECT_EQ(raw_password("shelly-radio"), "Radio-Secret-7");

    store::PgStore s(db_->dsn(), cipher_of(1));
    auto d = only_device(s);
    EXPECT_EQ(d.password, "Radio-Secret-7");
    EXPECT_TRUE(d.credentials_error.empty());

    d.name = "radio2";  // any write
    ASSERT_TRUE(s.update_device(d));
    const auto raw = raw_password("shelly-radio");
    EXPECT_TRUE(raw.starts_with("enc:v1:")) << raw;
    EXPECT_EQ(only_device(s).password, "Radio-Secret-7");
}

TEST_F(Credentials, WrongOrMissingKeyIsAPerDeviceErrorAndKeepsTheStoredValue) {
    {
        store::PgStore s(db_->dsn(), cipher_of(1));
        ASSERT_TRUE(s.add_device(row("lamp", "Lamp-Secret-9")));
    }
    const auto sealed = raw_password("shelly-lamp");

    store::PgStore wrong(db_->dsn(), cipher_of(2));
    auto d = only_device(wrong);
    EXPECT_EQ(d.password, "");
    EXPECT_NE(d.credentials_error.find("wrong key"), std::string::npos) << d.credentials_error;

    // A rename with the unreadable password must not wipe or replace the stored value.
    d.name = "lamp2";
    const auto renamed = wrong.update_device(d);
    ASSERT_TRUE(renamed) << renamed.error().describe();
    EXPECT_EQ(renamed->name, "lamp2");
    EXPECT_EQ(raw_password("shelly-lamp"), sealed);

    store::PgStore none(db_->dsn());
    const auto n = only_device(none);
    EXPECT_EQ(n.password, "");
    EXPECT_NE(n.credentials_error.find("store.credentials_key_file is not set"), std::string::npos);

    // The right key still reads it; a new password (error cleared) replaces it.
    store::PgStore right(db_->dsn(), cipher_of(1));
    EXPECT_EQ(only_device(right).password, "Lamp-Secret-9");
    d.credentials_error.clear();
    d.password = "Lamp-New-1";
    ASSERT_TRUE(wrong.update_device(d));
    EXPECT_EQ(only_device(wrong).password, "Lamp-New-1");
    EXPECT_NE(only_device(right).credentials_error, "");
}

}  // namespace
}  // namespace intelergy::test
