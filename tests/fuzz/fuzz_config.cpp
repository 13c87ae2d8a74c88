// The config file parser on any text: it returns a config or throws ConfigError, nothing else
// (no crash, hang, leak or other exception). Only parse_config_text is used, so the parser's
// insides can change freely.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config.hpp"
#include "errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        pj::parse_config_text(text, "fuzz.conf");
    } catch (const pj::ConfigError&) {
        // a refused file is a fine answer
    }
    return 0;
}
