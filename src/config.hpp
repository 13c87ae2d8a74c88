// What the daemon is told to do: the config file, overridden by the command line.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "log.hpp"

namespace pj {

struct Config {
    std::string fifo_path = "/run/pipejournal/in";
    mode_t fifo_mode = 0620;
    std::string identifier = "pipejournal";
    int default_priority = 6;
    uint64_t tick_usec = 5'000'000;
    std::size_t line_max = 48 * 1024;
    LogLevel log_level = LogLevel::info;

    bool operator==(const Config&) const = default;
};

inline constexpr std::string_view default_config_path = "/etc/pipejournal/pipejournal.conf";

struct CommandLine {
    std::optional<std::string> fifo_path;
    std::optional<std::string> config_path;  // set only when --config was given
    std::optional<uint64_t> tick_usec;
    std::optional<LogLevel> log_level;
    bool help = false;
    bool version = false;
};

// Throws UsageError naming the flag and the problem.
CommandLine parse_command_line(int argc, char* const argv[]);
std::string usage_text(std::string_view program);

struct ParsedConfig {
    Config config;
    std::vector<std::string> warnings;  // unknown keys and sections: reported, then ignored
};

// Parses INI text ("[PipeJournal]" and Key=Value lines) over the defaults. source names the
// file in messages. Throws ConfigError "SOURCE:LINE: reason".
ParsedConfig parse_config_text(std::string_view text, std::string_view source);

// Reads the config file the command line names (or the default one, which may be missing) and
// applies the command line over it. Throws ConfigError. Used at start-up and on every reload.
class ConfigLoader {
public:
    explicit ConfigLoader(CommandLine command_line) : command_line_(std::move(command_line)) {}
    ParsedConfig load() const;
    std::string path() const;

private:
    CommandLine command_line_;
};

// Value parsers, shared by flags and keys. Each returns nullopt for a bad value.
std::optional<mode_t> parse_mode(std::string_view text);
std::optional<int> parse_priority(std::string_view text);      // 0..7 or emerg..debug
std::optional<uint64_t> parse_seconds(std::string_view text);  // > 0, "5", "0.5", "2s", "100ms"
std::optional<std::size_t> parse_size(std::string_view text);  // 1K..16M, "49152", "48K"
std::optional<LogLevel> parse_log_level(std::string_view text);
bool is_valid_identifier(std::string_view text);
bool is_valid_fifo_path(std::string_view text);

std::string_view to_string(LogLevel level);

}  // namespace pj
