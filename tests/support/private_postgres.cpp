#include "support/private_postgres.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace intelergy::test {

namespace {

namespace fs = std::filesystem;

// The newest /usr/lib/postgresql/<version>/bin holding pg_ctl and initdb, or "".
std::string find_bindir() {
    std::vector<std::pair<int, fs::path>> found;
    std::error_code ec;
    for (fs::directory_iterator it("/usr/lib/postgresql", ec), end; !ec && it != end;
         it.increment(ec)) {
        const auto bin = it->path() / "bin";
        if (!fs::exists(bin / "pg_ctl") || !fs::exists(bin / "initdb")) continue;
        int version = 0;
        try {
            version = std::stoi(it->path().filename().string());
        } catch (...) {
            continue;
        }
        found.emplace_back(version, bin);
    }
    if (found.empty()) return {};
    std::sort(found.begin(), found.end());
    return found.back().second.string();
}

// A port nobody listens on right now (the kernel's choice for a bind to port 0).
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

std::string tail_of(const fs::path& file, std::size_t max = 2000) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto s = ss.str();
    return s.size() > max ? s.substr(s.size() - max) : s;
}

}  // namespace

PrivatePostgres::PrivatePostgres() {
    bindir_ = find_bindir();
    if (bindir_.empty()) {
        unavailable_ = "PostgreSQL server binaries not found under /usr/lib/postgresql";
        return;
    }
    std::string tmpl = (fs::temp_directory_path() / "intelergy-pg-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        unavailable_ = "mkdtemp failed";
        return;
    }
    dir_ = tmpl;
    if (::geteuid() == 0) {
        const passwd* pw = ::getpwnam("postgres");
        if (pw == nullptr || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
            unavailable_ = "running as root without a usable 'postgres' user";
            return;
        }
    }
    port_ = free_port();
    std::string err;
    if (port_ == 0 ||
        !run({bindir_ + "/initdb", "-D", dir_ + "/data", "-U", "postgres", "--auth=trust", "-E",
              "UTF8", "--locale=C.UTF-8", "--no-sync"},
             &err))
        unavailable_ = "initdb failed: " + err;
}

PrivatePostgres::~PrivatePostgres() {
    if (pid_ > 0 && !stop(nullptr) && pid_ > 0) {
        ::kill(pid_, SIGQUIT);  // only the postmaster this object started
    }
    if (!dir_.empty()) {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
}

std::string PrivatePostgres::dsn() const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

bool PrivatePostgres::run(const std::vector<std::string>& cmd, std::string* error) {
    std::vector<std::string> full;
    if (::geteuid() == 0) full = {"runuser", "-u", "postgres", "--"};
    full.insert(full.end(), cmd.begin(), cmd.end());
    std::vector<char*> argv;
    for (auto& a : full) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = dir_ + "/command.log";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t child = -1;
    const int rc = posix_spawnp(&child, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        if (error) *error = "cannot run " + full[0];
        return false;
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && error) *error = tail_of(log);
    return ok;
}

bool PrivatePostgres::start(std::string* error) {
    if (!unavailable_.empty()) {
        if (error) *error = unavailable_;
        return false;
    }
    const std::string opts = "-p " + std::to_string(port_) + " -k " + dir_ +
                             " -c listen_addresses=127.0.0.1 -c fsync=off";
    if (!run({bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-l", dir_ + "/postgres.log", "-w", "-t",
              "60", "-o", opts, "start"},
             error)) {
        if (error) *error += "\n" + tail_of(dir_ + "/postgres.log");
        return false;
    }
    std::ifstream pidfile(dir_ + "/data/postmaster.pid");
    long pid = -1;
    pidfile >> pid;
    pid_ = static_cast<pid_t>(pid);
    return pid_ > 0;
}

bool PrivatePostgres::stop(std::string* error, const std::string& mode) {
    if (pid_ <= 0) return true;
    if (!run({bindir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", mode, "-w", "-t", "30", "stop"},
             error))
        return false;
    pid_ = -1;
    return true;
}

}  // namespace intelergy::test
