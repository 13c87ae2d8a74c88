// Command line and configuration file errors.
#include <doctest/doctest.h>
#include <signal.h>

#include <cctype>

#include "printers.hpp"
#include "support.hpp"

using namespace pjtest;

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
        };
        for (const auto& c : cases) {
            CAPTURE(c.flag);
            Sandbox box;
            Daemon daemon({.args = box.args({c.flag}), .cwd = box.dir.path()});
            auto status = daemon.wait_exit(5s);
            REQUIRE_MESSAGE(status.has_value(), "expected an exit within 5 s\n"
                                                    << daemon.describe());
            CHECK_MESSAGE((status->exited && status->code == 2), "expected exit code 2, seen "
                                                                     << status->describe() << "\n"
                                                                     << daemon.describe());
            auto lines = nonempty_lines(daemon.err());
            CHECK_MESSAGE(lines.size() == 1, "expected exactly one line on stderr, seen "
                                                 << lines.size() << ":\n"
                                                 << escaped(daemon.err()));
            CHECK_MESSAGE(daemon.err().find(c.named) != std::string::npos,
                          "expected stderr to mention \"" << c.named
                                                          << "\", seen: " << escaped(daemon.err()));
            CHECK_MESSAGE(box.entries() == std::vector<std::string>{"pipejournal.conf"},
                          "expected nothing created next to the config file; seen entries: "
                              << doctest::toString(box.entries()));
            bool ready = false;
            for (const auto& d : daemon.notifications())
                ready |= d.has("READY=1");
            CHECK_MESSAGE(!ready, daemon.notify_log());
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

}  // TEST_SUITE
