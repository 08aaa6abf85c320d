#include "rules.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

namespace intelergy::config::detail {
namespace {

Error invalid(std::string message) { return make_error(ErrorCode::Config, std::move(message)); }

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool has_space_or_control(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](unsigned char c) {
        return std::isspace(c) != 0 || std::iscntrl(c) != 0;
    });
}

Result<std::uint16_t> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5 ||
        !std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; })) {
        return invalid("has a bad port '" + std::string(text) + "' (expected 1..65535)");
    }
    unsigned long value = 0;
    for (char c : text) {
        value = value * 10 + static_cast<unsigned long>(c - '0');
    }
    if (value < 1 || value > 65535) {
        return invalid("has a bad port '" + std::string(text) + "' (expected 1..65535)");
    }
    return static_cast<std::uint16_t>(value);
}

// Splits "host", "host:port", "[v6]" or "[v6]:port". Without a port, `default_port` is used, or
// it is an error when there is none.
Result<HostPort> split_host_port(std::string_view text, std::optional<std::uint16_t> default_port) {
    HostPort out;
    std::string_view port_text;
    bool has_port = false;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            return invalid("has an unterminated '[' in the host");
        }
        out.host = std::string(text.substr(1, close - 1));
        if (out.host.find(':') == std::string::npos) {
            return invalid("has brackets around a host that is not an IPv6 address");
        }
        const auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return invalid("has unexpected text '" + std::string(rest) + "' after the host");
            }
            port_text = rest.substr(1);
            has_port = true;
        }
    } else {
        const auto colon = text.rfind(':');
        if (colon != std::string_view::npos) {
            if (text.substr(0, colon).find(':') != std::string_view::npos) {
                return invalid("has an IPv6 address without brackets (write [::1]:port)");
            }
            port_text = text.substr(colon + 1);
            has_port = true;
            out.host = std::string(text.substr(0, colon));
        } else {
            out.host = std::string(text);
        }
    }
    if (out.host.empty()) {
        return invalid("has no host");
    }
    if (has_space_or_control(out.host) || out.host.find_first_of("[]") != std::string::npos) {
        return invalid("has an invalid host '" + out.host + "'");
    }
    if (has_port) {
        auto port = parse_port(port_text);
        if (!port) {
            return port.error();
        }
        out.port = *port;
    } else if (default_port) {
        out.port = *default_port;
    } else {
        return invalid("has no port (expected host:port, e.g. 127.0.0.1:9469 or [::1]:9469)");
    }
    return out;
}

struct Span {
    std::size_t begin;
    std::size_t end;
};

std::string replace_spans(std::string_view text, const std::vector<Span>& spans) {
    std::string out;
    std::size_t pos = 0;
    for (const auto& span : spans) {
        out.append(text.substr(pos, span.begin - pos));
        out.append("***");
        pos = span.end;
    }
    out.append(text.substr(pos));
    return out;
}

// libpq keyword/value form: `host=db password='it''s' dbname=x`, values optionally single-quoted
// with backslash escapes, spaces allowed around '='.
std::string redact_keyword_dsn(std::string_view dsn) {
    std::vector<Span> spans;
    std::size_t i = 0;
    const auto skip_space = [&] {
        while (i < dsn.size() && std::isspace(static_cast<unsigned char>(dsn[i])) != 0) {
            ++i;
        }
    };
    while (true) {
        skip_space();
        if (i >= dsn.size()) {
            break;
        }
        const std::size_t key_begin = i;
        while (i < dsn.size() && dsn[i] != '=' &&
               std::isspace(static_cast<unsigned char>(dsn[i])) == 0) {
            ++i;
        }
        const auto keyword = lower(dsn.substr(key_begin, i - key_begin));
        skip_space();
        if (i >= dsn.size() || dsn[i] != '=') {
            break;  // malformed; libpq rejects it too
        }
        ++i;
        skip_space();
        const std::size_t value_begin = i;
        if (i < dsn.size() && dsn[i] == '\'') {
            ++i;
            while (i < dsn.size() && dsn[i] != '\'') {
                i += (dsn[i] == '\\' && i + 1 < dsn.size()) ? std::size_t{2} : std::size_t{1};
            }
            i = std::min(i + 1, dsn.size());
        } else {
            while (i < dsn.size() && std::isspace(static_cast<unsigned char>(dsn[i])) == 0) {
                ++i;
            }
        }
        if (keyword == "password") {
            spans.push_back({value_begin, i});
        }
    }
    return replace_spans(dsn, spans);
}

// URI form. The user-info password runs from the first ':' after "://" to the last '@'; taking
// the last '@' over-redacts odd URIs rather than leaking a password that contains '@' or '/'.
std::string redact_uri_dsn(std::string_view dsn, std::size_t authority_begin) {
    std::vector<Span> spans;
    const auto query = dsn.find('?', authority_begin);
    if (query != std::string_view::npos) {
        std::size_t pos = query + 1;
        while (pos <= dsn.size()) {
            auto end = dsn.find_first_of("&#", pos);
            if (end == std::string_view::npos) {
                end = dsn.size();
            }
            const auto param = dsn.substr(pos, end - pos);
            const auto eq = param.find('=');
            if (eq != std::string_view::npos && lower(param.substr(0, eq)) == "password") {
                spans.push_back({pos + eq + 1, end});
            }
            if (end >= dsn.size() || dsn[end] == '#') {
                break;
            }
            pos = end + 1;
        }
    }
    std::string once = replace_spans(dsn, spans);
    const auto at = once.rfind('@');
    const auto colon = once.find(':', authority_begin);
    if (at != std::string::npos && at > authority_begin && colon != std::string::npos &&
        colon < at) {
        once = replace_spans(once, {{colon + 1, at}});
    }
    return once;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t rows = a.size() + 1;
    const std::size_t cols = b.size() + 1;
    std::vector<std::size_t> d(rows * cols);
    const auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * cols + j]; };
    for (std::size_t i = 0; i < rows; ++i) {
        at(i, 0) = i;
    }
    for (std::size_t j = 0; j < cols; ++j) {
        at(0, j) = j;
    }
    for (std::size_t i = 1; i < rows; ++i) {
        for (std::size_t j = 1; j < cols; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
            }
        }
    }
    return at(rows - 1, cols - 1);
}

Result<MqttUrl> parse_mqtt_url(std::string_view text) {
    const auto sep = text.find("://");
    if (sep == std::string_view::npos) {
        return invalid("must look like mqtt://host:port or mqtts://host:port");
    }
    const auto scheme = lower(text.substr(0, sep));
    MqttUrl url;
    if (scheme == "mqtt") {
        url.tls = false;
    } else if (scheme == "mqtts") {
        url.tls = true;
    } else {
        return invalid("has unsupported scheme '" + std::string(text.substr(0, sep)) +
                       "' (use mqtt:// or mqtts://)");
    }
    auto rest = text.substr(sep + 3);
    if (rest.find('@') != std::string_view::npos) {
        return invalid(
            "must not contain user info; use mqtt.username and mqtt.password_file "
            "(or INTELERGY_MQTT_PASSWORD)");
    }
    if (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);  // "mqtt://host:1883/" is common when pasted
    }
    if (rest.find_first_of("/?#") != std::string_view::npos) {
        return invalid("must not contain a path, query or fragment");
    }
    auto host_port = split_host_port(rest, url.tls ? std::uint16_t{8883} : std::uint16_t{1883});
    if (!host_port) {
        return host_port.error();
    }
    url.host = std::move(host_port->host);
    url.port = host_port->port;
    return url;
}

Result<HostPort> parse_listen(std::string_view text) { return split_host_port(text, {}); }

Status check_topic(std::string_view topic) {
    if (topic.empty()) {
        return invalid("must not be empty");
    }
    if (topic.find('\0') != std::string_view::npos) {
        return invalid("must not contain a NUL character");
    }
    if (topic.find_first_of("+#") != std::string_view::npos) {
        return invalid("must not contain the MQTT wildcards '+' or '#'");
    }
    if (topic.front() == '/' || topic.back() == '/') {
        return invalid("must not start or end with '/'");
    }
    if (topic.find("//") != std::string_view::npos) {
        return invalid("must not contain an empty level ('//')");
    }
    if (topic.front() == '$') {
        return invalid("must not start with '$' (reserved for broker topics such as $SYS)");
    }
    if (topic.size() > 65535) {
        return invalid("is longer than MQTT allows (65535 bytes)");
    }
    return {};
}

std::string join_host_port(std::string_view host, std::uint16_t port) {
    std::string out;
    if (host.find(':') != std::string_view::npos) {
        out.append("[").append(host).append("]");
    } else {
        out.append(host);
    }
    return out + ":" + std::to_string(port);
}

std::string redact_dsn(std::string_view dsn) {
    for (std::string_view prefix : {"postgresql://", "postgres://"}) {
        if (lower(dsn.substr(0, prefix.size())) == prefix) {
            return redact_uri_dsn(dsn, prefix.size());
        }
    }
    return redact_keyword_dsn(dsn);
}

}  // namespace intelergy::config::detail
