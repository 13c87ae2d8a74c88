// No journal on this machine (a container, a build host): readable text on standard output.
#pragma once

#include <cstdint>
#include <string>

#include "transport/sink.hpp"

namespace pj {

// One line per entry, "<PRIORITY>IDENTIFIER: MESSAGE", then the fields of a structured line as
// " NAME=value" (a value with a newline or blank is quoted). A multi-line record's lines follow its
// first, indented under the message as journalctl shows them, then " PIPEJOURNAL_MULTILINE=RULE".
// Written in batches, without blocking: a reader that stops reading makes send() report -EAGAIN and
// wait_fd() the descriptor, so the channel holds the FIFO as it does for a journal that does not
// take entries.
class TextSink final : public Sink {
public:
    explicit TextSink(int fd);  // puts fd in non-blocking mode until destroyed
    ~TextSink() override;
    TextSink(const TextSink&) = delete;
    TextSink& operator=(const TextSink&) = delete;

    int send(const Entry& entry) override;
    int flush() override;
    int wait_fd() const noexcept override { return fd_; }
    uint64_t lost_entries() const noexcept override { return lost_; }
    std::size_t unwritten_entries() const noexcept override { return pending_entries_; }
    void set_origin(const Origin& origin) override;
    Kind kind() const noexcept override { return Kind::standard_output; }

private:
    int write_out() noexcept;

    int fd_;
    int original_flags_;
    std::string identifier_;
    std::string pending_;           // text taken but not yet written
    uint64_t pending_entries_ = 0;  // entries in pending_ (to count them if it is lost)
    std::size_t written_ = 0;       // bytes of pending_ already written
    uint64_t lost_ = 0;
};

}  // namespace pj
