// What one line becomes: the journal entry a format hands to a sink. Views only; the strings
// belong to the line buffer or to the format that made the entry, until its next map().
#pragma once

#include <span>
#include <string_view>

#include "lines.hpp"
#include "systemd/journal.hpp"

namespace pj {

struct Entry {
    std::string_view message;                       // MESSAGE=
    int priority = 6;                               // PRIORITY=, 0..7
    Line::Break line_break = Line::Break::newline;  // anything but newline: PIPEJOURNAL_LINE_BREAK=
    // Fields a structured line gave. Names are valid journal field names by construction and never
    // one of ours (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, PIPEJOURNAL_*), so journald drops none.
    std::span<const journal::Field> fields;
    // Set when the line was meant to be structured (Format=json/logfmt) and is not: a short
    // reason, sent as PIPEJOURNAL_FORMAT_ERROR= so the writer can be found.
    std::string_view format_error;
    bool structured = false;  // the line's own fields were mapped (counted in STATUS=)
    // PIPEJOURNAL_MULTILINE=: the rule of Multiline= that joined this entry's lines (rule_name());
    // empty for a single line.
    std::string_view multiline;
    // PIPEJOURNAL_REQUESTED_PRIORITY=: what the line asked for when HighestPriority= limited it;
    // -1: it got what it asked for.
    int requested_priority = -1;
};

// journal field values of PIPEJOURNAL_LINE_BREAK=; empty for a line that ended in '\n'.
constexpr std::string_view line_break_name(Line::Break end) noexcept {
    switch (end) {
    case Line::Break::newline: return {};
    case Line::Break::line_max: return "line-max";
    case Line::Break::eof: return "eof";
    case Line::Break::timeout: return "timeout";
    }
    return {};
}

}  // namespace pj
