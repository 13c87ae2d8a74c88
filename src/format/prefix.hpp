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

}  // namespace pj
