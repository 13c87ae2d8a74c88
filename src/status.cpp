#include "status.hpp"

#include <iterator>

#include "log.hpp"
#include "numbers.hpp"

namespace pj {

std::string human_bytes(uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    uint64_t divisor = 1;
    std::size_t unit = 0;
    while (bytes / divisor >= 1024 && unit + 1 < std::size(units)) {
        divisor *= 1024;
        ++unit;
    }
    if (unit == 0)
        return std::to_string(bytes) + " B";
    return with_tenths(bytes, divisor) + " " + units[unit];
}

namespace {

std::string channel_text(const Channel::Snapshot& c, bool stopping) {
    const std::string sink(sink_name(c.sink));
    // "; 5210 waiting for the journal (512 KiB)" while there is a backlog.
    std::string backlog;
    if (c.waiting)
        backlog = "; " + std::to_string(c.waiting->lines) + " waiting for " + sink + " (" +
                  human_bytes(c.waiting->bytes) + ")";
    if (stopping || c.stopping)
        return "Stopping: forwarding what is left in " + c.fifo_path + backlog;
    const ChannelCounters& n = c.counters;
    std::string numbers = std::to_string(n.lines) + " lines (" + human_bytes(n.bytes);
    if (c.counts_structured)
        numbers += ", " + std::to_string(n.structured) + " structured";
    numbers += "), " + std::to_string(n.dropped) + " dropped" + backlog;
    if (c.refusal)
        return "Waiting for " + sink + " (" + log::Errno{c.refusal->error}.text() +
               "): " + c.fifo_path + ": " + numbers;
    if (c.sink != Sink::Kind::journal)
        return "Forwarding " + c.fifo_path + " to " + sink + " (no journal): " + numbers;
    return "Forwarding " + c.fifo_path + ": " + numbers;
}

}  // namespace

std::string status_text(std::span<const Channel::Snapshot> channels, bool stopping) {
    std::string text;
    for (const Channel::Snapshot& channel : channels) {
        if (!text.empty())
            text += "; ";
        text += channel_text(channel, stopping);
    }
    return text;
}

}  // namespace pj
