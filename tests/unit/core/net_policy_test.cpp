#include <intelergy/core/net_policy.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace intelergy;

namespace {

IpAddress ip(const char* text) {
    auto a = parse_ip_address(text);
    EXPECT_TRUE(a) << text;
    return a.value_or(IpAddress{});
}

}  // namespace

TEST(NetPolicy, ParsesAddressesAndNormalisesMappedIpv4) {
    EXPECT_FALSE(ip("10.1.2.3").v6);
    EXPECT_EQ(ip("10.1.2.3").to_string(), "10.1.2.3");
    EXPECT_TRUE(ip("::1").v6);
    EXPECT_EQ(ip("[fe80::1]").to_string(), "fe80::1");
    // ::ffff:169.254.169.254 is the metadata address in disguise.
    EXPECT_EQ(ip("::ffff:169.254.169.254"), ip("169.254.169.254"));
    EXPECT_FALSE(parse_ip_address("plug.local"));
    EXPECT_FALSE(parse_ip_address("2130706433"));  // numeric forms are host names here
    EXPECT_FALSE(parse_ip_address("10.1"));
    EXPECT_FALSE(parse_ip_address(""));
}

TEST(NetPolicy, ParsesNetworksAndRejectsBadOnes) {
    auto n = parse_ip_network("192.168.0.0/16");
    ASSERT_TRUE(n);
    EXPECT_TRUE(n->contains(ip("192.168.255.1")));
    EXPECT_FALSE(n->contains(ip("192.169.0.1")));
    EXPECT_FALSE(n->contains(ip("::1")));
    auto host = parse_ip_network("10.0.0.7");
    ASSERT_TRUE(host);
    EXPECT_EQ(host->prefix, 32U);
    auto v6 = parse_ip_network("fc00::/7");
    ASSERT_TRUE(v6);
    EXPECT_TRUE(v6->contains(ip("fd12:3456::1")));
    EXPECT_FALSE(v6->contains(ip("fe80::1")));

    const auto bits = parse_ip_network("192.168.1.1/16");
    ASSERT_FALSE(bits);
    EXPECT_NE(bits.error().message.find("did you mean 192.168.0.0/16"), std::string::npos);
    EXPECT_FALSE(parse_ip_network("10.0.0.0/33"));
    EXPECT_FALSE(parse_ip_network("10.0.0.0/"));
    EXPECT_FALSE(parse_ip_network("10.0.0.0/x"));
    EXPECT_FALSE(parse_ip_network("home.lan/24"));
    EXPECT_FALSE(parse_ip_network("::ffff:10.0.0.0/104"));
}

TEST(NetPolicy, DefaultsAllowLoopbackAndPrivateOnly) {
    const NetworkPolicy policy;
    for (const char* ok : {"127.0.0.1", "::1", "10.0.0.5", "172.31.255.254", "192.168.1.40",
                           "fd12::5", "::ffff:192.168.1.40"}) {
        EXPECT_TRUE(policy.check(ip(ok))) << ok;
    }
    for (const char* bad : {"8.8.8.8", "172.32.0.1", "2001:db8::1", "100.64.0.1"}) {
        const auto st = policy.check(ip(bad));
        ASSERT_FALSE(st) << bad;
        EXPECT_NE(st.error().message.find("not in polling.allowed_networks"), std::string::npos);
    }
}

TEST(NetPolicy, LinkLocalAndMetadataAreRefusedEvenWhenConfigured) {
    std::vector<IpNetwork> everything;
    everything.push_back(*parse_ip_network("0.0.0.0/0"));
    everything.push_back(*parse_ip_network("::/0"));
    const NetworkPolicy policy(everything);
    EXPECT_TRUE(policy.check(ip("8.8.8.8")));
    for (const char* bad : {"169.254.169.254", "169.254.1.1", "fe80::1", "fd00:ec2::254",
                            "::ffff:169.254.169.254", "0.0.0.0", "::"}) {
        const auto st = policy.check(ip(bad));
        ASSERT_FALSE(st) << bad;
        EXPECT_NE(st.error().message.find("never allowed"), std::string::npos) << bad;
    }
    // fd00:ec2::254 alone is denied, not its whole ULA neighbourhood.
    EXPECT_TRUE(policy.check(ip("fd00:ec2::253")));
}

TEST(NetPolicy, UrlHost) {
    EXPECT_EQ(url_host("http://192.168.1.40"), "192.168.1.40");
    EXPECT_EQ(url_host("http://192.168.1.40:8080/x"), "192.168.1.40");
    EXPECT_EQ(url_host("https://[fe80::1]:80/"), "fe80::1");
    EXPECT_EQ(url_host("http://plug.lan?x"), "plug.lan");
    EXPECT_EQ(url_host("no-scheme"), "");
}
