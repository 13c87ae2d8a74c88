// The syntax of pipejournal.conf, without meaning: "[Section]" and "Key=Value" lines, as in
// systemd's own .conf files. Pure: text in, entries out; config.cpp gives the keys their meaning.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace pj::ini {

// Every line of a config file, comments included, is at most this long (without its line end).
// A longer line is an error, never cut or split: a split line was once read as a key. 8 KiB holds
// any valid value (a path is below 4096 bytes) with room to spare.
inline constexpr std::size_t line_max = 8192;

struct Entry {
    enum class Kind { section, assignment };
    Kind kind;
    std::size_t line;        // 1-based
    std::string_view name;   // the section's name, or the key (blanks trimmed)
    std::string_view value;  // an assignment's value (blanks trimmed); empty for a section
};

// Splits text into sections and assignments in file order. Blank lines and lines starting with
// '#' or ';' (after blanks) are comments; there are no inline comments and no continuation lines;
// a CR before the LF and a UTF-8 byte-order mark at the start are ignored. Views point into text.
// Throws ConfigError "SOURCE:LINE: reason" for a NUL byte, an over-long line, or a line that is
// none of the above.
std::vector<Entry> parse(std::string_view text, std::string_view source);

}  // namespace pj::ini
