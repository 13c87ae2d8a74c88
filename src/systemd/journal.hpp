// The journal's native protocol: field names, sending, and where stderr goes.
#pragma once

#include <sys/uio.h>

#include <span>
#include <string_view>

namespace pj::journal {

// journald silently drops fields whose names break these rules, so we check them up front:
// A-Z, 0-9 and '_', not starting with '_' (reserved for trusted fields) or a digit, 1..64 chars.
constexpr bool is_valid_field_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 64 || name.front() == '_' ||
        (name.front() >= '0' && name.front() <= '9'))
        return false;
    for (char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}

// A field name checked when the program is compiled: FieldName{"bad name"} does not build.
class FieldName {
public:
    consteval FieldName(const char* name) : name_(name) {
        if (!is_valid_field_name(name_))
            throw "invalid journal field name";  // not a constant expression: a compile error
    }
    constexpr std::string_view view() const noexcept { return name_; }

private:
    std::string_view name_;
};

// Sends one entry, each iovec one "NAME=value" field. Unlike the sd_journal_sendv macro of
// sd-journal.h this adds no CODE_* fields: callers add their own or, for forwarded lines, none.
// Returns 0 or a negative errno.
int send(std::span<const iovec> fields) noexcept;

// True if journald's native socket exists, i.e. entries have somewhere to go.
bool socket_present() noexcept;

// True if fd 2 is the stream systemd connected to the journal (JOURNAL_STREAM=dev:inode), as
// systemd's log.c decides it: only then are our own entries sent natively instead of as text.
bool stderr_is_journal() noexcept;

}  // namespace pj::journal
