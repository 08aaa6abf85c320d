// SPDX-License-Identifier: MIT
// intelergy-sim: simulated Shelly plugs on loopback (HTTP, MQTT, faults). See docs/simulator.md.
#include "intelergy/core/clock.hpp"
#include "intelergy/sim/config.hpp"
#include "intelergy/sim/sim_clock.hpp"
#include "intelergy/sim/simulator.hpp"

#include <CLI/CLI.hpp>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace {

void write_atomically(const std::string& path, const std::string& text) {
    const auto tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << text << '\n';
        if (!out) throw std::runtime_error("cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace intelergy::sim;
    CLI::App app{"intelergy-sim: simulated Shelly smart plugs for demos, tests and benchmarks"};
    std::string config_file;
    std::string plugs_out;
    std::string log_level = "info";
    QuickPlugs quick;
    SimOptions opts;
    double speed = 1.0;
    double duration = 0.0;
    app.add_option("--config", config_file, "JSON file describing the plugs");
    app.add_option("--gen1", quick.gen1, "Number of Gen1 Plug S (SHPLG-S)");
    app.add_option("--gen2", quick.gen2, "Number of Plus Plug S (SNPL-00112EU)");
    app.add_option("--gen3", quick.gen3, "Number of Plug S Gen3 (S3PL-00112EU)");
    app.add_option("--gen3pm", quick.gen3pm, "Number of Plug PM Gen3 (S3PL-30116EU)");
    app.add_option("--gen4strip", quick.gen4strip, "Number of Power Strip 4 Gen4 (S4PL-00416EU)");
    app.add_option("--mqtt-only-gen2", quick.mqtt_only_gen2, "Number of MQTT-only Plus Plug S");
    app.add_option("--password", quick.password, "Password for the quick plugs (empty = none)");
    app.add_option("--base-port", quick.base_port,
                   "First port for the quick plugs (consecutive; 0 = any free port)");
    app.add_option("--profile", quick.profile,
                   "Quick plugs' power: constant:W | square:LOW:HIGH:PERIOD_S[:DUTY] | "
                   "walk:MIN:MAX[:STEP_W[:STEP_S]] (default seeded walk 20..200 W)");
    app.add_flag("--mqtt-all", quick.mqtt, "Enable MQTT on every quick plug (needs --mqtt-url)");
    app.add_option("--mqtt-url", opts.mqtt_url, "Broker, e.g. mqtt://127.0.0.1:1883");
    app.add_flag("--mqtt-shared-connection", opts.mqtt_shared_connection,
                 "One MQTT connection for all plugs (scale mode, no per-plug last will)");
    app.add_option("--notify-rate", opts.notify_rate,
                   "Shared connection: forced NotifyStatus messages per second in total");
    app.add_option("--shared-port", opts.shared_port,
                   "Serve every plug on this one port under /<name>/ (0 = any free port)");
    app.add_option("--http-threads", opts.shared_threads, "Worker threads of the shared port");
    app.add_option("--plug-threads", opts.plug_threads, "Worker threads per plug port");
    app.add_option("--control-port", opts.control_port, "Control API port (0 = any free port)");
    app.add_option("--bind", opts.bind, "Address to listen on")->default_str("127.0.0.1");
    app.add_option("--speed", speed, "Simulated time runs this many times faster than real time")
        ->check(CLI::PositiveNumber);
    app.add_option("--duration", duration, "Stop after this many real seconds (0 = until signal)");
    app.add_option("--plugs-out", plugs_out, "Write the plug list as JSON to this file");
    app.add_option("--log-level", log_level, "trace|debug|info|warn|error");
    CLI11_PARSE(app, argc, argv);

    // stdout carries only the machine-readable plug lines; logs go to stderr.
    spdlog::set_default_logger(spdlog::stderr_color_mt("sim"));
    spdlog::set_level(spdlog::level::from_str(log_level));

    // Signals are taken synchronously by main; block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    try {
        std::vector<PlugSpec> specs;
        if (!config_file.empty()) specs = load_config_file(config_file);
        const bool have_mqtt = !opts.mqtt_url.empty();
        if (quick.mqtt_only_gen2 > 0 && !have_mqtt) {
            throw std::invalid_argument("--mqtt-only-gen2 needs --mqtt-url");
        }
        auto more = make_quick_plugs(quick, specs.size());
        specs.insert(specs.end(), more.begin(), more.end());
        if (specs.empty())
            throw std::invalid_argument("no plugs: use --config or --gen1/--gen2/...");

        intelergy::SystemClock real;
        ScaledClock clock(real, speed);
        Simulator sim(opts, std::move(specs), clock);
        sim.start();

        intelergy::sim::Json all = Json::array();
        for (auto& p : sim.plugs()) {
            const auto line = sim.plug_line(*p);
            all.push_back(line);
            std::cout << line.dump() << '\n';
        }
        std::cout.flush();
        spdlog::info("sim started plugs={} control={} speed={}", sim.plugs().size(),
                     sim.control_url(), speed);
        if (!plugs_out.empty()) {
            write_atomically(plugs_out, Json{{"control_url", sim.control_url()},
                                             {"mqtt_url", opts.mqtt_url},
                                             {"speed", speed},
                                             {"plugs", all}}
                                            .dump(2));
        }

        timespec ts{};
        timespec* timeout = nullptr;
        if (duration > 0) {
            ts.tv_sec = static_cast<time_t>(duration);
            ts.tv_nsec = static_cast<long>((duration - static_cast<double>(ts.tv_sec)) * 1e9);
            timeout = &ts;
        }
        int sig = -1;
        do {
            sig = sigtimedwait(&signals, nullptr, timeout);
        } while (sig < 0 && errno == EINTR);
        spdlog::info("sim stopping reason={}", sig > 0 ? "signal" : "duration");
        sim.stop();
    } catch (const std::exception& e) {
        spdlog::error("intelergy-sim: {}", e.what());
        return 2;
    }
    return 0;
}
