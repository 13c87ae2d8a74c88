// The priority prefix of journald's stream protocol ("<N>" as systemd-cat and stderr use it). Pure.
#pragma once

#include <optional>
#include <string_view>

namespace pj {

struct PriorityPrefix {
    std::optional<int> priority;  // empty: no valid prefix, the text stays as it is
    std::string_view rest;        // the text after the prefix
};

// Exactly what journald accepts on a stream (syslog_parse_priority() without a facility):
// "<N>", "<0N>" or "<00N>" at the very start, N in 0..7. Anything else ("<8>", "<13>", "<3") is
// part of the message.
PriorityPrefix parse_priority_prefix(std::string_view text) noexcept;

// The size of that prefix (0: none), inline for the record joiner's look at every line.
constexpr std::size_t priority_prefix_size(std::string_view t) noexcept {
    auto level = [](char c) { return c >= '0' && c <= '7'; };
    if (t.size() >= 3 && t[0] == '<' && level(t[1]) && t[2] == '>')
        return 3;
    if (t.size() >= 4 && t[0] == '<' && t[1] == '0' && level(t[2]) && t[3] == '>')
        return 4;
    if (t.size() >= 5 && t[0] == '<' && t[1] == '0' && t[2] == '0' && level(t[3]) && t[4] == '>')
        return 5;
    return 0;
}

}  // namespace pj
