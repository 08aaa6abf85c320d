// `intelergy import --csv FILE --device PATH|ID`: historic readings straight into PostgreSQL.
// Bulk history is not an MQTT-sized payload (a year of minutes is ~500k rows, the API caps a
// request at 64 KiB) and it must land all-or-nothing, so this command uses the database DSN of
// the config, like `intelergy db migrate`, instead of the bridge's MQTT API.
#include "cli_energy.hpp"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "intelergy/config/config.hpp"
#include "intelergy/core/time_format.hpp"
#include "intelergy/store/batch_sink.hpp"
#include "intelergy/store/pg_store.hpp"
#include "intelergy/store/reading_writer.hpp"
#include "intelergy/store/rollup_worker.hpp"

namespace intelergy::app {

namespace {

constexpr int EXIT_USAGE = 2;
constexpr std::size_t MAX_PROBLEMS_SHOWN = 20;

struct ImportArgs {
    std::string* config_path{nullptr};
    std::string csv;
    std::string device;
    bool quiet{false};
    CLI::App* app{nullptr};
};

// A progress bar on stderr when it is a terminal; nothing otherwise.
class Progress {
public:
    explicit Progress(bool enabled) : enabled_(enabled) {}
    void show(const std::string& what, std::size_t done, std::size_t total) {
        if (!enabled_ || total == 0) return;
        const auto width = 30UL;
        const auto filled = done * width / total;
        std::cerr << "\r" << what << " [" << std::string(filled, '#')
                  << std::string(width - filled, '.') << "] " << (done * 100 / total) << "% "
                  << std::flush;
    }
    void done() {
        if (enabled_) std::cerr << "\r\033[K" << std::flush;
    }

private:
    bool enabled_;
};

int run_import(const ImportArgs& a) {
    if (const auto extra = a.app->remaining(); !extra.empty()) {
        std::cerr << "error: unexpected argument '" << extra.front() << "'\n";
        return EXIT_USAGE;
    }
    std::ifstream file(a.csv, std::ios::binary);
    if (!file) {
        std::cerr << "error: cannot read " << a.csv << "\n";
        return EXIT_USAGE;
    }
    std::ostringstream content;
    content << file.rdbuf();
    SystemClock clock;
    Progress progress(!a.quiet && isatty(STDERR_FILENO) != 0);

    // 1. The whole file is validated before anything is written.
    const auto parsed = cli::parse_readings_csv(content.str(), clock.now());
    if (!parsed.problems.empty()) {
        for (std::size_t i = 0; i < parsed.problems.size() && i < MAX_PROBLEMS_SHOWN; ++i)
            std::cerr << a.csv << ":" << parsed.problems[i].line << ": "
                      << parsed.problems[i].message << "\n";
        if (parsed.problems.size() > MAX_PROBLEMS_SHOWN)
            std::cerr << "... and " << parsed.problems.size() - MAX_PROBLEMS_SHOWN
                      << " more bad row(s)\n";
        std::cerr << "error: " << parsed.problems.size()
                  << " bad row(s); nothing was imported\n";
        return 1;
    }
    if (parsed.rows.empty()) {
        std::cerr << "error: " << a.csv << " holds no readings; nothing was imported\n";
        return 1;
    }

    auto loaded = config::load_config(*a.config_path);
    for (const auto& e : loaded.errors) std::cerr << e.describe() << "\n";
    if (!loaded.config) return EXIT_USAGE;
    const auto dsn = loaded.config->postgres.dsn;

    // 2. The device, by id or path (registered, not removed).
    store::PgStore pg(dsn);
    auto devices = pg.list_devices();
    if (!devices) {
        std::cerr << "error: " << devices.error().describe() << "\n";
        return 1;
    }
    const store::DeviceRow* device = nullptr;
    for (const auto& d : *devices)
        if (d.id == a.device || d.path() == a.device) device = &d;
    if (!device) {
        std::cerr << "error: unknown device '" << a.device
                  << "' (give its id or user/profile/room/device)\n";
        return 1;
    }

    // 3. One transaction for the whole file (the sink's write() is all or nothing).
    store::WriteBatch batch;
    batch.readings.reserve(parsed.rows.size());
    for (const auto& r : parsed.rows) {
        Reading reading;
        reading.device_id = device->id;
        reading.ts = r.ts;
        reading.power_w = r.power_w;
        reading.energy_wh = r.counter_wh;
        batch.readings.push_back(std::move(reading));
    }
    progress.show("writing " + std::to_string(batch.readings.size()) + " readings", 0, 1);
    auto sink = store::make_pg_batch_sink(dsn);
    auto written = sink->write(batch);
    progress.done();
    if (!written) {
        std::cerr << "error: " << written.error().describe() << "; nothing was imported\n";
        return 1;
    }

    // 4. Rollups of the affected range, rebuilt from scratch a week at a time.
    const SysTime from = parsed.rows.front().ts;
    const SysTime to = parsed.rows.back().ts + std::chrono::minutes(1);
    store::RollupWorker rollups(dsn, clock);
    const auto step = std::chrono::hours(24 * 7);
    const auto chunks = static_cast<std::size_t>((to - from) / step) + 1;
    std::size_t done = 0;
    for (SysTime t = from; t < to; t += step, ++done) {
        progress.show("rolling up", done, chunks);
        if (auto st = rollups.recompute(device->id, t, std::min(to, t + step)); !st) {
            progress.done();
            std::cerr << "error: readings imported, but rollups failed: " << st.error().describe()
                      << " (the bridge's rollup worker retries them)\n";
            return 1;
        }
    }
    progress.done();
    std::cout << "imported " << written->inserted << " reading(s) into " << device->path() << " ("
              << device->id << ")";
    if (written->duplicates > 0) std::cout << ", " << written->duplicates << " already present";
    std::cout << "; " << format_iso8601(from) << " .. " << format_iso8601(parsed.rows.back().ts)
              << " rolled up\n";
    return 0;
}

}  // namespace

std::function<std::optional<int>()> register_import_command(CLI::App& app,
                                                             std::string& config_path) {
    auto args = std::make_shared<ImportArgs>();
    args->config_path = &config_path;
    auto* sub = app.add_subcommand(
        "import", "load historic readings from CSV into the database (timestamp, power W[, counter Wh])");
    sub->add_option("--csv", args->csv, "CSV file: timestamp (ISO-8601 or epoch s), power W, "
                                        "optional counter Wh; ',' or ';'")
        ->required();
    sub->add_option("--device", args->device, "device id (shelly-…) or USER/PROFILE/ROOM/NAME")
        ->required();
    sub->add_option("-c,--config", config_path, "config file (its [postgres] dsn is used)");
    sub->add_flag("-q,--quiet", args->quiet, "no progress bar");
    sub->allow_extras();
    args->app = sub;
    return [args]() -> std::optional<int> {
        if (!args->app->parsed()) return std::nullopt;
        return run_import(*args);
    };
}

}  // namespace intelergy::app
