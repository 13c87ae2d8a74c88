// Hexadecimal digits, both ways: escapes in names (systemd's \xNN, Go's \xHH) and names made of
// bytes (FDNAME=).
#pragma once

namespace pj {

// The value of a hex digit in either case, or -1.
constexpr int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// The lower-case digit for 0..15.
constexpr char hex_char(unsigned value) noexcept {
    return "0123456789abcdef"[value & 15];
}

}  // namespace pj
