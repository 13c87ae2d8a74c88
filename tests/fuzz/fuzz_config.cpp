// The config file parser on any text: it returns a config or throws ConfigError, nothing else
// (no crash, hang, leak or other exception). A config it returns, written out as --check-config
// writes it, reads back as the same config: every value type writes what its parser takes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config.hpp"
#include "errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    pj::Config config;
    try {
        config = pj::parse_config_text(text, "fuzz.conf").config;
    } catch (const pj::ConfigError&) {
        return 0;  // a refused file is a fine answer
    }
    std::string effective = "[PipeJournal]\n" + pj::effective_text(config);
    if (!(pj::parse_config_text(effective, "effective").config == config))
        std::abort();  // --check-config printed something that means another configuration
    return 0;
}
