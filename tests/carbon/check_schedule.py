#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""`qmx schedule` on a shipped trace: the table, schedule.json (checked
against a recomputation from the trace's CSV) and schedule.svg (well-formed
XML with labelled axes; rendered to PNG when rsvg-convert is installed).

    check_schedule.py QMX_BINARY GRID_DIR JOBS_CSV
"""

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET


def fail(msg: str) -> None:
    print(f"FAIL: {msg}")
    sys.exit(1)


def parse_time(s: str) -> float:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def carbon(trace: dict[float, float], step: float, start: float, dur: float,
           kwh: float) -> float:
    """Energy spread evenly over [start, start + dur) x each window's value."""
    total, t, end, t0 = 0.0, start, start + dur, min(trace)
    while t < end - 1e-9:
        window = t - (t - t0) % step
        nxt = min(window + step, end)
        total += trace[window] * (nxt - t) / dur
        t = nxt
    return kwh * total


def main() -> int:
    qmx, grid_dir, jobs = sys.argv[1:4]
    grid = os.path.join(grid_dir, "gb-2023-03-13.csv")
    trace = {}
    with open(grid) as f:
        rows = [r for r in f if not r.startswith("#")]
    for r in csv.DictReader(rows):
        trace[parse_time(r["timestamp"])] = float(r["gco2_per_kwh"])
    with tempfile.TemporaryDirectory() as out:
        p = subprocess.run([qmx, "schedule", "--grid", grid, "--jobs", jobs,
                            "--out", out], capture_output=True, text=True,
                           timeout=60)
        print(p.stdout, p.stderr)
        if p.returncode != 0:
            fail(f"exit status {p.returncode}")
        for needle in ("policy: shift under trace's forecast",
                       "deadlines met 5/5", "wrote", "perfect foresight"):
            if needle not in p.stdout:
                fail(f"output lacks '{needle}'")
        with open(os.path.join(out, "schedule.json")) as f:
            rep = json.load(f)
        if rep["grid"]["kind"] != "average" or rep["grid"]["step_s"] != 1800:
            fail(f"grid description wrong: {rep['grid']}")
        if len(rep["jobs"]) != 5:
            fail("expected 5 jobs")
        tot_now = tot = 0.0
        for j in rep["jobs"]:
            arr, start = parse_time(j["arrival"]), parse_time(j["start"])
            dead, dur = parse_time(j["deadline"]), j["duration_s"]
            kwh = j["energy_j"] / 3.6e6
            if not (arr <= start and start + dur <= dead and j["deadline_met"]):
                fail(f"{j['id']}: start {j['start']} outside its window")
            # Carbon from the trace by hand, on arrival and where it ran.
            want_now = carbon(trace, 1800, arr, dur, kwh)
            want = carbon(trace, 1800, start, dur, kwh)
            if abs(j["carbon_on_arrival_g"] - want_now) > 1e-4 * want_now or \
                    abs(j["carbon_g"] - want) > 1e-4 * want:
                fail(f"{j['id']}: carbon {j['carbon_on_arrival_g']} / "
                     f"{j['carbon_g']}, recomputed {want_now} / {want}")
            if j["perfect_foresight_g"] > j["carbon_g"] + 1e-6:
                fail(f"{j['id']}: perfect foresight worse than the plan")
            tot_now += want_now
            tot += want
        if abs(rep["totals"]["carbon_g"] - tot) > 1e-3 * tot:
            fail("totals do not add up")
        if not tot < tot_now:
            fail(f"shifting saved nothing on this trace ({tot} vs {tot_now})")
        svg = os.path.join(out, "schedule.svg")
        root = ET.parse(svg).getroot()
        texts = " ".join(t.text or "" for t in root.iter(
            "{http://www.w3.org/2000/svg}text"))
        for needle in ("grid intensity (gCO2e/kWh)", "time (UTC", "train-a",
                       "batch-d", "actual intensity", "forecast"):
            if needle not in texts:
                fail(f"schedule.svg lacks the text '{needle}'")
        if shutil.which("rsvg-convert"):
            png = os.path.join(out, "schedule.png")
            subprocess.run(["rsvg-convert", "-o", png, svg], check=True,
                           timeout=60)
            if os.path.getsize(png) < 10000:
                fail("rendered PNG is implausibly small")
            print("rendered schedule.svg with rsvg-convert")
        else:
            print("note: rsvg-convert not installed; SVG checked as XML only")
    print("PASS: qmx schedule table, schedule.json and schedule.svg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
