// Line → entry: the one place that decides what a line means. Pure: no I/O.
#pragma once

#include <memory>

#include "format/entry.hpp"
#include "format/fields.hpp"
#include "format/options.hpp"
#include "lines.hpp"

namespace pj {

class JsonReader;

class LineMapper {
public:
    explicit LineMapper(FormatOptions options);
    ~LineMapper();
    LineMapper(const LineMapper&) = delete;
    LineMapper& operator=(const LineMapper&) = delete;

    // The entry for one line; it is valid until the next map() and while the line is. Pieces of
    // an over-long line keep the priority of the line's first piece.
    Entry map(const Line& line);

    // The last entry has gone (sent): gives back the memory a long structured line made the
    // mapper hold, so that it does not stay after the line. Costs nothing otherwise. map() does it
    // itself when a short line follows a long one; a caller that goes idle calls it then.
    void trim() noexcept;

    void set_options(FormatOptions options);
    const FormatOptions& options() const noexcept { return options_; }

private:
    void map_structured(std::string_view text, std::optional<int> prefix_priority, Entry& entry);

    FormatOptions options_;
    int long_line_priority_ = 6;
    bool holds_long_line_ = false;  // the last structured line was long: trim() has work
    FieldBuilder builder_;
    std::unique_ptr<JsonReader> json_;  // made when a JSON line first comes
};

}  // namespace pj
