#include "format/fields.hpp"

#include <algorithm>
#include <array>
#include <cassert>

namespace pj {
namespace {

constexpr std::size_t max_name_size = 64;

struct LevelName {
    std::string_view name;
    int priority;
};

// The names loggers use for their levels (syslog; Go's zap, logrus, zerolog, slog; pino, winston,
// consola; log4j, java.util.logging; Python, loguru; Monolog; Serilog), lower case; matched in any
// case. The ones that differ only in case or spelling from syslog's are the loggers' own.
constexpr LevelName level_names[] = {
    {"emerg", 0},    {"emergency", 0},   {"panic", 0},         {"alert", 1},  {"crit", 2},
    {"critical", 2}, {"fatal", 2},       {"dpanic", 2},        {"err", 3},    {"error", 3},
    {"severe", 3},   {"warn", 4},        {"warning", 4},       {"notice", 5}, {"success", 5},
    {"info", 6},     {"information", 6}, {"informational", 6}, {"debug", 7},  {"trace", 7},
    {"verbose", 7},  {"silly", 7},       {"fine", 7},          {"finer", 7},  {"finest", 7},
};

// Monolog's levels (RFC 5424 names, its own numbers): from this value up to the next, this
// priority.
struct ScaleStep {
    unsigned from;
    int priority;
};
constexpr ScaleStep monolog_levels[] = {
    {100, 7}, {200, 6}, {250, 5}, {300, 4}, {400, 3}, {500, 2}, {550, 1}, {600, 0},
};

bool equal_ignoring_case(std::string_view text, std::string_view lower) noexcept {
    if (text.size() != lower.size())
        return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
        if (c != lower[i])
            return false;
    }
    return true;
}

}  // namespace

std::optional<int> priority_from_level(std::string_view level, bool numbers) noexcept {
    if (level.empty())
        return std::nullopt;
    if (level.front() >= '0' && level.front() <= '9') {
        if (!numbers)
            return std::nullopt;  // a number written as a string: no level
        unsigned value = 0;
        for (char c : level) {
            if (c < '0' || c > '9')
                return std::nullopt;  // 3.5, 3e1, "3 ": not an integer
            value = value * 10 + static_cast<unsigned>(c - '0');
            if (value > 600)
                return std::nullopt;  // above Monolog's emergency: no level we know
        }
        if (value <= 7)
            return static_cast<int>(value);
        if (value >= 10 && value <= 60) {
            // pino/bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
            constexpr std::array<int, 7> by_tens{-1, 7, 7, 6, 4, 3, 2};
            return by_tens[value / 10];
        }
        if (value < 100)
            return std::nullopt;
        int priority = 7;
        for (const ScaleStep& step : monolog_levels)
            if (value >= step.from)
                priority = step.priority;
        return priority;
    }
    for (const LevelName& known : level_names)
        if (equal_ignoring_case(level, known.name))
            return known.priority;
    return std::nullopt;
}

void append_field_name(std::string& out, std::string_view sanitized) {
    while (!sanitized.empty() && sanitized.front() == '_')
        sanitized.remove_prefix(1);
    // Ours alone: a writer must not be able to set or repeat the fields that say what the entry is
    // and where it came from.
    bool prefixed = sanitized.empty() || (sanitized.front() >= '0' && sanitized.front() <= '9');
    if (!prefixed) {
        switch (sanitized.front()) {
        case 'M': prefixed = sanitized == "MESSAGE"; break;
        case 'P':
            prefixed = sanitized == "PRIORITY" || sanitized.starts_with("PIPEJOURNAL_");
            break;
        case 'S': prefixed = sanitized == "SYSLOG_IDENTIFIER"; break;
        // journalctl trusts these from root senders to file an entry under another unit
        // (`journalctl -u sshd` matches OBJECT_SYSTEMD_UNIT=sshd from uid 0).
        case 'O': prefixed = sanitized.starts_with("OBJECT_"); break;
        case 'C': prefixed = sanitized.starts_with("COREDUMP_"); break;
        }
    }
    std::size_t room = prefixed ? max_name_size - 2 : max_name_size;
    std::size_t size = std::min(sanitized.size(), room);
    std::size_t at = out.size();
    out.resize(at + (prefixed ? 2 : 0) + size);
    char* name = out.data() + at;
    if (prefixed) {
        *name++ = 'F';
        *name++ = '_';
    }
    std::copy_n(sanitized.data(), size, name);
}

FieldBuilder::KeyList FieldBuilder::make_key_list(const FormatOptions& options) {
    // Lengths 0..63 each have their group; 64 and longer share the last one. A counting sort:
    // one pass to size the groups, one to place the keys (message keys first within a group).
    auto group = [](std::string_view key) { return std::min<std::size_t>(key.size(), 64); };
    const std::size_t total = std::min<std::size_t>(
        options.message_keys.size() + options.priority_keys.size(), UINT16_MAX);
    KeyList list;
    std::array<std::uint16_t, 66> next{};
    std::size_t counted = 0;
    for (const auto* keys : {&options.message_keys, &options.priority_keys})
        for (std::size_t i = 0; i < keys->size() && counted < total; ++i, ++counted)
            ++next[group((*keys)[i]) + 1];
    for (std::size_t g = 1; g <= 65; ++g)
        next[g] = static_cast<std::uint16_t>(next[g] + next[g - 1]);
    list.starts = next;
    list.by_length.resize(counted);
    counted = 0;
    for (bool is_message : {true, false}) {
        const auto& keys = is_message ? options.message_keys : options.priority_keys;
        for (std::size_t i = 0; i < keys.size() && counted < total; ++i, ++counted)
            list.by_length[next[group(keys[i])]++] = {keys[i], is_message, static_cast<int>(i)};
    }
    return list;
}

void FieldBuilder::configure(const FormatOptions& options) {
    options_ = &options;
    keys_ = make_key_list(options);
}

void FieldBuilder::start() {
    assert(options_);
    arena_.clear();
    sanitized_.clear();
    path_.clear();
    levels_.clear();
    records_.clear();
    fields_.clear();
    message_key_ = priority_key_ = -1;
    name_made_ = false;
    message_best_ = priority_best_ = -1;
}

// The current key's path (path_ '.' key when nested, else key) against MessageKeys= and
// PriorityKeys=: the first match in each list.
void FieldBuilder::match(std::string_view key, bool nested) noexcept {
    message_key_ = priority_key_ = -1;
    std::size_t size = nested ? path_.size() + 1 + key.size() : key.size();
    std::size_t group = std::min<std::size_t>(size, 64);
    for (std::size_t i = keys_.starts[group]; i < keys_.starts[group + 1]; ++i) {
        const KeyList::Key& candidate = keys_.by_length[i];
        int& found = candidate.is_message ? message_key_ : priority_key_;
        if (found >= 0 || candidate.text.size() != size)
            continue;
        if (!nested) {
            // Keys are short and mostly differ in their first byte: no memcmp call for those.
            if (size == 0 || (candidate.text[0] == key[0] && candidate.text == key))
                found = candidate.index;
        } else if (candidate.text.starts_with(path_) && candidate.text[path_.size()] == '.' &&
                   candidate.text.ends_with(key)) {
            found = candidate.index;
        }
    }
}

void FieldBuilder::enter(std::string_view key) {
    static constexpr auto name_bytes = [] {
        std::array<char, 256> table{};
        for (std::size_t c = 0; c < table.size(); ++c)
            table[c] = sanitize_name_byte(static_cast<char>(c));
        return table;
    }();
    const bool nested = !levels_.empty();
    levels_.push_back({sanitized_.size(), path_.size()});
    key_ = key;
    std::size_t at = sanitized_.size();
    sanitized_.resize(at + (nested ? 1 : 0) + key.size());
    char* out = sanitized_.data() + at;
    if (nested)
        *out++ = '_';
    for (char c : key)
        *out++ = name_bytes[static_cast<unsigned char>(c)];
    match(key, nested);
    name_made_ = false;
}

void FieldBuilder::leave() {
    assert(!levels_.empty());
    sanitized_.resize(levels_.back().sanitized_size);
    path_.resize(levels_.back().path_size);
    levels_.pop_back();
    // Back in the parent object: its next member is entered before anything is added.
    message_key_ = priority_key_ = -1;
    name_made_ = false;
}

bool FieldBuilder::add(std::string_view value, bool in_arena, std::size_t arena_begin) {
    // One more than MaxFields= may be kept: one of them may turn out to be the message.
    if (records_.size() > options_->max_fields)
        return false;
    if (!name_made_) {
        std::size_t begin = arena_.size();
        append_field_name(arena_, sanitized_);
        name_begin_ = static_cast<std::uint32_t>(begin);
        name_size_ = static_cast<std::uint32_t>(arena_.size() - begin);
        name_made_ = true;
    }
    records_.push_back({name_begin_, name_size_, message_key_, in_arena, arena_begin, value.size(),
                        in_arena ? nullptr : value.data()});
    return true;
}

bool FieldBuilder::add_value(std::string_view value, bool in_arena, std::size_t arena_begin,
                             Kind kind) {
    if (!add(value, in_arena, arena_begin))
        return false;
    // add() may have grown the arena (the field's name goes there): a value in it moved too.
    if (in_arena)
        value = {arena_.data() + arena_begin, value.size()};
    choose(value, kind);
    return true;
}

void FieldBuilder::choose(std::string_view value, Kind kind) {
    // A key given twice: its last string value is the message (loggers write their own last, after
    // the caller's fields) ...
    if (kind != Kind::literal && message_key_ >= 0 &&
        (message_best_ < 0 || message_key_ <= message_best_)) {
        message_best_ = message_key_;
        message_record_ = records_.size() - 1;
    }
    // ... and its first recognised value the level (loggers write their own first).
    if (priority_key_ >= 0 && (priority_best_ < 0 || priority_key_ < priority_best_)) {
        if (auto level = priority_from_level(value, kind != Kind::string)) {
            priority_best_ = priority_key_;
            priority_ = *level;
        }
    }
    message_key_ = priority_key_ = -1;
}

bool FieldBuilder::add_string(std::string_view decoded) {
    return add_value(decoded, false, 0, Kind::string);
}

bool FieldBuilder::add_string_in_arena(std::size_t begin) {
    return add_value({arena_.data() + begin, arena_.size() - begin}, true, begin, Kind::string);
}

bool FieldBuilder::add_literal(std::string_view text) {
    return add_value(text, false, 0, Kind::literal);
}

bool FieldBuilder::add_text(std::string_view decoded) {
    return add_value(decoded, false, 0, Kind::text);
}

bool FieldBuilder::add_text_in_arena(std::size_t begin) {
    return add_value({arena_.data() + begin, arena_.size() - begin}, true, begin, Kind::text);
}

void FieldBuilder::add_null() {
    message_key_ = priority_key_ = -1;  // null, an object or an array: neither message nor level
}

void FieldBuilder::add_container() {
    add_null();
    // Members entered from now on are nested in this key.
    if (levels_.size() > 1)
        path_ += '.';
    path_ += key_;
}

bool FieldBuilder::add_element(std::string_view text) {
    return add(text, false, 0);
}

bool FieldBuilder::add_element_in_arena(std::size_t begin) {
    return add({arena_.data() + begin, arena_.size() - begin}, true, begin);
}

std::string_view FieldBuilder::value_of(const Record& record) const noexcept {
    if (record.value_in_arena)
        return {arena_.data() + record.value_begin, record.value_size};
    return {record.value_data, record.value_size};
}

bool FieldBuilder::finish(Entry& entry, std::optional<int> prefix_priority) {
    std::size_t count = records_.size() - (message_best_ >= 0 ? 1 : 0);
    if (count > options_->max_fields)
        return false;
    // The arena no longer grows: views into it stay valid until the next start().
    fields_.reserve(count);
    for (std::size_t i = 0; i < records_.size(); ++i) {
        const Record& record = records_[i];
        std::string_view name{arena_.data() + record.name_begin, record.name_size};
        if (message_best_ >= 0 && record.message_key == message_best_) {
            if (i == message_record_)
                continue;
            name = "F_MESSAGE";  // the message key's other values: another message
        }
        fields_.push_back({name, value_of(record)});
    }
    if (message_best_ >= 0)
        entry.message = value_of(records_[message_record_]);
    int level = priority_best_ >= 0 ? priority_ : options_->default_priority;
    entry.priority = prefix_priority.value_or(level);
    entry.fields = fields_;
    entry.structured = true;
    return true;
}

bool FieldBuilder::trim() noexcept {
    if (arena_.capacity() <= keep_bytes)
        return false;
    std::string().swap(arena_);
    return true;
}

std::string_view FieldBuilder::too_many_fields_reason() {
    if (reason_for_ != options_->max_fields) {
        too_many_ = "more than " + std::to_string(options_->max_fields) + " fields";
        reason_for_ = options_->max_fields;
    }
    return too_many_;
}

}  // namespace pj
