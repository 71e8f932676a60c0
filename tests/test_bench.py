"""``make bench`` (``python -m quantrtl.bench``): a quick smoke run on Verilator.

The bench reports figures and never asserts wall-clock limits; this test checks the figures
that are properties of the design (one result per clock at every shift, latency equal to the
parameter) and that the measured rates exist and are positive.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from quantrtl.golden.requant import SHIFT_MAX, SHIFT_MIN
from quantrtl.tb.tests.bench_throughput import shift_figures
from quantrtl.tb.runner import simulator_status

ROOT = Path(__file__).resolve().parents[1]


def _listed(var, default):
    return [s.strip() for s in os.environ.get(var, default).split(",") if s.strip()]


def test_shift_figures_sees_bubbles_and_latency():
    """The per-shift arithmetic (no simulator): a bubble lowers the throughput of the shift
    it ends, and the latency is per beat."""
    shifts = np.repeat([-1, 0, 1], 4)
    accepted = np.arange(12)
    delivered = accepted + 2
    delivered[8:] += 1                      # one idle output cycle before shift 1's results
    figures = shift_figures(shifts, accepted, delivered)
    assert [f["shift"] for f in figures] == [-1, 0, 1]
    assert [f["throughput"] for f in figures] == [1.0, 0.8, 1.0]
    assert [(f["latency_min"], f["latency_max"]) for f in figures] == [(2, 2), (2, 2), (3, 3)]


@pytest.mark.sim
def test_bench_quick_on_verilator(tmp_path):
    if "verilator" not in _listed("QUANTRTL_SIMS", "verilator"):
        pytest.skip("verilator is not in QUANTRTL_SIMS")
    available, reason = simulator_status("verilator")
    if not available:
        if "verilator" in _listed("QUANTRTL_REQUIRE_SIMS", ""):
            pytest.fail(f"verilator is required (QUANTRTL_REQUIRE_SIMS) but unavailable: "
                        f"{reason}")
        pytest.skip(f"verilator unavailable: {reason}")

    proc = subprocess.run(
        [sys.executable, "-m", "quantrtl.bench", "--quick", "--sims", "verilator",
         "-o", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"bench failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    assert "Checked vectors per second" in proc.stdout   # the summary table was printed
    assert (tmp_path / "bench.csv").is_file()
    report = json.loads((tmp_path / "bench.json").read_text())
    assert report["quick"] is True

    # 1. checked vectors per second: both blocks, positive rates, every output checked.
    speed = {e["block"]: e for e in report["vectors_per_second"]}
    assert set(speed) == {"mac", "requant"}
    assert all(e["simulator"] == "verilator" for e in speed.values())
    for e in speed.values():
        assert e["outputs_checked"] > 0
        assert e["seconds"] > 0 and e["vectors_per_second"] > 0
    mac = speed["mac"]
    assert mac["dot_length"] == 16
    assert mac["dot_products_per_second"] > 0
    assert mac["macs_per_second"] == pytest.approx(16 * mac["dot_products_per_second"])

    # 2. the requantizer: every latency parameter, every shift, 1.0 result/clock, latency =
    # the parameter.
    sweep = report["requant_shift_sweep"]
    assert sorted(e["params"]["latency"] for e in sweep) == [1, 2, 3]
    for e in sweep:
        latency = e["params"]["latency"]
        assert e["latency_param"] == latency
        assert [s["shift"] for s in e["shifts"]] == list(range(SHIFT_MIN, SHIFT_MAX + 1))
        for s in e["shifts"]:
            assert s["throughput"] == 1.0, (latency, s)
            assert s["latency_min"] == s["latency_max"] == latency, (latency, s)
        assert e["one_per_clock_at_every_shift"] and e["latency_equals_param_at_every_shift"]

    # 3. the golden model: identical results, vectorised faster than the Python loop.
    golden = {e["rounding"]: e for e in report["golden_speed"]}
    assert set(golden) == {"single", "double"}
    for e in golden.values():
        assert e["identical"] is True
        assert e["speedup"] > 1
