#include <intelergy/core/result.hpp>

#include <gtest/gtest.h>

using intelergy::ErrorCode;
using intelergy::make_error;
using intelergy::Result;

namespace {
Result<int> half(int v) {
    if (v % 2) return make_error(ErrorCode::Invalid, "odd", "v=" + std::to_string(v));
    return v / 2;
}
}  // namespace

TEST(Result, ValueAndError) {
    EXPECT_EQ(*half(4), 2);
    const auto r = half(3);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::Invalid);
    EXPECT_EQ(r.error().describe(), "v=3: odd");
    EXPECT_EQ(half(3).value_or(-1), -1);
}
