#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Placement by carbon: run one int8 GEMM on the CPU and on an accelerator,
then, hour by hour over a grid trace, pick the device where the job adds the
least carbon - energy x intensity + the embodied time-share of the hardware
(qmx_place_choose) - not the faster one.

    /usr/bin/python3 python/examples/place_gemm.py --device sim \\
        --trace hw/energy/grid/us-caiso-2022-04-01.csv --hours 24
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional

import numpy as np

import qmx
import qmx.carbon as qcarbon


def main(argv: Optional[list[str]] = None) -> int:
    """Measure both devices once, then place the job at each hour."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="sim", help="accelerator URI")
    ap.add_argument("--baseline", default="cpu", help="CPU URI")
    ap.add_argument("--trace", required=True)
    ap.add_argument("--start", default=None, help="ISO-8601 UTC")
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--size", type=int, default=256, help="M = N = K")
    args = ap.parse_args(argv)
    if args.hours < 1 or not 1 <= args.size <= 4096:
        ap.error("--hours >= 1 and --size in [1, 4096]")
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, (args.size, args.size), dtype=np.int8)
    b = rng.integers(-128, 128, (args.size, args.size), dtype=np.int8)
    try:
        trace = qcarbon.GridTrace(args.trace)
        options = []
        for uri in (args.baseline, args.device):
            with qmx.Device(uri) as dev:
                c, stats = qmx.gemm(dev, a, b, stats=True)
                opt = qcarbon.place_option_from_job(dev, stats)
            opt["name"] = uri
            options.append(opt)
            source = {1: "measured", 2: "modelled"}.get(stats["energy_source"],
                                                        "no energy figure")
            print(f"{uri:8s} {opt['time_s'] * 1e3:9.3f} ms  {opt['energy_j']:.4g} J "
                  f"({source})  embodied {opt['embodied_g'] / 1e3:.3g} kg over "
                  f"{opt['lifetime_s'] / 3.156e7:.1f} y, share {opt['share']:.3g}")
    except qmx.QmxError as exc:
        print(f"place_gemm: {exc}", file=sys.stderr)
        return 1
    start = qcarbon.parse_time(args.start) if args.start else trace.start
    print(f"\nhour (UTC)            gCO2e/kWh  choice    {options[0]['name']} g"
          f"        {options[1]['name']} g")
    counts = {o["name"]: 0 for o in options}
    for h in range(args.hours):
        t = start + 3600 * h
        try:
            g = trace.at(t)
        except qmx.QmxError as exc:
            print(f"stopping: {exc.message}")
            break
        r = qcarbon.place(options, g)
        counts[r["name"]] += 1
        print(f"{qcarbon.format_time(t)}  {g:9.1f}  {r['name']:8s} "
              f"{r['total_g'][0]:.3e}  {r['total_g'][1]:.3e}")
    print("chosen: " + ", ".join(f"{k} {v} h" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
