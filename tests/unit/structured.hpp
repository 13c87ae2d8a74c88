// Helpers for the JSON and logfmt tests: one line through LineMapper, the entry as one readable
// string, so a failed check prints what it expected and what it saw.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "format/mapper.hpp"
#include "systemd/journal.hpp"

namespace pjtest {

// Control bytes, '\\' and '|' escaped, so every value is visible and unambiguous.
inline std::string visible(std::string_view text) {
    std::string out;
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if (c == '\\' || c == '|') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (byte < 0x20 || byte == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 15];
        } else {
            out += c;
        }
    }
    return out;
}

// "NAME=value | NAME=value", in order; checks every name is a valid journal field name.
inline std::string fields_of(const pj::Entry& entry) {
    std::string out;
    for (const pj::journal::Field& field : entry.fields) {
        CHECK_MESSAGE(pj::journal::is_valid_field_name(field.name),
                      "invalid field name: " << visible(field.name));
        if (!out.empty())
            out += " | ";
        out += std::string(field.name) + "=" + visible(field.value);
    }
    return out;
}

// What a line became, all of it in one string.
struct Seen {
    std::string message;
    int priority;
    std::string fields;
    std::string error;
    bool structured;
};

inline Seen see(const pj::Entry& entry) {
    return {visible(entry.message), entry.priority, fields_of(entry),
            std::string(entry.format_error), entry.structured};
}

inline Seen map_line(const pj::FormatOptions& options, std::string_view text) {
    pj::LineMapper mapper(options);
    return see(mapper.map(pj::Line{text}));
}

}  // namespace pjtest
