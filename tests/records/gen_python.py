"""Real Python 3.11 output for the record tests: `gen_python.py SCENARIO` writes to stderr what
the interpreter or the logging module writes for that case, and nothing else.

Run by test_records.py at test time; the output is never stored."""
import json
import logging
import sys
import traceback

logging.basicConfig(stream=sys.stderr, format="%(levelname)s:%(name)s:%(message)s")


def parse(text):
    return json.loads(text)


def load_config():
    try:
        return parse("")
    except ValueError as err:
        raise RuntimeError("configuration unreadable") from err


def cleanup():
    return {}["missing"]


def carets(data):
    return data["user"]["name"] + 1 / data["count"]


def recurse(n):
    return recurse(n + 1)


def scenario(name):
    if name == "logging_exception":
        try:
            parse("")
        except ValueError:
            logging.exception("parse failed")
    elif name == "raise_from":
        load_config()
    elif name == "implicit":
        try:
            1 / 0
        except ZeroDivisionError:
            cleanup()
    elif name == "carets":
        carets({"user": {"name": "ann"}, "count": 0})
    elif name == "exception_group":
        raise ExceptionGroup("several failures", [ValueError("bad value"), TypeError("bad type")])
    elif name == "stack_info":
        logging.warning("checkpoint reached", stack_info=True)
    elif name == "recursion":
        sys.setrecursionlimit(100)
        recurse(0)
    elif name == "bare":
        raise ValueError
    elif name == "print_exc":  # a traceback printed by the program, which goes on running
        try:
            parse("{")
        except ValueError:
            traceback.print_exc()
    else:
        sys.exit(f"gen_python.py: unknown scenario {name}")


if __name__ == "__main__":
    scenario(sys.argv[1])
