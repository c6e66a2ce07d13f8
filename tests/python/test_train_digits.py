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
