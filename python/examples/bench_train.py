#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Per-step time and energy of the digits training step, side by side.

Runs the same 64-128-10 MLP training step (batch 32, SGD) as
``train_digits.py`` in one process:

  * int8-QAT with ``qmx.torch.QLinear`` on each qmx device given
    (default: cpu, and sim when built), once per GEMM (forward on the
    device, backward in float on the host) and once with
    ``QLinear(batch=True)`` (each layer's forward, and its two backward
    GEMMs, as one qmx batch each, all on the device),
  * fp32 PyTorch on the CPU - the reference a user would otherwise run,

and prints a Markdown table: wall time per step (median and mean), device
busy time per step (what the accelerator itself took: cycles / clock for
the simulated one), the host's own time per step (wall time minus the
time spent simulating a simulated device: the runtime's, Python's and
PyTorch's work, the per-step host overhead), jobs and batches per step,
host CPU energy per step from ``qmx.Meter("cpu")``
(measured with RAPL where readable, else modelled - the table says which),
device energy per step from the jobs' accounting, and gCO2e per step.

    /usr/bin/python3 python/examples/bench_train.py --steps 40
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any, Optional

import torch
from torch import nn

import qmx
import qmx.torch as qtorch
import train_digits


def _meter(what: str) -> Optional[qmx.Meter]:
    try:
        return qmx.Meter(what)
    except qmx.QmxError as exc:
        print(f"note: no meter '{what}': {exc}", file=sys.stderr)
        return None


def bench(label: str, uri: Optional[str], steps: int, warmup: int,
          batch: int, seed: int, batched: bool = False) -> dict[str, Any]:
    """Time and meter ``steps`` training steps after ``warmup`` steps."""
    x, y = train_digits.load_digits()
    xtr, ytr, _, _ = (torch.from_numpy(a) for a in train_digits.split(x, y))
    device = qmx.Device(uri) if uri else None
    on_cpu = device is None or device.info["backend"].startswith("cpu")
    dev_meter = None if on_cpu else _meter(device.uri)
    model = train_digits.make_model(uri is not None, device, seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(xtr), generator=gen)
    qlayers = [m for m in model.modules() if isinstance(m, qtorch.QLinear)]
    for q in qlayers:
        q.batch = batched

    def step(i: int) -> None:
        s = (i * batch) % (len(xtr) - batch)
        idx = order[s:s + batch]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
        loss.backward()
        opt.step()

    for i in range(warmup):
        step(i)
    host = _meter("cpu")
    for q in qlayers:  # jobs count from here on; the host meter leaves a
        # simulator's own time out of the host's figures
        q.meters = [m for m in (dev_meter, host) if m]
    dev_ns0 = sum(q.device_ns for q in qlayers)
    jobs0 = sum(q.jobs for q in qlayers)
    batches0 = sum(q.batches for q in qlayers)
    times, own = [], []
    for m in (host, dev_meter):
        if m:
            m.start()
    for i in range(warmup, warmup + steps):
        sim0 = sum(q.sim_wall_ns for q in qlayers)
        t0 = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - t0)
        own.append(times[-1] - 1e-9 * (sum(q.sim_wall_ns for q in qlayers)
                                       - sim0))
    hr = host.stop() if host else None
    dr = dev_meter.stop() if dev_meter else None
    dev_ns = sum(q.device_ns for q in qlayers) - dev_ns0
    carbon = (hr["carbon_g"] if hr else 0.0) + (dr["carbon_g"] if dr else 0.0)
    return {
        "label": label,
        "median_ms": 1e3 * statistics.median(times),
        "mean_ms": 1e3 * statistics.fmean(times),
        "device_ms": 1e-6 * dev_ns / steps if qlayers else None,
        "host_own_ms": 1e3 * statistics.median(own),
        "jobs": (sum(q.jobs for q in qlayers) - jobs0) / steps,
        "batches": (sum(q.batches for q in qlayers) - batches0) / steps,
        "host_mj": 1e3 * hr["joules"] / steps if hr else None,
        "host_how": f"{hr['source_name']} {hr['method']}" if hr else "-",
        "device_mj": 1e3 * dr["joules"] / steps if dr else None,
        "device_how": dr["source_name"] if dr else "-",
        "ug_co2e": 1e6 * carbon / steps,
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _fmt(v: Optional[float], spec: str = ".3f") -> str:
    return "-" if v is None else format(v, spec)


def main(argv: Optional[list[str]] = None) -> int:
    """Command line: benchmark every configuration, print one table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", default=None,
                    help="comma-separated qmx URIs (default: cpu, and sim "
                    "when built)")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    if args.steps < 1 or args.warmup < 0 or not 1 <= args.batch <= 512:
        ap.error("--steps >= 1, --warmup >= 0, 1 <= --batch <= 512")
    if args.devices:
        uris = [u for u in args.devices.split(",") if u]
    else:
        uris = ["cpu"] + (["sim"] if "sim" in qmx.backends() else [])
    rows = []
    for u in uris:
        rows.append(bench(f"int8-QAT, qmx {u}, per GEMM", u, args.steps,
                          args.warmup, args.batch, args.seed))
        rows.append(bench(f"int8-QAT, qmx {u}, batches", u, args.steps,
                          args.warmup, args.batch, args.seed, batched=True))
    rows.append(bench("fp32 PyTorch, CPU", None, args.steps, args.warmup,
                      args.batch, args.seed))
    print(f"\n{args.steps} steps after {args.warmup} warm-up, batch "
          f"{args.batch}, torch threads {torch.get_num_threads()}\n")
    # Step times are host wall time (a simulator's included: this measures
    # the simulation too); host energy leaves the simulator's time out.
    print(f"CPU: {_cpu_model()}\n")
    print("| configuration | step median (ms, wall) | step mean (ms, wall) | "
          "host's own time (ms/step, median, simulator excluded) | "
          "jobs/step | batches/step | "
          "device busy (ms/step) | host energy (mJ/step, simulator excluded) | "
          "device energy (mJ/step) | µgCO2e/step |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['label']} | {r['median_ms']:.2f} | {r['mean_ms']:.2f} | "
              f"{r['host_own_ms']:.3f} | {r['jobs']:.0f} | {r['batches']:.0f} | "
              f"{_fmt(r['device_ms'])} | {_fmt(r['host_mj'], '.2f')} "
              f"({r['host_how']}) | {_fmt(r['device_mj'], '.4f')} "
              f"({r['device_how']}) | {r['ug_co2e']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
