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

Processes are read through /proc/PID/stat (utime+stime, clock ticks), /proc/PID/schedstat
(on-CPU ns) and /proc/PID/status (VmRSS, context switches).
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
    args = p.parse_args()
    fn = {"fresh-journal": cmd_fresh_journal, "throughput": cmd_throughput, "json": cmd_json,
          "records": cmd_records, "idle": cmd_idle, "stop": cmd_stop}[args.cmd]
    print(json.dumps(fn(args)))


if __name__ == "__main__":
    main()
