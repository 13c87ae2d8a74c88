#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "config.hpp"
#include "errors.hpp"

using namespace pj;

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

struct TempFile {
    std::filesystem::path path;
    explicit TempFile(std::string_view text) {
        char name[] = "/tmp/pipejournal-test-XXXXXX";
        int fd = mkstemp(name);
        REQUIRE(fd >= 0);
        close(fd);
        path = name;
        std::ofstream(path) << text;
    }
    ~TempFile() { std::filesystem::remove(path); }
};

}  // namespace

TEST_CASE("no flags: nothing overridden") {
    CommandLine cl = parse({});
    CHECK_FALSE(cl.fifo_path);
    CHECK_FALSE(cl.config_path);
    CHECK_FALSE(cl.tick_usec);
    CHECK_FALSE(cl.log_level);
}

TEST_CASE("every flag is parsed") {
    CommandLine cl =
        parse({"--fifo=/run/x/in", "--config=/etc/x.conf", "--tick=0.5", "--log-level=debug"});
    CHECK(cl.fifo_path == "/run/x/in");
    CHECK(cl.config_path == "/etc/x.conf");
    CHECK(cl.tick_usec == 500'000u);
    CHECK(cl.log_level == LogLevel::debug);
    CHECK(parse({"--tick", "2"}).tick_usec == 2'000'000u);
    CHECK(parse({"--help"}).help);
    CHECK(parse({"--version"}).version);
}

TEST_CASE("bad flags name the flag and the problem") {
    CHECK(usage_error({"--nope"}) == "unknown option '--nope' (see --help)");
    CHECK(usage_error({"--tick=abc"}).find("--tick: 'abc' is not a duration") == 0);
    CHECK(usage_error({"--tick=0"}).find("--tick: '0'") == 0);
    CHECK(usage_error({"--tick=-1"}).find("--tick: '-1'") == 0);
    CHECK(usage_error({"--log-level=loud"}).find("--log-level: 'loud' is not one of") == 0);
    CHECK(usage_error({"--fifo=relative/in"}).find("--fifo: 'relative/in'") == 0);
    CHECK(usage_error({"--fifo=/run/dir/"}).find("--fifo:") == 0);
    CHECK(usage_error({"--tick"}) == "--tick: needs a value (see --help)");
    CHECK(usage_error({"stray"}) == "unexpected argument 'stray' (see --help)");
}

TEST_CASE("durations") {
    CHECK(parse_seconds("5") == 5'000'000u);
    CHECK(parse_seconds("0.25") == 250'000u);
    CHECK(parse_seconds("2s") == 2'000'000u);
    CHECK(parse_seconds("100ms") == 100'000u);
    CHECK(parse_seconds("1.5ms") == 1'500u);
    for (auto bad : {"", "0", "0.0001", "1e3", "5 s", "abc", ".5", "5.", "-1", "86401"})
        CHECK_MESSAGE(!parse_seconds(bad), bad);
}

TEST_CASE("sizes, modes, priorities, levels, identifiers") {
    CHECK(parse_size("48K") == 49152u);
    CHECK(parse_size("1M") == 1048576u);
    CHECK(parse_size("4096") == 4096u);
    CHECK_FALSE(parse_size("1023"));
    CHECK_FALSE(parse_size("17M"));
    CHECK_FALSE(parse_size("4k"));
    CHECK(parse_mode("0620") == 0620u);
    CHECK(parse_mode("644") == 0644u);
    CHECK_FALSE(parse_mode("0800"));
    CHECK_FALSE(parse_mode("4755"));
    CHECK_FALSE(parse_mode("rw"));
    CHECK(parse_priority("3") == 3);
    CHECK(parse_priority("warning") == 4);
    CHECK(parse_priority("emerg") == 0);
    CHECK_FALSE(parse_priority("8"));
    CHECK_FALSE(parse_priority("warn"));
    CHECK(parse_log_level("warning") == LogLevel::warning);
    CHECK(parse_log_level("off") == LogLevel::off);
    CHECK_FALSE(parse_log_level("INFO"));
    CHECK(is_valid_identifier("cron-backup"));
    CHECK_FALSE(is_valid_identifier(""));
    CHECK_FALSE(is_valid_identifier("two words"));
    CHECK_FALSE(is_valid_identifier(std::string(65, 'x')));
}

TEST_CASE("config file: every key, comments, last assignment wins") {
    auto parsed = parse_config_text(
        "# comment\n"
        "; also a comment\n"
        "[PipeJournal]\n"
        "FIFO=/run/app/in\n"
        "FIFOMode=0600\n"
        "SyslogIdentifier=app\n"
        "SyslogIdentifier=app2\n"
        "DefaultPriority=notice\n"
        "TickSec=2\n"
        "LineMax=8K\n"
        "LogLevel=debug\n",
        "test.conf");
    Config expected{"/run/app/in", 0600, "app2", 5, 2'000'000, 8192, LogLevel::debug};
    CHECK(parsed.config == expected);
    CHECK(parsed.warnings.empty());
}

TEST_CASE("config file: an empty file gives the defaults") {
    CHECK(parse_config_text("", "test.conf").config == Config{});
}

TEST_CASE("config file: a value may contain ';' (no inline comments, as in systemd)") {
    CHECK(parse_config_text("[PipeJournal]\nFIFO=/run/a;b\n", "t").config.fifo_path == "/run/a;b");
}

TEST_CASE("config file: unknown keys and sections are warned about and ignored") {
    auto parsed = parse_config_text("[PipeJournal]\nTick=3\n[Other]\nX=1\n", "test.conf");
    CHECK(parsed.config == Config{});
    REQUIRE(parsed.warnings.size() == 2);
    CHECK(parsed.warnings[0] == "unknown key Tick= in [PipeJournal], ignoring");
    CHECK(parsed.warnings[1] == "unknown section [Other], ignoring X=");
}

TEST_CASE("config file: bad values name file, line, key and reason") {
    CHECK(config_error("[PipeJournal]\n\nTickSec=soon\n") ==
          "test.conf:3: TickSec=soon: not a duration of 1ms..1d in seconds (e.g. 5, 0.5, 250ms)");
    CHECK(config_error("[PipeJournal]\nFIFOMode=999\n").find("test.conf:2: FIFOMode=999") == 0);
    CHECK(config_error("[PipeJournal]\nDefaultPriority=loud\n").find("test.conf:2:") == 0);
    CHECK(config_error("[PipeJournal]\nFIFO=relative\n").find("test.conf:2: FIFO=relative") == 0);
    CHECK(config_error("[PipeJournal]\nLineMax=1\n").find("test.conf:2: LineMax=1") == 0);
    CHECK(config_error("[PipeJournal]\nSyslogIdentifier=a b\n").find("test.conf:2:") == 0);
    CHECK(config_error("[PipeJournal]\nLogLevel=loud\n").find("test.conf:2:") == 0);
    CHECK(config_error("[PipeJournal\n") == "test.conf:1: expected [Section] or Key=Value");
    CHECK(config_error("[PipeJournal]\njust words\n") ==
          "test.conf:2: expected [Section] or Key=Value");
}

TEST_CASE(
    "loader: flags override the file; missing default file is fine, missing named file is not") {
    TempFile file("[PipeJournal]\nTickSec=7\nSyslogIdentifier=fromfile\nFIFO=/run/file/in\n");
    CommandLine cl;
    cl.config_path = file.path.string();
    cl.fifo_path = "/run/flag/in";
    Config config = ConfigLoader(cl).load().config;
    CHECK(config.tick_usec == 7'000'000u);
    CHECK(config.identifier == "fromfile");
    CHECK(config.fifo_path == "/run/flag/in");

    CommandLine missing;
    missing.config_path = "/nonexistent/pipejournal.conf";
    CHECK_THROWS_WITH_AS(ConfigLoader(missing).load(),
                         "Config file /nonexistent/pipejournal.conf does not exist", ConfigError);
}
