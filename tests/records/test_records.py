"""Real crash reports joined into records, checked entry by entry.

Python 3.11 (Debian's interpreter, gen_python.py), a Java program compiled here with Debian's JDK
(Crash.java) and a Go program built here with Debian's golang-go (crash.go) write what they write
when they fail: tracebacks, printStackTrace, uncaught exceptions, panics and fatal errors. Their
output, between ordinary lines, JSON lines and <N>-prefixed lines, goes through the record joiner
(pj-join-lines: LineBuffer → RecordJoiner → LineMapper, Multiline=python java go) and must come out
as one entry per crash report, MESSAGE= its lines exactly, PRIORITY= and PIPEJOURNAL_MULTILINE= as
the contract says, every line around it its own entry — in every chunking of the same bytes.

What each program wrote for its crash is the oracle: the whole report is one record, whatever the
rules inside it; nothing here re-implements the rules.

Run by meson (suite "records"); PJ_JOIN_LINES names the driver.
"""
import functools
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
JOIN_LINES = os.environ.get("PJ_JOIN_LINES", "")
PYTHON = "/usr/bin/python3"  # Debian's 3.11, not whatever python3 is first on PATH
DEFAULT_PRIORITY = 6
# Every chunking must give the same entries: one read, byte by byte, odd sizes, mixed sizes.
CHUNKINGS = [None, "1", "7", "61", "4096", "3,1,200,17"]
PREFIX = re.compile(r"^<0{0,2}([0-7])>")
LEVELS = {"error": 3, "warn": 4, "info": 6, "debug": 7}

WORK = pathlib.Path(tempfile.mkdtemp(prefix="pj-records-"))


def tearDownModule():
    shutil.rmtree(WORK, ignore_errors=True)


def need(tool):
    path = shutil.which(tool)
    if not path:
        raise AssertionError(f"{tool} not found: scripts/install-deps.sh installs it")
    return path


@functools.cache
def java_classes():
    need("javac")
    classes = WORK / "java"
    subprocess.run(["javac", "-d", str(classes), str(HERE / "Crash.java")], check=True)
    return classes


@functools.cache
def go_binary():
    need("go")
    binary = WORK / "crash"
    env = dict(os.environ, GOCACHE=str(WORK / "gocache"), GOPATH=str(WORK / "gopath"),
               GO111MODULE="off", GOFLAGS="")
    subprocess.run(["go", "build", "-o", str(binary), str(HERE / "crash.go")], check=True,
                   env=env, cwd=WORK)
    return binary


def stderr_of(argv, env=None, expect_status=None):
    run = subprocess.run(argv, capture_output=True, env=env, timeout=60)
    if expect_status is not None and run.returncode != expect_status:
        raise AssertionError(f"{argv} exited {run.returncode}, expected {expect_status}:\n"
                             f"{run.stderr.decode(errors='replace')}")
    if run.stdout:
        raise AssertionError(f"{argv} wrote to stdout: {run.stdout!r}")
    return run.stderr.decode()


@functools.cache
def python_report(name):
    crashes = name not in ("logging_exception", "stack_info", "print_exc")
    return stderr_of([PYTHON, str(HERE / "gen_python.py"), name], expect_status=1 if crashes else 0)


@functools.cache
def java_report(name):
    crashes = name in ("thread", "error")
    text = stderr_of(["java", "-cp", str(java_classes()), "Crash", name])
    if crashes and "Exception in thread" not in text:
        raise AssertionError(f"java Crash {name}: no uncaught exception:\n{text}")
    return text


@functools.cache
def go_report(name):
    env = dict(os.environ, GOTRACEBACK="all" if name == "all" else "single")
    return stderr_of([str(go_binary()), name], env=env, expect_status=2)


# A crash report and what it must become. `leading`: lines the program wrote before the report
# (logging's own message line), which stay lines of their own.
class Report:
    def __init__(self, rule, text, leading=0, priority=3):
        self.rule, self.text, self.leading, self.priority = rule, text, leading, priority

    def lines(self):
        assert self.text.endswith("\n"), self.text
        return self.text[:-1].split("\n")


def python(name, leading=0, priority=3):
    return Report("python", python_report(name), leading, priority)


def java(name):
    return Report("java", java_report(name))


def go(name):
    # Two threads that find the same fault at once both print the header ("fatal error: concurrent
    # map writes" twice, now and then): the go rule does not go on through a header, so each
    # header followed by another is a line of its own, and the record starts at the last one.
    lines = go_report(name).split("\n")
    leading = 0
    while leading + 1 < len(lines) and lines[leading + 1].startswith(("fatal error: ", "panic: ")):
        leading += 1
    return Report("go", go_report(name), leading)


PYTHON_REPORTS = {
    "logging.exception": lambda: python("logging_exception", leading=1),
    "raise from": lambda: python("raise_from"),
    "implicit chaining": lambda: python("implicit"),
    "3.11 carets": lambda: python("carets"),
    "ExceptionGroup": lambda: python("exception_group"),
    "stack_info=True": lambda: python("stack_info", leading=1, priority=DEFAULT_PRIORITY),
    "RecursionError": lambda: python("recursion"),
    "bare exception name": lambda: python("bare"),
    "traceback.print_exc": lambda: python("print_exc"),
}
JAVA_REPORTS = {
    "Caused by, ... N more": lambda: java("caused_by"),
    "Suppressed": lambda: java("suppressed"),
    "multi-line message": lambda: java("multiline_message"),
    "uncaught in a thread": lambda: java("thread"),
    "uncaught in main": lambda: java("error"),
}
GO_REPORTS = {
    "panic": lambda: go("panic"),
    "GOTRACEBACK=all": lambda: go("all"),
    "[recovered]": lambda: go("recovered"),
    "nil dereference, [signal": lambda: go("nil"),
    "fatal error: deadlock": lambda: go("deadlock"),
    "fatal error: concurrent map writes": lambda: go("map"),
}
ALL_REPORTS = {**PYTHON_REPORTS, **JAVA_REPORTS, **GO_REPORTS}

BEFORE = ["<6>service starting", '{"level":"info","msg":"listening","port":8080}',
          "plain line before it"]
AFTER = ["<4>after the crash", '{"level":"error","msg":"restarting","attempt":2}',
         "plain line after it"]
BETWEEN = ['{"level":"warn","msg":"between two reports"}']


def line_entry(line):
    """The entry of an ordinary line, as the contract maps it."""
    match = PREFIX.match(line)
    rest = line[match.end():] if match else line
    priority = int(match.group(1)) if match else DEFAULT_PRIORITY
    if rest.lstrip(" \t").startswith("{"):
        obj = json.loads(rest)
        return {"message": obj["msg"], "priority": match and priority or LEVELS[obj["level"]],
                "multiline": "", "lines": 1, "structured": True, "format_error": ""}
    return {"message": rest, "priority": priority, "multiline": "", "lines": 1,
            "structured": False, "format_error": ""}


class Stream:
    """Bytes to feed and the entries they must give."""

    def __init__(self):
        self.text, self.expected = "", []

    def lines(self, lines):
        for line in lines:
            self.text += line + "\n"
            self.expected.append(line_entry(line))
        return self

    def report(self, report, first_prefix=None, other_prefixes=False):
        lines = report.lines()
        self.lines(lines[:report.leading])
        body = lines[report.leading:]
        trailing = 0
        while body and body[-1] == "":
            body.pop()
            trailing += 1
        written = list(body)
        if first_prefix is not None:
            written[0] = f"<{first_prefix}>" + written[0]
        if other_prefixes:  # a writer that prefixes every line: removed from MESSAGE, ignored
            written[1:] = [f"<5>{line}" for line in written[1:]]
        self.text += "".join(line + "\n" for line in written)
        self.expected.append({
            "message": "\n".join(body),
            "priority": first_prefix if first_prefix is not None else report.priority,
            "multiline": report.rule, "lines": len(body), "structured": False,
            "format_error": ""})
        self.lines([""] * trailing)
        return self


def join(text, *args):
    run = subprocess.run([JOIN_LINES, *args], input=text.encode(), capture_output=True,
                         timeout=60)
    if run.returncode != 0:
        raise AssertionError(f"pj-join-lines {args} exited {run.returncode}: "
                             f"{run.stderr.decode(errors='replace')}")
    return [json.loads(line) for line in run.stdout.decode().splitlines()]


def show(entries):
    return "\n".join(f"  [{e['priority']}] {e['multiline'] or '-'} {e['lines']}: "
                     f"{e['message'][:120]!r}" for e in entries)


class RecordsTest(unittest.TestCase):
    maxDiff = None

    def check(self, stream, *args):
        for chunk in CHUNKINGS:
            extra = [f"--chunk={chunk}"] if chunk else []
            seen = join(stream.text, *args, *extra)
            if seen != stream.expected:
                self.fail(f"chunks {chunk or 'whole'}: expected\n{show(stream.expected)}\n"
                          f"saw\n{show(seen)}\nfirst difference: "
                          + next((f"entry {i}: expected {e!r}, saw {s!r}"
                                  for i, (e, s) in enumerate(zip(stream.expected, seen))
                                  if e != s), f"{len(stream.expected)} vs {len(seen)} entries"))

    def test_each_report_is_one_record_between_other_lines(self):
        for name, make in ALL_REPORTS.items():
            with self.subTest(name):
                self.check(Stream().lines(BEFORE).report(make()).lines(AFTER))

    def test_first_line_prefix_sets_priority_and_every_prefix_is_removed(self):
        for name, make in ALL_REPORTS.items():
            with self.subTest(name):
                self.check(Stream().lines(BEFORE).report(make(), first_prefix=2,
                                                         other_prefixes=True).lines(AFTER))

    def test_reports_back_to_back_stay_two_records(self):
        for reports in (PYTHON_REPORTS, JAVA_REPORTS, GO_REPORTS, ALL_REPORTS):
            names = list(reports)
            for first, second in zip(names, names[1:] + names[:1]):
                with self.subTest(f"{first} then {second}"):
                    self.check(Stream().report(ALL_REPORTS[first]())
                               .report(ALL_REPORTS[second]()).lines(AFTER))

    def test_every_report_in_one_stream(self):
        stream = Stream().lines(BEFORE)
        for make in ALL_REPORTS.values():
            stream.report(make()).lines(BETWEEN)
        self.check(stream.lines(AFTER))

    def test_a_report_at_the_end_of_input_goes_out_whole(self):
        for name, make in ALL_REPORTS.items():
            with self.subTest(name):
                self.check(Stream().lines(BEFORE).report(make()))

    def test_each_rule_alone_takes_only_its_own_reports(self):
        # Except where its rule says otherwise: inside an exception group's report,
        # "    | ValueError: bad value" is followed by indented lines, which is a java record.
        takes_too = {("java", "ExceptionGroup")}
        for rule, own in (("python", PYTHON_REPORTS), ("java", JAVA_REPORTS),
                          ("go", GO_REPORTS)):
            for name, make in ALL_REPORTS.items():
                report = make()
                if name in own or (rule, name) in takes_too:
                    continue
                with self.subTest(f"Multiline={rule}: {name}"):
                    stream = Stream().lines(BEFORE).lines(report.lines()).lines(AFTER)
                    self.check(stream, f"--multiline={rule}")

    def test_multiline_empty_gives_one_entry_per_line(self):
        stream = Stream().lines(BEFORE)
        for make in ALL_REPORTS.values():
            stream.lines(make().lines())
        self.check(stream.lines(AFTER), "--multiline=")

    def test_format_plain_joins_the_same_records(self):
        stream = Stream().lines(["<6>service starting", "plain line before it"])
        for make in ALL_REPORTS.values():
            stream.report(make())
        self.check(stream.lines(["plain line after it"]), "--format=plain")


if __name__ == "__main__":
    if not JOIN_LINES:
        sys.exit("PJ_JOIN_LINES must name pj-join-lines")
    unittest.main()
