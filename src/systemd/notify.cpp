#include "systemd/notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace pj::notify {
namespace {

constexpr std::size_t fd_count_max = 1;  // what store() passes

// The notify protocol spoken here (sd_notify(3): one datagram to the AF_UNIX socket named by
// $NOTIFY_SOCKET, '@' for the abstract namespace; a stable interface systemd documents for
// programs that implement it themselves). libsystemd's sd_notify() makes a socket for every
// message and forces its send buffer to 8 MiB, eleven system calls for each watchdog ping and
// about 20 µs of every start (bench case startup: the READY=1 step took 56 µs, now 36). Here: one
// socket for the process's life, with the address in each sendmsg(), so PID 1 re-executing and
// binding its socket anew changes nothing. Blocking, as sd_notify() is: READY=1 and STOPPING=1
// must not be dropped.
int send_datagram(std::string_view message, const int* fds, std::size_t fd_count) noexcept {
    const char* address = std::getenv("NOTIFY_SOCKET");
    if (!address || !*address)
        return 0;
    const std::size_t length = std::strlen(address);
    if (address[0] != '/' && address[0] != '@')
        return -EAFNOSUPPORT;  // systemd 252 names no other kind
    sockaddr_un peer{};
    peer.sun_family = AF_UNIX;
    if (length >= sizeof peer.sun_path)
        return -EINVAL;
    std::memcpy(peer.sun_path, address, length);
    if (address[0] == '@')
        peer.sun_path[0] = '\0';
    // A path is passed with its NUL, an abstract name without (as systemd binds them).
    const auto peer_size =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length + (address[0] == '/'));

    static int socket_fd = -1;  // single-threaded daemon
    if (socket_fd < 0) {
        socket_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (socket_fd < 0)
            return -errno;
    }

    iovec payload{const_cast<char*>(message.data()), message.size()};
    msghdr header{};
    header.msg_name = &peer;
    header.msg_namelen = peer_size;
    header.msg_iov = &payload;
    header.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * fd_count_max)];
    if (fd_count > fd_count_max)
        return -E2BIG;
    if (fd_count > 0) {
        header.msg_control = control;
        header.msg_controllen = CMSG_SPACE(sizeof(int) * fd_count);
        cmsghdr* rights = CMSG_FIRSTHDR(&header);
        rights->cmsg_level = SOL_SOCKET;
        rights->cmsg_type = SCM_RIGHTS;
        rights->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
        std::memcpy(CMSG_DATA(rights), fds, sizeof(int) * fd_count);
    }
    for (;;) {
        if (sendmsg(socket_fd, &header, MSG_NOSIGNAL) >= 0)
            return 1;
        if (errno != EINTR)
            return -errno;
    }
}

// A newline in STATUS= would end the assignment and start another one: fold it to a space.
std::string status_line(std::string_view text) {
    std::string line = "STATUS=";
    line.reserve(line.size() + text.size());
    for (char c : text)
        line += (c == '\n' || c == '\r') ? ' ' : c;
    return line;
}

}  // namespace

std::string ready(std::string_view text) {
    return "READY=1\n" + status_line(text);
}

std::string status(std::string_view text) {
    return status_line(text);
}

std::string reloading(uint64_t monotonic_usec, std::string_view text) {
    return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec) + "\n" +
           status_line(text);
}

std::string stopping(std::string_view text) {
    return "STOPPING=1\n" + status_line(text);
}

std::string failed(int error, std::string_view text) {
    return "ERRNO=" + std::to_string(error) + "\n" + status_line(text);
}

int send(const std::string& message) noexcept {
    return send_datagram(message, nullptr, 0);
}

int store(int fd, std::string_view name) noexcept {
    try {
        if (int r = unstore(name); r <= 0)
            return r;
        const std::string message = "FDSTORE=1\nFDNAME=" + std::string(name);
        return send_datagram(message, &fd, 1);
    } catch (...) {
        return -ENOMEM;
    }
}

int unstore(std::string_view name) noexcept {
    try {
        return send_datagram("FDSTOREREMOVE=1\nFDNAME=" + std::string(name), nullptr, 0);
    } catch (...) {
        return -ENOMEM;
    }
}

}  // namespace pj::notify
