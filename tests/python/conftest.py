# SPDX-License-Identifier: MIT
"""Shared fixtures: the devices under test and a printed, seeded RNG.

QMX_TEST_DEVICES (comma-separated URIs, default "cpu") names the devices;
QMX_TEST_SEED overrides the seed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python" / "examples"))

DEVICES = [d for d in os.environ.get("QMX_TEST_DEVICES", "cpu").split(",")
           if d]


def pytest_report_header(config: pytest.Config) -> str:
    """Say what runs: devices and seed."""
    return (f"qmx devices: {DEVICES}, seed {seed_value()} "
            "(QMX_TEST_DEVICES, QMX_TEST_SEED)")


def seed_value() -> int:
    """The seed of every random test."""
    return int(os.environ.get("QMX_TEST_SEED", "20261127"), 0)


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded per test (seed printed on failure)."""
    seed = seed_value() + sum(map(ord, request.node.name))
    print(f"seed {seed}")
    return np.random.default_rng(seed)


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest):
    """Each device under test, opened."""
    import qmx
    dev = qmx.Device(request.param)
    yield dev
    dev.close()
