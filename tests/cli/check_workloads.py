#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Workload files (tools/qmx/workloads): every shipped set parses and holds
the published sizes of its model; bad files are refused with the file, the
line and the field named; `--workloads` tells a path from a set name.

    check_workloads.py QMX_BINARY"""
import json
import os
import re
import subprocess
import sys
import tempfile

from checklib import check, finish

QMX = sys.argv[1]


def run(*args):
    p = subprocess.run([QMX, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def mix(spec):
    """{workload: (gemm count, MACs)} from `qmx explore --list`."""
    rc, out, err = run("explore", "--workloads", spec, "--list")
    check(rc == 0, f"{spec}: --list exits 0 ({err.strip()[:200]})")
    got = {}
    for m in re.finditer(r"^(\S+): .*; (\d+) GEMMs, ([0-9.e+]+) MACs per run", out, re.M):
        got[m.group(1)] = (int(m.group(2)), float(m.group(3)))
    check("source: " in out, f"{spec}: every workload prints its source")
    return got


# BERT-base layer at 128 tokens: 4 projections 768x768 + FFN 768-3072-768.
bert = mix("bert-base")
check(bert.get("bert-base-layer") ==
      (6, 128 * (4 * 768 * 768 + 2 * 768 * 3072)), f"bert-base layer: {bert}")
att = mix("bert-base-attention")
check(att.get("bert-base-attention-scores") ==
      (24, 12 * (128 * 128 * 64 + 128 * 64 * 128)), f"bert-base attention: {att}")
# LLaMA-7B: 4 x 4096^2 + 3 x 4096 x 11008 weights per layer, x tokens.
llama = mix("llama-7b")
per_token = 4 * 4096 * 4096 + 3 * 4096 * 11008
check(llama.get("llama-7b-prefill") == (7, 512 * per_token), f"llama prefill: {llama}")
check(llama.get("llama-7b-decode") == (7, 32 * per_token), f"llama decode: {llama}")
# ResNet-50 at 224x224: torchvision documents 4.09 GFLOPS (multiply-adds)
# for resnet50; 53 convolutions + the fc layer.
rn = mix("resnet50")
n, macs = rn.get("resnet50", (0, 0))
check(n == 54 and abs(macs / 4.09e9 - 1) < 0.01, f"resnet50: {n} GEMMs, {macs:.4g} MACs")
# Digits MLP 64-128-10 at batch 32: 2 forward, 3 backward GEMMs.
dg = mix("digits-mlp")
check(dg.get("digits-mlp-train-step") ==
      (5, 32 * 128 * 64 + 32 * 10 * 128 + 128 * 10 * 32 + 32 * 128 * 10 + 64 * 128 * 32),
      f"digits: {dg}")

GOOD = """# a comment
[workload w1]
what = test
unit = GEMM
units = 2
source = test file https://example.org/page#sec-3
gemm = 16x32x64 * 3   # three of them
gemm = 8x8x8
"""
BAD = [
    ("[workload w1]\nwhat = x\nunit = u\nsource = s\ngemm = 16x16\n", 5, "gemm",
     "is not MxNxK"),
    ("[workload w1]\nwhat = x\nunit = u\nsource = s\ngemm = 16x16x16 * 0\n", 5, "gemm",
     "repeat count"),
    ("[workload w1]\nwhat = x\nunit = u\nsource = s\ngemm = 16x16x70000\n", 5, "gemm",
     "65536"),
    ("[workload w1]\nwhat = x\nunit = u\nsource = s\ngemm = 8x8x8 * 64\ngemm = 8x8x8\n", 6,
     "gemm", "more than 64 GEMMs"),
    ("[workload w1]\nwhat = x\nunit = u\ngemm = 8x8x8\n", 1, "source", "missing"),
    ("[workload w1]\nwhat = x\nunit = u\nsource = s\n", 1, "gemm", "no GEMM"),
    ("[workload w1]\nwhat = x\nunit = u\nsource = s\nunits = -1\ngemm = 8x8x8\n", 5, "units",
     "must be a number"),
    ("[workload w1]\ncolour = red\n", 2, "colour", "unknown"),
    ("what = x\n", 1, "what", "outside a"),
    ("[set w1]\n", 1, None, "section must be"),
    ("[workload bad name!]\n", 1, "workload", "name"),
    ("[workload w1]\nwhat = x\nunit = u\nsource = s\ngemm = 8x8x8\n[workload w1]\n", 6,
     "workload", "defined twice"),
    ("# nothing\n", 1, None, "no [workload NAME] section"),
]

with tempfile.TemporaryDirectory() as d:
    good = os.path.join(d, "good.ini")
    with open(good, "w") as f:
        f.write(GOOD)
    got = mix(good)
    check(got.get("w1") == (4, 3 * 16 * 32 * 64 + 8 * 8 * 8), f"good file: {got}")
    rc, out, err = run("explore", "--workloads", good, "--list")
    check("page#sec-3" in out, f"a '#' inside a value is kept: {out.strip()[:300]}")
    for i, (text, line, field, why) in enumerate(BAD):
        path = os.path.join(d, f"bad{i}.ini")
        with open(path, "w") as f:
            f.write(text)
        for cmd in ("explore", "compare"):
            rc, out, err = run(cmd, "--workloads", path, "--list" if cmd == "explore"
                               else "--no-files")
            want = f"{path}:{line}: " + (f"field '{field}': " if field else "")
            check(rc == 2 and want in err and why in err,
                  f"{cmd} bad file {i}: rc {rc}, wants '{want}...{why}' in: {err.strip()}")
    # A path (a '/' or an .ini ending) is never taken for a set name.
    rc, out, err = run("explore", "--workloads", "missing.ini", "--list")
    check(rc == 2 and "missing.ini: No such file" in err, f"missing.ini: {err.strip()}")
    rc, out, err = run("explore", "--workloads", "nosuch-set", "--list")
    check(rc == 2 and "'nosuch-set' is neither" in err and "bert-base" in err,
          f"unknown set lists the sets: {err.strip()[:300]}")

# qmx compare runs a set by name and carries its source into report.json.
with tempfile.TemporaryDirectory() as d:
    p = subprocess.run([QMX, "compare", "--workloads", "digits-mlp", "--device", "cpu-ref",
                        "--baseline", "cpu", "--out", d], capture_output=True, text=True,
                       timeout=120)
    check(p.returncode == 0, f"compare --workloads digits-mlp exits 0 ({p.stderr.strip()[:200]})")
    with open(os.path.join(d, "report.json")) as f:
        w = json.load(f)["workloads"][0]
    check(w["name"] == "digits-mlp-train-step" and len(w["gemms"]) == 5 and
          w["source"].startswith("host-examples/train_digits"),
          f"report.json: {w['name']}, {len(w['gemms'])} GEMMs, source {w.get('source', '')[:40]}")

finish()
