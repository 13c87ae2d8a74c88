#include "systemd/journal.hpp"

#include <endian.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pj::journal {
namespace {

char newline[] = "\n";

iovec piece(const void* data, std::size_t size) {
    return {const_cast<void*>(data), size};
}

}  // namespace

int encode(std::span<const iovec> fields, Encoding& out) noexcept {
    if (fields.size() > Encoding::max_fields)
        return -E2BIG;
    out.count = 0;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        const char* base = static_cast<const char*>(fields[i].iov_base);
        std::size_t size = fields[i].iov_len;
        const char* equals = static_cast<const char*>(std::memchr(base, '=', size));
        if (!equals || !is_valid_field_name({base, static_cast<std::size_t>(equals - base)}))
            return -EINVAL;
        const char* value = equals + 1;
        std::size_t value_size = size - static_cast<std::size_t>(value - base);
        if (!std::memchr(value, '\n', value_size)) {
            out.iov[out.count++] = piece(base, size);
            out.iov[out.count++] = piece(newline, 1);
            continue;
        }
        out.sizes[i] = htole64(value_size);
        out.iov[out.count++] = piece(base, static_cast<std::size_t>(equals - base));
        out.iov[out.count++] = piece(newline, 1);
        out.iov[out.count++] = piece(&out.sizes[i], sizeof(uint64_t));
        out.iov[out.count++] = piece(value, value_size);
        out.iov[out.count++] = piece(newline, 1);
    }
    return 0;
}

Socket::Socket(std::string path, uint64_t send_timeout_usec)
    : send_timeout_usec_(send_timeout_usec) {
    address_.sun_family = AF_UNIX;
    std::size_t length = std::min(path.size(), sizeof address_.sun_path - 1);
    std::memcpy(address_.sun_path, path.data(), length);
    address_size_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length + 1);
}

Socket::~Socket() {
    if (fd_ >= 0)
        close(fd_);
}

int Socket::open_socket() noexcept {
    if (fd_ >= 0)
        return fd_;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    timeval timeout{static_cast<time_t>(send_timeout_usec_ / 1'000'000),
                    static_cast<suseconds_t>(send_timeout_usec_ % 1'000'000)};
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) < 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    // Room for large entries in one datagram; the kernel caps it at wmem_max. Best effort.
    int buffer = 8 * 1024 * 1024;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    fd_ = fd;
    return fd_;
}

int Socket::send(std::span<const iovec> fields) noexcept {
    Encoding entry;
    if (int r = encode(fields, entry); r < 0)
        return r;
    int fd = open_socket();
    if (fd < 0)
        return fd;
    msghdr message{};
    message.msg_name = &address_;
    message.msg_namelen = address_size_;
    message.msg_iov = entry.iov.data();
    message.msg_iovlen = entry.count;
    if (sendmsg(fd, &message, MSG_NOSIGNAL) >= 0)
        return 0;
    // Too large for one datagram: hand journald a sealed memfd holding the entry, as libsystemd
    // does.
    if (errno == EMSGSIZE || errno == ENOBUFS)
        return send_in_memfd(entry);
    return -errno;
}

int Socket::send_in_memfd(const Encoding& entry) noexcept {
    int memfd = memfd_create("journal-entry", MFD_ALLOW_SEALING | MFD_CLOEXEC);
    if (memfd < 0)
        return -errno;
    int result = 0;
    for (std::size_t i = 0; i < entry.count && result == 0; ++i) {
        const char* data = static_cast<const char*>(entry.iov[i].iov_base);
        std::size_t left = entry.iov[i].iov_len;
        while (left > 0) {
            ssize_t n = write(memfd, data, left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                result = -errno;
                break;
            }
            data += n;
            left -= static_cast<std::size_t>(n);
        }
    }
    if (result == 0 &&
        fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
        result = -errno;
    if (result == 0) {
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        msghdr message{};
        message.msg_name = &address_;
        message.msg_namelen = address_size_;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        cmsghdr* header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(header), &memfd, sizeof(int));
        if (sendmsg(fd_, &message, MSG_NOSIGNAL) < 0)
            result = -errno;
    }
    close(memfd);
    return result;
}

int send(std::span<const iovec> fields) noexcept {
    static Socket journal;
    return journal.send(fields);
}

bool socket_present() noexcept {
    struct stat st {};
    return stat(default_socket_path, &st) == 0 && S_ISSOCK(st.st_mode);
}

bool stderr_is_journal() noexcept {
    const char* value = std::getenv("JOURNAL_STREAM");
    if (!value)
        return false;
    uintmax_t device = 0, inode = 0;
    if (std::sscanf(value, "%ju:%ju", &device, &inode) != 2)
        return false;
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) < 0)
        return false;
    return st.st_dev == device && st.st_ino == inode;
}

}  // namespace pj::journal
