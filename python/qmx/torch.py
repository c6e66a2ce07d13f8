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

With ``batch=True`` a training step's GEMMs go to the device as qmx
batches (:class:`qmx.Batch`): each layer's forward GEMM as one batch, and
its backward GEMMs (``grad_input`` and ``grad_weight``, independent of each
other) as another, in int8 on the device too.  The gradient is then
quantized per tensor (symmetric) before each backward GEMM, so the
gradients are those of the straight-through estimator up to that rounding;
the forward is bit-identical to the default path's.

Under ``torch.no_grad()`` (inference) the quantized weight is packed once on
the device (:class:`qmx.Weights`) and reused by every forward until the
weight changes: PyTorch's version counter of the parameter tells, and the
packed form is then invalidated and repacked.  The result is bit-identical
to the training path's.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from . import _arrays
from ._lib import QMX_ETIMEDOUT, GemmDesc, JobStats, QParamsC, check, lib
from .device import SYNC_FROM_DEVICE, SYNC_TO_DEVICE, Batch, Buffer, Device, Weights
from .meter import Meter
from .quant import (QGemm, _scheme, choose_qparams,
                    choose_qparams_per_channel, quantize,
                    quantize_per_channel)


def _check_tensor(name: str, t: torch.Tensor) -> None:
    if t.dtype != torch.float32:
        raise TypeError(f"{name}: dtype is {t.dtype}, expected torch.float32")
    if t.device.type != "cpu":
        raise ValueError(f"{name}: tensor is on {t.device}, qmx reads host "
                         "(CPU) memory; move it with .cpu()")


def _desc(a: Buffer, b: Buffer, c: Buffer, m: int, n: int, k: int
          ) -> GemmDesc:
    """An int32-output GEMM on packed row-major device buffers, zero points
    0 (the host folds them in: see _StepGemms)."""
    d = GemmDesc()
    lib().qmx_gemm_params_init(ctypes.byref(d.params), m, n, k)
    d.a.buffer, d.b.buffer, d.c.buffer = a.handle, b.handle, c.handle
    return d


def _zero_point_fix(acc: np.ndarray, a: np.ndarray, b: np.ndarray, za: int,
                    zb: int) -> np.ndarray:
    """sum_k (a - za)(b - zb) from acc = sum_k a * b (int32, exact while
    no sum wraps, as here: K <= the device's max_k)."""
    out = acc.astype(np.int64)
    if za:
        out -= za * b.sum(0, dtype=np.int64)[None, :]
    if zb:
        out -= zb * a.sum(1, dtype=np.int64)[:, None]
    if za and zb:
        out += a.shape[1] * za * zb
    return out


class _Batch:
    """One qmx batch of a step with what a submission needs resolved once:
    the raw handles and sizes to sync, a JobStats per entry to read the
    accounting into.  Training submits it every step, so nothing here is
    rebuilt, validated again or allocated per step."""

    def __init__(self, device: Device, gemms: list[tuple[Any, ...]]) -> None:
        self.batch = Batch(device)
        for a, b, c, m, n, k in gemms:
            self.batch._add_desc(_desc(a, b, c, m, n, k), -1, [a, b, c])
        self.handle = self.batch.handle
        self.to_device = [(buf.handle, buf.size) for a, b, _, _, _, _ in gemms
                          for buf in (a, b)]
        self.from_device = [(c.handle, c.size) for _, _, c, _, _, _ in gemms]
        self.code = ctypes.c_int()
        self.stats = [JobStats() for _ in gemms]
        self.args = [(i, ctypes.byref(self.code), ctypes.byref(st))
                     for i, st in enumerate(self.stats)]

    def run(self, layer: "QLinear") -> None:
        """Sync the operands in, submit, wait, sync the results out and
        account every entry."""
        L = lib()
        sync = L.qmx_buffer_sync
        for h, size in self.to_device:
            _check(sync(h, SYNC_TO_DEVICE, 0, size))
        _check(L.qmx_batch_submit(self.handle))
        self.batch._flight._handle = True
        t = layer.timeout_s
        err = L.qmx_batch_wait(self.handle, -1 if t is None else
                               _arrays.timeout_ns("timeout_s", t) // 1000000)
        if err != QMX_ETIMEDOUT:  # leaves it in flight (as Batch.wait)
            self.batch._flight._handle = None
        _check(err)
        for h, size in self.from_device:
            _check(sync(h, SYNC_FROM_DEVICE, 0, size))
        status = L.qmx_batch_entry_status
        for (i, code, st), stats in zip(self.args, self.stats):
            _check(status(self.handle, i, code, st))
            layer._account_c(stats)
        layer.batches += 1


def _check(err: int) -> None:
    if err < 0:
        check(err)


_RAW: dict[str, Any] = {}


def _raw(name: str, *argtypes: Any) -> Any:
    """libqmx's ``name`` taking addresses as plain ints: no ctypes pointer
    object is made per call (ctypes.POINTER arguments need one)."""
    fn = _RAW.get(name)
    if fn is None:
        fn = _RAW[name] = ctypes.CFUNCTYPE(ctypes.c_int, *argtypes)(
            (name, lib()))
    return fn


class _Quantizer:
    """Per-tensor quantization into a fixed int8 array, through
    libqmx's qmx_qparams_choose and qmx_quantize (as qmx.quant's
    choose_qparams and quantize) with the parameters kept in one struct."""

    def __init__(self, out: np.ndarray) -> None:
        P, S = ctypes.c_void_p, ctypes.c_size_t
        self.choose = _raw("qmx_qparams_choose", P, S, ctypes.c_int, P)
        self.quantize = _raw("qmx_quantize", P, S, QParamsC, P)
        self.qp = QParamsC()
        self.qp_addr = ctypes.addressof(self.qp)
        self.out = out  # the mapped buffer's view: kept alive
        self.out_addr = out.ctypes.data

    def __call__(self, x: np.ndarray, scheme: str) -> tuple[float, int]:
        """Quantize float32 contiguous ``x`` (out's size); (scale, zp)."""
        if x.size != self.out.size:  # the C call writes x.size bytes
            raise ValueError(f"x: {x.size} elements, the buffer holds "
                             f"{self.out.size}")
        addr = x.ctypes.data
        _check(self.choose(addr, x.size, _scheme("scheme", scheme),
                           self.qp_addr))
        _check(self.quantize(addr, x.size, self.qp, self.out_addr))
        return self.qp.scale, self.qp.zero_point


class _RowQuantizer:
    """Quantize N x K float32 (the weight as PyTorch holds it) per row, i.e.
    per output channel, into a fixed int8 N x K array as
    choose_qparams_per_channel + quantize_per_channel do, without a Python
    object per channel or per call; the scales as float64.  The same bits
    as per column of the transposed weight: a symmetric range is each
    channel's largest magnitude, whatever the order."""

    def __init__(self, out: np.ndarray, n: int, k: int) -> None:
        P, I64, I = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
        self.choose = _raw("qmx_qparams_choose_per_channel",
                           P, I64, I64, I64, I, I, P)
        self.quantize = _raw("qmx_quantize_per_channel",
                             P, I64, I64, I64, I, P, P, I64)
        self.n, self.k = n, k
        self.qps = (QParamsC * n)()
        self.qps_addr = ctypes.addressof(self.qps)
        self.scales = np.frombuffer(self.qps, dtype=np.dtype(
            [("scale", np.float32), ("zero_point", np.int32)]))["scale"]
        self.out = out  # the mapped buffer's view: kept alive
        self.out_addr = out.ctypes.data

    def __call__(self, w: np.ndarray, scheme: str) -> np.ndarray:
        if w.shape != (self.n, self.k):  # the C calls read N x K floats
            raise ValueError(f"w: shape {w.shape}, expected "
                             f"({self.n}, {self.k})")
        if scheme != "symmetric":  # as the plan: per-channel B is symmetric
            raise ValueError(f"weight_scheme: {scheme!r}, per-channel "
                             "weights need 'symmetric'")
        n, k, addr = self.n, self.k, w.ctypes.data
        _check(self.choose(addr, n, k, k, 0, 1, self.qps_addr))
        _check(self.quantize(addr, n, k, k, 0, self.qps_addr, self.out_addr,
                             k))
        return self.scales.astype(np.float64)


class _StepGemms:
    """One layer's GEMMs of a training step on a device, for inputs of
    ``m`` rows: device buffers and qmx batches built once and submitted
    again every step (the forward GEMM; the backward's grad_input and
    grad_weight GEMMs, independent, in one batch).  The descriptors are
    the same every step because zero points, which change with the data,
    are folded in on the host: sum (a - za)(b - zb) = sum a*b - za colsum(b)
    - zb rowsum(a) + K za zb.  The operands are quantized straight into the
    mapped buffers."""

    def __init__(self, device: Device, m: int, k: int, n: int) -> None:
        self.device = device
        self.m, self.k, self.n = m, k, n
        buf = device.buffer
        # forward: acc (M x N) = xq x wq
        self.xq, self.wq, self.acc = buf(m * k), buf(k * n), buf(m * n * 4)
        # grad_input: gx (M x K) = q(g * s_w) x wq^T
        self.gs, self.wqt, self.gx = buf(m * n), buf(n * k), buf(m * k * 4)
        # grad_weight: gw (N x K) = q(g^T) x xq
        self.gt, self.xqb, self.gw = buf(n * m), buf(m * k), buf(n * k * 4)
        v = {name: getattr(self, name).array(
            np.int32 if name in ("acc", "gx", "gw") else np.int8)
            for name in ("xq", "wq", "acc", "gs", "wqt", "gx", "gt", "xqb",
                         "gw")}
        self.acc_2d = v["acc"].reshape(m, n)
        self.xq_2d = v["xq"].reshape(m, k)
        self.wq_2d = v["wq"].reshape(k, n)
        self.wqt_2d = v["wqt"].reshape(n, k)
        self.gx_2d, self.gw_2d = v["gx"].reshape(m, k), v["gw"].reshape(n, k)
        self.gs_2d, self.gt_2d = v["gs"].reshape(m, n), v["gt"].reshape(n, m)
        self.xqb_2d = v["xqb"].reshape(m, k)
        self.f_out = np.empty((m, n), dtype=np.float64)
        self.q_x, self.q_wt = _Quantizer(v["xq"]), _Quantizer(v["wqt"])
        self.q_gs, self.q_gt = _Quantizer(v["gs"]), _Quantizer(v["gt"])
        self.q_rows = _RowQuantizer(v["wqt"], n, k)
        fwd = [(self.xq, self.wq, self.acc, m, n, k)]
        gx = (self.gs, self.wqt, self.gx, m, k, n)
        gw = (self.gt, self.xqb, self.gw, n, k, m)
        self.batches = {"fwd": _Batch(device, fwd),
                        (True, True): _Batch(device, [gx, gw]),
                        (True, False): _Batch(device, [gx]),
                        (False, True): _Batch(device, [gw])}

    def forward(self, layer: "QLinear", x2: np.ndarray, w: np.ndarray,
                bias: Optional[np.ndarray]) -> tuple[np.ndarray, Any]:
        """float out (M x N) from x2 (M x K) and the weight w (N x K), and
        what the backward needs."""
        sa, za = self.q_x(x2, layer.input_scheme)
        # The weight is quantized as it lies (N x K: grad_input's B), then
        # transposed in int8 for the forward's B (K x N).
        if layer.per_channel:
            w_scale = self.q_rows(w, layer.weight_scheme)
            zb = 0
        else:
            sw, zb = self.q_wt(w, layer.weight_scheme)
            w_scale = np.array([sw], dtype=np.float64)
        self.wq_2d[...] = self.wqt_2d.T
        self.batches["fwd"].run(layer)
        xq, wqt = self.xq_2d.copy(), self.wqt_2d.copy()
        # sum (a - za)(b - zb) in float64, exact (integers far below 2^53)
        f = self.f_out
        f[...] = self.acc_2d
        if za:
            f -= za * wqt.sum(1, dtype=np.int64)[None, :]
        if zb:
            f -= zb * xq.sum(1, dtype=np.int64)[:, None]
        if za and zb:
            f += self.k * za * zb
        f *= np.float64(sa) * w_scale
        out = f.astype(np.float32)
        if bias is not None:
            out += bias
        saved = (xq, (sa, za), wqt, zb, w_scale.astype(np.float32))
        return out, saved

    def backward(self, layer: "QLinear", g: np.ndarray, saved: Any,
                 need_x: bool, need_w: bool
                 ) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """grad_input (M x K) and grad_weight (N x K), one batch."""
        if not (need_x or need_w):
            return None, None
        xq, (sa, za), wqt, zb, w_scale = saved
        # The operands are written again: another forward may have run.
        if need_x:
            gs = np.ascontiguousarray(g * w_scale[None, :], dtype=np.float32)
            s1, _ = self.q_gs(gs, "symmetric")
            self.wqt_2d[...] = wqt
        if need_w:
            s2, _ = self.q_gt(np.ascontiguousarray(g.T), "symmetric")
            self.xqb_2d[...] = xq
        self.batches[(need_x, need_w)].run(layer)
        grad_x = grad_w = None
        if need_x:
            acc = _zero_point_fix(self.gx_2d, self.gs_2d, wqt, 0, zb)
            grad_x = (np.float64(s1) * acc).astype(np.float32)
        if need_w:
            acc = _zero_point_fix(self.gw_2d, self.gt_2d, xq, 0, za)
            grad_w = (np.float64(s2) * np.float64(sa) * acc
                      ).astype(np.float32)
        return grad_x, grad_w

    def close(self) -> None:
        """Free the batches (their buffers go with this object)."""
        for b in self.batches.values():
            b.batch.close()


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
        b = None if bias is None else bias.detach().contiguous().numpy()
        rows = x2.shape[0]
        ctx.has_bias = bias is not None
        ctx.lead = lead
        ctx.step = None
        if layer.batch and layer._fits(rows):
            step = layer._step_for(rows)
            out, ctx.saved = step.forward(
                layer, x2, weight.detach().contiguous().numpy(), b)
            ctx.step, ctx.layer = step, layer
            return torch.from_numpy(out).reshape(*lead, weight.shape[0])
        # The GEMM takes B as K x N row-major: the transposed weight.
        w_t = weight.detach().t().contiguous().numpy()
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
        return torch.from_numpy(out).reshape(*lead, weight.shape[0])

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[Any, ...]:
        g = grad_out.reshape(-1, grad_out.shape[-1])
        grad_x = grad_w = grad_b = None
        if ctx.step is not None:  # both GEMMs on the device, one batch
            gx, gw = ctx.step.backward(
                ctx.layer, g.detach().contiguous().numpy(), ctx.saved,
                ctx.needs_input_grad[0], ctx.needs_input_grad[1])
            if gx is not None:
                grad_x = torch.from_numpy(gx).reshape(*ctx.lead, gx.shape[1])
            if gw is not None:
                grad_w = torch.from_numpy(gw)
            if ctx.has_bias and ctx.needs_input_grad[2]:
                grad_b = g.sum(0)
            return grad_x, grad_w, grad_b, None, None
        fq_x, fq_w = ctx.saved_tensors  # M x K, K x N
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
        batch: run a training step's GEMMs as qmx batches, the backward
            ones on the device too (default False: forward on the device,
            backward in float on the host).

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
                 pack_weights: bool = True, batch: bool = False) -> None:
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
        self.batches = 0  # qmx batches submitted (batch=True)
        self.batch = batch
        self._steps: dict[int, _StepGemms] = {}
        self.device_ns = 0
        self.sim_wall_ns = 0  # host time spent simulating a simulated device
        self.sim_cpu_ns = 0   # host CPU time of it
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

    def _step_for(self, rows: int) -> _StepGemms:
        step = self._steps.get(rows)
        if step is None:
            if len(self._steps) >= 4:  # a few row counts (the last batch)
                for old in self._steps.values():
                    old.close()
                self._steps.clear()
            step = _StepGemms(self.qmx_device, rows, self.in_features,
                              self.out_features)
            self._steps[rows] = step
        return step

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
        self.sim_wall_ns += int(stats["sim_wall_ns"])
        self.sim_cpu_ns += int(stats["sim_cpu_ns"])
        self.energy_j += float(stats["energy_j"])
        for m in self.meters:
            m.add_job(stats)

    def _account_c(self, st: JobStats) -> None:
        """:meth:`_account` from the C structure (no dict per job)."""
        self.jobs += 1
        self.device_ns += st.device_ns
        self.sim_wall_ns += st.sim_wall_ns
        self.sim_cpu_ns += st.sim_cpu_ns
        self.energy_j += st.energy_j
        for m in self.meters:
            m._add_job_c(st)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """int8 forward on the qmx device; STE backward."""
        return QLinearFunction.apply(x, self.weight, self.bias, self,
                                     torch.is_grad_enabled())

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, "
                f"out_features={self.out_features}, "
                f"bias={self.bias is not None}, "
                f"device={self.qmx_device.uri!r}, "
                f"per_channel={self.per_channel}, batch={self.batch}")


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
