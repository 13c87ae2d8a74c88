// logfmt lines (interface.md, "Structured lines"): every rule, table-driven.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "format/mapper.hpp"
#include "structured.hpp"

using pj::FormatOptions;
using pj::Line;
using pj::LineFormat;
using pj::LineMapper;
using pjtest::map_line;
using pjtest::visible;

namespace {

FormatOptions logfmt_options() {
    FormatOptions options;
    options.format = LineFormat::logfmt;
    options.highest_priority = 0;  // levels as read (HighestPriority=: test_format.cpp)
    return options;
}

struct Mapped {
    std::string_view line;
    std::string message;
    int priority;
    std::string fields;
};

void check_mapped(const std::vector<Mapped>& table, FormatOptions options = logfmt_options()) {
    for (const Mapped& row : table) {
        CAPTURE(row.line);
        auto seen = map_line(options, row.line);
        CHECK(seen.structured);
        CHECK(seen.error == "");
        CHECK(seen.message == row.message);
        CHECK(seen.priority == row.priority);
        CHECK(seen.fields == row.fields);
    }
}

struct Plain {
    std::string_view line;
    std::string error;
};

void check_plain(const std::vector<Plain>& table, FormatOptions options = logfmt_options()) {
    for (const Plain& row : table) {
        CAPTURE(visible(row.line));
        auto seen = map_line(options, row.line);
        CHECK_FALSE(seen.structured);
        CHECK(seen.fields == "");
        CHECK(seen.message == visible(row.line));
        CHECK(seen.error == row.error);
    }
}

}  // namespace

TEST_SUITE("logfmt") {
    TEST_CASE(
        "key=value pairs, bare and quoted, with the same MESSAGE and PRIORITY rules as JSON") {
        check_mapped({
            {R"(time=2024-01-02T03:04:05Z level=error msg="disk full" user.id=17 took=1.5ms)",
             "disk full", 3, "TIME=2024-01-02T03:04:05Z | LEVEL=error | USER_ID=17 | TOOK=1.5ms"},
            {R"(level=WARN msg=short)", "short", 4, "LEVEL=WARN"},
            {R"(lvl=30 event=started)", "started", 6, "LVL=30"},
            {R"(message=second msg=first)", "first", 6, "F_MESSAGE=second"},
            {R"(a=1)", "a=1", 6, "A=1"},  // no message key: the whole line
            {R"(<2>level=debug msg=m)", "m", 2, "LEVEL=debug"},
            {R"(log.level=err)", "log.level=err", 3, "LOG_LEVEL=err"},
            // logrus's TextFormatter and slog's text handler.
            {R"(time="2024-01-02T03:04:05Z" level=warning msg="disk \"sda\" full" user=ann)",
             R"(disk "sda" full)", 4, "TIME=2024-01-02T03:04:05Z | LEVEL=warning | USER=ann"},
            {R"(time=2024-01-02T03:04:05.000Z level=ERROR msg=boom err="exit status 1")", "boom", 3,
             "TIME=2024-01-02T03:04:05.000Z | LEVEL=ERROR | ERR=exit status 1"},
        });
    }

    TEST_CASE("levels: logfmt has no types, an integer is a number quoted or not") {
        check_mapped({
            {R"(level=30 msg=m)", "m", 6, "LEVEL=30"},
            {R"(level="30" msg=m)", "m", 6, "LEVEL=30"},
            {R"(level=400 level_name=ERROR msg=m)", "m", 3, "LEVEL=400 | LEVEL_NAME=ERROR"},
            {R"(level="Information")", R"(level="Information")", 6, "LEVEL=Information"},
            {R"(level=success)", "level=success", 5, "LEVEL=success"},
            // Not a level: the next key that has one.
            {R"(level=custom severity=warn)", "level=custom severity=warn", 4,
             "LEVEL=custom | SEVERITY=warn"},
            {R"(level=3.0 lvl=7)", "level=3.0 lvl=7", 7, "LEVEL=3.0 | LVL=7"},
            {R"(level=61 level=debug)", "level=61 level=debug", 7, "LEVEL=61 | LEVEL=debug"},
            {R"(level a=1)", "level a=1", 6, "LEVEL=true | A=1"},  // a flag is no level
        });
    }

    TEST_CASE("a message key given twice: the last value is MESSAGE, the others F_MESSAGE") {
        check_mapped({
            {R"(msg=caller level=info msg="the logger's")", "the logger's", 6,
             "F_MESSAGE=caller | LEVEL=info"},
        });
    }

    TEST_CASE("quoted values: \\\" \\\\ \\n \\t escapes, blanks and '=' inside") {
        check_mapped({
            {R"(msg="say \"hi\"")", R"(say "hi")", 6, ""},
            {R"(path="C:\\dir" a=1)", R"(path="C:\\\\dir" a=1)", 6, "PATH=C:\\\\dir | A=1"},
            {R"(msg="two\nlines" tab="a\tb")", "two\\nlines", 6, "TAB=a\\x09b"},
            {R"(q="a = b  c" e="")", R"(q="a = b  c" e="")", 6, "Q=a = b  c | E="},
            {R"(k="é€😀")", R"(k="é€😀")", 6, "K=é€😀"},
        });
    }

    TEST_CASE("every escape of Go's strconv.Quote, as logrus and slog write them") {
        check_mapped({
            {R"(msg="\a\b\f\n\r\t\v")", "\\x07\\x08\\x0c\\n\\x0d\\x09\\x0b", 6, ""},
            {R"(msg="\"\\")", "\"\\\\", 6, ""},
            // \xHH: one byte, also one that is not UTF-8 on its own (strconv.Quote writes invalid
            // UTF-8 so).
            {R"(msg="nul\x00 del\x7f A\x41 \xff\xFE")", "nul\\x00 del\\x7f AA \xff\xfe", 6, ""},
            // \NNN: one byte, octal (strconv.Unquote reads it; Quote does not write it).
            {R"(msg="\000\101\377")", "\\x00A\xff", 6, ""},
            // \uHHHH and \UHHHHHHHH: a code point in UTF-8.
            {R"(msg="\u2028\u00e9\u0041\uFFFD")", "\u2028\u00e9A\uFFFD", 6, ""},
            {R"(msg="\U0001F600\U0010FFFF\U00000041")", "\U0001F600\U0010FFFFA", 6, ""},
            // Escapes in other values, bare and quoted values beside them.
            {R"(a="x\ty" b=plain c="\u00fc")", R"(a="x\\ty" b=plain c="\\u00fc")", 6,
             "A=x\\x09y | B=plain | C=\u00fc"},
        });
    }

    TEST_CASE("a level decoded into the arena is read where it is once the field's name is made") {
        // The name goes into the arena after the value and may move it (found by fuzz_logfmt
        // under ASan: the level was read from the freed buffer). A decoded value of 240 bytes
        // fills the arena's buffer exactly (it grows 15, 30, ... 240 as the bytes are appended).
        std::string padded = std::string(239, 'x');
        std::string line = R"(level="\t)" + padded + R"(" severity="\x65rror")";
        check_mapped({{line, visible(line), 3, "LEVEL=\\x09" + padded + " | SEVERITY=error"}});
        FormatOptions options = logfmt_options();
        options.priority_keys = {"a_priority_key_longer_than_any_short_string"};
        check_mapped({{R"(a_priority_key_longer_than_any_short_string="\x65rror")",
                       R"(a_priority_key_longer_than_any_short_string="\\x65rror")", 3,
                       "A_PRIORITY_KEY_LONGER_THAN_ANY_SHORT_STRING=error"}},
                     options);
    }

    TEST_CASE("an empty key gives F_, as in JSON") {
        check_mapped({
            {R"(="v" msg=m)", "m", 6, "F_=v"},
            {"=value", "=value", 6, "F_=value"},
            {"a=1 =2", "a=1 =2", 6, "A=1 | F_=2"},
            {"= a=1", "= a=1", 6, "F_= | A=1"},
        });
    }

    TEST_CASE("bare values run to the next blank; empty values; blanks between pairs") {
        check_mapped({
            {"a=b=c url=http://x/?q=1&r=\"2\"", "a=b=c url=http://x/?q=1&r=\"2\"", 6,
             "A=b=c | URL=http://x/?q=1&r=\"2\""},
            {"  a=1 \t b=  c=3  ", "  a=1 \\x09 b=  c=3  ", 6, "A=1 | B= | C=3"},
        });
    }

    TEST_CASE("a bare key among pairs is true") {
        check_mapped({
            {"debug a=1 cached", "debug a=1 cached", 6, "DEBUG=true | A=1 | CACHED=true"},
        });
    }

    TEST_CASE("duplicates are kept; names follow the JSON rules") {
        check_mapped({
            {"a=1 a=2 A=3", "a=1 a=2 A=3", 6, "A=1 | A=2 | A=3"},
            {"_pid=1 1st=2 MESSAGE=3 priority=4 pipejournal_fifo=5 x-y=6",
             "_pid=1 1st=2 MESSAGE=3 priority=4 pipejournal_fifo=5 x-y=6", 6,
             "PID=1 | F_1ST=2 | F_MESSAGE=3 | F_PRIORITY=4 | F_PIPEJOURNAL_FIFO=5 | X_Y=6"},
            {std::string(70, 'k') + "=1", std::string(70, 'k') + "=1", 6,
             std::string(64, 'K') + "=1"},
        });
    }

    TEST_CASE("not logfmt: plain with PIPEJOURNAL_FORMAT_ERROR=") {
        check_plain({
            {"just some words", "no key=value pair"},
            {"", "no key=value pair"},
            {"   ", "no key=value pair"},
            {R"(a"b=1)", "quote in a key"},
            {R"({"a":1})", "quote in a key"},
            {R"(msg="unterminated)", "unterminated quoted value"},
            {R"(msg="ends in a backslash\)", "unterminated quoted value"},
            {R"(msg="bad \q escape")", "unknown escape in a quoted value"},
            {R"(msg="bad \' escape")", "unknown escape in a quoted value"},
            {R"(msg="bad \e escape")", "unknown escape in a quoted value"},
            {R"(msg="bad \x escape")", "invalid escape in a quoted value"},
            {R"(msg="bad \x4")", "invalid escape in a quoted value"},
            {R"(msg="bad \xZZ")", "invalid escape in a quoted value"},
            {R"(msg="bad \400")", "invalid escape in a quoted value"},
            {R"(msg="bad \18x")", "invalid escape in a quoted value"},
            {R"(msg="bad \7")", "invalid escape in a quoted value"},
            {R"(msg="bad \u12")", "invalid escape in a quoted value"},
            {R"(msg="bad \u12G4")", "invalid escape in a quoted value"},
            {R"(msg="bad \uD800")", "invalid escape in a quoted value"},
            {R"(msg="bad \udfff")", "invalid escape in a quoted value"},
            {R"(msg="bad \U00110000")", "invalid escape in a quoted value"},
            {R"(msg="bad \U0001F60")", "invalid escape in a quoted value"},
            {R"(msg="\x4)", "invalid escape in a quoted value"},
            {R"(msg="quoted"glued)", "text right after a quoted value"},
        });
    }

    TEST_CASE("MaxFields= applies; a line over it is plain with the reason") {
        FormatOptions options = logfmt_options();
        options.max_fields = 2;
        check_mapped({{"a=1 msg=m b=2", "m", 6, "A=1 | B=2"}}, options);
        check_plain({{"a=1 b=2 c=3", "more than 2 fields"}, {"a b c=1 d", "more than 2 fields"}},
                    options);
        // Not logfmt at all counts before the limit.
        check_plain({{"a=1 b=2 c=3 d=\"open", "unterminated quoted value"}}, options);
    }

    TEST_CASE("logfmt is never guessed: Format=auto leaves such lines plain") {
        auto seen = map_line({}, "level=error msg=boom");
        CHECK_FALSE(seen.structured);
        CHECK(seen.message == "level=error msg=boom");
        CHECK(seen.priority == 6);
        CHECK(seen.error == "");
    }

    TEST_CASE("a line cut at LineMax is plain with the reason") {
        LineMapper mapper(logfmt_options());
        auto first = pjtest::see(mapper.map(Line{"<4>a=1 b=", Line::Break::line_max}));
        CHECK_FALSE(first.structured);
        CHECK(first.priority == 4);
        CHECK(first.error == "line longer than LineMax");
        auto rest = pjtest::see(mapper.map(Line{"2", Line::Break::newline, true}));
        CHECK(rest.error == "line longer than LineMax");
        CHECK(rest.priority == 4);
    }

    TEST_CASE("values stay valid until the next map(), escapes decoded or not") {
        LineMapper mapper(logfmt_options());
        std::string text = R"(msg="a \"quoted\" word" k=v)";
        pj::Entry entry = mapper.map(Line{text});
        CHECK(visible(entry.message) == R"(a "quoted" word)");
        CHECK(pjtest::fields_of(entry) == "K=v");
        auto again = pjtest::see(mapper.map(Line{R"(msg="plain" k="x\ty")"}));
        CHECK(again.message == "plain");
        CHECK(again.fields == "K=x\\x09y");
    }

}  // TEST_SUITE
