#!/usr/bin/python3
"""The Python pattern: what a person writes instead of pipejournal, as a Type=notify service.

    py_forwarder.py FIFO IDENTIFIER

Creates FIFO if missing, opens it O_RDWR|O_NONBLOCK, sends READY=1, then polls it and calls
systemd.journal.send once per line with MESSAGE, PRIORITY (from a "<N>" prefix, else 6),
SYSLOG_IDENTIFIER and PIPEJOURNAL_FIFO. journal.send also adds CODE_FILE/CODE_LINE/CODE_FUNC of
its caller, as it does for everyone who uses it this way. No watchdog, no stop handling.
"""
import os
import select
import stat
import sys

from systemd import daemon, journal


def main():
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} FIFO IDENTIFIER")
    path, identifier = sys.argv[1], sys.argv[2]
    try:
        os.mkfifo(path, 0o620)
    except FileExistsError:
        if not stat.S_ISFIFO(os.lstat(path).st_mode):
            sys.exit(f"{path} exists and is not a FIFO")
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    daemon.notify("READY=1")

    poller = select.poll()
    poller.register(fd, select.POLLIN)
    pending = b""
    while True:
        poller.poll()
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            continue
        *lines, pending = (pending + data).split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").removesuffix("\r")
            priority = 6
            if len(line) >= 3 and line[0] == "<" and "0" <= line[1] <= "7" and line[2] == ">":
                priority = int(line[1])
                line = line[3:]
            journal.send(line, PRIORITY=priority, SYSLOG_IDENTIFIER=identifier,
                         PIPEJOURNAL_FIFO=path)


if __name__ == "__main__":
    main()
