// Lines → records: the seam between line splitting and mapping. A record is what becomes one
// journal entry: one line as the line buffer cut it, or several lines a rule of Multiline= joined
// (interface.md, "Multi-line records"; docs/design.md, "Records").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "lines.hpp"

namespace pj {

enum class MultilineRule : std::uint8_t { none, python, java, go, indent };

// PIPEJOURNAL_MULTILINE= of a joined record: the rule's name as Multiline= writes it.
constexpr std::string_view rule_name(MultilineRule rule) noexcept {
    switch (rule) {
    case MultilineRule::none: return {};
    case MultilineRule::python: return "python";
    case MultilineRule::java: return "java";
    case MultilineRule::go: return "go";
    case MultilineRule::indent: return "indent";
    }
    return {};
}

struct Record {
    // rule none: one line exactly as the line buffer handed it out (mapped as any line).
    // Otherwise: line.text is MESSAGE= already, the lines joined with '\n', each without its '\n'
    // and its <N> prefix; line.end is newline and line.continues false.
    Line line;
    MultilineRule rule = MultilineRule::none;
    // A joined record's PRIORITY= as its rule decided it; nullopt: DefaultPriority=.
    std::optional<int> priority;
    std::size_t lines = 1;  // how many lines of the input this record is

    static Record of(const Line& line) noexcept {
        return Record{line, MultilineRule::none, std::nullopt, 1};
    }
};

// What the channel reads into and takes entries from. Every call that can move or reuse the bytes
// behind a record goes through here (free_space, set_line_max), so a stage that holds lines knows
// when to keep its own copy. Records point into the source and are valid until the next call other
// than front() — front() twice without pop() gives the same record.
//
// Time is passed in (the loop's clock, CLOCK_MONOTONIC µs): a source reads no clock.
class RecordSource {
public:
    virtual ~RecordSource() = default;

    virtual std::span<char> free_space() = 0;
    virtual void commit(std::size_t bytes, std::uint64_t now_usec) = 0;

    // nullptr: nothing to hand out now. The record is the source's own (a pointer, not a value:
    // returning a Record by value costs a store-forwarding stall per line).
    virtual const Record* front() = 0;
    virtual void pop() = 0;  // consumes what front() returned

    // No more input will come: whatever is held goes out (a pending record whole).
    virtual void finish() = 0;
    // The partial-line timeout: LineBuffer::release_partial().
    virtual void release_partial(Line::Break why) = 0;
    virtual bool has_partial_line() const = 0;

    virtual std::size_t line_max() const = 0;
    virtual void set_line_max(std::size_t line_max) = 0;

    // When expire() must be called if no byte comes before (a record waits for its next line);
    // nullopt: nothing waits. A timer of its own, not the partial-line timer.
    virtual std::optional<std::uint64_t> deadline() const = 0;
    virtual void expire(std::uint64_t now_usec) = 0;

protected:
    RecordSource() = default;
    RecordSource(const RecordSource&) = default;
    RecordSource& operator=(const RecordSource&) = default;
};

}  // namespace pj
