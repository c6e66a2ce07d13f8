# SPDX-License-Identifier: MIT
"""The fake-quant GEMM plan: float in, int8 on the device, float out."""

from __future__ import annotations

import numpy as np
import pytest

import qmx


def _bound(a: np.ndarray, b: np.ndarray, sa: float, sb: np.ndarray
           ) -> np.ndarray:
    """|fq(a) fq(b) - a b| <= |a| sb/2 + sa/2 |b| + k sa sb / 4."""
    aa, ab = np.abs(a).astype(np.float64), np.abs(b).astype(np.float64)
    k = a.shape[1]
    return (aa.sum(1, keepdims=True) * sb[None, :] / 2
            + sa / 2 * ab.sum(0)[None, :] + k * sa * sb[None, :] / 4)


@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("out_int8", [False, True])
def test_float_product_within_bound(device: qmx.Device,
                                    rng: np.random.Generator,
                                    per_channel: bool, out_int8: bool
                                    ) -> None:
    m, n, k = 24, 40, 64
    a = rng.uniform(-0.5, 2.0, size=(m, k)).astype(np.float32)
    b = (rng.normal(size=(k, n)) * (1 + np.arange(n) / 8)).astype(np.float32)
    bias = rng.normal(size=n).astype(np.float32)
    want = a.astype(np.float64) @ b.astype(np.float64) + bias
    c_qp = qmx.qparams_from_minmax(float(want.min()), float(want.max()))
    if out_int8 and not (device.has("int8_out") and
                         (device.has("per_channel") or not per_channel)):
        with qmx.QGemm(device, 32, 48, 64) as plan, \
                pytest.raises(qmx.QmxError, match="QMX_ENOTSUP"):
            plan.run(a, b, bias=bias, b_per_channel=per_channel,
                     out_int8=True, c_qparams=c_qp)
        pytest.skip(f"{device.uri}: no int8 output path (refusal checked)")
    with qmx.QGemm(device, 32, 48, 64) as plan:
        got = plan.run(a, b, bias=bias, b_per_channel=per_channel,
                       out_int8=out_int8,
                       c_qparams=c_qp if out_int8 else None)
        qa, qb = plan.last_qparams()
    assert len(qb) == (n if per_channel else 1)
    sb = np.array([q.scale for q in qb] * (1 if per_channel else n))
    bound = _bound(a, b, qa.scale, sb) + 1e-5 * (np.abs(want) + 1)
    if out_int8:
        bound += qa.scale * sb[None, :] / 2 + c_qp.scale / 2
    err = np.abs(got - want)
    assert np.all(err <= bound), f"max excess {np.max(err - bound)}"
    # Not trivially loose: the error is real but well under the float values.
    assert 0 < err.max() < 0.05 * np.abs(want).max()


def test_plan_reuse_async_and_errors(device: qmx.Device,
                                     rng: np.random.Generator) -> None:
    plan = qmx.QGemm(device, 16, 16, 16)
    a = rng.normal(size=(8, 16)).astype(np.float32)
    b = rng.normal(size=(16, 4)).astype(np.float32)
    out = plan.submit(a, b)
    with pytest.raises(qmx.QmxError, match="job in flight"):
        plan.submit(a, b)
    plan.wait(timeout_s=120)
    first = out.copy()
    for _ in range(3):  # same buffers every call, same answer
        assert np.array_equal(plan.run(a, b), first)
    with pytest.raises(qmx.QmxError, match=r"m \(17\) > plan max_m \(16\)"):
        plan.run(np.zeros((17, 16), np.float32), b)
    with pytest.raises(qmx.QmxError, match=r"b_per_channel needs b_scheme"):
        plan.run(a, b, b_per_channel=True, b_scheme="asymmetric")
    with pytest.raises(ValueError, match=r"c_qparams: required"):
        plan.run(a, b, out_int8=True)
    with pytest.raises(TypeError, match=r"a: dtype is float64"):
        plan.run(a.astype(np.float64), b)
    plan.close()
    with pytest.raises(ValueError, match="plan: already closed"):
        plan.run(a, b)


def test_fake_quantized_operands(device: qmx.Device,
                                 rng: np.random.Generator) -> None:
    a = rng.normal(size=(5, 12)).astype(np.float32)
    b = rng.normal(size=(12, 7)).astype(np.float32)
    with qmx.QGemm(device, 8, 8, 16) as plan:
        with pytest.raises(qmx.QmxError, match="nothing submitted yet"):
            plan.fake_quantized(shape=(5, 7, 12))
        plan.run(a, b, b_per_channel=True)
        fa, fb = plan.fake_quantized()
        qa, qb = plan.last_qparams()
    assert np.array_equal(fa, qmx.fake_quantize(a, qa))
    want_b = qmx.dequantize_per_channel(
        qmx.quantize_per_channel(b, qb, axis=1), qb, axis=1)
    assert np.array_equal(fb, want_b)
