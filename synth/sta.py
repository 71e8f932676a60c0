"""Static timing analysis over the mapped netlist with the liberty's NLDM tables.

Assumptions (stated in every report):

* one ideal root clock (no clock-tree delay), clock slew :data:`CLOCK_SLEW_NS`; a gated
  clock arrives later by the delay of its clock-gating cell's AND (computed with the
  tables at its load, as clock latency): a path launched by a gated flip-flop starts that
  much later and one captured by it may end that much later;
* primary inputs arrive at time 0 after the clock edge with slew :data:`INPUT_SLEW_NS`;
  primary outputs are required at the next edge (no external input/output delay);
* every arc takes the worse of its rise and fall delay and transition (no unateness
  tracking, so a few false rise/fall combinations may be counted: slightly pessimistic);
* loads are the fan-out pins' capacitances plus the wire-load estimate of
  :mod:`synth.netlist`; no placement, no routing, typical corner (1.8 V, 25 C).

Start points: primary inputs and flip-flop outputs (clock-to-Q from the ``rising_edge``
arc); end points: flip-flop data pins (plus their ``setup_rising`` constraint), the enable
inputs of the gating latches (which must settle before the latch closes at the rising
clock edge, plus their ``setup_falling`` constraint on the inverted clock) and primary
outputs.  The critical path is the latest end point, less its clock latency; ``fmax = 1 /
delay``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .netlist import Netlist

__all__ = ["TimingReport", "analyze", "CLOCK_SLEW_NS", "INPUT_SLEW_NS"]

CLOCK_SLEW_NS = 0.1
INPUT_SLEW_NS = 0.1


@dataclass
class TimingReport:
    critical_path_ns: float
    fmax_mhz: float
    logic_depth: int
    path: list          # [(instance name, cell, pin, arrival ns)] from start to end point
    endpoint: str
    slews: dict         # bit -> slew (ns), reused by the energy model

    def as_dict(self) -> dict:
        return {"critical_path_ns": round(self.critical_path_ns, 4),
                "fmax_mhz": round(self.fmax_mhz, 2), "logic_depth": self.logic_depth,
                "endpoint": self.endpoint,
                "path": [{"instance": i, "cell": c, "pin": p, "arrival_ns": round(t, 4)}
                         for i, c, p, t in self.path]}


def _arc_delay(arc, load, slew):
    t = arc.tables
    delay = max((t[k].lookup(load, slew) for k in ("cell_rise", "cell_fall") if k in t),
                default=0.0)
    out_slew = max((t[k].lookup(load, slew) for k in ("rise_transition", "fall_transition")
                    if k in t), default=slew)
    return max(delay, 0.0), max(out_slew, 0.0)


def _clock_arrivals(net: Netlist) -> tuple[dict, dict]:
    """``(latency, slew)`` of every clock net: 0 and :data:`CLOCK_SLEW_NS` at the roots,
    through the clock logic along its arcs from clock nets (not from the gating latches,
    whose outputs are settled while the clock is low)."""
    latency = {b: 0.0 for b in net.clock.roots}
    slew = {b: CLOCK_SLEW_NS for b in net.clock.roots}
    pending = list(net.clock.cells)
    while pending:
        rest = []
        for inst in pending:
            srcs = [(arc, inst.inputs.get(arc.related_pin)) for pin in inst.outputs
                    for arc in inst.cell.pins[pin].arcs]
            clocks = [b for _, b in srcs if b in net.clock.bits]
            if any(b not in latency for b in clocks):
                rest.append(inst)
                continue
            for pin, bit in inst.outputs.items():
                best = (0.0, CLOCK_SLEW_NS)
                for arc in inst.cell.pins[pin].arcs:
                    src = inst.inputs.get(arc.related_pin)
                    if src in latency:
                        d, sl = _arc_delay(arc, net.load_cap(bit), slew[src])
                        best = max(best, (latency[src] + d, sl))
                latency[bit], slew[bit] = best
        if len(rest) == len(pending):
            raise ValueError("the clock network has a loop")
        pending = rest
    return latency, slew


def analyze(net: Netlist) -> TimingReport:
    arrival, slew, prev = {}, {}, {}
    clk_latency, clk_slew = _clock_arrivals(net)
    gating = {id(i) for i in net.clock.instances}
    # Start points.
    for bit, drv in net.driver.items():
        if drv[0] == "port":
            if bit in net.clock_bits:
                continue
            arrival[bit], slew[bit], prev[bit] = 0.0, INPUT_SLEW_NS, None
    comb = []
    for inst in net.instances:
        if id(inst) in gating:
            continue
        if inst.cell.sequential:
            clk = inst.inputs.get(inst.clock_pin)
            t0, s0 = clk_latency.get(clk, 0.0), clk_slew.get(clk, CLOCK_SLEW_NS)
            for pin, bit in inst.outputs.items():
                arcs = [a for a in inst.cell.pins[pin].arcs if a.timing_type.endswith("edge")]
                d, s = max((_arc_delay(a, net.load_cap(bit), s0) for a in arcs),
                           default=(0.0, s0))
                arrival[bit], slew[bit], prev[bit] = t0 + d, s, (inst, pin, None)
        else:
            comb.append(inst)
    # Constant nets ("0"/"1" strings) are ignored as timing sources.
    # Topological propagation over the combinational cells (Kahn's algorithm).
    pending = {id(i): sum(1 for b in i.inputs.values()
                          if not isinstance(b, str) and b not in arrival) for i in comb}
    waiting = {}
    for inst in comb:
        for b in inst.inputs.values():
            if not isinstance(b, str) and b not in arrival:
                waiting.setdefault(b, []).append(inst)
    ready = [i for i in comb if pending[id(i)] == 0]
    done = 0
    while ready:
        inst = ready.pop()
        done += 1
        for pin, bit in inst.outputs.items():
            load = net.load_cap(bit)
            best = (0.0, INPUT_SLEW_NS, None)
            for arc in inst.cell.pins[pin].arcs:
                src = inst.inputs.get(arc.related_pin)
                if src is None or isinstance(src, str):
                    continue
                d, s = _arc_delay(arc, load, slew[src])
                t = arrival[src] + d
                if best[2] is None or t > best[0]:
                    best = (t, s, src)
            arrival[bit], slew[bit] = best[0], best[1]
            prev[bit] = (inst, pin, best[2])
            for nxt in waiting.pop(bit, ()):
                pending[id(nxt)] -= 1
                if pending[id(nxt)] == 0:
                    ready.append(nxt)
    if done != len(comb):
        raise ValueError(f"{len(comb) - done} combinational cells are in a loop or undriven "
                         f"(the netlist is not a synchronous design)")
    # End points.
    worst, worst_bit, worst_name = 0.0, None, "none"
    for inst in net.instances:
        if not inst.cell.sequential:
            continue
        clk = inst.inputs.get(inst.clock_pin)
        t_clk, s_clk = clk_latency.get(clk, 0.0), clk_slew.get(clk, CLOCK_SLEW_NS)
        for pin, bit in inst.inputs.items():
            if isinstance(bit, str) or bit not in arrival:
                continue
            setup = 0.0
            for arc in inst.cell.pins[pin].arcs:
                if arc.timing_type.startswith("setup"):
                    setup = max(setup, max(t.lookup(0.0, slew[bit]) if t.var_1 != "related_pin_transition"
                                           else _constraint(t, s_clk, slew[bit])
                                           for t in arc.tables.values()))
            t = arrival[bit] + setup - t_clk
            if t > worst:
                worst, worst_bit, worst_name = t, bit, f"{inst.name}.{pin} ({inst.cell.name})"
    for pname, port in net.ports.items():
        if port["direction"] != "output":
            continue
        for bit in port["bits"]:
            if not isinstance(bit, str) and bit in arrival and arrival[bit] > worst:
                worst, worst_bit, worst_name = arrival[bit], bit, f"output {pname}"
    path, depth, bit = [], 0, worst_bit
    while bit is not None and bit in prev and prev[bit] is not None:
        inst, pin, src = prev[bit]
        path.append((inst.name, inst.cell.name, pin, arrival[bit]))
        if not inst.cell.sequential:
            depth += 1
        bit = src
    if bit is not None and bit in net.driver and net.driver[bit][0] == "port":
        path.append((f"input {net.driver[bit][1]}", "-", "-", 0.0))
    path.reverse()
    fmax = 1e3 / worst if worst > 0 else float("inf")
    return TimingReport(worst, fmax, depth, path, worst_name, {**clk_slew, **slew})


def _constraint(table, clock_slew, data_slew):
    """Setup tables index (related_pin_transition, constrained_pin_transition)."""
    return table.at(clock_slew, data_slew)
