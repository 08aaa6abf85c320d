#pragma once

#include "intelergy/core/reading.hpp"

#include <string>

namespace intelergy::drivers {

// Normalised state published for a channel:
// {"power_w":61.4,"energy_wh":20576.114,"voltage_v":230.1,"current_a":0.291,"relay":"ON",
//  "temperature_c":31.6,"ts":"2026-11-27T13:00:00.000Z"}
// Keys in that fixed order; absent (or non-finite) fields are left out; ts = Reading::ts.
// energy_wh is the bridge's book (Reading::energy_wh), never the raw device counter.
// Numbers: fixed decimals, then trailing zeros (and a bare '.') removed; "-0" becomes "0":
//   power_w 2 decimals (Gen1 reports 0.01 W), voltage_v 1, current_a 3, temperature_c 1,
//   energy_wh 3 (Gen2 counter precision; Gen1 Wmin/60 rounded to 1 mWh).
std::string state_json(const Reading& reading);

// The number formatting used above: `value` rounded to `decimals`, trailing zeros trimmed.
std::string format_number(double value, int decimals);

}  // namespace intelergy::drivers
