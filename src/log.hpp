// The daemon's own log: a sentence plus named fields, in the spirit of phosphor-logging's lg2.
//
//     log::info(log::id::fifo_created, "Created FIFO " + path, {{"PIPEJOURNAL_FIFO", path}});
//
// Field names are checked when compiling; the caller's source location becomes CODE_FILE,
// CODE_LINE and CODE_FUNC. spdlog is the front end (levels, sinks). When stderr is the journal
// the entries go to journald natively with MESSAGE_ID, PRIORITY and the fields; otherwise they are
// readable lines on stderr.
#pragma once

#include <concepts>
#include <cstring>
#include <initializer_list>
#include <source_location>
#include <string>
#include <string_view>

#include "log_level.hpp"
#include "message_ids.hpp"
#include "systemd/journal.hpp"

namespace pj {

namespace log {

// Fields every entry of ours gets from the log call itself; a caller setting one would send it
// twice (journald keeps both, and readers then pick either).
constexpr bool is_reserved_field_name(std::string_view name) noexcept {
    return name == "MESSAGE" || name == "MESSAGE_ID" || name == "PRIORITY" ||
           name == "SYSLOG_IDENTIFIER" || name == "CODE_FILE" || name == "CODE_LINE" ||
           name == "CODE_FUNC";
}

// A field name checked when the program is compiled: valid for the journal, and not one of the
// reserved names above. FieldName{"PRIORITY"} does not build.
class FieldName {
public:
    consteval FieldName(const char* name) : name_(journal::FieldName(name).view()) {
        if (is_reserved_field_name(name_))
            throw "reserved field name: the log call sets it";  // a compile error
    }
    constexpr std::string_view view() const noexcept { return name_; }

private:
    std::string_view name_;
};

struct Field {
    Field(FieldName field_name, std::string_view text) : name(field_name), value(text) {}
    template <std::integral T>
    Field(FieldName field_name, T number) : name(field_name), value(std::to_string(number)) {}

    FieldName name;
    std::string value;
};
using Fields = std::initializer_list<Field>;

// A negative errno as calls at the C boundary return it: its text for the message and its ERRNO=
// field (positive, as systemd's log_*_errno() sends it). The one place the sign is flipped.
struct Errno {
    int negative;
    std::string text() const { return std::strerror(-negative); }
    Field field() const { return {"ERRNO", -negative}; }
};

enum class Target { journal, stderr_text };
Target detect_target();  // the journal when stderr is connected to it (JOURNAL_STREAM)
void setup(Target target, LogLevel level);
void set_level(LogLevel level);
// Sends our own entries that journald did not take when they were written (the daemon's tick);
// with a timeout, waits up to that long for journald to take them (before exiting).
void flush_pending(uint64_t timeout_usec = 0);

// False when the journal did not take the entry and will not later (journald gone, or too many of
// ours waiting: the caller may say it again later); true when it was sent, kept to be sent once
// journald takes entries again, written to stderr, or is below the log level. Never waits.
bool write(LogLevel level, const MessageId* id, std::string_view text, Fields fields,
           const std::source_location& where);

// One function per level, with or without a MESSAGE_ID.
#define PJ_LOG_LEVEL_FUNCTIONS(name, level)                                                 \
    inline bool name(std::string_view text, Fields fields = {},                             \
                     const std::source_location& where = std::source_location::current()) { \
        return write(level, nullptr, text, fields, where);                                  \
    }                                                                                       \
    inline bool name(const MessageId& id, std::string_view text, Fields fields = {},        \
                     const std::source_location& where = std::source_location::current()) { \
        return write(level, &id, text, fields, where);                                      \
    }
PJ_LOG_LEVEL_FUNCTIONS(debug, LogLevel::debug)
PJ_LOG_LEVEL_FUNCTIONS(info, LogLevel::info)
PJ_LOG_LEVEL_FUNCTIONS(warning, LogLevel::warning)
PJ_LOG_LEVEL_FUNCTIONS(error, LogLevel::error)
#undef PJ_LOG_LEVEL_FUNCTIONS

}  // namespace log
}  // namespace pj
