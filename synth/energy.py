"""Energy from switching activity of the gate-level netlist, priced with the liberty.

Method.  The mapped osu018 netlist is simulated cycle by cycle under a real workload
(:mod:`synth.gatesim`, or Icarus with the cell models and a VCD, :mod:`synth.vcd`); every
net's 0<->1 transitions inside the measurement window are counted: a data net's settled
value once per cycle, a clock net at both edges of every pulse.  Then, over the window:

* **switching** ``E = 1/2 C V^2`` per toggle of each net, ``C`` = the load pins'
  liberty capacitances + the wire-load estimate (:mod:`synth.netlist`); primary input nets
  count too (the block's input pins load whoever drives them);
* **internal** energy of each cell per output toggle: the liberty ``internal_power``
  table of that output (the mean of ``rise_power`` and ``fall_power``, averaged over the
  related input pins), looked up at the net's load and the input slew from STA; the
  passive energy of a flip-flop's (or latch's) clock pin per clock pulse
  (``rise_power + fall_power``) and of its data pin per data toggle;
* **leakage** ``cell_leakage_power x window time`` at the testbench clock period.

**Clock** energy (reported apart, and as the ``clock`` component of the breakdown): the
switching of every clock net (the ideal root clock, with no tree buffers, and the gated
clocks), the clock-gating cells' own energy (their inverter, latch and AND) and the
flip-flops' clock pins.  Three gating models come out of two netlists:

* ``none``: the netlist without clock gating (enables are multiplexers, every flip-flop is
  clocked every cycle) -- :attr:`EnergyReport.total_pj` of its run;
* ``icg``: the clock-gated netlist (:mod:`synth.clockgate`), its gating cells priced like
  every other cell -- :attr:`EnergyReport.total_pj` of its run;
* ``ideal``: a bound on the clock-gated netlist's run (:attr:`EnergyReport.ideal_pj`):
  each flip-flop's clock pin and its share of a clock net charged only in the cycles its
  output changes, the gating cells free.  No gating scheme beats it for that logic.

Assumptions: zero-delay simulation, so glitches (which add real energy in deep arithmetic
such as array multipliers) are not counted -- figures are a lower bound for combinational
logic (:mod:`synth.glitch` measures how much); no routing parasitics beyond the per-fan-out
wire estimate; typical corner, 1.8 V.  Energy unit: pJ (the liberty's pF x V^2).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .netlist import WIRE_CAP_PER_FANOUT_PF, Netlist
from .sta import CLOCK_SLEW_NS, INPUT_SLEW_NS

__all__ = ["EnergyReport", "energy_from_toggles", "bit_toggles", "CLOCK_COMPONENT"]

CLOCK_COMPONENT = "clock"


@dataclass
class EnergyReport:
    cycles: int
    window_ns: float
    switching_pj: float
    internal_comb_pj: float
    internal_seq_pj: float
    clock_pj: float
    clock_ideal_pj: float
    leakage_pj: float
    toggles: int
    nets: int
    breakdown: dict = field(default_factory=dict)     # component -> pJ (sums to total)

    @property
    def total_pj(self) -> float:
        return (self.switching_pj + self.internal_comb_pj + self.internal_seq_pj
                + self.clock_pj + self.leakage_pj)

    @property
    def ideal_pj(self) -> float:
        """The ideal-gating bound: clock energy only where a flip-flop's output changes."""
        return self.total_pj - self.clock_pj + self.clock_ideal_pj

    def ideal_breakdown(self) -> dict:
        out = dict(self.breakdown)
        out[CLOCK_COMPONENT] = out.get(CLOCK_COMPONENT, 0.0) - self.clock_pj \
            + self.clock_ideal_pj
        return out

    def as_dict(self) -> dict:
        rnd = lambda d: {k: round(v, 4) for k, v in sorted(d.items())}  # noqa: E731
        return {"cycles": self.cycles, "window_ns": round(self.window_ns, 3),
                "total_pj": round(self.total_pj, 4),
                "switching_pj": round(self.switching_pj, 4),
                "internal_comb_pj": round(self.internal_comb_pj, 4),
                "internal_seq_pj": round(self.internal_seq_pj, 4),
                "clock_pj": round(self.clock_pj, 4),
                "clock_ideal_pj": round(self.clock_ideal_pj, 4),
                "ideal_pj": round(self.ideal_pj, 4),
                "leakage_pj": round(self.leakage_pj, 6),
                "breakdown_pj": rnd(self.breakdown),
                "ideal_breakdown_pj": rnd(self.ideal_breakdown()),
                "toggles": self.toggles, "nets": self.nets,
                "toggle_rate": round(self.toggles / max(1, self.nets * self.cycles), 5)}


def _mean_energy(tables, load, slew):
    values = [t.lookup(load, slew) for k, t in tables.items() if k in ("rise_power", "fall_power")]
    return sum(values) / len(values) if values else 0.0


def bit_toggles(net: Netlist, toggles: dict) -> dict:
    """``{(net name, bit index): toggles}`` (a VCD's view) -> ``{netlist bit: toggles}``."""
    per_bit = {}
    for (name, k), count in toggles.items():
        # A Verilog escaped identifier (Amaranth's ``\$12``) keeps its backslash in Yosys.
        bits = net.netnames.get(name) or net.netnames.get("\\" + name)
        if bits is None or k >= len(bits) or isinstance(bits[k], str):
            continue
        per_bit[bits[k]] = max(per_bit.get(bits[k], 0), count)  # aliases: same net
    return per_bit


def energy_from_toggles(net: Netlist, per_bit: dict, cycles: int, period_ns: float,
                        slews: dict | None = None, component=None) -> EnergyReport:
    """Energy of ``cycles`` clocks of ``period_ns`` with ``per_bit`` toggles
    (``{netlist bit: count}``, :func:`bit_toggles` or :mod:`synth.gatesim`).

    ``component(instance) -> name`` (or a tuple of names, sharing equally) attributes each cell's energy (its output nets'
    switching and internal energy, its data pins, its leakage) to a component of the
    breakdown; a primary input net's switching is shared among its loads' components;
    everything of the clock network goes to ``"clock"``.  Without it, everything but the
    clock is ``"logic"``."""
    v2 = net.library.voltage ** 2
    slews = slews or {}
    clock_bits = net.clock_bits
    clock_cells = {id(i) for i in net.clock.instances}
    component = component or (lambda inst: "logic")
    parts = defaultdict(float)
    names = {}

    def part(inst):
        key = id(inst)
        if key not in names:
            names[key] = CLOCK_COMPONENT if key in clock_cells else component(inst)
        return names[key]

    def charge(inst, e):
        """``e`` to the component(s) of ``inst`` (shared equally among several)."""
        owner = part(inst)
        if isinstance(owner, tuple):
            for name in owner:
                parts[name] += e / len(owner)
        else:
            parts[owner] += e

    switching = internal_comb = internal_seq = clock_pj = 0.0
    counted = 0
    for bit, count in per_bit.items():
        load = net.load_cap(bit)
        e_switch = 0.5 * load * v2 * count
        drv = net.driver.get(bit)
        if bit in clock_bits:
            clock_pj += e_switch
            parts[CLOCK_COMPONENT] += e_switch
        else:
            counted += count
            switching += e_switch
            if drv is not None and drv[0] != "port":
                charge(drv[0], e_switch)
            else:                       # a primary input: shared among its loads
                sinks = [s[0] for s in net.loads.get(bit, ()) if s[0] != "port"]
                for s in sinks:
                    charge(s, e_switch / len(sinks))
                if not sinks:
                    parts["logic"] += e_switch
        if drv is None or drv[0] == "port":
            continue
        inst, pin = drv
        power = inst.cell.pins[pin].power
        if not power:
            continue
        per_toggle = []
        for related, tables in power:
            src = inst.inputs.get(related) if related else None
            slew = slews.get(src, CLOCK_SLEW_NS if src in clock_bits else INPUT_SLEW_NS)
            per_toggle.append(_mean_energy(tables, load, slew))
        e = sum(per_toggle) / len(per_toggle) * count
        if id(inst) in clock_cells:
            clock_pj += e
        elif inst.cell.sequential:
            internal_seq += e
        else:
            internal_comb += e
        charge(inst, e)
    # Passive energy of sequential input pins: clock pins per pulse, data pins per toggle;
    # the ideal bound clocks each flip-flop only in the cycles its output changes.
    clock_ideal = 0.0
    wire = WIRE_CAP_PER_FANOUT_PF
    for inst in net.instances:
        if not inst.cell.sequential:
            continue
        in_clock = id(inst) in clock_cells
        q_toggles = max((per_bit.get(b, 0) for b in inst.outputs.values()
                         if not isinstance(b, str)), default=0)
        for pin, bit in inst.inputs.items():
            if isinstance(bit, str):
                continue
            is_clock = bit in clock_bits
            if is_clock and not in_clock:    # this flip-flop's share of its clock net
                clock_ideal += (inst.cell.pins[pin].capacitance + wire) * v2 * q_toggles
            for related, tables in inst.cell.pins[pin].power:
                if related:
                    continue
                slew = slews.get(bit, CLOCK_SLEW_NS if is_clock else INPUT_SLEW_NS)
                if is_clock:
                    e_pulse = sum(t.lookup(0.0, slew) for k, t in tables.items()
                                  if k in ("rise_power", "fall_power"))
                    e = e_pulse * per_bit.get(bit, 0) / 2
                    clock_pj += e
                    parts[CLOCK_COMPONENT] += e
                    if not in_clock:
                        clock_ideal += e_pulse * q_toggles
                else:
                    e = _mean_energy(tables, 0.0, slew) * per_bit.get(bit, 0)
                    if in_clock:
                        clock_pj += e
                    else:
                        internal_seq += e
                    charge(inst, e)
    window_ns = cycles * period_ns
    leakage_pj = 0.0
    for inst in net.instances:
        e = inst.cell.leakage * window_ns * 1e-6        # nW x ns = 1e-18 J = 1e-6 pJ
        leakage_pj += e
        charge(inst, e)
    nets = sum(1 for b in net.driver if b not in clock_bits)
    return EnergyReport(cycles, window_ns, switching, internal_comb, internal_seq, clock_pj,
                        clock_ideal, leakage_pj, counted, nets, dict(parts))


def horowitz_scaled(node_nm: float, voltage: float) -> dict:
    """Horowitz, ISSCC 2014 (45 nm, 0.9 V): INT8 multiply 0.2 pJ, INT32 add 0.1 pJ,
    (also INT8 add 0.03 pJ), scaled to ``node_nm``/``voltage`` with E ~ C V^2 and
    C ~ feature size (constant-field scaling; a first-order estimate)."""
    factor = (node_nm / 45.0) * (voltage / 0.9) ** 2
    return {"factor": factor, "int8_mul_pj": 0.2 * factor, "int32_add_pj": 0.1 * factor,
            "int8_add_pj": 0.03 * factor, "int8_mac_pj": (0.2 + 0.1) * factor}
