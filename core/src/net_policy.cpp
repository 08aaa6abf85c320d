#include "intelergy/core/net_policy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace intelergy {

namespace {

constexpr std::array<std::uint8_t, 12> kV4MappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

unsigned width(const IpAddress& a) { return a.v6 ? 128U : 32U; }

IpNetwork must_parse(std::string_view text) {
    auto n = parse_ip_network(text);
    return n ? *n : IpNetwork{};  // the literals below are valid; a typo fails the unit test
}

}  // namespace

IpAddress ip_from_v4(const std::uint8_t (&bytes)[4]) {
    IpAddress a;
    std::copy(std::begin(bytes), std::end(bytes), a.bytes.begin());
    return a;
}

IpAddress ip_from_v6(const std::uint8_t (&bytes)[16]) {
    IpAddress a;
    if (std::equal(kV4MappedPrefix.begin(), kV4MappedPrefix.end(), std::begin(bytes))) {
        std::copy(std::begin(bytes) + 12, std::end(bytes), a.bytes.begin());
        return a;
    }
    a.v6 = true;
    std::copy(std::begin(bytes), std::end(bytes), a.bytes.begin());
    return a;
}

std::optional<IpAddress> parse_ip_address(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
    }
    if (text.empty() || text.size() > 45) return std::nullopt;
    const std::string s(text);
    std::uint8_t v4[4]{};
    if (inet_pton(AF_INET, s.c_str(), v4) == 1) return ip_from_v4(v4);
    std::uint8_t v6[16]{};
    if (inet_pton(AF_INET6, s.c_str(), v6) == 1) return ip_from_v6(v6);
    return std::nullopt;
}

Result<IpNetwork> parse_ip_network(std::string_view text) {
    const auto slash = text.find('/');
    const auto addr_text = text.substr(0, slash);
    auto addr = parse_ip_address(addr_text);
    if (!addr) {
        return make_error(ErrorCode::Invalid, "is not an IPv4 or IPv6 network (address[/prefix])");
    }
    // A mapped address written as IPv6 (::ffff:10.0.0.0/104) is not worth supporting: say so.
    if (!addr->v6 && addr_text.find(':') != std::string_view::npos) {
        return make_error(ErrorCode::Invalid, "is IPv4-mapped; write it in IPv4 form");
    }
    IpNetwork net{*addr, width(*addr)};
    if (slash != std::string_view::npos) {
        const auto p = text.substr(slash + 1);
        if (p.empty() || p.size() > 3 ||
            !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            return make_error(ErrorCode::Invalid, "has a bad prefix length '" + std::string(p) + "'");
        }
        unsigned prefix = 0;
        for (char c : p) prefix = prefix * 10 + static_cast<unsigned>(c - '0');
        if (prefix > width(*addr)) {
            return make_error(ErrorCode::Invalid, "has a prefix length /" +
                                                      std::to_string(prefix) +
                                                      " longer than the address (/" +
                                                      std::to_string(width(*addr)) + ")");
        }
        net.prefix = prefix;
    }
    IpAddress masked = net.base;
    for (unsigned bit = net.prefix; bit < width(masked); ++bit) {
        masked.bytes[bit / 8] &= static_cast<std::uint8_t>(~(1U << (7 - bit % 8)));
    }
    if (!(masked == net.base)) {
        return make_error(ErrorCode::Invalid, "has host bits set (did you mean " +
                                                  IpNetwork{masked, net.prefix}.to_string() +
                                                  "?)");
    }
    return net;
}

bool IpNetwork::contains(const IpAddress& address) const {
    if (address.v6 != base.v6) return false;
    for (unsigned bit = 0; bit < prefix; ++bit) {
        const unsigned mask = 1U << (7 - bit % 8);
        if ((address.bytes[bit / 8] & mask) != (base.bytes[bit / 8] & mask)) return false;
    }
    return true;
}

std::string IpAddress::to_string() const {
    char buf[INET6_ADDRSTRLEN]{};
    inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
    return buf;
}

std::string IpNetwork::to_string() const {
    return base.to_string() + "/" + std::to_string(prefix);
}

std::vector<IpNetwork> default_allowed_networks() {
    std::vector<IpNetwork> out;
    for (std::string_view n : {"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12",
                               "192.168.0.0/16", "fc00::/7"}) {
        out.push_back(must_parse(n));
    }
    return out;
}

const std::vector<IpNetwork>& always_denied_networks() {
    static const std::vector<IpNetwork> denied = [] {
        std::vector<IpNetwork> out;
        for (std::string_view n :
             {"169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "0.0.0.0/8", "::/128"}) {
            out.push_back(must_parse(n));
        }
        return out;
    }();
    return denied;
}

Status NetworkPolicy::check(const IpAddress& address) const {
    for (const auto& net : always_denied_networks()) {
        if (net.contains(address)) {
            return make_error(ErrorCode::Invalid,
                              "address " + address.to_string() + " is never allowed (" +
                                  net.to_string() +
                                  " is link-local, cloud metadata or unspecified)");
        }
    }
    for (const auto& net : allowed_) {
        if (net.contains(address)) return {};
    }
    return make_error(ErrorCode::Invalid, "address " + address.to_string() +
                                              " is not in polling.allowed_networks");
}

std::string url_host(std::string_view url) {
    const auto sep = url.find("://");
    if (sep == std::string_view::npos) return {};
    auto rest = url.substr(sep + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        return close == std::string_view::npos ? std::string{}
                                               : std::string(rest.substr(1, close - 1));
    }
    return std::string(rest.substr(0, rest.find(':')));
}

}  // namespace intelergy
