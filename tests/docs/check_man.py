#!/usr/bin/python3
"""Checks the rendered man pages: clean for mandoc and groff, and complete.

    check_man.py --page8 pipejournal.8 --page5 pipejournal.conf.5
                 --catalog units/pipejournal.catalog --example-config units/pipejournal.conf
                 --exe build/src/pipejournal

1. Lint: `mandoc -T lint` and `groff -ww` (what man-db renders with) report nothing but the
   artifacts listed in SCDOC_ARTIFACTS, which scdoc's output always has and which change nothing a
   reader sees. Anything else (an unknown macro or escape, a block left open, a bad NAME line
   that would break whatis/apropos) fails. A page with known defects is linted first to prove the
   check still sees them (a changed message format must not make it pass silently).
2. Rendering: each page renders, `lexgrog` (man-db's whatis parser) reads its NAME line, the
   usual sections are there and no scdoc markup is left in the text.
3. Completeness: every MESSAGE_ID of the catalog is documented in pipejournal(8) and no other;
   every option `pipejournal --help` lists and every key of the shipped example configuration
   has an entry; and so does everything in the contract (CONTRACT_* below), even before the code
   for it has landed.

Exit status: 0 passed, 1 failed, 77 skipped (a tool missing), as meson expects.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SKIP = 77

#: mandoc messages scdoc 1.11's man(7) output always produces; none changes the rendered page:
#: scdoc emits `.P` after each `.SH` and between blocks (mandoc skips the redundant ones), keeps
#: our source lines' length (a roff source style rule), and spells the title as the command is
#: spelled (lower case, as many packages do).
SCDOC_ARTIFACTS = (
    "skipping paragraph macro: PP empty",
    "skipping paragraph macro: PP after SH",
    "input text line longer than 80 bytes",
    "lower case character in document title",
)

#: What the external contract names; each must have its own entry (a tagged paragraph).
CONTRACT_FLAGS = ["--fifo", "--config", "--identifier", "--format", "--tick", "--log-level",
                  "--help", "--version"]
CONTRACT_KEYS = ["FIFO", "FIFOMode", "SyslogIdentifier", "DefaultPriority", "TickSec", "LineMax",
                 "LogLevel", "Format", "MessageKeys", "PriorityKeys", "MaxFields", "Transport",
                 "PartialLineTimeoutSec", "Multiline", "MultilineTimeoutSec"]
#: Text pipejournal(8) must contain somewhere (fields, values, signals, notify messages, files).
CONTRACT_TEXT_8 = [
    "MESSAGE=", "PRIORITY=", "SYSLOG_IDENTIFIER=", "PIPEJOURNAL_FIFO=",
    "PIPEJOURNAL_LINE_BREAK=line-max", "PIPEJOURNAL_LINE_BREAK=eof",
    "PIPEJOURNAL_LINE_BREAK=timeout", "PIPEJOURNAL_FORMAT_ERROR=", "PIPEJOURNAL_MULTILINE=",
    "SIGHUP", "SIGTERM", "SIGINT",
    "READY=1", "STATUS=", "WATCHDOG=1", "RELOADING=1", "MONOTONIC_USEC=", "STOPPING=1", "ERRNO=",
    "/etc/pipejournal/pipejournal.conf", "/etc/pipejournal/NAME.conf", "/run/pipejournal/",
    "pipejournal@NAME.service", "pipejournal@NAME.socket", "pipejournal.socket",
    "pipejournal.conf(5)",
]
#: Section headings each page must have (rendered).
SECTIONS = {
    "8": ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SIGNALS", "NOTIFY MESSAGES",
          "EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO"],
    "5": ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FILES", "SEE ALSO"],
}
#: A page with defects each checker must report (unknown macro, undefined string, open block).
BROKEN_PAGE = ".TH BROKEN 8\n.SH NAME\nbroken \\- a page with defects\n.FOO bar\n\\*(Zz\n.RS\n"

MANDOC_LINE = re.compile(r"^mandoc: [^:]+:\d+:\d+: (STYLE|WARNING|ERROR|UNSUPP|BADARG|SYSERR):"
                         r" (.*)$")
# scdoc markup that did not become formatting: *bold* or _underline_ left in the text.
LEFTOVER_MARKUP = re.compile(r"(?<![\w*])\*[A-Za-z][\w.-]*\*(?!\w)"
                             r"|(?<![A-Za-z_])_[A-Za-z]+_(?!\w)")


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="200")
    return subprocess.run(cmd, capture_output=True, text=True, env=env, **kwargs)


def mandoc_problems(page: Path) -> list[str]:
    """mandoc -T lint messages that are not scdoc artifacts (unparsable lines count too)."""
    r = run(["mandoc", "-T", "lint", "-W", "style", str(page)])
    problems = []
    for line in (r.stdout + r.stderr).splitlines():
        m = MANDOC_LINE.match(line)
        if m and any(m.group(2).startswith(a) for a in SCDOC_ARTIFACTS):
            continue
        problems.append(line)
    if r.returncode not in (0, 2, 3) and not problems:  # 2/3: warnings/errors, listed above
        problems.append(f"mandoc exited {r.returncode}")
    return problems


def groff_render(page: Path) -> tuple[str, list[str]]:
    """The page as man-db shows it (plain text, no hyphenation), and groff's warnings."""
    r = run(["groff", "-man", "-Tutf8", "-ww", "-P-cbou", "-rHY=0", "-rLL=200n", str(page)])
    warnings = [line for line in r.stderr.splitlines() if line.strip()]
    if r.returncode != 0:
        warnings.append(f"groff exited {r.returncode}")
    return r.stdout, warnings


def tagged_entries(text: str) -> list[str]:
    """Headings of tagged paragraphs (the first line of `*KEY=*` / `*--flag*` items)."""
    return [line[7:] for line in text.splitlines()
            if line.startswith(" " * 7) and not line.startswith(" " * 8)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--page8", type=Path, required=True)
    ap.add_argument("--page5", type=Path, required=True)
    ap.add_argument("--catalog", type=Path, required=True)
    ap.add_argument("--example-config", type=Path, required=True)
    ap.add_argument("--exe", type=Path, required=True)
    args = ap.parse_args()

    for tool, package in (("mandoc", "mandoc"), ("groff", "groff-base"), ("lexgrog", "man-db")):
        if shutil.which(tool) is None:
            print(f"SKIP: {tool} not found (apt-get install {package})", file=sys.stderr)
            return SKIP

    failures: list[str] = []

    def check(ok: bool, what: str, seen) -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            failures.append(f"{what}\n    seen: {seen}")

    # 1. The checkers still see real problems.
    with tempfile.TemporaryDirectory() as tmp:
        broken = Path(tmp, "broken.8")
        broken.write_text(BROKEN_PAGE)
        seen_mandoc = mandoc_problems(broken)
        check(any("unknown macro" in p for p in seen_mandoc)
              and any("appending missing end of block" in p for p in seen_mandoc),
              "mandoc lint reports the defects of a known broken page", seen_mandoc)
        _, seen_groff = groff_render(broken)
        check(any("FOO" in w for w in seen_groff),
              "groff -ww reports the unknown macro of a known broken page", seen_groff)

    texts: dict[str, str] = {}
    all_headings: dict[str, set[str]] = {}
    for page, section in ((args.page8, "8"), (args.page5, "5")):
        name = page.name
        problems = mandoc_problems(page)
        check(not problems, f"{name}: mandoc -T lint clean (apart from scdoc artifacts)",
              "\n      ".join(problems))
        text, warnings = groff_render(page)
        texts[section] = text
        check(not warnings, f"{name}: groff -ww renders without warnings",
              "\n      ".join(warnings))
        check(len(text.splitlines()) > 40, f"{name}: renders to a page of text",
              f"{len(text.splitlines())} lines")
        headings = {line.strip() for line in text.splitlines()
                    if re.match(r"^[A-Z][A-Z '-]+$", line)}
        all_headings[section] = headings
        missing = [s for s in SECTIONS[section] if s not in headings]
        check(not missing, f"{name}: has the sections {', '.join(SECTIONS[section])}",
              f"missing {missing}; headings {sorted(headings)}")
        whatis = run(["lexgrog", str(page)])
        stem = name.rsplit(".", 1)[0]
        check(whatis.returncode == 0 and f'"{stem} - ' in whatis.stdout,
              f"{name}: lexgrog reads the NAME line (whatis/apropos find the page)",
              (whatis.stdout + whatis.stderr).strip())
        leftovers = sorted(set(LEFTOVER_MARKUP.findall(text)))
        check(not leftovers, f"{name}: no scdoc markup left in the rendered text", leftovers)

    # 3. Completeness.
    text8, text5 = texts["8"], texts["5"]
    entries8, entries5 = tagged_entries(text8), tagged_entries(text5)

    catalog_ids = set(re.findall(r"(?m)^-- ([0-9a-f]{32})\s*$", args.catalog.read_text()))
    documented_ids = {e.strip() for e in entries8 if re.fullmatch(r"[0-9a-f]{32}", e.strip())}
    check(bool(catalog_ids) and catalog_ids == documented_ids,
          f"pipejournal.8: documents exactly the {len(catalog_ids)} MESSAGE_IDs of the catalog",
          f"undocumented {sorted(catalog_ids - documented_ids)}, "
          f"not in the catalog {sorted(documented_ids - catalog_ids)}")

    def has_flag(flag: str) -> bool:
        return any(re.search(rf"(^|, ){re.escape(flag)}(=|,|$)", e) for e in entries8)

    help_text = run([str(args.exe), "--help"]).stdout
    help_flags = sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", help_text)))
    check(bool(help_flags), "pipejournal --help lists options", help_text)
    for flag in sorted(set(help_flags) | set(CONTRACT_FLAGS)):
        check(has_flag(flag), f"pipejournal.8: an entry for {flag}",
              "no tagged paragraph starting with it")

    example_keys = re.findall(r"(?m)^[#;]?([A-Z][A-Za-z]*)=", args.example_config.read_text())
    check(bool(example_keys), "the example configuration has keys", args.example_config)
    for key in sorted(set(example_keys) | set(CONTRACT_KEYS)):
        check(any(e.startswith(key + "=") for e in entries5),
              f"pipejournal.conf.5: an entry for {key}=", "no tagged paragraph starting with it")

    # "See *MULTI-LINE RECORDS* in *pipejournal*(8)": the section named must be there.
    flat5 = " ".join(text5.split())
    for named in sorted(set(re.findall(r"\b([A-Z][A-Z' -]*[A-Z]) in pipejournal\(8\)", flat5))):
        check(named in all_headings["8"], f"pipejournal.conf.5 refers to {named} in pipejournal(8): "
              "that section exists", sorted(all_headings["8"]))

    flat8 = " ".join(text8.split())
    for needle in CONTRACT_TEXT_8:
        check(needle in flat8, f"pipejournal.8 mentions {needle}", "not in the rendered text")

    if failures:
        print(f"\n{len(failures)} check(s) failed:", file=sys.stderr)
        for f in failures:
            print(f"  - {f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
