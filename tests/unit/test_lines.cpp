#include <doctest/doctest.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "lines.hpp"

using pj::Line;
using pj::LineBuffer;

namespace {

struct Taken {
    std::string text;
    Line::Break end;
    bool continues;
    bool operator==(const Taken&) const = default;
};

// Lines as one readable string, so a failed check prints what it expected and what it saw:
// [text] then n (newline), m (cut at line_max) or e (eof), + when it continues a cut line.
std::string show(const std::vector<Taken>& lines) {
    std::string out;
    for (const Taken& t : lines) {
        out += "[" + t.text + "]";
        out += t.end == Line::Break::newline    ? "n"
               : t.end == Line::Break::line_max ? "m"
               : t.end == Line::Break::eof      ? "e"
                                                : "t";
        out += t.continues ? "+ " : " ";
    }
    return out;
}

// Feeds the chunks one read at a time and takes every line in between, as the forwarder does.
std::vector<Taken> split(LineBuffer& buffer, const std::vector<std::string>& chunks,
                         bool finish = false) {
    std::vector<Taken> lines;
    auto take_all = [&] {
        while (auto line = buffer.front()) {
            lines.push_back({std::string(line->text), line->end, line->continues});
            buffer.pop();
        }
    };
    for (const std::string& chunk : chunks) {
        std::size_t done = 0;
        while (done < chunk.size()) {
            auto space = buffer.free_space();
            REQUIRE(!space.empty());
            std::size_t n = std::min(space.size(), chunk.size() - done);
            std::memcpy(space.data(), chunk.data() + done, n);
            buffer.commit(n);
            done += n;
            take_all();
        }
    }
    if (finish) {
        buffer.finish();
        take_all();
    }
    return lines;
}

constexpr auto nl = Line::Break::newline;

// How many of the pages wholly inside [at, at + size) are resident (mincore).
std::size_t resident_pages(const char* at, std::size_t size) {
    auto page = static_cast<std::uintptr_t>(pj::PageBuffer::page_size());
    auto from = (reinterpret_cast<std::uintptr_t>(at) + page - 1) / page * page;
    auto to = (reinterpret_cast<std::uintptr_t>(at) + size) / page * page;
    REQUIRE(from < to);
    std::vector<unsigned char> pages((to - from) / page);
    REQUIRE(mincore(reinterpret_cast<void*>(from), to - from, pages.data()) == 0);
    std::size_t resident = 0;
    for (unsigned char p : pages)
        resident += p & 1;
    return resident;
}

}  // namespace

TEST_CASE("lines split at newlines, partial lines are kept across reads") {
    LineBuffer buffer(1024, 16);
    auto lines = split(buffer, {"one\ntw", "o\nthr", "ee", "\n"});
    CHECK(show(lines) ==
          show(std::vector<Taken>{{"one", nl, false}, {"two", nl, false}, {"three", nl, false}}));
    CHECK_FALSE(buffer.has_partial_line());
}

TEST_CASE("many lines in one read all come out, in order") {
    LineBuffer buffer(1024);
    std::string chunk;
    for (int i = 0; i < 1000; ++i)
        chunk += "line " + std::to_string(i) + "\n";
    auto lines = split(buffer, {chunk});
    REQUIRE(lines.size() == 1000);
    CHECK(lines.front().text == "line 0");
    CHECK(lines.back().text == "line 999");
}

TEST_CASE("empty lines are lines") {
    LineBuffer buffer(1024);
    auto lines = split(buffer, {"\n\nx\n"});
    CHECK(show(lines) ==
          show(std::vector<Taken>{{"", nl, false}, {"", nl, false}, {"x", nl, false}}));
}

TEST_CASE("CRLF: one carriage return before the newline is removed, others stay") {
    LineBuffer buffer(1024);
    auto lines = split(buffer, {"dos\r\n", "a\rb\n", "two\r\r\n", "\r\n"});
    CHECK(show(lines) ==
          show(std::vector<Taken>{
              {"dos", nl, false}, {"a\rb", nl, false}, {"two\r", nl, false}, {"", nl, false}}));
}

TEST_CASE("NUL bytes and invalid UTF-8 pass through unchanged") {
    LineBuffer buffer(1024);
    std::string binary("a\0b\xff\xfe\xc3(", 8);
    auto lines = split(buffer, {binary + "\n"});
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].text == binary);
}

TEST_CASE("a line of exactly LineMax bytes is not cut") {
    LineBuffer buffer(8, 4);
    auto lines = split(buffer, {"12345678", "\n"});
    CHECK(show(lines) == show(std::vector<Taken>{{"12345678", nl, false}}));
}

TEST_CASE("a CRLF line of exactly LineMax bytes is not cut, however the bytes arrive") {
    LineBuffer together(8, 16);
    CHECK(show(split(together, {"12345678\r\nend\n"})) ==
          show({{"12345678", nl, false}, {"end", nl, false}}));
    LineBuffer apart(8, 1);
    std::vector<std::string> bytes;
    for (char c : std::string("12345678\r\nend\n"))
        bytes.emplace_back(1, c);
    CHECK(show(split(apart, bytes)) == show({{"12345678", nl, false}, {"end", nl, false}}));
    LineBuffer lone_cr(8, 1);  // a '\r' past LineMax that is not followed by '\n' is text
    CHECK(show(split(lone_cr, {"12345678", "\r", "x\n"})) ==
          show({{"12345678", Line::Break::line_max, false}, {"\rx", nl, true}}));
}

TEST_CASE("a line longer than LineMax comes out in pieces, nothing dropped") {
    LineBuffer buffer(8, 4);
    auto lines = split(buffer, {"abcdefghijklmnopqrs\nnext\n"});
    CHECK(show(lines) == show(std::vector<Taken>{{"abcdefgh", Line::Break::line_max, false},
                                                 {"ijklmnop", Line::Break::line_max, true},
                                                 {"qrs", nl, true},
                                                 {"next", nl, false}}));
}

TEST_CASE("an over-long line arriving a byte at a time is cut the same way") {
    LineBuffer buffer(4, 1);
    std::vector<std::string> bytes;
    for (char c : std::string("abcdefghij\nk\n"))
        bytes.emplace_back(1, c);
    auto lines = split(buffer, bytes);
    CHECK(show(lines) == show(std::vector<Taken>{{"abcd", Line::Break::line_max, false},
                                                 {"efgh", Line::Break::line_max, true},
                                                 {"ij", nl, true},
                                                 {"k", nl, false}}));
}

TEST_CASE("finish() hands out the unterminated rest as an eof line") {
    LineBuffer buffer(1024);
    auto lines = split(buffer, {"a\nlast words"}, true);
    CHECK(show(lines) ==
          show(std::vector<Taken>{{"a", nl, false}, {"last words", Line::Break::eof, false}}));
    CHECK_FALSE(buffer.has_partial_line());
}

TEST_CASE("at end of input, LineMax bytes and a '\\r' still come out in pieces of LineMax") {
    // Defect: the held 8 bytes + '\r' went out as one eof piece of 9 bytes.
    LineBuffer buffer(8, 4);
    auto lines = split(buffer, {"12345678\r"}, true);
    CHECK(show(lines) == show(std::vector<Taken>{{"12345678", Line::Break::line_max, false},
                                                 {"\r", Line::Break::eof, true}}));
}

TEST_CASE("release_partial() hands out an idle partial line once; later bytes start a new line") {
    LineBuffer buffer(1024);
    auto lines = split(buffer, {"done\nA-no-newline"});
    buffer.release_partial(Line::Break::timeout);
    while (auto line = buffer.front()) {
        lines.push_back({std::string(line->text), line->end, line->continues});
        buffer.pop();
    }
    auto more = split(buffer, {"B-line\n"});
    lines.insert(lines.end(), more.begin(), more.end());
    CHECK(show(lines) == show(std::vector<Taken>{{"done", nl, false},
                                                 {"A-no-newline", Line::Break::timeout, false},
                                                 {"B-line", nl, false}}));
}

TEST_CASE("new bytes before the release is taken cancel it: the line was not idle") {
    LineBuffer buffer(1024);
    auto lines = split(buffer, {"abc"});
    buffer.release_partial(Line::Break::timeout);
    auto more = split(buffer, {"def\n"});
    CHECK(show(more) == show(std::vector<Taken>{{"abcdef", nl, false}}));
}

TEST_CASE("front() does not consume: a refused line is offered again") {
    LineBuffer buffer(1024);
    auto space = buffer.free_space();
    std::memcpy(space.data(), "x\ny\n", 4);
    buffer.commit(4);
    CHECK(buffer.front()->text == "x");
    CHECK(buffer.front()->text == "x");
    buffer.pop();
    CHECK(buffer.front()->text == "y");
}

TEST_CASE("a smaller LineMax on reload applies to what is already buffered") {
    LineBuffer buffer(64, 8);
    split(buffer, {"0123456789"});
    buffer.set_line_max(4);
    std::vector<Taken> lines;
    while (auto line = buffer.front()) {
        lines.push_back({std::string(line->text), line->end, line->continues});
        buffer.pop();
    }
    CHECK(show(lines) == show(std::vector<Taken>{{"0123", Line::Break::line_max, false},
                                                 {"4567", Line::Break::line_max, true}}));
    CHECK(buffer.has_partial_line());  // "89" waits for its newline
}

TEST_CASE("a long line's pages are given back once it is taken and the buffer is empty") {
    constexpr std::size_t mib = 1024 * 1024;
    LineBuffer buffer(mib, 16 * 1024);
    const char* storage = buffer.free_space().data();  // empty: the start of the storage
    CHECK(buffer.touched() == 0);

    // Short lines use the first pages only, and keep them.
    std::vector<std::string> short_lines(100, std::string(99, 's') + "\n");
    CHECK(split(buffer, short_lines).size() == 100);
    CHECK(buffer.touched() <= LineBuffer::idle_keep);

    // One 1 MiB line, in two writes.
    std::string text(mib, 'x');
    text += '\n';
    std::vector<std::string> chunks = {text.substr(0, mib / 2)};
    auto first_half = split(buffer, chunks);
    CHECK(first_half.empty());  // waits for the rest
    CHECK(buffer.touched() >= mib / 2);
    CHECK(resident_pages(storage + LineBuffer::idle_keep, mib / 2 - LineBuffer::idle_keep) > 0);
    auto lines = split(buffer, {text.substr(mib / 2)});
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].text.size() == mib);
    CHECK(lines[0].end == nl);

    // Taken, the buffer empty: nothing past idle_keep is resident any more.
    CHECK_FALSE(buffer.has_partial_line());
    CHECK(buffer.touched() == 0);
    CHECK(resident_pages(storage + LineBuffer::idle_keep, mib - LineBuffer::idle_keep) == 0);
    CHECK(buffer.free_space().data() == storage);

    // And the buffer works as before.
    CHECK(show(split(buffer, {"after\n"})) == show({{"after", nl, false}}));
}

TEST_CASE("pages are not given back while a partial line waits") {
    LineBuffer buffer(1024 * 1024, 16 * 1024);
    std::string text(512 * 1024, 'y');
    auto lines = split(buffer, {text + "\nnext"});  // the long line, and the start of the next
    REQUIRE(lines.size() == 1);
    CHECK(buffer.has_partial_line());
    CHECK(buffer.touched() > LineBuffer::idle_keep);  // kept: the buffer is not empty
    lines = split(buffer, {" line\n"});
    CHECK(show(lines) == show({{"next line", nl, false}}));
    CHECK(buffer.touched() == 0);  // now empty: given back
}
