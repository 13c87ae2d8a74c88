// What the daemon is told to do: defaults (per instance), the main config file, the instance's own
// file, then the command line. Every key is one row of a table (settings() in config.cpp): its
// name, flag, where it may be set, and the value type whose parser, text and limits it uses.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "format/options.hpp"  // LineFormat, FormatOptions (the format keys and their defaults)
#include "log_level.hpp"
#include "records/rules.hpp"

namespace pj {

enum class Transport { native, stream };

inline constexpr std::string_view default_config_path = "/etc/pipejournal/pipejournal.conf";
inline constexpr std::string_view default_fifo_directory = "/run/pipejournal";
// Where the backlogs live (tmpfiles.d/pipejournal.conf makes it, owned by the service's user).
inline constexpr std::string_view backlog_directory = "/run/pipejournal-backlog";
inline constexpr std::size_t line_max_limit = 16 * 1024 * 1024;  // LineMax= at most

// The defaults are the members' initialisers; where a default depends on Transport=, the member
// holds the native one and with_transport_defaults() gives the other.
struct Config {
    std::string fifo_path = std::string(default_fifo_directory) + "/in";
    mode_t fifo_mode = 0620;
    std::string identifier = "pipejournal";
    uint64_t tick_usec = 5'000'000;
    // journald takes native entries of up to 768 MiB, so a structured record is mapped whole up to
    // here; its stream protocol cuts lines at 48K, its own LineMax.
    std::size_t line_max = 1024 * 1024;
    LogLevel log_level = LogLevel::info;
    FormatOptions format;  // Format=, DefaultPriority=, MessageKeys=, PriorityKeys=, MaxFields=
    Transport transport = Transport::native;
    // A partial line with no new bytes for this long is forwarded; nullopt: never (infinity).
    std::optional<uint64_t> partial_line_timeout_usec = 1'000'000;
    // Multi-line records: the rules that join lines (none with Transport=stream), and how long a
    // record waits for its next line.
    records::Rules multiline = records::default_rules();
    uint64_t multiline_timeout_usec = 500'000;
    // What is held for a journald that does not take entries, at most; 0: nothing (writers wait
    // in the pipe). 16M: half a minute of a busy writer (docs/design.md "The backlog").
    std::size_t backlog_max = 16 * 1024 * 1024;

    bool operator==(const Config&) const = default;
};

inline constexpr std::size_t stream_line_max_default = 48 * 1024;

struct Setting;

// One Key=Value from a file (line >= 1; source is the file) or a flag (line 0; source "--flag"),
// parsed once: store() puts the value into a Config.
struct Assignment {
    const Setting* setting;
    std::string text;  // the value as written
    std::string source;
    std::size_t line = 0;
    std::function<void(Config&)> store;

    std::string_view key() const;
    std::string position() const;    // "FILE:LINE" or "--flag"
    std::string as_written() const;  // "Format=json" in a file, "--format=json" on the command line
};

struct CommandLine {
    std::optional<std::string> config_path;  // set only when --config was given
    std::vector<Assignment> assignments;     // flags that set keys, in order
    bool help = false;
    bool version = false;
    bool check_config = false;

    // config with the flags applied (a later flag wins).
    Config applied_to(Config config) const;
};

// Throws UsageError naming the flag and the problem.
CommandLine parse_command_line(int argc, char* const argv[]);
std::string usage_text(std::string_view program);

struct ParsedConfig {
    Config config;
    // On reload: the Transport= the files now say, when it is not the running one (it takes
    // effect on restart; config.transport is the running one).
    std::optional<Transport> transport_on_restart;
    std::vector<std::string>
        warnings;                    // "FILE:LINE: ..." (unknown keys and sections, ignored keys)
    std::vector<std::string> files;  // the files that were read, in order
};

// Parses the text of one file over the defaults, as the only file of a daemon without instance.
// source names the file in messages. Throws ConfigError "SOURCE:LINE: reason".
ParsedConfig parse_config_text(std::string_view text, std::string_view source);

// Reads the config the daemon runs with; used at start-up, on every reload and by --check-config.
// Without an instance: the main file (--config, or the default one, which may be missing), then
// the flags. With an instance (the escaped name %i gives, e.g. "my\x2dapp"): defaults for that
// instance (FIFO=/run/pipejournal/NAME, SyslogIdentifier=the name), the main file without its
// per-FIFO keys (FIFO=, FIFOMode=, SyslogIdentifier=: ignored with a warning), then NAME.conf next
// to the main file when it exists, then the flags. Throws ConfigError.
class ConfigLoader {
public:
    explicit ConfigLoader(CommandLine command_line, std::optional<std::string> instance = {})
        : command_line_(std::move(command_line)), instance_(std::move(instance)) {}
    // With `running`, the transport the daemon sends with now (a reload): it stays, and the rest
    // must go with it.
    ParsedConfig load(std::optional<Transport> running = {}) const;

    std::string path() const;  // the main file
    // The files load() reads when they exist: the main file, then the instance's own.
    std::vector<std::string> paths() const;
    const std::optional<std::string>& instance() const { return instance_; }

private:
    CommandLine command_line_;
    std::optional<std::string> instance_;
};

// Where each key's value came from, for messages about combinations: the assignment that set it
// last, or nullptr for its default (or, on reload, for the running Transport=, which only a
// restart changes).
using Provenance = std::function<const Assignment*(std::string_view key)>;

// The rules no single key can check (Transport=stream carries plain lines only, ...). Used by
// start, reload and --check-config. Throws ConfigError naming the assignments that made the
// combination.
void check_combination(const Config& config, const Provenance& from);

// The config as --check-config prints it: every key's value, one "Key=value" a line, in the
// table's order (the shipped file's), values written as the shipped file writes them.
std::string effective_text(const Config& config);

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

// One config key. The functions come from the key's value type (config.cpp), so a key's parser,
// its error text and the way --check-config and --help show it cannot disagree.
struct Setting {
    std::string_view key;  // "TickSec", as written in files
    const char* flag;      // "tick" for --tick=, or nullptr
    unsigned where;        // Where bits
    // The value parsed once, as a function that stores it; nullopt for a bad value.
    std::optional<std::function<void(Config&)>> (*parse)(std::string_view text);
    std::string (*expected)();                     // what a good value is: "not <expected>"
    std::string (*detail)(std::string_view text);  // a more precise reason, or empty
    std::string (*show)(const Config& config);     // the value as the shipped file writes it
    std::string (*choices)();                      // "auto|plain|json|logfmt", or empty
};
std::span<const Setting> settings();
const Setting* find_setting(std::string_view key);

// Value parsers, shared by the table and tests. Each returns nullopt for a bad value.
std::optional<uint64_t> parse_seconds(std::string_view text);  // "5", "0.5", "250ms"
std::string seconds_text(uint64_t usec);                       // 5000000 → "5", 1500 → "1.5ms"
std::optional<std::size_t> parse_size(std::string_view text);  // "49152", "48K", "1M"
std::string size_text(std::size_t bytes);                      // 49152 → "48K"
// Why text is not an absolute, normalised path to a file that fits PATH_MAX and NAME_MAX, or
// empty when it is one.
std::string_view fifo_path_problem(std::string_view text);
bool is_valid_identifier(std::string_view text);  // 1..64 printable ASCII, no blanks

std::string_view to_string(LogLevel level);
std::string_view to_string(LineFormat format);
std::string_view to_string(Transport transport);

}  // namespace pj
