# SPDX-License-Identifier: MIT
"""Energy and carbon of a data-parallel job, gathered over its process group.

With PyTorch's DistributedDataParallel every rank runs its ``QLinear`` GEMMs
on its own qmx device; DDP all-reduces the gradients.  A :class:`RankLedger`
on each rank sums that rank's jobs (the figures libqmx accounted for each
job: energy, measured or modelled, and operational and embodied carbon);
:func:`gather_report` collects every rank's ledger through the process group
(gloo or any other backend) into one report, per rank and in total; a rank
on a device group (``"sim,cpu"``) also lists its members' parts.
See docs/distributed.md.

    ledger = RankLedger().attach(model)      # before wrapping it in DDP
    ...train...
    report = gather_report(ledger, device)   # a collective: every rank calls it
    if dist.get_rank() == 0:
        print(format_report(report))
"""

from __future__ import annotations

import socket
from typing import Any, Optional

import torch
import torch.distributed as dist
from torch import nn

from .device import Device

# The figures summed per rank and over the group, in this order.
FIELDS = ("jobs", "macs", "device_s", "energy_j", "carbon_operational_g",
          "carbon_embodied_g")
SOURCES = {0: "none", 1: "measured", 2: "modelled"}


class RankLedger:
    """The sum of the jobs this process ran, by :meth:`add_job`.

    Duck-types a :class:`qmx.Meter` for ``QLinear(meter=...)``; use
    :meth:`attach` to add it to every QLinear of a model."""

    def __init__(self) -> None:
        self.totals = {f: 0 for f in FIELDS}
        self.totals.update({"device_s": 0.0, "energy_j": 0.0,
                            "carbon_operational_g": 0.0,
                            "carbon_embodied_g": 0.0})
        self.sources: set[str] = set()

    def add_job(self, stats: dict[str, Any]) -> None:
        """Add one finished job's stats (a dict from ``Job.wait``)."""
        t = self.totals
        t["jobs"] += 1
        t["macs"] += int(stats["macs"])
        t["device_s"] += int(stats["device_ns"]) * 1e-9
        t["energy_j"] += float(stats["energy_j"])
        t["carbon_operational_g"] += float(stats["carbon_operational_g"])
        t["carbon_embodied_g"] += float(stats["carbon_embodied_g"])
        self.sources.add(SOURCES.get(int(stats["energy_source"]), "unknown"))

    def attach(self, model: nn.Module) -> nn.Module:
        """Meter every QLinear of ``model`` into this ledger."""
        from .torch import QLinear
        found = 0
        for mod in model.modules():
            if isinstance(mod, QLinear):
                mod.meters.append(self)  # type: ignore[arg-type]
                found += 1
        if not found:
            raise ValueError("attach: the model has no qmx.torch.QLinear layer")
        return model

    @property
    def source(self) -> str:
        """"measured", "modelled", "measured+modelled" or "none"."""
        real = sorted(s for s in self.sources if s != "none")
        return "+".join(real) if real else "none"


def gather_report(ledger: RankLedger, device: Optional[Device] = None,
                  group: Optional[Any] = None) -> dict[str, Any]:
    """Every rank's ledger and their total, on every rank of ``group``.

    A collective: all ranks of the group must call it.  The per-rank rows
    travel with ``all_gather_object``; the total is an ``all_reduce`` (SUM)
    of the same figures in float64, so the two are computed apart and a
    report whose total is not the sum of its ranks shows it."""
    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError("gather_report: torch.distributed is not initialised "
                           "(call dist.init_process_group first)")
    world = dist.get_world_size(group)
    row: dict[str, Any] = {
        "rank": dist.get_rank(group),
        "host": socket.gethostname(),
        "device": device.uri if device is not None else "",
        "energy_source": ledger.source,
    }
    row.update(ledger.totals)
    if device is not None and device.info["backend"] == "group":
        # A rank on a device group: its members' shares of the same jobs.
        row["members"] = [{
            "device": m["info"]["uri"], "share": m["weight"], "jobs": m["jobs"],
            "macs": m["total"]["macs"], "device_s": m["total"]["device_ns"] * 1e-9,
            "energy_j": m["total"]["energy_j"],
            "carbon_g": (m["total"]["carbon_operational_g"]
                         + m["total"]["carbon_embodied_g"])}
            for m in device.group_stats()]
    rows: list[Any] = [None] * world
    dist.all_gather_object(rows, row, group=group)
    vec = torch.tensor([float(ledger.totals[f]) for f in FIELDS],
                       dtype=torch.float64)
    dist.all_reduce(vec, op=dist.ReduceOp.SUM, group=group)
    total: dict[str, Any] = dict(zip(FIELDS, vec.tolist()))
    total["jobs"] = int(round(total["jobs"]))
    total["macs"] = int(round(total["macs"]))
    total["carbon_g"] = total["carbon_operational_g"] + total["carbon_embodied_g"]
    for r in rows:
        r["carbon_g"] = r["carbon_operational_g"] + r["carbon_embodied_g"]
    sources = sorted({s for r in rows for s in r["energy_source"].split("+")
                      if s != "none"})
    total["energy_source"] = "+".join(sources) if sources else "none"
    return {"world_size": world, "ranks": sorted(rows, key=lambda r: r["rank"]),
            "total": total}


def format_report(report: dict[str, Any]) -> str:
    """The gathered report as a table, one line per rank and the total."""
    head = (f"{'rank':>4}  {'host':<16} {'device':<14} {'jobs':>6} "
            f"{'GMAC':>9} {'device s':>10} {'energy J':>11} {'source':<9} "
            f"{'op. gCO2e':>10} {'emb. gCO2e':>10} {'gCO2e':>10}")
    lines = [head]

    def line(name: str, host: str, dev: str, r: dict[str, Any]) -> str:
        return (f"{name:>4}  {host[:16]:<16} {dev[:14]:<14} {r['jobs']:>6} "
                f"{r['macs'] / 1e9:>9.4f} {r['device_s']:>10.4g} "
                f"{r['energy_j']:>11.4g} {r['energy_source']:<9} "
                f"{r['carbon_operational_g']:>10.4g} "
                f"{r['carbon_embodied_g']:>10.4g} {r['carbon_g']:>10.4g}")

    for r in report["ranks"]:
        lines.append(line(str(r["rank"]), r["host"], r["device"], r))
        for m in r.get("members", []):
            lines.append(f"{'':>4}  {'':<16}   {m['device'][:12]:<12} {m['jobs']:>6} "
                         f"{m['macs'] / 1e9:>9.4f} {m['device_s']:>10.4g} "
                         f"{m['energy_j']:>11.4g} share {m['share']:.3f}"
                         f"{'':>14}{m['carbon_g']:>10.4g}")
    lines.append(line("all", f"{report['world_size']} ranks", "", report["total"]))
    return "\n".join(lines)


__all__ = ["FIELDS", "RankLedger", "format_report", "gather_report"]
