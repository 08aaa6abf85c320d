#pragma once

#include "intelergy/core/clock.hpp"

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace intelergy::drivers::test {

// Reads tests/data/shelly/<name>; throws (failing the test) when missing.
inline std::string fixture(const std::string& name) {
    const std::string path = std::string{INTELERGY_SOURCE_DIR} + "/tests/data/shelly/" + name;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("missing fixture " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline SysTime at_s(std::int64_t epoch_s) {
    return SysTime{std::chrono::milliseconds{epoch_s * 1000}};
}

inline SysTime at_ms(std::int64_t epoch_ms) { return SysTime{std::chrono::milliseconds{epoch_ms}}; }

}  // namespace intelergy::drivers::test
