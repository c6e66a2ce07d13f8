#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Two DDP ranks on 127.0.0.1 against one process (ctest python_ddp).

Runs python/examples/ddp_train.py as 2 processes (gloo, a free loopback
port, the environment torchrun would set) and as single processes with the
same global batches and seed, then checks:

- the loss curve equals, within 1e-4 absolute per step, the single process
  that runs each global batch as the ranks' 2 slices (gradient
  accumulation): the same int8 GEMMs on the same data, so only float
  summation order differs (DDP's all-reduce of the gradients against
  autograd's accumulation);
- it equals within 0.02 per step the single process on whole global
  batches: there each QLinear quantizes the whole batch with one input
  range, on the ranks each half with its own, so the int8 inputs differ by
  up to a quantization step (1/255 of the range); measured gap ~1e-3;
- the gathered report's total equals the sum of its ranks (all_reduce
  against all_gather_object) and counts every job of both ranks; on a
  device group, each rank's members' parts sum to the rank's figures.

Usage: ddp_loopback.py DEVICE [OUTDIR].  Bounded: each process 120 s, all
killed on failure.  Seeded (--seed 1, printed).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "python" / "examples" / "ddp_train.py"
# One deadline for the whole test, inside ctest's TIMEOUT (300 s), shared by
# every wait; SIGTERM (ctest's kill) unwinds through the finally blocks, which
# kill the ranks' process groups.
DEADLINE = time.monotonic() + 240


def remaining() -> float:
    left = DEADLINE - time.monotonic()
    if left <= 0:
        raise SystemExit("ddp_loopback: out of time (240 s for the whole test)")
    return left
SEED = 1
TIGHT, LOOSE = 1e-4, 0.02


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(device: str, out: Path, world: int = 2) -> dict:
    port = free_port()
    procs = []
    try:
        for rank in range(world):
            env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                       RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                       LOCAL_WORLD_SIZE=str(world))
            procs.append(subprocess.Popen(
                [sys.executable, str(EXAMPLE), "--device", device, "--seed", str(SEED),
                 "--json", str(out)], env=env, start_new_session=True))
        for p in procs:
            if p.wait(timeout=remaining()):
                raise SystemExit(f"rank exited with {p.returncode}")
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    return json.loads(out.read_text())


def run_single(device: str, out: Path, shards: int) -> dict:
    subprocess.run([sys.executable, str(EXAMPLE), "--single", "--shards", str(shards),
                    "--device", device, "--seed", str(SEED), "--json", str(out)],
                   check=True, timeout=remaining())
    return json.loads(out.read_text())


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    device = sys.argv[1] if len(sys.argv) > 1 else "cpu"
    tmp = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp())
    tmp.mkdir(parents=True, exist_ok=True)
    print(f"ddp_loopback: device {device}, seed {SEED}, outputs in {tmp}")
    ddp = run_ranks(device, tmp / "ddp.json")
    sharded = run_single(device, tmp / "single-2shards.json", 2)
    whole = run_single(device, tmp / "single.json", 1)
    bad = []
    for name, ref, tol in (("sharded single process", sharded, TIGHT),
                           ("whole-batch single process", whole, LOOSE)):
        gap = max(abs(a - b) for a, b in zip(ddp["losses"], ref["losses"]))
        print(f"loss gap to the {name}: {gap:.3g} (tolerance {tol})")
        if len(ddp["losses"]) != len(ref["losses"]) or gap > tol:
            bad.append(f"loss curve differs from the {name} by {gap:.3g} > {tol}")
    if not ddp["losses"][-1] < ddp["losses"][0]:
        bad.append("the loss did not fall")
    rep = ddp["report"]
    ranks, total = rep["ranks"], rep["total"]
    if [r["rank"] for r in ranks] != [0, 1]:
        bad.append(f"report ranks {[r['rank'] for r in ranks]}, expected [0, 1]")
    for f in ("jobs", "macs", "device_s", "energy_j", "carbon_operational_g",
              "carbon_embodied_g"):
        s = sum(r[f] for r in ranks)
        if abs(total[f] - s) > 1e-12 * max(1.0, abs(s)):
            bad.append(f"total {f} {total[f]!r} != sum of ranks {s!r}")
    # A rank on a device group: its members' parts add up to its figures.
    for r in ranks:
        for f in ("macs", "energy_j"):
            if "members" in r and abs(sum(m[f] for m in r["members"]) - r[f]) > 1e-9 * r[f]:
                bad.append(f"rank {r['rank']}: members' {f} do not sum to the rank's")
    # Every rank ran 2 layers x steps forward GEMMs; together the MACs of
    # the whole-batch run.
    if total["jobs"] != 2 * len(ddp["losses"]) * 2:
        bad.append(f"total jobs {total['jobs']} != 2 ranks x 2 layers x steps")
    if total["macs"] != whole["report"]["total"]["macs"]:
        bad.append(f"total MACs {total['macs']} != the single process's "
                   f"{whole['report']['total']['macs']}")
    if not total["energy_j"] > 0:
        bad.append("no energy in the report")
    for b in bad:
        print("FAIL: " + b)
    print("ddp_loopback: " + ("FAIL" if bad else "PASS"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
