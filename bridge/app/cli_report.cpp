// `intelergy report PATH`: energy per member (device, room or profile) of PATH over a local day,
// week or month, as a table, --json or --csv. A client of the bridge's energy/query (like the
// setup commands): members come from device/list, room/list and profile/list.
#include "cli_client.hpp"
#include "cli_energy.hpp"
#include "cli_request.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

namespace intelergy::app {

namespace {

using Json = nlohmann::json;
constexpr int EXIT_USAGE = 2;

struct ReportArgs {
    std::string* config_path{nullptr};
    std::string path;
    std::string by;
    std::string period{"day"};
    std::string from, to;
    std::string compare;
    std::string timeout{"10"};
    bool json{false};
    bool csv{false};
    CLI::App* app{nullptr};
};

struct Failure {
    int code;
    std::string message;
};

std::optional<std::chrono::year_month_day> parse_date(const std::string& s) {
    unsigned y = 0, m = 0, d = 0;
    char tail = 0;
    if (s.size() != 10 || std::sscanf(s.c_str(), "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3)
        return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year(static_cast<int>(y)),
                                          std::chrono::month(m), std::chrono::day(d)};
    if (!ymd.ok()) return std::nullopt;
    return ymd;
}

std::string date_text(std::chrono::year_month_day d) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                  static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
    return buf;
}

std::chrono::year_month_day add_days(std::chrono::year_month_day d, long n) {
    return std::chrono::year_month_day(std::chrono::sys_days(d) + std::chrono::days(n));
}

std::vector<std::string> split_path(const std::string& p) {
    std::vector<std::string> out;
    std::stringstream s(p);
    for (std::string part; std::getline(s, part, '/');) out.push_back(part);
    return out;
}

class Reporter {
public:
    Reporter(cli::ApiClient& api) : api_(api) {}

    Json call(const std::string& path, const Json& payload) {
        const auto reply = api_.call({path, payload.dump()});
        if (reply.kind != cli::Reply::Kind::Ok)
            throw Failure{cli::exit_code(reply), path + ": " + reply.message};
        return Json::parse(reply.data);
    }

    // The members' paths (and display names relative to `scope`).
    std::vector<std::string> members(const std::string& scope, const std::string& by) {
        const auto parts = split_path(scope);
        std::vector<std::string> out;
        if (by == "device") {
            const auto list = call("device/list", {{"path", scope}});
            for (const auto& d : list["devices"]) {
                const auto p = d["path"].get<std::string>();
                if (p == scope || p.rfind(scope + "/", 0) == 0) out.push_back(p);
            }
        } else if (by == "room") {
            if (parts.size() >= 3) return {parts[0] + "/" + parts[1] + "/" + parts[2]};
            std::vector<std::string> profiles;
            if (parts.size() == 2) profiles.push_back(parts[1]);
            else {
                const auto list = call("profile/list", {{"user", parts[0]}});
                for (const auto& p : list["profiles"]) profiles.push_back(p["name"].get<std::string>());
            }
            for (const auto& p : profiles) {
                const auto list = call("room/list", {{"user", parts[0]}, {"profile", p}});
                for (const auto& r : list["rooms"]) out.push_back(r["path"].get<std::string>());
            }
        } else {  // profile
            if (parts.size() >= 2) return {parts[0] + "/" + parts[1]};
            const auto list = call("profile/list", {{"user", parts[0]}});
            for (const auto& p : list["profiles"]) out.push_back(p["path"].get<std::string>());
        }
        return out;
    }

private:
    cli::ApiClient& api_;
};

std::string kwh(const Json& wh, int decimals = 3) {
    if (!wh.is_number()) return "-";
    std::ostringstream s;
    s << std::fixed << std::setprecision(decimals) << wh.get<double>() / 1000.0;
    return s.str();
}

std::string pct(std::optional<double> v, bool sign = false) {
    if (!v) return "-";
    std::ostringstream s;
    if (sign && *v >= 0) s << '+';
    s << std::fixed << std::setprecision(1) << *v * 100.0 << "%";
    return s.str();
}

std::optional<double> num(const Json& j) {
    return j.is_number() ? std::optional<double>(j.get<double>()) : std::nullopt;
}

std::optional<double> change(const Json& now, const Json& before) {
    const auto a = num(now), b = num(before);
    if (!a || !b || *b == 0) return std::nullopt;
    return (*a - *b) / *b;
}

Json opt(std::optional<double> v) { return v ? Json(*v) : Json(nullptr); }

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

int run_report(ReportArgs& a) {
    if (const auto extra = a.app->remaining(); !extra.empty()) {
        std::cerr << "error: unexpected argument '" << extra.front() << "'\n";
        return EXIT_USAGE;
    }
    const auto usage = [](const std::string& m) {
        std::cerr << "error: " << m << "\nrun `intelergy report --help` for its arguments\n";
        return EXIT_USAGE;
    };
    const auto parts = split_path(a.path);
    if (a.path.empty() || parts.empty() || parts.size() > 4)
        return usage("PATH must be user[/profile[/room[/device]]]");
    for (const auto& p : parts)
        if (p.empty()) return usage("PATH must be user[/profile[/room[/device]]]");
    if (a.by.empty()) a.by = parts.size() == 1 ? "profile" : parts.size() == 2 ? "room" : "device";
    if (a.by != "device" && a.by != "room" && a.by != "profile")
        return usage("--by must be device, room or profile");
    if ((a.by == "profile" && parts.size() > 2) || (a.by == "room" && parts.size() > 3))
        return usage("--by " + a.by + " needs a PATH above it (e.g. alice or alice/home)");
    if (a.period != "day" && a.period != "week" && a.period != "month")
        return usage("--period must be day, week or month");
    if (!a.compare.empty() && a.compare != "previous") return usage("--compare takes 'previous'");
    if (a.json && a.csv) return usage("give --json or --csv, not both");
    if (a.from.empty() != a.to.empty()) return usage("give both --from and --to (dates)");
    std::optional<std::chrono::year_month_day> from, to;
    if (!a.from.empty()) {
        from = parse_date(a.from), to = parse_date(a.to);
        if (!from || !to) return usage("--from and --to must be dates, e.g. 2026-03-01");
        if (std::chrono::sys_days(*to) < std::chrono::sys_days(*from))
            return usage("--to must not be before --from");
    }
    const auto timeout = cli::parse_seconds(a.timeout);
    if (!timeout) return usage("--timeout must be a number of seconds");

    auto loaded = config::load_config(*a.config_path);
    for (const auto& e : loaded.errors) std::cerr << e.describe() << "\n";
    if (!loaded.config) return EXIT_USAGE;
    cli::quiet_logging();
    cli::MqttApiClient api(loaded.config->mqtt,
                           std::chrono::milliseconds(static_cast<std::int64_t>(*timeout * 1000)));
    Reporter r(api);

    // The window (this one, and the previous one of the same length with --compare).
    const auto window = [&](bool previous) {
        Json w{{"resolution", "day"}};
        if (from) {
            const long days = (std::chrono::sys_days(*to) - std::chrono::sys_days(*from)).count() + 1;
            const auto f = previous ? add_days(*from, -days) : *from;
            w["from"] = date_text(f);
            w["to"] = date_text(add_days(f, days));  // --to is inclusive
        } else {
            w["period"] = a.period;
            if (previous) w["offset"] = -1;
        }
        return w;
    };
    const auto query = [&](const std::string& scope, bool previous) {
        auto w = window(previous);
        w["path"] = scope;
        return r.call("energy/query", w);
    };

    try {
        const bool compare = !a.compare.empty();
        const auto total = query(a.path, false);
        const auto total_prev = compare ? query(a.path, true) : Json();
        const auto names = r.members(a.path, a.by);
        Json members = Json::array();
        const auto total_wh = num(total["total_wh"]);
        for (const auto& m : names) {
            const auto q = query(m, false);
            Json row{{"path", m},
                     {"name", m.size() > a.path.size() && m.rfind(a.path + "/", 0) == 0
                                  ? m.substr(a.path.size() + 1)
                                  : m},
                     {"energy_wh", q["total_wh"]},
                     {"coverage", q["coverage"]}};
            const auto wh = num(q["total_wh"]);
            row["share"] = opt(wh && total_wh && *total_wh > 0
                                   ? std::optional<double>(*wh / *total_wh)
                                   : std::nullopt);
            if (compare) {
                const auto p = query(m, true);
                row["previous_wh"] = p["total_wh"];
                row["change"] = opt(change(q["total_wh"], p["total_wh"]));
            }
            members.push_back(std::move(row));
        }
        Json out{{"scope", a.path},
                 {"by", a.by},
                 {"period", from ? "range" : a.period},
                 {"from", total["from"]},
                 {"to", total["to"]},
                 {"timezone", total["timezone"]},
                 {"total_wh", total["total_wh"]},
                 {"coverage", total["coverage"]},
                 {"members", members}};
        for (const char* k : {"from_local", "to_local"})
            if (total.contains(k)) out[k] = total[k];
        if (compare)
            out["previous"] = Json{{"from", total_prev["from"]},
                                   {"to", total_prev["to"]},
                                   {"total_wh", total_prev["total_wh"]},
                                   {"coverage", total_prev["coverage"]},
                                   {"change", opt(change(total["total_wh"], total_prev["total_wh"]))}};

        if (a.json) {
            std::cout << out.dump(2) << "\n";
            return 0;
        }
        if (a.csv) {
            std::cout << "member,path,energy_kwh,share_pct,coverage_pct";
            if (compare) std::cout << ",previous_kwh,change_pct";
            std::cout << "\n";
            const auto line = [&](const std::string& name, const std::string& path, const Json& wh,
                                  std::optional<double> share, const Json& cov, const Json& prev,
                                  std::optional<double> chg) {
                const auto p = [](std::optional<double> v) {
                    if (!v) return std::string();
                    std::ostringstream s;
                    s << std::fixed << std::setprecision(2) << *v * 100.0;
                    return s.str();
                };
                std::cout << csv_field(name) << "," << csv_field(path) << ","
                          << (wh.is_number() ? kwh(wh, 5) : "") << "," << p(share) << ","
                          << p(num(cov));
                if (compare) std::cout << "," << (prev.is_number() ? kwh(prev, 5) : "") << "," << p(chg);
                std::cout << "\n";
            };
            for (const auto& m : members)
                line(m["name"], m["path"], m["energy_wh"], num(m["share"]), m["coverage"],
                     m.value("previous_wh", Json()), num(m.value("change", Json())));
            line("total", a.path, total["total_wh"], total_wh ? std::optional<double>(1.0) : std::nullopt,
                 total["coverage"], total_prev.is_object() ? total_prev["total_wh"] : Json(),
                 compare ? change(total["total_wh"], total_prev["total_wh"]) : std::nullopt);
            return 0;
        }
        // Table.
        std::string span;
        if (total.contains("from_local") && total.contains("to_local")) {
            const auto f = parse_date(total["from_local"].get<std::string>().substr(0, 10));
            const auto t = parse_date(total["to_local"].get<std::string>().substr(0, 10));
            if (f && t) span = date_text(*f) + " .. " + date_text(add_days(*t, -1));
        }
        if (span.empty()) span = total["from"].get<std::string>() + " .. " + total["to"].get<std::string>();
        std::cout << a.path << " by " << a.by << ", " << (from ? "" : a.period + " ") << span;
        if (total["timezone"].is_string()) std::cout << " (" << total["timezone"].get<std::string>() << ")";
        std::cout << "\n\n";
        std::size_t w = 6;
        for (const auto& m : members) w = std::max(w, m["name"].get<std::string>().size());
        const auto row = [&](const std::string& name, const std::string& e, const std::string& share,
                             const std::string& cov, const std::string& prev, const std::string& chg) {
            std::cout << std::left << std::setw(static_cast<int>(w) + 2) << name << std::right
                      << std::setw(12) << e << std::setw(9) << share << std::setw(10) << cov;
            if (compare) std::cout << std::setw(14) << prev << std::setw(9) << chg;
            std::cout << "\n";
        };
        row("member", "kWh", "share", "coverage", "previous kWh", "change");
        for (const auto& m : members)
            row(m["name"], kwh(m["energy_wh"]), pct(num(m["share"])), pct(num(m["coverage"])),
                kwh(m.value("previous_wh", Json())), pct(num(m.value("change", Json())), true));
        row("total", kwh(total["total_wh"]), total_wh ? "100.0%" : "-", pct(num(total["coverage"])),
            compare ? kwh(total_prev["total_wh"]) : "",
            compare ? pct(change(total["total_wh"], total_prev["total_wh"]), true) : "");
        return 0;
    } catch (const Failure& f) {
        std::cerr << "error: " << f.message << "\n";
        return f.code;
    }
}

}  // namespace

std::function<std::optional<int>()> register_report_command(CLI::App& app,
                                                             std::string& config_path) {
    auto args = std::make_shared<ReportArgs>();
    args->config_path = &config_path;
    auto* sub = app.add_subcommand("report", "energy per device, room or profile (kWh, share, "
                                             "coverage) over a local day, week or month");
    sub->add_option("PATH", args->path, "user[/profile[/room[/device]]]")->required();
    sub->add_option("--by", args->by, "device, room or profile (default: the level below PATH)");
    sub->add_option("--period", args->period,
                    "day, week or month: the current one in the profile's time zone (default day)");
    sub->add_option("--from", args->from, "first local date, e.g. 2026-03-01 (with --to)");
    sub->add_option("--to", args->to, "last local date, inclusive (with --from)");
    sub->add_option("--compare", args->compare, "'previous': also the previous period and the change");
    sub->add_flag("--json", args->json, "machine-readable JSON");
    sub->add_flag("--csv", args->csv, "CSV, one row per member and a total");
    sub->add_option("-c,--config", config_path, "config file (broker URL, base topic, login)");
    sub->add_option("--timeout", args->timeout, "seconds to wait for the bridge (default 10)");
    sub->allow_extras();
    args->app = sub;
    return [args]() -> std::optional<int> {
        if (!args->app->parsed()) return std::nullopt;
        return run_report(*args);
    };
}

}  // namespace intelergy::app
