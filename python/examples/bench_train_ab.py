#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Host's own time per training step of QLinear(batch=True), two versions
of the qmx package side by side.

Runs ``bench_train.bench`` (batch path, each device given) in a fresh
process with the ``qmx`` package of ``--before`` and of ``--after``,
alternately for ``--rounds`` rounds, so both see the same machine load,
and prints the median over rounds of each run's median host's own time
per step (wall time minus the time spent simulating a simulated device),
the ratio and the range.  Both use the libqmx of ``QMX_LIBRARY``.

    QMX_LIBRARY=build/runtime/libqmx.so /usr/bin/python3 \\
        python/examples/bench_train_ab.py --before ../main/python --after python
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
CHILD = """
import json, sys
import bench_train
print(json.dumps({u: bench_train.bench(u, u, %d, 5, 32, 42, batched=True)
                  ["host_own_ms"] for u in %r}))
"""


def main(argv: Optional[list[str]] = None) -> int:
    """Command line: alternate the two trees, print one line per device."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="a python/ tree")
    ap.add_argument("--after", required=True, help="a python/ tree")
    ap.add_argument("--devices", default="cpu,sim")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.steps < 1:
        ap.error("--rounds and --steps must be >= 1")
    uris = [u for u in args.devices.split(",") if u]
    trees = {"before": args.before, "after": args.after}
    for name, tree in trees.items():
        if not (Path(tree) / "qmx" / "__init__.py").is_file():
            ap.error(f"--{name}: {tree} has no qmx package")
    got: dict[str, dict[str, list[float]]] = {
        t: {u: [] for u in uris} for t in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            env = dict(os.environ, PYTHONPATH=f"{Path(tree).resolve()}:{HERE}")
            out = subprocess.run([sys.executable, "-c",
                                  CHILD % (args.steps, uris)],
                                 env=env, capture_output=True, text=True,
                                 timeout=900, check=True)
            for u, v in json.loads(out.stdout.splitlines()[-1]).items():
                got[name][u].append(v)
    print(f"{args.rounds} rounds of {args.steps} steps (batch 32), host's "
          "own time per step, median of the runs' medians (range)")
    for u in uris:
        b, a = got["before"][u], got["after"][u]
        print(f"{u}: before {statistics.median(b):.3f} ms "
              f"({min(b):.3f}-{max(b):.3f}), after {statistics.median(a):.3f}"
              f" ms ({min(a):.3f}-{max(a):.3f}), before/after "
              f"{statistics.median(b) / statistics.median(a):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
