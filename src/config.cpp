#include "config.hpp"

#include <fcntl.h>
#include <getopt.h>
#include <ini.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>

#include "errors.hpp"

namespace pj {
namespace {

constexpr std::string_view section_name = "PipeJournal";

constexpr std::array<std::string_view, 7> log_level_names = {
    "trace", "debug", "info", "warning", "error", "critical", "off",
};

constexpr std::array<std::string_view, 8> priority_names = {
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

template <typename T>
std::optional<T> parse_number(std::string_view text, int base = 10) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return value;
}

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

struct IniState {
    ParsedConfig parsed;
    std::string error;  // set by the handler when it refuses a value
};

// The value checks shared by the file and the command line: an error text, or empty when fine.
std::string apply_key(Config& config, std::string_view key, std::string_view value) {
    if (key == "FIFO") {
        if (!is_valid_fifo_path(value))
            return "FIFO=" + std::string(value) + ": not an absolute path to a file";
        config.fifo_path = value;
    } else if (key == "FIFOMode") {
        auto mode = parse_mode(value);
        if (!mode)
            return "FIFOMode=" + std::string(value) + ": not an octal mode 0000..0777";
        config.fifo_mode = *mode;
    } else if (key == "SyslogIdentifier") {
        if (!is_valid_identifier(value))
            return "SyslogIdentifier=" + std::string(value) +
                   ": must be 1..64 printable characters without spaces";
        config.identifier = value;
    } else if (key == "DefaultPriority") {
        auto priority = parse_priority(value);
        if (!priority)
            return "DefaultPriority=" + std::string(value) +
                   ": not a priority 0..7 or emerg|alert|crit|err|warning|notice|info|debug";
        config.default_priority = *priority;
    } else if (key == "TickSec") {
        auto usec = parse_seconds(value);
        if (!usec)
            return "TickSec=" + std::string(value) +
                   ": not a duration of 1ms..1d in seconds (e.g. 5, 0.5, 250ms)";
        config.tick_usec = *usec;
    } else if (key == "LineMax") {
        auto size = parse_size(value);
        if (!size)
            return "LineMax=" + std::string(value) + ": not a size of 1K..16M in bytes (e.g. 48K)";
        config.line_max = *size;
    } else if (key == "LogLevel") {
        auto level = parse_log_level(value);
        if (!level)
            return "LogLevel=" + std::string(value) +
                   ": not one of trace|debug|info|warning|error|critical|off";
        config.log_level = *level;
    } else {
        return "?";  // unknown key, see below
    }
    return {};
}

int ini_handler(void* user, const char* section, const char* name, const char* value) {
    auto& state = *static_cast<IniState*>(user);
    if (section != section_name) {
        state.parsed.warnings.push_back("unknown section [" + std::string(section) +
                                        "], ignoring " + name + "=");
        return 1;
    }
    std::string error = apply_key(state.parsed.config, name, value);
    if (error == "?") {
        state.parsed.warnings.push_back("unknown key " + std::string(name) + "= in [" +
                                        std::string(section_name) + "], ignoring");
        return 1;
    }
    if (!error.empty()) {
        state.error = std::move(error);
        return 0;
    }
    return 1;
}

void configure_inih() {
    // systemd's .conf semantics: no inline comments (a value may contain ';'), no
    // continuation lines, lines as long as a path can be.
    ini_allow_inline_comments = false;
    ini_allow_multiline = false;
    ini_stop_on_first_error = true;
    ini_use_stack = false;
    ini_allow_realloc = true;
    ini_max_line = 64 * 1024;
}

// Reads a whole file; nullopt if it does not exist. Throws ConfigError for other failures.
std::optional<std::string> read_file(const std::string& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT)
            return std::nullopt;
        throw ConfigError("Failed to open config file " + path + ": " + std::strerror(errno));
    }
    std::string text;
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int error = errno;
            close(fd);
            throw ConfigError("Failed to read config file " + path + ": " + std::strerror(error));
        }
        if (n == 0)
            break;
        text.append(chunk, static_cast<std::size_t>(n));
    }
    close(fd);
    return text;
}

}  // namespace

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
    for (std::size_t i = 0; i < priority_names.size(); ++i)
        if (text == priority_names[i])
            return static_cast<int>(i);
    return std::nullopt;
}

std::optional<uint64_t> parse_seconds(std::string_view text) {
    uint64_t unit = 1'000'000;  // µs per unit
    if (ends_with(text, "ms")) {
        unit = 1'000;
        text.remove_suffix(2);
    } else if (ends_with(text, "s")) {
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

std::optional<std::size_t> parse_size(std::string_view text) {
    std::size_t factor = 1;
    if (ends_with(text, "K")) {
        factor = 1024;
        text.remove_suffix(1);
    } else if (ends_with(text, "M")) {
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
    for (std::size_t i = 0; i < log_level_names.size(); ++i)
        if (text == log_level_names[i])
            return static_cast<LogLevel>(i);
    return std::nullopt;
}

std::string_view to_string(LogLevel level) {
    return log_level_names[static_cast<std::size_t>(level)];
}

bool is_valid_identifier(std::string_view text) {
    if (text.empty() || text.size() > 64)
        return false;
    for (unsigned char c : text)
        if (c <= ' ' || c >= 0x7f)
            return false;
    return true;
}

bool is_valid_fifo_path(std::string_view text) {
    return text.size() > 1 && text.size() < 4096 && text.front() == '/' && text.back() != '/' &&
           text.find('\0') == std::string_view::npos;
}

ParsedConfig parse_config_text(std::string_view text, std::string_view source) {
    configure_inih();
    IniState state;
    std::string copy(text);  // inih wants a NUL-terminated string
    int line = ini_parse_string(copy.c_str(), ini_handler, &state);
    if (line < 0)
        throw ConfigError(std::string(source) + ": out of memory while parsing");
    if (line > 0) {
        std::string reason = state.error.empty() ? "expected [Section] or Key=Value" : state.error;
        throw ConfigError(std::string(source) + ":" + std::to_string(line) + ": " + reason);
    }
    return std::move(state.parsed);
}

std::string ConfigLoader::path() const {
    return command_line_.config_path.value_or(std::string(default_config_path));
}

ParsedConfig ConfigLoader::load() const {
    ParsedConfig parsed;
    if (auto text = read_file(path()))
        parsed = parse_config_text(*text, path());
    else if (command_line_.config_path)
        throw ConfigError("Config file " + path() + " does not exist");

    Config& config = parsed.config;
    if (command_line_.fifo_path)
        config.fifo_path = *command_line_.fifo_path;
    if (command_line_.tick_usec)
        config.tick_usec = *command_line_.tick_usec;
    if (command_line_.log_level)
        config.log_level = *command_line_.log_level;
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
           "  --tick=SECONDS     how often STATUS= is refreshed (default 5)\n"
           "  --log-level=LEVEL  trace|debug|info|warning|error|critical|off (default info)\n"
           "  -h --help          show this help\n"
           "     --version       show the version\n\n"
           "Lines may start with <N> (0..7) to set their priority, as with systemd-cat.\n"
           "See pipejournal.conf in /etc/pipejournal/ for the configuration keys.\n";
}

CommandLine parse_command_line(int argc, char* const argv[]) {
    enum { opt_fifo = 0x100, opt_config, opt_tick, opt_log_level, opt_version };
    static const option options[] = {
        {"fifo", required_argument, nullptr, opt_fifo},
        {"config", required_argument, nullptr, opt_config},
        {"tick", required_argument, nullptr, opt_tick},
        {"log-level", required_argument, nullptr, opt_log_level},
        {"help", no_argument, nullptr, 'h'},
        {"version", no_argument, nullptr, opt_version},
        {},
    };
    CommandLine result;
    opterr = 0;  // we word the errors ourselves
    optind = 0;  // (re)start scanning: tests parse more than one command line
    for (int c; (c = getopt_long(argc, argv, ":h", options, nullptr)) != -1;) {
        std::string_view value = optarg ? optarg : "";
        switch (c) {
        case opt_fifo:
            if (!is_valid_fifo_path(value))
                throw UsageError("--fifo: '" + std::string(value) +
                                 "' is not an absolute path to a file");
            result.fifo_path = value;
            break;
        case opt_config:
            if (value.empty())
                throw UsageError("--config: needs a file name");
            result.config_path = value;
            break;
        case opt_tick:
            result.tick_usec = parse_seconds(value);
            if (!result.tick_usec)
                throw UsageError("--tick: '" + std::string(value) +
                                 "' is not a duration of 1ms..1d in seconds (e.g. 5, 0.5, 250ms)");
            break;
        case opt_log_level:
            result.log_level = parse_log_level(value);
            if (!result.log_level)
                throw UsageError("--log-level: '" + std::string(value) +
                                 "' is not one of trace|debug|info|warning|error|critical|off");
            break;
        case 'h': result.help = true; break;
        case opt_version: result.version = true; break;
        case ':': throw UsageError(std::string(argv[optind - 1]) + ": needs a value (see --help)");
        default:
            throw UsageError("unknown option '" + std::string(argv[optind - 1]) + "' (see --help)");
        }
    }
    if (optind < argc)
        throw UsageError("unexpected argument '" + std::string(argv[optind]) + "' (see --help)");
    return result;
}

}  // namespace pj
