"""A cycle-based, zero-delay simulator of a mapped gate-level netlist, with toggle counting.

Each combinational cell output is evaluated from its liberty ``function`` (compiled once into
a truth table of up to four inputs); flip-flops (``ff`` groups clocked on the rising edge of
the one clock) take their ``next_state`` at each :meth:`GateLevelSim.clock`.  The netlist is
levelized, and every level is evaluated for all its cells at once with NumPy (one gather of
the input values, one truth-table lookup, one scatter), so a cycle of a 100k-cell netlist
costs a few milliseconds -- about ten times less than Icarus simulating the cell models and
writing a VCD that is parsed afterwards.

Semantics are those of the zero-delay Icarus run with the library's Verilog models
(:mod:`tb.gate_level` + :mod:`synth.vcd`): one settled value per net per cycle, a toggle is a
0<->1 change between the settled values of consecutive cycles, glitches are not counted;
``x``/``z`` constants of the netlist read as 0.  ``tests/test_synth.py`` checks the toggle
counts against Icarus net by net.

:func:`run_stream_workload` drives a block's vector set (:mod:`quantrtl.vectors.adapters`) into the
netlist at full throughput (every input stream valid while it has beats, every output ready),
collects the outputs for the caller to check against the golden model, and counts toggles
inside the measurement window.
"""

from __future__ import annotations

import re

import numpy as np

from .netlist import Netlist

__all__ = ["GateLevelSim", "GateSimError", "truth_table", "run_stream_workload",
           "run_random_workload"]

MAX_INPUTS = 4


class GateSimError(RuntimeError):
    pass


# -- liberty boolean functions ------------------------------------------------------------

_FUNC_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_\[\].]*|[01]|[!'^+|*&()])")


def _parse_function(text: str):
    """Liberty ``function`` text -> a nested tuple expression.  Operators: ``!`` and postfix
    ``'`` (not), ``^`` (xor), ``*``/``&``/juxtaposition (and), ``+``/``|`` (or), in that
    order of precedence."""
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _FUNC_TOKEN.match(text, pos)
        if not m:
            raise GateSimError(f"cannot parse liberty function {text!r} at {text[pos:]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    # Juxtaposition is AND: insert "&" where an operand ends and the next one starts.
    out, k = [], 0
    operand_end = lambda t: t not in "!^+|*&(" or t == "'"  # noqa: E731
    operand_start = lambda t: t not in "'^+|*&)"           # noqa: E731
    for t in tokens:
        if out and operand_end(out[-1]) and operand_start(t):
            out.append("&")
        out.append(t)
    tokens = out

    def peek():
        return tokens[k] if k < len(tokens) else None

    def take():
        nonlocal k
        k += 1
        return tokens[k - 1] if k <= len(tokens) else None

    # Binary operators by precedence, loosest first; each level is left-associative.
    levels = ((("+", "|"), "or"), (("*", "&"), "and"), (("^",), "xor"))

    def parse_or(level=0):
        if level == len(levels):
            return parse_not()
        symbols, op = levels[level]
        node = parse_or(level + 1)
        while peek() in symbols:
            take()
            node = (op, node, parse_or(level + 1))
        return node

    def parse_not():
        if peek() == "!":
            take()
            node = ("not", parse_not())
        elif peek() == "(":
            take()
            node = parse_or()
            if take() != ")":
                raise GateSimError(f"unbalanced parentheses in liberty function {text!r}")
        else:
            t = take()
            if t is None or t in "^+|*&)'":
                raise GateSimError(f"unexpected {t!r} in liberty function {text!r}")
            node = ("const", int(t)) if t in ("0", "1") else ("var", t)
        while peek() == "'":
            take()
            node = ("not", node)
        return node

    tree = parse_or()
    if k != len(tokens):
        raise GateSimError(f"trailing {tokens[k:]} in liberty function {text!r}")
    return tree


def _eval(tree, env):
    op = tree[0]
    if op == "var":
        return env[tree[1]]
    if op == "const":
        return np.full_like(next(iter(env.values())), tree[1]) if env else tree[1]
    if op == "not":
        return 1 - _eval(tree[1], env)
    a, b = _eval(tree[1], env), _eval(tree[2], env)
    return {"and": a & b, "or": a | b, "xor": a ^ b}[op]


def truth_table(function: str, pins: list) -> np.ndarray:
    """The function over ``pins`` as ``2^len(pins)`` uint8 values, index bit ``k`` = pin
    ``k``."""
    index = np.arange(1 << len(pins), dtype=np.int64)
    env = {p: (index >> k) & 1 for k, p in enumerate(pins)}
    tree = _parse_function(function)
    unknown = sorted({t[1] for t in _walk(tree) if t[0] == "var"} - set(pins))
    if unknown:
        raise GateSimError(f"liberty function {function!r} uses {unknown}, not inputs {pins}")
    value = _eval(tree, env) if env else np.array([_eval(tree, {})])
    return (np.broadcast_to(value, index.shape) & 1).astype(np.uint8)


def _walk(tree):
    yield tree
    for child in tree[1:]:
        if isinstance(child, tuple):
            yield from _walk(child)


# -- the simulator ------------------------------------------------------------------------

class GateLevelSim:
    """Zero-delay, cycle-based simulation of ``net`` (:func:`synth.netlist.load_netlist`).

    One cycle is :meth:`evaluate` (the high phase after a rising edge: the data logic
    settles) then :meth:`clock` (the falling edge: the gating latches of the clock network
    open and take their enables; the rising edge: the clock logic gives each gated clock,
    and every flip-flop whose clock rose takes its D).  The data logic never reads a clock
    (checked by :func:`synth.netlist.clock_network`), so it is evaluated once per cycle; the
    clock network twice.  Toggles are counted per phase, so a clock net that pulses counts
    two toggles per pulse (a free-running clock: two per cycle), a data net at most one per
    cycle (its settled value).
    """

    def __init__(self, net: Netlist):
        self.net = net
        self.index = {"0": 0, "1": 1, "x": 0, "z": 0}   # net -> slot; constants first
        self.bits = [None, None]                        # slot -> yosys bit

        def slot(bit):
            if isinstance(bit, str):
                if bit not in self.index:
                    raise GateSimError(f"unknown constant {bit!r} in the netlist")
                return self.index[bit]
            if bit not in self.index:
                self.index[bit] = len(self.bits)
                self.bits.append(bit)
            return self.index[bit]

        clock = net.clock
        if clock is None:
            raise GateSimError("the netlist has no clock network analysis")
        self.inputs, self.outputs = {}, {}
        for name, port in net.ports.items():
            slots = np.array([slot(b) for b in port["bits"]], dtype=np.int64)
            (self.inputs if port["direction"] == "input" else self.outputs)[name] = slots
        self.roots = np.array(sorted(slot(b) for b in clock.roots), dtype=np.int64)
        clock_ids = {id(i) for i in clock.cells}
        tables, data_nodes, clock_nodes, ffs, latches = {}, [], [], [], []
        for inst in net.instances:
            cell = inst.cell
            if cell.latch:
                lt = cell.latch
                if lt.get("clear") or lt.get("preset"):
                    raise GateSimError(f"latch {cell.name} ({inst.name}) has a set/reset")
                q = self._state_outputs(inst, lt["vars"][0])
                d_pin = lt["data_in"].strip()
                latches.extend((slot(b), slot(inst.inputs[d_pin]), inv,
                                slot(inst.inputs[inst.clock_pin])) for b, inv in q)
                continue
            if cell.sequential:
                ff = cell.ff
                if ff is None or ff.get("clear") or ff.get("preset"):
                    raise GateSimError(f"cell {cell.name} ({inst.name}): only rising-edge "
                                       f"flip-flops without set/reset are simulated")
                clk = inst.clock_pin
                if clk not in inst.inputs or inst.inputs[clk] not in clock.bits:
                    raise GateSimError(f"cell {cell.name} ({inst.name}) is not clocked on the "
                                       f"rising edge of a clock (clocked_on "
                                       f"{ff['clocked_on']!r})")
                d_pin = ff["next_state"].strip()
                if d_pin not in inst.inputs:
                    raise GateSimError(f"cell {cell.name}: next_state {d_pin!r} is not a pin")
                ffs.extend((slot(b), slot(inst.inputs[d_pin]), inv, slot(inst.inputs[clk]))
                           for b, inv in self._state_outputs(inst, ff["vars"][0]))
                continue
            pins = sorted(inst.inputs)
            if len(pins) > MAX_INPUTS:
                raise GateSimError(f"cell {cell.name} has {len(pins)} inputs (at most "
                                   f"{MAX_INPUTS} are simulated)")
            for pin, bit in inst.outputs.items():
                func = cell.pins[pin].function
                if func is None:
                    raise GateSimError(f"cell {cell.name} output {pin} has no function")
                key = (cell.name, pin)
                if key not in tables:
                    tables[key] = (len(tables), truth_table(func, pins))
                ins = [slot(inst.inputs[p]) for p in pins] + [0] * (MAX_INPUTS - len(pins))
                node = (slot(bit), ins, tables[key][0])
                (clock_nodes if id(inst) in clock_ids else data_nodes).append(node)
        self.size = len(self.bits)
        tt = np.zeros((max(1, len(tables)), 1 << MAX_INPUTS), dtype=np.uint8)
        for k, table in tables.values():
            # Unused high index bits read the constant-0 slot, so only the low part is used.
            tt[k, :table.size] = table
        self._tt = tt.reshape(-1)
        self.nodes = data_nodes
        self._levels = self._levelize(data_nodes)
        self._clock_levels = self._levelize(clock_nodes)

        def columns(rows, width):
            return [np.array([r[k] for r in rows], dtype=np.int64) for k in range(width)]
        self.ff_q, self.ff_d, ff_inv, self.ff_clk = columns(ffs, 4)
        self.ff_inv = ff_inv.astype(np.uint8)
        self.latch_q, self.latch_d, latch_inv, self.latch_en = columns(latches, 4)
        self.latch_inv = latch_inv.astype(np.uint8)
        self.gated = clock.gated
        self.clock_slots = np.array(sorted({slot(b) for b in clock.bits}
                                           | {q for q, _, _, _ in latches}), dtype=np.int64)
        self.v = np.zeros(self.size, dtype=np.uint8)
        self._prev = None
        self.toggles = np.zeros(self.size, dtype=np.int64)
        self.cycles_counted = 0
        self.clear()

    @staticmethod
    def _state_outputs(inst, state):
        """``[(bit, inverted)]`` of a sequential cell's outputs (its state or its inverse)."""
        out = []
        for pin, bit in inst.outputs.items():
            func = (inst.cell.pins[pin].function or "").strip()
            if func not in (state, f"!{state}", f"({state})", f"(!{state})"):
                raise GateSimError(f"cell {inst.cell.name}: output {pin} = {func!r}")
            out.append((bit, "!" in func))
        return out

    def _levelize(self, nodes):
        """Group the cell outputs by logic level (Kahn's algorithm: a node's level is one
        more than its deepest input's driver; flip-flop outputs and ports are level -1)."""
        driven = {out: k for k, (out, _, _) in enumerate(nodes)}
        deps = [[driven[s] for s in set(ins) if s in driven] for _, ins, _ in nodes]
        users = [[] for _ in nodes]
        for k, ds in enumerate(deps):
            for d in ds:
                users[d].append(k)
        waiting = [len(ds) for ds in deps]
        level = [0] * len(nodes)
        ready = [k for k, w in enumerate(waiting) if w == 0]
        done = 0
        while ready:
            k = ready.pop()
            done += 1
            for u in users[k]:
                level[u] = max(level[u], level[k] + 1)
                waiting[u] -= 1
                if waiting[u] == 0:
                    ready.append(u)
        if done != len(nodes):
            raise GateSimError(f"combinational loop in the netlist ({len(nodes) - done} cell "
                               f"outputs on or behind it)")
        groups = {}
        for k, lv in enumerate(level):
            groups.setdefault(lv, []).append(k)
        levels = []
        for lv in sorted(groups):
            ks = groups[lv]
            ins = np.array([nodes[k][1] for k in ks], dtype=np.int64).T.copy()
            base = np.array([nodes[k][2] << MAX_INPUTS for k in ks], dtype=np.int64)
            out = np.array([nodes[k][0] for k in ks], dtype=np.int64)
            levels.append((ins, base, out))
        return levels

    @property
    def depth(self) -> int:
        return len(self._levels)

    def clear(self) -> None:
        """Every net, flip-flop and latch to 0, the clock high (a fresh simulation),
        nothing counted."""
        self.v[:] = 0
        self.v[1] = 1
        self.v[self.roots] = 1
        self._eval(self._clock_levels)
        self.stop_counting()
        self.toggles[:] = 0
        self.cycles_counted = 0

    # ports
    def set(self, port: str, value) -> None:
        """Drive input ``port`` with an integer, or a uint8 bit vector (LSB first)."""
        slots = self.inputs[port]
        if isinstance(value, np.ndarray):
            self.v[slots] = value
        else:
            value = int(value)
            self.v[slots] = [(value >> k) & 1 for k in range(slots.size)]

    def get(self, port: str) -> int:
        bits = self.v[self.outputs[port] if port in self.outputs else self.inputs[port]]
        return int.from_bytes(np.packbits(bits, bitorder="little").tobytes(), "little")

    # evaluation
    def _eval(self, levels) -> None:
        v, tt = self.v, self._tt
        for ins, base, out in levels:
            g = v[ins]
            v[out] = tt[base + (g[0] | (g[1] << 1) | (g[2] << 2) | (g[3] << 3))]

    def evaluate(self) -> None:
        """Settle the data logic (the high phase after a rising edge)."""
        self._eval(self._levels)
        if self._prev is not None:
            np.add(self.toggles, self.v != self._prev, out=self.toggles, casting="unsafe")
            self._prev[:] = self.v
            self.cycles_counted += 1

    def _open_latches(self) -> None:
        """Transparent latches take their D, until the clock network is stable."""
        v = self.v
        for _ in range(self.latch_q.size + 1):
            self._eval(self._clock_levels)
            open_ = v[self.latch_en] == 1
            new = v[self.latch_d] ^ self.latch_inv
            if not np.any(open_ & (v[self.latch_q] != new)):
                return
            v[self.latch_q[open_]] = new[open_]
        raise GateSimError("the gating latches do not settle")

    def clock(self) -> None:
        """A falling and a rising clock edge: flip-flops whose clock rose take their D
        (values evaluated before)."""
        v = self.v
        if not self.gated:
            if self.ff_q.size:
                v[self.ff_q] = v[self.ff_d] ^ self.ff_inv
            if self._prev is not None:
                self.toggles[self.roots] += 2          # the clock fell and rose
            return
        v[self.roots] = 0                               # falling edge: latches open
        self._open_latches()
        if self._prev is not None:
            cs = self.clock_slots
            np.add.at(self.toggles, cs, v[cs] != self._prev[cs])
            self._prev[cs] = v[cs]
        low = v[self.ff_clk].copy()
        new_q = v[self.ff_d] ^ self.ff_inv
        v[self.roots] = 1                               # rising edge
        self._open_latches()
        rose = (v[self.ff_clk] == 1) & (low == 0)
        v[self.ff_q[rose]] = new_q[rose]

    def start_counting(self) -> None:
        """Count toggles from now on, against the current (evaluated) values."""
        self._prev = self.v.copy()
        self.toggles[:] = 0
        self.cycles_counted = 0

    def stop_counting(self) -> None:
        self._prev = None

    def bit_toggles(self) -> dict:
        """``{yosys bit: toggles}`` of the counted window (non-zero nets only)."""
        nz = np.nonzero(self.toggles)[0]
        return {self.bits[k]: int(self.toggles[k]) for k in nz if self.bits[k] is not None}


# -- workloads ----------------------------------------------------------------------------

def _bit_rows(words, width: int) -> np.ndarray:
    """``[len(words), width]`` uint8, LSB first, of Python integers of any width."""
    nbytes = max(1, (width + 7) // 8)
    raw = b"".join(int(w & ((1 << width) - 1)).to_bytes(nbytes, "little") for w in words)
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(len(words), nbytes)
    return np.unpackbits(rows, axis=1, bitorder="little")[:, :width].copy()


def _reset(sim: GateLevelSim, cycles: int = 2) -> None:
    sim.clear()
    if "rst" in sim.inputs:
        sim.set("rst", 1)
        for _ in range(cycles):
            sim.evaluate()
            sim.clock()
        sim.set("rst", 0)


def run_stream_workload(sim: GateLevelSim, streams: dict, *, config: dict | None = None,
                        expected_items: int, decode=None, skip_beats: int = 0,
                        output: str = "o", max_cycles: int | None = None, gap: int = 0):
    """Full-throughput stream run.  ``streams``: ``{port: [payload words]}`` (``"i"`` first
    is the main stream); every output beat of ``output`` is collected (``decode(word)`` ->
    list of items, else the word) until ``expected_items`` have arrived.  ``gap``: idle
    clocks (``valid`` low) after each main-stream beat past the set-up beats, for a block
    that works at a fraction of the clock rate (a requantizer behind a dot-product engine).

    The toggle window starts after the edge that accepts beat number ``skip_beats`` of
    ``i`` (set-up such as a LUT load stays out) and ends one edge after the last output
    transfer.  Returns ``(items, cycles)``; toggles are in ``sim``.  Raises
    :class:`GateSimError` if the run stalls.
    """
    _reset(sim)
    for port, value in (config or {}).items():
        sim.set(port, value)
    ports = list(streams)
    rows = {p: _bit_rows(streams[p], sim.inputs[f"{p}__payload"].size) for p in ports}
    ptr = dict.fromkeys(ports, 0)
    total = {p: len(streams[p]) for p in ports}
    ready_slot = {p: sim.outputs[f"{p}__ready"][0] for p in ports}
    o_valid = sim.outputs[f"{output}__valid"][0]
    sim.set(f"{output}__ready", 1)
    items = []
    limit = max_cycles or (4 + gap) * sum(total.values()) + 4 * expected_items + 10_000
    wait = 0
    # The baseline is the first settled state of the window: inputs of its cycle applied.
    start_next = skip_beats == 0
    cycle = 0
    while len(items) < expected_items:
        if cycle >= limit:
            raise GateSimError(f"gate-level run stalled: {len(items)} of {expected_items} "
                               f"outputs after {cycle} cycles (inputs sent: {ptr})")
        for p in ports:
            valid = ptr[p] < total[p] and not (wait and p == ports[0])
            sim.set(f"{p}__valid", int(valid))
            if valid:
                sim.v[sim.inputs[f"{p}__payload"]] = rows[p][ptr[p]]
        wait = max(0, wait - 1)
        sim.evaluate()
        if start_next:
            sim.start_counting()
            start_next = False
        v = sim.v
        accepted_i = False
        for p in ports:
            if ptr[p] < total[p] and v[ready_slot[p]] and v[sim.inputs[f"{p}__valid"][0]]:
                ptr[p] += 1
                accepted_i |= p == ports[0]
        if accepted_i and ptr[ports[0]] > skip_beats:
            wait = gap
        if v[o_valid]:
            word = sim.get(f"{output}__payload")
            if decode is None:
                items.append(word)
            else:
                items.extend(decode(word))
        sim.clock()
        cycle += 1
        if accepted_i and ptr[ports[0]] == skip_beats:
            start_next = True        # the window opens at the edge accepting that beat
    for p in ports:
        sim.set(f"{p}__valid", 0)
    sim.evaluate()                   # the state after the edge of the last output
    cycles = sim.cycles_counted
    sim.stop_counting()
    return items, cycles


def run_random_workload(sim: GateLevelSim, inputs: dict, cycles: int, rng) -> int:
    """A design without streams: every port of ``inputs`` (``{name: width}``) takes a fresh
    ``rng.getrandbits(width)`` each clock (the order of :mod:`quantrtl.tb.tests.activity`), for
    ``cycles`` clocks after reset and four idle clocks.  Returns the counted cycles."""
    _reset(sim)
    for _ in range(4):
        sim.evaluate()
        sim.clock()
    for k in range(cycles):
        for name, width in inputs.items():
            sim.set(name, rng.getrandbits(width))
        sim.evaluate()
        if k == 0:
            sim.start_counting()
        sim.clock()
    sim.evaluate()
    counted = sim.cycles_counted
    sim.stop_counting()
    return counted
