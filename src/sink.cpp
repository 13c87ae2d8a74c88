#include "sink.hpp"

#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "systemd/journal.hpp"

namespace pj {
namespace {

constexpr std::array<std::string_view, 8> priority_fields = {
    "PRIORITY=0", "PRIORITY=1", "PRIORITY=2", "PRIORITY=3",
    "PRIORITY=4", "PRIORITY=5", "PRIORITY=6", "PRIORITY=7",
};

iovec field(std::string_view text) {
    return {const_cast<char*>(text.data()), text.size()};
}

constexpr std::size_t text_batch_size = 64 * 1024;

}  // namespace

bool is_transient(int negative_errno) noexcept {
    switch (-negative_errno) {
    case EINTR:
    case EAGAIN:
    case ENOBUFS:
    case ENOMEM:
    case ECONNREFUSED:  // journald restarting: its socket exists, nobody listens yet
    case ENOENT:        // journald restarting: its socket is not there yet
        return true;
    default: return false;
    }
}

JournalSink::JournalSink(const Origin& origin) {
    message_.reserve(256);
    set_origin(origin);
}

void JournalSink::set_origin(const Origin& origin) {
    identifier_ = "SYSLOG_IDENTIFIER=" + origin.identifier;
    fifo_ = "PIPEJOURNAL_FIFO=" + origin.fifo_path;
}

int JournalSink::send(const Entry& entry) {
    message_.assign("MESSAGE=");
    message_.append(entry.message);
    std::array<iovec, 5> fields = {
        field(message_),
        field(priority_fields[static_cast<std::size_t>(entry.priority) & 7]),
        field(identifier_),
        field(fifo_),
    };
    std::size_t count = 4;
    if (entry.line_break == Line::Break::line_max)
        fields[count++] = field("PIPEJOURNAL_LINE_BREAK=line-max");
    else if (entry.line_break == Line::Break::eof)
        fields[count++] = field("PIPEJOURNAL_LINE_BREAK=eof");
    return journal::send({fields.data(), count});
}

TextSink::TextSink(int fd, const Origin& origin) : fd_(fd) {
    pending_.reserve(text_batch_size + 256);
    set_origin(origin);
}

void TextSink::set_origin(const Origin& origin) {
    identifier_ = origin.identifier;
}

int TextSink::send(const Entry& entry) {
    pending_ += '<';
    pending_ += static_cast<char>('0' + (entry.priority & 7));
    pending_ += '>';
    pending_ += identifier_;
    pending_ += ": ";
    pending_ += entry.message;
    pending_ += '\n';
    return pending_.size() >= text_batch_size ? flush() : 0;
}

int TextSink::flush() {
    std::string_view rest = pending_;
    while (!rest.empty()) {
        ssize_t n = write(fd_, rest.data(), rest.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {  // stdout inherited non-blocking: wait until it drains
                pollfd writable{fd_, POLLOUT, 0};
                poll(&writable, 1, -1);
                continue;
            }
            int error = errno;
            pending_.clear();  // a broken stdout will not heal; keep memory bounded
            return -error;
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    pending_.clear();
    return 0;
}

}  // namespace pj
