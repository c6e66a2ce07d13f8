# SPDX-License-Identifier: MIT
"""Device groups from Python: a group URI opens one Device, its GEMMs are
bit-exact, and Device.group_stats() gives each member's share and part."""

from __future__ import annotations

import numpy as np
import pytest

import qmx


def test_group_split_and_stats(rng: np.random.Generator) -> None:
    dev = qmx.Device("cpu,weight=3,cpu-ref,weight=1")
    assert dev.info["backend"] == "group"
    a = rng.integers(-128, 128, (40, 24), dtype=np.int8)
    b = rng.integers(-128, 128, (24, 8), dtype=np.int8)
    c, st = qmx.gemm(dev, a, b, stats=True)
    np.testing.assert_array_equal(c, qmx.gemm_reference(a, b))
    members = dev.group_stats()
    assert [m["info"]["uri"] for m in members] == ["cpu", "cpu-ref"]
    assert [m["weight"] for m in members] == [0.75, 0.25]
    assert members[0]["weight_source"] == "given: weight=3"
    # M >= N: rows of A, 30 and 10.
    assert [m["last"]["macs"] for m in members] == [30 * 8 * 24, 10 * 8 * 24]
    assert st["macs"] == 40 * 8 * 24
    assert st["energy_j"] == pytest.approx(sum(m["last"]["energy_j"] for m in members))
    dev.close()


def test_not_a_group() -> None:
    with qmx.Device("cpu") as dev:
        with pytest.raises(qmx.QmxError, match="cpu is not a device group"):
            dev.group_stats()


def test_bad_group_uri() -> None:
    with pytest.raises(qmx.QmxError, match="member 2 is empty"):
        qmx.Device("cpu,,cpu-ref")
