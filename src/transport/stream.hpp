// journald's stream protocol: the connection behind StandardOutput=journal and systemd-cat(1),
// opened as sd_journal_stream_fd(3) opens it. journald spends about half the CPU on a stream line
// that it spends on a native entry, but a stream carries only the text and a priority: no fields.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "fd.hpp"
#include "transport/sink.hpp"

namespace pj {

// One connection to journald's stdout socket per sink (per FIFO). The header names the
// identifier and turns on level prefixes; then each entry is one line "<PRIORITY>MESSAGE\n".
// journald's own stream rules apply to what it reads: it drops empty lines, strips trailing
// whitespace, and ends a line at a NUL byte (the part after a NUL is sent with the entry's
// prefix again, so it keeps its priority). Fields, PIPEJOURNAL_LINE_BREAK= and
// PIPEJOURNAL_FORMAT_ERROR= cannot be sent: journald adds _TRANSPORT=stdout, and the unit's
// LogExtraFields= supplies PIPEJOURNAL_FIFO=.
//
// Non-blocking and buffered. Lines go out in writes of whole lines no larger than one socket
// buffer (skb) of the kernel, which the kernel takes whole or not at all, so a line is cut across
// writes only when it is longer than that. A full socket makes send() return -EAGAIN (the entry
// is not taken) and wait_fd() the socket; what was taken is written by later calls, never twice.
//
// A connection that breaks (journald stopped for good, not restarted: a restart keeps it in its
// file descriptor store) is opened again, with the same header, from the first line not wholly
// written; until journald listens again the errors are transient (the channel retries on a
// timer). Lines wholly written before the break are not written again: journald had them, and
// reads everything queued before it exits (it handles SIGTERM after its streams); what it had
// not read when the connection was torn down is lost, at most one socket buffer (SO_SNDBUF),
// which is why that buffer is small. The reconnection is logged with how many lines journald had
// not confirmed reading (SIOCOUTQ was last 0) before the break.
//
// A new identifier (set_origin, on reload) needs a new connection, since the header carries it:
// lines taken before it go out on the old connection, then the sink waits until journald has
// read all of them (SIOCOUTQ 0: -EAGAIN meanwhile, retried on a timer) so that lines do not
// change their order across the two connections, and opens the new one.
class StreamSink final : public Sink {
public:
    struct Options {
        std::string socket_path = "/run/systemd/journal/stdout";
        // SO_SNDBUF (the kernel doubles it): what journald can have unread, and so the most a
        // broken connection can lose: 128 KiB of socket buffers and one write, about 140 KiB of
        // lines. Less starves journald (docs/design.md has the measurements).
        int send_buffer_bytes = 64 * 1024;
        // The longest message journald takes as one line, after "<N>" and before '\n' (its
        // LineMax=, 48K by default, counts the prefix). Longer messages are written as several
        // lines with the same prefix; the channel cuts lines to this size (max_message_bytes).
        std::size_t journald_line_max = 48 * 1024;
        // Keep the connection in PID 1's file descriptor store (under store_name(identifier)),
        // so that a restart or a crash goes on on the same connection, in order.
        bool keep_in_store = false;
    };

    StreamSink() : StreamSink(Options{}) {}
    explicit StreamSink(Options options);
    StreamSink(const StreamSink&) = delete;
    StreamSink& operator=(const StreamSink&) = delete;

    int send(const Entry& entry) override;
    int flush() override;
    int wait_fd() const noexcept override { return wait_fd_; }
    uint64_t lost_entries() const noexcept override { return lost_; }
    std::size_t unwritten_entries() const noexcept override { return entry_ends_.size(); }
    void set_origin(const Origin& origin) override;
    Kind kind() const noexcept override { return Kind::journal; }
    std::size_t max_message_bytes() const noexcept override {
        return max_message_bytes(options_.journald_line_max);
    }

    // The longest message written as one line: journald's LineMax less "<N>" and '\n'.
    static constexpr std::size_t max_message_bytes(std::size_t journald_line_max) noexcept {
        return journald_line_max - 4;
    }
    static constexpr std::size_t default_max_message_bytes = 48 * 1024 - 4;

    // Goes on on a connection a previous run opened with `identifier` (from PID 1's store): its
    // header is sent, and what journald has not read of it stays ahead of what comes now.
    void adopt(UniqueFd connection, std::string identifier);
    static constexpr std::string_view store_prefix = "journal-stream-";
    static std::string store_name(std::string_view identifier);  // FDNAME=: the prefix, hex
    static std::optional<std::string> identifier_in(std::string_view name);

    // For tests and the log: connections opened so far, and breaks seen.
    uint64_t connections() const noexcept { return connections_; }
    uint64_t breaks() const noexcept { return breaks_; }

private:
    struct IdentifierChange {
        std::size_t offset;  // in pending_: the first byte of the first line it applies to
        std::string identifier;
    };
    struct Break {
        uint64_t at_usec;
        int error;
        uint64_t unconfirmed_lines;  // written since journald last had read everything
        uint64_t confirmed_usec;     // when that was (0: never on that connection)
    };

    int write_out() noexcept;
    int open_connection() noexcept;
    void keep_connection() noexcept;
    void drop_connection() noexcept;
    void connection_broke(int error) noexcept;
    void lose_pending() noexcept;
    void advance(std::size_t bytes) noexcept;
    std::size_t next_chunk_end() const noexcept;
    bool journald_read_everything() const noexcept;
    void compact() noexcept;
    void append_entry(int priority, std::string_view message);

    Options options_;
    UniqueFd socket_;
    int wait_fd_ = -1;
    std::size_t chunk_max_ = 0;  // the largest write the kernel takes whole (one skb)

    std::string fifo_;                      // for the log
    std::string identifier_;                // of the open connection (or the next one)
    std::deque<IdentifierChange> changes_;  // taken by set_origin(), not yet in effect

    // Lines taken: [0, line_start_) written whole; [line_start_, written_) the head of a line
    // written in part; [written_, size) not written.
    std::string pending_;
    std::size_t line_start_ = 0;
    std::size_t written_ = 0;
    std::deque<std::size_t> entry_ends_;  // in pending_: the ends of the entries not written whole

    uint64_t unconfirmed_lines_ = 0;
    uint64_t confirmed_usec_ = 0;
    std::optional<Break> broken_;  // said in the log once the connection is back
    uint64_t connections_ = 0, breaks_ = 0, lost_ = 0;
};

}  // namespace pj
