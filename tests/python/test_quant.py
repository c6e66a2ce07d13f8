# SPDX-License-Identifier: MIT
"""Quantization helpers: known values, rounding, round trips, errors."""

from __future__ import annotations

import numpy as np
import pytest

import qmx


def test_known_values() -> None:
    qp = qmx.qparams_from_minmax(-1.0, 3.0)
    assert qp.scale == pytest.approx(4 / 255, rel=1e-6)
    assert qp.zero_point == -64  # -128 + 1 / (4/255) = -64.25 -> -64
    qp = qmx.qparams_from_minmax(2.0, 4.0)  # range extended to [0, 4]
    assert qp.zero_point == -128
    qp = qmx.qparams_from_minmax(-2.0, 1.0, "symmetric")
    assert (qp.scale, qp.zero_point) == (pytest.approx(2 / 127), 0)
    assert qmx.qparams_from_minmax(0.0, 0.0) == qmx.QParams(1.0, 0)


def test_round_half_to_even() -> None:
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 300, -300],
                 dtype=np.float32)
    q = qmx.quantize(x, qmx.QParams(1.0, 0))
    assert q.tolist() == [0, 2, 2, 0, -2, -2, 127, -128]
    assert qmx.quantize(np.float32([2.5]), qmx.QParams(0.5, 3))[0] == 8


@pytest.mark.parametrize("scheme", ["asymmetric", "symmetric"])
def test_round_trip_error_bound(rng: np.random.Generator, scheme: str) -> None:
    x = rng.uniform(-3, 5, size=(64, 33)).astype(np.float32)
    qp = qmx.choose_qparams(x, scheme)
    q = qmx.quantize(x, qp)
    back = qmx.dequantize(q, qp)
    assert q.shape == x.shape and back.dtype == np.float32
    assert np.abs(back - x).max() <= qp.scale / 2 * (1 + 1e-5)
    assert np.array_equal(qmx.fake_quantize(x, qp), back)
    assert np.array_equal(qmx.quantize(back, qp), q)  # idempotent
    if scheme == "symmetric":
        assert qp.zero_point == 0 and q.min() >= -127


def test_zero_exact(rng: np.random.Generator) -> None:
    for _ in range(200):
        lo, hi = sorted(rng.uniform(-10, 10, size=2))
        qp = qmx.qparams_from_minmax(float(lo), float(hi))
        z = qmx.quantize(np.zeros(1, np.float32), qp)
        assert z[0] == qp.zero_point
        assert qmx.dequantize(z, qp)[0] == 0.0


@pytest.mark.parametrize("axis", [0, 1])
def test_per_channel(rng: np.random.Generator, axis: int) -> None:
    x = rng.normal(size=(9, 12)).astype(np.float32)
    x *= (np.arange(12, dtype=np.float32) + 1) if axis else \
        (np.arange(9, dtype=np.float32)[:, None] + 1)
    qps = qmx.choose_qparams_per_channel(x, axis)
    amax = np.abs(x).max(axis=1 - axis)
    assert np.allclose([q.scale for q in qps], amax / 127, rtol=1e-6)
    q = qmx.quantize_per_channel(x, qps, axis)
    back = qmx.dequantize_per_channel(q, qps, axis)
    scales = np.array([p.scale for p in qps], dtype=np.float32)
    bound = (scales[None, :] if axis else scales[:, None]) / 2 * (1 + 1e-5)
    assert np.all(np.abs(back - x) <= bound)


def test_errors_name_the_field() -> None:
    x = np.array([1.0, np.nan], dtype=np.float32)
    with pytest.raises(qmx.QmxError, match=r"x\[1\] is NaN"):
        qmx.quantize(x, qmx.QParams(1.0, 0))
    with pytest.raises(qmx.QmxError, match=r"qp.scale \(0\) must be finite"):
        qmx.quantize(np.zeros(2, np.float32), qmx.QParams(0.0, 0))
    # Checked in Python before ctypes could wrap it.
    with pytest.raises(ValueError, match=r"zero_point: 300 outside \[-128, 127\]"):
        qmx.dequantize(np.zeros(2, np.int8), qmx.QParams(1.0, 300))
    with pytest.raises(qmx.QmxError, match=r"min \(2\) > max \(1\)"):
        qmx.qparams_from_minmax(2.0, 1.0)
    with pytest.raises(TypeError, match=r"x: dtype is float64, expected "
                       "float32"):
        qmx.quantize(np.zeros(3), qmx.QParams(1.0, 0))
    with pytest.raises(ValueError, match=r"x: array is not C-contiguous"):
        qmx.quantize(np.zeros((4, 4), np.float32)[:, ::2],
                     qmx.QParams(1.0, 0))
    with pytest.raises(ValueError, match=r"scheme: 'sym'"):
        qmx.qparams_from_minmax(0.0, 1.0, "sym")
    with pytest.raises(qmx.QmxError, match=r"axis \(2\)"):
        qmx.choose_qparams_per_channel(np.ones((2, 2), np.float32), 2)


def test_quantize_multiplier_contract_vectors() -> None:
    assert qmx.quantize_multiplier(0.0003) == (1319413953, -11)
    assert qmx.quantize_multiplier(0.75) == (1610612736, 0)
    with pytest.raises(qmx.QmxError, match=r"real \(-1\)"):
        qmx.quantize_multiplier(-1.0)
