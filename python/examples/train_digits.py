#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Quantization-aware training of a 64-128-10 MLP on the digits set.

The forward GEMMs run in int8 on a qmx device through ``qmx.torch.QLinear``
(straight-through estimator in the backward), next to the same model in
fp32 PyTorch from the same initial weights and batch order.

Data: the 1,797 8x8 images of scikit-learn's digits set, as Debian's
python3-sklearn ships it (read directly, sklearn is not imported); pixels
0..16 scaled to [0, 1].  Split: image i is a test image when i % 5 == 4
(1,438 training, 359 test images) - the split of host-examples/train_digits.

    /usr/bin/python3 python/examples/train_digits.py --device sim --epochs 20

Carbon-aware (docs/carbon-aware.md): ``--carbon-aware TRACE`` pauses between
epochs while the grid is above ``--threshold`` (checkpointing the model and
optimizer, resuming from the checkpoint) and counts each epoch's carbon at
the time it ran.  By default time is simulated: the run starts at
``--start`` on the trace and each epoch takes ``--epoch-minutes``, so a past
trace replays in seconds; ``--wall-clock`` uses real time (and real waits).

    /usr/bin/python3 python/examples/train_digits.py --mode qat --epochs 12 \
        --carbon-aware hw/energy/grid/gb-2023-03-13.csv \
        --start 2023-03-14T06:00:00Z --threshold 150
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from torch import nn

import qmx
import qmx.carbon as qcarbon
import qmx.torch as qtorch

DIGITS = Path("/usr/lib/python3/dist-packages/sklearn/datasets/data/"
              "digits.csv.gz")


def load_digits(path: Optional[Path] = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """The digits images (float32, N x 64 in [0, 1]) and labels (int64)."""
    path = Path(path or os.environ.get("QMX_DIGITS_CSV") or DIGITS)
    if not path.exists():
        raise FileNotFoundError(
            f"digits data set not found at {path}: it ships with Debian's "
            "python3-sklearn (apt-get install python3-sklearn), or set "
            "QMX_DIGITS_CSV")
    with gzip.open(path, "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.float64)
    if data.ndim != 2 or data.shape[1] != 65:
        raise ValueError(f"{path}: expected 65 columns, got shape "
                         f"{data.shape}")
    x = (data[:, :64] / 16.0).astype(np.float32)
    y = data[:, 64].astype(np.int64)
    if x.min() < 0 or x.max() > 1 or y.min() < 0 or y.max() > 9:
        raise ValueError(f"{path}: pixels outside 0..16 or labels outside "
                         "0..9")
    return x, y


def split(x: np.ndarray, y: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fixed split: index i % 5 == 4 is test, the rest is training."""
    test = np.arange(len(x)) % 5 == 4
    return x[~test], y[~test], x[test], y[test]


def make_model(qat: bool, device: Optional[qmx.Device], seed: int,
               meter: Any = None) -> nn.Module:
    """The MLP; with ``qat`` its two linear layers are QLinear on device."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    if qat:
        qtorch.quantize_model(model, device=device, meter=meter)
    return model


@dataclass
class Epoch:
    """One epoch's figures."""

    loss: float
    accuracy: float
    seconds: float          # the system's time (see sim_seconds)
    sim_seconds: float = 0.0  # host wall time spent simulating the device
    host_j: Optional[float] = None
    device_j: Optional[float] = None
    carbon_g: Optional[float] = None
    method: str = ""
    grid: Optional[float] = None  # gCO2e/kWh while it ran (carbon-aware)
    started: str = ""             # when it started (carbon-aware)


@dataclass
class Run:
    """A whole training run."""

    name: str
    epochs: list[Epoch] = field(default_factory=list)
    carbon: Optional[dict[str, Any]] = None

    @property
    def accuracy(self) -> float:
        """Final test accuracy."""
        return self.epochs[-1].accuracy


def _meter(what: str) -> Optional[qmx.Meter]:
    try:
        return qmx.Meter(what)
    except qmx.QmxError as exc:
        print(f"note: no energy meter '{what}' ({exc}); time only",
              file=sys.stderr)
        return None


def train(qat: bool, device_uri: str = "cpu", epochs: int = 20,
          batch: int = 32, lr: float = 0.05, momentum: float = 0.9,
          seed: int = 42, data: Optional[Path] = None,
          log: Any = print,
          carbon: Optional[qcarbon.CarbonAwareLoop] = None,
          epoch_s: Optional[float] = None) -> Run:
    """Train and evaluate; returns per-epoch loss, accuracy, time, energy.

    With `carbon`, each epoch waits behind ``carbon.gate()`` and its carbon
    is counted at the time it ran; `epoch_s` advances a simulated clock by
    that much per epoch."""
    x, y = load_digits(data)
    xtr, ytr, xte, yte = (torch.from_numpy(a) for a in split(x, y))
    device = qmx.Device(device_uri) if qat else None
    on_cpu = device is None or device.info["backend"].startswith("cpu")
    host_meter = _meter("cpu")
    dev_meter = None if on_cpu else _meter(device.uri)
    # Every device job goes to both meters: the device meter sums the jobs'
    # energy, the host meter leaves the host's time simulating them out
    # (the system as it would run: host work + device time at its clock).
    model = make_model(qat, device, seed,
                       [m for m in (dev_meter, host_meter) if m] or None)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    gen = torch.Generator().manual_seed(seed)
    name = f"int8-QAT on {device.uri}" if qat else "fp32 PyTorch on the CPU"
    run = Run(name)
    log(f"{name}: batch {batch}, lr {lr}, momentum {momentum}, seed {seed}, "
        f"{len(xtr)} train / {len(xte)} test images")
    if carbon and not carbon.checkpoint:
        carbon.checkpoint, carbon.resume = qcarbon.state_checkpoint(model, opt)
    for ep in range(1, epochs + 1):
        if carbon:
            carbon.gate()
            carbon.begin()
        t0 = time.perf_counter()
        for m in (host_meter, dev_meter):
            if m:
                m.start()
        order = torch.randperm(len(xtr), generator=gen)
        total = 0.0
        model.train()
        for s in range(0, len(xtr), batch):
            idx = order[s:s + batch]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xtr[idx]), ytr[idx],
                                               reduction="sum")
            total += float(loss)
            (loss / len(idx)).backward()
            opt.step()
        model.eval()
        with torch.no_grad():  # in chunks of 128 images, as the C example
            correct = sum(int((model(xte[s:s + 128]).argmax(1)
                               == yte[s:s + 128]).sum())
                          for s in range(0, len(xte), 128))
        acc = correct / len(xte)
        e = Epoch(total / len(xtr), acc, time.perf_counter() - t0)
        if host_meter:
            r = host_meter.stop()
            e.host_j, e.carbon_g = r["joules"], r["carbon_g"]
            e.method = f"{r['source_name']} {r['method']}"
            # The system's time: wall time less the simulator's, plus the
            # device's own time at its clock.
            e.seconds, e.sim_seconds = r["seconds"], r["sim_seconds"]
        if dev_meter:
            r = dev_meter.stop()
            e.device_j = r["joules"]
            e.carbon_g = (e.carbon_g or 0.0) + r["carbon_g"]
        if carbon:
            started = carbon.clock.now()
            if epoch_s:
                carbon.clock.advance(epoch_s)
            # Time-resolved: the operational carbon at the time it ran.
            rec = carbon.record((e.host_j or 0.0) + (e.device_j or 0.0))
            e.carbon_g, e.grid = rec["carbon_g"], rec["g_per_kwh"]
            e.started = qcarbon.format_time(started)
        run.epochs.append(e)
        line = (f"{name} epoch {ep:2d}: loss {e.loss:.4f}  test accuracy "
                f"{100 * acc:.2f} %  time {e.seconds:.3f} s")
        if e.sim_seconds:
            line += f" (+ {e.sim_seconds:.3f} s simulating, not counted)"
        if e.host_j is not None:
            line += f"  host {e.host_j:.3f} J ({e.method})"
        if e.device_j is not None:
            line += f"  device {e.device_j:.3g} J"
        if e.carbon_g is not None:
            line += f"  {e.carbon_g:.3g} gCO2e"
        if carbon:
            line += f" at {e.grid:.0f} gCO2e/kWh from {e.started}"
        log(line)
    if carbon:
        run.carbon = carbon.report()
    return run


def main(argv: Optional[list[str]] = None) -> int:
    """Command line: QAT on --device and the fp32 baseline, then a summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", help="qmx device URI")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--mode", choices=["qat", "fp32", "both"], default="both")
    ap.add_argument("--min-accuracy", type=float, default=0.95)
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless each run's loss fell and its test "
                    "accuracy is >= --min-accuracy")
    ap.add_argument("--carbon-aware", metavar="TRACE", default=None,
                    help="grid-intensity trace: pause between epochs above "
                    "--threshold")
    ap.add_argument("--threshold", type=float, default=None,
                    help="gCO2e/kWh above which training pauses (default: "
                    "the trace's median)")
    ap.add_argument("--start", default=None,
                    help="simulated start time, ISO-8601 UTC (default: the "
                    "trace's start)")
    ap.add_argument("--epoch-minutes", type=float, default=60.0,
                    help="simulated length of one epoch (default 60)")
    ap.add_argument("--max-pause-hours", type=float, default=24.0)
    ap.add_argument("--deadline-hours", type=float, default=None,
                    help="first wait for the start the shifting policy picks "
                    "for the whole run (epochs x --epoch-minutes) to end "
                    "within this many hours")
    ap.add_argument("--wall-clock", action="store_true",
                    help="real time and real waits instead of a simulated "
                    "clock")
    args = ap.parse_args(argv)
    if args.epochs < 1 or args.batch < 1:
        ap.error("--epochs and --batch must be >= 1")
    if args.epoch_minutes <= 0 or args.max_pause_hours < 0:
        ap.error("--epoch-minutes must be > 0 and --max-pause-hours >= 0")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    runs = []
    try:
        trace = (qcarbon.GridTrace(args.carbon_aware) if args.carbon_aware
                 else None)
        if trace and args.threshold is None:
            values = sorted(a for _, a, _ in trace.samples() if a == a)
            args.threshold = values[len(values) // 2]
        if args.threshold is not None and args.threshold < 0:
            ap.error("--threshold must be >= 0 gCO2e/kWh")

        def gate() -> Optional[qcarbon.CarbonAwareLoop]:
            if not trace:
                return None
            clock = (qcarbon.WallClock() if args.wall_clock else
                     qcarbon.SimClock(args.start or trace.start))
            loop = qcarbon.CarbonAwareLoop(
                trace, args.threshold, clock=clock,
                max_pause_s=args.max_pause_hours * 3600)
            if args.deadline_hours:
                loop.wait_for_window(args.epochs * args.epoch_minutes * 60,
                                     clock.now() + args.deadline_hours * 3600)
            return loop
        epoch_s = (None if args.wall_clock or not trace
                   else args.epoch_minutes * 60)
        if trace:
            print(f"carbon-aware on {trace.info['name']} "
                  f"({trace.info['kind_name']} intensity): pause above "
                  f"{args.threshold:.0f} gCO2e/kWh, "
                  + ("wall clock" if args.wall_clock else
                     f"simulated clock from "
                     f"{qcarbon.format_time(args.start or trace.start)}, "
                     f"{args.epoch_minutes:g} min per epoch"))
        if args.mode in ("qat", "both"):
            runs.append(train(True, args.device, args.epochs, args.batch,
                              args.lr, seed=args.seed, data=args.data,
                              carbon=gate(), epoch_s=epoch_s))
        if args.mode in ("fp32", "both"):
            runs.append(train(False, epochs=args.epochs, batch=args.batch,
                              lr=args.lr, seed=args.seed, data=args.data,
                              carbon=gate(), epoch_s=epoch_s))
    except (FileNotFoundError, qmx.QmxError) as exc:
        print(f"train_digits: {exc}", file=sys.stderr)
        return 1
    print(f"\nsummary ({args.epochs} epochs):")
    rc = 0
    for r in runs:
        secs = sum(e.seconds for e in r.epochs)
        sim = sum(e.sim_seconds for e in r.epochs)
        host = sum(e.host_j or 0.0 for e in r.epochs)
        dev = sum(e.device_j or 0.0 for e in r.epochs)
        line = (f"  {r.name:28s} test accuracy {100 * r.accuracy:.2f} %  "
                f"loss {r.epochs[0].loss:.4f} -> {r.epochs[-1].loss:.4f}  "
                f"time {secs:.2f} s  energy {host + dev:.2f} J")
        if any(e.device_j is not None for e in r.epochs):
            line += f" (host {host:.2f} J + device {dev:.3g} J, modelled)"
        if sim:
            line += (f"\n  {'':28s} simulation wall time {sim:.2f} s: the "
                     f"simulator's, not counted")
        print(line)
        if r.carbon:
            c = r.carbon
            print(f"    carbon-aware: {c['carbon_g']:.4g} gCO2e vs "
                  f"{c['carbon_unpaused_g']:.4g} gCO2e run straight away "
                  f"({c['saved_percent']:+.1f} % saved), {c['pauses']} "
                  f"pause(s), {c['paused_s'] / 3600:.1f} h paused "
                  f"({c['kind']} intensity)")
        if args.check:
            if not r.epochs[-1].loss < r.epochs[0].loss:
                print(f"CHECK FAILED: {r.name}: loss did not decrease")
                rc = 1
            if not r.accuracy >= args.min_accuracy:
                print(f"CHECK FAILED: {r.name}: accuracy {r.accuracy:.4f} < "
                      f"{args.min_accuracy}")
                rc = 1
    if len(runs) == 2:
        print(f"  accuracy gap (fp32 - int8-QAT): "
              f"{100 * (runs[1].accuracy - runs[0].accuracy):+.2f} points")
    return rc


if __name__ == "__main__":
    sys.exit(main())
