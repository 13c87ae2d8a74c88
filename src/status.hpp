// The STATUS= text `systemctl status` shows: a pure function of the channels' snapshots.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "channel.hpp"

namespace pj {

// "1.5 KiB", "0 B": sizes as a person reads them.
std::string human_bytes(uint64_t bytes);

// "Forwarding /run/pipejournal/in: 1234 lines (95.3 KiB, 1200 structured), 0 dropped", or what
// is in the way ("Waiting for the journal (Connection refused): ..."); stopping says so. Several
// channels are joined with "; ".
std::string status_text(std::span<const Channel::Snapshot> channels, bool stopping);

}  // namespace pj
