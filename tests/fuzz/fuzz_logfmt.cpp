// libFuzzer target: logfmt lines (Format=logfmt) through LineMapper.
#include <cstddef>
#include <cstdint>

#include "structured_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    pjfuzz::fuzz_one(data, size, pj::LineFormat::logfmt);
    return 0;
}
