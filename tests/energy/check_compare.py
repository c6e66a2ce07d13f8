#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run `qmx compare --workloads small` and check its reports round-trip:
report.json parses and is consistent, report.csv has the stable header and
one row per backend per workload, report.svg is well-formed XML."""
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.dom.minidom

HEADER = ("timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,"
          "cpu_energy,energy_consumed,country_iso_code,region,os,cpu_count,cpu_model,"
          "tracking_mode,workload,functional_unit,units,device,backend,role,energy_source,"
          "energy_method,energy_j,emissions_operational_g,emissions_embodied_g,sci_g_per_unit,"
          "grid_g_per_kwh,speedup,energy_ratio,breakeven_jobs_per_day,bit_exact")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    qmx, device = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, QMX_GRID_INTENSITY="300")
        p = subprocess.run([qmx, "compare", "--workloads", "small", "--device", device,
                            "--out", out], capture_output=True, text=True, env=env,
                           timeout=600)
        print(p.stdout)
        print(p.stderr, file=sys.stderr)
        if p.returncode != 0:
            fail(f"qmx compare exited {p.returncode}")
        for needle in ("bit-exact", "speed-up", "break-even", "gCO2e/kWh"):
            if needle not in p.stdout:
                fail(f"'{needle}' missing from the table")

        # Without --baseline, the fastest exact CPU device is chosen and named
        # with the runner-up (or said to be the only one).
        m = re.search(r"^baseline (\S+)(?:, [0-9.]+x the runner-up (\S+)| \(no runner-up)",
                      p.stdout, re.M)
        if not m:
            fail("the chosen CPU baseline is not named")
        if m.group(2) == m.group(1):
            fail(f"runner-up {m.group(2)} is the baseline itself")

        with open(os.path.join(out, "report.json")) as f:
            rep = json.load(f)
        if rep["baseline"]["device"] != m.group(1):
            fail(f"report.json baseline {rep['baseline']['device']}, chosen {m.group(1)}")
        wl = rep["workloads"]
        if len(wl) != 5:
            fail(f"{len(wl)} workloads in report.json, expected 5")
        if rep["grid"]["g_per_kwh"] != 300:
            fail("grid intensity from QMX_GRID_INTENSITY not used")
        for w in wl:
            if not w["bit_exact"]:
                fail(f"{w['name']}: results differ")
            for side in ("cpu", "accelerator"):
                s = w[side]
                if s["energy_source"] not in ("measured", "modelled"):
                    fail(f"{w['name']} {side}: energy_source {s['energy_source']}")
                if not s["energy_j"] > 0:
                    fail(f"{w['name']} {side}: energy_j {s['energy_j']}")
                op = s["energy_j"] / 3.6e6 * 300
                if abs(s["carbon_operational_g"] - op) > 1e-3 * op:
                    fail(f"{w['name']} {side}: operational {s['carbon_operational_g']} != E*I {op}")
                sci = (op + s["carbon_embodied_g"]) / w["units"]
                if abs(s["sci_g_per_unit"] - sci) > 1e-3 * sci:
                    fail(f"{w['name']} {side}: SCI {s['sci_g_per_unit']} != {sci}")

        with open(os.path.join(out, "report.csv"), newline="") as f:
            lines = f.read().splitlines()
        if lines[0] != HEADER:
            fail(f"CSV header changed:\n{lines[0]}\n{HEADER}")
        rows = list(csv.DictReader(lines))
        if len(rows) != 10:
            fail(f"{len(rows)} CSV rows, expected 10")
        for r in rows:
            kwh = float(r["energy_j"]) / 3.6e6
            if abs(float(r["energy_consumed"]) - kwh) > 1e-3 * kwh:
                fail(f"energy_consumed {r['energy_consumed']} kWh != energy_j/3.6e6")
            kg = (float(r["emissions_operational_g"]) + float(r["emissions_embodied_g"])) / 1000
            if abs(float(r["emissions"]) - kg) > 1e-3 * kg:
                fail(f"emissions {r['emissions']} kg != operational + embodied")

        doc = xml.dom.minidom.parse(os.path.join(out, "report.svg"))
        if doc.documentElement.tagName != "svg":
            fail("report.svg root is not <svg>")
        if len(doc.getElementsByTagName("rect")) < 20:
            fail("report.svg has too few bars")
    print("PASS: report.json, report.csv and report.svg round-trip")


main()
