#include "config.hpp"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <utility>

#include "config_file.hpp"
#include "errors.hpp"
#include "fd.hpp"
#include "hex.hpp"
#include "numbers.hpp"

namespace pj {
namespace {

constexpr std::string_view section_name = "PipeJournal";

// A config file is a few hundred bytes; the limit only keeps --config=/dev/zero from eating memory.
constexpr std::size_t config_file_max = 1024 * 1024;

// NAME.conf must fit in a directory entry.
constexpr std::size_t instance_name_max = NAME_MAX - std::string_view(".conf").size();

// SYSLOG_IDENTIFIER= as journalctl -t takes it: printable ASCII, no blanks, at most this long.
constexpr std::size_t identifier_max = 64;

constexpr uint64_t usec_per_ms = 1'000, usec_per_s = 1'000'000, usec_per_day = 86'400'000'000;
constexpr std::size_t kib = 1024, mib = 1024 * 1024;

constexpr std::array<std::string_view, 7> log_level_names = {
    "trace", "debug", "info", "warning", "error", "critical", "off",
};
constexpr std::array<std::string_view, 8> priority_names = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};
constexpr std::array<std::string_view, 4> format_names = {"auto", "plain", "json", "logfmt"};
constexpr std::array<std::string_view, 2> transport_names = {"native", "stream"};

template <typename T>
std::optional<T> parse_number(std::string_view text, int base = 10) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return value;
}

template <std::size_t n>
std::string joined(const std::array<std::string_view, n>& names, std::string_view separator) {
    std::string text;
    for (std::string_view name : names)
        text += (text.empty() ? "" : std::string(separator)) + std::string(name);
    return text;
}

bool is_control(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}

// A value as messages show it: control characters escaped and long values cut, so that an error
// stays one readable line whatever the file or the flag held.
std::string shown(std::string_view value) {
    constexpr std::size_t shown_max = 100;
    std::string text;
    for (unsigned char c : value.substr(0, shown_max)) {
        if (is_control(c)) {
            text += "\\x";
            text += hex_char(c >> 4);
            text += hex_char(c);
        } else {
            text += static_cast<char>(c);
        }
    }
    if (value.size() > shown_max)
        text += "... (" + std::to_string(value.size()) + " bytes)";
    return text;
}

// "1ms", "1d": a bound of a duration as a person writes it.
std::string duration_bound_text(uint64_t usec) {
    if (usec % usec_per_day == 0)
        return std::to_string(usec / usec_per_day) + "d";
    if (usec % usec_per_s == 0)
        return std::to_string(usec / usec_per_s) + "s";
    return std::to_string(usec / usec_per_ms) + "ms";
}

// --- value types -------------------------------------------------------------------------------
// Each parses a value, writes it back as the shipped file does, and says what a good value is,
// from the same constants. Rows of the table (below) pick one and name the member it fills.

struct PathValue {
    using type = std::string;
    std::optional<type> parse(std::string_view text) const {
        if (!fifo_path_problem(text).empty())
            return std::nullopt;
        return std::string(text);
    }
    std::string show(const type& path) const { return path; }
    std::string expected() const { return "an absolute path to a file"; }
    std::string detail(std::string_view text) const { return std::string(fifo_path_problem(text)); }
};

struct ModeValue {
    using type = mode_t;
    mode_t max = 0777;
    std::optional<type> parse(std::string_view text) const {
        auto mode = text.size() <= 4 ? parse_number<unsigned>(text, 8) : std::nullopt;
        if (!mode || *mode > max)
            return std::nullopt;
        return static_cast<mode_t>(*mode);
    }
    std::string show(type mode) const { return octal_mode(mode); }
    std::string expected() const { return "an octal mode 0000.." + show(max); }
};

struct IdentifierValue {
    using type = std::string;
    std::optional<type> parse(std::string_view text) const {
        if (!is_valid_identifier(text))
            return std::nullopt;
        return std::string(text);
    }
    std::string show(const type& identifier) const { return identifier; }
    std::string expected() const {
        return "an identifier of 1.." + std::to_string(identifier_max) +
               " printable ASCII characters without blanks";
    }
};

// 0..7 or a syslog name; written as the name.
struct PriorityValue {
    using type = int;
    std::optional<type> parse(std::string_view text) const {
        if (text.size() == 1 && text[0] >= '0' && text[0] <= '7')
            return text[0] - '0';
        for (std::size_t i = 0; i < priority_names.size(); ++i)
            if (text == priority_names[i])
                return static_cast<int>(i);
        return std::nullopt;
    }
    std::string show(type priority) const { return std::string(priority_names.at(priority)); }
    std::string expected() const {
        return "a priority 0.." + std::to_string(priority_names.size() - 1) + " or " +
               joined(priority_names, "|");
    }
};

// One of a fixed set of names, the index of the name being the enum's value.
template <typename Enum, const auto& names>
struct NameValue {
    using type = Enum;
    std::optional<type> parse(std::string_view text) const {
        for (std::size_t i = 0; i < names.size(); ++i)
            if (text == names[i])
                return static_cast<Enum>(i);
        return std::nullopt;
    }
    std::string show(type value) const {
        return std::string(names.at(static_cast<std::size_t>(value)));
    }
    std::string expected() const { return "one of " + choices(); }
    std::string choices() const { return joined(names, "|"); }
};

// Seconds with up to six decimals, or a number of milliseconds ("250ms"), within [min, max].
// With `infinity`, also that word, stored as nullopt.
struct DurationValue {
    uint64_t min_usec = usec_per_ms, max_usec = usec_per_day;
    std::optional<uint64_t> parse_usec(std::string_view text) const {
        auto usec = parse_seconds(text);
        if (!usec || *usec < min_usec || *usec > max_usec)
            return std::nullopt;
        return usec;
    }
    std::string range_text() const {
        return "a duration of " + duration_bound_text(min_usec) + ".." +
               duration_bound_text(max_usec) + " in seconds (e.g. 5, 0.5, 250ms)";
    }
};
struct SecondsValue : DurationValue {
    using type = uint64_t;
    std::optional<type> parse(std::string_view text) const { return parse_usec(text); }
    std::string show(type usec) const { return seconds_text(usec); }
    std::string expected() const { return range_text(); }
};
struct TimeoutValue : DurationValue {
    using type = std::optional<uint64_t>;
    std::optional<type> parse(std::string_view text) const {
        if (text == "infinity")
            return type();
        auto usec = parse_usec(text);
        if (!usec)
            return std::nullopt;
        return type(usec);
    }
    std::string show(const type& usec) const { return usec ? seconds_text(*usec) : "infinity"; }
    std::string expected() const { return range_text() + " or infinity"; }
};

// Bytes, or with a K or M suffix, within [min, max]; with `zero`, also 0 (none).
struct SizeValue {
    using type = std::size_t;
    std::size_t min = kib, max = 16 * mib;
    bool zero = false;
    std::optional<type> parse(std::string_view text) const {
        auto size = parse_size(text);
        if (!size || ((*size < min || *size > max) && !(zero && *size == 0)))
            return std::nullopt;
        return size;
    }
    std::string show(type size) const { return size_text(size); }
    std::string expected() const {
        return std::string(zero ? "0 or " : "") + "a size of " + size_text(min) + ".." +
               size_text(max) + " in bytes (e.g. 48K, 1M)";
    }
};

struct FieldCountValue {
    using type = std::size_t;
    std::size_t min = 1, max = 1000;
    std::optional<type> parse(std::string_view text) const {
        auto number = parse_number<std::size_t>(text);
        if (!number || *number < min || *number > max)
            return std::nullopt;
        return number;
    }
    std::string show(type count) const { return std::to_string(count); }
    std::string expected() const {
        return "a number of fields " + std::to_string(min) + ".." + std::to_string(max);
    }
};

// Blank-separated keys; may be empty (none).
struct KeyListValue {
    using type = std::vector<std::string>;
    std::size_t max_keys = 32, max_key_bytes = 128;
    std::optional<type> parse(std::string_view text) const {
        type keys;
        constexpr std::string_view separators = " \t";
        for (;;) {
            auto start = text.find_first_not_of(separators);
            if (start == std::string_view::npos)
                return keys;
            text.remove_prefix(start);
            std::string_view key = text.substr(0, text.find_first_of(separators));
            text.remove_prefix(key.size());
            if (key.size() > max_key_bytes || keys.size() == max_keys)
                return std::nullopt;
            for (unsigned char c : key)
                if (is_control(c))
                    return std::nullopt;
            keys.emplace_back(key);
        }
    }
    std::string show(const type& keys) const {
        std::string text;
        for (const std::string& key : keys)
            text += (text.empty() ? "" : " ") + key;
        return text;
    }
    std::string expected() const {
        return "a blank-separated list of at most " + std::to_string(max_keys) + " keys of 1.." +
               std::to_string(max_key_bytes) + " bytes without control characters";
    }
};

// Multiline=: rule names, each at most once; empty: none.
struct MultilineValue {
    using type = records::Rules;
    std::optional<type> parse(std::string_view text) const {
        type rules;
        if (records::parse_rules(text, rules))
            return std::nullopt;
        return rules;
    }
    std::string show(const type& rules) const { return records::rules_text(rules); }
    std::string expected() const {
        return "a blank-separated list of the rules " + choices() + ", each at most once";
    }
    std::string choices() const { return records::rules_text(records::all_rules()); }
    std::string detail(std::string_view text) const {
        type rules;
        return records::parse_rules(text, rules).value_or("");
    }
};

// --- the table ---------------------------------------------------------------------------------

template <auto... path>
auto& member(Config& config) {
    return (config.*....*path);
}
template <auto... path>
const auto& member(const Config& config) {
    return (config.*....*path);
}

template <typename T>
concept has_detail = requires(const T& type, std::string_view text) {
    type.detail(text);
};
template <typename T>
concept has_choices = requires(const T& type) {
    type.choices();
};

// A row: the key, its flag and where it may be set, and the value type and member path that give
// it its functions.
template <auto type, auto... path>
constexpr Setting row(std::string_view key, const char* flag, unsigned where) {
    using Value = typename decltype(type)::type;
    static_assert(
        std::is_same_v<std::remove_cvref_t<decltype(member<path...>(std::declval<Config&>()))>,
                       Value>,
        "the member's type is the value type's");
    return {
        key,
        flag,
        where,
        [](std::string_view text) -> std::optional<std::function<void(Config&)>> {
            std::optional<Value> value = type.parse(text);
            if (!value)
                return std::nullopt;
            return [value = std::move(*value)](Config& config) { member<path...>(config) = value; };
        },
        [] { return type.expected(); },
        [](std::string_view text) -> std::string {
            if constexpr (has_detail<decltype(type)>)
                return type.detail(text);
            return {};
        },
        [](const Config& config) { return type.show(member<path...>(config)); },
        [] {
            if constexpr (has_choices<decltype(type)>)
                return type.choices();
            return std::string();
        },
    };
}

constexpr unsigned anywhere = Where::shared_file | Where::own_file | Where::command_line;
constexpr unsigned any_file = Where::shared_file | Where::own_file;
// The FIFO's own identity: a file shared by instances cannot give them all the same one.
constexpr unsigned per_fifo = Where::own_file | Where::command_line;

using LogLevelValue = NameValue<LogLevel, log_level_names>;
using FormatValue = NameValue<LineFormat, format_names>;
using TransportValue = NameValue<Transport, transport_names>;

// In the order of the shipped file (units/pipejournal.conf), which --check-config follows.
constexpr Setting setting_table[] = {
    row<PathValue{}, &Config::fifo_path>("FIFO", "fifo", per_fifo),
    row<ModeValue{}, &Config::fifo_mode>("FIFOMode", nullptr, Where::own_file),
    row<IdentifierValue{}, &Config::identifier>("SyslogIdentifier", "identifier", per_fifo),
    row<PriorityValue{}, &Config::format, &FormatOptions::default_priority>("DefaultPriority",
                                                                            nullptr, any_file),
    row<PriorityValue{}, &Config::format, &FormatOptions::highest_priority>("HighestPriority",
                                                                            nullptr, any_file),
    row<SecondsValue{}, &Config::tick_usec>("TickSec", "tick", anywhere),
    row<SizeValue{.min = kib, .max = line_max_limit}, &Config::line_max>("LineMax", nullptr,
                                                                         any_file),
    row<LogLevelValue{}, &Config::log_level>("LogLevel", "log-level", anywhere),
    row<FormatValue{}, &Config::format, &FormatOptions::format>("Format", "format", anywhere),
    row<KeyListValue{}, &Config::format, &FormatOptions::message_keys>("MessageKeys", nullptr,
                                                                       any_file),
    row<KeyListValue{}, &Config::format, &FormatOptions::priority_keys>("PriorityKeys", nullptr,
                                                                        any_file),
    row<FieldCountValue{}, &Config::format, &FormatOptions::max_fields>("MaxFields", nullptr,
                                                                        any_file),
    row<TransportValue{}, &Config::transport>("Transport", nullptr, any_file),
    row<TimeoutValue{}, &Config::partial_line_timeout_usec>("PartialLineTimeoutSec", nullptr,
                                                            any_file),
    row<MultilineValue{}, &Config::multiline>("Multiline", nullptr, any_file),
    row<SecondsValue{{usec_per_ms, 60 * usec_per_s}}, &Config::multiline_timeout_usec>(
        "MultilineTimeoutSec", nullptr, any_file),
    row<SizeValue{.min = kib, .max = 1024 * mib, .zero = true}, &Config::backlog_max>(
        "BacklogMax", nullptr, any_file),
};

// What --help says of each flag; the default and the names it takes come from the table.
struct FlagHelp {
    std::string_view key;
    std::string_view metavar;
    std::string_view text;
};
constexpr FlagHelp flag_help[] = {
    {"FIFO", "PATH", "FIFO to create or use"},
    {"SyslogIdentifier", "NAME", "SYSLOG_IDENTIFIER= of forwarded lines"},
    {"Format", "FORMAT", "which lines become fields"},
    {"TickSec", "SECONDS", "how often STATUS= is refreshed"},
    {"LogLevel", "LEVEL", "its own log"},
};

// "fifo" for "FIFO": a hint for the unknown key a person most likely meant.
const Setting* same_but_case(std::string_view key) {
    for (const Setting& setting : setting_table)
        if (setting.key.size() == key.size() &&
            strncasecmp(setting.key.data(), key.data(), key.size()) == 0)
            return &setting;
    return nullptr;
}

// Why text is bad for setting: "not <expected>[: <detail>]".
std::string refusal(const Setting& setting, std::string_view text) {
    std::string reason = "not " + setting.expected();
    if (std::string detail = setting.detail(text); !detail.empty())
        reason += ": " + detail;
    return reason;
}

// The assignments of the files and the command line, in the order they apply.
struct Collected {
    std::vector<Assignment> assignments;
    std::vector<std::string> warnings;
};

// Adds one file's assignments. role says which file it is (Where::shared_file or own_file); keys
// not for this file are warned about with not_here ("does not apply to ...") and left out.
void collect_file(std::string_view text, const std::string& source, unsigned role,
                  std::string_view not_here, Collected& out) {
    enum class In { nothing, ours, other } in = In::nothing;
    for (const ini::Entry& entry : ini::parse(text, source)) {
        std::string at = source + ":" + std::to_string(entry.line) + ": ";
        if (entry.kind == ini::Entry::Kind::section) {
            in = entry.name == section_name ? In::ours : In::other;
            if (in == In::other)
                out.warnings.push_back(at + "unknown section [" + shown(entry.name) +
                                       "], ignoring it");
            continue;
        }
        std::string key = shown(entry.name);
        if (in == In::other)
            continue;  // said once at the section
        if (in == In::nothing) {
            out.warnings.push_back(at + key + "= before any [" + std::string(section_name) +
                                   "] section, ignoring it");
            continue;
        }
        const Setting* setting = find_setting(entry.name);
        if (!setting) {
            std::string warning = at + "unknown key " + key + "=, ignoring it";
            if (const Setting* meant = same_but_case(entry.name))
                warning += " (keys are case-sensitive: " + std::string(meant->key) + "=?)";
            out.warnings.push_back(std::move(warning));
            continue;
        }
        // A bad value is an error even where the key does not apply: the file is wrong.
        auto store = setting->parse(entry.value);
        if (!store)
            throw ConfigError(at + key + "=" + shown(entry.value) + ": " +
                              refusal(*setting, entry.value));
        if (!(setting->where & role)) {
            out.warnings.push_back(at + key + "= " + std::string(not_here) + ", ignoring it");
            continue;
        }
        out.assignments.push_back(
            {setting, std::string(entry.value), source, entry.line, std::move(*store)});
    }
}

// The assignment that set key last, or nullptr.
const Assignment* last_of(std::span<const Assignment> assignments, std::string_view key) {
    for (auto it = assignments.rbegin(); it != assignments.rend(); ++it)
        if (it->key() == key)
            return &*it;
    return nullptr;
}

// Applies the assignments in order over defaults, gives keys nobody set the defaults of the
// transport (the running one on reload), then checks what no single key can.
ParsedConfig resolve(Config defaults, Collected collected, std::optional<Transport> running = {}) {
    ParsedConfig parsed{std::move(defaults), {}, std::move(collected.warnings), {}};
    Config& config = parsed.config;
    for (const Assignment& assignment : collected.assignments)
        assignment.store(config);
    if (running && config.transport != *running) {
        parsed.transport_on_restart = config.transport;
        config.transport = *running;
    }
    Provenance from = [&](std::string_view key) -> const Assignment* {
        if (key == "Transport" && running)
            return nullptr;  // the running one: see check_combination()
        return last_of(collected.assignments, key);
    };
    if (config.transport == Transport::stream) {
        // A stream line is one line of text: journald's stream LineMax, and no records.
        if (!from("LineMax"))
            config.line_max = stream_line_max_default;
        if (!from("Multiline"))
            config.multiline.clear();
    }
    check_combination(config, from);
    return parsed;
}

// A key whose value a stream cannot carry (Format=, Multiline=), last set by `set` (nullptr: its
// default): the error names the later of it and Transport=stream (`transport`; nullptr: the
// running transport, on reload).
[[noreturn]] void refuse_with_stream(std::string_view key, std::string_view value,
                                     std::string_view needed, const Assignment* set,
                                     const Assignment* transport, std::string_view by_default) {
    if (!transport)
        throw ConfigError(std::string(key) + "=" + std::string(value) +
                          " needs Transport=native, which takes effect on restart; running with "
                          "Transport=stream");
    // Both point into one vector in the order they apply: the greater one came later.
    if (set && set->line && set > transport)
        throw ConfigError(set->position() + ": " + set->as_written() +
                          ": not possible with Transport=stream (" + transport->position() +
                          "), which carries plain lines only");
    std::string but = !set        ? std::string(by_default)
                      : set->line ? set->as_written() + " is set at " + set->position()
                                  : set->as_written() + " is given";
    throw ConfigError(transport->position() + ": " + transport->as_written() + ": needs " +
                      std::string(needed) + " (it carries plain lines only), but " + but);
}

// Reads a whole config file; nullopt if it does not exist. Throws ConfigError for other failures.
std::optional<std::string> read_text_file(const std::string& path) {
    // O_NONBLOCK: a FIFO named as config file must not hang the start; it is refused below.
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0) {
        if (errno == ENOENT)
            return std::nullopt;
        throw ConfigError("Failed to open config file " + path + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (fstat(fd.get(), &st) < 0)
        throw ConfigError("Failed to stat config file " + path + ": " + std::strerror(errno));
    // A character device is allowed so that --config=/dev/null means "no settings".
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
        throw ConfigError("Config file " + path + " is not a regular file");
    // Reads sized by fstat: a regular file comes whole in one, the next one sees its end.
    const std::size_t read_size = std::min<std::size_t>(
        S_ISREG(st.st_mode) ? static_cast<std::size_t>(st.st_size) + 1 : 4096, config_file_max + 1);
    std::string text;
    for (;;) {
        const std::size_t had = text.size();
        text.resize(had + read_size);
        ssize_t n = read(fd.get(), text.data() + had, read_size);
        const int error = errno;
        text.resize(had + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
        if (n < 0 && error == EINTR)
            continue;
        if (n < 0)
            throw ConfigError("Failed to read config file " + path + ": " + std::strerror(error));
        if (n == 0)
            return text;
        if (text.size() > config_file_max)
            throw ConfigError("Config file " + path + " is larger than " +
                              std::to_string(config_file_max / kib) + " KiB");
    }
}

}  // namespace

std::string_view Assignment::key() const {
    return setting->key;
}

std::string Assignment::position() const {
    return line ? source + ":" + std::to_string(line) : source;
}

std::string Assignment::as_written() const {
    return (line ? std::string(setting->key) : source) + "=" + shown(text);
}

std::span<const Setting> settings() {
    return setting_table;
}

const Setting* find_setting(std::string_view key) {
    for (const Setting& setting : setting_table)
        if (setting.key == key)
            return &setting;
    return nullptr;
}

void check_combination(const Config& config, const Provenance& from) {
    // Every forwarded line is limited to HighestPriority=, so a default above it means nothing.
    if (config.format.default_priority < config.format.highest_priority) {
        const Assignment* set = from("DefaultPriority");
        const Assignment* limit = from("HighestPriority");
        const Assignment* later = !limit || (set && set > limit) ? set : limit;
        std::string text = "DefaultPriority=" + find_setting("DefaultPriority")->show(config) +
                           " is more urgent than HighestPriority=" +
                           find_setting("HighestPriority")->show(config) +
                           ", the most a forwarded line gets: lower the one or raise the other";
        throw ConfigError(later ? later->position() + ": " + text : text);
    }
    // A stream carries text to journald, one line per entry: no fields, no records. Stream is not
    // the default, so a Transport= provenance of nullptr is the running one, on reload.
    if (config.transport != Transport::stream)
        return;
    if (config.format.format != LineFormat::plain)
        refuse_with_stream("Format", to_string(config.format.format), "Format=plain",
                           from("Format"), from("Transport"), "Format= is auto by default");
    if (!config.multiline.empty())
        refuse_with_stream("Multiline", records::rules_text(config.multiline), "Multiline= empty",
                           from("Multiline"), from("Transport"), "");
}

std::string effective_text(const Config& config) {
    std::string text;
    for (const Setting& setting : setting_table)
        text += std::string(setting.key) + "=" + setting.show(config) + "\n";
    return text;
}

std::optional<uint64_t> parse_seconds(std::string_view text) {
    uint64_t unit = usec_per_s;
    if (text.ends_with("ms")) {
        unit = usec_per_ms;
        text.remove_suffix(2);
    } else if (text.ends_with("s")) {
        text.remove_suffix(1);
    }
    auto dot = text.find('.');
    auto whole = parse_number<uint64_t>(text.substr(0, dot));
    if (!whole || *whole > usec_per_day / usec_per_ms)
        return std::nullopt;
    uint64_t usec = *whole * unit;
    if (dot != std::string_view::npos) {
        std::string_view fraction = text.substr(dot + 1);
        if (fraction.empty() || fraction.size() > 6 || !parse_number<uint64_t>(fraction))
            return std::nullopt;
        uint64_t scale = unit;
        for (char digit : fraction) {
            scale /= 10;
            usec += static_cast<uint64_t>(digit - '0') * scale;
        }
    }
    return usec;
}

std::string seconds_text(uint64_t usec) {
    std::string text = std::to_string(usec / usec_per_s);
    if (uint64_t fraction = usec % usec_per_s; fraction != 0) {
        std::string digits = std::to_string(usec_per_s + fraction).substr(1);  // six, leading 0s
        digits.erase(digits.find_last_not_of('0') + 1);
        text += "." + digits;
    }
    return text;
}

std::optional<std::size_t> parse_size(std::string_view text) {
    std::size_t factor = 1;
    if (text.ends_with("K")) {
        factor = kib;
        text.remove_suffix(1);
    } else if (text.ends_with("M")) {
        factor = mib;
        text.remove_suffix(1);
    }
    auto number = parse_number<std::size_t>(text);
    if (!number || *number > SIZE_MAX / factor)
        return std::nullopt;
    return *number * factor;
}

std::string size_text(std::size_t bytes) {
    if (bytes != 0 && bytes % mib == 0)
        return std::to_string(bytes / mib) + "M";
    if (bytes != 0 && bytes % kib == 0)
        return std::to_string(bytes / kib) + "K";
    return std::to_string(bytes);
}

std::string_view to_string(LogLevel level) {
    return log_level_names[static_cast<std::size_t>(level)];
}
std::string_view to_string(LineFormat format) {
    return format_names[static_cast<std::size_t>(format)];
}
std::string_view to_string(Transport transport) {
    return transport_names[static_cast<std::size_t>(transport)];
}

bool is_valid_identifier(std::string_view text) {
    if (text.empty() || text.size() > identifier_max)
        return false;
    for (unsigned char c : text)
        if (c <= ' ' || c >= 0x7f)
            return false;
    return true;
}

std::string_view fifo_path_problem(std::string_view text) {
    if (text.empty())
        return "empty";
    if (text.front() != '/')
        return "it does not start with '/'";
    if (text.find('\0') != std::string_view::npos)
        return "it contains a NUL byte";
    for (unsigned char c : text)
        if (is_control(c))
            return "it contains a control character";
    if (text.size() >= PATH_MAX)
        return "it is 4096 bytes or longer (PATH_MAX)";
    if (text.back() == '/')
        return "it ends with '/' (a directory)";
    for (std::string_view rest = text.substr(1); !rest.empty();) {
        std::string_view component = rest.substr(0, rest.find('/'));
        rest.remove_prefix(std::min(rest.size(), component.size() + 1));
        if (component.empty())
            return "it contains '//' (an empty component)";
        if (component == "." || component == "..")
            return component == "." ? "it contains a '.' component"
                                    : "it contains a '..' component";
        if (component.size() > NAME_MAX)
            return "a component is longer than 255 bytes (NAME_MAX)";
    }
    return {};
}

std::string_view instance_name_problem(std::string_view name) {
    if (name.empty())
        return "empty";
    if (name.find('\0') != std::string_view::npos)
        return "it contains a NUL byte";
    if (name.find('/') != std::string_view::npos)
        return "it contains '/' (systemd-escape turns '/' into '-')";
    if (name.size() > instance_name_max)
        return "longer than 250 bytes (NAME.conf must fit in 255)";
    if (name == "." || name == "..")
        return "'.' and '..' name directories";
    for (unsigned char c : name) {
        bool letter_or_digit =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!letter_or_digit &&
            std::string_view(":_.-\\@").find(static_cast<char>(c)) == std::string_view::npos)
            return "it has characters a systemd instance name cannot have (escape it with "
                   "systemd-escape)";
    }
    return {};
}

std::optional<std::string> unescape_instance(std::string_view escaped) {
    std::string name;
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        char c = escaped[i];
        if (c == '-') {
            name += '/';
        } else if (c == '\\') {
            if (i + 3 >= escaped.size() || escaped[i + 1] != 'x')
                return std::nullopt;
            int high = hex_digit(escaped[i + 2]), low = hex_digit(escaped[i + 3]);
            if (high < 0 || low < 0)
                return std::nullopt;
            name += static_cast<char>(high << 4 | low);
            i += 3;
        } else {
            name += c;
        }
    }
    return name;
}

Config CommandLine::applied_to(Config config) const {
    for (const Assignment& assignment : assignments)
        assignment.store(config);
    return config;
}

ParsedConfig parse_config_text(std::string_view text, std::string_view source) {
    Collected collected;
    collect_file(text, std::string(source), Where::own_file, {}, collected);
    ParsedConfig parsed = resolve(Config{}, std::move(collected));
    parsed.files.emplace_back(source);
    return parsed;
}

std::string ConfigLoader::path() const {
    return command_line_.config_path.value_or(std::string(default_config_path));
}

std::vector<std::string> ConfigLoader::paths() const {
    std::vector<std::string> paths{path()};
    if (instance_)
        paths.push_back(
            (std::filesystem::path(path()).parent_path() / (*instance_ + ".conf")).string());
    return paths;
}

ParsedConfig ConfigLoader::load(std::optional<Transport> running) const {
    Config defaults;
    std::vector<std::string> files = paths();
    std::string not_here;
    if (instance_) {
        const std::string& name = *instance_;
        if (std::string_view problem = instance_name_problem(name); !problem.empty())
            throw ConfigError("Instance name '" + shown(name) +
                              "' (PIPEJOURNAL_INSTANCE=): " + std::string(problem));
        if (std::filesystem::path(files[0]).lexically_normal() ==
            std::filesystem::path(files[1]).lexically_normal())
            throw ConfigError("Instance name '" + name + "': its own file would be the main file " +
                              files[0]);
        defaults.fifo_path = std::string(default_fifo_directory) + "/" + name;
        // The name the person chose (systemd-escape turned "my-app" into "my\x2dapp"), unless
        // it cannot be an identifier; then the escaped one, which always can when short enough.
        auto unescaped = unescape_instance(name);
        defaults.identifier = unescaped && is_valid_identifier(*unescaped) ? *unescaped
                              : is_valid_identifier(name)                  ? name
                                                                           : std::string();
        not_here = "does not apply to instance " + name + " (each has its own; set it in " +
                   files[1] + ")";
    }

    Collected collected;
    std::vector<std::string> read;
    for (std::size_t i = 0; i < files.size(); ++i) {
        bool main_file = i == 0;
        std::optional<std::string> text = read_text_file(files[i]);
        if (!text) {
            if (main_file && command_line_.config_path)
                throw ConfigError("Config file " + files[i] + " does not exist");
            continue;  // the default main file and instance files are optional
        }
        unsigned role = main_file && instance_ ? Where::shared_file : Where::own_file;
        collect_file(*text, files[i], role, not_here, collected);
        read.push_back(files[i]);
    }
    collected.assignments.insert(collected.assignments.end(), command_line_.assignments.begin(),
                                 command_line_.assignments.end());

    ParsedConfig parsed = resolve(std::move(defaults), std::move(collected), running);
    parsed.files = std::move(read);
    if (parsed.config.identifier.empty())  // the instance default, and nothing set another
        throw ConfigError("Instance name '" + *instance_ +
                          "' is too long for SYSLOG_IDENTIFIER= (" +
                          std::to_string(identifier_max) +
                          " bytes at most): set SyslogIdentifier= in " + files[1]);
    return parsed;
}

std::string usage_text(std::string_view program) {
    const Config defaults;
    std::string flags;
    auto add = [&](std::string_view left, std::string_view text) {
        std::string line = "  " + std::string(left);
        line.resize(std::max<std::size_t>(line.size() + 1, 21), ' ');
        flags += line + std::string(text) + "\n";
    };
    for (const FlagHelp& help : flag_help) {
        const Setting& setting = *find_setting(help.key);
        std::string text(help.text);
        if (std::string choices = setting.choices(); !choices.empty())
            text += ": " + choices;
        add("--" + std::string(setting.flag) + "=" + std::string(help.metavar),
            text + " (default " + setting.show(defaults) + ")");
        if (help.key == "FIFO")
            add("--config=FILE",
                "configuration file (default " + std::string(default_config_path) + ")");
    }
    add("--check-config", "print the configuration a start would use, one Key=value a line");
    add("-h --help", "show this help");
    add("   --version", "show the version");
    return std::string(program) +
           " [OPTIONS]\n\n"
           "Forward every line written into a FIFO to the systemd journal.\n\n" +
           flags +
           "\nLines may start with <N> (0..7) to set their priority, as with systemd-cat.\n"
           "Flags override the configuration file; see pipejournal.conf in /etc/pipejournal/.\n"
           "As pipejournal@NAME.service (PIPEJOURNAL_INSTANCE=NAME) the FIFO is\n"
           "/run/pipejournal/NAME, the identifier NAME, and NAME.conf next to the\n"
           "configuration file overrides it.\n";
}

CommandLine parse_command_line(int argc, char* const argv[]) {
    enum { opt_config = 0x100, opt_version, opt_check_config, opt_setting = 0x200 };
    std::vector<option> options;
    for (std::size_t i = 0; i < std::size(setting_table); ++i)
        if (setting_table[i].flag)
            options.push_back({setting_table[i].flag, required_argument, nullptr,
                               opt_setting + static_cast<int>(i)});
    options.push_back({"config", required_argument, nullptr, opt_config});
    options.push_back({"check-config", no_argument, nullptr, opt_check_config});
    options.push_back({"help", no_argument, nullptr, 'h'});
    options.push_back({"version", no_argument, nullptr, opt_version});
    options.push_back({});

    CommandLine result;
    opterr = 0;  // we word the errors ourselves
    optind = 0;  // (re)start scanning: tests parse more than one command line
    for (int c; (c = getopt_long(argc, argv, ":h", options.data(), nullptr)) != -1;) {
        std::string_view value = optarg ? optarg : "";
        switch (c) {
        case opt_config:
            if (value.empty())
                throw UsageError("--config: needs a file name");
            result.config_path = value;
            break;
        case opt_check_config: result.check_config = true; break;
        case 'h': result.help = true; break;
        case opt_version: result.version = true; break;
        case ':': throw UsageError(std::string(argv[optind - 1]) + ": needs a value (see --help)");
        default: {
            if (c < opt_setting || c >= opt_setting + static_cast<int>(std::size(setting_table)))
                throw UsageError("unknown option '" + std::string(argv[optind - 1]) +
                                 "' (see --help)");
            const Setting& setting = setting_table[c - opt_setting];
            std::string flag = "--" + std::string(setting.flag);
            auto store = setting.parse(value);
            if (!store)
                throw UsageError(flag + ": '" + shown(value) + "' is " + refusal(setting, value));
            result.assignments.push_back(
                {&setting, std::string(value), std::move(flag), 0, std::move(*store)});
        }
        }
    }
    if (optind < argc)
        throw UsageError("unexpected argument '" + std::string(argv[optind]) + "' (see --help)");
    return result;
}

}  // namespace pj
