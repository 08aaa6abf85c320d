#pragma once

// `intelergy report` and `intelergy import` (cli_report.cpp, cli_import.cpp), and the pure
// CSV reading of the importer (cli_csv.cpp, unit-tested without a database).

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "intelergy/core/clock.hpp"

namespace CLI {
class App;
}

namespace intelergy::app {

// Each registers its subcommand on `app`; the returned function runs it when it was chosen
// and returns its exit code, or nullopt.
std::function<std::optional<int>()> register_report_command(CLI::App& app, std::string& config_path);
std::function<std::optional<int>()> register_import_command(CLI::App& app, std::string& config_path);

}  // namespace intelergy::app

namespace intelergy::app::cli {

struct CsvReading {
    std::size_t line{0};  // 1-based line in the file
    SysTime ts{};
    std::optional<double> power_w;
    std::optional<double> counter_wh;
};

struct CsvProblem {
    std::size_t line{0};
    std::string message;
};

struct CsvParse {
    std::vector<CsvReading> rows;  // sorted by ts
    std::vector<CsvProblem> problems;  // in line order; the file must not be imported if any
    bool header{false};
    char delimiter{','};
};

// Historic readings: columns timestamp (ISO-8601, no zone = UTC, or Unix epoch seconds),
// power W, optional lifetime counter Wh. The delimiter is ';' when the first data or header
// line holds one (then "12,5" is a decimal comma), else ','. A first line whose first field is
// not a timestamp is a header. Blank lines and lines starting with '#' are skipped; fields may
// be double-quoted. Bad rows: unparseable or absurd timestamps (before 2000, after now + 1 day),
// non-numeric or out-of-range values, a row with neither power nor counter, too many or too few
// columns, and a timestamp repeated in the file.
CsvParse parse_readings_csv(std::string_view text, SysTime now);

}  // namespace intelergy::app::cli
