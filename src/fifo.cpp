#include "fifo.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "errors.hpp"
#include "numbers.hpp"

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

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
    throw StartupError("Refusing to use " + path + ": " + why, EEXIST, exit_not_configured);
}

// The directory that holds path's last component in one call, when it exists and nothing on the
// way is a symbolic link: what the walk below makes sure of one component at a time, with two
// calls each (openat2(2), Linux 5.6). Anything else (a directory to create, a link to refuse, an
// older kernel) is left to the walk, which creates and explains.
UniqueFd open_existing_parent(const std::string& path) {
    const std::string parent = path.substr(0, path.rfind('/'));
    struct open_how how {};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS;
    long fd =
        syscall(SYS_openat2, AT_FDCWD, parent.empty() ? "/" : parent.c_str(), &how, sizeof how);
    return UniqueFd(fd >= 0 ? static_cast<int>(fd) : -1);
}

// Opens the directory that holds path's last component, walking from / one component at a time
// with O_NOFOLLOW, creating missing directories (0755) as systemd does for ListenFIFO=. A symbolic
// link anywhere on the way is refused: what the path names must not change under us.
UniqueFd open_parent(const std::string& path) {
    if (UniqueFd existing = open_existing_parent(path))
        return existing;
    UniqueFd dir(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir)
        fail("Failed to open", "/", errno);
    std::size_t start = 1;
    for (std::size_t slash; (slash = path.find('/', start)) != std::string::npos;
         start = slash + 1) {
        std::string name = path.substr(start, slash - start);
        std::string so_far = path.substr(0, slash);
        if (mkdirat(dir.get(), name.c_str(), 0755) < 0 && errno != EEXIST)
            fail("Failed to create directory", so_far, errno);
        UniqueFd next(
            openat(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next) {
            int error = errno;
            struct stat st {};
            if ((error == ENOTDIR || error == ELOOP) &&
                fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode))
                refuse(path, so_far + " is a symbolic link (name the real path instead)");
            fail("Failed to open directory", so_far, error,
                 error == ENOTDIR ? exit_not_configured : exit_failure);
        }
        dir = std::move(next);
    }
    return dir;
}

}  // namespace

Fifo::Fifo(UniqueFd fd, std::string path, Origin origin, const struct stat& st)
    : fd_(std::move(fd)),
      path_(std::move(path)),
      origin_(origin),
      device_(st.st_dev),
      inode_(st.st_ino) {}

Fifo Fifo::open_or_create(const std::string& path, mode_t mode) {
    UniqueFd dir = open_parent(path);
    const std::string name = path.substr(path.rfind('/') + 1);

    Origin origin = Origin::created;
    if (mkfifoat(dir.get(), name.c_str(), mode) < 0) {
        // Something is there, or another process made it just now: either way look at it as an
        // existing FIFO (systemd's fifo_address_create does the same).
        if (errno != EEXIST)
            fail("Failed to create FIFO", path, errno);
        origin = Origin::reused;
        struct stat st {};
        if (fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
            fail("Failed to look at", path, errno);
        // Look before opening: opening a device node can have effects of its own.
        if (!S_ISFIFO(st.st_mode))
            refuse(path, "it is " + describe(st.st_mode) +
                             ", not a FIFO (remove it or configure another path)");
    }

    // O_RDWR: we count as a writer ourselves, so the FIFO never reports EOF (and never spins)
    // when the last outside writer closes it. O_NOFOLLOW and fstat close the race with whatever
    // may replace the name between the look and the open.
    UniqueFd fd(
        openat(dir.get(), name.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW));
    if (!fd) {
        int error = errno;
        if (origin == Origin::created)
            unlinkat(dir.get(), name.c_str(), 0);
        if (error == ELOOP)
            refuse(path, "it is a symbolic link, not a FIFO (remove it or configure another path)");
        fail("Failed to open FIFO", path, error);
    }
    struct stat st {};
    if (fstat(fd.get(), &st) < 0)
        fail("Failed to look at", path, errno);
    if (!S_ISFIFO(st.st_mode))
        refuse(path, "it is " + describe(st.st_mode) +
                         ", not a FIFO (remove it or configure another path)");
    if (origin == Origin::created) {
        // mkfifo applied the umask; the configured mode is meant exactly.
        if (fchmod(fd.get(), mode) < 0) {
            int error = errno;
            unlinkat(dir.get(), name.c_str(), 0);
            fail("Failed to set the mode of FIFO", path, error);
        }
    } else if (st.st_uid != geteuid() || st.st_gid != getegid() || (st.st_mode & 07777) != mode) {
        // Whoever owns it can read our writers' lines, or make us read theirs.
        refuse(path, "the FIFO there belongs to uid " + std::to_string(st.st_uid) + " gid " +
                         std::to_string(st.st_gid) + " with mode " + octal_mode(st.st_mode) +
                         ", not to us (uid " + std::to_string(geteuid()) + " gid " +
                         std::to_string(getegid()) + ") with mode " + octal_mode(mode) +
                         " (remove it, or let pipejournal.socket create it)");
    }
    return Fifo(std::move(fd), path, origin, st);
}

Fifo Fifo::adopt(UniqueFd fd, const std::string& label) {
    std::string path = label;
    char link[4096];
    std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
    if (ssize_t length = readlink(proc.c_str(), link, sizeof link - 1);
        length > 0 && link[0] == '/')
        path.assign(link, static_cast<std::size_t>(length));
    // systemd opens it O_RDWR|O_NONBLOCK; make sure, and keep it from leaking into children.
    int flags = fcntl(fd.get(), F_GETFL);
    if (flags < 0 || fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0 ||
        fcntl(fd.get(), F_SETFD, FD_CLOEXEC) < 0)
        fail("Failed to set flags on the FIFO systemd passed,", path, errno);
    struct stat st {};
    if (fstat(fd.get(), &st) < 0)
        fail("Failed to look at", path, errno);
    return Fifo(std::move(fd), path, Origin::socket_activated, st);
}

bool Fifo::close_and_remove() {
    fd_.reset();
    if (origin_ != Origin::created)
        return false;
    struct stat st {};
    if (lstat(path_.c_str(), &st) < 0 || !S_ISFIFO(st.st_mode) || st.st_dev != device_ ||
        st.st_ino != inode_)
        return false;  // someone else's now
    return unlink(path_.c_str()) == 0;
}

std::vector<PassedFd> take_passed_fds() {
    char** names = nullptr;
    int n = sd_listen_fds_with_names(true, &names);
    if (n < 0)
        throw StartupError(
            std::string("Failed to read LISTEN_FDS from systemd: ") + std::strerror(-n), -n);
    std::vector<PassedFd> passed;
    for (int i = 0; i < n; ++i) {
        passed.push_back({UniqueFd(SD_LISTEN_FDS_START + i), names && names[i] ? names[i] : ""});
        if (names)
            std::free(names[i]);
    }
    std::free(names);
    return passed;
}

std::optional<Fifo> take_passed_fifo(std::vector<PassedFd>& passed,
                                     const std::string& configured_path) {
    auto is_fifo = [](const PassedFd& p) { return sd_is_fifo(p.fd.get(), nullptr) > 0; };
    auto chosen = passed.end();
    std::size_t fifos = 0;
    for (auto it = passed.begin(); it != passed.end(); ++it) {
        if (!is_fifo(*it))
            continue;
        ++fifos;
        if (sd_is_fifo(it->fd.get(), configured_path.c_str()) > 0)
            chosen = it;
    }
    if (chosen == passed.end() && fifos == 1)
        chosen = std::find_if(passed.begin(), passed.end(), is_fifo);
    if (chosen == passed.end())
        return std::nullopt;
    Fifo fifo = Fifo::adopt(std::move(chosen->fd), configured_path);
    passed.erase(chosen);
    return fifo;
}

}  // namespace pj
