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
    ("huffman", {"symbol_bits": 3, "max_length": 6, "word_width": 16}, "tb.test_huffman",
     "round_trips,invalid_and_truncated", {"QUANTRTL_STREAM_SYMBOLS": 40,
                                           "QUANTRTL_ERROR_TRIALS": 6}),
    ("dqa", {}, "tb.test_dqa", "random_activations", {}),
], ids=["mac", "requant", "dnateq", "huffman", "dqa"])
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
    from synth.gatesim import GateSimError, truth_table
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
        icarus = measure_energy(d, s, fresh=True, simulator="icarus")
        for key in ("toggles", "cycles", "total_pj", "switching_pj", "internal_comb_pj",
                    "internal_seq_pj", "clock_pj"):
            assert native[key] == icarus[key], (name, key)
    d, s = synthesized["mac1"]
    native = measure_energy(d, s, n=32, fresh=True, simulator="native")
    icarus = measure_energy(d, s, n=32, fresh=True, simulator="icarus")
    assert abs(native["cycles"] - icarus["cycles"]) <= 1
    assert native["pj_per_op"] == pytest.approx(icarus["pj_per_op"], rel=5e-3)
    with pytest.raises(ValueError, match="simulator='verilator' is out of range"):
        measure_energy(d, s, simulator="verilator")


def test_native_simulator_catches_a_broken_netlist(tech, synthesized, tmp_path):
    """A netlist that computes the wrong thing fails the energy run (outputs are checked
    against the golden model), it is not silently measured."""
    import shutil

    from synth.gatesim import GateSimError
    d, s = synthesized["mac1"]
    work = tmp_path / "broken"
    shutil.copytree(s["work"], work)
    data = json.loads((work / "netlist.json").read_text())
    cells = next(iter(data["modules"].values()))["cells"]
    victim = next(c for c in cells.values() if c["type"] == "XOR2X1")
    victim["type"] = "XNOR2X1"
    (work / "netlist.json").write_text(json.dumps(data))
    with pytest.raises(GateSimError, match="disagrees with the golden model"):
        measure_energy(d, {**s, "work": str(work)}, n=32, fresh=True)


@pytest.mark.parametrize("lanes", [1, 4])
def test_headline_dnateq_keeps_the_int8_pace(lanes):
    """The headline's DNA-TEQ datapaths take ``lanes`` pairs per clock and post-process in
    at most ``64 / lanes`` clocks (so N >= 64 costs N / lanes clocks, as on the INT8 MAC),
    with the fewest post-processor lanes that achieve it."""
    from synth.config import headline_designs
    head = headline_designs((lanes,), bits=(3, 4, 5, 6, 7), min_length=64)[lanes]
    assert head["int8"][0].param_dict["lanes"] == lanes
    for n, (d,) in head["dnateq"].items():
        p = d.param_dict
        entries = 1 << (n + 1)
        assert p["lanes"] == lanes and p["n"] == n
        assert entries // p["pp_lanes"] <= 64 // lanes
        assert p["pp_lanes"] == 1 or entries // (p["pp_lanes"] // 2) > 64 // lanes


def test_headline_rows_compare_within_a_lane_count():
    """Each DNA-TEQ row is compared with the INT8 datapath of its own lane count; the
    requantizer adds one requantization per dot product; savings follow the energies."""
    from synth.config import headline_designs
    from synth.report import headline_rows, markdown_table
    head = headline_designs((1, 4), bits=(3,), min_length=64)

    def result(design, pj_per_dot, area, cycles=64.0):
        energy = {"workload": {"op": "x"}, "pj_per_op": pj_per_dot, "pj_per_op_gated": 1.0,
                  "pj_per_dot_product": pj_per_dot, "pj_per_dot_product_gated": 1.0,
                  "cycles_per_dot_product": cycles}
        return {"design": design.as_dict(), "energy": {"64": energy},
                "synth": {"osu018": {"area_um2": area},
                          "timing": {"critical_path_ns": 10.0}}}

    results = [result(head[1]["int8"][0], 100.0, 10.0), result(head[1]["int8"][1], 20.0, 5.0),
               result(head[4]["int8"][0], 60.0, 30.0, 16.0),
               result(head[1]["dnateq"][3][0], 60.0, 12.0),
               result(head[4]["dnateq"][3][0], 240.0, 40.0, 16.0)]
    rows = {(r["datapath"], r["lanes"]): r for r in headline_rows(results, head, (64,))}
    int8_1, dna_1 = rows[("INT8 MAC + requant x1", 1)], rows[("DNA-TEQ n=3 x1", 1)]
    int8_4, dna_4 = rows[("INT8 MAC + requant x4", 4)], rows[("DNA-TEQ n=3 x4", 4)]
    assert int8_1["energy_pj"] == 120.0 and int8_1["area_um2"] == 15.0
    assert dna_1["energy_saving"] == 0.5 and dna_1["memory_saving"] == 0.625
    assert int8_4["energy_pj"] == 80.0 and dna_4["energy_ratio"] == 3.0
    assert dna_4["edp_saving"] == -2.0 and int8_4["delay_ns"] == 160.0
    text = markdown_table(list(rows.values()), ["datapath", "energy_saving"])
    assert "| DNA-TEQ n=3 x1 | +50% |" in text and "| DNA-TEQ n=3 x4 | -200% |" in text


def test_default_run_writes_the_headline(tech, tmp_path):
    """``python -m synth`` end to end on the default set (headline cut to n = 3, N = 64):
    every design synthesized and measured, the headline, sanity rows and plots written."""
    _require_icarus()
    from synth.__main__ import main
    out = tmp_path / "reports"
    assert main(["--bits", "3", "--lengths", "64", "--root", str(tmp_path / "work"),
                 "-o", str(out), "-j", "2"]) == 0
    doc = json.loads((out / "synth.json").read_text())
    labels = {r["design"] for r in doc["designs"]}
    assert {"mac", "requant", "huffman", "dqa", "mul8", "add32",
            "dnateq(lanes=1,n=3,pp_lanes=1)"} <= labels
    assert all(r.get("pj_per_op", 0) > 0 and not r.get("error") for r in doc["designs"])
    (int8, dna) = doc["headline"]
    assert int8["datapath"] == "INT8 MAC + requant" and dna["datapath"] == "DNA-TEQ n=3"
    assert dna["memory_saving"] == 0.625 and dna["energy_pj"] > 0 and int8["energy_pj"] > 0
    assert dna["energy_saving"] == pytest.approx(1 - dna["energy_pj"] / int8["energy_pj"],
                                                 abs=1e-4)
    assert {s["operation"] for s in doc["sanity"]} >= {"INT8 multiply", "INT32 add"}
    with open(out / "headline.csv") as f:
        assert len(list(csv.DictReader(f))) == 2
    for name in ("synth.md", "synth.csv", "blocks.png", "headline.png", "headline-bits.png"):
        assert (out / name).stat().st_size > 0, name
    assert main(["--lanes", "0", "-o", str(out)]) == 2
    assert main(["--lanes", "x", "-o", str(out)]) == 2


def _tiny_netlist(tmp_path, lib, cells, ports):
    """A hand-written mapped netlist (Yosys JSON) of library cells."""
    from synth.netlist import load_netlist
    module = {"attributes": {"top": 1}, "ports": ports, "netnames": {},
              "cells": {name: {"type": t, "connections": {p: [b] for p, b in conn.items()}}
                        for name, (t, conn) in cells.items()}}
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"modules": {"tiny": module}}))
    return load_netlist(path, lib, "tiny")


def test_gate_simulator_semantics(tech, tmp_path):
    """A divide-by-two flip-flop (D = !Q) and a NAND of it with an input: values and
    toggles per cycle as the zero-delay cell models give them; a loop is refused."""
    from synth.gatesim import GateLevelSim, GateSimError
    lib = load_library(tech[0])
    ports = {"clk": {"direction": "input", "bits": [2]}, "a": {"direction": "input", "bits": [3]},
             "q": {"direction": "output", "bits": [4]}, "y": {"direction": "output", "bits": [6]}}
    net = _tiny_netlist(tmp_path, lib, {
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
    loop = _tiny_netlist(tmp_path, lib, {"i1": ("INVX1", {"A": 3, "Y": 4}),
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
