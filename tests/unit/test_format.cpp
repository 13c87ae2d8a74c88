#include <doctest/doctest.h>

#include <string>

#include "format/mapper.hpp"
#include "format/prefix.hpp"

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
