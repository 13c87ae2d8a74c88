#include "systemd/watchdog.hpp"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <system_error>

#include "systemd/notify.hpp"

namespace pj {

Watchdog::Watchdog(event::Loop& loop) {
    int r = sd_watchdog_enabled(false, &timeout_usec_);
    if (r < 0)
        throw std::system_error(-r, std::generic_category(),
                                "Failed to read WATCHDOG_USEC/WATCHDOG_PID");
    if (r == 0 || timeout_usec_ == 0)
        return;
    uint64_t interval = timeout_usec_ / 2;
    uint64_t accuracy = std::max<uint64_t>(interval / 100, 1000);  // a little slack to coalesce
    timer_.emplace(loop, event::TimerSource::Mode::periodic, interval, accuracy, [] {
        // A failed ping is not worth stopping for: systemd notices missing pings by itself.
        (void)notify::send("WATCHDOG=1");
    });
    // When the ping is due while the FIFO is busy too, ping first: a ping late by one batch of
    // lines is a ping closer to the kill.
    timer_->set_priority(SD_EVENT_PRIORITY_IMPORTANT);
}

}  // namespace pj
