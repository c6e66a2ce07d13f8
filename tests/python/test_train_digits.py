# SPDX-License-Identifier: MIT
"""A short QAT run on the digits set per device: the loss falls and the test
accuracy clears a floor far above chance (10 %)."""

from __future__ import annotations

import os

import pytest

import train_digits  # python/examples, put on sys.path by conftest.py

# A few epochs on cpu; the simulated accelerator is slower, so fewer there.
EPOCHS = {"cpu": 3}


def test_digits_split() -> None:
    x, y = train_digits.load_digits()
    assert x.shape == (1797, 64) and set(y.tolist()) == set(range(10))
    xtr, ytr, xte, yte = train_digits.split(x, y)
    assert (len(xtr), len(xte)) == (1438, 359)


def test_missing_data_is_clear(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="python3-sklearn"):
        train_digits.load_digits(tmp_path / "absent.csv.gz")


def test_short_qat_run(device, capsys) -> None:
    uri = device.uri
    epochs = EPOCHS.get(device.info["backend"], 2)
    run = train_digits.train(True, uri, epochs=epochs, seed=42)
    losses = [e.loss for e in run.epochs]
    print(run.name, losses, run.accuracy)
    assert losses[-1] < losses[0]
    assert run.accuracy >= 0.80
    if os.environ.get("QMX_TEST_VERBOSE"):
        with capsys.disabled():
            print(run)


def test_simulated_device_time_is_not_the_hosts(device) -> None:
    """A host meter given a simulated device's jobs leaves the simulator's
    host time out (docs/energy.md, "Simulated devices"): what the process
    spent is the host's own work plus the simulator's, and only the first is
    billed; the device's energy comes from its model."""
    import time

    import qmx
    import qmx.torch as qtorch
    import torch

    host, dev = qmx.Meter("cpu"), qmx.Meter(device.uri)
    layer = qtorch.QLinear(64, 32, device=device)
    x = torch.randn(16, 64, generator=torch.Generator().manual_seed(1))
    layer(x)  # the plan's buffers, outside the interval
    layer.meters = [dev, host]
    host.start()
    dev.start()
    c0 = time.process_time()
    layer(x)
    c1 = time.process_time()
    r, d = host.stop(), dev.stop()
    simulated = device.info["features"] & qmx.device.FEATURES["simulated"]
    if not simulated:
        assert r["sim_cpu_seconds"] == 0 and r["sim_seconds"] == 0
        return
    assert r["sim_cpu_seconds"] > 0 and r["sim_seconds"] > 0
    assert r["held_seconds"] > 0  # a host thread waits for the device
    spent = c1 - c0
    assert abs(r["cpu_seconds"] + r["sim_cpu_seconds"] - spent) <= 0.05 * spent + 0.005
    assert d["joules"] > 0 and d["source_name"] == "modelled"
