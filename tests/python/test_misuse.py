# SPDX-License-Identifier: MIT
"""Misuse of the Python API: freed buffers under live views, integers that
ctypes would wrap or truncate, wrong argument types (issue 15, items 7, 8).
"""

from __future__ import annotations

import gc

import numpy as np
import pytest

import qmx


def test_free_refused_while_a_view_is_alive(device: qmx.Device) -> None:
    c = device.buffer(4096)
    v = c.array()
    tail = v[100:]  # a derived array holds the memory too
    with pytest.raises(BufferError, match=r"free\(\) refused, 1 numpy view"):
        c.free()
    v[:] = 0x41  # still mapped: no use after free
    assert c.views() == 1
    del v
    gc.collect()
    with pytest.raises(BufferError, match="still alive"):
        c.free()
    assert int(tail[0]) == 0x41
    del tail
    gc.collect()
    assert c.views() == 0
    c.free()
    with pytest.raises(ValueError, match="buffer: already freed"):
        c.array()


def test_view_keeps_buffer_object_alive(device: qmx.Device) -> None:
    v = device.buffer(256).array(np.int32)
    gc.collect()
    v[:] = np.arange(64, dtype=np.int32)  # the buffer is still mapped
    assert int(v.sum()) == 63 * 64 // 2


@pytest.mark.parametrize("kwargs, exc, text", [
    ({"a_zero_point": 2**32}, ValueError, r"a_zero_point: 4294967296 outside \[-128, 127\]"),
    ({"b_zero_point": -129}, ValueError, r"b_zero_point: -129 outside \[-128, 127\]"),
    ({"c_zero_point": 1.5, "out_dtype": np.int8}, TypeError,
     r"c_zero_point: 1.5 must be an int in \[-128, 127\], not float"),
    ({"multiplier": 2**32 + 2**30, "out_dtype": np.int8}, ValueError,
     r"multiplier: 5368709120 outside \[0, 2147483647\]"),
    ({"multiplier": 0.5, "out_dtype": np.int8}, TypeError,
     r"multiplier: 0.5 must be an int in \[0, 2147483647\], not float"),
    ({"shift": 31, "out_dtype": np.int8}, ValueError, r"shift: 31 outside \[-31, 30\]"),
    ({"shift": True, "out_dtype": np.int8}, TypeError, r"shift: True must be an int"),
    ({"qmin": -2**63}, ValueError, r"qmin: -9223372036854775808 outside \[-128, 127\]"),
    ({"qmax": "127"}, TypeError, r"qmax: '127' must be an int in \[-128, 127\], not str"),
])
def test_gemm_integers_checked(device: qmx.Device, kwargs: dict, exc: type,
                               text: str) -> None:
    a = np.ones((2, 3), np.int8)
    b = np.ones((3, 4), np.int8)
    with pytest.raises(exc, match=text):
        qmx.gemm(device, a, b, **kwargs)
    with pytest.raises(exc, match=text):
        qmx.gemm_reference(a, b, **kwargs)


def test_numpy_integers_accepted(device: qmx.Device) -> None:
    a = np.ones((2, 3), np.int8)
    b = np.ones((3, 4), np.int8)
    c = qmx.gemm(device, a, b, out_dtype=np.int8, a_zero_point=np.int8(-1),
                 multiplier=np.int64(1 << 30), shift=np.int32(1))
    assert (c == 6).all()


def test_buffer_and_submit_arguments(device: qmx.Device) -> None:
    with pytest.raises(ValueError, match=r"size: 18446744073709551616 outside \[1, "):
        device.buffer(2**64)
    with pytest.raises(ValueError, match=r"size: 0 outside \[1, "):
        device.buffer(0)
    with pytest.raises(TypeError, match=r"size: 4096.0 must be an int"):
        device.buffer(4096.0)
    buf = device.buffer(64)
    with pytest.raises(ValueError, match=r"offset: -1 outside \[0, 63\]"):
        buf.array(offset=-1)
    with pytest.raises(ValueError, match=r"size: 65 outside \[0, 64\]"):
        buf.sync(qmx.SYNC_TO_DEVICE, 0, 65)
    with pytest.raises(ValueError, match=r"direction: 3 is not SYNC_TO_DEVICE"):
        buf.sync(3)
    with pytest.raises(ValueError, match=r"m: 4294967297 outside \[1, 2147483647\]"):
        qmx.gemm_submit(device, buf, buf, buf, 2**32 + 1, 1, 1)
    with pytest.raises(TypeError, match=r"k: 2.0 must be an int"):
        qmx.gemm_submit(device, buf, buf, buf, 1, 1, 2.0)
    a, b, c = device.buffer(4), device.buffer(4), device.buffer(4)
    job = qmx.gemm_submit(device, a, b, c, 1, 1, 4)
    with pytest.raises(BufferError, match=r"a job using it has not been waited for"):
        c.free()
    with pytest.raises(ValueError, match=r"timeout_s: -1 outside \[0, "):
        job.wait(-1)
    with pytest.raises(TypeError, match=r"timeout_s: '1' must be a number"):
        job.wait("1")
    job.wait(60)
    c.free()
    buf.free()


def test_device_argument_types() -> None:
    with pytest.raises(TypeError, match=r"uri: 123 must be a str .* not int"):
        qmx.Device(123)
    with pytest.raises(TypeError, match=r"uri: b'cpu' must be a str"):
        qmx.Device(b"cpu")
    with pytest.raises(ValueError, match=r"max_m: 0 outside \[1, 2147483647\]"):
        with qmx.Device("cpu") as dev:
            qmx.QGemm(dev, 0, 4, 4)
