// Where entries go. A channel knows only this interface: the native journal protocol, a journald
// stream and standard output are interchangeable, and none of them knows about FIFOs or formats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "errors.hpp"  // is_transient()
#include "format/entry.hpp"

namespace pj {

// What every entry from one FIFO shares.
struct Origin {
    std::string identifier;  // SYSLOG_IDENTIFIER=
    std::string fifo_path;   // PIPEJOURNAL_FIFO=
};

class Sink {
public:
    enum class Kind {
        journal,          // journald, natively or over a stream
        standard_output,  // no journal on this machine
    };

    virtual ~Sink() = default;

    // Takes one entry: 0, or a negative errno. After a transient error (is_transient(), errors.hpp)
    // the entry was not taken: offer it again once wait_fd() is writable, or after a delay when it
    // is -1. After another error the entry is refused for good.
    virtual int send(const Entry& entry) = 0;

    // Writes out what a buffering sink holds: 0 when nothing is left; a transient error when some
    // is left (wait as after send()); another negative errno when it was lost (lost_entries()).
    virtual int flush() { return 0; }

    // The descriptor to wait on for EPOLLOUT after a transient error, or -1 to retry on a timer.
    virtual int wait_fd() const noexcept { return -1; }

    // Entries send() took that could not be written after all (a broken stdout or stream).
    virtual uint64_t lost_entries() const noexcept { return 0; }
    // Entries send() took that are not written out yet (a buffering sink): the backlog keeps
    // them until they are.
    virtual std::size_t unwritten_entries() const noexcept { return 0; }

    // What every later entry shares; set before the first send() and again when it changes.
    virtual void set_origin(const Origin& origin) = 0;

    virtual Kind kind() const noexcept = 0;
    // The longest MESSAGE= the receiver takes as one entry: the channel cuts lines to it.
    virtual std::size_t max_message_bytes() const noexcept {
        return std::numeric_limits<std::size_t>::max();
    }

    std::string_view name() const noexcept;  // sink_name(kind())
};

// For STATUS= and log text: "the journal", "standard output".
constexpr std::string_view sink_name(Sink::Kind kind) noexcept {
    return kind == Sink::Kind::journal ? "the journal" : "standard output";
}
inline std::string_view Sink::name() const noexcept {
    return sink_name(kind());
}

}  // namespace pj
