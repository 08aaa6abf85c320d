// Device identity and RPC frames: parse_device_info, parse_gen1_announce and
// parse_rpc_response on the same input; normalize_mac / device_id_from_mac on it and on every
// MAC a parser accepted; make_rpc_frame with the input as params must still be valid JSON.
#include "fuzz_common.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <string>

#include "intelergy/drivers/shelly_device.hpp"
#include "intelergy/drivers/shelly_rpc.hpp"

using namespace intelergy;
using namespace intelergy::fuzz;

namespace {

bool upper_hex12(const std::string& mac) {
    if (mac.size() != 12) return false;
    for (const char c : mac)
        if (!std::isxdigit(static_cast<unsigned char>(c)) || std::islower(static_cast<unsigned char>(c)))
            return false;
    return true;
}

void check_mac(const std::string& mac) {
    FUZZ_CHECK(upper_hex12(mac));
    auto again = drivers::normalize_mac(mac);
    FUZZ_CHECK(again && *again == mac);
    std::string lower = mac;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    FUZZ_CHECK(drivers::device_id_from_mac(mac) == "shelly-" + lower);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = as_text(data, size);

    if (auto info = drivers::parse_device_info(input)) {
        check_mac(info->mac);
        const auto g = static_cast<int>(info->gen);
        FUZZ_CHECK(g >= 1 && g <= 4);
        FUZZ_CHECK(!info->model.empty() && !info->shelly_id.empty());
        if (info->gen == Generation::Gen1) {
            FUZZ_CHECK(info->app.empty());
            FUZZ_CHECK(info->shelly_id.size() > 7);
            FUZZ_CHECK(info->shelly_id.substr(info->shelly_id.size() - 6) == info->mac.substr(6));
        }
    }
    if (auto a = drivers::parse_gen1_announce(input)) {
        check_mac(a->mac);
        FUZZ_CHECK(!a->id.empty());
        FUZZ_CHECK(a->id.find_first_of("/+#") == std::string::npos);
    }
    if (auto r = drivers::parse_rpc_response(input)) {
        if (r->result_json) {
            const auto j = nlohmann::json::parse(*r->result_json, nullptr, false);
            FUZZ_CHECK(!j.is_discarded());
        }
    }
    if (auto mac = drivers::normalize_mac(input)) check_mac(*mac);
    {
        const auto id = drivers::device_id_from_mac(input);
        FUZZ_CHECK(id.empty() || id.size() == 19);
    }
    // Params that are not a JSON object are left out: the frame is always a valid object.
    const auto frame = drivers::make_rpc_frame(7, "bridge-fuzz", "Switch.Set", input);
    const auto j = nlohmann::json::parse(frame, nullptr, false);
    FUZZ_CHECK(!j.is_discarded() && j.is_object());
    FUZZ_CHECK(j.value("id", 0) == 7 && j.value("method", std::string()) == "Switch.Set");
    if (j.contains("params")) FUZZ_CHECK(j["params"].is_object());
    return 0;
}
