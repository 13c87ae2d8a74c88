// Line → entry: the one place that decides what a line means. Pure: no I/O.
#pragma once

#include <memory>

#include "format/entry.hpp"
#include "format/fields.hpp"
#include "format/options.hpp"
#include "lines.hpp"
#include "records/record.hpp"

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
    Entry map(const Line& line) {
        Entry entry = map_line(line);
        limit(entry);
        return entry;
    }
    // A record of joined lines is never read as JSON or logfmt: its MESSAGE= and PRIORITY= are
    // the record's. A record of one line is mapped as that line.
    Entry map(const Record& record) {
        return record.rule == MultilineRule::none ? map(record.line) : map_joined(record);
    }

    // Whether map() would map this whole line as JSON or logfmt (text after its <N> prefix). For
    // the record joiner, which asks only about lines a rule would take. Invalidates the entry of
    // the last map().
    bool maps_structured(std::string_view text);

    // The last entry has gone (sent): gives back the memory a long structured line made the
    // mapper hold, so that it does not stay after the line. Costs nothing otherwise. map() does it
    // itself when a short line follows a long one; a caller that goes idle calls it then.
    void trim() noexcept;

    void set_options(FormatOptions options);
    const FormatOptions& options() const noexcept { return options_; }

private:
    Entry map_line(const Line& line);
    Entry map_joined(const Record& record) const;
    // HighestPriority=: the writer asks, the limit decides.
    void limit(Entry& entry) const noexcept {
        if (entry.priority < options_.highest_priority) {
            entry.requested_priority = entry.priority;
            entry.priority = options_.highest_priority;
        }
    }
    void map_structured(std::string_view text, std::optional<int> prefix_priority, Entry& entry);

    FormatOptions options_;
    int long_line_priority_ = 6;
    bool holds_long_line_ = false;  // the last structured line was long: trim() has work
    FieldBuilder builder_;
    std::unique_ptr<JsonReader> json_;  // made when a JSON line first comes
};

}  // namespace pj
