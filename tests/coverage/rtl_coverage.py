#!/usr/bin/env python3
"""Summarise a merged verilator_coverage file for hw/rtl.

usage: rtl_coverage.py MERGED.dat RTL_DIR WAIVERS

Prints line and toggle coverage per file and in total, and every uncovered
line point of hw/rtl that waivers.txt does not give a reason for.  Exits 1 when
a point is uncovered without a reason, or a waiver names a line that is
covered (or gone): so the figure is quoted, and each gap is explained.
"""
import collections
import os
import re
import sys


def points(path):
    """(file, line, kind, count) per coverage point of the .dat file."""
    rec = re.compile(r"^C '(.*)' (\d+)$")
    for raw in open(path, encoding="latin-1"):
        m = rec.match(raw.rstrip("\n"))
        if not m:
            continue
        fields = dict(kv.split("\x02", 1) for kv in m.group(1).split("\x01") if "\x02" in kv)
        page = fields.get("page", "")
        kind = page.split("/", 1)[0].removeprefix("v_")  # line, toggle, branch, user
        yield fields.get("f", ""), int(fields.get("l", "0")), kind, int(m.group(2))


def main():
    dat, rtl_dir, waiver_path = sys.argv[1:4]
    rtl_dir = os.path.realpath(rtl_dir)
    waivers = {}
    for raw in open(waiver_path, encoding="utf-8"):
        raw = raw.strip()
        if raw and not raw.startswith("#"):
            where, _, why = raw.partition(" ")
            waivers[where] = why.strip()

    # per (file, kind): set of points covered / total; line points per line
    tot = collections.defaultdict(lambda: [0, 0])
    line_hits = collections.defaultdict(int)  # (file, line) -> max count of its line points
    for f, line, kind, count in points(dat):
        full = os.path.realpath(f)
        if not full.startswith(rtl_dir + os.sep):
            continue
        name = os.path.relpath(full, os.path.dirname(os.path.dirname(rtl_dir)))
        kind = "line" if kind in ("line", "branch") else kind
        t = tot[(name, kind)]
        t[1] += 1
        t[0] += count > 0
        if kind == "line":
            key = (name, line)
            line_hits[key] = max(line_hits.get(key, 0), count)

    files = sorted({f for f, _ in tot})
    print(f"{'file':28s} {'line':>16s} {'toggle':>18s}")
    sums = {"line": [0, 0], "toggle": [0, 0]}
    for f in files:
        row = []
        for kind in ("line", "toggle"):
            c, n = tot.get((f, kind), [0, 0])
            sums[kind][0] += c
            sums[kind][1] += n
            row.append(f"{c}/{n} {100.0 * c / n:5.1f}%" if n else "-")
        print(f"{f:28s} {row[0]:>16s} {row[1]:>18s}")
    lc, ln = sums["line"]
    tc, tn = sums["toggle"]
    print(f"{'total':28s} {lc}/{ln} {100.0 * lc / max(ln, 1):5.1f}%"
          f"   {tc}/{tn} {100.0 * tc / max(tn, 1):5.1f}%")
    print(f"RTL coverage (8x8): line {100.0 * lc / max(ln, 1):.1f} %, "
          f"toggle {100.0 * tc / max(tn, 1):.1f} %")

    bad = 0
    uncovered = sorted(k for k, v in line_hits.items() if v == 0)
    for f, line in uncovered:
        where = f"{f}:{line}"
        if where in waivers:
            print(f"  waived   {where}: {waivers[where]}")
        else:
            print(f"  UNCOVERED {where} (no test reaches it; add one, or a reason to waivers.txt)")
            bad += 1
    for where in sorted(waivers):
        f, _, line = where.rpartition(":")
        if line_hits.get((f, int(line)), 0) != 0 or (f, int(line)) not in line_hits:
            print(f"  STALE waiver {where}: that line is covered or is not a coverage point")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
