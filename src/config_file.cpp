#include "config_file.hpp"

#include <string>

#include "errors.hpp"

namespace pj::ini {
namespace {

constexpr std::string_view blanks = " \t\r";

std::string_view trimmed(std::string_view text) {
    auto first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos)
        return {};
    auto last = text.find_last_not_of(blanks);
    return text.substr(first, last - first + 1);
}

[[noreturn]] void fail(std::string_view source, std::size_t line, std::string_view reason) {
    throw ConfigError(std::string(source) + ":" + std::to_string(line) + ": " +
                      std::string(reason));
}

}  // namespace

std::vector<Entry> parse(std::string_view text, std::string_view source) {
    constexpr std::string_view byte_order_mark = "\xEF\xBB\xBF";
    if (text.starts_with(byte_order_mark))
        text.remove_prefix(byte_order_mark.size());

    std::vector<Entry> entries;
    std::size_t number = 0;
    while (!text.empty()) {
        ++number;
        auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        if (line.ends_with('\r'))
            line.remove_suffix(1);

        // Checked first, in comments too: a C string reader would stop at a NUL and silently
        // ignore the rest, and a reader that cuts long lines reads the tail as a line of its own.
        if (line.find('\0') != std::string_view::npos)
            fail(source, number, "contains a NUL byte (a config file is text)");
        if (line.size() > line_max)
            fail(source, number,
                 "line is longer than " + std::to_string(line_max) + " bytes (" +
                     std::to_string(line.size()) + ")");

        std::string_view content = trimmed(line);
        if (content.empty() || content.front() == '#' || content.front() == ';')
            continue;
        if (content.front() == '[') {
            if (content.back() != ']')
                fail(source, number, "expected ']' at the end of the section header");
            std::string_view name = trimmed(content.substr(1, content.size() - 2));
            if (name.empty())
                fail(source, number, "empty section name");
            entries.push_back({Entry::Kind::section, number, name, {}});
            continue;
        }
        auto equals = content.find('=');
        if (equals == std::string_view::npos)
            fail(source, number, "expected [Section] or Key=Value");
        std::string_view key = trimmed(content.substr(0, equals));
        if (key.empty())
            fail(source, number, "expected a key before '='");
        entries.push_back(
            {Entry::Kind::assignment, number, key, trimmed(content.substr(equals + 1))});
    }
    return entries;
}

}  // namespace pj::ini
