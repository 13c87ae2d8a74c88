#include "format/mapper.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <utility>

#include "format/json.hpp"
#include "format/logfmt.hpp"
#include "format/prefix.hpp"

namespace pj {
namespace {

bool starts_like_json(std::string_view text) noexcept {
    for (char c : text) {
        if (c == '{')
            return true;
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            return false;
    }
    return false;
}

}  // namespace

LineMapper::LineMapper(FormatOptions options) : options_(std::move(options)) {
    builder_.configure(options_);
}
LineMapper::~LineMapper() = default;

void LineMapper::set_options(FormatOptions options) {
    options_ = std::move(options);
    builder_.configure(options_);
}

void LineMapper::trim() noexcept {
    if (!holds_long_line_)
        return;
    holds_long_line_ = false;
    bool freed = builder_.trim();
    freed = (json_ && json_->trim()) || freed;
#if defined(__GLIBC__)
    // glibc keeps freed blocks (it raises its mmap threshold to the largest block freed): hand the
    // free pages back to the kernel.
    if (freed)
        malloc_trim(0);
#endif
}

Entry LineMapper::map_line(const Line& line) {
    if (holds_long_line_ && line.text.size() <= JsonReader::keep_bytes)
        trim();  // a long line's entry has gone, a short one follows: back to what it needs
    Entry entry;
    entry.message = line.text;
    entry.line_break = line.end;
    const LineFormat format = options_.format;
    const bool expects_format = format == LineFormat::json || format == LineFormat::logfmt;
    // A piece of a line cut at LineMax is not the whole record: it cannot be read as one.
    const bool cut = line.continues || line.end == Line::Break::line_max;
    if (cut && expects_format)
        entry.format_error = "line longer than LineMax";
    if (line.continues) {
        entry.priority = long_line_priority_;
        return entry;
    }
    auto prefix = parse_priority_prefix(line.text);
    entry.message = prefix.rest;
    entry.priority = prefix.priority.value_or(options_.default_priority);
    long_line_priority_ = entry.priority;
    if (cut || format == LineFormat::plain)
        return entry;
    // Format=auto: the common plain line costs one look at its first bytes.
    if (format == LineFormat::automatic && !starts_like_json(prefix.rest))
        return entry;
    map_structured(prefix.rest, prefix.priority, entry);
    return entry;
}

Entry LineMapper::map_joined(const Record& record) const {
    Entry entry;
    entry.message = record.line.text;
    entry.priority = record.priority.value_or(options_.default_priority);
    entry.multiline = rule_name(record.rule);
    limit(entry);
    return entry;
}

bool LineMapper::maps_structured(std::string_view text) {
    const LineFormat format = options_.format;
    if (format == LineFormat::plain || (format == LineFormat::automatic && !starts_like_json(text)))
        return false;
    Entry scratch;
    map_structured(text, std::nullopt, scratch);
    return scratch.structured;
}

void LineMapper::map_structured(std::string_view text, std::optional<int> prefix_priority,
                                Entry& entry) {
    holds_long_line_ = holds_long_line_ || text.size() > JsonReader::keep_bytes;
    builder_.start();
    ReadResult result;
    if (options_.format == LineFormat::logfmt) {
        result = read_logfmt(text, builder_);
    } else {
        if (!json_)
            json_ = std::make_unique<JsonReader>();
        result = json_->read(text, builder_);
    }
    if (result.kind == ReadResult::Kind::mapped && !builder_.finish(entry, prefix_priority))
        result = {ReadResult::Kind::over_limit, builder_.too_many_fields_reason()};
    switch (result.kind) {
    case ReadResult::Kind::mapped: break;
    case ReadResult::Kind::not_format:
        if (options_.format != LineFormat::automatic)
            entry.format_error = result.reason;
        break;
    case ReadResult::Kind::over_limit:
    case ReadResult::Kind::unreadable: entry.format_error = result.reason; break;
    }
}

}  // namespace pj
