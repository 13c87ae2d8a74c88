#include "systemd/journal.hpp"

#include <endian.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

namespace pj::journal {
int encode(std::span<const Field> fields, std::string& out) noexcept {
    out.clear();
    try {
        for (const Field& field : fields) {
            if (!is_valid_field_name(field.name))
                return -EINVAL;
            out.append(field.name);
            if (field.value.find('\n') == std::string_view::npos) {
                out += '=';
                out.append(field.value);
            } else {
                uint64_t size = htole64(field.value.size());
                out += '\n';
                out.append(reinterpret_cast<const char*>(&size), sizeof size);
                out.append(field.value);
            }
            out += '\n';
        }
    } catch (const std::bad_alloc&) {
        return -ENOMEM;
    }
    return 0;
}

int decode(std::string_view wire, std::vector<std::pair<std::string, std::string>>& out) {
    while (!wire.empty()) {
        std::size_t end = wire.find_first_of("=\n");
        if (end == std::string_view::npos || !is_valid_field_name(wire.substr(0, end)))
            return -EBADMSG;
        std::string name(wire.substr(0, end));
        if (wire[end] == '=') {
            std::size_t newline = wire.find('\n', end);
            if (newline == std::string_view::npos)
                return -EBADMSG;
            out.emplace_back(std::move(name), wire.substr(end + 1, newline - end - 1));
            wire.remove_prefix(newline + 1);
            continue;
        }
        wire.remove_prefix(end + 1);
        uint64_t size = 0;
        if (wire.size() < sizeof size)
            return -EBADMSG;
        std::memcpy(&size, wire.data(), sizeof size);
        size = le64toh(size);
        wire.remove_prefix(sizeof size);
        if (size >= wire.size() || wire[size] != '\n')
            return -EBADMSG;
        out.emplace_back(std::move(name), wire.substr(0, size));
        wire.remove_prefix(size + 1);
    }
    return 0;
}

Socket::Socket(std::string path) : path_(std::move(path)) {}

int Socket::connect_socket() noexcept {
    if (fd_)
        return fd_.get();
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path_.size() >= sizeof address.sun_path)
        return -ENAMETOOLONG;
    std::memcpy(address.sun_path, path_.data(), path_.size());
    UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd)
        return -errno;
    // Our own buffer, not journald's queue, is what fills: see send_buffer_bytes. Best effort.
    int buffer = send_buffer_bytes;
    (void)setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size() + 1);
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), size) < 0)
        return -errno;  // ENOENT, ECONNREFUSED: journald's socket is not there (yet)
    fd_ = std::move(fd);
    return fd_.get();
}

int Socket::send(std::span<const Field> fields) noexcept {
    int r = send_encoded(fields);
    if (wire_.capacity() > wire_keep_bytes)
        std::string().swap(wire_);
    return r;
}

int Socket::send_encoded(std::span<const Field> fields) noexcept {
    if (int r = encode(fields, wire_); r < 0)
        return r;
    return send_wire(wire_);
}

int Socket::send_wire(std::string_view entry) noexcept {
    int fd = connect_socket();
    if (fd < 0)
        return fd;
    for (;;) {
        if (::send(fd, entry.data(), entry.size(), MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
            return 0;
        int error = errno;
        switch (error) {
        case EINTR: continue;
        // Too large for one datagram: hand journald a sealed memfd holding the entry, as
        // libsystemd does.
        case EMSGSIZE:
        case ENOBUFS: return send_in_memfd(entry);
        // The peer went away (journald's socket unit stopped): connect again next time.
        case ECONNREFUSED:
        case ENOTCONN:
        case EPIPE:
        case ECONNRESET: fd_.reset(); return -ECONNREFUSED;
        default: return -error;
        }
    }
}

int Socket::send_in_memfd(std::string_view entry) noexcept {
    UniqueFd memfd(memfd_create("journal-entry", MFD_ALLOW_SEALING | MFD_CLOEXEC));
    if (!memfd)
        return -errno;
    while (!entry.empty()) {
        ssize_t n = write(memfd.get(), entry.data(), entry.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        entry.remove_prefix(static_cast<std::size_t>(n));
    }
    if (fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) <
        0)
        return -errno;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr message{};
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    int passed = memfd.get();
    std::memcpy(CMSG_DATA(header), &passed, sizeof(int));
    if (sendmsg(fd_.get(), &message, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        return -errno;
    return 0;
}

namespace {

Socket& own_socket() {
    static Socket journal;
    return journal;
}

}  // namespace

int send_wire(std::string_view entry) noexcept {
    return own_socket().send_wire(entry);
}

bool wait_writable(uint64_t timeout_usec) noexcept {
    int fd = own_socket().fd();
    if (fd < 0)
        return false;
    pollfd room{fd, POLLOUT, 0};
    int r;
    do
        r = poll(&room, 1, static_cast<int>(timeout_usec / 1000));
    while (r < 0 && errno == EINTR);
    return r > 0;
}

bool socket_present() noexcept {
    struct stat st {};
    return stat(default_socket_path, &st) == 0 && S_ISSOCK(st.st_mode);
}

bool stderr_is_journal() noexcept {
    const char* value = std::getenv("JOURNAL_STREAM");
    if (!value)
        return false;
    // "DEVICE:INODE" in decimal, as the service manager writes it. from_chars, not sscanf():
    // libc's scanf machinery would be one more 64 KiB of code resident in every service.
    const std::string_view text(value);
    const std::size_t colon = text.find(':');
    uintmax_t device = 0, inode = 0;
    if (colon == std::string_view::npos ||
        std::from_chars(text.data(), text.data() + colon, device).ptr != text.data() + colon ||
        std::from_chars(text.data() + colon + 1, text.data() + text.size(), inode).ptr !=
            text.data() + text.size())
        return false;
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) < 0)
        return false;
    return st.st_dev == device && st.st_ino == inode;
}

}  // namespace pj::journal
