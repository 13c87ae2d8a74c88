// Numbers as text for our messages, without printf: start-up then never reaches libc's printf
// machinery, which would keep two more 64 KiB windows of libc's code resident for the process's
// life (bench case startup, VmRSS after READY=1).
#pragma once

#include <cstdint>
#include <string>

namespace pj {

// 0620 → "0620", as chmod(1) and unit files write a mode.
inline std::string octal_mode(unsigned mode) {
    std::string text = "0000";
    mode &= 07777;
    for (auto digit = text.rbegin(); mode != 0; ++digit, mode >>= 3)
        *digit = static_cast<char>('0' + (mode & 7));
    return text;
}

// value / divisor with one decimal, rounded half up: (1536, 1024) → "1.5", (0, 1) → "0.0".
inline std::string with_tenths(uint64_t value, uint64_t divisor) {
    // Both halves separately: value * 10 could overflow.
    uint64_t tenths = value / divisor * 10 + (value % divisor * 10 + divisor / 2) / divisor;
    return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

}  // namespace pj
