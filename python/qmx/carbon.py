# SPDX-License-Identifier: MIT
"""Carbon-aware operation (``qmx/carbon_aware.h``) from Python.

``GridTrace`` reads a grid carbon-intensity time series (CSV, the GB Carbon
Intensity API, the GSF Carbon Aware SDK or Electricity Maps JSON) and gives
the intensity at a time, the operational carbon of energy spent over an
interval, and the start that minimises a deferrable job's carbon before its
deadline (:meth:`GridTrace.shift`).  :func:`place` picks the device that adds
the least carbon (energy x intensity + embodied time-share); :class:`Shaper`
picks one of several registered tiers (e.g. a small and a large model) by
the current intensity.  All of it runs in libqmx; this module is the ctypes
layer plus :class:`CarbonAwareLoop`, the helper for training loops.

Times are seconds since the epoch (UTC), ``datetime`` objects, or ISO-8601
strings with a zone (``"2023-03-14T06:00:00Z"``).
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import io
import math
import time as _time
from typing import Any, Callable, Optional, Union

from ._lib import Closing, DeviceInfo, JobStats, QmxError, check, lib

TimeLike = Union[int, float, str, _dt.datetime]

KINDS = {0: "unknown", 1: "average", 2: "marginal"}
FORECASTS = {"auto": 0, "trace": 1, "persistence": 2, "perfect": 3}
PLACE_MAX = 8
SHAPE_MAX = 16


class TraceInfo(ctypes.Structure):
    """Mirror of ``qmx_grid_trace_info``."""

    _fields_ = [
        ("start_s", ctypes.c_int64), ("end_s", ctypes.c_int64),
        ("step_s", ctypes.c_int64), ("n", ctypes.c_uint64),
        ("n_actual", ctypes.c_uint64), ("n_forecast", ctypes.c_uint64),
        ("kind", ctypes.c_int32), ("format", ctypes.c_char * 32),
        ("name", ctypes.c_char * 256), ("region", ctypes.c_char * 128),
        ("source", ctypes.c_char * 256),
    ]


class Sample(ctypes.Structure):
    """Mirror of ``qmx_grid_sample``."""

    _fields_ = [("start_s", ctypes.c_int64), ("actual", ctypes.c_double),
                ("forecast", ctypes.c_double)]


class GridUsed(ctypes.Structure):
    """Mirror of ``qmx_grid_used``."""

    _fields_ = [
        ("carbon_g", ctypes.c_double), ("g_per_kwh", ctypes.c_double),
        ("kind", ctypes.c_int32), ("forecast_windows", ctypes.c_int32),
        ("source", ctypes.c_char * 320),
    ]


class ShiftRequest(ctypes.Structure):
    """Mirror of ``qmx_shift_request``."""

    _fields_ = [
        ("now_s", ctypes.c_int64), ("deadline_s", ctypes.c_int64),
        ("duration_s", ctypes.c_double), ("energy_j", ctypes.c_double),
        ("forecast", ctypes.c_int32), ("step_s", ctypes.c_int32),
    ]


class ShiftPlan(ctypes.Structure):
    """Mirror of ``qmx_shift_plan``."""

    _fields_ = [
        ("start_s", ctypes.c_int64), ("delay_s", ctypes.c_double),
        ("expected_g", ctypes.c_double), ("expected_now_g", ctypes.c_double),
        ("expected_saving_g", ctypes.c_double), ("actual_g", ctypes.c_double),
        ("actual_now_g", ctypes.c_double), ("best_start_s", ctypes.c_int64),
        ("best_g", ctypes.c_double), ("forecast", ctypes.c_int32),
        ("candidates", ctypes.c_int32), ("horizon_s", ctypes.c_int64),
        ("note", ctypes.c_char * 256),
    ]


class PlaceOption(ctypes.Structure):
    """Mirror of ``qmx_place_option``."""

    _fields_ = [
        ("name", ctypes.c_char * 32), ("energy_j", ctypes.c_double),
        ("time_s", ctypes.c_double), ("embodied_g", ctypes.c_double),
        ("lifetime_s", ctypes.c_double), ("share", ctypes.c_double),
    ]


class PlaceResult(ctypes.Structure):
    """Mirror of ``qmx_place_result``."""

    _fields_ = [
        ("choice", ctypes.c_int32), ("n", ctypes.c_int32),
        ("g_per_kwh", ctypes.c_double),
        ("operational_g", ctypes.c_double * PLACE_MAX),
        ("embodied_g", ctypes.c_double * PLACE_MAX),
        ("total_g", ctypes.c_double * PLACE_MAX),
    ]


class ShapeTier(ctypes.Structure):
    """Mirror of ``qmx_shape_tier``."""

    _fields_ = [
        ("name", ctypes.c_char * 32), ("energy_j", ctypes.c_double),
        ("quality", ctypes.c_double), ("max_g_per_kwh", ctypes.c_double),
    ]


class ShapeChoice(ctypes.Structure):
    """Mirror of ``qmx_shape_choice``."""

    _fields_ = [
        ("choice", ctypes.c_int32), ("n", ctypes.c_int32),
        ("within", ctypes.c_int32), ("g_per_kwh", ctypes.c_double),
        ("carbon_g", ctypes.c_double * SHAPE_MAX),
        ("quality_cost", ctypes.c_double * SHAPE_MAX),
    ]


_P = ctypes.c_void_p
_I = ctypes.c_int
_PP = ctypes.POINTER(_P)
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "qmx_time_parse": (_I, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int64)]),
    "qmx_time_format": (_I, [ctypes.c_int64, ctypes.c_char_p,
                             ctypes.c_size_t]),
    "qmx_grid_trace_load": (_I, [ctypes.c_char_p, _PP]),
    "qmx_grid_trace_parse": (_I, [ctypes.c_char_p, ctypes.c_size_t,
                                  ctypes.c_char_p, _PP]),
    "qmx_grid_trace_del": (None, [_P]),
    "qmx_grid_trace_get_info": (_I, [_P, ctypes.POINTER(TraceInfo)]),
    "qmx_grid_trace_get_sample": (_I, [_P, ctypes.c_uint64,
                                       ctypes.POINTER(Sample)]),
    "qmx_grid_trace_at": (_I, [_P, ctypes.c_int64,
                               ctypes.POINTER(ctypes.c_double)]),
    "qmx_grid_trace_carbon": (_I, [_P, ctypes.c_int64, ctypes.c_double,
                                   ctypes.c_double, ctypes.POINTER(GridUsed)]),
    "qmx_shift_request_init": (None, [ctypes.POINTER(ShiftRequest)]),
    "qmx_shift_choose": (_I, [_P, ctypes.POINTER(ShiftRequest),
                              ctypes.POINTER(ShiftPlan)]),
    "qmx_place_option_from_job": (_I, [ctypes.POINTER(DeviceInfo),
                                       ctypes.POINTER(JobStats),
                                       ctypes.POINTER(PlaceOption)]),
    "qmx_place_choose": (_I, [ctypes.POINTER(PlaceOption), ctypes.c_size_t,
                              ctypes.c_double, ctypes.POINTER(PlaceResult)]),
    "qmx_shaper_new": (_I, [_PP]),
    "qmx_shaper_add_tier": (_I, [_P, ctypes.POINTER(ShapeTier),
                                 ctypes.POINTER(_I)]),
    "qmx_shaper_choose": (_I, [_P, ctypes.c_double, ctypes.c_double,
                               ctypes.POINTER(ShapeChoice)]),
    "qmx_shaper_del": (None, [_P]),
}
_declared = False


def _lib() -> ctypes.CDLL:
    """libqmx with the carbon-aware functions declared."""
    global _declared
    handle = lib()
    if not _declared:
        missing = [n for n in _SIGNATURES if not hasattr(handle, n)]
        if missing:
            raise ImportError("qmx.carbon: this libqmx lacks "
                              f"{', '.join(missing)} (an older libqmx?)")
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(handle, name)
            fn.restype, fn.argtypes = restype, argtypes
        _declared = True
    return handle


def _struct_dict(s: ctypes.Structure) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, _ in s._fields_:
        v = getattr(s, name)
        if isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, ctypes.Array):
            v = list(v)
        out[name] = v
    return out


def parse_time(t: TimeLike) -> int:
    """UTC seconds from an ISO-8601 string (zone required), a datetime
    (naive ones are refused) or a number."""
    if isinstance(t, (int, float)):
        return int(t)
    if isinstance(t, _dt.datetime):
        if t.tzinfo is None:
            raise ValueError(f"{t}: a naive datetime is ambiguous; give a "
                             "timezone (e.g. datetime.timezone.utc)")
        return int(t.timestamp())
    out = ctypes.c_int64()
    check(_lib().qmx_time_parse(str(t).encode(), ctypes.byref(out)))
    return out.value


def format_time(t: TimeLike) -> str:
    """"YYYY-MM-DDTHH:MM:SSZ"."""
    buf = ctypes.create_string_buffer(32)
    check(_lib().qmx_time_format(parse_time(t), buf, len(buf)))
    return buf.value.decode()


class GridTrace(Closing):
    """A grid carbon-intensity trace (gCO2e/kWh over time)."""

    def __init__(self, path: Optional[str] = None, *,
                 data: Optional[bytes] = None, name: str = "<memory>") -> None:
        handle = ctypes.c_void_p()
        if (path is None) == (data is None):
            raise ValueError("GridTrace: give a path or data, not both")
        if path is not None:
            check(_lib().qmx_grid_trace_load(str(path).encode(),
                                             ctypes.byref(handle)))
        else:
            raw = data if isinstance(data, bytes) else str(data).encode()
            check(_lib().qmx_grid_trace_parse(raw, len(raw), name.encode(),
                                              ctypes.byref(handle)))
        self._handle: Optional[int] = handle.value
        info = TraceInfo()
        check(_lib().qmx_grid_trace_get_info(self._handle,
                                             ctypes.byref(info)))
        self.info: dict[str, Any] = _struct_dict(info)
        self.info["kind_name"] = KINDS.get(info.kind, "unknown")

    @classmethod
    def parse(cls, data: Union[bytes, str], name: str = "<memory>"
              ) -> "GridTrace":
        """A trace from the text of a file."""
        return cls(data=data if isinstance(data, bytes) else data.encode(),
                   name=name)

    @property
    def start(self) -> int:
        """Start of the first window (UTC seconds)."""
        return int(self.info["start_s"])

    @property
    def end(self) -> int:
        """End of the last window."""
        return int(self.info["end_s"])

    @property
    def step(self) -> int:
        """Window length in seconds."""
        return int(self.info["step_s"])

    def samples(self) -> list[tuple[int, float, float]]:
        """Every window: (start, actual, forecast), NaN where missing."""
        out = []
        s = Sample()
        for i in range(int(self.info["n"])):
            check(_lib().qmx_grid_trace_get_sample(self._handle, i,
                                                   ctypes.byref(s)))
            out.append((s.start_s, s.actual, s.forecast))
        return out

    def at(self, t: TimeLike) -> float:
        """Intensity of the window containing t (the actual, else the
        forecast); QmxError (QMX_ENOENT) outside the trace."""
        g = ctypes.c_double()
        check(_lib().qmx_grid_trace_at(self._handle, parse_time(t),
                                       ctypes.byref(g)))
        return g.value

    def carbon(self, start: TimeLike, duration_s: float, joules: float
               ) -> dict[str, Any]:
        """Operational carbon of `joules` drawn evenly over
        [start, start + duration_s): carbon_g, g_per_kwh, kind, source."""
        u = GridUsed()
        check(_lib().qmx_grid_trace_carbon(self._handle, parse_time(start),
                                           float(duration_s), float(joules),
                                           ctypes.byref(u)))
        out = _struct_dict(u)
        out["kind_name"] = KINDS.get(u.kind, "unknown")
        return out

    def shift(self, now: TimeLike, duration_s: float, deadline: TimeLike,
              energy_j: float = 3.6e6, forecast: str = "auto",
              step_s: int = 0) -> dict[str, Any]:
        """The start before `deadline` with the least expected carbon under
        the forecast ("auto": the trace's, else persistence), what it
        expects to save against starting now, and the perfect-foresight
        bound (see qmx_shift_choose)."""
        if forecast not in FORECASTS:
            raise ValueError(f"forecast '{forecast}' must be one of "
                             f"{', '.join(FORECASTS)}")
        r = ShiftRequest()
        _lib().qmx_shift_request_init(ctypes.byref(r))
        r.now_s, r.deadline_s = parse_time(now), parse_time(deadline)
        r.duration_s, r.energy_j = float(duration_s), float(energy_j)
        r.forecast, r.step_s = FORECASTS[forecast], int(step_s)
        p = ShiftPlan()
        check(_lib().qmx_shift_choose(self._handle, ctypes.byref(r),
                                      ctypes.byref(p)))
        out = _struct_dict(p)
        out["forecast_name"] = {v: k for k, v in FORECASTS.items()}[p.forecast]
        return out

    def close(self) -> None:
        """Free the trace."""
        if self._handle:
            _lib().qmx_grid_trace_del(self._handle)
            self._handle = None


def place_option(name: str, energy_j: float, time_s: float, embodied_g: float,
                 lifetime_s: float, share: float = 1.0) -> dict[str, Any]:
    """One device a job could run on (see qmx_place_option)."""
    return {"name": name, "energy_j": energy_j, "time_s": time_s,
            "embodied_g": embodied_g, "lifetime_s": lifetime_s,
            "share": share}


def place_option_from_job(device: Any, stats: dict[str, Any]
                          ) -> dict[str, Any]:
    """The option of a device (a ``qmx.Device``) from a finished job's
    stats (``Job.wait``), with the device's embodied model."""
    st = JobStats()
    for name, _ in JobStats._fields_:
        setattr(st, name, stats[name])
    info = DeviceInfo()
    for name, _ in DeviceInfo._fields_:
        v = device.info[name]
        setattr(info, name, v.encode() if isinstance(v, str) else v)
    o = PlaceOption()
    check(_lib().qmx_place_option_from_job(ctypes.byref(info),
                                           ctypes.byref(st), ctypes.byref(o)))
    return _struct_dict(o)


def place(options: list[dict[str, Any]], g_per_kwh: float) -> dict[str, Any]:
    """The option adding the least carbon at `g_per_kwh`: energy x
    intensity + embodied x time / lifetime x share (ties: the first)."""
    if not 1 <= len(options) <= PLACE_MAX:
        raise ValueError(f"place: {len(options)} options, must be 1..{PLACE_MAX}")
    arr = (PlaceOption * len(options))()
    for o, d in zip(arr, options):
        o.name = str(d["name"]).encode()[:31]
        for f in ("energy_j", "time_s", "embodied_g", "lifetime_s", "share"):
            setattr(o, f, float(d.get(f, 1.0 if f == "share" else 0.0)))
    r = PlaceResult()
    check(_lib().qmx_place_choose(arr, len(options), float(g_per_kwh),
                                  ctypes.byref(r)))
    n = len(options)
    return {"choice": r.choice, "name": options[r.choice]["name"],
            "g_per_kwh": r.g_per_kwh,
            "operational_g": list(r.operational_g)[:n],
            "embodied_g": list(r.embodied_g)[:n],
            "total_g": list(r.total_g)[:n]}


class Shaper:
    """Demand shaping: tiers registered in order, one chosen per intensity."""

    def __init__(self) -> None:
        handle = ctypes.c_void_p()
        check(_lib().qmx_shaper_new(ctypes.byref(handle)))
        self._handle: Optional[int] = handle.value
        self.tiers: list[dict[str, Any]] = []

    def add_tier(self, name: str, energy_j: float, quality: float,
                 max_g_per_kwh: float = math.inf) -> int:
        """Register a tier: energy per unit of work, the quality it gives,
        and the highest intensity it may run at."""
        t = ShapeTier(name.encode()[:31], float(energy_j), float(quality),
                      float(max_g_per_kwh))
        idx = ctypes.c_int()
        check(_lib().qmx_shaper_add_tier(self._handle, ctypes.byref(t),
                                         ctypes.byref(idx)))
        self.tiers.append({"name": name, "energy_j": energy_j,
                           "quality": quality,
                           "max_g_per_kwh": max_g_per_kwh})
        return idx.value

    def choose(self, g_per_kwh: float, budget_g: float = 0.0
               ) -> dict[str, Any]:
        """The best-quality tier allowed at this intensity (and within
        budget_g per unit when > 0), with each tier's carbon and quality
        cost."""
        c = ShapeChoice()
        check(_lib().qmx_shaper_choose(self._handle, float(g_per_kwh),
                                       float(budget_g), ctypes.byref(c)))
        n = c.n
        return {"choice": c.choice, "name": self.tiers[c.choice]["name"],
                "within": bool(c.within), "g_per_kwh": c.g_per_kwh,
                "carbon_g": list(c.carbon_g)[:n],
                "quality_cost": list(c.quality_cost)[:n]}

    def close(self) -> None:
        """Free the shaper."""
        if self._handle:
            _lib().qmx_shaper_del(self._handle)
            self._handle = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


# ---------------------------------------------------------------- training

class WallClock:
    """Real time: ``time.time`` and ``time.sleep``."""

    def now(self) -> float:
        """UTC seconds."""
        return _time.time()

    def sleep(self, seconds: float) -> None:
        """Wait for real."""
        _time.sleep(seconds)


class SimClock:
    """A simulated clock: ``sleep`` and ``advance`` move it; nothing waits.
    Tests and replays of a past trace run on it."""

    def __init__(self, start: TimeLike) -> None:
        self.t = float(parse_time(start))
        self.slept = 0.0

    def now(self) -> float:
        """The simulated time."""
        return self.t

    def sleep(self, seconds: float) -> None:
        """Move time on without waiting."""
        self.t += seconds
        self.slept += seconds

    def advance(self, seconds: float) -> None:
        """Account for work that took `seconds` (of simulated time)."""
        self.t += seconds


class CarbonAwareLoop:
    """Make a training loop carbon-aware, between steps or epochs.

    ``gate()`` before each unit of work: when the grid is above `threshold`
    (gCO2e/kWh) it calls ``checkpoint()``, waits on the clock - polling each
    trace window - until the intensity is back at or under the threshold,
    calls ``resume()`` and returns; it never waits more than `max_pause_s`
    in all, so a deadline holds.  ``wait_for_window(duration_s, deadline)``
    instead delays the start of a whole run to the start the library's
    shifting policy picks.  ``record(joules, seconds)`` after each unit
    counts its carbon at the time it ran, and what it would have emitted
    had the run neither waited nor paused (the same work back to back from
    when the loop was made); ``report()`` gives both and the difference.
    """

    def __init__(self, trace: GridTrace, threshold: float, *,
                 clock: Optional[Any] = None,
                 checkpoint: Optional[Callable[[], None]] = None,
                 resume: Optional[Callable[[], None]] = None,
                 max_pause_s: float = 24 * 3600.0,
                 log: Callable[[str], None] = print) -> None:
        if not threshold >= 0:
            raise ValueError(f"threshold ({threshold}) must be >= 0 gCO2e/kWh")
        if not max_pause_s >= 0:
            raise ValueError(f"max_pause_s ({max_pause_s}) must be >= 0")
        self.trace = trace
        self.threshold = float(threshold)
        self.clock = clock or WallClock()
        self.checkpoint = checkpoint
        self.resume = resume
        self.max_pause_s = float(max_pause_s)
        self.log = log
        self.paused_s = 0.0
        self.pauses: list[tuple[float, float]] = []
        self.carbon_g = 0.0
        self.carbon_unpaused_g = 0.0
        self.busy_s = 0.0
        self.joules = 0.0
        self.ready = self.clock.now()  # the run could have started here
        self._unit_start: Optional[float] = None
        self.source = ""

    def intensity(self) -> float:
        """The grid intensity now."""
        return self.trace.at(self.clock.now())

    def wait_for_window(self, duration_s: float, deadline: TimeLike,
                        energy_j: float = 3.6e6, forecast: str = "auto"
                        ) -> dict[str, Any]:
        """Sleep until the start the shifting policy picks for a run of
        `duration_s` that must end by `deadline`; returns the plan."""
        plan = self.trace.shift(self.clock.now(), duration_s, deadline,
                                energy_j, forecast)
        wait = plan["start_s"] - self.clock.now()
        if wait > 0:
            now_g = plan["expected_now_g"]
            pct = (100 * plan["expected_saving_g"] / now_g
                   if now_g == now_g and now_g > 0 else math.nan)
            self.log(f"carbon-aware: waiting {wait / 3600:.1f} h for "
                     f"{format_time(plan['start_s'])} (expects {pct:.0f} % "
                     f"less carbon than now; {plan['note']})")
            self.clock.sleep(wait)
        return plan

    def gate(self) -> float:
        """Pause while the grid is above the threshold; seconds paused."""
        now = self.clock.now()
        try:
            g = self.trace.at(now)
        except QmxError as exc:
            self.log(f"carbon-aware: not gating, {exc.message}")
            return 0.0
        if g <= self.threshold or self.paused_s >= self.max_pause_s:
            return 0.0
        if self.checkpoint:
            self.checkpoint()
        start = now
        step = self.trace.step
        while g > self.threshold and self.paused_s < self.max_pause_s:
            # Sleep to the next window boundary (or the pause budget).
            t = self.clock.now()
            nxt = self.trace.start + ((int(t) - self.trace.start) // step + 1) * step
            wait = min(nxt - t, self.max_pause_s - self.paused_s)
            self.clock.sleep(wait)
            self.paused_s += wait
            try:
                g = self.trace.at(self.clock.now())
            except QmxError:
                break  # past the trace: stop waiting, run
        waited = self.clock.now() - start
        self.pauses.append((start, waited))
        self.log(f"carbon-aware: paused {waited / 3600:.1f} h at "
                 f"{format_time(start)} ({self.trace.at(start):.0f} > "
                 f"{self.threshold:.0f} gCO2e/kWh), resuming at "
                 f"{format_time(self.clock.now())} ({g:.0f} gCO2e/kWh)")
        if self.resume:
            self.resume()
        return waited

    def begin(self) -> None:
        """Mark the start of a unit of work (``record`` ends it)."""
        self._unit_start = self.clock.now()

    def record(self, joules: float, seconds: Optional[float] = None
               ) -> dict[str, Any]:
        """A unit of work that took `seconds` (default: clock since
        ``begin``) and `joules`: its carbon where it ran, and where it would
        have run without pauses."""
        if self._unit_start is None:
            self.begin()
        start = self._unit_start
        dur = (self.clock.now() - start) if seconds is None else seconds
        ran = self.trace.carbon(start, max(dur, 0.0), joules)
        unpaused = self.trace.carbon(self.ready + self.busy_s,
                                     max(dur, 0.0), joules)
        self.carbon_g += ran["carbon_g"]
        self.carbon_unpaused_g += unpaused["carbon_g"]
        self.busy_s += dur
        self.joules += joules
        self.source = ran["source"]
        self._unit_start = None
        return ran

    def report(self) -> dict[str, Any]:
        """Carbon of the run, of the same run unpaused, and the saving."""
        saved = self.carbon_unpaused_g - self.carbon_g
        return {"carbon_g": self.carbon_g,
                "carbon_unpaused_g": self.carbon_unpaused_g,
                "saved_g": saved,
                "saved_percent": (100 * saved / self.carbon_unpaused_g
                                  if self.carbon_unpaused_g > 0 else 0.0),
                "joules": self.joules, "busy_s": self.busy_s,
                "paused_s": self.paused_s, "pauses": len(self.pauses),
                "threshold_g_per_kwh": self.threshold,
                "kind": self.trace.info["kind_name"],
                "trace": self.trace.info["name"]}


def state_checkpoint(*objects: Any) -> tuple[Callable[[], None],
                                             Callable[[], None]]:
    """checkpoint/resume callbacks saving and restoring ``state_dict()`` of
    PyTorch modules and optimizers, in memory (``torch.save`` format)."""
    import torch  # only when used
    saved: list[bytes] = []

    def checkpoint() -> None:
        saved.clear()
        for o in objects:
            buf = io.BytesIO()
            torch.save(o.state_dict(), buf)
            saved.append(buf.getvalue())

    def resume() -> None:
        for o, raw in zip(objects, saved):
            o.load_state_dict(torch.load(io.BytesIO(raw)))

    return checkpoint, resume
