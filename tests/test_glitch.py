"""The delay-aware gate-level simulator (:mod:`synth.glitch`): it counts the glitches a
hand-made circuit must have, agrees transition for transition with a brute-force
transport-delay reference on a synthesized multiplier, settles to the zero-delay values
(checked, and a broken propagation is caught), and finds a multiplier glitching more than
an adder.
"""

import numpy as np
import pytest

from quantrtl.synth.flow import Design, synthesize
from quantrtl.synth.gatesim import GateLevelSim, GateSimError, run_random_workload


@pytest.fixture(scope="module")
def synthesized(tech, tmp_path_factory):
    root = tmp_path_factory.mktemp("glitch")
    designs = {"mul8": Design.helper("mul", 8), "add8": Design.helper("add", 8),
               "mac": Design.block("mac", {"width": 4, "acc_width": 12})}
    return {k: (d, synthesize(d, root=root, ice40="never")) for k, d in designs.items()}


def _xor_chain(tiny_netlist, inverters=3):
    """``y = a XOR !a`` with ``!a`` through an odd chain of inverters: settled ``y`` is
    always 1, and every change of ``a`` makes ``y`` pulse 1 -> 0 -> 1 for the chain's
    delay."""
    ports = {"a": {"direction": "input", "bits": [2]},
             "y": {"direction": "output", "bits": [100]}}
    cells = {f"i{k}": ("INVX1", {"A": 2 + k, "Y": 3 + k}) for k in range(inverters)}
    cells["x"] = ("XOR2X1", {"A": 2, "B": 2 + inverters, "Y": 100})
    return tiny_netlist(cells, ports)


def _drive(sim, pattern):
    """``a`` through ``pattern`` one value a cycle, counted; the settled ``y`` of each."""
    sim.set("a", 0)
    sim.evaluate()
    sim.start_counting()
    seen = []
    for a in pattern:
        sim.set("a", a)
        sim.evaluate()
        seen.append(sim.get("y"))
        sim.clock()
    sim.stop_counting()
    return seen, sim.bit_toggles()


PATTERN = [1, 0, 0, 1, 1, 1, 0, 1]                   # a changes 5 times


@pytest.mark.parametrize("delays", ["unit", "liberty"])
def test_a_certain_glitch_is_counted(tech, tiny_netlist, delays):
    from quantrtl.synth.glitch import TimedGateLevelSim
    net = _xor_chain(tiny_netlist)
    runs = {}
    for name, sim in (("zero", GateLevelSim(net)),
                      ("timed", TimedGateLevelSim(net, delays)),
                      ("timed1", TimedGateLevelSim(net, delays, batch=1)),
                      ("inertial", TimedGateLevelSim(net, delays, inertial=True))):
        seen, runs[name] = _drive(sim, PATTERN)
        assert seen == [1] * len(PATTERN), name        # the settled value: zero-delay's
    changes = 5
    assert runs["zero"] == {2: changes, 3: changes, 4: changes, 5: changes}  # y: none
    assert runs["timed"] == {**runs["zero"], 100: 2 * changes}              # y: 2 a pulse
    assert runs["timed1"] == runs["timed"]
    assert runs["inertial"] == runs["timed"]        # the pulse outlasts the XOR's delay
    if delays == "unit":
        assert TimedGateLevelSim(net, "unit").delay_steps.tolist() == [1, 1, 1, 1]


def test_inertial_delay_swallows_a_short_pulse(tech, tiny_netlist):
    """With one inverter the pulse (one inverter delay) is shorter than the XOR's delay:
    transport delay passes it, inertial delay rejects it."""
    from quantrtl.synth.glitch import TimedGateLevelSim
    net = _xor_chain(tiny_netlist, inverters=1)
    transport = TimedGateLevelSim(net, "liberty")
    inv, xor = (transport.delay_steps[[transport.bits[o] for o in transport._out].index(b)]
                for b in (3, 100))
    assert inv < xor                                # the premise, from the liberty
    _, counted = _drive(transport, PATTERN)
    _, filtered = _drive(TimedGateLevelSim(net, "liberty", inertial=True), PATTERN)
    assert counted == {2: 5, 3: 5, 100: 10} and filtered == {2: 5, 3: 5}


def test_liberty_delays_come_from_the_tables(tech, tiny_netlist):
    """An inverter's delay: the worse of cell_rise/cell_fall at its load and the input slew
    given, in 10 ps steps; a coarser step gives fewer steps."""
    from quantrtl.synth.glitch import TimedGateLevelSim
    net = _xor_chain(tiny_netlist)
    sim = TimedGateLevelSim(net, "liberty", slews={2: 0.3})
    k = sim.nodes.index(next(n for n in sim.nodes if sim.bits[n[0]] == 3))
    arc = net.driver[3][0].cell.pins["Y"].arcs[0]
    load = net.load_cap(3)
    ns = max(arc.tables[t].lookup(load, 0.3) for t in ("cell_rise", "cell_fall"))
    assert sim.delay_steps[k] == max(1, round(ns / 0.01)) and sim.delay_steps[k] > 1
    coarse = TimedGateLevelSim(net, "liberty", slews={2: 0.3}, step_ns=0.05)
    assert coarse.delay_steps[k] == max(1, round(ns / 0.05)) < sim.delay_steps[k]
    with pytest.raises(ValueError, match="delays='inertial' is out of range"):
        TimedGateLevelSim(net, "inertial")


def _reference_transitions(sim, start, pre, inertial=False):
    """Delays by definition, node by node in topological order over every time step: a
    node's ideal waveform is its function of its inputs' waveforms; transport delay shifts
    it by the node's delay ``d``; inertial delay also drops every pulse shorter than ``d``
    (a change cancels the one still pending from less than ``d`` before, sequentially).
    Returns (transitions per slot, final values)."""
    index = {int(o): k for k, o in enumerate(sim._out)}
    horizon = int(sim.launch_steps.max() + sim.depth * sim.delay_steps.max() + 2)
    h = np.repeat(start[None, :], horizon, axis=0)
    for s in np.nonzero(pre != start)[0]:
        h[sim.launch_steps[s]:, s] = pre[s]
    for ins, base, out in sim._levels:
        for j in range(out.size):
            d = int(sim.delay_steps[index[int(out[j])]])
            g = sum(h[:, ins[p, j]].astype(np.int64) << p for p in range(4))
            ideal = sim._tt[base[j] + g]
            if not inertial:
                h[d:, out[j]] = ideal[:horizon - d]
                continue
            changes = np.nonzero(np.diff(np.concatenate([[start[out[j]]], ideal])))[0]
            flips, pending = [], None
            for t in changes.tolist():
                if pending is not None and t < pending:
                    pending = None                     # a pulse shorter than d: swallowed
                    continue
                if pending is not None:
                    flips.append(pending)
                pending = t + d
            if pending is not None:
                flips.append(pending)
            assert all(f < horizon for f in flips)
            flipped = np.zeros(horizon, dtype=np.int64)
            np.add.at(flipped, np.array(flips, dtype=np.int64), 1)
            h[:, out[j]] = start[out[j]] ^ (np.cumsum(flipped) & 1)
    return np.count_nonzero(np.diff(h, axis=0), axis=0), h[-1]


def _mul8_netlist(synthesized):
    from pathlib import Path

    from quantrtl.synth.flow import NETLISTS, _load_netlist
    from quantrtl.synth.tech import osu018
    design, synth = synthesized["mul8"]
    return _load_netlist(Path(synth["work"]) / NETLISTS["none"][0], osu018()[0], design.top)


@pytest.mark.parametrize("delays, inertial", [("unit", False), ("liberty", False),
                                               ("liberty", True)])
def test_event_propagation_matches_the_definition(synthesized, delays, inertial):
    """On the synthesized 8-bit multiplier, 12 random cycles driven into the zero-delay and
    the timed simulator alike: the event-driven, batched propagation counts exactly the
    transitions of the brute-force waveform reference on every net, and settles where the
    zero-delay simulator does."""
    from quantrtl.synth.gatesim import _reset
    from quantrtl.synth.glitch import TimedGateLevelSim
    net = _mul8_netlist(synthesized)
    zero = GateLevelSim(net)
    timed = TimedGateLevelSim(net, delays, batch=5, inertial=inertial)
    rng = np.random.default_rng(3)
    for sim in (zero, timed):
        _reset(sim)
    expected = np.zeros(zero.size, dtype=np.int64)
    start = None
    for k in range(13):
        a, b = (int(x) for x in rng.integers(0, 256, size=2))
        for sim in (zero, timed):
            sim.set("a", a)
            sim.set("b", b)
        pre = zero.v.copy()
        zero.evaluate()
        timed.evaluate()
        post = zero.v.copy()
        assert np.array_equal(timed.v, post)
        if k == 0:
            zero.start_counting()
            timed.start_counting()
        else:
            counts, final = _reference_transitions(timed, start, pre, inertial)
            assert np.array_equal(final[timed._data], post[timed._data])
            expected += np.where(timed._comb, counts, 0)
        start = post
        for sim in (zero, timed):
            sim.clock()
    zero.stop_counting()
    timed.stop_counting()                      # 12 counted cycles: batches of 5, 5, 2
    assert timed.stats["cycles"] == 12 == timed.cycles_counted
    assert np.array_equal(np.where(timed._comb, timed.toggles, 0), expected)
    assert timed.glitch_toggles.sum() > 0
    assert np.array_equal(timed.toggles - timed.glitch_toggles, zero.toggles)


def test_a_broken_propagation_is_caught(synthesized):
    """Dropping one fan-out edge leaves a net unsettled: the check against the zero-delay
    values raises instead of counting."""
    import random

    from quantrtl.synth.glitch import TimedGateLevelSim
    net = _mul8_netlist(synthesized)
    sim = TimedGateLevelSim(net, "unit")
    sim._fan[:] = np.roll(sim._fan, 1)                   # every reader list is now wrong
    with pytest.raises(GateSimError, match="settles net"):
        run_random_workload(sim, {"a": 8, "b": 8}, 8, random.Random(1))


@pytest.mark.parametrize("delays", ["unit", "liberty"])
def test_mac_netlist_timed_run(synthesized, delays):
    """A real stream block (the golden check of every output runs in both simulations):
    timed toggles at least the zero-delay ones, and more energy."""
    from quantrtl.synth.glitch import measure_glitch
    design, synth = synthesized["mac"]
    r = measure_glitch(design, synth, n=16, max_ops=128, delays=delays, gating="icg",
                       fresh=True)
    assert r["workload"]["ops"] == 128 and r["workload"]["truncated_from"] > 128
    assert r["toggles_timed"] > r["toggles_zero"] > 0
    assert r["timed_pj"] > r["zero_delay_pj"] > 0
    assert 0 < r["glitch_share"] < 1
    assert r["glitch_pj"] == pytest.approx(r["timed_pj"] - r["zero_delay_pj"], abs=1e-3)
    assert r["breakdown_zero_pj"]["clock"] == pytest.approx(r["breakdown_timed_pj"]["clock"])
    assert sum(r["breakdown_timed_pj"].values()) == pytest.approx(r["timed_pj"], rel=1e-4)
    again = measure_glitch(design, synth, n=16, max_ops=128, delays=delays, gating="icg")
    assert again["cached"] and again["timed_pj"] == r["timed_pj"]


def test_multiplier_glitches_more_than_an_adder(synthesized):
    from quantrtl.synth.glitch import measure_glitch
    shares = {}
    for name in ("mul8", "add8"):
        design, synth = synthesized[name]
        for delays in ("unit", "liberty"):
            r = measure_glitch(design, synth, delays=delays, gating="none", max_ops=256,
                               fresh=True)
            assert r["cycles"] == 256
            shares[name, delays] = r["glitch_share"]
    for delays in ("unit", "liberty"):
        assert shares["mul8", delays] > 2 * shares["add8", delays] >= 0


def test_inertial_estimate_lies_between(synthesized):
    """On the multiplier, rejecting pulses shorter than the cell delay removes part of the
    transport-delay glitching, not all of it."""
    from quantrtl.synth.glitch import measure_glitch
    design, synth = synthesized["mul8"]
    runs = {inertial: measure_glitch(design, synth, delays="liberty", gating="none",
                                     max_ops=256, inertial=inertial, fresh=True)
            for inertial in (False, True)}
    assert runs[True]["inertial"] and not runs[False]["inertial"]
    assert runs[True]["zero_delay_pj"] == runs[False]["zero_delay_pj"]
    assert (runs[False]["toggles_timed"] > runs[True]["toggles_timed"]
            > runs[True]["toggles_zero"])
    assert 0 < runs[True]["glitch_share"] < runs[False]["glitch_share"]
