"""The synthesis flow (``synth/``): reports parse, areas order sensibly, gate-level netlists
pass the blocks' own testbenches, energy figures are reproducible.

Small designs only (helpers and small parameter sets); each test synthesizes into its own
temporary work directory, so nothing is taken from a cache.
"""

import csv
import json
import subprocess

import pytest

from quantrtl.blocks import BLOCKS
from quantrtl.synth.flow import Design, measure_energy, synthesize
from quantrtl.synth.liberty import load_library
from quantrtl.tb.gate_level import icarus_activity
from quantrtl.tb.runner import simulator_status

# One xdist worker takes the whole module (make test runs --dist loadgroup), so that its
# module fixtures synthesize once rather than once per worker.
pytestmark = pytest.mark.xdist_group("synth")


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
    from quantrtl.synth.__main__ import main
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
@pytest.mark.parametrize("block", list(BLOCKS))
def test_gate_level_netlist_passes_testbench(tech, root, block):
    """Both synthesized osu018 netlists, without and with clock gating, simulated with the
    library's cell models, pass the same cocotb tests as the RTL (a synthesis/simulation
    mismatch, or a gated register that misses or takes an extra clock, would fail here):
    each block's registered ``netlist_test`` (parameters, test cases, knobs)."""
    _require_icarus()
    params, testcase, env = BLOCKS[block].netlist_test
    test_module = BLOCKS[block].test_module
    from quantrtl.synth.tech import simulation_models
    from quantrtl.tb.gate_level import simulate_netlist
    design = Design.block(block, params)
    s = synthesize(design, root=root, ice40="never")    # the osu018 netlists alone
    assert s["osu018_icg"]["icg_cells"] > 0
    cells = simulation_models(tech[1])
    for view in ("netlist", "netlist-icg"):      # one build per view runs every case
        simulate_netlist(f"{s['work']}/{view}.v", cells, design.top, test_module,
                         block=block, params=design.param_dict,
                         build_dir=root / "gl-tests" / block / view, testcase=testcase,
                         seed=1234, extra_env=env)


def test_latch_model_is_transparent_from_time_zero(tech, tmp_path):
    """A latch of the simulation models whose clock and data settle high at time zero
    (through gates, from registers that start at 0) passes its data at once, as the cell
    does: the clock-gating cells nested in an idle gated domain start that way, and a latch
    that waited for a change kept its enable low through the domain's first clock pulse."""
    _require_icarus()
    from quantrtl.synth.tech import simulation_models
    top = tmp_path / "top.v"
    top.write_text("""module top;
  reg a = 1'b0, b = 1'b0;          // registers at 0, as the models' flip-flops start
  wire clk_n, d, q;
  INVX1 inv_c (.A(a), .Y(clk_n));  // the latch transparent from time zero
  INVX1 inv_d (.A(b), .Y(d));      // its data high from time zero
  LATCH latch (.CLK(clk_n), .D(d), .Q(q));
  initial #1 $display("q=%b", q);
endmodule
""")
    exe = tmp_path / "top.vvp"
    subprocess.run(["iverilog", "-g2012", "-o", str(exe), "-s", "top", str(top),
                    str(simulation_models(tech[1]))], check=True, capture_output=True)
    out = subprocess.run(["vvp", "-n", str(exe)], check=True, capture_output=True,
                         text=True).stdout
    assert "q=1" in out, out


@pytest.mark.parametrize("block, params, op", [
    ("dqa", {"n": 3, "m": 2}, "element"),
    ("huffman", {"symbol_bits": 2, "max_length": 3, "word_width": 16}, "symbol"),
], ids=["dqa", "huffman"])
def test_stream_block_energy_workloads(tech, root, block, params, op):
    """DQA and Huffman energy runs (real DQA activations / shifting errors) are checked
    against the golden model while measured; the Huffman table load is kept out."""
    _require_icarus()
    d = Design.block(block, params)
    e = measure_energy(d, synthesize(d, root=root), fresh=True)
    assert e["workload"]["op"] == op and e["workload"]["ops"] > 500
    assert e["pj_per_op"] > e["pj_per_op_datapath"] > 0
    # One element (or up to one symbol) per clock at full throughput, the set-up excluded.
    assert 0.9 < e["cycles_per_op"] < 1.5


def test_mac_energy_runs_on_the_synthetic_layer(synthesized):
    """The block workload is checked against the golden model while it is measured."""
    _require_icarus()
    d, s = synthesized["mac1"]
    e = measure_energy(d, s, n=32, fresh=True)
    assert e["workload"]["ops"] == e["workload"]["dot_products"] * 32
    assert e["cycles_per_dot_product"] == pytest.approx(32, abs=1)
    assert e["pj_per_op"] > e["pj_per_op_datapath"] > 0


def test_liberty_functions_become_truth_tables(tech):
    from quantrtl.synth.gatesim import GateSimError, truth_table
    lib = load_library(tech[0])
    tt = lambda cell, pin="Y": truth_table(lib.cell(cell).pins[pin].function,  # noqa: E731
                                           sorted(p.name for p in lib.cell(cell).inputs)).tolist()
    assert tt("NAND2X1") == [1, 1, 1, 0]
    assert tt("NOR2X1") == [1, 0, 0, 0]
    assert tt("AOI21X1") == [1, 1, 1, 0, 0, 0, 0, 0]          # !((A B) + C), A = bit 0
    assert tt("MUX2X1") == [1, 1, 0, 0, 1, 0, 1, 0]           # !(S ? A : B), pins A, B, S
    assert tt("FAX1", "YS") == [0, 1, 1, 0, 1, 0, 0, 1]
    assert tt("FAX1", "YC") == [0, 0, 0, 1, 0, 1, 1, 1]
    assert truth_table("A'^B", ["A", "B"]).tolist() == [1, 0, 0, 1]
    assert truth_table("A B + !A 1", ["A", "B"]).tolist() == [1, 0, 1, 1]
    for bad in ("(A B", "A +", "A C"):
        with pytest.raises(GateSimError):
            truth_table(bad, ["A", "B"])


def test_native_simulator_matches_icarus(synthesized):
    """The native gate-level simulator and Icarus with the library's cell models count the
    same toggles: exactly for a random-input helper, and to 0.5 % for a stream block whose
    window edges the two testbenches place a clock apart at most."""
    _require_icarus()
    for name in ("mul8", "add8"):
        d, s = synthesized[name]
        native = measure_energy(d, s, fresh=True, simulator="native")
        icarus = measure_energy(d, s, fresh=True, simulator=icarus_activity)
        for key in ("toggles", "cycles", "total_pj", "switching_pj", "internal_comb_pj",
                    "internal_seq_pj", "clock_pj"):
            assert native[key] == icarus[key], (name, key)
    d, s = synthesized["mac1"]
    native = measure_energy(d, s, n=32, fresh=True, simulator="native")
    icarus = measure_energy(d, s, n=32, fresh=True, simulator=icarus_activity)
    assert abs(native["cycles"] - icarus["cycles"]) <= 1
    assert native["pj_per_op"] == pytest.approx(icarus["pj_per_op"], rel=5e-3)
    with pytest.raises(ValueError, match="simulator='verilator' is out of range"):
        measure_energy(d, s, simulator="verilator")


def test_native_simulator_catches_a_broken_netlist(tech, synthesized, tmp_path):
    """A netlist that computes the wrong thing fails the energy run (outputs are checked
    against the golden model), it is not silently measured."""
    import shutil

    from quantrtl.synth.gatesim import GateSimError
    d, s = synthesized["mac1"]
    work = tmp_path / "broken"
    shutil.copytree(s["work"], work)
    data = json.loads((work / "netlist.json").read_text())
    cells = next(iter(data["modules"].values()))["cells"]
    swap = {"XOR2X1": "XNOR2X1", "XNOR2X1": "XOR2X1", "NAND2X1": "AND2X2"}
    victim = next(c for t in swap for c in cells.values() if c["type"] == t)
    victim["type"] = swap[victim["type"]]
    (work / "netlist.json").write_text(json.dumps(data))
    with pytest.raises(GateSimError, match="disagrees with the golden model|stalled"):
        measure_energy(d, {**s, "work": str(work)}, n=32, fresh=True)


def test_cli_runs_a_config_end_to_end(tech, tmp_path):
    """``python -m quantrtl.synth --config`` on small designs: every design synthesized both
    ways and measured under the three gating models, the sanity rows, tables and plots written;
    bad options exit 2."""
    _require_icarus()
    from quantrtl.synth.__main__ import main
    out, cfg = tmp_path / "reports", tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"designs": [
        {"block": "mac", "params": {"width": 4, "acc_width": 12}},
        {"block": "dqa", "params": {"n": 3, "m": 2}},
        {"helper": "mul", "width": 8}, {"helper": "add", "width": 32}], "lengths": [32]}))
    assert main(["--no-default", "--config", str(cfg), "--root", str(tmp_path / "work"),
                 "-o", str(out), "-j", "2"]) == 0
    doc = json.loads((out / "synth.json").read_text())
    labels = {r["design"] for r in doc["designs"]}
    assert {"mac(acc_width=12,width=4)", "dqa(m=2,n=3)", "mul8", "add32"} <= labels
    for r in doc["designs"]:
        assert not r.get("error") and r["pj_per_op"] > 0, r["design"]
        assert r["pj_per_op_ideal"] < r["pj_per_op_icg"], r["design"]
        assert r["area_icg_um2"] > 0 and r["fmax_icg_mhz"] > 0, r["design"]
    assert {s["operation"] for s in doc["sanity"]} >= {"INT8 multiply", "INT32 add"}
    for name in ("synth.md", "synth.csv", "blocks.png"):
        assert (out / name).stat().st_size > 0, name
    assert "pJ/op icg" in (out / "synth.md").read_text()
    assert main(["--lengths", "0", "-o", str(out)]) == 2
    assert main(["--lengths", "x", "-o", str(out)]) == 2


def test_gate_simulator_semantics(tiny_netlist):
    """A divide-by-two flip-flop (D = !Q) and a NAND of it with an input: values and
    toggles per cycle as the zero-delay cell models give them; a loop is refused."""
    from quantrtl.synth.gatesim import GateLevelSim, GateSimError
    ports = {"clk": {"direction": "input", "bits": [2]}, "a": {"direction": "input", "bits": [3]},
             "q": {"direction": "output", "bits": [4]}, "y": {"direction": "output", "bits": [6]}}
    net = tiny_netlist({
        "ff": ("DFFPOSX1", {"CLK": 2, "D": 5, "Q": 4}),
        "inv": ("INVX1", {"A": 4, "Y": 5}),
        "nand": ("NAND2X1", {"A": 4, "B": 3, "Y": 6})}, ports)
    sim = GateLevelSim(net)
    assert sim.depth == 1          # INV and NAND both read only the flip-flop and a port
    sim.set("a", 1)
    sim.evaluate()
    sim.start_counting()
    seen = []
    for _ in range(6):
        sim.clock()
        sim.evaluate()
        seen.append((sim.get("q"), sim.get("y")))
    assert seen == [(1, 0), (0, 1), (1, 0), (0, 1), (1, 0), (0, 1)]
    toggles = sim.bit_toggles()
    assert toggles[4] == 6 and toggles[5] == 6 and toggles[6] == 6 and 3 not in toggles
    assert sim.cycles_counted == 6
    loop = tiny_netlist({"i1": ("INVX1", {"A": 3, "Y": 4}),
                                         "i2": ("INVX1", {"A": 4, "Y": 3})},
                         {"y": {"direction": "output", "bits": [4]}})
    with pytest.raises(GateSimError, match="combinational loop"):
        GateLevelSim(loop)


def test_ice40_mapping_can_be_skipped(tech, root):
    """``ice40="never"`` leaves the iCE40 view empty with the reason (``"auto"`` does the
    same for designs no iCE40 can hold); a bad choice is refused."""
    d = Design.helper("add", 8)
    s = synthesize(d, root=root, ice40="never")
    assert s["ice40"]["lut4"] is None and "not mapped" in s["ice40"]["skipped"]
    assert s["osu018"]["area_um2"] > 0 and s["generic"]["transistors"] > 0
    with pytest.raises(ValueError, match="ice40='sometimes' is out of range"):
        synthesize(d, root=root, ice40="sometimes", fresh=True)
