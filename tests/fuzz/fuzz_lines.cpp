// LineBuffer fed the input in arbitrary chunkings, with timeouts, LineMax changes (as on reload)
// and end of input: every byte comes out exactly once and in order, no piece is longer than
// LineMax, and nothing stays held that should have gone out.
//
// Input: line_max (2 bytes), read_size (1 byte), flags (1 byte), an op count n (1 byte), n ops of
// 2 bytes (chunk size; bit 0: release_partial(timeout) after it, bit 1: set_line_max(), bits 2..7:
// the new LineMax), then the bytes to feed. The ops repeat until every byte was fed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "lines.hpp"

namespace {

[[noreturn]] void fail(const char* what, std::size_t at) {
    std::fprintf(stderr, "fuzz_lines: %s (at input byte %zu)\n", what, at);
    std::abort();
}

struct Op {
    std::size_t chunk;
    bool release;
    std::size_t new_line_max;  // 0: keep
};

// Follows the input as the buffer hands out pieces.
class Checker {
public:
    explicit Checker(std::string_view input) : input_(input) {}

    // Takes every piece front() offers now and checks each against the input.
    void drain(pj::LineBuffer& buffer, bool finished, bool released) {
        while (auto line = buffer.front()) {
            check(*line, buffer.line_max(), finished, released);
            buffer.pop();
        }
    }

    void check(const pj::Line& line, std::size_t line_max, bool finished, bool released) {
        std::string_view text = line.text;
        if (text.size() > line_max)
            fail("piece longer than line_max", out_);
        if (text.find('\n') != std::string_view::npos)
            fail("piece holds a '\\n'", out_);
        if (line.continues != after_cut_)
            fail("continues does not say whether the piece before was cut at line_max", out_);
        if (input_.substr(out_, text.size()) != text)
            fail("piece is not the next bytes of the input", out_);
        out_ += text.size();
        switch (line.end) {
        case pj::Line::Break::newline:
            if (input_.substr(out_, 2) == "\r\n") {
                out_ += 2;
            } else if (input_.substr(out_, 1) == "\n") {
                if (!text.empty() && text.back() == '\r')
                    fail("the '\\r' of a CRLF was left in the line", out_);
                out_ += 1;
            } else {
                fail("Break::newline but no '\\n' follows", out_);
            }
            break;
        case pj::Line::Break::line_max:
            if (text.size() != line_max)
                fail("Break::line_max on a piece shorter than line_max", out_);
            break;
        case pj::Line::Break::eof:
            if (!finished)
                fail("Break::eof before finish()", out_);
            break;
        case pj::Line::Break::timeout:
            if (!released)
                fail("Break::timeout without release_partial()", out_);
            break;
        }
        after_cut_ = line.end == pj::Line::Break::line_max;
    }

    // After a drain, what is held is the start of one line: no '\n', at most line_max bytes and a
    // '\r' that may begin a CRLF.
    void check_held(std::size_t fed, std::size_t line_max) const {
        std::string_view held = input_.substr(out_, fed - out_);
        if (held.find('\n') != std::string_view::npos)
            fail("a complete line is held back", out_);
        if (held.size() > line_max + 1 || (held.size() == line_max + 1 && held.back() != '\r'))
            fail("more than line_max bytes are held back", out_);
    }

    std::size_t out() const { return out_; }

private:
    std::string_view input_;
    std::size_t out_ = 0;  // input bytes accounted for by the pieces so far
    bool after_cut_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    if (size < 5)
        return 0;
    std::size_t line_max = 1 + (data[0] << 8 | data[1]) % 400;
    std::size_t read_size = 1 + data[2];
    bool release_at_end = data[3] & 1;
    bool finish_at_end = data[3] & 2;
    std::size_t op_count = 1 + data[4] % 16;
    data += 5;
    size -= 5;
    if (size < 2 * op_count)
        return 0;
    Op ops[16];
    bool any_bytes = false;
    for (std::size_t i = 0; i < op_count; ++i) {
        uint8_t flags = data[2 * i + 1];
        ops[i] = {data[2 * i], (flags & 1) != 0, (flags & 2) ? 1 + (flags >> 2) * 7u : 0};
        any_bytes = any_bytes || ops[i].chunk > 0;
    }
    if (!any_bytes)
        ops[0].chunk = 1;
    std::string_view input(reinterpret_cast<const char*>(data) + 2 * op_count, size - 2 * op_count);

    pj::LineBuffer buffer(line_max, read_size);
    Checker checker(input);
    std::size_t fed = 0;
    for (std::size_t i = 0; fed < input.size(); i = (i + 1) % op_count) {
        const Op& op = ops[i];
        std::span<char> space = buffer.free_space();
        if (space.empty())
            fail("free_space() is empty after every line was taken", fed);
        std::size_t chunk = std::min({op.chunk, space.size(), input.size() - fed});
        std::memcpy(space.data(), input.data() + fed, chunk);
        buffer.commit(chunk);
        fed += chunk;
        checker.drain(buffer, false, false);
        if (op.new_line_max) {
            buffer.set_line_max(op.new_line_max);
            checker.drain(buffer, false, false);
        }
        checker.check_held(fed, buffer.line_max());
        if (op.release) {
            buffer.release_partial(pj::Line::Break::timeout);
            checker.drain(buffer, false, true);
            if (buffer.has_partial_line() || checker.out() != fed)
                fail("release_partial() left bytes held", checker.out());
        }
    }
    if (release_at_end) {
        buffer.release_partial(pj::Line::Break::timeout);
        checker.drain(buffer, false, true);
        if (checker.out() != fed)
            fail("release_partial() left bytes held", checker.out());
    }
    if (finish_at_end) {
        buffer.finish();
        checker.drain(buffer, true, false);
        if (checker.out() != input.size())
            fail("bytes lost at finish()", checker.out());
    }
    return 0;
}
