# SPDX-License-Identifier: MIT
"""Devices, buffers, jobs and the int8 GEMM through numpy."""

from __future__ import annotations

import numpy as np
import pytest

import qmx


def _int8(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


def test_list_and_info() -> None:
    uris = [d["uri"] for d in qmx.list_devices()]
    assert "cpu" in uris and "cpu" in qmx.backends()
    with qmx.Device("cpu") as dev:
        assert dev.info["backend"] == "cpu" and dev.info["max_k"] > 0
    with pytest.raises(qmx.QmxError) as exc:
        qmx.Device("no-such-backend")
    assert exc.value.code < 0 and "no-such-backend" in str(exc.value)


def test_int32_matches_numpy(device: qmx.Device,
                             rng: np.random.Generator) -> None:
    a, b = _int8(rng, (19, 37)), _int8(rng, (37, 23))
    za, zb = 5, -3
    c, st = qmx.gemm(device, a, b, a_zero_point=za, b_zero_point=zb,
                     stats=True)
    want = (a.astype(np.int64) - za) @ (b.astype(np.int64) - zb)
    assert c.dtype == np.int32 and np.array_equal(c, want)
    assert st["macs"] == 19 * 37 * 23


def test_views_and_out_without_copy(device: qmx.Device,
                                    rng: np.random.Generator) -> None:
    big_a, big_b = _int8(rng, (16, 40)), _int8(rng, (40, 30))
    a, b = big_a[2:14, 3:35], big_b[3:35, 5:25]  # row-strided views
    out_big = np.full((12, 31), -7, dtype=np.int32)
    out = out_big[:, :20]
    res = qmx.gemm(device, a, b, out=out)
    assert res is out
    assert np.array_equal(out, a.astype(np.int64) @ b.astype(np.int64))
    assert np.all(out_big[:, 20:] == -7)  # the gaps stay untouched


def test_int8_out_matches_reference(device: qmx.Device,
                                    rng: np.random.Generator) -> None:
    a, b = _int8(rng, (8, 50)), _int8(rng, (50, 12))
    bias = rng.integers(-5000, 5000, size=12, dtype=np.int32)
    mult, shift = qmx.quantize_multiplier(0.0007)
    kw = dict(out_dtype=np.int8, a_zero_point=-3, c_zero_point=4, bias=bias,
              multiplier=mult, shift=shift, qmin=-100, qmax=120)
    if not device.has("int8_out"):
        with pytest.raises(qmx.QmxError):
            qmx.gemm(device, a, b, **kw)
        pytest.skip(f"{device.uri} has no int8 output (refusal checked)")
    got = qmx.gemm(device, a, b, **kw)
    assert np.array_equal(got, qmx.gemm_reference(a, b, **kw))
    pairs = [qmx.quantize_multiplier(float(r))
             for r in rng.uniform(1e-4, 1e-2, size=12)]
    mults = np.array([p[0] for p in pairs], dtype=np.int32)
    shifts = np.array([p[1] for p in pairs], dtype=np.int32)
    kw.update(multiplier=mults, shift=shifts)
    if not device.has("per_channel"):
        pytest.skip(f"{device.uri} has no per-channel requantization")
    got = qmx.gemm(device, a, b, **kw)
    assert np.array_equal(got, qmx.gemm_reference(a, b, **kw))


def test_gemm_errors(device: qmx.Device) -> None:
    a = np.zeros((4, 5), np.int8)
    with pytest.raises(TypeError, match=r"a: dtype is int16, expected int8"):
        qmx.gemm(device, a.astype(np.int16), np.zeros((5, 2), np.int8))
    with pytest.raises(ValueError, match=r"b: shape \(4, 2\) does not match"):
        qmx.gemm(device, a, np.zeros((4, 2), np.int8))
    with pytest.raises(ValueError, match=r"b: rows are not contiguous"):
        qmx.gemm(device, a, np.zeros((2, 5), np.int8).T)
    with pytest.raises(ValueError, match=r"out: shape \(3, 2\)"):
        qmx.gemm(device, a, np.zeros((5, 2), np.int8),
                 out=np.zeros((3, 2), np.int32))
    with pytest.raises(ValueError, match=r"a_zero_point: 300 outside \[-128, 127\]"):
        qmx.gemm(device, a, np.zeros((5, 2), np.int8), a_zero_point=300)
    with pytest.raises(ValueError, match=r"bias: shape \(3,\)"):
        qmx.gemm(device, a, np.zeros((5, 2), np.int8),
                 bias=np.zeros(3, np.int32))


def test_buffers_and_async_job(device: qmx.Device,
                               rng: np.random.Generator) -> None:
    m, n, k = 6, 7, 9
    ba, bb, bc = device.buffer(m * k), device.buffer(k * n), \
        device.buffer(m * n * 4)
    a = ba.array(np.int8, (m, k))
    b = bb.array(np.int8, (k, n))
    a[:] = _int8(rng, (m, k))
    b[:] = _int8(rng, (k, n))
    ba.sync(qmx.SYNC_TO_DEVICE)
    bb.sync(qmx.SYNC_TO_DEVICE)
    job = qmx.gemm_submit(device, ba, bb, bc, m, n, k, a_zero_point=1)
    stats = job.wait(timeout_s=120)
    bc.sync(qmx.SYNC_FROM_DEVICE)
    c = bc.array(np.int32, (m, n))
    assert np.array_equal(c, (a.astype(np.int64) - 1) @ b.astype(np.int64))
    assert stats["macs"] == m * n * k
    with pytest.raises(ValueError, match=r"shape: \(10, 10\) needs"):
        ba.array(np.int8, (10, 10))


def test_weights_packed_once_reused(device: qmx.Device,
                                    rng: np.random.Generator) -> None:
    b = _int8(rng, (130, 50))
    w = qmx.Weights(device, b)
    bias = rng.integers(-1000, 1000, size=50, dtype=np.int32)
    for m in (1, 9, 33):  # one packed B, several A
        a = _int8(rng, (m, 130))
        got = w.gemm(a, out_dtype=np.int8, a_zero_point=3, bias=bias,
                     multiplier=1 << 30, shift=-8)
        want = qmx.gemm_reference(a, b, out_dtype=np.int8, a_zero_point=3,
                                  bias=bias, multiplier=1 << 30, shift=-8)
        assert np.array_equal(got, want)
    w.b[...] = _int8(rng, (130, 50))  # new weights in the same array
    w.invalidate()
    a = _int8(rng, (7, 130))
    assert np.array_equal(w.gemm(a, b_zero_point=-2),
                          qmx.gemm_reference(a, w.b, b_zero_point=-2))
    with pytest.raises(ValueError, match="does not match"):
        w.gemm(_int8(rng, (4, 129)))
    with pytest.raises(TypeError):
        qmx.Weights(device, b.astype(np.int16))
    w.close()
    with pytest.raises(ValueError, match="already closed"):
        w.invalidate()
