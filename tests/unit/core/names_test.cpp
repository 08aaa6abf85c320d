#include <intelergy/core/names.hpp>

#include <gtest/gtest.h>

#include <vector>

using intelergy::split_path;
using intelergy::validate_name;

TEST(Names, AcceptsOrdinaryNames) {
    EXPECT_TRUE(validate_name("kitchen", "room"));
    EXPECT_TRUE(validate_name("Living room", "room"));
    EXPECT_TRUE(validate_name("Küche", "room"));
    EXPECT_TRUE(validate_name(std::string(64, 'a'), "room"));
}

TEST(Names, RejectsWhatBreaksTopicsOrPaths) {
    for (const std::string& bad : std::vector<std::string>{"", "a/b", "a+b", "a#", std::string("a\0b", 3), "tab\there",
                                  "..", ".", " lead", "trail ", std::string(65, 'a'),
                                  "\xC3", "del\x7F", "c1\xC2\x85"}) {
        const auto st = validate_name(bad, "room");
        EXPECT_FALSE(st) << "accepted: " << bad;
        if (!st) {
            EXPECT_NE(st.error().message.find("room"), std::string::npos);
        }
    }
}

TEST(Names, ErrorNamesTheProblem) {
    EXPECT_EQ(validate_name("a/b", "name").error().message, "name must not contain '/'");
    EXPECT_EQ(validate_name("", "user").error().message, "user must not be empty");
}

TEST(Names, SplitPath) {
    const auto ok = split_path("alice/home/kitchen", 3, "room");
    ASSERT_TRUE(ok);
    EXPECT_EQ((*ok)[2], "kitchen");
    EXPECT_FALSE(split_path("alice/home", 3, "room"));
    EXPECT_FALSE(split_path("alice//kitchen", 3, "room"));
    EXPECT_FALSE(split_path("alice/home/kitchen/x", 3, "room"));
}
