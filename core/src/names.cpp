#include "intelergy/core/names.hpp"

#include <vector>

namespace intelergy {

const char* to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::Timeout: return "timeout";
        case ErrorCode::Unreachable: return "unreachable";
        case ErrorCode::Protocol: return "protocol";
        case ErrorCode::Parse: return "parse";
        case ErrorCode::NotFound: return "not_found";
        case ErrorCode::Conflict: return "conflict";
        case ErrorCode::Config: return "config";
        case ErrorCode::Auth: return "auth";
        case ErrorCode::Invalid: return "invalid";
        case ErrorCode::Internal: return "internal";
    }
    return "internal";
}

namespace {

// Returns the length of the UTF-8 sequence at s[i], or 0 if invalid.
size_t utf8_len(std::string_view s, size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0 && c >= 0xC2) n = 2;
    else if ((c & 0xF0) == 0xE0) n = 3;
    else if ((c & 0xF8) == 0xF0 && c <= 0xF4) n = 4;
    else return 0;
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
    return n;
}

}  // namespace

Status validate_name(std::string_view name, std::string_view what) {
    const std::string field{what};
    if (name.empty()) return make_error(ErrorCode::Invalid, field + " must not be empty");
    if (name.size() > MAX_NAME_LENGTH)
        return make_error(ErrorCode::Invalid, field + " is longer than " +
                                                  std::to_string(MAX_NAME_LENGTH) + " bytes");
    if (name == "." || name == "..")
        return make_error(ErrorCode::Invalid, field + " must not be '.' or '..'");
    if (name.front() == ' ' || name.back() == ' ')
        return make_error(ErrorCode::Invalid, field + " must not start or end with a space");
    for (size_t i = 0; i < name.size();) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c == '/' || c == '+' || c == '#')
            return make_error(ErrorCode::Invalid,
                              field + " must not contain '" + std::string(1, char(c)) + "'");
        if (c < 0x20 || c == 0x7F)
            return make_error(ErrorCode::Invalid, field + " must not contain control characters");
        const size_t n = utf8_len(name, i);
        if (n == 0) return make_error(ErrorCode::Invalid, field + " is not valid UTF-8");
        if (n == 2 && c == 0xC2 && static_cast<unsigned char>(name[i + 1]) < 0xA0)
            return make_error(ErrorCode::Invalid, field + " must not contain control characters");
        i += n;
    }
    return {};
}

Result<std::vector<std::string>> split_path(std::string_view path, size_t parts,
                                            std::string_view what) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
        const size_t slash = path.find('/', start);
        out.emplace_back(path.substr(start, slash == std::string_view::npos ? path.npos
                                                                            : slash - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    if (out.size() != parts)
        return make_error(ErrorCode::Invalid, std::string(what) + " must have " +
                                                  std::to_string(parts) +
                                                  " parts separated by '/'");
    for (const auto& p : out)
        if (auto st = validate_name(p, what); !st) return st.error();
    return out;
}

}  // namespace intelergy
