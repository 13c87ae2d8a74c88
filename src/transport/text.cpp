#include "transport/text.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <new>

namespace pj {
namespace {

constexpr std::size_t batch_size = 64 * 1024;

bool needs_quotes(std::string_view value) {
    return value.empty() || value.find_first_of(" \t\n\"") != std::string_view::npos;
}

void append_quoted(std::string& out, std::string_view value) {
    out += '"';
    for (char c : value) {
        if (c == '"' || c == '\\')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    out += '"';
}

}  // namespace

TextSink::TextSink(int fd) : fd_(fd), original_flags_(fcntl(fd, F_GETFL)) {
    // A terminal or pipe that nobody reads must not stop the loop (and with it the watchdog).
    if (original_flags_ >= 0 && !(original_flags_ & O_NONBLOCK))
        (void)fcntl(fd_, F_SETFL, original_flags_ | O_NONBLOCK);
    pending_.reserve(batch_size + 256);
}

TextSink::~TextSink() {
    if (original_flags_ >= 0 && !(original_flags_ & O_NONBLOCK))
        (void)fcntl(fd_, F_SETFL, original_flags_);  // the shell that started us shares it
}

void TextSink::set_origin(const Origin& origin) {
    identifier_ = origin.identifier;
}

int TextSink::send(const Entry& entry) {
    if (pending_.size() - written_ >= batch_size) {
        int r = write_out();
        if (r < 0 && is_transient(r))
            return r;  // full and the reader is slow: not taken, the channel waits
    }
    try {
        pending_ += '<';
        pending_ += static_cast<char>('0' + (entry.priority & 7));
        pending_ += '>';
        pending_ += identifier_;
        pending_ += ": ";
        if (entry.multiline.empty()) {
            pending_ += entry.message;
        } else {
            // A record's lines under its first, indented as journalctl shows them, then its rule.
            const std::size_t indent = 3 + identifier_.size() + 2;
            for (std::size_t at = 0; at <= entry.message.size();) {
                std::size_t end = std::min(entry.message.find('\n', at), entry.message.size());
                if (at > 0)
                    pending_.append("\n").append(indent, ' ');
                pending_.append(entry.message.substr(at, end - at));
                at = end + 1;
            }
            pending_ += " PIPEJOURNAL_MULTILINE=";
            pending_ += entry.multiline;
        }
        if (entry.requested_priority >= 0) {
            pending_ += " PIPEJOURNAL_REQUESTED_PRIORITY=";
            pending_ += static_cast<char>('0' + (entry.requested_priority & 7));
        }
        for (const journal::Field& field : entry.fields) {
            pending_ += ' ';
            pending_ += field.name;
            pending_ += '=';
            if (needs_quotes(field.value))
                append_quoted(pending_, field.value);
            else
                pending_ += field.value;
        }
        pending_ += '\n';
    } catch (const std::bad_alloc&) {
        return -ENOMEM;
    }
    ++pending_entries_;
    if (pending_.size() - written_ >= batch_size)
        (void)write_out();  // taken either way; a failure shows in the next flush()
    return 0;
}

int TextSink::flush() {
    return write_out();
}

int TextSink::write_out() noexcept {
    while (written_ < pending_.size()) {
        ssize_t n = write(fd_, pending_.data() + written_, pending_.size() - written_);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return -EAGAIN;
        if (n < 0) {
            int error = errno;
            lost_ += pending_entries_;  // a broken stdout will not heal; keep memory bounded
            pending_entries_ = 0;
            pending_.clear();
            written_ = 0;
            return -error;
        }
        written_ += static_cast<std::size_t>(n);
    }
    pending_.clear();
    pending_entries_ = 0;
    written_ = 0;
    return 0;
}

}  // namespace pj
