// The journal's native protocol: field names, sending entries, and where stderr goes.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace pj::journal {

// journald silently drops fields whose names break these rules, so we check them up front:
// A-Z, 0-9 and '_', not starting with '_' (reserved for trusted fields) or a digit, 1..64 chars.
constexpr bool is_valid_field_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 64 || name.front() == '_' ||
        (name.front() >= '0' && name.front() <= '9'))
        return false;
    for (char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}

// A field name checked when the program is compiled: FieldName{"bad name"} does not build.
class FieldName {
public:
    consteval FieldName(const char* name) : name_(name) {
        if (!is_valid_field_name(name_))
            throw "invalid journal field name";  // not a constant expression: a compile error
    }
    constexpr std::string_view view() const noexcept { return name_; }

private:
    std::string_view name_;
};

// One entry in the native protocol's wire format, pointing into the caller's fields (no copy):
// "NAME=value\n" per field, or "NAME\n" <64-bit little-endian size> value "\n" when the value
// holds a newline.
struct Encoding {
    static constexpr std::size_t max_fields = 64;
    std::array<iovec, max_fields * 5> iov;
    std::array<uint64_t, max_fields> sizes;  // little-endian value sizes of binary fields
    std::size_t count = 0;                   // iovecs in use
};
// Each field is one "NAME=value" iovec. Returns 0, or -EINVAL for a field without '=' or with an
// invalid name, -E2BIG for more than max_fields fields.
int encode(std::span<const iovec> fields, Encoding& out) noexcept;

inline constexpr const char* default_socket_path = "/run/systemd/journal/socket";

// A datagram socket to journald. Unlike sd_journal_sendv(3), which returns success when the
// socket is missing and blocks without limit on a journald that does not read, send() reports
// every failure (-ENOENT, -ECONNREFUSED, ...) and waits at most send_timeout_usec for room in
// journald's queue before it returns -EAGAIN: the caller pauses instead of blocking its loop.
// A busy but working journald costs one blocking sendmsg per entry, as with libsystemd.
class Socket {
public:
    explicit Socket(std::string path = default_socket_path, uint64_t send_timeout_usec = 100'000);
    ~Socket();
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    int send(std::span<const iovec> fields) noexcept;  // 0 or a negative errno

private:
    int open_socket() noexcept;
    int send_in_memfd(const Encoding& entry) noexcept;

    int fd_ = -1;
    sockaddr_un address_{};
    socklen_t address_size_ = 0;
    uint64_t send_timeout_usec_;
};

// Sends one entry to the system journal through one process-wide Socket. Adds no fields of its
// own (no CODE_*: callers add theirs or, for forwarded lines, none). 0 or a negative errno.
int send(std::span<const iovec> fields) noexcept;

// True if journald's native socket exists, i.e. entries have somewhere to go.
bool socket_present() noexcept;

// True if fd 2 is the stream systemd connected to the journal (JOURNAL_STREAM=dev:inode), as
// systemd's log.c decides it: only then are our own entries sent natively instead of as text.
bool stderr_is_journal() noexcept;

}  // namespace pj::journal
