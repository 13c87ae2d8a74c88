#include "support.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace pjtest {
namespace {

[[noreturn]] void throw_errno(const std::string& what, int error = errno) {
    throw std::system_error(error, std::generic_category(), what);
}

std::chrono::nanoseconds to_ns(const timespec& ts) {
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// Milliseconds left until `deadline`, for poll(); never negative.
int ms_until(Clock::time_point deadline) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

ExitStatus decode(int wstatus) {
    ExitStatus s;
    if (WIFEXITED(wstatus)) {
        s.exited = true;
        s.code = WEXITSTATUS(wstatus);
    } else if (WIFSIGNALED(wstatus)) {
        s.signal = WTERMSIG(wstatus);
    }
    return s;
}

// Variables of the test's own environment that would confuse the daemon.
bool inherited_but_unwanted(std::string_view entry) {
    static constexpr std::string_view kDropped[] = {
        "NOTIFY_SOCKET=", "WATCHDOG_USEC=",  "WATCHDOG_PID=",   "LISTEN_FDS=",
        "LISTEN_PID=",    "LISTEN_FDNAMES=", "JOURNAL_STREAM=", "PIPEJOURNAL_BIN="};
    return std::any_of(std::begin(kDropped), std::end(kDropped),
                       [&](std::string_view p) { return entry.substr(0, p.size()) == p; });
}

// Writes `value` in decimal into `out` (async-signal-safe; used in the child).
void format_pid(char* out, pid_t value) {
    char digits[16];
    int n = 0;
    do {
        digits[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value > 0);
    while (n > 0)
        *out++ = digits[--n];
    *out = '\0';
}

}  // namespace

std::string daemon_binary() {
    const char* bin = std::getenv("PIPEJOURNAL_BIN");
    if (bin == nullptr || *bin == '\0')
        throw std::runtime_error("PIPEJOURNAL_BIN is not set: run the tests through `meson test`");
    return bin;
}

bool journal_socket_present() {
    struct stat st {};
    return ::stat("/run/systemd/journal/socket", &st) == 0;
}

std::int64_t monotonic_usec() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

// --- Fd ------------------------------------------------------------------------

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        reset();
        fd_ = other.release();
    }
    return *this;
}

int Fd::release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
}

void Fd::reset() {
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
}

// --- TempDir and files ---------------------------------------------------------

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/pipejournal-test.XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr)
        throw_errno("mkdtemp " + templ);
    path_ = templ;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

void write_file(const std::filesystem::path& path, std::string_view content) {
    Fd fd{::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)};
    if (!fd)
        throw_errno("open " + path.string());
    write_all(fd.get(), content);
}

std::string read_file(const std::filesystem::path& path) {
    Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
    if (!fd)
        throw_errno("open " + path.string());
    std::string content;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw_errno("read " + path.string());
        if (n == 0)
            return content;
        content.append(buf, static_cast<std::size_t>(n));
    }
}

void make_fifo(const std::filesystem::path& path, mode_t mode) {
    if (::mkfifo(path.c_str(), mode) < 0)
        throw_errno("mkfifo " + path.string());
    if (::chmod(path.c_str(), mode) < 0)
        throw_errno("chmod " + path.string());
}

Fd open_for_writing(const std::filesystem::path& path) {
    Fd fd{::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW)};
    if (!fd)
        throw_errno("open for writing " + path.string());
    return fd;
}

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw_errno("write");
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string file_type(const std::filesystem::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) < 0)
        return errno == ENOENT ? "nothing" : std::strerror(errno);
    switch (st.st_mode & S_IFMT) {
    case S_IFIFO: return "FIFO";
    case S_IFREG: return "regular file";
    case S_IFLNK: return "symlink";
    case S_IFDIR: return "directory";
    case S_IFSOCK: return "socket";
    case S_IFCHR: return "character device";
    case S_IFBLK: return "block device";
    default: return "unknown";
    }
}

// --- Datagram, ExitStatus ------------------------------------------------------

std::optional<std::string> Datagram::field(std::string_view key) const {
    std::string_view rest = text;
    while (!rest.empty()) {
        auto end = rest.find('\n');
        std::string_view line = rest.substr(0, end);
        if (line.size() > key.size() && line.substr(0, key.size()) == key &&
            line[key.size()] == '=')
            return std::string(line.substr(key.size() + 1));
        if (end == std::string_view::npos)
            break;
        rest.remove_prefix(end + 1);
    }
    return std::nullopt;
}

bool Datagram::has(std::string_view assignment) const {
    auto eq = assignment.find('=');
    auto value = field(assignment.substr(0, eq));
    return value && *value == assignment.substr(eq + 1);
}

std::string ExitStatus::describe() const {
    if (exited)
        return "exit code " + std::to_string(code);
    return std::string("killed by signal ") + std::to_string(signal) + " (" + strsignal(signal) +
           ")";
}

std::string escaped(std::string_view text, std::size_t max) {
    std::string out;
    std::size_t shown = std::min(text.size(), max);
    for (unsigned char c : text.substr(0, shown)) {
        if (c == '\n') {
            out += '\n';
        } else if (c == '\\') {
            out += "\\\\";
        } else if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (shown < text.size())
        out += "...(" + std::to_string(text.size() - shown) + " more bytes)";
    return out;
}

// --- Daemon --------------------------------------------------------------------

Daemon::Daemon(Options options) {
    if (options.notify_socket) {
        notify_path_ = (dir_ / "notify").string();
        notify_ = Fd{::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
        if (!notify_)
            throw_errno("socket(AF_UNIX, SOCK_DGRAM)");
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (notify_path_.size() >= sizeof addr.sun_path)
            throw std::runtime_error("notify socket path too long: " + notify_path_);
        std::memcpy(addr.sun_path, notify_path_.c_str(), notify_path_.size() + 1);
        if (::bind(notify_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
            throw_errno("bind " + notify_path_);
        int on = 1;
        if (::setsockopt(notify_.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0)
            throw_errno("setsockopt SO_PASSCRED");
        if (::setsockopt(notify_.get(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0)
            throw_errno("setsockopt SO_TIMESTAMPNS");
        options.env["NOTIFY_SOCKET"] = notify_path_;
    }
    int wake[2];
    if (::pipe2(wake, O_CLOEXEC) < 0)
        throw_errno("pipe2");
    wake_read_ = Fd{wake[0]};
    wake_write_ = Fd{wake[1]};

    spawn(options);
    collector_ = std::thread([this] { collect(); });
}

Daemon::~Daemon() {
    if (!exit_ && pid_ > 0) {  // never kill(-1, ...)
        ::kill(pid_, SIGKILL);
        int wstatus = 0;
        while (::waitpid(pid_, &wstatus, 0) < 0 && errno == EINTR) {
        }
    }
    if (collector_.joinable()) {
        char byte = 0;
        (void)!::write(wake_write_.get(), &byte, 1);
        collector_.join();
    }
}

void Daemon::spawn(const Options& options) {
    // Everything the child needs is prepared here: between fork and exec only
    // async-signal-safe calls are allowed (the collector threads of other
    // daemons may be running).
    std::vector<std::string> argv_strings{options.binary.value_or(daemon_binary())};
    argv_strings.insert(argv_strings.end(), options.args.begin(), options.args.end());
    std::vector<char*> argv;
    for (auto& a : argv_strings)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view entry{*e};
        auto key = entry.substr(0, entry.find('='));
        if (!inherited_but_unwanted(entry) && options.env.count(std::string(key)) == 0)
            env_strings.emplace_back(entry);
    }
    std::vector<std::size_t> pid_slots;  // indices whose value is the child's pid
    for (const auto& [key, value] : options.env) {
        if (value == kChildPid) {
            pid_slots.push_back(env_strings.size());
            env_strings.push_back(key + "=" + std::string(24, '\0'));
        } else {
            env_strings.push_back(key + "=" + value);
        }
    }
    std::vector<char*> envp;
    for (auto& e : env_strings)
        envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<char*> pid_values;
    for (auto i : pid_slots)
        pid_values.push_back(env_strings[i].data() + env_strings[i].find('=') + 1);

    std::string cwd = options.cwd ? options.cwd->string() : std::string();

    Fd dev_null{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
    if (!dev_null)
        throw_errno("open /dev/null");
    int out[2], err[2], status[2];
    if (::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0 ||
        ::pipe2(status, O_CLOEXEC) < 0)
        throw_errno("pipe2");
    Fd out_write{out[1]}, err_write{err[1]}, status_read{status[0]}, status_write{status[1]};
    out_pipe_ = Fd{out[0]};
    err_pipe_ = Fd{err[0]};

    pid_ = ::fork();
    if (pid_ < 0)
        throw_errno("fork");
    if (pid_ == 0) {
        // Child. On failure, report errno through the status pipe and _exit.
        auto fail = [&](int error) {
            (void)!::write(status_write.get(), &error, sizeof error);
            ::_exit(127);
        };
        if (::dup2(dev_null.get(), 0) < 0 || ::dup2(out_write.get(), 1) < 0 ||
            ::dup2(err_write.get(), 2) < 0)
            fail(errno);
        int first_closed = 3;
        if (options.pass_fd >= 0) {
            if (options.pass_fd == 3) {
                if (::fcntl(3, F_SETFD, 0) < 0)
                    fail(errno);
            } else if (::dup2(options.pass_fd, 3) < 0) {
                fail(errno);
            }
            first_closed = 4;
        }
        // Everything else closes at exec (the status pipe stays open until then).
        if (::close_range(static_cast<unsigned>(first_closed), ~0U, CLOSE_RANGE_CLOEXEC) < 0)
            fail(errno);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);  // the test process ignores it; exec keeps "ignored"
        if (options.umask)
            ::umask(*options.umask);
        if (!cwd.empty() && ::chdir(cwd.c_str()) < 0)
            fail(errno);
        for (char* value : pid_values)
            format_pid(value, ::getpid());
        ::execve(argv[0], argv.data(), envp.data());
        fail(errno);
    }

    // Parent.
    status_write.reset();
    out_write.reset();
    err_write.reset();
    int child_errno = 0;
    ssize_t n;
    while ((n = ::read(status_read.get(), &child_errno, sizeof child_errno)) < 0 &&
           errno == EINTR) {
    }
    if (n > 0) {
        int wstatus;
        ::waitpid(pid_, &wstatus, 0);
        exit_ = decode(wstatus);
        throw_errno("starting " + argv_strings[0], child_errno);
    }
    // glibc 2.36's <sys/pidfd.h> is not C++-clean, so the raw syscall.
    pidfd_ = Fd{
        static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0))};  // may fail (old kernel): then poll
}

void Daemon::collect() {
    enum { kOut, kErr, kNotify, kWake };
    pollfd fds[4] = {{out_pipe_.get(), POLLIN, 0},
                     {err_pipe_.get(), POLLIN, 0},
                     {notify_ ? notify_.get() : -1, POLLIN, 0},
                     {wake_read_.get(), POLLIN, 0}};
    std::vector<char> buf(65536);
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred)) + CMSG_SPACE(sizeof(timespec)) + 64];
    for (;;) {
        if (::poll(fds, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (fds[kWake].revents)
            return;
        bool closed[2] = {false, false};
        for (int which : {kOut, kErr}) {
            if (fds[which].revents == 0)
                continue;
            ssize_t n = ::read(fds[which].fd, buf.data(), buf.size());
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n > 0) {
                std::lock_guard lock(mutex_);
                (which == kOut ? out_ : err_).append(buf.data(), static_cast<std::size_t>(n));
                changed_.notify_all();
            } else {
                closed[which] = true;
                fds[which].fd = -1;
            }
        }
        // A closed stdout/stderr means the daemon exited: every datagram it sent is
        // queued by now. Take them in before saying "closed", so a waiter that gives
        // up on a closed daemon has really seen everything.
        if (fds[kNotify].fd >= 0 && (fds[kNotify].revents || closed[kOut] || closed[kErr])) {
            for (;;) {
                iovec iov{buf.data(), buf.size()};
                msghdr msg{};
                msg.msg_iov = &iov;
                msg.msg_iovlen = 1;
                msg.msg_control = control;
                msg.msg_controllen = sizeof control;
                ssize_t n = ::recvmsg(notify_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                if (n < 0)
                    break;  // EAGAIN: drained
                Datagram d;
                d.received_monotonic_usec = monotonic_usec();
                d.text.assign(buf.data(), static_cast<std::size_t>(n));
                for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
                    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                        ucred cred;
                        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
                        d.sender = cred.pid;
                    } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                        timespec ts;
                        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
                        d.arrived = to_ns(ts);
                    } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        // Not expected from pipejournal; close so nothing leaks.
                        int count = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                        for (int i = 0; i < count; ++i) {
                            int fd;
                            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                            ::close(fd);
                        }
                    }
                }
                std::lock_guard lock(mutex_);
                datagrams_.push_back(std::move(d));
                changed_.notify_all();
            }
        }
        if (closed[kOut] || closed[kErr]) {
            std::lock_guard lock(mutex_);
            out_closed_ |= closed[kOut];
            err_closed_ |= closed[kErr];
            changed_.notify_all();
        }
    }
}

std::optional<Datagram> Daemon::next_notify(Duration timeout) {
    return wait_notify([](const Datagram&) { return true; }, timeout);
}

std::optional<Datagram> Daemon::wait_notify(const std::function<bool(const Datagram&)>& match,
                                            Duration timeout) {
    auto deadline = Clock::now() + timeout;
    std::unique_lock lock(mutex_);
    for (;;) {
        while (consumed_ < datagrams_.size()) {
            const Datagram& d = datagrams_[consumed_++];
            if (match(d))
                return d;
        }
        if (out_closed_ && err_closed_)
            return std::nullopt;  // exited: nothing more will come
        if (changed_.wait_until(lock, deadline) == std::cv_status::timeout &&
            consumed_ == datagrams_.size())
            return std::nullopt;
    }
}

std::optional<Datagram> Daemon::wait_notify(std::string_view assignment, Duration timeout) {
    std::string wanted{assignment};
    return wait_notify([&](const Datagram& d) { return d.has(wanted); }, timeout);
}

std::vector<Datagram> Daemon::notifications() const {
    std::lock_guard lock(mutex_);
    return datagrams_;
}

std::string Daemon::notify_log() const {
    std::lock_guard lock(mutex_);
    if (datagrams_.empty())
        return "  (no datagrams)\n";
    std::ostringstream s;
    auto t0 = datagrams_.front().received_monotonic_usec;
    for (const auto& d : datagrams_) {
        s << "  +" << (d.received_monotonic_usec - t0) / 1000 << "ms: ";
        std::string text = d.text;
        std::replace(text.begin(), text.end(), '\n', '|');
        s << text << "\n";
    }
    return s.str();
}

std::string Daemon::out() const {
    std::lock_guard lock(mutex_);
    return out_;
}

std::string Daemon::err() const {
    std::lock_guard lock(mutex_);
    return err_;
}

std::vector<std::string> Daemon::out_lines() const {
    std::vector<std::string> lines;
    std::lock_guard lock(mutex_);
    std::string_view rest = out_;
    for (auto end = rest.find('\n'); end != std::string_view::npos; end = rest.find('\n')) {
        lines.emplace_back(rest.substr(0, end));
        rest.remove_prefix(end + 1);
    }
    return lines;
}

bool Daemon::wait_out(const std::function<bool(std::string_view)>& match, Duration timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, Clock::now() + timeout, [&] {
        return match(out_) || out_closed_;
    }) && match(out_);
}

bool Daemon::wait_out_line(std::string_view line, Duration timeout) {
    std::string needle = "\n" + std::string(line) + "\n";
    return wait_out(
        [&](std::string_view out) {
            return out.substr(0, needle.size() - 1) == std::string_view(needle).substr(1) ||
                   out.find(needle) != std::string_view::npos;
        },
        timeout);
}

bool Daemon::wait_err(std::string_view text, Duration timeout) {
    std::unique_lock lock(mutex_);
    auto found = [&] { return err_.find(text) != std::string::npos; };
    return changed_.wait_until(lock, Clock::now() + timeout, [&] {
        return found() || err_closed_;
    }) && found();
}

bool Daemon::wait_output_closed(Duration timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, Clock::now() + timeout,
                               [&] { return out_closed_ && err_closed_; });
}

void Daemon::kill(int signal) {
    if (exit_)
        throw std::logic_error("kill: the daemon has already exited: " + exit_->describe());
    if (pid_ <= 0)
        throw std::logic_error("kill: no daemon");
    if (::kill(pid_, signal) < 0)
        throw_errno("kill " + std::to_string(pid_));
}

std::optional<ExitStatus> Daemon::wait_exit(Duration timeout) {
    if (exit_)
        return exit_;
    auto deadline = Clock::now() + timeout;
    for (;;) {
        int wstatus = 0;
        pid_t r = ::waitpid(pid_, &wstatus, WNOHANG);
        if (r == pid_) {
            exit_ = decode(wstatus);
            // Let the collector see the end of stdout/stderr too.
            wait_output_closed(2s);
            return exit_;
        }
        if (r < 0 && errno != EINTR)
            throw_errno("waitpid");
        if (Clock::now() >= deadline)
            return std::nullopt;
        if (pidfd_) {
            pollfd p{pidfd_.get(), POLLIN, 0};
            ::poll(&p, 1, ms_until(deadline));
        } else {
            ::poll(nullptr, 0, std::min(10, ms_until(deadline)));  // no pidfd: check every 10 ms
        }
    }
}

bool Daemon::running() {
    return !wait_exit(0s).has_value();
}

std::string Daemon::describe() const {
    std::ostringstream s;
    s << "daemon pid " << pid_ << ", ";
    s << (exit_ ? exit_->describe() : std::string("not reaped")) << "\n";
    s << "notify datagrams:\n" << notify_log();
    std::string err_text = err(), out_text = out();
    auto unterminated = [](const std::string& t) {
        return !t.empty() && t.back() != '\n' ? "(no newline at end)\n" : "";
    };
    s << "stderr (" << err_text.size() << " bytes):\n"
      << escaped(err_text) << unterminated(err_text);
    if (out_text.size() > 2000)
        out_text = "..." + out_text.substr(out_text.size() - 2000);
    s << "stdout (" << out().size() << " bytes, the last 2000 shown):\n"
      << escaped(out_text) << unterminated(out_text);
    return s.str();
}

Started start_ready(Options options, Duration timeout) {
    auto daemon = std::make_unique<Daemon>(std::move(options));
    auto ready = daemon->wait_notify("READY=1", timeout);
    if (!ready) {
        throw std::runtime_error(
            "expected READY=1 within " +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
            " ms; seen:\n" + daemon->describe());
    }
    return {std::move(daemon), *ready};
}

std::chrono::milliseconds cpu_time(pid_t pid) {
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    // Fields after "(comm)": state is field 3; utime, stime are fields 14 and 15.
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14)
            utime = std::stoull(field);
        if (i == 15)
            stime = std::stoull(field);
    }
    return std::chrono::milliseconds((utime + stime) * 1000 /
                                     static_cast<unsigned long long>(::sysconf(_SC_CLK_TCK)));
}

BusyWriter::BusyWriter(const std::filesystem::path& fifo, std::string prefix)
    : fd_(open_for_writing(fifo)), prefix_(std::move(prefix)) {
    if (::fcntl(fd_.get(), F_SETFL, O_NONBLOCK) < 0)
        throw_errno("fcntl O_NONBLOCK");
    thread_ = std::thread([this] {
        char line[64];
        for (long n = 1;; ++n) {
            {
                std::lock_guard lock(mutex_);
                if (stop_)
                    return;
            }
            int len = std::snprintf(line, sizeof line, "%s%06ld\n", prefix_.c_str(), n);
            ssize_t written = ::write(fd_.get(), line, static_cast<std::size_t>(len));
            if (written < 0 && (errno == EAGAIN || errno == EINTR)) {
                // Pipe full: wait for room, but look at stop_ now and then so a
                // daemon that stopped reading cannot hang the test.
                pollfd room{fd_.get(), POLLOUT, 0};
                ::poll(&room, 1, 50);
                --n;
                continue;
            }
            if (written != len)
                return;  // EPIPE: the daemon is gone (lines are < PIPE_BUF: never partial)
            std::lock_guard lock(mutex_);
            written_ = n;
            changed_.notify_all();
        }
    });
}

BusyWriter::~BusyWriter() {
    stop();
}

bool BusyWriter::wait_written(long count, Duration timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return written_ >= count; });
}

long BusyWriter::stop() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    if (thread_.joinable())
        thread_.join();
    std::lock_guard lock(mutex_);
    return written_;
}

Sandbox::Sandbox(std::string_view config_text) {
    write_file(config, config_text);
}

std::vector<std::string> Sandbox::args(std::vector<std::string> extra) const {
    std::vector<std::string> a{"--fifo=" + fifo.string(), "--config=" + config.string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

std::vector<std::string> Sandbox::entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace pjtest
