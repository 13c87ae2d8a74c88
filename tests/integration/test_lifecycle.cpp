// Lifecycle over sd_notify: READY, STATUS, watchdog, reload, stop.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "printers.hpp"
#include "support.hpp"

using namespace pjtest;

namespace {

bool is_a_fifo(const std::filesystem::path& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

std::string starts_with_forwarding(const Sandbox& box) {
    return "Forwarding " + box.fifo.string();
}

// Writes 100,000 numbered lines and an unterminated one, signals, and checks
// that every one of them came out on stdout, in order.
void check_stop_forwards_everything(int signal) {
    Sandbox box;
    auto [daemon, ready] = start_ready({.args = box.args()});

    constexpr int kLines = 100'000;
    std::string data;
    data.reserve(kLines * 12 + 32);
    char line[32];
    for (int i = 1; i <= kLines; ++i) {
        std::snprintf(line, sizeof line, "line %06d\n", i);
        data += line;
    }
    data += "tail without newline";
    {
        Fd writer = open_for_writing(box.fifo);
        write_all(writer.get(), data);
    }
    daemon->kill(signal);

    auto stopping = daemon->wait_notify("STOPPING=1", 10s);
    CHECK_MESSAGE(stopping.has_value(), "expected STOPPING=1 after signal "
                                            << signal << "; seen:\n"
                                            << daemon->notify_log());
    if (stopping)
        CHECK_MESSAGE(stopping->field("STATUS").has_value(),
                      "expected a STATUS= with STOPPING=1; seen: " << escaped(stopping->text));
    auto status = daemon->wait_exit(20s);
    REQUIRE_MESSAGE(status.has_value(), "expected exit within 20 s of signal "
                                            << signal << "\n"
                                            << daemon->describe());
    CHECK_MESSAGE(status->exited, status->describe());
    CHECK(status->code == 0);
    CHECK_MESSAGE(
        file_type(box.fifo) == "nothing",
        "the FIFO the daemon created must be removed on stop; seen: " << file_type(box.fifo));

    // Every numbered line, in order, then the unterminated tail.
    auto lines = daemon->out_lines();
    const std::string prefix = "<6>pipejournal: ";
    int expected = 1;
    std::string first_problem;
    std::size_t i = 0;
    for (; i < lines.size() && expected <= kLines; ++i) {
        std::snprintf(line, sizeof line, "line %06d", expected);
        if (lines[i] == prefix + line) {
            ++expected;
        } else if (first_problem.empty()) {
            first_problem = "stdout line " + std::to_string(i + 1) + ": expected \"" + prefix +
                            line + "\", seen \"" + escaped(lines[i], 200) + "\"";
        }
    }
    INFO("stdout has ", lines.size(), " complete lines; first mismatch: ",
         first_problem.empty() ? std::string("none") : first_problem);
    CHECK_MESSAGE(expected - 1 == kLines,
                  "expected all " << kLines << " lines in order, seen the first " << expected - 1);

    std::string tail = prefix + "tail without newline";
    bool tail_seen =
        std::find(lines.begin() + static_cast<std::ptrdiff_t>(i), lines.end(), tail) != lines.end();
    CHECK_MESSAGE(tail_seen,
                  "expected the unterminated last line as \""
                      << tail << "\" after line " << kLines << "; stdout ends:\n"
                      << escaped(daemon->out().substr(
                             daemon->out().size() > 300 ? daemon->out().size() - 300 : 0)));
}

// Checks that the forwarded "<6>pipejournal: <prefix>NNNNNN" lines on stdout are
// exactly 1, 2, 3, ... with no gap; the last one may be cut short (an eof piece
// at stop). Returns how many complete lines were seen.
long check_gap_free(const Daemon& daemon, const std::string& prefix) {
    const std::string head = "<6>pipejournal: " + prefix;
    long next = 1;
    bool cut_short = false;
    for (const auto& line : daemon.out_lines()) {
        if (line.rfind(head, 0) != 0)
            continue;
        char want[32];
        std::snprintf(want, sizeof want, "%06ld", next);
        std::string_view number = std::string_view(line).substr(head.size());
        if (number == want) {
            REQUIRE_MESSAGE(!cut_short, "a line after a cut-short one: \"" << line << "\"");
            ++next;
        } else if (std::string_view(want).substr(0, number.size()) == number && !cut_short) {
            cut_short = true;  // tolerated once, as the very last
        } else {
            FAIL_CHECK("expected \"" << head << want << "\", seen \"" << escaped(line, 200)
                                     << "\"");
            break;
        }
    }
    return next - 1;
}

}  // namespace

TEST_SUITE("lifecycle") {
    TEST_CASE("READY=1 comes only once the FIFO exists, with a STATUS naming the FIFO") {
        Sandbox box;
        Daemon daemon({.args = box.args()});
        auto ready = daemon.wait_notify("READY=1", 5s);
        // Checked right when READY=1 is in: the FIFO must already be there.
        bool fifo_at_ready = is_a_fifo(box.fifo);
        REQUIRE_MESSAGE(ready.has_value(), "expected READY=1 within 5 s; seen:\n"
                                               << daemon.describe());
        CHECK_MESSAGE(fifo_at_ready, "expected a FIFO at "
                                         << box.fifo
                                         << " when READY=1 arrived; seen: " << file_type(box.fifo));
        CHECK(ready->sender == daemon.pid());

        auto status = ready->field("STATUS");
        REQUIRE_MESSAGE(status.has_value(),
                        "expected STATUS= in the READY=1 datagram; seen: " << escaped(ready->text));
        CHECK_MESSAGE(status->rfind(starts_with_forwarding(box), 0) == 0,
                      "expected STATUS starting \"" << starts_with_forwarding(box) << "\", seen \""
                                                    << *status << "\"");
        CHECK_MESSAGE(status->find("0 lines") != std::string::npos,
                      "expected STATUS to report 0 lines at start, seen \"" << *status << "\"");
        CHECK_MESSAGE(status->find("0 dropped") != std::string::npos,
                      "expected STATUS to report 0 dropped at start, seen \"" << *status << "\"");
    }

    TEST_CASE("STATUS is refreshed with the line count after lines arrive") {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args({"--tick=0.2"})});
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), "one\ntwo\nthree\n");
        }
        auto counted = daemon->wait_notify(
            [](const Datagram& d) {
                auto s = d.field("STATUS");
                return s && s->find(": 3 lines") != std::string::npos;
            },
            3s);
        CHECK_MESSAGE(counted.has_value(),
                      "expected a STATUS=... 3 lines ... within 3 s at --tick=0.2; seen:\n"
                          << daemon->notify_log());
        if (counted) {
            auto status = *counted->field("STATUS");
            CHECK_MESSAGE(status.rfind(starts_with_forwarding(box), 0) == 0, "STATUS: " << status);
            CHECK_MESSAGE(status.find("0 dropped") != std::string::npos, "STATUS: " << status);
        }
    }

    TEST_CASE("SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1, and the new config applies" *
              doctest::skip(journal_socket_present())) {
        Sandbox box("[PipeJournal]\nSyslogIdentifier=first\n");
        auto [daemon, ready] = start_ready({.args = box.args()});
        Fd writer = open_for_writing(box.fifo);
        write_all(writer.get(), "before reload\n");
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>first: before reload", 5s),
                        "expected \"<6>first: before reload\" on stdout\n"
                            << daemon->describe());

        write_file(box.config, "[PipeJournal]\nSyslogIdentifier=second\nDefaultPriority=warning\n");
        auto before_signal = monotonic_usec();
        daemon->kill(SIGHUP);
        auto reloading = daemon->wait_notify("RELOADING=1", 5s);
        REQUIRE_MESSAGE(reloading.has_value(), "expected RELOADING=1 after SIGHUP; seen:\n"
                                                   << daemon->notify_log());
        auto mono = reloading->field("MONOTONIC_USEC");
        REQUIRE_MESSAGE(mono.has_value(),
                        "expected MONOTONIC_USEC= in the RELOADING=1 datagram; seen: "
                            << escaped(reloading->text));
        long long value = std::atoll(mono->c_str());
        INFO("MONOTONIC_USEC=", *mono, "; CLOCK_MONOTONIC before SIGHUP ", before_signal,
             " us, at receipt ", reloading->received_monotonic_usec, " us");
        CHECK(value >= before_signal);
        CHECK(value <= reloading->received_monotonic_usec);

        auto ready_again = daemon->wait_notify("READY=1", 5s);
        REQUIRE_MESSAGE(ready_again.has_value(), "expected READY=1 after RELOADING=1; seen:\n"
                                                     << daemon->notify_log());
        CHECK_MESSAGE(ready_again->field("STATUS").has_value(),
                      "READY=1 datagram: " << escaped(ready_again->text));

        write_all(writer.get(), "after reload\n");
        CHECK_MESSAGE(
            daemon->wait_out_line("<4>second: after reload", 5s),
            "expected \"<4>second: after reload\" on stdout (SyslogIdentifier and DefaultPriority "
            "changed by the reload)\n"
                << daemon->describe());
    }

    TEST_CASE("SIGHUP with a broken config keeps the old config running and says why" *
              doctest::skip(journal_socket_present())) {
        Sandbox box("[PipeJournal]\nSyslogIdentifier=first\n");
        auto [daemon, ready] = start_ready({.args = box.args()});
        write_file(box.config, "[PipeJournal]\nSyslogIdentifier=first\nTickSec=soon\n");
        daemon->kill(SIGHUP);
        auto reloading = daemon->wait_notify("RELOADING=1", 5s);
        CHECK_MESSAGE(reloading.has_value(), "expected RELOADING=1 after SIGHUP; seen:\n"
                                                 << daemon->notify_log());
        auto ready_again = daemon->wait_notify("READY=1", 5s);
        CHECK_MESSAGE(ready_again.has_value(),
                      "expected READY=1 after the failed reload (systemd leaves 'reloading' on "
                      "READY=1); seen:\n"
                          << daemon->notify_log());
        CHECK_MESSAGE(daemon->wait_err("TickSec", 5s),
                      "expected stderr to name the bad key TickSec\n"
                          << daemon->describe());
        CHECK_MESSAGE(daemon->running(), daemon->describe());

        // Still forwarding, with the old identifier.
        write_file(box.config, "[PipeJournal]\nSyslogIdentifier=second\nTickSec=soon\n");
        Fd writer = open_for_writing(box.fifo);
        write_all(writer.get(), "still here\n");
        CHECK_MESSAGE(daemon->wait_out_line("<6>first: still here", 5s),
                      "expected \"<6>first: still here\" (old config in force)\n"
                          << daemon->describe());

        daemon->kill(SIGTERM);
        auto status = daemon->wait_exit(5s);
        REQUIRE_MESSAGE(status.has_value(), daemon->describe());
        CHECK_MESSAGE(status->exited, status->describe());
        CHECK(status->code == 0);
    }

    TEST_CASE("command-line --tick overrides TickSec from the file, also after a reload") {
        Sandbox box("[PipeJournal]\nTickSec=600\n");
        auto [daemon, ready] = start_ready({.args = box.args({"--tick=0.2"})});
        daemon->kill(SIGHUP);
        REQUIRE_MESSAGE(daemon->wait_notify("READY=1", 5s).has_value(), daemon->describe());
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), "a\nb\n");
        }
        auto counted = daemon->wait_notify(
            [](const Datagram& d) {
                auto s = d.field("STATUS");
                return s && s->find(": 2 lines") != std::string::npos;
            },
            3s);
        CHECK_MESSAGE(
            counted.has_value(),
            "expected STATUS with 2 lines within 3 s (--tick=0.2 beats TickSec=600); seen:\n"
                << daemon->notify_log());
    }

    TEST_CASE("SIGTERM: STOPPING=1, every line written before it forwarded, FIFO removed, exit 0" *
              doctest::skip(journal_socket_present())) {
        check_stop_forwards_everything(SIGTERM);
    }

    TEST_CASE("SIGINT: STOPPING=1, every line written before it forwarded, FIFO removed, exit 0" *
              doctest::skip(journal_socket_present())) {
        check_stop_forwards_everything(SIGINT);
    }

    TEST_CASE(
        "SIGTERM while a writer keeps writing: the daemon still stops, and forwards without gaps" *
        doctest::skip(journal_socket_present())) {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args()});
        BusyWriter writer(box.fifo, "busy ");
        REQUIRE_MESSAGE(writer.wait_written(20'000, 10s), daemon->describe());
        daemon->kill(SIGTERM);
        auto status = daemon->wait_exit(10s);
        long written = writer.stop();  // EPIPE once the daemon is gone
        REQUIRE_MESSAGE(status.has_value(),
                        "expected the daemon to stop within 10 s although a writer never stops\n"
                            << daemon->describe());
        CHECK_MESSAGE((status->exited && status->code == 0), status->describe());
        long forwarded = check_gap_free(*daemon, "busy ");
        INFO("written ", written, " lines, forwarded ", forwarded, " complete lines");
        CHECK_MESSAGE(forwarded >= 20'000, "every line written before SIGTERM must be forwarded");
        CHECK(forwarded <= written);
        CHECK(file_type(box.fifo) == "nothing");
    }

    TEST_CASE("SIGTERM while a writer holds an unterminated line: it is forwarded" *
              doctest::skip(journal_socket_present())) {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args({"--tick=0.1"})});
        Fd writer = open_for_writing(box.fifo);
        write_all(writer.get(), "complete\nhalf a line");
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: complete", 5s), daemon->describe());
        // The daemon has read "half a line" too once STATUS counts the bytes; no need to
        // know: it was in the pipe before the signal either way.
        daemon->kill(SIGTERM);
        auto status = daemon->wait_exit(5s);
        REQUIRE_MESSAGE(status.has_value(),
                        "expected a stop within 5 s with a writer still attached\n"
                            << daemon->describe());
        CHECK_MESSAGE((status->exited && status->code == 0), status->describe());
        auto lines = daemon->out_lines();
        CHECK_MESSAGE(
            std::find(lines.begin(), lines.end(), "<6>pipejournal: half a line") != lines.end(),
            "expected \"<6>pipejournal: half a line\" on stdout\n"
                << daemon->describe());
    }

    TEST_CASE("reloads while lines flow lose nothing" * doctest::skip(journal_socket_present())) {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args()});
        BusyWriter writer(box.fifo, "flow ");
        for (int i = 0; i < 3; ++i) {
            REQUIRE(writer.wait_written(5'000L * (i + 1), 10s));
            daemon->kill(SIGHUP);
            REQUIRE_MESSAGE(daemon->wait_notify("RELOADING=1", 5s).has_value(), daemon->describe());
            REQUIRE_MESSAGE(daemon->wait_notify("READY=1", 5s).has_value(), daemon->describe());
        }
        long written = writer.stop();
        char last[64];
        std::snprintf(last, sizeof last, "<6>pipejournal: flow %06ld", written);
        CHECK_MESSAGE(daemon->wait_out_line(last, 10s), "expected \"" << last << "\"\n"
                                                                      << daemon->describe());
        CHECK(check_gap_free(*daemon, "flow ") == written);
    }

}  // TEST_SUITE
