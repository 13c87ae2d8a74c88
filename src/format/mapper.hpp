// Line → entry: the one place that decides what a line means. Pure: no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "format/entry.hpp"
#include "lines.hpp"

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

class LineMapper {
public:
    explicit LineMapper(FormatOptions options);

    // The entry for one line; it is valid until the next map() and while the line is. Pieces of
    // an over-long line keep the priority of the line's first piece.
    Entry map(const Line& line);

    void set_options(FormatOptions options);
    const FormatOptions& options() const noexcept { return options_; }

private:
    FormatOptions options_;
    int long_line_priority_ = 6;
};

}  // namespace pj
