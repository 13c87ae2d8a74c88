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
    // HighestPriority=: the most urgent priority a forwarded line gets (journald sends emerg to
    // every terminal); a line that asks for more is limited to it. 0 (emerg): no limit.
    int highest_priority = 2;
    // What the common loggers write (interface.md "Structured lines"): pino, bunyan, zap, slog,
    // logrus "msg"; winston, zerolog, log4j2, Monolog, ECS "message"; structlog "event"; Serilog
    // "@m"; logrus FieldMap "@message"; GELF "short_message"; loguru "record.message".
    std::vector<std::string> message_keys{"msg",      "message",       "event",         "@m",
                                          "@message", "short_message", "record.message"};
    // The first of these whose value is a recognised level gives PRIORITY= (Monolog's "level" is
    // a number, its "level_name" the name; loguru's level is "record.level.name").
    std::vector<std::string> priority_keys{
        "level",    "severity", "levelname", "level_name", "lvl",
        "loglevel", "@l",       "@level",    "log.level",  "record.level.name"};
    // With journald's own trusted fields an entry stays under journald's 1024, past which it drops
    // the entry whole; a log4j2 JsonLayout record with a 700-frame stack trace gives about 750.
    std::size_t max_fields = 900;

    bool operator==(const FormatOptions&) const = default;
};

}  // namespace pj
