#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qmx exporter scraped by a real Prometheus server (Debian's prometheus):
the server runs on loopback with a generated config scraping the exporter
every second; jobs run on each device; Prometheus' HTTP API is queried
until the series arrive (bounded wait) and must equal the jobs' stats.

usage: test_prometheus.py QMX PROMETHEUS DEVICE [DEVICE...]"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from telemetry_common import (Exporter, close, expected, free_port, run_jobs, seeded_rng,
                              stop_process)

GRID = 123.0
WAIT_S = 60  # for the first scrapes to land; each takes a second


def query(api, expr):
    url = f"{api}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return {tuple(sorted((k, v) for k, v in s["metric"].items() if k not in ("instance", "job"))):
            float(s["value"][1]) for s in body["data"]["result"]}


def main():
    qmx, prometheus, devices = sys.argv[1], sys.argv[2], sys.argv[3:]
    rng = seeded_rng()
    os.environ["QMX_GRID_INTENSITY"] = str(GRID)
    errors = []
    with tempfile.TemporaryDirectory(prefix="qmx-prom-") as tmp:
        journal = os.path.join(tmp, "jobs.log")
        ex = Exporter(qmx, journal)
        prom = log = None
        try:
            port = free_port()
            cfg = os.path.join(tmp, "prometheus.yml")
            with open(cfg, "w") as f:
                f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                        "scrape_configs:\n  - job_name: qmx\n    static_configs:\n"
                        f"      - targets: ['127.0.0.1:{ex.port}']\n")
            log = open(os.path.join(tmp, "prometheus.log"), "w")
            prom = subprocess.Popen([prometheus, f"--config.file={cfg}",
                                     f"--storage.tsdb.path={tmp}/data",
                                     f"--web.listen-address=127.0.0.1:{port}"],
                                    stdout=log, stderr=subprocess.STDOUT)
            api = f"http://127.0.0.1:{port}"
            jobs = {dev: run_jobs(qmx, journal, dev, rng.randint(2, 4), rng) for dev in devices}
            want = {}
            for js in jobs.values():
                e = expected(js)
                uri = js[0]["uri"]
                want[("qmx_jobs_total", uri)] = e["jobs"]
                want[("qmx_macs_total", uri)] = e["macs"]
                want[("qmx_cycles_total", uri)] = e["cycles"]
                want[("qmx_operational_carbon_grams_total", uri)] = e["carbon_operational_g"]
                want[("qmx_energy_joules_total", uri)] = e["energy_j"]  # summed over source
                want[("qmx_grid_intensity_grams_per_kilowatt_hour", uri)] = GRID
            deadline = time.monotonic() + WAIT_S
            got, last_err = {}, None
            while time.monotonic() < deadline:
                if prom.poll() is not None:
                    break
                try:
                    got = {}
                    for name in {n for n, _ in want}:
                        expr = f"sum by (device) ({name})"
                        for labels, v in query(api, expr).items():
                            got[(name, dict(labels)["device"])] = v
                    if all(k in got and close(got[k], v) for k, v in want.items()):
                        break
                except OSError as err:  # not listening yet
                    last_err = err
                time.sleep(0.5)
            for k, v in want.items():
                if k not in got:
                    errors.append(f"{k}: not in Prometheus after {WAIT_S} s ({last_err})")
                elif not close(got[k], v):
                    errors.append(f"{k}: Prometheus {got[k]!r}, jobs {v!r}")
                else:
                    print(f"ok: {k[0]}{{device=\"{k[1]}\"}} {got[k]!r}")
        finally:
            if prom:
                stop_process(prom)
            if log:
                log.close()
            ex.stop()
        if errors:
            with open(os.path.join(tmp, "prometheus.log")) as f:
                print(f.read()[-3000:])
    for e in errors:
        print("FAIL:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
