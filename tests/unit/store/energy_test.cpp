#include "intelergy/store/energy.hpp"

#include <gtest/gtest.h>

namespace intelergy::store {
namespace {

TEST(Resolution, RoundTripsItsNames) {
    for (const auto r : {Resolution::Minute, Resolution::Hour, Resolution::Day, Resolution::Week,
                         Resolution::Month})
        EXPECT_EQ(parse_resolution(to_string(r)), r);
    EXPECT_FALSE(parse_resolution("year"));
}

}  // namespace
}  // namespace intelergy::store
