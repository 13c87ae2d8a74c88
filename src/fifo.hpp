// The FIFO the daemon reads: created, reused, or adopted from systemd (pipejournal.socket).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "fd.hpp"

namespace pj {

class Fifo {
public:
    enum class Origin {
        created,           // made by this process: removed again on stop
        reused,            // was there already, ours by owner and mode: left alone
        socket_activated,  // systemd owns it (LISTEN_FDS): never removed by us
    };

    // Uses the FIFO at path, creating it with exactly `mode` if nothing is there. No component of
    // the path may be a symbolic link. Refuses (StartupError, exit 6) anything that is not a FIFO,
    // and an existing FIFO whose owner is not this process's user and group or whose mode is not
    // `mode` (someone else's FIFO could be read by them too), as systemd does for ListenFIFO=.
    // Missing parent directories are created (0755), as systemd does for ListenFIFO=.
    static Fifo open_or_create(const std::string& path, mode_t mode);

    // Adopts a FIFO systemd passed, labelled with the path it really has (or `label` when the
    // path can't be read).
    static Fifo adopt(UniqueFd fd, const std::string& label);

    Fifo(Fifo&&) noexcept = default;
    Fifo& operator=(Fifo&&) noexcept = default;

    int fd() const noexcept { return fd_.get(); }
    const std::string& path() const noexcept { return path_; }
    Origin origin() const noexcept { return origin_; }

    // Closes the FIFO; removes it if this process created it and the path still names that very
    // FIFO (not something put there since). Returns whether it was removed.
    bool close_and_remove();

private:
    Fifo(UniqueFd fd, std::string path, Origin origin, const struct stat& st);

    UniqueFd fd_;
    std::string path_;
    Origin origin_;
    dev_t device_;
    ino_t inode_;
};

// What systemd passed (sd_listen_fds_with_names(3)), each with its FileDescriptorName=.
struct PassedFd {
    UniqueFd fd;
    std::string name;
};
// Takes the passed descriptors (LISTEN_FDS for this PID) and unsets the variables. Throws
// StartupError when they can't be read.
std::vector<PassedFd> take_passed_fds();

// The FIFO among the passed descriptors for `configured_path`: the one that is that very FIFO, else
// the only FIFO passed. nullopt when none was passed. Descriptors not taken stay in `passed`.
std::optional<Fifo> take_passed_fifo(std::vector<PassedFd>& passed,
                                     const std::string& configured_path);

}  // namespace pj
