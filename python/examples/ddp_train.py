#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Data-parallel quantization-aware training with PyTorch DDP over qmx.

Every rank (one process) trains the same 64-32-10 MLP of ``qmx.torch.QLinear``
layers, whose forward GEMMs run in int8 on the rank's own qmx device; each
step takes one global batch of a seeded synthetic classification set, each
rank its slice of it, and DistributedDataParallel all-reduces the gradients
(gloo).  At the end the energy and carbon of all ranks' jobs are gathered
through the process group into one report (per rank and total).

Across processes or hosts, with PyTorch's launcher (docs/distributed.md):

    torchrun --nproc_per_node 2 python/examples/ddp_train.py --device cpu
    torchrun --nnodes 2 --node_rank 0 --master_addr HOST0 --master_port 29500 \\
        --nproc_per_node 1 python/examples/ddp_train.py --device kmod

One process, no process group, the same global batch (the reference a DDP
run is checked against): ``--single``; ``--shards N`` then processes each
global batch as the N slices the ranks would see, accumulating gradients.

``--device`` may contain ``{local_rank}`` (e.g. ``sim:16x16`` or
``kmod:/dev/dri/renderD{local_rank_128}``, the latter 128 + LOCAL_RANK) so
each rank of a host opens its own device.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from qmx import Device  # noqa: E402
from qmx.distributed import RankLedger, format_report, gather_report  # noqa: E402
from qmx.torch import QLinear  # noqa: E402

FEATURES, HIDDEN, CLASSES = 64, 32, 10


def make_data(seed: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded teacher-labelled set: x ~ N(0, 1), y = argmax(x @ T)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, FEATURES, generator=g)
    teacher = torch.randn(FEATURES, CLASSES, generator=g)
    return x, (x @ teacher).argmax(1)


def make_model(dev: Device, seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(QLinear(FEATURES, HIDDEN, device=dev), nn.ReLU(),
                         QLinear(HIDDEN, CLASSES, device=dev))


def device_uri(template: str, local_rank: int) -> str:
    return template.replace("{local_rank_128}", str(128 + local_rank)).replace(
        "{local_rank}", str(local_rank))


def batches(seed: int, n: int, global_batch: int, steps: int):
    """The same sequence of global batches (row indices) on every rank."""
    g = torch.Generator().manual_seed(seed + 1)
    for _ in range(steps):
        yield torch.randperm(n, generator=g)[:global_batch]


def train(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(1)  # deterministic float kernels, no oversubscription
    distributed = not args.single
    if distributed:
        dist.init_process_group("gloo")
        rank, world = dist.get_rank(), dist.get_world_size()
        local_rank = int(os.environ.get("LOCAL_RANK", rank))
    else:
        rank, world, local_rank = 0, 1, 0
    if args.global_batch % (world if distributed else args.shards):
        raise SystemExit(f"--global-batch ({args.global_batch}) must be a multiple "
                         f"of the world size / --shards")
    dev = Device(device_uri(args.device, local_rank))
    ledger = RankLedger()
    model = ledger.attach(make_model(dev, args.seed))
    net: nn.Module = nn.parallel.DistributedDataParallel(model) if distributed else model
    opt = torch.optim.SGD(net.parameters(), lr=args.lr)
    x, y = make_data(args.seed, args.samples)
    losses = []
    t0 = time.monotonic()
    for idx in batches(args.seed, args.samples, args.global_batch, args.steps):
        opt.zero_grad()
        if distributed:
            part = idx.chunk(world)[rank]
            loss = nn.functional.cross_entropy(net(x[part]), y[part])
            loss.backward()  # DDP all-reduces (averages) the gradients
            seen = loss.detach().clone()
            dist.all_reduce(seen)  # the global batch's loss: mean of the ranks'
            losses.append(seen.item() / world)
        else:
            # Gradient accumulation over the slices the ranks would see:
            # each slice quantized with its own ranges, as on its rank.
            total = 0.0
            for part in idx.chunk(args.shards):
                loss = nn.functional.cross_entropy(net(x[part]), y[part]) / args.shards
                loss.backward()
                total += loss.item()
            losses.append(total)
        opt.step()
    seconds = time.monotonic() - t0
    out: dict[str, Any] = {"world_size": world, "device": dev.uri, "losses": losses,
                           "seconds": seconds}
    if distributed:
        out["report"] = gather_report(ledger, dev)
        # DDP's reducer holds the process group: free it first, both ranks
        # done, then the group.
        del net
        dist.barrier()
        dist.destroy_process_group()
    else:
        out["report"] = {"world_size": 1, "ranks": [], "total": dict(ledger.totals)}
    out["rank"] = rank
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu",
                    help="qmx device URI of each rank ({local_rank} substituted)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--global-batch", type=int, default=64)
    ap.add_argument("--samples", type=int, default=2048)
    ap.add_argument("--lr", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--single", action="store_true",
                    help="one process, no process group (the reference)")
    ap.add_argument("--shards", type=int, default=1,
                    help="with --single: slices per global batch (gradient accumulation)")
    ap.add_argument("--json", type=Path, help="rank 0 writes losses and report here")
    args = ap.parse_args()
    if args.steps < 1 or args.global_batch < 1 or args.shards < 1:
        ap.error("--steps, --global-batch and --shards must be >= 1")
    res = train(args)
    if res["rank"] != 0:
        return 0
    print(f"{res['world_size']} rank(s), device {res['device']}, seed {args.seed}, "
          f"{args.steps} steps of global batch {args.global_batch}, {res['seconds']:.2f} s")
    print("loss " + " ".join(f"{v:.4f}" for v in res["losses"]))
    if res["report"]["ranks"]:
        print(format_report(res["report"]))
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
