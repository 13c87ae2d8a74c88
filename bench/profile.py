#!/usr/bin/python3
"""Where journald's time goes during case 1 (throughput): its system calls, wake-ups and profile.

    bench/profile.py --build-dir /tmp/build-bench [--senders 'pipejournal;systemd-cat']
                     [--lines 100000] [--tools count,perf] [--baseline BUILD_OR_BINARY]

Boots the benchmark's container (bench.py's units, journald with RateLimitBurst=0 and
Storage=volatile), runs bench/agent.py's throughput measurement for each sender and, from the
host, while it runs:
  count  `perf stat` of tracepoints on journald and on the sender: recvmsg/recvfrom/read,
         epoll_wait, sendmsg/sendmmsg/write, context switches (sched:sched_switch), wake-ups
         (sched:sched_wakeup of that process); per entry
  perf   `perf record -e cpu-clock -g` of journald and of the sender: their hottest symbols
         (kernel and user)
  strace `strace -c -f` of journald (slows it: counts only, no timing to trust)
Also prints the container's net.unix.max_dgram_qlen and journald's socket buffers. Figures for
reading, not for the results file. Needs root, perf (linux-perf) and strace on the host.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import bench  # noqa: E402
import harness  # noqa: E402  (bench put tests/system on the path)

EVENTS = ["syscalls:sys_enter_recvmsg", "syscalls:sys_enter_recvmmsg",
          "syscalls:sys_enter_read", "syscalls:sys_enter_epoll_wait",
          "syscalls:sys_enter_sendmsg", "syscalls:sys_enter_sendmmsg",
          "syscalls:sys_enter_sendto", "syscalls:sys_enter_write",
          "syscalls:sys_enter_writev", "sched:sched_switch", "sched:sched_wakeup"]


def host_pid(c: harness.Container, pid_in_container: int) -> int:
    """The host PID of a process of the container."""
    ns = os.readlink(f"/proc/{c.leader}/ns/pid")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") != ns:
                continue
            with open(f"/proc/{entry}/status") as f:
                for line in f:
                    if line.startswith("NSpid:"):
                        if int(line.split()[-1]) == pid_in_container:
                            return int(entry)
        except OSError:
            continue
    raise RuntimeError(f"no host PID for container PID {pid_in_container}")


def main_pid(c: harness.Container, unit: str) -> int:
    return int(c.run("systemctl", "show", "-P", "MainPID", unit).stdout.strip() or 0)


def perf_counts(path: Path) -> dict:
    counts = {}
    for line in path.read_text().splitlines():
        parts = line.split(",")
        if len(parts) > 2 and parts[0].strip().replace(".", "").isdigit():
            counts[parts[2]] = int(float(parts[0]))
    return counts


def run_one(c, name, s, args, tool, out_dir: Path) -> dict:
    c.run("/usr/bin/python3", f"{bench.TOOLS}/agent.py", "fresh-journal")
    cmd = ["/usr/bin/python3", f"{bench.TOOLS}/agent.py", "throughput", "--unit", s["unit"],
           "--fifo", s["fifo"], "--ident", s["ident"], "--lines", str(args.lines)]
    if s.get("hold_fifo"):
        cmd.append("--hold-fifo")
    if s.get("exe"):
        cmd += ["--exe", s["exe"]]
    jpid = host_pid(c, main_pid(c, "systemd-journald.service"))
    agent = c.popen(*cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The agent starts the unit, settles 0.2 s, then writes: attach once the sender is there.
    deadline = time.monotonic() + 10
    spid = 0
    while time.monotonic() < deadline and not spid:
        spid = main_pid(c, s["unit"])
        time.sleep(0.01)
    if s.get("exe"):
        time.sleep(0.1)  # systemd-cat execs cat
        spid = main_pid(c, s["unit"])
    sender = host_pid(c, spid)
    tag = f"{name.replace(' ', '_').replace(',', '').replace('(', '').replace(')', '')}-{tool}"
    procs = []
    if tool == "count":
        for who, pid in (("journald", jpid), ("sender", sender)):
            procs.append((who, out_dir / f"{tag}-{who}.csv", subprocess.Popen(
                ["perf", "stat", "-x,", "-o", str(out_dir / f"{tag}-{who}.csv"),
                 "-e", ",".join(EVENTS), "-p", str(pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    elif tool == "perf":
        for who, pid in (("journald", jpid), ("sender", sender)):
            procs.append((who, out_dir / f"{tag}-{who}.data", subprocess.Popen(
                ["perf", "record", "-q", "-e", "cpu-clock", "-F", "4999", "-g", "-o",
                 str(out_dir / f"{tag}-{who}.data"), "-p", str(pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    elif tool == "strace":
        procs.append(("journald", out_dir / f"{tag}.strace", subprocess.Popen(
            ["strace", "-c", "-f", "-o", str(out_dir / f"{tag}.strace"), "-p", str(jpid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    stdout, stderr = agent.communicate(timeout=600)
    for _, _, p in procs:
        p.send_signal(2)
        p.wait(timeout=60)
    if agent.returncode != 0:
        raise RuntimeError(f"agent failed: {stderr}")
    r = json.loads(stdout.strip().splitlines()[-1])
    res = {"sender": name, "tool": tool, "lines_per_s": args.lines / r["seconds"],
           "seconds": r["seconds"], "write_seconds": r["write_seconds"],
           "sender_us_per_line": bench.cpu_us(r["sender"]) / args.lines,
           "journald_us_per_line": bench.cpu_us(r["journald"]) / args.lines,
           "journald_busy": bench.cpu_us(r["journald"]) / 1e6 / r["seconds"],
           "lost": r["count"]["lost"], "duplicates": r["count"]["duplicates"],
           "other_cpu_s": r["other_cpu_s"]}
    if tool == "count":
        for who, path, _ in procs:
            counts = perf_counts(path)
            res[f"{who}_per_entry"] = {k.split(":")[1].replace("sys_enter_", ""): round(v / args.lines, 3)
                        for k, v in counts.items() if v}
    elif tool == "perf":
        for who, path, _ in procs:
            report = subprocess.run(
                ["perf", "report", "-i", str(path), "--no-children", "--sort", "dso,symbol",
                 "--stdio", "-g", "none", "--percent-limit", "0.7"],
                capture_output=True, text=True).stdout
            (out_dir / f"{tag}-{who}.txt").write_text(report)
            res[f"{who}_profile"] = [" ".join(line.split()[:4]) for line in report.splitlines()
                                     if line.strip() and not line.startswith("#")][:25]
    elif tool == "strace":
        _, path, _ = procs[0]
        res["strace"] = path.read_text().splitlines()[:25]
    return res


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build-dir", default="/tmp/build-bench", type=Path)
    p.add_argument("--senders", default="pipejournal;systemd-cat")
    p.add_argument("--lines", type=int, default=100_000)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--tools", default="count,perf")
    p.add_argument("--baseline", type=Path, default=None)
    p.add_argument("--out", default="/tmp/pj-profile", type=Path)
    args = p.parse_args()
    harness.require_root()
    harness.terminate_on_sigterm()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.baseline is not None:
        bench.add_baseline()
    dest = bench.prepare_destdir(args.build_dir.resolve(), args.baseline)
    results = []
    with harness.Container(dest, journald_conf=bench.JOURNALD_CONF, files=bench.UNITS) as c:
        print(c.run("sysctl", "net.unix.max_dgram_qlen", "net.core.wmem_default",
                    "net.core.rmem_default").stdout, flush=True)
        for rnd in range(args.rounds):
            for tool in args.tools.split(","):
                for name in args.senders.split(";"):
                    r = run_one(c, name, bench.SENDERS[name], args, tool, args.out)
                    results.append(r)
                    print(json.dumps(r, indent=1), flush=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
