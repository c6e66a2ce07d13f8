# SPDX-License-Identifier: MIT
"""PyTorch layers whose forward GEMM runs in int8 on a qmx device.

``QLinear`` is a drop-in ``nn.Linear`` for quantization-aware training:
the forward quantizes the input (per tensor, asymmetric by default) and the
weight (per output channel, symmetric by default), runs the int8 GEMM on a
qmx device and returns float32.  The backward uses the straight-through
estimator: the quantizers count as the identity, so the gradients are those
of a float linear layer evaluated at the fake-quantized input and weight
(``grad_input = grad @ fq(W)``, ``grad_weight = grad^T @ fq(x)``).  The
ranges come from each batch's data, so nothing is clipped and no clipping
mask is needed.  CPU float32 tensors only.

Under ``torch.no_grad()`` (inference) the quantized weight is packed once on
the device (:class:`qmx.Weights`) and reused by every forward until the
weight changes: PyTorch's version counter of the parameter tells, and the
packed form is then invalidated and repacked.  The result is bit-identical
to the training path's.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from .device import Device, Weights
from .meter import Meter
from .quant import (QGemm, choose_qparams, choose_qparams_per_channel,
                    quantize, quantize_per_channel)


def _check_tensor(name: str, t: torch.Tensor) -> None:
    if t.dtype != torch.float32:
        raise TypeError(f"{name}: dtype is {t.dtype}, expected torch.float32")
    if t.device.type != "cpu":
        raise ValueError(f"{name}: tensor is on {t.device}, qmx reads host "
                         "(CPU) memory; move it with .cpu()")


class QLinearFunction(torch.autograd.Function):
    """Fake-quant linear: int8 forward on a qmx device, STE backward."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor,
                bias: Optional[torch.Tensor], layer: "QLinear",
                grad_enabled: bool = True) -> torch.Tensor:
        _check_tensor("input", x)
        _check_tensor("weight", weight)
        if x.shape[-1] != weight.shape[1]:
            raise ValueError(f"input: last dimension {x.shape[-1]} != "
                             f"in_features {weight.shape[1]}")
        lead = x.shape[:-1]
        x2 = x.detach().reshape(-1, x.shape[-1]).contiguous().numpy()
        if not grad_enabled and layer.pack_weights and layer._fits(x2.shape[0]):
            out = layer._packed_forward(x2, bias)
            return torch.from_numpy(out).reshape(*lead, weight.shape[0])
        # The GEMM takes B as K x N row-major: the transposed weight.
        w_t = weight.detach().t().contiguous().numpy()
        b = None if bias is None else bias.detach().contiguous().numpy()
        rows = x2.shape[0]
        plan = layer._plan_for(rows)
        out = np.empty((rows, weight.shape[0]), dtype=np.float32)
        # Under torch.no_grad() (evaluation) the backward never runs.
        need_grad = grad_enabled and any(ctx.needs_input_grad[:3])
        fq_x = np.empty_like(x2) if need_grad else x2[:0]
        fq_w = np.empty_like(w_t) if need_grad else w_t[:0]
        # Batches above the device's largest M run in chunks of rows, each
        # with its own input scale (weights quantize identically in each).
        for s in range(0, rows, plan.max_m):
            e = min(rows, s + plan.max_m)
            plan.submit(x2[s:e], w_t, bias=b, out=out[s:e],
                        b_per_channel=layer.per_channel,
                        a_scheme=layer.input_scheme,
                        b_scheme=layer.weight_scheme)
            layer._account(plan.wait(layer.timeout_s))
            if need_grad:  # the operands as the device saw them, for the STE
                plan.fake_quantized(fq_x[s:e], fq_w)
        ctx.save_for_backward(torch.from_numpy(fq_x), torch.from_numpy(fq_w))
        ctx.has_bias = bias is not None
        ctx.lead = lead
        return torch.from_numpy(out).reshape(*lead, weight.shape[0])

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[Any, ...]:
        fq_x, fq_w = ctx.saved_tensors  # M x K, K x N
        g = grad_out.reshape(-1, grad_out.shape[-1])
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = (g @ fq_w.t()).reshape(*ctx.lead, fq_w.shape[0])
        if ctx.needs_input_grad[1]:
            grad_w = g.t() @ fq_x
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = g.sum(0)
        return grad_x, grad_w, grad_b, None, None


class QLinear(nn.Module):
    """``nn.Linear`` with its forward GEMM in int8 on a qmx device (QAT).

    Args:
        in_features, out_features, bias: as ``nn.Linear``.
        device: a :class:`qmx.Device`, a URI (``"cpu"``, ``"sim"``), or
            ``None`` for the default device.
        per_channel: one weight scale per output feature (default True).
        input_scheme / weight_scheme: ``"asymmetric"`` or ``"symmetric"``.
        meter: a :class:`qmx.Meter`, or a sequence of them, to which every
            job is added: a device meter sums the jobs' energy; a host
            meter ("cpu") then leaves the time the host spent simulating a
            simulated device out of its figures (docs/energy.md).
        timeout_s: bound on each device wait (None: unbounded).
        pack_weights: under ``torch.no_grad()``, quantize and pack the
            weight once and reuse it until it changes (default True).

    The plan's device buffers are sized for the largest batch seen and
    reused; a larger batch reallocates them once.
    """

    def __init__(self, in_features: int, out_features: int,
                 bias: bool = True, device: Any = None,
                 per_channel: bool = True,
                 input_scheme: str = "asymmetric",
                 weight_scheme: str = "symmetric",
                 meter: Union[Meter, Sequence[Meter], None] = None,
                 timeout_s: Optional[float] = 600.0,
                 pack_weights: bool = True) -> None:
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"in_features ({in_features}) and out_features "
                             f"({out_features}) must be > 0")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.qmx_device = (device if isinstance(device, Device)
                           else Device(device))
        self.per_channel = per_channel
        self.input_scheme = input_scheme
        self.weight_scheme = weight_scheme
        self.meters: list[Meter] = ([] if meter is None else [meter]
                                    if isinstance(meter, Meter) else list(meter))
        self.timeout_s = timeout_s
        self.jobs = 0
        self.device_ns = 0
        self.energy_j = 0.0
        self._plan: Optional[QGemm] = None
        self.pack_weights = pack_weights
        self.weight_packs = 0  # times the weight was quantized and packed
        self._weights: Optional[Weights] = None
        self._weights_version = -1
        self._w_scale = np.zeros(0)
        self._w_zero_point = 0
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The initialisation of ``nn.Linear``."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            nn.init.uniform_(self.bias, -bound, bound)

    @classmethod
    def from_linear(cls, linear: nn.Linear, **kwargs: Any) -> "QLinear":
        """A QLinear with the weights of ``linear`` (copied)."""
        q = cls(linear.in_features, linear.out_features,
                linear.bias is not None, **kwargs)
        with torch.no_grad():
            q.weight.copy_(linear.weight)
            if linear.bias is not None:
                q.bias.copy_(linear.bias)
        return q

    def _plan_for(self, rows: int) -> QGemm:
        limit = int(self.qmx_device.info["max_dim"]) or rows
        rows = max(1, min(rows, limit))
        if self._plan is None or rows > self._plan.max_m:
            if self._plan is not None:
                self._plan.close()
            self._plan = QGemm(self.qmx_device, rows, self.out_features,
                               self.in_features)
        return self._plan

    def _fits(self, rows: int) -> bool:
        limit = int(self.qmx_device.info["max_dim"])
        return rows >= 1 and (limit == 0 or rows <= limit)

    def _packed_weights(self) -> Weights:
        """The quantized weight, packed; repacked when the weight changed.

        Quantized exactly as the plan quantizes it (per output feature,
        or per tensor), so both paths give the same bits."""
        version = self.weight._version
        if self._weights is not None and version == self._weights_version:
            return self._weights
        w_t = self.weight.detach().t().contiguous().numpy()  # K x N
        if self.per_channel:
            qps = choose_qparams_per_channel(w_t, 1, self.weight_scheme)
            wq = quantize_per_channel(w_t, qps, 1)
        else:
            qps = [choose_qparams(w_t, self.weight_scheme)]
            wq = quantize(w_t, qps[0])
        if self._weights is None:
            self._weights = Weights(self.qmx_device, np.ascontiguousarray(wq))
        else:
            self._weights.b[...] = wq  # same buffer: repack from it
            self._weights.invalidate()
        self._w_scale = np.array([q.scale for q in qps], dtype=np.float64)
        self._w_zero_point = 0 if self.per_channel else qps[0].zero_point
        self._weights_version = version
        self.weight_packs += 1
        return self._weights

    def _packed_forward(self, x2: np.ndarray,
                        bias: Optional[torch.Tensor]) -> np.ndarray:
        """Inference: the input quantized per call, the weight packed once;
        C = scale_a * scale_b[j] * acc + bias[j], as the plan computes it."""
        w = self._packed_weights()
        qa = choose_qparams(x2, self.input_scheme)
        xq = quantize(x2, qa)
        acc, st = w.gemm(xq, a_zero_point=qa.zero_point,
                         b_zero_point=self._w_zero_point, stats=True)
        self._account(st)
        s = np.float64(qa.scale) * self._w_scale
        out = (s * acc.astype(np.float64)).astype(np.float32)
        if bias is not None:
            out += bias.detach().numpy()
        return out

    def _account(self, stats: dict[str, Any]) -> None:
        self.jobs += 1
        self.device_ns += int(stats["device_ns"])
        self.energy_j += float(stats["energy_j"])
        for m in self.meters:
            m.add_job(stats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """int8 forward on the qmx device; STE backward."""
        return QLinearFunction.apply(x, self.weight, self.bias, self,
                                     torch.is_grad_enabled())

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, "
                f"out_features={self.out_features}, "
                f"bias={self.bias is not None}, "
                f"device={self.qmx_device.uri!r}, "
                f"per_channel={self.per_channel}")


def quantize_model(model: nn.Module, **kwargs: Any) -> nn.Module:
    """Replace every ``nn.Linear`` in ``model`` by a :class:`QLinear`."""
    if not isinstance(kwargs.get("device"), Device):
        kwargs["device"] = Device(kwargs.get("device"))
    for name, child in model.named_children():
        if isinstance(child, nn.Linear):
            setattr(model, name, QLinear.from_linear(child, **kwargs))
        else:
            quantize_model(child, **kwargs)
    return model


__all__ = ["QLinear", "QLinearFunction", "quantize_model"]
