// CLOCK_MONOTONIC in microseconds: the clock of sd-event timers and of MONOTONIC_USEC=.
#pragma once

#include <time.h>

#include <cstdint>

namespace pj::clock {

inline uint64_t monotonic_usec() noexcept {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<uint64_t>(now.tv_sec) * 1'000'000 +
           static_cast<uint64_t>(now.tv_nsec) / 1000;
}

}  // namespace pj::clock
