#include "cli_setup.hpp"

#include "intelergy/core/names.hpp"

#include <nlohmann/json.hpp>
#include <termios.h>
#include <unistd.h>

#include <istream>
#include <optional>
#include <ostream>

namespace intelergy::app::cli {

namespace {

using Json = nlohmann::json;

constexpr int EXIT_ABORTED = 1;

CliArgs command(const char* name, std::string first_arg = {}) {
    CliArgs args;
    args.command = name;
    args.args[0] = std::move(first_arg);
    return args;
}

std::string trim(std::string s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

// Terminal echo off for the lifetime of the object (when stdin is a terminal).
class EchoOff {
public:
    explicit EchoOff(bool enabled) {
        if (!enabled || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_) != 0) return;
        termios quiet = saved_;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        active_ = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
    }
    ~EchoOff() {
        if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;
    [[nodiscard]] bool active() const { return active_; }

private:
    termios saved_{};
    bool active_{false};
};

class Setup {
public:
    Setup(std::istream& in, std::ostream& out, std::ostream& err, ApiClient& api, bool terminal)
        : in_(in), out_(out), err_(err), api_(api), terminal_(terminal) {}

    int run() {
        out_ << "Intelergy setup: a user, a profile (home), a room and its plugs.\n"
                "Press Ctrl-D to stop; what was added up to then is kept.\n";
        std::optional<int> rc;
        if ((rc = step_user()) || (rc = step_profile()) || (rc = step_room()) ||
            (rc = step_devices()))
            return *rc;
        out_ << "\nSetup done: " << user_ << "/" << profile_ << "/" << room_ << " with " << devices_
             << " plug(s) added. `intelergy device list` shows them.\n";
        return 0;
    }

private:
    // One answer line, trimmed; nullopt at end of input (the caller aborts).
    std::optional<std::string> ask(const std::string& prompt, const std::string& fallback = {},
                                   bool secret = false) {
        out_ << prompt;
        if (!fallback.empty()) out_ << " [" << fallback << "]";
        out_ << ": " << std::flush;
        std::string line;
        bool got = false;
        {
            EchoOff echo_off(secret && terminal_);
            got = static_cast<bool>(std::getline(in_, line));
            if (echo_off.active()) out_ << "\n";
        }
        if (!got) {
            out_ << "\n";
            err_ << "setup aborted: end of input (what was added so far is kept)\n";
            return std::nullopt;
        }
        line = secret ? line : trim(line);
        if (secret && !line.empty() && line.back() == '\r') line.pop_back();
        // Answers piped in are not echoed by a terminal: show them so the transcript reads well.
        if (line.empty()) line = fallback;
        if (!terminal_)
            out_ << (secret ? std::string(line.empty() ? "" : "(hidden)") : line) << "\n";
        return line;
    }

    // Asks until the answer is a valid name (checked here, before anything is sent).
    std::optional<std::string> ask_name(const std::string& prompt, const char* what,
                                        const std::string& fallback = {}) {
        while (true) {
            auto answer = ask(prompt, fallback);
            if (!answer) return std::nullopt;
            if (auto st = validate_name(*answer, what); st)
                return answer;
            else
                err_ << "  " << st.error().message << "; try again\n";
        }
    }

    std::optional<bool> ask_yes_no(const std::string& prompt, bool fallback) {
        while (true) {
            auto answer = ask(prompt + (fallback ? " [Y/n]" : " [y/N]"));
            if (!answer) return std::nullopt;
            if (answer->empty()) return fallback;
            const char c =
                static_cast<char>(std::tolower(static_cast<unsigned char>((*answer)[0])));
            if (c == 'y') return true;
            if (c == 'n') return false;
            err_ << "  please answer y or n\n";
        }
    }

    // Sends a request; a missing bridge ends the walk (exit 3), an error is shown and returned.
    Reply send(const CliArgs& args, bool& fatal) {
        auto request = build_request(args);
        if (!request) {
            err_ << "  " << request.error().message << "\n";
            return Reply{Reply::Kind::Error, {}, request.error().message};
        }
        Reply reply = api_.call(*request);
        if (reply.kind == Reply::Kind::NoResponse || reply.kind == Reply::Kind::NoBroker) {
            err_ << "error: " << reply.message << "\n";
            fatal = true;
        } else if (reply.kind == Reply::Kind::Error) {
            err_ << "  error: " << reply.message << "\n";
        } else {
            out_ << "  " << human_output(args, reply.data);
        }
        return reply;
    }

    // Whether `name` is among the names (or paths ending in it) of a list request's answer.
    std::optional<bool> exists(CliArgs list, const char* key, const std::string& path) {
        auto request = build_request(list);
        if (!request) return false;
        const Reply reply = api_.call(*request);
        if (reply.kind == Reply::Kind::NoResponse || reply.kind == Reply::Kind::NoBroker) {
            err_ << "error: " << reply.message << "\n";
            return std::nullopt;
        }
        if (reply.kind != Reply::Kind::Ok) return false;
        const Json data = Json::parse(reply.data, nullptr, false);
        if (!data.is_object() || !data.contains(key) || !data[key].is_array()) return false;
        for (const auto& item : data[key]) {
            if (!item.is_object()) continue;
            if (item.value("path", "") == path || item.value("name", "") == path) return true;
        }
        return false;
    }

    std::optional<int> step_user() {
        out_ << "\n1/4 User\n";
        while (true) {
            auto name = ask_name("User name", "user name");
            if (!name) return EXIT_ABORTED;
            auto found = exists(command("user list"), "users", *name);
            if (!found) return 3;
            user_ = *name;
            if (*found) {
                out_ << "  using the existing user " << user_ << "\n";
                return std::nullopt;
            }
            bool fatal = false;
            if (send(command("user add", user_), fatal).kind == Reply::Kind::Ok)
                return std::nullopt;
            if (fatal) return 3;
        }
    }

    std::optional<int> step_profile() {
        out_ << "\n2/4 Profile (a home, with its time zone and tariff)\n";
        while (true) {
            auto name = ask_name("Profile name", "profile name", "home");
            if (!name) return EXIT_ABORTED;
            profile_ = *name;
            const std::string path = user_ + "/" + profile_;
            auto found = exists(command("profile list", user_), "profiles", path);
            if (!found) return 3;
            if (*found) {
                out_ << "  using the existing profile " << path << "\n";
                return std::nullopt;
            }
            // The bridge knows the time zone database: its answer decides, and a refused time
            // zone is asked for again.
            while (true) {
                auto tz = ask("Time zone (IANA name, e.g. Europe/Berlin)");
                if (!tz) return EXIT_ABORTED;
                if (tz->empty()) continue;
                bool fatal = false;
                CliArgs add = command("profile add", path);
                add.timezone = *tz;
                if (send(add, fatal).kind == Reply::Kind::Ok) return step_tariff(path);
                if (fatal) return 3;
            }
        }
    }

    std::optional<int> step_tariff(const std::string& path) {
        while (true) {
            auto tariff = ask("Electricity price per kWh, e.g. 0.32 (empty: none)");
            if (!tariff) return EXIT_ABORTED;
            if (tariff->empty()) return std::nullopt;
            // Checked right away (the request's own rule), before the currency is asked.
            CliArgs trial = command("profile update", path);
            trial.tariff = *tariff;
            if (auto request = build_request(trial); !request) {
                err_ << "  " << request.error().message << "; try again\n";
                continue;
            }
            auto currency = ask("Currency", "EUR");
            if (!currency) return EXIT_ABORTED;
            bool fatal = false;
            CliArgs update = command("profile update", path);
            update.tariff = *tariff;
            update.currency = *currency;
            if (send(update, fatal).kind == Reply::Kind::Ok) return std::nullopt;
            if (fatal) return 3;
        }
    }

    std::optional<int> step_room() {
        out_ << "\n3/4 Room\n";
        while (true) {
            auto name = ask_name("Room name", "room name");
            if (!name) return EXIT_ABORTED;
            room_ = *name;
            const std::string path = user_ + "/" + profile_ + "/" + room_;
            auto found = exists(command("room list", user_ + "/" + profile_), "rooms", path);
            if (!found) return 3;
            if (*found) {
                out_ << "  using the existing room " << path << "\n";
                return std::nullopt;
            }
            bool fatal = false;
            if (send(command("room add", path), fatal).kind == Reply::Kind::Ok) return std::nullopt;
            if (fatal) return 3;
        }
    }

    std::optional<int> step_devices() {
        out_ << "\n4/4 Plugs\n";
        auto more = ask_yes_no("Add a plug now?", true);
        while (true) {
            if (!more) return EXIT_ABORTED;
            if (!*more) return std::nullopt;
            if (auto rc = add_device()) return rc;
            more = ask_yes_no(devices_ > 0 ? "Add another plug?" : "Try again?", devices_ == 0);
        }
    }

    // nullopt: asked and sent (added or refused); a value: stop with that exit code.
    std::optional<int> add_device() {
        auto name = ask_name("Plug name (e.g. kettle)", "device name");
        if (!name) return EXIT_ABORTED;
        CliArgs add = command("device add", user_ + "/" + profile_ + "/" + room_ + "/" + *name);
        std::optional<std::string> transport;
        while (true) {
            transport =
                ask("Reached over http (polled) or mqtt (Gen2+ plug on this broker)", "http");
            if (!transport) return EXIT_ABORTED;
            if (*transport == "http" || *transport == "mqtt") break;
            err_ << "  please answer http or mqtt\n";
        }
        if (*transport == "mqtt") {
            auto prefix = ask("MQTT topic prefix (e.g. shellyplusplugs-a1b2c3d4e5f6)");
            if (!prefix) return EXIT_ABORTED;
            add.mqtt = true;
            add.topic_prefix = *prefix;
        } else {
            auto url = ask("Address (e.g. http://192.168.1.40)");
            if (!url) return EXIT_ABORTED;
            if (!url->empty() && url->find("://") == std::string::npos) *url = "http://" + *url;
            add.url = *url;
            auto username = ask("Username (empty: the plug has no password)");
            if (!username) return EXIT_ABORTED;
            if (!username->empty()) {
                add.username = *username;
                auto password = ask("Password", {}, true);
                if (!password) return EXIT_ABORTED;
                add.password = *password;
            }
            while (true) {
                auto interval = ask("Poll interval in seconds (empty: the bridge's default)");
                if (!interval) return EXIT_ABORTED;
                if (interval->empty()) break;
                // Checked here so a typo does not throw away the answers above.
                CliArgs trial = command("device options", "shelly-000000000000");
                trial.poll_interval = *interval;
                if (auto request = build_request(trial); !request) {
                    err_ << "  " << request.error().message << "; try again\n";
                    continue;
                }
                add.poll_interval = *interval;
                break;
            }
        }
        bool fatal = false;
        if (send(add, fatal).kind == Reply::Kind::Ok) ++devices_;
        if (fatal) return 3;
        return std::nullopt;
    }

    std::istream& in_;
    std::ostream& out_;
    std::ostream& err_;
    ApiClient& api_;
    bool terminal_;  // `in` is a terminal
    std::string user_;
    std::string profile_;
    std::string room_;
    int devices_{0};
};

}  // namespace

int run_setup(std::istream& in, std::ostream& out, std::ostream& err, ApiClient& api,
              bool terminal) {
    return Setup(in, out, err, api, terminal).run();
}

}  // namespace intelergy::app::cli
