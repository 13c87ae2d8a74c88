// What every fuzz input must give, JSON and logfmt alike: exactly one entry, a priority 0..7, and
// either a structured entry (no error, fields with valid journal names none of which is ours, no
// more than MaxFields=) or the plain line as it came. Anything else stops the fuzzer (abort()).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/mapper.hpp"
#include "format/prefix.hpp"
#include "systemd/journal.hpp"

namespace pjfuzz {

inline void require(bool condition) {
    if (!condition)
        std::abort();
}

struct Owned {
    std::string message;
    int priority;
    std::string error;
    bool structured;
    std::vector<std::pair<std::string, std::string>> fields;
    bool operator==(const Owned&) const = default;
};

inline Owned check_entry(const pj::Entry& entry, std::string_view text,
                         const pj::FormatOptions& options) {
    require(entry.priority >= 0 && entry.priority <= 7);
    // HighestPriority=: nothing a writer sends is more urgent, and what it asked for is said.
    require(entry.priority >= options.highest_priority);
    require(entry.requested_priority == -1 ||
            (entry.requested_priority < options.highest_priority &&
             entry.priority == options.highest_priority));
    Owned owned{std::string(entry.message),
                entry.priority,
                std::string(entry.format_error),
                entry.structured,
                {}};
    if (entry.structured) {
        require(entry.format_error.empty());
        require(entry.fields.size() <= options.max_fields);
    } else {
        require(entry.fields.empty());
        require(entry.message == pj::parse_priority_prefix(text).rest);
        if (options.format != pj::LineFormat::automatic)
            require(!entry.format_error.empty());
    }
    for (const pj::journal::Field& field : entry.fields) {
        require(pj::journal::is_valid_field_name(field.name));
        require(field.name != "MESSAGE" && field.name != "PRIORITY" &&
                field.name != "SYSLOG_IDENTIFIER" && !field.name.starts_with("PIPEJOURNAL_"));
        // Names journalctl trusts from root to file an entry under another unit.
        require(!field.name.starts_with("OBJECT_") && !field.name.starts_with("COREDUMP_"));
        owned.fields.emplace_back(field.name, field.value);  // reads every byte: ASan sees it
    }
    return owned;
}

// Maps the input with options taken from its first byte (bit 0: Format=json, else auto; bit 1:
// MaxFields= from bits 2..7; bit 6 without bit 1: trim() and map again; bit 7: a dotted message key),
// once with a mapper that has seen other lines (its storage reused) and once with a fresh one: both
// must agree.
inline void fuzz_one(const uint8_t* data, std::size_t size, pj::LineFormat structured_format) {
    if (size == 0)
        return;
    pj::FormatOptions options;
    // JSON: Format=json or auto by bit 0; logfmt: always (it is never guessed).
    options.format = structured_format == pj::LineFormat::json && !(data[0] & 1)
                         ? pj::LineFormat::automatic
                         : structured_format;
    options.max_fields = (data[0] & 2) ? (data[0] >> 2) : pj::FormatOptions{}.max_fields;
    if (data[0] & 0x80)
        options.message_keys.push_back("a.b");  // a dotted key that can match nested paths
    options.highest_priority = (data[0] >> 3) & 3;  // emerg (no limit) .. err
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

    static pj::LineMapper reused({});
    reused.set_options(options);
    Owned first = check_entry(reused.map(pj::Line{text}), text, options);
    if ((data[0] & 0x42) == 0x40) {
        // The entry has gone: trim() gives back what a long line took; the line maps alike.
        reused.trim();
        require(check_entry(reused.map(pj::Line{text}), text, options) == first);
        reused.trim();
    }
    pj::LineMapper fresh(options);
    Owned second = check_entry(fresh.map(pj::Line{text}), text, options);
    require(first == second);
    // A piece of an over-long line is never parsed.
    pj::Entry piece = fresh.map(pj::Line{text, pj::Line::Break::line_max});
    require(!piece.structured && piece.fields.empty());
}

}  // namespace pjfuzz
