#!/usr/bin/python3
"""pipejournal benchmark driver (started by bench/run, which builds first).

Boots systemd 252 as PID 1 in a systemd-nspawn container (tests/system/harness.py) with the
project installed, and measures:

  1. throughput  FIFO → journal, end to end, against the ceiling (C, sd_journal_sendv per
                 line), systemd-cat (stream protocol) and the Python pattern (journal.send)
     defaults    one round of pipejournal alone in a second container with journald at its
                 defaults (its rate limit on): lines/s and lost
     json        JSON lines (~250 bytes, 8 keys, one level of nesting) end to end, Format=auto,
                 against a C loop sending the same entries as already-split fields
     records     pipejournal.service with the default Multiline= rules against Multiline=
                 empty, on plain lines and on a mix with 5 % of the lines in Python tracebacks
  2. start-up    exec → READY=1 (kernel timestamp on a fake NOTIFY_SOCKET), with the C++
                 sd_notify floor and the Python pattern; RSS after READY
  3. memory      VmRSS of the service after READY and after forwarding 1,000,000 lines
     instances   N socket-activated pipejournal@NAME instances, each started by its first line:
                 Pss, private memory and VmRSS per instance and in all (after plain lines and
                 after a JSON line), first write → READY=1 and → the line in the journal
  4. idle        context switches and CPU over 60 s idle (WatchdogSec=10s, tick 5 s)
  5. stop        SIGTERM with a full pipe: time to exit, lines forwarded
  6. in-process  LineBuffer + LineMapper on 1 M lines, ns/line (and instructions/line)

Prints a table, writes bench/results/latest.md and latest.json (--quick: quick.md/.json).
Benchmarks report figures; the exit status is 1 only for correctness failures (lines lost or
duplicated, no READY=1, daemon did not exit), never for a missed target.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "tests" / "system"))
import harness  # noqa: E402  (shared with the system tests)

TOOLS = "/usr/libexec/pipejournal-bench"  # where the bench programs appear in the container
JOURNALD_CONF = {"RateLimitBurst": "0", "Storage": "volatile", "RuntimeMaxUse": "3G"}
#: journald's "Suppressed N messages from UNIT" (SD_MESSAGE_JOURNAL_DROPPED)
JOURNAL_DROPPED_ID = "a596d6fe7bfa4994828e72309e95d61e"

# sender name → how the agent drives it
SENDERS = {
    "pipejournal": dict(unit="pipejournal.service", fifo="/run/pipejournal/in",
                        ident="pipejournal"),
    # Transport=stream, Format=plain (/etc/pipejournal/benchstream.conf): journald's stream
    # protocol, as systemd-cat
    "pipejournal stream": dict(unit="pipejournal@benchstream.service",
                               fifo="/run/pipejournal/benchstream", ident="benchstream"),
    # native, as "pipejournal", without the unit's LogExtraFields=PIPEJOURNAL_FIFO=: what that
    # field costs journald on native entries (which carry the same field themselves)
    "pipejournal, no LogExtraFields": dict(unit="pipejournal@benchnolef.service",
                                           fifo="/run/pipejournal/benchnolef",
                                           ident="benchnolef"),
    "ceiling (C)": dict(unit="bench-ceiling.service", fifo="/run/bench-ceiling/in",
                        ident="bench-ceiling"),
    "systemd-cat": dict(unit="bench-systemd-cat.service", fifo="/run/bench-systemd-cat/in",
                        ident="bench-systemd-cat", hold_fifo=True, exe="cat"),
    "Python pattern": dict(unit="bench-python.service", fifo="/run/bench-python/in",
                           ident="bench-python"),
}

UNITS = {
    "/etc/systemd/system/bench-ceiling.service": f"""\
[Unit]
Description=Benchmark ceiling: one sd_journal_sendv per line (C)
[Service]
Type=notify
RuntimeDirectory=bench-ceiling
ExecStart={TOOLS}/pj-bench-ceiling /run/bench-ceiling/in bench-ceiling
""",
    "/etc/systemd/system/bench-python.service": f"""\
[Unit]
Description=Benchmark: the Python pattern (poll + systemd.journal.send per line)
[Service]
Type=notify
RuntimeDirectory=bench-python
ExecStart=/usr/bin/python3 {TOOLS}/py_forwarder.py /run/bench-python/in bench-python
""",
    "/etc/systemd/system/bench-systemd-cat.service": """\
[Unit]
Description=Benchmark reference: systemd-cat (journald stream protocol)
[Service]
Type=simple
StandardInput=file:/run/bench-systemd-cat/in
ExecStart=/usr/bin/systemd-cat -t bench-systemd-cat
# as pipejournal's units: journald adds the field to every entry
LogExtraFields=PIPEJOURNAL_FIFO=/run/bench-systemd-cat/in
""",
    "/etc/pipejournal/benchstream.conf": "[PipeJournal]\nTransport=stream\nFormat=plain\n",
    "/etc/systemd/system/pipejournal@benchnolef.service.d/50-bench.conf":
        "[Service]\n# the empty assignment clears the unit's LogExtraFields=\nLogExtraFields=\n",
}


# JSON lines, end to end (case json): pipejournal with Format=auto (the default) against a C loop
# that gets each entry already split into the fields pipejournal maps the line to.
JSON_SENDERS = {
    "pipejournal (Format=auto)": dict(unit="pipejournal.service", fifo="/run/pipejournal/in",
                                      ident="pipejournal"),
    "ceiling (C, split fields)": dict(unit="bench-ceiling-json.service",
                                      fifo="/run/bench-ceiling-json/in",
                                      ident="bench-ceiling-json", presplit=True),
}
JSON_CEILING = "ceiling (C, split fields)"
UNITS["/etc/systemd/system/bench-ceiling-json.service"] = f"""\
[Unit]
Description=Benchmark ceiling for JSON lines: one sd_journal_sendv per already-split entry (C)
[Service]
Type=notify
RuntimeDirectory=bench-ceiling-json
ExecStart={TOOLS}/pj-bench-ceiling-json /run/bench-ceiling-json/in bench-ceiling-json
"""


# ---------------------------------------------------------------------------------- helpers
def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def stats(values: list[float]) -> dict:
    values = [v for v in values if v is not None]
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def fmt(s: dict, digits: int = 1, scale: float = 1.0) -> str:
    if s.get("median") is None:
        return "n/a"
    m, lo, hi = (s["median"] * scale, s["min"] * scale, s["max"] * scale)
    if s.get("n", 1) == 1:
        return f"{m:,.{digits}f}"
    return f"{m:,.{digits}f} [{lo:,.{digits}f}..{hi:,.{digits}f}]"


def cpu_us(cpu: dict) -> float:
    """On-CPU µs of a process over a run: schedstat's nanoseconds where the kernel has them;
    stat's utime+stime ticks (10 ms each: a stream sender's whole run can be one tick) else."""
    return cpu["run_us"] if cpu.get("run_us") is not None else cpu["cpu_us"]


def agent(c: harness.Container, *args: str, timeout: float = 600) -> dict:
    r = c.run("/usr/bin/python3", f"{TOOLS}/agent.py", *args, timeout=timeout, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"agent {' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


#: --baseline: another build's pipejournal, as the instance pipejournal@benchbase, side by side
BASELINE = "pipejournal (baseline)"


def add_baseline() -> None:
    """The sender BASELINE: pipejournal@benchbase.service running TOOLS/pipejournal-baseline (the
    binary of another build, e.g. the commit before a change), everything else as pipejournal's:
    the two run interleaved in the same rounds, so their ratio is paired."""
    SENDERS[BASELINE] = dict(unit="pipejournal@benchbase.service",
                             fifo="/run/pipejournal/benchbase", ident="benchbase")
    UNITS["/etc/systemd/system/pipejournal@benchbase.service.d/50-baseline.conf"] = (
        f"[Service]\nExecStart=\nExecStart={TOOLS}/pipejournal-baseline\n")


def prepare_destdir(build: Path, baseline: Path | None = None) -> Path:
    """meson install into BUILD/bench-destdir, plus the bench programs in TOOLS (and the
    baseline's binary as TOOLS/pipejournal-baseline)."""
    dest = build / "bench-destdir"
    if dest.exists():
        shutil.rmtree(dest)
    harness.install_destdir(build, dest)
    tools = dest / TOOLS.lstrip("/")
    tools.mkdir(parents=True)
    for name in ("pj-bench-ceiling", "pj-bench-ready-floor", "pj-bench-ready-probe"):
        shutil.copy2(build / "bench" / name, tools / name)
    for name in ("agent.py", "py_forwarder.py"):
        shutil.copy2(BENCH / name, tools / name)
    shutil.copy2(build / "bench" / "pj-bench-ceiling-json", tools / "pj-bench-ceiling-json")
    if baseline is not None:
        shutil.copy2(baseline / "src" / "pipejournal" if baseline.is_dir() else baseline,
                     tools / "pipejournal-baseline")
    return dest


# ---------------------------------------------------------------------------------- cases
def case_throughput(c, args, failures) -> dict:
    senders = {name: s for name, s in SENDERS.items()
               if not args.senders or name in args.senders.split(";")}
    runs = {name: [] for name in senders}
    for rnd in range(args.rounds):
        for name, s in senders.items():
            agent(c, "fresh-journal")
            cmd = ["throughput", "--unit", s["unit"], "--fifo", s["fifo"], "--ident", s["ident"],
                   "--lines", str(args.lines)]
            if s.get("hold_fifo"):
                cmd.append("--hold-fifo")
            if s.get("exe"):
                cmd += ["--exe", s["exe"]]
            r = agent(c, *cmd)
            r["lines_per_s"] = args.lines / r["seconds"]
            r["sender_us_per_line"] = cpu_us(r["sender"]) / args.lines
            r["journald_us_per_line"] = cpu_us(r["journald"]) / args.lines
            bad = r["count"]["lost"] + r["count"]["duplicates"] + r["count"]["malformed"]
            r["lost"] = r["count"]["lost"]
            runs[name].append(r)
            log(f"throughput round {rnd + 1}/{args.rounds} {name}: {r['lines_per_s']:,.0f} lines/s, "
                f"sender {r['sender_us_per_line']:.2f} µs/line, journald "
                f"{r['journald_us_per_line']:.2f} µs/line, lost {r['lost']}, "
                f"dup {r['count']['duplicates']}")
            if bad or not r["last_line_seen"]:
                failures.append(f"throughput {name} round {rnd + 1}: {r['count']}, "
                                f"last line seen: {r['last_line_seen']}")
    summary = {}
    ceiling = runs.get("ceiling (C)", [])
    cat = runs.get("systemd-cat", [])
    base = runs.get(BASELINE, [])
    for rs in runs.values():
        for r in rs:
            # journald's busy share of the run: how much of the wall-clock time it spent on CPU
            r["journald_busy"] = cpu_us(r["journald"]) / 1e6 / r["seconds"]
    for name, rs in runs.items():
        # Each sender against the ceiling run next to it in the same round: both saw the same
        # machine, so the ratio is steadier than the ratio of medians when the machine is noisy.
        paired = [r["lines_per_s"] / c["lines_per_s"] for r, c in zip(rs, ceiling)]
        paired_cpu = [r["sender_us_per_line"] / c["sender_us_per_line"]
                      for r, c in zip(rs, ceiling) if c["sender_us_per_line"] > 0]
        summary[name] = {
            "vs_systemd_cat": stats([r["lines_per_s"] / c["lines_per_s"] for r, c in zip(rs, cat)]),
            "journald_vs_systemd_cat": stats([r["journald_us_per_line"] / c["journald_us_per_line"]
                                              for r, c in zip(rs, cat)
                                              if c["journald_us_per_line"] > 0]),
            "vs_ceiling": stats(paired),
            "cpu_vs_ceiling": stats(paired_cpu),
            "journald_busy": stats([r["journald_busy"] for r in rs]),
            "busy_vs_systemd_cat": stats([r["journald_busy"] / c["journald_busy"]
                                          for r, c in zip(rs, cat) if c["journald_busy"] > 0]),
            "vs_baseline": stats([r["lines_per_s"] / b["lines_per_s"] for r, b in zip(rs, base)]),
            "cpu_vs_baseline": stats([r["sender_us_per_line"] / b["sender_us_per_line"]
                                      for r, b in zip(rs, base) if b["sender_us_per_line"] > 0]),
            "other_cpu_s": stats([r["other_cpu_s"] for r in rs]),
            "lines_per_s": stats([r["lines_per_s"] for r in rs]),
            "sender_us_per_line": stats([r["sender_us_per_line"] for r in rs]),
            "journald_us_per_line": stats([r["journald_us_per_line"] for r in rs]),
            "lost": sum(r["lost"] for r in rs),
            "duplicates": sum(r["count"]["duplicates"] for r in rs),
            "fields": rs[-1].get("fields", []),
        }
    return {"lines": args.lines, "rounds": args.rounds, "summary": summary, "runs": runs}


def case_json(c, args, failures) -> dict:
    """JSON lines end to end: pipejournal (Format=auto) and the split-fields ceiling, interleaved
    in rounds, each run on a fresh journal; ratios paired with the ceiling run of the round."""
    runs = {name: [] for name in JSON_SENDERS}
    for rnd in range(args.rounds):
        for name, s in JSON_SENDERS.items():
            agent(c, "fresh-journal")
            cmd = ["json", "--unit", s["unit"], "--fifo", s["fifo"], "--ident", s["ident"],
                   "--lines", str(args.json_lines)]
            if s.get("presplit"):
                cmd.append("--presplit")
            r = agent(c, *cmd)
            r["lines_per_s"] = args.json_lines / r["seconds"]
            r["sender_us_per_line"] = r["sender"]["cpu_us"] / args.json_lines
            r["journald_us_per_line"] = r["journald"]["cpu_us"] / args.json_lines
            r["lost"] = r["count"]["lost"]
            runs[name].append(r)
            mismatches = r["field_check"]["mismatches"]
            log(f"json round {rnd + 1}/{args.rounds} {name}: {r['lines_per_s']:,.0f} lines/s, "
                f"sender {r['sender_us_per_line']:.2f} µs/line, journald "
                f"{r['journald_us_per_line']:.2f} µs/line, lost {r['lost']}, "
                f"dup {r['count']['duplicates']}, fields checked "
                f"{r['field_check']['checked']}, mismatches {len(mismatches)}")
            bad = r["count"]["lost"] + r["count"]["duplicates"] + r["count"]["malformed"]
            if bad or not r["last_line_seen"]:
                failures.append(f"json {name} round {rnd + 1}: {r['count']}, "
                                f"last line seen: {r['last_line_seen']}")
            if mismatches:
                failures.append(f"json {name} round {rnd + 1}: entries not as expected: "
                                + "; ".join(mismatches[:3]))
    summary = {}
    ceiling = runs[JSON_CEILING]
    for name, rs in runs.items():
        summary[name] = {
            "vs_ceiling": stats([r["lines_per_s"] / ce["lines_per_s"]
                                 for r, ce in zip(rs, ceiling)]),
            "cpu_vs_ceiling": stats([r["sender_us_per_line"] / ce["sender_us_per_line"]
                                     for r, ce in zip(rs, ceiling)
                                     if ce["sender_us_per_line"] > 0]),
            "journald_vs_ceiling": stats([r["journald_us_per_line"] / ce["journald_us_per_line"]
                                          for r, ce in zip(rs, ceiling)
                                          if ce["journald_us_per_line"] > 0]),
            "lines_per_s": stats([r["lines_per_s"] for r in rs]),
            "sender_us_per_line": stats([r["sender_us_per_line"] for r in rs]),
            "journald_us_per_line": stats([r["journald_us_per_line"] for r in rs]),
            "other_cpu_s": stats([r["other_cpu_s"] for r in rs]),
            "lost": sum(r["lost"] for r in rs),
            "duplicates": sum(r["count"]["duplicates"] for r in rs),
            "bytes_per_line": rs[-1]["bytes_per_line"],
            "fields": rs[-1]["field_check"]["fields"],
        }
    return {"lines": args.json_lines, "rounds": args.rounds,
            "json_bytes_per_line": ceiling[-1]["json_bytes_per_line"] if ceiling else None,
            "summary": summary, "runs": runs}


# Records (Multiline=): pipejournal.service itself, its config file giving the default rules or
# Multiline= empty for the run (bench/agent.py records), on two inputs.
RECORDS_INPUTS = {"plain": "plain lines", "tracebacks": "5 % of the lines in Python tracebacks"}
RECORDS_SETTINGS = {"default": "default rules (python java go)", "off": "Multiline= empty"}


def case_records(c, args, failures) -> dict:
    """Each input with the default rules and with Multiline= empty, back to back in each round
    (which one goes first alternates), each run on a fresh journal; ratios default / off paired
    within the round."""
    s = SENDERS["pipejournal"]
    runs = {(i, m): [] for i in RECORDS_INPUTS for m in RECORDS_SETTINGS}
    for rnd in range(args.rounds):
        for inp in RECORDS_INPUTS:
            order = list(RECORDS_SETTINGS) if rnd % 2 == 0 else list(reversed(RECORDS_SETTINGS))
            for setting in order:
                agent(c, "fresh-journal")
                r = agent(c, "records", "--unit", s["unit"], "--fifo", s["fifo"], "--ident",
                          s["ident"], "--lines", str(args.records_lines), "--input", inp,
                          "--multiline", setting)
                r["lines_per_s"] = args.records_lines / r["seconds"]
                r["sender_us_per_line"] = cpu_us(r["sender"]) / args.records_lines
                r["journald_us_per_line"] = cpu_us(r["journald"]) / args.records_lines
                r["lost"] = r["count"]["lost"]
                runs[(inp, setting)].append(r)
                log(f"records round {rnd + 1}/{args.rounds} {inp}, {setting}: "
                    f"{r['lines_per_s']:,.0f} lines/s, sender {r['sender_us_per_line']:.2f} "
                    f"µs/line, journald {r['journald_us_per_line']:.2f} µs/line, "
                    f"{r['records']} records, lost {r['lost']}, other CPU {r['other_cpu_s']:.1f} s")
                bad = r["count"]["lost"] + r["count"]["duplicates"] + r["count"]["malformed"]
                if bad or not r["last_line_seen"] or not r["written_bytes_in_order"] \
                        or not r["records_as_expected"]:
                    failures.append(
                        f"records {inp}, {setting}, round {rnd + 1}: {r['count']}, last line "
                        f"seen: {r['last_line_seen']}, journalctl -o cat shows what was written: "
                        f"{r['written_bytes_in_order']}, {r['records']} records (of "
                        f"{r['tracebacks']} tracebacks) as expected: {r['records_as_expected']}")
    summary = {}
    for inp in RECORDS_INPUTS:
        on, off = runs[(inp, "default")], runs[(inp, "off")]
        for setting, rs in (("default", on), ("off", off)):
            summary[f"{inp}, {setting}"] = {
                "input": inp, "setting": setting,
                "lines_per_s": stats([r["lines_per_s"] for r in rs]),
                "sender_us_per_line": stats([r["sender_us_per_line"] for r in rs]),
                "journald_us_per_line": stats([r["journald_us_per_line"] for r in rs]),
                "other_cpu_s": stats([r["other_cpu_s"] for r in rs]),
                "entries": rs[-1]["entries"], "records": rs[-1]["records"],
                "lost": sum(r["lost"] for r in rs),
                "duplicates": sum(r["count"]["duplicates"] for r in rs),
            }
        summary[f"{inp}, default"].update({
            "lines_per_s_vs_off": stats([a["lines_per_s"] / b["lines_per_s"]
                                         for a, b in zip(on, off)]),
            "sender_cpu_vs_off": stats([a["sender_us_per_line"] / b["sender_us_per_line"]
                                        for a, b in zip(on, off) if b["sender_us_per_line"] > 0]),
            "journald_cpu_vs_off": stats([a["journald_us_per_line"] / b["journald_us_per_line"]
                                          for a, b in zip(on, off)
                                          if b["journald_us_per_line"] > 0]),
        })
    return {"lines": args.records_lines, "rounds": args.rounds, "summary": summary,
            "runs": {f"{i}, {m}": rs for (i, m), rs in runs.items()}}


def case_defaults(c, args, failures) -> dict:
    """One throughput round of pipejournal in a container whose journald runs at its defaults:
    the unit's own LogRateLimit*= must keep every line while journald's limit is on."""
    agent(c, "fresh-journal")
    s = SENDERS["pipejournal"]
    r = agent(c, "throughput", "--unit", s["unit"], "--fifo", s["fifo"], "--ident", s["ident"],
              "--lines", str(args.defaults_lines))
    r["lines_per_s"] = args.defaults_lines / r["seconds"]
    r["journald_us_per_line"] = cpu_us(r["journald"]) / args.defaults_lines
    r["lost"] = r["count"]["lost"]
    # Reported by journald only with the unit's first entry after a window: may lag, so the
    # line count above is what decides.
    r["suppressed"] = sum(int(e.get("N_DROPPED", 0)) for e in
                          c.journal(f"MESSAGE_ID={JOURNAL_DROPPED_ID}",
                                    f"OBJECT_SYSTEMD_UNIT={s['unit']}"))
    log(f"journald defaults: {r['lines_per_s']:,.0f} lines/s, lost {r['lost']}, "
        f"dup {r['count']['duplicates']}, journald reported {r['suppressed']} suppressed")
    if r["lost"] or r["count"]["duplicates"] or r["count"]["malformed"] or not r["last_line_seen"]:
        failures.append(f"throughput at journald's defaults: {r['count']}, last line seen: "
                        f"{r['last_line_seen']}, journald reported {r['suppressed']} suppressed")
    return r


def case_startup(c, args, failures) -> dict:
    c.run("mkdir", "-p", "/run/bench-start")
    programs = {
        "pipejournal": ["/usr/bin/pipejournal", "--fifo=/run/bench-start/in"],
        "C++ floor (sd_notify only)": [f"{TOOLS}/pj-bench-ready-floor"],
        "Python pattern": ["/usr/bin/python3", f"{TOOLS}/py_forwarder.py",
                           "/run/bench-start/py", "bench-start"],
    }
    if args.baseline:
        programs[BASELINE] = [f"{TOOLS}/pipejournal-baseline",
                                          "--fifo=/run/bench-start/before"]
    runs = {name: [] for name in programs}
    for i in range(args.startup_runs):
        for name, cmd in programs.items():
            r = c.run(f"{TOOLS}/pj-bench-ready-probe", "--", *cmd, check=False)
            try:
                res = json.loads(r.stdout.strip().splitlines()[-1])
            except (IndexError, json.JSONDecodeError):
                res = {"ready_us": -1, "error": r.stderr[-500:]}
            if res["ready_us"] < 0:
                failures.append(f"start-up {name} run {i + 1}: no READY=1 ({res})")
                res["ready_us"] = None
            runs[name].append(res)
    # Paired with the floor's start in the same round: the machine's drift cancels out.
    floor = runs["C++ floor (sd_notify only)"]
    summary = {name: {"ready_ms": stats([r["ready_us"] / 1e3 for r in rs if r["ready_us"]]),
                      "rss_kib": stats([r.get("rss_kib") for r in rs if r.get("rss_kib", -1) > 0]),
                      "x_floor": stats([r["ready_us"] / f["ready_us"] for r, f in zip(rs, floor)
                                        if r["ready_us"] and f["ready_us"]]),
                      "rss_over_floor_kib": stats([r["rss_kib"] - f["rss_kib"]
                                                   for r, f in zip(rs, floor)
                                                   if r.get("rss_kib", -1) > 0
                                                   and f.get("rss_kib", -1) > 0]),
                      "ready_text": rs[-1].get("ready", "")}
               for name, rs in runs.items()}
    for name, s in summary.items():
        log(f"start-up {name}: {fmt(s['ready_ms'], 2)} ms ({fmt(s['x_floor'], 3)}× floor, paired), "
            f"RSS {fmt(s['rss_kib'], 0)} KiB (+{fmt(s['rss_over_floor_kib'], 0)} over the floor)")
    return {"runs_each": args.startup_runs, "summary": summary, "runs": runs}


def case_memory(c, args, failures) -> dict:
    agent(c, "fresh-journal")
    s = SENDERS["pipejournal"]
    r = agent(c, "throughput", "--unit", s["unit"], "--fifo", s["fifo"], "--ident", s["ident"],
              "--lines", str(args.memory_lines), "--rss", timeout=1800)
    r["growth_kib"] = r["rss_after_kib"] - r["rss_ready_kib"]
    log(f"memory: RSS after READY {r['rss_ready_kib']} KiB, after {args.memory_lines:,} lines "
        f"{r['rss_after_kib']} KiB (growth {r['growth_kib']} KiB), lost {r['count']['lost']}")
    if r["count"]["lost"] or r["count"]["duplicates"] or not r["last_line_seen"]:
        failures.append(f"memory run: {r['count']}, last line seen: {r['last_line_seen']}")
    agent(c, "fresh-journal")
    return r


def case_instances(c, args, failures) -> dict:
    """args.instances pipejournal@NAME instances, socket-activated one after the other, all left
    running while their memory is read (Pss divides shared pages among the processes that map
    them, so it depends on N); bench/agent.py instances stops them again."""
    agent(c, "fresh-journal")
    r = agent(c, "instances", "--count", str(args.instances), timeout=120 + 30 * args.instances)
    insts = r["instances"]
    active = [i for i in insts if "pid" in i]
    for i in insts:
        if "error" in i:
            failures.append(f"instances {i['name']}: never active ({i['error']})")
        elif i["count"]["lost"] or i["count"]["duplicates"] or not i["still_pid"]:
            failures.append(f"instances {i['name']}: {i['count']}, same process throughout: "
                            f"{i['still_pid']}")
    summary = {"active": len(active), "json_mapped": sum(i["json_mapped"] for i in active),
               "lost": sum(i["count"]["lost"] for i in active),
               "duplicates": sum(i["count"]["duplicates"] for i in active)}
    for when in ("plain", "json"):
        for key in ("pss_kib", "private_kib", "rss_kib"):
            values = [i[f"memory_{when}"][key] for i in active]
            summary[f"{key}_{when}"] = stats(values)
            summary[f"{key}_{when}_total"] = sum(values)
    for key in ("write_to_fork_ms", "fork_to_ready_ms", "write_to_ready_ms",
                "write_to_journal_ms"):
        summary[key] = stats([i[key] for i in active])
    r["summary"] = summary
    if r["left_active"]:
        log(f"instances: still active after the case: {' '.join(r['left_active'])}")
    log(f"instances: {len(active)}/{len(insts)} active; per instance Pss "
        f"{fmt(summary['pss_kib_plain'], 0)} KiB, private {fmt(summary['private_kib_plain'], 0)} "
        f"KiB, VmRSS {fmt(summary['rss_kib_plain'], 0)} KiB; after a JSON line Pss "
        f"{fmt(summary['pss_kib_json'], 0)}, private {fmt(summary['private_kib_json'], 0)}, "
        f"VmRSS {fmt(summary['rss_kib_json'], 0)} KiB; first write → READY "
        f"{fmt(summary['write_to_ready_ms'], 2)} ms, → journal "
        f"{fmt(summary['write_to_journal_ms'], 2)} ms; machine busy "
        f"{r['machine_busy_cpus']:.2f} CPUs, load {' '.join(r['loadavg_before'])}")
    return r


def case_idle(c, args, failures) -> dict:
    c.drop_in("pipejournal.service", "50-bench-idle", "[Service]\nWatchdogSec=10s\n")
    try:
        r = agent(c, "idle", "--unit", "pipejournal.service", "--seconds", str(args.idle_seconds),
                  timeout=args.idle_seconds + 120)
    finally:
        c.remove_drop_in("pipejournal.service", "50-bench-idle")
    tick, watchdog = 5.0, 10.0
    # Wake-ups the design allows: one per tick, one per watchdog ping (at most every half interval).
    r["budget_wakeups"] = int(args.idle_seconds / tick + args.idle_seconds / (watchdog / 2))
    log(f"idle {args.idle_seconds:g}s: {r['voluntary_ctxt_switches']} voluntary + "
        f"{r['nonvoluntary_ctxt_switches']} involuntary context switches, "
        f"CPU {r['cpu'].get('run_us', r['cpu']['cpu_us']) / 1e3:.2f} ms "
        f"(budget {r['budget_wakeups']} wake-ups)")
    return r


def case_stop(c, args, failures) -> dict:
    s = SENDERS["pipejournal"]
    runs = []
    for i in range(args.stop_runs):
        r = agent(c, "stop", "--unit", s["unit"], "--fifo", s["fifo"], "--ident", s["ident"])
        runs.append(r)
        if not r["exited"] or r["count"]["lost"] or r["count"]["duplicates"]:
            failures.append(f"stop run {i + 1}: exited {r['exited']}, {r['count']}")
    summary = {"exit_ms": stats([r["exit_ms"] for r in runs]),
               "lines": stats([r["lines"] for r in runs]),
               "buffered_bytes": stats([r["buffered_bytes"] for r in runs]),
               "lost": sum(r["count"]["lost"] for r in runs),
               "exit_status": sorted({r["exit_status"] for r in runs})}
    log(f"stop: {fmt(summary['exit_ms'], 2)} ms for {fmt(summary['lines'], 0)} lines, "
        f"lost {summary['lost']}")
    return {"summary": summary, "runs": runs}


#: journald under callgrind (case "instructions"): its own sandbox would refuse valgrind's code
#: cache (MemoryDenyWriteExecute=, the system call filter), and its watchdog would fire.
JOURNALD_CALLGRIND = {
    "/etc/systemd/system/systemd-journald.service.d/50-bench-callgrind.conf": """\
[Service]
ExecStart=
ExecStart=/usr/bin/valgrind --tool=callgrind --vgdb-prefix=/run/vgdb --callgrind-out-file=/run/journald.callgrind /lib/systemd/systemd-journald
WatchdogSec=0
TimeoutStartSec=240
MemoryDenyWriteExecute=no
SystemCallFilter=
SystemCallArchitectures=
LockPersonality=no
RestrictNamespaces=no
""",
    "/etc/pipejournal/irstream.conf": "[PipeJournal]\nTransport=stream\nFormat=plain\n",
    "/etc/systemd/system/pipejournal@irnolef.service.d/50-bench.conf":
        "[Service]\nLogExtraFields=\n",
}
#: name → instance of pipejournal@.service, and the _TRANSPORT its entries have
IR_SENDERS = {
    "pipejournal native": ("irnative", "journal"),
    "pipejournal native, no LogExtraFields": ("irnolef", "journal"),
    "pipejournal stream": ("irstream", "stdout"),
}


def case_instructions(dest: Path, args, failures) -> dict:
    """journald's own instructions per entry (callgrind: exact where CPU time is noisy), for
    native entries with and without the unit's LogExtraFields= and for stream lines. User space
    only: the kernel's share (a recvmsg with credentials per datagram, against one read per
    ~2 KiB of a stream) is not in it."""
    if not shutil.which("valgrind"):
        return {"error": "valgrind is not installed"}
    n = args.ir_lines
    runs = {name: [] for name in IR_SENDERS}
    with harness.Container(dest, journald_conf=JOURNALD_CONF, files=JOURNALD_CALLGRIND,
                           boot_timeout=300, verbose=args.verbose) as c:
        control = ["callgrind_control", "--vgdb-prefix=/run/vgdb"]
        for rnd in range(args.ir_rounds):
            for name, (instance, transport) in IR_SENDERS.items():
                c.systemctl("start", f"pipejournal@{instance}.service")
                time.sleep(0.5)  # its start-up entries are not counted
                c.run(*control, "-z")
                tag = f"{instance}-{rnd}"
                body = "the quick brown fox jumps over the lazy dog 0123456789 " * 2
                c.write_file(f"/run/pipejournal/{instance}",
                             "".join(f"{tag} {i:07d} {body[:88]}\n" for i in range(n)))
                last = f"{tag} {n - 1:07d} {body[:88]}"
                try:
                    c.wait_for(lambda: c.journal(f"MESSAGE={last}"), timeout=600,
                               what="the last line")
                except harness.TimeoutExpired as e:
                    failures.append(f"instructions {name} round {rnd + 1}: {e}")
                    continue
                c.run(*control, "-d")
                dump = c.run("sh", "-c", "ls -t /run/journald.callgrind* | head -1").stdout.strip()
                total = int(c.run("sh", "-c", f"grep -E '^(summary|totals):' {dump} | head -1"
                                  ).stdout.split()[-1])
                entries = len(c.journal(f"SYSLOG_IDENTIFIER={instance}", f"_TRANSPORT={transport}",
                                        f"MESSAGE={last}"))
                c.systemctl("stop", f"pipejournal@{instance}.service")
                runs[name].append(total / n)
                log(f"instructions round {rnd + 1}/{args.ir_rounds} {name}: "
                    f"{total / n:,.0f} per entry")
                if entries != 1:
                    failures.append(f"instructions {name} round {rnd + 1}: last line {entries}×")
    base = runs["pipejournal native"]
    summary = {name: {"per_entry": stats(rs),
                      "vs_native": stats([r / b for r, b in zip(rs, base)])}
               for name, rs in runs.items()}
    return {"lines": n, "rounds": args.ir_rounds, "summary": summary, "runs": runs}


def case_inprocess(build: Path, args, failures) -> dict:
    exe = build / "bench" / "pj-bench-lines"
    r = subprocess.run([str(exe), str(args.inprocess_lines), "7"], capture_output=True, text=True)
    if r.returncode != 0:
        failures.append(f"in-process: {r.stderr.strip()}")
        return {"error": r.stderr.strip()}
    out = json.loads(r.stdout)
    if shutil.which("valgrind"):
        # Instructions are repeatable where time is not; 100k lines, the splitting loop only.
        n = 100_000
        cg = build / "bench" / "callgrind.lines.out"
        v = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}",
                            "--toggle-collect=*run_linebuffer*", str(exe), str(n), "1"],
                           capture_output=True, text=True)
        for line in v.stderr.splitlines():
            if "Collected :" in line:
                out["linebuffer_instructions_per_line"] = int(line.split(":")[1]) / n
    log(f"in-process: LineBuffer+LineMapper {out['linebuffer_ns_per_line']['median']:.1f} ns/line "
        f"(Format=auto {out['linebuffer_auto_ns_per_line']['median']:.1f}, "
        f"memchr alone {out['memchr_ns_per_line']['median']:.1f}); map JSON "
        f"{out['json_map_ns_per_line']['median']:.0f}, logfmt "
        f"{out['logfmt_map_ns_per_line']['median']:.0f} ns/line")
    return out


# ---------------------------------------------------------------------------------- report
def targets(res: dict) -> list[tuple[str, str, str, bool | None]]:
    """(target, measured, verdict) rows; None when the case did not run."""
    rows = []
    tp = res.get("throughput", {}).get("summary")
    if tp and "pipejournal" in tp and "ceiling (C)" in tp:
        pj, ce = tp["pipejournal"], tp["ceiling (C)"]
        ratio = pj["vs_ceiling"]["median"]
        rows.append(("throughput ≥ 0.95× ceiling, 0 lost",
                     f"{fmt(pj['vs_ceiling'], 3)}× paired per round (medians "
                     f"{pj['lines_per_s']['median']:,.0f} vs {ce['lines_per_s']['median']:,.0f} "
                     f"lines/s), {pj['lost']} lost",
                     ratio >= 0.95 and pj["lost"] == 0))
        cpu = pj["cpu_vs_ceiling"]["median"]
        rows.append(("own CPU/line ≤ 1.15× ceiling",
                     f"{fmt(pj['cpu_vs_ceiling'], 2)}× paired ({pj['sender_us_per_line']['median']:.2f}"
                     f" vs {ce['sender_us_per_line']['median']:.2f} µs/line)", cpu <= 1.15))
    if tp and "pipejournal" in tp and "systemd-cat" in tp:
        pj = tp["pipejournal"]
        rows.append(("native: journald busy ≥ 0.98× systemd-cat's",
                     f"{fmt(pj['busy_vs_systemd_cat'], 2)}× paired (medians "
                     f"{pj['journald_busy']['median']:.2f} vs "
                     f"{tp['systemd-cat']['journald_busy']['median']:.2f})",
                     pj["busy_vs_systemd_cat"]["median"] >= 0.98))
    if tp and "pipejournal" in tp and tp["pipejournal"]["cpu_vs_baseline"]["n"]:
        pj = tp["pipejournal"]
        rows.append(("native: own CPU/line ≤ 0.6× the baseline's",
                     f"{fmt(pj['cpu_vs_baseline'], 2)}× paired "
                     f"({pj['sender_us_per_line']['median']:.2f} vs "
                     f"{tp[BASELINE]['sender_us_per_line']['median']:.2f} µs/line)",
                     pj["cpu_vs_baseline"]["median"] <= 0.6))
    if tp and "pipejournal stream" in tp and "systemd-cat" in tp:
        st, cat = tp["pipejournal stream"], tp["systemd-cat"]
        rows.append(("stream: lines/s ≥ 0.95× systemd-cat, 0 lost",
                     f"{fmt(st['vs_systemd_cat'], 3)}× paired per round (medians "
                     f"{st['lines_per_s']['median']:,.0f} vs {cat['lines_per_s']['median']:,.0f} "
                     f"lines/s), {st['lost']} lost",
                     st["vs_systemd_cat"]["median"] >= 0.95 and st["lost"] == 0))
        rows.append(("stream: journald CPU/line ≤ 1.1× systemd-cat",
                     f"{fmt(st['journald_vs_systemd_cat'], 2)}× paired "
                     f"({st['journald_us_per_line']['median']:.2f} vs "
                     f"{cat['journald_us_per_line']['median']:.2f} µs/line)",
                     st["journald_vs_systemd_cat"]["median"] <= 1.1))
    rows.extend(json_targets(res))
    rows.extend(records_targets(res))
    df = res.get("defaults")
    if df:
        rows.append(("journald at its defaults: 0 lost",
                     f"{df['lost']} lost of {df['lines']:,}, {df['count']['duplicates']} "
                     f"duplicates", df["lost"] == 0 and df["count"]["duplicates"] == 0))
    st = res.get("startup", {}).get("summary")
    if st:
        pj, fl = st["pipejournal"]["ready_ms"], st["C++ floor (sd_notify only)"]["ready_ms"]
        if pj["median"] and fl["median"]:
            ratio = pj["median"] / fl["median"]
            rows.append(("exec→READY ≤ 1.4× floor",
                         f"{ratio:.2f}× ({pj['median']:.2f} vs {fl['median']:.2f} ms)",
                         ratio <= 1.4))
        paired, over = st["pipejournal"]["x_floor"], st["pipejournal"]["rss_over_floor_kib"]
        if paired["median"] is not None:
            rows.append(("exec→READY ≤ 1.15× floor, paired (issue 21)",
                         f"{fmt(paired, 3)}×", paired["median"] <= 1.15))
        if over["median"] is not None:
            rows.append(("VmRSS after READY ≤ floor + 1 MiB, paired (issue 21)",
                         f"+{fmt(over, 0)} KiB", over["median"] <= 1024))
    mem = res.get("memory")
    if mem:
        rows.append(("RSS after READY ≤ 5 MiB", f"{mem['rss_ready_kib'] / 1024:.2f} MiB",
                     mem["rss_ready_kib"] <= 5 * 1024))
        rows.append((f"RSS growth after {mem['lines']:,} lines ≤ 256 KiB",
                     f"{mem['growth_kib']} KiB", mem["growth_kib"] <= 256))
    inst = res.get("instances", {}).get("summary")
    if inst and inst["active"]:
        plain, after = inst["private_kib_plain"], inst["private_kib_json"]
        rows.append(("instances: private memory ≤ 512 KiB per instance (issue 21)",
                     f"{fmt(plain, 0)} KiB after plain lines, {fmt(after, 0)} KiB after a JSON "
                     f"line (median [min..max] of {inst['active']})",
                     after["median"] <= 512))
    idle = res.get("idle")
    if idle:
        rows.append((f"idle {idle['seconds']:.0f} s: wake-ups ≤ tick + watchdog "
                     f"({idle['budget_wakeups']})",
                     f"{idle['voluntary_ctxt_switches']} voluntary context switches",
                     idle["voluntary_ctxt_switches"] <= idle["budget_wakeups"]))
    stop = res.get("stop", {}).get("summary")
    if stop and tp and "pipejournal" in tp:
        per_line = tp["pipejournal"]["sender_us_per_line"]["median"]
        forwarding_ms = stop["lines"]["median"] * per_line / 1e3
        limit = 10 + forwarding_ms
        rows.append(("stop with full pipe: all forwarded, exit ≤ 10 ms + forwarding",
                     f"{stop['exit_ms']['median']:.2f} ms (limit {limit:.2f} = 10 + "
                     f"{stop['lines']['median']:.0f} lines × {per_line:.2f} µs), "
                     f"{stop['lost']} lost",
                     stop["exit_ms"]["median"] <= limit and stop["lost"] == 0))
    return rows


def records_targets(res: dict) -> list[tuple[str, str, bool]]:
    rs = res.get("records", {}).get("summary")
    if not rs:
        return []
    plain, mix = rs["plain, default"], rs["tracebacks, default"]
    lost = sum(s["lost"] + s["duplicates"] for s in rs.values())
    return [
        ("records: own CPU/line, default rules ≤ 1.05× Multiline= empty (plain lines)",
         f"{fmt(plain['sender_cpu_vs_off'], 3)}× paired per round "
         f"({plain['sender_us_per_line']['median']:.2f} vs "
         f"{rs['plain, off']['sender_us_per_line']['median']:.2f} µs/line), lines/s "
         f"{fmt(plain['lines_per_s_vs_off'], 3)}×, {lost} lost or duplicated",
         plain["sender_cpu_vs_off"]["median"] <= 1.05 and lost == 0),
        ("records: 5 % tracebacks, default rules (reported)",
         f"own CPU/line {fmt(mix['sender_cpu_vs_off'], 3)}×, journald CPU/line "
         f"{fmt(mix['journald_cpu_vs_off'], 3)}×, lines/s {fmt(mix['lines_per_s_vs_off'], 3)}× "
         f"Multiline= empty, paired", None),
    ]


def json_targets(res: dict) -> list[tuple[str, str, bool]]:
    js = res.get("json", {}).get("summary")
    if not js:
        return []
    pj, ce = js["pipejournal (Format=auto)"], js[JSON_CEILING]
    return [
        ("JSON lines: throughput ≥ 0.9× split-fields ceiling, 0 lost",
         f"{fmt(pj['vs_ceiling'], 3)}× paired per round (medians "
         f"{pj['lines_per_s']['median']:,.0f} vs {ce['lines_per_s']['median']:,.0f} lines/s), "
         f"{pj['lost']} lost",
         pj["vs_ceiling"]["median"] >= 0.9 and pj["lost"] == 0 and pj["duplicates"] == 0),
        ("JSON lines: own CPU/line ≤ 1.3× split-fields ceiling",
         f"{fmt(pj['cpu_vs_ceiling'], 2)}× paired ({pj['sender_us_per_line']['median']:.2f} vs "
         f"{ce['sender_us_per_line']['median']:.2f} µs/line)",
         pj["cpu_vs_ceiling"]["median"] <= 1.3),
    ]


def render_json(res: dict) -> list[str]:
    js = res.get("json")
    if not js:
        return []
    out = [f"### 1c. JSON lines: {js['lines']:,} unique lines of {js['json_bytes_per_line']:.0f} "
           "bytes (8 keys, one level of nesting), end to end\n",
           "pipejournal with `Format=auto` (the default) maps each line to 15 fields; the "
           "ceiling (`ceiling_json.c`) reads the same entries already split into those fields "
           "(`NAME=value` pieces, 0x1f between them) from its FIFO and sends each with one "
           f"`sd_journal_sendv`. Fresh journal per run, interleaved, {js['rounds']} rounds; "
           "median [min..max]; every line counted by the counter in its MESSAGE, and the fields "
           "of four entries per run read back and compared with the expected ones.\n",
           "| sender | lines/s | × ceiling (paired) | sender CPU µs/line | × ceiling CPU "
           "(paired) | journald CPU µs/line | lost | bytes/line written | other CPU s |",
           "|---|---|---|---|---|---|---|---|---|"]
    for name, s in js["summary"].items():
        out.append(f"| {name} | {fmt(s['lines_per_s'], 0)} | {fmt(s['vs_ceiling'], 2)} "
                   f"| {fmt(s['sender_us_per_line'], 2)} | {fmt(s['cpu_vs_ceiling'], 2)} "
                   f"| {fmt(s['journald_us_per_line'], 2)} | {s['lost']} "
                   f"| {s['bytes_per_line']:.0f} | {fmt(s['other_cpu_s'], 1)} |")
    fields = {name: ",".join(s["fields"]) for name, s in js["summary"].items()}
    if len(set(fields.values())) == 1:
        out += ["", f"Fields per entry (besides journald's trusted ones), the same for both: "
                f"{fields[JSON_CEILING]}.", ""]
    else:
        out += ["", "Fields per entry (besides journald's trusted ones), **not the same**: "
                + "; ".join(f"{n}: {f}" for n, f in fields.items()) + ".", ""]
    return out


def render_records(res: dict) -> list[str]:
    rc = res.get("records")
    if not rc:
        return []
    out = [f"### 1d. Records (Multiline=): {rc['lines']:,} lines end to end, default rules against "
           "Multiline= empty\n",
           "pipejournal.service itself, its config file giving the default rules "
           "(`python java go`) or `Multiline=` empty for the run; Format=auto. Inputs: the "
           "101-byte plain lines of case 1, and the same with 5 % of the lines in 10-line "
           "Python tracebacks (what Debian's Python 3.11 prints for an exception four calls "
           "deep), one per 200 lines. Lines/s and CPU per line count the lines written. "
           f"Fresh journal per run, {rc['rounds']} rounds, the two settings back to back in "
           "each (alternating which goes first); × off: each run divided by the other "
           "setting's run of the same round. Every run checks that `journalctl -o cat` shows "
           "exactly the bytes written, every plain line once, and the records are exactly the "
           "tracebacks (none with Multiline= empty). On plain lines journald gets the very same "
           "entries in both settings: its × off is the noise of the machine, against which the "
           "sender's is read.\n",
           "| input | Multiline= | lines/s | × off (paired) | sender CPU µs/line | × off "
           "(paired) | journald CPU µs/line | × off (paired) | entries | lost | other CPU s |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, s in rc["summary"].items():
        paired = s["setting"] == "default"
        out.append(f"| {RECORDS_INPUTS[s['input']]} | {RECORDS_SETTINGS[s['setting']]} "
                   f"| {fmt(s['lines_per_s'], 0)} "
                   f"| {fmt(s['lines_per_s_vs_off'], 3) if paired else ''} "
                   f"| {fmt(s['sender_us_per_line'], 2)} "
                   f"| {fmt(s['sender_cpu_vs_off'], 3) if paired else ''} "
                   f"| {fmt(s['journald_us_per_line'], 2)} "
                   f"| {fmt(s['journald_cpu_vs_off'], 3) if paired else ''} "
                   f"| {s['entries']:,} | {s['lost']} | {fmt(s['other_cpu_s'], 1)} |")
    out.append("")
    return out


def render_instances(res: dict) -> list[str]:
    r = res.get("instances")
    if not r:
        return []
    s = r["summary"]
    n = s["active"]
    out = [f"### 3a. Instances: {r['count']} socket-activated pipejournal@NAME, all running\n",
           "`systemctl start pipejournal@NAME.socket` for each (the FIFO is PID 1's), then one "
           "instance after the other: its first line written into the inactive unit's FIFO "
           f"starts the service, {r['plain_lines'] - 1} more plain lines follow; with all "
           "instances running, their memory is read (`/proc/PID/smaps_rollup`: Pss, private = "
           "Private_Clean + Private_Dirty; `/proc/PID/status`: VmRSS), then each gets one JSON "
           "line (`Format=auto`, the default) and memory is read again. Every line awaited in "
           "the journal, then counted. Pss divides each shared page among the processes that map "
           "it, so it depends on how many instances run; summed over all instances it is what "
           "they cost together, while summed VmRSS counts every shared page once per instance. "
           f"Per instance: median [min..max] of {n}.\n",
           "| memory KiB | Pss | private | VmRSS | Pss, after a JSON line | private, after a JSON "
           "line | VmRSS, after a JSON line |",
           "|---|---|---|---|---|---|---|"]
    keys = ("pss_kib", "private_kib", "rss_kib")
    out.append("| per instance | " + " | ".join(fmt(s[f"{k}_{w}"], 0) for w in ("plain", "json")
                                                for k in keys) + " |")
    out.append(f"| all {n} | " + " | ".join(f"{s[f'{k}_{w}_total']:,}" for w in ("plain", "json")
                                             for k in keys) + " |")
    out += ["",
            "Start-up from the first write: CLOCK_MONOTONIC and CLOCK_REALTIME read just before "
            "the write(2) of the first line, against PID 1's ExecMainStartTimestamp (the socket "
            "unit triggered, the start job run, the main process forked) and "
            "ActiveEnterTimestamp (READY=1 taken), and against the first line's "
            "`__REALTIME_TIMESTAMP` (journald's receive time). Fork → READY=1 holds the "
            "sandbox's set-up in the child (namespaces, mounts, seccomp) before the exec: "
            "compare case 2's exec → READY=1. Instances start one after the other, never "
            "two at once.\n",
            "| write → fork ms | fork → READY=1 ms | write → READY=1 ms | write → line in "
            "the journal ms | JSON lines mapped | lost | machine |",
            "|---|---|---|---|---|---|---|",
            f"| {fmt(s['write_to_fork_ms'], 2)} | {fmt(s['fork_to_ready_ms'], 2)} "
            f"| {fmt(s['write_to_ready_ms'], 2)} | {fmt(s['write_to_journal_ms'], 2)} "
            f"| {s['json_mapped']}/{n} | {s['lost']} | {r['machine_busy_cpus']:.2f} CPUs busy "
            f"over {r['seconds']:.1f} s, load average {' '.join(r['loadavg_before'])} |",
            ""]
    return out


def render(res: dict) -> str:
    out = []
    meta = res["meta"]
    out.append(f"# pipejournal benchmarks — {meta['date']}\n")
    out.append(f"Host: {meta['host']}; {meta['cpus']} CPUs; kernel {meta['kernel']}; "
               f"systemd 252 as PID 1 in systemd-nspawn; build {meta['build']} "
               f"(--buildtype=release). Total runtime {meta['runtime_s']:.0f} s.\n")
    out.append(f"journald in the container: {', '.join(f'{k}={v}' for k, v in JOURNALD_CONF.items())}"
               " — benchmark settings for the throughput comparison: no rate limit, so the "
               "comparison senders (which, unlike pipejournal.service, set no LogRateLimit*= of "
               "their own) lose no line; the journal on tmpfs (what this container, "
               "having no /var/log/journal, uses anyway), so no disk enters the figures. "
               "The other cases run in the same container, except the round at journald's "
               "defaults.\n")
    tp = res.get("throughput")
    if tp:
        out.append(f"## 1. Throughput: {tp['lines']:,} unique lines of 101 bytes into the FIFO, "
                   "end to end until the last one is in the journal\n")
        out.append(f"Fresh (rotated, vacuumed) journal per run; senders interleaved, "
                   f"{tp['rounds']} rounds; median [min..max]. CPU over the run from "
                   "/proc/PID/schedstat (on-CPU time in ns; utime+stime ticks of /proc/PID/stat "
                   "where it is missing).\n")
        baseline = any(s["vs_baseline"]["n"] for s in tp["summary"].values())
        out.append("| sender | lines/s | × ceiling (paired) | × systemd-cat (paired) "
                   "| sender CPU µs/line | journald CPU µs/line | journald busy "
                   "| busy × systemd-cat (paired) |"
                   + (" × baseline: lines/s, sender CPU (paired) |" if baseline else "")
                   + " lost | other CPU s |")
        out.append("|---|---|---|---|---|---|---|---|" + ("---|" if baseline else "") + "---|---|")
        for name, s in tp["summary"].items():
            out.append(f"| {name} | {fmt(s['lines_per_s'], 0)} | {fmt(s['vs_ceiling'], 2)} "
                       f"| {fmt(s['vs_systemd_cat'], 2)} "
                       f"| {fmt(s['sender_us_per_line'], 2)} "
                       f"| {fmt(s['journald_us_per_line'], 2)} "
                       f"| {fmt(s['journald_busy'], 2)} | {fmt(s['busy_vs_systemd_cat'], 2)} "
                       + (f"| {fmt(s['vs_baseline'], 2)}, {fmt(s['cpu_vs_baseline'], 2)} "
                          if baseline else "")
                       + f"| {s['lost']} | {fmt(s['other_cpu_s'], 1)} |")
        out.append("")
        out.append("journald busy: its CPU time over the run's wall-clock time (lines/s × its "
                   "µs per entry); 1.00 is a journald that never waits for entries.")
        out.append("")
        out.append("× ceiling / × systemd-cat (paired): each run divided by the ceiling's or "
                   "systemd-cat's run of the same round. "
                   "Other CPU s: CPU time the machine spent on anything but the sender, journald "
                   "and the benchmark's writer/poller during the run (other load skews a run).")
        out.append("")
        out.append("pipejournal: pipejournal.service as installed (native, Format=auto). "
                   "pipejournal stream: the instance pipejournal@benchstream with Transport=stream "
                   "and Format=plain. pipejournal, no LogExtraFields: the instance "
                   "pipejournal@benchnolef, native, with a drop-in that clears the unit's "
                   "LogExtraFields=PIPEJOURNAL_FIFO=... (native entries carry the field "
                   "themselves; the row shows what journald's copy of it costs). systemd-cat runs in "
                   "a unit with the same LogExtraFields= as pipejournal's units.")
        out.append("")
        fields = {n: ",".join(s["fields"]) for n, s in tp["summary"].items()}
        out.append("Fields per entry (besides journald's trusted ones): " +
                   "; ".join(f"{n}: {f}" for n, f in fields.items()) + ". systemd-cat uses the "
                   "stream protocol (its sender is `cat`: the line parsing is in journald's column); "
                   "the Python "
                   "pattern's journal.send adds CODE_FILE/CODE_LINE/CODE_FUNC on its own.\n")
    df = res.get("defaults")
    if df:
        out.append(f"### At journald's defaults: {df['lines']:,} lines, one round\n")
        out.append("A second container without the journald.conf drop-in: journald's rate limit is "
                   "on (10,000 entries per 30 s, scaled by free space), and "
                   "pipejournal.service's own LogRateLimitIntervalSec=/LogRateLimitBurst= replace "
                   "it. Storage=auto (volatile here). \"Suppressed\": what journald reported for "
                   "the unit (it reports only when the unit logs again after its window; lost is "
                   "counted line by line).\n")
        out.append("| sender | lines/s | journald CPU µs/line | lost | journald \"Suppressed\" |")
        out.append("|---|---|---|---|---|")
        rate = (f"{df['lines_per_s']:,.0f}" if df["last_line_seen"]
                else "n/a (the last line never arrived)")
        out.append(f"| pipejournal | {rate} | {df['journald_us_per_line']:.2f} "
                   f"| {df['lost']} | {df['suppressed']} |")
        out.append("")
    ir = res.get("instructions")
    if ir and "error" not in ir:
        out.append(f"### journald's instructions per entry (callgrind), {ir['lines']:,} lines, "
                   f"{ir['rounds']} rounds\n")
        out.append("journald runs under callgrind in a third container; its counters are zeroed "
                   "after the sender's start and dumped once the last line is in the journal. "
                   "Exact where CPU time is noisy, but user space only: the kernel's share (a "
                   "recvmsg with credentials per datagram, against one read per ~2 KiB of a "
                   "stream) is not in it, which is most of what the stream saves.\n")
        out.append("| sender | instructions per entry | × native (paired) |")
        out.append("|---|---|---|")
        for name, s in ir["summary"].items():
            out.append(f"| {name} | {fmt(s['per_entry'], 0)} | {fmt(s['vs_native'], 3)} |")
        out.append("")
    elif ir:
        out.append(f"### journald's instructions per entry: not measured ({ir['error']})\n")
    out.extend(render_json(res))
    out.extend(render_records(res))
    st = res.get("startup")
    if st:
        out.append(f"## 2. Start-up: exec → READY=1 ({st['runs_each']} runs each, interleaved)\n")
        out.append("CLOCK_REALTIME just before execve vs the kernel's SO_TIMESTAMPNS on the "
                   "READY=1 datagram (fake NOTIFY_SOCKET), inside the container. "
                   "RSS read 100 ms after READY.\n")
        out.append("| program | exec→READY ms | × floor (paired) | VmRSS after READY KiB | "
                   "KiB over the floor (paired) |")
        out.append("|---|---|---|---|---|")
        for name, s in st["summary"].items():
            out.append(f"| {name} | {fmt(s['ready_ms'], 2)} | {fmt(s.get('x_floor') or {}, 3)} | "
                       f"{fmt(s['rss_kib'], 0)} | {fmt(s.get('rss_over_floor_kib') or {}, 0)} |")
        out.append("")
    mem = res.get("memory")
    if mem:
        out.append("## 3. Memory: pipejournal.service\n")
        out.append("| VmRSS after READY | after forwarding | lines | growth | VmHWM | lost |")
        out.append("|---|---|---|---|---|---|")
        out.append(f"| {mem['rss_ready_kib']} KiB | {mem['rss_after_kib']} KiB | {mem['lines']:,} "
                   f"| {mem['growth_kib']} KiB | {mem['hwm_after_kib']} KiB | {mem['count']['lost']} |")
        out.append(f"\n({mem['lines']:,} lines at {mem['lines'] / mem['seconds']:,.0f} lines/s)\n")
    out.extend(render_instances(res))
    idle = res.get("idle")
    if idle:
        out.append(f"## 4. Idle: pipejournal.service, tick 5 s, WatchdogSec=10s, "
                   f"{idle['seconds']:.0f} s\n")
        out.append("| voluntary ctx switches | involuntary | CPU ms (schedstat) | allowed wake-ups "
                   "(tick + watchdog) |")
        out.append("|---|---|---|---|")
        cpu_ms = idle["cpu"].get("run_us", idle["cpu"]["cpu_us"]) / 1e3
        out.append(f"| {idle['voluntary_ctxt_switches']} | {idle['nonvoluntary_ctxt_switches']} | "
                   f"{cpu_ms:.2f} | {idle['budget_wakeups']} |")
        out.append(f"\nStatus: {idle['show'].get('StatusText', '')}\n")
    stop = res.get("stop")
    if stop:
        s = stop["summary"]
        out.append(f"## 5. Stop: SIGTERM with a full pipe ({len(stop['runs'])} runs)\n")
        out.append("The service is SIGSTOPped, its pipe filled with whole lines until EAGAIN, then "
                   "SIGTERM + SIGCONT; time from SIGCONT until the process is gone (pidfd).\n")
        out.append("| exit ms | lines in the pipe | bytes | lost | exit status |")
        out.append("|---|---|---|---|---|")
        out.append(f"| {fmt(s['exit_ms'], 2)} | {fmt(s['lines'], 0)} | "
                   f"{fmt(s['buffered_bytes'], 0)} | {s['lost']} | {','.join(s['exit_status'])} |")
        out.append("")
    ip = res.get("inprocess")
    if ip and "error" not in ip:
        out.append(f"## 6. In-process: LineBuffer + LineMapper, {ip['lines']:,} lines of ~101 "
                   f"bytes in 64 KiB reads ({ip['repeats']} repeats)\n")
        out.append("Every 10th line has a `<3>` prefix, every 100th ends in CRLF. The figures include "
                   "a memcpy of each 64 KiB piece into the buffer, standing in for read(2).\n")
        out.append("| loop | ns/line median [best..worst] | instructions/line (callgrind) |")
        out.append("|---|---|---|")
        lb, mc = ip["linebuffer_ns_per_line"], ip["memchr_ns_per_line"]
        ir = ip.get("linebuffer_instructions_per_line")
        out.append(f"| LineBuffer + LineMapper | {lb['median']:.1f} [{lb['best']:.1f}..{lb['worst']:.1f}] "
                   f"| {f'{ir:.0f}' if ir else 'n/a'} |")
        la = ip.get("linebuffer_auto_ns_per_line")
        if la:
            out.append(f"| LineBuffer + LineMapper, Format=auto (same plain lines) | {la['median']:.1f} "
                       f"[{la['best']:.1f}..{la['worst']:.1f}] ({la['median'] / lb['median']:.3f}x plain) | |")
        out.append(f"| bare memchr split (for scale) | {mc['median']:.1f} "
                   f"[{mc['best']:.1f}..{mc['worst']:.1f}] | |")
        for key, what in (("json_map", "JSON"), ("logfmt_map", "logfmt")):
            f = ip.get(f"{key}_ns_per_line")
            if f:
                size = ip.get(f"{key.split('_')[0]}_bytes_per_line", 0)
                out.append(f"| LineMapper::map, {what} lines of {size:.0f} bytes, 13 fields | "
                           f"{f['median']:.0f} [{f['best']:.0f}..{f['worst']:.0f}] | |")
        out.append("")
    rows = targets(res)
    if rows:
        out.append("## Targets (reported, not enforced)\n")
        out.append("| target | measured | met |")
        out.append("|---|---|---|")
        for t, m, ok in rows:
            verdict = "reported" if ok is None else "yes" if ok else "**no**"
            out.append(f"| {t} | {m} | {verdict} |")
        out.append("")
    if res["failures"]:
        out.append("## Correctness failures\n")
        out.extend(f"- {f}" for f in res["failures"])
    else:
        out.append("Correctness: every line arrived exactly once in every run.")
    return "\n".join(out) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build-dir", default="/tmp/build-bench", type=Path)
    p.add_argument("--results", default=BENCH / "results", type=Path)
    p.add_argument("--cases",
                   default="throughput,defaults,instructions,json,records,startup,memory,"
                           "instances,idle,stop,inprocess",
                   help="comma-separated subset")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--senders", default="",
                   help="throughput: the senders to run, ';' between names (they hold commas), "
                        "e.g. 'pipejournal;pipejournal, no LogExtraFields' (default: all)")
    p.add_argument("--lines", type=int, default=200_000)
    p.add_argument("--baseline", type=Path, default=None,
                   help="throughput: another build directory (or its pipejournal binary), run as "
                        f"the sender '{BASELINE}' beside the others, paired per round")
    # More than journald's default limit lets through (10,000 per 30 s × up to 3.75), even --quick
    p.add_argument("--defaults-lines", type=int, default=200_000)
    p.add_argument("--json-lines", type=int, default=100_000)
    p.add_argument("--records-lines", type=int, default=200_000)
    p.add_argument("--startup-runs", type=int, default=21)
    p.add_argument("--memory-lines", type=int, default=1_000_000)
    p.add_argument("--instances", type=int, default=20,
                   help="instances: how many pipejournal@NAME run at once (also with --quick)")
    p.add_argument("--idle-seconds", type=float, default=60)
    p.add_argument("--stop-runs", type=int, default=10)
    p.add_argument("--inprocess-lines", type=int, default=1_000_000)
    p.add_argument("--ir-lines", type=int, default=3_000, help="instructions: lines per run")
    p.add_argument("--ir-rounds", type=int, default=3)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1 round of 20,000 lines (plain, JSON, records), 100,000 at "
                        "journald's defaults, "
                        "5 start-ups, 100,000 lines for memory, 10 s idle, 3 stops")
    p.add_argument("--no-idle", action="store_true", help="skip the 60 s idle case")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.rounds, args.lines, args.startup_runs = 1, 20_000, 5
        args.memory_lines, args.idle_seconds, args.stop_runs = 100_000, 10, 3
        args.defaults_lines = 100_000
        args.ir_lines, args.ir_rounds = 1_000, 1
        args.json_lines = 20_000
        args.records_lines = 20_000
    cases = [x.strip() for x in args.cases.split(",") if x.strip()]
    if args.no_idle and "idle" in cases:
        cases.remove("idle")

    harness.require_root()
    harness.terminate_on_sigterm()
    t_start = time.monotonic()
    failures: list[str] = []
    res: dict = {"failures": failures}
    build = args.build_dir.resolve()
    if args.baseline is not None:
        add_baseline()
    container_cases = [x for x in cases if x not in ("inprocess", "defaults", "instructions")]
    dest = (prepare_destdir(build, args.baseline)
            if container_cases or "defaults" in cases or "instructions" in cases else None)
    if container_cases:
        log(f"booting the container (destdir {dest})")
        with harness.Container(dest, journald_conf=JOURNALD_CONF, files=UNITS,
                               verbose=args.verbose) as c:
            log(f"booted in {c.boot_seconds:.2f}s")
            for case in container_cases:
                fn = {"throughput": case_throughput, "json": case_json,
                      "records": case_records, "startup": case_startup,
                      "memory": case_memory, "instances": case_instances,
                      "idle": case_idle, "stop": case_stop}[case]
                log(f"case {case}")
                res[case] = fn(c, args, failures)
    if "defaults" in cases:
        log("case defaults: a second container, journald at its defaults")
        with harness.Container(dest, verbose=args.verbose) as c:
            res["defaults"] = case_defaults(c, args, failures)
    if "instructions" in cases:
        log("case instructions: a third container, journald under callgrind")
        res["instructions"] = case_instructions(dest, args, failures)
    if "inprocess" in cases:
        log("case inprocess")
        res["inprocess"] = case_inprocess(build, args, failures)

    res["meta"] = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": platform.node(), "cpus": os.cpu_count(), "kernel": platform.release(),
        "build": str(build), "runtime_s": time.monotonic() - t_start,
        "args": {k: str(v) for k, v in vars(args).items()},
        "targets": [{"target": t, "measured": m, "met": ok} for t, m, ok in targets(res)],
    }
    report = render(res)
    # A smoke run must not overwrite the figures of the last real run.
    stem = "quick" if args.quick else "latest"
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"{stem}.md").write_text(report)
    (args.results / f"{stem}.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    print(report)
    print(f"Wrote {args.results}/{stem}.md and {stem}.json "
          f"({res['meta']['runtime_s']:.0f} s)", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
