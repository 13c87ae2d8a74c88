#!/usr/bin/env python3
"""Writes src/startup.order: the functions of pipejournal that run from exec to READY=1, then
the ones forwarding lines adds.

    bench/startup_order.py [--build-dir DIR]     (Debian 12, as root; after bench/run's build)

The linker (lld, --symbol-ordering-file) puts them first in .text, side by side. The kernel maps
a program's code 64 KiB around each page it faults on (fault-around), so start-up code spread
over the whole binary made nearly all of it resident at every start: ordered, a start touches a
few windows of code instead of all of them (README "Performance": VmRSS after READY=1).

How: in the bench container (systemd 252, journald, the installed configuration) pipejournal
runs under callgrind with --dump-after on the function that sends READY=1, once as bench case
startup starts it and once as a service that then forwards plain, logfmt and JSON lines and a
traceback and is stopped; the first dump of each is the start-up. The functions of the
pipejournal binary in those go first, the ones only the rest ran after them, each block sorted
(the order within a block does not matter; a stable file gives readable diffs): so the code a
running daemon uses is side by side too. Names are mangled, as the linker wants them; a name that no longer exists
is skipped by the linker, so a stale file only costs memory. Regenerate after changes to what
runs at start-up; bench case startup shows the effect.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "system"))
import bench  # noqa: E402
import harness  # noqa: E402

ORDER_FILE = ROOT / "src" / "startup.order"
BINARY = "/usr/bin/pipejournal"
# pj::notify::send(std::string const&): READY=1 is the first message it sends.
READY_SENDER = "_ZN2pj6notify4sendERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE"

HEADER = """\
# The functions of pipejournal that run from exec to READY=1, then those forwarding lines adds,
# placed side by side at the start of .text by lld (--symbol-ordering-file, src/meson.build).
# Written by bench/startup_order.py; do not edit by hand. Names that no longer exist are skipped
# by the linker.
"""


# The order runs as pipejournal.service too, as installed (socket activation, the watchdog, its
# user, the backlog directory, entries to journald natively; bench case startup's start writes
# them to stderr), and forwards lines after READY=1. callgrind needs what the unit forbids:
# writable executable memory and its own system calls. Its output goes to the backlog
# directory, the one the unit may write that outlives a stop.
ORDER_FIFO = "/run/pipejournal/in"
DUMPS = "/run/pipejournal-backlog/callgrind.out"
UNITS = {"/etc/systemd/system/pipejournal.service.d/90-startup-order.conf": f"""\
[Service]
MemoryDenyWriteExecute=no
SystemCallFilter=
SystemCallArchitectures=
LockPersonality=no
TimeoutStartSec=120
TimeoutStopSec=120
ExecStart=
ExecStart=/usr/bin/valgrind --tool=callgrind --demangle=no --dump-after={READY_SENDER} \\
    --callgrind-out-file={DUMPS} {BINARY}
"""}

# What the forwarding path gets to see: plain lines with and without a priority prefix, logfmt,
# JSON (the module's glue), a Python traceback (the record joiner), an over-long line.
LINES = "".join(
    [f"plain line {i}\n" for i in range(200)]
    + [f"<3>an error {i}\n" for i in range(50)]
    + [f"level=info msg=\"logfmt {i}\" user=alice\n" for i in range(50)]
    + [f'{{"level":"warn","msg":"json {i}","user":{{"id":{i}}}}}\n' for i in range(50)]
    + ["Traceback (most recent call last):\n", '  File "x.py", line 1, in <module>\n',
       "    f()\n", "ZeroDivisionError: division by zero\n"] * 5
    + ["x" * 70000 + "\n"])


def functions_in(dumps: list[Path]) -> set[str]:
    """The functions of BINARY that ran, from callgrind dumps."""
    names = set()
    for dump in dumps:
        listing = subprocess.run(["callgrind_annotate", "--threshold=100", str(dump)],
                                 check=True, capture_output=True, text=True).stdout
        for line in listing.splitlines():
            m = re.match(r"\s*[\d,]+ \([ \d.]+%\)\s+\S*?:(\S+) \[" + re.escape(BINARY) + r"\]$",
                         line)
            if m and not m.group(1).startswith("0x"):
                names.add(m.group(1))
    return names


def profile(build: Path) -> tuple[set[str], set[str]]:
    """(what runs until READY=1, what runs after it) in the bench container."""
    dest = bench.prepare_destdir(build)
    with harness.Container(dest, journald_conf=bench.JOURNALD_CONF,
                           files={**bench.UNITS, **UNITS}) as c:
        # As bench case startup starts it: our entries on stderr.
        c.run("mkdir", "-p", "/run/bench-start")
        r = c.run(f"{bench.TOOLS}/pj-bench-ready-probe", "--", "valgrind", "--tool=callgrind",
                  "--demangle=no", f"--dump-after={READY_SENDER}",
                  "--callgrind-out-file=/root/probe.out", BINARY, "--fifo=/run/bench-start/in",
                  check=False)
        if '"ready_us": -1' in r.stdout or r.returncode != 0:
            raise SystemExit(f"startup_order: no READY=1 under callgrind:\n{r.stdout}{r.stderr}")
        # As the service: our entries to journald, then lines, then the drain at stop.
        c.run("systemctl", "start", "pipejournal.service", timeout=150)  # returns at READY=1
        c.run("sh", "-c", f"cat > {ORDER_FIFO}", input=LINES)
        c.run("systemctl", "stop", "pipejournal.service", timeout=150)  # drains the pipe first
        # Into /root: the host sees the container's root directory, not its /run (a tmpfs inside).
        c.run("sh", "-c", f"for f in {DUMPS}*; do cp $f /root/service.out${{f#{DUMPS}}}; done")
        root = c.root / "root"
        probe_ready = root / "probe.out.1"
        service_ready = root / "service.out.1"
        for dump in (probe_ready, service_ready):
            if not dump.exists():
                raise SystemExit(f"startup_order: callgrind wrote no dump at READY=1 ({dump})")
        started = functions_in([probe_ready, service_ready])
        later = functions_in([d for d in root.glob("service.out*") if d != service_ready])
    if READY_SENDER not in started:
        raise SystemExit("startup_order: the dumps do not reach READY=1; nothing written")
    return started, later - started


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--build-dir", default="/tmp/build-bench", type=Path,
                   help="a release build configured as bench/run configures it")
    args = p.parse_args()
    started, later = profile(args.build_dir)
    ORDER_FILE.write_text(HEADER + "# Until READY=1:\n" + "".join(n + "\n" for n in sorted(started)) +
                          "# Then, forwarding lines and stopping:\n" +
                          "".join(n + "\n" for n in sorted(later)))
    print(f"startup_order: {len(started)} functions until READY=1, {len(later)} more after it "
          f"-> {ORDER_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
