#include "format/logfmt.hpp"

#include <array>
#include <cstdint>
#include <string>

#include "hex.hpp"

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

// `count` digits of `base` (8 or 16) at text[i..]: their value, or -1.
long digits_at(std::string_view text, std::size_t i, std::size_t count, int base) noexcept {
    if (text.size() - i < count)
        return -1;
    long value = 0;
    for (std::size_t k = 0; k < count; ++k) {
        int digit = hex_digit(text[i + k]);
        if (digit < 0 || digit >= base)
            return -1;
        value = value * base + digit;
    }
    return value;
}

void append_utf8(std::string& out, std::uint32_t rune) {
    if (rune < 0x80) {
        out += static_cast<char>(rune);
    } else if (rune < 0x800) {
        out += static_cast<char>(0xc0 | (rune >> 6));
        out += static_cast<char>(0x80 | (rune & 0x3f));
    } else if (rune < 0x10000) {
        out += static_cast<char>(0xe0 | (rune >> 12));
        out += static_cast<char>(0x80 | ((rune >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (rune & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (rune >> 18));
        out += static_cast<char>(0x80 | ((rune >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((rune >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (rune & 0x3f));
    }
}

enum class Escape { ok, unknown, invalid };

// The escape whose letter is at text[i] (the byte after a '\\'), as Go's strconv.Unquote reads it
// in a double-quoted string, appended to out; i moves past it. \xHH and \NNN are one byte each
// (\NNN at most \377), \uHHHH and \UHHHHHHHH a Unicode code point (no surrogate, at most
// U+10FFFF) in UTF-8.
Escape decode_escape(std::string_view text, std::size_t& i, std::string& out) {
    char letter = text[i];
    char simple = 0;
    switch (letter) {
    case '"': simple = '"'; break;
    case '\\': simple = '\\'; break;
    case 'a': simple = '\a'; break;
    case 'b': simple = '\b'; break;
    case 'f': simple = '\f'; break;
    case 'n': simple = '\n'; break;
    case 'r': simple = '\r'; break;
    case 't': simple = '\t'; break;
    case 'v': simple = '\v'; break;
    }
    if (simple) {
        out += simple;
        ++i;
        return Escape::ok;
    }
    if (letter == 'x') {
        long byte = digits_at(text, i + 1, 2, 16);
        if (byte < 0)
            return Escape::invalid;
        out += static_cast<char>(byte);
        i += 3;
        return Escape::ok;
    }
    if (letter >= '0' && letter <= '7') {
        long byte = digits_at(text, i, 3, 8);
        if (byte < 0 || byte > 255)
            return Escape::invalid;
        out += static_cast<char>(byte);
        i += 3;
        return Escape::ok;
    }
    if (letter == 'u' || letter == 'U') {
        std::size_t count = letter == 'u' ? 4 : 8;
        long rune = digits_at(text, i + 1, count, 16);
        if (rune < 0 || rune > 0x10ffff || (rune >= 0xd800 && rune <= 0xdfff))
            return Escape::invalid;
        append_utf8(out, static_cast<std::uint32_t>(rune));
        i += 1 + count;
        return Escape::ok;
    }
    return Escape::unknown;
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
        builder.enter(key);  // an empty key ("=v") gives F_, as in JSON
        bool added;
        if (i == n || is_blank(text[i])) {
            added = builder.add_literal("true");  // a bare key: a flag that is set
        } else if (++i < n && text[i] == '"') {
            // Quoted: decoded into the arena only when it holds an escape.
            std::size_t begin = ++i;
            while (i < n && !is(text[i], ends_quoted))
                ++i;
            if (i < n && text[i] == '"') {
                added = builder.add_text(text.substr(begin, i - begin));
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
                    switch (decode_escape(text, i, arena)) {
                    case Escape::ok: break;
                    case Escape::unknown:
                        return {Kind::not_format, "unknown escape in a quoted value"};
                    case Escape::invalid:
                        return {Kind::not_format, "invalid escape in a quoted value"};
                    }
                }
                if (i == n)
                    return {Kind::not_format, "unterminated quoted value"};
                added = builder.add_text_in_arena(arena_begin);
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
            added = builder.add_text(text.substr(begin, i - begin));
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
