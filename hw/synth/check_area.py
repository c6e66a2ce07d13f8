#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compare a fresh synthesis result with the committed hw/synth/area.json.

  check_area.py REF NEW SIZE [--tol 0.03]

Cells, transistors and flip-flops must agree within the relative tolerance
(abc is not bit-for-bit stable across machines); memory bits exactly."""
import json
import sys


def main():
    args = sys.argv[1:]
    tol = 0.03
    if "--tol" in args:
        i = args.index("--tol")
        tol = float(args[i + 1])
        del args[i:i + 2]
    ref_path, new_path, size = args
    ref = json.load(open(ref_path))[size]
    new = json.load(open(new_path))[size]
    ok = True
    for key in ("cells", "transistors", "flipflop_bits"):
        r, n = ref[key], new[key]
        dev = abs(n - r) / max(r, 1)
        status = "ok" if dev <= tol else "DIFFERS"
        ok &= dev <= tol
        print(f"{size} {key}: committed {r}, now {n} ({100 * dev:.2f} %, tolerance {100 * tol:.0f} %) {status}")
    r, n = ref["memory_bits"], new["memory_bits"]
    print(f"{size} memory_bits: committed {r}, now {n} {'ok' if r == n else 'DIFFERS'}")
    ok &= r == n
    if not ok:
        print("area.json is stale: rerun hw/synth/run_synth.sh (or the qmx_synth target) and commit it")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
