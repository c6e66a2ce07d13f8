# SPDX-License-Identifier: MIT
"""Quantization helpers and the fake-quant GEMM plan (``qmx/train.h``).

Affine int8 quantization, ``real = scale * (q - zero_point)``, with
parameters from a range as in gemmlowp's quantization document (range
extended to contain 0, zero point nudged to an exact integer) and rounding
half to even.  Symmetric parameters have zero point 0 and use [-127, 127].
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, Optional, Union

import numpy as np

from . import _arrays
from ._lib import Closing, JobStats, QGemmArgs, QParamsC, check, lib

ASYMMETRIC = 0
SYMMETRIC = 1
OUT_FLOAT = 0
OUT_INT8 = 1

_SCHEMES = {"asymmetric": ASYMMETRIC, "symmetric": SYMMETRIC,
            ASYMMETRIC: ASYMMETRIC, SYMMETRIC: SYMMETRIC}


@dataclass(frozen=True)
class QParams:
    """Scale and zero point of a tensor or of one channel."""

    scale: float
    zero_point: int

    def _c(self) -> QParamsC:
        return QParamsC(self.scale,
                        _arrays.integer("zero_point", self.zero_point,
                                        -128, 127))

    @staticmethod
    def _from_c(c: QParamsC) -> "QParams":
        return QParams(float(c.scale), int(c.zero_point))


def _scheme(name: str, value: Union[str, int]) -> int:
    if value not in _SCHEMES:
        raise ValueError(f"{name}: {value!r} is not 'asymmetric' or "
                         "'symmetric'")
    return _SCHEMES[value]


def _f32p(arr: np.ndarray) -> Any:
    return _arrays.ptr(arr, ctypes.c_float)


def _i8p(arr: np.ndarray) -> Any:
    return _arrays.ptr(arr, ctypes.c_int8)


def qparams_from_minmax(min_value: float, max_value: float,
                        scheme: Union[str, int] = "asymmetric") -> QParams:
    """Parameters for the range [min_value, max_value]."""
    out = QParamsC()
    check(lib().qmx_qparams_from_minmax(min_value, max_value,
                                        _scheme("scheme", scheme),
                                        ctypes.byref(out)))
    return QParams._from_c(out)


def choose_qparams(x: np.ndarray, scheme: Union[str, int] = "asymmetric"
                   ) -> QParams:
    """Per-tensor parameters from the range of ``x`` (float32, contiguous)."""
    x = _arrays.contiguous("x", x, np.float32)
    out = QParamsC()
    check(lib().qmx_qparams_choose(_f32p(x), x.size,
                                   _scheme("scheme", scheme),
                                   ctypes.byref(out)))
    return QParams._from_c(out)


def choose_qparams_per_channel(x: np.ndarray, axis: int,
                               scheme: Union[str, int] = "symmetric"
                               ) -> list[QParams]:
    """One parameter set per row (axis 0) or column (axis 1) of ``x``."""
    x, ld = _arrays.matrix("x", x, np.float32)
    count = x.shape[0] if axis == 0 else x.shape[1]
    out = (QParamsC * count)()
    check(lib().qmx_qparams_choose_per_channel(
        _f32p(x), x.shape[0], x.shape[1], ld, axis, _scheme("scheme", scheme),
        out))
    return [QParams._from_c(q) for q in out]


def quantize(x: np.ndarray, qp: QParams,
             out: Optional[np.ndarray] = None) -> np.ndarray:
    """int8 ``clamp(zero_point + rint(x / scale), -128, 127)``."""
    x = _arrays.contiguous("x", x, np.float32)
    if out is None:
        out = np.empty(x.shape, dtype=np.int8)
    out = _arrays.contiguous("out", out, np.int8, writable=True)
    if out.size != x.size:
        raise ValueError(f"out: {out.size} elements, x has {x.size}")
    check(lib().qmx_quantize(_f32p(x), x.size, qp._c(), _i8p(out)))
    return out


def dequantize(q: np.ndarray, qp: QParams,
               out: Optional[np.ndarray] = None) -> np.ndarray:
    """float32 ``scale * (q - zero_point)``."""
    q = _arrays.contiguous("q", q, np.int8)
    if out is None:
        out = np.empty(q.shape, dtype=np.float32)
    out = _arrays.contiguous("out", out, np.float32, writable=True)
    if out.size != q.size:
        raise ValueError(f"out: {out.size} elements, q has {q.size}")
    check(lib().qmx_dequantize(_i8p(q), q.size, qp._c(), _f32p(out)))
    return out


def fake_quantize(x: np.ndarray, qp: QParams,
                  out: Optional[np.ndarray] = None) -> np.ndarray:
    """``dequantize(quantize(x))`` in one pass; ``out`` may be ``x``."""
    x = _arrays.contiguous("x", x, np.float32)
    if out is None:
        out = np.empty(x.shape, dtype=np.float32)
    out = _arrays.contiguous("out", out, np.float32, writable=True)
    if out.size != x.size:
        raise ValueError(f"out: {out.size} elements, x has {x.size}")
    check(lib().qmx_fake_quantize(_f32p(x), x.size, qp._c(), _f32p(out)))
    return out


def _channel_array(qps: list[QParams], count: int) -> Any:
    if len(qps) != count:
        raise ValueError(f"qparams: {len(qps)} entries, expected {count}")
    arr = (QParamsC * count)()
    for i, q in enumerate(qps):
        arr[i] = q._c()
    return arr


def quantize_per_channel(x: np.ndarray, qparams: list[QParams], axis: int
                         ) -> np.ndarray:
    """Quantize a matrix with one parameter set per row or column."""
    x, ld = _arrays.matrix("x", x, np.float32)
    rows, cols = x.shape
    out = np.empty((rows, cols), dtype=np.int8)
    arr = _channel_array(qparams, rows if axis == 0 else cols)
    check(lib().qmx_quantize_per_channel(_f32p(x), rows, cols, ld, axis, arr,
                                         _i8p(out), cols))
    return out


def dequantize_per_channel(q: np.ndarray, qparams: list[QParams], axis: int
                           ) -> np.ndarray:
    """Inverse of :func:`quantize_per_channel`."""
    q, ldq = _arrays.matrix("q", q, np.int8)
    rows, cols = q.shape
    out = np.empty((rows, cols), dtype=np.float32)
    arr = _channel_array(qparams, rows if axis == 0 else cols)
    check(lib().qmx_dequantize_per_channel(_i8p(q), rows, cols, ldq, axis,
                                           arr, _f32p(out), cols))
    return out


def quantize_multiplier(real: float) -> tuple[int, int]:
    """Real multiplier -> (int32 multiplier, shift), TFLite's rule."""
    mult, shift = ctypes.c_int32(), ctypes.c_int32()
    check(lib().qmx_quantize_multiplier(real, ctypes.byref(mult),
                                        ctypes.byref(shift)))
    return mult.value, shift.value


class QGemm(Closing):
    """A fake-quant GEMM plan: float C = A x B (+ bias) via int8 on a device.

    Owns device buffers for shapes up to ``max_m x max_n x max_k`` and
    reuses them on every call.  :meth:`submit` quantizes the operands and
    queues the job; :meth:`wait` writes float C.  One job in flight per plan.
    """

    def __init__(self, device: Any, max_m: int, max_n: int, max_k: int
                 ) -> None:
        self._handle: Optional[int] = None
        dim = _arrays.DIM_MAX
        max_m = _arrays.integer("max_m", max_m, 1, dim)
        max_n = _arrays.integer("max_n", max_n, 1, dim)
        max_k = _arrays.integer("max_k", max_k, 1, dim)
        handle = ctypes.c_void_p()
        check(lib().qmx_qgemm_new(device.handle, max_m, max_n, max_k,
                                  ctypes.byref(handle)))
        self._handle = handle.value
        self.device = device
        self.max_m, self.max_n, self.max_k = max_m, max_n, max_k
        self._keep: list[Any] = []
        self.last_stats: Optional[dict[str, Any]] = None
        self._shape = (0, 0, 0)

    @property
    def handle(self) -> int:
        """The raw ``qmx_qgemm *`` (raises once closed)."""
        if not self._handle:
            raise ValueError("plan: already closed")
        return self._handle

    def submit(self, a: np.ndarray, b: np.ndarray, *,
               bias: Optional[np.ndarray] = None,
               out: Optional[np.ndarray] = None,
               a_scheme: Union[str, int] = "asymmetric",
               b_scheme: Union[str, int] = "symmetric",
               b_per_channel: bool = False, out_int8: bool = False,
               relu: bool = False, a_qparams: Optional[QParams] = None,
               b_qparams: Optional[QParams] = None,
               c_qparams: Optional[QParams] = None) -> np.ndarray:
        """Queue C = A x B; returns ``out`` (valid after :meth:`wait`).

        ``a`` (M x K) and ``b`` (K x N) are float32 with contiguous rows.
        ``out_int8`` folds the scales into the device's requantization and
        needs ``c_qparams``; otherwise int32 accumulators are rescaled on
        the host.  ``a_qparams``/``b_qparams`` fix the parameters instead of
        choosing them from the data.
        """
        a, lda = _arrays.matrix("a", a, np.float32)
        b, ldb = _arrays.matrix("b", b, np.float32)
        m, k = a.shape
        if b.shape[0] != k:
            raise ValueError(f"b: shape {b.shape} does not match a {a.shape} "
                             f"(b needs {k} rows)")
        n = b.shape[1]
        if out is None:
            out = np.empty((m, n), dtype=np.float32)
        out, ldc = _arrays.matrix("out", out, np.float32, writable=True)
        if out.shape != (m, n):
            raise ValueError(f"out: shape {out.shape}, expected {(m, n)}")
        args = QGemmArgs()
        lib().qmx_qgemm_args_init(ctypes.byref(args), m, n, k)
        args.a, args.lda = _f32p(a), lda
        args.b, args.ldb = _f32p(b), ldb
        args.c, args.ldc = _f32p(out), ldc
        keep = [a, b, out]
        if bias is not None:
            bias = _arrays.vector("bias", bias, np.float32, n)
            args.bias = _f32p(bias)
            keep.append(bias)
        args.a_scheme = _scheme("a_scheme", a_scheme)
        args.b_scheme = _scheme("b_scheme", b_scheme)
        args.b_per_channel = int(bool(b_per_channel))
        args.out = OUT_INT8 if out_int8 else OUT_FLOAT
        args.relu = int(bool(relu))
        if a_qparams is not None:
            args.a_qparams = a_qparams._c()
        if b_qparams is not None:
            args.b_qparams = b_qparams._c()
        if c_qparams is not None:
            args.c_qparams = c_qparams._c()
        elif out_int8:
            raise ValueError("c_qparams: required with out_int8=True")
        check(lib().qmx_qgemm_submit(self.handle, ctypes.byref(args)))
        self._keep = keep  # the arrays must live until wait()
        self._shape = (m, n, k)
        return out

    def wait(self, timeout_s: Optional[float] = None) -> dict[str, Any]:
        """Wait for the job in flight, write C, return its job stats."""
        st = JobStats()
        ns = _arrays.timeout_ns("timeout_s", timeout_s)
        check(lib().qmx_qgemm_wait(self.handle, ns, ctypes.byref(st)))
        self._keep = []
        return st.as_dict()

    def run(self, a: np.ndarray, b: np.ndarray, **kwargs: Any
            ) -> np.ndarray:
        """:meth:`submit` then :meth:`wait`; returns float C."""
        out = self.submit(a, b, **kwargs)
        self.last_stats = self.wait()
        return out

    def last_qparams(self) -> tuple[QParams, list[QParams]]:
        """A's parameters and B's (one, or one per column) of the last call."""
        qa = QParamsC()
        count = ctypes.c_size_t()
        qb = (QParamsC * self.max_n)()
        check(lib().qmx_qgemm_last_qparams(self.handle, ctypes.byref(qa), qb,
                                           self.max_n, ctypes.byref(count)))
        return (QParams._from_c(qa),
                [QParams._from_c(qb[i]) for i in range(count.value)])

    def fake_quantized(self, a_out: Optional[np.ndarray] = None,
                       b_out: Optional[np.ndarray] = None,
                       shape: Optional[tuple[int, int, int]] = None
                       ) -> tuple[np.ndarray, np.ndarray]:
        """The last call's A and B as the device saw them, dequantized.

        ``shape`` is (m, n, k) of that call (taken from the last submit when
        omitted); ``a_out``/``b_out`` may be preallocated float32 arrays
        with contiguous rows.
        """
        m, n, k = shape or self._shape
        a_out = np.empty((m, k), np.float32) if a_out is None else a_out
        b_out = np.empty((k, n), np.float32) if b_out is None else b_out
        a_out, lda = _arrays.matrix("a_out", a_out, np.float32, True)
        b_out, ldb = _arrays.matrix("b_out", b_out, np.float32, True)
        if a_out.shape != (m, k) or b_out.shape != (k, n):
            raise ValueError(f"a_out/b_out: shapes {a_out.shape}, "
                             f"{b_out.shape}, expected {(m, k)}, {(k, n)}")
        check(lib().qmx_qgemm_fake_quantized(self.handle, _f32p(a_out), lda,
                                             _f32p(b_out), ldb))
        return a_out, b_out

    def close(self) -> None:
        """Wait for a job in flight and free the plan's buffers."""
        if self._handle:
            lib().qmx_qgemm_del(self._handle)
            self._handle = None
            self._keep = []
