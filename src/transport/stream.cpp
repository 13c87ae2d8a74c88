#include "transport/stream.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <new>

#include "hex.hpp"
#include "log.hpp"
#include "numbers.hpp"
#include "systemd/clock.hpp"
#include "systemd/notify.hpp"

namespace pj {
namespace {

// The kernel puts at most this much of one write into one socket buffer (skb) of an AF_UNIX
// stream: half the send buffer less 64 bytes, and never more than a page of head and 32 KiB of
// fragments (unix_stream_sendmsg). A write no longer than one skb is taken whole or not at all.
constexpr std::size_t skb_data_max = 32 * 1024;

// Writes of an eighth of the send buffer (as the kernel counts it, doubled). The kernel says the
// socket is writable again once a quarter of its buffer is left, and frees an skb only when
// journald has read all of it: with writes of half the buffer that is when it is empty, and
// journald waits for us on every refill (measured: 0.83-0.86 times systemd-cat's lines/s, 1.17-1.19
// times its journald CPU per line). With an eighth, one to two writes' worth is still queued.
std::size_t chunk_for(std::size_t send_buffer) noexcept {
    return std::min(send_buffer / 8, skb_data_max);
}

// Compacting the buffer costs a memmove; do it once this much has been written.
constexpr std::size_t compact_after = 64 * 1024;

std::string seconds_ago(uint64_t since_usec, uint64_t now_usec) {
    return with_tenths(now_usec - since_usec, 1'000'000) + " s";
}

// One past the last '\n' or NUL in [begin, end) of text, or begin when there is none: where a
// line journald reads starts.
std::size_t after_last_line_end(const std::string& text, std::size_t begin,
                                std::size_t end) noexcept {
    for (std::size_t i = end; i > begin; --i)
        if (text[i - 1] == '\n' || text[i - 1] == '\0')
            return i;
    return begin;
}

}  // namespace

StreamSink::StreamSink(Options options)
    : options_(std::move(options)),
      chunk_max_(chunk_for(2 * static_cast<std::size_t>(options_.send_buffer_bytes))) {
    pending_.reserve(2 * chunk_max_ + 256);
}

void StreamSink::set_origin(const Origin& origin) {
    fifo_ = origin.fifo_path;
    if (!socket_ && pending_.empty()) {  // no connection yet: the first one gets it
        identifier_ = origin.identifier;
        changes_.clear();
        return;
    }
    const std::string& latest = changes_.empty() ? identifier_ : changes_.back().identifier;
    if (origin.identifier == latest)
        return;
    if (!changes_.empty() && changes_.back().offset == pending_.size())
        changes_.back().identifier = origin.identifier;  // no line taken since the last change
    else
        changes_.push_back({pending_.size(), origin.identifier});
}

int StreamSink::send(const Entry& entry) {
    if (entry.message.empty()) {  // journald drops empty lines: nothing to write
        if (written_ < pending_.size())
            entry_ends_.push_back(pending_.size());  // written once the entries before it are
        return 0;
    }
    if (pending_.size() - written_ >= chunk_max_) {
        int r = write_out();
        if (r < 0 && is_transient(r))
            return r;  // a chunk waits already: not taken, the channel waits
    }
    compact();
    try {
        append_entry(entry.priority, entry.message);
        entry_ends_.push_back(pending_.size());
    } catch (const std::bad_alloc&) {
        return -ENOMEM;
    }
    if (pending_.size() - written_ >= chunk_max_)
        (void)write_out();  // taken either way; a failure shows in the next call
    return 0;
}

int StreamSink::flush() {
    return write_out();
}

void StreamSink::append_entry(int priority, std::string_view message) {
    // Every journald line gets the prefix, so journald never reads a priority from the writer's
    // text (a piece after a cut or a NUL could begin with "<3>").
    const char prefix[3] = {'<', static_cast<char>('0' + (priority & 7)), '>'};
    const std::size_t line_max = max_message_bytes(options_.journald_line_max);
    pending_.append(prefix, sizeof prefix);
    while (!message.empty()) {
        // Up to a NUL, which ends journald's line, or as much as journald takes as one line.
        std::string_view piece = message.substr(0, line_max);
        if (auto nul = piece.find('\0'); nul != std::string_view::npos)
            piece = piece.substr(0, nul + 1);
        pending_.append(piece);
        message.remove_prefix(piece.size());
        if (message.empty())
            break;
        if (piece.back() != '\0')
            pending_ += '\n';                    // cut at journald's LineMax
        pending_.append(prefix, sizeof prefix);  // the rest is a line of its own
    }
    pending_ += '\n';
}

int StreamSink::write_out() noexcept {
    wait_fd_ = -1;
    while (written_ < pending_.size()) {
        if (socket_ && !changes_.empty() && changes_.front().offset == written_) {
            // A new identifier from here on: a new connection, once journald has read every line
            // of this one, so that it cannot take a later line first.
            if (!journald_read_everything())
                return -EAGAIN;  // retried on a timer (wait_fd() is -1)
            drop_connection();
        }
        if (!socket_) {
            int r = open_connection();
            if (r < 0) {
                if (!is_transient(r))
                    lose_pending();
                return r;
            }
        }
        if (journald_read_everything()) {
            unconfirmed_lines_ = 0;
            confirmed_usec_ = clock::monotonic_usec();
        }
        std::size_t end = next_chunk_end();
        ssize_t n = ::send(socket_.get(), pending_.data() + written_, end - written_, MSG_NOSIGNAL);
        if (n >= 0) {
            advance(static_cast<std::size_t>(n));
            continue;
        }
        int error = errno;
        switch (error) {
        case EINTR: continue;
        case EAGAIN: wait_fd_ = socket_.get(); return -EAGAIN;
        case EPIPE:
        case ECONNRESET:
        case ENOTCONN: connection_broke(-error); continue;  // the loop connects again
        case ENOBUFS:
        case ENOMEM: return -error;  // the kernel is short of memory: retried on a timer
        default:
            lose_pending();
            drop_connection();
            return -error;
        }
    }
    compact();
    return 0;
}

void StreamSink::advance(std::size_t bytes) noexcept {
    const char* p = pending_.data() + written_;
    const char* const end = p + bytes;
    while ((p = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)))))
        ++unconfirmed_lines_, ++p;
    written_ += bytes;
    line_start_ = after_last_line_end(pending_, line_start_, written_);
    while (!entry_ends_.empty() && entry_ends_.front() <= written_)
        entry_ends_.pop_front();
}

std::size_t StreamSink::next_chunk_end() const noexcept {
    std::size_t limit = pending_.size();
    if (!changes_.empty())
        limit = std::min(limit, changes_.front().offset);
    if (limit - written_ <= chunk_max_)
        return limit;  // pending_ and every change end at a line's end
    const char* from = pending_.data() + written_;
    if (const void* end = memrchr(from, '\n', chunk_max_))
        return static_cast<std::size_t>(static_cast<const char*>(end) - pending_.data()) + 1;
    // One line longer than a chunk: the kernel may take part of it (the rest follows).
    const void* end = std::memchr(from + chunk_max_, '\n', limit - written_ - chunk_max_);
    return end ? static_cast<std::size_t>(static_cast<const char*>(end) - pending_.data()) + 1
               : limit;
}

bool StreamSink::journald_read_everything() const noexcept {
    // SIOCOUTQ on an AF_UNIX socket counts the memory of the socket buffers the peer has not
    // read yet (their truesize, not bytes): only 0 says something exact.
    int queued = 0;
    return socket_ && ioctl(socket_.get(), SIOCOUTQ, &queued) == 0 && queued == 0;
}

int StreamSink::open_connection() noexcept {
    while (!changes_.empty() && changes_.front().offset <= written_) {
        identifier_ = std::move(changes_.front().identifier);
        changes_.pop_front();
    }
    UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd)
        return -errno;
    int size = options_.send_buffer_bytes;
    (void)setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);  // best effort
    socklen_t length = sizeof size;
    if (getsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &size, &length) == 0 && size > 2 * 1024)
        chunk_max_ = chunk_for(static_cast<std::size_t>(size));

    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (options_.socket_path.size() >= sizeof address.sun_path)
        return -ENAMETOOLONG;
    std::memcpy(address.sun_path, options_.socket_path.data(), options_.socket_path.size());
    if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0)
        return -errno;  // ENOENT, ECONNREFUSED: journald is not there (yet); EAGAIN: backlog full
    if (shutdown(fd.get(), SHUT_RD) < 0)
        return -errno;

    // As sd_journal_stream_fd(3): identifier, unit (empty: journald takes it only from root),
    // priority for lines without a prefix (every line of ours has one), level_prefix=1, and no
    // copies to syslog, kmsg or the console.
    std::string header;
    try {
        header = identifier_ + "\n\n6\n1\n0\n0\n0\n";
    } catch (const std::bad_alloc&) {
        return -ENOMEM;
    }
    // A fresh socket has room for a few bytes: this is taken whole.
    ssize_t n = ::send(fd.get(), header.data(), header.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
        return -ECONNREFUSED;  // accepted and closed at once (journald has too many streams)
    if (n < 0)
        return -errno;
    if (static_cast<std::size_t>(n) != header.size())
        return -EAGAIN;

    socket_ = std::move(fd);
    ++connections_;
    keep_connection();
    unconfirmed_lines_ = 0;
    confirmed_usec_ = clock::monotonic_usec();
    if (broken_) {
        const Break was = *broken_;
        broken_.reset();
        uint64_t now = clock::monotonic_usec();
        std::string text = "The connection to journald's stream socket broke " +
                           seconds_ago(was.at_usec, now) + " ago (" + std::strerror(-was.error) +
                           ") and is open again; ";
        if (was.unconfirmed_lines == 0)
            text += "journald had read every line written before the break";
        else
            text += "the last " + std::to_string(was.unconfirmed_lines) +
                    " lines written before the break may be lost (journald had last read "
                    "everything " +
                    seconds_ago(was.confirmed_usec, was.at_usec) + " before the break)";
        log::warning(log::id::stream_reconnected, text,
                     {{"PIPEJOURNAL_FIFO", fifo_},
                      {"PIPEJOURNAL_UNCONFIRMED", was.unconfirmed_lines},
                      {"ERRNO", -was.error}});
    }
    return 0;
}

// In PID 1's file descriptor store the connection outlives a crash or a restart of ours: the next
// run writes on where we stopped, and the lines journald has not read yet stay ahead of its own.
void StreamSink::keep_connection() noexcept {
    if (options_.keep_in_store)
        (void)notify::store(socket_.get(), store_name(identifier_));
}

void StreamSink::drop_connection() noexcept {
    if (socket_ && options_.keep_in_store)
        (void)notify::unstore(store_name(identifier_));
    socket_.reset();
}

void StreamSink::adopt(UniqueFd connection, std::string identifier) {
    drop_connection();
    socket_ = std::move(connection);
    identifier_ = std::move(identifier);
    changes_.clear();
    ++connections_;
    unconfirmed_lines_ = 0;
    confirmed_usec_ = clock::monotonic_usec();
}

std::string StreamSink::store_name(std::string_view identifier) {
    std::string name(store_prefix);
    for (unsigned char c : identifier) {
        name += hex_char(c >> 4);
        name += hex_char(c);
    }
    return name;
}

std::optional<std::string> StreamSink::identifier_in(std::string_view name) {
    if (!name.starts_with(store_prefix) || (name.size() - store_prefix.size()) % 2 != 0)
        return std::nullopt;
    std::string identifier;
    for (std::size_t i = store_prefix.size(); i < name.size(); i += 2) {
        int high = hex_digit(name[i]), low = hex_digit(name[i + 1]);
        if (high < 0 || low < 0)
            return std::nullopt;
        identifier += static_cast<char>(high << 4 | low);
    }
    return identifier;
}

void StreamSink::connection_broke(int error) noexcept {
    ++breaks_;
    if (broken_) {
        broken_->unconfirmed_lines += unconfirmed_lines_;
    } else {
        broken_ = Break{clock::monotonic_usec(), error, unconfirmed_lines_, confirmed_usec_};
    }
    drop_connection();
    unconfirmed_lines_ = 0;
    written_ = line_start_;  // a line written in part goes again, whole, on the next connection
}

void StreamSink::lose_pending() noexcept {
    lost_ += static_cast<uint64_t>(std::count(
        pending_.begin() + static_cast<std::ptrdiff_t>(line_start_), pending_.end(), '\n'));
    while (!changes_.empty()) {  // the lines they were for are gone
        identifier_ = std::move(changes_.front().identifier);
        changes_.pop_front();
    }
    pending_.clear();
    entry_ends_.clear();
    line_start_ = written_ = 0;
}

void StreamSink::compact() noexcept {
    if (line_start_ == 0 || (line_start_ < pending_.size() && line_start_ < compact_after))
        return;
    pending_.erase(0, line_start_);
    written_ -= line_start_;
    for (std::size_t& end : entry_ends_)
        end -= line_start_;
    for (IdentifierChange& change : changes_)
        change.offset -= line_start_;
    line_start_ = 0;
}

}  // namespace pj
