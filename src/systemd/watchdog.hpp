// The service manager's watchdog, kept by a timer on the event loop: a stuck loop stops the pings.
//
// Not sd_event_set_watchdog(): that one also pings on any loop iteration once a quarter of the
// interval has passed, so a busy daemon pings four times per interval. This pings once every
// half interval, busy or idle, and wakes the process for nothing else.
#pragma once

#include <cstdint>
#include <optional>

#include "systemd/event.hpp"

namespace pj {

class Watchdog {
public:
    // On when WATCHDOG_USEC is set and WATCHDOG_PID is unset or names this process
    // (sd_watchdog_enabled(3)); otherwise does nothing.
    explicit Watchdog(event::Loop& loop);

    bool enabled() const noexcept { return timer_.has_value(); }
    uint64_t timeout_usec() const noexcept { return timeout_usec_; }

private:
    uint64_t timeout_usec_ = 0;
    std::optional<event::TimerSource> timer_;
};

}  // namespace pj
