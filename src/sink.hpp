// Where entries go. The forwarder only knows this interface, so a stream-protocol sink or a
// remote one can replace the native journal without touching the forwarding logic.
#pragma once

#include <string>
#include <string_view>

#include "entry.hpp"

namespace pj {

// What every entry from one FIFO shares.
struct Origin {
    std::string identifier;  // SYSLOG_IDENTIFIER=
    std::string fifo_path;   // PIPEJOURNAL_FIFO=
};

class Sink {
public:
    virtual ~Sink() = default;

    // 0, or a negative errno; is_transient() tells whether sending again may work.
    virtual int send(const Entry& entry) = 0;
    // End of a batch: a buffering sink writes out now. 0 or a negative errno.
    virtual int flush() { return 0; }
    virtual void set_origin(const Origin& origin) = 0;
    virtual std::string_view name() const = 0;  // for STATUS= and log text: "the journal"
};

// The journal may take the entry later: journald is busy (its socket queue is full), or
// restarting (its socket is gone or refuses for a moment).
bool is_transient(int negative_errno) noexcept;

// One native entry per line: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, PIPEJOURNAL_FIFO, nothing
// else (journald's CPU per field is the throughput ceiling); PIPEJOURNAL_LINE_BREAK= only on a
// line that did not end in '\n'.
class JournalSink final : public Sink {
public:
    explicit JournalSink(const Origin& origin);
    int send(const Entry& entry) override;
    void set_origin(const Origin& origin) override;
    std::string_view name() const override { return "the journal"; }

private:
    std::string message_;  // "MESSAGE=..." reused for every line: no allocation per line
    std::string identifier_;
    std::string fifo_;
};

// No journal on this machine: readable text on a file descriptor (stdout), one line per
// entry, "<PRIORITY>IDENTIFIER: MESSAGE", written in batches.
class TextSink final : public Sink {
public:
    TextSink(int fd, const Origin& origin);
    int send(const Entry& entry) override;
    int flush() override;
    void set_origin(const Origin& origin) override;
    std::string_view name() const override { return "standard output"; }

private:
    int fd_;
    std::string identifier_;
    std::string pending_;
};

}  // namespace pj
