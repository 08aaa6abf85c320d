#pragma once
// TCP_NODELAY for sockets a library opened without it.
//
// Paho MQTT C 1.3 (Debian 12) never sets TCP_NODELAY on its socket (upstream issue
// eclipse-paho/paho.mqtt.c#530, made a build option only in 2026). With Nagle's algorithm on,
// a small publish that follows one still unacknowledged waits for the broker's ACK, which the
// broker's delayed-ACK timer holds for up to 40 ms when it has nothing to send back: a 40 ms tail
// on every message at a steady rate (bench/RESULTS.md). Paho's C++ wrapper does not expose the
// socket, so these helpers find it by its peer port among this process's descriptors.
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace intelergy {

// This process's connected TCP sockets whose peer port is `port`.
inline std::vector<int> tcp_sockets_to_port(int port) {
    std::vector<int> out;
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) return out;
    const int own = ::dirfd(dir);
    while (const dirent* e = ::readdir(dir)) {
        char* end = nullptr;
        const long fd = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || fd == own) continue;
        struct stat st {};
        if (::fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
        int type = 0;
        socklen_t len = sizeof type;
        if (::getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
            type != SOCK_STREAM)
            continue;
        sockaddr_storage peer{};
        len = sizeof peer;
        if (::getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &len) != 0)
            continue;
        int peer_port = -1;
        if (peer.ss_family == AF_INET)
            peer_port = ntohs(reinterpret_cast<const sockaddr_in*>(&peer)->sin_port);
        else if (peer.ss_family == AF_INET6)
            peer_port = ntohs(reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_port);
        if (peer_port == port) out.push_back(static_cast<int>(fd));
    }
    ::closedir(dir);
    return out;
}

// Sets TCP_NODELAY on every connected TCP socket of this process whose peer port is `port`
// (harmless on any other such socket: libpq and libcurl set it on theirs anyway). Returns how
// many sockets now have it.
inline int disable_nagle_to_port(int port) {
    int n = 0;
    for (const int fd : tcp_sockets_to_port(port)) {
        const int one = 1;
        if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0) ++n;
    }
    return n;
}

// The port of a "tcp://host:port" / "ssl://[v6]:port" server URI; -1 when it has none.
inline int uri_port(std::string_view uri) {
    const auto colon = uri.rfind(':');
    if (colon == std::string_view::npos || uri.find("://") == colon) return -1;
    const std::string digits(uri.substr(colon + 1));
    char* end = nullptr;
    const long p = std::strtol(digits.c_str(), &end, 10);
    return (end != digits.c_str() && *end == '\0' && p > 0 && p < 65536) ? static_cast<int>(p) : -1;
}

}  // namespace intelergy
