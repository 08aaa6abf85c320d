#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace intelergy::test {

// A PostgreSQL cluster that belongs to one test, so the test may stop and start it (outages).
// initdb into a fresh directory under /tmp, served on 127.0.0.1 at a free port with trust auth.
// PostgreSQL refuses to run as root, so as root every pg_ctl/initdb runs as the `postgres`
// system user through runuser (as scripts/lib/services.sh does). Every wait is bounded
// (pg_ctl -w -t), and the postmaster PID is kept: the destructor stops the cluster with pg_ctl
// and, should that fail, signals exactly that PID, then removes the directory.
class PrivatePostgres {
public:
    PrivatePostgres();
    ~PrivatePostgres();
    PrivatePostgres(const PrivatePostgres&) = delete;
    PrivatePostgres& operator=(const PrivatePostgres&) = delete;

    // Empty when the cluster can be used; otherwise why not (no server binaries, initdb failed).
    [[nodiscard]] const std::string& unavailable() const { return unavailable_; }

    // Start/stop the server (same port and data every time). Errors carry pg_ctl's log tail.
    // `mode` is pg_ctl's: "fast" (clean shutdown) or "immediate" (as after a power cut: the
    // next start replays the WAL).
    bool start(std::string* error = nullptr);
    bool stop(std::string* error = nullptr, const std::string& mode = "fast");
    [[nodiscard]] bool running() const { return pid_ > 0; }
    [[nodiscard]] pid_t pid() const { return pid_; }

    // postgresql://postgres@127.0.0.1:<port>/postgres
    [[nodiscard]] std::string dsn() const;
    [[nodiscard]] int port() const { return port_; }

private:
    bool run(const std::vector<std::string>& argv, std::string* error);

    std::string bindir_;
    std::string dir_;
    std::string unavailable_;
    int port_{0};
    pid_t pid_{-1};
};

}  // namespace intelergy::test
