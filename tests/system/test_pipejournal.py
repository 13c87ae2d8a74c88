"""System tests: the installed pipejournal under a real systemd (PID 1 in systemd-nspawn).

Each scenario class boots its own container (about half a second) from the install tree named
by the environment variable PIPEJOURNAL_DESTDIR (run.py sets it up with `meson install
--destdir`), so scenarios cannot leak state into each other. Failures print what was expected,
what was seen, and the unit's `systemctl status` and `journalctl -u` output.

Run: see tests/system/run.py (meson test --suite system).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import field, text  # noqa: E402

SERVICE = "pipejournal.service"
SOCKET = "pipejournal.socket"
FIFO = "/run/pipejournal/in"
CONFIG = "/etc/pipejournal/pipejournal.conf"
UNITDIR = "/lib/systemd/system"  # Debian: pkg-config systemdsystemunitdir (= /usr/lib/... here)
TEMPLATE_SERVICE = "pipejournal@.service"
TEMPLATE_SOCKET = "pipejournal@.socket"

#: MESSAGE_IDs of the daemon's own entries, by name, from their one source: the catalog.
MESSAGE_IDS = dict(re.findall(r"^# id: (\w+)\n-- ([0-9a-f]{32})$",
                              (Path(__file__).resolve().parents[2] / "units/pipejournal.catalog")
                              .read_text(), re.M))

#: Fields a forwarded line's entry has besides journald's trusted (_*) and address (__*) fields.
FORWARDED_FIELDS = {"MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "PIPEJOURNAL_FIFO"}

#: Figures measured by the scenarios, printed at the end of the run (run.py).
FIGURES: dict[str, str] = {}


def figure(key: str, value: str) -> None:
    FIGURES[key] = value
    print(f"    [figure] {key}: {value}", file=sys.stderr, flush=True)


def instance(name: str) -> tuple[str, str, str, str]:
    """(service, socket, FIFO, config file) of the template instance ``name`` (already escaped,
    as %i: what `systemd-escape` printed)."""
    return (f"pipejournal@{name}.service", f"pipejournal@{name}.socket", f"/run/pipejournal/{name}",
            f"/etc/pipejournal/{name}.conf")


def user_fields(entry: dict) -> set[str]:
    return {k for k in entry if not k.startswith("_")}


class Scenario(unittest.TestCase):
    """Base: one container per class, helpers that explain failures."""

    container: harness.Container
    journald_conf: dict | None = None

    @classmethod
    def container_options(cls) -> dict:
        """Extra ``harness.Container`` arguments (a scenario may set ``destdir`` to None,
        ``writable_usr``, ``files``); may raise SkipTest when the host lacks something."""
        return {}

    @classmethod
    def setUpClass(cls):
        destdir = os.environ.get("PIPEJOURNAL_DESTDIR")
        if not destdir:
            raise unittest.SkipTest("PIPEJOURNAL_DESTDIR not set (run through tests/system/run.py)")
        try:
            harness.require_root()
        except harness.SkipHost as e:
            raise unittest.SkipTest(str(e))
        options = dict(destdir=destdir, journald_conf=cls.journald_conf,
                       verbose=bool(os.environ.get("PIPEJOURNAL_VERBOSE")),
                       keep=bool(os.environ.get("PIPEJOURNAL_KEEP")))
        options.update(cls.container_options())
        cls.container = harness.Container(options.pop("destdir"), **options)
        cls.container.__enter__()

    @classmethod
    def tearDownClass(cls):
        c = getattr(cls, "container", None)
        if c is not None:
            c.stop()

    # -- helpers ---------------------------------------------------------------------------
    @property
    def c(self) -> harness.Container:
        return self.container

    def explain(self, *units: str) -> str:
        """`systemctl status` and `journalctl -u` of the units, for failure messages."""
        units = units or (SERVICE, SOCKET)
        args = []
        for u in units:
            args += ["-u", u]
        return ("\n--- systemctl status ---\n" + self.c.status(*units, lines=0)
                + "\n--- journalctl " + " ".join(args) + " (last 40) ---\n"
                + self.c.journal_text(*args, "-o", "short-monotonic", lines=40))

    def expect(self, cond: bool, expected: str, seen, *units: str) -> None:
        """Fail unless ``cond``, printing expected, seen and the units' status and journal."""
        if not cond:
            shown = seen if isinstance(seen, str) and "\n" in seen else repr(seen)
            self.fail(f"\nexpected: {expected}\nseen:     {shown}{self.explain(*units)}")

    def start(self, unit: str = SERVICE) -> float:
        """systemctl start; returns the seconds it took. Fails with status/journal on error."""
        t0 = time.monotonic()
        r = self.c.systemctl("start", unit, check=False)
        took = time.monotonic() - t0
        self.expect(r.returncode == 0, f"systemctl start {unit} succeeds",
                    f"exit {r.returncode}: {r.stderr.strip()}", unit)
        return took

    def stop(self, unit: str = SERVICE) -> None:
        self.c.systemctl("stop", unit, check=False)

    def wait(self, predicate, what: str, timeout: float = 20, units=()):
        return self.c.wait_for(predicate, timeout=timeout, what=what,
                               describe=lambda: self.explain(*(units or (SERVICE, SOCKET))))

    def forwarded(self, *matches: str, cursor: str | None = None) -> list[dict]:
        """Forwarded lines (PIPEJOURNAL_FIFO=FIFO and not the daemon's own entries)."""
        return [e for e in self.c.journal(f"PIPEJOURNAL_FIFO={FIFO}", *matches,
                                          after_cursor=cursor)
                if "MESSAGE_ID" not in e and "CODE_FILE" not in e]

    def wait_forwarded(self, count: int, *matches: str, cursor: str | None = None,
                       timeout: float = 30) -> list[dict]:
        """Poll until at least ``count`` forwarded entries are in the journal."""
        seen = []

        def enough():
            nonlocal seen
            seen = self.forwarded(*matches, cursor=cursor)
            return seen if len(seen) >= count else None
        try:
            return self.c.wait_for(enough, timeout=timeout,
                                   what=f"{count} forwarded entries in the journal")
        except harness.TimeoutExpired:
            self.fail(f"\nexpected: {count} forwarded entries within {timeout}s\n"
                      f"seen:     {len(seen)}{self.explain()}")

    def own_entries(self, name: str, cursor: str | None = None) -> list[dict]:
        return self.c.journal(f"MESSAGE_ID={MESSAGE_IDS[name]}", after_cursor=cursor)

    def wait_own(self, name: str, cursor: str | None = None, timeout: float = 20) -> dict:
        """Poll for the daemon's entry ``name`` (after ``cursor``); returns the newest."""
        return self.wait(lambda: (self.own_entries(name, cursor) or [None])[-1],
                         f"the daemon's '{name}' entry (MESSAGE_ID={MESSAGE_IDS[name]})",
                         timeout=timeout)

    def main_pid(self) -> int:
        return int(self.c.prop(SERVICE, "MainPID"))

    def write_config(self, body: str) -> None:
        self.c.write_file(CONFIG, body)

    def use_transport(self, transport: str, extra: str = "") -> None:
        """The config for Transport=TRANSPORT (stream needs Format=plain), plus ``extra`` lines."""
        body = "[PipeJournal]\n"
        if transport == "stream":
            body += "Transport=stream\nFormat=plain\n"
        self.write_config(body + extra)


# ==========================================================================================
class T01Verify(Scenario):
    def test_systemd_analyze_verify_is_clean(self):
        """`systemd-analyze verify` of the installed units, and of template instances (a plain and
        a systemd-escape'd name), prints nothing and succeeds; the units are socket first."""
        c = self.c
        for u in (SERVICE, SOCKET, TEMPLATE_SERVICE, TEMPLATE_SOCKET):
            self.assertTrue(c.exists(f"{UNITDIR}/{u}"), f"installed unit {u} missing in the container")
        escaped = c.run("systemd-escape", "my-app").stdout.strip()
        units = [f"{UNITDIR}/{u}" for u in (SERVICE, SOCKET, "pipejournal@app.service",
                                             "pipejournal@app.socket", f"pipejournal@{escaped}.service",
                                             f"pipejournal@{escaped}.socket")]
        r = c.run("systemd-analyze", "verify", *units, check=False)
        out = (r.stdout + r.stderr).strip()
        self.assertEqual((r.returncode, out), (0, ""),
                         f"\nexpected: exit 0 and no output\nseen:     exit {r.returncode}:\n{out}")
        cat = c.systemctl("cat", SERVICE, SOCKET).stdout
        self.assertRegex(cat, r"(?m)^Type=notify$")
        self.assertRegex(cat, r"(?m)^WatchdogSec=\S+")
        self.assertRegex(cat, rf"(?m)^ListenFIFO={re.escape(FIFO)}$")

        # Socket first, for the single unit and every instance: what PID 1 makes of the units.
        # (systemctl show quotes names with a backslash, C-style: shlex reads them back.)
        for name in (None, "app", escaped):
            service, socket, fifo, _ = instance(name) if name else (SERVICE, SOCKET, FIFO, None)
            p = c.show(service, "Requires", "After", "RuntimeDirectory", "Environment")
            s = c.show(socket, "Listen", "SocketMode", "SocketUser", "SocketGroup",
                       "RemoveOnStop", "Triggers")
            seen = {k: shlex.split(v) for k, v in {**p, **s}.items() if k != "Listen"}
            seen["Listen"] = s["Listen"]
            self.expect(socket in seen["Requires"] and socket in seen["After"]
                        and (seen["RuntimeDirectory"], seen["Environment"], seen["Listen"],
                             seen["SocketMode"], seen["SocketUser"], seen["SocketGroup"],
                             seen["RemoveOnStop"], seen["Triggers"]) ==
                        ([], [f"PIPEJOURNAL_INSTANCE={name}"] if name else [], f"{fifo} (FIFO)",
                         ["0620"], ["pipejournal"], ["pipejournal"], ["no"], [service]),
                        f"{service} Requires= and After= {socket}, no RuntimeDirectory=, "
                        f"PIPEJOURNAL_INSTANCE={name or '(unset)'}; {socket} listens on {fifo} "
                        "(FIFO) 0620 pipejournal:pipejournal, RemoveOnStop=no, triggers the service",
                        seen, service, socket)
        install = c.systemctl("cat", SERVICE).stdout
        self.assertRegex(install, r"(?m)^Also=pipejournal\.socket$")


# ==========================================================================================
class T02Ready(Scenario):
    def test_start_returns_after_ready_and_status_follows_lines(self):
        """start returns after READY=1: active (running) at once with the daemon's STATUS=;
        the status line changes once lines arrive."""
        c = self.c
        took = self.start()
        figure("time to active (systemctl start)", f"{took * 1000:.0f} ms")
        p = c.show(SERVICE, "ActiveState", "SubState", "StatusText", "MainPID", "Type",
                   "ExecMainStartTimestampMonotonic", "ActiveEnterTimestampMonotonic")
        self.expect((p["ActiveState"], p["SubState"]) == ("active", "running"),
                    "active (running) as soon as systemctl start returns",
                    (p["ActiveState"], p["SubState"]))
        self.assertEqual(p["Type"], "notify")
        self.expect(int(p["MainPID"]) > 0, "a MainPID", p["MainPID"])
        self.expect(re.fullmatch(rf"Forwarding {re.escape(FIFO)}: 0 lines.*, 0 dropped",
                                 p["StatusText"]) is not None,
                    f"StatusText 'Forwarding {FIFO}: 0 lines (0 B), 0 dropped' (daemon's line)",
                    p["StatusText"])
        self.expect(c.file_type(FIFO) == "fifo", f"{FIFO} is a FIFO when start returns",
                    c.file_type(FIFO))
        ready_delay = (int(p["ActiveEnterTimestampMonotonic"])
                       - int(p["ExecMainStartTimestampMonotonic"]))
        figure("exec → READY (ActiveEnter - ExecMainStart)", f"{ready_delay / 1000:.1f} ms")
        status = c.status(SERVICE)
        self.assertIn(f'Status: "{p["StatusText"]}"', status)
        before = p["StatusText"]

        c.write_file(FIFO, "".join(f"status line {i}\n" for i in range(5)))
        t0 = time.monotonic()
        after = self.wait(lambda: (lambda s: s if s != before else None)(
            c.prop(SERVICE, "StatusText")), "StatusText to change after 5 lines", timeout=15)
        figure("StatusText refresh after lines", f"{time.monotonic() - t0:.2f} s (tick 5 s)")
        self.expect(re.fullmatch(rf"Forwarding {re.escape(FIFO)}: 5 lines.*, 0 dropped", after)
                    is not None, f"StatusText 'Forwarding {FIFO}: 5 lines (...), 0 dropped'", after)
        self.stop()


# ==========================================================================================
class T03Lines(Scenario):
    def test_thousand_lines_arrive_exactly(self):
        """1,000 lines (priority prefixes, a 40 KB line, invalid UTF-8) → 1,000 entries with the
        exact MESSAGE/PRIORITY, SYSLOG_IDENTIFIER=pipejournal, _SYSTEMD_UNIT=pipejournal.service."""
        c = self.c
        self.start()
        expected: list[tuple[bytes, bytes, str]] = []  # (written, MESSAGE, PRIORITY)
        for i in range(1000):
            if i == 500:
                msg, pri = f"line {i:04d} big ".encode() + b"x" * 40960, "6"
                raw = msg
            elif i == 501:
                msg, pri = f"line {i:04d} invalid utf-8 ".encode() + b"\xff\xfe\xc3(", "6"
                raw = msg
            elif i == 502:
                msg, pri = f"<8>line {i:04d} not a priority".encode(), "6"
                raw = msg
            elif i % 10 == 3:
                msg, pri = f"line {i:04d} error".encode(), "3"
                raw = b"<3>" + msg
            elif i % 100 == 7:
                msg, pri = f"line {i:04d} debug".encode(), "7"
                raw = b"<7>" + msg
            else:
                msg, pri = f"line {i:04d} plain text, äöü".encode(), "6"
                raw = msg
            expected.append((raw, msg, pri))
        payload = b"".join(raw + b"\n" for raw, _, _ in expected)
        t0 = time.monotonic()
        c.write_file(FIFO, payload)
        entries = self.wait_forwarded(1000)
        figure("1,000 lines (one 40 KB) write → all in journal", f"{time.monotonic() - t0:.2f} s")
        figure("lines counted in journal", str(len(entries)))
        self.expect(len(entries) == 1000, "exactly 1000 forwarded entries", len(entries))
        seen = [(field(e, "MESSAGE"), e.get("PRIORITY")) for e in entries]
        want = [(msg, pri) for _, msg, pri in expected]
        bad = [(i, w, s) for i, (w, s) in enumerate(zip(want, seen)) if w != s]
        if bad:
            i, w, s = bad[0]
            self.fail(f"\n{len(bad)} entries differ; first at line {i}:\nexpected: "
                      f"{w[0][:120]!r} PRIORITY={w[1]}\nseen:     {s[0][:120]!r} PRIORITY={s[1]}")
        e500 = entries[500]
        self.assertEqual(len(field(e500, "MESSAGE")), len(expected[500][1]))
        self.assertIsInstance(e500["MESSAGE"], str)
        self.assertIsInstance(entries[501]["MESSAGE"], list,
                              "invalid UTF-8 MESSAGE should be a byte array in JSON")
        for e in entries:
            if (e.get("SYSLOG_IDENTIFIER"), e.get("_SYSTEMD_UNIT"), e.get("PIPEJOURNAL_FIFO")) != (
                    "pipejournal", SERVICE, FIFO):
                self.fail(f"\nexpected: SYSLOG_IDENTIFIER=pipejournal _SYSTEMD_UNIT={SERVICE} "
                          f"PIPEJOURNAL_FIFO={FIFO}\nseen:     {e.get('SYSLOG_IDENTIFIER')} "
                          f"{e.get('_SYSTEMD_UNIT')} {e.get('PIPEJOURNAL_FIFO')}")
            if user_fields(e) != FORWARDED_FIELDS:
                self.fail(f"\nexpected fields: {sorted(FORWARDED_FIELDS)}\n"
                          f"seen:            {sorted(user_fields(e))}")
        self.stop()


# ==========================================================================================
class T04OwnEntries(Scenario):
    def test_lifecycle_entries_are_structured_and_explained(self):
        """The daemon's own entries carry MESSAGE_ID, PRIORITY, CODE_*; the catalog explains
        them (journalctl -x after --update-catalog)."""
        c = self.c
        self.start()
        pid = self.main_pid()
        started = self.wait_own("started")
        for f in ("MESSAGE", "MESSAGE_ID", "PRIORITY", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
                  "PIPEJOURNAL_FIFO"):
            self.expect(started.get(f) not in (None, ""), f"started entry has {f}=",
                        {k: v for k, v in started.items() if not k.startswith("__")})
        self.assertEqual(started["PRIORITY"], "6")
        self.assertEqual(started["PIPEJOURNAL_FIFO"], FIFO)
        self.assertEqual(started.get("_SYSTEMD_UNIT"), SERVICE)
        self.assertEqual(started.get("_PID"), str(pid))
        self.assertRegex(started["CODE_LINE"], r"^\d+$")
        self.stop()
        self.wait_own("stopped")

        own = [e for e in c.journal(f"_SYSTEMD_UNIT={SERVICE}") if "CODE_FILE" in e or
               "MESSAGE_ID" in e]
        names = {v: k for k, v in MESSAGE_IDS.items()}
        kinds = []
        for e in own:
            if "TICK" in e:
                continue
            mid = e.get("MESSAGE_ID")
            self.expect(mid in names, "a MESSAGE_ID from design.md on every lifecycle entry",
                        {k: e.get(k) for k in ("MESSAGE", "MESSAGE_ID", "CODE_FUNC")})
            for f in ("PRIORITY", "CODE_FILE", "CODE_LINE", "CODE_FUNC"):
                self.expect(e.get(f), f"{names[mid]} entry has {f}=", e.get("MESSAGE"))
            kinds.append(names[mid])
        figure("own entries seen in start/stop", ", ".join(kinds))
        for k in ("started", "stopping", "stopped"):
            self.assertIn(k, kinds)

        c.run("journalctl", "--update-catalog")
        listed = c.run("journalctl", "--list-catalog").stdout
        missing = [n for n, mid in MESSAGE_IDS.items() if mid not in listed]
        self.expect(not missing, "every MESSAGE_ID has a catalog entry (installed catalog)",
                    missing)
        x = c.run("journalctl", "--no-pager", "-x", f"MESSAGE_ID={MESSAGE_IDS['started']}").stdout
        explained = [line for line in x.splitlines() if line.startswith("░░")]
        self.expect(len(explained) >= 2, "journalctl -x prints the catalog text (░░ lines)", x)
        figure("journalctl -x explanation", explained[0][:100])


# ==========================================================================================
class T05Reload(Scenario):
    def tearDown(self):
        self.write_config("[PipeJournal]\n")

    def test_reload_rereads_config_and_survives_a_broken_one(self):
        c = self.c
        self.write_config("[PipeJournal]\n")
        self.start()
        pid = self.main_pid()
        c.write_file(FIFO, "before reload\n")
        e = self.wait_forwarded(1)[-1]
        self.assertEqual(e.get("SYSLOG_IDENTIFIER"), "pipejournal")

        cur = c.cursor()
        self.write_config("[PipeJournal]\nSyslogIdentifier=pjtest-reloaded\n")
        t0 = time.monotonic()
        c.systemctl("reload", SERVICE)
        self.wait_own("reloaded", cur)
        self.wait(lambda: c.prop(SERVICE, "ActiveState") == "active", "active after reload")
        figure("reload → reloaded entry", f"{(time.monotonic() - t0) * 1000:.0f} ms")
        self.expect(self.main_pid() == pid, "same MainPID after reload", (pid, self.main_pid()))
        c.write_file(FIFO, "after reload\n")
        e = self.wait_forwarded(1, "MESSAGE=after reload")[-1]
        self.expect(e.get("SYSLOG_IDENTIFIER") == "pjtest-reloaded",
                    "SYSLOG_IDENTIFIER=pjtest-reloaded on lines after the reload",
                    e.get("SYSLOG_IDENTIFIER"))

        # systemctl reload checks first (ExecReload= runs --check-config): the reload fails with
        # the reason in the journal, and the daemon is not even signalled.
        cur = c.cursor()
        self.write_config("[PipeJournal]\nSyslogIdentifier=pjtest-broken\nTickSec=banana\n")
        r = c.systemctl("reload", SERVICE, check=False)
        self.expect(r.returncode != 0, "systemctl reload fails on a bad configuration",
                    f"exit {r.returncode}: {r.stdout}{r.stderr}")
        checked = [e for e in c.journal("SYSLOG_IDENTIFIER=pipejournal", unit=SERVICE,
                                        after_cursor=cur)
                   if "TickSec=banana" in text(e, "MESSAGE")]
        self.expect(len(checked) == 1 and CONFIG + ":3:" in text(checked[0], "MESSAGE"),
                    "the check's one error line names file, line and key",
                    [text(e, "MESSAGE") for e in checked] or c.journal_text("-u", SERVICE))
        figure("systemctl reload refused with", text(checked[0], "MESSAGE"))
        self.expect(not self.own_entries("reload_failed", cur) and
                    not self.own_entries("reloaded", cur),
                    "the daemon was not signalled", c.journal_text("-u", SERVICE))
        # The daemon checks again itself when signalled some other way.
        c.systemctl("kill", "-s", "HUP", SERVICE)
        failed = self.wait_own("reload_failed", cur)
        self.assertEqual(failed.get("PRIORITY"), "3")
        msg = text(failed, "MESSAGE")
        figure("broken reload says", msg)
        self.expect("TickSec" in msg and CONFIG in msg,
                    f"the reload_failed message names the file ({CONFIG}) and key (TickSec)", msg)
        self.wait(lambda: c.prop(SERVICE, "ActiveState") == "active", "active after bad reload")
        self.expect(self.main_pid() == pid, "same MainPID after a broken reload",
                    (pid, self.main_pid()))
        c.write_file(FIFO, "after broken reload\n")
        e = self.wait_forwarded(1, "MESSAGE=after broken reload")[-1]
        self.expect(e.get("SYSLOG_IDENTIFIER") == "pjtest-reloaded",
                    "old config (pjtest-reloaded) still in force after a broken reload",
                    e.get("SYSLOG_IDENTIFIER"))
        status = c.status(SERVICE)
        self.assertIn("active (running)", status)
        self.stop()


# ==========================================================================================
class T06Watchdog(Scenario):
    def test_stopped_daemon_is_killed_and_restarted_by_the_watchdog(self):
        c = self.c
        c.drop_in(SERVICE, "50-watchdog", "[Service]\nWatchdogSec=2s\n")
        try:
            self.start()
            p = c.show(SERVICE, "WatchdogUSec", "NRestarts", "MainPID")
            self.assertEqual(p["WatchdogUSec"], "2s")
            pid, n0 = int(p["MainPID"]), int(p["NRestarts"])
            # The daemon pings: WatchdogTimestamp advances (twice) while it runs normally.
            first = c.prop(SERVICE, "WatchdogTimestampMonotonic")
            second = self.wait(lambda: (lambda v: v if v != first else None)(
                c.prop(SERVICE, "WatchdogTimestampMonotonic")), "a WATCHDOG=1 ping", timeout=5)
            self.wait(lambda: c.prop(SERVICE, "WatchdogTimestampMonotonic") not in (first, second),
                      "a second WATCHDOG=1 ping", timeout=5)
            self.assertEqual(self.main_pid(), pid)

            t0 = time.monotonic()
            c.run("kill", "-STOP", str(pid))

            def restarted():
                q = c.show(SERVICE, "NRestarts", "MainPID", "ActiveState", "SubState")
                ok = (int(q["NRestarts"]) > n0 and int(q["MainPID"]) not in (0, pid)
                      and (q["ActiveState"], q["SubState"]) == ("active", "running"))
                return q if ok else None
            q = self.wait(restarted, "NRestarts to grow and a new MainPID active", timeout=20)
            took = time.monotonic() - t0
            figure("watchdog: SIGSTOP → new MainPID active", f"{took:.2f} s (WatchdogSec=2s)")
            log = c.journal_text("-u", SERVICE, lines=None)
            self.expect("Watchdog timeout" in log, "systemd logs 'Watchdog timeout'", log[-2000:])
            self.assertEqual(int(q["NRestarts"]), n0 + 1)
        finally:
            self.stop()
            c.remove_drop_in(SERVICE, "50-watchdog")


# ==========================================================================================
class T07StopDrains(Scenario):
    def test_stop_right_after_10000_lines_loses_none(self):
        """Started alone, the service pulls in its socket, which makes the FIFO (0620
        pipejournal:pipejournal); a stop right after 10,000 lines forwards them all, exit 0, and
        the FIFO stays: it is the socket's, still listening, same inode."""
        c = self.c
        self.start()
        self.expect(c.prop(SOCKET, "ActiveState") == "active",
                    f"{SOCKET} active: the service requires it", c.prop(SOCKET, "ActiveState"))
        before = c.run("stat", "-c", "%F %a %U:%G %i", FIFO).stdout.strip()
        figure("FIFO made by the socket unit", before)
        self.expect(before.split()[:3] == ["fifo", "620", "pipejournal:pipejournal"],
                    "a FIFO, mode 0620, pipejournal:pipejournal", before)
        adopted = self.wait_own("fifo_adopted")
        self.expect("passed by systemd" in text(adopted, "MESSAGE"),
                    "the daemon uses the FIFO systemd passed", text(adopted, "MESSAGE"))
        payload = "".join(f"drain {i:05d}\n" for i in range(10000))
        t0 = time.monotonic()
        c.write_file(FIFO, payload)  # returns when the last byte is in the pipe
        r = c.systemctl("stop", SERVICE, check=False)
        figure("write 10,000 lines + stop", f"{time.monotonic() - t0:.2f} s")
        self.expect(r.returncode == 0, "systemctl stop succeeds", r.stderr)
        p = c.show(SERVICE, "Result", "ExecMainStatus", "ExecMainCode", "ActiveState")
        self.expect((p["Result"], p["ExecMainStatus"], p["ActiveState"]) ==
                    ("success", "0", "inactive"),
                    "Result=success ExecMainStatus=0 inactive", p)
        after = c.run("stat", "-c", "%F %a %U:%G %i", FIFO, check=False).stdout.strip()
        self.expect(after == before and c.prop(SOCKET, "ActiveState") == "active",
                    f"{FIFO} unchanged (same inode) and {SOCKET} still listening after the "
                    "service stopped", (before, after, c.prop(SOCKET, "ActiveState")))
        entries = self.wait_forwarded(10000, timeout=30)
        msgs = [text(e, "MESSAGE") for e in entries]
        figure("lines in journal after stop", f"{len(msgs)} of 10000")
        want = [f"drain {i:05d}" for i in range(10000)]
        if msgs != want:
            missing = sorted(set(want) - set(msgs))
            extra = [m for m in msgs if m not in set(want)]
            self.fail(f"\nexpected: 10000 lines in order\nseen:     {len(msgs)}; missing "
                      f"{len(missing)} (first {missing[:3]}), unexpected {extra[:3]}"
                      + self.explain())
        self.wait_own("stopped")
        removed = self.own_entries("fifo_removed")
        self.expect(not removed, "no 'FIFO removed' entry: the daemon never removes a FIFO "
                    "systemd passed", [text(e, "MESSAGE") for e in removed])


# ==========================================================================================
WRITER = r"""
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
n = 0
stop = os.path.exists
while not stop(sys.argv[2]):
    # 20 numbered lines per write(), < PIPE_BUF so each write is atomic
    os.write(fd, b"".join(b"seq %07d\n" % (n + i) for i in range(20)))
    n += 20
    time.sleep(0.01)    # pacing: at most 2,000 lines/s (stay far below journald's RateLimitBurst)
print(n, flush=True)
"""


class T08SocketActivation(Scenario):
    def test_socket_activation_and_restart_lose_nothing(self):
        c = self.c
        c.systemctl("enable", "--now", SOCKET)
        try:
            self._run_scenario()
        finally:
            c.systemctl("disable", "--now", SOCKET, check=False)
            self.stop()

    def _run_scenario(self):
        c = self.c
        p = c.show(SERVICE, "ActiveState")
        self.expect(p["ActiveState"] == "inactive", "service inactive after enabling the socket",
                    p)
        self.expect(c.file_type(FIFO) == "fifo", f"{FIFO} exists before the service runs",
                    c.file_type(FIFO))
        figure("FIFO from the socket", c.run("stat", "-c", "%a %U:%G", FIFO).stdout.strip())

        t0 = time.monotonic()
        c.write_file(FIFO, "wake up\n")
        self.wait(lambda: c.prop(SERVICE, "ActiveState") == "active",
                  "the write to start pipejournal.service")
        figure("socket activation: write → active", f"{(time.monotonic() - t0) * 1000:.0f} ms")
        e = self.wait_forwarded(1, "MESSAGE=wake up")[-1]
        self.assertEqual(e.get("_SYSTEMD_UNIT"), SERVICE)
        self.wait_own("fifo_adopted")

        stopfile = "/run/pj-writer-stop"
        c.remove(stopfile)
        writer = c.popen("python3", "-c", WRITER, FIFO, stopfile,
                         stdout=harness.subprocess.PIPE, stderr=harness.subprocess.PIPE)
        try:
            self.wait_forwarded(1, "MESSAGE=seq 0000499", timeout=20)
            pid = self.main_pid()
            t0 = time.monotonic()
            r = c.systemctl("restart", SERVICE, check=False)
            took = time.monotonic() - t0
            self.expect(r.returncode == 0, "systemctl restart succeeds", r.stderr)
            newpid = self.main_pid()
            self.expect(newpid not in (0, pid), "a new MainPID", (pid, newpid))
            figure("restart under load (systemctl restart)", f"{took * 1000:.0f} ms")
            self.expect(c.file_type(FIFO) == "fifo", f"{FIFO} still there after restart",
                        c.file_type(FIFO))
            # let the writer go on for a while through the new daemon
            seen_after = self.forwarded()
            target = len(seen_after) + 1000
            self.wait_forwarded(target, timeout=30)
        finally:
            c.write_file(stopfile, "")
            out, err = writer.communicate(timeout=30)
        self.assertEqual(writer.returncode, 0, f"writer failed: {err.decode(errors='replace')}")
        total = int(out.split()[0])
        want = [f"seq {i:07d}" for i in range(total)]

        entries = self.wait_forwarded(total + 1, timeout=30)
        msgs = [text(e, "MESSAGE") for e in entries if text(e, "MESSAGE") != "wake up"]
        figure("socket restart: numbered lines written / in journal", f"{total} / {len(msgs)}")
        if msgs != want:
            seen = set(msgs)
            missing = [m for m in want if m not in seen]
            dups = len(msgs) - len(seen)
            self.fail(f"\nexpected: {total} numbered lines, each once, in order\nseen:     "
                      f"{len(msgs)}; missing {len(missing)} (first {missing[:3]}), "
                      f"{dups} duplicates, foreign {[m for m in seen if m not in set(want)][:3]}"
                      + self.explain())
        pids = {e.get("_PID") for e in entries}
        self.assertGreaterEqual(len(pids), 2, "lines forwarded by both daemons")
        self.stop()
        self.expect(c.file_type(FIFO) == "fifo",
                    f"{FIFO} (the socket's) not removed when the service stops",
                    c.file_type(FIFO))


# ==========================================================================================
class T09NotAFifo(Scenario):
    #: stat of the path itself (not following a symlink): type, mode, owner, size, inode, target
    STAT = "%F %a %U:%G %s %i %N"

    def test_what_is_not_our_fifo_fails_the_socket_and_is_left_alone(self):
        """Something at the FIFO path that is not a FIFO root could take over: `systemctl start
        pipejournal` fails (the socket with Result=resources, the service never runs), the unit
        status says why, and the thing is left exactly as it was; once it is gone, start works."""
        c = self.c
        c.run("mkfifo", "-m", "0620", "/run/pj-target")
        c.run("chown", "pipejournal:pipejournal", "/run/pj-target")
        cases = {
            # a regular file with the FIFO's owner and mode: the socket's start must not give it
            # to root (ExecStartPre= hands back only a FIFO)
            "regular file": ("printf 'precious data, not a FIFO\\n' > {p} && chmod 0620 {p} && "
                             "chown pipejournal:pipejournal {p}", "File exists"),
            # a symlink to a FIFO that looks like ours: never followed
            "symlink": ("ln -s /run/pj-target {p}", "Too many levels of symbolic links"),
            # a FIFO of another owner and mode: not taken, not changed
            "foreign FIFO": ("mkfifo -m 0666 {p}", "File exists"),
        }
        for what, (make, reason) in cases.items():
            with self.subTest(what):
                c.run("mkdir", "-p", "/run/pipejournal")
                c.sh(make.format(p=FIFO))
                before = c.run("stat", "-c", self.STAT, FIFO, "/run/pj-target").stdout
                content = c.read_file(FIFO) if what == "regular file" else None
                r = c.systemctl("start", SERVICE, check=False)
                self.expect(r.returncode != 0, "systemctl start fails", r.returncode)
                sock = c.show(SOCKET, "ActiveState", "Result")
                serv = c.show(SERVICE, "ActiveState", "ExecMainPID", "NRestarts")
                figure(f"start with a {what} at the path",
                       f"socket {sock['ActiveState']} ({sock['Result']}), service "
                       f"{serv['ActiveState']}")
                self.expect((sock["ActiveState"], sock["Result"], serv["ActiveState"],
                             serv["ExecMainPID"]) == ("failed", "resources", "inactive", "0"),
                            "socket failed (Result=resources), service inactive and never run",
                            (sock, serv))
                status = c.status(SOCKET, SERVICE)
                says = f"Failed to open FIFO {FIFO}: {reason}"
                self.expect(says in status, f"systemctl status says '{says}'", status)
                figure(f"status with a {what} at the path", says)
                after = c.run("stat", "-c", self.STAT, FIFO, "/run/pj-target").stdout
                self.expect(after == before, f"the {what} (and the symlink's target) unchanged: "
                            "type, mode, owner, size, inode", f"before:\n{before}after:\n{after}")
                if content is not None:
                    self.assertEqual(c.read_file(FIFO), content)
                c.remove(FIFO)
                c.systemctl("reset-failed", SERVICE, SOCKET, check=False)
        self.start()
        self.expect(c.file_type(FIFO) == "fifo", "with the path free, start makes the FIFO",
                    c.file_type(FIFO))
        self.stop()


# ==========================================================================================
class T10Security(Scenario):
    #: Today's figure for both; the issue asks at most 1.0 for the template.
    MAX_EXPOSURE = 0.2

    def exposure(self, unit: str) -> float:
        r = self.c.run("systemd-analyze", "security", "--no-pager", unit, check=False)
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        score = float(m.group(1))
        figure(f"systemd-analyze security {unit}", f"{score}")
        bad = [line for line in r.stdout.splitlines() if line.startswith("✗")]
        self.expect(score <= self.MAX_EXPOSURE, f"exposure of {unit} ≤ {self.MAX_EXPOSURE}",
                    f"{score}; open items:\n" + "\n".join(bad), unit)
        return score

    def test_exposure_and_who_may_write(self):
        """The service and a template instance are hardened alike (exposure ≤ 0.2); the FIFOs
        their sockets make let members of the group pipejournal write, and nobody else."""
        c = self.c
        app_service, app_socket, app_fifo, _ = instance("app")
        main, app = self.exposure(SERVICE), self.exposure(app_service)
        self.expect(main == app, "the same exposure for both (one source)", (main, app))
        p = c.show(app_service, "User", "DynamicUser", "RuntimeDirectory")
        figure("runs as", f"User={p['User']} DynamicUser={p['DynamicUser']} "
               f"RuntimeDirectory={p['RuntimeDirectory'] or '(none)'}")

        # The hardened units still work end to end, for an unprivileged writer in the group
        # pipejournal too (SocketMode=0620), and refuse one outside the group.
        c.run("useradd", "--no-create-home", "--groups", "pipejournal", "pjwriter")
        c.run("useradd", "--no-create-home", "pjstranger")
        as_writer = ["setpriv", "--reuid=pjwriter", "--regid=pjwriter", "--init-groups"]
        as_stranger = ["setpriv", "--reuid=pjstranger", "--regid=pjstranger", "--init-groups"]
        for service, socket, fifo in ((SERVICE, SOCKET, FIFO), (app_service, app_socket, app_fifo)):
            with self.subTest(socket):
                c.systemctl("start", socket)
                r = c.run(*as_writer, "sh", "-c", f'echo "hardened {socket}" > {fifo}',
                          check=False)
                self.expect(r.returncode == 0, f"a member of group pipejournal can write {fifo}",
                            r.stderr + c.run("ls", "-la", fifo).stdout, service, socket)
                e = self.c.wait_for(lambda: self.c.journal(f"MESSAGE=hardened {socket}"),
                                    what=f"the line through {fifo}",
                                    describe=lambda: self.explain(service, socket))[-1]
                self.assertEqual((e.get("_SYSTEMD_UNIT"), e.get("PIPEJOURNAL_FIFO")),
                                 (service, fifo))
                r = c.run(*as_stranger, "sh", "-c", f'echo "stranger" > {fifo}', check=False)
                self.expect(r.returncode != 0, "a user outside the group cannot write",
                            r.returncode, service, socket)
                c.systemctl("stop", service, socket, check=False)

# ==========================================================================================
#: Writes numbered lines "PREFIX %08d", padded with '.' to WIDTH bytes with the newline (0: no
#: padding), into the FIFO in writes of whole lines up to 4 KiB (each one atomic); prints its
#: PID and the pipe's size first, the number of lines when all are in the pipe.
#: argv: FIFO N PREFIX WIDTH
WRITER_HELD = r"""
import fcntl, os, sys
fifo, n, prefix, width = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), int(sys.argv[4])
lines = [(b"%s %08d" % (prefix, i)).ljust(width - 1, b".") + b"\n" for i in range(n)]
chunk = max(1, 4096 // len(lines[0])) * len(lines[0])
fd = os.open(fifo, os.O_WRONLY)
print(os.getpid(), fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ), flush=True)
view = memoryview(b"".join(lines))
while view:
    view = view[os.write(fd, view[:chunk]):]
print(n, flush=True)
"""


def held_line(prefix: str, i: int, width: int = 0) -> str:
    """The MESSAGE of line ``i`` written by WRITER_HELD (without the newline)."""
    return f"{prefix} {i:08d}".ljust(width - 1, ".")


#: journald and every socket that could start it again. With only the service stopped, the
#: socket units keep listening: sends queue in the socket (or block in sendmsg once its queue
#: is full) and the next datagram socket-activates journald again, so the daemon never notices.
#: With the sockets stopped too, /run/systemd/journal/socket stays (RemoveOnStop=no) with nobody
#: bound to it, and sd_journal_sendv() fails with ECONNREFUSED.
#: Not ENOENT: with the socket file missing, sd_journal_sendv() returns 0 (libsystemd "fails
#: silently if the journal is not available") and the entry is gone, so this scenario keeps
#: the file; a missing socket is a known gap of the daemon, not tested here.
JOURNALD_UNITS = ("systemd-journald.socket", "systemd-journald-dev-log.socket",
                  "systemd-journald-audit.socket", "systemd-journald.service")
JOURNAL_SOCKET = "/run/systemd/journal/socket"
JOURNALD = "systemd-journald.service"


class JournalOutage(Scenario):
    """Shared by the scenarios where journald does not take entries (11 gone, 12 stalled, 23 frozen
    with a backlog): a short watchdog, a writer that is held in the FIFO, and the checks that
    nothing was lost."""

    WATCHDOG_SEC = 3  # short, so a loop stalled in sendmsg() is caught within the scenario
    #: Transport= of the daemon: each scenario runs as it is (native) and, in a subclass that
    #: sets "stream", over a journald stream connection, with the same expectations.
    TRANSPORT = "native"
    #: BacklogMax=: 11 and 12 test the daemon without a backlog (writers wait in the pipe, as
    #: before there was one); 23 tests the backlog.
    BACKLOG_MAX = "0"
    writer = None

    def setUp(self):
        self.c.drop_in(SERVICE, "50-watchdog", f"[Service]\nWatchdogSec={self.WATCHDOG_SEC}s\n")
        self.use_transport(self.TRANSPORT, f"BacklogMax={self.BACKLOG_MAX}\n")
        self.writer = None

    def fig(self, key: str, value: str) -> None:
        """figure(), the key marked with the transport when it is not the default."""
        figure(key if self.TRANSPORT == "native" else f"{key} [{self.TRANSPORT}]", value)

    def expect_transport(self, entries: list[dict]) -> None:
        """The forwarded entries came the way TRANSPORT sends them."""
        want = {"native": "journal", "stream": "stdout"}[self.TRANSPORT]
        seen = {e.get("_TRANSPORT") for e in entries}
        self.expect(seen == {want}, f"_TRANSPORT={want} on every forwarded entry", seen)

    def tearDown(self):
        # (journald is made whole again by the scenario's own finally:, before this runs)
        writer = self.writer
        if writer is not None and writer.poll() is None:
            writer.kill()
            writer.wait(timeout=10)
        self.stop()
        self.c.remove_drop_in(SERVICE, "50-watchdog")

    def start_watched(self) -> tuple[int, str]:
        """Start the service with the short watchdog; returns (MainPID, NRestarts)."""
        self.start()
        p0 = self.c.show(SERVICE, "MainPID", "NRestarts", "WatchdogUSec")
        self.assertEqual(p0["WatchdogUSec"], f"{self.WATCHDOG_SEC}s")
        return int(p0["MainPID"]), p0["NRestarts"]

    def daemon_state(self, pid: int) -> str:
        """Where the daemon is (for failure messages): a loop stuck in sendmsg() shows here."""
        r = self.c.run("sh", "-c", f"echo wchan=$(cat /proc/{pid}/wchan); "
                       f"echo syscall=$(cat /proc/{pid}/syscall); cat /proc/{pid}/stack",
                       check=False)
        p = self.c.show(SERVICE, "MainPID", "ActiveState", "SubState", "NRestarts",
                        "StatusText", "WatchdogTimestampMonotonic")
        gone = ("" if p["MainPID"] == str(pid) else
                f" (gone: MainPID is now {p['MainPID']}, NRestarts={p['NRestarts']})")
        return f"daemon {pid}{gone}: {r.stdout.strip()}\nunit: {p}\n" + self.explain()

    def start_held_writer(self, prefix: str, lines: int, width: int = 0) -> tuple[int, int]:
        """Start WRITER_HELD (self.writer); returns its PID and the pipe's size."""
        writer = self.writer = self.c.popen(
            "python3", "-c", WRITER_HELD, FIFO, str(lines), prefix, str(width),
            stdout=harness.subprocess.PIPE, stderr=harness.subprocess.PIPE)
        first = writer.stdout.readline().split()
        self.expect(len(first) == 2, "the writer's PID and pipe size",
                    (first, writer.poll(),
                     writer.stderr.read() if writer.poll() is not None else b""))
        return int(first[0]), int(first[1])

    def wait_status(self, prefix: str, pid: int, expected: str, timeout: float = 5) -> str:
        """Poll StatusText until it starts with ``prefix``; fail with the daemon's state."""
        try:
            return harness.Deadline(timeout).poll(
                lambda: (lambda s: s if s.startswith(prefix) else None)(
                    self.c.prop(SERVICE, "StatusText")),
                what=f"StatusText '{prefix} ...'", interval=0.02, max_interval=0.1)
        except harness.TimeoutExpired as e:
            self.fail(f"\nexpected: {expected}\nseen:     {e}\n" + self.daemon_state(pid))

    def wait_writer_blocked(self, writer_pid: int) -> str:
        """The writer feels the back pressure: blocked in write(), not finished, not failed.
        (wchan: pipe_write, or anon_pipe_write on newer kernels)"""
        wchan = self.wait(lambda: (lambda w: w if "pipe_write" in w else None)(
            self.c.run("cat", f"/proc/{writer_pid}/wchan", check=False).stdout.strip()),
            "the writer to block in pipe_write (the daemon stopped reading)", timeout=5)
        self.expect(self.writer.poll() is None, "the writer still blocked in the FIFO",
                    f"exited {self.writer.returncode}")
        return wchan

    def wait_watchdog_ping(self, since: str, pid: int, what: str) -> str:
        """Poll WatchdogTimestampMonotonic until it differs from ``since`` (a WATCHDOG=1 arrived);
        returns the new value. A ping is due every WatchdogSec/2; the deadline is WatchdogSec +
        2 s, by when systemd has killed a daemon that stopped pinging."""
        try:
            return harness.Deadline(self.WATCHDOG_SEC + 2).poll(
                lambda: (lambda v: v if v != since else None)(
                    self.c.prop(SERVICE, "WatchdogTimestampMonotonic")),
                what="a WATCHDOG=1 ping")
        except harness.TimeoutExpired as e:
            self.fail(f"\nexpected: {what}\nseen:     {e}\n" + self.daemon_state(pid))

    def expect_alive(self, pid: int, restarts: str, waiting: bool) -> dict:
        """Still the same MainPID, active (running), NRestarts unchanged (and still waiting)."""
        p = self.c.show(SERVICE, "MainPID", "ActiveState", "SubState", "NRestarts", "StatusText")
        self.expect((int(p["MainPID"]), p["ActiveState"], p["SubState"], p["NRestarts"]) ==
                    (pid, "active", "running", restarts),
                    f"still MainPID {pid}, active (running), NRestarts={restarts}", p)
        if waiting:
            self.expect(p["StatusText"].startswith("Waiting for the journal"),
                        "still waiting for the journal", p["StatusText"])
        return p

    def finish_writer(self, lines: int, pid: int) -> None:
        """The writer completes once the daemon reads again, having written every line."""
        writer = self.writer
        try:
            out, err = writer.communicate(timeout=20)
        except harness.subprocess.TimeoutExpired:
            self.fail("\nexpected: the writer finishes once the daemon reads again\nseen:     "
                      "still blocked after 20 s\n" + self.daemon_state(pid))
        self.expect(writer.returncode == 0 and out.split() == [str(lines).encode()],
                    f"the writer wrote all {lines} lines", (writer.returncode, out, err))

    def expect_held_lines(self, before: str, prefix: str, lines: int, width: int = 0
                          ) -> tuple[list[dict], float]:
        """Wait until ``lines`` numbered lines are in the journal, then: the forwarded entries
        are exactly ``before`` and the numbered lines, each once, in order. Returns them and
        the time.monotonic() when the count was reached."""
        c = self.c

        def count():
            r = c.run("sh", "-c", f"journalctl -q -o cat PIPEJOURNAL_FIFO={FIFO} "
                      f"| grep -c '^{prefix} '", check=False)
            n = int(r.stdout.strip() or 0)
            return n if n >= lines else None
        self.wait(count, f"{lines} numbered lines in the journal", timeout=20)
        t_all = time.monotonic()
        entries = self.forwarded()
        msgs = [text(e, "MESSAGE") for e in entries]
        want = [held_line(prefix, i, width) for i in range(lines)]
        self.fig(f"numbered lines written / in journal ({prefix})", f"{lines} / {len(msgs) - 1}")
        self.expect_transport(entries)
        if msgs != [before] + want:
            seen = [m for m in msgs if m != before]
            seen_set = set(seen)
            missing = [m for m in want if m not in seen_set]
            self.fail(f"\nexpected: {before!r}, then {lines} numbered lines, each once, in order"
                      f"\nseen:     {len(seen)}; missing {len(missing)} (first {missing[:3]}), "
                      f"{len(seen) - len(seen_set)} duplicates, in order: {seen == sorted(seen)}, "
                      f"{before!r} first: {msgs[:1] == [before]}" + self.explain())
        return entries, t_all

    def expect_unavailable_logged(self, pid: int, errno: int) -> dict:
        """The daemon's journal_unavailable entry for the outage (logged once the journal was
        back), told by its ERRNO: a busy journald catching up afterwards may make the daemon wait
        again, and that wait is logged too."""
        def for_outage():
            entries = self.own_entries("journal_unavailable")
            matching = [e for e in entries if e.get("ERRNO") == str(errno)]
            return (matching or entries or [None])[0]
        unavailable = self.wait(for_outage, "the daemon's 'journal_unavailable' entry "
                                f"(MESSAGE_ID={MESSAGE_IDS['journal_unavailable']})", timeout=5)
        others = [text(e, "MESSAGE") for e in self.own_entries("journal_unavailable")
                  if e.get("__CURSOR") != unavailable.get("__CURSOR")]
        self.fig("other journal_unavailable entries", "; ".join(others) or "none")
        self.expect((unavailable.get("PRIORITY"), unavailable.get("ERRNO"),
                     unavailable.get("PIPEJOURNAL_FIFO"), unavailable.get("_PID")) ==
                    ("4", str(errno), FIFO, str(pid)),
                    f"journal_unavailable with PRIORITY=4 ERRNO={errno} PIPEJOURNAL_FIFO={FIFO} "
                    f"_PID={pid}", {k: unavailable.get(k) for k in
                                    ("MESSAGE", "PRIORITY", "ERRNO", "PIPEJOURNAL_FIFO", "_PID")})
        refused = self.own_entries("entry_refused")
        self.expect(not refused, "no entry_refused (nothing dropped)",
                    [text(x, "MESSAGE") for x in refused])
        return unavailable

    def expect_clean_stop(self, lines: int) -> None:
        """Stop; the stopped entry counts ``lines`` forwarded, 0 dropped."""
        self.stop()
        stopped = self.wait_own("stopped", timeout=10)
        self.expect((stopped.get("PIPEJOURNAL_LINES"), stopped.get("PIPEJOURNAL_DROPPED")) ==
                    (str(lines), "0"),
                    f"stopped entry: PIPEJOURNAL_LINES={lines} PIPEJOURNAL_DROPPED=0",
                    text(stopped, "MESSAGE"))


FORWARDING_RE = rf"Forwarding {re.escape(FIFO)}: \d+ lines \(.*\), 0 dropped"


class T11JournaldDown(JournalOutage):
    """journald goes away while lines keep coming: the daemon pauses (STATUS says why), its
    loop keeps running (watchdog pings), the writer waits in the pipe, and when journald is back
    every line arrives exactly once, in order, nothing dropped."""

    LINES = 100_000  # 1.6 MB: more than the pipe (1 MiB, PipeSize=) plus what the daemon reads ahead

    def test_journald_down_and_back_loses_nothing(self):
        try:
            self._run_scenario()
        finally:
            # journald back whatever happened: explain(), later checks and poweroff need it
            self.c.systemctl("start", *JOURNALD_UNITS, check=False)

    def _run_scenario(self):
        c = self.c
        t_scenario = time.monotonic()
        pid, restarts = self.start_watched()
        c.write_file(FIFO, "before the outage\n")
        self.wait_forwarded(1, "MESSAGE=before the outage")

        # -- journald away -------------------------------------------------------------------
        t_down = time.monotonic()
        c.systemctl("stop", *JOURNALD_UNITS)
        states = c.run("systemctl", "is-active", *JOURNALD_UNITS, check=False).stdout.split()
        self.expect(all(s in ("inactive", "failed") for s in states),
                    "journald and its sockets inactive", dict(zip(JOURNALD_UNITS, states)),
                    *JOURNALD_UNITS)
        self.expect(c.file_type(JOURNAL_SOCKET) == "socket",
                    f"{JOURNAL_SOCKET} left behind (RemoveOnStop=no), nobody bound to it",
                    c.file_type(JOURNAL_SOCKET))

        writer_pid, pipe_size = self.start_held_writer("outage", self.LINES)
        t_write = time.monotonic()
        status = self.wait_status("Waiting for the journal", pid,
                                  "the daemon notices journald is gone (sendmsg fails with "
                                  "ECONNREFUSED) and says so in STATUS=")
        t_paused = time.monotonic()
        self.fig("journald gone: lines written → STATUS 'Waiting'",
               f"{(t_paused - t_write) * 1000:.0f} ms")
        self.fig("STATUS while journald is gone", status)
        self.expect(re.fullmatch(rf"Waiting for the journal \(Connection refused\): "
                                 rf"{re.escape(FIFO)}: \d+ lines \(.*\), 0 dropped", status)
                    is not None,
                    f"StatusText 'Waiting for the journal (Connection refused): {FIFO}: "
                    "N lines (...), 0 dropped'", status)

        wchan = self.wait_writer_blocked(writer_pid)
        self.fig("writer while paused", f"blocked in {wchan} (pipe size {pipe_size} B)")

        # The loop keeps running while paused: a WATCHDOG=1 newer than the pause.
        self.wait_watchdog_ping(c.prop(SERVICE, "WatchdogTimestampMonotonic"), pid,
                                "WATCHDOG=1 pings go on while the daemon waits for the journal")
        self.expect_alive(pid, restarts, waiting=True)
        states = c.run("systemctl", "is-active", *JOURNALD_UNITS, check=False).stdout.split()
        self.expect(all(s in ("inactive", "failed") for s in states),
                    "nothing started journald again meanwhile", dict(zip(JOURNALD_UNITS, states)),
                    *JOURNALD_UNITS)
        held = self.forwarded()
        self.expect(len(held) == 1, "no line forwarded while journald is gone (only the one "
                    "before)", [text(e, "MESSAGE") for e in held[:5]])

        # -- journald back ---------------------------------------------------------------------
        t_up = time.monotonic()
        c.systemctl("start", *JOURNALD_UNITS)
        self.fig("journald away (stop → start)", f"{t_up - t_down:.2f} s, daemon paused "
               f"{t_up - t_paused:.2f} s of it (seen)")
        status = self.wait_status("Forwarding", pid, "StatusText back to 'Forwarding ...'")
        t_resumed = time.monotonic()
        self.fig("journald started → STATUS 'Forwarding' again",
                 f"{(t_resumed - t_up) * 1000:.0f} ms (retry backoff 10 ms … 1 s)")
        self.expect(re.fullmatch(FORWARDING_RE, status) is not None,
                    f"StatusText 'Forwarding {FIFO}: N lines (...), 0 dropped'", status)

        self.finish_writer(self.LINES, pid)
        entries, t_all = self.expect_held_lines("before the outage", "outage", self.LINES)
        self.fig("journald started → all held lines in the journal",
               f"{t_all - t_up:.2f} s for {self.LINES} lines")

        # When the retry got through: the first held line as journald's socket stamped it
        # (_SOURCE_REALTIME_TIMESTAMP, converted to CLOCK_MONOTONIC with the entry's own pair).
        listening = int(c.prop("systemd-journald.socket", "ActiveEnterTimestampMonotonic"))
        e = entries[1]
        if "_SOURCE_REALTIME_TIMESTAMP" in e:
            sent = (int(e["_SOURCE_REALTIME_TIMESTAMP"]) - int(e["__REALTIME_TIMESTAMP"])
                    + int(e["__MONOTONIC_TIMESTAMP"]))
            retry_ms = (sent - listening) / 1000
            self.fig("journald socket listening → first held line sent (in the container)",
                   f"{retry_ms:.0f} ms")
            self.expect(retry_ms <= 2000, "the retry within backoff max (1 s) + 1 s slack",
                        f"{retry_ms:.0f} ms")

        unavailable = self.expect_unavailable_logged(pid, 111)  # ECONNREFUSED
        self.fig("journal_unavailable says", text(unavailable, "MESSAGE"))
        if self.TRANSPORT == "stream":
            # Stopped, not restarted: PID 1 dropped journald's file descriptor store and with it
            # the stream connection. The daemon connected again and says so.
            again = self.wait_own("stream_reconnected", timeout=5)
            self.expect((again.get("ERRNO") in ("32", "104"), again.get("_PID"),
                         again.get("PIPEJOURNAL_FIFO")) == (True, str(pid), FIFO),
                        f"stream_reconnected with ERRNO=32 (EPIPE) or 104, _PID={pid}, "
                        f"PIPEJOURNAL_FIFO={FIFO}",
                        {k: again.get(k) for k in ("MESSAGE", "ERRNO", "_PID",
                                                   "PIPEJOURNAL_FIFO", "PIPEJOURNAL_UNCONFIRMED")})
            self.fig("stream_reconnected says", text(again, "MESSAGE"))
        self.expect_alive(pid, restarts, waiting=False)
        self.expect_clean_stop(self.LINES + 1)
        self.fig("scenario 11 (without boot)", f"{time.monotonic() - t_scenario:.1f} s")


# ==========================================================================================
class T12JournaldStalled(JournalOutage):
    """journald stops reading (SIGSTOP) while lines keep coming: its socket queue fills, the
    daemon's sendmsg() times out (SO_SNDTIMEO) with EAGAIN, it pauses (STATUS says why) and its
    loop keeps pinging the watchdog; the writer waits in the pipe. After SIGCONT every line
    arrives exactly once, in order, nothing dropped, same MainPID.

    journald's own WatchdogSec is 3 min, so PID 1 does not restart it during the stall. Before
    SO_SNDTIMEO the daemon blocked in sendmsg(), the watchdog killed it and the lines it had read
    were lost: that fails here at 'Waiting' (the status never changes) or at 'MainPID'."""

    LINES = 20_000
    #: 80 bytes a line, 1.6 MB in all: more than journald's queue (net.unix.max_dgram_qlen + 1
    #: datagrams, 513 in the container: 41,040 B of lines), the daemon's read-ahead (one read,
    #: 16 KiB) and the pipe (1 MiB, PipeSize=) together, so the writer must block.
    WIDTH = 80

    def test_journald_stalled_loses_nothing_and_daemon_stays_alive(self):
        self.journald_pid = None
        try:
            self._run_scenario()
        finally:
            # journald running again whatever happened: explain(), later checks and poweroff
            # need it (SIGCONT to every process of the unit; harmless when not stopped)
            self.c.systemctl("kill", "--signal=SIGCONT", JOURNALD, check=False)

    def _journald_state(self, jpid: int) -> str:
        r = self.c.run("sh", "-c", f"grep '^State:' /proc/{jpid}/status", check=False)
        return r.stdout.split(":", 1)[-1].strip()

    def _run_scenario(self):
        c = self.c
        t_scenario = time.monotonic()
        pid, restarts = self.start_watched()
        c.write_file(FIFO, "before the stall\n")
        self.wait_forwarded(1, "MESSAGE=before the stall")
        j0 = c.show(JOURNALD, "MainPID", "NRestarts", "WatchdogUSec")
        jpid = int(j0["MainPID"])
        self.fig("journald's WatchdogSec (not restarted during the stall)", j0["WatchdogUSec"])

        # -- journald stalled ------------------------------------------------------------------
        c.run("kill", "-STOP", str(jpid))
        t_stop = time.monotonic()
        self.journald_pid = jpid
        self.wait(lambda: self._journald_state(jpid).startswith("T"),
                  f"journald ({jpid}) stopped (State: T)", timeout=5, units=(JOURNALD,))

        writer_pid, pipe_size = self.start_held_writer("stalled", self.LINES, self.WIDTH)
        t_write = time.monotonic()
        status = self.wait_status(
            "Waiting for the journal", pid,
            "the daemon notices journald stopped reading (its queue is full, sendmsg times out "
            "after SO_SNDTIMEO=100 ms with EAGAIN) and says so in STATUS=")
        t_paused = time.monotonic()
        self.fig("journald stalled: lines written → STATUS 'Waiting'",
               f"{(t_paused - t_write) * 1000:.0f} ms")
        self.fig("STATUS while journald is stalled", status)
        m = re.fullmatch(rf"Waiting for the journal \(Resource temporarily unavailable\): "
                         rf"{re.escape(FIFO)}: (\d+) lines \(.*\), 0 dropped", status)
        self.expect(m is not None, "StatusText 'Waiting for the journal (Resource temporarily "
                    f"unavailable): {FIFO}: N lines (...), 0 dropped'", status)
        self.fig("lines journald's socket queue took before EAGAIN", str(int(m.group(1)) - 1))

        wchan = self.wait_writer_blocked(writer_pid)
        self.fig("writer while stalled", f"blocked in {wchan} (pipe size {pipe_size} B)")

        # Alive through at least two watchdog periods of the stall: each WATCHDOG=1 (every
        # WatchdogSec/2) is an event; after each, same MainPID, still waiting, journald still
        # stopped. A loop blocked in sendmsg() sends none and is killed after WatchdogSec.
        wd = c.prop(SERVICE, "WatchdogTimestampMonotonic")
        pings = []
        while len(pings) < 2 or time.monotonic() - t_stop < 2 * self.WATCHDOG_SEC:
            wd = self.wait_watchdog_ping(
                wd, pid, f"WATCHDOG=1 pings go on while journald is stalled (ping {len(pings) + 1}"
                f", {time.monotonic() - t_stop:.1f} s into the stall)")
            pings.append(int(wd))
            self.expect_alive(pid, restarts, waiting=True)
            state = self._journald_state(jpid)
            self.expect(state.startswith("T"), f"journald ({jpid}) still stopped", state,
                        JOURNALD)
        t_cont = time.monotonic()
        gaps = [f"{(b - a) / 1e6:.2f}" for a, b in zip(pings, pings[1:])]
        self.fig("watchdog pings while journald was stalled",
               f"{len(pings)} in {t_cont - t_stop:.1f} s (WatchdogSec={self.WATCHDOG_SEC}s; "
               f"gaps {', '.join(gaps)} s)")
        self.expect(self.writer.poll() is None, "the writer still blocked in the FIFO",
                    f"exited {self.writer.returncode}")

        # -- journald resumed ------------------------------------------------------------------
        c.run("kill", "-CONT", str(jpid))
        status = self.wait_status("Forwarding", pid, "StatusText back to 'Forwarding ...'")
        t_resumed = time.monotonic()
        self.fig("journald SIGCONT → STATUS 'Forwarding' again",
               f"{(t_resumed - t_cont) * 1000:.0f} ms (retry backoff 10 ms … 1 s)")
        self.expect(re.fullmatch(FORWARDING_RE, status) is not None,
                    f"StatusText 'Forwarding {FIFO}: N lines (...), 0 dropped'", status)

        self.finish_writer(self.LINES, pid)
        _, t_all = self.expect_held_lines("before the stall", "stalled", self.LINES, self.WIDTH)
        self.fig("journald SIGCONT → all lines in the journal",
               f"{t_all - t_cont:.2f} s for {self.LINES} lines")

        unavailable = self.expect_unavailable_logged(pid, 11)  # EAGAIN
        self.fig("journal_unavailable says (stall)", text(unavailable, "MESSAGE"))
        if self.TRANSPORT == "stream":
            again = self.own_entries("stream_reconnected")
            self.expect(not again, "the stream connection kept through the stall",
                        [text(e, "MESSAGE") for e in again])
        self.expect_alive(pid, restarts, waiting=False)
        j1 = c.show(JOURNALD, "MainPID", "NRestarts")
        self.expect((int(j1["MainPID"]), j1["NRestarts"]) == (jpid, j0["NRestarts"]),
                    f"journald not restarted (MainPID {jpid}, NRestarts {j0['NRestarts']})", j1,
                    JOURNALD)
        self.expect_clean_stop(self.LINES + 1)
        self.fig("scenario 12 (without boot)", f"{time.monotonic() - t_scenario:.1f} s")



# ==========================================================================================
#: journald's "Suppressed N messages from UNIT" entry (SD_MESSAGE_JOURNAL_DROPPED); it names the
#: unit in OBJECT_SYSTEMD_UNIT= and the count in N_DROPPED=.
JOURNAL_DROPPED_ID = "a596d6fe7bfa4994828e72309e95d61e"


class T13RateLimitDefaults(Scenario):
    """journald at its defaults (no journald.conf drop-in): 100,000 lines written as fast as
    possible all arrive, each once, in order; the daemon's own entries after them too; journald
    suppressed nothing from the unit.

    With the unit's old LogRateLimitIntervalSec=0 (systemd exports nothing for 0, so journald
    applies 10,000 per 30 s, ×3 for the container's free space) about 30,000 arrive and the
    'stopping'/'stopped' entries are suppressed too; journald reports "Suppressed ..." only
    when the unit logs again after its window, so the line count is what catches it."""

    journald_conf = None
    LINES = 100_000

    def test_100000_lines_at_full_speed_arrive_with_journald_defaults(self):
        c = self.c
        t_scenario = time.monotonic()
        conf = c.run("systemd-analyze", "cat-config", "systemd/journald.conf").stdout
        set_here = [x for x in conf.splitlines() if re.match(r"\s*RateLimit", x)]
        self.expect(not set_here, "journald's RateLimit*= at their defaults (all commented out)",
                    set_here, JOURNALD)

        self.start()
        # What the unit hands journald (/run/systemd/units/, read by journald per unit).
        exported = {}
        for name in ("interval", "burst"):
            r = c.run("readlink", f"/run/systemd/units/log-rate-limit-{name}:{SERVICE}",
                      check=False)
            exported[name] = int(r.stdout) if r.returncode == 0 else None
        figure("rate limit exported to journald",
               f"interval {exported['interval']} µs, burst {exported['burst']}")

        payload = b"".join(b"rate %07d\n" % i for i in range(self.LINES))
        t0 = time.monotonic()
        c.write_file(FIFO, payload)  # one cat: as fast as the daemon reads
        r = c.systemctl("stop", SERVICE, check=False)
        self.expect(r.returncode == 0, "systemctl stop succeeds", r.stderr)
        c.run("journalctl", "--sync")  # every entry sent before this is in the journal now
        t_synced = time.monotonic()  # journald has handled every entry: its windows began before
        figure("100,000 lines written + stop + journal synced", f"{time.monotonic() - t0:.2f} s")

        out = c.run("journalctl", "-q", "-o", "cat", f"PIPEJOURNAL_FIFO={FIFO}",
                    timeout=120).stdout
        numbers = [int(x[5:]) for x in out.splitlines() if x.startswith("rate ")]
        figure("numbered lines in the journal", f"{len(numbers)} of {self.LINES}")
        if numbers != list(range(self.LINES)):
            seen = set(numbers)
            missing = [i for i in range(self.LINES) if i not in seen]
            self.fail(f"\nexpected: {self.LINES} numbered lines, each once, in order"
                      f"\nseen:     {len(numbers)}; missing {len(missing)} (first "
                      f"{missing[:3]}), {len(numbers) - len(seen)} duplicates, in order: "
                      f"{numbers == sorted(numbers)}" + self.explain(SERVICE, JOURNALD))

        # The daemon's own entries after the flood are there, with its count.
        stopped = self.own_entries("stopped")
        self.expect(len(stopped) == 1 and (stopped[0].get("PIPEJOURNAL_LINES"),
                                           stopped[0].get("PIPEJOURNAL_DROPPED")) ==
                    (str(self.LINES), "0"),
                    f"one 'stopped' entry with PIPEJOURNAL_LINES={self.LINES} "
                    "PIPEJOURNAL_DROPPED=0", [text(e, "MESSAGE") for e in stopped])
        self.expect(len(self.own_entries("stopping")) == 1, "one 'stopping' entry",
                    len(self.own_entries("stopping")))

        # journald reports suppressed entries only with the unit's first entry after the
        # window: start the unit again once a window (1 s) has passed since the flood.
        window = (exported["interval"] or 1_000_000) / 1e6
        remaining = t_synced + window - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)  # the window is time itself, not an event to await
        self.start()
        self.wait_own("started")
        c.run("journalctl", "--sync")
        suppressed = [text(e, "MESSAGE") for e in c.journal(f"MESSAGE_ID={JOURNAL_DROPPED_ID}")
                      if e.get("OBJECT_SYSTEMD_UNIT") == SERVICE
                      or f"from {SERVICE}" in (text(e, "MESSAGE") or "")]
        self.expect(not suppressed, f"no 'Suppressed ... from {SERVICE}' entry of journald",
                    suppressed, SERVICE, JOURNALD)
        self.stop()

        # Margins the flood above cannot show: the limit stays out of reach on faster machines
        # and bigger disks too.
        self.expect(None not in exported.values(),
                    "non-zero LogRateLimitIntervalSec= and LogRateLimitBurst= exported "
                    "(0 exports nothing: journald's default limit applies)", exported)
        per_second = exported["burst"] * 1e6 / exported["interval"]
        self.expect(per_second >= 1e6, "a limit of at least 1,000,000 entries/s (journald "
                    "stores about 100,000/s at most)", f"{per_second:,.0f}/s")
        # journald multiplies the burst by up to 47/4 in 32-bit arithmetic (burst_modulate)
        self.expect(exported["burst"] * 47 < 2**32, "a burst that cannot wrap around in "
                    "journald's scaling (≤ 91,382,282)", exported["burst"])
        figure("scenario 13 (without boot)", f"{time.monotonic() - t_scenario:.1f} s")


# ===================================================================================
class T11JournaldDownStream(T11JournaldDown):
    """Scenario 11 over a journald stream connection (Transport=stream). journald stopped with
    its sockets takes the connection with it (PID 1 drops its file descriptor store on a stop):
    the next write fails with EPIPE, connecting fails with ECONNREFUSED while nobody listens, and
    the daemon waits as in native mode; when journald is back it connects again, says so
    (stream_reconnected), and every held line arrives once, in order."""

    TRANSPORT = "stream"


class T12JournaldStalledStream(T12JournaldStalled):
    """Scenario 12 over a journald stream connection: journald frozen, the stream socket fills,
    send() gives EAGAIN at once, the channel waits for EPOLLOUT and says so after 250 ms; the
    connection stays; after SIGCONT every line arrives once, in order."""

    TRANSPORT = "stream"
    #: 2 MB: the stream socket (128 KiB of socket buffers) and the sink's buffer hold more than
    #: journald's datagram queue, so it takes more lines until the writer must block.
    LINES = 25_000


# ==========================================================================================
class T21StreamLines(Scenario):
    """Transport=stream: 10,000 lines with priority prefixes arrive exactly once, in order, as
    journald stream entries with exactly MESSAGE, PRIORITY (from the prefix), SYSLOG_IDENTIFIER
    and PIPEJOURNAL_FIFO (from the unit's LogExtraFields=), _TRANSPORT=stdout, one _STREAM_ID.
    journald's stream rules are the only differences from native: empty (and blank) lines
    dropped, trailing blanks stripped, a NUL ends a line (the rest keeps its priority). A reload
    with a new identifier moves to a new connection without reordering lines; an instance's
    lines carry its own FIFO."""

    LINES = 10_000

    def tearDown(self):
        self.write_config("[PipeJournal]\n")

    def test_stream_lines_exactly_once_with_the_fields(self):
        c = self.c
        self.use_transport("stream")
        self.start()
        expected: list[tuple[str, str]] = []  # (MESSAGE, PRIORITY)
        raw: list[str] = []
        for i in range(self.LINES):
            if i % 10 == 3:
                msg, pri, line = f"stream {i:05d} error", "3", f"<3>stream {i:05d} error"
            elif i % 100 == 7:
                msg, pri, line = f"stream {i:05d} debug", "7", f"<007>stream {i:05d} debug"
            elif i == 502:
                msg, pri, line = f"<8>stream {i:05d} not a prefix", "6", \
                    f"<8>stream {i:05d} not a prefix"
            else:
                msg, pri, line = f"  stream {i:05d} plain, äöü", "6", \
                    f"  stream {i:05d} plain, äöü"
            expected.append((msg, pri))
            raw.append(line)
        t0 = time.monotonic()
        c.write_file(FIFO, "".join(x + "\n" for x in raw))
        entries = self.wait_forwarded(self.LINES)
        figure("stream: 10,000 lines write → all in journal", f"{time.monotonic() - t0:.2f} s")
        seen = [(text(e, "MESSAGE"), e.get("PRIORITY")) for e in entries]
        if seen != expected:
            bad = [(i, w, x) for i, (w, x) in enumerate(zip(expected, seen)) if w != x]
            first = bad[0] if bad else (min(len(seen), len(expected)), None, None)
            self.fail(f"\nexpected: {len(expected)} entries, each once, in order\nseen:     "
                      f"{len(seen)}; first difference at {first[0]}: expected {first[1]!r}, "
                      f"seen {first[2]!r}" + self.explain())
        streams = {e.get("_STREAM_ID") for e in entries}
        self.expect(len(streams) == 1 and None not in streams, "one _STREAM_ID for all lines",
                    streams)
        for e in entries:
            got = (e.get("SYSLOG_IDENTIFIER"), e.get("PIPEJOURNAL_FIFO"), e.get("_TRANSPORT"),
                   e.get("_SYSTEMD_UNIT"), user_fields(e))
            if got != ("pipejournal", FIFO, "stdout", SERVICE, FORWARDED_FIELDS):
                self.fail(f"\nexpected: SYSLOG_IDENTIFIER=pipejournal PIPEJOURNAL_FIFO={FIFO} "
                          f"_TRANSPORT=stdout _SYSTEMD_UNIT={SERVICE} and fields "
                          f"{sorted(FORWARDED_FIELDS)}\nseen:     {got}")

        # journald's stream rules, the documented differences
        cur = c.cursor()
        c.write_file(FIFO, b"rules: first\n\n   \n<4>\nrules: trailing blanks \t \n"
                           b"<5>rules: a\x00<3>b\nrules: last\n")
        self.wait_forwarded(1, "MESSAGE=rules: last", cursor=cur)
        got = [(text(e, "MESSAGE"), e.get("PRIORITY"), e.get("_LINE_BREAK"))
               for e in self.forwarded(cursor=cur)]
        want = [("rules: first", "6", None), ("rules: trailing blanks", "6", None),
                ("rules: a", "5", "nul"), ("<3>b", "5", None), ("rules: last", "6", None)]
        self.expect(got == want, f"journald's stream rules: {want}", got)

        # a new identifier on reload: a new connection, lines in order across it
        cur = c.cursor()
        pid = self.main_pid()
        self.use_transport("stream", "SyslogIdentifier=pjstream-renamed\n")
        half = 3_000
        c.write_file(FIFO, "".join(f"reload {i:05d}\n" for i in range(half)))
        c.systemctl("reload", SERVICE)
        c.write_file(FIFO, "".join(f"reload {i:05d}\n" for i in range(half, 2 * half)))
        self.wait_forwarded(2 * half, cursor=cur)
        got = [(e.get("SYSLOG_IDENTIFIER"), text(e, "MESSAGE")) for e in self.forwarded(cursor=cur)]
        numbers = [int(m[7:]) for _, m in got]
        idents = [i for i, _ in got]
        switch = idents.index("pjstream-renamed") if "pjstream-renamed" in idents else None
        figure("stream: lines before the reload took effect", str(switch))
        self.expect(numbers == list(range(2 * half)), f"{2 * half} numbered lines, each once, "
                    "in order across the reload", f"{len(numbers)} lines, in order: "
                    f"{numbers == sorted(numbers)}")
        self.expect(switch is not None and set(idents[:switch]) == {"pipejournal"} and
                    set(idents[switch:]) == {"pjstream-renamed"},
                    "SYSLOG_IDENTIFIER pipejournal, then pjstream-renamed from one line on",
                    sorted(set(idents)))
        self.expect(self.main_pid() == pid, "same MainPID after reload", self.main_pid())
        self.stop()

        # an instance: its FIFO in PIPEJOURNAL_FIFO= (LogExtraFields= with %i)
        c.write_file("/etc/pipejournal/app.conf", "[PipeJournal]\nTransport=stream\nFormat=plain\n")
        c.systemctl("start", "pipejournal@app.socket")
        try:
            c.write_file("/run/pipejournal/app", "instance line\n")
            e = self.wait(lambda: (c.journal("SYSLOG_IDENTIFIER=app", "MESSAGE=instance line")
                                   or [None])[-1], "the instance's line",
                          units=("pipejournal@app.service",))
            got = (e.get("PIPEJOURNAL_FIFO"), e.get("_TRANSPORT"), e.get("_SYSTEMD_UNIT"))
            self.expect(got == ("/run/pipejournal/app", "stdout", "pipejournal@app.service"),
                        "PIPEJOURNAL_FIFO=/run/pipejournal/app _TRANSPORT=stdout from the "
                        "instance", got, "pipejournal@app.service")
        finally:
            c.systemctl("stop", "pipejournal@app.service", "pipejournal@app.socket", check=False)


# ==========================================================================================
class T22StreamJournaldRestart(Scenario):
    """Transport=stream: journald restarted twice while lines keep coming (2,000 lines/s) keeps
    the stream connection (its file descriptor store; it reads everything queued before it
    exits): every line arrives exactly once, in order, on one connection (one _STREAM_ID); the
    daemon never reconnects and keeps its MainPID."""

    def tearDown(self):
        self.write_config("[PipeJournal]\n")

    def test_journald_restart_mid_stream_loses_nothing(self):
        c = self.c
        self.use_transport("stream")
        self.start()
        pid = self.main_pid()
        stopfile = "/run/pj-writer-stop"
        c.remove(stopfile)
        writer = c.popen("python3", "-c", WRITER, FIFO, stopfile,
                         stdout=harness.subprocess.PIPE, stderr=harness.subprocess.PIPE)
        restarts = []
        try:
            for target in (1_000, 4_000):
                self.wait_forwarded(1, f"MESSAGE=seq {target:07d}", timeout=20)
                before = c.prop(JOURNALD, "MainPID")
                t0 = time.monotonic()
                c.systemctl("restart", JOURNALD)
                after = c.prop(JOURNALD, "MainPID")
                restarts.append(time.monotonic() - t0)
                self.expect(after not in ("0", before), "journald has a new MainPID",
                            (before, after), JOURNALD)
            n = len(self.forwarded())
            self.wait_forwarded(n + 2_000, timeout=30)  # and on through the new journald
        finally:
            c.write_file(stopfile, "")
            out, err = writer.communicate(timeout=30)
        figure("stream: systemctl restart systemd-journald under load",
               ", ".join(f"{x * 1000:.0f} ms" for x in restarts))
        self.assertEqual(writer.returncode, 0, f"writer failed: {err.decode(errors='replace')}")
        total = int(out.split()[0])
        entries = self.wait_forwarded(total, timeout=30)
        msgs = [text(e, "MESSAGE") for e in entries]
        want = [f"seq {i:07d}" for i in range(total)]
        figure("stream: lines written / in journal across 2 journald restarts",
               f"{total} / {len(msgs)}")
        if msgs != want:
            seen = set(msgs)
            missing = [m for m in want if m not in seen]
            self.fail(f"\nexpected: {total} numbered lines, each once, in order\nseen:     "
                      f"{len(msgs)}; missing {len(missing)} (first {missing[:3]}), "
                      f"{len(msgs) - len(seen)} duplicates, in order: {msgs == sorted(msgs)}"
                      + self.explain(SERVICE, JOURNALD))
        streams = {e.get("_STREAM_ID") for e in entries}
        self.expect(len(streams) == 1, "one _STREAM_ID: the connection kept across restarts",
                    streams)
        for name in ("stream_reconnected", "entry_refused"):
            own = self.own_entries(name)
            self.expect(not own, f"no {name} entry", [text(e, "MESSAGE") for e in own])
        # The socket holds a fraction of a second of lines at this rate: a slow restart may make
        # the daemon wait (and say so); it loses nothing either way.
        waited = self.own_entries("journal_unavailable")
        figure("stream: waits noticed during the restarts",
               "; ".join(text(e, "MESSAGE") for e in waited) or "none")
        self.expect(self.main_pid() == pid, f"same MainPID {pid}", self.main_pid())
        self.stop()
        stopped = self.wait_own("stopped", timeout=10)
        self.expect((stopped.get("PIPEJOURNAL_LINES"), stopped.get("PIPEJOURNAL_DROPPED")) ==
                    (str(total), "0"), f"stopped entry: PIPEJOURNAL_LINES={total} "
                    "PIPEJOURNAL_DROPPED=0", text(stopped, "MESSAGE"))

# ==========================================================================================
#: A writer at a fixed rate, one write() per line "PREFIX %07d": how long each write() took is what
#: a program that logs would feel. Writes until STOPFILE exists (or LIMIT lines); prints its PID,
#: then at the end a JSON line {"lines", "max_ms", "p99_ms", "blocked"} (blocked: writes over
#: 100 ms).
WRITER_RATE = r"""
import json, os, sys, time
fifo, rate, prefix, stopfile, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
fd = os.open(fifo, os.O_WRONLY)
print(os.getpid(), flush=True)
took, t0, i = [], time.monotonic(), 0
while (limit == 0 or i < limit) and not (i % 100 == 0 and os.path.exists(stopfile)):
    pause = t0 + i / rate - time.monotonic()
    if pause > 0:
        time.sleep(pause)
    line = b"%s %07d\n" % (prefix.encode(), i)
    t = time.monotonic()
    os.write(fd, line)
    took.append(time.monotonic() - t)
    i += 1
took.sort()
print(json.dumps({"lines": i, "max_ms": took[-1] * 1000, "p99_ms": took[len(took) * 99 // 100] * 1000,
                  "blocked": sum(1 for x in took if x > 0.1)}), flush=True)
"""


class T23WritersNeverWait(JournalOutage):
    """The backlog (issue 19): journald frozen (SIGSTOP) under a writer of 5,000 lines/s. The
    writer's longest write() stays far below 100 ms (the daemon reads the FIFO into its backlog),
    STATUS= shows what waits, and after SIGCONT every line arrives once, in order. A SIGKILL of
    the daemon and a `systemctl restart` during the freeze lose nothing and double at most one
    line; the restart takes well under the stop timeout, and the new daemon is READY while
    journald is still frozen. With BacklogMax=1M writers wait in the pipe once it is full, and
    nothing is lost."""

    BACKLOG_MAX = "16M"
    RATE = 5_000
    FREEZE_SEC = 5

    def test_writers_do_not_wait_for_a_frozen_journald(self):
        self.journald_pid = None
        try:
            self._run_scenario()
        finally:
            self.c.systemctl("kill", "--signal=SIGCONT", JOURNALD, check=False)
            self.c.write_file("/run/pj-writer-stop", "")

    # -- helpers ------------------------------------------------------------------------------
    def freeze(self) -> int:
        jpid = int(self.c.prop(JOURNALD, "MainPID"))
        self.c.run("kill", "-STOP", str(jpid))
        self.journald_pid = jpid
        return jpid

    def thaw(self, jpid: int) -> None:
        self.c.run("kill", "-CONT", str(jpid))
        self.journald_pid = None

    def start_rate_writer(self, prefix: str, limit: int = 0):
        self.c.remove("/run/pj-writer-stop")
        writer = self.writer = self.c.popen(
            "python3", "-c", WRITER_RATE, FIFO, str(self.RATE), prefix, "/run/pj-writer-stop",
            str(limit), stdout=harness.subprocess.PIPE, stderr=harness.subprocess.PIPE)
        first = writer.stdout.readline().split()
        self.expect(len(first) == 1, "the writer's PID", (first, writer.poll()))
        return writer

    def stop_rate_writer(self, writer) -> dict:
        self.c.write_file("/run/pj-writer-stop", "")
        out, err = writer.communicate(timeout=30)
        self.expect(writer.returncode == 0, "the writer finished",
                    (writer.returncode, err.decode(errors="replace")))
        return json.loads(out.split(b"\n")[0])

    def numbered(self, prefix: str) -> list[int]:
        r = self.c.run("sh", "-c", f"journalctl -q -o cat PIPEJOURNAL_FIFO={FIFO} "
                       f"| sed -n 's/^{prefix} //p'", check=False)
        return [int(x) for x in r.stdout.split()]

    def expect_all_once(self, prefix: str, total: int, doubled_max: int) -> list[int]:
        """Every line 0..total-1 in the journal, in order; at most doubled_max of them twice."""
        seen = self.wait(lambda: (lambda n: n if len(set(n)) >= total else None)(
            self.numbered(prefix)), f"the {total} lines {prefix} in the journal", timeout=30)
        missing = sorted(set(range(total)) - set(seen))
        doubled = len(seen) - len(set(seen))
        self.fig(f"{prefix}: lines written / in the journal / doubled",
                 f"{total} / {len(set(seen))} / {doubled}")
        self.expect(not missing and doubled <= doubled_max and
                    sorted(set(seen)) == list(dict.fromkeys(seen)),
                    f"all {total} lines of {prefix}, in order, at most {doubled_max} twice",
                    f"missing {len(missing)} (first {missing[:5]}), doubled {doubled}")
        return seen

    # -- the scenario ---------------------------------------------------------------------------
    def _run_scenario(self):
        c = self.c
        pid, restarts = self.start_watched()

        # 1. Frozen for FREEZE_SEC under 5,000 lines/s: the writer never waits.
        jpid = self.freeze()
        writer = self.start_rate_writer("frozen")
        status = self.wait_status("Waiting for the journal", pid, "STATUS says it waits")
        time.sleep(self.FREEZE_SEC)  # the freeze itself: what is measured lasts this long
        status = c.prop(SERVICE, "StatusText")
        self.fig("STATUS while journald is frozen", status)
        m = re.search(r"; (\d+) waiting for the journal \(([^)]*)\)$", status)
        self.expect(m is not None and int(m.group(1)) > self.RATE,
                    "STATUS shows the backlog: '; N waiting for the journal (SIZE)'", status)
        self.expect_alive(pid, restarts, waiting=True)
        self.thaw(jpid)
        stats = self.stop_rate_writer(writer)
        self.fig("writer's write() while journald was frozen for "
                 f"{self.FREEZE_SEC} s at {self.RATE} lines/s",
                 f"max {stats['max_ms']:.1f} ms, p99 {stats['p99_ms']:.2f} ms, "
                 f"{stats['blocked']} over 100 ms")
        self.expect(stats["max_ms"] <= 100, "no write() waited 100 ms or more", stats)
        self.expect_all_once("frozen", stats["lines"], 0)
        self.wait_status("Forwarding", pid, "STATUS back to 'Forwarding' once drained", timeout=20)

        # 2. SIGKILL during a freeze: the backlog survives it.
        jpid = self.freeze()
        writer = self.start_rate_writer("killed")
        self.wait_status("Waiting for the journal", pid, "waiting before the kill")
        time.sleep(1)
        c.systemctl("kill", "-s", "KILL", SERVICE)
        new_pid = self.wait(lambda: (lambda p: p if p not in ("0", str(pid)) else None)(
            c.prop(SERVICE, "MainPID")), "the service restarted after the SIGKILL", timeout=10)
        time.sleep(1)  # the new daemon reads on while journald is still frozen
        self.thaw(jpid)
        stats = self.stop_rate_writer(writer)
        self.fig("writer's longest write() across a SIGKILL during the freeze",
                 f"{stats['max_ms']:.0f} ms (the FIFO had no reader for the RestartSec=1s)")
        self.expect_all_once("killed", stats["lines"], 1)
        pid = int(new_pid)
        recovered = self.wait_own("backlog_recovered", timeout=10)  # sent once journald reads
        self.fig("after the SIGKILL", text(recovered, "MESSAGE"))

        # 3. systemctl restart during a freeze: quick, and nothing lost. (The stopping daemon's own
        # entry saying what it left waits for journald, which is frozen: it may not get through,
        # as said in the README. The next daemon's entry says what it took over.)
        cursor = c.cursor()
        jpid = self.freeze()
        writer = self.start_rate_writer("restarted")
        self.wait_status("Waiting for the journal", pid, "waiting before the restart")
        time.sleep(1)
        t0 = time.monotonic()
        c.systemctl("restart", SERVICE)
        took = time.monotonic() - t0
        self.fig("systemctl restart pipejournal while journald is frozen", f"{took:.2f} s")
        self.expect(took < 5, "the restart completes well within the stop timeout (15 s)", took)
        pid = int(c.prop(SERVICE, "MainPID"))
        self.thaw(jpid)
        stats = self.stop_rate_writer(writer)
        self.expect_all_once("restarted", stats["lines"], 1)
        recovered = self.wait_own("backlog_recovered", cursor, timeout=10)
        self.fig("after the restart during the freeze", text(recovered, "MESSAGE"))

        # 4. BacklogMax=1M: once full, writers wait in the pipe; nothing is lost.
        self.use_transport(self.TRANSPORT, "BacklogMax=1M\n")
        c.systemctl("restart", SERVICE)
        pid = int(c.prop(SERVICE, "MainPID"))
        jpid = self.freeze()
        writer_pid, _ = self.start_held_writer("bounded", 30_000, 80)  # 2.4 MB
        self.wait_writer_blocked(writer_pid)
        status = self.wait_status("Waiting for the journal", pid, "STATUS says it waits")
        self.fig("STATUS with BacklogMax=1M full", status)
        m = re.search(r"waiting for the journal \(([\d.]+) (KiB|MiB)\)", status)
        self.expect(m is not None, "STATUS shows the full backlog", status)
        self.thaw(jpid)
        self.finish_writer(30_000, pid)
        want = [held_line("bounded", i, 80) for i in range(30_000)]
        got = self.wait(lambda: (lambda e: e if len(e) >= 30_000 else None)(
            [m for m in (text(e, "MESSAGE") for e in self.forwarded()) if m.startswith("bounded ")]),
            "the 30,000 lines written behind the full backlog", timeout=30)
        self.expect(got == want, "every line once, in order", f"{len(got)} lines")


class T23sWritersNeverWaitStream(T23WritersNeverWait):
    """Scenario 23 over a journald stream connection: the same backlog in front of the socket."""

    TRANSPORT = "stream"


# ==========================================================================================
# One FIFO per application, owned by systemd (issue 11)
# ==========================================================================================
#: A writer that holds the FIFO open and writes numbered lines "PREFIX %09d" (padded with '.' to
#: WIDTH bytes with the newline; 0: no padding) as fast as the pipe takes them: writes of whole
#: lines up to 4 KiB, each atomic; a line longer than PIPE_BUF is a write of its own, not atomic.
#: It stops after LIMIT lines (0: none) or once STOPFILE exists. SIGPIPE is ignored, so a write
#: into a FIFO nobody reads fails with EPIPE: counted, and what is left of the write is tried again
#: 1 ms later, so every line is written exactly once. Prints its PID, at the end "LINES EPIPES".
#: argv: FIFO PREFIX WIDTH STOPFILE LIMIT
CONTINUOUS_WRITER = r"""
import os, signal, sys, time
fifo, prefix, width, stopfile, limit = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), \
    sys.argv[4], int(sys.argv[5])
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
fd = os.open(fifo, os.O_WRONLY)
print(os.getpid(), flush=True)

def line(i):
    return (b"%s %09d" % (prefix, i)).ljust(width - 1, b".") + b"\n"

per_write = max(1, 4096 // len(line(0)))
n = epipe = 0
while not os.path.exists(stopfile) and (limit == 0 or n < limit):
    k = per_write if limit == 0 else min(per_write, limit - n)
    view = memoryview(b"".join(line(n + i) for i in range(k)))
    while view:
        try:
            view = view[os.write(fd, view):]
        except BrokenPipeError:
            epipe += 1
            time.sleep(0.001)
    n += k
print(n, epipe, flush=True)
"""

#: Prints up to N bytes from the head of the FIFO's pipe without taking them (tee(2) into a pipe
#: of our own): what the next reader will get first. argv: FIFO N
PIPE_HEAD = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.tee.restype = ctypes.c_ssize_t
libc.tee.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_uint]
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
r, w = os.pipe()
n = libc.tee(fd, w, int(sys.argv[2]), 2)  # SPLICE_F_NONBLOCK
if n < 0 and ctypes.get_errno() != 11:  # EAGAIN: empty
    raise OSError(ctypes.get_errno(), "tee")
sys.stdout.buffer.write(os.read(r, n) if n > 0 else b"")
"""

#: `echo LINE >> FIFO` per line, as a shell script would, with SIGPIPE ignored: each line opens
#: the path anew (a missing FIFO would make a regular file). Lines "PREFIX %09d"; a line echo
#: could not write is counted and written again. Prints "LINES FAILURES" once STOPFILE exists.
#: argv: FIFO STOPFILE PREFIX
APPENDER = r"""
trap '' PIPE
i=0; failed=0
while [ ! -e "$2" ]; do
    n=$((1000000000 + i))
    if echo "$3 ${n#1}" >> "$1" 2>/dev/null; then i=$((i + 1)); else failed=$((failed + 1)); fi
done
echo "$i $failed"
"""


def numbered(prefix: str, i: int, width: int = 0) -> str:
    """Line ``i`` of CONTINUOUS_WRITER (or APPENDER, prefix 'ap'), without the newline."""
    return f"{prefix} {i:09d}".ljust(width - 1, ".")


class ContinuousWriter:
    """CONTINUOUS_WRITER running in the container; ``finish()`` stops it and returns
    (lines written, EPIPE errors)."""

    def __init__(self, scenario: "Scenario", fifo: str, prefix: str, width: int = 0,
                 limit: int = 0):
        self.scenario, self.fifo, self.prefix, self.width = scenario, fifo, prefix, width
        self.stopfile = f"/run/pj-stop-{prefix}"
        scenario.c.remove(self.stopfile)
        self.proc = scenario.c.popen("python3", "-c", CONTINUOUS_WRITER, fifo, prefix, str(width),
                                     self.stopfile, str(limit), stdout=harness.subprocess.PIPE,
                                     stderr=harness.subprocess.PIPE)
        first = self.proc.stdout.readline().split()
        if len(first) != 1:
            scenario.fail(f"\nexpected: the writer's PID\nseen:     {first!r}, exit "
                          f"{self.proc.poll()}, {self.proc.stderr.read() if self.proc.poll() else ''}")
        self.pid = int(first[0])

    def finish(self, timeout: float = 30) -> tuple[int, int]:
        if self.proc.poll() is None:
            self.scenario.c.write_file(self.stopfile, "")
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except harness.subprocess.TimeoutExpired:
            self.scenario.fail(f"\nexpected: writer {self.pid} ({self.prefix}) finishes\n"
                               f"seen:     still running after {timeout} s" +
                               self.scenario.explain())
        fields = out.split()
        self.scenario.expect(self.proc.returncode == 0 and len(fields) == 2,
                             f"writer {self.prefix} exits 0 printing 'LINES EPIPES'",
                             (self.proc.returncode, out, err))
        return int(fields[0]), int(fields[1])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Ledger:
    """Which numbered lines of ``prefix`` are in the journal for ``fifo``, once each, in order;
    ``foreign`` are forwarded entries that are none of them (a piece of a cut line)."""

    def __init__(self, scenario: "Scenario", fifo: str, prefix: str, width: int, total: int,
                 cursor: str | None = None):
        """Entries from ``cursor`` on (see Container.cursor(); taken before the writer started,
        when other writers used the FIFO before), else all."""
        c = scenario.c
        c.run("journalctl", "--sync")
        padding = max(0, width - 1 - len(numbered(prefix, 0)))
        line_re = rf"{re.escape(prefix)} (\d{{9}})" + (rf"\.{{{padding}}}" if padding else "")
        since = [f"--cursor={cursor}"] if cursor else []
        out = c.run("journalctl", "-q", "-o", "cat", *since, f"PIPEJOURNAL_FIFO={fifo}",
                    timeout=180).stdout
        self.numbers = [int(m.group(1)) for m in map(re.compile(line_re).fullmatch,
                                                     out.splitlines()) if m]
        # Everything else (PCRE2 in journalctl), with CODE_FILE to tell the daemon's own apart.
        others = c.journal(f"PIPEJOURNAL_FIFO={fifo}", timeout=120, after_cursor=cursor,
                           args=("--case-sensitive=yes", f"--grep=^(?!{line_re}$)",
                                 "--output-fields=MESSAGE,CODE_FILE"))
        self.foreign = [field(e, "MESSAGE") for e in others if "CODE_FILE" not in e]
        seen = set(self.numbers)
        self.total = total
        self.missing = [i for i in range(total) if i not in seen]
        self.duplicates = len(self.numbers) - len(seen)
        self.in_order = self.numbers == sorted(self.numbers)
        self.beyond = sorted(seen - set(range(total)))

    @staticmethod
    def runs(numbers: list[int]) -> list[tuple[int, int]]:
        """[first, last] of each run of consecutive numbers (for messages)."""
        out = []
        for n in numbers:
            if out and n == out[-1][1] + 1:
                out[-1] = (out[-1][0], n)
            else:
                out.append((n, n))
        return out

    def describe(self) -> str:
        return (f"{len(self.numbers)} of {self.total} lines, missing {len(self.missing)} "
                f"{Ledger.runs(self.missing)[:5]}, {self.duplicates} doubled, in order: "
                f"{self.in_order}, {len(self.foreign)} foreign "
                f"{[f[:40] for f in self.foreign[:3]]}, beyond the end: {self.beyond[:3]}")


class SocketFirst(Scenario):
    """Helpers for the scenarios of issue 11: a unit's MainPID, the lines a daemon forwarded,
    what waits in the pipe."""

    def pid(self, unit: str) -> int:
        return int(self.c.prop(unit, "MainPID"))

    def last_number(self, pid: int, fifo: str, prefix: str) -> int | None:
        """The number of the last line of ``prefix`` that daemon ``pid`` forwarded, if any."""
        out = self.c.run("journalctl", "-q", "-o", "cat", "-n", "20", f"_PID={pid}",
                         f"PIPEJOURNAL_FIFO={fifo}").stdout.splitlines()
        for line in reversed(out):
            m = re.fullmatch(rf"{re.escape(prefix)} (\d{{9}})\.*", line)
            if m:
                return int(m.group(1))
        return None

    def wait_forwarding(self, pid: int, fifo: str, prefix: str, units: tuple) -> int:
        """Until daemon ``pid`` has forwarded a line of the writer; returns its number."""
        return self.wait(lambda: self.last_number(pid, fifo, prefix),
                         f"daemon {pid} to forward the writer's lines", units=units)

    def stopped_state(self, pid: int) -> bool:
        r = self.c.run("sh", "-c", f"grep '^State:' /proc/{pid}/status", check=False)
        return r.stdout.split(":", 1)[-1].strip().startswith("T")

    def pipe_head(self, fifo: str) -> bytes:
        """The first bytes waiting in the pipe (polls until there are some)."""
        return self.wait(lambda: self.c.run("python3", "-c", PIPE_HEAD, fifo, "256",
                                            binary=True).stdout,
                         f"bytes waiting in {fifo}")

    def wait_restarted(self, unit: str, old_pid: int, restarts: int, timeout: float,
                       units: tuple) -> dict:
        """Until ``unit`` runs again: a new MainPID, active (running), NRestarts grown by one."""
        def back():
            q = self.c.show(unit, "NRestarts", "MainPID", "ActiveState", "SubState")
            ok = (int(q["NRestarts"]) == restarts + 1 and int(q["MainPID"]) not in (0, old_pid)
                  and (q["ActiveState"], q["SubState"]) == ("active", "running"))
            return q if ok else None
        return self.wait(back, f"{unit} back: a new MainPID, active, NRestarts={restarts + 1}",
                         timeout=timeout, units=units)



class T14Instances(SocketFirst):
    """Three applications, three instances at once: `systemctl enable --now pipejournal@NAME.socket`
    makes /run/pipejournal/NAME (0620 pipejournal:pipejournal) and the first write starts the
    instance; lines written in parallel each land once, under the instance's identifier, FIFO and
    unit, with its own configuration (pipejournal.conf for all, NAME.conf over it); `systemctl
    status` shows each instance's line; reload re-reads both files. Names from systemd-escape:
    the identifier is the name as given ("my-app"), or the escaped name when that one cannot be an
    identifier ("legacy\x20app": an identifier has no blanks)."""

    LINES = 10_000  # 170 KB each: more than two pipes' worth, so the writers wait on their daemons

    def test_three_instances_in_parallel_each_with_its_own_config(self):
        c = self.c
        t_scenario = time.monotonic()
        my_app = c.run("systemd-escape", "my-app").stdout.strip()
        legacy = c.run("systemd-escape", "legacy app").stdout.strip()
        self.assertEqual((my_app, legacy), ("my\\x2dapp", "legacy\\x20app"))
        # The main file applies to every instance, but not its per-FIFO keys (SyslogIdentifier=).
        self.write_config("[PipeJournal]\nDefaultPriority=notice\nTickSec=0.5\n"
                          "SyslogIdentifier=not-for-instances\n")
        c.write_file(instance("db")[3], "[PipeJournal]\nDefaultPriority=err\n")
        c.write_file(instance(my_app)[3], "[PipeJournal]\nDefaultPriority=warning\n")
        # name → (identifier, PRIORITY of a line without prefix, writer's prefix)
        apps = {"app": ("app", "5", "par-app"), "db": ("db", "3", "par-db"),
                my_app: ("my-app", "4", "par-my")}

        for name in (*apps, legacy):
            service, socket, fifo, _ = instance(name)
            c.systemctl("enable", "--now", socket)
            got = (c.run("systemctl", "is-enabled", socket, check=False).stdout.strip(),
                   c.run("stat", "-c", "%F %a %U:%G", fifo, check=False).stdout.strip(),
                   c.prop(service, "ActiveState"))
            self.expect(got == ("enabled", "fifo 620 pipejournal:pipejournal", "inactive"),
                        f"{socket} enabled, {fifo} a FIFO 0620 pipejournal:pipejournal, "
                        f"{service} not started yet", got, service, socket)
        for name in apps:
            service, socket, fifo, _ = instance(name)
            t0 = time.monotonic()
            c.write_file(fifo, f"wake {name}\n")
            self.wait(lambda: c.prop(service, "ActiveState") == "active",
                      f"the first write to start {service}", units=(service, socket))
            if name == "app":
                figure("instance: first write → active", f"{(time.monotonic() - t0) * 1000:.0f} ms")

        # -- three writers at once --------------------------------------------------------------
        writers = {name: c.popen("python3", "-c", WRITER_HELD, instance(name)[2], str(self.LINES),
                                 prefix, "0", stdout=harness.subprocess.PIPE,
                                 stderr=harness.subprocess.PIPE)
                   for name, (_, _, prefix) in apps.items()}
        t0 = time.monotonic()
        for name, w in writers.items():
            out, err = w.communicate(timeout=60)
            self.expect(w.returncode == 0 and out.split()[-1:] == [str(self.LINES).encode()],
                        f"writer for {name} wrote {self.LINES} lines", (w.returncode, out, err))
        figure(f"3 instances × {self.LINES} lines in parallel: written",
               f"{time.monotonic() - t0:.2f} s")

        for name, (identifier, priority, prefix) in apps.items():
            service, socket, fifo, _ = instance(name)
            want = [f"wake {name}"] + [held_line(prefix, i) for i in range(self.LINES)]

            def count():
                r = c.run("sh", "-c", f"journalctl -q -o cat PIPEJOURNAL_FIFO='{fifo}' | "
                          f"grep -c '^{prefix} '", check=False)
                return int(r.stdout.strip() or 0) >= self.LINES
            self.wait(count, f"{self.LINES} lines in the journal for {fifo}", timeout=60,
                      units=(service, socket))
            entries = [e for e in c.journal(f"PIPEJOURNAL_FIFO={fifo}") if "CODE_FILE" not in e]
            msgs = [text(e, "MESSAGE") for e in entries]
            if msgs != want:
                wanted = set(want)
                self.expect(False, f"{fifo}: 'wake {name}' and {prefix}'s {self.LINES} lines, "
                            "each once, in order, nothing else",
                            f"{len(msgs)} entries; missing {len(wanted - set(msgs))}, foreign "
                            f"{[m for m in msgs if m not in wanted][:3]}", service, socket)
            wrong = [(text(e, "MESSAGE"), {k: e.get(k) for k in (
                "SYSLOG_IDENTIFIER", "PRIORITY", "_SYSTEMD_UNIT", "PIPEJOURNAL_FIFO")})
                for e in entries
                if (e.get("SYSLOG_IDENTIFIER"), e.get("PRIORITY"), e.get("_SYSTEMD_UNIT"),
                    e.get("PIPEJOURNAL_FIFO")) != (identifier, priority, service, fifo)
                or user_fields(e) != FORWARDED_FIELDS]
            self.expect(not wrong, f"every entry: SYSLOG_IDENTIFIER={identifier} "
                        f"PRIORITY={priority} _SYSTEMD_UNIT={service} PIPEJOURNAL_FIFO={fifo}, "
                        f"fields {sorted(FORWARDED_FIELDS)}", wrong[:3], service, socket)

            # systemctl status shows this instance's own line. systemd 252 drops a backslash
            # from notify messages, so an escaped name's path shows without it.
            shown_fifo = re.escape(fifo).replace(r"\\", r"\\?")
            status_re = rf"Forwarding {shown_fifo}: {self.LINES + 1} lines \(.*\), 0 dropped"
            status = self.wait(lambda: (lambda t: t if re.fullmatch(status_re, t) else None)(
                c.prop(service, "StatusText")), f"StatusText of {service}: {status_re}",
                units=(service, socket))
            shown = c.status(service)
            self.expect(f'Status: "{status}"' in shown,
                        f"systemctl status {service} shows Status: \"{status}\"", shown)
            figure(f"systemctl status {service}", status)

        # -- reload re-reads both files -------------------------------------------------------
        self.write_config("[PipeJournal]\nDefaultPriority=info\nTickSec=0.5\n")
        c.write_file(instance("db")[3], "[PipeJournal]\nDefaultPriority=crit\n")
        for name, priority in (("app", "6"), ("db", "2")):
            service, socket, fifo, _ = instance(name)
            cursor = c.cursor()
            c.systemctl("reload", service)
            self.wait(lambda: [e for e in self.own_entries("reloaded", cursor)
                               if e.get("_SYSTEMD_UNIT") == service],
                      f"{service} reloaded", units=(service, socket))
            c.write_file(fifo, f"after reload {name}\n")
            e = self.wait(lambda: c.journal(f"MESSAGE=after reload {name}"),
                          f"the line after the reload of {service}", units=(service, socket))[-1]
            self.expect(e.get("PRIORITY") == priority, f"{service}: PRIORITY={priority} after "
                        "the reload (pipejournal.conf now info, db.conf crit)", e.get("PRIORITY"),
                        service, socket)

        # -- a name that cannot be an identifier as given -------------------------------------
        service, socket, fifo, _ = instance(legacy)
        c.write_file(fifo, "from the legacy app\n")
        e = self.wait(lambda: c.journal("MESSAGE=from the legacy app"),
                      f"the line through {fifo}", units=(service, socket))[-1]
        self.expect((e.get("SYSLOG_IDENTIFIER"), e.get("PIPEJOURNAL_FIFO"), e.get("_SYSTEMD_UNIT"))
                    == (legacy, fifo, service),
                    f"SYSLOG_IDENTIFIER={legacy} (the escaped name: 'legacy app' has a blank)",
                    (e.get("SYSLOG_IDENTIFIER"), e.get("PIPEJOURNAL_FIFO"), e.get("_SYSTEMD_UNIT")),
                    service, socket)
        figure("identifiers of systemd-escape'd names",
               f"{my_app} → {apps[my_app][0]}, {legacy} → {e.get('SYSLOG_IDENTIFIER')}")
        figure("scenario 14 (without boot)", f"{time.monotonic() - t_scenario:.1f} s")



class T17Findings(SocketFirst):
    """What abuse testing found with the old units, with today's: `systemctl enable --now
    pipejournal` alone gives the socket-first set-up; a writer appending per line (`echo >>`,
    SIGPIPE ignored) through restarts makes no regular file and loses nothing; after `kill -9`
    and `systemctl stop` the FIFO is still the socket's and a write starts the service again;
    `systemctl restart pipejournal.socket` while the service runs leaves both units running on the
    same FIFO. What that costs writers is counted: a writer holding the FIFO loses nothing but
    sees EPIPE until the socket listens again; one that opens the FIFO per line loses what was in
    the pipe when PID 1 closed it."""

    RESTARTS = 3
    #: The holder writes unpaced through three socket restarts: over a million lines, which the
    #: volatile journal must keep (its default, a tenth of /run, rotated the first 271,765 away).
    journald_conf = {"RuntimeMaxUse": "3G"}

    def start_appender(self, prefix: str) -> tuple[harness.subprocess.Popen, str]:
        stopfile = f"/run/pj-stop-{prefix}"
        self.c.remove(stopfile)
        return self.c.popen("sh", "-c", APPENDER, "sh", FIFO, stopfile, prefix,
                            stdout=harness.subprocess.PIPE, stderr=harness.subprocess.PIPE), stopfile

    def finish_appender(self, proc, stopfile: str) -> tuple[int, int]:
        self.c.write_file(stopfile, "")
        out, err = proc.communicate(timeout=30)
        self.expect(proc.returncode == 0 and len(out.split()) == 2,
                    "the appender exits 0 printing 'LINES FAILURES'", (proc.returncode, out, err))
        lines, failed = map(int, out.split())
        return lines, failed

    def fifo_stat(self) -> str:
        return self.c.run("stat", "-c", "%F %a %U:%G %i", FIFO, check=False).stdout.strip()

    def test_findings_of_the_old_units_are_gone(self):
        c = self.c
        t_scenario = time.monotonic()
        # -- systemctl enable --now pipejournal: the socket comes with it ----------------------
        c.systemctl("enable", "--now", SERVICE)
        got = (c.run("systemctl", "is-enabled", SERVICE, SOCKET, check=False).stdout.split(),
               c.run("systemctl", "is-active", SERVICE, SOCKET, check=False).stdout.split(),
               self.fifo_stat().split()[:3])
        self.expect(got == (["enabled", "enabled"], ["active", "active"],
                            ["fifo", "620", "pipejournal:pipejournal"]),
                    f"{SERVICE} and {SOCKET} enabled (Also=) and active, {FIFO} a FIFO 0620 "
                    "pipejournal:pipejournal", got)
        adopted = self.wait_own("fifo_adopted")
        self.expect("passed by systemd" in text(adopted, "MESSAGE"),
                    "the daemon reads the FIFO the socket passed", text(adopted, "MESSAGE"))
        fifo = self.fifo_stat()

        # -- echo >> FIFO through restarts: no regular file, nothing lost ----------------------
        proc, stopfile = self.start_appender("ap")
        for _ in range(self.RESTARTS):
            self.wait_forwarding(self.pid(SERVICE), FIFO, "ap", (SERVICE, SOCKET))
            c.systemctl("restart", SERVICE)
        self.wait_forwarding(self.pid(SERVICE), FIFO, "ap", (SERVICE, SOCKET))
        lines, failed = self.finish_appender(proc, stopfile)
        self.wait(lambda: self.last_number(self.pid(SERVICE), FIFO, "ap") == lines - 1,
                  "the appender's last line in the journal")
        ledger = Ledger(self, FIFO, "ap", 0, lines)
        figure("echo >> FIFO through 3 restarts: lines / failed echos",
               f"{lines} / {failed}; {ledger.describe()}")
        self.expect((failed, ledger.missing, ledger.duplicates, ledger.foreign, self.fifo_stat())
                    == (0, [], 0, [], fifo),
                    "every echo succeeds, every line once, the same FIFO at the path",
                    (failed, ledger.describe(), self.fifo_stat()))

        # -- kill -9, then stop: the FIFO stays the socket's, a write starts the service -------
        pid, restarts = self.pid(SERVICE), int(c.prop(SERVICE, "NRestarts"))
        c.run("kill", "-KILL", str(pid))
        self.wait_restarted(SERVICE, pid, restarts, 10, (SERVICE, SOCKET))
        c.systemctl("stop", SERVICE)
        self.expect((self.fifo_stat(), c.prop(SOCKET, "ActiveState")) == (fifo, "active"),
                    "after kill -9 and stop: the same FIFO, the socket listening",
                    (self.fifo_stat(), c.prop(SOCKET, "ActiveState")))
        c.run("sh", "-c", f"echo 'after kill and stop' >> {FIFO}", timeout=10)  # never blocks
        self.wait(lambda: c.prop(SERVICE, "ActiveState") == "active",
                  "the write to start the service again")
        self.wait_forwarded(1, "MESSAGE=after kill and stop")
        said = [text(e, "MESSAGE") for e in self.own_entries("fifo_adopted")]
        made = self.own_entries("fifo_created") + self.own_entries("fifo_removed")
        self.expect(all("passed by systemd" in m for m in said) and not made,
                    "every start used the FIFO systemd passed; the daemon created and removed "
                    "none", (said, [text(e, "MESSAGE") for e in made]))

        # -- systemctl restart pipejournal.socket while the service runs -----------------------
        for who in ("appender", "holder"):
            cursor = c.cursor()
            if who == "appender":
                proc, stopfile = self.start_appender("sa")
                prefix = "sa"
            else:
                writer = ContinuousWriter(self, FIFO, "sh")
                prefix = "sh"
            took = []
            for _ in range(self.RESTARTS):
                self.wait(lambda: c.prop(SERVICE, "ActiveState") == "active", "service active")
                self.wait_forwarding(self.pid(SERVICE), FIFO, prefix, (SERVICE, SOCKET))
                t0 = time.monotonic()
                r = c.systemctl("restart", SOCKET, check=False)
                took.append(time.monotonic() - t0)
                self.expect(r.returncode == 0, f"systemctl restart {SOCKET} succeeds", r.stderr)
            self.wait(lambda: c.prop(SERVICE, "ActiveState") == "active", "service active")
            self.wait_forwarding(self.pid(SERVICE), FIFO, prefix, (SERVICE, SOCKET))
            if who == "appender":
                lines, failed = self.finish_appender(proc, stopfile)
            else:
                lines, failed = writer.finish()
            self.wait(lambda: self.last_number(self.pid(SERVICE), FIFO, prefix) == lines - 1,
                      f"the {who}'s last line in the journal")
            ledger = Ledger(self, FIFO, prefix, 0, lines, cursor)
            figure(f"socket restart ×{self.RESTARTS} with a writer that "
                   f"{'opens the FIFO per line' if who == 'appender' else 'holds the FIFO'}",
                   f"{lines} lines, {len(ledger.missing)} lost {Ledger.runs(ledger.missing)}, "
                   f"{failed} {'failed echos' if who == 'appender' else 'EPIPE'}; restart "
                   + ", ".join(f"{t:.2f}" for t in took) + " s")
            states = c.run("systemctl", "is-active", SERVICE, SOCKET, check=False).stdout.split()
            failed_units = c.run("systemctl", "list-units", "--failed", "--plain", "--no-legend",
                                 "pipejournal*", check=False).stdout.strip()
            self.expect((states, failed_units, self.fifo_stat()) == (["active", "active"], "",
                                                                     fifo),
                        "both units active, none failed, the same FIFO at the path",
                        (states, failed_units, self.fifo_stat()))
            self.expect((ledger.duplicates, ledger.foreign, ledger.in_order) == (0, [], True),
                        "no line doubled or cut", ledger.describe())
            if who == "holder":
                self.expect(ledger.missing == [], "a writer holding the FIFO loses no line",
                            ledger.describe())
            else:
                # What the pipe held when PID 1 closed it, at most: a pipe's worth a restart.
                pipe = int(c.run("python3", "-c", "import fcntl, os, sys; print(fcntl.fcntl("
                                 "os.open(sys.argv[1], os.O_RDWR | os.O_NONBLOCK), "
                                 "fcntl.F_GETPIPE_SZ))", FIFO).stdout)
                most = self.RESTARTS * (pipe // len(numbered(prefix, 0) + "\n"))
                self.expect(len(ledger.missing) <= most, f"at most {most} lines lost (a pipe's "
                            "worth each restart)", ledger.describe())

        # -- disable --now both: the FIFO stays, nobody reads it, a writer waits ---------------
        c.systemctl("disable", "--now", SERVICE, SOCKET)
        got = (c.run("systemctl", "is-active", SERVICE, SOCKET, check=False).stdout.split(),
               c.run("systemctl", "is-enabled", SERVICE, SOCKET, check=False).stdout.split(),
               self.fifo_stat())
        self.expect(got == (["inactive", "inactive"], ["disabled", "disabled"], fifo),
                    "both units inactive and disabled, the same FIFO left at the path", got)
        r = c.run("timeout", "1", "sh", "-c", f"echo nobody reads this >> {FIFO}", check=False)
        self.expect(r.returncode == 124, "a writer waits for a reader (timeout 1 s kills it)",
                    (r.returncode, r.stderr))
        figure("scenario 17 (without boot)", f"{time.monotonic() - t_scenario:.1f} s")



class T18LongLinesThroughRestarts(SocketFirst):
    """Lines of 30,000 bytes (more than PIPE_BUF: each write() may be taken in pieces) written
    as fast as the pipe takes them while the service restarts: a stop that read the head of a line
    waits (up to 0.5 s) for its rest, so no line is cut in two across a restart. Counted, not just
    sampled: every line once and whole, or the number cut is reported."""

    WIDTH = 30_000
    RESTARTS = 10

    def test_lines_longer_than_pipe_buf_are_not_cut_by_restarts(self):
        c = self.c
        t_scenario = time.monotonic()
        c.systemctl("start", SOCKET)
        writer = ContinuousWriter(self, FIFO, "long", self.WIDTH)
        try:
            took = []
            for _ in range(self.RESTARTS):
                self.wait_forwarding(self.wait(lambda: self.pid(SERVICE), "a MainPID"), FIFO,
                                     "long", (SERVICE, SOCKET))
                t0 = time.monotonic()
                c.systemctl("restart", SERVICE)
                took.append(time.monotonic() - t0)
            self.wait_forwarding(self.pid(SERVICE), FIFO, "long", (SERVICE, SOCKET))
            total, epipe = writer.finish()
        finally:
            writer.kill()
        self.wait(lambda: self.last_number(self.pid(SERVICE), FIFO, "long") == total - 1,
                  f"the last line ({total - 1}) in the journal", timeout=30)
        ledger = Ledger(self, FIFO, "long", self.WIDTH, total)
        cut = sorted(set(ledger.missing))
        figure("30,000-byte lines through restarts",
               f"{total} lines, {len(cut)} cut in two, {len(ledger.foreign)} pieces, {epipe} "
               "EPIPE; restart " + ", ".join(f"{t:.2f}" for t in took) + " s")
        self.expect((epipe, ledger.missing, ledger.foreign, ledger.duplicates, ledger.in_order)
                    == (0, [], [], 0, True),
                    f"all {total} lines whole, once, in order; no EPIPE", ledger.describe())
        figure("scenario 18 (without boot)", f"{time.monotonic() - t_scenario:.1f} s")



#: pipejournal.service as installed before the socket came first (the parts that matter here):
#: the daemon made the FIFO in its RuntimeDirectory= and removed it on stop.
OLD_SERVICE = """[Unit]
Description=pipejournal as installed before the socket came first
[Service]
Type=notify
NotifyAccess=main
ExecStart=/usr/bin/pipejournal
Restart=on-failure
RestartPreventExitStatus=2 6
RuntimeDirectory=pipejournal
RuntimeDirectoryPreserve=yes
User=pipejournal
Group=pipejournal
"""


class T19Upgrade(SocketFirst):
    """An install of the old layout (the daemon made the FIFO, 0620 pipejournal:pipejournal)
    upgraded as a package does it (new units, daemon-reload, restart): the socket takes over with
    the same owner and mode; a FIFO the old daemon left behind (kill -9, then adopted as
    'existing' by the next start) is taken as it is, the same inode; afterwards the daemon
    uses the FIFO systemd passes, and `enable` brings the socket."""

    OLD_UNIT = "/etc/systemd/system/pipejournal.service"

    def fifo_stat(self) -> str:
        return self.c.run("stat", "-c", "%F %a %U:%G %i", FIFO, check=False).stdout.strip()

    def old_layout(self, orphan: bool) -> str:
        """Run the old unit until it has made the FIFO (and, with ``orphan``, was killed and
        restarted so that the FIFO is left to nobody); returns the FIFO's stat."""
        c = self.c
        c.write_file(self.OLD_UNIT, OLD_SERVICE)
        c.daemon_reload()
        cursor = c.cursor()
        self.start()
        self.wait_own("fifo_created", cursor)
        if orphan:
            pid, restarts = self.pid(SERVICE), int(c.prop(SERVICE, "NRestarts"))
            c.run("kill", "-KILL", str(pid))
            self.wait_restarted(SERVICE, pid, restarts, 10, (SERVICE,))
            said = text(self.wait_own("fifo_adopted", cursor), "MESSAGE")
            self.expect("existing" in said, "the next start adopts the FIFO as existing", said)
        return self.fifo_stat()

    def upgrade(self) -> None:
        c = self.c
        c.remove(self.OLD_UNIT)
        c.daemon_reload()
        t0 = time.monotonic()
        c.systemctl("restart", SERVICE)  # what the package's postinst does
        figure("upgrade: systemctl restart", f"{(time.monotonic() - t0) * 1000:.0f} ms")

    def check_upgraded(self, before: str, same_inode: bool, cursor: str) -> None:
        c = self.c
        after = self.fifo_stat()
        states = c.run("systemctl", "is-active", SERVICE, SOCKET, check=False).stdout.split()
        keep = 4 if same_inode else 3
        self.expect(after.split()[:keep] == before.split()[:keep] and states == ["active"] * 2,
                    f"service and socket active; the FIFO's type, mode, owner"
                    f"{' and inode' if same_inode else ''} as before ({before})",
                    (after, states))
        said = text(self.wait_own("fifo_adopted", cursor), "MESSAGE")
        self.expect("passed by systemd" in said, "the new daemon reads the FIFO systemd passed",
                    said)
        c.write_file(FIFO, "after the upgrade\n")
        self.wait_forwarded(1, "MESSAGE=after the upgrade", cursor=cursor)

    def test_upgrade_from_the_daemon_made_fifo(self):
        c = self.c
        # The old daemon stops and removes its FIFO; the socket makes one like it.
        before = self.old_layout(orphan=False)
        self.expect(before.split()[:3] == ["fifo", "620", "pipejournal:pipejournal"],
                    "the old daemon's FIFO: 0620 pipejournal:pipejournal", before)
        cursor = c.cursor()
        self.upgrade()
        self.check_upgraded(before, False, cursor)
        c.systemctl("enable", SERVICE)
        enabled = c.run("systemctl", "is-enabled", SOCKET, check=False).stdout.strip()
        self.expect(enabled == "enabled", f"`systemctl enable pipejournal` enables {SOCKET}",
                    enabled)
        figure("/run/pipejournal after the upgrade (RuntimeDirectory= made it)",
               c.run("stat", "-c", "%a %U:%G", "/run/pipejournal").stdout.strip())

        # A FIFO the old daemon left to nobody: the socket takes that very FIFO.
        c.systemctl("stop", SERVICE, SOCKET)
        c.remove(FIFO)
        before = self.old_layout(orphan=True)
        cursor = c.cursor()
        self.upgrade()
        self.check_upgraded(before, True, cursor)
        figure("upgrade over an orphaned FIFO", f"{before} → {self.fifo_stat()}")


class HeldWriterThroughRestarts(SocketFirst):
    """A writer holds the FIFO open and writes as fast as it can while the service is restarted
    five times, killed with SIGKILL, and killed by the watchdog after SIGSTOP. It never sees EPIPE;
    restarts lose and double nothing; a kill loses nothing either (what the daemon had read and not
    sent is in its backlog, which the next daemon takes over) and doubles at most one line, and no
    line is ever cut. BacklogMax=1M: the writer is faster than journald, so the backlog is full at
    each kill and each stop, and a stop drains it in about a second. Subclasses name the unit."""

    NAME: str | None = None  # None: pipejournal.service; else the template instance
    PREFIX = "held"
    #: An unpaced writer for a minute gives more than a million lines: the volatile journal must
    #: keep them all (its default, a tenth of /run, would rotate the first ones away).
    journald_conf = {"RuntimeMaxUse": "3G"}
    RESTARTS = 5
    WATCHDOG_SEC = 3

    def run_scenario(self):
        c = self.c
        if self.NAME is None:
            unit, socket, fifo = SERVICE, SOCKET, FIFO
        else:
            unit, socket, fifo, _ = instance(self.NAME)
        units = (unit, socket)
        who = unit
        t_scenario = time.monotonic()
        self.write_config("[PipeJournal]\nBacklogMax=1M\n")
        c.systemctl("start", socket)
        fifo_before = c.run("stat", "-c", "%F %a %U:%G %i", fifo).stdout.strip()
        socket_since = c.prop(socket, "ActiveEnterTimestampMonotonic")
        writer = ContinuousWriter(self, fifo, self.PREFIX)
        try:
            self.wait(lambda: c.prop(unit, "ActiveState") == "active",
                      "the writer's first lines to start the service", units=units)

            # -- systemctl restart, five times --------------------------------------------------
            took = []
            for _ in range(self.RESTARTS):
                pid = self.pid(unit)
                self.wait_forwarding(pid, fifo, self.PREFIX, units)
                t0 = time.monotonic()
                r = c.systemctl("restart", unit, check=False)
                took.append(time.monotonic() - t0)
                self.expect(r.returncode == 0, "systemctl restart succeeds", r.stderr, *units)
                self.expect(self.pid(unit) not in (0, pid), "a new MainPID",
                            (pid, self.pid(unit)), *units)
            figure(f"{who}: systemctl restart under an unpaced writer",
                   ", ".join(f"{t:.2f}" for t in took) + " s")

            # -- SIGKILL, and the watchdog after SIGSTOP -----------------------------------------
            kills = []  # (how, pid, last line it forwarded is looked up later, pipe head)
            for how in ("SIGKILL", "watchdog"):
                if how == "watchdog":
                    c.drop_in(unit, "50-watchdog", f"[Service]\nWatchdogSec={self.WATCHDOG_SEC}s\n")
                    c.systemctl("restart", unit)  # WatchdogSec= applies from the next start
                pid = self.pid(unit)
                restarts = int(c.prop(unit, "NRestarts"))
                self.wait_forwarding(pid, fifo, self.PREFIX, units)
                c.run("kill", "-STOP", str(pid))
                self.wait(lambda: self.stopped_state(pid), f"daemon {pid} stopped (State: T)",
                          timeout=5, units=units)
                head = self.pipe_head(fifo)  # stays the head: nobody reads while it is stopped
                t0 = time.monotonic()
                if how == "SIGKILL":
                    c.run("kill", "-KILL", str(pid))
                self.wait_restarted(unit, pid, restarts, self.WATCHDOG_SEC + 10, units)
                back = time.monotonic() - t0
                kills.append((how, pid, head))
                if how == "SIGKILL":
                    figure(f"{who}: SIGKILL → new MainPID active", f"{back:.2f} s")
                    self.expect(back < 5, "the unit back within seconds", f"{back:.2f} s", *units)
                else:
                    figure(f"{who}: SIGSTOP → watchdog kill → new MainPID active",
                           f"{back:.2f} s (WatchdogSec={self.WATCHDOG_SEC}s)")
                    log = c.journal_text("-u", unit, lines=None)
                    self.expect("Watchdog timeout" in log, "systemd logs 'Watchdog timeout'",
                                log[-2000:], *units)
                    c.remove_drop_in(unit, "50-watchdog")
            pid = self.pid(unit)
            self.wait_forwarding(pid, fifo, self.PREFIX, units)
            total, epipe = writer.finish()
        finally:
            writer.kill()

        # -- every line accounted for ----------------------------------------------------------
        self.wait(lambda: self.last_number(pid, fifo, self.PREFIX) == total - 1,
                  f"the last line ({total - 1}) in the journal", timeout=60, units=units)
        ledger = Ledger(self, fifo, self.PREFIX, 0, total)
        taken_over = [text(e, "MESSAGE") for e in self.own_entries("backlog_recovered")]
        figure(f"{who}: backlogs taken over after the kills", "; ".join(taken_over) or "none")
        figure(f"{who}: lines written / doubled by the {len(kills)} kills / EPIPE",
               f"{total} / {ledger.duplicates} / {epipe}")
        self.expect(epipe == 0, "no EPIPE for a writer holding the FIFO", epipe, *units)
        self.expect((ledger.missing, ledger.foreign, ledger.in_order, ledger.beyond) ==
                    ([], [], True, []) and ledger.duplicates <= len(kills),
                    f"every line, in order, none cut, at most one twice per kill ({len(kills)})",
                    ledger.describe(), *units)
        fifo_after = c.run("stat", "-c", "%F %a %U:%G %i", fifo).stdout.strip()
        self.expect((fifo_after, c.prop(socket, "ActiveEnterTimestampMonotonic")) ==
                    (fifo_before, socket_since),
                    f"the same FIFO ({fifo_before}) and socket (never restarted) throughout",
                    (fifo_after, c.prop(socket, "ActiveEnterTimestampMonotonic")), *units)
        c.systemctl("stop", unit)
        figure(f"{who}: scenario (without boot)", f"{time.monotonic() - t_scenario:.1f} s")


class T15HeldWriterRestarts(HeldWriterThroughRestarts):
    def test_restart_kill_and_watchdog_with_a_writer_holding_the_fifo(self):
        self.run_scenario()


class T16InstanceHeldWriterRestarts(HeldWriterThroughRestarts):
    NAME = "held"

    def test_instance_restart_kill_and_watchdog_with_a_writer_holding_the_fifo(self):
        self.run_scenario()


# ==========================================================================================
def unavailable(reason: str) -> None:
    """A prerequisite on the host is missing: skip with the reason, but in CI (CI set, as
    .ci/run does) fail, since a skipped scenario there would hide that it never ran."""
    if os.environ.get("CI"):
        raise AssertionError(f"{reason} (in CI this is a failure, not a skip)")
    raise unittest.SkipTest(reason)


def processes(c: harness.Container, comm: str) -> list[str]:
    """PIDs inside the container whose command name is ``comm``."""
    r = c.sh(f"grep -lx {comm} /proc/[0-9]*/comm || true")
    return [line.split("/")[2] for line in r.stdout.split()]


class T30DebPackage(Scenario):
    """The Debian package as an administrator uses it: `dpkg -i` into a booted Debian 12 (a
    writable copy-on-write /usr and dpkg database; nothing of the build tree inside), then
    `systemctl enable --now pipejournal`, a line into the journal, `man pipejournal`; `dpkg -r`
    stops everything and leaves no process, `dpkg -P` leaves nothing. The .deb is the one
    scripts/build-deb built (PIPEJOURNAL_DEB, which scripts/test sets)."""

    INSTANCE = "pkgtest"

    @classmethod
    def container_options(cls) -> dict:
        deb = os.environ.get("PIPEJOURNAL_DEB", "")
        if not deb or not Path(deb).is_file():
            unavailable(f"PIPEJOURNAL_DEB={deb!r} is not a .deb: run scripts/build-deb and set "
                        "PIPEJOURNAL_DEB=build/deb/pipejournal_VERSION_ARCH.deb (scripts/test "
                        "does both)")
        cls.deb = f"/var/tmp/{Path(deb).name}"
        return {"destdir": None, "writable_usr": True,
                "files": {cls.deb: Path(deb).read_bytes()}}

    def state(self, *units: str) -> dict[str, tuple[str, str]]:
        """{unit: (is-active, is-enabled)}; systemctl prints nothing for a unit file it lacks."""
        out = {}
        for u in units:
            active = self.c.run("systemctl", "is-active", u, check=False).stdout.strip()
            enabled = self.c.run("systemctl", "is-enabled", u, check=False).stdout.strip()
            out[u] = (active, enabled or "(no unit file)")
        return out

    def dpkg(self, *args: str) -> float:
        t0 = time.monotonic()
        r = self.c.run("dpkg", *args, check=False, timeout=120)
        took = time.monotonic() - t0
        self.expect(r.returncode == 0, f"dpkg {' '.join(args)} succeeds",
                    f"exit {r.returncode}\n{r.stdout}{r.stderr}")
        return took

    def test_install_enable_use_remove_purge(self):
        c = self.c
        # A Docker image's /usr/sbin/policy-rc.d (exit 101) forbids starting services from
        # maintainer scripts, and such images may exclude man pages from dpkg: a booted system
        # has neither. Both changes stay in this container's overlay.
        quirks = []
        if c.exists("/usr/sbin/policy-rc.d"):
            c.remove("/usr/sbin/policy-rc.d")
            quirks.append("policy-rc.d removed")
        r = c.sh("grep -l '^path-exclude=/usr/share/man' /etc/dpkg/dpkg.cfg.d/* || true")
        for cfg in r.stdout.split():
            c.run("sed", "-i", "/^path-exclude=\\/usr\\/share\\/man/d", cfg)
            quirks.append(f"man pages allowed in {cfg}")
        figure("container quirks undone", ", ".join(quirks) or "none")
        if c.run("getent", "passwd", "pipejournal", check=False).returncode == 0:
            c.run("userdel", "pipejournal")  # prove that the package creates it
        self.assertFalse(c.exists("/usr/bin/pipejournal"), "pipejournal before installing")

        # -- install -------------------------------------------------------------------------
        took = self.dpkg("-i", self.deb)
        figure("dpkg -i", f"{took:.2f} s")
        user = c.run("getent", "passwd", "pipejournal", check=False).stdout.strip().split(":")
        self.expect(len(user) == 7 and int(user[2]) < 1000 and user[6].endswith("nologin"),
                    "system user pipejournal (uid < 1000, nologin) created by sysusers", user)
        conffiles = c.run("dpkg-query", "-W", "-f=${Conffiles}", "pipejournal").stdout
        self.expect(CONFIG in conffiles, f"{CONFIG} is a conffile", conffiles)
        # Debian's default for a daemon: enabled and started on installation.
        st = self.state(SERVICE, SOCKET)
        self.expect(all(v == ("active", "enabled") for v in st.values()),
                    "service and socket enabled and active after dpkg -i", st)
        owner = c.run("stat", "-c", "%F %U:%G %a", FIFO, check=False).stdout.strip()
        self.expect(owner == "fifo pipejournal:pipejournal 620",
                    f"{FIFO}: fifo pipejournal:pipejournal 620", owner)
        # systemd's dpkg trigger on /usr/lib/systemd/catalog ran journalctl --update-catalog.
        listed = c.run("journalctl", "--list-catalog").stdout
        missing = [n for n, mid in MESSAGE_IDS.items() if mid not in listed]
        self.expect(not missing, "every MESSAGE_ID in the catalog database after dpkg -i "
                    "(systemd's trigger)", missing)
        templates = c.exists(f"{UNITDIR}/pipejournal@.socket")
        if templates:
            running = c.systemctl("list-units", "--all", "--no-legend", "pipejournal@*").stdout
            self.expect(not running.strip(), "no instance enabled or started by the package",
                        running)

        # -- enable --now, again ----------------------------------------------------------------
        c.systemctl("disable", "--now", SERVICE, SOCKET)
        kept = c.run("stat", "-c", "%F %U:%G %a", FIFO, check=False).stdout.strip()
        self.expect(kept == owner, f"{FIFO} kept once both units stopped (RemoveOnStop=no)",
                    kept)
        t0 = time.monotonic()
        c.systemctl("enable", "--now", "pipejournal")
        figure("systemctl enable --now pipejournal", f"{(time.monotonic() - t0) * 1000:.0f} ms")
        p = c.show(SERVICE, "ActiveState", "SubState", "UnitFileState", "StatusText")
        self.expect((p["ActiveState"], p["SubState"], p["UnitFileState"]) ==
                    ("active", "running", "enabled"),
                    "active (running) and enabled as soon as enable --now returns", p)
        self.expect(c.file_type(FIFO) == "fifo", f"{FIFO} is a FIFO", c.file_type(FIFO))
        tag = os.urandom(4).hex()
        c.write_file(FIFO, f"<3>installed from the package {tag}\n")
        entry = self.wait_forwarded(1, f"MESSAGE=installed from the package {tag}")[0]
        seen = {k: entry.get(k) for k in ("PRIORITY", "SYSLOG_IDENTIFIER", "_SYSTEMD_UNIT",
                                          "_UID", "_EXE")}
        self.expect(seen == {"PRIORITY": "3", "SYSLOG_IDENTIFIER": "pipejournal",
                             "_SYSTEMD_UNIT": SERVICE, "_UID": user[2],
                             "_EXE": "/usr/bin/pipejournal"},
                    "the line forwarded by the packaged daemon, as user pipejournal", seen)
        # The JSON reader is the package's private module, loaded by the first JSON line only.
        pid = c.prop(SERVICE, "MainPID")

        def maps() -> str:
            return c.run("cat", f"/proc/{pid}/maps").stdout

        self.expect("pipejournal-json.so" not in maps(),
                    "the JSON reader not loaded before a JSON line", "mapped")
        c.write_file(FIFO, f'{{"level":"warn","msg":"json from the package {tag}","n":1}}\n')
        entry = self.wait_forwarded(1, f"MESSAGE=json from the package {tag}")[0]
        mapped = (entry.get("PRIORITY"), entry.get("N"), entry.get("LEVEL"))
        self.expect(mapped == ("4", "1", "warn"), "a JSON line mapped by the packaged daemon",
                    entry)
        module = {line.split()[-1] for line in maps().splitlines() if "pipejournal-json" in line}
        self.expect(module == {"/usr/lib/x86_64-linux-gnu/pipejournal/pipejournal-json.so"},
                    "the JSON reader loaded from the package's private directory", module)

        # -- man -----------------------------------------------------------------------------
        env = {"MANPAGER": "cat", "MANWIDTH": "100"}
        page8 = c.run("man", "pipejournal", env=env, check=False)
        name_line = "pipejournal - forward lines written into a FIFO to the systemd journal"
        self.expect(page8.returncode == 0 and name_line in page8.stdout
                    and "PIPEJOURNAL_FIFO=" in page8.stdout,
                    "man pipejournal shows pipejournal(8)", (page8.stdout[:400] + page8.stderr))
        page5 = c.run("man", "5", "pipejournal.conf", env=env, check=False)
        self.expect(page5.returncode == 0 and "PartialLineTimeoutSec=" in page5.stdout,
                    "man 5 pipejournal.conf shows pipejournal.conf(5)",
                    (page5.stdout[:400] + page5.stderr))
        figure("man pipejournal", f"{len(page8.stdout.splitlines())} lines; "
               f"pipejournal.conf(5) {len(page5.stdout.splitlines())} lines")

        # -- an instance of the template units, when this source has them ---------------------
        instance_units = ()
        if templates:
            inst_fifo = f"/run/pipejournal/{self.INSTANCE}"
            instance_units = (f"pipejournal@{self.INSTANCE}.socket",
                              f"pipejournal@{self.INSTANCE}.service")
            c.systemctl("enable", "--now", instance_units[0])
            c.write_file(inst_fifo, f"instance line {tag}\n")
            self.wait(lambda: c.journal(f"PIPEJOURNAL_FIFO={inst_fifo}",
                                        f"MESSAGE=instance line {tag}"),
                      f"the line written into {inst_fifo}", units=instance_units)
        figure("template units", "instance tested" if templates
               else "not in this source yet (skipped that part)")

        # -- remove: everything stops, nothing runs ---------------------------------------------
        pids = processes(c, "pipejournal")
        self.expect(len(pids) == 1 + bool(templates), "pipejournal processes before dpkg -r",
                    pids)
        took = self.dpkg("-r", "pipejournal")
        figure("dpkg -r", f"{took:.2f} s")
        st = self.state(SERVICE, SOCKET, *instance_units)
        self.expect(all(a in ("inactive", "unknown") and e != "enabled" for a, e in st.values()),
                    "every unit stopped, none enabled (its unit file is gone)", st)
        left = processes(c, "pipejournal")
        self.expect(not left, "no pipejournal process after dpkg -r", left)
        self.expect(not c.exists(FIFO), f"{FIFO} removed", c.file_type(FIFO))
        self.expect(not c.exists("/usr/bin/pipejournal"), "/usr/bin/pipejournal removed", True)
        status = c.run("dpkg-query", "-W", "-f=${db:Status-Abbrev}", "pipejournal").stdout
        self.expect(status.strip() == "rc" and c.exists(CONFIG),
                    "removed, configuration kept (dpkg status rc)", (status, c.exists(CONFIG)))

        # -- purge: nothing left ----------------------------------------------------------------
        took = self.dpkg("-P", "pipejournal")
        figure("dpkg -P", f"{took:.2f} s")
        leftovers = c.sh("ls -d /etc/pipejournal /run/pipejournal 2>/dev/null; "
                         "find /etc/systemd/system -name 'pipejournal*'").stdout.split()
        self.expect(not leftovers, "no configuration, enablement link or runtime directory "
                    "left after dpkg -P", leftovers)


# ==========================================================================================
REMOTE_DIR = "/var/log/journal/remote"
REMOTE_PORT = 19532


class T31FleetJournalRemote(Scenario):
    """Beyond one host, with systemd's own engine: systemd-journal-upload sends this machine's
    journal to systemd-journal-remote (both as Debian ships them, set up as README says, plain
    HTTP on loopback only), and every forwarded line arrives in the remote journal files with
    all its fields, found there with `journalctl -D`."""

    @classmethod
    def container_options(cls) -> dict:
        for tool in ("systemd-journal-remote", "systemd-journal-upload"):
            if not Path(f"/lib/systemd/{tool}").exists():
                unavailable(f"/lib/systemd/{tool} not found (apt-get install "
                            "systemd-journal-remote)")
        return {}

    def remote(self) -> list[dict]:
        """Forwarded entries in the remote journal files (oldest first)."""
        r = self.c.run("journalctl", "--no-pager", "-o", "json", "--all", "-D", REMOTE_DIR,
                       f"PIPEJOURNAL_FIFO={FIFO}", check=False, binary=True)
        if r.returncode != 0:
            return []
        entries = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        return [e for e in entries if "MESSAGE_ID" not in e and "CODE_FILE" not in e]

    def test_forwarded_lines_reach_the_collector_with_all_fields(self):
        c = self.c
        units = ("systemd-journal-remote.socket", "systemd-journal-remote.service",
                 "systemd-journal-upload.service")
        # The collector: the shipped socket unit, on loopback only; its service (which has
        # PrivateNetwork=yes, so it cannot bind itself) takes the socket as fd 3, plain HTTP.
        c.drop_in(units[0], "loopback",
                  f"[Socket]\nListenStream=\nListenStream=127.0.0.1:{REMOTE_PORT}\n",
                  reload=False)
        c.drop_in(units[1], "http",
                  "[Service]\nExecStart=\nExecStart=/lib/systemd/systemd-journal-remote "
                  f"--listen-http=-3 --output={REMOTE_DIR}/\n", reload=False)
        # The sender.
        c.write_file("/etc/systemd/journal-upload.conf.d/collector.conf",
                     f"[Upload]\nURL=http://127.0.0.1:{REMOTE_PORT}\n")
        c.daemon_reload()
        c.systemctl("start", units[0], SERVICE)
        c.systemctl("start", units[2])
        listen = c.prop(units[0], "Listen")
        self.expect(listen == f"127.0.0.1:{REMOTE_PORT} (Stream)",
                    f"journal-remote listens on 127.0.0.1:{REMOTE_PORT} only", listen, *units)

        tag = os.urandom(4).hex()
        lines = [f"<3>fleet error {tag}".encode(), f"fleet plain {tag} äöü".encode(),
                 f"fleet binary {tag} ".encode() + b"\xff\xfe",
                 f'{{"msg":"fleet json {tag}","level":"warn","user":{{"id":17}}}}'.encode(),
                 f"<7>fleet debug {tag}".encode()]
        t0 = time.monotonic()
        c.write_file(FIFO, b"".join(line + b"\n" for line in lines))
        local = self.wait_forwarded(len(lines))
        remote = []

        def arrived():
            nonlocal remote
            remote = self.remote()
            return len(remote) >= len(lines)
        try:
            self.wait(arrived, f"{len(lines)} forwarded lines in {REMOTE_DIR}", timeout=30,
                      units=units)
        except harness.TimeoutExpired:
            self.fail(f"\nexpected: {len(lines)} forwarded entries in {REMOTE_DIR}\n"
                      f"seen:     {len(remote)}" + self.explain(*units))
        figure("lines written → in the remote journal files",
               f"{(time.monotonic() - t0) * 1000:.0f} ms")

        # Field for field the same entries, timestamps and trusted fields included; only the
        # cursor (and sequence numbers) belong to the journal file that holds the entry.
        def comparable(e: dict) -> dict:
            return {k: v for k, v in e.items() if k not in ("__CURSOR", "__SEQNUM", "__SEQNUM_ID")}
        self.assertEqual(len(local), len(lines))
        for i, (want, got) in enumerate(zip(local, remote)):
            want, got = comparable(want), comparable(got)
            if want != got:
                diff = {k: (want.get(k), got.get(k)) for k in sorted(set(want) | set(got))
                        if want.get(k) != got.get(k)}
                self.fail(f"\nexpected: remote entry {i} equal to the local one, field for "
                          f"field\nseen:     differences (local, remote): {diff}")
        for e in remote:
            for f in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "PIPEJOURNAL_FIFO"):
                self.expect(e.get(f) is not None, f"{f}= on every remote entry",
                            sorted(user_fields(e)))
        self.assertEqual([e["PRIORITY"] for e in remote[:3]] + [remote[4]["PRIORITY"]],
                         ["3", "6", "6", "7"])
        self.assertEqual(field(remote[2], "MESSAGE"), lines[2], "binary MESSAGE kept exactly")
        figure("fields of the JSON line in the remote journal", " ".join(sorted(
            user_fields(remote[3]))))
        files = c.sh(f"ls {REMOTE_DIR}").stdout.split()
        figure("remote journal files", " ".join(files))

# ==========================================================================================
class T24WriterClaims(Scenario):
    """What a writer may claim (issue 20): a `<0>` line and a zap-style `{"level":"panic"}` line
    arrive at PRIORITY=2 (HighestPriority=crit, the default) with PIPEJOURNAL_REQUESTED_PRIORITY=0,
    a record whose first line asks for emerg too; a JSON OBJECT_SYSTEMD_UNIT= key arrives as
    F_OBJECT_SYSTEMD_UNIT= and `journalctl -u` of that unit does not show the line; with
    HighestPriority=emerg a `<0>` line keeps 0."""

    def tearDown(self):
        self.write_config("[PipeJournal]\n")

    def test_priorities_are_limited_and_units_not_claimed(self):
        c = self.c
        self.write_config("[PipeJournal]\n")
        self.start()
        cursor = c.cursor()
        lines = [
            "<0>walls every terminal",
            '{"level":"panic","ts":1700000000.5,"caller":"main.go:12","msg":"zap panic"}',
            '{"msg":"not sshd","OBJECT_SYSTEMD_UNIT":"ssh.service","COREDUMP_UNIT":"ssh.service"}',
            "<1>Traceback (most recent call last):",
            '  File "/srv/app.py", line 1, in <module>',
            "ValueError: urgent",
            "<2>crit is allowed",
        ]
        c.write_file(FIFO, "".join(line + "\n" for line in lines))
        entries = self.wait_forwarded(5, cursor=cursor)
        got = {text(e, "MESSAGE"): e for e in entries}
        for message, asked in (("walls every terminal", "0"), ("zap panic", "0"),
                               (f"{lines[3][3:]}\n{lines[4]}\n{lines[5]}", "1")):
            e = got.get(message)
            self.expect(e is not None and e.get("PRIORITY") == "2" and
                        e.get("PIPEJOURNAL_REQUESTED_PRIORITY") == asked,
                        f"{message!r}: PRIORITY=2, PIPEJOURNAL_REQUESTED_PRIORITY={asked}",
                        e and {k: e.get(k) for k in ("PRIORITY", "PIPEJOURNAL_REQUESTED_PRIORITY",
                                                     "PIPEJOURNAL_MULTILINE")})
        crit = got.get("crit is allowed")
        self.expect(crit is not None and crit.get("PRIORITY") == "2" and
                    "PIPEJOURNAL_REQUESTED_PRIORITY" not in crit,
                    "crit is within the limit: no PIPEJOURNAL_REQUESTED_PRIORITY=", crit)
        claim = got.get("not sshd")
        self.expect(claim is not None and claim.get("F_OBJECT_SYSTEMD_UNIT") == "ssh.service" and
                    claim.get("F_COREDUMP_UNIT") == "ssh.service" and
                    "OBJECT_SYSTEMD_UNIT" not in claim and "COREDUMP_UNIT" not in claim,
                    "OBJECT_SYSTEMD_UNIT= and COREDUMP_UNIT= arrive with F_ in front", claim)
        claimed = [text(e, "MESSAGE") for e in c.journal(unit="ssh.service", after_cursor=cursor)]
        self.expect("not sshd" not in claimed, "journalctl -u ssh.service does not show the line",
                    claimed)
        walled = [text(e, "MESSAGE") for e in c.journal("PRIORITY=0", after_cursor=cursor)]
        self.expect(not walled, "no forwarded entry at emerg", walled)
        figure("a writer's <0>, as journalctl -o json shows it",
               json.dumps({k: got["walls every terminal"].get(k) for k in
                           ("PRIORITY", "PIPEJOURNAL_REQUESTED_PRIORITY")}))

        # HighestPriority=emerg: the limit off.
        self.write_config("[PipeJournal]\nHighestPriority=emerg\n")
        cur = c.cursor()
        c.systemctl("reload", SERVICE)
        self.wait_own("reloaded", cur)
        c.write_file(FIFO, "<0>emerg allowed now\n")
        e = self.wait_forwarded(1, "MESSAGE=emerg allowed now", cursor=cur)[-1]
        self.expect(e.get("PRIORITY") == "0" and "PIPEJOURNAL_REQUESTED_PRIORITY" not in e,
                    "HighestPriority=emerg: the <0> line keeps PRIORITY=0", e)
        self.stop()


class T20Structured(Scenario):
    def test_json_lines_are_found_by_priority_and_their_own_fields(self):
        """Format=auto (the default): a pino-style error line is found by `journalctl -p err` and
        by its own field USER_ID=17; its array is a repeated field in `journalctl -o json`;
        `<N>` wins over the level; a plain line stays exactly as it was; an object nested too
        deep is forwarded plain with PIPEJOURNAL_FORMAT_ERROR=."""
        c = self.c
        self.start()
        cursor = c.cursor()
        deep = '{"a":' * 17 + "1" + "}" * 17
        lines = [
            '{"level":50,"time":1700000000000,"pid":4242,"hostname":"web-01",'
            '"user":{"id":17},"tags":["db","disk"],"msg":"disk full"}',
            '<5>{"level":"debug","msg":"prefix wins","n":-0.0}',
            "plain line with {braces} and level=error",
            deep,
        ]
        c.write_file(FIFO, "".join(line + "\n" for line in lines))
        entries = self.wait_forwarded(4, cursor=cursor)
        got = {text(e, "MESSAGE"): e for e in entries}

        errors = self.forwarded("USER_ID=17", cursor=cursor)
        self.expect(len(errors) == 1, "journalctl USER_ID=17 finds exactly the JSON error line",
                    [text(e, "MESSAGE") for e in errors])
        e = errors[0]
        self.expect(text(e, "MESSAGE") == "disk full" and e.get("PRIORITY") == "3",
                    "MESSAGE=disk full PRIORITY=3", (text(e, "MESSAGE"), e.get("PRIORITY")))
        self.expect(e.get("TAGS") == ["db", "disk"], "TAGS as a repeated field: [db, disk]",
                    e.get("TAGS"))
        want = {"LEVEL": "50", "TIME": "1700000000000", "PID": "4242", "HOSTNAME": "web-01"}
        seen = {k: e.get(k) for k in want}
        self.expect(seen == want, f"fields {want}", seen)
        self.expect(user_fields(e) == FORWARDED_FIELDS | set(want) | {"USER_ID", "TAGS"},
                    "no other fields", sorted(user_fields(e)))

        by_priority = [text(x, "MESSAGE") for x in c.journal(
            f"PIPEJOURNAL_FIFO={FIFO}", args=["-p", "err"], after_cursor=cursor)]
        self.expect(by_priority == ["disk full"], "journalctl -p err finds the error line only",
                    by_priority)

        p = got.get("prefix wins")
        self.expect(p is not None and p.get("PRIORITY") == "5" and p.get("N") == "-0.0"
                    and p.get("LEVEL") == "debug",
                    "prefix wins: PRIORITY=5, LEVEL=debug, N=-0.0 as written",
                    p and {k: p.get(k) for k in ("PRIORITY", "LEVEL", "N")})
        plain = got.get(lines[2])
        self.expect(plain is not None and user_fields(plain) == FORWARDED_FIELDS,
                    "the plain line as it was, no fields of its own", plain)
        d = got.get(deep)
        self.expect(d is not None and d.get("PIPEJOURNAL_FORMAT_ERROR") == "nested deeper than 16 levels"
                    and user_fields(d) == FORWARDED_FIELDS | {"PIPEJOURNAL_FORMAT_ERROR"},
                    "the deep object plain, with PIPEJOURNAL_FORMAT_ERROR=", d)
        self.stop()

    def test_logfmt_instance_and_a_reload_that_switches_format(self):
        """An instance with Format=logfmt in its own NAME.conf maps logfmt lines (bare key = true,
        level=error → PRIORITY=3, SYSLOG_IDENTIFIER=NAME); after NAME.conf says Format=plain and
        `systemctl reload`, the same line is forwarded whole, without fields."""
        c = self.c
        fifo = "/run/pipejournal/kv"
        c.write_file("/etc/pipejournal/kv.conf", "[PipeJournal]\nFormat=logfmt\n")
        c.systemctl("start", "pipejournal@kv.socket")
        line = 'level=error msg="db down" user_id=17 retry'
        cursor = c.cursor()
        c.write_file(fifo, line + "\n")  # the first write starts pipejournal@kv.service

        def entries():
            return [e for e in c.journal(f"PIPEJOURNAL_FIFO={fifo}", after_cursor=cursor)
                    if "CODE_FILE" not in e] or None
        first = self.wait(entries, "the logfmt line in the journal", units=("pipejournal@kv.service",))[0]
        want = {"MESSAGE": "db down", "PRIORITY": "3", "SYSLOG_IDENTIFIER": "kv", "LEVEL": "error",
                "USER_ID": "17", "RETRY": "true"}
        seen = {k: text(first, k) for k in want}
        self.expect(seen == want, f"the logfmt line mapped: {want}", seen, "pipejournal@kv.service")
        self.expect(user_fields(first) == FORWARDED_FIELDS | {"LEVEL", "USER_ID", "RETRY"},
                    "no other fields", sorted(user_fields(first)))

        c.write_file("/etc/pipejournal/kv.conf", "[PipeJournal]\nFormat=plain\n")
        cursor = c.cursor()
        c.systemctl("reload", "pipejournal@kv.service")
        self.wait(lambda: [e for e in self.own_entries("reloaded", cursor)
                           if e.get("_SYSTEMD_UNIT") == "pipejournal@kv.service"] or None,
                  "the instance's 'reloaded' entry", units=("pipejournal@kv.service",))
        cursor = c.cursor()
        c.write_file(fifo, line + "\n")
        second = self.wait(entries, "the line after the reload", units=("pipejournal@kv.service",))[0]
        self.expect((text(second, "MESSAGE"), second.get("PRIORITY"), user_fields(second)) ==
                    (line, "6", FORWARDED_FIELDS),
                    "after the reload to Format=plain: the whole line, PRIORITY=6, no fields",
                    (text(second, "MESSAGE"), second.get("PRIORITY"), sorted(user_fields(second))),
                    "pipejournal@kv.service")
        c.systemctl("stop", "pipejournal@kv.service", "pipejournal@kv.socket", check=False)



# The defaults: LineMax=1M with Transport=native.
LONG_LINES_CONF = "[PipeJournal]\n"


def private_kib(c: harness.Container, pid: int) -> int:
    """Private_Clean + Private_Dirty of a process inside the container, in KiB."""
    rollup = c.read_file(f"/proc/{pid}/smaps_rollup").decode()
    return sum(int(line.split()[1]) for line in rollup.splitlines()
               if line.startswith(("Private_Clean:", "Private_Dirty:")))


class T32LongStructuredRecords(Scenario):
    """Structured lines up to LineMax=1M with the native transport: a 500 KB JSON record (a log4j2
    JsonLayout-like error with a 700-frame stack trace and a 400 KB payload) arrives as ONE entry
    with all its fields; a 1 MiB line does not leave its memory behind."""

    @classmethod
    def container_options(cls) -> dict:
        return {"files": {CONFIG: LONG_LINES_CONF}}

    def test_a_500_kb_json_record_is_one_entry_with_its_fields(self):
        c = self.c
        self.start()
        cursor = c.cursor()
        frames = [{"class": f"app.billing.Step{i}", "method": "run", "file": f"Step{i}.java",
                   "line": i + 1, "exact": False} for i in range(700)]
        payload = "".join(chr(0x61 + i % 26) for i in range(400_000))
        record = {"instant": {"epochSecond": 1714979289, "nanoOfSecond": 123456789},
                  "thread": "main", "level": "ERROR", "loggerName": "app.Billing",
                  "message": "charge failed", "payload": payload,
                  "thrown": {"name": "java.lang.IllegalStateException",
                             "message": "disk \"sda\" full", "extendedStackTrace": frames},
                  "contextMap": {"user.id": "17"}}
        line = json.dumps(record, separators=(",", ":"))
        self.assertTrue(450_000 < len(line) < 600_000, len(line))
        c.write_file(FIFO, line + "\n")
        entries = self.wait_forwarded(1, cursor=cursor, timeout=60)
        figure("500 KB record: line bytes", str(len(line)))
        self.expect(len(entries) == 1, "exactly one entry for the record (not cut into pieces)",
                    [(text(e, "MESSAGE") or "")[:80] for e in entries])
        e = entries[0]
        seen = {k: text(e, k) for k in ("MESSAGE", "PRIORITY", "LEVEL", "THREAD", "LOGGERNAME",
                                        "THROWN_NAME", "THROWN_MESSAGE", "CONTEXTMAP_USER_ID",
                                        "INSTANT_EPOCHSECOND")}
        want = {"MESSAGE": "charge failed", "PRIORITY": "3", "LEVEL": "ERROR", "THREAD": "main",
                "LOGGERNAME": "app.Billing", "THROWN_NAME": "java.lang.IllegalStateException",
                "THROWN_MESSAGE": 'disk "sda" full', "CONTEXTMAP_USER_ID": "17",
                "INSTANT_EPOCHSECOND": "1714979289"}
        self.expect(seen == want, f"the record's fields {want}", seen)
        stack = field(e, "THROWN_EXTENDEDSTACKTRACE")
        want_stack = [json.dumps(f, separators=(",", ":")).encode() for f in frames]
        self.expect(stack == want_stack, "700 frames, one THROWN_EXTENDEDSTACKTRACE= each, in order",
                    f"{len(stack or [])} values, first {(stack or [b''])[0][:100]!r}")
        self.expect(field(e, "PAYLOAD") == payload.encode(), "PAYLOAD= whole (400,000 bytes)",
                    len(field(e, "PAYLOAD") or b""))
        self.expect("PIPEJOURNAL_LINE_BREAK" not in e and "PIPEJOURNAL_FORMAT_ERROR" not in e,
                    "neither cut nor refused", {k: e.get(k) for k in
                                               ("PIPEJOURNAL_LINE_BREAK", "PIPEJOURNAL_FORMAT_ERROR")})
        self.stop()

    def test_a_1_mib_line_leaves_no_memory_behind(self):
        """The daemon's private memory (smaps_rollup Private_*) after one 1 MiB JSON line, once
        the next line has come, is within 256 KiB of what it was before; the figure at idle right
        after the line is reported too."""
        c = self.c
        self.start()
        pid = self.main_pid()
        cursor = c.cursor()
        warm = '{"msg":"warm-up","level":"info","n":1}\nplain warm-up\n'
        c.write_file(FIFO, warm)
        self.wait_forwarded(2, cursor=cursor)
        before = private_kib(c, pid)
        head = '{"msg":"one MiB","level":"warn","blob":"'
        tail = '"}'
        big = head + "x" * (1024 * 1024 - len(head) - len(tail)) + tail
        self.assertEqual(len(big), 1024 * 1024)
        cursor = c.cursor()
        c.write_file(FIFO, big + "\n")
        got = self.wait_forwarded(1, cursor=cursor, timeout=60)
        self.expect(text(got[0], "MESSAGE") == "one MiB" and got[0].get("PRIORITY") == "4"
                    and len(field(got[0], "BLOB") or b"") == len(big) - len(head) - len(tail),
                    "the 1 MiB line as one structured entry", text(got[0], "MESSAGE"))
        idle = private_kib(c, pid)
        cursor = c.cursor()
        c.write_file(FIFO, '{"msg":"after","level":"info"}\n')
        self.wait_forwarded(1, cursor=cursor)
        after = private_kib(c, pid)
        figure("private memory, KiB: before / idle after a 1 MiB line / after the next line",
               f"{before} / {idle} / {after}")
        self.expect(after <= before + 256, "private memory back within 256 KiB of before",
                    f"before {before} KiB, idle {idle} KiB, after the next line {after} KiB")
        self.stop()


SHIPPERS = Path("/var/cache/pipejournal-tests/shippers")  # scripts/install-deps.sh unpacks them

RSYSLOG_CONF = r"""
module(load="imjournal" StateFile="/run/rsyslog-test/imjournal.state" IgnorePreviousMessages="off")
template(name="shipped" type="list") {
  constant(value="{\"severity\":") property(name="syslogseverity")
  constant(value=",\"tag\":\"") property(name="syslogtag" format="json")
  constant(value="\",\"msg\":\"") property(name="msg" format="json")
  constant(value="\",\"fields\":") property(name="$!all-json") constant(value="}\n")
}
if $!PIPEJOURNAL_FIFO != "" and $!MESSAGE_ID == "" then
  action(type="omfile" file="/run/rsyslog-test/out.json" template="shipped")
"""

SYSLOG_NG_CONF = r"""@version: 3.38
options { stats-freq(0); };
source s_journal { systemd-journal(prefix(".journald.")); };
filter f_forwarded {
  match("/run/pipejournal/in" value(".journald.PIPEJOURNAL_FIFO"))
  and not match("." value(".journald.MESSAGE_ID"))
};
destination d_file {
  file("/run/syslog-ng-test/out.json"
       template("$(format-json --scope none --key .journald.* msg=$MSG severity=$LEVEL_NUM program=$PROGRAM)\n"));
};
log { source(s_journal); filter(f_forwarded); destination(d_file); };
"""


class T33Shippers(Scenario):
    """rsyslog (imjournal) and syslog-ng (systemd-journal()), Debian 12's, read pipejournal's
    entries as a new user would set them up: what each ships of MESSAGE, PRIORITY,
    SYSLOG_IDENTIFIER, PIPEJOURNAL_FIFO and the JSON-derived fields (README says the same). Both
    are unpacked side by side (they conflict as packages) and laid over the container's /usr."""

    @classmethod
    def container_options(cls) -> dict:
        missing = [p for p in ("rsyslog", "syslog-ng-core") if not (SHIPPERS / p / "usr").is_dir()]
        if missing:
            raise AssertionError(f"{missing} not unpacked in {SHIPPERS}: run scripts/install-deps.sh")
        destdir = Path(tempfile.mkdtemp(prefix="pipejournal-shippers-"))
        cls.shippers_destdir = destdir
        shutil.copytree(os.environ["PIPEJOURNAL_DESTDIR"], destdir, symlinks=True,
                        dirs_exist_ok=True)
        for package in ("rsyslog", "syslog-ng-core"):
            for top in ("usr", "lib"):
                if (SHIPPERS / package / top).is_dir():
                    shutil.copytree(SHIPPERS / package / top, destdir / top, symlinks=True,
                                    dirs_exist_ok=True)
        return {"destdir": destdir,
                "files": {CONFIG: LONG_LINES_CONF, "/etc/rsyslog-test.conf": RSYSLOG_CONF,
                          "/etc/syslog-ng-test.conf": SYSLOG_NG_CONF}}

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(getattr(cls, "shippers_destdir", ""), ignore_errors=True)

    LINES = [
        '{"level":"error","msg":"disk full","user":{"id":17},"tags":["a","b"],'
        '"text":"two\\nlines","nul":"a\\u0000b"}',
        '{"level":"warn","msg":"' + "m" * 20000 + '","blob":"' + "b" * 100000 + '"}',
        "plain line",
    ]

    def shipped(self, command: list[str], out: str, count: int) -> list[dict]:
        """Runs a shipper in the foreground until it has written ``count`` records to ``out``."""
        c = self.c
        c.run("mkdir", "-p", os.path.dirname(out))
        process = c.popen(*command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            def records():
                data = c.run("cat", out, check=False).stdout
                lines = [json.loads(line) for line in data.splitlines() if line.strip()]
                return lines if len(lines) >= count else None
            return self.wait(records, f"{count} records from {command[0]} in {out}", timeout=60)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
            c.run("pkill", "-x", os.path.basename(command[0]), check=False)

    def test_rsyslog_and_syslog_ng_ship_the_fields(self):
        c = self.c
        self.start()
        cursor = c.cursor()
        c.write_file(FIFO, "".join(line + "\n" for line in self.LINES))
        self.wait_forwarded(3, cursor=cursor, timeout=60)

        rs = self.shipped(["rsyslogd", "-n", "-f", "/etc/rsyslog-test.conf",
                           "-i", "/run/rsyslog-test/rsyslogd.pid"], "/run/rsyslog-test/out.json", 3)
        first, long, plain = rs[0], rs[1], rs[2]
        f = first["fields"]
        seen = {"msg": first["msg"], "severity": first["severity"], "tag": first["tag"],
                **{k: f.get(k) for k in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER",
                                         "PIPEJOURNAL_FIFO", "LEVEL", "USER_ID", "TAGS", "TEXT",
                                         "NUL")}}
        want = {"msg": "disk full", "severity": 3, "MESSAGE": "disk full", "PRIORITY": "3",
                "SYSLOG_IDENTIFIER": "pipejournal", "PIPEJOURNAL_FIFO": FIFO, "LEVEL": "error",
                "USER_ID": "17", "TAGS": "b", "TEXT": "two\nlines", "NUL": "a b"}
        seen_tag = seen.pop("tag")
        self.expect(seen == want and seen_tag.startswith("pipejournal["),
                    f"rsyslog: {want}, tag pipejournal[PID]: (TAGS: the last value only; "
                    "NUL as a blank)", {**seen, "tag": seen_tag})
        self.expect((len(long["msg"]), len(long["fields"]["MESSAGE"]),
                     len(long["fields"]["BLOB"])) == (8096, 20000, 100000),
                    "rsyslog: msg cut at its maxMessageSize (8096 bytes), the $! fields whole",
                    (len(long["msg"]), len(long["fields"]["MESSAGE"]), len(long["fields"]["BLOB"])))
        self.expect((plain["msg"], plain["severity"]) == ("plain line", 6),
                    "rsyslog: the plain line", plain)

        sng = self.shipped(["syslog-ng", "-F", "-f", "/etc/syslog-ng-test.conf",
                            "-R", "/run/syslog-ng-test/persist", "-p", "/run/syslog-ng-test/pid",
                            "-c", "/run/syslog-ng-test/ctl"], "/run/syslog-ng-test/out.json", 3)
        first, long, plain = sng[0], sng[1], sng[2]
        f = first["_journald"]
        seen = {"msg": first["msg"], "severity": first["severity"], "program": first["program"],
                **{k: f.get(k) for k in ("MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER",
                                         "PIPEJOURNAL_FIFO", "LEVEL", "USER_ID", "TAGS", "TEXT",
                                         "NUL")}}
        want = {"msg": "disk full", "severity": "3", "program": "pipejournal",
                "MESSAGE": "disk full", "PRIORITY": "3", "SYSLOG_IDENTIFIER": "pipejournal",
                "PIPEJOURNAL_FIFO": FIFO, "LEVEL": "error", "USER_ID": "17", "TAGS": "b",
                "TEXT": "two\nlines", "NUL": "a"}
        self.expect(seen == want, f"syslog-ng: {want} (TAGS: the last value only; a NUL ends "
                    "the value)", seen)
        self.expect((len(long["msg"]), len(long["_journald"]["BLOB"])) == (20000, 65536),
                    "syslog-ng: MESSAGE whole, fields cut at its max-field-size (65536 bytes)",
                    (len(long["msg"]), len(long["_journald"]["BLOB"])))
        self.expect((plain["msg"], plain["severity"]) == ("plain line", "6"),
                    "syslog-ng: the plain line", plain)
        self.stop()
# ==========================================================================================
#: The record suite's crash programs (tests/records/), copied into the container and built there
#: at test time with Debian's JDK and golang-go; the container's /usr is the host's.
RECORDS_SOURCES = Path(__file__).resolve().parents[1] / "records"
RECORDS = "/root/records"
#: A Python program that starts, fails with a chained exception (raise ... from) and is reported
#: on, as a service's shell script would: all of it on stderr.
PYTHON_WORKER = ('echo "worker starting" >&2; /usr/bin/python3 ' + RECORDS + "/gen_python.py "
                 'raise_from; echo "worker exited with status $?" >&2')
#: Two Go processes one after the other, each panicking: two records back to back.
GO_CRASHES = ("nil", "recovered")


def crash_unit(description: str, *exec_start: str) -> str:
    """A oneshot unit whose stderr goes into the FIFO (systemd opens it for the process)."""
    lines = "".join(f"ExecStart={e}\n" for e in exec_start)
    return (f"[Unit]\nDescription={description}\n[Service]\nType=oneshot\n{lines}"
            f"StandardError=file:{FIFO}\n")


class T25MultilineRecords(Scenario):
    """Multiline= under a real systemd: programs that crash with their stderr in the FIFO
    (`StandardError=file:`) — a Python 3.11 traceback with a chained exception, a Java stack trace
    with `Caused by:` and `... N more`, two Go panics back to back — each become ONE entry at
    PRIORITY=3 with PIPEJOURNAL_MULTILINE= the rule, MESSAGE= exactly what the program wrote
    (compared with a second run of the same program, captured), found by `journalctl -p err
    PIPEJOURNAL_MULTILINE=python` and shown whole by `journalctl -o cat`; the lines before and
    after stay entries of their own. A reload with `Multiline=` empty gives one entry per line
    again; `Transport=stream` with `Multiline=` set is refused."""

    @classmethod
    def container_options(cls) -> dict:
        files = {f"{RECORDS}/{name}": (RECORDS_SOURCES / name).read_text()
                 for name in ("gen_python.py", "Crash.java", "crash.go")}
        # "$$": systemd's own "$" escape; the script has no single quote of its own.
        files["/etc/systemd/system/crash-python.service"] = crash_unit(
            "Python worker", "/bin/sh -c '" + PYTHON_WORKER.replace("$", "$$") + "'")
        files["/etc/systemd/system/crash-java.service"] = crash_unit(
            "Java program", f"/usr/bin/java -cp {RECORDS}/java Crash caused_by")
        # '-': the first panic's exit status 2 must not keep the second from running.
        files["/etc/systemd/system/crash-go.service"] = crash_unit(
            "Go programs", *(f"-{RECORDS}/crash {name}" for name in GO_CRASHES))
        return {"files": files}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.container
        t0 = time.monotonic()
        # Both compilers at once: together they take most of the scenario's time.
        javac = c.popen("javac", "-d", f"{RECORDS}/java", f"{RECORDS}/Crash.java",
                        stdout=harness.subprocess.PIPE, stderr=harness.subprocess.STDOUT)
        go = c.popen("sh", "-c", f"cd {RECORDS} && exec go build -o crash crash.go",
                     stdout=harness.subprocess.PIPE, stderr=harness.subprocess.STDOUT,
                     env=dict(harness.CONTAINER_ENV, GOCACHE="/tmp/gocache",
                              GOPATH="/tmp/gopath", GO111MODULE="off", GOFLAGS=""))
        for name, proc in (("javac", javac), ("go build", go)):
            out, _ = proc.communicate(timeout=120)
            if proc.returncode != 0:
                raise AssertionError(f"{name} in the container failed ({proc.returncode}):\n"
                                     + out.decode(errors="replace"))
        figure("records: javac + go build in the container", f"{time.monotonic() - t0:.1f} s")

    def setUp(self):
        self.write_config("[PipeJournal]\n")  # the default rules: python java go
        self.c.systemctl("reset-failed", SERVICE, check=False)
        self.c.systemctl("restart", SERVICE)

    def tearDown(self):
        self.write_config("[PipeJournal]\n")

    # -- helpers ---------------------------------------------------------------------------
    def stderr_of(self, *argv: str) -> str:
        """What a program writes on stderr, run once more in the container (captured)."""
        r = self.c.run(*argv, check=False)
        self.expect(r.stdout == "" and r.stderr.endswith("\n"),
                    f"{argv[0]} writes lines on stderr only", (r.stdout, r.stderr))
        return r.stderr

    def run_writer(self, unit: str, last_message: str, cursor: str | None) -> list[dict]:
        """Runs a crash unit (its stderr is the FIFO); the forwarded entries after ``cursor``
        once the entry ``last_message`` is in the journal (lines keep their order, so every
        entry before it is there too)."""
        t0 = time.monotonic()
        self.c.systemctl("start", unit, check=False)  # oneshot: returns when it exited
        self.wait(lambda: any(text(e, "MESSAGE") == last_message
                              for e in self.forwarded(cursor=cursor)),
                  f"the entry {last_message[:60]!r} from {unit}", units=(SERVICE, unit))
        figure(f"records: {unit} start → its last entry in the journal",
               f"{time.monotonic() - t0:.2f} s")
        return self.forwarded(cursor=cursor)

    def expect_entries(self, entries: list[dict], want: list[tuple[str, str, str | None]],
                       what: str) -> None:
        """Entries are exactly ``want``: (MESSAGE, PRIORITY, PIPEJOURNAL_MULTILINE) each, and a
        record has no field but PIPEJOURNAL_MULTILINE= besides a line's."""
        seen = [(text(e, "MESSAGE"), e.get("PRIORITY"), e.get("PIPEJOURNAL_MULTILINE"))
                for e in entries]
        if seen != want:
            diff = next((i for i, (w, s) in enumerate(zip(want, seen)) if w != s),
                        min(len(want), len(seen)))
            self.fail(f"\n{what}: expected {len(want)} entries, seen {len(seen)}; first "
                      f"difference at entry {diff}:\nexpected: "
                      f"{want[diff] if diff < len(want) else None!r}\nseen:     "
                      f"{seen[diff] if diff < len(seen) else None!r}{self.explain()}")
        for e, (_, _, rule) in zip(entries, want):
            extra = {"PIPEJOURNAL_MULTILINE"} if rule else set()
            self.expect(user_fields(e) == FORWARDED_FIELDS | extra and
                        e.get("_SYSTEMD_UNIT") == SERVICE,
                        f"{what}: fields {sorted(FORWARDED_FIELDS | extra)} from {SERVICE}",
                        (sorted(user_fields(e)), e.get("_SYSTEMD_UNIT")))

    def cat_of_last(self, entries: list[dict]) -> str:
        """`journalctl -o cat` of the FIFO's newest len(entries) entries, which must be these."""
        n = str(len(entries))
        newest = self.c.journal(f"PIPEJOURNAL_FIFO={FIFO}", args=["-n", n])
        self.expect([e["__CURSOR"] for e in newest] == [e["__CURSOR"] for e in entries],
                    f"the FIFO's newest {n} entries are the ones looked at",
                    [text(e, "MESSAGE")[:60] for e in newest])
        return self.c.run("journalctl", "--no-pager", "-o", "cat", "-n", n,
                          f"PIPEJOURNAL_FIFO={FIFO}").stdout

    # -- scenarios -------------------------------------------------------------------------
    def test_a_python_traceback_is_one_entry_found_by_priority_and_rule(self):
        c = self.c
        traceback = self.stderr_of("/usr/bin/python3", f"{RECORDS}/gen_python.py", "raise_from")
        self.expect(traceback.startswith("Traceback (most recent call last):\n") and
                    "The above exception was the direct cause" in traceback and
                    traceback.endswith("RuntimeError: configuration unreadable\n"),
                    "Python 3.11 writes a chained traceback", traceback)
        written = "worker starting\n" + traceback + "worker exited with status 1\n"
        cursor = c.cursor()
        entries = self.run_writer("crash-python.service", "worker exited with status 1", cursor)
        self.expect_entries(entries, [("worker starting", "6", None),
                                      (traceback[:-1], "3", "python"),
                                      ("worker exited with status 1", "6", None)],
                            "the worker's stderr")
        figure("records: Python traceback lines in one entry", str(traceback.count("\n")))

        found = c.journal("PIPEJOURNAL_MULTILINE=python", f"PIPEJOURNAL_FIFO={FIFO}",
                          args=["-p", "err"], after_cursor=cursor)
        self.expect([text(e, "MESSAGE") for e in found] == [traceback[:-1]],
                    "journalctl -p err PIPEJOURNAL_MULTILINE=python finds the traceback, once",
                    [text(e, "MESSAGE")[:80] for e in found])
        cat = self.cat_of_last(entries)
        self.expect(cat == written, "journalctl -o cat shows exactly what the worker wrote",
                    cat)

    def test_b_java_stack_trace_and_two_go_panics_are_records_at_err(self):
        c = self.c
        java = self.stderr_of("/usr/bin/java", "-cp", f"{RECORDS}/java", "Crash", "caused_by")
        self.expect("\nCaused by: " in java and "\t... 1 more\n" in java,
                    "Java writes a stack trace with Caused by: and ... N more", java)
        go = [self.stderr_of(f"{RECORDS}/crash", name) for name in GO_CRASHES]
        self.expect(go[0].startswith("panic: runtime error: invalid memory address") and
                    "\n[signal SIGSEGV" in go[0] and "[recovered]" in go[1] and
                    "\ngoroutine 1 [running]:\n" in go[1],
                    "Go writes a nil-pointer panic, then a panic while panicking", go)

        cursor = c.cursor()
        entries = self.run_writer("crash-java.service", java[:-1], cursor)
        self.expect_entries(entries, [(java[:-1], "3", "java")], "the Java program's stderr")
        cursor = c.cursor()
        entries = self.run_writer("crash-go.service", go[1][:-1], cursor)
        self.expect_entries(entries, [(go[0][:-1], "3", "go"), (go[1][:-1], "3", "go")],
                            "two Go panics back to back")
        cat = self.cat_of_last(entries)
        self.expect(cat == "".join(go), "journalctl -o cat shows both panics as written", cat)

    def test_c_reload_with_multiline_empty_gives_one_entry_per_line(self):
        c = self.c
        traceback = self.stderr_of("/usr/bin/python3", f"{RECORDS}/gen_python.py", "raise_from")
        lines = ["worker starting", *traceback[:-1].split("\n"), "worker exited with status 1"]
        cursor = c.cursor()
        self.write_config("[PipeJournal]\nMultiline=\n")
        c.systemctl("reload", SERVICE)
        self.wait_own("reloaded", cursor)
        cursor = c.cursor()
        entries = self.run_writer("crash-python.service", "worker exited with status 1", cursor)
        self.expect_entries(entries, [(line, "6", None) for line in lines],
                            "after the reload to Multiline= empty")
        found = c.journal(f"PIPEJOURNAL_FIFO={FIFO}", args=["-p", "err"], after_cursor=cursor)
        self.expect(found == [], "journalctl -p err finds nothing: every line is info",
                    [text(e, "MESSAGE") for e in found])
        figure("records: Multiline= empty, the same stderr as entries", str(len(entries)))

    def test_d_transport_stream_with_multiline_is_refused(self):
        c = self.c
        self.write_config("[PipeJournal]\nTransport=stream\nFormat=plain\n")
        r = c.run("pipejournal", "--check-config", check=False)
        self.expect(r.returncode == 0 and "\nMultiline=\n" in "\n" + r.stdout,
                    "Transport=stream alone: check-config exits 0, Multiline= empty by default",
                    f"exit {r.returncode}: {r.stdout}{r.stderr}")
        self.write_config("[PipeJournal]\nTransport=stream\nFormat=plain\nMultiline=python\n")
        r = c.run("pipejournal", "--check-config", check=False)
        error = r.stderr.strip()
        self.expect(r.returncode == 6 and r.stdout == "" and "\n" not in error and
                    f"{CONFIG}:4" in error and "Multiline=python" in error and
                    "Transport=stream" in error,
                    f"check-config exits 6 with one line naming {CONFIG}:4, Multiline=python "
                    "and Transport=stream", f"exit {r.returncode}: {r.stdout!r} {error!r}")
        figure("records: Transport=stream with Multiline=python", error)
        r = c.systemctl("restart", SERVICE, check=False)
        status = c.show(SERVICE, "ActiveState", "ExecMainStatus")
        self.expect(r.returncode != 0 and status == {"ActiveState": "failed",
                                                     "ExecMainStatus": "6"},
                    "the service refuses to start with it: failed, status 6 (not restarted)",
                    (r.returncode, status))


if __name__ == "__main__":
    unittest.main()
