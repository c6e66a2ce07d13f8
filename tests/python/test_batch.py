# SPDX-License-Identifier: MIT
"""qmx.Batch and qmx.gemm_tiled from Python: bit-exact against the
reference, dependencies, per-entry status, bad inputs; QLinear(batch=True)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import qmx
import qmx.torch as qtorch


def _upload(dev: qmx.Device, arr: np.ndarray) -> qmx.Buffer:
    buf = dev.buffer(arr.nbytes)
    buf.array(arr.dtype)[:] = arr.ravel()
    buf.sync(qmx.SYNC_TO_DEVICE)
    return buf


def test_chain_and_resubmit(device: qmx.Device, rng: np.random.Generator
                            ) -> None:
    a = rng.integers(-128, 128, (12, 20), dtype=np.int8)
    w1 = rng.integers(-128, 128, (20, 16), dtype=np.int8)
    w2 = rng.integers(-128, 128, (16, 9), dtype=np.int8)
    ba, b1, b2 = _upload(device, a), _upload(device, w1), _upload(device, w2)
    h, y = device.buffer(12 * 16), device.buffer(12 * 9 * 4)
    with qmx.Batch(device) as batch:
        i0 = batch.add_gemm(ba, b1, h, 12, 16, 20, out_int8=True,
                            a_zero_point=5, multiplier=1 << 30, shift=-6)
        i1 = batch.add_gemm(h, b2, y, 12, 9, 16, wait_for=i0, a_zero_point=-3)
        assert (i0, i1, len(batch)) == (0, 1, 2)
        for _ in range(2):
            batch.submit()
            batch.wait(600)
            h.sync(qmx.SYNC_FROM_DEVICE)
            y.sync(qmx.SYNC_FROM_DEVICE)
            ref_h = qmx.gemm_reference(a, w1, out_dtype=np.int8,
                                       a_zero_point=5, shift=-6)
            ref_y = qmx.gemm_reference(ref_h, w2, a_zero_point=-3)
            assert np.array_equal(h.array(np.int8).reshape(12, 16), ref_h)
            assert np.array_equal(y.array(np.int32).reshape(12, 9), ref_y)
            assert batch.status(1) == (0, "")
            assert batch.stats(1)["macs"] == 12 * 9 * 16
            a = rng.integers(-128, 128, (12, 20), dtype=np.int8)
            ba.array(np.int8)[:] = a.ravel()
            ba.sync(qmx.SYNC_TO_DEVICE)


def test_bad_inputs(device: qmx.Device) -> None:
    a, c = device.buffer(16), device.buffer(64)
    with qmx.Batch(device) as batch:
        with pytest.raises(qmx.QmxError, match=r"wait_for \(0\) must be -1"):
            batch.add_gemm(a, a, c, 4, 4, 4, wait_for=0)
        with pytest.raises(qmx.QmxError, match=r"the batch is empty"):
            batch.submit()
        with pytest.raises(qmx.QmxError, match=r"c.offset \(4\) \+ extent"):
            batch.add_gemm(a, a, c, 4, 4, 4, offsets=(0, 0, 4))
        with pytest.raises(ValueError, match=r"multipliers/shifts"):
            batch.add_gemm(a, a, c, 4, 4, 4, multipliers=c)
        batch.add_gemm(a, a, c, 4, 4, 4)
        batch.submit()
        with pytest.raises(BufferError, match=r"not been waited for"):
            c.free()
        with pytest.raises(qmx.QmxError, match=r"in flight"):
            batch.add_gemm(a, a, c, 4, 4, 4)
        batch.wait(600)
    c.free()


def test_gemm_tiled_small_device(rng: np.random.Generator) -> None:
    dev = qmx.Device("cpu:1,max_dim=16")
    assert dev.info["max_dim"] == 16
    a = rng.integers(-128, 128, (37, 50), dtype=np.int8)
    b = rng.integers(-128, 128, (50, 21), dtype=np.int8)
    bias = rng.integers(-5000, 5000, 21, dtype=np.int32)
    seen: list[tuple[int, int]] = []
    c = qmx.gemm_tiled(dev, a, b, out_dtype=np.int8, bias=bias,
                       a_zero_point=4, shift=-7,
                       progress=lambda d, t: seen.append((d, t)))
    ref = qmx.gemm_reference(a, b, out_dtype=np.int8, bias=bias,
                             a_zero_point=4, shift=-7)
    assert np.array_equal(c, ref)
    tiles = 3 * 2 * 4
    assert [d for d, _ in seen] == list(range(1, tiles + 1))
    assert {t for _, t in seen} == {tiles}
    with pytest.raises(qmx.QmxError, match=r"stopped by the progress"):
        qmx.gemm_tiled(dev, a, b, progress=lambda d, t: d >= 2)

    def boom(d: int, t: int) -> None:
        raise RuntimeError("from the callback")
    with pytest.raises(RuntimeError, match=r"from the callback"):
        qmx.gemm_tiled(dev, a, b, progress=boom)


def _pair(device: qmx.Device, seed: int, **kw: object
          ) -> tuple[qtorch.QLinear, qtorch.QLinear]:
    torch.manual_seed(seed)
    ref = nn.Linear(48, 20)
    return (qtorch.QLinear.from_linear(ref, device=device, **kw),
            qtorch.QLinear.from_linear(ref, device=device, batch=True, **kw))


@pytest.mark.parametrize("per_channel", [True, False])
def test_qlinear_batch(device: qmx.Device, per_channel: bool) -> None:
    plain, batched = _pair(device, 5, per_channel=per_channel)
    torch.manual_seed(6)
    x = (torch.rand(16, 48) * 3 - 1).requires_grad_()
    xb = x.detach().clone().requires_grad_()
    g = torch.randn(16, 20)
    y, yb = plain(x), batched(xb)
    # The forward is bit-identical to the default path's ...
    assert torch.equal(y, yb)
    y.backward(g)
    yb.backward(g)
    assert batched.batches == 2 and batched.jobs == 3
    # ... the gradients are the STE's up to rounding the gradient to int8
    # (per tensor, symmetric) before each backward GEMM.
    fq_x, fq_w = plain._plan.fake_quantized()  # 16 x 48, 48 x 20
    g2 = g.numpy().astype(np.float64)
    w_scale = np.array([p.scale for p in plain._plan.last_qparams()[1]])
    gs = g2 * w_scale[None, :]
    s1 = np.abs(gs).max() / 127
    bound_x = s1 / 2 * np.abs(fq_w.astype(np.float64) / w_scale).sum(1)
    err_x = np.abs(xb.grad.numpy() - x.grad.numpy())
    assert np.all(err_x <= bound_x[None, :] + 1e-4), err_x.max()
    s2 = np.abs(g2).max() / 127
    bound_w = s2 / 2 * np.abs(fq_x.astype(np.float64)).sum(0)
    err_w = np.abs(batched.weight.grad.numpy() - plain.weight.grad.numpy())
    assert np.all(err_w <= bound_w[None, :] + 1e-4), err_w.max()
    assert err_w.max() > 0  # the gradient really was quantized
    assert torch.allclose(batched.bias.grad, plain.bias.grad)


def test_qlinear_batch_refuses_asymmetric_per_channel(device: qmx.Device
                                                      ) -> None:
    q = qtorch.QLinear(8, 4, device=device, batch=True,
                       weight_scheme="asymmetric")
    with pytest.raises(ValueError, match=r"per-channel weights need"):
        q(torch.zeros(2, 8, requires_grad=True))


def _expected_step(q: qtorch.QLinear, x: torch.Tensor, g: torch.Tensor
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """QLinear(batch=True)'s output, grad_input and grad_weight from the
    quantizers and int64 numpy GEMMs: the numbers it must give bit for
    bit (the operands quantized on the host, the GEMMs on the device)."""
    x2, w_t = x.numpy(), q.weight.detach().t().contiguous().numpy()
    qa = qmx.choose_qparams(x2, q.input_scheme)
    xq = qmx.quantize(x2, qa).astype(np.int64) - qa.zero_point
    if q.per_channel:
        qps = qmx.choose_qparams_per_channel(w_t, 1, "symmetric")
        wq = qmx.quantize_per_channel(w_t, qps, 1).astype(np.int64)
    else:
        qps = [qmx.choose_qparams(w_t, q.weight_scheme)]
        wq = qmx.quantize(w_t, qps[0]).astype(np.int64) - qps[0].zero_point
    w_scale = np.array([p.scale for p in qps], dtype=np.float64)
    s = np.float64(qa.scale) * w_scale
    out = (s * (xq @ wq).astype(np.float64)).astype(np.float32)
    out += q.bias.detach().numpy()
    g2 = g.numpy()
    gs = np.ascontiguousarray(g2 * w_scale.astype(np.float32)[None, :])
    q1 = qmx.choose_qparams(gs, "symmetric")
    gx = qmx.quantize(gs, q1).astype(np.int64) @ wq.T
    gt = np.ascontiguousarray(g2.T)
    q2 = qmx.choose_qparams(gt, "symmetric")
    gw = qmx.quantize(gt, q2).astype(np.int64) @ xq
    return (out, (np.float64(q1.scale) * gx).astype(np.float32),
            (np.float64(q2.scale) * np.float64(qa.scale) * gw
             ).astype(np.float32))


@pytest.mark.parametrize("per_channel,weight_scheme",
                         [(True, "symmetric"), (False, "asymmetric")])
def test_qlinear_batch_bit_exact(device: qmx.Device,
                                 rng: np.random.Generator, per_channel: bool,
                                 weight_scheme: str) -> None:
    """Two forwards, then both backwards (in reverse): each step's results
    bit for bit against the reference, whatever ran in between (the step's
    operands are in device buffers reused by every forward)."""
    _, q = _pair(device, 7, per_channel=per_channel,
                 weight_scheme=weight_scheme)
    xs = [torch.from_numpy(rng.uniform(-1, 2, (16, 48)).astype(np.float32)
                           ).requires_grad_() for _ in range(2)]
    gs = [torch.from_numpy(rng.standard_normal((16, 20)).astype(np.float32))
          for _ in range(2)]
    want = [_expected_step(q, x.detach(), g) for x, g in zip(xs, gs)]
    ys = [q(x) for x in xs]
    grads_w = []
    for y, g in reversed(list(zip(ys, gs))):
        q.weight.grad = None
        y.backward(g)
        grads_w.insert(0, q.weight.grad.clone())
    for y, x, gw, (out, gx_ref, gw_ref) in zip(ys, xs, grads_w, want):
        assert np.array_equal(y.detach().numpy(), out)
        assert np.array_equal(x.grad.numpy(), gx_ref)
        assert np.array_equal(gw.numpy(), gw_ref)
    assert q.batches == 4 and q.jobs == 6
