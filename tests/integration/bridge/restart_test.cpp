// Energy continuity across kill -9 (issue 3's done criterion): the real `intelergy run` process
// and the real simulator, one plug of each kind (two with passwords, one Gen2 over MQTT only),
// registered through the MQTT API. The bridge is killed with SIGKILL once with the loads frozen
// (energy must come back exactly as it was) and once under load (nothing may be counted twice),
// and the books must end within max(1 Wh, 0.5 %) of the simulator's ground truth with no state
// message ever showing less energy than the one before it.
#include "bridge_process_fixture.hpp"

#include <pqxx/pqxx>

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

// SIGTERM and SIGINT (issue 2 point 5): with plugs metering, the bridge publishes offline, exits
// 0, and has flushed every reading it published before exiting: each channel's last published
// energy is in `readings` and in its energy book.
TEST_F(Restart, SigtermAndSigintFlushWhatWasPublishedAndExitZero) {
    ASSERT_NO_FATAL_FAILURE(start_bridge());
    ASSERT_NO_FATAL_FAILURE(register_plugs());
    std::map<std::string, std::vector<double>> zero;
    for (const auto& [plug, _] : ids_) zero[plug].assign(channels_of(plug), 0.0);
    std::map<std::string, std::vector<double>> from = zero;
    for (const int sig : {SIGTERM, SIGINT}) {
        SCOPED_TRACE(sig == SIGINT ? "SIGINT" : "SIGTERM");
        ASSERT_NO_FATAL_FAILURE(wait_growth(from, 1.0, 40s));
        const auto mark = probe_->count();
        ASSERT_EQ(kill(pid_, sig), 0);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        ASSERT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), 0);
        ASSERT_TRUE(probe_->wait_for(base_ + "/bridge/state", 10s,
                                     [](const MqttMessage& m) {
                                         return m.payload == R"({"state":"offline"})";
                                     },
                                     mark));
        // The process is gone: whatever the database holds now is what it flushed.
        pqxx::connection c(db_->dsn());
        pqxx::read_transaction tx(c);
        const auto published = book_snapshot();
        std::size_t checked = 0;
        for (const auto& [plug, id] : ids_) {
            for (std::size_t ch = 0; ch < published.at(plug).size(); ++ch) {
                const double e = published.at(plug)[ch];
                if (e < 0) continue;  // this channel's last state had no energy
                const auto row = tx.exec_params1(
                    "SELECT (SELECT lifetime_wh FROM energy_books WHERE device_id = $1 AND "
                    "channel = $2), (SELECT count(*) FROM readings WHERE device_id = $1 AND "
                    "channel = $2 AND abs(energy_wh - $3) < 0.001)",
                    id, static_cast<int>(ch), e);
                ASSERT_FALSE(row[0].is_null()) << plug << " channel " << ch << ": no energy book";
                EXPECT_NEAR(row[0].as<double>(), e, 0.001) << plug << " channel " << ch;
                EXPECT_GE(row[1].as<long>(), 1) << plug << " channel " << ch
                                                << ": last published energy " << e
                                                << " Wh not in readings";
                ++checked;
            }
        }
        EXPECT_GE(checked, ids_.size());  // at least one channel of every plug
        from = published;
        ASSERT_NO_FATAL_FAILURE(start_bridge());
    }
}

}  // namespace
}  // namespace intelergy::test
