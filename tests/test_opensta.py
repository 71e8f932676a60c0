"""OpenSTA as the timing engine of record (:mod:`synth.opensta`): it runs on the flow's
netlists, its fmax search finds the shortest period, and it agrees with our STA.

Agreement (``ours / OpenSTA`` fmax, measured on every default design and both views, and
on the small designs here): our STA takes the worse of rise and fall at every arc, so it is
lower: 0.830-0.936 on the ungated netlists, whose clock tree is balanced.  It also adds the
clock tree's and the gating cells' delays as clock latency, where OpenSTA's clock is ideal
(:mod:`synth.opensta`): launching from a gated clock, which arrives late, costs ours more
(mac(width=4,acc_width=12) gated: 0.812); capturing at a gating latch, which its inverted
clock closes an inverter delay later, gains ours that delay (dqa gated, a 0.6 ns path:
1.104).  Hence :data:`AGREEMENT`: ours at most 2 % above OpenSTA's ungated (15 % gated),
and at most 25 % below it.

The agreement over the default designs (:func:`test_agrees_with_ours_on_default_designs`)
reuses their netlists under ``build/synth`` (``make synth``), since synthesizing them all
takes ~6 minutes of Yosys (DNA-TEQ n=5 alone 4); a design not synthesized there is skipped with
that reason.  Both engines time the same netlist, whichever version of the design it is.
The small designs of :func:`test_small_designs` are synthesized here and checked against
the same bounds, so the agreement is tested on a clean machine too.
"""

import re
from pathlib import Path

import pytest

from quantrtl.synth import opensta
from quantrtl.synth import flow
from quantrtl.synth.config import default_designs
from quantrtl.synth.flow import Design, synthesize
from quantrtl.synth.liberty import load_library
from quantrtl.synth.netlist import load_netlist
from quantrtl.synth.sta import analyze

# ours / OpenSTA fmax, per gating view (see the module docstring)
AGREEMENT = {"none": (0.75, 1.02), "icg": (0.75, 1.15)}
VIEWS = {"none": ("netlist.json", "netlist.v", "timing", "timing_opensta"),
         "icg": ("netlist-icg.json", "netlist-icg.v", "timing_icg", "timing_icg_opensta")}
SYNTH_ROOT = Path(__file__).resolve().parents[1] / "build" / "synth"


def _require_opensta():
    available, reason = opensta.opensta_status()
    if not available:
        pytest.skip(f"OpenSTA unavailable: {reason}")


@pytest.fixture(scope="module")
def synthesized(tech, tmp_path_factory):
    _require_opensta()
    root = tmp_path_factory.mktemp("opensta")
    designs = {"mul8": Design.helper("mul", 8),
               "mac1": Design.block("mac", {"lanes": 1, "width": 4, "acc_width": 12})}
    return {k: (d, synthesize(d, root=root)) for k, d in designs.items()}


def _check_agreement(label, gating, ours_mhz, opensta_mhz):
    lo, hi = AGREEMENT[gating]
    ratio = ours_mhz / opensta_mhz
    assert lo <= ratio <= hi, (f"{label} ({gating}): ours {ours_mhz:.1f} MHz / OpenSTA "
                               f"{opensta_mhz:.1f} MHz = {ratio:.3f}, outside [{lo}, {hi}]")


def test_small_designs(synthesized):
    for name, (design, s) in synthesized.items():
        assert s["seconds"]["opensta"] >= 0, name
        for gating, (_, verilog, ours_key, key) in VIEWS.items():
            t = s[key]
            assert set(t) == {"worst_slack_ns", "critical_path_ns", "fmax_mhz_opensta",
                              "data_arrival_ns", "startpoint", "endpoint", "version"}, t
            assert t["version"].startswith("OpenSTA 2."), t
            assert 0 < t["critical_path_ns"] < opensta.TARGET_PERIOD_NS, (name, gating, t)
            assert t["fmax_mhz_opensta"] == pytest.approx(1e3 / t["critical_path_ns"],
                                                          rel=1e-3)
            assert 0 < t["data_arrival_ns"] <= t["critical_path_ns"], (name, gating, t)
            # A start point is a register (instance and cell) or an input; an end point a
            # register's or latch's data pin, a gating check or an output.
            assert re.fullmatch(r"\S+ \([A-Z0-9]+\)|input \S+", t["startpoint"]), t
            assert re.fullmatch(r"\S+/\w+ \([A-Z0-9]+\)|output \S+", t["endpoint"]), t
            work = Path(s["work"])
            assert (work / f"{Path(verilog).stem}-timing.rpt").read_text().count(
                "slack (MET)") >= 1
            _check_agreement(name, gating, s[ours_key]["fmax_mhz"], t["fmax_mhz_opensta"])
        # Flip-flops only (no latches): every slack is the period less a constant.
        t = s["timing_opensta"]
        assert t["worst_slack_ns"] == pytest.approx(
            opensta.TARGET_PERIOD_NS - t["critical_path_ns"], abs=2e-3), t


@pytest.mark.parametrize("gating", list(VIEWS))
def test_period_search_is_tight(tech, synthesized, tmp_path, gating):
    """At the period found every check is met; 10 ps less violates one (the clock-gated
    view: its gating latches' checks included)."""
    design, s = synthesized["mac1"]
    _, verilog, _, key = VIEWS[gating]
    period = s[key]["critical_path_ns"]
    netlist = Path(s["work"]) / verilog
    met = opensta.run_opensta(netlist, design.top, tech[0], tmp_path, target_ns=period)
    assert met.worst_slack_ns >= -2 * opensta.PERIOD_TOLERANCE_NS
    assert met.critical_path_ns == pytest.approx(period, abs=2 * opensta.PERIOD_TOLERANCE_NS)
    short = opensta.run_opensta(netlist, design.top, tech[0], tmp_path,
                                target_ns=period - 0.01)
    assert short.worst_slack_ns < 0


def _synthesized_netlists(design) -> Path | None:
    """The newest work directory of ``design`` under ``build/synth`` with both views'
    netlists, or ``None``."""
    label = design.label.replace("(", "-").replace(")", "").replace(",", "-").replace("=", "")
    name = re.compile(re.escape(label) + r"-[0-9a-f]{8}")
    files = [f for v in VIEWS.values() for f in v[:2]]
    dirs = [d for d in SYNTH_ROOT.glob("*") if name.fullmatch(d.name)
            and all((d / f).exists() for f in files)]
    return max(dirs, key=lambda d: (d / "netlist-icg.v").stat().st_mtime, default=None)


@pytest.mark.parametrize("design", default_designs(), ids=lambda d: d.label)
def test_agrees_with_ours_on_default_designs(tech, tmp_path, design):
    _require_opensta()
    work = _synthesized_netlists(design)
    if work is None:
        pytest.skip(f"{design.label} is not synthesized under {SYNTH_ROOT} (make synth)")
    library = load_library(tech[0])
    for gating, (json_name, verilog, _, _) in VIEWS.items():
        ours = analyze(load_netlist(work / json_name, library, design.top))
        theirs = opensta.run_opensta(work / verilog, design.top, tech[0], tmp_path)
        _check_agreement(design.label, gating, ours.fmax_mhz, theirs.fmax_mhz)


def test_missing_opensta_is_skipped_with_its_reason(tech, tmp_path, monkeypatch):
    reason = "OpenSTA is not installed (test)"
    for module in (opensta, flow):
        monkeypatch.setattr(module, "opensta_status", lambda: (False, reason))
    with pytest.raises(pytest.skip.Exception, match=re.escape(reason)):
        _require_opensta()
    s = synthesize(Design.helper("add", 8), root=tmp_path)
    assert s["timing_opensta"] == s["timing_icg_opensta"] == {"skipped": reason}
    assert s["timing"]["fmax_mhz"] > 0 and "opensta" in s["seconds"]
    assert not list(Path(s["work"]).glob("*-opensta.tcl"))
