// journald's native protocol: one datagram per entry, every field of the entry.
#pragma once

#include <string>
#include <vector>

#include "systemd/journal.hpp"
#include "transport/sink.hpp"

namespace pj {

// MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, PIPEJOURNAL_FIFO, then PIPEJOURNAL_LINE_BREAK= for a line
// that did not end in '\n', PIPEJOURNAL_FORMAT_ERROR= for a line that was not what Format= says,
// PIPEJOURNAL_MULTILINE= for a record of several lines, then the fields of a structured line.
// journald's CPU per field is the throughput ceiling, so a plain line carries nothing else.
class NativeSink final : public Sink {
public:
    explicit NativeSink(std::string socket_path = journal::default_socket_path);
    int send(const Entry& entry) override;
    int wait_fd() const noexcept override { return socket_.fd(); }
    void set_origin(const Origin& origin) override;
    Kind kind() const noexcept override { return Kind::journal; }

private:
    journal::Socket socket_;
    std::string identifier_;
    std::string fifo_;
    std::vector<journal::Field> fields_;  // reused: no allocation per line
};

}  // namespace pj
