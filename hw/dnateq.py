"""The DNA-TEQ exponent-domain dot-product datapath (SPEC 3), for one or ``pes`` dot products
at a time.

No multiplier per element: each pair of ``n``-bit exponential codes (see
:mod:`golden.dnateq`: sign bit + ``n-1`` exponent bits, zero code ``2^(n-1)``) costs one
``(n-1)``-bit exponent adder and three (four without ``fold_c3``) signed counter updates; a
post-processor turns the counters into the dot product with a run-time loaded LUT after the
last pair::

    R = sum_e counters[e] * lut[e]       e over [C0 | C1 | C2 | C3], E = 2^(n+1) entries

:func:`golden.dnateq.dot_product` (with the block's ``fold_c3``) is the bit-exact reference.

Stream ``i`` (one beat = ``lanes`` activation codes and, per PE, ``lanes`` weight codes, or
one LUT write)
    ``load = 0``: ``x[l]`` are the activation codes of ``lanes`` pairs, shared by the ``pes``
    dot products (an output-stationary array: one activation row against ``pes`` weight
    rows); ``w[l]`` (``pes = 1``) or ``w[p][l]`` the weight codes of PE ``p``; ``last`` ends
    the dot products.  Pairs where either code is the zero code are skipped (no counter
    moves), so a dot product whose length is not a multiple of ``lanes`` is padded with zero
    codes.  ``load = 1``: writes ``lut[addr] = data`` (unsigned ``lut_width`` bits, fixed
    point with ``frac_bits`` fractional bits); the codes and ``last`` are ignored.  A LUT
    write is applied only once every dot product completed before it has been
    post-processed (until then it is held in a register and ``i.ready`` is low), so it
    applies exactly to the dot products whose ``last`` beat comes after it.  ``i.ready``
    never depends on the payload.
Stream ``o``: ``R`` as ``signed(result_width)``, ``pes`` results per ``last`` beat, in PE
order, in the order of the dot products.

Datapath (sub-components joined with ``wiring.connect``: :class:`PairDecoder`,
:class:`CounterBank`, :class:`HandOver`, :class:`StepMerge`, :class:`Lut` with its
:class:`LutWritePort`, :class:`PostProcessor`)
    Decode: the activation codes' sign, exponent and zero flag are decoded once and shared
    by every PE; each PE adds its weight exponents (``k = fx + fw``) and qualifies the pair.
    Counting: PE ``p``'s lane ``l`` updates its own :class:`CounterBank` of signed counters
    (``bank_width`` bits: a bank sees at most ``ceil(max_length / lanes)`` pairs, so it never
    overflows within ``max_length``; past it the counters wrap).  Per non-zero pair
    ``C0[k]``, ``C1[fx]``, ``C2[fw]`` (and ``C3`` without ``fold_c3``) move by ``+1`` (signs
    equal) or ``-1``.  Double buffering: in the clock after a dot product's last beat (once
    the post-processor is free) every bank copies its counters into its snapshot registers
    and the counters restart, counting the next dot product's first beat in that same clock.
    The stream control is two :class:`hw.pipeline.StallPipeline` s: the input into the
    counters (:func:`input_stage`, whose output register says the counters hold a completed
    dot product; ``stall`` while a LUT write is pending), and the :class:`HandOver`, a
    serializer that gives each completed dot product out as its ``pes * E / pp_lanes``
    post-processing steps.
    Post-processing, shared by the PEs and time-multiplexed: ``pp_lanes`` entries per clock,
    ``E / pp_lanes`` steps per PE, PE after PE; each step reads ``pp_lanes`` snapshot
    entries of every bank of that PE, merges the lanes, and the :class:`PostProcessor`
    multiplies by the LUT entries, sums and accumulates (pipeline: counts and LUT values |
    products | adder tree | accumulator and output).  It stalls only on the output
    (``advance = ~o.valid | o.ready``, a :class:`hw.pipeline.StallPipeline`).

Low-power structure (each is measured in ``docs/dnateq.md``)
    ``isolate``: only the counter a pair hits sees a non-zero update (its own copy of the
    pair's sign, gated by its hit), so the next-state logic of every other counter holds
    still; without it every counter's update logic follows every pair's sign.
    ``fold_c3``: no ``C3`` counter: ``C3 = sum_k C0[k]``, so its term lives in the ``C0``
    LUT entries (:func:`golden.dnateq.make_lut` ``fold_c3``); LUT address ``E - 1`` then has
    no register and writes to it are ignored.
    ``counter="signmag"``: a counter keeps sign and magnitude, so a count wandering around
    zero (the sum of random signs) flips one or two bits per update instead of every bit
    of a two's-complement word at each 0 <-> -1 crossing; converted to two's complement
    only when the post-processor reads it.  ``"twos"``: plain two's complement.
    Registers load only when they change (a counter when hit or restarted, the snapshot at
    a copy, the LUT when written, the pipeline on valid beats) and are reset-less or carry
    the reset in their enable, so the flow's clock gating (:mod:`synth.clockgate`) gates
    them.

Timing (``o.ready`` high): the input takes one beat per clock unless the counters still
hold a completed dot product that the busy post-processor has not taken (then ``i.ready``
is low); the first result of a group of dot products appears ``E / pp_lanes + 5`` clocks
after its last beat is accepted when the post-processor was idle (one clock for the copy),
the others ``E / pp_lanes`` clocks apart.  Back to back, ``N`` pairs cost
``max(ceil(N / lanes), pes * E / pp_lanes)`` clocks per group (``cycles_per_dot_product``):
counting and post-processing overlap completely.
"""

from math import ceil

from types import SimpleNamespace

from amaranth import Cat, Const, Module, Mux, ResetSignal, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from quantrtl.spec import (COUNTER_CODES, DNATEQ_N_MAX, DNATEQ_N_MIN, Param, check_choice,
                           check_int)
from .component import Component
from .pipeline import CLOCK_GATE, StallPipeline, select, tree_sum

__all__ = ["DnaTeqDotProduct", "PairDecoder", "CounterBank", "Lut", "LutWritePort",
           "HandOver", "StepMerge", "PostProcessor", "input_stage", "COUNTER_CODES"]



def _increment(x):
    """``x + 1`` (wrapping) as explicit carry logic: bit ``i`` flips when every lower bit is
    1.  Written out so that synthesis does not merge it with a decrement into one adder
    with a multiplexed operand."""
    bits, carry = [], 1
    for i in range(len(x)):
        bits.append(x[i] ^ carry)
        carry = carry & x[i]
    return Cat(*bits)


def _decrement(x):
    """``x - 1`` (wrapping): bit ``i`` flips when every lower bit is 0."""
    bits, borrow = [], 1
    for i in range(len(x)):
        bits.append(x[i] ^ borrow)
        borrow = borrow & ~x[i]
    return Cat(*bits)


def _entry_hit(e, offsets, k, fx, fw):
    """Whether entry ``e`` of the entry space is the one a pair with exponent sum ``k`` and
    exponents ``fx``, ``fw`` moves (``C3`` is moved by every pair)."""
    o0, o1, o2, o3 = offsets
    if e < o1:
        return k == e - o0
    if e < o2:
        return fx == e - o1
    if e < o3:
        return fw == e - o2
    return 1


def pair_signature(n):
    """A decoded code pair, as a counter bank takes it: ``live`` (both codes non-zero and
    the beat taken), ``neg`` (the sign product), ``fx``, ``fw`` (the exponents)."""
    return wiring.Signature({"live": Out(1), "neg": Out(1), "fx": Out(n - 1),
                             "fw": Out(n - 1)})


def handover_signature(steps):
    """What the hand-over control tells every counter bank: ``copy`` (snapshot the counts,
    restart the counters) and ``step`` (the post-processing step the snapshot is read at)."""
    return wiring.Signature({"copy": Out(1), "step": Out(range(max(steps, 2)))})


def snapshot_signature(mag_width, pp_lanes):
    """``pp_lanes`` sign-magnitude snapshot entries of one step."""
    return wiring.Signature({"mag": Out(data.ArrayLayout(unsigned(mag_width), pp_lanes)),
                             "neg": Out(data.ArrayLayout(unsigned(1), pp_lanes))})


def lut_write_signature(entries, width):
    """A write of LUT entry ``addr`` with ``data`` when ``we``."""
    return wiring.Signature({"we": Out(1), "addr": Out(range(entries)), "data": Out(width)})


class CounterBank(Component):
    """Signed up/down counters over the entry space for one lane of one PE, and a snapshot
    of them for the post-processor.

    Members: ``pair`` (:func:`pair_signature`: a non-zero pair this clock, its sign
    product and exponents); ``ctl`` (:func:`handover_signature`): ``ctl.copy``, the
    snapshot takes the counters and the counters restart from this clock's pair (a
    completed dot product handed over), and ``ctl.step``; ``read``
    (:func:`snapshot_signature`): ``pp_lanes`` sign-magnitude values of snapshot entries
    ``step * pp_lanes + j`` (0 for the entry without a counter: ``counted`` is
    ``2^(n+1)``, or one fewer with ``fold_c3``).

    A counter is clocked only when its pair hits it, at a copy or at reset (which it carries
    in its enable), so each gates on its own; the snapshot is one register group clocked only
    at copies.  This is the double buffering: counting goes on while the post-processor reads
    the snapshot.
    """

    def __init__(self, *, n, width, pp_lanes, fold_c3, isolate, counter):
        self.n, self.width, self.pp = n, width, pp_lanes
        self.isolate = isolate
        self.counter = check_choice("counter", counter, COUNTER_CODES)
        m = 1 << (n - 1)
        self.offsets = (0, 2 * m - 1, 3 * m - 1, 4 * m - 1)
        self.entries = 4 * m
        self.counted = self.entries - 1 if fold_c3 else self.entries
        self.steps = self.entries // pp_lanes
        super().__init__({
            "pair": In(pair_signature(n)),
            "ctl": In(handover_signature(self.steps)),
            "read": Out(snapshot_signature(width - 1, pp_lanes)),
        })

    def _next(self, value, neg):
        """The counter's next value after a ``+1`` (``neg`` = 0) or ``-1`` update.

        The incremented and the decremented values are computed apart, each from the
        counter alone, and selected: they change only when the counter does, so a pair's
        sign reaches no more than the final selection (an adder with a +1/-1 operand would
        flip that whole operand with every sign)."""
        if self.counter == "twos":
            return Mux(neg, _decrement(value), _increment(value))
        sign, mag = value[-1], value[:-1]
        zero = mag == 0
        up = zero | (sign == neg)
        return Cat(Mux(up, _increment(mag), _decrement(mag)), Mux(zero, neg, sign))

    def _sign_magnitude(self, raw):
        """``(magnitude, negative)`` of a stored counter."""
        if self.counter == "signmag":
            return raw[:-1], raw[-1]
        value = raw.as_signed()
        return Mux(value[-1], -value, value)[:self.width - 1], value[-1]

    def elaborate(self, platform):
        m = Module()
        pair, copy, step = self.pair, self.ctl.copy, self.ctl.step
        k = Signal(self.n, name="k")          # the exponent adder
        m.d.comb += k.eq(pair.fx + pair.fw)
        reset = ResetSignal()
        # No register of the bank changes without a live pair, a copy or the reset: the
        # flow's hierarchical clock gating clocks the whole bank only then.
        gate = Signal(name=CLOCK_GATE, attrs={"keep": 1})
        m.d.comb += gate.eq(pair.live | copy | reset)
        snap = []
        for e in range(self.counted):
            hit = Signal(name=f"hit{e}")
            m.d.comb += hit.eq(pair.live & _entry_hit(e, self.offsets, k, pair.fx, pair.fw))
            neg = pair.neg & hit if self.isolate else pair.neg
            c = Signal(self.width, name=f"cnt{e}", reset_less=True)
            base = Mux(copy, 0, c)       # a copy restarts the count at this clock's pair
            # The next value is computed from the counter and its own (isolated) update
            # whether or not the counter is clocked, so it changes only when the counter
            # does: only a copy without a hit forces a zero in.
            value = Mux(copy & ~hit, 0, self._next(base, neg))
            with m.If(reset | hit | copy):   # one explicit enable, so the counter gates
                m.d.sync += c.eq(Mux(reset, 0, value))
            s = Signal(self.width, name=f"snap{e}", reset_less=True)
            with m.If(copy):
                m.d.sync += s.eq(c)
            snap.append(s)
        for j in range(self.pp):
            group = [e * self.pp + j for e in range(self.steps)]
            raw = select([snap[e] if e < self.counted else Const(0, self.width)
                           for e in group], step)
            mag, neg = self._sign_magnitude(raw)
            m.d.comb += [self.read.mag[j].eq(mag), self.read.neg[j].eq(neg)]
        return m


class Lut(Component):
    """The run-time loaded LUT: ``counted`` unsigned ``width``-bit registers (reset to 0),
    written through ``w`` (:func:`lut_write_signature`), read ``pp_lanes`` at a time
    (``read[j]`` = entry
    ``step * pp_lanes + j``, 0 for the entry without a register).  The table is one
    clock-gating group, clocked only on writes and at reset."""

    def __init__(self, *, entries, counted, width, pp_lanes):
        self.entries, self.counted, self.width, self.pp = entries, counted, width, pp_lanes
        self.steps = entries // pp_lanes
        super().__init__({
            "w": In(lut_write_signature(entries, width)),
            "step": In(range(max(self.steps, 2))),
            "read": Out(data.ArrayLayout(unsigned(width), pp_lanes)),
        })

    def elaborate(self, platform):
        m = Module()
        reset = ResetSignal()
        lut = [Signal(self.width, name=f"entry{e}", reset_less=True)
               for e in range(self.counted)]
        # Every entry shares one enable, a write or the reset, so the whole table is one
        # clock-gating group clocked only while it is written; the entry a write selects
        # takes the data, the others keep their value through AND/OR selection (not a
        # multiplexer, which synthesis would merge back into a per-entry enable and give
        # every entry a gating cell clocked every cycle).
        with m.If(reset | self.w.we):
            for e, reg in enumerate(lut):
                pick = (self.w.addr == e).replicate(self.width)
                kept = (self.w.data & pick) | (reg & ~pick)
                m.d.sync += reg.eq(Mux(reset, 0, kept))
        for j in range(self.pp):
            group = [e * self.pp + j for e in range(self.steps)]
            m.d.comb += self.read[j].eq(select([lut[e] if e < self.counted
                                                 else Const(0, self.width) for e in group],
                                                self.step))
        return m


class LutWritePort(Component):
    """The LUT's write port: a write beat is applied at once while the engine is ``idle``
    (no completed dot product awaits post-processing); otherwise it is held in a register
    (``pending``, which stalls the input) and applied in the first idle clock.  So a write
    applies exactly to the dot products whose ``last`` beat comes after it.

    Members: ``load`` (a LUT-write beat taken), ``addr``, ``data``, ``idle``; ``w`` (to
    :class:`Lut`), ``pending``."""

    def __init__(self, *, entries, width):
        self.entries, self.width = entries, width
        super().__init__({
            "load": In(1), "addr": In(range(entries)), "data": In(width), "idle": In(1),
            "w": Out(lut_write_signature(entries, width)), "pending": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        addr = Signal(range(self.entries), name="held_addr")
        value = Signal(self.width, name="held_data")
        with m.If(self.load & ~self.idle):
            m.d.sync += [self.pending.eq(1), addr.eq(self.addr), value.eq(self.data)]
        with m.If(self.pending & self.idle):
            m.d.sync += self.pending.eq(0)
        m.d.comb += [
            self.w.we.eq((self.load | self.pending) & self.idle),
            self.w.addr.eq(Mux(self.pending, addr, self.addr)),
            self.w.data.eq(Mux(self.pending, value, self.data)),
        ]
        return m


class HandOver(Component):
    """The hand-over of completed dot products from the counters to the post-processor:
    a serializer (:class:`hw.pipeline.StallPipeline`, ``beats=(steps, pes)``) that gives
    each one out as the post-processor's step sequence, ``steps`` steps per PE, PE after
    PE.

    Members: ``i`` (a stream without payload: ``i.valid``, the counters hold a completed
    dot product -- the output register of the engine's counting pipeline; a transfer is
    the copy into the snapshot), ``issue`` (the post-processor takes a step this clock:
    the step stream's transfer); ``busy`` (the snapshot is being post-processed: the step
    stream's valid), ``idle`` (neither held nor busy), ``pe`` and ``ctl``
    (:func:`handover_signature`: ``copy``, and the step as ``ctl.step``), ``first`` and
    ``last`` (the step is a PE's first or last).

    The copy happens as soon as the snapshot is free -- at once when the post-processor
    is idle, or in the clock it issues its final step (that step reads the snapshot in
    this clock, the copy writes it at the edge): ``i.ready = ~busy | (issue & final)``,
    ``final`` the last PE's last step."""

    def __init__(self, *, steps, pes):
        self.steps, self.pes = steps, pes
        super().__init__({
            "i": In(stream.Signature(0)), "issue": In(1),
            "busy": Out(1), "idle": Out(1),
            "pe": Out(range(max(pes, 2))), "ctl": Out(handover_signature(steps)),
            "first": Out(1), "last": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        # The step stream: ``issue`` is its transfer, which serves as its ready (a ready
        # counts only while valid).
        steps = SimpleNamespace(valid=self.busy, ready=self.issue)
        pipe = StallPipeline(m, self.i, steps, beats=(self.steps, self.pes))
        pipe.output(pipe.valid)
        group, pe = pipe.index
        m.d.comb += [
            self.ctl.copy.eq(pipe.advance & pipe.valid),
            self.ctl.step.eq(group),
            self.pe.eq(pe),
            self.first.eq(group == 0),
            self.last.eq(group == self.steps - 1),
            self.idle.eq(~self.i.valid & ~self.busy),
        ]
        return m


def input_stage(m, i, counters, pending):
    """The engine's input, a :class:`hw.pipeline.StallPipeline` from ``i`` (beats with
    ``load`` and ``last`` fields) into the counters, whose output register is
    ``counters.valid`` (:class:`HandOver`'s ``i``): a ``last`` pair beat sets it -- the
    counters hold a completed dot product -- and it stays set until the hand-over copies
    the counts.  A beat is taken while the counters can count it (they hold no completed
    dot product, or it is being copied: ``counters.ready``) and no LUT write is
    ``pending`` (the pipeline's ``stall``): ``i.ready = (~counters.valid | counters.ready)
    & ~pending``, never a function of the payload.  Returns ``i.valid & i.ready``."""
    counting = StallPipeline(m, i, counters, stall=pending)
    counting.output(counting.valid & ~i.payload.load & i.payload.last)
    return counting.advance & counting.valid


class PairDecoder(Component):
    """The code pairs of a beat, decoded for the counter banks: the activation codes' zero
    test once, shared by the PEs; per PE and lane the pair's ``live`` (the beat taken and
    both codes non-zero), sign product and exponents (``pairs[p][l]``,
    :func:`pair_signature`)."""

    def __init__(self, *, n, lanes, pes):
        self.n, self.lanes, self.pes = n, lanes, pes
        codes = data.ArrayLayout(unsigned(n), lanes)
        super().__init__({
            "take": In(1), "x": In(codes),
            "w": In(codes if pes == 1 else data.ArrayLayout(codes, pes)),
            "pairs": Out(pair_signature(n)).array(pes, lanes),
        })

    def elaborate(self, platform):
        m = Module()
        n, zero = self.n, 1 << (self.n - 1)
        for lane in range(self.lanes):
            cx = self.x[lane]
            x_live = Signal(name=f"x_live{lane}")
            m.d.comb += x_live.eq(self.take & (cx != zero))
            for p in range(self.pes):
                cw = (self.w if self.pes == 1 else self.w[p])[lane]
                pair = self.pairs[p][lane]
                m.d.comb += [
                    pair.live.eq(x_live & (cw != zero)),
                    pair.neg.eq(cx[n - 1] ^ cw[n - 1]),
                    pair.fx.eq(cx[:n - 1]),
                    pair.fw.eq(cw[:n - 1]),
                ]
        return m


class StepMerge(Component):
    """One post-processing step's counts: entry ``j`` of the step summed over PE ``pe``'s
    lanes (``banks[p][l]``, :func:`snapshot_signature`), as sign-magnitude ``mag[j]``,
    ``neg[j]`` of ``count_width`` bits (one lane: the bank's own values, untouched)."""

    def __init__(self, *, pes, lanes, bank_width, count_width, pp_lanes):
        self.pes, self.lanes, self.pp = pes, lanes, pp_lanes
        self.count_width = count_width
        super().__init__({
            "banks": In(snapshot_signature(bank_width - 1, pp_lanes)).array(pes, lanes),
            "pe": In(range(max(pes, 2))),
            "mag": Out(data.ArrayLayout(unsigned(count_width), pp_lanes)),
            "neg": Out(data.ArrayLayout(unsigned(1), pp_lanes)),
        })

    def _merged(self, banks, j):
        if len(banks) == 1:
            return banks[0].mag[j], banks[0].neg[j]
        total = tree_sum(Mux(b.neg[j], -b.mag[j], b.mag[j]) for b in banks)
        return Mux(total < 0, -total, total)[:self.count_width], total < 0

    def elaborate(self, platform):
        m = Module()
        for j in range(self.pp):
            per_pe = [self._merged(self.banks[p], j) for p in range(self.pes)]
            mag = select([v[0] for v in per_pe], self.pe) if self.pes > 1 else per_pe[0][0]
            neg = select([v[1] for v in per_pe], self.pe) if self.pes > 1 else per_pe[0][1]
            m.d.comb += [self.mag[j].eq(mag), self.neg[j].eq(neg)]
        return m


class PostProcessor(Component):
    """Counts x LUT entries, summed and accumulated into one result per ``last`` step.

    ``i``: stream of ``{mag[pp_lanes], neg[pp_lanes], lut[pp_lanes], first, last}`` (one
    step: sign-magnitude counts and their LUT entries); ``o``: stream of
    ``signed(result_width)``.  Pipeline (:class:`hw.pipeline.StallPipeline`): operand
    registers | ``pp_lanes`` unsigned products | signed adder tree | accumulator; the step
    marked ``last`` loads the output register with the sum so far (``first`` restarts it).
    Latency 4 from a step to its result.

    Zero skipping: a zero count's operand and product registers hold their last values (so
    its multiplier does not toggle) and it adds nothing; a step with no non-zero count
    leaves the sum and the accumulator untouched.  The multipliers take magnitudes, so the
    small counts of a long dot product keep most partial products at zero."""

    LATENCY = 4

    def __init__(self, *, pp_lanes, count_width, lut_width, result_width):
        self.pp = pp_lanes
        self.result_width = result_width
        self.step_layout = data.StructLayout({
            "mag": data.ArrayLayout(unsigned(count_width), pp_lanes),
            "neg": data.ArrayLayout(unsigned(1), pp_lanes),
            "lut": data.ArrayLayout(unsigned(lut_width), pp_lanes),
            "first": 1, "last": 1,
        })
        super().__init__({
            "i": In(stream.Signature(self.step_layout)),
            "o": Out(stream.Signature(signed(result_width))),
        })

    def elaborate(self, platform):
        m = Module()
        # The post-processor runs 2^(n+1)/pp_lanes clocks per dot product and idles the
        # rest: one coarse clock gate for all its registers.
        pipe = StallPipeline(m, self.i, self.o, coarse=True)
        self.pipeline = pipe  # of the latest elaboration: proofs read its occupancy
        step, pp = self.i.payload, self.pp
        live0 = [step.mag[j] != 0 for j in range(pp)]
        flags = {"first": step.first, "last": step.last}
        flags.update({f"live{j}": live0[j] for j in range(pp)})
        valid1, f1 = pipe.stage(self.i.valid, flags, name="merge")
        go0 = pipe.advance & self.i.valid
        mag = [pipe.register(step.mag[j], go0 & live0[j], name=f"merge_mag{j}")
               for j in range(pp)]
        lut = [pipe.register(step.lut[j], go0 & live0[j], name=f"merge_lut{j}")
               for j in range(pp)]
        neg = [pipe.register(step.neg[j], go0 & live0[j], name=f"merge_neg{j}")
               for j in range(pp)]

        valid2, f2 = pipe.stage(valid1, f1, name="mul")
        go1 = pipe.advance & valid1
        prod = [pipe.register(mag[j] * lut[j], go1 & f1[f"live{j}"], name=f"mul_prod{j}")
                for j in range(pp)]
        sign = [pipe.register(neg[j], go1 & f1[f"live{j}"], name=f"mul_neg{j}")
                for j in range(pp)]

        terms = [Mux(sign[j], -prod[j], prod[j]) for j in range(pp)]
        if pp > 1:
            terms = [Mux(f2[f"live{j}"], t, 0) for j, t in enumerate(terms)]
        any2 = Signal(name="sum_any")
        m.d.comb += any2.eq(Cat(*(f2[f"live{j}"] for j in range(pp))).any())
        valid3, f3 = pipe.stage(valid2, {"first": f2["first"], "last": f2["last"],
                                         "any": any2}, name="sum")
        total_sum = pipe.register(tree_sum(terms), pipe.advance & valid2 & any2,
                                  name="sum_sum")

        acc = Signal(signed(self.result_width), name="acc", reset_less=True)
        base = Mux(f3["first"], 0, acc)
        total = Mux(f3["any"], (base + total_sum)[:self.result_width].as_signed(), base)
        pipe.load(acc, total, pipe.advance & valid3 & ~f3["last"] & (f3["any"] | f3["first"]))
        pipe.output(valid3 & f3["last"], total)
        return m


class DnaTeqDotProduct(Component):
    """``lanes`` exponent-code pairs per clock for each of ``pes`` dot products, banked
    counters, one shared LUT post-processor.

    Ports: ``i`` (stream of :attr:`input_layout`), ``o`` (stream of ``signed(result_width)``).
    """

    PARAMS = (
        Param("n", 5, "code bits (1 sign + n-1 exponent bits); narrower layers run with "
                      "widened codes", lo=DNATEQ_N_MIN, hi=DNATEQ_N_MAX),
        Param("lanes", 4, "code pairs per beat and PE (exponent adders, counter banks)",
              lo=1, hi=32),
        Param("pes", 1, "dot products computed at once (PEs sharing the activation codes, "
                        "one LUT and one post-processor)", lo=1, hi=64),
        Param("max_length", 1024, "longest dot product (pairs): sets the counter widths",
              lo=1, hi=1 << 20),
        Param("lut_width", 24, "bits of an unsigned LUT entry", lo=2, hi=40),
        Param("frac_bits", 16, "fractional bits F of the LUT entries and of the result; "
                               "range [0, lut_width]", lo=0, hi=40),
        Param("pp_lanes", 4, "LUT entries post-processed per clock: a power of two, at most "
                             "2^(n+1)", lo=1, hi=256),
        Param("isolate", True, "operand isolation: only the counter a pair hits sees its "
                               "update", kind=bool),
        Param("fold_c3", True, "no C3 counter: its term folded into the C0 LUT entries",
              kind=bool),
        Param("counter", "signmag", "counter coding", kind=str, choices=COUNTER_CODES),
    )
    LATENCY = None  # per instance: 1 + steps + PostProcessor.LATENCY (see ``latency``)
    # Energy breakdown (synth.components): registers by name; the rest is control.
    ENERGY_COMPONENTS = (("counters", r"^bank_"), ("lut", r"^lut\."),
                         ("post-processor", r"^post\.|^o__payload"))

    def __init__(self, *, n=5, lanes=4, pes=1, max_length=1024, lut_width=24, frac_bits=16,
                 pp_lanes=4, isolate=True, fold_c3=True, counter="signmag"):
        self.check_params(n=n, lanes=lanes, pes=pes, max_length=max_length,
                          lut_width=lut_width, frac_bits=frac_bits, pp_lanes=pp_lanes,
                          isolate=isolate, fold_c3=fold_c3, counter=counter)
        self.entries = 1 << (self.n + 1)
        self.m = 1 << (self.n - 1)
        self.zero_code = self.m
        self.offsets = (0, 2 * self.m - 1, 3 * self.m - 1, 4 * self.m - 1)
        self.counted = self.entries - 1 if self.fold_c3 else self.entries
        self.steps = self.entries // self.pp_lanes
        self.bank_beats = ceil(self.max_length / self.lanes)
        self.bank_width = self.bank_beats.bit_length() + 1
        # magnitude bits of a count merged over the lanes (at most max_length)
        self.count_width = max(self.bank_beats * self.lanes, 1).bit_length()
        self.result_width = self.lut_width + (4 * self.max_length).bit_length() + 1
        self.latency = 1 + self.steps + PostProcessor.LATENCY

        weights = data.ArrayLayout(unsigned(self.n), self.lanes)
        self.input_layout = data.StructLayout({
            "x": data.ArrayLayout(unsigned(self.n), self.lanes),
            "w": weights if self.pes == 1 else data.ArrayLayout(weights, self.pes),
            "last": 1,
            "load": 1,
            "addr": unsigned(self.n + 1),
            "data": unsigned(self.lut_width),
        })
        self.output_shape = signed(self.result_width)
        super().__init__({
            "i": In(stream.Signature(self.input_layout)),
            "o": Out(stream.Signature(self.output_shape)),
        })


    def validate(self):
        check_int("frac_bits", self.frac_bits, 0, self.lut_width)
        check_choice("pp_lanes", self.pp_lanes, tuple(1 << k for k in range(self.n + 2)))
    def cycles_per_dot_product(self, length: int) -> int:
        """Clocks per group of ``pes`` dot products of ``length`` pairs, back to back,
        output always ready."""
        return max(ceil(length / self.lanes), self.pes * self.steps)

    def elaborate(self, platform):
        m = Module()
        beat = self.i.payload

        post = m.submodules.post = PostProcessor(
            pp_lanes=self.pp_lanes, count_width=self.count_width, lut_width=self.lut_width,
            result_width=self.result_width)
        wiring.connect(m, post.o, wiring.flipped(self.o))
        lut = m.submodules.lut = Lut(entries=self.entries, counted=self.counted,
                                     width=self.lut_width, pp_lanes=self.pp_lanes)
        port = m.submodules.lut_write = LutWritePort(entries=self.entries,
                                                     width=self.lut_width)
        ctrl = m.submodules.handover = HandOver(steps=self.steps, pes=self.pes)
        decode = m.submodules.decode = PairDecoder(n=self.n, lanes=self.lanes, pes=self.pes)
        merge = m.submodules.merge = StepMerge(
            pes=self.pes, lanes=self.lanes, bank_width=self.bank_width,
            count_width=self.count_width, pp_lanes=self.pp_lanes)

        # ---- input: ready never depends on the payload (input_stage)
        taken = input_stage(m, self.i, ctrl.i, port.pending)
        take = Signal(name="take_pairs")
        load = Signal(name="take_lut")
        m.d.comb += [
            take.eq(taken & ~beat.load),
            load.eq(taken & beat.load),
            port.load.eq(load), port.addr.eq(beat.addr), port.data.eq(beat.data),
            port.idle.eq(ctrl.idle),
            lut.step.eq(ctrl.ctl.step),
            decode.take.eq(take), decode.x.eq(beat.x), decode.w.eq(beat.w),
            ctrl.issue.eq(post.i.valid & post.i.ready),
            merge.pe.eq(ctrl.pe),
        ]
        wiring.connect(m, port.w, lut.w)

        # ---- the counter banks: one per PE and lane, between the decoder and the merge
        banks = []
        for p in range(self.pes):
            for lane in range(self.lanes):
                bank = CounterBank(n=self.n, width=self.bank_width, pp_lanes=self.pp_lanes,
                                   fold_c3=self.fold_c3, isolate=self.isolate,
                                   counter=self.counter)
                m.submodules[f"bank_p{p}_l{lane}"] = bank
                wiring.connect(m, decode.pairs[p][lane], bank.pair)
                wiring.connect(m, bank.read, merge.banks[p][lane])
                banks.append(bank)
        wiring.connect(m, ctrl.ctl, *(bank.ctl for bank in banks))

        # ---- one post-processing step: PE pe's merged counts, the LUT entries beside them
        m.d.comb += [post.i.valid.eq(ctrl.busy), post.i.payload.first.eq(ctrl.first),
                     post.i.payload.last.eq(ctrl.last)]
        for j in range(self.pp_lanes):
            m.d.comb += [post.i.payload.mag[j].eq(merge.mag[j]),
                         post.i.payload.neg[j].eq(merge.neg[j]),
                         post.i.payload.lut[j].eq(lut.read[j])]

        # What proofs read of this elaboration (tb.proofs): the hand-over state.
        self.probes = SimpleNamespace(held=ctrl.i.valid, busy=ctrl.busy, pe=ctrl.pe,
                                      group=ctrl.ctl.step, take=take,
                                      last_issued=ctrl.issue & ctrl.last)
        return m
