// The importer's CSV reading: delimiters, header detection, timestamps, bad rows by line.
#include <gtest/gtest.h>

#include "cli_energy.hpp"
#include "intelergy/core/time_format.hpp"

namespace intelergy::app::cli {
namespace {

const SysTime NOW = *parse_iso8601("2026-06-01T00:00:00Z");

TEST(CsvImport, CommaWithHeaderAndOptionalCounter) {
    const auto p = parse_readings_csv(
        "timestamp,power_w,energy_wh\r\n"
        "2026-01-05T00:01:00Z,100.5,12\r\n"
        "\r\n"
        "# a comment\n"
        "1767571200,99,\n",
        NOW);
    ASSERT_TRUE(p.problems.empty()) << p.problems[0].message;
    EXPECT_TRUE(p.header);
    EXPECT_EQ(p.delimiter, ',');
    ASSERT_EQ(p.rows.size(), 2U);
    // Sorted by time: the epoch row (2026-01-05T00:00:00Z, line 5) comes first.
    EXPECT_EQ(format_iso8601(p.rows[0].ts), "2026-01-05T00:00:00.000Z");
    EXPECT_EQ(p.rows[0].line, 5U);
    EXPECT_FALSE(p.rows[0].counter_wh);
    EXPECT_DOUBLE_EQ(*p.rows[1].power_w, 100.5);
    EXPECT_DOUBLE_EQ(*p.rows[1].counter_wh, 12.0);
}

TEST(CsvImport, SemicolonWithDecimalCommaAndNoHeader) {
    const auto p = parse_readings_csv("\"2026-01-05T00:00\";\"12,5\";\"1000,25\"\n"
                                      "2026-01-05T02:00:00+01:00;0;1000,75\n",
                                      NOW);
    EXPECT_EQ(p.delimiter, ';');
    EXPECT_FALSE(p.header);
    ASSERT_TRUE(p.problems.empty()) << p.problems[0].line << ": " << p.problems[0].message;
    ASSERT_EQ(p.rows.size(), 2U);
    EXPECT_DOUBLE_EQ(*p.rows[0].power_w, 12.5);
    EXPECT_DOUBLE_EQ(*p.rows[0].counter_wh, 1000.25);
    EXPECT_EQ(format_iso8601(p.rows[1].ts), "2026-01-05T01:00:00.000Z");
}

TEST(CsvImport, BadRowsAreReportedWithLineNumbers) {
    const auto p = parse_readings_csv(
        "ts,power\n"
        "2026-01-05T00:00:00Z,100\n"
        "2026-01-05T00:01:00Z,abc\n"
        "tomorrow,100\n"
        "2026-01-05T00:02:00Z\n"
        "2026-01-05T00:00:00Z,100\n"
        "1999-12-31T23:59:00Z,100\n"
        "2027-01-01T00:00:00Z,100\n"
        "2026-01-05T00:03:00Z,,\n"
        "2026-01-05T00:04:00Z,1,-5\n"
        "2026-01-05T00:05:00Z,1,2,3\n",
        NOW);
    ASSERT_EQ(p.problems.size(), 9U);
    EXPECT_EQ(p.problems[0].line, 3U);
    EXPECT_NE(p.problems[0].message.find("power 'abc'"), std::string::npos);
    EXPECT_EQ(p.problems[1].line, 4U);
    EXPECT_NE(p.problems[1].message.find("'tomorrow'"), std::string::npos);
    EXPECT_EQ(p.problems[2].line, 5U);
    EXPECT_NE(p.problems[2].message.find("columns"), std::string::npos);
    EXPECT_EQ(p.problems[3].line, 6U);
    EXPECT_NE(p.problems[3].message.find("repeats line 2"), std::string::npos);
    EXPECT_EQ(p.problems[4].line, 7U);
    EXPECT_EQ(p.problems[5].line, 8U);
    EXPECT_NE(p.problems[5].message.find("future"), std::string::npos);
    EXPECT_EQ(p.problems[6].line, 9U);
    EXPECT_NE(p.problems[6].message.find("neither power nor counter"), std::string::npos);
    EXPECT_EQ(p.problems[7].line, 10U);
    EXPECT_EQ(p.problems[8].line, 11U);
}

TEST(CsvImport, EmptyFileHasNoRows) {
    const auto p = parse_readings_csv("", NOW);
    EXPECT_TRUE(p.rows.empty());
    EXPECT_TRUE(p.problems.empty());
}

}  // namespace
}  // namespace intelergy::app::cli
