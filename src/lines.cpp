#include "lines.hpp"

#include <algorithm>
#include <cstring>

namespace pj {

LineBuffer::LineBuffer(std::size_t line_max, std::size_t read_size)
    : line_max_(line_max),
      read_size_(read_size),
      storage_(line_max + 1 + read_size),
      capacity_(line_max + 1 + read_size) {}

std::span<char> LineBuffer::free_space() {
    // The rest of a line (usually a few bytes) moves to the front before a read would pass
    // idle_keep: ordinary lines stay in the first pages, whatever LineMax= is.
    if (capacity_ - end_ < read_size_ || (begin_ > 0 && end_ + read_size_ > idle_keep))
        compact();
    return {storage_.data() + end_, capacity_ - end_};
}

void LineBuffer::commit(std::size_t bytes) {
    end_ += bytes;
    high_water_ = std::max(high_water_, end_);
    front_.reset();
    if (bytes > 0)
        release_.reset();  // the line is not idle after all
}

const Line* LineBuffer::scan() {
    const Line* line = find_line();
    if (line)
        front_->end_position = consumed_ + front_size_;
    return line;
}

const Line* LineBuffer::find_line() {
    const char* begin = storage_.data() + begin_;
    std::size_t size = end_ - begin_;
    if (const void* nl = std::memchr(begin + scanned_, '\n', size - scanned_)) {
        std::size_t length = static_cast<const char*>(nl) - begin;
        front_size_ = length + 1;
        if (length > 0 && begin[length - 1] == '\r')
            --length;  // CRLF: the '\r' is part of the line end, not of the line
        if (length > line_max_) {
            // The '\n' came in one read with the line: cut it as if it had come in pieces.
            front_ = Line{{begin, line_max_}, Line::Break::line_max, in_long_line_};
            front_size_ = line_max_;
            return &*front_;
        }
        front_ = Line{{begin, length}, Line::Break::newline, in_long_line_};
        return &*front_;
    }
    scanned_ = size;
    // Cut only once more than line_max bytes wait, so a line of exactly line_max is never cut;
    // a '\r' just past line_max may be the start of a CRLF, so wait for the byte after it too.
    bool maybe_crlf = size == line_max_ + 1 && begin[line_max_] == '\r';
    if (size > line_max_ && !maybe_crlf) {
        front_ = Line{{begin, line_max_}, Line::Break::line_max, in_long_line_};
        front_size_ = line_max_;
        return &*front_;
    }
    if ((finished_ || release_) && size > 0) {
        // A held line of LineMax bytes and a '\r' still goes out in pieces of at most LineMax.
        if (size > line_max_) {
            front_ = Line{{begin, line_max_}, Line::Break::line_max, in_long_line_};
            front_size_ = line_max_;
            return &*front_;
        }
        front_ = Line{{begin, size}, finished_ ? Line::Break::eof : *release_, in_long_line_};
        front_size_ = size;
        return &*front_;
    }
    return nullptr;
}

void LineBuffer::pop() {
    if (!front_ && !scan())
        return;
    in_long_line_ = front_->end == Line::Break::line_max;
    if (front_->end == Line::Break::eof || front_->end == Line::Break::timeout)
        release_.reset();
    begin_ += front_size_;
    consumed_ += front_size_;
    scanned_ = 0;
    front_.reset();
    if (begin_ == end_) {
        begin_ = end_ = 0;  // the common case: everything taken, start over at no cost
        if (high_water_ > idle_keep) {
            // A long line has gone: its pages too.
            storage_.release(idle_keep, high_water_);
            high_water_ = 0;
        }
    }
}

void LineBuffer::finish() {
    finished_ = true;
    front_.reset();
}

void LineBuffer::release_partial(Line::Break why) {
    if (begin_ == end_)
        return;
    release_ = why;
    front_.reset();
}

void LineBuffer::set_line_max(std::size_t line_max) {
    compact();
    line_max_ = line_max;
    std::size_t capacity = std::max(end_, line_max + 1) + read_size_;
    PageBuffer storage(capacity);
    std::memcpy(storage.data(), storage_.data(), end_);
    storage_ = std::move(storage);
    capacity_ = capacity;
    high_water_ = end_;
    front_.reset();
}

void LineBuffer::compact() {
    if (begin_ == 0)
        return;
    std::memmove(storage_.data(), storage_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    front_.reset();
}

}  // namespace pj
