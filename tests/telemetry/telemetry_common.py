# SPDX-License-Identifier: MIT
"""Helpers of the telemetry tests: a strict parser of the Prometheus text
exposition format, the exporter's life cycle, and jobs run with qmx gemm."""
import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import time
import urllib.request

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE = re.compile(r"^(" + NAME + r")(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_exposition(text):
    """{(name, frozenset(labels)): value}, and {name: type}.  Fails on
    anything the text format does not allow or Prometheus' naming guide
    advises against: a sample without HELP and TYPE, a counter not named
    *_total, a series twice, a value that is not a number."""
    types, helps, samples = {}, {}, {}
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert re.fullmatch(NAME, name) and help_text, f"line {n}: bad HELP: {line}"
            assert name not in helps, f"line {n}: second HELP for {name}"
            helps[name] = help_text
            continue
        if line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            assert typ in ("counter", "gauge", "untyped"), f"line {n}: type {typ}"
            assert name not in types, f"line {n}: second TYPE for {name}"
            types[name] = typ
            continue
        assert line and not line.startswith("#"), f"line {n}: stray line {line!r}"
        m = SAMPLE.match(line)
        assert m, f"line {n}: not a sample: {line!r}"
        name, labels_text, value = m.groups()
        assert name in types and name in helps, f"line {n}: {name} has no HELP/TYPE before it"
        if types[name] == "counter":
            assert name.endswith("_total"), f"line {n}: counter {name} not named *_total"
        assert name.startswith("qmx_"), f"line {n}: {name} lacks the qmx_ prefix"
        labels = {}
        rest = labels_text or ""
        while rest:
            lm = LABEL.match(rest)
            assert lm, f"line {n}: bad labels {labels_text!r}"
            labels[lm.group(1)] = re.sub(r"\\(.)", lambda e: "\n" if e.group(1) == "n" else e.group(1), lm.group(2))
            rest = rest[lm.end():]
        v = float(value)
        key = (name, frozenset(labels.items()))
        assert key not in samples, f"line {n}: series twice: {line}"
        samples[key] = v
    return samples, types


def value(samples, name, **labels):
    """The sample of `name` whose labels include `labels`; exactly one."""
    hits = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls]
    assert len(hits) == 1, f"{name}{labels}: {len(hits)} series"
    return hits[0]


def has(samples, name, **labels):
    return any(n == name and set(labels.items()) <= ls for (n, ls), _ in samples.items())


def stop_process(proc, timeout=20):
    """SIGTERM, then SIGKILL after `timeout` seconds; the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class Exporter:
    """`qmx exporter --listen 127.0.0.1:0` on a free port; stopped by stop()."""

    def __init__(self, qmx, journal, extra=()):
        self.proc = subprocess.Popen([qmx, "exporter", "--listen", "127.0.0.1:0",
                                      "--journal", journal, *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else ""
        m = re.search(r"serving (http://127\.0\.0\.1:(\d+)/metrics)", line)
        if not m:
            self.stop()
            raise AssertionError(f"exporter did not start: {line!r} {self.proc.stderr.read()!r}")
        self.url, self.port = m.group(1), int(m.group(2))

    def scrape(self):
        with urllib.request.urlopen(self.url, timeout=10) as r:
            ctype = r.headers.get("Content-Type", "")
            assert ctype.startswith("text/plain; version=0.0.4"), ctype
            return r.read().decode()

    def stop(self):
        rc = stop_process(self.proc)
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()
        return rc


def run_jobs(qmx, journal, device, count, rng):
    """count GEMMs of random shapes on `device` with the journal on; the
    per-job stats as qmx gemm printed them."""
    env = dict(os.environ, QMX_STATS_FILE=journal)
    out = []
    for _ in range(count):
        m, n, k = (rng.randint(1, 40) for _ in range(3))
        r = subprocess.run([qmx, "gemm", "--device", device, "--shape", f"{m}x{n}x{k}",
                            "--seed", str(rng.randint(1, 1 << 30)), "--json"],
                           env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        j = json.loads(r.stdout)
        j["stats"]["source"] = j["energy_source"]
        j["stats"]["uri"] = j["device"]
        out.append(j["stats"])
    return out


def expected(jobs):
    """What the exporter must report for these jobs of one device."""
    e = {"jobs": len(jobs)}
    for key in ("device_ns", "cycles", "macs", "ext_bytes_read", "ext_bytes_written",
                "sram_bytes_read", "sram_bytes_written"):
        e[key] = sum(j[key] for j in jobs)
    for key in ("energy_j", "carbon_operational_g", "carbon_embodied_g"):
        e[key] = sum(j[key] for j in jobs)
    e["measured_j"] = sum(j["energy_j"] for j in jobs if j["source"] == "measured")
    e["modelled_j"] = sum(j["energy_j"] for j in jobs if j["source"] == "modelled")
    return e


def close(a, b):
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-300


def check_device(samples, device, e, grid):
    """Compare one device's series with the expected totals; list of errors."""
    got = {
        "jobs": value(samples, "qmx_jobs_total", device=device),
        "device_ns": value(samples, "qmx_busy_seconds_total", device=device) * 1e9,
        "cycles": value(samples, "qmx_cycles_total", device=device),
        "macs": value(samples, "qmx_macs_total", device=device),
        "ext_bytes_read": value(samples, "qmx_memory_read_bytes_total", device=device, memory="offchip"),
        "ext_bytes_written": value(samples, "qmx_memory_written_bytes_total", device=device, memory="offchip"),
        "sram_bytes_read": value(samples, "qmx_memory_read_bytes_total", device=device, memory="onchip"),
        "sram_bytes_written": value(samples, "qmx_memory_written_bytes_total", device=device, memory="onchip"),
        "measured_j": value(samples, "qmx_energy_joules_total", device=device, source="measured"),
        "modelled_j": value(samples, "qmx_energy_joules_total", device=device, source="modelled"),
        "carbon_operational_g": value(samples, "qmx_operational_carbon_grams_total", device=device),
        "carbon_embodied_g": value(samples, "qmx_embodied_carbon_grams_total", device=device),
        "grid": value(samples, "qmx_grid_intensity_grams_per_kilowatt_hour", device=device),
    }
    want = dict(e, grid=grid)
    errors = []
    for k, v in got.items():
        # Integers exactly; sums of doubles to 1e-9 (summed in another order).
        ok = v == want[k] if isinstance(want[k], int) and k != "device_ns" else close(v, want[k])
        if k == "device_ns":
            ok = abs(v - want[k]) <= 1e-6 * max(1, want[k])
        if not ok:
            errors.append(f"{device} {k}: exporter {v!r}, jobs {want[k]!r}")
    return errors


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seeded_rng():
    seed = int(os.environ.get("QMX_TEST_SEED", time.time_ns() % 1000000))
    print(f"seed {seed} (QMX_TEST_SEED={seed} to repeat)", flush=True)
    return random.Random(seed)
