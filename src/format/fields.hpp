// What JSON and logfmt lines share: journal field names from keys, priorities from level values,
// and the builder that collects one line's fields, MESSAGE and PRIORITY. Pure: no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/entry.hpp"
#include "format/options.hpp"
#include "systemd/journal.hpp"

namespace pj {

// Nesting allowed in a JSON line: the top-level object is depth 1, an array counts as a level.
inline constexpr int max_json_depth = 16;

// A level value read as a priority (interface.md "Structured lines"): a level name in any case
// ("error", "WARN", "Fatal", "Information"), or, when `numbers` is set (the value was written as a
// number; in logfmt, which has no types, any value), an integer: 0..7 as it is, a pino/bunyan level
// 10..60 or a Monolog level 100..600 (between two levels: the lower one). nullopt: not a level we
// know, such as a JSON string "30", 3.5, 8, 61..99 or 700.
std::optional<int> priority_from_level(std::string_view level, bool numbers) noexcept;

// Appends the journal field name for a key path that sanitize_name_byte() has already mapped byte
// by byte (upper-case, '_' for anything outside A-Z 0-9 _, nested keys joined with '_'): leading
// '_' removed, "F_" in front of an empty or digit-led name and of MESSAGE, PRIORITY,
// SYSLOG_IDENTIFIER, PIPEJOURNAL_*, OBJECT_* and COREDUMP_*, cut to 64 bytes. The result is always a valid journal field
// name.
void append_field_name(std::string& out, std::string_view sanitized);

constexpr char sanitize_name_byte(char c) noexcept {
    if (c >= 'a' && c <= 'z')
        return static_cast<char>(c - 'a' + 'A');
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
        return c;
    return '_';
}

// Collects the fields of one line as its reader walks it: the reader names the key path
// (enter/leave) and gives each value; the builder makes the names, remembers which key holds the
// message and which the level, and enforces MaxFields=. Storage is reused from line to line, so a
// steady stream of lines allocates nothing.
//
// Values handed in must stay valid until the next start() (they point into the line, the reader's
// buffers, or arena()).
class FieldBuilder {
public:
    // The options every later line is read with; again whenever they change. `options` must
    // outlive the builder's use of it.
    void configure(const FormatOptions& options);
    void start();  // a new line

    // Key path: enter() a member of the current object, leave() it when its value is done.
    void enter(std::string_view key);
    void leave();

    // The value of the current key. Each returns false once the line gives more fields than
    // MaxFields= allows (the reader stops; the line is forwarded plain).
    bool add_string(std::string_view decoded);    // may become MESSAGE; a level by name only
    bool add_string_in_arena(std::size_t begin);  // the same, for arena()[begin..end)
    bool add_literal(std::string_view text);      // a number as written, true, false
    // A value of a format without types (logfmt): a string for MessageKeys=, a level name or
    // number for PriorityKeys=.
    bool add_text(std::string_view decoded);
    bool add_text_in_arena(std::size_t begin);
    void add_null();       // present, but gives no field
    void add_container();  // an object (its members follow) or an array (its elements follow)

    // One element of the array that is the current key's value: a field each.
    bool add_element(std::string_view text);
    bool add_element_in_arena(std::size_t begin);

    // Where a reader builds values it has to make (decoded escapes, compact JSON text): append,
    // then add_*_in_arena(size before appending).
    std::string& arena() noexcept { return arena_; }

    // The line is done: MESSAGE= from the first MessageKeys= key with a string value, its last one
    // when the key is given more than once (that value is then no field of its own, the key's other
    // values are F_MESSAGE=), else the entry's message stays; PRIORITY= from the prefix, else the
    // first PriorityKeys= key with a recognised level (the key's first such value), else
    // DefaultPriority=. Returns false when the line gives more than MaxFields= fields; then the
    // entry is left as it was.
    bool finish(Entry& entry, std::optional<int> prefix_priority);

    // "more than N fields", for PIPEJOURNAL_FORMAT_ERROR=.
    std::string_view too_many_fields_reason();

    // The last line's values are not needed any more: gives back the arena a long line grew (to
    // malloc). True if there was something to give back.
    bool trim() noexcept;
    static constexpr std::size_t keep_bytes = 64 * 1024;  // arena kept from line to line

private:
    struct Record {
        std::uint32_t name_begin;  // in arena_
        std::uint32_t name_size;
        int message_key;  // the MessageKeys= index the value was given under, or -1
        bool value_in_arena;
        std::size_t value_begin;  // in arena_ when value_in_arena
        std::size_t value_size;
        const char* value_data;  // otherwise
    };
    struct Level {
        std::size_t sanitized_size;
        std::size_t path_size;
    };
    // MessageKeys= and PriorityKeys= together, grouped by length (each with its index in its own
    // list), so that a key is compared only with those of its own length: usually none.
    struct KeyList {
        struct Key {
            std::string_view text;
            bool is_message;  // else a priority key
            int index;
        };
        std::vector<Key> by_length;              // ordered by length, then list, then index
        std::array<std::uint16_t, 66> starts{};  // keys of length n: [starts[n], starts[n+1])
    };
    static KeyList make_key_list(const FormatOptions& options);

    // How a value may be read for MESSAGE= and PRIORITY=.
    enum class Kind {
        string,   // JSON string: may be MESSAGE, a level by name only ("30" is no level)
        literal,  // JSON number, true, false: a level by number
        text,     // logfmt: may be MESSAGE, a level by name or number
    };
    bool add(std::string_view value, bool in_arena, std::size_t arena_begin);
    bool add_value(std::string_view value, bool in_arena, std::size_t arena_begin, Kind kind);
    // Is the current key's value (the last record) MESSAGE, the level?
    void choose(std::string_view value, Kind kind);
    void match(std::string_view key, bool nested) noexcept;  // sets message_key_, priority_key_
    std::string_view value_of(const Record& record) const noexcept;

    const FormatOptions* options_ = nullptr;
    std::string arena_;
    KeyList keys_;
    std::string sanitized_;  // the current key path, mapped for a field name
    std::string path_;       // the path of the objects the current key is in, joined with '.'
    std::string_view key_;   // the current key, as written
    std::vector<Level> levels_;
    std::vector<Record> records_;
    std::vector<journal::Field> fields_;

    // The current key.
    int message_key_ = -1;   // index in MessageKeys=, or -1
    int priority_key_ = -1;  // index in PriorityKeys=, or -1
    bool name_made_ = false;
    std::uint32_t name_begin_ = 0;
    std::uint32_t name_size_ = 0;

    // The best candidates so far (lowest index in their list wins).
    int message_best_ = -1;
    std::size_t message_record_ = 0;  // the last string value of that key
    int priority_best_ = -1;          // only keys whose value is a recognised level
    int priority_ = 6;                // the level of the first such value

    std::size_t reason_for_ = SIZE_MAX;  // MaxFields= that too_many_ was made for
    std::string too_many_;
};

}  // namespace pj
