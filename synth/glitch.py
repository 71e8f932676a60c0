"""Delay-aware (glitch-counting) gate-level simulation, and the energy the zero-delay model
misses.

:class:`synth.gatesim.GateLevelSim` settles the data logic level by level: one value per
net per cycle, so a net whose inputs arrive at different times and which switches several
times before it settles (a *glitch*) counts at most one toggle.  Real gates glitch, and
each extra transition costs ``1/2 C V^2`` plus the cell's internal energy -- most in deep,
reconvergent arithmetic such as array multipliers.  :class:`TimedGateLevelSim` counts
every transition of every data net with per-cell delays; :func:`measure_glitch` prices a
workload both ways and reports the difference.

Timing model
------------
* Integer time steps inside each clock cycle.  Primary inputs change at step 0; flip-flop
  outputs change at step 0 (``"unit"``) or at their clock's latency through the clock
  gating plus the liberty clock-to-Q delay at their load (``"liberty"``).  The clock network
  and the flip-flops/latches are the base class's, zero-delay (clock nets count their pulses
  as there).
* Every combinational cell output has one fixed delay of ``d >= 1`` steps:
  ``"unit"``: ``d = 1`` for every cell (the classic coarse estimate: glitches come only from
  unequal logic depths);
  ``"liberty"``: the liberty NLDM delay (:func:`synth.sta._arc_delay`) at the output's
  actual load (:meth:`synth.netlist.Netlist.load_cap`) and the input slews of static timing
  (:func:`synth.sta.analyze` ``slews``, :data:`synth.sta.INPUT_SLEW_NS` where a net has
  none), the worse of rise and fall over all the output's arcs, rounded to ``step_ns``
  (default 10 ps).  The same delay is used whichever input switched and for both
  directions.
* **Transport delay** (the default): the output at time ``t`` is the cell function of its
  inputs at ``t - d``; pulses shorter than the cell delay are *not* filtered, and every
  transition is taken as full swing, priced like a settled toggle.  For given delays this
  is therefore an *upper* estimate of the glitching (a real gate swallows or attenuates
  short pulses), while the zero-delay count is the lower bound; the two delay models show
  how sensitive the figure is to the delays.
* ``inertial=True`` instead rejects every output pulse shorter than the cell's delay (a
  change of the cell function cancels the output change still pending from less than
  ``d`` before): the classic inertial-delay model.  A rejection window of the full cell
  delay is about where a real gate stops passing a pulse at full swing, so this is the
  more realistic estimate under the same delays -- but not a strict lower bound (a
  rejected pulse still costs a partial swing in silicon); the zero-delay count remains the
  lower bound.
* Not modelled: per-input-pin delays (one delay per output, its slowest arc), delays that
  depend on the transition direction or on the actual slew of each event, wires.
* The value every net settles to is the zero-delay value (the logic is acyclic); each run
  checks it net by net and cycle by cycle and raises :class:`GateSimError` otherwise.

Implementation
--------------
Event driven on a timing wheel indexed by the integer step, vectorised with NumPy.  Events
are ``(net, new value)``; at each step the events due are applied, the nets that changed
select their fan-out cells through a CSR table (net -> reading cell outputs), the selected
outputs are evaluated together (one gather of their inputs, one truth-table lookup, as the
base class does per level) and each output whose value differs from its last scheduled
value gets an event ``d`` steps later (inertial: or cancels its pending one).

Timed propagation needs nothing but a cycle's start state (the previous settled values)
and its new source values, and the zero-delay evaluation gives both; so the counted cycles
are propagated in *batches*: :meth:`TimedGateLevelSim.evaluate` settles the logic with the
base class's level evaluation (exactly the zero-delay values, which the workload reads at
once), records the cycle, and every ``batch`` cycles (and at :meth:`stop_counting` /
:meth:`bit_toggles`) all recorded cycles are propagated at the same time, as rows of one
``[batch, nets]`` value array.  The per-step NumPy overhead is shared by the whole batch,
which makes the liberty model (hundreds of steps per cycle) affordable; ``batch=1``
propagates each cycle inside its own ``evaluate``.  Cycles outside the counting window are
only level-evaluated.
"""

from __future__ import annotations

import heapq
import json
import time

import numpy as np

from .gatesim import MAX_INPUTS, GateLevelSim, GateSimError
from .netlist import Netlist

__all__ = ["TimedGateLevelSim", "measure_glitch", "DELAY_MODELS", "STEP_NS", "GLITCH_VERSION"]

DELAY_MODELS = ("unit", "liberty")
STEP_NS = 0.01                 # liberty time step: 10 ps
GLITCH_VERSION = 1             # cached glitch results are keyed on it
_BATCH_BYTES = 1 << 22         # the batch's value array, [batch, nets] uint8, at most this
_COUNT_CHUNK = 1 << 22         # applied events held before they are added to the counts


class TimedGateLevelSim(GateLevelSim):
    """:class:`GateLevelSim` that counts every transition of the data nets with per-cell
    delays, transport or inertial (see the module docstring for the model).

    ``delays``: ``"unit"`` or ``"liberty"``; ``step_ns``: the time step of ``"liberty"``;
    ``slews``: ``{bit: ns}`` input slews for the liberty lookups (default: run
    :func:`synth.sta.analyze`); ``batch``: cycles propagated together (default: as many as
    fit :data:`_BATCH_BYTES`, at most 1024); ``inertial``: reject pulses shorter than the
    cell delay (default: transport delay, every pulse counted).

    ``delay_steps[k]`` is the delay of data node ``k`` (``nodes[k]``, a cell output) and
    ``launch_steps[slot]`` the step a source net changes at.  :meth:`start_counting` must
    follow an :meth:`evaluate` (as in :func:`synth.gatesim.run_stream_workload`), so that
    the window starts from settled values.

    The interface is the base class's: after :meth:`stop_counting` (or at
    :meth:`bit_toggles`) ``toggles`` holds every counted transition, glitches included;
    ``glitch_toggles`` the part of it the zero-delay model does not see (so ``toggles -
    glitch_toggles`` are the base class's counts), ``stats`` the work done.
    """

    def __init__(self, net: Netlist, delays: str = "liberty", *, step_ns: float = STEP_NS,
                 slews: dict | None = None, batch: int | None = None,
                 inertial: bool = False):
        if delays not in DELAY_MODELS:
            raise ValueError(f"delays={delays!r} is out of range: allowed {list(DELAY_MODELS)}")
        if not step_ns > 0:
            raise ValueError(f"step_ns={step_ns!r} is out of range: allowed > 0")
        self._pending = []      # [(pre, post)] of the counted cycles not yet propagated
        self._chain = None      # the settled state before the first pending cycle
        self.glitch_toggles = None
        super().__init__(net)
        self.delays, self.step_ns, self.inertial = delays, float(step_ns), bool(inertial)
        nodes = self.nodes
        n = len(nodes)
        self._out = np.array([o for o, _, _ in nodes], dtype=np.int64)
        self._ins = (np.array([i for _, i, _ in nodes], dtype=np.int64).reshape(n, MAX_INPUTS)
                     .T.copy())
        self._base = np.array([t << MAX_INPUTS for _, _, t in nodes], dtype=np.int64)
        self._build_fanout()
        self.delay_steps, self.launch_steps = self._timing(slews)
        size = max(self.size, n, 1)
        self.batch = int(batch) if batch else max(1, min(1024, _BATCH_BYTES // size))
        if self.batch < 1:
            raise ValueError(f"batch={batch!r} is out of range: allowed >= 1")
        data = np.ones(self.size, dtype=bool)
        data[self.clock_slots] = False
        self._data = data                                 # nets whose settled value is checked
        self._comb = np.zeros(self.size, dtype=bool)
        self._comb[self._out] = True
        source = data & ~self._comb                        # ports, flip-flop outputs
        source[[0, 1]] = False
        self._sources = np.nonzero(source)[0]
        self.glitch_toggles = np.zeros(self.size, dtype=np.int64)
        self.stats = {"cycles": 0, "events": 0, "evaluations": 0, "steps": 0,
                      "latest_step": 0, "seconds": 0.0}

    # -- set-up -------------------------------------------------------------------------

    def _build_fanout(self) -> None:
        """CSR table net slot -> the data nodes (cell outputs) that read it, each once."""
        n = self._out.size
        node = np.repeat(np.arange(n, dtype=np.int64)[None, :], MAX_INPUTS, axis=0).ravel()
        slot = self._ins.ravel()
        keep = slot > 1                                   # the constants never change
        pairs = np.unique(slot[keep] * max(n, 1) + node[keep])
        slot, node = pairs // max(n, 1), pairs % max(n, 1)
        self._fan_ptr = np.zeros(self.size + 1, dtype=np.int64)
        np.add.at(self._fan_ptr, slot + 1, 1)
        np.cumsum(self._fan_ptr, out=self._fan_ptr)
        self._fan = node                                   # sorted by slot: CSR order

    def _timing(self, slews):
        """``(delay steps per node, launch step per slot)`` of the delay model."""
        n = self._out.size
        launch = np.zeros(self.size, dtype=np.int64)
        if self.delays == "unit":
            return np.ones(n, dtype=np.int64), launch
        from .sta import INPUT_SLEW_NS, _arc_delay, _clock_arrivals, analyze
        net = self.net
        if slews is None:
            slews = analyze(net).slews
        ns = np.zeros(n)
        for k, out in enumerate(self._out.tolist()):
            inst, pin = net.driver[self.bits[out]]
            load = net.load_cap(self.bits[out])
            arcs = [a for a in inst.cell.pins[pin].arcs
                    if not a.timing_type.startswith(("setup", "hold"))]
            ns[k] = max((_arc_delay(a, load, slews.get(inst.inputs.get(a.related_pin),
                                                       INPUT_SLEW_NS))[0] for a in arcs),
                        default=0.0)
        steps = np.maximum(1, np.rint(ns / self.step_ns)).astype(np.int64)
        if steps.max(initial=1) >= 1 << 15:
            raise ValueError(f"step_ns={self.step_ns} is too fine: a cell delay of "
                             f"{ns.max():.3f} ns is {steps.max()} steps (allowed < 32768)")
        # Flip-flop outputs: clock latency (through the gating cells) + clock-to-Q.
        latency, clk_slew = _clock_arrivals(net)
        for inst in net.instances:
            if not inst.cell.ff:
                continue
            clk = inst.inputs.get(inst.clock_pin)
            for pin, bit in inst.outputs.items():
                if isinstance(bit, str) or bit not in self.index:
                    continue
                arcs = [a for a in inst.cell.pins[pin].arcs if a.timing_type.endswith("edge")]
                d = max((_arc_delay(a, net.load_cap(bit), clk_slew.get(clk, INPUT_SLEW_NS))[0]
                         for a in arcs), default=0.0)
                launch[self.index[bit]] = int(np.rint((latency.get(clk, 0.0) + d)
                                                      / self.step_ns))
        return steps, launch

    # -- the counting window --------------------------------------------------------------

    def clear(self) -> None:
        self._pending, self._chain = [], None
        super().clear()
        if self.glitch_toggles is not None:
            self.glitch_toggles[:] = 0

    def evaluate(self) -> None:
        """Settle the data logic (zero-delay values, at once); a counted cycle is recorded
        and its timed propagation done with its batch."""
        counting = self._prev is not None
        pre = self.v.copy() if counting else None
        super().evaluate()
        if counting:
            self._pending.append((pre, self.v.copy()))
            if len(self._pending) >= self.batch:
                self._flush()

    def start_counting(self) -> None:
        super().start_counting()
        self._pending = []
        self._chain = self.v.copy()
        self.glitch_toggles[:] = 0

    def stop_counting(self) -> None:
        if self._pending:
            self._flush()
        super().stop_counting()

    def bit_toggles(self) -> dict:
        if self._pending:
            self._flush()
        return super().bit_toggles()

    # -- timed propagation ----------------------------------------------------------------

    def _flush(self) -> None:
        """Propagate the pending cycles with delays; add their glitch transitions."""
        t0 = time.monotonic()
        pre = np.stack([p for p, _ in self._pending])
        post = np.stack([q for _, q in self._pending])
        start = np.concatenate([self._chain[None, :], post[:-1]])
        self._chain = post[-1].copy()
        self._pending = []
        counts, stats = self._propagate(start, pre, post)
        settled = np.count_nonzero(post != start, axis=0)
        extra = np.where(self._comb, counts - settled, 0)
        if np.any(extra < 0) or np.any(extra % 2):
            bad = int(np.nonzero((extra < 0) | (extra % 2 != 0))[0][0])
            raise GateSimError(f"timed simulation miscounted net "
                               f"{self.net.names.get(self.bits[bad], self.bits[bad])}: "
                               f"{counts[bad]} transitions, {settled[bad]} settled")
        self.toggles += extra
        self.glitch_toggles += extra
        for key, value in stats.items():
            self.stats[key] = max(self.stats[key], value) if key == "latest_step" \
                else self.stats[key] + value
        self.stats["cycles"] += pre.shape[0]
        self.stats["seconds"] += time.monotonic() - t0

    def _propagate(self, start, pre, post):
        """Event-driven propagation of ``B`` independent cycles: row ``r`` starts from the
        settled state ``start[r]``, its sources switch to ``pre[r]`` at their launch steps,
        and it must settle to ``post[r]`` on every data net.  Returns (transitions per slot
        summed over the rows, work counters)."""
        rows, size = start.shape
        n = max(self._out.size, 1)
        v = start.reshape(-1).copy()
        out, ins, base, tt = self._out, self._ins, self._base, self._tt
        fan_ptr, fan, delay = self._fan_ptr, self._fan, self.delay_steps
        inertial = self.inertial
        # Per (row, node): its last scheduled value (the current one if nothing is pending)
        # and, inertial only, the step of its pending event (-1: none).
        proj = v.reshape(rows, size)[:, out].reshape(-1)
        due = np.full(rows * n, -1, dtype=np.int64) if inertial else None
        mark = np.empty(rows * n, dtype=np.int64)         # de-duplication scratch
        wheel, times = {}, []

        def schedule(when, ids, vals, keys):
            bucket = wheel.get(when)
            if bucket is None:
                wheel[when] = bucket = []
                heapq.heappush(times, when)
            bucket.append((ids, vals, keys))

        # Source events: the nets without a combinational driver that changed this cycle.
        src = self._sources
        r, c = np.nonzero(pre[:, src] != start[:, src])
        if r.size:
            ids = r * size + src[c]
            vals = pre[r, src[c]]
            when = self.launch_steps[src[c]]
            for t in np.unique(when).tolist():
                sel = when == t
                schedule(t, ids[sel], vals[sel], np.full(int(sel.sum()), -1, dtype=np.int64))
        counts = np.zeros(size, dtype=np.int64)
        applied, held = [], 0                             # applied events, not yet counted
        events = evaluations = steps = latest = 0
        while times:
            t = heapq.heappop(times)
            bucket = wheel.pop(t)
            if len(bucket) == 1:
                ids, vals, keys = bucket[0]
            else:
                ids, vals, keys = (np.concatenate([e[k] for e in bucket]) for k in range(3))
            if inertial:                                  # drop the cancelled events
                ok = keys < 0
                ok[~ok] = due[keys[~ok]] == t
                ids, vals, keys = ids[ok], vals[ok], keys[ok]
                due[keys[keys >= 0]] = -1
                if not ids.size:
                    continue
            v[ids] = vals
            applied.append(ids)
            held += ids.size
            if held > _COUNT_CHUNK:
                counts += np.bincount(np.concatenate(applied) % size, minlength=size)
                applied, held = [], 0
            events += ids.size
            steps += 1
            latest = t
            # The readers of the changed nets, once each per row.
            row, slot = np.divmod(ids, size)
            lo = fan_ptr[slot]
            cnt = fan_ptr[slot + 1] - lo
            total = int(cnt.sum())
            if total == 0:
                continue
            first = np.cumsum(cnt) - cnt
            idx = np.arange(total, dtype=np.int64) + np.repeat(lo - first, cnt)
            node = fan[idx]
            row = np.repeat(row, cnt)
            key = row * n + node
            mark[key] = np.arange(total)
            keep = mark[key] == np.arange(total)
            node, row, key = node[keep], row[keep], key[keep]
            evaluations += node.size
            # Evaluate them on the values of this step.
            g = v[ins[:, node] + (row * size)[None, :]]
            y = tt[base[node] + (g[0] | (g[1] << 1) | (g[2] << 2) | (g[3] << 3))]
            new = y != proj[key]
            if not new.any():
                continue
            node, row, key, y = node[new], row[new], key[new], y[new]
            proj[key] = y
            if inertial:
                # y differs from a pending value: it is the current one again, a pulse
                # shorter than the cell delay -- cancel it instead of scheduling.
                pending = due[key] > t
                due[key[pending]] = -1
                node, row, key, y = (a[~pending] for a in (node, row, key, y))
                if not node.size:
                    continue
            target = row * size + out[node]
            d = delay[node]
            if inertial:
                due[key] = t + d
            if d.min() == d.max():
                schedule(t + int(d[0]), target, y, key)
                continue
            order = np.argsort(d.astype(np.int16), kind="stable")   # radix sort
            d, target, y, key = d[order], target[order], y[order], key[order]
            cuts = np.nonzero(d[1:] != d[:-1])[0] + 1
            for lo_, hi_ in zip(np.concatenate([[0], cuts]).tolist(),
                                np.concatenate([cuts, [d.size]]).tolist()):
                schedule(t + int(d[lo_]), target[lo_:hi_], y[lo_:hi_], key[lo_:hi_])
        final = v.reshape(rows, size)
        wrong = (final != post) & self._data[None, :]
        if wrong.any():
            r, s = (int(x[0]) for x in np.nonzero(wrong))
            raise GateSimError(f"timed simulation settles net "
                               f"{self.net.names.get(self.bits[s], self.bits[s])} to "
                               f"{final[r, s]}, the zero-delay value is {post[r, s]} (row {r} "
                               f"of a batch)")
        if applied:
            counts += np.bincount(np.concatenate(applied) % size, minlength=size)
        return counts, {"events": events, "evaluations": evaluations, "steps": steps,
                        "latest_step": latest}


# -- the zero-delay vs timed energy of a workload ------------------------------------------

def _truncate(mode, payload, info, max_ops):
    """The workload cut to at most ``max_ops`` operations (whole dot products / rows; at
    least one), and its info updated."""
    if max_ops is None or max_ops >= info["ops"]:
        return payload, info
    if max_ops < 1:
        raise ValueError(f"max_ops={max_ops!r} is out of range: allowed >= 1")
    if mode == "random":
        cycles = int(max_ops)
        return ({**payload, "QUANTRTL_CYCLES": cycles},
                {**info, "ops": cycles, "truncated_from": info["ops"]})
    dots, length = info.get("dot_products", 0), info.get("length", 1)
    if not dots:
        raise ValueError(f"max_ops: the {info.get('op')!r} workload has no dot products or "
                         f"rows to truncate")
    keep = max(1, min(dots, int(max_ops) // length))
    cut = {k: (v[:keep] if np.ndim(v) >= 1 and np.shape(v)[0] == dots else v)
           for k, v in payload.items()}
    return cut, {**info, "ops": keep * length, "dot_products": keep,
                 "truncated_from": info["ops"]}


def measure_glitch(design, synth: dict, *, n: int = 64, seed: int = 1, gating: str = "icg",
                   delays: str = "liberty", max_ops: int | None = None,
                   step_ns: float = STEP_NS, inertial: bool = False,
                   fresh: bool = False, workload: tuple | None = None) -> dict | None:
    """The workload of :func:`synth.flow.measure_energy` (its ``workload`` override
    included; optionally cut to ``max_ops`` operations) on the ``gating`` netlist,
    simulated zero-delay and with ``delays``
    (transport delay, or ``inertial``; the same netlist, workload, slews and component
    attribution), both priced with :func:`synth.energy.energy_from_toggles`.

    ``glitch_share`` is ``(timed - zero) / timed`` of the total energy;
    ``glitch_share_logic`` the same of the part glitches can touch (switching and internal
    energy of the data nets and cells: no clock network, no leakage).  Both runs check every
    output against the
    golden model (stream blocks; the random-operand helpers have none) and the timed run's
    settled values against the zero-delay ones; the timed run's settled toggles must equal
    the zero-delay run's exactly.  ``None`` if the block has no workload.  Cached in the
    design's work directory, keyed by the netlist, workload and delay model."""
    from quantrtl.vectors import CLOCK_PERIOD_NS

    from .components import attribute
    from .energy import energy_from_toggles
    from .flow import (FLOW_VERSION, SLEWS, _cached, _hash, _load_netlist, _native_activity,
                       _save, energy_components, energy_inputs, vectors_digest)
    from .gatesim import GateLevelSim
    if delays not in DELAY_MODELS:
        raise ValueError(f"delays={delays!r} is out of range: allowed {list(DELAY_MODELS)}")
    lib_path, _, work, (json_name, verilog_name), mode, payload, info = \
        energy_inputs(design, synth, gating, workload, n, seed)
    if mode is None:
        return None
    payload, info = _truncate(mode, payload, info, max_ops)
    components = energy_components(design)
    digest = vectors_digest(payload)
    key = _hash(FLOW_VERSION, GLITCH_VERSION, (work / verilog_name).read_text(), mode, n,
                seed, max_ops, delays, step_ns if delays == "liberty" else None, inertial,
                digest,
                json.dumps(info, sort_keys=True), json.dumps(components))
    suffix = ("-inertial" if inertial else "") + (f"-ops{max_ops}" if max_ops is not None
                                                  else "")
    tag = f"w{digest}" if workload is not None else f"n{n}-s{seed}"
    cache = work / f"glitch-{gating}-{tag}-{delays}{suffix}.json"
    if not fresh and (hit := _cached(cache, key)) is not None:
        return hit
    t_start = time.monotonic()
    net = _load_netlist(work / json_name, lib_path, design.top)
    slews = {int(k): v for k, v in json.loads((work / SLEWS[gating]).read_text()).items()}
    zero_sim = GateLevelSim(net)
    t0 = time.monotonic()
    zero_bits, zero_cycles = _native_activity(design, net, mode, payload, info, seed,
                                              sim=zero_sim)
    t_zero = time.monotonic() - t0
    t0 = time.monotonic()
    timed = TimedGateLevelSim(net, delays, step_ns=step_ns, slews=slews, inertial=inertial)
    t_setup = time.monotonic() - t0
    t0 = time.monotonic()
    timed_bits, timed_cycles = _native_activity(design, net, mode, payload, info, seed,
                                                sim=timed)
    t_timed = time.monotonic() - t0
    settled = {timed.bits[k]: int(c) for k, c in
               enumerate((timed.toggles - timed.glitch_toggles).tolist())
               if c and timed.bits[k] is not None}
    if timed_cycles != zero_cycles or settled != zero_bits:
        raise GateSimError(f"{design.label}: the timed run's settled toggles differ from the "
                           f"zero-delay run's ({timed_cycles} vs {zero_cycles} cycles)")
    t0 = time.monotonic()
    owners = attribute(net, components)
    price = lambda bits: energy_from_toggles(  # noqa: E731
        net, bits, zero_cycles, CLOCK_PERIOD_NS, slews, component=lambda i: owners[id(i)])
    zero, tim = price(zero_bits), price(timed_bits)
    t_price = time.monotonic() - t0
    ops = info["ops"]
    glitch = tim.total_pj - zero.total_pj
    logic = lambda r: r.switching_pj + r.internal_comb_pj + r.internal_seq_pj  # noqa: E731
    rnd = lambda d: {k: round(x, 4) for k, x in sorted(d.items())}  # noqa: E731
    parts = sorted(set(zero.breakdown) | set(tim.breakdown))
    result = {
        "design": design.label, "workload": info, "seed": seed, "gating": gating,
        "delays": delays, "step_ns": step_ns if delays == "liberty" else None,
        "inertial": bool(inertial),
        "cycles": zero_cycles,
        "zero_delay_pj": round(zero.total_pj, 4), "timed_pj": round(tim.total_pj, 4),
        "glitch_pj": round(glitch, 4),
        "glitch_share": round(glitch / tim.total_pj, 5) if tim.total_pj else 0.0,
        # The share of the energy glitches can touch: data nets and cells, no clock/leakage.
        "glitch_share_logic": round((logic(tim) - logic(zero)) / logic(tim), 5)
        if logic(tim) else 0.0,
        "toggles_zero": zero.toggles, "toggles_timed": tim.toggles,   # data nets
        "breakdown_zero_pj": rnd(zero.breakdown), "breakdown_timed_pj": rnd(tim.breakdown),
        "glitch_share_by_component": {
            p: round(1 - zero.breakdown.get(p, 0.0) / tim.breakdown[p], 5)
            for p in parts if tim.breakdown.get(p, 0.0) > 0},
        "per_op": {"op": info["op"], "ops": ops,
                   "zero_delay_pj": round(zero.total_pj / ops, 5),
                   "timed_pj": round(tim.total_pj / ops, 5),
                   "glitch_pj": round(glitch / ops, 5)},
        "zero_delay": zero.as_dict(), "timed": tim.as_dict(),
        "timed_stats": {**{k: v for k, v in timed.stats.items() if k != "seconds"},
                        "latest_ns": (round(timed.stats["latest_step"] * step_ns, 4)
                                      if delays == "liberty" else None),
                        "batch": timed.batch, "cells": len(net.instances)},
        "seconds": {"zero_delay": round(t_zero, 3), "timed_setup": round(t_setup, 3),
                    "timed": round(t_timed, 3), "pricing": round(t_price, 3),
                    "total": round(time.monotonic() - t_start, 3)},
        "timed_cycles_per_second": round(timed_cycles / t_timed, 1) if t_timed else None,
    }
    if info.get("dot_products"):
        result["per_op"]["dot_products"] = info["dot_products"]
    _save(cache, key, result)
    return {**result, "cached": False}
