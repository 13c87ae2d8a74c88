// The backlog: what was read from a FIFO and is not in the journal yet, kept in a file on /run
// (tmpfs) so that a kill, a watchdog abort or a restart loses none of it. The reasons, and what
// systemd 252 does and does not keep: docs/design.md "The backlog".
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "fd.hpp"

namespace pj {

// The file: one header page, then a ring of `capacity` bytes. Bytes come from the FIFO by
// splice(2) at the header's write offset, which the kernel advances in the same system call: no
// byte is ever out of the pipe without being in the store, whenever a SIGKILL comes. Positions are
// logical (bytes since the store was made); everything before sent() is in the journal, and the
// channel moves it on after each entry journald took, so a kill doubles at most that one entry.
class Backlog {
public:
    // What the header page holds; the file's own layout, version 1.
    struct Header {
        char magic[16];
        uint32_t version;
        uint32_t data_offset;  // where the ring starts: the header's page size
        uint64_t capacity;     // bytes in the ring
        uint64_t sent;         // logical: the journal has every byte before it
        int64_t write_at;      // file offset of the next byte in; splice(2) advances it
    };
    static constexpr std::string_view magic = "pipejournal-bl1";

    // Why a header read from a file of file_size bytes cannot be used, or empty. Pure, for
    // recovery and for the fuzzer: a header that passes gives positions inside the file.
    static std::string_view header_problem(const Header& header, uint64_t file_size) noexcept;
    // The logical position of the next byte in, from a header that passed.
    static uint64_t written_from(const Header& header) noexcept;

    // The store for the FIFO at fifo_path in directory (a file named after the path, mode 0600),
    // taken over with what it holds when a previous run left it, else made with room for capacity
    // bytes. With an empty directory: an anonymous store that dies with the process. Throws
    // StartupError when the directory or file cannot be used; a file whose header is damaged is
    // moved aside (NAME.damaged) and a new one made (damaged() says so).
    static Backlog open(const std::string& directory, const std::string& fifo_path,
                        std::size_t capacity);

    Backlog(Backlog&&) noexcept;
    Backlog& operator=(Backlog&&) noexcept;
    Backlog(const Backlog&) = delete;
    Backlog& operator=(const Backlog&) = delete;
    ~Backlog();

    // Moves up to max_bytes from the pipe into the store: the bytes moved, or a negative errno:
    // -EAGAIN when the pipe is empty, -ENOBUFS when the ring has no room (unsent() == room()),
    // -ENOSPC when /run is full.
    ssize_t take_from(int pipe_fd, std::size_t max_bytes) noexcept;
    // Copies the bytes from logical position `from` on (at most out.size(), and not past
    // written()) into out; returns how many. 0 or a negative errno.
    ssize_t read(uint64_t from, std::span<char> out) const noexcept;
    // The journal has every byte before position (sent() <= position <= written()).
    void mark_sent(uint64_t position) noexcept;
    // Gives the memory of sent bytes back (holes punched in the file): when the ring is drained,
    // all of it; otherwise what lies at least release_step behind sent().
    void release_sent() noexcept;

    uint64_t sent() const noexcept;
    uint64_t written() const noexcept;
    std::size_t unsent() const noexcept { return static_cast<std::size_t>(written() - sent()); }
    // The most unsent bytes the ring holds (its capacity less one: a full ring and an empty one
    // must differ).
    std::size_t room() const noexcept;
    const std::string& path() const noexcept { return path_; }  // empty: anonymous
    bool damaged() const noexcept { return damaged_; }          // a damaged one was moved aside
    uint64_t recovered() const noexcept { return recovered_; }  // unsent bytes it was opened with

    // The file name for a FIFO path: the path with '/' as '-', as systemd-escape --path does.
    static std::string file_name(std::string_view fifo_path);

    // How much sent data is given back at once while the ring is in use.
    static constexpr std::size_t release_step = 256 * 1024;

private:
    Backlog(UniqueFd fd, std::string path, Header* header, bool damaged, uint64_t recovered);
    int64_t physical(uint64_t position) const noexcept;

    UniqueFd fd_;
    std::string path_;
    Header* header_ = nullptr;  // the file's first page, mapped shared
    uint64_t released_ = 0;     // logical: memory before it was given back
    bool damaged_ = false;
    uint64_t recovered_ = 0;
};

}  // namespace pj
