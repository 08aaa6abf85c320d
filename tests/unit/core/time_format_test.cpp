#include <intelergy/core/time_format.hpp>

#include <gtest/gtest.h>

using namespace std::chrono;
using intelergy::format_iso8601;
using intelergy::parse_iso8601;

TEST(TimeFormat, RoundTrip) {
    const auto t = parse_iso8601("2026-11-27T13:00:00.123Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(format_iso8601(*t), "2026-11-27T13:00:00.123Z");
    EXPECT_EQ(t->time_since_epoch().count(), 1795784400123LL);
}

TEST(TimeFormat, OffsetsAndDates) {
    EXPECT_EQ(format_iso8601(*parse_iso8601("2026-03-29T03:00:00+02:00")),
              "2026-03-29T01:00:00.000Z");
    EXPECT_EQ(format_iso8601(*parse_iso8601("2026-01-01T05:45+0545")),
              "2026-01-01T00:00:00.000Z");
    EXPECT_EQ(format_iso8601(*parse_iso8601("2026-12-31")), "2026-12-31T00:00:00.000Z");
}

TEST(TimeFormat, RejectsGarbage) {
    for (const char* bad : {"", "2026", "2026-13-01", "2026-02-30", "2026-01-01T25:00",
                            "2026-01-01T10:00Zjunk", "yesterday", "2026-01-01T10:00:00."})
        EXPECT_FALSE(parse_iso8601(bad)) << bad;
}
