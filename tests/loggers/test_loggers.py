"""Real loggers' output mapped field by field, with the shipped defaults.

Every logger the contract lists ("Structured lines": what common loggers write must land right
with the defaults) writes records as an application would, at test time, with the logger itself:

  Node.js (npm, tests/loggers/package-lock.json): pino, bunyan, winston (npm and syslog levels),
      Elastic's ECS formatters for pino and winston, bole;
  Python (Debian): structlog, python-json-logger, loguru (serialize=True);
  Go (Debian's sources, built here in GOPATH mode): logrus (JSONFormatter, JSONFormatter with a
      FieldMap of @-keys, TextFormatter = logfmt), zerolog, zap;
  Java (Debian's jars, compiled here): log4j2 JsonLayout (also a 700-frame stack trace) and
      log4j-core's GelfLayout;
  PHP (Debian): Monolog's JsonFormatter and LogstashFormatter.

Formats with no packaged logger here are written from their published definition (spec.py, marked
"spec" in the table): Go's slog (JSON and text handlers, Go >= 1.21; Debian 12 has Go 1.19),
log4j2 JsonTemplateLayout's ECS and GELF layouts, Serilog's CLEF, Elastic's ECS logging spec, GELF.

Each line goes through LineMapper (pj-map-lines, the shipped FormatOptions: Format=auto for JSON,
Format=logfmt for logfmt) and must come out structured with:
  - MESSAGE= the message the application gave and PRIORITY= what the logger's level means, for
    every level the logger has;
  - exactly the fields the contract's rules give for that line, computed here independently from
    the line itself (reference_json / reference_logfmt), in order, duplicates and all;
  - the fields the application set on purpose, named as a person would look for them.

    meson test -C build --suite loggers                       # the test (PJ_MAP_LINES from meson)
    test_loggers.py --table NAME=pj-map-lines [NAME=...]      # the closing-note table, no asserts

Run by meson with PJ_MAP_LINES and PJ_LOGGERS_BUILD (where the Go program and the Java classes
are built); exits 77 (skipped) when the npm loggers are not installed. scripts/install-deps.sh
installs every package the generators need.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = pathlib.Path(__file__).resolve().parent
MAP_LINES = os.environ.get("PJ_MAP_LINES", "")
BUILD = pathlib.Path(os.environ.get("PJ_LOGGERS_BUILD")
                     or tempfile.mkdtemp(prefix="pj-loggers-")).resolve()
PYTHON = "/usr/bin/python3"  # Debian's, with Debian's python3-structlog etc.

# The contract's defaults ("Structured lines").
DEFAULT_PRIORITY = 6
HIGHEST_PRIORITY = 2  # HighestPriority=crit, the default


def limited(priority):
    """(PRIORITY, PIPEJOURNAL_REQUESTED_PRIORITY or -1) of a line asking for `priority`."""
    return (HIGHEST_PRIORITY, priority) if priority < HIGHEST_PRIORITY else (priority, -1)
MESSAGE_KEYS = ["msg", "message", "event", "@m", "@message", "short_message", "record.message"]
PRIORITY_KEYS = ["level", "severity", "levelname", "level_name", "lvl", "loglevel", "@l", "@level",
                 "log.level", "record.level.name"]
MAX_FIELDS = 900
LEVEL_NAMES = {
    **dict.fromkeys(["emerg", "emergency", "panic"], 0), "alert": 1,
    **dict.fromkeys(["crit", "critical", "fatal", "dpanic"], 2),
    **dict.fromkeys(["err", "error", "severe"], 3), **dict.fromkeys(["warn", "warning"], 4),
    **dict.fromkeys(["notice", "success"], 5),
    **dict.fromkeys(["info", "information", "informational"], 6),
    **dict.fromkeys(["debug", "trace", "verbose", "silly", "fine", "finer", "finest"], 7),
}
PINO_SCALE = [(10, 7), (20, 7), (30, 6), (40, 4), (50, 3), (60, 2)]
MONOLOG_SCALE = [(100, 7), (200, 6), (250, 5), (300, 4), (400, 3), (500, 2), (550, 1), (600, 0)]


# ------------------------------------------------------------------ the contract, written afresh
class Raw(str):
    """A JSON number, kept as written."""


def parse_pairs(line):
    """The line's object as nested lists of (key, value) pairs: order and duplicates kept."""
    return json.loads(line, object_pairs_hook=list, parse_int=Raw, parse_float=Raw)


def is_object(value):
    return isinstance(value, list) and all(isinstance(p, tuple) for p in value)


def compact(value):
    if isinstance(value, Raw):
        return str(value)
    if is_object(value) and value:
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + compact(v)
                              for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(compact(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def field_name(path):
    raw = "_".join(path).encode()
    name = "".join(chr(b).upper() if chr(b).isascii() and (chr(b).isalnum() or chr(b) == "_")
                   else "_" for b in raw).lstrip("_")
    if (not name or name[0].isdigit() or name in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER")
            or name.startswith("PIPEJOURNAL_")):
        name = "F_" + name
    return name[:64]


def level_of(value, numbers):
    """The contract's level reading; None when not a recognised level."""
    if isinstance(value, str) and not isinstance(value, Raw) and value.lower() in LEVEL_NAMES:
        return LEVEL_NAMES[value.lower()]
    if not numbers or not isinstance(value, str) or not value.isascii() or not value.isdigit():
        return None
    n = int(value)
    if n <= 7:
        return n
    for scale in (PINO_SCALE, MONOLOG_SCALE):
        if scale[0][0] <= n <= scale[-1][0]:
            return [p for at, p in scale if at <= n][-1]
    return None


def choose(values, message_index, line):
    """MESSAGE and PRIORITY from (dotted key, value, kind) for every value the line gives."""
    message, message_key, message_at = line, None, None
    for key in MESSAGE_KEYS:
        strings = [i for i, (dotted, v, kind) in enumerate(values)
                   if dotted == key and kind in ("string", "text")]
        if strings:
            message_key, message_at = key, strings[-1]  # the LAST string value
            message = values[message_at][1]
            break
    priority = DEFAULT_PRIORITY
    for key in PRIORITY_KEYS:
        levels = [level_of(v, kind != "string") for dotted, v, kind in values if dotted == key]
        levels = [p for p in levels if p is not None]
        if levels:
            priority = levels[0]  # the FIRST recognised value
            break
    return message, message_key, message_at, priority


def reference_json(line):
    """(message, priority, fields) for one JSON line by the contract's rules."""
    leaves = []  # (dotted path, name path, value) for every key, containers included

    def walk(pairs, path):
        for key, value in pairs:
            leaves.append((".".join(path + [key]), path + [key], value))
            if is_object(value) and value:
                walk(value, path + [key])

    walk(parse_pairs(line), [])

    def kind(v):
        if isinstance(v, Raw) or isinstance(v, bool):
            return "literal"
        return "string" if isinstance(v, str) else "container"

    values = [(dotted, v, kind(v)) for dotted, _, v in leaves]
    message, message_key, message_at, priority = choose(values, None, line)
    fields = []
    for i, (dotted, path, value) in enumerate(leaves):
        if i == message_at or value is None or (is_object(value) and value):
            continue
        elements = value if isinstance(value, list) and not is_object(value) else [value]
        if is_object(value):  # empty object
            elements = []
        scalar = not isinstance(value, list)
        for element in elements:
            if element is None:
                continue
            text = (compact(element) if isinstance(element, list)
                    else "true" if element is True else "false" if element is False
                    else str(element))
            name = "F_MESSAGE" if scalar and dotted == message_key else field_name(path)
            fields.append([name, text])
    return message, priority, fields


def go_unquote(body):
    """strconv.Unquote of a double-quoted string's body (without the quotes), as bytes → str."""
    out, i = bytearray(), 0
    simple = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}
    raw = body.encode("utf-8", "surrogateescape")
    while i < len(raw):
        c = chr(raw[i])
        if c != "\\":
            out.append(raw[i])
            i += 1
            continue
        e = chr(raw[i + 1])
        if e in simple:
            out.append(simple[e])
            i += 2
        elif e == "x":
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        elif e in "01234567":
            out.append(int(raw[i + 1:i + 4], 8))
            i += 4
        elif e in "uU":
            n = 4 if e == "u" else 8
            out += chr(int(raw[i + 2:i + 2 + n], 16)).encode()
            i += 2 + n
        else:
            raise ValueError(f"escape \\{e}")
    return out.decode("utf-8", "surrogateescape")


LOGFMT_PAIR = re.compile(r'([^ \t="]*)(?:=("(?:[^"\\]|\\.)*"|[^ \t]*))?')


def reference_logfmt(line):
    """(message, priority, fields) for one logfmt line by the contract's rules."""
    pairs, i = [], 0
    while True:
        while i < len(line) and line[i] in " \t":
            i += 1
        if i == len(line):
            break
        m = LOGFMT_PAIR.match(line, i)
        key, value = m.group(1), m.group(2)
        if value is None:
            pairs.append((key, "true", "literal"))  # a bare key
        elif value.startswith('"'):
            pairs.append((key, go_unquote(value[1:-1]), "text"))
        else:
            pairs.append((key, value, "text"))
        i = m.end()
    message, message_key, message_at, priority = choose(pairs, None, line)
    fields = [["F_MESSAGE" if key == message_key else field_name([key]), value]
              for n, (key, value, _) in enumerate(pairs) if n != message_at]
    return message, priority, fields


# ------------------------------------------------------------------ the loggers
RECORD_FIELDS = {"user": {"id": 17, "name": "ann"}, "tags": ["a", "b"], "took": 1.5,
                 "retry": True}
FIELD_ORDER = ["user", "tags", "took", "retry"]
TOP_LEVEL = {"USER_ID": ["17"], "USER_NAME": ["ann"], "TAGS": ["a", "b"], "TOOK": ["1.5"],
             "RETRY": ["true"]}


def prefixed(prefix, fields=TOP_LEVEL):
    return {prefix + name: values for name, values in fields.items()}


def message_for(case, level, n):
    # Quotes, non-ASCII, control characters (a tab, CR, NUL), U+2028, a line break: what escaping
    # must survive in JSON and logfmt alike (Go's %q writes \t \r \x00 \u2028).
    return f'{case} {level} #{n}: disk "sda" 92% full, ü €\tcol\r\x00\u2028 end\nsecond line'


class Case:
    """One logger and format: how to run it, its levels and what they mean, what to check."""

    def __init__(self, name, run, levels, fmt="json", source="logger", app_fields=None,
                 fields=None, context=None, extra=(), message_ok=True):
        self.name, self.run, self.levels, self.fmt, self.source = name, run, levels, fmt, source
        self.app_fields = TOP_LEVEL if app_fields is None else app_fields
        self.fields = RECORD_FIELDS if fields is None else fields
        self.context = context or {}  # log4j2's ThreadContext: strings only
        self.extra = list(extra)  # (record overrides, expected priority, check(entry) or None)
        self.message_ok = message_ok  # False: the contract has no key for this format's message

    def records(self):
        out = []
        for n, (level, priority) in enumerate(self.levels):
            out.append(({"level": level, "msg": message_for(self.name, level, n),
                         "fields": self.fields, "keys": FIELD_ORDER, "context": self.context},
                        priority, None))
        for n, (overrides, priority, check) in enumerate(self.extra, len(self.levels)):
            record = {"msg": message_for(self.name, overrides["level"], n), "fields": {},
                      "keys": [], "context": {}, **overrides}
            out.append((record, priority, check))
        return out


def run_node(kind):
    return lambda spec: ["node", str(HERE / "emit.js"), kind, spec]


def run_python(kind):
    return lambda spec: [PYTHON, str(HERE / "emit.py"), kind, spec]


def run_spec(kind):
    return lambda spec: [PYTHON, str(HERE / "spec.py"), kind, spec]


def require(program, package):
    if shutil.which(program) is None:
        raise unittest.SkipTest(f"{program} not found: install {package} (scripts/install-deps.sh)")


_go_binary = None


def go_binary():
    """Builds go/emit.go against Debian's Go sources (GOPATH mode) once per run."""
    global _go_binary
    if _go_binary is None:
        require("go", "golang-go")
        out = BUILD / "pj-emit-go"
        env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode",
                   GOCACHE=str(BUILD / "go-cache"), GOFLAGS="", CGO_ENABLED="0")
        subprocess.run(["go", "build", "-o", str(out), str(HERE / "go" / "emit.go")], env=env,
                       check=True, capture_output=True, timeout=600)
        _go_binary = out
    return _go_binary


def run_go(kind):
    return lambda spec: [str(go_binary()), kind, spec]


JAVA_CLASSPATH = ":".join(f"/usr/share/java/{jar}.jar" for jar in (
    "log4j-api", "log4j-core", "jackson-databind", "jackson-core", "jackson-annotations"))
_java_classes = None


def java_classes():
    global _java_classes
    if _java_classes is None:
        require("javac", "default-jdk-headless")
        out = BUILD / "java-classes"
        out.mkdir(exist_ok=True)
        subprocess.run(["javac", "-cp", JAVA_CLASSPATH, "-d", str(out),
                        str(HERE / "java" / "Emit.java")], check=True, capture_output=True,
                       timeout=300)
        _java_classes = out
    return _java_classes


def run_java(kind):
    return lambda spec: ["java", "-cp", f"{JAVA_CLASSPATH}:{java_classes()}", "Emit", kind, spec]


def run_php(kind):
    require("php", "php-cli")
    return lambda spec: ["php", str(HERE / "php" / "emit.php"), kind, spec]


def fields_named(entry, name):
    return [v for n, v in entry["fields"] if n == name]


def check_long_trace(entry):
    frames = fields_named(entry, "THROWN_CAUSE_EXTENDEDSTACKTRACE")
    assert len(frames) == 700, f"700 frames as fields, saw {len(frames)}"
    assert 700 < len(entry["fields"]) <= MAX_FIELDS, len(entry["fields"])
    assert json.loads(frames[0])["method"] == "deep", frames[0]


def check_zerolog_duplicate(entry):
    assert fields_named(entry, "F_MESSAGE") == ["the caller's own message field"], entry["fields"]


def check_gelf_trace(entry):
    trace = fields_named(entry, "FULL_MESSAGE")
    assert len(trace) == 1 and "Caused by: java.lang.IllegalStateException" in trace[0], trace


def check_loguru_exception(entry):
    assert fields_named(entry, "RECORD_EXCEPTION_TYPE") == ["ValueError"], entry["fields"]


def check_field(name, value):
    def check(entry):
        assert fields_named(entry, name) == [value], (name, value, entry["fields"])
    return check


PINO_LEVELS = [("trace", 7), ("debug", 7), ("info", 6), ("warn", 4), ("error", 3), ("fatal", 2)]
# winston's npm levels: "http" is no level the contract knows; DefaultPriority= (6, info) is what
# it means, between info and verbose.
WINSTON_LEVELS = [("error", 3), ("warn", 4), ("info", 6), ("http", 6), ("verbose", 7),
                  ("debug", 7), ("silly", 7)]
SYSLOG_LEVELS = [("emerg", 0), ("alert", 1), ("crit", 2), ("error", 3), ("warning", 4),
                 ("notice", 5), ("info", 6), ("debug", 7)]
LOGRUS_LEVELS = [("trace", 7), ("debug", 7), ("info", 6), ("warning", 4), ("error", 3),
                 ("fatal", 2), ("panic", 0)]
LOG4J_LEVELS = [("TRACE", 7), ("DEBUG", 7), ("INFO", 6), ("WARN", 4), ("ERROR", 3), ("FATAL", 2)]
# GELF's level is a syslog severity: log4j's own mapping (org.apache.logging.log4j.core.net
# .Severity) makes FATAL 1 (alert).
LOG4J_GELF_LEVELS = [("TRACE", 7), ("DEBUG", 7), ("INFO", 6), ("WARN", 4), ("ERROR", 3),
                     ("FATAL", 1)]
MONOLOG_LEVELS = [("debug", 7), ("info", 6), ("notice", 5), ("warning", 4), ("error", 3),
                  ("critical", 2), ("alert", 1), ("emergency", 0)]
SLOG_LEVELS = [("DEBUG", 7), ("INFO", 6), ("WARN", 4), ("ERROR", 3)]
CLEF_LEVELS = [("Verbose", 7), ("Debug", 7), ("Information", 6), ("Warning", 4), ("Error", 3),
               ("Fatal", 2)]
STRINGS = {"user": {"id": "17", "name": "ann"}}  # ThreadContext/MDC values are strings


CASES = [
    Case("pino", run_node("pino"), PINO_LEVELS),
    Case("bunyan", run_node("bunyan"), PINO_LEVELS),
    Case("winston (npm levels)", run_node("winston"), WINSTON_LEVELS),
    Case("winston (syslog levels)", run_node("winston-syslog"), SYSLOG_LEVELS),
    Case("ECS pino format", run_node("ecs-pino"), PINO_LEVELS),
    Case("ECS winston format", run_node("ecs-winston"), WINSTON_LEVELS),
    Case("bole", run_node("bole"), [("debug", 7), ("info", 6), ("warn", 4), ("error", 3)]),
    Case("structlog", run_python("structlog"),
         [("debug", 7), ("info", 6), ("warning", 4), ("error", 3), ("critical", 2), ("msg", 6)]),
    Case("python-json-logger", run_python("jsonlogger"),
         [("debug", 7), ("info", 6), ("warning", 4), ("error", 3), ("critical", 2)]),
    Case("loguru (serialize=True)", run_python("loguru"),
         [("trace", 7), ("debug", 7), ("info", 6), ("success", 5), ("warning", 4), ("error", 3),
          ("critical", 2)],
         app_fields=prefixed("RECORD_EXTRA_"),
         extra=[({"level": "error", "exception": "bad input"}, 3, check_loguru_exception)]),
    Case("logrus JSONFormatter", run_go("logrus-json"), LOGRUS_LEVELS),
    Case("logrus JSONFormatter, FieldMap @-keys", run_go("logrus-fieldmap"), LOGRUS_LEVELS),
    Case("logrus TextFormatter (logfmt)", run_go("logrus-text"), LOGRUS_LEVELS, fmt="logfmt",
         app_fields={"USER": ["map[id:17 name:ann]"], "TAGS": ["[a b]"], "TOOK": ["1.5"],
                     "RETRY": ["true"]}),
    Case("zerolog", run_go("zerolog"),
         [("trace", 7), ("debug", 7), ("info", 6), ("warn", 4), ("error", 3), ("fatal", 2),
          ("panic", 0)],
         extra=[({"level": "info", "fields": {"message": "the caller's own message field"},
                  "keys": ["message"]}, 6, check_zerolog_duplicate)]),
    Case("zap (production JSON)", run_go("zap"),
         [("debug", 7), ("info", 6), ("warn", 4), ("error", 3), ("dpanic", 2), ("panic", 0),
          ("fatal", 2)]),
    Case("log4j2 JsonLayout", run_java("json"), LOG4J_LEVELS, fields={},
         context={"user_id": "17"}, app_fields={"CONTEXTMAP_USER_ID": ["17"]},
         extra=[({"level": "ERROR", "context": {"user_id": "17"}, "frames": 700}, 3,
                 check_long_trace)]),
    Case("log4j2 GelfLayout", run_java("gelf"), LOG4J_GELF_LEVELS, fields={},
         context={"user_id": "17"}, app_fields={"USER_ID": ["17"]},
         extra=[({"level": "FATAL", "context": {"user_id": "17"}, "frames": 50}, 1,
                 check_gelf_trace)]),
    Case("Monolog JsonFormatter", lambda spec: run_php("json")(spec), MONOLOG_LEVELS,
         app_fields=prefixed("CONTEXT_")),
    Case("Monolog LogstashFormatter", lambda spec: run_php("logstash")(spec), MONOLOG_LEVELS,
         app_fields=prefixed("CONTEXT_")),
    Case("Go slog JSONHandler", run_spec("slog-json"), SLOG_LEVELS, source="spec"),
    Case("Go slog TextHandler (logfmt)", run_spec("slog-text"), SLOG_LEVELS, fmt="logfmt",
         source="spec", app_fields={"USER_ID": ["17"], "USER_NAME": ["ann"], "TAGS": ["[a b]"],
                                    "TOOK": ["1.5"], "RETRY": ["true"]}),
    Case("log4j2 JsonTemplateLayout EcsLayout", run_spec("ecs-template"), LOG4J_LEVELS,
         source="spec", fields=STRINGS, app_fields={"LABELS_USER_ID": ["17"]},
         extra=[({"level": "ERROR", "exception": True}, 3,
                 check_field("ERROR_TYPE", "java.lang.IllegalStateException"))]),
    Case("log4j2 JsonTemplateLayout GelfLayout", run_spec("gelf-template"), LOG4J_GELF_LEVELS,
         source="spec", fields=STRINGS, app_fields={"USER_ID": ["17"], "USER_NAME": ["ann"]}),
    Case("Serilog CLEF (rendered, @m)", run_spec("clef"), CLEF_LEVELS, source="spec",
         extra=[({"level": "Error", "exception": True}, 3, None)]),
    # CompactJsonFormatter writes only the message template "@mt", which MessageKeys= does not
    # list: MESSAGE= is then the whole line (see the report; not a defect of the mapping).
    Case("Serilog CLEF (template only, @mt)", run_spec("clef-template"), CLEF_LEVELS,
         source="spec", message_ok=False),
    Case("Elastic ECS logging", run_spec("ecs"),
         [("trace", 7), ("debug", 7), ("info", 6), ("warn", 4), ("error", 3), ("fatal", 2)],
         source="spec"),
    # GELF's additional fields are strings or numbers only.
    Case("GELF 1.1", run_spec("gelf"), [(n, n) for n in range(8)], source="spec",
         fields={"user": {"id": 17, "name": "ann"}},
         app_fields={"USER_ID": ["17"], "USER_NAME": ["ann"]}),
]


def generate(case):
    """Runs the logger: [(line, record, expected priority, check)], one per record."""
    records = case.records()
    spec = json.dumps([r for r, _, _ in records])
    out = subprocess.run(case.run(spec), cwd=HERE, capture_output=True, timeout=300)
    if out.returncode != 0:
        raise AssertionError(f"{case.name}: exit {out.returncode}\n{out.stderr.decode()}")
    # Only "\n" ends a line (splitlines() would also split at "\r" and U+2028, which zap writes raw).
    lines = out.stdout.decode("utf-8", "surrogateescape").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(records):
        raise AssertionError(f"{case.name}: {len(records)} records, wrote {len(lines)} lines:\n"
                             + "\n".join(lines) + out.stderr.decode())
    return [(line, record, priority, check)
            for line, (record, priority, check) in zip(lines, records)]


def map_lines(program, lines, fmt):
    result = subprocess.run([program, "--format=" + ("auto" if fmt == "json" else fmt)],
                            input="".join(line + "\n" for line in lines).encode(
                                "utf-8", "surrogateescape"),
                            capture_output=True, check=True, timeout=120)
    return [json.loads(entry) for entry in
            result.stdout.decode("utf-8", "surrogateescape").split("\n") if entry]


def message_as_contract(case, record, entry, line):
    """MESSAGE= the application's message; for a format whose message key the contract does not
    list, the whole line."""
    return entry["message"] == (record["msg"] if case.message_ok else line)


# ------------------------------------------------------------------ the test
class RealLoggers(unittest.TestCase):
    maxDiff = 4000

    def check(self, case):
        generated = generate(case)
        lines = [line for line, _, _, _ in generated]
        entries = map_lines(MAP_LINES, lines, case.fmt)
        self.assertEqual(len(entries), len(lines))
        reference = reference_json if case.fmt == "json" else reference_logfmt
        for (line, record, priority, check), entry in zip(generated, entries):
            with self.subTest(logger=case.name, level=record["level"], line=line[:300]):
                self.assertTrue(entry["structured"], entry["format_error"])
                self.assertEqual(entry["format_error"], "")
                self.assertTrue(message_as_contract(case, record, entry, line),
                                f"MESSAGE {entry['message']!r}, want {record['msg']!r}")
                # What the logger meant, within HighestPriority= (crit by default): a more
                # urgent level is limited to it and said in PIPEJOURNAL_REQUESTED_PRIORITY=.
                self.assertEqual((entry["priority"], entry["requested_priority"]),
                                 limited(priority), f"PRIORITY for level {record['level']}")
                want_message, want_priority, want_fields = reference(line)
                self.assertEqual((entry["message"], entry["priority"]),
                                 (want_message, limited(want_priority)[0]))
                self.assertEqual(entry["fields"], want_fields)
                names = [n for n, _ in entry["fields"]]
                for ours in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER"):
                    self.assertNotIn(ours, names)
                if check is not None:
                    check(entry)
                elif record["fields"] or record["context"]:
                    for name, values in case.app_fields.items():
                        self.assertEqual(fields_named(entry, name), values,
                                         f"{name} in {entry['fields']}")
        # The Format= a user would set for this format says the same.
        strict = map_lines(MAP_LINES, lines, case.fmt if case.fmt == "logfmt" else "json")
        self.assertEqual(strict, entries)


def add_tests():
    for case in CASES:
        slug = re.sub(r"[^a-z0-9]+", "_", case.name.lower()).strip("_")
        setattr(RealLoggers, f"test_{slug}", lambda self, case=case: self.check(case))


add_tests()


# ------------------------------------------------------------------ the closing-note table
def table(mappers):
    """One row per logger and format: records, MESSAGE right, PRIORITY right, fields as the
    contract says, for each named mapper (e.g. before=main's build, after=this one)."""
    head = ["logger and format", "output by", "records"]
    for name in mappers:
        head += [f"MESSAGE right ({name})", f"PRIORITY right ({name})",
                 f"structured, fields as contract ({name})"]
    rows = []
    for case in CASES:
        try:
            generated = generate(case)
        except (unittest.SkipTest, AssertionError, subprocess.CalledProcessError) as e:
            rows.append([case.name, case.source, f"not run: {e}"])
            continue
        lines = [line for line, _, _, _ in generated]
        reference = reference_json if case.fmt == "json" else reference_logfmt
        row = [case.name, "the logger" if case.source == "logger" else "its spec",
               str(len(lines))]
        for program in mappers.values():
            entries = map_lines(program, lines, case.fmt)
            m = sum(e["message"] == r["msg"] for (_, r, _, _), e in zip(generated, entries))
            # Without the limit (an older mapper) or within it: what the logger meant.
            p = sum(e["priority"] in (want, limited(want)[0])
                    for (_, _, want, _), e in zip(generated, entries))
            f = sum(e["structured"] and e["fields"] == reference(line)[2]
                    for (line, _, _, _), e in zip(generated, entries))
            row += [f"{m}/{len(lines)}", f"{p}/{len(lines)}", f"{f}/{len(lines)}"]
        rows.append(row)
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    if not (HERE / "node_modules" / "pino").is_dir():
        print("test_loggers.py: npm loggers not installed (run scripts/install-deps.sh)")
        sys.exit(77)
    if len(sys.argv) > 1 and sys.argv[1] == "--table":
        table(dict(arg.split("=", 1) for arg in sys.argv[2:]))
        sys.exit(0)
    if not MAP_LINES:
        sys.exit("test_loggers.py: set PJ_MAP_LINES to the pj-map-lines program")
    unittest.main()
