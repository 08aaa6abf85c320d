#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace intelergy::test {

// Runs the real `intelergy-sim` executable for a test and talks to its control API.
// A simulator config (`--config`) with one plug of each kind, all drawing `profile`: g1 (Gen1
// Plug S, password pw1), g2 (Gen2 Plus Plug S), g3 (Gen3 Plug S, password pw3), pm (Gen3 Plug PM),
// strip (Gen4, 4 channels) and mq (Gen2 over MQTT only, at `mqtt_prefix`).
nlohmann::json one_plug_of_each_kind(const std::string& mqtt_prefix, const std::string& profile);

class SimProcess {
public:
    // `args` are intelergy-sim flags (e.g. {"--config", file, "--mqtt-url", url}). Returns once
    // every plug listens (the simulator prints one JSON line per plug).
    explicit SimProcess(std::vector<std::string> args);
    ~SimProcess();
    SimProcess(const SimProcess&) = delete;
    SimProcess& operator=(const SimProcess&) = delete;

    [[nodiscard]] const std::vector<nlohmann::json>& plugs() const { return plugs_; }
    [[nodiscard]] const nlohmann::json& plug(const std::string& name) const;
    // GET <control>/<path_and_query>; fails the test on a transport error.
    nlohmann::json control(const std::string& path_and_query);
    // Ground-truth Wh per channel of one plug.
    std::vector<double> truth(const std::string& name);
    void stop();

private:
    pid_t pid_{-1};
    std::string plugs_file_;
    std::string control_url_;
    std::vector<nlohmann::json> plugs_;
};

}  // namespace intelergy::test
