#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Demand shaping: serve digit classification with a small or a large model
depending on the grid's carbon intensity.

Two MLPs are trained on the digits set (the split of train_digits.py): a
small 64-16-10 and a large 64-256-256-10.  Each one's test accuracy is
measured, and its energy per image with a qmx energy meter (RAPL where
readable, else the CPU-time x TDP model - the output says which).  Both are
registered as tiers of a ``qmx.carbon.Shaper``: the large model only at or
below ``--threshold`` gCO2e/kWh.  Then a day (or ``--hours``) of a grid trace
is replayed, ``--load`` images an hour: each hour the shaper picks the tier
by the intensity of that hour.  Printed: accuracy and carbon of each model,
and of always-large, always-small and the shaped service.

    /usr/bin/python3 python/examples/shape_digits.py \\
        --trace hw/energy/grid/us-caiso-2022-04-01.csv --hours 168
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Optional

import torch
from torch import nn

import qmx
import qmx.carbon as qcarbon
import train_digits


def build(sizes: list[int], seed: int) -> nn.Module:
    """An MLP with ReLU between the given layer widths."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def fit(model: nn.Module, xtr: torch.Tensor, ytr: torch.Tensor, epochs: int,
        seed: int) -> None:
    """SGD with momentum, batch 32, as train_digits."""
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(xtr), generator=gen)
        for s in range(0, len(xtr), 32):
            idx = order[s:s + 32]
            opt.zero_grad()
            nn.functional.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
            opt.step()


def evaluate(model: nn.Module, xte: torch.Tensor, yte: torch.Tensor,
             min_seconds: float) -> dict[str, Any]:
    """Test accuracy, and energy per image over repeated passes."""
    model.eval()
    with torch.no_grad():
        acc = float((model(xte).argmax(1) == yte).float().mean())
        meter = qmx.Meter("cpu")
        meter.start()
        t0, passes = time.perf_counter(), 0
        while time.perf_counter() - t0 < min_seconds or passes < 10:
            model(xte)
            passes += 1
        r = meter.stop()
        meter.close()
    images = passes * len(xte)
    return {"accuracy": acc, "j_per_image": r["joules"] / images,
            "source": f"{r['source_name']} ({r['method']})",
            "params": sum(p.numel() for p in model.parameters())}


def main(argv: Optional[list[str]] = None) -> int:
    """Train both tiers, then replay the trace with the shaper."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", required=True, help="grid-intensity trace")
    ap.add_argument("--start", default=None,
                    help="first hour, ISO-8601 UTC (default: trace start)")
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--load", type=float, default=1e6,
                    help="images served per hour (default 1e6)")
    ap.add_argument("--threshold", type=float, default=None,
                    help="gCO2e/kWh above which only the small model runs "
                    "(default: the trace's median)")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--min-seconds", type=float, default=0.3,
                    help="metering time per model (longer: steadier figures)")
    args = ap.parse_args(argv)
    if args.hours < 1 or args.epochs < 1 or args.load <= 0:
        ap.error("--hours, --epochs must be >= 1 and --load > 0")
    torch.set_num_threads(1)  # one core: the per-image energy is that core's
    try:
        trace = qcarbon.GridTrace(args.trace)
        x, y = train_digits.load_digits()
    except (FileNotFoundError, qmx.QmxError) as exc:
        print(f"shape_digits: {exc}", file=sys.stderr)
        return 1
    xtr, ytr, xte, yte = (torch.from_numpy(a) for a in train_digits.split(x, y))
    if args.threshold is None:
        values = sorted(a for _, a, _ in trace.samples() if a == a)
        args.threshold = values[len(values) // 2]

    tiers = {"small": [64, 16, 10], "large": [64, 256, 256, 10]}
    stats = {}
    for name, sizes in tiers.items():
        model = build(sizes, args.seed)
        fit(model, xtr, ytr, args.epochs, args.seed)
        stats[name] = evaluate(model, xte, yte, args.min_seconds)
        s = stats[name]
        print(f"{name:5s} {'-'.join(map(str, sizes)):16s} {s['params']:6d} "
              f"parameters: test accuracy {100 * s['accuracy']:.2f} %, "
              f"{s['j_per_image'] * 1e6:.2f} uJ per image, {s['source']}")

    shaper = qcarbon.Shaper()
    shaper.add_tier("small", stats["small"]["j_per_image"],
                    stats["small"]["accuracy"])
    shaper.add_tier("large", stats["large"]["j_per_image"],
                    stats["large"]["accuracy"], args.threshold)
    start = qcarbon.parse_time(args.start) if args.start else trace.start
    start -= (start - trace.start) % 3600
    totals = {k: {"g": 0.0, "acc": 0.0} for k in ("large", "small", "shaped")}
    hours_large = 0
    for h in range(args.hours):
        t = start + h * 3600
        try:
            c = trace.carbon(t, 3600, 1.0)  # intensity over the hour
        except qmx.QmxError as exc:
            print(f"stopping at hour {h}: {exc.message}")
            args.hours = h
            break
        g = c["g_per_kwh"]
        pick = shaper.choose(g)
        for k in ("large", "small"):
            totals[k]["g"] += stats[k]["j_per_image"] * args.load / 3.6e6 * g
            totals[k]["acc"] += stats[k]["accuracy"]
        totals["shaped"]["g"] += pick["carbon_g"][pick["choice"]] * args.load
        totals["shaped"]["acc"] += stats[pick["name"]]["accuracy"]
        hours_large += pick["name"] == "large"
    if args.hours < 1:
        return 1
    print(f"\n{args.hours} h of {trace.info['name']} "
          f"({trace.info['kind_name']} intensity) from "
          f"{qcarbon.format_time(start)}, {args.load:g} images/h; large "
          f"model only at <= {args.threshold:.0f} gCO2e/kWh")
    for k, label in (("large", "always large"), ("small", "always small"),
                     ("shaped", f"shaped ({hours_large} h large, "
                      f"{args.hours - hours_large} h small)")):
        t = totals[k]
        print(f"  {label:32s} {t['g']:10.3f} gCO2e   mean accuracy "
              f"{100 * t['acc'] / args.hours:.2f} %")
    big = totals["large"]["g"]
    if big > 0:
        print(f"  shaping saves {100 * (big - totals['shaped']['g']) / big:.1f} "
              f"% of always-large's carbon for "
              f"{100 * (totals['large']['acc'] - totals['shaped']['acc']) / args.hours:.2f}"
              " points of accuracy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
