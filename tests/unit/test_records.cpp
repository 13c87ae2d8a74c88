// The record joiner on its own: rules, order, bounds, timeouts on a passed-in clock, stop, and
// the lines around records. Real programs' output is in tests/records/ (suite "records").
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "format/mapper.hpp"
#include "records/joiner.hpp"

using pj::Line;
using pj::MultilineRule;

namespace {

struct Out {
    std::string message;
    int priority;
    std::string rule;  // "" for a single line
    bool structured = false;
    bool operator==(const Out&) const = default;
};

std::string show(const std::vector<Out>& entries) {
    std::string text;
    for (const Out& e : entries)
        text += "\n  [" + std::to_string(e.priority) + (e.rule.empty() ? "" : " " + e.rule) +
                (e.structured ? " structured" : "") + "] \"" + e.message + "\"";
    return text;
}

// LineBuffer → RecordJoiner → LineMapper, as the channel will drive them, on a clock the test sets.
struct Stage {
    explicit Stage(const std::string& rules = "python java go",
                   pj::FormatOptions options = pj::FormatOptions{},
                   std::size_t line_max = 48 * 1024)
        : mapper(options), buffer(line_max), joiner(buffer, parse(rules)) {
        joiner.set_structured_test(
            [this](std::string_view text) { return mapper.maps_structured(text); });
    }

    static pj::records::Rules parse(const std::string& text) {
        pj::records::Rules rules;
        REQUIRE(!pj::records::parse_rules(text, rules));
        return rules;
    }

    // One read at `now`, then every entry the joiner hands out.
    std::vector<Out> read(const std::string& bytes, uint64_t now = 0) {
        std::size_t done = 0;
        std::vector<Out> out;
        do {
            auto space = joiner.free_space();
            std::size_t n = std::min(space.size(), bytes.size() - done);
            std::memcpy(space.data(), bytes.data() + done, n);
            joiner.commit(n, now);
            done += n;
            take(out);
        } while (done < bytes.size());
        return out;
    }

    // All of it in reads, then stop (in this order: the operands of + are not sequenced).
    std::vector<Out> read_and_finish(const std::string& bytes) {
        std::vector<Out> out = read(bytes);
        std::vector<Out> rest = finish();
        out.insert(out.end(), rest.begin(), rest.end());
        return out;
    }

    std::vector<Out> expire(uint64_t now) {
        joiner.expire(now);
        std::vector<Out> out;
        take(out);
        return out;
    }

    std::vector<Out> finish() {
        joiner.finish();
        std::vector<Out> out;
        take(out);
        return out;
    }

    void take(std::vector<Out>& out) {
        while (const pj::Record* record = joiner.front()) {
            pj::Entry entry = mapper.map(*record);
            out.push_back({std::string(entry.message), entry.priority, std::string(entry.multiline),
                           entry.structured});
            joiner.pop();
        }
    }

    pj::LineMapper mapper;
    pj::LineBuffer buffer;
    pj::RecordJoiner joiner;
};

#define CHECK_ENTRIES(seen, ...)                                         \
    do {                                                                 \
        std::vector<Out> expected_ = {__VA_ARGS__};                      \
        std::vector<Out> seen_ = (seen);                                 \
        INFO("expected:" << show(expected_) << "\nsaw:" << show(seen_)); \
        CHECK(seen_ == expected_);                                       \
    } while (0)

std::vector<Out> operator+(std::vector<Out> a, const std::vector<Out>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// The whole input in one read, then stop; and byte by byte: both must give `expected`.
void check_table(const std::string& rules, const std::string& input,
                 const std::vector<Out>& expected, pj::FormatOptions options = {},
                 std::size_t line_max = 48 * 1024) {
    Stage whole(rules, options, line_max);
    std::vector<Out> seen = whole.read_and_finish(input);
    INFO("Multiline=" << rules << "\ninput: " << input << "\nexpected:" << show(expected)
                      << "\nsaw:" << show(seen));
    CHECK(seen == expected);
    Stage bytes(rules, options, line_max);
    std::vector<Out> by_byte;
    for (char c : input)
        by_byte = by_byte + bytes.read(std::string(1, c));
    by_byte = by_byte + bytes.finish();
    INFO("byte by byte saw:" << show(by_byte));
    CHECK(by_byte == expected);
}

const std::string traceback =
    "Traceback (most recent call last):\n"
    "  File \"app.py\", line 3, in <module>\n"
    "    main()\n"
    "ValueError: bad value\n";
const std::string traceback_message =
    "Traceback (most recent call last):\n"
    "  File \"app.py\", line 3, in <module>\n"
    "    main()\n"
    "ValueError: bad value";

}  // namespace

TEST_CASE("records: the rules' records and the lines around them") {
    struct Case {
        const char* name;
        std::string rules;
        std::string input;
        std::vector<Out> expected;
    };
    const std::vector<Case> cases = {
        {"python: the exception line ends the record and is part of it",
         "python java go",
         "before\n" + traceback + "after it\n",
         {{"before", 6, ""}, {traceback_message, 3, "python"}, {"after it", 6, ""}}},
        {"python: a line that is no exception line ends it and is not part of it",
         "python",
         "Traceback (most recent call last):\n  File \"a.py\"\nnot an exception line\n",
         {{"Traceback (most recent call last):\n  File \"a.py\"", 3, "python"},
          {"not an exception line", 6, ""}}},
        {"python: a chained exception is one record, empty lines inside it included",
         "python",
         "Traceback (most recent call last):\n  File \"a\"\nKeyError: 'k'\n\n"
         "During handling of the above exception, another exception occurred:\n\n" +
             traceback,
         {{"Traceback (most recent call last):\n  File \"a\"\nKeyError: 'k'\n\n"
           "During handling of the above exception, another exception occurred:\n\n" +
               traceback_message,
           3, "python"}}},
        {"python: empty lines at the end are not part of it",
         "python",
         traceback + "\n<3>\nnext line\n",
         {{traceback_message, 3, "python"}, {"", 6, ""}, {"", 3, ""}, {"next line", 6, ""}}},
        {"python: a bare exception name",
         "python",
         "Traceback (most recent call last):\n  File \"a\"\nKeyboardInterrupt\nnext line\n",
         {{"Traceback (most recent call last):\n  File \"a\"\nKeyboardInterrupt", 3, "python"},
          {"next line", 6, ""}}},
        {"python: logging's next line (INFO:root:...) is no exception line",
         "python",
         "Stack (most recent call last):\n  File \"a\"\nINFO:root:next\n",
         {{"Stack (most recent call last):\n  File \"a\"", 6, "python"},
          {"INFO:root:next", 6, ""}}},
        {"python: a stack dump keeps the first line's priority, a traceback's prefix wins",
         "python",
         "<4>Stack (most recent call last):\n  File \"a\"\n<2>Traceback (most recent call "
         "last):\n<5>  File \"b\"\nOSError: x\n",
         {{"Stack (most recent call last):\n  File \"a\"", 4, "python"},
          {"Traceback (most recent call last):\n  File \"b\"\nOSError: x", 2, "python"}}},
        {"python: an exception group's header after blanks and '+ '",
         "python",
         "  + Exception Group Traceback (most recent call last):\n  |   File \"a\"\n"
         "  | ExceptionGroup: eg (1 sub-exception)\n  +-+---- 1 ----\n    | ValueError: v\n"
         "    +------------\nafter it\n",
         {{"  + Exception Group Traceback (most recent call last):\n  |   File \"a\"\n"
           "  | ExceptionGroup: eg (1 sub-exception)\n  +-+---- 1 ----\n    | ValueError: v\n"
           "    +------------",
           3, "python"},
          {"after it", 6, ""}}},
        {"python: two tracebacks back to back stay two",
         "python java go",
         traceback + traceback,
         {{traceback_message, 3, "python"}, {traceback_message, 3, "python"}}},
        {"java: a header with an indented line after it, Caused by, ... N more",
         "python java go",
         "java.io.IOException: x\n\tat A.b(A.java:1)\nCaused by: java.lang.Error\n\t... 1 more\n"
         "after it\n",
         {{"java.io.IOException: x\n\tat A.b(A.java:1)\nCaused by: java.lang.Error\n\t... 1 more",
           3, "java"},
          {"after it", 6, ""}}},
        {"java: a header no indented line follows is a line",
         "java",
         "java.io.IOException: x\nnext\n\tindented\n",
         {{"java.io.IOException: x", 6, ""}, {"next", 6, ""}, {"\tindented", 6, ""}}},
        {"java: Exception not followed by ':' or the end starts nothing",
         "java",
         "an Exceptional day\n\tindented\nErrorCount: 3\n\tindented\n",
         {{"an Exceptional day", 6, ""},
          {"\tindented", 6, ""},
          {"ErrorCount: 3", 6, ""},
          {"\tindented", 6, ""}}},
        {"java: an empty line ends it; two back to back stay two",
         "java",
         "a.B: 1\n\tat x\n\nc.DError\n\tat y\ne.FThrowable: z\n\tat w\n",
         {{"a.B: 1", 6, ""},
          {"\tat x", 6, ""},
          {"", 6, ""},
          {"c.DError\n\tat y", 3, "java"},
          {"e.FThrowable: z\n\tat w", 3, "java"}}},
        {"go: panic, empty lines, goroutine headers, function lines, created by",
         "python java go",
         "panic: boom [recovered]\n\tpanic: again\n[signal SIGSEGV: x]\n\ngoroutine 1 [running]:\n"
         "main.(*T).Run(0xc000010000, ...)\n\t/a.go:1 +0x1\npanic({0x4960a0, 0x533050})\n"
         "created by main.main\n\n\nexit status 2\n",
         {{"panic: boom [recovered]\n\tpanic: again\n[signal SIGSEGV: x]\n\ngoroutine 1 "
           "[running]:\nmain.(*T).Run(0xc000010000, ...)\n\t/a.go:1 +0x1\npanic({0x4960a0, "
           "0x533050})\ncreated by main.main",
           3, "go"},
          {"", 6, ""},
          {"", 6, ""},
          {"exit status 2", 6, ""}}},
        {"go: a header no line continues goes out unchanged",
         "go",
         "panic: alone\n\nnext line\nfatal error: x\n",
         {{"panic: alone", 6, ""}, {"", 6, ""}, {"next line", 6, ""}, {"fatal error: x", 6, ""}}},
        {"go: a function line has no blank before its '('",
         "go",
         "fatal error: x\nmain.main()\nnot a (function)\n",
         {{"fatal error: x\nmain.main()", 3, "go"}, {"not a (function)", 6, ""}}},
        {"indent: indented lines continue the line before; first line's priority",
         "indent",
         "<5>config:\n  a: 1\n\tb: 2\nnext\n\n  alone\n",
         {{"config:\n  a: 1\n\tb: 2", 5, "indent"},
          {"next", 6, ""},
          {"", 6, ""},
          {"  alone", 6, ""}}},
        {"indent is not a default rule",
         "python java go",
         "config:\n  a: 1\n",
         {{"config:", 6, ""}, {"  a: 1", 6, ""}}},
        {"order: the first rule in Multiline= that takes a line wins (indent first)",
         "indent python",
         traceback,
         {{"Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\n    main()",
           6, "indent"},
          {"ValueError: bad value", 6, ""}}},
        {"order: python first", "python indent", traceback, {{traceback_message, 3, "python"}}},
        {"JSON lines never start or continue a record",
         "python java indent",
         "{\"msg\":\"IOException: x\"}\n  {\"msg\":\"indented\"}\n" +
             std::string("Traceback (most recent call last):\n  {\"msg\":\"y\"}\n"),
         {{"IOException: x", 6, "", true},
          {"indented", 6, "", true},
          {"Traceback (most recent call last):", 6, ""},
          {"y", 6, "", true}}},
        {"a line that only looks like JSON is plain and can be part of a record",
         "indent",
         "{not json\n  {\"half\": \n",
         {{"{not json\n  {\"half\": ", 6, "indent"}}},
        {"CRLF lines",
         "python",
         "Traceback (most recent call last):\r\n  File \"a\"\r\nE: x\r\n",
         {{"Traceback (most recent call last):\n  File \"a\"\nE: x", 3, "python"}}},
        {"Multiline= empty: every line its own entry",
         "",
         traceback,
         {{"Traceback (most recent call last):", 6, ""},
          {"  File \"app.py\", line 3, in <module>", 6, ""},
          {"    main()", 6, ""},
          {"ValueError: bad value", 6, ""}}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        check_table(c.rules, c.input, c.expected);
    }
}

TEST_CASE("records: a record is never read as JSON or logfmt and has no format error") {
    for (pj::LineFormat format : {pj::LineFormat::json, pj::LineFormat::logfmt}) {
        Stage stage("python", {.format = format});
        auto seen = stage.read_and_finish(traceback);
        REQUIRE(seen.size() == 1);
        CHECK(seen[0] == Out{traceback_message, 3, "python"});
    }
    // Format=logfmt: a logfmt line is mapped, so it starts nothing even when it names an
    // exception and an indented line follows.
    Stage stage("java", {.format = pj::LineFormat::logfmt});
    auto seen = stage.read_and_finish("level=error msg=\"IOException: x\"\n\tat A.b\n");
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].structured);
    CHECK(seen[0].rule.empty());
    CHECK(seen[1].rule.empty());
}

TEST_CASE("records: the pieces of a line cut at LineMax are never part of one") {
    // LineMax=16: the header itself is cut, a long frame ends the record before it.
    check_table("python", "Traceback (most recent call last):\n  File\n",
                {{"Traceback (most ", 6, ""},
                 {"recent call last", 6, ""},
                 {"):", 6, ""},
                 {"  File", 6, ""}},
                {}, 16);
    check_table("go", "panic: x\n\tframe\n\tthis frame is too long\n\tshort\n",
                {{"panic: x\n\tframe", 3, "go"},
                 {"\tthis frame is t", 6, ""},
                 {"oo long", 6, ""},
                 {"\tshort", 6, ""}},
                {}, 16);
}

TEST_CASE("records: timeouts on the clock passed in") {
    const uint64_t t = pj::RecordJoiner::default_timeout_usec;

    SUBCASE("a header no line follows goes out unchanged at the deadline, not before") {
        Stage stage;
        CHECK(stage.read("Traceback (most recent call last):\n", 1000).empty());
        REQUIRE(stage.joiner.deadline());
        CHECK(*stage.joiner.deadline() == 1000 + t);
        CHECK(stage.expire(1000 + t - 1).empty());
        CHECK_ENTRIES(stage.expire(1000 + t), {"Traceback (most recent call last):", 6, ""});
        CHECK(!stage.joiner.deadline());
    }
    SUBCASE("a line that arrives after the timeout is not merged, even before expire()") {
        Stage stage;
        CHECK(stage.read("panic: boom\n", 0).empty());
        CHECK_ENTRIES(stage.read("\ngoroutine 1 [running]:\n", t), {"panic: boom", 6, ""},
                      {"", 6, ""}, {"goroutine 1 [running]:", 6, ""});
    }
    SUBCASE("every line taken restarts the countdown") {
        Stage stage;
        CHECK(stage.read("Traceback (most recent call last):\n", 0).empty());
        CHECK(stage.read("  File \"a\"\n", t - 1).empty());
        CHECK(stage.read("ValueError: x\n", 2 * t - 2).empty());  // a chain line may follow
        CHECK(*stage.joiner.deadline() == 3 * t - 2);
        CHECK(stage.expire(3 * t - 3).empty());
        CHECK_ENTRIES(
            stage.expire(3 * t - 2),
            {"Traceback (most recent call last):\n  File \"a\"\nValueError: x", 3, "python"});
    }
    SUBCASE("a line read in time but not yet taken when the deadline passes still joins") {
        Stage stage;
        CHECK(stage.read("java.lang.Error: x\n", 0).empty());  // waits for an indented line
        auto space = stage.joiner.free_space();
        std::memcpy(space.data(), "\tat A.b\n", 8);
        stage.joiner.commit(8, t - 1);
        CHECK(stage.expire(t + 100).empty());  // the channel was busy: the line came in time
        CHECK(*stage.joiner.deadline() == 2 * t - 1);  // taken now: the record waits again
        CHECK_ENTRIES(stage.expire(2 * t - 1), {"java.lang.Error: x\n\tat A.b", 3, "java"});
    }
    SUBCASE("a plain line never waits, with the default rules") {
        Stage stage;
        CHECK_ENTRIES(stage.read("an ordinary line\n"), {"an ordinary line", 6, ""});
        CHECK(!stage.joiner.deadline());
        CHECK_ENTRIES(stage.read("java.lang.Error: x\n"));  // may start a java record: waits
        CHECK(stage.joiner.deadline());
    }
    SUBCASE("MultilineTimeoutSec= on reload moves the deadline") {
        Stage stage;
        CHECK(stage.read("panic: x\n", 100).empty());
        stage.joiner.set_timeout(2 * t);
        CHECK(*stage.joiner.deadline() == 100 + 2 * t);
    }
}

TEST_CASE("records: stop forwards a pending record whole") {
    Stage stage;
    CHECK(stage.read("Traceback (most recent call last):\n  File \"a\"\n").empty());
    CHECK_ENTRIES(stage.finish(),
                  {"Traceback (most recent call last):\n  File \"a\"", 3, "python"});
    Stage held;
    CHECK(held.read("java.lang.Error: x\n").empty());
    CHECK_ENTRIES(held.finish(), {"java.lang.Error: x", 6, ""});
}

TEST_CASE("records: a partial line released by its timeout is never part of one") {
    Stage stage;
    CHECK(stage.read("Traceback (most recent call last):\n  Fi").empty());
    stage.joiner.release_partial(Line::Break::timeout);
    std::vector<Out> out;
    stage.take(out);
    CHECK_ENTRIES(out, {"Traceback (most recent call last):", 6, ""}, {"  Fi", 6, ""});
}

TEST_CASE("records: a reload that changes Multiline= ends a pending record as it is") {
    Stage stage;
    CHECK(stage.read("Traceback (most recent call last):\n  File \"a\"\n").empty());
    stage.joiner.set_rules({});
    CHECK_ENTRIES(stage.read("    frame\n"),
                  {"Traceback (most recent call last):\n  File \"a\"", 3, "python"},
                  {"    frame", 6, ""});
    stage.joiner.set_rules({MultilineRule::indent});
    CHECK_ENTRIES(stage.read_and_finish("a\n  b\nc\n"), {"a\n  b", 6, "indent"}, {"c", 6, ""});
}

TEST_CASE("records: bounds of 1,000 lines and 1 MiB") {
    SUBCASE("1,000 lines") {
        std::string input = "Traceback (most recent call last):\n";
        for (int i = 0; i < 1200; ++i)
            input += "  frame " + std::to_string(i) + "\n";
        Stage stage;
        auto seen = stage.read_and_finish(input);
        REQUIRE(seen.size() == 1 + 201);
        CHECK(seen[0].rule == "python");
        CHECK(std::count(seen[0].message.begin(), seen[0].message.end(), '\n') == 999);
        CHECK(seen[0].message.ends_with("  frame 998"));
        CHECK(seen[1] == Out{"  frame 999", 6, ""});  // looked at afresh: starts nothing
        CHECK(seen.back() == Out{"  frame 1199", 6, ""});
    }
    SUBCASE("1 MiB of MESSAGE=") {
        const std::string frame = "  " + std::string(2046, 'f');  // 2048 bytes with its '\n'
        std::string input = "panic: big\n";
        for (int i = 0; i < 600; ++i)
            input += frame + "\n";
        Stage stage("go", {}, 1024 * 1024);
        auto seen = stage.read_and_finish(input);
        REQUIRE(!seen.empty());
        CHECK(seen[0].rule == "go");
        CHECK(seen[0].message.size() <= 1024 * 1024);
        CHECK(seen[0].message.size() + 2049 > 1024 * 1024);  // the next frame would not fit
        std::size_t frames = std::count(seen[0].message.begin(), seen[0].message.end(), '\n');
        CHECK(seen.size() == 1 + (600 - frames));
    }
}

TEST_CASE("records: Multiline= parsing") {
    pj::records::Rules rules;
    CHECK(!pj::records::parse_rules("  python\tjava  go ", rules));
    CHECK(rules == pj::records::default_rules());
    CHECK(pj::records::rules_text(rules) == "python java go");
    CHECK(!pj::records::parse_rules("", rules));
    CHECK(rules.empty());
    CHECK(*pj::records::parse_rules("python ruby", rules) ==
          "unknown rule 'ruby'");
    CHECK(*pj::records::parse_rules("go go", rules) == "rule 'go' given twice");
}
