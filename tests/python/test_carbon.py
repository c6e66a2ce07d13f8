# SPDX-License-Identifier: MIT
"""qmx.carbon: grid traces, the shifting / placement / shaping policy from
Python, the training-loop helper on a simulated clock (nothing sleeps), and
the carbon-aware digits and demand-shaping examples."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

import qmx
import qmx.carbon as qc
import place_gemm  # python/examples, put on sys.path by conftest.py
import shape_digits
import train_digits

ROOT = Path(__file__).resolve().parents[2]
GRID = ROOT / "hw" / "energy" / "grid"
T0 = 1704067200  # 2024-01-01T00:00:00Z
H = 3600

# Hourly from 2024-01-01T00:00Z, forecast equal to the actual.
SIX = ("timestamp,g,forecast\n" + "".join(
    f"2024-01-01T{h:02d}:00Z,{v},{v}\n"
    for h, v in enumerate([100, 300, 300, 50, 50, 400])))


def test_times() -> None:
    assert qc.parse_time("2024-01-01T00:00:00Z") == T0
    assert qc.parse_time("2024-01-01T01:00:00+01:00") == T0
    assert qc.format_time(T0 + 90) == "2024-01-01T00:01:30Z"
    with pytest.raises(qmx.QmxError, match="no zone designator"):
        qc.parse_time("2024-01-01T00:00:00")


def test_gb_api_response() -> None:
    with qc.GridTrace(GRID / "gb-carbonintensity-api-pt24h-2023-03-16T0331Z.json") as t:
        assert t.info["n"] == 48 and t.step == 1800
        assert t.info["kind_name"] == "average"
        assert t.at("2023-03-15T03:45Z") == 184
        c = t.carbon("2023-03-15T03:30Z", 3600, 3.6e6)
        assert c["carbon_g"] == pytest.approx(191.5)
        assert "(average, actual)" in c["source"]
        start, actual, forecast = t.samples()[-1]
        assert math.isnan(actual) and forecast == 68


def test_bad_file_names_line_and_field() -> None:
    with pytest.raises(qmx.QmxError,
                       match=r"mine.csv:3: field 'g': 'x' is not a number"):
        qc.GridTrace.parse("timestamp,g\n2024-01-01T00:00Z,1\n"
                           "2024-01-01T01:00Z,x\n", "mine.csv")


def test_shift() -> None:
    t = qc.GridTrace.parse(SIX)
    # 2 h by 06:00: starts 0..4 average 200, 300, 175, 50, 225 g/kWh.
    p = t.shift(T0, 2 * H, T0 + 6 * H, energy_j=3.6e6)
    assert p["start_s"] == T0 + 3 * H
    assert p["expected_now_g"] == pytest.approx(200)
    assert p["expected_saving_g"] == pytest.approx(150)
    assert p["best_g"] == pytest.approx(50)
    assert p["forecast_name"] == "trace"
    with pytest.raises(qmx.QmxError, match="deadline_s .* cannot meet it"):
        t.shift(T0, 7 * H, T0 + 6 * H)
    with pytest.raises(ValueError, match="forecast 'psychic'"):
        t.shift(T0, H, T0 + 6 * H, forecast="psychic")


def test_place_and_shape() -> None:
    r = qc.place([qc.place_option("cpu", 36, 10, 1e6, 1e8, 0.5),
                  qc.place_option("accel", 3.6, 1, 2e5, 1e8)], 400)
    assert r["name"] == "accel"
    assert r["total_g"] == pytest.approx([0.054, 0.0024])
    s = qc.Shaper()
    s.add_tier("small", 36, 0.90)
    s.add_tier("large", 360, 0.97, max_g_per_kwh=200)
    assert s.choose(150)["name"] == "large"
    c = s.choose(250)
    assert c["name"] == "small" and c["within"]
    assert c["quality_cost"] == pytest.approx([0.07, 0.0])
    assert s.choose(100, budget_g=0.005)["name"] == "small"
    with pytest.raises(qmx.QmxError, match="already registered"):
        s.add_tier("small", 1, 1)


def test_place_option_from_a_real_job(device) -> None:
    import numpy as np
    a = np.ones((16, 16), np.int8)
    _, stats = qmx.gemm(device, a, a, stats=True)
    opt = qc.place_option_from_job(device, stats)
    assert opt["embodied_g"] > 0 and opt["lifetime_s"] > 0
    assert 0 < opt["share"] <= 1


def _loop(t: qc.GridTrace, **kw):
    calls = []
    clock = qc.SimClock(T0)
    loop = qc.CarbonAwareLoop(t, 150, clock=clock,
                              checkpoint=lambda: calls.append("checkpoint"),
                              resume=lambda: calls.append("resume"),
                              log=lambda s: None, **kw)
    return loop, clock, calls


def test_training_loop_pauses_on_a_simulated_clock() -> None:
    t = qc.GridTrace.parse(SIX)
    loop, clock, calls = _loop(t)
    for _ in range(3):  # three 1 h units of 1 kWh
        loop.gate()
        loop.begin()
        clock.advance(H)
        loop.record(3.6e6)
    # Ran 00-01 (100), paused 01-03 (300, 300), ran 03-05 (50, 50).
    rep = loop.report()
    assert calls == ["checkpoint", "resume"]
    assert clock.slept == 2 * H and rep["paused_s"] == 2 * H
    assert rep["carbon_g"] == pytest.approx(200)
    assert rep["carbon_unpaused_g"] == pytest.approx(700)
    assert rep["saved_g"] == pytest.approx(500)
    assert rep["pauses"] == 1 and rep["kind"] == "unknown"

    # A pause budget of 1 h: it gives up at 02:00 and runs at 300.
    loop, clock, calls = _loop(t, max_pause_s=H)
    for _ in range(3):
        loop.gate()
        loop.begin()
        clock.advance(H)
        loop.record(3.6e6)
    assert loop.report()["carbon_g"] == pytest.approx(100 + 300 + 50)
    assert loop.gate() == 0  # budget spent: never pauses again


def test_wait_for_window() -> None:
    t = qc.GridTrace.parse(SIX)
    loop, clock, _ = _loop(t)
    plan = loop.wait_for_window(2 * H, T0 + 6 * H)
    assert plan["start_s"] == T0 + 3 * H and clock.now() == T0 + 3 * H


def test_state_checkpoint_round_trip() -> None:
    model = torch.nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    save, restore = qc.state_checkpoint(model, opt)
    before = model.weight.detach().clone()
    save()
    with torch.no_grad():
        model.weight.add_(1.0)
    restore()
    assert torch.equal(model.weight, before)


def test_digits_carbon_aware(capsys) -> None:
    """The digits example, carbon-aware on the shipped GB trace with a
    simulated clock: it pauses over the evening peak and resumes from its
    checkpoint; the losses match an unpaused run exactly."""
    args = ["--mode", "qat", "--device", "cpu", "--epochs", "3",
            "--carbon-aware", str(GRID / "gb-2023-03-13.csv"),
            "--start", "2023-03-14T17:00:00Z", "--threshold", "190"]
    assert train_digits.main(args) == 0
    out = capsys.readouterr().out
    assert "paused 5.0 h at 2023-03-14T18:00:00Z (198 > 190 gCO2e/kWh)" in out
    assert "1 pause(s), 5.0 h paused (average intensity)" in out
    assert "from 2023-03-14T23:00:00Z" in out  # epoch 2 ran after the pause
    paused = train_digits.train(True, "cpu", epochs=3, seed=42)
    losses = [line.split("loss ")[1].split()[0]
              for line in out.splitlines() if " epoch " in line]
    assert losses == [f"{e.loss:.4f}" for e in paused.epochs]


def test_digits_waits_for_a_window(capsys) -> None:
    """--deadline-hours: the run starts where the shifting policy puts it
    (on the GB trace, after the evening's fall in intensity)."""
    args = ["--mode", "fp32", "--epochs", "3",
            "--carbon-aware", str(GRID / "gb-2023-03-13.csv"),
            "--start", "2023-03-15T12:00:00Z", "--threshold", "400",
            "--deadline-hours", "12"]
    plan = qc.GridTrace(GRID / "gb-2023-03-13.csv").shift(
        "2023-03-15T12:00:00Z", 3 * 3600, "2023-03-16T00:00:00Z")
    assert plan["delay_s"] >= 6 * 3600  # the case is worth waiting for
    assert train_digits.main(args) == 0
    out = capsys.readouterr().out
    start = qc.format_time(plan["start_s"])
    assert f"carbon-aware: waiting {plan['delay_s'] / 3600:.1f} h for {start}" in out
    assert f"from {start}" in out  # the first epoch ran there
    # The wait counts as saved: against the same epochs from 12:00.
    summary = out.split("carbon-aware: ")[-1]
    saved = float(summary.split("(")[1].split(" %")[0])
    assert saved > 20 and "0 pause(s)" in summary


def test_shape_digits(capsys) -> None:
    args = ["--trace", str(GRID / "us-caiso-2022-04-01.csv"), "--hours", "48",
            "--epochs", "4", "--min-seconds", "0.05"]
    assert shape_digits.main(args) == 0
    out = capsys.readouterr().out
    rows = {}
    for line in out.splitlines():
        for k in ("always large", "always small", "shaped ("):
            if line.strip().startswith(k):
                rows[k] = float(line.split("gCO2e")[0].split()[-1])
    assert set(rows) == {"always large", "always small", "shaped ("}, out
    # Each tier's energy per image is measured, so which tier is cheaper can
    # swing with load for models this small; the shaped total is a mix of the
    # two, hour by hour, and must lie between them either way.
    lo, hi = sorted((rows["always small"], rows["always large"]))
    assert lo <= rows["shaped ("] <= hi, out
    assert "test accuracy" in out and "per image" in out


def test_place_gemm(device, capsys) -> None:
    """Placement on real jobs: the CPU against each device under test."""
    args = ["--device", device.uri, "--size", "64", "--hours", "5",
            "--trace", str(GRID / "us-ercot-2022-04-01.csv")]
    assert place_gemm.main(args) == 0
    out = capsys.readouterr().out
    chosen = out.strip().splitlines()[-1]
    assert chosen.startswith("chosen: ")
    assert sum(int(p.split()[-2]) for p in chosen[8:].split(", ")) == 5
    assert "modelled" in out or "measured" in out
