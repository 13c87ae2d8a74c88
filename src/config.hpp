// What the daemon is told to do: defaults (per instance), the main config file, the instance's own
// file, then the command line. Every key is one row of a table (see settings()).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "format/options.hpp"  // LineFormat, FormatOptions (the format keys' defaults)
#include "log_level.hpp"

namespace pj {

enum class Transport { native, stream };

inline constexpr std::string_view default_config_path = "/etc/pipejournal/pipejournal.conf";
inline constexpr std::string_view default_fifo_directory = "/run/pipejournal";

struct Config {
    std::string fifo_path = std::string(default_fifo_directory) + "/in";
    mode_t fifo_mode = 0620;
    std::string identifier = "pipejournal";
    int default_priority = 6;
    uint64_t tick_usec = 5'000'000;
    std::size_t line_max = 48 * 1024;
    LogLevel log_level = LogLevel::info;
    LineFormat format = LineFormat::automatic;
    // The format's own defaults, written once in format/options.hpp.
    std::vector<std::string> message_keys = FormatOptions{}.message_keys;
    std::vector<std::string> priority_keys = FormatOptions{}.priority_keys;
    std::size_t max_fields = FormatOptions{}.max_fields;
    Transport transport = Transport::native;
    // A partial line with no new bytes for this long is forwarded; nullopt: never (infinity).
    std::optional<uint64_t> partial_line_timeout_usec = 1'000'000;

    bool operator==(const Config&) const = default;
};

// One Key=Value from a file (line >= 1; source is the file) or a flag (line 0; source "--flag").
struct Assignment {
    std::string key;  // the config key, also for a flag: "TickSec" for --tick
    std::string value;
    std::string source;
    std::size_t line = 0;

    bool operator==(const Assignment&) const = default;
};

struct CommandLine {
    std::optional<std::string> config_path;  // set only when --config was given
    std::vector<Assignment> assignments;     // flags that set keys, in order; values are valid
    bool help = false;
    bool version = false;

    // config with the flags applied (a later flag wins).
    Config applied_to(Config config) const;
};

// Throws UsageError naming the flag and the problem.
CommandLine parse_command_line(int argc, char* const argv[]);
std::string usage_text(std::string_view program);

struct ParsedConfig {
    Config config;
    std::vector<std::string>
        warnings;                    // "FILE:LINE: ..." (unknown keys and sections, ignored keys)
    std::vector<std::string> files;  // the files that were read, in order

    bool operator==(const ParsedConfig&) const = default;
};

// Parses the text of one file over the defaults, as the only file of a daemon without instance.
// source names the file in messages. Throws ConfigError "SOURCE:LINE: reason".
ParsedConfig parse_config_text(std::string_view text, std::string_view source);

// Reads the config the daemon runs with; used at start-up and on every reload. Without an
// instance: the main file (--config, or the default one, which may be missing), then the flags.
// With an instance (the escaped name %i gives, e.g. "my\x2dapp"): defaults for that instance
// (FIFO=/run/pipejournal/NAME, SyslogIdentifier=the name), the main file without its per-FIFO
// keys (FIFO=, FIFOMode=, SyslogIdentifier=: ignored with a warning), then NAME.conf next to the
// main file when it exists, then the flags. Throws ConfigError.
class ConfigLoader {
public:
    explicit ConfigLoader(CommandLine command_line, std::optional<std::string> instance = {})
        : command_line_(std::move(command_line)), instance_(std::move(instance)) {}
    ParsedConfig load() const;

    std::string path() const;  // the main file
    // The files load() reads when they exist: the main file, then the instance's own.
    std::vector<std::string> paths() const;
    const std::optional<std::string>& instance() const { return instance_; }

private:
    CommandLine command_line_;
    std::optional<std::string> instance_;
};

// Instances. A valid name is what systemd allows between '@' and the unit type (A-Z a-z 0-9 and
// ":_.-\@"), not "." or "..", and short enough that NAME.conf is a file name. Returns why not,
// or empty when the name is valid.
std::string_view instance_name_problem(std::string_view name);
// systemd's unit name unescaping: "\xNN" becomes that byte, '-' becomes '/'. nullopt when a '\'
// does not start "\xNN".
std::optional<std::string> unescape_instance(std::string_view escaped);

// Where a key may be set (bits). The main file is shared when instances read it: keys that
// belong to one FIFO are then ignored there. A daemon without instance has only its own file.
struct Where {
    static constexpr unsigned shared_file = 1, own_file = 2, command_line = 4;
};

// One config key: the table behind files and flags.
struct Setting {
    std::string_view key;       // "TickSec", as written in files
    const char* flag;           // "tick" for --tick=, or nullptr
    unsigned where;             // Where bits
    std::string_view expected;  // what a good value is, for errors: "not <expected>"
    bool (*assign)(Config&, std::string_view value);  // false: a bad value, config untouched
    // A more precise reason for a bad value, or nullptr: "not <expected>: <detail>".
    std::string_view (*detail)(std::string_view value);
};
std::span<const Setting> settings();
const Setting* find_setting(std::string_view key);

// Value parsers, shared by flags and keys. Each returns nullopt for a bad value.
std::optional<mode_t> parse_mode(std::string_view text);
std::optional<int> parse_priority(std::string_view text);      // 0..7 or emerg..debug
std::optional<uint64_t> parse_seconds(std::string_view text);  // 1ms..1d: "5", "0.5", "250ms"
// A duration as parse_seconds, or "infinity": a value of nullopt.
std::optional<std::optional<uint64_t>> parse_timeout(std::string_view text);
std::optional<std::size_t> parse_size(std::string_view text);  // 1K..16M, "49152", "48K"
std::optional<LogLevel> parse_log_level(std::string_view text);
std::optional<LineFormat> parse_format(std::string_view text);  // auto|plain|json|logfmt
std::optional<Transport> parse_transport(std::string_view text);
std::optional<std::size_t> parse_max_fields(std::string_view text);  // 1..1000
// Blank-separated keys, at most 32, each 1..128 bytes without control characters; may be empty.
std::optional<std::vector<std::string>> parse_key_list(std::string_view text);
bool is_valid_identifier(std::string_view text);  // 1..64 printable ASCII, no blanks
// Why text is not an absolute, normalised path to a file that fits PATH_MAX and NAME_MAX, or
// empty when it is one.
std::string_view fifo_path_problem(std::string_view text);
bool is_valid_fifo_path(std::string_view text);

std::string_view to_string(LogLevel level);
std::string_view to_string(LineFormat format);
std::string_view to_string(Transport transport);

}  // namespace pj
