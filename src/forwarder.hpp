// The hot path: FIFO bytes → lines → entries → sink, with the counts STATUS= reports.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "entry.hpp"
#include "lines.hpp"
#include "sink.hpp"

namespace pj {

struct Counters {
    uint64_t lines = 0;    // entries the sink took
    uint64_t bytes = 0;    // bytes read from the FIFO
    uint64_t dropped = 0;  // entries the sink refused for good
    uint64_t split = 0;    // pieces cut from over-long lines
};

class Forwarder {
public:
    Forwarder(Sink& sink, std::size_t line_max, int default_priority);

    // One non-blocking read(2) into the line buffer: bytes read, 0 at end of file, or a
    // negative errno (-EAGAIN: the FIFO is empty). At most max_bytes when given.
    ssize_t read_from(int fd, std::size_t max_bytes = SIZE_MAX);

    enum class Progress {
        done,     // every complete line is with the sink
        blocked,  // the sink refused for now (last_error()); the line waits, call again later
    };
    Progress forward_lines();

    // Input is over: forward_lines() also sends a last line that has no '\n'.
    void finish() { buffer_.finish(); }
    bool has_partial_line() const { return buffer_.has_partial_line(); }

    int flush() { return sink_.flush(); }

    void set_line_max(std::size_t line_max) { buffer_.set_line_max(line_max); }
    std::size_t line_max() const { return buffer_.line_max(); }
    void set_default_priority(int priority) { mapper_.set_default_priority(priority); }

    const Counters& counters() const { return counters_; }
    int last_error() const { return last_error_; }  // of the last refused send

private:
    Sink& sink_;
    LineBuffer buffer_;
    LineMapper mapper_;
    Counters counters_;
    int last_error_ = 0;
};

}  // namespace pj
