// Multi-line records end to end on the stdout sink (no journald): a record is printed readably,
// its lines under its first, indented as journalctl indents them, then its rule; a line that may
// start a record and gets no continuation comes out unchanged once MultilineTimeoutSec= passed;
// stop forwards a pending record whole. The traceback is what Debian's Python 3.11 writes for
// tests/records/gen_python.py, run at test time.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

#include "printers.hpp"
#include "support.hpp"

extern char** environ;

using namespace pjtest;

namespace {

// What `/usr/bin/python3 gen_python.py SCENARIO` writes on stderr (the records suite's program,
// $PJ_GEN_PYTHON, set by meson).
std::string python_stderr(const std::string& scenario) {
    const char* script = std::getenv("PJ_GEN_PYTHON");
    REQUIRE_MESSAGE(script != nullptr, "PJ_GEN_PYTHON is not set (meson sets it)");
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0)
        throw std::system_error(errno, std::generic_category(), "pipe2");
    Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
    std::string python = "/usr/bin/python3";  // Debian's 3.11, not whatever is first on PATH
    std::vector<char*> argv{python.data(), const_cast<char*>(script),
                            const_cast<char*>(scenario.c_str()), nullptr};
    pid_t pid = -1;
    int r = posix_spawn(&pid, python.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (r != 0)
        throw std::system_error(r, std::generic_category(), "posix_spawn " + python);
    write_end.reset();
    std::string text;
    char chunk[4096];
    for (ssize_t n; (n = read(read_end.get(), chunk, sizeof chunk)) != 0;) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw std::system_error(errno, std::generic_category(), "read python's stderr");
        text.append(chunk, static_cast<std::size_t>(n));
    }
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    REQUIRE_MESSAGE(!text.empty(), "gen_python.py " << scenario << " wrote nothing on stderr");
    return text;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    for (std::size_t at = 0; at < text.size();) {
        std::size_t end = text.find('\n', at);
        if (end == std::string::npos)
            end = text.size();
        lines.push_back(text.substr(at, end - at));
        at = end + 1;
    }
    return lines;
}

// How the stdout sink prints a record of `lines` at `priority`: the first after
// "<N>pipejournal: ", the others indented to its column, the rule after the last.
std::vector<std::string> printed_record(int priority, const std::vector<std::string>& lines,
                                        const std::string& rule) {
    const std::string head = "<" + std::to_string(priority) + ">pipejournal: ";
    std::vector<std::string> out;
    for (const std::string& line : lines)
        out.push_back((out.empty() ? head : std::string(head.size(), ' ')) + line);
    out.back() += " PIPEJOURNAL_MULTILINE=" + rule;
    return out;
}

// The newest STATUS= the daemon sent, for failure messages.
std::string last_status(const Daemon& daemon) {
    auto all = daemon.notifications();
    for (auto it = all.rbegin(); it != all.rend(); ++it)
        if (auto status = it->field("STATUS"))
            return *status;
    return "";
}

}  // namespace

TEST_SUITE("records" * doctest::skip(journal_socket_present())) {
    TEST_CASE(
        "a traceback is printed readably: one entry at <3>, its lines indented under the first, "
        "PIPEJOURNAL_MULTILINE=python; the lines around it as they were") {
        const std::string traceback = python_stderr("raise_from");
        const std::vector<std::string> lines = split_lines(traceback);
        REQUIRE_MESSAGE(lines.size() > 20, "a chained traceback: " << traceback);
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args({"--tick=0.2"})});
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), "<5>service starting\n" + traceback + "service stopped\n");
        }
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: service stopped", 5s),
                        daemon->describe());
        std::vector<std::string> expected{"<5>pipejournal: service starting"};
        for (std::string& line : printed_record(3, lines, "python"))
            expected.push_back(std::move(line));
        expected.push_back("<6>pipejournal: service stopped");
        CHECK(daemon->out_lines() == expected);
        // STATUS= counts lines, those of the record among them.
        const std::string counted = std::to_string(lines.size() + 2) + " lines";
        auto status = daemon->wait_notify(
            [&](const Datagram& d) {
                auto s = d.field("STATUS");
                return s && s->find(counted) != std::string::npos;
            },
            3s);
        CHECK_MESSAGE(status.has_value(),
                      "expected STATUS= with " << counted << "; seen: " << last_status(*daemon));
    }

    TEST_CASE(
        "a line that may start a record and gets no continuation comes out unchanged after "
        "MultilineTimeoutSec= (0.5 s by default)") {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args()});
        Fd writer = open_for_writing(box.fifo);
        // Each waits alone: a python and a go header, and a line a java record would begin with.
        for (const std::string header :
             {"Traceback (most recent call last):", "panic: connection pool exhausted",
              "java.lang.IllegalStateException: no such order"}) {
            CAPTURE(header);
            const auto written = Clock::now();
            write_all(writer.get(), header + "\n");
            REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: " + header, 5s),
                            daemon->describe());
            const auto waited =
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - written);
            CHECK_MESSAGE(waited >= 500ms,
                          "expected the line to wait 0.5 s for a continuation, "
                          "it came out after "
                              << waited.count() << " ms");
            CHECK_MESSAGE(waited < 3s, "expected the line at about 0.5 s, seen after "
                                           << waited.count() << " ms");
        }
        CHECK(daemon->out_lines() == std::vector<std::string>{
                                         "<6>pipejournal: Traceback (most recent call last):",
                                         "<6>pipejournal: panic: connection pool exhausted",
                                         "<6>pipejournal: java.lang.IllegalStateException: no "
                                         "such order",
                                     });
    }

    TEST_CASE("MultilineTimeoutSec= is the wait: 0.2 s") {
        Sandbox box("[PipeJournal]\nMultilineTimeoutSec=0.2\n");
        auto [daemon, ready] = start_ready({.args = box.args()});
        Fd writer = open_for_writing(box.fifo);
        const auto written = Clock::now();
        write_all(writer.get(), "Traceback (most recent call last):\n");
        REQUIRE_MESSAGE(
            daemon->wait_out_line("<6>pipejournal: Traceback (most recent call last):", 5s),
            daemon->describe());
        const auto waited =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - written);
        CHECK_MESSAGE(waited >= 200ms, "came out after " << waited.count() << " ms");
        CHECK_MESSAGE(waited < 450ms, "expected well before the default 0.5 s, seen after "
                                          << waited.count() << " ms");
    }

    TEST_CASE("stop forwards a pending record whole") {
        // The writer died after the frames, before the exception line: the record waits for
        // more, and the timeout (60 s) cannot be what ends it.
        std::vector<std::string> lines = split_lines(python_stderr("raise_from"));
        lines.resize(5);  // the header and two frames of the first traceback
        std::string pending;
        for (const std::string& line : lines)
            pending += line + "\n";
        REQUIRE(pending.size() < 1024);
        Sandbox box("[PipeJournal]\nMultilineTimeoutSec=60\n");
        auto [daemon, ready] = start_ready({.args = box.args({"--tick=0.1"})});
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), pending);
        }
        // Read (STATUS= counts its bytes) and held (no line forwarded yet).
        const std::string held = "0 lines (" + std::to_string(pending.size()) + " B";
        auto read = daemon->wait_notify(
            [&](const Datagram& d) {
                auto s = d.field("STATUS");
                return s && s->find(held) != std::string::npos;
            },
            5s);
        REQUIRE_MESSAGE(read.has_value(),
                        "expected STATUS= with " << held << "; seen: " << last_status(*daemon));
        CHECK(daemon->out_lines().empty());
        daemon->kill(SIGTERM);
        auto status = daemon->wait_exit(10s);
        REQUIRE_MESSAGE(status.has_value(), daemon->describe());
        CHECK_MESSAGE((status->exited && status->code == 0), status->describe());
        CHECK(daemon->out_lines() == printed_record(3, lines, "python"));
    }
}
