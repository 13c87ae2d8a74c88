// The configuration: every key's values and messages, the file syntax (NUL bytes, long lines, line
// numbers, CRLF), the command line, instances and the layering of files and flags.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "config.hpp"
#include "config_file.hpp"
#include "errors.hpp"

using namespace pj;
using namespace std::literals;

namespace {

CommandLine parse(std::vector<std::string> args) {
    args.insert(args.begin(), "pipejournal");
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    return parse_command_line(static_cast<int>(args.size()), argv.data());
}

std::string usage_error(std::vector<std::string> args) {
    try {
        parse(std::move(args));
    } catch (const UsageError& e) {
        return e.what();
    }
    return "(no error)";
}

std::string config_error(std::string_view text) {
    try {
        parse_config_text(text, "test.conf");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

std::string load_error(const ConfigLoader& loader) {
    try {
        loader.load();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

std::string load_error_running(const ConfigLoader& loader, Transport running) {
    try {
        loader.load(running);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines)
        text += line + "\n";
    return text;
}

// A private directory for config files, removed with its content.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char name[] = "/tmp/pipejournal-test-XXXXXX";
        REQUIRE(mkdtemp(name) != nullptr);
        path = name;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string write(std::string_view name, std::string_view text) const {
        std::filesystem::path file = path / name;
        std::ofstream(file, std::ios::binary) << text;
        return file.string();
    }
};

std::size_t open_fd_count() {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
        ++count;
    return count;
}

}  // namespace

// --- every key: good values ------------------------------------------------------------------

namespace {

struct GoodValue {
    std::string key;
    std::string value;
    std::function<bool(const Config&)> took;  // the value arrived in its member
    std::string other_lines = "";             // when a key needs another to be valid
};

const std::vector<GoodValue>& good_values() {
    static const std::vector<GoodValue> cases = {
        {"FIFO", "/run/app/in", [](const Config& c) { return c.fifo_path == "/run/app/in"; }},
        {"FIFO", "/run/a;b#c", [](const Config& c) { return c.fifo_path == "/run/a;b#c"; }},
        {"FIFO", "/run/" + std::string(NAME_MAX, 'n'),
         [](const Config& c) { return c.fifo_path.size() == 5 + NAME_MAX; }},
        {"FIFO", "/run/my\\x2dapp",
         [](const Config& c) { return c.fifo_path == "/run/my\\x2dapp"; }},
        {"FIFOMode", "0600", [](const Config& c) { return c.fifo_mode == 0600u; }},
        {"FIFOMode", "644", [](const Config& c) { return c.fifo_mode == 0644u; }},
        {"SyslogIdentifier", "cron-backup",
         [](const Config& c) { return c.identifier == "cron-backup"; }},
        {"SyslogIdentifier", std::string(64, 'i'),
         [](const Config& c) { return c.identifier.size() == 64; }},
        {"DefaultPriority", "notice",
         [](const Config& c) { return c.format.default_priority == 5; }},
        {"DefaultPriority", "0", [](const Config& c) { return c.format.default_priority == 0; },
         "HighestPriority=emerg\n"},
        {"DefaultPriority", "debug",
         [](const Config& c) { return c.format.default_priority == 7; }},
        {"DefaultPriority", "crit", [](const Config& c) { return c.format.default_priority == 2; }},
        {"HighestPriority", "emerg",
         [](const Config& c) { return c.format.highest_priority == 0; }},
        {"HighestPriority", "3", [](const Config& c) { return c.format.highest_priority == 3; }},
        {"TickSec", "2", [](const Config& c) { return c.tick_usec == 2'000'000u; }},
        {"TickSec", "0.5", [](const Config& c) { return c.tick_usec == 500'000u; }},
        {"TickSec", "250ms", [](const Config& c) { return c.tick_usec == 250'000u; }},
        {"LineMax", "8K", [](const Config& c) { return c.line_max == 8192u; }},
        {"LineMax", "1M", [](const Config& c) { return c.line_max == 1048576u; }},
        {"LineMax", "4096", [](const Config& c) { return c.line_max == 4096u; }},
        {"LogLevel", "debug", [](const Config& c) { return c.log_level == LogLevel::debug; }},
        {"LogLevel", "off", [](const Config& c) { return c.log_level == LogLevel::off; }},
        {"Format", "auto",
         [](const Config& c) { return c.format.format == LineFormat::automatic; }},
        {"Format", "plain", [](const Config& c) { return c.format.format == LineFormat::plain; }},
        {"Format", "json", [](const Config& c) { return c.format.format == LineFormat::json; }},
        {"Format", "logfmt", [](const Config& c) { return c.format.format == LineFormat::logfmt; }},
        {"MessageKeys", "msg  text\t@m",
         [](const Config& c) {
             return c.format.message_keys == std::vector<std::string>{"msg", "text", "@m"};
         }},
        {"MessageKeys", "", [](const Config& c) { return c.format.message_keys.empty(); }},
        {"MessageKeys", "nachricht\xc3\xa4",
         [](const Config& c) {
             return c.format.message_keys == std::vector<std::string>{"nachricht\xc3\xa4"};
         }},
        {"PriorityKeys", "log.level",
         [](const Config& c) {
             return c.format.priority_keys == std::vector<std::string>{"log.level"};
         }},
        {"PriorityKeys", std::string(128, 'k'),
         [](const Config& c) { return c.format.priority_keys.at(0).size() == 128; }},
        {"MaxFields", "1", [](const Config& c) { return c.format.max_fields == 1u; }},
        {"MaxFields", "1000", [](const Config& c) { return c.format.max_fields == 1000u; }},
        {"Transport", "native", [](const Config& c) { return c.transport == Transport::native; }},
        {"Transport", "stream", [](const Config& c) { return c.transport == Transport::stream; },
         "Format=plain\n"},
        {"PartialLineTimeoutSec", "infinity",
         [](const Config& c) { return !c.partial_line_timeout_usec.has_value(); }},
        {"PartialLineTimeoutSec", "2",
         [](const Config& c) { return c.partial_line_timeout_usec == 2'000'000u; }},
        {"PartialLineTimeoutSec", "100ms",
         [](const Config& c) { return c.partial_line_timeout_usec == 100'000u; }},
        {"Multiline", "python java go",
         [](const Config& c) { return c.multiline == records::default_rules(); }},
        {"Multiline", "indent  python",
         [](const Config& c) {
             return c.multiline == records::Rules{MultilineRule::indent, MultilineRule::python};
         }},
        {"Multiline", "", [](const Config& c) { return c.multiline.empty(); }},
        {"MultilineTimeoutSec", "2",
         [](const Config& c) { return c.multiline_timeout_usec == 2'000'000u; }},
        {"MultilineTimeoutSec", "100ms",
         [](const Config& c) { return c.multiline_timeout_usec == 100'000u; }},
        {"BacklogMax", "0", [](const Config& c) { return c.backlog_max == 0u; }},
        {"BacklogMax", "1024M", [](const Config& c) { return c.backlog_max == 1024u << 20; }},
        {"BacklogMax", "64K", [](const Config& c) { return c.backlog_max == 65536u; }},
    };
    return cases;
}

struct BadValue {
    std::string key;
    std::string value;
    std::string reason;  // after "test.conf:3: KEY=VALUE: "
};

const std::string path_expected = "not an absolute path to a file: ";
const std::string duration_expected = "not a duration of 1ms..1d in seconds (e.g. 5, 0.5, 250ms)";
const std::string size_expected = "not a size of 1K..16M in bytes (e.g. 48K, 1M)";
const std::string list_expected =
    "not a blank-separated list of at most 32 keys of 1..128 bytes without control characters";

std::string many_keys(int n) {
    std::string text = "k0";
    for (int i = 1; i < n; ++i)
        text += " k" + std::to_string(i);
    return text;
}

const std::vector<BadValue>& bad_values() {
    static const std::vector<BadValue> cases = {
        {"FIFO", "relative/in", path_expected + "it does not start with '/'"},
        {"FIFO", "", path_expected + "empty"},
        {"FIFO", "/run/dir/", path_expected + "it ends with '/' (a directory)"},
        {"FIFO", "/", path_expected + "it ends with '/' (a directory)"},
        {"FIFO", "/run//in", path_expected + "it contains '//' (an empty component)"},
        {"FIFO", "/run/./in", path_expected + "it contains a '.' component"},
        {"FIFO", "/run/../in", path_expected + "it contains a '..' component"},
        {"FIFO", "/run/..", path_expected + "it contains a '..' component"},
        {"FIFO", "/run/a\x1b[2Jb", path_expected + "it contains a control character"},
        {"FIFO", "/run/" + std::string(NAME_MAX + 1, 'n'),
         path_expected + "a component is longer than 255 bytes (NAME_MAX)"},
        {"FIFO", "/" + std::string(PATH_MAX - 1, 'p'),
         path_expected + "it is 4096 bytes or longer (PATH_MAX)"},
        {"FIFOMode", "999", "not an octal mode 0000..0777"},
        {"FIFOMode", "4755", "not an octal mode 0000..0777"},
        {"FIFOMode", "rw", "not an octal mode 0000..0777"},
        {"SyslogIdentifier", "two words",
         "not an identifier of 1..64 printable ASCII characters without blanks"},
        {"SyslogIdentifier", "",
         "not an identifier of 1..64 printable ASCII characters without blanks"},
        {"SyslogIdentifier", std::string(65, 'i'),
         "not an identifier of 1..64 printable ASCII characters without blanks"},
        {"SyslogIdentifier", "caf\xc3\xa9",
         "not an identifier of 1..64 printable ASCII characters without blanks"},
        {"DefaultPriority", "loud",
         "not a priority 0..7 or emerg|alert|crit|err|warning|notice|info|debug"},
        {"DefaultPriority", "8",
         "not a priority 0..7 or emerg|alert|crit|err|warning|notice|info|debug"},
        {"DefaultPriority", "warn",
         "not a priority 0..7 or emerg|alert|crit|err|warning|notice|info|debug"},
        {"HighestPriority", "panic",
         "not a priority 0..7 or emerg|alert|crit|err|warning|notice|info|debug"},
        {"TickSec", "soon", duration_expected},
        {"TickSec", "0", duration_expected},
        {"TickSec", "-1", duration_expected},
        {"TickSec", "86401", duration_expected},
        {"TickSec", "", duration_expected},
        {"LineMax", "1", size_expected},
        {"LineMax", "17M", size_expected},
        {"LineMax", "12Q", size_expected},
        {"LogLevel", "loud", "not one of trace|debug|info|warning|error|critical|off"},
        {"LogLevel", "INFO", "not one of trace|debug|info|warning|error|critical|off"},
        {"Format", "yaml", "not one of auto|plain|json|logfmt"},
        {"Format", "JSON", "not one of auto|plain|json|logfmt"},
        {"Format", "", "not one of auto|plain|json|logfmt"},
        {"MessageKeys", many_keys(33), list_expected},
        {"MessageKeys", std::string(129, 'k'), list_expected},
        {"PriorityKeys", "level\x01lvl", list_expected},
        {"MaxFields", "0", "not a number of fields 1..1000"},
        {"MaxFields", "1001", "not a number of fields 1..1000"},
        {"MaxFields", "-1", "not a number of fields 1..1000"},
        {"MaxFields", "many", "not a number of fields 1..1000"},
        {"Transport", "udp", "not one of native|stream"},
        {"Transport", "Stream", "not one of native|stream"},
        {"PartialLineTimeoutSec", "0", duration_expected + " or infinity"},
        {"PartialLineTimeoutSec", "never", duration_expected + " or infinity"},
        {"Multiline", "python ruby",
         "not a blank-separated list of the rules python java go indent, each at most once: "
         "unknown rule 'ruby'"},
        {"Multiline", "go go",
         "not a blank-separated list of the rules python java go indent, each at most once: "
         "rule 'go' given twice"},
        {"MultilineTimeoutSec", "0", "not a duration of 1ms..60s in seconds (e.g. 5, 0.5, 250ms)"},
        {"MultilineTimeoutSec", "61", "not a duration of 1ms..60s in seconds (e.g. 5, 0.5, 250ms)"},
        {"BacklogMax", "1025M", "not 0 or a size of 1K..1024M in bytes (e.g. 48K, 1M)"},
        {"BacklogMax", "512", "not 0 or a size of 1K..1024M in bytes (e.g. 48K, 1M)"},
        {"BacklogMax", "-1", "not 0 or a size of 1K..1024M in bytes (e.g. 48K, 1M)"},
    };
    return cases;
}

// What an error message shows of a value: control characters escaped, cut after 100 bytes.
std::string shown(std::string_view value) {
    std::string text;
    for (unsigned char c : value.substr(0, 100)) {
        char escaped[5];
        if (c < 0x20 || c == 0x7f)
            std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
        else
            escaped[0] = static_cast<char>(c), escaped[1] = '\0';
        text += escaped;
    }
    if (value.size() > 100)
        text += "... (" + std::to_string(value.size()) + " bytes)";
    return text;
}

}  // namespace

TEST_CASE("every key takes its good values, in the file and (where it has one) as a flag") {
    for (const auto& c : good_values()) {
        CAPTURE(c.key);
        CAPTURE(c.value);
        auto parsed = parse_config_text(
            "[PipeJournal]\n" + c.key + "=" + c.value + "\n" + c.other_lines, "t");
        CHECK(c.took(parsed.config));
        CHECK(parsed.warnings.empty());

        const Setting* setting = find_setting(c.key);
        REQUIRE(setting);
        if (setting->flag && c.other_lines.empty()) {
            Config config = parse({"--"s + setting->flag + "=" + c.value}).applied_to({});
            CHECK(c.took(config));
        }
    }
}

TEST_CASE("every key refuses its bad values, naming file, line, key, value and what is expected") {
    for (const auto& c : bad_values()) {
        CAPTURE(c.key);
        CAPTURE(c.value);
        CHECK(config_error("[PipeJournal]\n\n" + c.key + "=" + c.value + "\n") ==
              "test.conf:3: " + c.key + "=" + shown(c.value) + ": " + c.reason);
        const Setting* setting = find_setting(c.key);
        REQUIRE(setting);
        if (setting->flag)
            CHECK(usage_error({"--"s + setting->flag + "=" + c.value}) ==
                  "--"s + setting->flag + ": '" + shown(c.value) + "' is " + c.reason);
    }
}

TEST_CASE("every key of the table has good and bad values tested above") {
    std::set<std::string> with_good, with_bad;
    for (const auto& c : good_values())
        with_good.insert(c.key);
    for (const auto& c : bad_values())
        with_bad.insert(c.key);
    for (const Setting& setting : settings()) {
        CAPTURE(setting.key);
        CHECK(with_good.count(std::string(setting.key)) == 1);
        CHECK(with_bad.count(std::string(setting.key)) == 1);
    }
}

TEST_CASE("the defaults are the ones documented") {
    Config config;
    CHECK(config.fifo_path == "/run/pipejournal/in");
    CHECK(config.fifo_mode == 0620u);
    CHECK(config.identifier == "pipejournal");
    CHECK(config.format.default_priority == 6);
    CHECK(config.tick_usec == 5'000'000u);
    CHECK(config.line_max == 1048576u);
    CHECK(config.log_level == LogLevel::info);
    CHECK(config.format.format == LineFormat::automatic);
    CHECK(config.format == FormatOptions{});  // the format's own defaults, written once
    CHECK(config.format.message_keys ==
          std::vector<std::string>{"msg", "message", "event", "@m", "@message", "short_message",
                                   "record.message"});
    CHECK(config.format.priority_keys ==
          std::vector<std::string>{"level", "severity", "levelname", "level_name", "lvl",
                                   "loglevel", "@l", "@level", "log.level", "record.level.name"});
    CHECK(config.format.max_fields == 900u);
    CHECK(config.transport == Transport::native);
    CHECK(config.partial_line_timeout_usec == 1'000'000u);
    CHECK(config.backlog_max == 16u << 20);
}

TEST_CASE("DefaultPriority= more urgent than HighestPriority= is an error naming the later one") {
    CHECK(config_error("[PipeJournal]\nDefaultPriority=emerg\n") ==
          "test.conf:2: DefaultPriority=emerg is more urgent than HighestPriority=crit, the most a "
          "forwarded line gets: lower the one or raise the other");
    CHECK(config_error("[PipeJournal]\nDefaultPriority=crit\nHighestPriority=err\n") ==
          "test.conf:3: DefaultPriority=crit is more urgent than HighestPriority=err, the most a "
          "forwarded line gets: lower the one or raise the other");
    CHECK(parse_config_text("[PipeJournal]\nDefaultPriority=emerg\nHighestPriority=emerg\n", "t")
              .config.format.default_priority == 0);
}

TEST_CASE("Transport=stream: no records by default; Multiline= set is an error naming its line") {
    CHECK(parse_config_text("[PipeJournal]\nTransport=stream\nFormat=plain\n", "t")
              .config.multiline.empty());
    CHECK(parse_config_text("[PipeJournal]\nTransport=stream\nFormat=plain\nMultiline=\n", "t")
              .config.multiline.empty());
    CHECK(config_error("[PipeJournal]\nTransport=stream\nFormat=plain\nMultiline=java\n") ==
          "test.conf:4: Multiline=java: not possible with Transport=stream (test.conf:2), which "
          "carries plain lines only");
    CHECK(config_error("[PipeJournal]\nMultiline=go\nFormat=plain\nTransport=stream\n") ==
          "test.conf:4: Transport=stream: needs Multiline= empty (it carries plain lines only), "
          "but Multiline=go is set at test.conf:2");
}

TEST_CASE("reload: the running transport stays, and the rest goes with it") {
    TempDir dir;
    CommandLine cl;
    cl.config_path = dir.write("pipejournal.conf", "[PipeJournal]\nFormat=plain\n");
    ParsedConfig reloaded = ConfigLoader(cl).load(Transport::stream);
    CHECK(reloaded.config.transport == Transport::stream);
    CHECK(reloaded.transport_on_restart == Transport::native);  // what the file says
    CHECK(reloaded.config.multiline.empty());                   // the stream's defaults
    CHECK(reloaded.config.line_max == 48u * 1024);
    dir.write("pipejournal.conf", "[PipeJournal]\nFormat=json\n");
    CHECK(load_error_running(ConfigLoader(cl), Transport::stream) ==
          "Format=json needs Transport=native, which takes effect on restart; running with "
          "Transport=stream");
    CHECK(ConfigLoader(cl).load(Transport::native).config.format.format == LineFormat::json);
}

TEST_CASE("Transport=stream: LineMax= defaults to 48K (journald's stream lines), unless set") {
    CHECK(
        parse_config_text("[PipeJournal]\nTransport=stream\nFormat=plain\n", "t").config.line_max ==
        48u * 1024);
    CHECK(parse_config_text("[PipeJournal]\nLineMax=1M\nTransport=stream\nFormat=plain\n", "t")
              .config.line_max == 1024u * 1024);
    CHECK(parse_config_text("[PipeJournal]\nTransport=native\n", "t").config.line_max ==
          1024u * 1024);
}

TEST_CASE("the example config shows every key with its default") {
    std::ifstream example(PIPEJOURNAL_SOURCE_ROOT "/units/pipejournal.conf");
    REQUIRE(example);
    std::string uncommented, line, shown_assignments;
    std::set<std::string> shown_keys;
    while (std::getline(example, line)) {
        auto equals = line.find('=');
        bool commented_assignment = line.starts_with('#') && equals != std::string::npos &&
                                    line.find(' ') > equals && line.size() > 1 &&
                                    std::isupper(static_cast<unsigned char>(line[1]));
        if (commented_assignment) {
            shown_keys.insert(line.substr(1, equals - 1));
            line.erase(0, 1);
            shown_assignments += line + "\n";
        }
        uncommented += line + "\n";
    }
    for (const Setting& setting : settings())
        CHECK_MESSAGE(shown_keys.count(std::string(setting.key)) == 1,
                      "units/pipejournal.conf lacks #" << setting.key << "=");
    auto parsed = parse_config_text(uncommented, "pipejournal.conf");
    CHECK(parsed.config == Config{});
    CHECK(parsed.warnings.empty());
    // The same lines, in the same order, as --check-config prints for Config{}: a default changed
    // in the code and not in the shipped file (or the other way round) fails here.
    CHECK(shown_assignments == effective_text(Config{}));
}

TEST_CASE("--help shows each flag's default as Config{} has it, and the names it takes") {
    std::string usage = usage_text("pipejournal");
    const Config defaults;
    for (const Setting& setting : settings()) {
        if (!setting.flag)
            continue;
        CAPTURE(setting.key);
        std::string line = usage.substr(usage.find("--"s + setting.flag + "="));
        line = line.substr(0, line.find('\n'));
        CHECK_MESSAGE(line.ends_with("(default " + setting.show(defaults) + ")"), line);
        if (!setting.choices().empty())
            CHECK_MESSAGE(line.find(setting.choices()) != std::string::npos, line);
    }
}

TEST_CASE("--check-config's text reads back as the same configuration") {
    Config odd;
    odd.fifo_path = "/run/a b/in";
    odd.fifo_mode = 0;
    odd.tick_usec = 1'500;
    odd.line_max = 12'345;
    odd.format.default_priority = 0;
    odd.format.highest_priority = 0;
    odd.format.message_keys = {};
    odd.format.priority_keys = {"a.b", "@l"};
    odd.transport = Transport::stream;
    odd.format.format = LineFormat::plain;
    odd.multiline = {};
    odd.multiline_timeout_usec = 60'000'000;
    odd.backlog_max = 0;
    odd.partial_line_timeout_usec = std::nullopt;
    for (const Config& config : {Config{}, odd}) {
        std::string text = effective_text(config);
        CAPTURE(text);
        auto parsed = parse_config_text("[PipeJournal]\n" + text, "effective");
        CHECK(parsed.config == config);
        CHECK(parsed.warnings.empty());
    }
    CHECK(effective_text(odd).find("TickSec=0.0015\nLineMax=12345\n") != std::string::npos);
    CHECK(effective_text(odd).find("FIFOMode=0000\n") != std::string::npos);
    CHECK(effective_text(odd).find("PartialLineTimeoutSec=infinity\n") != std::string::npos);
    CHECK(effective_text(odd).find("MessageKeys=\n") != std::string::npos);
}

// --- the command line ------------------------------------------------------------------------

TEST_CASE("no flags: nothing set") {
    CommandLine cl = parse({});
    CHECK_FALSE(cl.config_path);
    CHECK(cl.assignments.empty());
    CHECK_FALSE(cl.help);
    CHECK_FALSE(cl.version);
}

TEST_CASE("every flag is parsed into the key it sets") {
    CommandLine cl = parse({"--fifo=/run/x/in", "--config=/etc/x.conf", "--identifier=app",
                            "--format=json", "--tick=0.5", "--log-level=debug"});
    CHECK(cl.config_path == "/etc/x.conf");
    std::vector<std::string> seen;
    for (const Assignment& a : cl.assignments)
        seen.push_back(std::string(a.key()) + "=" + a.text + " from " + a.position());
    CHECK(seen == std::vector<std::string>{
                      "FIFO=/run/x/in from --fifo",
                      "SyslogIdentifier=app from --identifier",
                      "Format=json from --format",
                      "TickSec=0.5 from --tick",
                      "LogLevel=debug from --log-level",
                  });
    Config config = cl.applied_to({});
    CHECK(config.fifo_path == "/run/x/in");
    CHECK(config.identifier == "app");
    CHECK(config.format.format == LineFormat::json);
    CHECK(config.tick_usec == 500'000u);
    CHECK(config.log_level == LogLevel::debug);
    CHECK(parse({"--tick", "2"}).applied_to({}).tick_usec == 2'000'000u);
    CHECK(parse({"--tick=2", "--tick=3"}).applied_to({}).tick_usec == 3'000'000u);
    CHECK(parse({"--help"}).help);
    CHECK(parse({"-h"}).help);
    CHECK(parse({"--version"}).version);
    CHECK(parse({"--check-config", "--tick=1"}).check_config);
    CHECK_FALSE(parse({}).check_config);
}

TEST_CASE("every flag is in the usage text") {
    std::string usage = usage_text("pipejournal");
    for (const Setting& setting : settings())
        if (setting.flag)
            CHECK_MESSAGE(usage.find("--"s + setting.flag + "=") != std::string::npos, setting.key);
    for (std::string flag : {"--config=", "--check-config", "--help", "--version"})
        CHECK(usage.find(flag) != std::string::npos);
}

TEST_CASE("bad command lines name the flag and the problem") {
    CHECK(usage_error({"--nope"}) == "unknown option '--nope' (see --help)");
    CHECK(usage_error({"-x"}) == "unknown option '-x' (see --help)");
    CHECK(usage_error({"--tick"}) == "--tick: needs a value (see --help)");
    CHECK(usage_error({"--fifo"}) == "--fifo: needs a value (see --help)");
    CHECK(usage_error({"--config="}) == "--config: needs a file name");
    CHECK(usage_error({"stray"}) == "unexpected argument 'stray' (see --help)");
    CHECK(usage_error({"--help=yes"}) == "unknown option '--help=yes' (see --help)");
    // A flag without a key has no file counterpart: FIFOMode= and friends are file-only.
    CHECK(usage_error({"--fifo-mode=0600"}) == "unknown option '--fifo-mode=0600' (see --help)");
}

TEST_CASE("a value in a message is one readable line: control characters escaped, long cut") {
    CHECK(usage_error({"--identifier=a\nb"}) ==
          "--identifier: 'a\\x0ab' is not an identifier of 1..64 printable ASCII characters "
          "without blanks");
    std::string message = usage_error({"--identifier=" + std::string(300, 'x')});
    CHECK(message == "--identifier: '" + std::string(100, 'x') +
                         "... (300 bytes)' is not an identifier of 1..64 printable ASCII "
                         "characters without blanks");
}

TEST_CASE("path limits: NAME_MAX per component and PATH_MAX in all") {
    CHECK(fifo_path_problem("/" + std::string(NAME_MAX, 'n')).empty());
    CHECK_FALSE(fifo_path_problem("/" + std::string(NAME_MAX + 1, 'n')).empty());
    std::string longest = "/" + std::string(NAME_MAX, 'a');
    while (longest.size() + 1 + NAME_MAX < PATH_MAX)
        longest += "/" + std::string(NAME_MAX, 'a');
    longest += "/" + std::string(PATH_MAX - 1 - longest.size() - 1, 'a');
    REQUIRE(longest.size() == PATH_MAX - 1);
    CHECK(fifo_path_problem(longest) == "");
    CHECK(fifo_path_problem(longest + "a") == "it is 4096 bytes or longer (PATH_MAX)");
    CHECK(fifo_path_problem("/a\0b"sv) == "it contains a NUL byte");
    CHECK(fifo_path_problem("/run/...") == "");  // a name, not a reference to a directory
    CHECK(fifo_path_problem("/run/.in") == "");
}

TEST_CASE("durations: the syntax, then each key's range") {
    CHECK(parse_seconds("5") == 5'000'000u);
    CHECK(parse_seconds("0.25") == 250'000u);
    CHECK(parse_seconds("2s") == 2'000'000u);
    CHECK(parse_seconds("100ms") == 100'000u);
    CHECK(parse_seconds("1.5ms") == 1'500u);
    CHECK(parse_seconds("86400") == 86'400'000'000u);
    CHECK(parse_seconds("0") == 0u);  // a syntax, not a range: TickSec=0 is refused by its key
    for (auto bad : {"", "0.0000001", "1e3", "5 s", "abc", ".5", "5.", "-1", "inf", "nan",
                     "infinity", "99999999999999999999"})
        CHECK_MESSAGE(!parse_seconds(bad), bad);
    for (uint64_t usec : {1'000ul, 1'500ul, 250'000ul, 5'000'000ul, 86'400'000'000ul})
        CHECK(parse_seconds(seconds_text(usec)) == usec);
    CHECK(seconds_text(500'000) == "0.5");
    CHECK(seconds_text(5'000'000) == "5");

    auto timeout = [](std::string_view text) {
        return parse_config_text("[PipeJournal]\nPartialLineTimeoutSec=" + std::string(text) + "\n",
                                 "t")
            .config.partial_line_timeout_usec;
    };
    CHECK_FALSE(timeout("infinity").has_value());
    CHECK(timeout("1") == 1'000'000u);
    CHECK(config_error("[PipeJournal]\nPartialLineTimeoutSec=Infinity\n").find("not a duration") !=
          std::string::npos);
}

TEST_CASE("sizes: the syntax and how --check-config writes them") {
    CHECK(parse_size("49152") == 49152u);
    CHECK(parse_size("48K") == 49152u);
    CHECK(parse_size("1M") == 1048576u);
    for (auto bad : {"", "K", "1G", "1.5M", "-1K", "12Q", "99999999999999999999M"})
        CHECK_MESSAGE(!parse_size(bad), bad);
    CHECK(size_text(49152) == "48K");
    CHECK(size_text(1048576) == "1M");
    CHECK(size_text(1000) == "1000");
    CHECK(size_text(0) == "0");
}

// --- the file's syntax -----------------------------------------------------------------------

TEST_CASE("config file: comments, blanks around key and value, last assignment wins") {
    auto parsed = parse_config_text(
        "# comment\n"
        "; also a comment\n"
        "   # an indented comment\n"
        "[PipeJournal]\n"
        "SyslogIdentifier=app\n"
        "  SyslogIdentifier  =  app2  \n"
        "\tTickSec\t=\t2\n"
        "\n",
        "test.conf");
    CHECK(parsed.config.identifier == "app2");
    CHECK(parsed.config.tick_usec == 2'000'000u);
    CHECK(parsed.warnings.empty());
    CHECK(parsed.files == std::vector<std::string>{"test.conf"});
}

TEST_CASE("config file: an empty file, or only comments, gives the defaults") {
    CHECK(parse_config_text("", "test.conf").config == Config{});
    CHECK(parse_config_text("# nothing\n\n[PipeJournal]\n", "test.conf").config == Config{});
}

TEST_CASE("config file: a value may contain ';' and '#' (no inline comments, as in systemd)") {
    auto parsed = parse_config_text("[PipeJournal]\nFIFO=/run/a;b # c\n", "t");
    CHECK(parsed.config.fifo_path == "/run/a;b # c");
}

TEST_CASE("config file: unknown keys and sections are warned about with their line, and ignored") {
    auto parsed = parse_config_text(
        "TickSec=9\n"
        "[PipeJournal]\n"
        "Tick=3\n"
        "fifo=/run/x\n"
        "[Other]\n"
        "X=1\n"
        "TickSec=8\n"
        "[PipeJournal]\n"
        "LogLevel=debug\n",
        "test.conf");
    Config expected;
    expected.log_level = LogLevel::debug;
    CHECK(parsed.config == expected);
    CHECK(joined(parsed.warnings) ==
          "test.conf:1: TickSec= before any [PipeJournal] section, ignoring it\n"
          "test.conf:3: unknown key Tick=, ignoring it\n"
          "test.conf:4: unknown key fifo=, ignoring it (keys are case-sensitive: FIFO=?)\n"
          "test.conf:5: unknown section [Other], ignoring it\n");
}

TEST_CASE("config file: lines that are not config name their line") {
    CHECK(config_error("[PipeJournal\n") ==
          "test.conf:1: expected ']' at the end of the section header");
    CHECK(config_error("[]\n") == "test.conf:1: empty section name");
    CHECK(config_error("[PipeJournal]\njust words\n") ==
          "test.conf:2: expected [Section] or Key=Value");
    CHECK(config_error("[PipeJournal]\n\n = value\n") == "test.conf:3: expected a key before '='");
}

TEST_CASE("config file: a NUL byte anywhere is an error at its line") {
    CHECK(config_error("[PipeJournal]\nFIFO=/run/a\0b\n"sv) ==
          "test.conf:2: contains a NUL byte (a config file is text)");
    CHECK(config_error(
              "[PipeJournal]\nTickSec=2\n# a comment \0 FIFO=/tmp/evil\nLogLevel=debug\n"sv) ==
          "test.conf:3: contains a NUL byte (a config file is text)");
    CHECK(config_error(std::string(4096, '\0')) ==
          "test.conf:1: contains a NUL byte (a config file is text)");
    CHECK(config_error("[PipeJournal]\n\0"sv) ==
          "test.conf:2: contains a NUL byte (a config file is text)");
}

TEST_CASE("config file: a line over 8 KiB is an error at its line, a comment too, never split") {
    // What once made the daemon create /tmp/evil: the tail of a cut comment read as a key.
    std::string attack = "[PipeJournal]\n# " + std::string(65 * 1024, 'x') + "FIFO=/tmp/evil\n";
    CHECK(config_error(attack) ==
          "test.conf:2: line is longer than 8192 bytes (" + std::to_string(65 * 1024 + 16) + ")");
    CHECK(config_error("[PipeJournal]\nFIFO=/" + std::string(ini::line_max, 'a') + "\n") ==
          "test.conf:2: line is longer than 8192 bytes (8198)");
    // At the limit, fine; the limit counts the line without its CR LF.
    std::string comment = "#" + std::string(ini::line_max - 1, 'x');
    CHECK(parse_config_text(comment + "\n" + comment + "\r\n" + comment, "t").config == Config{});
}

TEST_CASE("config file: line numbers stay right after long lines and trailing backslashes") {
    std::string long_comment = "# " + std::string(8000, 'x') + "\n";
    CHECK(config_error(long_comment + "[PipeJournal]\n" + long_comment + "TickSec=soon\n") ==
          "test.conf:4: TickSec=soon: " + duration_expected);
    // No continuation lines: a trailing '\' belongs to the value and the next line is its own.
    auto parsed =
        parse_config_text("[PipeJournal]\nSyslogIdentifier=app\\\nTickSec=2\n", "test.conf");
    CHECK(parsed.config.identifier == "app\\");
    CHECK(parsed.config.tick_usec == 2'000'000u);
    CHECK(config_error("[PipeJournal]\nSyslogIdentifier=app\\\nTickSec=soon\n") ==
          "test.conf:3: TickSec=soon: " + duration_expected);
}

TEST_CASE("config file: CRLF line ends, a byte-order mark, no final newline") {
    auto parsed = parse_config_text(
        "\xEF\xBB\xBF[PipeJournal]\r\nSyslogIdentifier=app\r\n\r\nTickSec=2\r\nLogLevel=debug",
        "test.conf");
    CHECK(parsed.config.identifier == "app");
    CHECK(parsed.config.tick_usec == 2'000'000u);
    CHECK(parsed.config.log_level == LogLevel::debug);
    CHECK(parsed.warnings.empty());
    CHECK(config_error("[PipeJournal]\r\n\r\nTickSec=soon\r\n") ==
          "test.conf:3: TickSec=soon: " + duration_expected);
}

TEST_CASE("the ini reader: entries, line numbers and views, without meaning") {
    auto entries = ini::parse("# c\n[A]\n\nk = v \n[ B ]\nx=\n", "t");
    REQUIRE(entries.size() == 4);
    CHECK((entries[0].kind == ini::Entry::Kind::section && entries[0].line == 2 &&
           entries[0].name == "A"));
    CHECK((entries[1].kind == ini::Entry::Kind::assignment && entries[1].line == 4 &&
           entries[1].name == "k" && entries[1].value == "v"));
    CHECK((entries[2].line == 5 && entries[2].name == "B"));
    CHECK((entries[3].line == 6 && entries[3].name == "x" && entries[3].value.empty()));
}

// --- Transport= and Format= ------------------------------------------------------------------

TEST_CASE("Transport=stream with a format other than plain names the assignment that made it so") {
    CHECK(config_error("[PipeJournal]\nFormat=json\nTransport=stream\n") ==
          "test.conf:3: Transport=stream: needs Format=plain (it carries plain lines only), but "
          "Format=json is set at test.conf:2");
    CHECK(config_error("[PipeJournal]\nTransport=stream\nFormat=logfmt\n") ==
          "test.conf:3: Format=logfmt: not possible with Transport=stream (test.conf:2), which "
          "carries plain lines only");
    CHECK(config_error("[PipeJournal]\nTransport=stream\n") ==
          "test.conf:2: Transport=stream: needs Format=plain (it carries plain lines only), but "
          "Format= is auto by default");
    CHECK(config_error("[PipeJournal]\nTransport=stream\nFormat=plain\nFormat=auto\n") ==
          "test.conf:4: Format=auto: not possible with Transport=stream (test.conf:2), which "
          "carries plain lines only");
    CHECK(parse_config_text("[PipeJournal]\nFormat=json\nTransport=stream\nTransport=native\n", "t")
              .config.transport == Transport::native);
    CHECK(parse_config_text("[PipeJournal]\nTransport=stream\nFormat=plain\n", "t")
              .config.transport == Transport::stream);
}

// --- the loader: files, flags, instances -----------------------------------------------------

TEST_CASE("loader: flags override the file; a missing default file is fine, a named one not") {
    TempDir dir;
    CommandLine cl = parse({"--config=" + dir.write("pipejournal.conf",
                                                    "[PipeJournal]\nTickSec=7\nSyslogIdentifier="
                                                    "fromfile\nFIFO=/run/file/in\n"),
                            "--fifo=/run/flag/in"});
    ParsedConfig parsed = ConfigLoader(cl).load();
    CHECK(parsed.config.tick_usec == 7'000'000u);
    CHECK(parsed.config.identifier == "fromfile");
    CHECK(parsed.config.fifo_path == "/run/flag/in");
    CHECK(parsed.files == std::vector<std::string>{(dir.path / "pipejournal.conf").string()});

    CommandLine missing;
    missing.config_path = "/nonexistent/pipejournal.conf";
    CHECK(load_error(ConfigLoader(missing)) ==
          "Config file /nonexistent/pipejournal.conf does not exist");
}

TEST_CASE("loader: --config=/dev/null means no settings; a directory or FIFO is refused at once") {
    CommandLine cl;
    cl.config_path = "/dev/null";
    CHECK(ConfigLoader(cl).load().config == Config{});

    TempDir dir;
    cl.config_path = dir.path.string();
    CHECK(load_error(ConfigLoader(cl)) ==
          "Config file " + dir.path.string() + " is not a regular file");
    std::string fifo = (dir.path / "fifo").string();
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    cl.config_path = fifo;
    CHECK(load_error(ConfigLoader(cl)) == "Config file " + fifo + " is not a regular file");
}

TEST_CASE("loader: no file descriptor is left open when reading or parsing fails") {
    TempDir dir;
    std::size_t before = open_fd_count();
    CommandLine cl;
    for (std::string path : {"/dev/zero"s, dir.write("nul.conf", "[PipeJournal]\n\0\n"sv),
                             dir.path.string(), dir.write("ok.conf", "[PipeJournal]\n")}) {
        CAPTURE(path);
        cl.config_path = path;
        (void)load_error(ConfigLoader(cl));
        CHECK(open_fd_count() == before);
    }
    cl.config_path = "/dev/zero";
    CHECK(load_error(ConfigLoader(cl)) == "Config file /dev/zero is larger than 1024 KiB");
}

TEST_CASE("loader: the 65 KiB comment attack fails the load; /tmp/evil is never the FIFO") {
    TempDir dir;
    CommandLine cl;
    cl.config_path = dir.write(
        "pipejournal.conf", "[PipeJournal]\n# " + std::string(65 * 1024, 'x') + "FIFO=/tmp/evil\n");
    CHECK(load_error(ConfigLoader(cl)) ==
          *cl.config_path + ":2: line is longer than 8192 bytes (66576)");
}

TEST_CASE("instance names: what systemd allows, and unescaping") {
    CHECK(instance_name_problem("web") == "");
    CHECK(instance_name_problem("my\\x2dapp") == "");
    CHECK(instance_name_problem("a-b:c_d.e@f") == "");
    CHECK(instance_name_problem(std::string(250, 'n')) == "");
    CHECK(instance_name_problem("") == "empty");
    CHECK(instance_name_problem(std::string(251, 'n')) ==
          "longer than 250 bytes (NAME.conf must fit in 255)");
    CHECK(instance_name_problem("a/b") == "it contains '/' (systemd-escape turns '/' into '-')");
    CHECK(instance_name_problem("a\0b"sv) == "it contains a NUL byte");
    CHECK(instance_name_problem(".") == "'.' and '..' name directories");
    CHECK(instance_name_problem("..") == "'.' and '..' name directories");
    for (std::string bad : {"a b", "a\nb", "caf\xc3\xa9", "a*", "~"})
        CHECK_MESSAGE(instance_name_problem(bad) ==
                          "it has characters a systemd instance name cannot have (escape it with "
                          "systemd-escape)",
                      bad);

    CHECK(unescape_instance("my\\x2dapp") == "my-app");
    CHECK(unescape_instance("var-log-app") == "var/log/app");
    CHECK(unescape_instance("\\x41\\x62") == "Ab");
    CHECK(unescape_instance("x\\x20y") == "x y");
    CHECK(unescape_instance("") == "");
    CHECK(unescape_instance("a\\x00b") == "a\0b"s);
    for (std::string bad : {"\\x4", "\\q41", "trail\\", "\\xZZ", "\\x"})
        CHECK_MESSAGE(!unescape_instance(bad), bad);
}

TEST_CASE("instance: defaults, main file without its per-FIFO keys, NAME.conf, then flags") {
    TempDir dir;
    std::string main = dir.write("pipejournal.conf",
                                 "[PipeJournal]\n"
                                 "FIFO=/run/main/in\n"
                                 "FIFOMode=0600\n"
                                 "SyslogIdentifier=main\n"
                                 "TickSec=7\n"
                                 "LineMax=8K\n"
                                 "DefaultPriority=err\n");
    std::string own = dir.write("web.conf",
                                "[PipeJournal]\n"
                                "TickSec=3\n"
                                "Format=json\n");
    CommandLine cl = parse({"--config=" + main, "--format=logfmt"});
    ConfigLoader loader(cl, "web");
    CHECK(loader.paths() == std::vector<std::string>{main, own});

    ParsedConfig parsed = loader.load();
    Config expected;
    expected.fifo_path = "/run/pipejournal/web";
    expected.identifier = "web";
    expected.tick_usec = 3'000'000;  // NAME.conf over the main file
    expected.line_max = 8192;        // the main file over the defaults
    expected.format.default_priority = 3;
    expected.format.format = LineFormat::logfmt;  // the flag over NAME.conf
    CHECK(parsed.config == expected);
    CHECK(parsed.files == std::vector<std::string>{main, own});
    std::string why =
        "does not apply to instance web (each has its own; set it in " + own + "), ignoring it\n";
    CHECK(joined(parsed.warnings) == main + ":2: FIFO= " + why + main + ":3: FIFOMode= " + why +
                                         main + ":4: SyslogIdentifier= " + why);

    // NAME.conf may set them; a reload (another load()) re-reads both files.
    dir.write("web.conf",
              "[PipeJournal]\nFIFO=/run/web/in\nFIFOMode=0640\nSyslogIdentifier=webapp\n");
    dir.write("pipejournal.conf", "[PipeJournal]\nTickSec=9\n");
    parsed = loader.load();
    CHECK(parsed.config.fifo_path == "/run/web/in");
    CHECK(parsed.config.fifo_mode == 0640u);
    CHECK(parsed.config.identifier == "webapp");
    CHECK(parsed.config.tick_usec == 9'000'000u);
    CHECK(parsed.config.format.format == LineFormat::logfmt);
    CHECK(parsed.warnings.empty());
}

TEST_CASE("instance: without NAME.conf, or without any file, the instance defaults apply") {
    TempDir dir;
    std::string main = dir.write("pipejournal.conf", "[PipeJournal]\nLogLevel=debug\n");
    CommandLine cl = parse({"--config=" + main});
    ParsedConfig parsed = ConfigLoader(cl, "db").load();
    CHECK(parsed.config.fifo_path == "/run/pipejournal/db");
    CHECK(parsed.config.identifier == "db");
    CHECK(parsed.config.log_level == LogLevel::debug);
    CHECK(parsed.files == std::vector<std::string>{main});

    std::filesystem::remove(main);  // the default main file may be missing; a named one not
    CHECK(load_error(ConfigLoader(cl, "db")) == "Config file " + main + " does not exist");
}

TEST_CASE("instance: the identifier is the unescaped name when it can be one, else the escaped") {
    TempDir dir;
    CommandLine cl = parse({"--config=" + dir.write("pipejournal.conf", "")});
    struct Case {
        std::string instance, identifier, fifo;
    };
    for (const Case& c : {
             Case{"my\\x2dapp", "my-app", "/run/pipejournal/my\\x2dapp"},
             Case{"var-log-app", "var/log/app", "/run/pipejournal/var-log-app"},
             Case{"x\\x20y", "x\\x20y", "/run/pipejournal/x\\x20y"},  // a blank: not an identifier
             Case{"bad\\q", "bad\\q", "/run/pipejournal/bad\\q"},     // not an escape: as it is
         }) {
        CAPTURE(c.instance);
        Config config = ConfigLoader(cl, c.instance).load().config;
        CHECK(config.identifier == c.identifier);
        CHECK(config.fifo_path == c.fifo);
    }
    ConfigLoader escaped(cl, "my\\x2dapp");
    CHECK(escaped.paths().at(1) == (dir.path / "my\\x2dapp.conf").string());
}

TEST_CASE("instance: a name too long for an identifier needs SyslogIdentifier= in NAME.conf") {
    TempDir dir;
    std::string name(70, 'n');
    CommandLine cl = parse({"--config=" + dir.write("pipejournal.conf", "")});
    CHECK(load_error(ConfigLoader(cl, name)) ==
          "Instance name '" + name +
              "' is too long for SYSLOG_IDENTIFIER= (64 bytes at most): set SyslogIdentifier= "
              "in " +
              (dir.path / (name + ".conf")).string());
    dir.write(name + ".conf", "[PipeJournal]\nSyslogIdentifier=short\n");
    CHECK(ConfigLoader(cl, name).load().config.identifier == "short");
    CHECK(ConfigLoader(
              parse({"--config=" + (dir.path / "pipejournal.conf").string(), "--identifier=flag"}),
              std::string(70, 'm'))
              .load()
              .config.identifier == "flag");
}

TEST_CASE("instance: a bad name is a configuration error") {
    TempDir dir;
    CommandLine cl = parse({"--config=" + dir.write("pipejournal.conf", "")});
    CHECK(load_error(ConfigLoader(cl, "..")) ==
          "Instance name '..' (PIPEJOURNAL_INSTANCE=): '.' and '..' name directories");
    CHECK(load_error(ConfigLoader(cl, "a b\n")) ==
          "Instance name 'a b\\x0a' (PIPEJOURNAL_INSTANCE=): it has characters a systemd "
          "instance name cannot have (escape it with systemd-escape)");
    CHECK(load_error(ConfigLoader(cl, "pipejournal")) ==
          "Instance name 'pipejournal': its own file would be the main file " +
              (dir.path / "pipejournal.conf").string());
}

TEST_CASE("instance: Transport=stream and Format= across the files and the flags") {
    TempDir dir;
    std::string main = dir.write("pipejournal.conf", "[PipeJournal]\nFormat=json\n");
    std::string own = dir.write("web.conf", "[PipeJournal]\n\nTransport=stream\n");
    CHECK(load_error(ConfigLoader(parse({"--config=" + main}), "web")) ==
          own +
              ":3: Transport=stream: needs Format=plain (it carries plain lines only), but "
              "Format=json is set at " +
              main + ":2");
    dir.write("pipejournal.conf", "[PipeJournal]\nFormat=plain\n");
    CHECK(ConfigLoader(parse({"--config=" + main}), "web").load().config.transport ==
          Transport::stream);
    CHECK(load_error(ConfigLoader(parse({"--config=" + main, "--format=json"}), "web")) ==
          own +
              ":3: Transport=stream: needs Format=plain (it carries plain lines only), but "
              "--format=json is given");
}

TEST_CASE("instance: a bad value in NAME.conf names that file and line") {
    TempDir dir;
    std::string main = dir.write("pipejournal.conf", "[PipeJournal]\nTickSec=2\n");
    std::string own =
        dir.write("web.conf", "[PipeJournal]\nFIFO=/run/" + std::string(NAME_MAX + 1, 'x') + "\n");
    CHECK(load_error(ConfigLoader(parse({"--config=" + main}), "web")) ==
          own + ":2: FIFO=" + shown("/run/" + std::string(NAME_MAX + 1, 'x')) + ": " +
              path_expected + "a component is longer than 255 bytes (NAME_MAX)");
    // A bad per-FIFO value in the shared file is an error too, though instances ignore the key.
    dir.write("web.conf", "");
    dir.write("pipejournal.conf", "[PipeJournal]\nFIFO=relative\n");
    CHECK(load_error(ConfigLoader(parse({"--config=" + main}), "web")) ==
          main + ":2: FIFO=relative: " + path_expected + "it does not start with '/'");
}
