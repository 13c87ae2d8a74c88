#include "fifo.hpp"

#include <fcntl.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "errors.hpp"

namespace pj {
namespace {

std::string describe(mode_t mode) {
    switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFLNK: return "a symbolic link";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    default: return "not a FIFO";
    }
}

[[noreturn]] void fail(const std::string& what, const std::string& path, int error,
                       ExitStatus status = exit_failure) {
    throw StartupError(what + " " + path + ": " + std::strerror(error), error, status);
}

[[noreturn]] void refuse(const std::string& path, mode_t mode) {
    throw StartupError("Refusing to use " + path + ": it is " + describe(mode) +
                           ", not a FIFO (remove it or configure another path)",
                       EEXIST, exit_not_configured);
}

// mkdir -p for the parents of path, as systemd does for ListenFIFO=.
void create_parents(const std::string& path) {
    for (std::size_t slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
        std::string dir = path.substr(0, slash);
        if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST)
            fail("Failed to create directory", dir, errno);
    }
}

}  // namespace

Fifo::Fifo(int fd, std::string path, Origin origin, const struct stat& st)
    : fd_(fd), path_(std::move(path)), origin_(origin), device_(st.st_dev), inode_(st.st_ino) {}

Fifo::Fifo(Fifo&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      origin_(other.origin_),
      device_(other.device_),
      inode_(other.inode_) {}

Fifo::~Fifo() {
    if (fd_ >= 0)
        close(fd_);
}

Fifo Fifo::open_or_create(const std::string& path, mode_t mode) {
    // Look before opening: opening a device node or a symlink target can have effects of its own.
    struct stat st {};
    Origin origin = Origin::reused;
    if (lstat(path.c_str(), &st) == 0) {
        if (!S_ISFIFO(st.st_mode))
            refuse(path, st.st_mode);
    } else if (errno == ENOENT) {
        create_parents(path);
        if (mkfifo(path.c_str(), mode) < 0)
            fail("Failed to create FIFO", path, errno);
        origin = Origin::created;
    } else {
        fail("Failed to look at", path, errno);
    }

    // O_RDWR: we count as a writer ourselves, so the FIFO never reports EOF (and never spins)
    // when the last outside writer closes it. O_NOFOLLOW and fstat close the race with
    // whatever may replace the path between lstat and open.
    int fd = open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    if (fd < 0) {
        int error = errno;
        if (origin == Origin::created)
            unlink(path.c_str());
        if (error == ELOOP)
            refuse(path, S_IFLNK);
        fail("Failed to open FIFO", path, error);
    }
    if (fstat(fd, &st) < 0) {
        int error = errno;
        close(fd);
        fail("Failed to look at", path, error);
    }
    if (!S_ISFIFO(st.st_mode)) {
        close(fd);
        refuse(path, st.st_mode);
    }
    // mkfifo applied the umask; the configured mode is meant exactly.
    if (origin == Origin::created && fchmod(fd, mode) < 0) {
        int error = errno;
        close(fd);
        unlink(path.c_str());
        fail("Failed to set the mode of FIFO", path, error);
    }
    return Fifo(fd, path, origin, st);
}

std::optional<Fifo> Fifo::from_systemd(const std::string& configured_path) {
    int n = sd_listen_fds(true);
    if (n < 0)
        throw StartupError(
            std::string("Failed to read LISTEN_FDS from systemd: ") + std::strerror(-n), -n);
    if (n == 0)
        return std::nullopt;
    if (n > 1)
        throw StartupError("systemd passed " + std::to_string(n) +
                               " file descriptors; pipejournal.socket must list one ListenFIFO=",
                           EINVAL, exit_not_configured);
    int fd = SD_LISTEN_FDS_START;
    int r = sd_is_fifo(fd, nullptr);
    if (r < 0)
        throw StartupError(
            std::string("Failed to check the file descriptor systemd passed: ") + std::strerror(-r),
            -r);
    if (r == 0)
        throw StartupError(
            "systemd passed a file descriptor that is not a FIFO; "
            "pipejournal.socket must use ListenFIFO=",
            EINVAL, exit_not_configured);
    // The path is only a label for entries; name the FIFO by where it really is.
    std::string path = configured_path;
    if (sd_is_fifo(fd, configured_path.c_str()) <= 0) {
        char link[4096];
        std::string proc = "/proc/self/fd/" + std::to_string(fd);
        ssize_t len = readlink(proc.c_str(), link, sizeof link - 1);
        if (len > 0)
            path.assign(link, static_cast<std::size_t>(len));
    }
    // systemd opens it O_RDWR|O_NONBLOCK; make sure, and keep it from leaking into children.
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        fail("Failed to set flags on the FIFO systemd passed,", path, errno);
    struct stat st {};
    if (fstat(fd, &st) < 0)
        fail("Failed to look at", path, errno);
    return Fifo(fd, path, Origin::socket_activated, st);
}

bool Fifo::close_and_remove() {
    if (fd_ >= 0)
        close(std::exchange(fd_, -1));
    if (origin_ != Origin::created)
        return false;
    struct stat st {};
    if (lstat(path_.c_str(), &st) < 0 || !S_ISFIFO(st.st_mode) || st.st_dev != device_ ||
        st.st_ino != inode_)
        return false;  // someone else's now
    return unlink(path_.c_str()) == 0;
}

}  // namespace pj
