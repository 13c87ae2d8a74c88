// Lines in, entries out: priority prefixes and the text format, end to end.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "printers.hpp"
#include "support.hpp"

using namespace pjtest;

namespace {

// The forwarded entries on stdout (TextSink lines "<N>IDENT: MESSAGE").
std::vector<std::string> entries_on_stdout(const Daemon& daemon,
                                           const std::string& ident = "pipejournal") {
    // (Not std::regex: libstdc++'s recursion overflows the stack on 48K lines.)
    std::vector<std::string> entries;
    const std::string tail = ">" + ident + ": ";
    for (auto& line : daemon.out_lines())
        if (line.size() >= 3 + ident.size() && line[0] == '<' && line[1] >= '0' && line[1] <= '7' &&
            line.compare(2, tail.size(), tail) == 0)
            entries.push_back(line);
    return entries;
}

// "<6>pipejournal: x*1024" for an entry whose message is 1024 times 'x': long
// entries compared by their shape, so a failure shows lengths, not kilobytes.
std::string shape(const std::string& entry) {
    auto colon = entry.find(": ");
    std::string head = entry.substr(0, colon + 2), message = entry.substr(colon + 2);
    std::string out = head;
    for (std::size_t i = 0; i < message.size();) {
        std::size_t run = message.find_first_not_of(message[i], i);
        run = (run == std::string::npos ? message.size() : run) - i;
        out += run > 3 ? std::string(1, message[i]) + "*" + std::to_string(run) + " "
                       : message.substr(i, run);
        i += run;
    }
    return out;
}

std::vector<std::string> shapes(const std::vector<std::string>& entries) {
    std::vector<std::string> out;
    for (const auto& e : entries)
        out.push_back(shape(e));
    return out;
}

}  // namespace

TEST_SUITE("forwarding" * doctest::skip(journal_socket_present())) {
    TEST_CASE("priority prefixes and the text format on stdout") {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args()});
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(),
                      "<3>disk full\n"
                      "plain\n"
                      "<7>debugging\n"
                      "<8>not a priority\n"
                      "<03>journald reads this prefix too\n"
                      "<13>a facility is not a prefix\n"
                      "<3 unterminated\n"
                      "crlf\r\n"
                      "\n"
                      "end\n");
        }
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: end", 5s), daemon->describe());
        std::vector<std::string> expected{
            "<3>pipejournal: disk full",
            "<6>pipejournal: plain",
            "<7>pipejournal: debugging",
            "<6>pipejournal: <8>not a priority",
            "<3>pipejournal: journald reads this prefix too",
            "<6>pipejournal: <13>a facility is not a prefix",
            "<6>pipejournal: <3 unterminated",
            "<6>pipejournal: crlf",
            "<6>pipejournal: ",
            "<6>pipejournal: end",
        };
        CHECK(daemon->out_lines() == expected);
    }

    TEST_CASE("DefaultPriority= and SyslogIdentifier= from the config file") {
        Sandbox box("[PipeJournal]\nDefaultPriority=warning\nSyslogIdentifier=legacy-app\n");
        auto [daemon, ready] = start_ready({.args = box.args()});
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), "no prefix\n<2>critical\n");
        }
        REQUIRE_MESSAGE(daemon->wait_out_line("<2>legacy-app: critical", 5s), daemon->describe());
        CHECK(entries_on_stdout(*daemon, "legacy-app") ==
              std::vector<std::string>{"<4>legacy-app: no prefix", "<2>legacy-app: critical"});
    }

    TEST_CASE("a line longer than LineMax comes out in pieces, none lost, priority kept") {
        Sandbox box("[PipeJournal]\nLineMax=1K\n");
        auto [daemon, ready] = start_ready({.args = box.args()});
        std::string payload;
        for (int i = 0; payload.size() < 2500; ++i)
            payload += std::to_string(i % 10);
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), "<3>" + payload + "\nend\n");
        }
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: end", 5s), daemon->describe());

        auto entries = entries_on_stdout(*daemon);
        REQUIRE_MESSAGE(entries.size() >= 2, doctest::toString(entries));
        CHECK(entries.back() == "<6>pipejournal: end");
        entries.pop_back();
        const std::string prefix = "<3>pipejournal: ";
        std::string joined;
        for (const auto& e : entries) {
            CAPTURE(e.size());
            CHECK_MESSAGE(e.rfind(prefix, 0) == 0, "expected every piece to keep priority 3: \""
                                                       << prefix << "...\", seen \""
                                                       << e.substr(0, 40) << "...\"");
            auto piece = e.substr(std::min(prefix.size(), e.size()));
            CHECK_MESSAGE(piece.size() <= 1024,
                          "a piece longer than LineMax=1K: " << piece.size() << " bytes");
            joined += piece;
        }
        CHECK_MESSAGE(entries.size() == 3,
                      "expected 3 pieces for 2503 bytes at LineMax=1K, seen " << entries.size());
        CHECK_MESSAGE(joined == payload,
                      "pieces joined (" << joined.size() << " bytes) differ from the line written ("
                                        << payload.size() << " bytes)");
    }

    TEST_CASE("a line of exactly LineMax bytes is one entry; one byte more makes two") {
        Sandbox box("[PipeJournal]\nLineMax=1K\n");
        auto [daemon, ready] = start_ready({.args = box.args()});
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(),
                      std::string(1024, 'x') + "\n" + std::string(1025, 'y') + "\nend\n");
        }
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: end", 5s), daemon->describe());
        CHECK(shapes(entries_on_stdout(*daemon)) ==
              std::vector<std::string>{
                  "<6>pipejournal: x*1024 ",  // exactly LineMax: whole
                  "<6>pipejournal: y*1024 ",  // one more: cut ...
                  "<6>pipejournal: y",        // ... into two
                  "<6>pipejournal: end",
              });
    }

    TEST_CASE(
        "a CRLF line with exactly LineMax bytes before the CR is one entry, with no empty one "
        "after") {
        Sandbox box("[PipeJournal]\nLineMax=1K\n");
        auto [daemon, ready] = start_ready({.args = box.args()});
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), std::string(1024, 'z') + "\r\nend\n");
        }
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: end", 5s), daemon->describe());
        CHECK(shapes(entries_on_stdout(*daemon)) ==
              std::vector<std::string>{"<6>pipejournal: z*1024 ", "<6>pipejournal: end"});
    }

    TEST_CASE(
        "the default LineMax is 1M: a 100,000-byte line comes out whole, a 2,500,000-byte one as "
        "1M + 1M + the rest") {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args()});
        std::string line;
        for (int i = 0; line.size() < 2'500'000; ++i)
            line += static_cast<char>('a' + i % 26);
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), line.substr(0, 100'000) + "\n" + line + "\nend\n");
        }
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: end", 10s), daemon->describe());
        auto entries = entries_on_stdout(*daemon);
        REQUIRE(entries.size() == 5);
        const std::string p = "<6>pipejournal: ";
        constexpr std::size_t mib = 1024 * 1024;
        CHECK(entries[0] == p + line.substr(0, 100'000));
        CHECK(entries[1] == p + line.substr(0, mib));
        CHECK(entries[2] == p + line.substr(mib, mib));
        CHECK(entries[3] == p + line.substr(2 * mib));
    }

    TEST_CASE("NUL bytes and invalid UTF-8 pass through unchanged") {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args()});
        using namespace std::string_literals;
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), "nul\0byte\n\xff\xfe not utf-8\nend\n"s);
        }
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: end", 5s), daemon->describe());
        CHECK(daemon->out_lines() == std::vector<std::string>{"<6>pipejournal: nul\0byte"s,
                                                              "<6>pipejournal: \xff\xfe not utf-8"s,
                                                              "<6>pipejournal: end"s});
    }

    TEST_CASE("concurrent writers: every line arrives once, whole, in each writer's order") {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args()});
        const std::vector<std::string> names{"alpha ", "bravo ", "charlie ", "delta "};
        std::vector<std::unique_ptr<BusyWriter>> writers;
        for (const auto& name : names)
            writers.push_back(std::make_unique<BusyWriter>(box.fifo, name));
        for (auto& w : writers)
            REQUIRE(w->wait_written(5'000, 10s));
        std::vector<long> written;
        for (auto& w : writers)
            written.push_back(w->stop());

        char last[64];
        for (std::size_t i = 0; i < names.size(); ++i) {
            std::snprintf(last, sizeof last, "<6>pipejournal: %s%06ld", names[i].c_str(),
                          written[i]);
            REQUIRE_MESSAGE(daemon->wait_out_line(last, 10s), "expected \"" << last << "\"\n"
                                                                            << daemon->describe());
        }
        std::vector<long> next(names.size(), 1);
        long foreign = 0;
        for (const auto& line : daemon->out_lines()) {
            std::size_t i = 0;
            while (i < names.size() && line.rfind("<6>pipejournal: " + names[i], 0) != 0)
                ++i;
            if (i == names.size()) {
                ++foreign;
                continue;
            }
            std::snprintf(last, sizeof last, "<6>pipejournal: %s%06ld", names[i].c_str(), next[i]);
            if (line != last) {
                FAIL_CHECK("expected \"" << last << "\", seen \"" << escaped(line, 200) << "\"");
                break;
            }
            ++next[i];
        }
        CHECK(foreign == 0);
        for (std::size_t i = 0; i < names.size(); ++i)
            CHECK(next[i] - 1 == written[i]);
    }

    TEST_CASE("writers come and go: forwarding goes on and the idle daemon does not spin") {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args()});
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), "first writer\n");
        }  // the last writer closed: a reader that opened O_RDONLY would now see EOF/POLLHUP
           // forever
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: first writer", 5s),
                        daemon->describe());
        auto cpu_before = cpu_time(daemon->pid());
        // A measuring window, not a synchronisation: nothing is expected in it.
        daemon->wait_notify([](const Datagram&) { return false; }, 500ms);
        auto cpu_used = cpu_time(daemon->pid()) - cpu_before;
        CHECK_MESSAGE(cpu_used <= 50ms, "expected an idle daemon after its writer left; it used "
                                            << cpu_used.count() << " ms of CPU in 500 ms");
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(), "second writer\n");
        }
        CHECK_MESSAGE(daemon->wait_out_line("<6>pipejournal: second writer", 5s),
                      daemon->describe());
    }

    TEST_CASE("a line left without newline by one shell writer is not glued to the next one's") {
        // printf 'A-no-newline' > FIFO; ...; echo B-line > FIFO — real shell redirections, each
        // opening and closing the FIFO. With the daemon holding the FIFO open there is no end of
        // file between them; the partial line goes out after PartialLineTimeoutSec= (1 s).
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args()});
        std::string fifo = box.fifo.string();
        REQUIRE(std::system(("printf 'A-no-newline' > '" + fifo + "'").c_str()) == 0);
        auto written = Clock::now();
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: A-no-newline", 5s),
                        "the partial line must go out on its own\n"
                            << daemon->describe());
        CHECK_MESSAGE(Clock::now() - written >= 900ms,
                      "a partial line must wait for the timeout (1 s) before it goes out");
        REQUIRE(std::system(("echo B-line > '" + fifo + "'").c_str()) == 0);
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: B-line", 5s), daemon->describe());
        CHECK(entries_on_stdout(*daemon) ==
              std::vector<std::string>{"<6>pipejournal: A-no-newline", "<6>pipejournal: B-line"});
    }

}  // TEST_SUITE
