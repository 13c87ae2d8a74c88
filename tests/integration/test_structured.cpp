// Structured lines end to end: the daemon's default Format=auto turns a JSON line into an entry
// with fields (the stdout TextSink prints them as " NAME=value"), leaves other lines as they are,
// and counts the structured ones in STATUS=.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "printers.hpp"
#include "support.hpp"

using namespace pjtest;

namespace {

// The files mapped into the process, one path a line of /proc/PID/maps.
std::string mapped_files(pid_t pid) {
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    std::string text, line;
    while (std::getline(maps, line))
        if (auto slash = line.find('/'); slash != std::string::npos)
            text += line.substr(slash) + "\n";
    return text;
}

bool maps(pid_t pid, std::string_view name) {
    return mapped_files(pid).find(name) != std::string::npos;
}

}  // namespace

TEST_SUITE("structured" * doctest::skip(journal_socket_present())) {
    TEST_CASE(
        "the JSON reader (simdjson) is loaded by the first line that may be JSON, which is "
        "mapped like every later one") {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args()});
        CHECK_MESSAGE(!maps(daemon->pid(), "libsimdjson"), mapped_files(daemon->pid()));
        Fd writer = open_for_writing(box.fifo);
        write_all(writer.get(), "plain\nnot {json}\n");
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: not {json}", 5s),
                        daemon->describe());
        CHECK_MESSAGE(!maps(daemon->pid(), "pipejournal-json.so"), mapped_files(daemon->pid()));
        CHECK_MESSAGE(!maps(daemon->pid(), "libsimdjson"), mapped_files(daemon->pid()));

        const std::string json = R"({"level":"warn","msg":"first","n":1,"a":[{"b":2}]})";
        write_all(writer.get(), json + "\n" + json + "\n");
        const std::string mapped = R"(<4>pipejournal: first LEVEL=warn N=1 A="{\"b\":2}")";
        REQUIRE_MESSAGE(daemon->wait_out(
                            [&](std::string_view out) {
                                return out.find(mapped + "\n" + mapped + "\n") !=
                                       std::string_view::npos;
                            },
                            5s),
                        daemon->describe());
        CHECK_MESSAGE(maps(daemon->pid(), "pipejournal-json.so"), mapped_files(daemon->pid()));
        CHECK_MESSAGE(maps(daemon->pid(), "libsimdjson"), mapped_files(daemon->pid()));
    }

    TEST_CASE("Format=auto: a JSON line becomes MESSAGE, PRIORITY and fields; others stay plain") {
        Sandbox box;
        auto [daemon, ready] = start_ready({.args = box.args({"--tick=0.2"})});
        {
            Fd writer = open_for_writing(box.fifo);
            write_all(writer.get(),
                      R"({"level":50,"time":1700000000000,"user":{"id":17},"tags":["a","b"],)"
                      R"("msg":"disk full","note":"two words"})"
                      "\n"
                      R"(<5>{"level":"debug","msg":"prefix wins"})"
                      "\n"
                      "plain {\"not\":\"json\"}\n"
                      R"({"broken": )"
                      "\n"
                      "level=error msg=logfmt-is-never-guessed\n"
                      "end\n");
        }
        REQUIRE_MESSAGE(daemon->wait_out_line("<6>pipejournal: end", 5s), daemon->describe());
        std::vector<std::string> expected{
            R"(<3>pipejournal: disk full LEVEL=50 TIME=1700000000000 USER_ID=17 TAGS=a TAGS=b )"
            R"(NOTE="two words")",
            "<5>pipejournal: prefix wins LEVEL=debug",
            "<6>pipejournal: plain {\"not\":\"json\"}",
            R"(<6>pipejournal: {"broken": )",
            "<6>pipejournal: level=error msg=logfmt-is-never-guessed",
            "<6>pipejournal: end",
        };
        CHECK(daemon->out_lines() == expected);
        auto counted = daemon->wait_notify(
            [](const Datagram& d) {
                auto status = d.field("STATUS");
                return status && status->find("6 lines") != std::string::npos;
            },
            3s);
        REQUIRE_MESSAGE(counted.has_value(), "expected STATUS with 6 lines; seen:\n"
                                                 << daemon->notify_log());
        auto status = *counted->field("STATUS");
        CHECK_MESSAGE(status.find(", 2 structured)") != std::string::npos, "STATUS: " << status);
    }
}
