// Energy continuity across kill -9 (issue 3's done criterion): the real `intelergy run` process
// and the real simulator, one plug of each kind (two with passwords, one Gen2 over MQTT only),
// registered through the MQTT API. The bridge is killed with SIGKILL once with the loads frozen
// (energy must come back exactly as it was) and once under load (nothing may be counted twice),
// and the books must end within max(1 Wh, 0.5 %) of the simulator's ground truth with no state
// message ever showing less energy than the one before it.
#include "bridge_process_fixture.hpp"

namespace intelergy::test {
namespace {

class Restart : public BridgeProcessFixture {};

TEST_F(Restart, EnergyContinuesExactlyAcrossKillNineAndNeverDoubleCounts) {
    ASSERT_NO_FATAL_FAILURE(start_bridge());
    ASSERT_NO_FATAL_FAILURE(register_plugs());

    // Let energy accumulate on every channel.
    std::map<std::string, std::vector<double>> zero;
    for (const auto& [plug, _] : ids_) zero[plug].assign(channels_of(plug), 0.0);
    ASSERT_NO_FATAL_FAILURE(wait_growth(zero, 2.0, 40s));

    // 1. Frozen loads: the books after kill -9 and restart are exactly those before.
    ASSERT_NO_FATAL_FAILURE(freeze());
    const auto before = book_snapshot();
    ASSERT_NO_FATAL_FAILURE(kill_nine());
    auto mark = probe_->count();
    ASSERT_NO_FATAL_FAILURE(start_bridge());
    ASSERT_NO_FATAL_FAILURE(wait_fresh_states(mark, 30s, "after the restart"));
    for (const auto& [plug, id] : ids_) {
        // Every state since the restart carries the same books.
        std::size_t states = 0;
        const auto messages = probe_->messages();
        for (std::size_t i = mark; i < messages.size(); ++i) {
            const auto& m = messages[i];
            if (m.topic != state_topic(id) || m.payload.empty()) continue;
            const auto e = energies(Json::parse(m.payload));
            if (e.size() != before.at(plug).size()) continue;
            ++states;
            for (std::size_t ch = 0; ch < e.size(); ++ch) {
                if (!e[ch]) continue;
                EXPECT_NEAR(*e[ch], before.at(plug)[ch], 0.001) << plug << " channel " << ch;
                EXPECT_GE(*e[ch] + 1e-9, before.at(plug)[ch]) << plug << " channel " << ch;
            }
        }
        EXPECT_GT(states, 0U) << plug;
        for (std::size_t ch = 0; ch < before.at(plug).size(); ++ch)
            std::printf("[ restart ] %s ch%zu before=%.3f after=%.3f Wh\n", plug.c_str(), ch,
                        before.at(plug)[ch], book_snapshot().at(plug)[ch]);
    }

    // 2. Loads back on; kill -9 in the middle of metering, restart, keep going.
    ASSERT_NO_FATAL_FAILURE(set_loads("profile"));
    ASSERT_NO_FATAL_FAILURE(wait_growth(before, 2.0, 40s));
    ASSERT_NO_FATAL_FAILURE(kill_nine());
    const auto at_kill = book_snapshot();
    mark = probe_->count();
    ASSERT_NO_FATAL_FAILURE(start_bridge());
    ASSERT_NO_FATAL_FAILURE(wait_fresh_states(mark, 30s, "after the restart under load"));
    ASSERT_NO_FATAL_FAILURE(wait_growth(at_kill, 2.0, 40s));

    // 3. Freeze again: the books match the simulator's ground truth.
    ASSERT_NO_FATAL_FAILURE(freeze());
    expect_books_match_truth();
    expect_monotonic();
}

}  // namespace
}  // namespace intelergy::test
