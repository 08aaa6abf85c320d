#include <intelergy/fakes/fake_clock.hpp>

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace intelergy::fakes {
namespace {

using namespace std::chrono_literals;

TEST(FakeClock, StartsAtAFixedInstantAndOnlyMovesWhenAdvanced) {
    FakeClock clock;
    EXPECT_EQ(clock.now(), FakeClock::DEFAULT_START);
    const auto s0 = clock.steady();
    EXPECT_EQ(clock.steady(), s0);
    clock.advance(1500ms);
    EXPECT_EQ(clock.now() - FakeClock::DEFAULT_START, 1500ms);
    EXPECT_EQ(clock.steady() - s0, 1500ms);
}

TEST(FakeClock, AdvanceAcceptsAnyDurationAndKeepsSubMillisecondSteps) {
    FakeClock clock;
    const auto s0 = clock.steady();
    for (int i = 0; i < 4; ++i) clock.advance(250us);
    EXPECT_EQ(clock.now() - FakeClock::DEFAULT_START, 1ms);
    EXPECT_EQ(clock.steady() - s0, 1ms);
    clock.advance(std::chrono::hours(25));
    EXPECT_EQ(clock.now() - FakeClock::DEFAULT_START, 25h + 1ms);
}

TEST(FakeClock, SetNowStepsWallTimeOnly) {
    FakeClock clock;
    const auto s0 = clock.steady();
    clock.set_now(FakeClock::DEFAULT_START - 1h);
    EXPECT_EQ(clock.now(), FakeClock::DEFAULT_START - 1h);
    EXPECT_EQ(clock.steady(), s0);
}

TEST(FakeClock, IsSafeToReadWhileAnotherThreadAdvances) {
    FakeClock clock;
    const auto s0 = clock.steady();
    std::thread writer([&] {
        for (int i = 0; i < 1000; ++i) clock.advance(1ms);
    });
    auto last = clock.steady();
    for (int i = 0; i < 1000; ++i) {
        const auto now = clock.steady();
        EXPECT_GE(now, last);
        last = now;
    }
    writer.join();
    EXPECT_EQ(clock.steady() - s0, 1000ms);
}

}  // namespace
}  // namespace intelergy::fakes
