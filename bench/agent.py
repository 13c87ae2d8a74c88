#!/usr/bin/python3
"""The benchmark's hands inside the container (run by bench.py through nsenter).

Each subcommand does one measurement against a unit of the container's systemd and prints one
JSON object on stdout. Figures only; correctness problems (lines lost or duplicated) are
reported in the object, the driver decides what fails.

    agent.py fresh-journal
    agent.py throughput --unit U --fifo PATH --ident ID --lines N [--hold-fifo] [--exe NAME] [--rss]
    agent.py json --unit U --fifo PATH --ident ID --lines N [--presplit]
    agent.py records --unit U --fifo PATH --ident ID --lines N --input plain|tracebacks
                     --multiline default|off
    agent.py idle --unit U --seconds S
    agent.py stop --unit U --fifo PATH --ident ID
    agent.py instances --count N [--prefix NAME] [--plain-lines K]

Processes are read through /proc/PID/stat (utime+stime, clock ticks), /proc/PID/schedstat
(on-CPU ns), /proc/PID/status (VmRSS, context switches) and /proc/PID/smaps_rollup (Pss,
private memory).
"""
from __future__ import annotations

import argparse
import fcntl
import glob
import json
import os
import select
import signal
import subprocess
import sys
import time
import traceback

from systemd import journal

CLK_TCK = os.sysconf("SC_CLK_TCK")
LINE_BYTES = 100  # without the '\n'


# ---------------------------------------------------------------------------------- helpers
def sh(*cmd: str, check: bool = True) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def main_pid(unit: str) -> int:
    return int(sh("systemctl", "show", "-P", "MainPID", unit).strip() or 0)


def proc_cpu(pid: int) -> dict:
    """CPU time of a process: stat's utime+stime (ticks) and schedstat's on-CPU time (ns)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    # fields[0] is field 3 (state); utime/stime are fields 14/15.
    ticks = int(fields[11]) + int(fields[12])
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            run_ns = int(f.read().split()[0])
    except OSError:
        run_ns = None
    return {"cpu_us": ticks * 1e6 / CLK_TCK, "run_ns": run_ns}


def proc_status(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
                out[key] = int(value.split()[0])
    return out


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all CPUs; /proc/stat is not namespaced)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / CLK_TCK


def self_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def cpu_delta(before: dict, after: dict) -> dict:
    d = {"cpu_us": after["cpu_us"] - before["cpu_us"]}
    if before["run_ns"] is not None and after["run_ns"] is not None:
        d["run_us"] = (after["run_ns"] - before["run_ns"]) / 1e3
    return d


def make_lines(tag: str, n: int) -> tuple[bytes, str]:
    """n unique lines of LINE_BYTES bytes + '\\n'; returns (data, text of the last line)."""
    filler = "the quick brown fox jumps over the lazy dog 0123456789 " * 3
    head_len = len(f"{tag} {0:07d} ")
    # No whitespace at the end: journald's stream protocol (systemd-cat) strips it.
    body = filler[: LINE_BYTES - head_len - 1] + "."
    lines = [f"{tag} {i:07d} {body}" for i in range(n)]
    assert all(len(x) == LINE_BYTES for x in lines[:1])
    return ("\n".join(lines) + "\n").encode(), lines[-1]


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    chunk = 65536
    while view:
        n = os.write(fd, view[:chunk])
        view = view[n:]


def wait_for_message(message: str, timeout: float, interval: float = 0.002) -> float | None:
    """Poll the journal with a MESSAGE= match until an entry appears; its monotonic time.

    A new Reader each time (~60 µs): in systemd 252 a Reader opened while journald is still
    growing the file does not see entries written beyond the size it first mapped (seen with
    systemd-cat, whose 20 MB go into socket buffers long before journald has written them).
    """
    end = time.monotonic() + timeout
    while True:
        reader = journal.Reader()
        reader.add_match(MESSAGE=message)
        reader.seek_tail()
        found = reader.get_previous()
        reader.close()
        if found:
            return time.monotonic()
        if time.monotonic() > end:
            return None
        time.sleep(interval)


def last_entry_fields(message: str) -> list[str]:
    reader = journal.Reader()
    reader.add_match(MESSAGE=message)
    reader.seek_tail()
    entry = reader.get_previous()
    return sorted(k for k in entry if not k.startswith("_")) if entry else []


def count_lines(tag: str, n: int, match: str) -> dict:
    """Every line tagged `tag` in the journal (match e.g. SYSLOG_IDENTIFIER=x): lost/duplicates."""
    out = subprocess.run(["journalctl", "--no-pager", "-o", "cat", match],
                         capture_output=True, check=True).stdout
    prefix = tag.encode() + b" "
    seen = bytearray(n)
    total = dups = bad = 0
    for line in out.split(b"\n"):
        if not line.startswith(prefix):
            continue
        total += 1
        try:
            i = int(line[len(prefix): len(prefix) + 7])
        except ValueError:
            bad += 1
            continue
        if not 0 <= i < n:
            bad += 1
        elif seen[i]:
            dups += 1
        else:
            seen[i] = 1
    found = sum(seen)
    return {"found": found, "lost": n - found, "duplicates": dups, "malformed": bad,
            "entries": total}


def wait_exe(pid: int, comm: str, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(f"/proc/{pid}/comm") as f:
            if f.read().strip() == comm:
                return
        time.sleep(0.001)
    raise RuntimeError(f"PID {pid} did not become {comm}")


# ---------------------------------------------------------------------------------- commands
def cmd_fresh_journal(_args) -> dict:
    """Rotate, then delete every archived file: the next case starts on an empty journal."""
    sh("journalctl", "--rotate")
    removed = 0
    for path in glob.glob("/run/log/journal/*/*@*.journal"):
        os.unlink(path)
        removed += 1
    usage = sh("journalctl", "--disk-usage").strip()
    return {"removed_files": removed, "disk_usage": usage}


def cmd_throughput(args) -> dict:
    tag = f"{args.ident}-{os.getpid()}"
    data, last = make_lines(tag, args.lines)
    hold = None
    if args.hold_fifo:  # the sender reads stdin (systemd-cat): make and hold the FIFO first
        os.makedirs(os.path.dirname(args.fifo), exist_ok=True)
        try:
            os.mkfifo(args.fifo, 0o600)
        except FileExistsError:
            pass
        hold = os.open(args.fifo, os.O_RDWR | os.O_CLOEXEC)
    sh("systemctl", "start", args.unit)
    pid = main_pid(args.unit)
    if args.exe:
        wait_exe(pid, args.exe)
    jpid = main_pid("systemd-journald.service")
    time.sleep(0.2)  # let start-up entries settle
    result = {"unit": args.unit, "lines": args.lines, "line_bytes": LINE_BYTES + 1,
              "sender_pid": pid}
    if args.rss:
        result["rss_ready_kib"] = proc_status(pid)["VmRSS"]
    fd = os.open(args.fifo, os.O_WRONLY | os.O_CLOEXEC)
    s0, j0 = proc_cpu(pid), proc_cpu(jpid)
    m0, a0 = machine_busy_s(), self_cpu_s()
    t0 = time.monotonic()
    write_all(fd, data)
    t_written = time.monotonic()
    t1 = wait_for_message(last, timeout=args.timeout or max(60.0, args.lines / 2000))
    t_end = t1 if t1 is not None else time.monotonic()
    s1, j1 = proc_cpu(pid), proc_cpu(jpid)
    m1, a1 = machine_busy_s(), self_cpu_s()
    if args.rss:
        result["rss_after_kib"] = proc_status(pid)["VmRSS"]
        result["hwm_after_kib"] = proc_status(pid)["VmHWM"]
    result.update({
        "seconds": t_end - t0,
        "write_seconds": t_written - t0,
        "last_line_seen": t1 is not None,
        "sender": cpu_delta(s0, s1),
        "journald": cpu_delta(j0, j1),
    })
    # Everything else that ran meanwhile: this agent (writer + poller) and any other load on the
    # machine. Large values explain noisy runs.
    result["agent_cpu_s"] = a1 - a0
    result["other_cpu_s"] = ((m1 - m0) - (a1 - a0) - result["sender"]["cpu_us"] / 1e6
                             - result["journald"]["cpu_us"] / 1e6)
    if t1 is not None:
        result["fields"] = last_entry_fields(last)
    # Entries that were still on their way when the last one showed (none should be).
    time.sleep(0.2)
    result["count"] = count_lines(tag, args.lines, f"SYSLOG_IDENTIFIER={args.ident}")
    sh("systemctl", "stop", args.unit)
    os.close(fd)
    if hold is not None:
        os.close(hold)
    result["journal_usage"] = sh("journalctl", "--disk-usage").strip()
    return result


#: between the fields of a pre-split entry (bench/ceiling_json.c); never in the benchmark's values
FIELD_SEPARATOR = "\x1f"


def json_entry(tag: str, i: int) -> tuple[str, list[tuple[str, str]]]:
    """JSON line i of a run and the fields pipejournal maps it to (besides SYSLOG_IDENTIFIER and
    PIPEJOURNAL_FIFO), per interface.md "Structured lines".

    The shape of bench/lines_bench.cpp's JSON line, as pino writes it: 8 keys, "req" and "user"
    one level down, ~250 bytes; msg carries the run's tag and the line's counter. Every 7th line
    is an error (level 50 → PRIORITY=3).
    """
    level = 50 if i % 7 == 0 else 30
    fields = [
        ("MESSAGE", f"request completed {tag} {i:07d}"),
        ("PRIORITY", "3" if level == 50 else "6"),
        ("LEVEL", str(level)),
        ("TIME", str(1_700_000_000_000 + i)),
        ("PID", "4242"),
        ("HOSTNAME", "web-01"),
        ("REQ_ID", f"a1b2c3{i:06x}"),
        ("REQ_METHOD", "GET"),
        ("REQ_URL", f"/api/v1/items?page={i % 10}"),
        ("REQ_STATUS", "200"),
        ("USER_ID", str(i % 1000)),
        ("USER_ROLE", "admin"),
        ("DURATION_MS", f"{i % 300}.5"),
    ]
    v = dict(fields)
    line = (f'{{"level":{v["LEVEL"]},"time":{v["TIME"]},"pid":{v["PID"]},'
            f'"hostname":"{v["HOSTNAME"]}","req":{{"id":"{v["REQ_ID"]}","method":"GET",'
            f'"url":"{v["REQ_URL"]}","status":{v["REQ_STATUS"]}}},'
            f'"user":{{"id":{v["USER_ID"]},"role":"{v["USER_ROLE"]}"}},'
            f'"duration_ms":{v["DURATION_MS"]},"msg":"{v["MESSAGE"]}"}}')
    return line, fields


def fifo_run(unit: str, fifo: str, data: bytes, last: str, timeout: float) -> dict:
    """Start unit, write data into its FIFO, wait until the entry whose MESSAGE is last is in
    the journal: seconds and CPU of the sender, journald and everything else. Leaves the unit
    running (the caller counts, then stops it)."""
    sh("systemctl", "start", unit)
    pid = main_pid(unit)
    jpid = main_pid("systemd-journald.service")
    time.sleep(0.2)  # let start-up entries settle
    fd = os.open(fifo, os.O_WRONLY | os.O_CLOEXEC)
    s0, j0 = proc_cpu(pid), proc_cpu(jpid)
    m0, a0 = machine_busy_s(), self_cpu_s()
    t0 = time.monotonic()
    write_all(fd, data)
    t_written = time.monotonic()
    t1 = wait_for_message(last, timeout=timeout)
    t_end = t1 if t1 is not None else time.monotonic()
    s1, j1 = proc_cpu(pid), proc_cpu(jpid)
    m1, a1 = machine_busy_s(), self_cpu_s()
    os.close(fd)
    result = {"unit": unit, "sender_pid": pid, "seconds": t_end - t0,
              "write_seconds": t_written - t0, "last_line_seen": t1 is not None,
              "sender": cpu_delta(s0, s1), "journald": cpu_delta(j0, j1),
              "agent_cpu_s": a1 - a0}
    result["other_cpu_s"] = ((m1 - m0) - (a1 - a0) - result["sender"]["cpu_us"] / 1e6
                             - result["journald"]["cpu_us"] / 1e6)
    return result


def check_json_fields(tag: str, n: int, ident: str, fifo: str) -> dict:
    """The fields of a sample of entries (the first two, one in the middle, the last: both
    priorities) read back with journalctl -o json, against json_entry's: every field the same
    value, no field more or less (journald's own, starting with '_', aside)."""
    sample = sorted({0, 1, n // 2, n - 1})
    expected = {}
    for i in sample:
        fields = json_entry(tag, i)[1] + [("SYSLOG_IDENTIFIER", ident), ("PIPEJOURNAL_FIFO", fifo)]
        expected[fields[0][1]] = dict(fields)
    out = sh("journalctl", "--no-pager", "-o", "json", f"SYSLOG_IDENTIFIER={ident}",
             *(f"MESSAGE={m}" for m in expected))
    mismatches = []
    seen = set()
    names = []
    for text in out.splitlines():
        entry = {k: v for k, v in json.loads(text).items() if not k.startswith("_")}
        want = expected.get(entry.get("MESSAGE"))
        if want is None:
            mismatches.append(f"unexpected entry {entry}")
            continue
        seen.add(entry["MESSAGE"])
        names = sorted(entry)
        if entry != want:
            extra = {k: v for k, v in entry.items() if want.get(k) != v}
            missing = {k: v for k, v in want.items() if entry.get(k) != v}
            mismatches.append(f"{entry['MESSAGE']}: expected {missing}, seen {extra}")
    mismatches += [f"{m}: not found" for m in expected if m not in seen]
    return {"checked": len(seen), "mismatches": mismatches, "fields": names}


def cmd_json(args) -> dict:
    """JSON lines into a FIFO, end to end; or (--presplit) the same entries already split into
    fields, for bench/ceiling_json.c. Every line counted by the counter in its MESSAGE."""
    tag = f"t{os.getpid():07d}"  # fixed width: every sender gets lines of the same length
    records = []
    json_bytes = 0
    for i in range(args.lines):
        line, fields = json_entry(tag, i)
        json_bytes += len(line) + 1
        records.append(FIELD_SEPARATOR.join(f"{k}={v}" for k, v in fields) if args.presplit
                       else line)
    data = ("\n".join(records) + "\n").encode()
    last = json_entry(tag, args.lines - 1)[1][0][1]  # its MESSAGE
    result = {"lines": args.lines, "presplit": args.presplit,
              "json_bytes_per_line": json_bytes / args.lines,
              "bytes_per_line": len(data) / args.lines}
    result.update(fifo_run(args.unit, args.fifo, data, last,
                           timeout=args.timeout or max(60.0, args.lines / 2000)))
    time.sleep(0.2)  # entries still on their way when the last one showed (none should be)
    result["count"] = count_lines(f"request completed {tag}", args.lines,
                                  f"SYSLOG_IDENTIFIER={args.ident}")
    result["field_check"] = check_json_fields(tag, args.lines, args.ident, args.fifo)
    sh("systemctl", "stop", args.unit)
    return result


# Records (Multiline=): the same unit with the default rules or Multiline= empty, set in its config
# file for the run; plain lines as in throughput, or 5 % of the lines in Python tracebacks.
CONFIG = "/etc/pipejournal/pipejournal.conf"
MULTILINE_CONFIG = {"default": "[PipeJournal]\n", "off": "[PipeJournal]\nMultiline=\n"}


def _tb_load(tag: str, i: int) -> None:
    raise ValueError(f"bench {tag} {i:07d}: item store unreadable")


def _tb_show(tag: str, i: int) -> None:
    _tb_load(tag, i)


def _tb_dispatch(tag: str, i: int) -> None:
    _tb_show(tag, i)


def python_traceback(tag: str, i: int) -> str:
    """What this Python (Debian's 3.11) prints for an uncaught exception four calls deep: ten
    lines (each call a whole line, so no ^ markers), the last one naming the run and i."""
    try:
        _tb_dispatch(tag, i)
    except ValueError as e:
        return "".join(traceback.format_exception(e))
    raise AssertionError("no exception")


def records_input(tag: str, n: int, tracebacks: bool) -> tuple[bytes, str, list[str], int]:
    """n lines: plain (make_lines's), or blocks of 95 plain lines, a traceback, 95 plain lines
    (5 % of the lines in tracebacks; the last line plain). Returns (data, the last line, the
    tracebacks as records' MESSAGE, how many plain lines)."""
    block = 200
    traceback_lines = python_traceback(tag, 0).count("\n")
    plain_per_block = block - traceback_lines
    blocks = n // block if tracebacks else 0
    plain_n = n - blocks * traceback_lines
    plain = make_lines(tag, plain_n)[0].decode().split("\n")[:-1]
    if not blocks:
        return ("\n".join(plain) + "\n").encode(), plain[-1], [], plain_n
    parts, records = [], []
    half = plain_per_block // 2
    for b in range(blocks):
        text = python_traceback(tag, b)
        records.append(text[:-1])
        lines = plain[b * plain_per_block:(b + 1) * plain_per_block]
        parts.append("".join(line + "\n" for line in lines[:half]) + text
                     + "".join(line + "\n" for line in lines[half:]))
    parts.append("".join(line + "\n" for line in plain[blocks * plain_per_block:]))
    return "".join(parts).encode(), plain[-1], records, plain_n


def cmd_records(args) -> dict:
    """Lines into the unit's FIFO with Multiline= as given (its config file for the run, then
    restored), end to end; checks that `journalctl -o cat` shows every byte written, in order,
    that every plain line arrived once and that the records are the tracebacks (default rules)
    or that there are none (off)."""
    tag = f"{args.ident}-{os.getpid()}"
    data, last, tracebacks, plain_n = records_input(tag, args.lines, args.input == "tracebacks")
    saved = open(CONFIG, "rb").read() if os.path.exists(CONFIG) else None
    with open(CONFIG, "w") as f:
        f.write(MULTILINE_CONFIG[args.multiline])
    try:
        result = {"lines": args.lines, "input": args.input, "multiline": args.multiline,
                  "tracebacks": len(tracebacks), "plain_lines": plain_n,
                  "bytes_per_line": len(data) / args.lines}
        result.update(fifo_run(args.unit, args.fifo, data, last,
                               timeout=args.timeout or max(60.0, args.lines / 2000)))
        time.sleep(0.2)  # entries still on their way when the last one showed (none should be)
        match = f"SYSLOG_IDENTIFIER={args.ident}"
        result["count"] = count_lines(tag, plain_n, match)
        cat = subprocess.run(["journalctl", "--no-pager", "-o", "cat", match],
                             capture_output=True, check=True).stdout
        result["written_bytes_in_order"] = data in cat
        out = sh("journalctl", "--no-pager", "-o", "json", "--all", "--output-fields=MESSAGE",
                 "PIPEJOURNAL_MULTILINE=python", match)
        records = [json.loads(line)["MESSAGE"] for line in out.splitlines() if line.strip()]
        expected = tracebacks if args.multiline == "default" else []
        result["records"] = len(records)
        result["records_as_expected"] = records == expected
        result["entries"] = (plain_n + len(tracebacks) if args.multiline == "default"
                             else args.lines)
        sh("systemctl", "stop", args.unit)
    finally:
        if saved is None:
            os.unlink(CONFIG)
        else:
            with open(CONFIG, "wb") as f:
                f.write(saved)
    return result


def cmd_idle(args) -> dict:
    sh("systemctl", "start", args.unit)
    pid = main_pid(args.unit)
    time.sleep(args.settle)
    s0, c0, t0 = proc_status(pid), proc_cpu(pid), time.monotonic()
    time.sleep(args.seconds)
    s1, c1, t1 = proc_status(pid), proc_cpu(pid), time.monotonic()
    props = sh("systemctl", "show", "-p", "WatchdogUSec,StatusText,ActiveState", args.unit)
    sh("systemctl", "stop", args.unit)
    return {
        "unit": args.unit, "seconds": t1 - t0,
        "voluntary_ctxt_switches": s1["voluntary_ctxt_switches"] - s0["voluntary_ctxt_switches"],
        "nonvoluntary_ctxt_switches":
            s1["nonvoluntary_ctxt_switches"] - s0["nonvoluntary_ctxt_switches"],
        "cpu": cpu_delta(c0, c1),
        "show": dict(line.split("=", 1) for line in props.splitlines() if "=" in line),
    }


def cmd_stop(args) -> dict:
    """SIGSTOP the daemon, fill its pipe with whole lines, SIGTERM + SIGCONT, time the exit."""
    tag = f"{args.ident}-stop-{os.getpid()}"
    sh("systemctl", "start", args.unit)
    pid = main_pid(args.unit)
    pidfd = os.pidfd_open(pid)
    time.sleep(0.1)
    os.kill(pid, signal.SIGSTOP)
    end = time.monotonic() + 5
    while time.monotonic() < end:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rpartition(")")[2].split()[0] == "T":
                break
        time.sleep(0.001)
    fd = os.open(args.fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    n = 0
    last = None
    filler = "x" * LINE_BYTES
    while True:
        line = f"{tag} {n:07d} "
        line = (line + filler)[:LINE_BYTES]
        try:
            os.write(fd, line.encode() + b"\n")  # < PIPE_BUF: all or nothing
        except BlockingIOError:
            break
        last = line
        n += 1
    buffered = fcntl.ioctl(fd, 0x541B, b"\0\0\0\0")  # FIONREAD
    buffered = int.from_bytes(buffered, sys.byteorder)
    os.kill(pid, signal.SIGTERM)
    t0 = time.monotonic()
    os.kill(pid, signal.SIGCONT)
    select.select([pidfd], [], [], 10)
    t1 = time.monotonic()
    exited = bool(select.select([pidfd], [], [], 0)[0])
    os.close(fd)
    os.close(pidfd)
    seen = wait_for_message(last, timeout=5) if last else None
    time.sleep(0.1)
    count = count_lines(tag, n, f"SYSLOG_IDENTIFIER={args.ident}")
    result = sh("systemctl", "show", "-P", "Result", args.unit).strip()
    exit_status = sh("systemctl", "show", "-P", "ExecMainStatus", args.unit).strip()
    sh("systemctl", "stop", args.unit, check=False)
    return {"lines": n, "buffered_bytes": buffered, "exit_ms": (t1 - t0) * 1e3,
            "exited": exited, "last_line_seen": seen is not None, "count": count,
            "unit_result": result, "exit_status": exit_status}


# Instances (issue 21): N socket-activated pipejournal@NAME units, each started by its first line,
# then given a few plain lines and one JSON line; memory read while all N run, since Pss shares
# each page among every process mapping it and so depends on how many instances there are.
def smaps_rollup(pid: int) -> dict:
    """/proc/PID/smaps_rollup in KiB: Pss, Private (Private_Clean + Private_Dirty), and more."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, value = line.partition(":")
            if value.strip().endswith("kB"):
                out[key] = int(value.split()[0])
    out["Private"] = out["Private_Clean"] + out["Private_Dirty"]
    return out


def memory_of(pid: int) -> dict:
    rollup = smaps_rollup(pid)
    return {"pss_kib": rollup["Pss"], "private_kib": rollup["Private"],
            "rss_kib": proc_status(pid)["VmRSS"], "smaps_rollup": rollup}


def wait_for_entry(messages: list[str], ident: str, timeout: float,
                   interval: float = 0.002) -> dict | None:
    """Poll the journal until an entry of SYSLOG_IDENTIFIER=ident with one of these MESSAGEs is
    there (matches on one field are ORed); the entry, or None after timeout. A new Reader each
    time, as wait_for_message explains."""
    end = time.monotonic() + timeout
    while True:
        # __REALTIME_TIMESTAMP as journald's µs, not a datetime
        reader = journal.Reader(converters={"__REALTIME_TIMESTAMP": int})
        for m in messages:
            reader.add_match(MESSAGE=m)
        reader.add_match(SYSLOG_IDENTIFIER=ident)
        reader.seek_tail()
        found = reader.get_previous()
        reader.close()
        if found:
            return found
        if time.monotonic() > end:
            return None
        time.sleep(interval)


def unit_times(unit: str) -> dict:
    """The unit's state and PID 1's CLOCK_MONOTONIC timestamps (µs) of its last start."""
    props = ("ActiveState", "SubState", "MainPID", "InactiveExitTimestampMonotonic",
             "ExecMainStartTimestampMonotonic", "ActiveEnterTimestampMonotonic")
    out = sh("systemctl", "show", "-p", ",".join(props), unit)
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def wait_active(unit: str, timeout: float) -> dict | None:
    """Poll until PID 1 has the unit active (for Type=notify: READY=1 received); its times."""
    end = time.monotonic() + timeout
    while True:
        t = unit_times(unit)
        if t["ActiveState"] == "active":
            return t
        if t["ActiveState"] == "failed" or time.monotonic() > end:
            return None
        time.sleep(0.005)


def instance_json_line(name: str, tag: str) -> tuple[str, str]:
    """A pino-like JSON line for an instance, and the MESSAGE it is mapped to."""
    message = f"{tag} json"
    return (f'{{"level":30,"time":1700000000000,"instance":"{name}",'
            f'"req":{{"id":"{tag}","status":200}},"msg":"{message}"}}'), message


def cmd_instances(args) -> dict:
    """N instances one after the other: the first line into an inactive socket unit's FIFO starts
    the service (timed from just before that write(2) to READY=1 and to the line's entry in the
    journal), then more plain lines; memory of all N; then one JSON line each, memory again. Every
    line awaited in the journal, then counted. The units are stopped and their FIFOs removed at
    the end, whatever happened."""
    names = [f"{args.prefix}{i:02d}" for i in range(args.count)]
    sockets = [f"pipejournal@{n}.socket" for n in names]
    services = [f"pipejournal@{n}.service" for n in names]
    tag = f"{args.prefix}-{os.getpid()}"
    m0, t_case0 = machine_busy_s(), time.monotonic()
    result = {"count": args.count, "plain_lines": args.plain_lines, "instances": [],
              "loadavg_before": open("/proc/loadavg").read().split()[:3]}
    try:
        sh("systemctl", "start", *sockets)
        for name, service in zip(names, services):
            inst = {"name": name, "service": service}
            result["instances"].append(inst)
            state = unit_times(service)["ActiveState"]
            if state != "inactive":
                inst["error"] = f"{service} is {state} before its first line"
                continue
            fifo = f"/run/pipejournal/{name}"
            # PID 1 holds the FIFO open for reading: a non-blocking open for writing succeeds
            # and the first write(2) is what wakes the socket unit.
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            plain = [f"{tag} {name} plain {k}" for k in range(args.plain_lines)]
            t_mono_us, t_real_us = time.monotonic_ns() // 1000, time.time_ns() // 1000
            os.write(fd, (plain[0] + "\n").encode())
            first = wait_for_entry([plain[0]], name, args.timeout)
            times = wait_active(service, args.timeout)
            if first is None or times is None:
                inst["error"] = (f"first line in the journal: {first is not None}, active: "
                                 f"{times is not None}; {unit_times(service)}")
                os.close(fd)
                continue
            journal_us = first["__REALTIME_TIMESTAMP"]
            fork_us, ready_us = (int(times[k]) for k in ("ExecMainStartTimestampMonotonic",
                                                         "ActiveEnterTimestampMonotonic"))
            inst.update({
                "pid": int(times["MainPID"]),
                "write_monotonic_us": t_mono_us, "write_realtime_us": t_real_us,
                "journal_realtime_us": journal_us, "unit_times": times,
                # PID 1 saw the FIFO readable, ran the start job and forked the main process
                # (InactiveExitTimestamp comes right after the fork, so it adds nothing)
                "write_to_fork_ms": (fork_us - t_mono_us) / 1e3,
                # fork → READY=1: the sandbox's set-up in the child, exec, the daemon's start
                "fork_to_ready_ms": (ready_us - fork_us) / 1e3,
                "write_to_ready_ms": (ready_us - t_mono_us) / 1e3,
                # journald's receive time of the first line (both CLOCK_REALTIME)
                "write_to_journal_ms": (journal_us - t_real_us) / 1e3,
            })
            for line in plain[1:]:
                os.write(fd, (line + "\n").encode())
            inst["plain_seen"] = wait_for_entry([plain[-1]], name, args.timeout) is not None
            inst["fd"] = fd
        active = [i for i in result["instances"] if "pid" in i]
        for inst in active:
            inst["memory_plain"] = memory_of(inst["pid"])
        for inst in active:
            inst["json_line"], inst["json_message"] = instance_json_line(inst["name"], tag)
            os.write(inst["fd"], (inst["json_line"] + "\n").encode())
        for inst in active:
            # Either form, so that a line forwarded plain (whole line as MESSAGE) does not cost a
            # timeout; it is reported as not mapped.
            e = wait_for_entry([inst["json_message"], inst["json_line"]], inst["name"],
                               args.timeout)
            inst["json_seen"] = e is not None
            inst["json_mapped"] = e is not None and e.get("MESSAGE") == inst["json_message"] \
                and e.get("INSTANCE") == inst["name"]
        for inst in active:
            inst["memory_json"] = memory_of(inst["pid"])
            inst["still_pid"] = unit_times(inst["service"])["MainPID"] == str(inst["pid"])
        time.sleep(0.2)  # entries still on their way (none should be)
        for inst in active:
            inst["count"] = count_instance(inst["name"], tag, args.plain_lines,
                                           [inst["json_message"], inst["json_line"]])
    finally:
        for inst in result["instances"]:
            if "fd" in inst:
                os.close(inst.pop("fd"))
        # Stopping a socket stops its service (Requires=); RemoveOnStop=no keeps the FIFO, which
        # the next case does not need.
        sh("systemctl", "stop", *sockets, *services, check=False)
        sh("systemctl", "reset-failed", *sockets, *services, check=False)
        for name in names:
            try:
                os.unlink(f"/run/pipejournal/{name}")
            except FileNotFoundError:
                pass
        # What the next case would find still running (nothing, unless a stop failed).
        out = sh("systemctl", "list-units", "--plain", "--no-legend",
                 "--state=active,activating,deactivating", f"pipejournal@{args.prefix}*",
                 check=False)
        result["left_active"] = [line.split()[0] for line in out.splitlines() if line.strip()]
    result["seconds"] = time.monotonic() - t_case0
    result["machine_busy_cpus"] = (machine_busy_s() - m0) / result["seconds"]
    result["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
    return result


def count_instance(name: str, tag: str, plain_lines: int, json_messages: list[str]) -> dict:
    """The instance's entries of this run: each plain line and the JSON line exactly once."""
    out = sh("journalctl", "--no-pager", "-o", "json", "--output-fields=MESSAGE",
             f"SYSLOG_IDENTIFIER={name}")
    messages = [json.loads(line).get("MESSAGE") for line in out.splitlines() if line.strip()]
    # The JSON line counts once in either form (mapped, or forwarded plain as the whole line).
    wanted = {f"{tag} {name} plain {k}": f"plain {k}" for k in range(plain_lines)}
    wanted.update((m, "json") for m in json_messages)
    seen = {line: 0 for line in wanted.values()}
    for m in messages:
        if isinstance(m, str) and m in wanted:  # a byte array is none of ours
            seen[wanted[m]] += 1
    return {"lost": sum(1 for n in seen.values() if n == 0),
            "duplicates": sum(n - 1 for n in seen.values() if n > 1),
            "entries": sum(seen.values())}


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fresh-journal")
    t = sub.add_parser("throughput")
    t.add_argument("--unit", required=True)
    t.add_argument("--fifo", required=True)
    t.add_argument("--ident", required=True)
    t.add_argument("--lines", type=int, default=200_000)
    t.add_argument("--hold-fifo", action="store_true")
    t.add_argument("--exe")
    t.add_argument("--rss", action="store_true")
    t.add_argument("--timeout", type=float, help="seconds to wait for the last line")
    j = sub.add_parser("json")
    j.add_argument("--unit", required=True)
    j.add_argument("--fifo", required=True)
    j.add_argument("--ident", required=True)
    j.add_argument("--lines", type=int, default=200_000)
    j.add_argument("--presplit", action="store_true",
                   help="write each entry's fields, 0x1f-separated, instead of the JSON line")
    j.add_argument("--timeout", type=float, help="seconds to wait for the last line")
    r = sub.add_parser("records")
    r.add_argument("--unit", required=True)
    r.add_argument("--fifo", required=True)
    r.add_argument("--ident", required=True)
    r.add_argument("--lines", type=int, default=200_000)
    r.add_argument("--input", choices=("plain", "tracebacks"), required=True)
    r.add_argument("--multiline", choices=tuple(MULTILINE_CONFIG), required=True)
    r.add_argument("--timeout", type=float, help="seconds to wait for the last line")
    i = sub.add_parser("idle")
    i.add_argument("--unit", required=True)
    i.add_argument("--seconds", type=float, default=60)
    i.add_argument("--settle", type=float, default=2)
    s = sub.add_parser("stop")
    s.add_argument("--unit", required=True)
    s.add_argument("--fifo", required=True)
    s.add_argument("--ident", required=True)
    n = sub.add_parser("instances")
    n.add_argument("--count", type=int, default=20)
    n.add_argument("--prefix", default="benchinst")
    n.add_argument("--plain-lines", type=int, default=3)
    n.add_argument("--timeout", type=float, default=30, help="seconds to wait for each event")
    args = p.parse_args()
    fn = {"fresh-journal": cmd_fresh_journal, "throughput": cmd_throughput, "json": cmd_json,
          "records": cmd_records, "idle": cmd_idle, "stop": cmd_stop,
          "instances": cmd_instances}[args.cmd]
    print(json.dumps(fn(args)))


if __name__ == "__main__":
    main()
