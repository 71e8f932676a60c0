"""OpenSTA's ``report_power`` fed our activities (:mod:`synth.opensta_power`) against our
energy model (:mod:`synth.energy`).

Agreement, measured on the ungated view of every default design under ``build/synth``
(dqa, add8, add32, mul4, mul8, mac, mac(lanes=4), huffman, requant, dnaenc) and of the two
small designs here, OpenSTA / ours per cycle, leaving out what OpenSTA does not price (the
nets a primary input drives, the root clock's included: ``*_cells``):

* with the rise/fall tables averaged (``average_rise_fall``, which undoes 2.0.17's sum of
  the rise and fall tables per transition): switching 0.998-1.000 (the same ``1/2 C V^2``
  per toggle; OpenSTA's ``rise/fall_capacitance`` against our ``capacitance``), clock
  0.974-1.000 (the clock-tree and clock-pin tables at OpenSTA's slews, ours the worse of
  rise and fall), leakage 1.000, internal 1.03-1.31 (2.0.17 weighs a multi-input cell's
  related pins by inferred sensitising probabilities that need not sum to 1, and by 0.5
  where it cannot infer one: AOI21/OAI21 up to 1.6x ours), total 0.994-1.045.  Hence
  :data:`AGREEMENT`: 1 % on switching, 4 % on the clock, 6 % on the total, [0.95, 1.4] on
  the data internal energy;
* as 2.0.17 prices (each output or clock-pin transition at ``E_rise + E_fall``, twice our
  mean): internal 1.7-2.6, clock 1.56-2.0, total 1.43-1.84 (:data:`AS_INSTALLED`).

The gated (``icg``) views are not compared: OpenSTA prices every clock net, gated ones
included, at 2 transitions per period.
"""

import re

import pytest

from quantrtl.synth import opensta
from quantrtl.synth import opensta_power as power
from quantrtl.synth.flow import Design, measure_energy, synthesize
from quantrtl.synth.liberty import load_library
from quantrtl.synth.opensta_power import (activities_from_toggles, compare_energy,
                                          mean_rise_fall_liberty, net_names, opensta_power,
                                          simulate_activity)

# OpenSTA / ours, averaged rise/fall, ungated (see the module docstring)
AGREEMENT = {"switching_cells": (0.99, 1.01), "clock_cells": (0.96, 1.01),
             "leakage": (0.9999, 1.0001), "internal": (0.95, 1.4),
             "total_cells": (0.94, 1.06)}
AS_INSTALLED = {"internal": (1.6, 2.8), "clock_cells": (1.5, 2.05), "total_cells": (1.3, 2.0)}
DESIGNS = {"add8": Design.helper("add", 8),
           "mac1": Design.block("mac", {"lanes": 1, "width": 4, "acc_width": 12})}


def _require_opensta():
    available, reason = opensta.opensta_status()
    if not available:
        pytest.skip(f"OpenSTA unavailable: {reason}")


@pytest.fixture(scope="module")
def runs(tech, tmp_path_factory):
    """Each small design synthesized, its activity simulated (ungated view): our native
    gate simulator, no Icarus needed."""
    root = tmp_path_factory.mktemp("opensta_power")
    out = {}
    for name, design in DESIGNS.items():
        synth = synthesize(design, root=root)
        out[name] = (design, synth, simulate_activity(design, synth))
    return out


def _power(tech, design, act, work, **kwargs):
    _require_opensta()
    kwargs.setdefault("activities", act.activities())
    kwargs.setdefault("period_ns", act.period_ns)
    result = opensta_power(act.netlist_v, design.top, tech[0], work, **kwargs)
    assert "error" not in result and "skipped" not in result, result
    return result


def _within(label, ratios, bounds):
    for key, (lo, hi) in bounds.items():
        assert lo <= ratios[key] <= hi, f"{label}: OpenSTA/ours {key} = {ratios[key]:.4f}, " \
                                        f"outside [{lo}, {hi}]"


@pytest.mark.parametrize("name", list(DESIGNS))
def test_agrees_with_ours(tech, runs, tmp_path, name):
    design, _, act = runs[name]
    mean = _power(tech, design, act, tmp_path / "mean", average_rise_fall=True)
    assert mean["version"].startswith("OpenSTA 2.")
    # Every data pin priced with our activity, every net named.
    assert set(mean["origins"]) == {"user", "clock"}, mean["origins"]
    assert mean["missing"]["count"] == 0 and mean["unnamed"]["count"] == 0, mean
    for key in ("switching", "internal", "clock", "leakage", "total"):
        assert mean["pj_per_cycle"][key] > 0, (key, mean["pj_per_cycle"])
    assert sum(mean["pj_per_cycle"][k] for k in ("switching", "internal", "clock",
                                                  "leakage")) == pytest.approx(
        mean["pj_per_cycle"]["total"], rel=1e-6)
    assert mean["total_pj_per_cycle"] == pytest.approx(
        mean["total_w"] * act.period_ns * 1e3, rel=1e-12)
    ratio = compare_energy(act.energy, mean, unpriced_pj=act.unpriced_pj)["ratio"]
    _within(f"{name} (mean)", ratio, AGREEMENT)
    raw = _power(tech, design, act, tmp_path / "raw")
    ratio = compare_energy(act.energy, raw, unpriced_pj=act.unpriced_pj)["ratio"]
    _within(f"{name} (as installed)", ratio, AS_INSTALLED)
    # The liberty copy changes internal energy only.
    for key in ("switching", "leakage"):
        assert raw["pj_per_cycle"][key] == pytest.approx(mean["pj_per_cycle"][key], rel=1e-6)


def test_zero_activity_is_clock_and_leakage(tech, runs, tmp_path):
    design, _, act = runs["mac1"]
    active = _power(tech, design, act, tmp_path / "active")
    zero = {name: (0.0, duty) for name, (_, duty) in act.activities().items()}
    idle = _power(tech, design, act, tmp_path / "idle", activities=zero)
    e = idle["pj_per_cycle"]
    assert abs(e["switching"]) < 1e-9 and abs(e["internal"]) < 1e-9, e
    assert e["clock"] > 0 and e["leakage"] > 0
    assert e["total"] == pytest.approx(e["clock"] + e["leakage"], rel=1e-6)
    assert e["clock"] == pytest.approx(active["pj_per_cycle"]["clock"], rel=1e-6)
    assert idle["idle_w"] == pytest.approx(active["idle_w"], rel=1e-6)


def test_activity_is_per_clock_period(tech, runs, tmp_path):
    """The same transitions per period at twice the period: half the dynamic power, the
    same dynamic energy per cycle, twice the leakage energy per cycle; duty does not enter
    switching."""
    design, _, act = runs["add8"]
    base = _power(tech, design, act, tmp_path / "p10")
    slow = _power(tech, design, act, tmp_path / "p20", period_ns=2 * act.period_ns)
    for key in ("switching", "internal", "clock"):
        assert slow["pj_per_cycle"][key] == pytest.approx(base["pj_per_cycle"][key], rel=1e-6)
    assert slow["switching_w"] == pytest.approx(base["switching_w"] / 2, rel=1e-6)
    assert slow["pj_per_cycle"]["leakage"] == pytest.approx(
        2 * base["pj_per_cycle"]["leakage"], rel=1e-6)
    half = {name: (a, 0.5) for name, (a, _) in act.activities().items()}
    even = _power(tech, design, act, tmp_path / "duty", activities=half)
    assert even["switching_w"] == pytest.approx(base["switching_w"], rel=1e-6)


def test_activity_is_measure_energys(runs):
    """:func:`simulate_activity` reruns :func:`measure_energy`'s simulation: same energy."""
    design, synth, act = runs["add8"]
    ours = measure_energy(design, synth)
    for key in ("cycles", "total_pj", "switching_pj", "internal_comb_pj", "clock_pj",
                "leakage_pj", "toggles"):
        assert act.energy[key] == ours[key], key
    assert act.cycles == ours["cycles"] and sum(act.per_bit.values()) > 0
    assert all(0 <= h <= act.cycles for h in act.high.values())


def test_failure_is_an_error(tech, runs, tmp_path):
    _require_opensta()
    design, _, act = runs["add8"]
    result = opensta_power(act.netlist_v, "no_such_top", tech[0], tmp_path,
                           period_ns=act.period_ns, activities=act.activities())
    assert set(result) == {"error"} and "OpenSTA power failed" in result["error"], result
    assert compare_energy(act.energy, result) == result


def test_missing_opensta_is_skipped_with_its_reason(tmp_path, monkeypatch):
    reason = "OpenSTA is not installed (test)"
    monkeypatch.setattr(power, "opensta_status", lambda: (False, reason))
    result = opensta_power(tmp_path / "netlist.v", "top", tmp_path / "x.lib",
                           tmp_path, period_ns=10, activities={})
    assert result == {"skipped": reason}
    assert compare_energy({"cycles": 1}, result) == result
    assert not list(tmp_path.iterdir())


def test_net_names_follow_write_verilog():
    doc = {"modules": {"top": {"attributes": {"top": 1}, "netnames": {
        "a": {"bits": [2, 3, 4]},
        "up": {"bits": [5, 6], "offset": 3, "upto": 1},
        "off": {"bits": [7], "offset": 2},
        "\\$12": {"bits": [8]},
        "cts_0.Y": {"bits": [9]},
        "k": {"bits": ["0", 10]},
        "alias": {"bits": [2]}}}}}
    names = net_names(doc)
    assert names == {2: ["a[0]", "alias"], 3: ["a[1]"], 4: ["a[2]"], 5: ["up[4]"],
                     6: ["up[3]"], 7: ["off[2]"], 8: ["$12"], 9: ["cts_0.Y"], 10: ["k[1]"]}
    acts = activities_from_toggles(names, {2: 10, 9: 40}, 20, {2: 5, 9: 10})
    assert acts["a[0]"] == acts["alias"] == (0.5, 0.25)
    assert acts["cts_0.Y"] == (2.0, 0.5) and acts["k[1]"] == (0.0, 0.0)
    assert activities_from_toggles(names, {}, 4)["a[1]"] == (0.0, 0.5)
    with pytest.raises(ValueError, match="cycles=0"):
        activities_from_toggles(names, {}, 0)


def test_mean_liberty_halves_output_and_clock_tables(tech, tmp_path):
    before = load_library(tech[0])
    after = load_library(mean_rise_fall_liberty(tech[0], tmp_path / "mean.lib"))

    def tables(lib, cell, pin):
        return [t.lookup(0.01, 0.1) for _, group in lib.cell(cell).pins[pin].power
                for t in group.values()]

    for cell, pin, factor in (("DFFPOSX1", "CLK", 0.5), ("DFFPOSX1", "Q", 0.5),
                              ("DFFPOSX1", "D", 1.0), ("NAND2X1", "Y", 0.5),
                              ("LATCH", "CLK", 0.5)):
        old, new = tables(before, cell, pin), tables(after, cell, pin)
        assert old and new == pytest.approx([factor * v for v in old], rel=1e-6), (cell, pin)
    for cell in ("DFFPOSX1", "NAND2X1", "FAX1"):
        a, b = before.cell(cell), after.cell(cell)
        assert (a.leakage, a.area) == (b.leakage, b.area)
        assert {p: q.capacitance for p, q in a.pins.items()} == \
            {p: q.capacitance for p, q in b.pins.items()}


def test_activities_file_refuses_bad_values(tmp_path):
    path = tmp_path / "a.txt"
    power.write_activities(path, {"n[0]": (0.25, 1.0), "x": (2, 0.5)})
    assert path.read_text() == "n[0] 0.25 1\nx 2 0.5\n"
    with pytest.raises(ValueError, match=re.escape("'a b' has white space")):
        power.write_activities(path, {"a b": (0.1, 0.5)})
    for bad in ((-1.0, 0.5), (0.1, 1.5), (float("nan"), 0.5)):
        with pytest.raises(ValueError, match="is out of range"):
            power.write_activities(path, {"a": bad})
