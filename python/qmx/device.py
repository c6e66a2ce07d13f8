# SPDX-License-Identifier: MIT
"""Devices, device buffers, jobs and the int8 GEMM."""

from __future__ import annotations

import ctypes
import sys
import weakref
from typing import Any, Callable, Optional

import numpy as np

from . import _arrays
from ._lib import (PROGRESS_FN, Closing, DeviceInfo, GemmDesc,
                   GemmHostOperands, GemmParams, GroupMemberStats, JobStats,
                   QMX_ETIMEDOUT, QMX_GROUP_MAX_MEMBERS, check, lib)

OUT_INT32 = 0
OUT_INT8 = 1
SYNC_TO_DEVICE = 1
SYNC_FROM_DEVICE = 2

# qmx_device_info.features bits (QMX_FEATURE_* in qmx.h).
FEATURES = {
    "int32_out": 1 << 0, "int8_out": 1 << 1, "per_channel": 1 << 2,
    "bias": 1 << 3, "device_memory": 1 << 4, "simulated": 1 << 5,
    "counters": 1 << 6, "power_sensor": 1 << 7,
}


def backends() -> list[str]:
    """Names of the backends compiled into libqmx."""
    names = lib().qmx_backend_names()
    out: list[str] = []
    i = 0
    while names[i]:
        out.append(names[i].decode())
        i += 1
    return out


def default_device_uri() -> str:
    """The URI ``Device()`` opens without an argument."""
    return lib().qmx_default_device_uri().decode()


def list_devices() -> list[dict[str, Any]]:
    """Every device the built backends can see, as dicts of their info."""
    count = ctypes.c_size_t(0)
    check(lib().qmx_device_list(None, 0, ctypes.byref(count)))
    infos = (DeviceInfo * max(count.value, 1))()
    check(lib().qmx_device_list(infos, count.value, ctypes.byref(count)))
    return [infos[i].as_dict() for i in range(min(count.value, len(infos)))]


class Device(Closing):
    """An open qmx device (``"cpu"``, ``"sim"``, ``"kmod"``, ...).

    ``None`` opens ``$QMX_DEVICE`` or the default device.  Use as a context
    manager or call :meth:`close`.
    """

    def __init__(self, uri: Optional[str] = None) -> None:
        if uri is not None and not isinstance(uri, str):
            raise TypeError(f"uri: {uri!r} must be a str (a device URI such "
                            f"as 'cpu' or 'sim') or None, not "
                            f"{type(uri).__name__}")
        self._handle: Optional[int] = None
        handle = ctypes.c_void_p()
        check(lib().qmx_device_open(uri.encode() if uri else None,
                                    ctypes.byref(handle)))
        self._handle = handle.value
        self.info = self.query()
        self.uri: str = self.info["uri"]

    @property
    def handle(self) -> int:
        """The raw ``qmx_device *`` (raises once closed)."""
        if not self._handle:
            raise ValueError("device: already closed")
        return self._handle

    def has(self, feature: str) -> bool:
        """Whether the device has a feature ("int8_out", "per_channel"...)."""
        if feature not in FEATURES:
            raise ValueError(f"feature: {feature!r} is not one of "
                             f"{', '.join(FEATURES)}")
        return bool(self.info["features"] & FEATURES[feature])

    def query(self) -> dict[str, Any]:
        """The device's ``qmx_device_info`` as a dict."""
        info = DeviceInfo()
        check(lib().qmx_device_query(self.handle, ctypes.byref(info)))
        return info.as_dict()

    def group_stats(self) -> list[dict[str, Any]]:
        """Per member of a device group (``"sim,cpu"``): its info, share of
        every split and where it came from, parts run, their stats summed
        (``total``) and its part of the latest GEMM (``last``).  Raises
        QmxError for a device that is not a group (docs/distributed.md)."""
        cap = QMX_GROUP_MAX_MEMBERS
        members = (GroupMemberStats * cap)()
        count = ctypes.c_size_t()
        check(lib().qmx_device_group_stats(self.handle, members, cap,
                                           ctypes.byref(count)))
        return [members[i].as_dict() for i in range(min(count.value, cap))]

    def close(self) -> None:
        """Drop this handle's reference (buffers and plans hold their own)."""
        if self._handle:
            lib().qmx_device_del(self._handle)
            self._handle = None

    def __repr__(self) -> str:
        return f"Device({self.uri!r}, {self.info.get('name', '')!r})"

    def buffer(self, size: int) -> "Buffer":
        """Allocate ``size`` bytes of device memory."""
        return Buffer(self, size)


class Buffer:
    """Device memory, mapped into the host; :meth:`array` views it."""

    def __init__(self, device: Device, size: int) -> None:
        self._handle: Optional[int] = None
        self._views: list[weakref.ref] = []
        self._jobs: "weakref.WeakSet[Job]" = weakref.WeakSet()
        size = _arrays.integer("size", size, 1, sys.maxsize)
        handle = ctypes.c_void_p()
        check(lib().qmx_buffer_new(device.handle, size, 0,
                                   ctypes.byref(handle)))
        self._handle = handle.value
        self.device = device
        self.size = size
        host = ctypes.c_void_p()
        try:
            check(lib().qmx_buffer_map(self._handle, ctypes.byref(host)))
        except Exception:
            lib().qmx_buffer_del(self._handle)
            self._handle = None
            raise
        self._host = host.value

    @property
    def handle(self) -> int:
        """The raw ``qmx_buffer *`` (raises once freed)."""
        if not self._handle:
            raise ValueError("buffer: already freed")
        return self._handle

    def array(self, dtype: Any = np.int8, shape: Optional[tuple[int, ...]]
              = None, offset: int = 0) -> np.ndarray:
        """A numpy view of the mapped memory (no copy).

        The view (and every array derived from it) keeps the buffer object
        alive, and :meth:`free` refuses while one exists.
        """
        dt = np.dtype(dtype)
        offset = _arrays.integer("offset", offset, 0, self.size - 1)
        count = (self.size - offset) // dt.itemsize
        if shape is not None:
            need = int(np.prod(shape))
            if need > count:
                raise ValueError(f"shape: {shape} needs {need * dt.itemsize} "
                                 f"bytes from offset {offset}, buffer has "
                                 f"{self.size - offset}")
            count = need
        if offset < 0 or offset >= self.size or offset % dt.itemsize:
            raise ValueError(f"offset: {offset} outside the buffer or not "
                             f"aligned to {dt.itemsize}")
        self.handle  # raises once freed
        raw = (ctypes.c_uint8 * (count * dt.itemsize)).from_address(
            self._host + offset)
        raw._qmx_owner = self  # the view keeps the buffer alive
        self._views = [r for r in self._views if r() is not None]
        self._views.append(weakref.ref(raw))  # alive while any view is
        view = np.frombuffer(raw, dtype=dt, count=count)
        return view.reshape(shape) if shape is not None else view

    def sync(self, direction: int, offset: int = 0,
             size: Optional[int] = None) -> None:
        """Make [offset, offset + size) coherent (SYNC_TO/FROM_DEVICE)."""
        if direction not in (SYNC_TO_DEVICE, SYNC_FROM_DEVICE):
            raise ValueError(f"direction: {direction!r} is not "
                             f"SYNC_TO_DEVICE ({SYNC_TO_DEVICE}) or "
                             f"SYNC_FROM_DEVICE ({SYNC_FROM_DEVICE})")
        offset = _arrays.integer("offset", offset, 0, self.size)
        size = _arrays.integer("size", self.size - offset if size is None
                               else size, 0, self.size - offset)
        check(lib().qmx_buffer_sync(self.handle, direction, offset, size))

    def views(self) -> int:
        """How many numpy views from :meth:`array` are still alive."""
        self._views = [r for r in self._views if r() is not None]
        return len(self._views)

    def free(self) -> None:
        """Unmap and free now.

        Refused (BufferError) while a view from :meth:`array` is alive (it
        would point at freed memory) or a job submitted on the buffer has
        not been waited for (the device would write freed memory).
        """
        if self._handle and self.views():
            raise BufferError(f"buffer: free() refused, {len(self._views)} "
                              f"numpy view(s) from array() still alive; "
                              f"delete them first (they would point at "
                              f"freed memory)")
        if self._handle and any(j._handle for j in self._jobs):
            raise BufferError("buffer: free() refused, a job using it has "
                              "not been waited for; call Job.wait() first")
        if self._handle:
            lib().qmx_buffer_unmap(self._handle)
            lib().qmx_buffer_del(self._handle)
            self._handle = None

    def __del__(self) -> None:
        try:
            self.free()
        except Exception:
            pass


class Job:
    """A submitted GEMM; :meth:`wait` for it, then read :attr:`stats`."""

    def __init__(self, handle: int, keep: list[Any]) -> None:
        self._handle: Optional[int] = handle
        self._keep = keep  # buffers must outlive the job
        self.stats: Optional[dict[str, Any]] = None

    def wait(self, timeout_s: Optional[float] = None) -> dict[str, Any]:
        """Wait (at most ``timeout_s`` seconds) and return the job stats."""
        if not self._handle:
            if self.stats is None:
                raise ValueError("job: already released")
            return self.stats
        ns = _arrays.timeout_ns("timeout_s", timeout_s)
        check(lib().qmx_job_wait(self._handle, ns))
        st = JobStats()
        check(lib().qmx_job_get_stats(self._handle, ctypes.byref(st)))
        self.stats = st.as_dict()
        lib().qmx_job_del(self._handle)
        self._handle = None
        self._keep = []
        return self.stats

    def __del__(self) -> None:
        try:
            if self._handle:
                lib().qmx_job_del(self._handle)
        except Exception:
            pass


def _params(m: int, n: int, k: int, lda: int, ldb: int, ldc: int,
            a_zero_point: int, b_zero_point: int, c_zero_point: int,
            out_int8: bool, multiplier: Any, shift: Any, qmin: int,
            qmax: int, has_bias: bool) -> tuple[GemmParams, bool]:
    dim = _arrays.DIM_MAX
    p = GemmParams()
    lib().qmx_gemm_params_init(ctypes.byref(p), m, n, k)
    p.lda = _arrays.integer("lda", lda, 1, dim)
    p.ldb = _arrays.integer("ldb", ldb, 1, dim)
    p.ldc = _arrays.integer("ldc", ldc, 1, dim)
    p.a_zero_point = _arrays.integer("a_zero_point", a_zero_point, -128, 127)
    p.b_zero_point = _arrays.integer("b_zero_point", b_zero_point, -128, 127)
    p.c_zero_point = _arrays.integer("c_zero_point", c_zero_point, -128, 127)
    p.out_type = OUT_INT8 if out_int8 else OUT_INT32
    p.qmin = _arrays.integer("qmin", qmin, -128, 127)
    p.qmax = _arrays.integer("qmax", qmax, -128, 127)
    p.has_bias = int(has_bias)
    per_channel = isinstance(multiplier, np.ndarray)
    if out_int8 and not per_channel:
        p.multiplier = _arrays.integer("multiplier", multiplier, 0,
                                       _arrays.INT32_MAX)
        p.shift = _arrays.integer("shift", shift, -31, 30)
    p.quant_mode = 1 if per_channel else 0
    return p, per_channel


def _host_gemm(a: np.ndarray, b: np.ndarray, out_dtype: Any,
               out: Optional[np.ndarray], bias: Optional[np.ndarray],
               multiplier: Any, shift: Any, a_zero_point: int,
               b_zero_point: int, c_zero_point: int, qmin: int, qmax: int
               ) -> tuple[GemmParams, GemmHostOperands, np.ndarray, list]:
    """Check the arrays of :func:`gemm` and describe them for libqmx.

    Returns the params, the host operands, the output array and the arrays
    the operands point into (keep them alive until the call returns).
    """
    a, lda = _arrays.matrix("a", a, np.int8)
    b, ldb = _arrays.matrix("b", b, np.int8)
    m, k = a.shape
    if b.shape[0] != k:
        raise ValueError(f"b: shape {b.shape} does not match a {a.shape} "
                         f"(b needs {k} rows)")
    n = b.shape[1]
    odt = np.dtype(out_dtype)
    if odt not in (np.dtype(np.int32), np.dtype(np.int8)):
        raise TypeError(f"out_dtype: {odt} must be int32 or int8")
    if out is None:
        out = np.empty((m, n), dtype=odt)
    out, ldc = _arrays.matrix("out", out, odt, writable=True)
    if out.shape != (m, n):
        raise ValueError(f"out: shape {out.shape}, expected {(m, n)}")
    keep = [a, b, out]
    ops = GemmHostOperands()
    ops.a, ops.b, ops.c = a.ctypes.data, b.ctypes.data, out.ctypes.data
    if bias is not None:
        bias = _arrays.vector("bias", bias, np.int32, n)
        ops.bias = bias.ctypes.data
        keep.append(bias)
    int8_out = odt == np.dtype(np.int8)
    if isinstance(multiplier, np.ndarray) or isinstance(shift, np.ndarray):
        if not int8_out:
            raise ValueError("multiplier: per-channel arrays need "
                             "out_dtype int8")
        multiplier = _arrays.vector("multiplier", multiplier, np.int32, n)
        shift = _arrays.vector("shift", shift, np.int32, n)
        ops.multipliers = multiplier.ctypes.data
        ops.shifts = shift.ctypes.data
        keep += [multiplier, shift]
    p, _ = _params(m, n, k, lda, ldb, ldc, a_zero_point, b_zero_point,
                   c_zero_point, int8_out, multiplier, shift, qmin, qmax,
                   bias is not None)
    return p, ops, out, keep


def gemm(device: Device, a: np.ndarray, b: np.ndarray, *,
         out_dtype: Any = np.int32, a_zero_point: int = 0,
         b_zero_point: int = 0, c_zero_point: int = 0,
         bias: Optional[np.ndarray] = None, multiplier: Any = 1 << 30,
         shift: Any = 1, qmin: int = -128, qmax: int = 127,
         out: Optional[np.ndarray] = None,
         stats: bool = False) -> Any:
    """C = A x B in int8 on ``device``, with the semantics of qmx.h.

    ``a`` (M x K) and ``b`` (K x N) are int8 with contiguous rows (row
    slices are passed without copying).  ``out_dtype`` int32 gives
    ``acc + bias``; int8 gives the requantized, clamped output with
    ``multiplier``/``shift`` scalars (per tensor; the default 2^30, 1 is
    x1.0, as qmx_gemm_params_init) or int32 arrays of N entries (per output
    channel).  ``out`` may be a preallocated M x N array (rows contiguous).
    With ``stats=True`` returns ``(c, job_stats)``.
    """
    p, ops, out, _keep = _host_gemm(a, b, out_dtype, out, bias, multiplier,
                                    shift, a_zero_point, b_zero_point,
                                    c_zero_point, qmin, qmax)
    st = JobStats()
    check(lib().qmx_gemm(device.handle, ctypes.byref(p), ctypes.byref(ops),
                         ctypes.byref(st)))
    return (out, st.as_dict()) if stats else out


def gemm_tiled(device: Device, a: np.ndarray, b: np.ndarray, *,
               progress: Optional[Callable[[int, int], Any]] = None,
               stats: bool = False, **kwargs: Any) -> Any:
    """:func:`gemm` of any size: tiles within the device's ``max_dim``.

    ``progress(done, total)`` is called after each tile (and about every
    250 ms while a long one runs); a true return value stops the GEMM
    (``QmxError`` QMX_EBUSY).  Other arguments as :func:`gemm`.
    """
    p, ops, out, _keep = _host_gemm(
        a, b, kwargs.pop("out_dtype", np.int32), kwargs.pop("out", None),
        kwargs.pop("bias", None), kwargs.pop("multiplier", 1 << 30),
        kwargs.pop("shift", 1), kwargs.pop("a_zero_point", 0),
        kwargs.pop("b_zero_point", 0), kwargs.pop("c_zero_point", 0),
        kwargs.pop("qmin", -128), kwargs.pop("qmax", 127))
    if kwargs:
        raise TypeError(f"gemm_tiled: unexpected arguments {sorted(kwargs)}")
    raised: list[BaseException] = []

    def call(done: int, total: int, _user: Any) -> int:
        try:
            return 1 if progress(done, total) else 0  # type: ignore[misc]
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            raised.append(exc)
            return 1

    cb = PROGRESS_FN(call) if progress is not None else None
    st = JobStats()
    err = lib().qmx_gemm_tiled(device.handle, ctypes.byref(p),
                               ctypes.byref(ops), ctypes.byref(st),
                               ctypes.cast(cb, ctypes.c_void_p)
                               if cb else None, None)
    if raised:
        raise raised[0]
    check(err)
    return (out, st.as_dict()) if stats else out


class _InFlight:
    """Stands for a batch in flight in a buffer's job set (free() refuses
    while ``_handle`` is set)."""

    def __init__(self) -> None:
        self._handle: Optional[bool] = None


class Batch(Closing):
    """GEMMs on one device submitted as one job (``qmx_batch_*``).

    :meth:`add_gemm` appends a GEMM on device buffers (validated now) that
    may wait for an earlier entry; :meth:`submit` starts them all (natively
    on a device with a command queue, else in order), :meth:`wait` waits.
    A waited batch can be submitted again: the same entries run on the
    buffers' new contents (a training step each time).  An entry whose
    ``wait_for`` entry failed is not run (QMX_EDEPENDENCY).
    """

    def __init__(self, device: Device) -> None:
        self._handle: Optional[int] = None
        handle = ctypes.c_void_p()
        check(lib().qmx_batch_create(device.handle, ctypes.byref(handle)))
        self._handle = handle.value
        self.device = device
        self._keep: list[Any] = [device]
        self._flight = _InFlight()

    @property
    def handle(self) -> int:
        """The raw ``qmx_batch *`` (raises once closed)."""
        if not self._handle:
            raise ValueError("batch: already closed")
        return self._handle

    def __len__(self) -> int:
        return int(lib().qmx_batch_size(self.handle))

    def add_gemm(self, a: Buffer, b: Buffer, c: Buffer, m: int, n: int,
                 k: int, *, wait_for: int = -1, lda: Optional[int] = None,
                 ldb: Optional[int] = None, ldc: Optional[int] = None,
                 offsets: tuple[int, int, int] = (0, 0, 0),
                 a_zero_point: int = 0, b_zero_point: int = 0,
                 c_zero_point: int = 0, out_int8: bool = False,
                 multiplier: int = 1 << 30, shift: int = 1,
                 qmin: int = -128, qmax: int = 127,
                 bias: Optional[Buffer] = None,
                 multipliers: Optional[Buffer] = None,
                 shifts: Optional[Buffer] = None) -> int:
        """Append C = A x B on device buffers; returns the entry's index.

        Row-major operands, packed unless ``lda``/``ldb``/``ldc`` say;
        ``offsets`` are the byte offsets of A, B and C in their buffers.
        int32 output (``acc + bias``) unless ``out_int8`` (requantized with
        ``multiplier``/``shift``, or per output channel with the int32
        ``multipliers``/``shifts`` buffers).  ``wait_for`` is an earlier
        entry's index (its output is this one's input) or -1.
        """
        dim = _arrays.DIM_MAX
        m = _arrays.integer("m", m, 1, dim)
        n = _arrays.integer("n", n, 1, dim)
        k = _arrays.integer("k", k, 1, dim)
        per_channel = multipliers is not None or shifts is not None
        if per_channel and (multipliers is None or shifts is None
                            or not out_int8):
            raise ValueError("multipliers/shifts: both buffers, with "
                             "out_int8=True, for per-channel output")
        d = GemmDesc()
        d.params, _ = _params(m, n, k, k if lda is None else lda,
                              n if ldb is None else ldb,
                              n if ldc is None else ldc, a_zero_point,
                              b_zero_point, c_zero_point, out_int8,
                              multiplier, shift, qmin, qmax,
                              bias is not None)
        d.params.quant_mode = 1 if per_channel else 0
        refs = [(d.a, a, offsets[0]), (d.b, b, offsets[1]),
                (d.c, c, offsets[2]), (d.bias, bias, 0),
                (d.multipliers, multipliers, 0), (d.shifts, shifts, 0)]
        for ref, buf, off in refs:
            if buf is not None:
                ref.buffer = buf.handle
                ref.offset = _arrays.integer("offset", off, 0, buf.size)
        index = ctypes.c_uint32()
        check(lib().qmx_batch_add_gemm(self.handle, ctypes.byref(d),
                                       _arrays.integer("wait_for", wait_for,
                                                       -1, 2**31 - 1),
                                       ctypes.byref(index)))
        for _, buf, _ in refs:
            if buf is not None:
                self._keep.append(buf)
                buf._jobs.add(self._flight)
        return int(index.value)

    def _add_desc(self, d: GemmDesc, wait_for: int,
                  buffers: list[Buffer]) -> int:
        """Append a descriptor built by the caller (no Python-side checks;
        the library validates it)."""
        index = ctypes.c_uint32()
        check(lib().qmx_batch_add_gemm(self.handle, ctypes.byref(d), wait_for,
                                       ctypes.byref(index)))
        for buf in buffers:
            self._keep.append(buf)
            buf._jobs.add(self._flight)
        return int(index.value)

    def submit(self) -> None:
        """Start every entry; the buffers must not be freed until
        :meth:`wait` returned."""
        check(lib().qmx_batch_submit(self.handle))
        self._flight._handle = True

    def wait(self, timeout_s: Optional[float] = None) -> None:
        """Wait for every entry.  Raises :class:`QmxError` naming the first
        failed entry (the others' outcome: :meth:`status`); QMX_ETIMEDOUT
        leaves the batch in flight (wait again)."""
        ms = -1 if timeout_s is None else int(_arrays.timeout_ns(
            "timeout_s", timeout_s) // 1000000)
        err = lib().qmx_batch_wait(self.handle, ms)
        if err != QMX_ETIMEDOUT:  # still in flight
            self._flight._handle = None
        check(err)

    def status(self, index: int) -> tuple[int, str]:
        """(status, message) of a finished entry: 0 and "" when it ran."""
        code = ctypes.c_int()
        check(lib().qmx_batch_entry_status(self.handle, index,
                                           ctypes.byref(code), None))
        msg = lib().qmx_batch_entry_message(self.handle, index).decode()
        return int(code.value), msg

    def stats(self, index: int) -> dict[str, Any]:
        """Job statistics of a finished entry (as :meth:`Job.wait`)."""
        code = ctypes.c_int()
        st = JobStats()
        check(lib().qmx_batch_entry_status(self.handle, index,
                                           ctypes.byref(code),
                                           ctypes.byref(st)))
        return st.as_dict()

    def close(self) -> None:
        """Wait for a batch in flight and free it (idempotent)."""
        if getattr(self, "_handle", None):
            lib().qmx_batch_destroy(self._handle)
            self._handle = None
            self._flight._handle = None
            self._keep = []


class Weights(Closing):
    """Pre-packed int8 weights B (K x N) for repeated GEMMs on a device.

    Packed once when created (``qmx_weights_new``): every :meth:`gemm`
    reuses the packed form.  The array ``b`` is kept (not copied); after
    changing its contents call :meth:`invalidate` and the next GEMM packs it
    again.  Backends without packing multiply by ``b`` directly, with the
    same result bit for bit.
    """

    def __init__(self, device: Device, b: np.ndarray) -> None:
        b, ldb = _arrays.matrix("b", b, np.int8)
        k, n = b.shape
        handle = ctypes.c_void_p()
        check(lib().qmx_weights_new(
            device.handle, b.ctypes.data_as(ctypes.POINTER(ctypes.c_int8)),
            k, n, ldb, ctypes.byref(handle)))
        self._handle: Optional[int] = handle.value
        self.device = device
        self.b = b  # the handle reads it: keep it alive and in place

    @property
    def handle(self) -> int:
        """The raw ``qmx_weights *`` (raises once closed)."""
        if not self._handle:
            raise ValueError("weights: already closed")
        return self._handle

    def invalidate(self) -> None:
        """``b`` changed: the next GEMM packs it again."""
        check(lib().qmx_weights_invalidate(self.handle))

    def gemm(self, a: np.ndarray, *, out_dtype: Any = np.int32,
             a_zero_point: int = 0, b_zero_point: int = 0,
             c_zero_point: int = 0, bias: Optional[np.ndarray] = None,
             multiplier: Any = 1 << 30, shift: Any = 1, qmin: int = -128,
             qmax: int = 127, out: Optional[np.ndarray] = None,
             stats: bool = False) -> Any:
        """C = A x B with these weights; the arguments of :func:`gemm`."""
        p, ops, out, _keep = _host_gemm(a, self.b, out_dtype, out, bias,
                                        multiplier, shift, a_zero_point,
                                        b_zero_point, c_zero_point, qmin,
                                        qmax)
        st = JobStats()
        check(lib().qmx_weights_gemm(self.handle, ctypes.byref(p),
                                     ctypes.byref(ops), ctypes.byref(st)))
        return (out, st.as_dict()) if stats else out

    def close(self) -> None:
        """Free the packed form (idempotent; also when __init__ failed)."""
        if getattr(self, "_handle", None):
            lib().qmx_weights_del(self._handle)
            self._handle = None


def gemm_reference(a: np.ndarray, b: np.ndarray, *,
                   out_dtype: Any = np.int32, a_zero_point: int = 0,
                   b_zero_point: int = 0, c_zero_point: int = 0,
                   bias: Optional[np.ndarray] = None,
                   multiplier: Any = 1 << 30, shift: Any = 1,
                   qmin: int = -128, qmax: int = 127,
                   out: Optional[np.ndarray] = None) -> np.ndarray:
    """The golden reference (plain C) with the arguments of :func:`gemm`."""
    p, ops, out, _keep = _host_gemm(a, b, out_dtype, out, bias, multiplier,
                                    shift, a_zero_point, b_zero_point,
                                    c_zero_point, qmin, qmax)
    check(lib().qmx_gemm_reference(ctypes.byref(p), ctypes.byref(ops)))
    return out


def gemm_submit(device: Device, a: Buffer, b: Buffer, c: Buffer, m: int,
                n: int, k: int, *, a_zero_point: int = 0,
                b_zero_point: int = 0) -> Job:
    """Queue an int32-output GEMM on device buffers; returns a :class:`Job`.

    The operands are row-major and packed (lda = k, ldb = n, ldc = n); sync
    the inputs to the device first and ``c`` back after :meth:`Job.wait`.
    """
    dim = _arrays.DIM_MAX
    m = _arrays.integer("m", m, 1, dim)
    n = _arrays.integer("n", n, 1, dim)
    k = _arrays.integer("k", k, 1, dim)
    d = GemmDesc()
    lib().qmx_gemm_params_init(ctypes.byref(d.params), m, n, k)
    d.params.a_zero_point = _arrays.integer("a_zero_point", a_zero_point,
                                            -128, 127)
    d.params.b_zero_point = _arrays.integer("b_zero_point", b_zero_point,
                                            -128, 127)
    d.a.buffer, d.b.buffer, d.c.buffer = a.handle, b.handle, c.handle
    job = ctypes.c_void_p()
    check(lib().qmx_gemm_submit(device.handle, ctypes.byref(d),
                                ctypes.byref(job)))
    j = Job(job.value, [a, b, c, device])
    for buf in (a, b, c):
        buf._jobs.add(j)  # free() waits for the job to be waited for
    return j
