"""Energy from switching activity of the gate-level netlist, priced with the liberty.

Method.  The mapped osu018 netlist is simulated in Icarus (zero-delay cell models) under a
real workload; every net of the flattened netlist is dumped to a VCD and its settled 0<->1
transitions are counted inside the measurement window (:mod:`synth.vcd`).  Then, over the
window:

* **switching** ``E = 1/2 C V^2`` per toggle of each net, ``C`` = the load pins'
  liberty capacitances + the wire-load estimate (:mod:`synth.netlist`); primary input nets
  count too (the block's input pins load whoever drives them);
* **internal** energy of each cell per output toggle: the liberty ``internal_power``
  table of that output (the mean of ``rise_power`` and ``fall_power``, averaged over the
  related input pins), looked up at the net's load and the input slew from STA; for
  flip-flops also the clock pin's ``rise_power + fall_power`` every cycle and the data
  pin's passive energy per data toggle;
* **clock** net ``C V^2`` per cycle (all clock pins + wire estimate; an ideal clock, no
  clock tree buffers);
* **leakage** ``cell_leakage_power x window time`` at the testbench clock period.

Also reported: the energy with *ideal clock gating* -- each flip-flop's clock pin (and its
share of the clock net) charged only in the cycles its output changes -- since neither
block gates its clock, and flip-flops that hold state (counter banks, a LUT) dominate
otherwise.

Assumptions: zero-delay simulation, so glitches (which add real energy in deep arithmetic
such as array multipliers) are not counted -- figures are a lower bound for combinational
logic; no routing parasitics beyond the per-fan-out wire estimate; typical corner, 1.8 V.
Energy unit: pJ (the liberty's pF x V^2).
"""

from __future__ import annotations

from dataclasses import dataclass

from .netlist import WIRE_CAP_PER_FANOUT_PF, Netlist
from .sta import CLOCK_SLEW_NS, INPUT_SLEW_NS

__all__ = ["EnergyReport", "energy_from_toggles", "bit_toggles"]


@dataclass
class EnergyReport:
    cycles: int
    window_ns: float
    switching_pj: float
    internal_comb_pj: float
    internal_seq_pj: float
    clock_pj: float
    clock_gated_pj: float
    leakage_pj: float
    toggles: int
    nets: int

    @property
    def total_pj(self) -> float:
        return (self.switching_pj + self.internal_comb_pj + self.internal_seq_pj
                + self.clock_pj + self.leakage_pj)

    @property
    def total_gated_pj(self) -> float:
        """With ideal clock gating: each flip-flop clocked only in the cycles it changes."""
        return self.total_pj - self.clock_pj + self.clock_gated_pj

    def as_dict(self) -> dict:
        return {"cycles": self.cycles, "window_ns": round(self.window_ns, 3),
                "total_pj": round(self.total_pj, 4),
                "switching_pj": round(self.switching_pj, 4),
                "internal_comb_pj": round(self.internal_comb_pj, 4),
                "internal_seq_pj": round(self.internal_seq_pj, 4),
                "clock_pj": round(self.clock_pj, 4),
                "clock_gated_pj": round(self.clock_gated_pj, 4),
                "total_gated_pj": round(self.total_gated_pj, 4),
                "leakage_pj": round(self.leakage_pj, 6),
                "toggles": self.toggles, "nets": self.nets,
                "toggle_rate": round(self.toggles / max(1, self.nets * self.cycles), 5)}


def _mean_energy(tables, load, slew):
    values = [t.lookup(load, slew) for k, t in tables.items() if k in ("rise_power", "fall_power")]
    return sum(values) / len(values) if values else 0.0


def bit_toggles(net: Netlist, toggles: dict) -> dict:
    """``{(net name, bit index): toggles}`` (a VCD's view) -> ``{netlist bit: toggles}``."""
    per_bit = {}
    for (name, k), count in toggles.items():
        bits = net.netnames.get(name)
        if bits is None or k >= len(bits) or isinstance(bits[k], str):
            continue
        per_bit[bits[k]] = max(per_bit.get(bits[k], 0), count)  # aliases: same net
    return per_bit


def energy_from_toggles(net: Netlist, per_bit: dict, cycles: int, period_ns: float,
                        slews: dict | None = None) -> EnergyReport:
    """Energy of ``cycles`` clocks of ``period_ns`` with ``per_bit`` toggles
    (``{netlist bit: count}``, :func:`bit_toggles` or :mod:`synth.gatesim`)."""
    v2 = net.library.voltage ** 2
    slews = slews or {}
    switching = internal_comb = internal_seq = 0.0
    counted = 0
    for bit, count in per_bit.items():
        if bit in net.clock_bits:
            continue
        counted += count
        load = net.load_cap(bit)
        switching += 0.5 * load * v2 * count
        drv = net.driver.get(bit)
        if drv is None or drv[0] == "port":
            continue
        inst, pin = drv
        power = inst.cell.pins[pin].power
        if not power:
            continue
        per_toggle = []
        for related, tables in power:
            src = inst.inputs.get(related) if related else None
            slew = CLOCK_SLEW_NS if src in net.clock_bits else slews.get(src, INPUT_SLEW_NS)
            per_toggle.append(_mean_energy(tables, load, slew))
        e = sum(per_toggle) / len(per_toggle) * count
        if inst.cell.sequential:
            internal_seq += e
        else:
            internal_comb += e
    # Flip-flop clock and data pins (passive internal energy), and the clock net.
    clock_pj = clock_gated = 0.0
    wire = WIRE_CAP_PER_FANOUT_PF
    for inst in net.instances:
        if not inst.cell.sequential:
            continue
        q_toggles = max((per_bit.get(b, 0) for b in inst.outputs.values()
                         if not isinstance(b, str)), default=0)
        for pin, bit in inst.inputs.items():
            if bit in net.clock_bits:   # this flip-flop's share of the clock net
                clock_gated += (inst.cell.pins[pin].capacitance + wire) * v2 * q_toggles
            for related, tables in inst.cell.pins[pin].power:
                if related:
                    continue
                if bit in net.clock_bits:
                    e = sum(t.lookup(0.0, CLOCK_SLEW_NS) for k, t in tables.items()
                            if k in ("rise_power", "fall_power"))
                    clock_pj += e * cycles
                    clock_gated += e * q_toggles
                elif not isinstance(bit, str):
                    internal_seq += (_mean_energy(tables, 0.0, slews.get(bit, INPUT_SLEW_NS))
                                     * per_bit.get(bit, 0))
    for bit in net.clock_bits:
        clock_pj += net.load_cap(bit) * v2 * cycles   # charge + discharge every cycle
    window_ns = cycles * period_ns
    leakage_nw = sum(i.cell.leakage for i in net.instances)
    leakage_pj = leakage_nw * window_ns * 1e-6          # nW x ns = 1e-18 J = 1e-6 pJ
    nets = sum(1 for b in net.driver if b not in net.clock_bits)
    return EnergyReport(cycles, window_ns, switching, internal_comb, internal_seq, clock_pj,
                        clock_gated, leakage_pj, counted, nets)


def horowitz_scaled(node_nm: float, voltage: float) -> dict:
    """Horowitz, ISSCC 2014 (45 nm, 0.9 V): INT8 multiply 0.2 pJ, INT32 add 0.1 pJ,
    (also INT8 add 0.03 pJ), scaled to ``node_nm``/``voltage`` with E ~ C V^2 and
    C ~ feature size (constant-field scaling; a first-order estimate)."""
    factor = (node_nm / 45.0) * (voltage / 0.9) ** 2
    return {"factor": factor, "int8_mul_pj": 0.2 * factor, "int32_add_pj": 0.1 * factor,
            "int8_add_pj": 0.03 * factor, "int8_mac_pj": (0.2 + 0.1) * factor}
