#include "ids.hpp"

#include <cctype>

namespace intelergy::discovery::detail {

namespace {
bool id_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
}
}  // namespace

std::optional<std::string> mac12(std::string_view mac) {
    std::string out;
    for (const char c : mac) {
        if (c == ':' || c == '-') continue;
        if (std::isxdigit(static_cast<unsigned char>(c)) == 0 || out.size() == 12) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (out.size() != 12) return std::nullopt;
    return out;
}

std::string mac_colon(std::string_view mac12) {
    std::string out;
    for (std::size_t i = 0; i < mac12.size(); ++i) {
        if (i > 0 && i % 2 == 0) out.push_back(':');
        out.push_back(mac12[i]);
    }
    return out;
}

std::string sanitize_topic_id(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) out.push_back(id_char(c) ? c : '_');
    return out.empty() ? std::string{"_"} : out;
}

bool is_topic_id(std::string_view text) {
    if (text.empty()) return false;
    for (const char c : text) {
        if (!id_char(c)) return false;
    }
    return true;
}

}  // namespace intelergy::discovery::detail
