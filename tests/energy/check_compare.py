#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run `qmx compare --workloads small --pue 1.5` and check its reports: the
boundary (chip + host share, PUE, both ratios) in the table and report.json,
every modelled joule recomputable from report.json's counters and actions,
emissions.csv with exactly CodeCarbon 2.4.2's columns (emissions operational
only, the accelerator in gpu_energy), report.csv with those columns first and
qmx's after, one row per side per workload, and report.svg well-formed XML."""
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.dom.minidom

QMX_COLUMNS = ("emissions_embodied,duration_kind,simulation_wall_s,workload,"
               "functional_unit,units,device,backend,role,energy_source,energy_method,energy_j,"
               "chip_energy_j,host_energy_j,emissions_operational_g,emissions_embodied_g,"
               "sci_g_per_unit,grid_g_per_kwh,speedup,speedup_chip,energy_ratio,"
               "energy_ratio_chip,breakeven_jobs_per_day,bit_exact")


def codecarbon_columns():
    """CodeCarbon 2.4.2's emissions.csv columns, from the test data (with its source)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                        "codecarbon_2.4.2_columns.txt")
    with open(path) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def near(a, b, rel=1e-3):
    return abs(a - b) <= rel * abs(b) + 1e-15


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    qmx, device = sys.argv[1], sys.argv[2]
    cc_cols = codecarbon_columns()
    if len(cc_cols) != 31:
        fail(f"{len(cc_cols)} CodeCarbon columns in the test data, expected 31")
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, QMX_GRID_INTENSITY="300")
        env.pop("QMX_PUE", None)
        p = subprocess.run([qmx, "compare", "--workloads", "small", "--device", device,
                            "--out", out, "--pue", "1.5"], capture_output=True, text=True,
                           env=env, timeout=600)
        print(p.stdout)
        print(p.stderr, file=sys.stderr)
        if p.returncode != 0:
            fail(f"qmx compare exited {p.returncode}")
        for needle in ("bit-exact", "speed-up", "break-even", "gCO2e/kWh", "boundary:",
                       "PUE 1.5", "chip only (incremental)", "system",
                       "CPU power model:", "+ host share"):
            if needle not in p.stdout:
                fail(f"'{needle}' missing from the table")
        if device.startswith("sim"):
            # The simulated chip names its target profile in the header and
            # in every accelerator row, and shows its energy by action.
            for needle in ("target profile asic-28nm: asic at 28 nm, 700 MHz",
                           f"{device} [asic-28nm] (model:counters) chip only",
                           "chip energy by action (modelled,", " clock ", " DRAM "):
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
        prof = rep["accelerator"].get("profile")
        if device.startswith("sim") and (not prof or prof["name"] != "asic-28nm"
                                         or prof["node_nm"] != 28 or prof["clock_mhz"] != 700):
            fail(f"report.json accelerator profile {prof}")
        if not device.startswith("sim") and prof:
            fail(f"report.json names a profile for {device}: {prof}")
        wl = rep["workloads"]
        if len(wl) != 5:
            fail(f"{len(wl)} workloads in report.json, expected 5")
        if rep["grid"]["g_per_kwh"] != 300:
            fail("grid intensity from QMX_GRID_INTENSITY not used")
        if rep["pue"]["value"] != 1.5 or "Uptime" not in rep["pue"]["typical_source"]:
            fail(f"pue {rep['pue']}")
        if "host server's share" not in rep["boundary"]:
            fail("the boundary is not in report.json")
        if not rep["host"]["cpu_power_model"]:
            fail("the CPU model's choice is not in report.json")
        simulated = rep["accelerator"]["simulated"]
        for w in wl:
            if not w["bit_exact"]:
                fail(f"{w['name']}: results differ")
            for side in ("cpu", "accelerator"):
                s = w[side]
                if s["energy_source"] not in ("measured", "modelled"):
                    fail(f"{w['name']} {side}: energy_source {s['energy_source']}")
                if not s["energy_j"] > 0:
                    fail(f"{w['name']} {side}: energy_j {s['energy_j']}")
                # System = chip + host share; PUE on operational energy.
                if not near(s["energy_j"], s["chip"]["energy_j"] + s["host_share"]["energy_j"]):
                    fail(f"{w['name']} {side}: energy != chip + host share")
                op = s["energy_j"] * 1.5 / 3.6e6 * 300
                if not near(s["carbon_operational_g"], op):
                    fail(f"{w['name']} {side}: operational {s['carbon_operational_g']} != E*PUE*I {op}")
                sci = (op + s["carbon_embodied_g"]) / w["units"]
                if not near(s["sci_g_per_unit"], sci):
                    fail(f"{w['name']} {side}: SCI {s['sci_g_per_unit']} != {sci}")
                # Every modelled joule recomputed from count x pJ each.
                acts = s["energy_by_action"]
                if acts is None:
                    fail(f"{w['name']} {side}: no energy_by_action")
                for a in acts:
                    if not near(a["joules"], a["count"] * a["pj_each"] * 1e-12, 1e-5):
                        fail(f"{w['name']} {side}: {a['action']} count x pJ != joules")
                total = sum(a["joules"] for a in acts)
                if s["energy_source"] == "modelled" and not near(total, s["chip"]["energy_j"]):
                    fail(f"{w['name']} {side}: actions sum {total} != chip {s['chip']['energy_j']}")
                c = s["counters"]
                if c["macs"] != w["macs"] or not c["dram_bytes_read"] > 0:
                    fail(f"{w['name']} {side}: counters {c}")
                # Per GEMM too, and the GEMMs add up to the whole.
                per = s["per_gemm"]
                if len(per) != len(w["gemms"]):
                    fail(f"{w['name']} {side}: {len(per)} per_gemm entries")
                for g, gemm in zip(per, w["gemms"]):
                    if g["counters"]["macs"] != gemm["m"] * gemm["n"] * gemm["k"]:
                        fail(f"{w['name']} {side}: per-GEMM MACs {g['counters']}")
                    for a in g["energy_by_action"]:
                        if not near(a["joules"], a["count"] * a["pj_each"] * 1e-12, 1e-5):
                            fail(f"{w['name']} {side}: per-GEMM {a['action']} count x pJ != joules")
                if not near(sum(g["energy_by_action_total_j"] for g in per), total):
                    fail(f"{w['name']} {side}: per-GEMM energy does not add up")
            a = w["accelerator"]
            if a["backend"].startswith("cpu"):
                # A CPU standing in for the accelerator is the host itself.
                if a["host_share"]["energy_j"] != 0:
                    fail(f"{w['name']}: a CPU device charged a host share on top")
            elif not a["host_share"]["energy_j"] > 0 or not a["host_share"]["thread_held_s"] > 0:
                fail(f"{w['name']}: the accelerator is charged no host share")
            if not near(w["energy_ratio_chip"], a["chip"]["energy_j"] / w["cpu"]["energy_j"]) or \
               not near(w["energy_ratio"], a["energy_j"] / w["cpu"]["energy_j"]):
                fail(f"{w['name']}: energy ratios")
            if simulated:
                # Device time at the chip's clock; the simulator shown apart.
                if a["time_kind"] != "device+host" or not a["simulation"]["wall_s"] > 0:
                    fail(f"{w['name']}: simulated device time not labelled")
                if not a["time_s"] >= a["chip"]["time_s"]:
                    fail(f"{w['name']}: system time below device time")

        with open(os.path.join(out, "emissions.csv"), newline="") as f:
            lines = f.read().splitlines()
        if lines[0].split(",") != cc_cols:
            fail(f"emissions.csv header is not CodeCarbon 2.4.2's:\n{lines[0]}")
        with open(os.path.join(out, "report.csv"), newline="") as f:
            lines = f.read().splitlines()
        if lines[0] != ",".join(cc_cols) + "," + QMX_COLUMNS:
            fail(f"report.csv header changed:\n{lines[0]}")
        rows = list(csv.DictReader(lines))
        if len(rows) != 10:
            fail(f"{len(rows)} CSV rows, expected 10")
        for r in rows:
            kwh = float(r["energy_j"]) / 3.6e6
            if not near(float(r["energy_consumed"]), kwh):
                fail(f"energy_consumed {r['energy_consumed']} kWh != energy_j/3.6e6")
            parts = float(r["cpu_energy"]) + float(r["gpu_energy"]) + float(r["ram_energy"])
            if not near(parts, kwh):
                fail(f"cpu + gpu + ram energy {parts} != energy_consumed {kwh}")
            # As CodeCarbon: emissions is operational only; embodied apart.
            kg = float(r["emissions_operational_g"]) / 1000
            if not near(float(r["emissions"]), kg):
                fail(f"emissions {r['emissions']} kg != operational {kg}")
            if not near(float(r["emissions_embodied"]), float(r["emissions_embodied_g"]) / 1000):
                fail("emissions_embodied (kg) != emissions_embodied_g / 1000")
            if float(r["pue"]) != 1.5 or r["on_cloud"] != "N":
                fail(f"pue {r['pue']}, on_cloud {r['on_cloud']}")
            if r["role"] == "accelerator" and r["backend"].startswith("cpu"):
                # A CPU standing in for the accelerator: CPU energy.
                if float(r["gpu_energy"]) != 0 or r["gpu_count"] != "0":
                    fail("CPU device row: its energy is not gpu_energy")
            elif r["role"] == "accelerator":
                # Accelerator energy where CodeCarbon puts accelerators.
                if not near(float(r["gpu_energy"]) * 3.6e6, float(r["chip_energy_j"])):
                    fail("accelerator row: gpu_energy != the chip's energy")
                if r["gpu_count"] != "1":
                    fail("accelerator row: gpu_count != 1")
                if r["duration_kind"] != ("device+host" if simulated else "wall"):
                    fail(f"accelerator row: duration_kind {r['duration_kind']}")
            elif r["duration_kind"] != "wall" or float(r["gpu_energy"]) != 0:
                fail("CPU row: duration_kind must be wall, gpu_energy 0")

        doc = xml.dom.minidom.parse(os.path.join(out, "report.svg"))
        if doc.documentElement.tagName != "svg":
            fail("report.svg root is not <svg>")
        if len(doc.getElementsByTagName("rect")) < 20:
            fail("report.svg has too few bars")
    print("PASS: report.json, report.csv and report.svg round-trip")


main()
