#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qmx exporter against real jobs: the exporter serves /metrics on a free
loopback port; GEMMs of random (seeded) shapes run on each device in other
processes with the job journal on; a scrape must show, per device, exactly
the totals of the stats those jobs printed.  Then the same through
--textfile (atomic, node_exporter's format) and the HTTP edge cases.

usage: test_scrape.py QMX DEVICE [DEVICE...]"""
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from telemetry_common import (Exporter, check_device, expected, parse_exposition, run_jobs,
                              seeded_rng, stop_process, value)

GRID = 321.5  # gCO2e/kWh, set for the jobs so the gauge is known


def main():
    qmx, devices = sys.argv[1], sys.argv[2:]
    rng = seeded_rng()
    os.environ["QMX_GRID_INTENSITY"] = str(GRID)
    errors = []
    with tempfile.TemporaryDirectory(prefix="qmx-scrape-") as tmp:
        journal = os.path.join(tmp, "jobs.log")
        ex = Exporter(qmx, journal)
        try:
            # Before any job: the journal does not exist yet, no device.
            samples, types = parse_exposition(ex.scrape())
            assert value(samples, "qmx_exporter_journal_lines_total") == 0
            jobs = {}
            for dev in devices:
                jobs[dev] = run_jobs(qmx, journal, dev, rng.randint(2, 4), rng)
            # More jobs on the first device after a scrape: counted once.
            parse_exposition(ex.scrape())
            jobs[devices[0]] += run_jobs(qmx, journal, devices[0], 2, rng)
            samples, types = parse_exposition(ex.scrape())
            for dev, js in jobs.items():
                uri = js[0]["uri"]
                e = expected(js)
                print(f"{uri}: {e['jobs']} jobs, {e['macs']} MACs, {e['energy_j']:.6g} J")
                errors += check_device(samples, uri, e, GRID)
            assert value(samples, "qmx_exporter_journal_errors_total") == 0
            assert types["qmx_energy_joules_total"] == "counter"
            assert types["qmx_grid_intensity_grams_per_kilowatt_hour"] == "gauge"

            # The HTTP edges: an unknown path, a POST.
            for url, data, code in ((ex.url.replace("/metrics", "/nope"), None, 404),
                                    (ex.url, b"x", 405)):
                try:
                    urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10)
                    errors.append(f"{url} {'POST' if data else 'GET'}: no error")
                except urllib.error.HTTPError as err:
                    if err.code != code:
                        errors.append(f"{url}: HTTP {err.code}, expected {code}")
            # The port taken: one line naming the address and the reason.
            r = subprocess.run([qmx, "exporter", "--listen", f"127.0.0.1:{ex.port}"],
                               capture_output=True, text=True, timeout=30)
            if r.returncode != 1 or "Address already in use" not in r.stderr:
                errors.append(f"second exporter on port {ex.port}: exit {r.returncode}, {r.stderr!r}")
        finally:
            rc = ex.stop()
        if rc != 0:
            errors.append(f"exporter exited {rc} on SIGTERM")

        # The textfile collector's format: the same series, written whole.
        prom_dir = os.path.join(tmp, "textfile")
        os.mkdir(prom_dir)
        prom = os.path.join(prom_dir, "qmx.prom")
        r = subprocess.run([qmx, "exporter", "--journal", journal, "--textfile", prom, "--once"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert os.listdir(prom_dir) == ["qmx.prom"], os.listdir(prom_dir)
        with open(prom) as f:
            tsamples, _ = parse_exposition(f.read())
        for dev, js in jobs.items():
            errors += check_device(tsamples, js[0]["uri"], expected(js), GRID)
        # The textfile rewritten every --interval while jobs arrive.
        periodic = os.path.join(prom_dir, "periodic.prom")
        p = subprocess.Popen([qmx, "exporter", "--journal", journal, "--textfile", periodic,
                              "--interval", "1"], stderr=subprocess.PIPE, text=True)
        try:
            more = run_jobs(qmx, journal, devices[0], 1, rng)
            jobs[devices[0]] += more
            want = expected(jobs[devices[0]])
            deadline, seen = time.monotonic() + 30, None
            while time.monotonic() < deadline:
                if os.path.exists(periodic):
                    with open(periodic) as f:
                        seen = value(parse_exposition(f.read())[0], "qmx_jobs_total",
                                     device=more[0]["uri"])
                    if seen == want["jobs"]:
                        break
                time.sleep(0.2)
            if seen != want["jobs"]:
                errors.append(f"periodic textfile: {seen} jobs, expected {want['jobs']}")
        finally:
            rc = stop_process(p)
            p.stderr.close()
        if rc != 0:
            errors.append(f"textfile exporter exited {p.returncode} on SIGTERM")
    for e in errors:
        print("FAIL:", e)
    if errors:
        return 1
    print("ok: the scrapes equal the jobs' stats on", ", ".join(devices))
    return 0


if __name__ == "__main__":
    sys.exit(main())
