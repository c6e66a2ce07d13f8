#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fold one Yosys `stat -tech cmos` result into hw/synth/area.json.

Per array size: total cells, the CMOS transistor estimate, flip-flop bits,
cell types, and the on-chip memories ($mem_v2 cells left unmapped: the
operand buffers) as bits, per memory, so a cost model can price them as SRAM
at a cited density instead of as flops.  (Yosys 0.23's `stat -json` output
for hierarchical designs is not valid JSON, so the text report is parsed.)"""
import argparse
import json
import os
import re
import subprocess


def parse_stat(path):
    lines = open(path).read().splitlines()
    start = max(i for i, l in enumerate(lines) if "=== design hierarchy ===" in l)
    hier, totals, ctypes = [], {}, {}
    for l in lines[start + 1:]:
        m = re.match(r"^(\s+)(\S+)\s+(\d+)$", l)
        if m and not totals and not l.strip().startswith("Number"):
            hier.append((len(m.group(1)), m.group(2), int(m.group(3))))
            continue
        m = re.match(r"^\s+Number of cells:\s+(\d+)", l)
        if m:
            totals["cells"] = int(m.group(1))
            continue
        m = re.match(r"^\s+Estimated number of transistors:\s+(\d+)", l)
        if m:
            totals["transistors"] = int(m.group(1))
            continue
        m = re.match(r"^\s+(\$\S+)\s+(\d+)$", l)
        if m and "cells" in totals:
            ctypes[m.group(1)] = int(m.group(2))
    # Instances of each module under the top: product of counts on the path.
    inst, stack = {}, []
    for indent, name, n in hier:
        while stack and stack[-1][0] >= indent:
            stack.pop()
        mult = n * (stack[-1][1] if stack else 1)
        inst[name] = inst.get(name, 0) + mult
        stack.append((indent, mult))
    return totals, ctypes, inst


def parse_mems(path, inst):
    mem_bits, mems = 0, []
    module, cell = None, None
    for line in open(path):
        t = line.split()
        if not t:
            continue
        if t[0] == "module":
            module = t[1]
        elif t[0] == "cell" and t[1] == "$mem_v2":
            cell = {}
        elif t[0] == "parameter" and cell is not None and len(t) >= 3:
            cell[t[1].lstrip("\\")] = t[2]
        elif t[0] == "end" and cell is not None:
            width, size = int(cell["WIDTH"]), int(cell["SIZE"])
            n = inst.get(module, 0)
            bits = width * size * n
            mem_bits += bits
            m = re.search(r"(qmx_[a-z]+)", module)
            mems.append({"module": m.group(1) if m else module,
                         "memory": cell.get("MEMID", "?").strip('"').replace("\\\\", ""),
                         "width": width, "words": size, "instances": n, "bits": bits})
            cell = None
    return mem_bits, mems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", required=True)
    ap.add_argument("--bus", type=int, required=True)
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--stat", required=True)
    ap.add_argument("--mems", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    totals, ctypes, inst = parse_stat(a.stat)
    mem_bits, mems = parse_mems(a.mems, inst)
    ff_bits = sum(v for k, v in ctypes.items() if "DFF" in k)
    ctypes.pop("$mem_v2", None)
    entry = {
        "bus_bits": a.bus,
        "cells": totals["cells"] - sum(m["instances"] for m in mems),
        "transistors": totals["transistors"],
        "flipflop_bits": ff_bits,
        "memory_bits": mem_bits,
        "memories": mems,
        "cell_types": dict(sorted(ctypes.items())),
        "synth_seconds": a.seconds,
    }
    out = {}
    if os.path.exists(a.out):
        with open(a.out) as f:
            out = json.load(f)
    ver = subprocess.run(["yosys", "-V"], capture_output=True, text=True).stdout.split()
    out["yosys"] = ver[1] if len(ver) > 1 else "unknown"
    out["command"] = "hw/synth/run_synth.sh 8x8 16x16 32x32 (script hw/synth/qmx_synth.ys)"
    out["notes"] = ("Generic synthesis (Yosys internal gate cells, abc -fast; flip-flop "
                    "enables/resets lowered to gates by dfflegalize so `stat -tech cmos` "
                    "prices every register). cells and transistors cover logic and "
                    "flip-flops only; memory_bits are the on-chip operand scratchpads, "
                    "vector buffers and PE accumulator memories left as memories, to be "
                    "costed as SRAM (not in transistors). qmx_top defaults: 512 x 512 "
                    "output block (TILE_P = 512/rows, TILE_Q = 512/cols), TILE_K=256, "
                    "MAX_DIM=2^20; bus_bits = max(64, 8 x cols), as the sim models.")
    out[a.size] = entry
    with open(a.out, "w") as f:
        json.dump(out, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"{a.size}: {entry['cells']} cells, {entry['transistors']} transistors, "
          f"{ff_bits} flip-flops, {mem_bits} memory bits")


if __name__ == "__main__":
    main()
