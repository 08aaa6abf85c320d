#include "support/test_env.hpp"

#include <cstdlib>
#include <pqxx/pqxx>
#include <random>

namespace intelergy::test {

namespace {
std::optional<std::string> env(const char* name) {
    const char* v = std::getenv(name);
    if (!v || !*v) return std::nullopt;
    return std::string(v);
}
}  // namespace

std::optional<std::string> mqtt_url() { return env("INTELERGY_TEST_MQTT_URL"); }
std::optional<std::string> pg_dsn() { return env("INTELERGY_TEST_PG_DSN"); }

std::string paho_uri(const std::string& url) {
    const auto pos = url.find("://");
    return "tcp://" + (pos == std::string::npos ? url : url.substr(pos + 3));
}

std::string random_token(std::size_t length) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::uniform_int_distribution<std::size_t> pick(0, sizeof(alphabet) - 2);
    std::string s;
    for (std::size_t i = 0; i < length; ++i) s += alphabet[pick(rng)];
    return s;
}

namespace {
// Replaces the database part of a URI DSN (postgresql://user@host:port/db?params).
std::string with_database(const std::string& dsn, const std::string& db) {
    const auto scheme = dsn.find("://");
    const auto slash = dsn.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    const auto query = dsn.find('?');
    const std::string head = slash == std::string::npos ? dsn : dsn.substr(0, slash);
    const std::string tail = query == std::string::npos ? "" : dsn.substr(query);
    return head + "/" + db + tail;
}
}  // namespace

TestDatabase::TestDatabase(const std::string& admin_dsn)
    : admin_dsn_(admin_dsn), name_("it_" + random_token(12)) {
    pqxx::connection c(admin_dsn_);
    pqxx::nontransaction tx(c);
    tx.exec("CREATE DATABASE " + name_);
    dsn_ = with_database(admin_dsn_, name_);
}

TestDatabase::~TestDatabase() {
    try {
        pqxx::connection c(admin_dsn_);
        pqxx::nontransaction tx(c);
        tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
    }
}

}  // namespace intelergy::test
