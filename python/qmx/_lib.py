# SPDX-License-Identifier: MIT
"""Loading libqmx and the ctypes mirror of its public C structures.

The shared library is found, in order, through the ``QMX_LIBRARY``
environment variable (a path to ``libqmx.so``), next to this package
(``qmx/libqmx.so``), then by the system loader (``libqmx.so.0``,
``libqmx.so``).  The structures below mirror ``qmx/qmx.h``, ``qmx/train.h``
and ``qmx/energy.h`` field for field.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import Any, Optional

c_int8_p = ctypes.POINTER(ctypes.c_int8)
c_int32_p = ctypes.POINTER(ctypes.c_int32)
c_float_p = ctypes.POINTER(ctypes.c_float)


# Constants of qmx/qmx.h the package uses (tests/python/test_abi.py checks
# them against the C header through abi_dump).
QMX_ETIMEDOUT = -5           # qmx_job_wait / qmx_batch_wait: still in flight
QMX_GROUP_MAX_MEMBERS = 8    # members of a device group


class Closing:
    """A handle on a library object: ``close()`` frees it; ``with`` and the
    garbage collector call it too."""

    def close(self) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


class QmxError(RuntimeError):
    """A libqmx call failed; ``code`` is the negative QMX_E* value."""

    def __init__(self, code: int, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.code = code
        self.name = name
        self.message = message


class DeviceInfo(ctypes.Structure):
    """Mirror of ``qmx_device_info``."""

    _fields_ = [
        ("uri", ctypes.c_char * 128),
        ("backend", ctypes.c_char * 16),
        ("name", ctypes.c_char * 96),
        ("detail", ctypes.c_char * 160),
        ("array_rows", ctypes.c_uint32),
        ("array_cols", ctypes.c_uint32),
        ("clock_mhz", ctypes.c_uint32),
        ("compute_units", ctypes.c_uint32),
        ("hw_version", ctypes.c_uint32),
        ("features", ctypes.c_uint32),
        ("max_dim", ctypes.c_uint64),
        ("max_k", ctypes.c_uint64),
        ("profile", ctypes.c_char * 32),
    ]

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (strings decoded)."""
        out: dict[str, Any] = {}
        for name, _ in self._fields_:
            value = getattr(self, name)
            out[name] = value.decode() if isinstance(value, bytes) else value
        return out


class GemmParams(ctypes.Structure):
    """Mirror of ``qmx_gemm_params``."""

    _fields_ = [
        ("m", ctypes.c_int64), ("n", ctypes.c_int64), ("k", ctypes.c_int64),
        ("lda", ctypes.c_int64), ("ldb", ctypes.c_int64),
        ("ldc", ctypes.c_int64),
        ("a_zero_point", ctypes.c_int32), ("b_zero_point", ctypes.c_int32),
        ("c_zero_point", ctypes.c_int32), ("out_type", ctypes.c_int32),
        ("quant_mode", ctypes.c_int32), ("multiplier", ctypes.c_int32),
        ("shift", ctypes.c_int32), ("qmin", ctypes.c_int32),
        ("qmax", ctypes.c_int32), ("has_bias", ctypes.c_int32),
    ]


class GemmHostOperands(ctypes.Structure):
    """Mirror of ``qmx_gemm_host_operands``."""

    _fields_ = [
        ("a", ctypes.c_void_p), ("b", ctypes.c_void_p),
        ("bias", ctypes.c_void_p), ("multipliers", ctypes.c_void_p),
        ("shifts", ctypes.c_void_p), ("c", ctypes.c_void_p),
    ]


class Ref(ctypes.Structure):
    """Mirror of ``qmx_ref``."""

    _fields_ = [("buffer", ctypes.c_void_p), ("offset", ctypes.c_uint64)]


class GemmDesc(ctypes.Structure):
    """Mirror of ``qmx_gemm_desc``."""

    _fields_ = [
        ("params", GemmParams),
        ("a", Ref), ("b", Ref), ("c", Ref),
        ("bias", Ref), ("multipliers", Ref), ("shifts", Ref),
    ]


class JobStats(ctypes.Structure):
    """Mirror of ``qmx_job_stats``."""

    _fields_ = [
        ("wall_ns", ctypes.c_uint64), ("device_ns", ctypes.c_uint64),
        ("cpu_ns", ctypes.c_uint64), ("cycles", ctypes.c_uint64),
        ("stall_cycles", ctypes.c_uint64), ("macs", ctypes.c_uint64),
        ("ext_bytes_read", ctypes.c_uint64),
        ("ext_bytes_written", ctypes.c_uint64),
        ("sram_bytes_read", ctypes.c_uint64),
        ("sram_bytes_written", ctypes.c_uint64),
        ("threads", ctypes.c_uint32), ("energy_source", ctypes.c_int32),
        ("energy_j", ctypes.c_double),
        ("carbon_operational_g", ctypes.c_double),
        ("carbon_embodied_g", ctypes.c_double),
        ("energy_mac_j", ctypes.c_double),
        ("energy_sram_j", ctypes.c_double),
        ("energy_dram_j", ctypes.c_double),
        ("energy_clock_j", ctypes.c_double),
        ("energy_leakage_j", ctypes.c_double),
        ("energy_static_j", ctypes.c_double),
        ("flags", ctypes.c_uint32), ("reserved0", ctypes.c_uint32),
        ("sim_wall_ns", ctypes.c_uint64), ("sim_cpu_ns", ctypes.c_uint64),
    ]

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return {name: getattr(self, name) for name, _ in self._fields_}


class GroupMemberStats(ctypes.Structure):
    """Mirror of ``qmx_group_member_stats``."""

    _fields_ = [
        ("info", DeviceInfo), ("weight", ctypes.c_double),
        ("macs_per_s", ctypes.c_double), ("weight_source", ctypes.c_char * 96),
        ("jobs", ctypes.c_uint64), ("total", JobStats), ("last", JobStats),
    ]

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (nested structures as dicts)."""
        return {"info": self.info.as_dict(), "weight": self.weight,
                "macs_per_s": self.macs_per_s,
                "weight_source": self.weight_source.decode(), "jobs": self.jobs,
                "total": self.total.as_dict(), "last": self.last.as_dict()}


class QParamsC(ctypes.Structure):
    """Mirror of ``qmx_qparams``."""

    _fields_ = [("scale", ctypes.c_float), ("zero_point", ctypes.c_int32)]


class QGemmArgs(ctypes.Structure):
    """Mirror of ``qmx_qgemm_args``."""

    _fields_ = [
        ("m", ctypes.c_int64), ("n", ctypes.c_int64), ("k", ctypes.c_int64),
        ("a", c_float_p), ("lda", ctypes.c_int64),
        ("b", c_float_p), ("ldb", ctypes.c_int64),
        ("bias", c_float_p),
        ("c", c_float_p), ("ldc", ctypes.c_int64),
        ("a_scheme", ctypes.c_int32), ("b_scheme", ctypes.c_int32),
        ("b_per_channel", ctypes.c_int32), ("out", ctypes.c_int32),
        ("relu", ctypes.c_int32),
        ("a_qparams", QParamsC), ("b_qparams", QParamsC),
        ("c_qparams", QParamsC),
    ]


class EnergyReading(ctypes.Structure):
    """Mirror of ``qmx_energy_reading``."""

    _fields_ = [
        ("joules", ctypes.c_double), ("joules_domain", ctypes.c_double),
        ("share", ctypes.c_double), ("seconds", ctypes.c_double),
        ("cpu_seconds", ctypes.c_double), ("source", ctypes.c_int32),
        ("method", ctypes.c_char * 32), ("detail", ctypes.c_char * 512),
        ("grid_g_per_kwh", ctypes.c_double),
        ("carbon_operational_g", ctypes.c_double),
        ("carbon_embodied_g", ctypes.c_double),
        ("pue", ctypes.c_double), ("sim_seconds", ctypes.c_double),
        ("sim_cpu_seconds", ctypes.c_double), ("held_seconds", ctypes.c_double),
    ]

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (strings decoded)."""
        out: dict[str, Any] = {}
        for name, _ in self._fields_:
            value = getattr(self, name)
            out[name] = value.decode() if isinstance(value, bytes) else value
        return out


_P = ctypes.c_void_p
_I = ctypes.c_int
# qmx_progress_fn: int (*)(uint64_t done, uint64_t total, void *user)
PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint64, ctypes.c_uint64,
                               ctypes.c_void_p)
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "qmx_strerror": (ctypes.c_char_p, [_I]),
    "qmx_error_name": (ctypes.c_char_p, [_I]),
    "qmx_last_error": (ctypes.c_char_p, []),
    "qmx_device_open": (_I, [ctypes.c_char_p, ctypes.POINTER(_P)]),
    "qmx_device_del": (None, [_P]),
    "qmx_device_query": (_I, [_P, ctypes.POINTER(DeviceInfo)]),
    "qmx_device_group_stats": (_I, [_P, ctypes.POINTER(GroupMemberStats),
                                    ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]),
    "qmx_default_device_uri": (ctypes.c_char_p, []),
    "qmx_device_list": (_I, [ctypes.POINTER(DeviceInfo), ctypes.c_size_t,
                             ctypes.POINTER(ctypes.c_size_t)]),
    "qmx_backend_names": (ctypes.POINTER(ctypes.c_char_p), []),
    "qmx_buffer_new": (_I, [_P, ctypes.c_size_t, ctypes.c_uint32,
                            ctypes.POINTER(_P)]),
    "qmx_buffer_map": (_I, [_P, ctypes.POINTER(_P)]),
    "qmx_buffer_unmap": (_I, [_P]),
    "qmx_buffer_sync": (_I, [_P, _I, ctypes.c_size_t, ctypes.c_size_t]),
    "qmx_buffer_size": (ctypes.c_size_t, [_P]),
    "qmx_buffer_del": (None, [_P]),
    "qmx_gemm_params_init": (None, [ctypes.POINTER(GemmParams),
                                    ctypes.c_int64, ctypes.c_int64,
                                    ctypes.c_int64]),
    "qmx_gemm_params_check": (_I, [ctypes.POINTER(GemmParams)]),
    "qmx_gemm_reference": (_I, [ctypes.POINTER(GemmParams),
                                ctypes.POINTER(GemmHostOperands)]),
    "qmx_gemm": (_I, [_P, ctypes.POINTER(GemmParams),
                      ctypes.POINTER(GemmHostOperands),
                      ctypes.POINTER(JobStats)]),
    "qmx_weights_new": (_I, [_P, c_int8_p, ctypes.c_int64, ctypes.c_int64,
                             ctypes.c_int64, ctypes.POINTER(_P)]),
    "qmx_weights_invalidate": (_I, [_P]),
    "qmx_weights_del": (None, [_P]),
    "qmx_weights_gemm": (_I, [_P, ctypes.POINTER(GemmParams),
                              ctypes.POINTER(GemmHostOperands),
                              ctypes.POINTER(JobStats)]),
    "qmx_gemm_submit": (_I, [_P, ctypes.POINTER(GemmDesc),
                             ctypes.POINTER(_P)]),
    "qmx_job_wait": (_I, [_P, ctypes.c_int64]),
    "qmx_job_get_stats": (_I, [_P, ctypes.POINTER(JobStats)]),
    "qmx_job_del": (None, [_P]),
    "qmx_batch_create": (_I, [_P, ctypes.POINTER(_P)]),
    "qmx_batch_add_gemm": (_I, [_P, ctypes.POINTER(GemmDesc), ctypes.c_int32,
                                ctypes.POINTER(ctypes.c_uint32)]),
    "qmx_batch_size": (ctypes.c_uint32, [_P]),
    "qmx_batch_submit": (_I, [_P]),
    "qmx_batch_wait": (_I, [_P, ctypes.c_int64]),
    "qmx_batch_entry_status": (_I, [_P, ctypes.c_uint32, ctypes.POINTER(_I),
                                    ctypes.POINTER(JobStats)]),
    "qmx_batch_entry_message": (ctypes.c_char_p, [_P, ctypes.c_uint32]),
    "qmx_batch_destroy": (None, [_P]),
    "qmx_gemm_tiled": (_I, [_P, ctypes.POINTER(GemmParams),
                            ctypes.POINTER(GemmHostOperands),
                            ctypes.POINTER(JobStats), _P, _P]),
    "qmx_quantize_multiplier": (_I, [ctypes.c_double, c_int32_p, c_int32_p]),
    "qmx_qparams_from_minmax": (_I, [ctypes.c_float, ctypes.c_float, _I,
                                     ctypes.POINTER(QParamsC)]),
    "qmx_qparams_choose": (_I, [c_float_p, ctypes.c_size_t, _I,
                                ctypes.POINTER(QParamsC)]),
    "qmx_qparams_choose_per_channel": (_I, [
        c_float_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, _I, _I,
        ctypes.POINTER(QParamsC)]),
    "qmx_quantize": (_I, [c_float_p, ctypes.c_size_t, QParamsC, c_int8_p]),
    "qmx_dequantize": (_I, [c_int8_p, ctypes.c_size_t, QParamsC, c_float_p]),
    "qmx_fake_quantize": (_I, [c_float_p, ctypes.c_size_t, QParamsC,
                               c_float_p]),
    "qmx_quantize_per_channel": (_I, [
        c_float_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, _I,
        ctypes.POINTER(QParamsC), c_int8_p, ctypes.c_int64]),
    "qmx_dequantize_per_channel": (_I, [
        c_int8_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, _I,
        ctypes.POINTER(QParamsC), c_float_p, ctypes.c_int64]),
    "qmx_qgemm_args_init": (None, [ctypes.POINTER(QGemmArgs), ctypes.c_int64,
                                   ctypes.c_int64, ctypes.c_int64]),
    "qmx_qgemm_new": (_I, [_P, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                           ctypes.POINTER(_P)]),
    "qmx_qgemm_del": (None, [_P]),
    "qmx_qgemm_submit": (_I, [_P, ctypes.POINTER(QGemmArgs)]),
    "qmx_qgemm_wait": (_I, [_P, ctypes.c_int64, ctypes.POINTER(JobStats)]),
    "qmx_qgemm_last_qparams": (_I, [_P, ctypes.POINTER(QParamsC),
                                    ctypes.POINTER(QParamsC), ctypes.c_size_t,
                                    ctypes.POINTER(ctypes.c_size_t)]),
    "qmx_qgemm_fake_quantized": (_I, [_P, c_float_p, ctypes.c_int64,
                                      c_float_p, ctypes.c_int64]),
    "qmx_meter_new": (_I, [ctypes.c_char_p, ctypes.POINTER(_P)]),
    "qmx_meter_start": (_I, [_P]),
    "qmx_meter_stop": (_I, [_P, ctypes.POINTER(EnergyReading)]),
    "qmx_meter_add_job": (_I, [_P, ctypes.POINTER(JobStats)]),
    "qmx_meter_method": (ctypes.c_char_p, [_P]),
    "qmx_meter_del": (None, [_P]),
}

_lib: Optional[ctypes.CDLL] = None


def _candidates() -> list[str]:
    found: list[str] = []
    env = os.environ.get("QMX_LIBRARY")
    if env:
        return [env]  # explicit: no silent fallback
    here = Path(__file__).resolve().parent
    for name in ("libqmx.so", "libqmx.so.0"):
        if (here / name).exists():
            found.append(str(here / name))
    found += ["libqmx.so.0", "libqmx.so"]
    name = ctypes.util.find_library("qmx")
    if name:
        found.append(name)
    return found


def lib() -> ctypes.CDLL:
    """The loaded libqmx, with argument and result types declared."""
    global _lib
    if _lib is not None:
        return _lib
    errors: list[str] = []
    for path in _candidates():
        try:
            handle = ctypes.CDLL(path)
        except OSError as exc:
            errors.append(f"{path}: {exc}")
            continue
        missing = [n for n in _SIGNATURES if not hasattr(handle, n)]
        core_missing = [n for n in missing if not n.startswith("qmx_meter")]
        if core_missing:
            errors.append(f"{path}: missing symbols {', '.join(core_missing)}"
                          " (an older libqmx?)")
            continue
        for name, (restype, argtypes) in _SIGNATURES.items():
            if name in missing:
                continue
            fn = getattr(handle, name)
            fn.restype = restype
            fn.argtypes = argtypes
        _lib = handle
        return handle
    raise ImportError(
        "qmx: cannot load libqmx. Set QMX_LIBRARY to the path of libqmx.so "
        "(e.g. build/runtime/libqmx.so), put libqmx.so next to the qmx "
        "package, or install libqmx where the system loader finds it.\n  "
        + "\n  ".join(errors))


def has_symbol(name: str) -> bool:
    """Whether the loaded libqmx exports ``name``."""
    return hasattr(lib(), name)


def check(err: int) -> None:
    """Raise :class:`QmxError` for a negative libqmx return code."""
    if err >= 0:
        return
    handle = lib()
    name = handle.qmx_error_name(err).decode()
    detail = handle.qmx_last_error().decode()
    if not detail:
        detail = handle.qmx_strerror(err).decode()
    raise QmxError(err, name, detail)
