// Test support for the integration tests: run the built pipejournal binary the
// way systemd would, with a test-owned NOTIFY_SOCKET, and watch what it does.
//
//   pjtest::TempDir dir;
//   pjtest::Daemon daemon{{.args = {"--fifo=" + (dir / "in").string()}}};
//   auto ready = daemon.wait_notify("READY=1", 5s);
//   daemon.kill(SIGTERM);
//   auto status = daemon.wait_exit(5s);
//
// Everything the daemon says (stdout, stderr, notify datagrams) is collected by
// one background thread, so the daemon never blocks on a full pipe while a test
// is busy writing into its FIFO. Waits take deadlines; nothing sleeps.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace pjtest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Duration = Clock::duration;

// Path of the binary under test, from $PIPEJOURNAL_BIN (set by meson).
std::string daemon_binary();

// Where the daemon looks for journald. When it exists, the daemon logs to the
// journal instead of stdout, and the tests that read stdout cannot run.
bool journal_socket_present();

// CLOCK_MONOTONIC now, in microseconds (the unit of MONOTONIC_USEC=).
std::int64_t monotonic_usec();

// An owned file descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release();
    void reset();

private:
    int fd_ = -1;
};

// A private directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// File helpers; each throws std::system_error naming the path on failure.
void write_file(const std::filesystem::path& path, std::string_view content);
std::string read_file(const std::filesystem::path& path);
void make_fifo(const std::filesystem::path& path, mode_t mode = 0600);
// Opens a FIFO for writing (blocking), as a writer program would.
Fd open_for_writing(const std::filesystem::path& path);
void write_all(int fd, std::string_view data);
// "FIFO", "regular file", "symlink", "directory", ..., or "nothing" (ENOENT).
std::string file_type(const std::filesystem::path& path);

// One datagram received on the notify socket.
struct Datagram {
    std::string text;
    // Arrival time by the kernel (SO_TIMESTAMPNS, CLOCK_REALTIME): good for the
    // spacing between datagrams, whatever the test thread was doing meanwhile.
    std::chrono::nanoseconds arrived{};
    // CLOCK_MONOTONIC (µs) when the receiving thread picked it up.
    std::int64_t received_monotonic_usec = 0;
    pid_t sender = 0;  // SO_PASSCRED; 0 when the kernel did not say

    // The value of KEY= in this datagram, if present.
    std::optional<std::string> field(std::string_view key) const;
    // True when the datagram carries this exact assignment, e.g. "READY=1".
    bool has(std::string_view assignment) const;
};

// How a process ended.
struct ExitStatus {
    bool exited = false;  // false: killed by a signal
    int code = -1;        // exit code, when exited
    int signal = 0;       // signal, when not exited
    std::string describe() const;
};

// Placeholder in Options::env replaced in the child by its own pid, after fork
// and before exec (the way systemd sets WATCHDOG_PID= and LISTEN_PID=).
inline constexpr std::string_view kChildPid = "<child pid>";

struct Options {
    std::vector<std::string> args = {};             // argv[1..]
    std::optional<std::string> binary = {};         // else daemon_binary()
    std::map<std::string, std::string> env = {};    // added to a cleaned environment
    bool notify_socket = true;                      // set NOTIFY_SOCKET to a test-owned socket
    int pass_fd = -1;                               // becomes fd 3 in the child (socket activation)
    std::optional<std::filesystem::path> cwd = {};  // working directory of the child
    std::optional<mode_t> umask = {};               // umask of the child (else inherited)
};

// The daemon under test, running.
class Daemon {
public:
    explicit Daemon(Options options);
    ~Daemon();  // SIGKILLs and reaps it if it still runs
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    pid_t pid() const { return pid_; }
    const std::string& notify_socket_path() const { return notify_path_; }

    // Every wait below ends at its deadline, or as soon as the daemon has closed
    // stdout and stderr (it exited) and what is waited for cannot come any more.

    // --- notify datagrams, consumed in order ---------------------------------
    // The next datagram not yet consumed, waiting up to `timeout`.
    std::optional<Datagram> next_notify(Duration timeout);
    // Consumes datagrams until one matches; nullopt when the deadline passes.
    std::optional<Datagram> wait_notify(const std::function<bool(const Datagram&)>& match,
                                        Duration timeout);
    // Same, for a datagram carrying this exact assignment (e.g. "READY=1").
    std::optional<Datagram> wait_notify(std::string_view assignment, Duration timeout);
    // Every datagram received so far, consumed or not, for failure messages.
    std::vector<Datagram> notifications() const;
    std::string notify_log() const;

    // --- stdout / stderr ------------------------------------------------------
    std::string out() const;
    std::string err() const;
    // Complete lines of stdout so far (without "\n").
    std::vector<std::string> out_lines() const;
    // Waits until `match` holds for the stdout text collected so far.
    bool wait_out(const std::function<bool(std::string_view)>& match, Duration timeout);
    // Waits until stdout holds this exact line.
    bool wait_out_line(std::string_view line, Duration timeout);
    // Waits until stderr contains `text`.
    bool wait_err(std::string_view text, Duration timeout);
    // Waits until both stdout and stderr are closed (the daemon has exited).
    bool wait_output_closed(Duration timeout);

    // --- process --------------------------------------------------------------
    void kill(int signal);
    // Reaps the daemon; nullopt if it still runs at the deadline.
    std::optional<ExitStatus> wait_exit(Duration timeout);
    bool running();

    // Everything known about the daemon, for failure messages.
    std::string describe() const;

private:
    void spawn(const Options& options);
    void collect();  // the background thread

    TempDir dir_;  // holds the notify socket
    std::string notify_path_;
    Fd notify_;
    Fd out_pipe_, err_pipe_;
    Fd wake_read_, wake_write_;  // tells the thread to stop
    Fd pidfd_;
    pid_t pid_ = -1;
    std::optional<ExitStatus> exit_;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::string out_, err_;
    bool out_closed_ = false, err_closed_ = false;
    std::vector<Datagram> datagrams_;
    std::size_t consumed_ = 0;
    std::thread collector_;
};

// Starts the daemon with a FIFO and config file in `dir` and waits for READY=1;
// throws (with everything the daemon said) if READY=1 does not come in time.
struct Started {
    std::unique_ptr<Daemon> daemon;
    Datagram ready;
};
Started start_ready(Options options, Duration timeout = 5s);

// CPU time (user + system) the process has used so far, from /proc/PID/stat.
std::chrono::milliseconds cpu_time(pid_t pid);

// A writer program that keeps writing numbered lines ("<prefix>000001\n", ...),
// one write() per line, until stopped or until the FIFO has no reader (EPIPE).
class BusyWriter {
public:
    BusyWriter(const std::filesystem::path& fifo, std::string prefix);
    ~BusyWriter();  // stops and joins
    BusyWriter(const BusyWriter&) = delete;
    BusyWriter& operator=(const BusyWriter&) = delete;
    // Waits until at least `count` lines were written.
    bool wait_written(long count, Duration timeout);
    // Stops writing; returns how many lines were written.
    long stop();

private:
    Fd fd_;
    std::string prefix_;
    std::mutex mutex_;
    std::condition_variable changed_;
    long written_ = 0;
    bool stop_ = false;
    std::thread thread_;
};

// A private directory holding the FIFO path and an explicit config file, so a
// config installed on the machine never leaks into a test.
struct Sandbox {
    explicit Sandbox(std::string_view config_text = "[PipeJournal]\n");
    TempDir dir;
    std::filesystem::path fifo = dir / "in";
    std::filesystem::path config = dir / "pipejournal.conf";
    // --fifo=<fifo> --config=<config>, then `extra`.
    std::vector<std::string> args(std::vector<std::string> extra = {}) const;
    // Names of the entries in `dir`, sorted.
    std::vector<std::string> entries() const;
};

// Text for "expected ... seen ..." messages: control characters other than
// newline escaped (\r, \x00, ...), cut at `max` bytes.
std::string escaped(std::string_view text, std::size_t max = 2000);

}  // namespace pjtest
