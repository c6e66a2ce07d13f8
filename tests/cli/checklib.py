# SPDX-License-Identifier: MIT
"""What the qmx tool's Python checks share: a named check that records its
failure, and the end of a run."""
import sys

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def finish():
    print(f"{len(failures)} failure(s)")
    sys.exit(1 if failures else 0)
