# SPDX-License-Identifier: MIT
"""Energy meters (``qmx/energy.h``): joules and gCO2e of a stretch of code.

``Meter("cpu")`` meters this host's CPU package (RAPL where readable, else a
declared model); ``Meter(<device uri>)`` sums the energy of the jobs added
with :meth:`Meter.add_job`.  Every reading says whether it was measured or
modelled.
"""

from __future__ import annotations

import ctypes
from typing import Any, Optional

from ._lib import (Closing, EnergyReading, JobStats, QmxError, check, has_symbol,
                   lib)

SOURCES = {0: "none", 1: "measured", 2: "modelled"}


class Meter(Closing):
    """A running energy meter; use ``with Meter("cpu") as m: ...``."""

    def __init__(self, what: str = "cpu") -> None:
        if not has_symbol("qmx_meter_new"):
            raise QmxError(-4, "QMX_ENOTSUP",
                           "this libqmx has no energy meters (qmx_meter_new)")
        handle = ctypes.c_void_p()
        check(lib().qmx_meter_new(what.encode(), ctypes.byref(handle)))
        self._handle: Optional[int] = handle.value
        self.what = what
        self.reading: Optional[dict[str, Any]] = None

    @property
    def method(self) -> str:
        """"rapl", "perf", "hwmon:<name>", "model:tdp" or "jobs"."""
        return lib().qmx_meter_method(self._handle).decode()

    def start(self) -> "Meter":
        """Start (or restart) the interval."""
        check(lib().qmx_meter_start(self._handle))
        return self

    def add_job(self, stats: dict[str, Any]) -> None:
        """Add a finished job's accounting (a dict from ``Job.wait``).

        A device meter sums the jobs' energy.  A host meter ("cpu") keeps
        the boundary of docs/energy.md: for a simulated device's job it
        leaves the host's time simulating it out of ``seconds`` and
        ``cpu_seconds`` (reported as ``sim_seconds``, ``sim_cpu_seconds``)
        and counts the device time and the host thread held instead.
        """
        st = JobStats()
        for name, _ in JobStats._fields_:
            setattr(st, name, stats[name])
        self._add_job_c(st)

    def _add_job_c(self, st: JobStats) -> None:
        """:meth:`add_job` from the C structure (no dict per job)."""
        err = lib().qmx_meter_add_job(self._handle, ctypes.byref(st))
        if err < 0:
            check(err)

    def stop(self) -> dict[str, Any]:
        """Stop and return the reading (joules, source, carbon, ...)."""
        r = EnergyReading()
        check(lib().qmx_meter_stop(self._handle, ctypes.byref(r)))
        self.reading = r.as_dict()
        self.reading["source_name"] = SOURCES.get(r.source, "unknown")
        self.reading["carbon_g"] = (r.carbon_operational_g
                                    + r.carbon_embodied_g)
        return self.reading

    def close(self) -> None:
        """Free the meter."""
        if self._handle:
            lib().qmx_meter_del(self._handle)
            self._handle = None

    def __enter__(self) -> "Meter":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
