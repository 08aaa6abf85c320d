#pragma once

#include "intelergy/core/reading.hpp"
#include "intelergy/core/result.hpp"

#include <string>
#include <string_view>

namespace intelergy::drivers {

// Identity of a plug, from `GET /shelly` (every generation) or `Shelly.GetDeviceInfo` (Gen2+).
struct DeviceInfo {
    Generation gen{Generation::Gen1};
    std::string model;          // Gen1 `type` (SHPLG-S), Gen2+ `model` (SNPL-00112EU)
    std::string mac;            // 12 upper-case hex digits, no separators
    std::string shelly_id;      // Gen2+ `id`; Gen1 built from type + last 6 MAC hex (see below)
    std::string firmware;       // Gen1 `fw`, Gen2+ `fw_id` (falls back to `ver`)
    std::string app;            // Gen2+ `app`; empty on Gen1
    std::string name;           // user-given name; empty when absent or null
    bool auth_required{false};  // Gen1 `auth`, Gen2+ `auth_en`
};

// Parses `/shelly` / `Shelly.GetDeviceInfo`. The generation comes ONLY from the numeric `gen`
// key: absent -> Gen1; integer 2, 3 or 4 -> that generation; anything else (1, 5, 2.5, "2",
// true, null) -> Protocol error. The model name is never consulted for the generation.
// Errors: Parse (not JSON / too large / nested deeper than 32), Protocol (not an object; none of
// mac/type/model -> "not a Shelly device"; missing or malformed mac; Gen1 without `type`; Gen2+
// without `model` or `id`).
// Gen1 shelly_id: SHPLG-S -> "shellyplug-s-XXXXXX"; SHPLG-1, SHPLG2-1, SHPLG-U1 ->
// "shellyplug-XXXXXX"; any other Gen1 type -> lower-cased type + "-XXXXXX" (XXXXXX = last six
// MAC hex digits, upper case, as the Gen1 firmware builds its default MQTT id).
Result<DeviceInfo> parse_device_info(std::string_view json);

// Validates and normalises a MAC: 12 hex digits, optionally separated by ':' or '-'.
// Returns the 12 digits in upper case, or an Invalid error.
Result<std::string> normalize_mac(std::string_view mac);

// Our stable device id: "shelly-" + lower-case 12-hex MAC ("shelly-aabbccddeeff"). The input
// may be in any case and may contain ':'/'-' separators; an invalid MAC yields "".
std::string device_id_from_mac(std::string_view mac);

// `shellies/announce` (Gen1 MQTT): {id, model, mac, ip, new_fw, fw_ver[, mode]}.
struct AnnounceInfo {
    std::string id;      // MQTT id, e.g. "shellyplug-s-D4E5F6" (topic level under shellies/)
    std::string model;   // e.g. "SHPLG-S"; empty when absent
    std::string mac;     // normalised, 12 upper-case hex
    std::string ip;      // empty when absent
    std::string fw_ver;  // empty when absent
    bool new_fw{false};
};

// Requires a non-empty string `id` without '/', '+' or '#' and a valid `mac`.
Result<AnnounceInfo> parse_gen1_announce(std::string_view json);

}  // namespace intelergy::drivers
