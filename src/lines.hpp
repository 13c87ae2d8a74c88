// Bytes → lines. Pure: no I/O, no allocation after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "pages.hpp"

namespace pj {

struct Line {
    // Why the line ended where it did; journald calls this _LINE_BREAK=.
    enum class Break {
        newline,   // a '\n'
        line_max,  // cut at LineMax; the rest follows as the next piece
        eof,       // input ended without a '\n'
        timeout,   // no '\n' and no new byte for PartialLineTimeoutSec=
    };

    std::string_view text;  // without the '\n', and without a '\r' just before it
    Break end = Break::newline;
    bool continues = false;  // the text goes on from a piece that was cut at LineMax
    // Where the line ends in the input: the bytes handed out before it and its own, '\n'
    // included. The backlog is sent up to here once the line's entry is in the journal.
    uint64_t end_position = 0;
};

// Holds what was read from the FIFO and hands it out as lines. A line longer than line_max bytes
// comes out in pieces of line_max bytes, so no line is ever dropped and memory stays bounded.
//
// Use: read into free_space(), commit() what was read, then take lines with front()/pop() until
// front() is empty. Lines point into the buffer and are valid until the next free_space()
// (which may rewind or compact, so the next read overwrites them) or set_line_max().
//
// Memory: room for line_max is reserved, not used; only the bytes lines reach are. When a long line
// has been taken and the buffer is empty (idle), the pages past idle_keep are given back, so one
// 1 MiB line does not leave 1 MiB resident.
class LineBuffer {
public:
    static constexpr std::size_t default_read_size = 64 * 1024;  // one pipe's worth
    // Bytes whose pages stay when the buffer empties: ordinary lines and reads never reach past.
    static constexpr std::size_t idle_keep = 128 * 1024;

    explicit LineBuffer(std::size_t line_max, std::size_t read_size = default_read_size);

    std::span<char> free_space();  // never empty once every line was taken
    void commit(std::size_t bytes);

    std::optional<Line> front() {  // the next line, or a piece of an over-long one
        const Line* line = peek();
        return line ? std::optional<Line>(*line) : std::nullopt;
    }
    // The same, as the buffer's own copy (nullptr: none): no copy made for a caller that copies
    // the line elsewhere itself. Valid until pop() or any other call that changes the buffer.
    const Line* peek() { return front_ ? &*front_ : scan(); }
    void pop();  // consumes what front() returned
    // The bytes read after the line front() returned (maybe the start of the next line, maybe
    // nothing yet). Lets a reader look at the next line's first bytes without taking the line.
    std::string_view after_front() const noexcept {
        return front_ ? std::string_view(storage_.data() + begin_ + front_size_,
                                         end_ - begin_ - front_size_)
                      : std::string_view();
    }

    // No more input will come: from now on front() also hands out what is left after the last
    // '\n' as a Break::eof line.
    void finish();

    // Hands out what is left after the last '\n' once, as a line ended by `why` (a writer that left
    // a line unfinished must not have it glued to the next writer's). Later bytes start a new line.
    void release_partial(Line::Break why);

    bool has_partial_line() const { return begin_ != end_; }
    // Bytes of the buffer that may hold pages: the most ever used since it was last empty.
    std::size_t touched() const { return high_water_; }
    std::size_t line_max() const { return line_max_; }
    void set_line_max(std::size_t line_max);

private:
    const Line* scan();  // finds the next line, sets front_ and its end_position
    const Line* find_line();
    void compact();

    uint64_t consumed_ = 0;  // bytes popped so far: the next line starts here in the input
    std::size_t line_max_;
    std::size_t read_size_;
    // Not zero-filled: pages are touched (and count in RSS) only as far as lines reach.
    PageBuffer storage_;
    std::size_t capacity_;
    std::size_t high_water_ = 0;  // the most of storage_ used since pages were last given back
    std::size_t begin_ = 0;       // first byte not yet handed out
    std::size_t end_ = 0;         // one past the last byte read
    std::size_t scanned_ = 0;     // bytes from begin_ known to hold no '\n'
    std::optional<Line> front_;
    std::size_t front_size_ = 0;  // bytes front_ consumes, its '\n' included
    bool in_long_line_ = false;   // the last piece popped was cut at line_max
    bool finished_ = false;
    std::optional<Line::Break> release_;  // set by release_partial(), cleared by the pop()
};

}  // namespace pj
