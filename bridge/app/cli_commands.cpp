// Client subcommands over the MQTT API: user, profile, room, device, discovered, setup.
// Argument problems are reported here with exit code 2 (so arguments are parsed as text and
// checked by cli::build_request); requests go through cli::MqttApiClient.
#include "cli_client.hpp"
#include "cli_energy.hpp"
#include "cli_request.hpp"
#include "cli_setup.hpp"
#include "wiring.hpp"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace intelergy::app {

namespace {

constexpr int EXIT_USAGE = 2;

// One leaf command (e.g. `device set`) and what its arguments were bound to.
struct Leaf {
    CLI::App* app{nullptr};
    cli::CliArgs args;
    std::vector<std::string> required;            // names of the required positionals, in order
    std::vector<std::function<void()>> finalize;  // copies given options into `args`
    std::string password_file;
    CLI::Option* password_option{nullptr};
};

struct Commands {
    std::string* config_path{nullptr};
    bool json{false};
    std::string timeout{"10"};
    std::vector<std::unique_ptr<Leaf>> leaves;
    std::vector<CLI::App*> groups;
    CLI::App* setup{nullptr};
};

void add_common(Commands& c, CLI::App* sub, bool json) {
    sub->add_option("-c,--config", *c.config_path, "config file (broker URL, base topic, login)");
    sub->add_option("--timeout", c.timeout, "seconds to wait for the bridge (default 10)");
    if (json) sub->add_flag("--json", c.json, "print the response data as JSON");
}

Leaf& add_leaf(Commands& c, CLI::App* parent, const std::string& name,
               const std::string& description,
               std::vector<std::pair<std::string, std::string>> positionals, std::size_t required) {
    auto leaf = std::make_unique<Leaf>();
    leaf->app = parent->add_subcommand(name, description);
    leaf->app->allow_extras();  // reported by us, as a usage error (exit 2)
    leaf->args.command = parent->get_name() == "intelergy" ? name : parent->get_name() + " " + name;
    for (std::size_t i = 0; i < positionals.size(); ++i) {
        leaf->app->add_option(positionals[i].first, leaf->args.args.at(i), positionals[i].second);
        if (i < required) leaf->required.push_back(positionals[i].first);
    }
    add_common(c, leaf->app, true);
    c.leaves.push_back(std::move(leaf));
    return *c.leaves.back();
}

void add_text(Leaf& leaf, const std::string& name, std::optional<std::string> cli::CliArgs::*field,
              const std::string& description) {
    auto storage = std::make_shared<std::string>();
    auto* option = leaf.app->add_option(name, *storage, description);
    leaf.finalize.emplace_back([option, storage, &leaf, field] {
        if (option->count() > 0) leaf.args.*field = *storage;
    });
}

int usage_error(const Leaf* leaf, const std::string& message) {
    std::cerr << "error: " << message << "\n";
    if (leaf)
        std::cerr << "run `intelergy " << leaf->args.command << " --help` for its arguments\n";
    return EXIT_USAGE;
}

std::optional<config::AppConfig> load(const std::string& path) {
    auto result = config::load_config(path);
    for (const auto& e : result.errors) std::cerr << e.describe() << "\n";
    if (!result.config) std::cerr << path << ": " << result.errors.size() << " error(s)\n";
    return result.config;
}

std::optional<std::chrono::milliseconds> timeout_of(const std::string& text) {
    const auto s = cli::parse_seconds(text);
    if (!s) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(*s * 1000.0));
}

int run_leaf(Commands& c, Leaf& leaf) {
    if (const auto extra = leaf.app->remaining(); !extra.empty())
        return usage_error(&leaf, "unexpected argument '" + extra.front() + "'");
    for (std::size_t i = 0; i < leaf.required.size(); ++i)
        if (leaf.args.args.at(i).empty())
            return usage_error(&leaf, leaf.required[i] + " is required");
    for (const auto& f : leaf.finalize) f();
    if (leaf.password_option && leaf.password_option->count() > 0) {
        std::ifstream file(leaf.password_file);
        if (!file) return usage_error(&leaf, "cannot read --password-file " + leaf.password_file);
        std::ostringstream content;
        content << file.rdbuf();
        leaf.args.password = cli::strip_trailing_newlines(content.str());
    }
    const auto timeout = timeout_of(c.timeout);
    if (!timeout)
        return usage_error(&leaf, "--timeout must be a number of seconds (0 < S <= 3600)");
    auto request = cli::build_request(leaf.args);
    if (!request) return usage_error(&leaf, request.error().message);
    const auto config = load(*c.config_path);
    if (!config) return EXIT_USAGE;

    cli::quiet_logging();
    cli::MqttApiClient api(config->mqtt, *timeout);
    const auto reply = api.call(*request);
    switch (reply.kind) {
        case cli::Reply::Kind::Ok:
            std::cout << (c.json ? cli::json_output(leaf.args, reply.data)
                                 : cli::human_output(leaf.args, reply.data))
                      << std::flush;
            break;
        case cli::Reply::Kind::Error:
        case cli::Reply::Kind::NoResponse:
        case cli::Reply::Kind::NoBroker:
            std::cerr << "error: " << reply.message << "\n";
            break;
    }
    return cli::exit_code(reply);
}

int run_setup(Commands& c) {
    if (const auto extra = c.setup->remaining(); !extra.empty())
        return usage_error(nullptr, "unexpected argument '" + extra.front() + "'");
    const auto timeout = timeout_of(c.timeout);
    if (!timeout) return usage_error(nullptr, "--timeout must be a number of seconds");
    const auto config = load(*c.config_path);
    if (!config) return EXIT_USAGE;
    cli::quiet_logging();
    cli::MqttApiClient api(config->mqtt, *timeout);
    return cli::run_setup(std::cin, std::cout, std::cerr, api, isatty(STDIN_FILENO) != 0);
}

void register_hierarchy(Commands& c, CLI::App& app) {
    auto* user = app.add_subcommand("user", "add, remove and list users (through the bridge)");
    add_leaf(c, user, "add", "add a user", {{"NAME", "user name"}}, 1);
    add_leaf(c, user, "remove", "remove a user (once it has no profiles)", {{"NAME", "user name"}},
             1);
    add_leaf(c, user, "list", "list users", {}, 0);

    auto* profile = app.add_subcommand("profile", "add, update, remove and list profiles (homes)");
    auto& padd =
        add_leaf(c, profile, "add", "add a profile", {{"USER/PROFILE", "e.g. alice/home"}}, 1);
    auto& pupd = add_leaf(c, profile, "update", "change a profile's time zone or tariff",
                          {{"USER/PROFILE", "e.g. alice/home"}}, 1);
    for (auto* l : {&padd, &pupd}) {
        add_text(*l, "--timezone", &cli::CliArgs::timezone, "IANA time zone, e.g. Europe/Berlin");
        add_text(*l, "--tariff", &cli::CliArgs::tariff, "price per kWh, e.g. 0.32");
        add_text(*l, "--currency", &cli::CliArgs::currency, "currency of the tariff, e.g. EUR");
    }
    add_leaf(c, profile, "remove", "remove a profile", {{"USER/PROFILE", "e.g. alice/home"}}, 1);
    add_leaf(c, profile, "list", "list a user's profiles", {{"USER", "user name"}}, 1);

    auto* room = app.add_subcommand("room", "add, rename, remove and list rooms");
    add_leaf(c, room, "add", "add a room", {{"USER/PROFILE/ROOM", "e.g. alice/home/kitchen"}}, 1);
    add_leaf(c, room, "rename", "rename a room",
             {{"USER/PROFILE/ROOM", "e.g. alice/home/kitchen"}, {"NEW", "new room name"}}, 2);
    add_leaf(c, room, "remove", "remove a room", {{"USER/PROFILE/ROOM", "e.g. alice/home/kitchen"}},
             1);
    add_leaf(c, room, "list", "list a profile's rooms", {{"USER/PROFILE", "e.g. alice/home"}}, 1);
    for (auto* g : {user, profile, room}) c.groups.push_back(g);
}

void register_devices(Commands& c, CLI::App& app) {
    const std::pair<std::string, std::string> device{
        "ID|PATH", "device id (shelly-…) or USER/PROFILE/ROOM/NAME"};
    auto* dev = app.add_subcommand("device", "add, list, remove, rename, move and switch plugs");
    auto& add = add_leaf(c, dev, "add", "register a plug (the bridge checks it first)",
                         {{"USER/PROFILE/ROOM/NAME", "e.g. alice/home/kitchen/kettle"}}, 1);
    add_text(add, "--url", &cli::CliArgs::url,
             "plug address polled over HTTP, e.g. http://192.168.1.40");
    add_text(add, "--username", &cli::CliArgs::username, "plug login user");
    add.password_option =
        add.app->add_option("--password-file", add.password_file, "file holding the plug password");
    add_text(add, "--poll-interval", &cli::CliArgs::poll_interval, "seconds between polls");
    add.app->add_flag("--mqtt", add.args.mqtt, "a Gen2+ plug that publishes to this broker");
    add_text(add, "--topic-prefix", &cli::CliArgs::topic_prefix,
             "the plug's MQTT topic prefix (with --mqtt)");
    add_leaf(c, dev, "list", "list plugs (under PATH if given)",
             {{"PATH", "e.g. alice or alice/home/kitchen"}}, 0);
    add_leaf(c, dev, "remove", "remove a plug", {device}, 1);
    add_leaf(c, dev, "rename", "rename a plug (its id stays)", {device, {"NEW", "new name"}}, 2);
    add_leaf(c, dev, "move", "move a plug to another room",
             {device, {"USER/PROFILE/ROOM", "target room"}}, 2);
    auto& set = add_leaf(c, dev, "set", "switch a plug's relay",
                         {device, {"STATE", "on, off or toggle"}}, 2);
    add_text(set, "--channel", &cli::CliArgs::channel, "relay channel (default 0)");
    auto& opts =
        add_leaf(c, dev, "options", "change polling or enable/disable a plug", {device}, 1);
    add_text(opts, "--poll-interval", &cli::CliArgs::poll_interval, "seconds between polls");
    opts.app->add_flag("--enable", opts.args.enable, "poll and publish the plug again");
    opts.app->add_flag("--disable", opts.args.disable, "stop polling the plug, keep its data");
    c.groups.push_back(dev);
    for (auto* group : c.groups) {
        group->allow_extras();  // reported by us, as a usage error (exit 2)
        add_common(c, group, false);
    }

    add_leaf(c, &app, "discovered", "list plugs seen on the broker but not registered", {}, 0);
}

}  // namespace

ClientCommands register_client_commands(CLI::App& app, std::string& config_path) {
    auto commands = std::make_shared<Commands>();
    commands->config_path = &config_path;
    register_hierarchy(*commands, app);
    register_devices(*commands, app);
    commands->setup = app.add_subcommand("setup",
                                         "first-time walk through user, profile, room "
                                         "and plugs (interactive)");
    commands->setup->allow_extras();
    add_common(*commands, commands->setup, false);
    auto report = register_report_command(app, config_path);
    auto import = register_import_command(app, config_path);

    return ClientCommands{[commands, report, import]() -> std::optional<int> {
        auto& c = *commands;
        if (auto code = report()) return code;
        if (auto code = import()) return code;
        for (auto& leaf : c.leaves)
            if (leaf->app->parsed()) return run_leaf(c, *leaf);
        if (c.setup->parsed()) return run_setup(c);
        for (auto* group : c.groups) {
            if (!group->parsed()) continue;
            std::cerr << group->help();
            if (const auto extra = group->remaining(); !extra.empty())
                std::cerr << "error: unknown command '" << extra.front() << "'\n";
            else
                std::cerr << "error: `intelergy " << group->get_name() << "` needs a command\n";
            return EXIT_USAGE;
        }
        return std::nullopt;
    }};
}

}  // namespace intelergy::app
