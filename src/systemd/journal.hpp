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
#include <utility>
#include <vector>

#include "fd.hpp"

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

// One field of an entry. The name must be valid (is_valid_field_name); the value may hold any
// bytes, newlines and NULs included.
struct Field {
    std::string_view name;
    std::string_view value;
};

// Writes one entry in the native protocol's wire format into out (replacing what it held):
// "NAME=value\n" per field, or "NAME\n" <64-bit little-endian size> value "\n" when the value
// holds a newline. Returns 0, or -EINVAL when a name is invalid (journald would drop the field
// silently), -ENOMEM when out cannot grow. out keeps its capacity: no allocation per entry once
// it has seen the largest one.
int encode(std::span<const Field> fields, std::string& out) noexcept;

// The inverse, as journald reads it (for tests and fuzzing): appends each field to out. Returns 0,
// or -EBADMSG for anything encode() cannot have produced.
int decode(std::string_view wire, std::vector<std::pair<std::string, std::string>>& out);

inline constexpr const char* default_socket_path = "/run/systemd/journal/socket";

// SO_SNDBUF of the socket (the kernel doubles it: 256 KiB of skb memory, about 340 entries of 100
// bytes at 768 bytes each). Smaller than what journald's queue holds (max_dgram_qlen=512 datagrams
// of at least 768 bytes, 384 KiB), so a sender that outpaces journald is stopped by its own buffer:
// EPOLLOUT comes once three quarters of it are read, a wake-up per ~250 entries. libsystemd's
// 8 MiB left journald's queue length as the limit, and each datagram journald read woke us for
// one more (docs/design.md "Transports (sinks)" has the measurements). Entries larger than the
// buffer go in a memfd.
inline constexpr int send_buffer_bytes = 128 * 1024;

// A datagram socket connected to journald, non-blocking. Unlike sd_journal_sendv(3), which
// returns success when the socket is missing and blocks without limit on a journald that does not
// read, send() reports every failure and never waits: -EAGAIN when journald's queue is full (wait
// for EPOLLOUT on fd(): on a connected datagram socket it follows journald's receive queue),
// -ENOENT or -ECONNREFUSED while journald's socket is missing or nobody listens (the next send
// connects again). Connected, the kernel looks the peer up once, not by path for every datagram.
class Socket {
public:
    explicit Socket(std::string path = default_socket_path);
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    int send(std::span<const Field> fields) noexcept;  // 0 or a negative errno
    int send_wire(std::string_view entry) noexcept;    // an entry encode() made
    int fd() const noexcept { return fd_.get(); }      // -1 while not connected

private:
    int connect_socket() noexcept;
    int send_encoded(std::span<const Field> fields) noexcept;
    int send_in_memfd(std::string_view entry) noexcept;

    // wire_ is reused from entry to entry up to this size; a longer entry's buffer is given back
    // after it, so one long line does not stay in memory.
    static constexpr std::size_t wire_keep_bytes = 64 * 1024;

    UniqueFd fd_;
    std::string path_;
    std::string wire_;  // the entry being sent, reused
};

// Sends one encoded entry to the system journal through one process-wide Socket (the daemon's own
// entries). 0 or a negative errno, as Socket::send_wire().
int send_wire(std::string_view entry) noexcept;
// Waits at most timeout_usec until that socket has room (true), e.g. before the process exits with
// entries of its own still to send.
bool wait_writable(uint64_t timeout_usec) noexcept;

// True if journald's native socket exists, i.e. entries have somewhere to go.
bool socket_present() noexcept;

// True if fd 2 is the stream systemd connected to the journal (JOURNAL_STREAM=dev:inode), as
// systemd's log.c decides it: only then are our own entries sent natively instead of as text.
bool stderr_is_journal() noexcept;

}  // namespace pj::journal
