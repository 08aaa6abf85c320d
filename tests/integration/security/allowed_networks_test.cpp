// device/add and device/options refuse plug URLs outside polling.allowed_networks: a literal
// address with a clear error before anything is contacted, a host name when it resolves
// outside (the HTTP client refuses to connect). Nothing is written either way.
#include "integration/bridge/bridge_fixture.hpp"

namespace intelergy::test {
namespace {

class AllowedNetworks : public BridgeFixture {
protected:
    void configure(config::AppConfig& c) override {
        // Loopback is deliberately not allowed, so localhost must be refused after DNS.
        c.polling.allowed_networks = {*parse_ip_network("192.168.0.0/16")};
        c.polling.timeout = std::chrono::milliseconds(800);
    }
    void SetUp() override {
        BridgeFixture::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        ASSERT_EQ(request("user/add", {{"name", "alice"}})["status"], "ok");
        ASSERT_EQ(request("profile/add", {{"user", "alice"}, {"name", "home"}, {"timezone", "UTC"}})
                      ["status"], "ok");
        ASSERT_EQ(request("room/add", {{"room", "alice/home/kitchen"}})["status"], "ok");
    }
    Json add(const std::string& url) {
        return request("device/add", {{"room", "alice/home/kitchen"}, {"name", "x"}, {"url", url}});
    }
};

TEST_F(AllowedNetworks, RefusedUrlsGetAClearErrorAndWriteNothing) {
    const auto before = snapshot();

    auto r = add("http://169.254.169.254/latest/meta-data");
    EXPECT_EQ(r["status"], "error");
    EXPECT_EQ(r["error"], "field 'url' is refused: address 169.254.169.254 is never allowed "
                          "(169.254.0.0/16 is link-local, cloud metadata or unspecified)");

    r = add("http://[fd00:ec2::254]");
    EXPECT_EQ(r["status"], "error");
    EXPECT_NE(r["error"].get<std::string>().find("is never allowed"), std::string::npos);

    r = add("http://8.8.8.8");
    EXPECT_EQ(r["status"], "error");
    EXPECT_EQ(r["error"],
              "field 'url' is refused: address 8.8.8.8 is not in polling.allowed_networks");

    // A host name passes the API check and is refused by address when the probe connects.
    r = add("http://localhost:9");
    EXPECT_EQ(r["status"], "error");
    const auto error = r["error"].get<std::string>();
    EXPECT_NE(error.find("refused to connect to localhost: address "), std::string::npos) << error;
    EXPECT_NE(error.find("is not in polling.allowed_networks"), std::string::npos) << error;

    EXPECT_EQ(snapshot(), before);
}

}  // namespace
}  // namespace intelergy::test
