// The FIFO the daemon reads: created, reused, or adopted from systemd (pipejournal.socket).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>

namespace pj {

class Fifo {
public:
    enum class Origin {
        created,           // made by this process: removed again on stop
        reused,            // was there already: left alone
        socket_activated,  // systemd owns it (LISTEN_FDS): never removed by us
    };

    // Uses the FIFO at path, creating it with exactly `mode` if nothing is there. Refuses
    // anything that is not a FIFO, never follows a symlink (StartupError, exit 6). The missing
    // parent directories are created (0755), as systemd does for ListenFIFO=.
    static Fifo open_or_create(const std::string& path, mode_t mode);

    // The FIFO systemd passed (LISTEN_FDS/LISTEN_PID), or nullopt when none was passed.
    // Throws StartupError if what was passed is not exactly one FIFO.
    static std::optional<Fifo> from_systemd(const std::string& configured_path);

    Fifo(Fifo&& other) noexcept;
    Fifo& operator=(Fifo&&) = delete;
    ~Fifo();

    int fd() const noexcept { return fd_; }
    const std::string& path() const noexcept { return path_; }
    Origin origin() const noexcept { return origin_; }

    // Closes the FIFO; removes it if this process created it and the path still names that very
    // FIFO (not something put there since). Returns whether it was removed.
    bool close_and_remove();

private:
    Fifo(int fd, std::string path, Origin origin, const struct stat& st);

    int fd_;
    std::string path_;
    Origin origin_;
    dev_t device_;
    ino_t inode_;
};

}  // namespace pj
