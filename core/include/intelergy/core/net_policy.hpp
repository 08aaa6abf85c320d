#pragma once

// Which IP addresses the bridge may connect to when it talks to a plug (issue 6 part 7).
// Pure text and byte logic: used by config (parsing polling.allowed_networks), by the API
// (device/add and device/options refuse a literal address outside the list) and by the curl
// adapter (every address a hostname resolves to is checked right before connect()).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "intelergy/core/result.hpp"

namespace intelergy {

// An IPv4 or IPv6 address. IPv4 is kept as 4 bytes; an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) is normalised to its IPv4 form so it cannot dodge an IPv4 rule.
struct IpAddress {
    bool v6{false};
    std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4

    [[nodiscard]] std::string to_string() const;
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// A CIDR network such as 192.168.0.0/16 or fc00::/7. Host bits must be zero.
struct IpNetwork {
    IpAddress base;
    unsigned prefix{0};

    [[nodiscard]] bool contains(const IpAddress& address) const;
    [[nodiscard]] std::string to_string() const;  // "192.168.0.0/16"
    friend bool operator==(const IpNetwork&, const IpNetwork&) = default;
};

// Parses a literal address ("10.0.0.5", "::1", "[::1]"); nullopt when it is not one (for
// example a host name). Only the strict dotted-quad IPv4 form is accepted here.
std::optional<IpAddress> parse_ip_address(std::string_view text);

// Parses "a.b.c.d/n" or "v6/n"; an address without "/n" is a single host (/32 or /128).
Result<IpNetwork> parse_ip_network(std::string_view text);

// From a sockaddr's raw address bytes (4 for AF_INET, 16 for AF_INET6).
IpAddress ip_from_v4(const std::uint8_t (&bytes)[4]);
IpAddress ip_from_v6(const std::uint8_t (&bytes)[16]);

// The defaults of polling.allowed_networks: loopback and private ranges.
std::vector<IpNetwork> default_allowed_networks();

// Ranges that are refused whatever the configuration says: IPv4 and IPv6 link-local
// (169.254.0.0/16, fe80::/10, which hold the cloud metadata address 169.254.169.254), the AWS
// IPv6 metadata address fd00:ec2::254, and the unspecified addresses 0.0.0.0/8 and ::.
const std::vector<IpNetwork>& always_denied_networks();

// Allowed networks minus the always-denied ones.
class NetworkPolicy {
public:
    NetworkPolicy() : allowed_(default_allowed_networks()) {}
    explicit NetworkPolicy(std::vector<IpNetwork> allowed) : allowed_(std::move(allowed)) {}

    // Ok, or an Invalid error naming the address and why it is refused.
    [[nodiscard]] Status check(const IpAddress& address) const;
    [[nodiscard]] const std::vector<IpNetwork>& allowed() const { return allowed_; }

private:
    std::vector<IpNetwork> allowed_;
};

// The host part of an http(s) URL ("http://[::1]:80/x" → "::1"), or empty when there is none.
std::string url_host(std::string_view url);

}  // namespace intelergy
