// Where entries go. A channel knows only this interface: the native journal protocol, a journald
// stream and standard output are interchangeable, and none of them knows about FIFOs or formats.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "format/entry.hpp"

namespace pj {

// What every entry from one FIFO shares.
struct Origin {
    std::string identifier;  // SYSLOG_IDENTIFIER=
    std::string fifo_path;   // PIPEJOURNAL_FIFO=
};

class Sink {
public:
    virtual ~Sink() = default;

    // Takes one entry: 0, or a negative errno. After a transient error (is_transient()) the entry
    // was not taken: offer it again once wait_fd() is writable, or after a delay when it is -1.
    // After another error the entry is refused for good.
    virtual int send(const Entry& entry) = 0;

    // Writes out what a buffering sink holds: 0 when nothing is left; a transient error when some
    // is left (wait as after send()); another negative errno when it was lost (lost_entries()).
    virtual int flush() { return 0; }

    // The descriptor to wait on for EPOLLOUT after a transient error, or -1 to retry on a timer.
    virtual int wait_fd() const noexcept { return -1; }

    // Entries send() took that could not be written after all (a broken stdout or stream).
    virtual uint64_t lost_entries() const noexcept { return 0; }

    virtual void set_origin(const Origin& origin) = 0;
    virtual std::string_view name() const = 0;  // for STATUS= and log text: "the journal"
};

// The receiver may take the entry later: journald is busy (its queue is full) or restarting (its
// socket is gone or refuses for a moment), or a non-blocking descriptor is full.
bool is_transient(int negative_errno) noexcept;

}  // namespace pj
