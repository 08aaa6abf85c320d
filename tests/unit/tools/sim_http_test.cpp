// SPDX-License-Identifier: MIT
// Real loopback HTTP against an in-process Simulator, driven with an httplib client.
#include "intelergy/sim/auth.hpp"
#include "intelergy/sim/simulator.hpp"
#include "sim_test_util.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

namespace intelergy::sim {
namespace {

using test::constant_plug;
using test::load_payload;
using test::T0;

TEST(SimDigest, MatchesReferenceTestVector) {
    const auto v = load_payload("gen2_401_digest_challenge.json")["test_vector"];
    EXPECT_EQ(sha256_hex("admin:shellyplusplugs-a1b2c3d4e5f6:s3cret"),
              v["ha1 = sha256('admin:shellyplusplugs-a1b2c3d4e5f6:s3cret')"]);
    EXPECT_EQ(sha256_hex("GET:/rpc/Switch.GetStatus?id=0"),
              v["ha2 = sha256('GET:/rpc/Switch.GetStatus?id=0')"]);
    EXPECT_EQ(
        digest_response("admin", "shellyplusplugs-a1b2c3d4e5f6", "s3cret", "GET",
                        "/rpc/Switch.GetStatus?id=0", "666c1ea2", "00000001", "0a4f113b", "auth"),
        v["response = sha256(ha1:nonce:00000001:0a4f113b:auth:ha2)"]);
    const auto hdr = parse_auth_params(
        std::string(
            load_payload("gen2_401_digest_challenge.json")["http_retry_authorization_header"])
            .substr(7));
    EXPECT_EQ(hdr.at("response"), v["response = sha256(ha1:nonce:00000001:0a4f113b:auth:ha2)"]);
    EXPECT_EQ(hdr.at("algorithm"), "SHA-256");
    EXPECT_EQ(base64_decode(base64_encode("admin:pw")).value(), "admin:pw");
}

TEST(SimDigest, NoncesVerifyOnlyForTheirRealm) {
    NonceIssuer issuer(42);
    const auto n = issuer.issue("realm-a", 1718371234);
    EXPECT_TRUE(issuer.verify("realm-a", n));
    EXPECT_FALSE(issuer.verify("realm-b", n));
    EXPECT_FALSE(issuer.verify("realm-a", "666c1ea2"));
    EXPECT_FALSE(NonceIssuer(43).verify("realm-a", n));
}

class SimHttp : public ::testing::Test {
protected:
    void start(std::vector<PlugSpec> specs, int shared_port = -1) {
        SimOptions o;
        o.shared_port = shared_port;
        sim_ = std::make_unique<Simulator>(o, std::move(specs), clock_);
        sim_->start();
    }
    httplib::Client client(const std::string& name) {
        const auto url = sim_->plug_url(*sim_->find(name));
        const auto after_scheme = url.substr(7);
        const auto slash = after_scheme.find('/');
        const auto host_port = after_scheme.substr(0, slash);
        prefix_ = slash == std::string::npos ? "" : after_scheme.substr(slash);
        httplib::Client c("http://" + host_port);
        c.set_connection_timeout(2);
        c.set_read_timeout(2);
        return c;
    }
    httplib::Client control() { return httplib::Client("127.0.0.1", sim_->control_port()); }
    ManualClock clock_{T0};
    std::unique_ptr<Simulator> sim_;
    std::string prefix_;
};

std::string authorization_for(const httplib::Result& challenge, const std::string& password,
                              const std::string& uri) {
    const auto www = challenge->get_header_value("WWW-Authenticate");
    auto p = parse_auth_params(std::string_view(www).substr(7));
    const auto resp = digest_response("admin", p["realm"], password, "GET", uri, p["nonce"],
                                      "00000001", "abcdef01", "auth");
    return "Digest username=\"admin\", realm=\"" + p["realm"] + "\", nonce=\"" + p["nonce"] +
           "\", uri=\"" + uri + "\", algorithm=SHA-256, qop=auth, nc=00000001, " +
           "cnonce=\"abcdef01\", response=\"" + resp + "\"";
}

TEST_F(SimHttp, Gen2DigestAuthAcceptsRightAndRejectsWrongPassword) {
    auto s = constant_plug(PlugKind::GEN2_PLUS_PLUG_S, 50.0, "g2");
    s.password = "s3cret";
    start({s});
    auto c = client("g2");
    auto info = c.Get("/shelly");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->status, 200);
    EXPECT_TRUE(Json::parse(info->body)["auth_en"].get<bool>());
    EXPECT_EQ(c.Get("/rpc/Shelly.GetDeviceInfo")->status, 200);  // exempt

    const std::string uri = "/rpc/Switch.GetStatus?id=0";
    auto challenge = c.Get(uri);
    ASSERT_TRUE(challenge);
    ASSERT_EQ(challenge->status, 401);
    EXPECT_TRUE(challenge->body.empty());
    const auto www = challenge->get_header_value("WWW-Authenticate");
    EXPECT_TRUE(www.starts_with("Digest qop=\"auth\", realm=\"shellyplusplugs-"));
    EXPECT_NE(www.find("algorithm=SHA-256"), std::string::npos);

    auto ok = c.Get(uri, {{"Authorization", authorization_for(challenge, "s3cret", uri)}});
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    EXPECT_DOUBLE_EQ(Json::parse(ok->body)["apower"].get<double>(), 50.0);

    auto bad = c.Get(uri, {{"Authorization", authorization_for(challenge, "wrong", uri)}});
    EXPECT_EQ(bad->status, 401);
    // A nonce we never issued is rejected even with a correct hash.
    const auto forged = "Digest username=\"admin\", realm=\"" + sim_->find("g2")->id() +
                        "\", nonce=\"666c1ea2\", uri=\"" + uri +
                        "\", algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"x\", response=\"" +
                        digest_response("admin", sim_->find("g2")->id(), "s3cret", "GET", uri,
                                        "666c1ea2", "00000001", "x", "auth") +
                        "\"";
    EXPECT_EQ(c.Get(uri, {{"Authorization", forged}})->status, 401);

    // httplib's own SHA-256 digest implementation interoperates.
    c.set_digest_auth("admin", "s3cret");
    auto lib = c.Get("/rpc/Shelly.GetStatus");
    ASSERT_TRUE(lib);
    EXPECT_EQ(lib->status, 200);
}

TEST_F(SimHttp, Gen1BasicAuthProtectsEverythingButShelly) {
    auto s = constant_plug(PlugKind::GEN1_PLUG_S, 50.0, "g1");
    s.password = "pw";
    start({s});
    auto c = client("g1");
    EXPECT_EQ(c.Get("/shelly")->status, 200);
    EXPECT_EQ(c.Get("/status")->status, 401);
    c.set_basic_auth("admin", "nope");
    EXPECT_EQ(c.Get("/status")->status, 401);
    c.set_basic_auth("admin", "pw");
    auto st = c.Get("/status");
    ASSERT_EQ(st->status, 200);
    EXPECT_TRUE(Json::parse(st->body)["relays"][0]["ison"].get<bool>());
    auto off = c.Get("/relay/0?turn=off");
    EXPECT_FALSE(Json::parse(off->body)["ison"].get<bool>());
    EXPECT_EQ(Json::parse(off->body)["source"], "http");
}

TEST_F(SimHttp, Gen2RpcFormsAndErrors) {
    start({constant_plug(PlugKind::GEN3_PLUG_S, 80.0, "g3")});
    auto c = client("g3");
    auto set = c.Get("/rpc/Switch.Set?id=0&on=false");
    EXPECT_EQ(Json::parse(set->body), Json::parse(R"({"was_on":true})"));
    auto post = c.Post("/rpc/Switch.Toggle", R"({"id":0})", "application/json");
    EXPECT_EQ(Json::parse(post->body), Json::parse(R"({"was_on":false})"));
    auto frame =
        c.Post("/rpc", R"({"id":9,"src":"t","method":"Switch.GetStatus","params":{"id":0}})",
               "application/json");
    const auto f = Json::parse(frame->body);
    EXPECT_EQ(f["id"], 9);
    EXPECT_EQ(f["dst"], "t");
    EXPECT_EQ(f["src"], sim_->find("g3")->id());
    EXPECT_TRUE(f["result"]["output"].get<bool>());
    auto err = c.Post("/rpc", R"({"id":1,"src":"t","method":"Foo.Bar"})", "application/json");
    EXPECT_EQ(Json::parse(err->body)["error"]["code"], 404);
    auto missing = c.Get("/rpc/Foo.Bar");
    EXPECT_EQ(missing->status, 404);
    EXPECT_EQ(Json::parse(missing->body)["code"], 404);
    auto reset = c.Get("/rpc/Switch.ResetCounters?id=0&type=[\"aenergy\"]");
    EXPECT_EQ(reset->status, 200);
}

TEST_F(SimHttp, FaultsOverControlApi) {
    start({constant_plug(PlugKind::GEN2_PLUS_PLUG_S, 60.0, "a"),
           constant_plug(PlugKind::GEN1_PLUG_S, 60.0, "b")});
    auto ctl = control();
    auto c = client("a");
    ASSERT_EQ(c.Get("/shelly")->status, 200);

    EXPECT_EQ(ctl.Get("/sim/fault?plug=a&type=garbage&count=1")->status, 200);
    auto g = c.Get("/rpc/Shelly.GetStatus");
    EXPECT_TRUE(Json::parse(g->body, nullptr, false).is_discarded());
    EXPECT_FALSE(Json::parse(c.Get("/shelly")->body, nullptr, false).is_discarded());

    ctl.Get("/sim/fault?plug=a&type=truncated&count=1");
    EXPECT_FALSE(c.Get("/rpc/Shelly.GetStatus"));  // body shorter than Content-Length

    ctl.Get("/sim/fault?plug=a&type=huge&count=1&bytes=100000");
    EXPECT_GT(c.Get("/shelly")->body.size(), 100000U);

    ctl.Get("/sim/fault?plug=a&type=offline");
    httplib::Client fresh = client("a");
    EXPECT_FALSE(fresh.Get("/shelly"));  // connection refused
    ctl.Get("/sim/fault?plug=a&type=online");
    EXPECT_EQ(client("a").Get("/shelly")->status, 200);

    ctl.Get("/sim/fault?plug=a&type=unsynced");
    auto st = Json::parse(client("a").Get("/rpc/Shelly.GetStatus")->body);
    EXPECT_TRUE(st["sys"]["unixtime"].is_null());
    EXPECT_FALSE(st["switch:0"]["aenergy"].contains("by_minute"));

    clock_.advance_s(3600.0);
    ctl.Get("/sim/fault?plug=b&type=reboot");
    ctl.Get("/sim/fault?plug=a&type=reset_counters");
    auto truth = Json::parse(ctl.Get("/sim/truth")->body);
    EXPECT_DOUBLE_EQ(truth["plugs"]["a"][0].get<double>(), 60.0);
    EXPECT_DOUBLE_EQ(truth["plugs"]["b"][0].get<double>(), 60.0);
    auto plugs = Json::parse(ctl.Get("/sim/plugs")->body)["plugs"];
    ASSERT_EQ(plugs.size(), 2U);
    EXPECT_DOUBLE_EQ(plugs[0]["channels"][0]["counter_wh"].get<double>(), 0.0);
    EXPECT_EQ(plugs[1]["channels"][0]["reported_total"].get<int>(), 0);
    EXPECT_EQ(plugs[1]["boot_count"], 1);

    EXPECT_EQ(ctl.Get("/sim/power?plug=a&watts=250")->status, 200);
    EXPECT_DOUBLE_EQ(sim_->find("a")->reading(0).apower, 250.0);
    EXPECT_EQ(ctl.Get("/sim/relay?plug=a&on=false")->status, 200);
    EXPECT_FALSE(sim_->find("a")->reading(0).output);
    EXPECT_EQ(ctl.Get("/sim/fault?plug=zzz&type=reboot")->status, 404);
    EXPECT_EQ(ctl.Get("/sim/fault?plug=a&type=melt")->status, 400);
}

TEST_F(SimHttp, SharedPortServesEveryPlugUnderItsName) {
    start({constant_plug(PlugKind::GEN2_PLUS_PLUG_S, 60.0, "x1"),
           constant_plug(PlugKind::GEN1_PLUG_S, 60.0, "x2")},
          0);
    const auto u1 = sim_->plug_url(*sim_->find("x1"));
    const auto u2 = sim_->plug_url(*sim_->find("x2"));
    EXPECT_TRUE(u1.ends_with("/x1"));
    EXPECT_EQ(u1.substr(0, u1.size() - 3), u2.substr(0, u2.size() - 3));  // same port
    auto c = client("x1");
    auto r1 = c.Get(prefix_ + "/rpc/Shelly.GetDeviceInfo");
    ASSERT_TRUE(r1);
    EXPECT_EQ(Json::parse(r1->body)["gen"], 2);
    auto c2 = client("x2");
    EXPECT_FALSE(Json::parse(c2.Get(prefix_ + "/shelly")->body).contains("gen"));
    EXPECT_EQ(c2.Get("/nobody/shelly")->status, 404);
    control().Get("/sim/fault?plug=x1&type=offline");
    EXPECT_FALSE(client("x1").Get(prefix_ + "/shelly"));
}

TEST_F(SimHttp, DigestWorksBehindSharedPortPrefix) {
    auto s = constant_plug(PlugKind::GEN4_STRIP, 60.0, "s1");
    s.password = "pw";
    start({s}, 0);
    auto c = client("s1");
    c.set_digest_auth("admin", "pw");
    auto r = c.Get(prefix_ + "/rpc/Switch.GetStatus?id=3");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(Json::parse(r->body)["id"], 3);
}

}  // namespace
}  // namespace intelergy::sim
