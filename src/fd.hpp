// An owned file descriptor: closed when its owner goes, moved but never copied (systemd's
// _cleanup_close_ and TAKE_FD, as a type).
#pragma once

#include <unistd.h>

#include <utility>

namespace pj {

class UniqueFd {
public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        reset(other.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }

    // Gives up ownership: the caller closes it now.
    int release() noexcept { return std::exchange(fd_, -1); }
    // Closes what it holds (close errors on Linux leave the fd closed; nothing to retry).
    void reset(int fd = -1) noexcept {
        int old = std::exchange(fd_, fd);
        if (old >= 0)
            ::close(old);
    }

private:
    int fd_ = -1;
};

}  // namespace pj
