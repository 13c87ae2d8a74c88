"""Real loggers' output mapped field by field.

Each logger (pino, bunyan, winston from npm; structlog, python-json-logger from Debian) writes the
same records as an application would; every line goes through LineMapper (pj-map-lines, Format=auto
as the daemon's default) and must come out structured with:
  - the PRIORITY= the logger's level means, and the MESSAGE= the application gave;
  - exactly the fields that the contract's rules give for that line, computed here independently
    from the line itself (reference_entry below), in order, duplicates and all;
  - the fields an application sets on purpose (USER_ID=17, one TAGS= per element, ...).

Run by meson (suite "loggers"): PJ_MAP_LINES names the mapper, exits 77 (skipped) when the npm
loggers are not installed (scripts/install-deps.sh installs them).
"""
import json
import os
import pathlib
import subprocess
import sys
import unittest

HERE = pathlib.Path(__file__).resolve().parent
MAP_LINES = os.environ.get("PJ_MAP_LINES", "")
DEFAULT_PRIORITY = 5  # so that a level the contract does not know shows as 5, not as info

MESSAGE_KEYS = ["msg", "message", "event", "@m", "short_message"]
PRIORITY_KEYS = ["level", "severity", "levelname", "lvl", "loglevel", "@l", "log.level"]
LEVEL_NAMES = {
    **dict.fromkeys(["emerg", "emergency", "panic"], 0), "alert": 1,
    **dict.fromkeys(["crit", "critical", "fatal", "dpanic"], 2),
    **dict.fromkeys(["err", "error"], 3), **dict.fromkeys(["warn", "warning"], 4), "notice": 5,
    **dict.fromkeys(["info", "information", "informational"], 6),
    **dict.fromkeys(["debug", "trace", "verbose", "silly"], 7),
}

# (message, fields): the same records for every logger; the level names differ per logger.
RECORDS = [
    ("disk full", {"user": {"id": 17, "name": "ann"}, "tags": ["a", "b"], "took": 1.5,
                   "retry": True, "nothing": None}),
    ("slow request", {"path": '/x?y=1&z="q"', "ms": 250}),
    ("started", {}),
    ("details", {"nested": {"deeper": {"x": "y"}}, "items": [{"k": 1}, [2, 3]]}),
    ("bye\nsecond line ü €", {"code": -0.5}),
    ("unusual level", {}),
]

# Per logger: the level of each record and the PRIORITY= it must give.
LOGGERS = {
    "pino": ["node", [("error", 3), ("warn", 4), ("info", 6), ("debug", 7), ("fatal", 2),
                      ("trace", 7)]],
    "bunyan": ["node", [("error", 3), ("warn", 4), ("info", 6), ("debug", 7), ("fatal", 2),
                        ("trace", 7)]],
    "winston": ["node", [("error", 3), ("warn", 4), ("info", 6), ("debug", 7), ("verbose", 7),
                         ("http", DEFAULT_PRIORITY)]],
    "structlog": ["python", [("error", 3), ("warning", 4), ("info", 6), ("debug", 7),
                             ("critical", 2), ("msg", 6)]],
    "jsonlogger": ["python", [("error", 3), ("warning", 4), ("info", 6), ("debug", 7),
                              ("critical", 2), ("info", 6)]],
}


class Raw(str):
    """A JSON number, kept as written."""


def parse_pairs(line):
    """The line's object as nested lists of (key, value) pairs: order and duplicates kept."""
    return json.loads(line, object_pairs_hook=list, parse_int=Raw, parse_float=Raw)


def compact(value):
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, list) and all(isinstance(p, tuple) for p in value) and value:
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + compact(v)
                              for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(compact(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def is_object(value):
    return isinstance(value, list) and all(isinstance(p, tuple) for p in value)


def field_name(path):
    raw = "_".join(path).encode()
    name = "".join(chr(b).upper() if chr(b).isascii() and (chr(b).isalnum() or chr(b) == "_")
                   else "_" for b in raw).lstrip("_")
    if (not name or name[0].isdigit() or name in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER")
            or name.startswith("PIPEJOURNAL_")):
        name = "F_" + name
    return name[:64]


def scalar_text(value):
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def reference_entry(line):
    """(message, priority, fields) for one JSON line, by the contract's rules, written afresh."""
    leaves = []  # (dotted path, name path, value) for every key, containers included

    def walk(pairs, path):
        for key, value in pairs:
            leaves.append((".".join(path + [key]), path + [key], value))
            if is_object(value) and value:
                walk(value, path + [key])

    walk(parse_pairs(line), [])
    message, message_at = line, None
    for key in MESSAGE_KEYS:
        found = [i for i, (dotted, _, v) in enumerate(leaves) if dotted == key and isinstance(v, str)
                 and not isinstance(v, Raw)]
        if found:
            message, message_at = leaves[found[0]][2], found[0]
            break
    priority = DEFAULT_PRIORITY
    for key in PRIORITY_KEYS:
        found = [v for dotted, _, v in leaves if dotted == key]
        if found:
            value = found[0]
            if isinstance(value, str) and value.lower() in LEVEL_NAMES and not isinstance(value, Raw):
                priority = LEVEL_NAMES[value.lower()]
            elif isinstance(value, str) and value.isdigit():
                n = int(value)
                priority = n if n <= 7 else {1: 7, 2: 7, 3: 6, 4: 4, 5: 3, 6: 2}.get(n // 10, None) \
                    if 10 <= n <= 60 else DEFAULT_PRIORITY
            break
    fields = []
    for i, (_, path, value) in enumerate(leaves):
        if i == message_at or value is None or (is_object(value) and value):
            continue
        elements = value if isinstance(value, list) and not is_object(value) else [value]
        if is_object(value):  # empty object
            elements = []
        for element in elements:
            if element is None:
                continue
            text = compact(element) if isinstance(element, list) else scalar_text(element)
            fields.append([field_name(path), text])
    return message, priority, fields


def emit(logger, records):
    runtime, _ = LOGGERS[logger]
    if runtime == "node":
        command = ["node", str(HERE / "emit.js"), logger]
    else:
        command = ["/usr/bin/python3", str(HERE / "emit.py"), logger]
    spec = json.dumps(records)
    out = subprocess.run(command + [spec], cwd=HERE, capture_output=True, check=True, timeout=60)
    return out.stdout.decode().splitlines()


def map_lines(lines, *args):
    result = subprocess.run([MAP_LINES, f"--default-priority={DEFAULT_PRIORITY}", *args],
                            input="".join(line + "\n" for line in lines).encode(),
                            capture_output=True, check=True, timeout=60)
    return [json.loads(entry) for entry in result.stdout.decode().splitlines()]


class RealLoggers(unittest.TestCase):
    def check_logger(self, logger):
        levels = LOGGERS[logger][1]
        records = [{"level": level, "msg": msg, "fields": fields}
                   for (level, _), (msg, fields) in zip(levels, RECORDS)]
        lines = emit(logger, records)
        self.assertEqual(len(lines), len(records), f"{logger} wrote:\n" + "\n".join(lines))
        for fmt in ("--format=auto", "--format=json"):
            entries = map_lines(lines, fmt)
            for line, entry, (_, priority), (msg, _) in zip(lines, entries, levels, RECORDS):
                with self.subTest(logger=logger, format=fmt, line=line):
                    self.assertTrue(entry["structured"], entry)
                    self.assertEqual(entry["format_error"], "")
                    self.assertEqual(entry["message"], msg)
                    self.assertEqual(entry["priority"], priority)
                    want_message, want_priority, want_fields = reference_entry(line)
                    self.assertEqual(entry["message"], want_message)
                    self.assertEqual(entry["priority"], want_priority)
                    self.assertEqual(entry["fields"], want_fields)
            # What the application set on purpose, named as a person would look for it.
            first, details = entries[0]["fields"], entries[3]["fields"]
            for field in (["USER_ID", "17"], ["USER_NAME", "ann"], ["TOOK", "1.5"],
                          ["RETRY", "true"]):
                self.assertIn(field, first, f"{logger}: {field} in {first}")
            self.assertEqual([v for n, v in first if n == "TAGS"], ["a", "b"])
            self.assertNotIn("NOTHING", [n for n, _ in first])
            self.assertEqual([v for n, v in details if n == "ITEMS"], ['{"k":1}', "[2,3]"])
            self.assertIn(["NESTED_DEEPER_X", "y"], details)
            self.assertEqual([v for n, v in entries[4]["fields"] if n == "CODE"], ["-0.5"])
            for entry in entries:
                names = [n for n, _ in entry["fields"]]
                for ours in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER"):
                    self.assertNotIn(ours, names)

    def test_pino(self):
        self.check_logger("pino")

    def test_bunyan(self):
        self.check_logger("bunyan")

    def test_winston(self):
        self.check_logger("winston")

    def test_structlog(self):
        self.check_logger("structlog")

    def test_python_json_logger(self):
        self.check_logger("jsonlogger")


if __name__ == "__main__":
    if not MAP_LINES:
        sys.exit("test_loggers.py: set PJ_MAP_LINES to the pj-map-lines program")
    if not (HERE / "node_modules" / "pino").is_dir():
        print("test_loggers.py: npm loggers not installed (run scripts/install-deps.sh)")
        sys.exit(77)
    unittest.main()
