#include "entry.hpp"

namespace pj {

PriorityPrefix parse_priority_prefix(std::string_view text) noexcept {
    if (text.size() >= 3 && text[0] == '<' && text[1] >= '0' && text[1] <= '7' && text[2] == '>')
        return {text[1] - '0', text.substr(3)};
    return {std::nullopt, text};
}

Entry LineMapper::map(const Line& line) noexcept {
    Entry entry{line.text, default_priority_, line.end};
    if (line.continues) {
        entry.priority = long_line_priority_;
        return entry;
    }
    auto prefix = parse_priority_prefix(line.text);
    entry.message = prefix.rest;
    entry.priority = prefix.priority.value_or(default_priority_);
    long_line_priority_ = entry.priority;
    return entry;
}

}  // namespace pj
