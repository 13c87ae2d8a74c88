#include "format/logfmt.hpp"

#include <array>
#include <cstdint>

namespace pj {
namespace {

// Byte classes, so that each scanning loop tests one table entry per byte.
enum : std::uint8_t { blank = 1, ends_key = 2, ends_quoted = 4 };

constexpr auto byte_class = [] {
    std::array<std::uint8_t, 256> table{};
    table[' '] = table['\t'] = blank | ends_key;
    table['='] = ends_key;
    table['"'] = ends_key | ends_quoted;
    table['\\'] = ends_quoted;
    return table;
}();

bool is(char c, std::uint8_t what) noexcept {
    return byte_class[static_cast<unsigned char>(c)] & what;
}

bool is_blank(char c) noexcept {
    return is(c, blank);
}

}  // namespace

ReadResult read_logfmt(std::string_view text, FieldBuilder& builder) {
    using Kind = ReadResult::Kind;
    const std::size_t n = text.size();
    std::size_t i = 0;
    bool any_pair = false;
    bool too_many = false;  // read on: a line that is not logfmt at all is told as such
    while (true) {
        while (i < n && is_blank(text[i]))
            ++i;
        if (i == n)
            break;
        std::size_t key_begin = i;
        while (i < n && !is(text[i], ends_key))
            ++i;
        std::string_view key = text.substr(key_begin, i - key_begin);
        if (i < n && text[i] == '"')
            return {Kind::not_format, "quote in a key"};
        if (key.empty())
            return {Kind::not_format, "'=' without a key"};
        builder.enter(key);
        bool added;
        if (i == n || is_blank(text[i])) {
            added = builder.add_literal("true");  // a bare key: a flag that is set
        } else if (++i < n && text[i] == '"') {
            // Quoted: decoded into the arena only when it holds an escape.
            std::size_t begin = ++i;
            while (i < n && !is(text[i], ends_quoted))
                ++i;
            if (i < n && text[i] == '"') {
                added = builder.add_string(text.substr(begin, i - begin));
            } else {
                std::string& arena = builder.arena();
                std::size_t arena_begin = arena.size();
                arena.append(text.substr(begin, i - begin));
                while (i < n && text[i] != '"') {
                    if (text[i] != '\\') {
                        arena += text[i++];
                        continue;
                    }
                    if (++i == n)
                        break;
                    switch (text[i]) {
                    case '"': arena += '"'; break;
                    case '\\': arena += '\\'; break;
                    case 'n': arena += '\n'; break;
                    case 't': arena += '\t'; break;
                    default: return {Kind::not_format, "unknown escape in a quoted value"};
                    }
                    ++i;
                }
                if (i == n)
                    return {Kind::not_format, "unterminated quoted value"};
                added = builder.add_string_in_arena(arena_begin);
            }
            if (i == n)
                return {Kind::not_format, "unterminated quoted value"};
            ++i;  // the closing quote
            if (i < n && !is_blank(text[i]))
                return {Kind::not_format, "text right after a quoted value"};
            any_pair = true;
        } else {
            std::size_t begin = i;
            while (i < n && !is_blank(text[i]))
                ++i;
            added = builder.add_string(text.substr(begin, i - begin));
            any_pair = true;
        }
        builder.leave();
        too_many = too_many || !added;
    }
    if (!any_pair)
        return {Kind::not_format, "no key=value pair"};
    if (too_many)
        return {Kind::over_limit, builder.too_many_fields_reason()};
    return {Kind::mapped, {}};
}

}  // namespace pj
