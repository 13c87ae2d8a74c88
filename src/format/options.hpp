// How a FIFO's lines are read: Format=, DefaultPriority=, MessageKeys=, PriorityKeys=, MaxFields=.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace pj {

enum class LineFormat { automatic, plain, json, logfmt };

struct FormatOptions {
    LineFormat format = LineFormat::automatic;
    int default_priority = 6;
    std::vector<std::string> message_keys{"msg", "message", "event", "@m", "short_message"};
    std::vector<std::string> priority_keys{"level",    "severity", "levelname", "lvl",
                                           "loglevel", "@l",       "log.level"};
    std::size_t max_fields = 256;

    bool operator==(const FormatOptions&) const = default;
};

}  // namespace pj
