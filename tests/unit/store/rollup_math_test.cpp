#include "intelergy/store/rollup_math.hpp"

#include <gtest/gtest.h>

namespace intelergy::store {
namespace {

constexpr std::int64_t S = 1000;
constexpr std::int64_t T0 = 1'780'000'020'000;  // a whole minute

RollupSample s(std::int64_t ts, std::optional<double> w, std::optional<double> wh = std::nullopt) {
    return {ts, w, wh, std::nullopt};
}

TEST(FloorMinute, RoundsTowardsMinusInfinity) {
    EXPECT_EQ(floor_minute(0), 0);
    EXPECT_EQ(floor_minute(59'999), 0);
    EXPECT_EQ(floor_minute(60'000), 60'000);
    EXPECT_EQ(floor_minute(-1), -60'000);
}

TEST(ComputeMinutes, HoldsPowerUntilTheNextSampleAndSplitsAtMinuteEdges) {
    const std::vector<RollupSample> v{s(T0 + 30 * S, 120), s(T0 + 90 * S, 60), s(T0 + 150 * S, 0)};
    const auto m = compute_minutes(v, T0, T0 + 3 * 60 * S, {});
    ASSERT_EQ(m.size(), 3U);
    EXPECT_DOUBLE_EQ(*m[0].energy_wh, 120 * 30 / 3600.0);
    EXPECT_DOUBLE_EQ(m[0].covered_s, 30);
    EXPECT_DOUBLE_EQ(*m[1].energy_wh, (120 * 30 + 60 * 30) / 3600.0);
    EXPECT_DOUBLE_EQ(*m[1].min_w, 60);
    EXPECT_DOUBLE_EQ(*m[1].max_w, 120);
    EXPECT_DOUBLE_EQ(*m[2].energy_wh, 60 * 30 / 3600.0);
    EXPECT_DOUBLE_EQ(m[2].covered_s, 30);  // the newest sample holds nothing yet
    EXPECT_EQ(m[2].samples, 1);
}

TEST(ComputeMinutes, GapsBeyondTheHoldLimitAreUnknownNotZero) {
    RollupParams p;
    p.hold_limit = std::chrono::seconds(120);
    const std::vector<RollupSample> v{s(T0, 60), s(T0 + 600 * S, 60)};
    const auto m = compute_minutes(v, T0, T0 + 11 * 60 * S, p);
    ASSERT_EQ(m.size(), 3U);  // minutes 0 and 1 held, minute 10 holds a sample; 2..9 absent
    EXPECT_EQ(m[2].start_ms, T0 + 600 * S);
    EXPECT_FALSE(m[2].energy_wh);
}

TEST(ComputeMinutes, CounterIsInterpolatedLinearlyAcrossALongGap) {
    RollupParams p;
    p.hold_limit = std::chrono::seconds(60);
    const std::vector<RollupSample> v{s(T0, 0, 100), s(T0 + 240 * S, 0, 104)};
    const auto m = compute_minutes(v, T0, T0 + 5 * 60 * S, p);
    ASSERT_EQ(m.size(), 5U);
    for (int i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(*m[static_cast<std::size_t>(i)].energy_wh, 1.0);
    EXPECT_DOUBLE_EQ(m[0].bridged_s, 0);
    EXPECT_DOUBLE_EQ(m[1].bridged_s, 60);
    EXPECT_DOUBLE_EQ(m[1].covered_s, 0);
}

TEST(ComputeMinutes, ResetIntervalUsesIntegratedPower) {
    const std::vector<RollupSample> v{s(T0, 600, 500), s(T0 + 60 * S, 600, 510),
                                      s(T0 + 120 * S, 600, 2), s(T0 + 180 * S, 600, 12)};
    const auto m = compute_minutes(v, T0, T0 + 4 * 60 * S, {});
    ASSERT_EQ(m.size(), 4U);
    EXPECT_DOUBLE_EQ(*m[0].energy_wh, 10);
    EXPECT_DOUBLE_EQ(*m[1].energy_wh, 10);  // 600 W for 60 s, not 2 - 510
    EXPECT_EQ(m[2].resets, 1);
    EXPECT_DOUBLE_EQ(*m[2].energy_wh, 10);
}

TEST(ComputeMinutes, ZeroThenRestoreIsAGlitchNotAReset) {
    const std::vector<RollupSample> v{s(T0, 600, 500), s(T0 + 60 * S, 600, 0),
                                      s(T0 + 120 * S, 600, 520), s(T0 + 180 * S, 600, 530)};
    const auto g = find_counter_glitches(v, {});
    EXPECT_EQ(g, (std::vector<bool>{false, true, false, false}));
    const auto m = compute_minutes(v, T0, T0 + 3 * 60 * S, {});
    ASSERT_EQ(m.size(), 3U);
    EXPECT_DOUBLE_EQ(*m[0].energy_wh + *m[1].energy_wh, 20);
    EXPECT_EQ(m[1].resets + m[0].resets, 0);
}

TEST(ComputeMinutes, ImplausibleCounterJumpFallsBackToPower) {
    const std::vector<RollupSample> v{s(T0, 100, 10), s(T0 + 60 * S, 100, 5000)};
    const auto m = compute_minutes(v, T0, T0 + 60 * S, {});
    ASSERT_EQ(m.size(), 1U);
    EXPECT_DOUBLE_EQ(*m[0].energy_wh, 100 / 60.0);
}

TEST(ComputeMinutes, ResultForAMinuteDoesNotDependOnTheRequestedRange) {
    std::vector<RollupSample> v;
    for (int i = 0; i < 200; ++i)
        v.push_back({T0 + i * 17 * S, (i * 37) % 500 * 1.0, 1000 + i * 0.7,
                     i % 50 == 49 ? std::optional<double>(0.0) : std::nullopt});
    const auto all = compute_minutes(v, T0, T0 + 60 * 60 * S, {});
    const auto part = compute_minutes(v, T0 + 10 * 60 * S, T0 + 20 * 60 * S, {});
    for (const auto& b : part) {
        const auto it = std::find_if(all.begin(), all.end(),
                                     [&](const MinuteBucket& a) { return a.start_ms == b.start_ms; });
        ASSERT_NE(it, all.end());
        EXPECT_EQ(it->energy_wh, b.energy_wh);
        EXPECT_EQ(it->sum_w_s, b.sum_w_s);
        EXPECT_EQ(it->covered_s, b.covered_s);
    }
}

}  // namespace
}  // namespace intelergy::store
