# SPDX-License-Identifier: MIT
"""The ctypes mirrors in qmx._lib match the C structures byte for byte."""

from __future__ import annotations

import ctypes
import os
import subprocess

import pytest

from qmx import _lib, carbon

MIRRORS = {
    "qmx_device_info": _lib.DeviceInfo,
    "qmx_gemm_params": _lib.GemmParams,
    "qmx_gemm_host_operands": _lib.GemmHostOperands,
    "qmx_gemm_desc": _lib.GemmDesc,
    "qmx_job_stats": _lib.JobStats,
    "qmx_group_member_stats": _lib.GroupMemberStats,
    "qmx_qparams": _lib.QParamsC,
    "qmx_qgemm_args": _lib.QGemmArgs,
    "qmx_energy_reading": _lib.EnergyReading,
    "qmx_grid_trace_info": carbon.TraceInfo,
    "qmx_grid_sample": carbon.Sample,
    "qmx_grid_used": carbon.GridUsed,
    "qmx_shift_request": carbon.ShiftRequest,
    "qmx_shift_plan": carbon.ShiftPlan,
    "qmx_place_option": carbon.PlaceOption,
    "qmx_place_result": carbon.PlaceResult,
    "qmx_shape_tier": carbon.ShapeTier,
    "qmx_shape_choice": carbon.ShapeChoice,
}


def test_layouts_match_c() -> None:
    tool = os.environ.get("QMX_ABI_DUMP")
    if not tool:
        pytest.skip("QMX_ABI_DUMP not set (run through ctest)")
    out = subprocess.run([tool], check=True, capture_output=True, text=True,
                         timeout=30).stdout
    checked = 0
    for line in out.splitlines():
        struct, field, value = line.split()
        if struct == "const":
            assert getattr(_lib, field) == int(value), field
            checked += 1
            continue
        mirror = MIRRORS[struct]
        if field == "-":
            assert ctypes.sizeof(mirror) == int(value), struct
        else:
            assert getattr(mirror, field).offset == int(value), \
                f"{struct}.{field}"
        checked += 1
    assert checked > 30
