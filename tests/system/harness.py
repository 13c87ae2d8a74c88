"""Boot a real systemd as PID 1 in a throwaway systemd-nspawn container.

Shared by the system tests (tests/system/) and the benchmarks (bench/).
Standard library only; needs root, systemd-nspawn and nsenter on the host.

Typical use::

    import harness

    destdir = harness.install_destdir("/path/to/builddir")   # meson install --destdir
    with harness.Container(destdir, journald_conf={"RateLimitBurst": "0"}) as c:
        c.systemctl("start", "pipejournal")
        c.write_file("/run/pipejournal/in", b"hello\\n")
        entries = c.wait_for(lambda: c.journal("PIPEJOURNAL_FIFO=/run/pipejournal/in") or None,
                             what="the forwarded line")
        print(harness.field(entries[0], "MESSAGE"))          # b"hello"

The container
-------------
* its root is a fresh temporary directory holding a copy of the host's /etc (with a new
  random machine-id, so it is not a first boot and no presets get applied; without fstab,
  the host's enabled services/timers and any pipejournal files; os-release is a real file),
  the usr-merge symlinks bin, sbin, lib, lib64 -> usr/..., and empty /var and /tmp;
* /usr is the host's /usr, read-only, with the project's ``meson install --destdir`` tree
  laid over it (``--overlay-ro``), so installed files appear at their real paths; files the
  install put below DESTDIR/lib, /bin, /sbin (Debian's unitdir is /lib/systemd/system) are
  merged into usr/ as the usr-merged host does; DESTDIR/etc is copied into the container's
  /etc;
* with ``writable_usr=True`` that /usr is writable instead, a copy-on-write overlay whose
  changes stay in the temporary directory, and the host's dpkg database is mounted the same way
  at /var/lib/dpkg: ``dpkg -i``/``dpkg -r`` then work inside without touching the host;
* it boots ``basic.target`` (no getty, no postgres, no timers); the journal is volatile
  (/run/log/journal) because /var/log/journal does not exist;
* ``Container.run()`` executes a command inside via ``nsenter -t <container PID 1> -a``
  with a clean environment (no NOTIFY_SOCKET/JOURNAL_STREAM from the caller). Commands run
  that way are in the container's namespaces but not in its cgroup tree;
* teardown always happens (also on exceptions, and on SIGTERM if the caller installed
  ``harness.terminate_on_sigterm()``): SIGTERM to nspawn (orderly poweroff of the
  container), SIGKILL after a timeout, then the temporary directory is removed. nspawn is
  started with PR_SET_PDEATHSIG=SIGTERM so a killed test process still powers it off, and
  ``stop_all()`` (registered with atexit) stops what an interrupted caller left running.

Stable API (used by bench/): ``Container`` and its methods/attributes documented below,
``install_destdir``, ``field``, ``text``, ``require_root``, ``terminate_on_sigterm``,
``stop_all``, ``Deadline``, ``TimeoutExpired``, ``SkipHost``.
"""

from __future__ import annotations

import atexit
import ctypes
import itertools
import json
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
import weakref
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

__all__ = [
    "Container",
    "Deadline",
    "SkipHost",
    "TimeoutExpired",
    "field",
    "install_destdir",
    "require_root",
    "stop_all",
    "terminate_on_sigterm",
    "text",
]

#: Environment of every command run inside the container.
CONTAINER_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TERM": "dumb",
    "SYSTEMD_PAGER": "",
    "SYSTEMD_COLORS": "0",
    "SYSTEMD_LESS": "",
    "HOME": "/root",
}

_PR_SET_PDEATHSIG = 1
_counter = itertools.count()
_live: "weakref.WeakSet[Container]" = weakref.WeakSet()


def stop_all() -> None:
    """Tear down every container of this process that is still running (also run at exit)."""
    for c in list(_live):
        c.stop()


atexit.register(stop_all)


class SkipHost(Exception):
    """The host cannot run containers (not root, tool missing). ``str()`` is the reason."""


class TimeoutExpired(AssertionError):
    """A ``wait_for`` / ``Deadline`` ran out. An AssertionError so unittest reports a failure."""


class Deadline:
    """A point in time ``seconds`` from now; ``remaining()`` never goes below 0.

    ``Deadline(5).poll(pred, what=...)`` is the same as ``Container.wait_for``.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.end

    def poll(self, predicate: Callable[[], Any], *, what: str = "condition",
             interval: float = 0.05, max_interval: float = 0.5,
             describe: Callable[[], str] | None = None) -> Any:
        """Call ``predicate()`` until it returns something truthy, which is returned.

        Polls with a growing interval (``interval`` doubling up to ``max_interval``). When the
        deadline passes, raises ``TimeoutExpired`` naming ``what``, the last value seen and,
        if given, ``describe()`` (e.g. the unit's status) for the failure message.
        """
        last: Any = None
        while True:
            last = predicate()
            if last:
                return last
            if self.expired():
                msg = f"timed out after {self.seconds:g}s waiting for {what}; last value: {last!r}"
                if describe is not None:
                    try:
                        msg += "\n" + describe()
                    except Exception as e:  # noqa: BLE001 - diagnostics only
                        msg += f"\n(describe() failed: {e})"
                raise TimeoutExpired(msg)
            time.sleep(min(interval, self.remaining() or interval))
            interval = min(interval * 2, max_interval)


def require_root() -> None:
    """Raise ``SkipHost`` unless this process can boot a container (root, tools present)."""
    if os.geteuid() != 0:
        raise SkipHost("system tests need root (systemd-nspawn, nsenter)")
    for tool in ("systemd-nspawn", "nsenter"):
        if shutil.which(tool) is None:
            raise SkipHost(f"{tool} not found (install systemd-container / util-linux)")
    if not Path("/sys/fs/cgroup").is_dir():
        raise SkipHost("no /sys/fs/cgroup on this host")


def terminate_on_sigterm() -> None:
    """Turn SIGTERM/SIGHUP into ``KeyboardInterrupt`` so ``with Container()`` blocks tear down.

    Test runners (meson test on timeout) send SIGTERM; without this, Python would die without
    running ``__exit__`` and leave a container behind. Call once from the main program.
    """
    def handler(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def install_destdir(builddir: str | os.PathLike, destdir: str | os.PathLike | None = None,
                    *, rebuild: bool = False) -> Path:
    """``meson install -C builddir --destdir destdir`` and return the destdir.

    Without ``destdir`` a new temporary directory is used (the caller removes it, e.g. with
    ``shutil.rmtree``). ``rebuild=False`` passes ``--no-rebuild`` (meson test has already
    built). Raises ``subprocess.CalledProcessError`` with meson's output on failure.
    """
    dest = Path(destdir) if destdir else Path(tempfile.mkdtemp(prefix="pipejournal-destdir-"))
    cmd = ["meson", "install", "-C", str(builddir), "--destdir", str(dest), "--quiet"]
    if not rebuild:
        cmd.append("--no-rebuild")
    env = {k: v for k, v in os.environ.items() if k != "DESTDIR"}
    subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return dest


def field(entry: Mapping[str, Any], name: str) -> bytes | list | None:
    """A journal field of a ``journalctl -o json`` entry as bytes.

    journalctl prints a value as a JSON string when it is valid UTF-8 and printable, as an
    array of byte values otherwise, and a field that occurs several times as an array of
    such values; this returns ``bytes`` for a single value, a ``list`` of bytes for a repeated
    field, ``None`` when the field is absent.
    """
    v = entry.get(name)
    if v is None:
        return None
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, list):
        if all(isinstance(x, int) for x in v):
            return bytes(v)
        return [field({"x": x}, "x") for x in v]
    return str(v).encode()


def text(entry: Mapping[str, Any], name: str) -> str | None:
    """Like ``field`` but decoded as UTF-8 with replacement (for messages and asserts)."""
    v = field(entry, name)
    if v is None:
        return None
    if isinstance(v, list):
        return " | ".join(x.decode("utf-8", "replace") for x in v)
    return v.decode("utf-8", "replace")


def _set_pdeathsig() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _mounts_below(path: Path) -> list[str]:
    p = str(path.resolve())
    out = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
        for line in f:
            mp = line.split()[4].encode().decode("unicode_escape")
            if mp == p or mp.startswith(p + "/"):
                out.append(mp)
    return out


class Container:
    """A booted systemd container; use as a context manager (``with Container(...) as c``).

    Parameters
    ----------
    destdir:
        A ``meson install --destdir`` tree laid over /usr and /etc, or None (host files only).
    name:
        Machine name; default unique ``pj-<pid>-<n>``.
    journald_conf:
        Settings for ``/etc/systemd/journald.conf.d/50-harness.conf`` ([Journal] section), e.g.
        ``{"RateLimitBurst": "0", "Storage": "volatile"}``. None: journald defaults.
    files:
        Extra files to put into the container's root before boot: ``{"/etc/x.conf": b"..."}``
        (str or bytes; only below /etc, /var, /root).
    boot_target:
        Unit systemd boots (``systemd.unit=``), default ``basic.target``.
    boot_timeout / stop_timeout:
        Seconds to reach running/degraded, and for the poweroff before SIGKILL.
    writable_usr:
        Make /usr writable (copy-on-write over the host's /usr and the destdir tree) and give
        the container the host's dpkg database (copy-on-write too), so a package can be
        installed and removed inside. Off by default: the tests of an install tree must not
        be able to change /usr.
    keep:
        Keep the temporary directory after teardown (debugging); its path is printed.
    verbose:
        Print boot/teardown timings and the commands run to stderr.

    Attributes after ``start()``: ``name``, ``tmpdir`` (host path), ``root`` (host path of the
    container's /), ``leader`` (host PID of the container's PID 1), ``console_log`` (host path
    of the boot console output), ``boot_seconds`` (spawn → running).
    """

    def __init__(self, destdir: str | os.PathLike | None = None, *, name: str | None = None,
                 journald_conf: Mapping[str, str] | None = None,
                 files: Mapping[str, str | bytes] | None = None,
                 boot_target: str = "basic.target", boot_timeout: float = 60,
                 stop_timeout: float = 20, writable_usr: bool = False, keep: bool = False,
                 verbose: bool = False):
        self.destdir = Path(destdir) if destdir else None
        self.name = name or f"pj-{os.getpid()}-{next(_counter)}"
        self.journald_conf = dict(journald_conf or {})
        self.files = dict(files or {})
        self.boot_target = boot_target
        self.boot_timeout = boot_timeout
        self.stop_timeout = stop_timeout
        self.writable_usr = writable_usr
        self.keep = keep
        self.verbose = verbose
        self.tmpdir: Path | None = None
        self.root: Path | None = None
        self.console_log: Path | None = None
        self.leader: int | None = None
        self.boot_seconds: float | None = None
        self._nspawn: subprocess.Popen | None = None
        self._console = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "Container":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _log(self, msg: str) -> None:
        if self.verbose:
            print(f"[harness {self.name}] {msg}", file=sys.stderr, flush=True)

    def start(self) -> None:
        """Prepare the root, spawn nspawn, wait until ``is-system-running`` is running/degraded."""
        require_root()
        self.tmpdir = Path(tempfile.mkdtemp(prefix="pipejournal-system-"))
        self.root = self.tmpdir / "root"
        self._prepare_root()
        overlay = self._stage_usr()
        self.console_log = self.tmpdir / "console.log"
        self._console = open(self.console_log, "wb")
        cmd = [
            "systemd-nspawn", "--quiet", "--directory", str(self.root),
            "--machine", self.name, "--boot", "--register=no", "--keep-unit",
            "--link-journal=no", "--private-network", "--console=read-only",
        ]
        if self.writable_usr:
            # Writes land in upper directories below tmpdir (nspawn puts the overlay's work
            # directory next to each); the host's /usr and dpkg database are only read.
            lowers = "/usr" if overlay is None else f"/usr:{overlay}"
            for name in ("usr-upper", "dpkg-upper"):
                (self.tmpdir / name).mkdir()
            cmd.append(f"--overlay={lowers}:{self.tmpdir / 'usr-upper'}:/usr")
            cmd.append(f"--overlay=/var/lib/dpkg:{self.tmpdir / 'dpkg-upper'}:/var/lib/dpkg")
        elif overlay is not None:
            cmd.append(f"--overlay-ro=/usr:{overlay}:/usr")
        else:
            cmd.append("--bind-ro=/usr")
        cmd.append(f"systemd.unit={self.boot_target}")
        env = {k: v for k, v in os.environ.items()
               if k not in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                            "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "INVOCATION_ID")}
        env["SYSTEMD_NSPAWN_LOCK"] = "0"
        _live.add(self)
        self._log("spawn: " + shlex.join(cmd))
        t0 = time.monotonic()
        self._nspawn = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._console,
                                        stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True, preexec_fn=_set_pdeathsig)
        deadline = Deadline(self.boot_timeout)
        self.leader = deadline.poll(self._find_leader, what="the container's PID 1",
                                    describe=self.console_tail)
        state = deadline.poll(self._system_state, what="is-system-running to say running",
                              describe=self.console_tail)
        self.boot_seconds = time.monotonic() - t0
        self._log(f"booted in {self.boot_seconds:.2f}s, state {state}, leader {self.leader}")
        if state == "degraded":
            failed = self.run("systemctl", "--failed", "--no-legend", check=False).stdout
            self._log("degraded; failed units:\n" + failed)

    def stop(self) -> None:
        """Power the container off (SIGTERM to nspawn), SIGKILL after ``stop_timeout``, clean up.

        Idempotent; never raises for teardown problems (they are printed to stderr).
        """
        _live.discard(self)
        p, self._nspawn = self._nspawn, None
        if p is not None:
            t0 = time.monotonic()
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGTERM)
                    p.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    print(f"[harness {self.name}] poweroff took over {self.stop_timeout}s, "
                          "killing", file=sys.stderr)
                    if self.leader:
                        try:
                            os.kill(self.leader, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    p.kill()
                    try:
                        p.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        print(f"[harness {self.name}] nspawn pid {p.pid} did not die",
                              file=sys.stderr)
            self._log(f"stopped in {time.monotonic() - t0:.2f}s (nspawn rc {p.returncode})")
        if self._console is not None:
            self._console.close()
            self._console = None
        self.leader = None
        if self.tmpdir is not None:
            tmp, self.tmpdir = self.tmpdir, None
            if self.keep:
                print(f"[harness {self.name}] kept {tmp}", file=sys.stderr)
                return
            if p is not None and p.returncode is None:
                print(f"[harness {self.name}] not removing {tmp}: nspawn still running",
                      file=sys.stderr)
                return
            mounts = _mounts_below(tmp)
            if mounts:
                print(f"[harness {self.name}] not removing {tmp}: mounts below it {mounts}",
                      file=sys.stderr)
                return
            shutil.rmtree(tmp, ignore_errors=True)


    # ------------------------------------------------------------------ setup
    def _prepare_root(self) -> None:
        r = self.root
        r.mkdir()
        shutil.copytree("/etc", r / "etc", symlinks=True, ignore=_special_files)
        etc = r / "etc"
        for p in ("machine-id", "os-release", "fstab", "pipejournal",
                  "systemd/system/multi-user.target.wants",
                  "systemd/system/timers.target.wants",
                  "systemd/system/graphical.target.wants",
                  "systemd/system/sockets.target.wants",
                  "systemd/system/default.target",
                  "systemd/journald.conf.d"):
            _remove(etc / p)
        for p in (etc / "systemd/system").glob("pipejournal*"):
            _remove(p)
        shutil.copyfile("/usr/lib/os-release", etc / "os-release")
        # A fresh machine id: not the host's, and present, so that systemd does not treat the
        # boot as a first boot (which would run preset-all and enable the installed units).
        (etc / "machine-id").write_text(uuid.uuid4().hex + "\n")
        (etc / "fstab").write_text("# pipejournal system test container\n")
        for d in ("usr", "var/tmp", "var/lib", "var/log", "var/cache", "tmp", "run",
                  "proc", "sys", "dev", "root", "home", "srv", "opt", "mnt"):
            (r / d).mkdir(parents=True, exist_ok=True)
        (r / "tmp").chmod(0o1777)
        (r / "var/tmp").chmod(0o1777)
        (r / "root").chmod(0o700)
        for d in ("bin", "sbin", "lib", "lib64"):
            if Path("/usr", d).exists():
                (r / d).symlink_to(f"usr/{d}")
        if self.journald_conf:
            body = "[Journal]\n" + "".join(f"{k}={v}\n" for k, v in self.journald_conf.items())
            self._put("/etc/systemd/journald.conf.d/50-harness.conf", body)
        if self.destdir is not None:
            for top in ("etc", "var", "root"):
                src = self.destdir / top
                if src.is_dir():
                    shutil.copytree(src, r / top, symlinks=True, dirs_exist_ok=True)
        for path, data in self.files.items():
            self._put(path, data)

    def _put(self, path: str, data: str | bytes) -> None:
        if not any(path.startswith(p) for p in ("/etc/", "/var/", "/root/")):
            raise ValueError(f"files= only below /etc, /var, /root: {path}")
        dst = self.root / path.lstrip("/")
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(data.encode() if isinstance(data, str) else data)

    def _stage_usr(self) -> Path | None:
        """Merge DESTDIR/{usr,lib,bin,sbin,lib64} into one usr tree to lay over /usr."""
        if self.destdir is None:
            return None
        stage = self.tmpdir / "usr-overlay"
        stage.mkdir()
        if (self.destdir / "usr").is_dir():
            shutil.copytree(self.destdir / "usr", stage, symlinks=True, dirs_exist_ok=True)
        for top in ("lib", "lib64", "bin", "sbin"):
            src = self.destdir / top
            if src.is_dir() and not src.is_symlink():
                shutil.copytree(src, stage / top, symlinks=True, dirs_exist_ok=True)
        return stage

    def _find_leader(self) -> int | None:
        p = self._nspawn
        if p.poll() is not None:
            raise RuntimeError(f"systemd-nspawn exited with {p.returncode} during boot\n"
                               + self.console_tail())
        todo = [p.pid]
        while todo:
            pid = todo.pop()
            try:
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo.extend(int(c) for c in (task / "children").read_text().split())
                status = Path(f"/proc/{pid}/status").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            for line in status.splitlines():
                if line.startswith("NSpid:"):
                    ids = line.split()[1:]
                    if len(ids) >= 2 and ids[-1] == "1":
                        return pid
        return None

    def _system_state(self) -> str | None:
        if self._nspawn.poll() is not None:
            raise RuntimeError(f"systemd-nspawn exited with {self._nspawn.returncode} during boot\n"
                               + self.console_tail())
        try:
            r = self.run("systemctl", "is-system-running", "--wait", check=False, timeout=30)
        except TimeoutExpired:
            return None
        state = r.stdout.strip()
        return state if state in ("running", "degraded") else None

    def console_tail(self, lines: int = 40) -> str:
        """The last ``lines`` of the container's console output (boot messages)."""
        if self.console_log is None or not self.console_log.exists():
            return "(no console log)"
        data = self.console_log.read_bytes().decode("utf-8", "replace").splitlines()
        return "console (last lines):\n" + "\n".join(data[-lines:])

    # ------------------------------------------------------------------ running commands
    def command(self, *cmd: str) -> list[str]:
        """The host argv that runs ``cmd`` inside the container (for your own Popen)."""
        if self.leader is None:
            raise RuntimeError("container not running")
        return ["nsenter", "-t", str(self.leader), "-a", "--", *cmd]

    def run(self, *cmd: str, input: str | bytes | None = None, check: bool = True,
            timeout: float | None = 60, binary: bool = False,
            env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run ``cmd`` inside the container and wait; stdout/stderr captured.

        Text (UTF-8, errors replaced) unless ``binary=True``. ``check=True`` raises
        ``AssertionError`` with the command, exit status, stdout and stderr when it fails.
        ``timeout`` kills the command and raises ``TimeoutExpired``.
        """
        if isinstance(input, str):
            input = input.encode()
        self._log("run: " + shlex.join(cmd))
        try:
            r = subprocess.run(self.command(*cmd), input=input, capture_output=True,
                               timeout=timeout, env=dict(CONTAINER_ENV, **(env or {})))
        except subprocess.TimeoutExpired as e:
            raise TimeoutExpired(f"command timed out after {timeout}s in container: "
                                 f"{shlex.join(cmd)}\n  stdout: {_clip(e.stdout)}\n"
                                 f"  stderr: {_clip(e.stderr)}") from None
        if not binary:
            r.stdout = r.stdout.decode("utf-8", "replace")
            r.stderr = r.stderr.decode("utf-8", "replace")
        if check and r.returncode != 0:
            raise AssertionError(
                f"command failed in container: {shlex.join(cmd)}\n  exit status {r.returncode}\n"
                f"  stdout: {_clip(r.stdout)}\n  stderr: {_clip(r.stderr)}")
        return r

    def popen(self, *cmd: str, **kwargs) -> subprocess.Popen:
        """Start ``cmd`` inside the container without waiting (``subprocess.Popen`` kwargs).

        The caller waits for / kills it; it dies at the latest with the container.
        """
        kwargs.setdefault("env", dict(CONTAINER_ENV))
        self._log("popen: " + shlex.join(cmd))
        return subprocess.Popen(self.command(*cmd), **kwargs)

    def sh(self, script: str, **kwargs) -> subprocess.CompletedProcess:
        """``run("sh", "-c", script, ...)``."""
        return self.run("sh", "-c", script, **kwargs)

    # ------------------------------------------------------------------ files
    def write_file(self, path: str, data: str | bytes, *, mode: int | None = None,
                   append: bool = False, timeout: float = 60) -> None:
        """Write ``data`` to ``path`` inside the container (parents created; FIFOs work too:
        the write blocks until a reader takes the bytes, bounded by ``timeout``)."""
        if isinstance(data, str):
            data = data.encode()
        op = ">>" if append else ">"
        script = f'mkdir -p -- "$(dirname -- "$1")" && cat {op} "$1"'
        if mode is not None:
            script += f' && chmod {mode:o} -- "$1"'
        self.run("sh", "-c", script, "sh", path, input=data, binary=True, timeout=timeout)

    def read_file(self, path: str) -> bytes:
        """The bytes of ``path`` inside the container (``AssertionError`` if unreadable)."""
        return self.run("cat", "--", path, binary=True).stdout

    def exists(self, path: str) -> bool:
        """Whether ``path`` exists inside the container (not following a final symlink)."""
        return self.run("sh", "-c", 'test -e "$1" || test -L "$1"', "sh", path,
                        check=False).returncode == 0

    def file_type(self, path: str) -> str | None:
        """``stat -c %F`` of ``path`` inside (e.g. 'fifo', 'regular file'), None if missing."""
        r = self.run("stat", "-c", "%F", "--", path, check=False)
        return r.stdout.strip() if r.returncode == 0 else None

    def remove(self, *paths: str) -> None:
        """``rm -rf`` paths inside the container."""
        self.run("rm", "-rf", "--", *paths)

    # ------------------------------------------------------------------ systemd
    def systemctl(self, *args: str, check: bool = True, timeout: float = 90
                  ) -> subprocess.CompletedProcess:
        """``systemctl --no-pager ARGS`` inside; raises with output when it fails and check."""
        return self.run("systemctl", "--no-pager", *args, check=check, timeout=timeout)

    def daemon_reload(self) -> None:
        self.systemctl("daemon-reload")

    def show(self, unit: str, *props: str) -> dict[str, str]:
        """``systemctl show -p P1,P2 unit`` as a dict (all properties when none given)."""
        args = ["show", unit]
        if props:
            args[1:1] = ["-p", ",".join(props)]
        out = self.systemctl(*args).stdout
        d = {}
        for line in out.splitlines():
            k, _, v = line.partition("=")
            d[k] = v
        return d

    def prop(self, unit: str, name: str) -> str:
        """One property: ``systemctl show -P name unit``."""
        return self.systemctl("show", "-P", name, unit).stdout.rstrip("\n")

    def status(self, *units: str, lines: int = 30) -> str:
        """``systemctl status -l -n lines UNITS`` output (never raises; for failure messages)."""
        r = self.systemctl("status", "-l", f"-n{lines}", *units, check=False)
        return r.stdout + r.stderr

    def drop_in(self, unit: str, name: str, body: str, *, reload: bool = True) -> str:
        """Write ``/run/systemd/system/UNIT.d/NAME.conf`` and daemon-reload; returns the path.

        Lives in /run so it never survives a container; remove with ``remove_drop_in``.
        """
        path = f"/run/systemd/system/{unit}.d/{name}.conf"
        self.write_file(path, body)
        if reload:
            self.daemon_reload()
        return path

    def remove_drop_in(self, unit: str, name: str, *, reload: bool = True) -> None:
        self.remove(f"/run/systemd/system/{unit}.d/{name}.conf")
        if reload:
            self.daemon_reload()

    # ------------------------------------------------------------------ journal
    def journal(self, *matches: str, unit: str | None = None, after_cursor: str | None = None,
                args: Sequence[str] = (), timeout: float = 60) -> list[dict]:
        """Entries of ``journalctl -o json --all MATCHES`` inside, oldest first, parsed.

        ``--all`` keeps fields over 4096 bytes (journalctl's JSON otherwise prints null for
        them). Use ``field``/``text`` to read values (MESSAGE may be a byte array).
        ``after_cursor`` (see ``cursor()``) limits to entries written after that point.
        """
        cmd = ["journalctl", "--no-pager", "-o", "json", "--all"]
        if unit:
            cmd += ["-u", unit]
        # Not `--after-cursor`: journalctl 252 combined with matches skips the first match
        # when the cursor's own entry does not match. Filter by sequence number instead.
        after = _cursor_seqnum(after_cursor) if after_cursor else None
        if after is not None:
            cmd += ["--cursor", after_cursor]
        cmd += list(args) + list(matches)
        r = self.run(*cmd, timeout=timeout, binary=True, check=False)
        if r.returncode != 0:
            raise AssertionError(f"journalctl failed ({shlex.join(cmd)}): "
                                 f"{r.stderr.decode(errors='replace').strip()}")
        out = []
        for line in r.stdout.splitlines():
            line = line.strip()
            if not line:
                continue
            e = json.loads(line)
            if after is not None:
                seq = _cursor_seqnum(e.get("__CURSOR", ""))
                if seq is not None and seq[0] == after[0] and seq[1] <= after[1]:
                    continue
            out.append(e)
        return out

    def journal_text(self, *args: str, lines: int | None = 40) -> str:
        """``journalctl --no-pager [-n lines] ARGS`` as text (never raises; for messages)."""
        cmd = ["journalctl", "--no-pager"]
        if lines is not None:
            cmd.append(f"-n{lines}")
        r = self.run(*cmd, *args, check=False)
        return r.stdout + r.stderr

    def cursor(self) -> str | None:
        """Cursor of the newest journal entry now (None when the journal is empty)."""
        r = self.run("journalctl", "--no-pager", "-n1", "-o", "json", "--output-fields=__CURSOR",
                     check=False)
        for line in r.stdout.splitlines():
            if line.strip():
                return json.loads(line)["__CURSOR"]
        return None

    # ------------------------------------------------------------------ waiting
    def wait_for(self, predicate: Callable[[], Any], *, timeout: float = 20,
                 what: str = "condition", describe: Callable[[], str] | None = None,
                 interval: float = 0.05) -> Any:
        """Poll ``predicate`` until truthy (returned) or ``TimeoutExpired`` after ``timeout``."""
        return Deadline(timeout).poll(predicate, what=what, describe=describe, interval=interval)


def _special_files(directory: str, names: list[str]) -> list[str]:
    """copytree ignore=: skip sockets, FIFOs and devices (copying a FIFO would block)."""
    skip = []
    for n in names:
        try:
            m = os.lstat(os.path.join(directory, n)).st_mode
        except OSError:
            skip.append(n)
            continue
        if not (stat.S_ISREG(m) or stat.S_ISDIR(m) or stat.S_ISLNK(m)):
            skip.append(n)
    return skip


def _cursor_seqnum(cursor: str) -> tuple[str, int] | None:
    """(seqnum id, seqnum) from a journal cursor 's=..;i=..;...', None if not present."""
    parts = dict(p.split("=", 1) for p in cursor.split(";") if "=" in p)
    try:
        return parts["s"], int(parts["i"], 16)
    except (KeyError, ValueError):
        return None


def _remove(p: Path) -> None:
    if p.is_symlink() or p.is_file():
        p.unlink()
    elif p.is_dir():
        shutil.rmtree(p)


def _clip(s: str | bytes | None, n: int = 4000) -> str:
    if s is None:
        return ""
    if isinstance(s, bytes):
        s = s.decode("utf-8", "replace")
    s = s.rstrip()
    return s if len(s) <= n else s[:n] + f"... ({len(s) - n} more chars)"


if __name__ == "__main__":
    # Smoke test: python3 harness.py [DESTDIR] -> boot, show state, power off.
    require_root()
    with Container(sys.argv[1] if len(sys.argv) > 1 else None, verbose=True) as c:
        print(c.run("systemctl", "is-system-running").stdout.strip(),
              f"booted in {c.boot_seconds:.2f}s")
