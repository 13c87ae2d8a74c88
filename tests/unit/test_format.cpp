#include <doctest/doctest.h>

#include <string>

#include "format/mapper.hpp"
#include "format/prefix.hpp"
#include "records/record.hpp"

using pj::Line;
using pj::LineMapper;
using pj::parse_priority_prefix;

TEST_CASE("<0>..<7> set the priority and are removed") {
    for (int p = 0; p <= 7; ++p) {
        // Built by appending: "<" + std::to_string(p) + ... trips GCC 12's -Wrestrict at -O3.
        std::string text = "<";
        text += static_cast<char>('0' + p);
        text += ">message";
        auto prefix = parse_priority_prefix(text);
        CHECK(prefix.priority == p);
        CHECK(prefix.rest == "message");
    }
}

TEST_CASE("<0N> and <00N> are prefixes too, as journald's stream protocol reads them") {
    for (std::string_view text : {"<03>x", "<003>x"}) {
        CAPTURE(text);
        auto prefix = parse_priority_prefix(text);
        CHECK(prefix.priority == 3);
        CHECK(prefix.rest == "x");
    }
}

TEST_CASE("anything else is not a prefix and stays in the message") {
    for (std::string_view text : {"<8>x", "<3", "<", "", "<a>x", "<0003>x", "<13>x", "<10>x",
                                  "<08>x", "<>x", "<-1>x", " <3>x", "3>x", "<3 >x"}) {
        CAPTURE(text);
        auto prefix = parse_priority_prefix(text);
        CHECK_FALSE(prefix.priority.has_value());
        CHECK(prefix.rest == text);
    }
}

TEST_CASE("a prefix alone gives an empty message") {
    auto prefix = parse_priority_prefix("<2>");
    CHECK(prefix.priority == 2);
    CHECK(prefix.rest.empty());
}

TEST_CASE("lines without a prefix get the default priority") {
    LineMapper mapper({.format = pj::LineFormat::plain, .default_priority = 5});
    auto entry = mapper.map(Line{"plain"});
    CHECK(entry.priority == 5);
    CHECK(entry.message == "plain");
    mapper.set_options({.format = pj::LineFormat::plain, .default_priority = 2});
    CHECK(mapper.map(Line{"plain"}).priority == 2);
}

TEST_CASE("pieces of an over-long line keep its first piece's priority, prefix not re-read") {
    LineMapper mapper({.format = pj::LineFormat::plain});
    auto first = mapper.map(Line{"<3>abcd", Line::Break::line_max, false});
    auto second = mapper.map(Line{"<7>efgh", Line::Break::line_max, true});
    auto last = mapper.map(Line{"ij", Line::Break::newline, true});
    CHECK(first.priority == 3);
    CHECK(first.message == "abcd");
    CHECK(second.priority == 3);
    CHECK(second.message == "<7>efgh");
    CHECK(last.priority == 3);
    CHECK(last.line_break == Line::Break::newline);
    CHECK(mapper.map(Line{"next"}).priority == 6);
}

// --- HighestPriority=: what a writer may claim ----------------------------------------------

namespace {

struct Limited {
    int priority;
    int requested;
};

Limited limited(std::string_view line, pj::LineFormat format = pj::LineFormat::automatic,
                int highest = 2) {
    pj::FormatOptions options;
    options.format = format;
    options.highest_priority = highest;
    LineMapper mapper(options);
    pj::Entry entry = mapper.map(Line{line});
    return {entry.priority, entry.requested_priority};
}

}  // namespace

TEST_CASE("HighestPriority=crit (the default) limits every source of a priority, and says what "
          "was asked") {
    struct Case {
        std::string_view line;
        pj::LineFormat format;
        int priority, requested;
    };
    const Case cases[] = {
        {"<0>walls every terminal", pj::LineFormat::plain, 2, 0},
        {"<1>alert", pj::LineFormat::plain, 2, 1},
        {"<00001>not a prefix", pj::LineFormat::plain, 6, -1},
        {"<2>crit is allowed", pj::LineFormat::plain, 2, -1},
        {"<3>err", pj::LineFormat::plain, 3, -1},
        {R"({"level":"panic","msg":"zap's panic level"})", pj::LineFormat::automatic, 2, 0},
        {R"({"level":"emerg","msg":"x"})", pj::LineFormat::automatic, 2, 0},
        {R"({"level":"EMERGENCY","msg":"x"})", pj::LineFormat::automatic, 2, 0},
        {R"({"level":"alert","msg":"x"})", pj::LineFormat::automatic, 2, 1},
        {R"({"level":"fatal","msg":"x"})", pj::LineFormat::automatic, 2, -1},
        {R"({"level":0,"msg":"a number"})", pj::LineFormat::automatic, 2, 0},
        {R"({"level":1,"msg":"a number"})", pj::LineFormat::automatic, 2, 1},
        {R"({"level":60,"msg":"pino fatal stays crit"})", pj::LineFormat::automatic, 2, -1},
        {R"({"level":600,"msg":"Monolog EMERGENCY"})", pj::LineFormat::automatic, 2, 0},
        {R"({"level":550,"msg":"Monolog ALERT"})", pj::LineFormat::automatic, 2, 1},
        {R"(<0>{"level":"info","msg":"the prefix wins, and is limited"})",
         pj::LineFormat::automatic, 2, 0},
        {"level=emerg msg=x", pj::LineFormat::logfmt, 2, 0},
        {"level=0 msg=x", pj::LineFormat::logfmt, 2, 0},
    };
    for (const Case& c : cases) {
        CAPTURE(c.line);
        Limited got = limited(c.line, c.format);
        CHECK(got.priority == c.priority);
        CHECK(got.requested == c.requested);
    }
}

TEST_CASE("HighestPriority=emerg lifts the limit; a stricter one limits more") {
    CHECK(limited("<0>x", pj::LineFormat::plain, 0).priority == 0);
    CHECK(limited("<0>x", pj::LineFormat::plain, 0).requested == -1);
    Limited err = limited("<2>crit", pj::LineFormat::plain, 3);
    CHECK(err.priority == 3);
    CHECK(err.requested == 2);
}

TEST_CASE("the pieces of an over-long <0> line and a record that asked for emerg are limited "
          "alike") {
    LineMapper mapper({.format = pj::LineFormat::plain});
    pj::Entry first = mapper.map(Line{"<0>abcd", Line::Break::line_max, false});
    pj::Entry second = mapper.map(Line{"efgh", Line::Break::newline, true});
    CHECK((first.priority == 2 && first.requested_priority == 0));
    CHECK((second.priority == 2 && second.requested_priority == 0));
    pj::Record record{Line{"Traceback (most recent call last):\nValueError: x"},
                      pj::MultilineRule::python, 0, 2};
    pj::Entry joined = mapper.map(record);
    CHECK((joined.priority == 2 && joined.requested_priority == 0));
    pj::Record crash{Line{"panic: x\n\ngoroutine 1 [running]:"}, pj::MultilineRule::go, 3, 3};
    CHECK(mapper.map(crash).requested_priority == -1);
}

TEST_CASE("names journalctl trusts from root get F_: OBJECT_* and COREDUMP_*, nested and dotted "
          "too; MESSAGE_ID stays") {
    LineMapper mapper({});
    pj::Entry entry = mapper.map(Line{
        R"({"msg":"x","OBJECT_SYSTEMD_UNIT":"sshd.service","object":{"pid":1},)"
        R"("coredump.unit":"sshd.service","_COREDUMP_EXE":"/x","MESSAGE_ID":"0123",)"
        R"("objects":2,"CODE_FILE":"a.c"})"});
    REQUIRE(entry.structured);
    std::vector<std::string> names;
    for (const auto& field : entry.fields)
        names.emplace_back(field.name);
    CHECK(names == std::vector<std::string>{"F_OBJECT_SYSTEMD_UNIT", "F_OBJECT_PID",
                                            "F_COREDUMP_UNIT", "F_COREDUMP_EXE", "MESSAGE_ID",
                                            "OBJECTS", "CODE_FILE"});
}
