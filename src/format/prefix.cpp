#include "format/prefix.hpp"

namespace pj {

PriorityPrefix parse_priority_prefix(std::string_view text) noexcept {
    std::size_t close = text.find('>');
    if (text.empty() || text[0] != '<' || close == std::string_view::npos || close < 2 || close > 4)
        return {std::nullopt, text};
    // One to three digits: leading ones must be '0' (a facility is not accepted), the last 0..7.
    for (std::size_t i = 1; i + 1 < close; ++i)
        if (text[i] != '0')
            return {std::nullopt, text};
    char level = text[close - 1];
    if (level < '0' || level > '7')
        return {std::nullopt, text};
    return {level - '0', text.substr(close + 1)};
}

}  // namespace pj
