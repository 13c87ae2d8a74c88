// Errors that end the program with a specific exit status (LSB codes, as systemd names them).
#pragma once

#include <cerrno>
#include <stdexcept>
#include <string>

namespace pj {

enum ExitStatus : int {
    exit_success = 0,
    exit_failure = 1,         // start-up or runtime failure
    exit_usage = 2,           // bad command line
    exit_not_installed = 5,   // a part the configuration needs is not installed
    exit_not_configured = 6,  // bad configuration, or the FIFO path holds something else
};

// A reason the daemon cannot start. The message names the object and the cause, e.g.
// "Failed to open FIFO /run/x: Permission denied".
class StartupError : public std::runtime_error {
public:
    StartupError(const std::string& message, int error, ExitStatus status = exit_failure)
        : std::runtime_error(message), error_(error), status_(status) {}
    int error() const noexcept { return error_; }  // positive errno, sent as ERRNO=
    ExitStatus status() const noexcept { return status_; }

private:
    int error_;
    ExitStatus status_;
};

// A bad command line: one line on stderr, exit 2, nothing touched.
class UsageError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A bad configuration file: "FILE:LINE: reason".
class ConfigError : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A failure that passes: the receiver may take the entry later. journald is busy (its queue is
// full) or restarting (its socket is gone or refuses for a moment), or a non-blocking descriptor
// is full.
constexpr bool is_transient(int negative_errno) noexcept {
    switch (-negative_errno) {
    case EINTR:
    case EAGAIN:
    case ENOBUFS:
    case ENOMEM:
    case ECONNREFUSED:  // journald restarting: its socket exists, nobody listens yet
    case ENOENT:        // journald restarting: its socket is not there yet
        return true;
    default: return false;
    }
}

}  // namespace pj
