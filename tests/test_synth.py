"""The synthesis flow (``synth/``): reports parse, areas order sensibly, gate-level netlists
pass the blocks' own testbenches, energy figures are reproducible.

Small designs only (helpers and small parameter sets); each test synthesizes into its own
temporary work directory, so nothing is taken from a cache.
"""

import csv
import json

import pytest

from synth.flow import Design, measure_energy, synthesize
from synth.liberty import load_library
from synth.tech import TechError, osu018
from tb.runner import simulator_status


@pytest.fixture(scope="module")
def tech():
    try:
        return osu018()
    except TechError as exc:
        pytest.skip(f"osu018 library unavailable: {exc}")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("synth")


@pytest.fixture(scope="module")
def synthesized(tech, root):
    """Synthesis of the designs several tests compare (each synthesized once)."""
    designs = {"mul8": Design.helper("mul", 8), "add8": Design.helper("add", 8),
               "mac1": Design.block("mac", {"lanes": 1, "width": 4, "acc_width": 12}),
               "mac2": Design.block("mac", {"lanes": 2, "width": 4, "acc_width": 12})}
    return {k: (d, synthesize(d, root=root)) for k, d in designs.items()}


def _require_icarus():
    available, reason = simulator_status("icarus")
    if not available:
        pytest.skip(f"icarus unavailable: {reason}")


def test_liberty_reader(tech):
    lib = load_library(tech[0])
    nand = lib.cell("NAND2X1")
    assert lib.voltage == pytest.approx(1.8)
    assert nand.area == 24 and not nand.sequential
    assert nand.pins["A"].capacitance == pytest.approx(0.0125)
    arc = nand.pins["Y"].arcs[0]
    # Interpolation hits the table's own points exactly and grows with the load.
    assert arc.tables["cell_rise"].lookup(0.005, 0.06) == pytest.approx(0.053827)
    assert arc.tables["cell_rise"].lookup(0.15, 0.06) > arc.tables["cell_rise"].lookup(0.005, 0.06)
    assert lib.cell("DFFPOSX1").sequential
    with pytest.raises(KeyError, match="NOPE"):
        lib.cell("NOPE")


def test_reports_are_complete(synthesized):
    for name, (design, s) in synthesized.items():
        assert s["generic"]["transistors"] > 0, name
        assert s["osu018"]["area_um2"] > 0 and 0 < s["osu018"]["sequential_share"] < 1, name
        # The flip-flop count is exact: legalised generic FFs = mapped DFFs = iCE40 FFs
        # (iCE40 may add none or one for the reset synchroniser-free flow; not fewer).
        assert s["generic"]["flip_flops"] == s["osu018"]["flip_flops"], name
        assert s["ice40"]["lut4"] > 0, name
        t = s["timing"]
        assert 0 < t["critical_path_ns"] < 100 and t["fmax_mhz"] == pytest.approx(
            1000 / t["critical_path_ns"], rel=1e-3), name
        assert t["path"] and t["logic_depth"] >= 1, name
        # Our area sum over the netlist agrees with Yosys's stat -liberty.
        assert "area_check" not in s["osu018"], name


def test_areas_are_ordered(synthesized):
    mul, add = synthesized["mul8"][1], synthesized["add8"][1]
    assert mul["osu018"]["area_um2"] > 2 * add["osu018"]["area_um2"]
    assert mul["generic"]["transistors"] > add["generic"]["transistors"]
    assert mul["ice40"]["lut4"] > add["ice40"]["lut4"]
    assert mul["timing"]["critical_path_ns"] > add["timing"]["critical_path_ns"]
    one, two = synthesized["mac1"][1], synthesized["mac2"][1]
    assert two["osu018"]["area_um2"] > 1.3 * one["osu018"]["area_um2"]
    assert two["generic"]["transistors"] > one["generic"]["transistors"]


def test_cli_writes_parseable_reports(tech, root, tmp_path):
    from synth.__main__ import main
    out = tmp_path / "reports"
    assert main(["--block", "mac", "--param", "width=4", "--param", "acc_width=12",
                 "--no-energy", "--root", str(root), "-o", str(out), "-j", "1"]) == 0
    doc = json.loads((out / "synth.json").read_text())
    (row,) = doc["designs"]
    assert row["design"] == "mac(acc_width=12,width=4)" and row["area_um2"] > 0
    with open(out / "synth.csv") as f:
        rows = list(csv.DictReader(f))
    assert float(rows[0]["area_um2"]) == row["area_um2"]
    assert "| mac(acc_width=12,width=4) |" in (out / "synth.md").read_text()
    assert main(["--block", "mac", "--param", "lanes=0", "-o", str(out)]) == 2


def test_energy_is_reproducible_and_ordered(synthesized):
    _require_icarus()
    add_d, add_s = synthesized["add8"]
    mul_d, mul_s = synthesized["mul8"]
    first = measure_energy(add_d, add_s, fresh=True)
    again = measure_energy(add_d, add_s, fresh=True)
    assert not again["cached"]
    for key in ("total_pj", "switching_pj", "internal_comb_pj", "clock_pj", "toggles"):
        assert first[key] == again[key], key
    assert first["total_pj"] > 0 and first["cycles"] == first["workload"]["ops"]
    mul = measure_energy(mul_d, mul_s, fresh=True)
    assert mul["pj_per_op_datapath"] > 2 * first["pj_per_op_datapath"]
    # Random operands toggle about half of the input bits every cycle.
    assert 0.05 < first["toggle_rate"] < 0.9


@pytest.mark.sim
@pytest.mark.parametrize("block, params, test_module, testcase, env", [
    ("mac", {"lanes": 2}, "tb.test_mac", "random_dot_products,input_offset_extremes",
     {"QUANTRTL_COUNT": 40}),
    ("requant", {}, "tb.test_requant", "random_backpressure", {"QUANTRTL_COUNT": 150}),
    ("dnateq", {"n": 3, "lanes": 2, "max_length": 64, "pp_lanes": 4}, "tb.test_dnateq",
     "random_codes,zeros", {"QUANTRTL_COUNT": 8}),
], ids=["mac", "requant", "dnateq"])
def test_gate_level_netlist_passes_testbench(tech, root, block, params, test_module,
                                             testcase, env):
    """The synthesized osu018 netlist, simulated with the cell models, passes the same
    cocotb tests as the RTL (a synthesis/simulation mismatch would fail here)."""
    _require_icarus()
    from quantrtl.blocks import BLOCKS
    if block not in BLOCKS:
        pytest.skip(f"block {block!r} is not registered")
    from tb.gate_level import simulate_netlist
    design = Design.block(block, params)
    s = synthesize(design, root=root)
    work = root / "gl-tests" / block
    for case in testcase.split(","):
        simulate_netlist(f"{s['work']}/netlist.v", tech[1], design.top, test_module,
                         block=block, params=design.param_dict, build_dir=work / case,
                         testcase=case, seed=1234, extra_env=env)


def test_mac_energy_runs_on_the_synthetic_layer(synthesized):
    """The block workload is checked against the golden model while it is measured."""
    _require_icarus()
    d, s = synthesized["mac1"]
    e = measure_energy(d, s, n=32, fresh=True)
    assert e["workload"]["ops"] == e["workload"]["dot_products"] * 32
    assert e["cycles_per_dot_product"] == pytest.approx(32, abs=1)
    assert e["pj_per_op"] > e["pj_per_op_datapath"] > 0
