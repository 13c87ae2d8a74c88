#!/usr/bin/python3
"""Run the system tests: install the build into a temporary destdir, boot containers, test.

    run.py --build-root BUILDDIR [unittest names...]     # what meson test does
    run.py --destdir DESTDIR [unittest names...]         # an existing install tree
    e.g. run.py --build-root build test_pipejournal.T08SocketActivation -v

Exit status: 0 passed, 1 failed, 77 skipped (not root, no systemd-nspawn), as meson expects.
Environment: PIPEJOURNAL_VERBOSE=1 logs harness commands, PIPEJOURNAL_KEEP=1 keeps container roots.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import harness  # noqa: E402

SKIP = 77


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--build-root", help="meson build directory to install from")
    g.add_argument("--destdir", help="use this install tree instead of installing")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("tests", nargs="*", help="unittest names (default: all scenarios)")
    args = ap.parse_args()

    try:
        harness.require_root()
    except harness.SkipHost as e:
        print(f"SKIP: {e}", file=sys.stderr)
        return SKIP
    harness.terminate_on_sigterm()

    t0 = time.monotonic()
    tmp = None
    try:
        if args.destdir:
            destdir = Path(args.destdir)
        else:
            try:
                destdir = tmp = harness.install_destdir(args.build_root)
            except subprocess.CalledProcessError as e:
                print(f"meson install failed:\n{e.stdout}\n{e.stderr}", file=sys.stderr)
                return 1
        os.environ["PIPEJOURNAL_DESTDIR"] = str(destdir)
        import test_pipejournal  # noqa: E402
        loader = unittest.TestLoader()
        if args.tests:
            suite = loader.loadTestsFromNames(args.tests, module=None)
        else:
            suite = loader.loadTestsFromModule(test_pipejournal)
        result = unittest.TextTestRunner(verbosity=2, stream=sys.stderr).run(suite)
        if test_pipejournal.FIGURES:
            print("\nFigures:", file=sys.stderr)
            for k, v in test_pipejournal.FIGURES.items():
                print(f"  {k}: {v}", file=sys.stderr)
        print(f"total {time.monotonic() - t0:.1f} s", file=sys.stderr)
        if result.testsRun and len(result.skipped) == result.testsRun:
            return SKIP
        return 0 if result.wasSuccessful() else 1
    except KeyboardInterrupt as e:
        harness.stop_all()  # unittest skips tearDownClass when interrupted
        print(f"interrupted ({e}); containers torn down", file=sys.stderr)
        return 1
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
