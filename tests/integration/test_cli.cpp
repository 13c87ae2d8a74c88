// Command line and configuration file errors.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <climits>

#include "printers.hpp"
#include "support.hpp"

using namespace pjtest;
using namespace std::literals;

namespace {

std::vector<std::string> nonempty_lines(std::string_view text) {
    std::vector<std::string> lines;
    while (!text.empty()) {
        auto end = text.find('\n');
        auto line = text.substr(0, end);
        if (line.find_first_not_of(" \t\r") != std::string_view::npos)
            lines.emplace_back(line);
        if (end == std::string_view::npos)
            break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

// The daemon refused to start as it must: this exit code, exactly one line on stderr that
// mentions each of `named`, no READY=1, and nothing in the sandbox but its config files.
void check_refused(Daemon& daemon, const Sandbox& box, int code,
                   const std::vector<std::string>& named,
                   const std::vector<std::string>& entries = {"pipejournal.conf"}) {
    auto status = daemon.wait_exit(5s);
    REQUIRE_MESSAGE(status.has_value(), "expected an exit within 5 s\n" << daemon.describe());
    CHECK_MESSAGE((status->exited && status->code == code),
                  "expected exit code " << code << ", seen " << status->describe() << "\n"
                                        << daemon.describe());
    auto lines = nonempty_lines(daemon.err());
    CHECK_MESSAGE(lines.size() == 1, "expected exactly one line on stderr, seen "
                                         << lines.size() << ":\n"
                                         << escaped(daemon.err()));
    for (const auto& text : named)
        CHECK_MESSAGE(daemon.err().find(text) != std::string::npos,
                      "expected stderr to mention \"" << escaped(text, 200)
                                                      << "\", seen: " << escaped(daemon.err()));
    CHECK_MESSAGE(box.entries() == entries,
                  "expected nothing created; seen entries: " << doctest::toString(box.entries()));
    bool ready = false;
    for (const auto& d : daemon.notifications())
        ready |= d.has("READY=1");
    CHECK_MESSAGE(!ready, daemon.notify_log());
}

}  // namespace

TEST_SUITE("cli") {
    TEST_CASE("bad flags: exit 2, one line on stderr naming the problem, nothing created") {
        struct Case {
            std::string flag;
            std::string named;  // what the stderr line must mention
        };
        const Case cases[] = {
            {"--no-such-flag", "no-such-flag"},
            {"--tick=abc", "abc"},
            {"--tick=0", "tick"},
            {"--tick=-1", "tick"},
            {"--log-level=loud", "loud"},
            {"--fifo=relative", "relative"},
            {"--tick=nan", "nan"},
            {"--tick=inf", "inf"},
            {"--fifo=", "fifo"},
            {"--fifo", "fifo"},
            {"unexpected-argument", "unexpected-argument"},
            {"--format=yaml", "--format: 'yaml' is not one of auto|plain|json|logfmt"},
            {"--format=", "--format: ''"},
            {"--identifier=two words", "--identifier: 'two words' is not an identifier"},
            {"--identifier=", "--identifier: ''"},
            {"--identifier=" + std::string(65, 'i'), "--identifier:"},
            {"--fifo=/tmp/../in", "'..' component"},
            {"--fifo=/tmp//in", "'//'"},
            {"--fifo=/tmp/" + std::string(256, 'n'), "longer than 255 bytes (NAME_MAX)"},
        };
        for (const auto& c : cases) {
            CAPTURE(c.flag);
            Sandbox box;
            Daemon daemon({.args = box.args({c.flag}), .cwd = box.dir.path()});
            check_refused(daemon, box, 2, {c.named});
        }
    }

    TEST_CASE("--help: usage on stdout, exit 0") {
        Sandbox box;
        Daemon daemon({.args = {"--help"}, .cwd = box.dir.path()});
        auto status = daemon.wait_exit(5s);
        REQUIRE_MESSAGE(status.has_value(), daemon.describe());
        CHECK_MESSAGE((status->exited && status->code == 0), status->describe());
        CHECK_MESSAGE(
            daemon.out().find("--fifo") != std::string::npos,
            "expected the usage (mentioning --fifo) on stdout, seen: " << escaped(daemon.out()));
        CHECK_MESSAGE(daemon.err().empty(),
                      "expected nothing on stderr, seen: " << escaped(daemon.err()));
        CHECK(box.entries() == std::vector<std::string>{"pipejournal.conf"});
    }

    TEST_CASE("--version prints a version, exit 0") {
        Daemon daemon({.args = {"--version"}});
        auto status = daemon.wait_exit(5s);
        REQUIRE_MESSAGE(status.has_value(), daemon.describe());
        CHECK_MESSAGE((status->exited && status->code == 0), status->describe());
        auto has_version_number = [](const std::string& text) {  // "N.N" somewhere
            for (std::size_t dot = text.find('.'); dot != std::string::npos;
                 dot = text.find('.', dot + 1))
                if (dot > 0 && std::isdigit(static_cast<unsigned char>(text[dot - 1])) &&
                    dot + 1 < text.size() &&
                    std::isdigit(static_cast<unsigned char>(text[dot + 1])))
                    return true;
            return false;
        };
        CHECK_MESSAGE(has_version_number(daemon.out()),
                      "expected a version number on stdout, seen: " << escaped(daemon.out()));
    }

    TEST_CASE(
        "a bad value in the config file: exit 6 naming file and key, ERRNO= sent, nothing "
        "created") {
        Sandbox box("[PipeJournal]\nLineMax=12Q\n");
        Daemon daemon({.args = box.args()});
        auto status = daemon.wait_exit(5s);
        REQUIRE_MESSAGE(status.has_value(), daemon.describe());
        CHECK_MESSAGE((status->exited && status->code == 6), "expected exit code 6, seen "
                                                                 << status->describe() << "\n"
                                                                 << daemon.describe());
        CHECK_MESSAGE(
            daemon.err().find(box.config.string()) != std::string::npos,
            "expected stderr to name " << box.config << ", seen: " << escaped(daemon.err()));
        CHECK_MESSAGE(daemon.err().find("LineMax") != std::string::npos,
                      "expected stderr to name the key LineMax, seen: " << escaped(daemon.err()));
        CHECK_MESSAGE(
            daemon.wait_notify([](const Datagram& d) { return d.field("ERRNO").has_value(); }, 2s)
                .has_value(),
            "expected an ERRNO= datagram; seen:\n"
                << daemon.notify_log());
        CHECK(file_type(box.fifo) == "nothing");
    }

    TEST_CASE(
        "a NUL byte in the config file: exit 6, one line naming file and line, nothing "
        "created") {
        struct Case {
            std::string_view text;
            std::string line;  // the line the error must name
        };
        const std::string nuls(4096, '\0');
        for (const Case& c : {Case{"[PipeJournal]\nTickSec=2\nSyslogIdentifier=a\0b\n"sv, ":3: "},
                              Case{"[PipeJournal]\nTickSec=2\n# a comment\0\n"sv, ":3: "},
                              Case{"[PipeJournal]\n\0\0\0\0"sv, ":2: "}, Case{nuls, ":1: "}}) {
            CAPTURE(escaped(c.text, 100));
            Sandbox box(c.text);
            Daemon daemon({.args = box.args()});
            check_refused(daemon, box, 6, {box.config.string() + c.line, "NUL byte"});
        }
    }

    TEST_CASE("a 65 KiB comment line ending in FIFO=PATH: exit 6 at that line, PATH never made") {
        Sandbox box;
        std::filesystem::path evil = box.dir / "evil";
        write_file(box.config, "[PipeJournal]\n# " + std::string(65 * 1024, 'x') +
                                   "FIFO=" + evil.string() + "\n");
        // No --fifo: the file alone decides where the FIFO goes.
        Daemon daemon({.args = {"--config=" + box.config.string()}});
        check_refused(daemon, box, 6,
                      {box.config.string() + ":2: ", "line is longer than 8192 bytes"});
        CHECK(file_type(evil) == "nothing");
    }

    TEST_CASE("a FIFO path component longer than NAME_MAX: exit 2 as a flag, 6 in the file") {
        Sandbox box;
        std::filesystem::path too_long = box.dir / std::string(NAME_MAX + 1, 'n');
        {
            Daemon daemon(
                {.args = {"--config=" + box.config.string(), "--fifo=" + too_long.string()}});
            check_refused(daemon, box, 2, {"--fifo:", "longer than 255 bytes (NAME_MAX)"});
        }
        write_file(box.config, "[PipeJournal]\nFIFO=" + too_long.string() + "\n");
        Daemon daemon({.args = {"--config=" + box.config.string()}});
        check_refused(daemon, box, 6,
                      {box.config.string() + ":2: FIFO=", "longer than 255 bytes (NAME_MAX)"});
    }

    TEST_CASE("Transport=stream with Format=json: exit 6 naming the line, nothing created") {
        Sandbox box("[PipeJournal]\nFormat=json\nTransport=stream\n");
        Daemon daemon({.args = box.args()});
        check_refused(daemon, box, 6,
                      {box.config.string() + ":3: Transport=stream: needs Format=plain"});
    }

    TEST_CASE("a missing config file named with --config is an error; nothing created") {
        Sandbox box;
        std::filesystem::remove(box.config);
        Daemon daemon({.args = box.args()});
        auto status = daemon.wait_exit(5s);
        REQUIRE_MESSAGE(status.has_value(), daemon.describe());
        CHECK_MESSAGE((status->exited && status->code != 0),
                      "expected a failure, seen " << status->describe());
        CHECK_MESSAGE(
            daemon.err().find(box.config.string()) != std::string::npos,
            "expected stderr to name " << box.config << ", seen: " << escaped(daemon.err()));
        CHECK(file_type(box.fifo) == "nothing");
    }

    TEST_CASE("--log-level on the command line beats LogLevel= in the file, also after a reload") {
        Sandbox box("[PipeJournal]\nLogLevel=debug\n");
        auto [daemon, ready] =
            start_ready({.args = box.args({"--log-level=error", "--tick=0.05"})});
        daemon->kill(SIGHUP);
        REQUIRE_MESSAGE(daemon->wait_notify("READY=1", 5s).has_value(), daemon->describe());
        // Ticks are logged at debug level; at --tick=0.05 a few pass while we wait for
        // STATUS to count a line, the sign that the loop went round after the reload.
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), "x\n");
        }
        REQUIRE(daemon->wait_notify(
            [](const Datagram& d) {
                return d.field("STATUS").value_or("").find(": 1 lines") != std::string::npos;
            },
            3s));
        daemon->kill(SIGTERM);
        REQUIRE(daemon->wait_exit(5s));
        CHECK_MESSAGE(daemon->err().empty(), "expected nothing below error level on stderr, seen:\n"
                                                 << escaped(daemon->err()));
    }

    TEST_CASE("without --config, a missing default config file is fine" *
              doctest::skip(std::filesystem::exists("/etc/pipejournal/pipejournal.conf"))) {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = {"--fifo=" + box.fifo.string()}});
        CHECK(file_type(box.fifo) == "FIFO");
    }

    TEST_CASE("unknown keys and sections in the config file are warned about and ignored") {
        Sandbox box("[PipeJournal]\nNoSuchKey=1\n[NoSuchSection]\nFoo=bar\n");
        auto [daemon, ready] = start_ready({.args = box.args()});
        CHECK_MESSAGE(daemon->wait_err("NoSuchKey", 5s),
                      "expected a warning naming NoSuchKey on stderr\n"
                          << daemon->describe());
    }

    TEST_CASE("an instance: identifier from its escaped name, FIFO= from NAME.conf only" *
              doctest::skip(journal_socket_present())) {
        // The main file's FIFO= would put the FIFO elsewhere; for an instance it must not.
        Sandbox box;
        std::filesystem::path main_fifo = box.dir / "main-in";
        write_file(box.config,
                   "[PipeJournal]\nFIFO=" + main_fifo.string() + "\nSyslogIdentifier=main\n");
        write_file(box.dir / "my\\x2dapp.conf", "[PipeJournal]\nFIFO=" + box.fifo.string() + "\n");
        auto [daemon, ready] = start_ready({.args = {"--config=" + box.config.string()},
                                            .env = {{"PIPEJOURNAL_INSTANCE", "my\\x2dapp"}}});
        CHECK(file_type(box.fifo) == "FIFO");
        CHECK(file_type(main_fifo) == "nothing");
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), "hello\n");
        }
        CHECK_MESSAGE(daemon->wait_out_line("<6>my-app: hello", 5s),
                      "expected the line under the instance's identifier my-app\n"
                          << daemon->describe());
        CHECK_MESSAGE(daemon->err().find(box.config.string() +
                                         ":2: FIFO= does not apply to instance my\\x2dapp") !=
                          std::string::npos,
                      "expected a warning that FIFO= in the main file is ignored, seen:\n"
                          << escaped(daemon->err()));
        daemon->kill(SIGTERM);
        auto status = daemon->wait_exit(5s);
        REQUIRE_MESSAGE(status.has_value(), daemon->describe());
        CHECK_MESSAGE((status->exited && status->code == 0), status->describe());
        CHECK(file_type(box.fifo) == "nothing");
    }

    TEST_CASE(
        "--check-config: every key's effective value from the main file, the instance's file and "
        "the flags, in the shipped file's order; nothing created, opened or sent") {
        Sandbox box(
            "[PipeJournal]\n"
            "FIFO=/run/main/in\n"
            "TickSec=7\n"
            "LineMax=8K\n"
            "DefaultPriority=err\n"
            "MessageKeys=text\n");
        write_file(box.dir / "web.conf", "[PipeJournal]\nTickSec=0.5\nFormat=json\n");
        Daemon daemon({.args = {"--check-config", "--config=" + box.config.string(),
                                "--fifo=" + box.fifo.string(), "--format=logfmt"},
                       .env = {{"PIPEJOURNAL_INSTANCE", "web"}},
                       .cwd = box.dir.path()});
        auto status = daemon.wait_exit(5s);
        REQUIRE_MESSAGE(status.has_value(), daemon.describe());
        CHECK_MESSAGE((status->exited && status->code == 0), status->describe()
                                                                 << "\n"
                                                                 << daemon.describe());
        CHECK(daemon.out_lines() == std::vector<std::string>{
                                        "FIFO=" + box.fifo.string(),  // the flag
                                        "FIFOMode=0620",
                                        "SyslogIdentifier=web",  // the instance's default
                                        "DefaultPriority=err",   // the main file
                                        "HighestPriority=crit",
                                        "TickSec=0.5",  // web.conf over the main file
                                        "LineMax=8K",
                                        "LogLevel=info",
                                        "Format=logfmt",  // the flag over web.conf
                                        "MessageKeys=text",
                                        "PriorityKeys=level severity levelname level_name lvl "
                                        "loglevel @l @level log.level record.level.name",
                                        "MaxFields=900",
                                        "Transport=native",
                                        "PartialLineTimeoutSec=1",
                                        "Multiline=python java go",
                                        "MultilineTimeoutSec=0.5",
                                        "BacklogMax=16M",
                                    });
        // The main file's FIFO= is not the instance's: said as a start would say it.
        CHECK_MESSAGE(
            daemon.err().find(box.config.string() + ":2: FIFO= does not apply to instance web") !=
                std::string::npos,
            escaped(daemon.err()));
        CHECK(box.entries() == std::vector<std::string>{"pipejournal.conf", "web.conf"});
        CHECK_MESSAGE(daemon.notifications().empty(), daemon.notify_log());
    }

    TEST_CASE("--check-config: a transport's own defaults, and no FIFO even where none exists") {
        Sandbox box("[PipeJournal]\nTransport=stream\nFormat=plain\n");
        Daemon daemon(
            {.args = {"--check-config", "--config=" + box.config.string()}, .cwd = box.dir.path()});
        auto status = daemon.wait_exit(5s);
        REQUIRE_MESSAGE(status.has_value(), daemon.describe());
        CHECK_MESSAGE((status->exited && status->code == 0), daemon.describe());
        auto lines = daemon.out_lines();
        CHECK(std::find(lines.begin(), lines.end(), "LineMax=48K") != lines.end());
        CHECK(std::find(lines.begin(), lines.end(), "Transport=stream") != lines.end());
        CHECK_MESSAGE(daemon.err().empty(), escaped(daemon.err()));
        CHECK(box.entries() == std::vector<std::string>{"pipejournal.conf"});
    }

    TEST_CASE("--check-config: the error a start gives, exit 6 for the file and 2 for a flag") {
        {
            Sandbox box("[PipeJournal]\nTickSec=2\nLineMax=12Q\n");
            Daemon daemon({.args = {"--check-config", "--config=" + box.config.string(),
                                    "--fifo=" + box.fifo.string()},
                           .cwd = box.dir.path()});
            check_refused(daemon, box, 6,
                          {box.config.string() + ":3: LineMax=12Q: not a size of 1K..16M"});
            CHECK(daemon.out().empty());
            CHECK_MESSAGE(daemon.notifications().empty(), daemon.notify_log());
        }
        {
            Sandbox box;
            Daemon daemon(
                {.args = box.args({"--check-config", "--tick=soon"}), .cwd = box.dir.path()});
            check_refused(daemon, box, 2, {"--tick: 'soon' is not a duration"});
            CHECK(daemon.out().empty());
        }
        {
            Sandbox box("[PipeJournal]\nFormat=json\nTransport=stream\n");
            Daemon daemon({.args = box.args({"--check-config"}), .cwd = box.dir.path()});
            check_refused(daemon, box, 6,
                          {box.config.string() + ":3: Transport=stream: needs Format=plain"});
        }
    }

    TEST_CASE("a bad instance name: exit 6 naming it, nothing created") {
        Sandbox box;
        Daemon daemon({.args = {"--config=" + box.config.string()},
                       .env = {{"PIPEJOURNAL_INSTANCE", "two words"}},
                       .cwd = box.dir.path()});
        check_refused(daemon, box, 6, {"Instance name 'two words'", "systemd-escape"});
    }

    TEST_CASE(
        "without pipejournal-json.so, Format=auto and json refuse to start (exit 5, naming it); "
        "plain and logfmt run") {
        // A copy of the binary, away from the module that sits beside it in the build tree.
        TempDir elsewhere;
        const std::string binary = elsewhere / "pipejournal";
        std::filesystem::copy_file(daemon_binary(), binary);
        for (const char* format : {"auto", "json"}) {
            CAPTURE(format);
            Sandbox box;
            Daemon daemon(
                {.args = box.args({std::string("--format=") + format}), .binary = binary});
            check_refused(daemon, box, 5,
                          {std::string("Format=") + format, "pipejournal-json.so",
                           elsewhere.path().string()});
        }
        for (const char* format : {"plain", "logfmt"}) {
            CAPTURE(format);
            Sandbox box;
            Daemon daemon(
                {.args = box.args({std::string("--format=") + format}), .binary = binary});
            CHECK_MESSAGE(daemon.wait_notify("READY=1", 5s).has_value(), daemon.describe());
        }
        Sandbox box;
        Daemon check({.args = box.args({"--check-config"}), .binary = binary});
        auto status = check.wait_exit(5s);
        REQUIRE(status.has_value());
        CHECK_MESSAGE((status->exited && status->code == 0), check.describe());
        CHECK_MESSAGE(
            check.err().find("warning: Format=auto needs the JSON reader") != std::string::npos,
            check.describe());
    }

    TEST_CASE(
        "a pipejournal-json.so that cannot be loaded: JSON lines go on as plain text, none "
        "lost") {
        // Beside a copy of the binary (its build-tree RUNPATH is $ORIGIN): found at start-up,
        // refused by dlopen() at the first JSON line.
        TempDir elsewhere;
        const std::string binary = elsewhere / "pipejournal";
        std::filesystem::copy_file(daemon_binary(), binary);
        write_file(elsewhere / "pipejournal-json.so", "not an ELF file\n");
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args(), .binary = binary});
        Fd writer = open_for_writing(box.fifo);
        write_all(writer.get(), "{\"msg\":\"first\"}\n{\"msg\":\"second\"}\nplain\n");
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: plain", 5s), daemon->describe());
        std::vector<std::string> expected{R"(<6>pipejournal: {"msg":"first"})",
                                          R"(<6>pipejournal: {"msg":"second"})",
                                          "<6>pipejournal: plain"};
        CHECK(daemon->out_lines() == expected);
        CHECK_MESSAGE(daemon->running(), daemon->describe());
    }
}  // TEST_SUITE
