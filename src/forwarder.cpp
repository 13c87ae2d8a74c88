#include "forwarder.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace pj {

Forwarder::Forwarder(Sink& sink, std::size_t line_max, int default_priority)
    : sink_(sink), buffer_(line_max), mapper_(default_priority) {}

ssize_t Forwarder::read_from(int fd, std::size_t max_bytes) {
    auto space = buffer_.free_space();
    ssize_t n;
    do
        n = read(fd, space.data(), std::min(space.size(), max_bytes));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    buffer_.commit(static_cast<std::size_t>(n));
    counters_.bytes += static_cast<uint64_t>(n);
    return n;
}

Forwarder::Progress Forwarder::forward_lines() {
    while (auto line = buffer_.front()) {
        int r = sink_.send(mapper_.map(*line));
        if (r < 0) {
            last_error_ = r;
            if (is_transient(r))
                return Progress::blocked;
            ++counters_.dropped;
        } else {
            ++counters_.lines;
            if (line->end == Line::Break::line_max)
                ++counters_.split;
        }
        buffer_.pop();
    }
    return Progress::done;
}

}  // namespace pj
