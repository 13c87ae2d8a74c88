// Line → journal entry: the one place that decides what a line means. Pure.
//
// Later mappings (JSON, logfmt) add fields of their own here; the sinks only send entries.
#pragma once

#include <optional>
#include <string_view>

#include "lines.hpp"

namespace pj {

struct Entry {
    std::string_view message;
    int priority = 6;
    Line::Break line_break = Line::Break::newline;  // anything but newline is marked in the entry
};

// journald's stream protocol prefix: "<N>" with N a single digit 0..7 at the very start.
struct PriorityPrefix {
    std::optional<int> priority;  // empty: no valid prefix, the text stays as it is
    std::string_view rest;
};
PriorityPrefix parse_priority_prefix(std::string_view text) noexcept;

class LineMapper {
public:
    explicit LineMapper(int default_priority) : default_priority_(default_priority) {}

    // Pieces of an over-long line keep the priority of the line's first piece.
    Entry map(const Line& line) noexcept;

    void set_default_priority(int priority) noexcept { default_priority_ = priority; }

private:
    int default_priority_;
    int long_line_priority_ = 6;
};

}  // namespace pj
