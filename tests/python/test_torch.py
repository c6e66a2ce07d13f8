# SPDX-License-Identifier: MIT
"""qmx.torch.QLinear: int8 forward on the device, straight-through backward."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import qmx
import qmx.torch as qtorch


def _fake_quant(x: np.ndarray, scale: np.ndarray, zp: np.ndarray
                ) -> np.ndarray:
    """An independent fake quantizer: double division, half to even."""
    q = np.clip(np.rint(x.astype(np.float64) / scale) + zp, -128, 127)
    return ((q - zp).astype(np.float32) * scale.astype(np.float32))


def _pair(device: qmx.Device, seed: int) -> tuple[qtorch.QLinear, nn.Linear]:
    torch.manual_seed(seed)
    ref = nn.Linear(48, 20)
    return qtorch.QLinear.from_linear(ref, device=device), ref


def test_forward_within_bound(device: qmx.Device) -> None:
    q, ref = _pair(device, 1)
    x = torch.rand(16, 48) * 3 - 1
    y = q(x)
    qa, qb = q._plan.last_qparams()
    sb = np.array([p.scale for p in qb])
    xa, w = x.numpy().astype(np.float64), ref.weight.detach().numpy()
    bound = (np.abs(xa).sum(1, keepdims=True) * sb / 2
             + qa.scale / 2 * np.abs(w).sum(1) + 48 * qa.scale * sb / 4)
    err = (y - ref(x)).abs().detach().numpy()
    assert y.shape == (16, 20) and y.dtype == torch.float32
    assert np.all(err <= bound + 1e-5), f"max excess {np.max(err - bound)}"
    assert q.jobs == 1


def test_gradients_are_straight_through(device: qmx.Device) -> None:
    q, ref = _pair(device, 2)
    x = (torch.randn(3, 5, 48)).requires_grad_()  # extra leading dim
    x_ref = x.detach().clone().requires_grad_()
    g = torch.randn(3, 5, 20)
    q(x).backward(g)
    ref(x_ref).backward(g)
    qa, qb = q._plan.last_qparams()
    sb = np.array([p.scale for p in qb], dtype=np.float64)
    w = ref.weight.detach().numpy()
    fq_w = _fake_quant(w, sb[:, None], np.zeros((20, 1)))
    x2 = x.detach().reshape(-1, 48).numpy()
    fq_x = _fake_quant(x2, np.float64(qa.scale), np.float64(qa.zero_point))
    g2 = g.reshape(-1, 20).numpy()
    # Exactly the STE formula (float32 matmul tolerance) ...
    np.testing.assert_allclose(x.grad.reshape(-1, 48).numpy(), g2 @ fq_w,
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(q.weight.grad.numpy(), g2.T @ fq_x,
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(q.bias.grad.numpy(), ref.bias.grad.numpy(),
                               rtol=1e-5, atol=1e-5)
    # ... and within the quantization error of the float layer's gradients.
    gx_bound = np.abs(g2) @ (sb[:, None] / 2 * np.ones((1, 48)))
    gx_err = np.abs(x.grad - x_ref.grad).reshape(-1, 48).numpy()
    assert np.all(gx_err <= gx_bound + 1e-5)
    gw_bound = np.abs(g2).T @ np.full((15, 48), qa.scale / 2)
    gw_err = np.abs(q.weight.grad - ref.weight.grad).numpy()
    assert np.all(gw_err <= gw_bound + 1e-4)
    assert gx_err.max() > 0  # quantization really happened


def test_errors(device: qmx.Device) -> None:
    q, _ = _pair(device, 3)
    with pytest.raises(TypeError, match=r"input: dtype is torch.float64"):
        q(torch.zeros(2, 48, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"input: last dimension 47"):
        q(torch.zeros(2, 47))
    with pytest.raises(ValueError, match=r"in_features \(0\)"):
        qtorch.QLinear(0, 3, device=device)


def test_plan_grows_once(device: qmx.Device) -> None:
    q, _ = _pair(device, 4)
    q(torch.zeros(4, 48))
    plan = q._plan
    q(torch.zeros(2, 48))
    assert q._plan is plan  # smaller batch: same buffers
    q(torch.zeros(9, 48))
    assert q._plan is not plan and q._plan.max_m == 9


def test_batches_above_max_dim_run_in_chunks(device: qmx.Device) -> None:
    q, _ = _pair(device, 5)
    x = torch.randn(10, 48)
    q.qmx_device.info["max_dim"] = 4  # as a device with M <= 4 would say
    try:
        y = q(x)
        assert q._plan.max_m == 4 and q.jobs == 3
        parts = torch.cat([q(x[0:4]), q(x[4:8]), q(x[8:10])])
    finally:
        q.qmx_device.info = q.qmx_device.query()
    assert torch.equal(y, parts)  # each chunk with its own input scale


def test_no_grad_forward_matches(device: qmx.Device) -> None:
    q, _ = _pair(device, 6)
    x = torch.randn(7, 48)
    with torch.no_grad():
        y0 = q(x)  # evaluation: no operands kept for a backward
    y1 = q(x)
    assert not y0.requires_grad and y1.requires_grad
    assert torch.equal(y0, y1.detach())


@pytest.mark.parametrize("per_channel", [True, False])
def test_no_grad_packs_weights_once(device: qmx.Device,
                                    per_channel: bool) -> None:
    torch.manual_seed(7)
    ref = nn.Linear(48, 20)
    q = qtorch.QLinear.from_linear(ref, device=device, per_channel=per_channel,
                                   weight_scheme="symmetric" if per_channel
                                   else "asymmetric")
    x = torch.randn(9, 48)
    with torch.no_grad():
        ys = [q(x) for _ in range(3)]
    assert q.weight_packs == 1  # packed once, reused
    assert all(torch.equal(ys[0], y) for y in ys)
    assert torch.equal(ys[0], q(x).detach())  # bit-identical to the plan's
    with torch.no_grad():
        q.weight.mul_(0.5)  # an optimizer step changes it in place
        y2 = q(x)
    assert q.weight_packs == 2  # the version counter invalidated it
    assert torch.equal(y2, q(x).detach())
    assert not torch.equal(y2, ys[0])


def test_pack_weights_off_uses_the_plan(device: qmx.Device) -> None:
    torch.manual_seed(8)
    q = qtorch.QLinear(48, 20, device=device, pack_weights=False)
    with torch.no_grad():
        q(torch.randn(5, 48))
    assert q.weight_packs == 0 and q._plan is not None
