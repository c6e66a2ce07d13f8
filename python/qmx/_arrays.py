# SPDX-License-Identifier: MIT
"""Checks that turn numpy arrays into (pointer, leading dimension) pairs.

libqmx takes row-major matrices with a leading dimension, so any 2-D array
whose rows are contiguous (``strides[1] == itemsize``) is passed without a
copy, including row slices of a larger matrix.  Anything else raises with
the name of the argument; nothing is copied behind the caller's back.
"""

from __future__ import annotations

import ctypes
import numbers
from typing import Any, Optional

import numpy as np


def matrix(name: str, arr: Any, dtype: type, writable: bool = False
           ) -> tuple[np.ndarray, int]:
    """Check a 2-D row-major array of ``dtype``; return it and its ld."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, got "
                        f"{type(arr).__name__}")
    want = np.dtype(dtype)
    if arr.dtype != want:
        raise TypeError(f"{name}: dtype is {arr.dtype}, expected {want} "
                        f"(convert with {name}.astype(numpy.{want}))")
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array, got {arr.ndim}-D "
                         f"with shape {arr.shape}")
    rows, cols = arr.shape
    if rows == 0 or cols == 0:
        raise ValueError(f"{name}: shape {arr.shape} has a zero dimension")
    item = want.itemsize
    if cols > 1 and arr.strides[1] != item:
        raise ValueError(f"{name}: rows are not contiguous (strides "
                         f"{arr.strides}); pass numpy.ascontiguousarray"
                         f"({name})")
    if rows > 1 and (arr.strides[0] % item or arr.strides[0] < cols * item):
        raise ValueError(f"{name}: row stride {arr.strides[0]} bytes is not "
                         f"a multiple of {item} covering {cols} columns; "
                         f"pass numpy.ascontiguousarray({name})")
    if writable and not arr.flags.writeable:
        raise ValueError(f"{name}: array is read-only")
    ld = arr.strides[0] // item if rows > 1 else cols
    return arr, int(ld)


def vector(name: str, arr: Any, dtype: type, length: int) -> np.ndarray:
    """Check a contiguous 1-D array of ``dtype`` and ``length`` entries."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, got "
                        f"{type(arr).__name__}")
    want = np.dtype(dtype)
    if arr.dtype != want:
        raise TypeError(f"{name}: dtype is {arr.dtype}, expected {want}")
    if arr.ndim != 1 or arr.shape[0] != length:
        raise ValueError(f"{name}: shape {arr.shape}, expected ({length},)")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{name}: array is not contiguous")
    return arr


def contiguous(name: str, arr: Any, dtype: type, writable: bool = False
               ) -> np.ndarray:
    """Check a C-contiguous array of ``dtype`` (any shape, non-empty)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, got "
                        f"{type(arr).__name__}")
    want = np.dtype(dtype)
    if arr.dtype != want:
        raise TypeError(f"{name}: dtype is {arr.dtype}, expected {want} "
                        f"(convert with {name}.astype(numpy.{want}))")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{name}: array is not C-contiguous; pass "
                         f"numpy.ascontiguousarray({name})")
    if writable and not arr.flags.writeable:
        raise ValueError(f"{name}: array is read-only")
    return arr


def ptr(arr: np.ndarray, ctype: Any) -> Any:
    """A typed ctypes pointer to the first element of ``arr``."""
    return arr.ctypes.data_as(ctypes.POINTER(ctype))


INT32_MAX = 2**31 - 1
DIM_MAX = INT32_MAX  # largest M, N, K or leading dimension (qmx.h)


def integer(name: str, value: Any, lo: int, hi: int) -> int:
    """Check an integer argument in [lo, hi] before it reaches ctypes.

    ctypes wraps out-of-range values and truncates floats without a word;
    here ``bool`` and floats are refused (TypeError) and anything outside
    the range raises ValueError naming the argument and the range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: {value!r} must be an int in [{lo}, {hi}], "
                        f"not {type(value).__name__}")
    v = int(value)
    if v < lo or v > hi:
        raise ValueError(f"{name}: {v} outside [{lo}, {hi}]")
    return v


def timeout_ns(name: str, seconds: Optional[float]) -> int:
    """Seconds (None: wait forever) as the -1-or-ns the C API takes."""
    if seconds is None:
        return -1
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        raise TypeError(f"{name}: {seconds!r} must be a number of seconds "
                        f"or None, not {type(seconds).__name__}")
    limit = (2**63 - 1) / 1e9
    if not 0 <= seconds <= limit:  # also refuses NaN
        raise ValueError(f"{name}: {seconds} outside [0, {limit:.0f}] s")
    return int(seconds * 1e9)
