// RecordJoiner over LineBuffer and LineMapper (Format=auto), as the channel drives them: every
// chunking of the same bytes gives the same entries, and the records, taken apart again, are
// exactly the lines LineBuffer alone cuts from the bytes — none lost, added, reordered or altered;
// a joined record holds only whole lines, none of them JSON, its first and last line not empty,
// within the bounds; its MESSAGE is its lines after their <N> prefixes, joined with '\n'.
//
// Input: rules (1 byte: bits 0-3 python java go indent, bits 4-5 a rotation of their order),
// line_max (1 byte), bounds (1 byte: lines 1..16, 2 bytes: bytes 1..4096), an op count n (1 byte),
// n chunk sizes (1 byte each), then the bytes to feed. No clock runs: no record times out; the end
// of input is a stop.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "format/mapper.hpp"
#include "format/prefix.hpp"
#include "records/joiner.hpp"

namespace {

[[noreturn]] void fail(const char* what, std::size_t entry) {
    std::fprintf(stderr, "fuzz_records: %s (entry %zu)\n", what, entry);
    std::abort();
}

struct Out {
    std::string message;
    int priority;
    pj::MultilineRule rule;
    std::size_t lines;
    bool structured;
    std::string format_error;
    pj::Line::Break end;
    bool operator==(const Out&) const = default;
};

struct Setup {
    pj::records::Rules rules;
    std::size_t line_max;
    pj::RecordLimits limits;
};

std::vector<Out> run(const Setup& setup, std::string_view input,
                     const std::vector<std::size_t>& chunks) {
    pj::LineMapper mapper({});
    pj::LineBuffer buffer(setup.line_max, 256);
    pj::RecordJoiner joiner(
        buffer, setup.rules, pj::RecordJoiner::default_timeout_usec,
        [&mapper](std::string_view text) { return mapper.maps_structured(text); }, setup.limits);
    std::vector<Out> out;
    auto take = [&] {
        while (const pj::Record* record = joiner.front()) {
            pj::Entry entry = mapper.map(*record);
            out.push_back({std::string(entry.message), entry.priority, record->rule, record->lines,
                           entry.structured, std::string(entry.format_error), record->line.end});
            joiner.pop();
        }
    };
    std::size_t fed = 0;
    for (std::size_t i = 0; fed < input.size(); i = (i + 1) % chunks.size()) {
        std::span<char> space = joiner.free_space();
        std::size_t n = std::min({chunks[i], space.size(), input.size() - fed});
        std::memcpy(space.data(), input.data() + fed, n);
        joiner.commit(n, 0);
        fed += n;
        take();
    }
    joiner.finish();
    take();
    if (joiner.deadline())
        fail("a deadline is left after stop", out.size());
    return out;
}

std::vector<pj::Line> lines_of(const Setup& setup, std::string_view input,
                               std::vector<std::string>& storage) {
    pj::LineBuffer buffer(setup.line_max, 256);
    std::vector<pj::Line> lines;
    std::size_t fed = 0;
    auto take = [&] {
        while (auto line = buffer.front()) {
            storage.emplace_back(line->text);
            lines.push_back(*line);
            buffer.pop();
        }
    };
    while (fed < input.size()) {
        std::span<char> space = buffer.free_space();
        std::size_t n = std::min(space.size(), input.size() - fed);
        std::memcpy(space.data(), input.data() + fed, n);
        buffer.commit(n);
        fed += n;
        take();
    }
    buffer.finish();
    take();
    for (std::size_t i = 0; i < lines.size(); ++i)
        lines[i].text = storage[i];
    return lines;
}

std::string_view rest_of(std::string_view text) {
    return text.substr(pj::priority_prefix_size(text));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    if (size < 6)
        return 0;
    Setup setup;
    constexpr pj::MultilineRule all[] = {pj::MultilineRule::python, pj::MultilineRule::java,
                                         pj::MultilineRule::go, pj::MultilineRule::indent};
    for (int i = 0; i < 4; ++i) {
        int which = (i + (data[0] >> 4)) % 4;
        if (data[0] & (1 << which))
            setup.rules.push_back(all[which]);
    }
    setup.line_max = 1 + data[1];
    setup.limits.lines = 1 + data[2] % 16;
    setup.limits.bytes = 1 + (data[3] << 8 | data[4]) % 4096;
    std::size_t op_count = 1 + data[5] % 16;
    data += 6;
    size -= 6;
    if (size < op_count)
        return 0;
    std::vector<std::size_t> chunks;
    for (std::size_t i = 0; i < op_count; ++i)
        chunks.push_back(1 + data[i]);
    std::string_view input(reinterpret_cast<const char*>(data) + op_count, size - op_count);

    // Every chunking gives the same entries.
    const std::vector<Out> whole = run(setup, input, {input.size() + 1});
    if (run(setup, input, chunks) != whole)
        fail("another chunking gave other entries", 0);
    if (run(setup, input, {1}) != whole)
        fail("byte by byte gave other entries", 0);

    // Taken apart, the records are the lines.
    std::vector<std::string> storage;
    const std::vector<pj::Line> lines = lines_of(setup, input, storage);
    pj::LineMapper mapper({});
    std::size_t next = 0;
    for (std::size_t e = 0; e < whole.size(); ++e) {
        const Out& out = whole[e];
        if (out.lines == 0 || next + out.lines > lines.size())
            fail("more lines in records than in the input", e);
        if (out.rule == pj::MultilineRule::none) {
            if (out.lines != 1)
                fail("a single line counts more than one", e);
            pj::Entry entry = mapper.map(lines[next]);
            if (out.message != entry.message || out.priority != entry.priority ||
                out.structured != entry.structured || out.format_error != entry.format_error ||
                out.end != lines[next].end)
                fail("a single line was changed", e);
            ++next;
            continue;
        }
        if (out.lines < 2 || out.lines > setup.limits.lines || out.message.size() > setup.limits.bytes)
            fail("a record of one line, or over its bounds", e);
        if (out.structured || !out.format_error.empty())
            fail("a record was read as JSON", e);
        std::string joined;
        for (std::size_t i = 0; i < out.lines; ++i) {
            const pj::Line& line = lines[next + i];
            if (line.end != pj::Line::Break::newline || line.continues)
                fail("a record holds a piece of a cut line or an unfinished one", e);
            std::string_view rest = rest_of(line.text);
            if ((i == 0 || i + 1 == out.lines) && rest.empty())
                fail("a record begins or ends with an empty line", e);
            if (mapper.maps_structured(rest))
                fail("a record holds a JSON line", e);
            if (i > 0)
                joined += '\n';
            joined += rest;
        }
        if (joined != out.message)
            fail("a record's MESSAGE is not its lines joined", e);
        // The first line's <N>, within HighestPriority= (crit by default).
        auto prefix = pj::parse_priority_prefix(lines[next].text);
        const int highest = pj::FormatOptions{}.highest_priority;
        if (prefix.priority && out.priority != std::max(*prefix.priority, highest))
            fail("a record's first line's <N> is not its PRIORITY", e);
        if (out.priority < highest)
            fail("a record above HighestPriority=", e);
        next += out.lines;
    }
    if (next != lines.size())
        fail("lines lost", whole.size());
    // The inline prefix size agrees with the parser.
    for (const pj::Line& line : lines)
        if (pj::priority_prefix_size(line.text) !=
            line.text.size() - pj::parse_priority_prefix(line.text).rest.size())
            fail("priority_prefix_size() and parse_priority_prefix() disagree", 0);
    return 0;
}
