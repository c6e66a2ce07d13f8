#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`qmx explore` on a small sweep: the area fit reproduces the synthesised
configurations it was fitted to, the carbon-optimal design named at each
utilisation is the minimum of its printed column, explore.json and
explore.svg are written and parse, and the measured H200 rows appear for
exactly the shapes the shipped file has (int8), for no other.

    check_explore.py QMX_BINARY SOURCE_DIR"""
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.dom.minidom

from checklib import check, finish

QMX, SRC = sys.argv[1], sys.argv[2]


def run(*args):
    p = subprocess.run([QMX, "explore", *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def h200_int8():
    """{(m, n, k): uJ} of the shipped reference's int8 rows."""
    path = os.path.join(SRC, "hw/energy/reference/h200-gemm-energy.csv")
    with open(path) as f:
        rows = [l for l in f if not l.startswith("#")]
    return {(int(r["m"]), int(r["n"]), int(r["k"])): float(r["uj_per_gemm"])
            for r in csv.DictReader(rows) if r["dtype"] == "int8"}


def check_gpu(js, out, label):
    ref = h200_int8()
    for s in js["gpu_reference"]["shapes"]:
        key = (s["m"], s["n"], s["k"])
        shape = "%dx%dx%d" % key
        if key in ref:
            check(s["matched"] and s["uj_per_gemm"] == ref[key],
                  f"{label}: {shape} matched with the file's {ref[key]} uJ")
            opt = {o["design"] for o in js["optimal"] if o["design"] is not None}
            check(s["model"] and {m["design"] for m in s["model"]} == opt and
                  all(m["us"] > 0 and m["chip_uj"] > 0 for m in s["model"]),
                  f"{label}: {shape} has the optimal designs' modelled figures beside it")
            check(not out or re.search(rf"^  {shape} x\d+: [0-9.e+]+ uJ", out, re.M),
                  f"{label}: {shape}'s measured row printed")
        else:
            check(not s["matched"] and "uj_per_gemm" not in s and "model" not in s,
                  f"{label}: {shape} has no H200 row and gets none")
            check(f"{shape} x{s['count']}: no measured row" in out or not out,
                  f"{label}: {shape} said to have no row")


with tempfile.TemporaryDirectory() as d:
    levels = [10, 1e4, 1e6]
    rc, out, err = run("--workloads", "bert-base", "--arrays", "8x8,16x16,32x32", "--blocks",
                       "512", "--tile-k", "128,256", "--axi", "64,128,256", "--utilisation",
                       ",".join(str(l) for l in levels), "--all", "--out", d, "--baseline",
                       "cpu")
    print(out)
    check(rc == 0, f"small sweep exits 0 ({err.strip()[:300]})")
    with open(os.path.join(d, "explore.json")) as f:
        js = json.load(f)
    check(len(js["designs"]) > 0, f"explore.json parses, {len(js['designs'])} designs")
    svg = xml.dom.minidom.parse(os.path.join(d, "explore.svg"))
    texts = " ".join(t.firstChild.data for t in svg.getElementsByTagName("text")
                     if t.firstChild)
    check(svg.documentElement.tagName == "svg" and "kgCO2e" in texts and
          "gCO2e per functional unit" in texts and "runs of the workload mix per day" in texts,
          "explore.svg parses as XML and labels its axes with units")
    check(len(svg.getElementsByTagName("circle")) >= len(js["designs"]),
          "every design is a point of panel (a)")

    # The fit: fitted = per_pe x PEs + per_bus_bit x bus bits, close to the
    # synthesised transistors and flip-flops, and printed with its residuals.
    with open(os.path.join(SRC, "hw/synth/area.json")) as f:
        area = json.load(f)
    for what in ("transistors", "flipflop_bits"):
        fit = js["area_fit"][what]
        check(len(fit["points"]) >= 2, f"{what}: fitted to {len(fit['points'])} points")
        for p in fit["points"]:
            synth = area[p["array"]][what]
            want = fit["per_pe"] * p["pes"] + fit["per_bus_bit"] * p["bus_bits"]
            check(p["synthesised"] == synth and abs(p["fitted"] / want - 1) < 1e-9 and
                  abs(p["fitted"] / synth - 1) < 0.12,
                  f"{what} {p['array']}: fitted {p['fitted']:.0f} vs synthesised {synth}")
            check(re.search(rf"^    {p['array']} +bus +{p['bus_bits']}: synthesised +{synth:.0f}, "
                            rf"fitted +{p['fitted']:.0f}, residual", out, re.M) is not None,
                  f"{what} {p['array']}: the fit and its residual are printed")
    # The designs at the synthesised configurations get the fitted logic and
    # on-chip memories within 5 % of the synthesised ones.
    for name, a in area.items():
        if not isinstance(a, dict) or "bus_bits" not in a:
            continue
        r, c = map(int, name.split("x"))
        ds = [x for x in js["designs"] if x["rows"] == r and x["cols"] == c and
              x["axi_bits"] == a["bus_bits"] and x["tile_k"] == 256]
        check(len(ds) > 0, f"{name}: in the sweep")
        fit = js["area_fit"]["transistors"]
        for x in ds:
            want = fit["per_pe"] * r * c + fit["per_bus_bit"] * a["bus_bits"]
            check(abs(x["transistors"] / want - 1) < 1e-9 and
                  abs(x["memory_bits"] / a["memory_bits"] - 1) < 0.05,
                  f"{x['name']}: logic from the fit, memory {x['memory_bits']:.0f} bits vs "
                  f"synthesised {a['memory_bits']}")

    # The optimal design at each level is the minimum of its printed column.
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^(\d+x\d+ BM\d+ BK\d+ W\d+ \S+)\s+(.*)$", line)
        if m:
            rows[m.group(1)] = m.group(2).split()
    check(len(rows) == len(js["designs"]), f"--all prints every design ({len(rows)})")
    for i, lv in enumerate(levels):
        col = {n: float(v[6 + i]) for n, v in rows.items() if not v[6 + i].startswith(">")}
        m = re.search(rf"^carbon-optimal at {re.escape(f'{lv:.3g}')} runs/day: (.+?) — ([0-9.e+-]+) gCO2e",
                      out, re.M)
        check(m is not None and col and m.group(1) == min(col, key=col.get),
              f"optimal at {lv:g}/day is the column's minimum ({m and m.group(1)})")
        o = js["optimal"][i]
        life = [x["lifecycle_g_per_unit"][i] for x in js["designs"]
                if x["lifecycle_g_per_unit"][i] is not None]
        check(o["design"] is not None and o["lifecycle_g_per_unit"] == min(life) and
              js["designs"][o["design"]]["name"] == (m and m.group(1)),
              f"JSON optimal at {lv:g}/day agrees")
    # Lifecycle per unit at u = (operational + host share + TE / (u x days)) / units.
    x = js["designs"][0]
    days = js["lifetime_years"] * 365
    want = (x["operational_g_per_unit"] * js["units_per_run"] + x["host_embodied_g"] +
            x["embodied_g"] / (levels[0] * days)) / js["units_per_run"]
    check(abs(x["lifecycle_g_per_unit"][0] / want - 1) < 1e-6,
          "lifecycle per unit recomputes from the JSON's parts")
    check(re.search(r"^swept \d+ designs .* in [0-9.]+ s", out, re.M) is not None,
          "the sweep time is printed")
    check_gpu(js, out, "bert-base")
    check(js["gpu_reference"]["all_shapes_matched"] is False and
          "measured shapes only" in out, "bert-base: partial match said to be a lower bound")

    # Shapes given on the command line: one with an H200 row, one without;
    # --json prints only JSON on stdout, the baseline's choice included.
    rc, out, err = run("--workloads", "256x256x256,100x100x100", "--arrays", "16x16",
                       "--blocks", "512", "--tile-k", "256", "--axi", "128", "--json",
                       "--no-files")
    check(rc == 0, f"--json run exits 0 ({err.strip()[:200]})")
    js2 = json.loads(out)
    check_gpu(js2, "", "shapes")
    check([s["matched"] for s in js2["gpu_reference"]["shapes"]] == [True, False],
          "256^3 matched, 100^3 not")
    # No shape measured: no reference at all.
    rc, out, err = run("--workloads", "digits-mlp", "--arrays", "8x8", "--blocks", "512",
                       "--tile-k", "256", "--axi", "64", "--no-files", "--baseline", "cpu")
    check(rc == 0 and "GPU reference: none (no shape of the mix has a measured row" in out,
          "digits-mlp: no H200 reference")

for args, want in [
        (["--arrays", "3x3"], "--arrays: '3x3' must be RxC with R a power of two"),
        (["--arrays", "512x512"], "--arrays: '512x512' must be RxC"),
        (["--axi", "2048"], "--axi: '2048' must be an integer in [32, 1024]"),
        (["--utilisation", "0"], "--utilisation: '0' must be a number in"),
        (["--profiles", "fpga-u250"], "'fpga-u250' is an FPGA card"),
        (["--profiles", "asic-3nm"], "profile 'asic-3nm' not in"),
        (["--lifetime", "0"], "--lifetime '0' must be years in"),
        (["--blocks", "256", "--arrays", "256x256"], "no valid configuration in the sweep"),
]:
    rc, out, err = run(*args, "--workloads", "8x8x8", "--no-files", "--baseline", "cpu")
    check(rc != 0 and want in err, f"{args}: refused with '{want}' ({err.strip()[:200]})")

finish()
