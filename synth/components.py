"""Which component of a design each cell of its mapped netlist belongs to (for the energy
breakdown).

A design names its components by its registers: an ordered list of ``(component, regex)``
(``ENERGY_COMPONENTS`` on the hardware class) matched against the name of each flip-flop's
output net -- Amaranth's signal names survive synthesis on the registers, with a
submodule's name as a ``submodule.`` prefix -- and against the output ports; the first
match wins, and an unmatched register is ``control``.  Combinational logic belongs to the
registers and outputs it computes: a cell's components are those of everything in its
fan-out cone (flip-flop data pins, output ports, and for the enable of a clock-gating cell,
the flip-flops that cell clocks), and a cell that serves several components is shared
between them equally.  The clock network (clock logic, gating latches) is ``clock``.
"""

from __future__ import annotations

import re
from collections import defaultdict

from .netlist import Netlist

__all__ = ["attribute", "DEFAULT_COMPONENT"]

DEFAULT_COMPONENT = "control"


def _rules(groups):
    return [(name, re.compile(pattern)) for name, pattern in groups]


def _match(rules, name: str, default: str) -> str:
    for component, rx in rules:
        if rx.search(name):
            return component
    return default


def attribute(net: Netlist, groups, default: str = DEFAULT_COMPONENT) -> dict:
    """``{id(instance): component name or tuple of names}`` for every cell of ``net``
    outside the clock network (see the module docstring)."""
    rules = _rules(groups)
    clock_ids = {id(i) for i in net.clock.instances}
    seq, comb = [], []
    for inst in net.instances:
        if id(inst) in clock_ids:
            continue
        (seq if inst.cell.sequential else comb).append(inst)
    owner = {}
    for inst in seq:
        names = [net.names.get(b, "") for b in inst.outputs.values() if not isinstance(b, str)]
        owner[id(inst)] = frozenset({_match(rules, n, default) for n in names} or {default})
    # Flip-flops behind each clock net, and the clock nets behind each gating latch's output.
    on_clock = defaultdict(set)
    for inst in seq:
        on_clock[inst.inputs.get(inst.clock_pin)].update(owner[id(inst)])
    gated_by = {}
    for latch in net.clock.latches:
        reached, stack = set(), [b for b in latch.outputs.values() if not isinstance(b, str)]
        while stack:
            bit = stack.pop()
            reached |= on_clock.get(bit, set())
            for sink in net.loads.get(bit, ()):
                if sink[0] != "port" and id(sink[0]) in clock_ids and sink[0] not in \
                        net.clock.latches:
                    stack.extend(b for b in sink[0].outputs.values() if not isinstance(b, str))
        gated_by[id(latch)] = frozenset(reached or {default})
    port_of = {}
    for name, port in net.ports.items():
        if port["direction"] == "output":
            for b in port["bits"]:
                port_of[b] = frozenset({_match(rules, name, default)})
    # Reverse topological order of the combinational cells (outputs first).
    driver_of = {}
    for inst in comb:
        for b in inst.outputs.values():
            driver_of[b] = inst
    users = defaultdict(int)
    for inst in comb:
        for b in inst.inputs.values():
            d = driver_of.get(b)
            if d is not None:
                users[id(d)] += 1
    order, ready = [], [i for i in comb if users[id(i)] == 0]
    while ready:
        inst = ready.pop()
        order.append(inst)
        for b in inst.inputs.values():
            d = driver_of.get(b)
            if d is not None:
                users[id(d)] -= 1
                if users[id(d)] == 0:
                    ready.append(d)
    comps = dict(owner)
    empty = frozenset()
    for inst in order:
        found = set()
        for b in inst.outputs.values():
            found |= port_of.get(b, empty)
            for sink in net.loads.get(b, ()):
                if sink[0] == "port":
                    continue
                target = sink[0]
                if id(target) in clock_ids:
                    found |= gated_by.get(id(target), empty)
                else:
                    found |= comps.get(id(target), empty)
        comps[id(inst)] = frozenset(found or {default})
    return {k: (next(iter(v)) if len(v) == 1 else tuple(sorted(v))) for k, v in comps.items()}
