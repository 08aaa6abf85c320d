#pragma once

#include <optional>
#include <string>

namespace intelergy::test {

// INTELERGY_TEST_MQTT_URL / INTELERGY_TEST_PG_DSN, set by scripts/test. Tests GTEST_SKIP()
// when they are missing.
std::optional<std::string> mqtt_url();
std::optional<std::string> pg_dsn();
// "tcp://127.0.0.1:1883" form for Paho.
std::string paho_uri(const std::string& mqtt_url);
// A random lower-case token for topics, client ids and database names.
std::string random_token(std::size_t length = 10);

// A database created for one test and dropped when the object dies.
class TestDatabase {
public:
    explicit TestDatabase(const std::string& admin_dsn);
    ~TestDatabase();
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;
    [[nodiscard]] const std::string& dsn() const { return dsn_; }
    [[nodiscard]] const std::string& name() const { return name_; }

private:
    std::string admin_dsn_;
    std::string name_;
    std::string dsn_;
};

}  // namespace intelergy::test
