// JSON lines (interface.md, "Structured lines"): every rule, table-driven.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "format/fields.hpp"
#include "format/mapper.hpp"
#include "structured.hpp"

using pj::FormatOptions;
using pj::Line;
using pj::LineFormat;
using pj::LineMapper;
using pjtest::map_line;
using pjtest::visible;

namespace {

struct Mapped {
    std::string_view line;
    std::string message;  // as visible() shows it
    int priority;
    std::string fields;  // as fields_of() shows it
};

// Each line must be mapped, in Format=auto and in Format=json alike.
void check_mapped(const std::vector<Mapped>& table, FormatOptions options = {}) {
    for (LineFormat format : {LineFormat::automatic, LineFormat::json}) {
        options.format = format;
        for (const Mapped& row : table) {
            CAPTURE(row.line);
            CAPTURE(format == LineFormat::json ? "json" : "auto");
            auto seen = map_line(options, row.line);
            CHECK(seen.structured);
            CHECK(seen.error == "");
            CHECK(seen.message == row.message);
            CHECK(seen.priority == row.priority);
            CHECK(seen.fields == row.fields);
        }
    }
}

struct Plain {
    std::string_view line;
    std::string json_error;  // PIPEJOURNAL_FORMAT_ERROR= in Format=json
};

// Each line must go out plain: as it is (after the prefix), no fields; a reason in Format=json
// only, unless `always` (a valid object over a limit).
void check_plain(const std::vector<Plain>& table, bool always = false, FormatOptions options = {}) {
    for (LineFormat format : {LineFormat::automatic, LineFormat::json}) {
        options.format = format;
        for (const Plain& row : table) {
            CAPTURE(visible(row.line));
            CAPTURE(format == LineFormat::json ? "json" : "auto");
            auto seen = map_line(options, row.line);
            CHECK_FALSE(seen.structured);
            CHECK(seen.fields == "");
            CHECK(seen.message == visible(row.line));
            CHECK(seen.error == (format == LineFormat::json || always ? row.json_error : ""));
        }
    }
}

std::string nested_objects(int depth) {  // depth objects, the innermost holding "x":1
    std::string line;
    for (int i = 0; i < depth; ++i)
        line += i ? "\"a\":{" : "{";
    line += "\"x\":1";
    line.append(static_cast<std::size_t>(depth), '}');
    return line;
}

}  // namespace

TEST_SUITE("json") {
    TEST_CASE("MESSAGE= comes from the first MessageKeys= key with a string value") {
        check_mapped({
            {R"({"msg":"a"})", "a", 6, ""},
            {R"({"message":"a"})", "a", 6, ""},
            {R"({"event":"a"})", "a", 6, ""},
            {R"({"@m":"a"})", "a", 6, ""},
            {R"({"@message":"a"})", "a", 6, ""},
            {R"({"short_message":"a"})", "a", 6, ""},
            {R"({"record.message":"a"})", "a", 6, ""},
            {R"({"record":{"message":"a"}})", "a", 6, ""},
            // The list's order counts, not the line's; the others stay fields.
            {R"({"message":"second","msg":"first"})", "first", 6, "F_MESSAGE=second"},
            {R"({"short_message":"s","event":"e"})", "e", 6, "SHORT_MESSAGE=s"},
            // A key whose value is not a string is a field, and the next key is taken.
            {R"({"msg":5,"message":"text"})", "text", 6, "MSG=5"},
            {R"({"msg":null,"event":"e"})", "e", 6, ""},
            {R"({"msg":{"text":"t"},"event":"e"})", "e", 6, "MSG_TEXT=t"},
            {R"({"msg":["a"],"event":"e"})", "e", 6, "MSG=a"},
            // Keys match exactly: other cases and nested keys are fields.
            {R"({"MSG":"a","x":{"msg":"b"}})", R"({"MSG":"a","x":{"msg":"b"}})", 6,
             "MSG=a | X_MSG=b"},
            // The key given twice: its LAST string value is MESSAGE (loggers write their own
            // last), the key's other values are F_MESSAGE; other message keys keep their names.
            {R"({"msg":"one","msg":"two"})", "two", 6, "F_MESSAGE=one"},
            {R"({"level":"info","message":"caller's","message":"zerolog's"})", "zerolog's", 6,
             "LEVEL=info | F_MESSAGE=caller's"},
            {R"({"msg":5,"msg":"x"})", "x", 6, "F_MESSAGE=5"},
            {R"({"msg":"a","msg":7})", "a", 6, "F_MESSAGE=7"},
            {R"({"msg":"a","event":"e","msg":"c","msg":null})", "c", 6, "F_MESSAGE=a | EVENT=e"},
            {R"({"msg":["x","y"],"msg":"m"})", "m", 6, "MSG=x | MSG=y"},
            {R"({"record.message":"a","record":{"message":"b"}})", "b", 6, "F_MESSAGE=a"},
            // loguru (serialize=True): the message and the level in "record".
            {R"({"text":"t\n","record":{"level":{"name":"ERROR","no":40},"message":"m"}})", "m", 3,
             "TEXT=t\\n | RECORD_LEVEL_NAME=ERROR | RECORD_LEVEL_NO=40"},
            // None: the whole line.
            {R"({"a":1})", R"({"a":1})", 6, "A=1"},
            {R"(  {"a":1}  )", R"(  {"a":1}  )", 6, "A=1"},
        });
    }

    TEST_CASE("MessageKeys= and PriorityKeys= are configurable, dotted names match nested paths") {
        FormatOptions options;
        options.message_keys = {"log.message", "text"};
        options.priority_keys = {"sev", "a.b.c"};
        options.highest_priority = 0;  // levels as read (HighestPriority=: test_format.cpp)
        check_mapped(
            {
                {R"({"log":{"message":"nested"},"msg":"m"})", "nested", 6, "MSG=m"},
                {R"({"log.message":"literal","sev":"err"})", "literal", 3, "SEV=err"},
                {R"({"text":"t","level":"err"})", "t", 6, "LEVEL=err"},
                {R"({"a":{"b":{"c":"crit"}}})", R"({"a":{"b":{"c":"crit"}}})", 2, "A_B_C=crit"},
                {R"({"a":{"b.c":"alert"}})", R"({"a":{"b.c":"alert"}})", 1, "A_B_C=alert"},
                {R"({"a.b":{"c":"warn"}})", R"({"a.b":{"c":"warn"}})", 4, "A_B_C=warn"},
                {R"({"x":{"a":{"b":{"c":"err"}}}})", R"({"x":{"a":{"b":{"c":"err"}}}})", 6,
                 "X_A_B_C=err"},
            },
            options);
    }

    TEST_CASE("PRIORITY= comes from the first PriorityKeys= key present, which stays a field") {
        check_mapped({
            {R"({"level":"error"})", R"({"level":"error"})", 3, "LEVEL=error"},
            {R"({"severity":"error"})", R"({"severity":"error"})", 3, "SEVERITY=error"},
            {R"({"levelname":"ERROR"})", R"({"levelname":"ERROR"})", 3, "LEVELNAME=ERROR"},
            {R"({"lvl":"eror","x":1})", R"({"lvl":"eror","x":1})", 6, "LVL=eror | X=1"},
            {R"({"lvl":"err"})", R"({"lvl":"err"})", 3, "LVL=err"},
            {R"({"loglevel":"err"})", R"({"loglevel":"err"})", 3, "LOGLEVEL=err"},
            {R"({"@l":"Error"})", R"({"@l":"Error"})", 3, "L=Error"},
            {R"({"log.level":"error"})", R"({"log.level":"error"})", 3, "LOG_LEVEL=error"},
            {R"({"log":{"level":"error"}})", R"({"log":{"level":"error"}})", 3, "LOG_LEVEL=error"},
            {R"({"level_name":"ERROR"})", R"({"level_name":"ERROR"})", 3, "LEVEL_NAME=ERROR"},
            {R"({"@level":"error"})", R"({"@level":"error"})", 3, "LEVEL=error"},
            {R"({"record.level.name":"ERROR"})", R"({"record.level.name":"ERROR"})", 3,
             "RECORD_LEVEL_NAME=ERROR"},
            {R"({"record":{"level":{"name":"WARNING"}}})",
             R"({"record":{"level":{"name":"WARNING"}}})", 4, "RECORD_LEVEL_NAME=WARNING"},
            // The list's order counts, not the line's.
            {R"({"severity":"debug","level":"warn"})", R"({"severity":"debug","level":"warn"})", 4,
             "SEVERITY=debug | LEVEL=warn"},
            // Monolog's JsonFormatter: "level" is its number, "level_name" its name.
            {R"({"level":400,"level_name":"ERROR"})", R"({"level":400,"level_name":"ERROR"})", 3,
             "LEVEL=400 | LEVEL_NAME=ERROR"},
            // A key present without a recognised level: the next key that has one.
            {R"({"level":null,"severity":"err"})", R"({"level":null,"severity":"err"})", 3,
             "SEVERITY=err"},
            {R"({"level":"eror","@l":"Warning"})", R"({"level":"eror","@l":"Warning"})", 4,
             "LEVEL=eror | L=Warning"},
            {R"({"level":"30","lvl":"debug"})", R"({"level":"30","lvl":"debug"})", 7,
             "LEVEL=30 | LVL=debug"},
            {R"({"lvl":"notice","level":700})", R"({"lvl":"notice","level":700})", 5,
             "LVL=notice | LEVEL=700"},
            {R"({"level":{"name":"err"},"severity":2})", R"({"level":{"name":"err"},"severity":2})",
             2, "LEVEL_NAME=err | SEVERITY=2"},
            // No key with a recognised level: DefaultPriority=.
            {R"({"level":["err"]})", R"({"level":["err"]})", 6, "LEVEL=err"},
            {R"({"level":{"name":"err"}})", R"({"level":{"name":"err"}})", 6, "LEVEL_NAME=err"},
            {R"({"level":true})", R"({"level":true})", 6, "LEVEL=true"},
            {R"({"level":"eror","severity":"30"})", R"({"level":"eror","severity":"30"})", 6,
             "LEVEL=eror | SEVERITY=30"},
            // A key given twice: its first recognised value.
            {R"({"level":"err","level":"debug"})", R"({"level":"err","level":"debug"})", 3,
             "LEVEL=err | LEVEL=debug"},
            {R"({"level":"custom","level":"debug","level":"err"})",
             R"({"level":"custom","level":"debug","level":"err"})", 7,
             "LEVEL=custom | LEVEL=debug | LEVEL=err"},
        });
    }

    TEST_CASE("a <N> prefix wins over the level, and JSON may follow it after blanks") {
        check_mapped({
            {R"(<2>{"level":"debug","msg":"m"})", "m", 2, "LEVEL=debug"},
            {R"(<5> {"msg":"m"})", "m", 5, ""},
            {R"(<7>{"a":1})", R"({"a":1})", 7, "A=1"},
        });
    }

    TEST_CASE("level names, any case, and numbers as the contract reads them") {
        struct Level {
            std::string_view value;  // JSON text of the level
            int priority;
        };
        const std::vector<Level> levels{
            {R"("emerg")", 0},
            {R"("emergency")", 0},
            {R"("PANIC")", 0},
            {R"("alert")", 1},
            {R"("crit")", 2},
            {R"("Critical")", 2},
            {R"("fatal")", 2},
            {R"("dpanic")", 2},
            {R"("err")", 3},
            {R"("ERROR")", 3},
            {R"("SEVERE")", 3},
            {R"("warn")", 4},
            {R"("Warning")", 4},
            {R"("notice")", 5},
            {R"("SUCCESS")", 5},
            {R"("info")", 6},
            {R"("information")", 6},
            {R"("INFORMATIONAL")", 6},
            {R"("debug")", 7},
            {R"("trace")", 7},
            {R"("verbose")", 7},
            {R"("silly")", 7},
            {R"("FINE")", 7},
            {R"("finer")", 7},
            {R"("Finest")", 7},
            {"0", 0},
            {"1", 1},
            {"2", 2},
            {"3", 3},
            {"4", 4},
            {"5", 5},
            {"6", 6},
            {"7", 7},
            // pino/bunyan; between two levels: the lower one.
            {"10", 7},
            {"15", 7},
            {"20", 7},
            {"29", 7},
            {"30", 6},
            {"35", 6},
            {"40", 4},
            {"49", 4},
            {"50", 3},
            {"59", 3},
            {"60", 2},
            // Monolog; between two levels: the lower one.
            {"100", 7},
            {"199", 7},
            {"200", 6},
            {"249", 6},
            {"250", 5},
            {"300", 4},
            {"399", 4},
            {"400", 3},
            {"500", 2},
            {"550", 1},
            {"599", 1},
            {"600", 0},
            // Unrecognised: DefaultPriority= (here 5). Numbers written as strings are no levels.
            {R"("30")", 5},
            {R"("3")", 5},
            {R"("400")", 5},
            {"8", 5},
            {"9", 5},
            {"61", 5},
            {"99", 5},
            {"601", 5},
            {"700", 5},
            {"1000", 5},
            {"12345678901234567890", 5},
            {"-1", 5},
            {"3.0", 5},
            {"3e1", 5},
            {R"("")", 5},
            {R"("warn ")", 5},
            {R"("http")", 5},
            {R"("erro")", 5},
            {R"("3.5")", 5},
            {"false", 5},
        };
        FormatOptions options;
        options.default_priority = 5;
        options.highest_priority = 0;  // levels as read (HighestPriority=: test_format.cpp)
        for (const Level& level : levels) {
            std::string line = R"({"msg":"m","level":)" + std::string(level.value) + "}";
            CAPTURE(line);
            auto seen = map_line(options, line);
            CHECK(seen.structured);
            CHECK(seen.priority == level.priority);
        }
    }

    TEST_CASE("nested objects are flattened with '_', dotted keys give the same names") {
        check_mapped({
            {R"({"user":{"id":7}})", R"({"user":{"id":7}})", 6, "USER_ID=7"},
            {R"({"user.id":7})", R"({"user.id":7})", 6, "USER_ID=7"},
            {R"({"a":{"b":{"c":{"d":"deep"}}},"a.b":1})",
             R"({"a":{"b":{"c":{"d":"deep"}}},"a.b":1})", 6, "A_B_C_D=deep | A_B=1"},
            // Empty objects and arrays give no field, as null does.
            {R"({"e":{},"f":[],"g":null,"h":1})", R"({"e":{},"f":[],"g":null,"h":1})", 6, "H=1"},
        });
    }

    TEST_CASE(
        "arrays give the field once per element, objects and arrays in them as compact JSON") {
        check_mapped({
            {R"({"tags":["a","b","c"]})", R"({"tags":["a","b","c"]})", 6,
             "TAGS=a | TAGS=b | TAGS=c"},
            {R"({"n":[1, 2.5 ,true,null,false]})", R"({"n":[1, 2.5 ,true,null,false]})", 6,
             "N=1 | N=2.5 | N=true | N=false"},
            {R"({"o":[ {"k" : [1, {"x":null}], "s":"q\"\u00e9\n"} , [ ] , [1,[2]] ]})",
             R"({"o":[ {"k" : [1, {"x":null}], "s":"q\\"\\u00e9\\n"} , [ ] , [1,[2]] ]})", 6,
             R"(O={"k":[1,{"x":null}],"s":"q\\"é\\n"} | O=[] | O=[1,[2]])"},
            {R"({"u":{"ids":[1,2]}})", R"({"u":{"ids":[1,2]}})", 6, "U_IDS=1 | U_IDS=2"},
        });
    }

    TEST_CASE("a key given twice gives the field twice") {
        check_mapped({
            {R"({"a":1,"a":2,"A":3,"b":{"c":1},"b.c":2})",
             R"({"a":1,"a":2,"A":3,"b":{"c":1},"b.c":2})", 6, "A=1 | A=2 | A=3 | B_C=1 | B_C=2"},
        });
    }

    TEST_CASE("strings are decoded: escapes, \\u0000, surrogate pairs, newlines") {
        check_mapped({
            {R"({"msg":"a\"b\\c\/d\be\ff\ng\rh\ti"})", R"(a"b\\c/d\x08e\x0cf\ng\x0dh\x09i)", 6, ""},
            {R"({"s":"nul\u0000byte"})", R"({"s":"nul\\u0000byte"})", 6, "S=nul\\x00byte"},
            {R"({"s":"\u00e9\u20ac\ud83d\ude00"})", R"({"s":"\\u00e9\\u20ac\\ud83d\\ude00"})", 6,
             "S=é€😀"},
            {R"({"s":"raw é€😀"})", R"({"s":"raw é€😀"})", 6, "S=raw é€😀"},
            {R"({"multi":"line one\nline two"})", R"({"multi":"line one\\nline two"})", 6,
             "MULTI=line one\\nline two"},
            // Keys are decoded before they become names.
            {R"({"\u0075ser\u002eid":1})", R"({"\\u0075ser\\u002eid":1})", 6, "USER_ID=1"},
        });
    }

    TEST_CASE("numbers are kept exactly as written") {
        check_mapped({
            {R"({"a":1e3,"b":-0.0,"c":12345678901234567890,"d":1E+2,"e":0.5e-3,"f":1e400,"g":-0})",
             R"({"a":1e3,"b":-0.0,"c":12345678901234567890,"d":1E+2,"e":0.5e-3,"f":1e400,"g":-0})",
             6, "A=1e3 | B=-0.0 | C=12345678901234567890 | D=1E+2 | E=0.5e-3 | F=1e400 | G=-0"},
            {R"({"t":true,"f":false})", R"({"t":true,"f":false})", 6, "T=true | F=false"},
        });
    }

    TEST_CASE(
        "names: upper case, '_' for other bytes, leading '_' removed, F_, reserved, 64 bytes") {
        const std::string k64(64, 'k');
        const std::string line64 =
            R"({")" + k64 + R"(":1,")" + k64 + R"(x":2,"1)" + k64 + R"(":3})";
        check_mapped({
            {R"({"camelCase":1,"with-dash":2,"sp ace":3,"a.b":4,"é":5,"x@y":6})",
             R"({"camelCase":1,"with-dash":2,"sp ace":3,"a.b":4,"é":5,"x@y":6})", 6,
             "CAMELCASE=1 | WITH_DASH=2 | SP_ACE=3 | A_B=4 | F_=5 | X_Y=6"},
            {R"({"_pid":1,"__x":2,"_":3,"":4,"1st":5,"_9":6})",
             R"({"_pid":1,"__x":2,"_":3,"":4,"1st":5,"_9":6})", 6,
             "PID=1 | X=2 | F_=3 | F_=4 | F_1ST=5 | F_9=6"},
            {R"({"MESSAGE":1,"Priority":2,"syslog_identifier":3,"pipejournal_fifo":4,"PIPEJOURNAL_":5})",
             R"({"MESSAGE":1,"Priority":2,"syslog_identifier":3,"pipejournal_fifo":4,"PIPEJOURNAL_":5})",
             6,
             "F_MESSAGE=1 | F_PRIORITY=2 | F_SYSLOG_IDENTIFIER=3 | F_PIPEJOURNAL_FIFO=4 | "
             "F_PIPEJOURNAL_=5"},
            // Close to ours but not ours: kept as they are.
            {R"({"message_id":1,"PIPEJOURNAL":2,"_MESSAGE":3,"priority_x":4})",
             R"({"message_id":1,"PIPEJOURNAL":2,"_MESSAGE":3,"priority_x":4})", 6,
             "MESSAGE_ID=1 | PIPEJOURNAL=2 | F_MESSAGE=3 | PRIORITY_X=4"},
            {R"({"_pipejournal_fifo":{"x":1}})", R"({"_pipejournal_fifo":{"x":1}})", 6,
             "F_PIPEJOURNAL_FIFO_X=1"},
            // 64 bytes are kept, longer names cut to 64 (F_ included).
            {line64, visible(line64), 6,
             "K" + std::string(63, 'K') + "=1 | " + std::string(64, 'K') + "=2 | F_1" +
                 std::string(61, 'K') + "=3"},
        });
    }

    TEST_CASE("depth 16 is mapped, 17 goes out plain with a reason; arrays count as a level") {
        check_mapped({
            {nested_objects(16), visible(nested_objects(16)), 6,
             std::string("A_A_A_A_A_A_A_A_A_A_A_A_A_A_A_X=1")},
        });
        // 15 objects and an array: depth 16; objects inside it count too.
        std::string array16 = nested_objects(15);
        array16.replace(array16.find("\"x\":1"), 5, "\"x\":[1]");
        std::string array17 = nested_objects(15);
        array17.replace(array17.find("\"x\":1"), 5, "\"x\":[{}]");
        std::string array17b = nested_objects(16);
        array17b.replace(array17b.find("\"x\":1"), 5, "\"x\":[]");
        check_mapped({{array16, visible(array16), 6, "A_A_A_A_A_A_A_A_A_A_A_A_A_A_X=1"}});
        check_plain(
            {
                {nested_objects(17), "nested deeper than 16 levels"},
                {nested_objects(200), "nested deeper than 16 levels"},
                {array17, "nested deeper than 16 levels"},
                {array17b, "nested deeper than 16 levels"},
            },
            true);
        // Too deep and broken further on: not JSON, so in Format=auto no reason.
        std::string broken = nested_objects(20);
        broken.back() = ']';
        check_plain({{broken, "invalid JSON"}});
    }

    TEST_CASE("MaxFields= counts the line's own fields; one more goes out plain with a reason") {
        FormatOptions options;
        options.max_fields = 3;
        check_mapped(
            {
                {R"({"a":1,"b":2,"c":3})", R"({"a":1,"b":2,"c":3})", 6, "A=1 | B=2 | C=3"},
                // MESSAGE is not counted, the level field is.
                {R"({"a":1,"msg":"m","level":"err","c":3})", "m", 3, "A=1 | LEVEL=err | C=3"},
                {R"({"a":1,"b":2,"c":3,"msg":"m"})", "m", 6, "A=1 | B=2 | C=3"},
                {R"({"a":[1,2],"b":null,"c":{}})", R"({"a":[1,2],"b":null,"c":{}})", 6,
                 "A=1 | A=2"},
            },
            options);
        check_plain(
            {
                {R"({"a":1,"b":2,"c":3,"d":4})", "more than 3 fields"},
                {R"({"a":[1,2,3,4]})", "more than 3 fields"},
                {R"({"a":1,"b":2,"c":3,"message":"not the message key","msg":"m"})",
                 "more than 3 fields"},
                {R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6})", "more than 3 fields"},
            },
            true, options);
        // Over the limit and broken further on: not JSON.
        check_plain({{R"({"a":1,"b":2,"c":3,"d":4,"e":5,})", "invalid JSON"}}, false, options);
        // The default is 900: a log4j2 record with a 700-frame stack trace gives about 750.
        auto fields = [](int count) {
            std::string line = "{";
            for (int i = 0; i < count; ++i)
                line += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
            return line + "}";
        };
        CHECK(FormatOptions{}.max_fields == 900);
        for (LineFormat format : {LineFormat::automatic, LineFormat::json}) {
            CAPTURE(format == LineFormat::json ? "json" : "auto");
            FormatOptions defaults;
            defaults.format = format;
            auto seen = map_line(defaults, fields(900));
            CHECK(seen.structured);
            CHECK(seen.error == "");
        }
        check_plain({{fields(901), "more than 900 fields"}}, true);
    }

    TEST_CASE("anything but one complete valid object is plain; Format=json says why") {
        check_plain({
            {"plain text", "not a JSON object"},
            {"", "not a JSON object"},
            {"   ", "not a JSON object"},
            {"[1,2]", "not a JSON object"},
            {R"("string")", "not a JSON object"},
            {"42", "not a JSON object"},
            {"{", "invalid JSON"},
            {"{ this is not json }", "invalid JSON"},
            {R"({"a":1} trailing)", "invalid JSON"},  // simdjson: the root does not end in '}'
            {R"({"a":1} 2)", "invalid JSON"},
            {R"({"a":1}})", "text after the JSON object"},
            {R"({"a":1}{"b":2})", "text after the JSON object"},
            {R"({"a":1,})", "invalid JSON"},
            {R"({"a" 1})", "invalid JSON"},
            {R"({"a":01})", "invalid JSON"},
            {R"({"a":1.})", "invalid JSON"},
            {R"({"a":.5})", "invalid JSON"},
            {R"({"a":+1})", "invalid JSON"},
            {R"({"a":1e})", "invalid JSON"},
            {R"({"a":0x10})", "invalid JSON"},
            {R"({"a":tru})", "invalid JSON"},
            {R"({"a":nul})", "invalid JSON"},
            {R"({"a":True})", "invalid JSON"},
            {R"({"a":'x'})", "invalid JSON"},
            {R"({a:1})", "invalid JSON"},
            {R"({"a":"unterminated})", "invalid JSON"},
            {R"({"a":"bad \x escape"})", "invalid JSON"},
            {R"({"a":"\ud800 lone high surrogate"})", "invalid JSON"},
            {R"({"a":"\udc00 lone low surrogate"})", "invalid JSON"},
            {R"({"a":[1,2})", "invalid JSON"},
            {R"({"a":1 /* comment */})", "invalid JSON"},
            {"{\"a\":\"raw\ttab\"}", "invalid JSON"},
            {std::string_view("{\"a\":\"nul\0byte\"}", 16), "invalid JSON"},
            {"{\"a\":\"\xff\"}", "invalid UTF-8"},
            {"{\"\xc3\x28\":1}", "invalid UTF-8"},
            {"{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8"},  // an encoded surrogate
            {"{\"a\":1} \xff", "invalid UTF-8"},
        });
    }

    TEST_CASE("Format=plain never parses") {
        auto seen = map_line({.format = LineFormat::plain}, R"(<3>{"msg":"m","level":"debug"})");
        CHECK_FALSE(seen.structured);
        CHECK(seen.message == R"({"msg":"m","level":"debug"})");
        CHECK(seen.priority == 3);
        CHECK(seen.fields == "");
        CHECK(seen.error == "");
    }

    TEST_CASE("a line cut at LineMax is plain; Format=json says why, for every piece") {
        for (LineFormat format : {LineFormat::automatic, LineFormat::json}) {
            CAPTURE(format == LineFormat::json ? "json" : "auto");
            std::string_view reason = format == LineFormat::json ? "line longer than LineMax" : "";
            LineMapper mapper({.format = format});
            auto first = pjtest::see(mapper.map(Line{R"(<3>{"msg":"a)", Line::Break::line_max}));
            CHECK_FALSE(first.structured);
            CHECK(first.message == R"({"msg":"a)");
            CHECK(first.priority == 3);
            CHECK(first.error == reason);
            auto middle = pjtest::see(mapper.map(Line{R"({"b":1})", Line::Break::line_max, true}));
            CHECK_FALSE(middle.structured);
            CHECK(middle.message == R"({"b":1})");
            CHECK(middle.priority == 3);
            CHECK(middle.error == reason);
            auto last = pjtest::see(mapper.map(Line{R"("})", Line::Break::newline, true}));
            CHECK_FALSE(last.structured);
            CHECK(last.error == reason);
            // The next line is whole again.
            auto next = pjtest::see(mapper.map(Line{R"({"msg":"whole"})"}));
            CHECK(next.structured);
            CHECK(next.message == "whole");
        }
    }

    TEST_CASE("a line that ended without a newline (eof, timeout) is whole and is mapped") {
        LineMapper mapper({});
        auto entry = mapper.map(Line{R"({"msg":"m"})", Line::Break::eof});
        CHECK(entry.structured);
        CHECK(entry.message == "m");
        CHECK(entry.line_break == Line::Break::eof);
    }

    TEST_CASE("the entry stays valid after the line's text is gone, until the next map()") {
        LineMapper mapper({});
        std::string text = R"({"msg":"kept","user":{"id":17},"n":1e3,"tags":[{"a":1}]})";
        pj::Entry entry = mapper.map(Line{text});
        std::string(text.size(), 'x').swap(text);  // the reader's buffer is reused
        text.assign(text.size(), 'y');
        CHECK(visible(entry.message) == "kept");
        CHECK(pjtest::fields_of(entry) == R"(USER_ID=17 | N=1e3 | TAGS={"a":1})");
    }

    TEST_CASE("storage is reused: a long line, then short ones, map right") {
        LineMapper mapper({});
        std::string long_line = R"({"msg":")" + std::string(100000, 'z') + R"(","a":1})";
        CHECK(mapper.map(Line{long_line}).structured);
        for (int i = 0; i < 3; ++i) {
            auto seen = pjtest::see(mapper.map(Line{R"({"msg":"short","b":[1,{"c":2}]})"}));
            CHECK(seen.message == "short");
            CHECK(seen.fields == R"(B=1 | B={"c":2})");
        }
    }

    TEST_CASE("a long line's memory is given back (trim), and long and short lines map after it") {
        LineMapper mapper({});
        mapper.trim();  // nothing to give back: nothing happens
        // 1 MiB of JSON: a long string, an array of objects (compact JSON in the arena), numbers.
        std::string items;
        for (int i = 0; i < 800; ++i)
            items += std::string(i ? "," : "") + R"({"at":"frame )" + std::to_string(i) + R"("})";
        std::string long_line = R"({"msg":"m\n)" + std::string(900 * 1024, 'z') +
                                R"(","n":-1.5e3,"items":[)" + items + "]}";
        for (int round = 0; round < 3; ++round) {
            CAPTURE(round);
            pj::Entry entry = mapper.map(Line{long_line});
            REQUIRE(entry.structured);
            CHECK(entry.message.size() == 2 + 900 * 1024);
            REQUIRE(entry.fields.size() == 801);
            CHECK(entry.fields[0].value == "-1.5e3");
            CHECK(entry.fields[800].value == R"({"at":"frame 799"})");
            mapper.trim();  // the entry has gone
            auto seen = pjtest::see(mapper.map(Line{R"({"msg":"short","level":"warn","x":1})"}));
            CHECK(seen.message == "short");
            CHECK(seen.priority == 4);
            CHECK(seen.fields == "LEVEL=warn | X=1");
            // A short line after a long one trims by itself, the entry still whole.
            mapper.map(Line{long_line});
            seen = pjtest::see(mapper.map(Line{R"({"msg":"again","y":[2]})"}));
            CHECK(seen.message == "again");
            CHECK(seen.fields == "Y=2");
        }
    }

}  // TEST_SUITE
