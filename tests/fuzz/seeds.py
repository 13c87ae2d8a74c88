#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/: the cases each target should start from, named
for what they hold. The binary layouts are those described at the top of each fuzz_<name>.cpp.
Run it after changing a layout; the files are committed."""
import os
import pathlib
import shutil
import struct
import subprocess
import tempfile

corpus = pathlib.Path(__file__).parent / "corpus"


def lines_seed(line_max, read_size, ops, payload, release_at_end=False, finish_at_end=True):
    """ops: (chunk, release, new_line_max or 0); new_line_max is 1 + 7k, k in 0..63."""
    out = struct.pack(">H", line_max - 1) + bytes([read_size - 1])
    out += bytes([int(release_at_end) | int(finish_at_end) << 1, len(ops) - 1])
    for chunk, release, new_line_max in ops:
        flags = int(release)
        if new_line_max:
            assert (new_line_max - 1) % 7 == 0
            flags |= 2 | (new_line_max - 1) // 7 << 2
        out += bytes([chunk, flags])
    return out + payload


def native_seed(fields):
    out = b""
    for name, value in fields:
        long = len(value) > 255
        out += bytes([(len(name) - 1) | 0x40 | (0x80 if long else 0)]) + name
        out += struct.pack("<H", len(value)) if long else bytes([len(value)])
        out += value
    return out


def records_seed(rules, payload, line_max=200, lines=16, size=4096, chunks=(255,), rotate=0):
    """rules: names out of python java go indent."""
    bits = sum(1 << ["python", "java", "go", "indent"].index(r) for r in rules)
    out = bytes([bits | rotate << 4, line_max - 1, lines - 1]) + struct.pack(">H", size - 1)
    return out + bytes([len(chunks) - 1] + [c - 1 for c in chunks]) + payload


def real_reports():
    """Crash reports as the real programs write them (tests/records/), made when seeding."""
    here = pathlib.Path(__file__).parents[1] / "records"
    reports = {}
    for name in ["raise_from", "implicit", "exception_group", "stack_info", "recursion"]:
        reports["python-" + name] = subprocess.run(
            ["/usr/bin/python3", str(here / "gen_python.py"), name], capture_output=True).stderr
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(["javac", "-d", work, str(here / "Crash.java")], check=True)
        for name in ["caused_by", "suppressed", "multiline_message", "thread"]:
            reports["java-" + name] = subprocess.run(
                ["java", "-cp", work, "Crash", name], capture_output=True).stderr
        env = dict(os.environ, GOCACHE=work + "/cache", GOPATH=work + "/go", GO111MODULE="off")
        subprocess.run(["go", "build", "-o", work + "/crash", str(here / "crash.go")], check=True,
                       env=env, cwd=work)
        for name in ["recovered", "nil", "deadlock"]:
            reports["go-" + name] = subprocess.run([work + "/crash", name],
                                                   capture_output=True).stderr
    return reports


REPORTS = real_reports()
AROUND = b'<6>starting\n{"level":"info","msg":"ready"}\nplain line\n'

seeds = {
    "lines": {
        "one-read": lines_seed(16, 64, [(64, False, 0)], b"first\nsecond\r\nthird"),
        "byte-by-byte": lines_seed(8, 4, [(1, False, 0)], b"ab\r\ncd\n\nefghijklmnop\nq"),
        "crlf-split-across-reads": lines_seed(4, 8, [(4, False, 0), (1, False, 0)],
                                              b"abcd\r\nef\r\r\n"),
        "line-max-and-cr-at-end": lines_seed(4, 8, [(5, False, 0)], b"abcd\r"),
        "long-line-in-pieces": lines_seed(3, 2, [(2, False, 0), (7, False, 0)],
                                          b"0123456789abcdef\nxy\n"),
        "timeout-releases-partial": lines_seed(10, 16, [(3, True, 0), (5, False, 0)],
                                               b"abcdefgh\nij\r", release_at_end=True),
        "line-max-changes": lines_seed(20, 16, [(6, False, 8), (6, False, 22), (6, False, 1)],
                                       b"0123456789abcdefghij\nklmnop\r\nqrs"),
        "no-finish": lines_seed(5, 4, [(3, False, 0)], b"abc\ndefghij", finish_at_end=False),
    },
    "records": {
        **{name: records_seed(["python", "java", "go"], AROUND + report + AROUND,
                              line_max=255, lines=16, chunks=(61, 7, 255))
           for name, report in REPORTS.items()},
        "back-to-back": records_seed(["python", "java", "go"],
                                     REPORTS["python-implicit"] + REPORTS["java-caused_by"]
                                     + REPORTS["go-nil"] + REPORTS["python-stack_info"],
                                     line_max=255, chunks=(1, 100)),
        "indent-first": records_seed(["indent", "python"], b"config:\n  a: 1\n<3>\tb\n"
                                     + REPORTS["python-raise_from"], rotate=3),
        "bounds": records_seed(["go"], REPORTS["go-deadlock"] * 3, lines=3, size=60),
        "prefixes": records_seed(["java", "go"], b"<2>java.lang.Error: x\n<5>\tat a\n<03>panic: p"
                                 b"\n\n<007>goroutine 1 [running]:\n<3\n\t<4>x\n"),
        "json-and-cut": records_seed(["python", "java", "indent"],
                                     b'{"msg":"IOException: x"}\n  {"a":1}\nTraceback (most recent'
                                     b' call last):\n  ' + b"f" * 40 + b"\nE: x\r\n", line_max=16),
    },
    "prefix": {
        "n": b"<3>disk almost full",
        "0n": b"<03>x",
        "00n": b"<007>debug",
        "three-zeros": b"<0003>x",
        "facility": b"<13>x",
        "level-8": b"<8>x",
        "unclosed": b"<3",
        "empty-rest": b"<0>",
        "no-prefix": b"plain line <4>",
    },
    "config": {
        "shipped": (pathlib.Path(__file__).parents[2] / "units/pipejournal.conf").read_bytes(),
        "every-key": b"[PipeJournal]\nFIFO=/run/app/in\nFIFOMode=0640\nSyslogIdentifier=app\n"
                     b"DefaultPriority=warning\nTickSec=250ms\nLineMax=64K\nLogLevel=debug\n"
                     b"Format=json\nMessageKeys=msg message\nPriorityKeys=level log.level\n"
                     b"MaxFields=100\nTransport=stream\nPartialLineTimeoutSec=infinity\n",
        "repeated-key-empty-value": b"[PipeJournal]\nTickSec=1\nTickSec=2\nMessageKeys=\n",
        "nul-in-value": b"[PipeJournal]\nSyslogIdentifier=a\0b\n",
        "bad-value": b"[PipeJournal]\nLineMax=12\n",
        "unknown-key-and-section": b"[PipeJournal]\nColour=blue\n[Other]\nKey=value\n",
        "no-section": b"TickSec=5\n",
        "crlf-comments-spaces": b"; comment\r\n# comment\r\n[PipeJournal]\r\n  TickSec = 0.5 \r\n",
        "no-final-newline": b"[PipeJournal]\nDefaultPriority=3",
        "not-key-value": b"[PipeJournal]\njust words\n",
    },
    "native": {
        "message": native_seed([(b"MESSAGE", b"hello"), (b"PRIORITY", b"6")]),
        "value-with-newline-and-nul": native_seed([(b"MESSAGE", b"two\nlines\0and a NUL")]),
        "empty-value": native_seed([(b"MESSAGE", b""), (b"X_", b"=")]),
        "long-value": native_seed([(b"MESSAGE", b"y" * 300 + b"\n")]),
        "invalid-name": native_seed([(b"_PID", b"1"), (b"lower", b"x")]),
        "wire-text": b"MESSAGE=hi\nPRIORITY=3\n",
        "wire-binary": b"MESSAGE\n" + struct.pack("<Q", 3) + b"a\nb\n",
    },
}

for target, files in seeds.items():
    shutil.rmtree(corpus / target, ignore_errors=True)
    (corpus / target).mkdir(parents=True)
    for name, data in files.items():
        (corpus / target / name).write_bytes(data)

# JSON and logfmt lines (layout: structured_check.hpp, a byte of options, then the line) of the
# loggers issue 18 added, each with the options bytes 00 (auto or logfmt, defaults), 01 (json),
# 0e (MaxFields=3) and c0 (trim() and map again, a dotted message key). Added beside the older
# seed-NN-VV files, which were written once and are kept.
frames = ",".join('{"class":"app.C%d","method":"m","line":%d}' % (i, i) for i in range(50))
structured = {
    "json": {
        "loguru": b'{"text":"t\\n","record":{"level":{"name":"SUCCESS","no":25},"message":"m",'
                  b'"extra":{"user":{"id":17}},"exception":null}}',
        "logrus-fieldmap": b'{"@level":"warning","@message":"m","@timestamp":"2024-01-02T03:04:05Z"}',
        "monolog": b'{"message":"m","context":{"a":[1]},"level":400,"level_name":"ERROR",'
                   b'"channel":"app","datetime":"2024-01-02T03:04:05+00:00","extra":{}}',
        "zerolog-duplicate-message": b'{"level":"info","message":"caller","message":"own"}',
        "level-falls-through": b'{"level":"30","severity":"custom","lvl":null,"@l":"Warning"}',
        "level-repeated": b'{"level":"x","level":599,"level":"err","msg":5,"msg":"m","msg":[1]}',
        "log4j2-stack": ('{"level":"ERROR","message":"m","thrown":{"extendedStackTrace":[%s]}}'
                         % frames).encode(),
        "clef": b'{"@t":"2024-01-02T03:04:05Z","@m":"m","@l":"Fatal","@x":"trace"}',
        "gelf": b'{"version":"1.1","short_message":"m","level":1,"_user_id":9}',
        "long-line": b'{"msg":"' + b"z" * 100_000 + b'","n":1}',
    },
    "logfmt": {
        "logrus-text": b'time="2024-01-02T03:04:05Z" level=warning msg="a\\x00b\\u2028c\\r" '
                       b'user="map[id:17]"',
        "go-escapes": b'msg="\\a\\b\\f\\n\\r\\t\\v\\\\\\" \\x41\\101\\u00e9\\U0001F600"',
        "invalid-escapes": b'a="\\uD800" b="\\400" c="\\x4" d="\\U00110000"',
        "empty-key": b'="v" msg=m = x=',
        "numeric-levels": b'level="30" lvl=400 msg=m',
        "slog-text": b'time=2024-01-02T03:04:05.000Z level=ERROR msg="boom" g.a=1 err=""',
        "long-line": b'msg="' + b"q\\t" * 30_000 + b'" k=v',
    },
}
for target, lines in structured.items():
    for name, line in lines.items():
        for options in (0x00, 0x01, 0x0E, 0xC0):
            (corpus / target / f"{name}-{options:02x}").write_bytes(bytes([options]) + line)
