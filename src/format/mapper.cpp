#include "format/mapper.hpp"

#include <utility>

#include "format/prefix.hpp"

namespace pj {

LineMapper::LineMapper(FormatOptions options) : options_(std::move(options)) {}

void LineMapper::set_options(FormatOptions options) {
    options_ = std::move(options);
}

Entry LineMapper::map(const Line& line) {
    Entry entry;
    entry.message = line.text;
    entry.line_break = line.end;
    if (line.continues) {
        entry.priority = long_line_priority_;
        return entry;
    }
    auto prefix = parse_priority_prefix(line.text);
    entry.message = prefix.rest;
    entry.priority = prefix.priority.value_or(options_.default_priority);
    long_line_priority_ = entry.priority;
    return entry;
}

}  // namespace pj
