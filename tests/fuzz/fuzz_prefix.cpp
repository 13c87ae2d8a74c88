// parse_priority_prefix against the rule written out once more, as plainly as possible: "<N>",
// "<0N>" or "<00N>" at the start, N in 0..7; rest is what follows it, a suffix of the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "format/prefix.hpp"

namespace {

pj::PriorityPrefix reference(std::string_view text) {
    for (std::string_view zeros : {"", "0", "00"}) {
        std::size_t length = zeros.size() + 3;  // '<', the zeros, N, '>'
        if (text.size() >= length && text[0] == '<' && text.substr(1, zeros.size()) == zeros &&
            text[length - 2] >= '0' && text[length - 2] <= '7' && text[length - 1] == '>')
            return {text[length - 2] - '0', text.substr(length)};
    }
    return {std::nullopt, text};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    pj::PriorityPrefix got = pj::parse_priority_prefix(text);
    pj::PriorityPrefix want = reference(text);
    if (got.priority != want.priority || got.rest != want.rest) {
        std::fprintf(stderr,
                     "fuzz_prefix: priority %d rest %zu bytes, expected %d rest %zu bytes\n",
                     got.priority.value_or(-1), got.rest.size(), want.priority.value_or(-1),
                     want.rest.size());
        std::abort();
    }
    if (got.rest.data() + got.rest.size() != text.data() + text.size()) {
        std::fprintf(stderr, "fuzz_prefix: rest is not a suffix of the input\n");
        std::abort();
    }
    return 0;
}
