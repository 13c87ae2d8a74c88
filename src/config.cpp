#include "config.hpp"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <map>
#include <utility>

#include "config_file.hpp"
#include "errors.hpp"
#include "fd.hpp"

namespace pj {
namespace {

constexpr std::string_view section_name = "PipeJournal";

// A config file is a few hundred bytes; the limit only keeps --config=/dev/zero from eating memory.
constexpr std::size_t config_file_max = 1024 * 1024;

// NAME.conf must fit in a directory entry.
constexpr std::size_t instance_name_max = NAME_MAX - std::string_view(".conf").size();

constexpr std::size_t key_list_max = 32;
constexpr std::size_t list_key_max = 128;

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

// Index of text in names, as the enum it names.
template <typename Enum, std::size_t n>
std::optional<Enum> parse_name(std::string_view text,
                               const std::array<std::string_view, n>& names) {
    for (std::size_t i = 0; i < names.size(); ++i)
        if (text == names[i])
            return static_cast<Enum>(i);
    return std::nullopt;
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
            constexpr char hex[] = "0123456789abcdef";
            text += "\\x";
            text += hex[c >> 4];
            text += hex[c & 0xf];
        } else {
            text += static_cast<char>(c);
        }
    }
    if (value.size() > shown_max)
        text += "... (" + std::to_string(value.size()) + " bytes)";
    return text;
}

std::optional<std::string> parse_fifo_path(std::string_view text) {
    if (!fifo_path_problem(text).empty())
        return std::nullopt;
    return std::string(text);
}

std::optional<std::string> parse_identifier(std::string_view text) {
    if (!is_valid_identifier(text))
        return std::nullopt;
    return std::string(text);
}

// Parses text and stores it in one member: the shape of every row of the table.
template <auto member, auto parse>
bool assign(Config& config, std::string_view text) {
    auto value = parse(text);
    if (!value)
        return false;
    config.*member = std::move(*value);
    return true;
}

constexpr unsigned anywhere = Where::shared_file | Where::own_file | Where::command_line;
constexpr unsigned any_file = Where::shared_file | Where::own_file;
// The FIFO's own identity: a file shared by instances cannot give them all the same one.
constexpr unsigned per_fifo = Where::own_file | Where::command_line;

constexpr Setting setting_table[] = {
    {"FIFO", "fifo", per_fifo, "an absolute path to a file",
     assign<&Config::fifo_path, parse_fifo_path>, fifo_path_problem},
    {"FIFOMode", nullptr, Where::own_file, "an octal mode 0000..0777",
     assign<&Config::fifo_mode, parse_mode>, nullptr},
    {"SyslogIdentifier", "identifier", per_fifo,
     "an identifier of 1..64 printable ASCII characters without blanks",
     assign<&Config::identifier, parse_identifier>, nullptr},
    {"DefaultPriority", nullptr, any_file,
     "a priority 0..7 or emerg|alert|crit|err|warning|notice|info|debug",
     assign<&Config::default_priority, parse_priority>, nullptr},
    {"TickSec", "tick", anywhere, "a duration of 1ms..1d in seconds (e.g. 5, 0.5, 250ms)",
     assign<&Config::tick_usec, parse_seconds>, nullptr},
    {"LineMax", nullptr, any_file, "a size of 1K..16M in bytes (e.g. 48K)",
     assign<&Config::line_max, parse_size>, nullptr},
    {"LogLevel", "log-level", anywhere, "one of trace|debug|info|warning|error|critical|off",
     assign<&Config::log_level, parse_log_level>, nullptr},
    {"Format", "format", anywhere, "one of auto|plain|json|logfmt",
     assign<&Config::format, parse_format>, nullptr},
    {"MessageKeys", nullptr, any_file,
     "a blank-separated list of at most 32 keys of 1..128 bytes without control characters",
     assign<&Config::message_keys, parse_key_list>, nullptr},
    {"PriorityKeys", nullptr, any_file,
     "a blank-separated list of at most 32 keys of 1..128 bytes without control characters",
     assign<&Config::priority_keys, parse_key_list>, nullptr},
    {"MaxFields", nullptr, any_file, "a number of fields 1..1000",
     assign<&Config::max_fields, parse_max_fields>, nullptr},
    {"Transport", nullptr, any_file, "one of native|stream",
     assign<&Config::transport, parse_transport>, nullptr},
    {"PartialLineTimeoutSec", nullptr, any_file,
     "a duration of 1ms..1d in seconds (e.g. 1, 0.5, 250ms) or infinity",
     assign<&Config::partial_line_timeout_usec, parse_timeout>, nullptr},
};

// Why value is bad for setting: "not <expected>[: <detail>]".
std::string refusal(const Setting& setting, std::string_view value) {
    std::string reason = "not " + std::string(setting.expected);
    if (setting.detail)
        if (std::string_view detail = setting.detail(value); !detail.empty())
            reason += ": " + std::string(detail);
    return reason;
}

bool valid_for(const Setting& setting, std::string_view value) {
    Config scratch;
    return setting.assign(scratch, value);
}

std::string position(const Assignment& assignment) {
    return assignment.line ? assignment.source + ":" + std::to_string(assignment.line)
                           : assignment.source;
}

// How the assignment was written: "Format=json" in a file, "--format=json" on the command line.
std::string as_written(const Assignment& assignment) {
    return (assignment.line ? assignment.key : assignment.source) + "=" + shown(assignment.value);
}

// "fifo" for "FIFO": a hint for the unknown key a person most likely meant.
const Setting* same_but_case(std::string_view key) {
    for (const Setting& setting : setting_table)
        if (setting.key.size() == key.size() &&
            strncasecmp(setting.key.data(), key.data(), key.size()) == 0)
            return &setting;
    return nullptr;
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
        if (!valid_for(*setting, entry.value))
            throw ConfigError(at + key + "=" + shown(entry.value) + ": " +
                              refusal(*setting, entry.value));
        if (!(setting->where & role)) {
            out.warnings.push_back(at + key + "= " + std::string(not_here) + ", ignoring it");
            continue;
        }
        out.assignments.push_back(
            {std::string(entry.name), std::string(entry.value), source, entry.line});
    }
}

// Transport=stream carries lines as text to journald, which cannot take fields: only plain
// lines go that way. Names the assignment that made the combination, the later of the two.
void check_transport_and_format(const Config& config, const Assignment* transport,
                                const Assignment* format) {
    if (config.transport != Transport::stream || config.format == LineFormat::plain)
        return;
    if (!transport)  // stream is not the default and has no flag: a file line set it
        throw ConfigError("Transport=stream needs Format=plain");
    // Both point into one vector in the order they apply: the greater one came later.
    if (format && format->line && format > transport)
        throw ConfigError(position(*format) + ": " + as_written(*format) +
                          ": not possible with Transport=stream (" + position(*transport) +
                          "), which carries plain lines only");
    std::string but = !format        ? "Format= is auto by default"
                      : format->line ? as_written(*format) + " is set at " + position(*format)
                                     : as_written(*format) + " is given";
    throw ConfigError(position(*transport) + ": " + as_written(*transport) +
                      ": needs Format=plain (it carries plain lines only), but " + but);
}

// Applies the assignments in order over defaults, then checks what no single key can.
ParsedConfig resolve(Config defaults, Collected collected) {
    ParsedConfig parsed{std::move(defaults), std::move(collected.warnings), {}};
    std::map<std::string, const Assignment*, std::less<>> last;
    for (const Assignment& assignment : collected.assignments) {
        find_setting(assignment.key)->assign(parsed.config, assignment.value);
        last[assignment.key] = &assignment;
    }
    auto last_of = [&](std::string_view key) -> const Assignment* {
        auto found = last.find(key);
        return found == last.end() ? nullptr : found->second;
    };
    check_transport_and_format(parsed.config, last_of("Transport"), last_of("Format"));
    return parsed;
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
    std::string text;
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw ConfigError("Failed to read config file " + path + ": " + std::strerror(errno));
        if (n == 0)
            return text;
        text.append(chunk, static_cast<std::size_t>(n));
        if (text.size() > config_file_max)
            throw ConfigError("Config file " + path + " is larger than " +
                              std::to_string(config_file_max / 1024) + " KiB");
    }
}

}  // namespace

std::span<const Setting> settings() {
    return setting_table;
}

const Setting* find_setting(std::string_view key) {
    for (const Setting& setting : setting_table)
        if (setting.key == key)
            return &setting;
    return nullptr;
}

std::optional<mode_t> parse_mode(std::string_view text) {
    if (text.empty() || text.size() > 4)
        return std::nullopt;
    auto mode = parse_number<unsigned>(text, 8);
    if (!mode || *mode > 0777)
        return std::nullopt;
    return static_cast<mode_t>(*mode);
}

std::optional<int> parse_priority(std::string_view text) {
    if (text.size() == 1 && text[0] >= '0' && text[0] <= '7')
        return text[0] - '0';
    return parse_name<int>(text, priority_names);
}

std::optional<uint64_t> parse_seconds(std::string_view text) {
    uint64_t unit = 1'000'000;  // µs per unit
    if (text.ends_with("ms")) {
        unit = 1'000;
        text.remove_suffix(2);
    } else if (text.ends_with("s")) {
        text.remove_suffix(1);
    }
    auto dot = text.find('.');
    auto whole = parse_number<uint64_t>(text.substr(0, dot));
    if (!whole || *whole > 86'400'000)
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
    if (usec < 1'000 || usec > 86'400'000'000)
        return std::nullopt;
    return usec;
}

std::optional<std::optional<uint64_t>> parse_timeout(std::string_view text) {
    if (text == "infinity")
        return std::optional<uint64_t>();
    auto usec = parse_seconds(text);
    if (!usec)
        return std::nullopt;
    return usec;
}

std::optional<std::size_t> parse_size(std::string_view text) {
    std::size_t factor = 1;
    if (text.ends_with("K")) {
        factor = 1024;
        text.remove_suffix(1);
    } else if (text.ends_with("M")) {
        factor = 1024 * 1024;
        text.remove_suffix(1);
    }
    auto number = parse_number<std::size_t>(text);
    if (!number || *number > (16u << 20))
        return std::nullopt;
    std::size_t size = *number * factor;
    if (size < 1024 || size > (16u << 20))
        return std::nullopt;
    return size;
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
    return parse_name<LogLevel>(text, log_level_names);
}

std::optional<LineFormat> parse_format(std::string_view text) {
    return parse_name<LineFormat>(text, format_names);
}

std::optional<Transport> parse_transport(std::string_view text) {
    return parse_name<Transport>(text, transport_names);
}

std::optional<std::size_t> parse_max_fields(std::string_view text) {
    auto number = parse_number<std::size_t>(text);
    if (!number || *number < 1 || *number > 1000)
        return std::nullopt;
    return number;
}

std::optional<std::vector<std::string>> parse_key_list(std::string_view text) {
    std::vector<std::string> keys;
    constexpr std::string_view separators = " \t";
    for (;;) {
        auto start = text.find_first_not_of(separators);
        if (start == std::string_view::npos)
            return keys;
        text.remove_prefix(start);
        std::string_view key = text.substr(0, text.find_first_of(separators));
        text.remove_prefix(key.size());
        if (key.size() > list_key_max || keys.size() == key_list_max)
            return std::nullopt;
        for (unsigned char c : key)
            if (is_control(c))
                return std::nullopt;
        keys.emplace_back(key);
    }
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
    if (text.empty() || text.size() > 64)
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

bool is_valid_fifo_path(std::string_view text) {
    return fifo_path_problem(text).empty();
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
    auto hex_value = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    };
    std::string name;
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        char c = escaped[i];
        if (c == '-') {
            name += '/';
        } else if (c == '\\') {
            if (i + 3 >= escaped.size() || escaped[i + 1] != 'x')
                return std::nullopt;
            int high = hex_value(escaped[i + 2]), low = hex_value(escaped[i + 3]);
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
        find_setting(assignment.key)->assign(config, assignment.value);
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

ParsedConfig ConfigLoader::load() const {
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

    ParsedConfig parsed = resolve(std::move(defaults), std::move(collected));
    parsed.files = std::move(read);
    if (parsed.config.identifier.empty())  // the instance default, and nothing set another
        throw ConfigError("Instance name '" + *instance_ +
                          "' is too long for SYSLOG_IDENTIFIER= (64 bytes at most): set "
                          "SyslogIdentifier= in " +
                          files[1]);
    return parsed;
}

std::string usage_text(std::string_view program) {
    std::string p(program);
    return p +
           " [OPTIONS]\n\n"
           "Forward every line written into a FIFO to the systemd journal.\n\n"
           "  --fifo=PATH        FIFO to create or use (default /run/pipejournal/in)\n"
           "  --config=FILE      configuration file (default " +
           std::string(default_config_path) +
           ")\n"
           "  --identifier=NAME  SYSLOG_IDENTIFIER= of forwarded lines (default pipejournal)\n"
           "  --format=FORMAT    auto|plain|json|logfmt: which lines become fields (default auto)\n"
           "  --tick=SECONDS     how often STATUS= is refreshed (default 5)\n"
           "  --log-level=LEVEL  trace|debug|info|warning|error|critical|off (default info)\n"
           "  -h --help          show this help\n"
           "     --version       show the version\n\n"
           "Lines may start with <N> (0..7) to set their priority, as with systemd-cat.\n"
           "Flags override the configuration file; see pipejournal.conf in /etc/pipejournal/.\n"
           "As pipejournal@NAME.service (PIPEJOURNAL_INSTANCE=NAME) the FIFO is\n"
           "/run/pipejournal/NAME, the identifier NAME, and NAME.conf next to the\n"
           "configuration file overrides it.\n";
}

CommandLine parse_command_line(int argc, char* const argv[]) {
    enum { opt_config = 0x100, opt_version, opt_setting = 0x200 };
    std::vector<option> options;
    for (std::size_t i = 0; i < std::size(setting_table); ++i)
        if (setting_table[i].flag)
            options.push_back({setting_table[i].flag, required_argument, nullptr,
                               opt_setting + static_cast<int>(i)});
    options.push_back({"config", required_argument, nullptr, opt_config});
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
        case 'h': result.help = true; break;
        case opt_version: result.version = true; break;
        case ':': throw UsageError(std::string(argv[optind - 1]) + ": needs a value (see --help)");
        default: {
            if (c < opt_setting || c >= opt_setting + static_cast<int>(std::size(setting_table)))
                throw UsageError("unknown option '" + std::string(argv[optind - 1]) +
                                 "' (see --help)");
            const Setting& setting = setting_table[c - opt_setting];
            std::string flag = "--" + std::string(setting.flag);
            if (!valid_for(setting, value))
                throw UsageError(flag + ": '" + shown(value) + "' is " + refusal(setting, value));
            result.assignments.push_back(
                {std::string(setting.key), std::string(value), std::move(flag), 0});
        }
        }
    }
    if (optind < argc)
        throw UsageError("unexpected argument '" + std::string(argv[optind]) + "' (see --help)");
    return result;
}

}  // namespace pj
