"""The mapped gate-level netlist (Yosys ``write_json``) with liberty data attached.

Nets are Yosys bit numbers; each has at most one driver (a cell output pin or a primary
input) and a list of loads (cell input pins, primary outputs).  The capacitive load of a
net is the sum of its load pins' liberty capacitances plus a wire-load estimate
(:data:`WIRE_CAP_PER_FANOUT_PF` per load, a ~20 um local wire at 0.2 fF/um in 0.18 um)
plus :data:`OUTPUT_LOAD_PF` per primary output.

The clock network (:class:`ClockNetwork`) is found from the clock pins of the sequential
cells: the primary inputs behind them are the root clocks; the combinational cells on the
way (the AND and inverter of a clock-gating cell) and the latches whose enable is a clock
net (the gating latches) belong to it.  The rules of a synchronous, glitch-free gated
design are checked: clock logic reads only clocks and gating latches, a gating latch's
output only feeds clock logic, and no data logic reads a clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .liberty import Library

__all__ = ["Netlist", "Instance", "ClockNetwork", "NetlistError", "load_netlist",
           "netlist_from_json",
           "WIRE_CAP_PER_FANOUT_PF", "OUTPUT_LOAD_PF"]

CLOCK_PORTS = ("clk",)        # the clock inputs of a design (Amaranth's sync domain)
WIRE_CAP_PER_FANOUT_PF = 0.004
OUTPUT_LOAD_PF = 0.010


class NetlistError(ValueError):
    pass


@dataclass
class Instance:
    name: str
    cell: object                  # liberty Cell
    inputs: dict                  # pin -> bit
    outputs: dict                 # pin -> bit

    @property
    def clock_pin(self) -> str | None:
        """The pin a flip-flop is clocked on, or a latch's enable pin (None otherwise)."""
        cell = self.cell
        if cell.ff:
            return cell.ff["clocked_on"].strip().lstrip("(").rstrip(")")
        if cell.latch:
            return cell.latch["enable"].strip().lstrip("(").rstrip(")")
        return None


@dataclass
class ClockNetwork:
    roots: set                    # primary-input bits that clock the design
    cells: list                   # combinational cells of the clock network (gating ANDs, ...)
    latches: list                 # gating latches (enable on a clock net)
    bits: set                     # every clock net: the roots and the clock cells' outputs

    @property
    def gated(self) -> bool:
        return bool(self.cells or self.latches)

    @property
    def instances(self) -> list:
        """Every cell of the clock network (clock logic and gating latches)."""
        return self.cells + self.latches

    def gated_bits(self, net: "Netlist") -> set:
        """The clock nets behind a gating latch (gated clocks)."""
        out, stack = set(), [b for i in self.latches for b in i.outputs.values()]
        cells = {id(i) for i in self.cells}
        while stack:
            bit = stack.pop()
            for sink in net.loads.get(bit, ()):
                if sink[0] != "port" and id(sink[0]) in cells:
                    for b in sink[0].outputs.values():
                        if b not in out:
                            out.add(b)
                            stack.append(b)
        return out


@dataclass
class Netlist:
    top: str
    instances: list
    driver: dict                  # bit -> (Instance, pin) | ("port", name)
    loads: dict                   # bit -> [(Instance, pin) | ("port", name)]
    names: dict                   # bit -> a readable net name
    ports: dict                   # name -> {"direction", "bits"}
    netnames: dict                # name -> list of bits (LSB first), as in the netlist
    library: Library
    clock: ClockNetwork = None

    @property
    def clock_bits(self) -> set:
        return self.clock.bits

    def load_cap(self, bit) -> float:
        cap = 0.0
        for sink in self.loads.get(bit, ()):
            if sink[0] == "port":
                cap += OUTPUT_LOAD_PF
            else:
                cap += sink[0].cell.pins[sink[1]].capacitance
            cap += WIRE_CAP_PER_FANOUT_PF
        return cap

    def area(self) -> tuple[float, float]:
        """``(total, sequential)`` cell area in the library's unit (um^2)."""
        total = sum(i.cell.area for i in self.instances)
        seq = sum(i.cell.area for i in self.instances if i.cell.sequential)
        return total, seq


def load_netlist(path: Path, library: Library, top: str | None = None) -> Netlist:
    return netlist_from_json(json.loads(Path(path).read_text()), library, top)


def netlist_from_json(data: dict, library: Library, top: str | None = None) -> Netlist:
    """:func:`load_netlist` of an already parsed Yosys JSON document."""
    modules = data["modules"]
    top = top or next(n for n, m in modules.items() if m.get("attributes", {}).get("top"))
    mod = modules[top]
    instances, driver, loads = [], {}, {}
    for pname, port in mod["ports"].items():
        for b in port["bits"]:
            if isinstance(b, str):
                continue
            if port["direction"] == "input":
                driver[b] = ("port", pname)
            else:
                loads.setdefault(b, []).append(("port", pname))
    for cname, c in mod["cells"].items():
        cell = library.cell(c["type"])
        ins, outs = {}, {}
        for pin, bits in c["connections"].items():
            (bit,) = bits
            if cell.pins[pin].direction == "output":
                outs[pin] = bit
            else:
                ins[pin] = bit
        inst = Instance(cname, cell, ins, outs)
        instances.append(inst)
        for pin, bit in outs.items():
            if not isinstance(bit, str):
                driver[bit] = (inst, pin)
        for pin, bit in ins.items():
            if not isinstance(bit, str):
                loads.setdefault(bit, []).append((inst, pin))
    names, netnames = {}, {}
    for nname, net in sorted(mod["netnames"].items(), key=lambda kv: kv[1].get("hide_name", 0)):
        netnames[nname] = net["bits"]
        for k, b in enumerate(net["bits"]):
            if not isinstance(b, str) and b not in names:
                names[b] = nname if len(net["bits"]) == 1 else f"{nname}[{k}]"
    net = Netlist(top, instances, driver, loads, names, mod["ports"], netnames, library)
    net.clock = clock_network(net)
    return net


def clock_network(net: Netlist) -> ClockNetwork:
    """The clock network of ``net`` (see the module docstring); :class:`NetlistError` if the
    netlist breaks the rules of a synchronous, glitch-free gated design."""
    def where(inst):
        return f"{inst.name} ({inst.cell.name})"

    # Backwards from every clock pin through combinational cells.
    roots, cells, seen = set(), [], set()
    stack = []
    for inst in net.instances:
        pin = inst.clock_pin
        if pin is not None and not isinstance(inst.inputs.get(pin), str):
            stack.append(inst.inputs[pin])
    latches = []
    while stack:
        bit = stack.pop()
        if bit in seen:
            continue
        seen.add(bit)
        drv = net.driver.get(bit)
        if drv is None:
            raise NetlistError(f"clock net {net.names.get(bit, bit)} has no driver")
        if drv[0] == "port":
            if drv[1] not in CLOCK_PORTS:
                raise NetlistError(f"clock logic reads input {drv[1]}, which is not a clock "
                                   f"(allowed {list(CLOCK_PORTS)}): unlatched clock gating "
                                   f"would glitch")
            roots.add(bit)
            continue
        inst = drv[0]
        if inst.cell.sequential:
            if not inst.cell.latch:
                raise NetlistError(f"clock net {net.names.get(bit, bit)} is driven by "
                                   f"flip-flop {where(inst)}: divided clocks are not supported")
            latches.append(inst)       # a gating latch; its enable is followed below
            pin = inst.clock_pin
            if not isinstance(inst.inputs.get(pin), str):
                stack.append(inst.inputs[pin])
            continue
        cells.append(inst)
        stack.extend(b for b in inst.inputs.values() if not isinstance(b, str))
    gating = {id(i) for i in latches}
    # Latches clocked by the clock network but not (yet) seen gate nothing: refuse them.
    for inst in net.instances:
        if inst.cell.latch and id(inst) not in gating:
            raise NetlistError(f"latch {where(inst)} is not part of a clock-gating cell: only "
                               f"gating latches are supported")
    bits = set(roots)
    for inst in cells:
        bits.update(b for b in inst.outputs.values() if not isinstance(b, str))
    latch_q = {b for i in latches for b in i.outputs.values() if not isinstance(b, str)}
    cell_ids = {id(i) for i in cells}
    for inst in cells:                 # clock logic reads clocks and gating latches only
        for pin, b in inst.inputs.items():
            if not isinstance(b, str) and b not in bits and b not in latch_q:
                raise NetlistError(f"clock logic {where(inst)} reads data net "
                                   f"{net.names.get(b, b)} on {pin}: unlatched clock gating "
                                   f"would glitch")
    for inst in latches:
        d = inst.inputs.get(inst.cell.latch["data_in"].strip())
        if d in bits or d in latch_q:
            raise NetlistError(f"gating latch {where(inst)} latches a clock")
    for bit in latch_q:                # a gating latch's output feeds clock logic only
        for sink in net.loads.get(bit, ()):
            if sink[0] == "port" or id(sink[0]) not in cell_ids:
                raise NetlistError(f"gating latch output {net.names.get(bit, bit)} is also "
                                   f"used as data")
    for inst in net.instances:         # data logic never reads a clock
        if id(inst) in cell_ids or id(inst) in gating:
            continue
        clock_pin = inst.clock_pin
        for pin, b in inst.inputs.items():
            if pin != clock_pin and b in bits:
                raise NetlistError(f"{where(inst)} reads clock net {net.names.get(b, b)} on "
                                   f"{pin} as data")
    for name, port in net.ports.items():
        if port["direction"] == "output" and any(b in bits for b in port["bits"]):
            raise NetlistError(f"output {name} is driven by the clock network")
    return ClockNetwork(roots, cells, latches, bits)
