#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>
#include <set>
#include <pqxx/pqxx>
#include <thread>

#include "intelergy/bridge/bridge.hpp"
#include "intelergy/bridge/paho_mqtt_client.hpp"
#include "intelergy/drivers/curl_http_client.hpp"
#include "intelergy/store/pg_energy_history.hpp"
#include "intelergy/store/pg_store.hpp"
#include "intelergy/store/reading_writer.hpp"
#include "support/mqtt_probe.hpp"
#include "support/test_env.hpp"

namespace intelergy::test {

using Json = nlohmann::json;

// Runs a whole in-process bridge (real Paho client, real PostgreSQL) on its own base topic and
// database, with a probe client subscribed to everything under that base topic.
class BridgeFixture : public ::testing::Test {
protected:
    void SetUp() override {
        const auto url = mqtt_url();
        const auto dsn = pg_dsn();
        if (!url || !dsn) GTEST_SKIP() << "INTELERGY_TEST_MQTT_URL/INTELERGY_TEST_PG_DSN unset";
        // INTELERGY_TEST_LOG=debug (or trace) shows what the in-process bridge did.
        if (const char* level = std::getenv("INTELERGY_TEST_LOG"))
            spdlog::set_level(spdlog::level::from_str(level));
        db_ = std::make_unique<TestDatabase>(*dsn);
        base_ = "it" + random_token(8);
        config_.mqtt.base_topic = base_;
        config_.mqtt.client_id = base_ + "-bridge";
        const auto hostport = url->substr(url->find("://") + 3);
        config_.mqtt.url.host = hostport.substr(0, hostport.rfind(':'));
        config_.mqtt.url.port =
            static_cast<std::uint16_t>(std::stoi(hostport.substr(hostport.rfind(':') + 1)));
        config_.postgres.dsn = db_->dsn();
        configure(config_);
        {
            store::PgStore s(db_->dsn());
            ASSERT_TRUE(s.migrate());
        }
        probe_ = std::make_unique<MqttProbe>(*url, base_ + "-probe");
        probe_->subscribe(base_ + "/#");

        start_bridge();
    }

    // (Re)creates the in-process bridge on the same database and topics.
    void start_bridge() {
        bridge::PahoOptions o;
        o.server_uri = config_.mqtt.url.server_uri();
        o.client_id = config_.mqtt.client_id;
        o.will = MqttMessage{base_ + "/bridge/state", R"({"state":"offline"})", 1, true};
        mqtt_ = std::make_unique<bridge::PahoMqttClient>(o);
        const auto db_dsn = db_->dsn();
        drivers::CurlHttpClientOptions http_options;  // as `intelergy run` sets it
        http_options.allowed_networks = NetworkPolicy(config_.polling.allowed_networks);
        http_ = std::make_unique<drivers::CurlHttpClient>(http_options);
        writer_ = std::make_unique<store::ReadingWriter>(db_->dsn(), clock_);
        bridge_ = std::make_unique<bridge::Bridge>(
            config_, *mqtt_, *http_, clock_,
            [db_dsn] { return std::make_unique<store::PgStore>(db_dsn); },
            [this](const Reading& r, const std::optional<store::EnergyBookRow>& b) {
                writer_->submit(r, b);
            },
            [db_dsn] { return std::make_unique<store::PgEnergyHistory>(db_dsn); });
        ASSERT_TRUE(bridge_->start());
        mqtt_->start();
        const auto mark = probe_->count();
        loop_ = std::thread([this] { bridge_->run(); });
        ASSERT_TRUE(probe_->wait_for(base_ + "/bridge/state", std::chrono::seconds(10),
                                     [](const MqttMessage& m) {
                                         return m.payload.find("online") != std::string::npos;
                                     },
                                     mark));
    }

    void stop_bridge() {
        if (bridge_) bridge_->stop();
        if (loop_.joinable()) loop_.join();
        http_.reset();
        if (writer_) writer_->stop();
        if (mqtt_) mqtt_->stop(MqttMessage{base_ + "/bridge/state", R"({"state":"offline"})", 1, true},
                               std::chrono::seconds(2));
        bridge_.reset();
        writer_.reset();
        mqtt_.reset();
    }

    void TearDown() override {
        stop_bridge();
        // Clear what this test left retained on the shared broker.
        if (probe_) {
            std::set<std::string> topics;
            for (const auto& m : probe_->messages()) topics.insert(m.topic);
            for (const auto& t : topics) probe_->publish(t, "", 1, true);
        }
        probe_.reset();
        db_.reset();
    }

    // Lets a test suite adjust the bridge's config before it starts.
    virtual void configure(config::AppConfig& /*config*/) {}

    Json request(const std::string& path, const Json& payload) {
        return request_raw(path, payload.dump());
    }

    Json request_raw(const std::string& path, const std::string& payload,
                     std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
        const auto m = probe_->request(base_, path, payload, timeout);
        if (!m) {
            ADD_FAILURE() << "no response to " << path;
            return Json::object();
        }
        return Json::parse(m->payload);
    }

    // Every row of every hierarchy table, to prove a bad request changed nothing.
    std::string snapshot() {
        pqxx::connection c(db_->dsn());
        pqxx::read_transaction tx(c);
        std::string out;
        for (const char* t : {"users", "profiles", "rooms", "devices", "energy_books"}) {
            for (const auto& row : tx.exec(std::string("SELECT * FROM ") + t + " ORDER BY 1")) {
                for (const auto& f : row) out += (f.is_null() ? "NULL" : f.c_str()) + std::string("|");
                out += "\n";
            }
        }
        return out;
    }

    config::AppConfig config_;
    SystemClock clock_;
    std::unique_ptr<TestDatabase> db_;
    std::string base_;
    std::unique_ptr<MqttProbe> probe_;
    std::unique_ptr<bridge::PahoMqttClient> mqtt_;
    std::unique_ptr<drivers::CurlHttpClient> http_;
    std::unique_ptr<store::ReadingWriter> writer_;
    std::unique_ptr<bridge::Bridge> bridge_;
    std::thread loop_;
};

}  // namespace intelergy::test
