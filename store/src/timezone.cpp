#include "intelergy/store/timezone.hpp"

#include <array>
#include <fstream>
#include <string>

#include "intelergy/store/store.hpp"

namespace intelergy::store {

const char* to_string(Transport t) noexcept { return t == Transport::Mqtt ? "mqtt" : "http"; }

Status validate_timezone(std::string_view name, const std::filesystem::path& zoneinfo_dir) {
    const std::string quoted = "unknown time zone '" + std::string(name) + "'";
    if (name.empty() || name.size() > 64 || name.front() == '/' ||
        name.find("..") != std::string_view::npos)
        return make_error(ErrorCode::Invalid, quoted);
    for (const char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '-' || c == '+';
        if (!ok) return make_error(ErrorCode::Invalid, quoted);
    }
    std::ifstream in(zoneinfo_dir / std::string(name), std::ios::binary);
    std::array<char, 4> magic{};
    if (!in || !in.read(magic.data(), magic.size()) ||
        std::string_view(magic.data(), magic.size()) != "TZif")
        return make_error(ErrorCode::Invalid, quoted + " (use an IANA name such as Europe/Berlin)");
    return {};
}

}  // namespace intelergy::store
