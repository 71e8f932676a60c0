"""Clock gating in the synthesis flow: the gating cells in the netlists, the clock tree,
the gate-level simulator's latches and gated clocks (against hand-made netlists and against
Icarus), the three gating models and the per-component breakdown."""


import pytest

from quantrtl.synth.flow import Design, measure_energy, synthesize
from quantrtl.synth.liberty import load_library
from quantrtl.synth.tech import simulation_models
from quantrtl.tb.gate_level import icarus_activity
from quantrtl.tb.runner import SimulationError, simulator_status


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("clockgate")


SMALL = {
    "mac": Design.block("mac", {"width": 4, "acc_width": 12}),
    "dnateq": Design.block("dnateq", {"n": 3, "lanes": 1, "max_length": 64, "pp_lanes": 2,
                                      "lut_width": 12, "frac_bits": 8}),
}


@pytest.fixture(scope="module")
def synthesized(tech, root):
    # the osu018 views alone: no iCE40 mapping nor place and route
    return {k: (d, synthesize(d, root=root, ice40="never")) for k, d in SMALL.items()}


def _require_icarus():
    available, reason = simulator_status("icarus")
    if not available:
        pytest.skip(f"icarus unavailable: {reason}")


def _load(s, name, top, tech):
    from quantrtl.synth.netlist import load_netlist
    return load_netlist(f"{s['work']}/{name}", load_library(tech[0]), top)


def test_latch_area_is_corrected(tech):
    """The package's liberty gives LATCH an area of 0; the fetch fixes it to its LEF size."""
    assert load_library(tech[0]).cell("LATCH").area == 56


def test_gated_netlists_hold_clock_gating_cells(synthesized, tech):
    for name, (design, s) in synthesized.items():
        none, icg = s["osu018"], s["osu018_icg"]
        assert none["icg_cells"] == 0 and none["gated_flip_flops"] == 0, name
        assert icg["icg_cells"] > 0 and icg["gated_flip_flops"] > 0.8 * icg["flip_flops"], name
        assert icg["flip_flops"] == none["flip_flops"], name
        net = _load(s, "netlist-icg.json", design.top, tech)
        latches = [i for i in net.instances if i.cell.name == "LATCH"]
        assert len(latches) == icg["icg_cells"] and all(i.name.startswith("icg_")
                                                        for i in latches), name
        text = open(f"{s['work']}/netlist-icg.v").read()
        assert text.count("LATCH ") == icg["icg_cells"], name
        # The enable multiplexers are gone: the gated netlist is the smaller one.
        assert icg["area_um2"] < none["area_um2"], name


def test_clock_tree_limits_fanout(synthesized, tech):
    from quantrtl.synth.cts import BUFFER, MAX_FANOUT, SHARED_INVERTER
    for name, (design, s) in synthesized.items():
        for netlist in ("netlist.json", "netlist-icg.json"):
            net = _load(s, netlist, design.top, tech)
            for bit in net.clock_bits:
                sinks = [x for x in net.loads.get(bit, ()) if x[0] != "port"]
                assert len(sinks) <= MAX_FANOUT, (name, netlist, bit)
            buffers = [i for i in net.instances if i.name.startswith("cts_")]
            assert all(i.cell.name == BUFFER for i in buffers), (name, netlist)
            if netlist == "netlist.json":       # every flip-flop on the root clock
                flops = sum(1 for i in net.instances if i.cell.ff)
                assert len(buffers) >= (flops - 1) // MAX_FANOUT, name
            else:         # one inverted clock per clock net for the gating latches on it
                inverters = [i for i in net.instances if i.name.endswith(".inv")]
                assert all(i.cell.name == SHARED_INVERTER for i in inverters), name
                assert len({i.inputs["A"] for i in inverters}) == len(inverters), name
                latches = {id(i) for i in net.clock.latches}
                reached, stack = set(), [i.outputs["Y"] for i in inverters]
                while stack:
                    for sink in net.loads.get(stack.pop(), ()):
                        if sink[0] != "port" and sink[0].name.startswith("cts_"):
                            stack.append(sink[0].outputs["Y"])
                        elif sink[0] != "port":
                            reached.add(id(sink[0]))
                assert reached == latches, name


def test_three_gating_models_and_the_breakdown(synthesized):
    """Same workload on both netlists: ideal <= icg <= none, and every breakdown (by
    component, clock included) sums to its total."""
    parts = {"mac": {"mac datapath", "clock", "control"},
             "dnateq": {"counters", "lut", "post-processor", "clock", "control"}}
    for name, (design, s) in synthesized.items():
        none = measure_energy(design, s, n=32, gating="none", fresh=True)
        icg = measure_energy(design, s, n=32, gating="icg", fresh=True)
        assert none["workload"] == icg["workload"], name
        assert icg["ideal_pj"] < icg["total_pj"] < none["total_pj"], name
        for e in (none, icg):
            assert sum(e["breakdown_pj"].values()) == pytest.approx(e["total_pj"], rel=1e-6)
            assert sum(e["ideal_breakdown_pj"].values()) == pytest.approx(e["ideal_pj"],
                                                                          rel=1e-6)
            assert parts[name] <= set(e["breakdown_pj"]), (name, sorted(e["breakdown_pj"]))
        # Gating saves clock energy, not datapath energy.
        assert icg["clock_pj"] < 0.7 * none["clock_pj"], name


ICG_CELLS = {"icg.inv": ("INVX1", {"A": 2, "Y": 10}),
             "icg.latch": ("LATCH", {"CLK": 10, "D": 3, "Q": 11}),
             "icg.gate": ("AND2X2", {"A": 2, "B": 11, "Y": 12})}
PORTS = {"clk": {"direction": "input", "bits": [2]}, "en": {"direction": "input", "bits": [3]},
         "d": {"direction": "input", "bits": [4]}, "q": {"direction": "output", "bits": [5]}}


def test_gate_simulator_clock_gating(tiny_netlist):
    """A flip-flop behind a latch + AND gating cell takes D only in the cycles whose enable
    was high before the edge; the gated clock pulses (two toggles) only then, the root
    clock every cycle."""
    from quantrtl.synth.gatesim import GateLevelSim
    net = tiny_netlist({**ICG_CELLS, "ff": ("DFFPOSX1", {"CLK": 12, "D": 4, "Q": 5})}, PORTS)
    assert net.clock.gated and net.clock.roots == {2} and 12 in net.clock_bits
    sim = GateLevelSim(net)
    enables = [1, 0, 0, 1, 1, 0, 1, 0]
    data = [1, 0, 1, 0, 1, 1, 0, 0]
    sim.evaluate()
    sim.start_counting()
    q = 0
    for en, d in zip(enables, data):
        sim.set("en", en)
        sim.set("d", d)
        sim.evaluate()
        sim.clock()
        q = d if en else q
        sim.evaluate()
        assert sim.get("q") == q
    toggles = sim.bit_toggles()
    assert toggles[2] == 2 * len(enables)              # the root clock, every cycle
    assert toggles[12] == 2 * sum(enables)             # the gated clock, enabled cycles
    assert toggles[10] == 2 * len(enables)             # the latch's inverted clock


@pytest.mark.parametrize("change, match", [
    ({"bad": ("AND2X2", {"A": 2, "B": 3, "Y": 13}), "ff2": ("DFFPOSX1",
                                                           {"CLK": 13, "D": 4, "Q": 6})},
     "reads input en, which is not a clock"),
    ({"use": ("INVX1", {"A": 11, "Y": 7})}, "also used as data"),
    ({"use": ("INVX1", {"A": 2, "Y": 7})}, "reads clock net"),
    ({"div": ("DFFPOSX1", {"CLK": 2, "D": 8, "Q": 9}), "inv": ("INVX1", {"A": 9, "Y": 8}),
      "ff2": ("DFFPOSX1", {"CLK": 9, "D": 4, "Q": 6})}, "divided clocks"),
])
def test_clock_network_rules(tiny_netlist, change, match):
    """Netlists that would glitch or race in a zero-delay cycle simulation are refused:
    unlatched gating, a gating latch used as data, the clock used as data, a divided
    clock."""
    from quantrtl.synth.netlist import NetlistError
    with pytest.raises(NetlistError, match=match):
        tiny_netlist({**ICG_CELLS, "ff": ("DFFPOSX1", {"CLK": 12, "D": 4, "Q": 5}), **change},
                     PORTS)


def test_native_simulator_matches_icarus_on_gated_netlists(synthesized):
    """Icarus with the library's cell models (flip-flops and latches as nonblocking
    processes) and the native simulator agree on the gated MAC's energy, gating cells and
    gated clocks included, as they do on the ungated netlist."""
    _require_icarus()
    d, s = synthesized["mac"]
    for gating in ("none", "icg"):
        native = measure_energy(d, s, n=16, gating=gating, fresh=True)
        icarus = measure_energy(d, s, n=16, gating=gating, fresh=True,
                                simulator=icarus_activity)
        assert abs(native["cycles"] - icarus["cycles"]) <= 1, gating
        assert native["total_pj"] == pytest.approx(icarus["total_pj"], rel=5e-3), gating
        assert native["clock_pj"] == pytest.approx(icarus["clock_pj"], rel=5e-3), gating


def _largest_gate(s, design, tech):
    """The clock-gating cell (``icg_<k>``) that clocks the most flip-flops."""
    net = _load(s, "netlist-icg.json", design.top, tech)
    cells = {id(i) for i in net.clock.cells}
    best = None
    for latch in net.clock.latches:
        count, stack = 0, list(latch.outputs.values())
        while stack:
            for sink in net.loads.get(stack.pop(), ()):
                if sink[0] == "port":
                    continue
                if id(sink[0]) in cells:
                    stack.extend(sink[0].outputs.values())
                elif sink[0].cell.ff:
                    count += 1
        best = max(best or (count, latch.name), (count, latch.name))
    return best[1].split(".")[0]


@pytest.mark.sim
def test_broken_gate_enable_fails_the_testbench(tech, synthesized, tmp_path):
    """A gating cell whose enable is tied high (its registers clocked every cycle) breaks
    the MAC under backpressure, and its own cocotb test says so."""
    _require_icarus()
    from quantrtl.tb.gate_level import simulate_netlist
    d, s = synthesized["mac"]
    text = open(f"{s['work']}/netlist-icg.v").read()
    victim = f"{_largest_gate(s, d, tech)}.E"
    assert f".D(\\{victim} )" in text
    broken = tmp_path / "broken-icg.v"
    broken.write_text(text.replace(f".D(\\{victim} )", ".D(1'b1)", 1))
    cells = simulation_models(tech[1])
    # The intact gated netlist passes ...
    simulate_netlist(f"{s['work']}/netlist-icg.v", cells, d.top, "quantrtl.tb.tests.test_mac",
                     block="mac", params=d.param_dict, build_dir=tmp_path / "good",
                     testcase="random_dot_products", seed=77, extra_env={"QUANTRTL_COUNT": 30})
    # ... the broken one fails.
    with pytest.raises(SimulationError):
        simulate_netlist(broken, cells, d.top, "quantrtl.tb.tests.test_mac", block="mac",
                         params=d.param_dict, build_dir=tmp_path / "bad",
                         testcase="random_dot_products", seed=77,
                         extra_env={"QUANTRTL_COUNT": 30})


def test_gated_timing_charges_clock_latency(synthesized, tech):
    """Gated flip-flops are clocked later (the gating cell and its tree): static timing
    sees that latency, and still finds a sensible clock."""
    from quantrtl.synth.sta import _clock_arrivals
    design, s = synthesized["dnateq"]
    net = _load(s, "netlist-icg.json", design.top, tech)
    latency, slew = _clock_arrivals(net)
    gated = net.clock.gated_bits(net)
    assert gated and min(latency[b] for b in gated) > 0.1
    assert all(0 < slew[b] < 1.0 for b in gated)
    assert 50 < s["timing_icg"]["fmax_mhz"] < 1000
