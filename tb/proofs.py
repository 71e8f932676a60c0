"""The property modules of ``make formal`` (:mod:`tb.formal` runs them).

Each property module instantiates a design, drives its inputs with ``AnySeq`` values under
``Assume`` statements that describe a legal environment, and ``Assert`` s its claims.
Common to all:

* no reset after the initial state (the initial state is the reset state);
* stream producers follow the stream rule: once ``valid`` is high it stays high, with the
  same payload, until the transfer (:func:`source_rule`);
* the claims on every output stream include the consumer's side of the rule: while
  ``valid & ~ready`` the next clock has ``valid`` and the same payload
  (:func:`assert_stable`).

Counting claims use transfer counters of the property module (``in - out`` = the beats
held inside, from the design's own occupancy); identity claims send sequence numbers
(the n-th transfer carries ``n``) and check them at the output, in order.  Every
functional spec takes ``broken=True``, which claims the expected value plus one: that
claim must fail at the same depth, which shows that the outputs checked are reached
(tests/test_formal.py).
"""

from __future__ import annotations

from types import SimpleNamespace

from amaranth import (Const, Elaboratable, Module, Mux, ResetSignal, Signal, Value, signed,
                      unsigned)
from amaranth.asserts import AnyConst, AnySeq
from amaranth.hdl import Assert, Assume

from .formal import Proof

__all__ = ["PROOFS", "past", "source_rule", "assert_stable"]


def _once(m) -> Signal:
    """High from the second clock on: ``past`` values are meaningful."""
    if not hasattr(m, "_fv_past_valid"):
        flag = Signal(name="past_valid")
        m.d.sync += flag.eq(1)
        m.d.comb += Assume(~ResetSignal())
        m._fv_past_valid = flag
    return m._fv_past_valid


def past(m, value, name="past") -> Signal:
    """``value`` one clock ago (a register of the property module)."""
    reg = Signal.like(value, name=name) if hasattr(value, "shape") else Signal(name=name)
    m.d.sync += reg.eq(value)
    return reg


def any_stream(m, stream_, name):
    """Drive an input stream's ``valid`` and ``payload`` with free values (``AnySeq``) that
    obey the stream rule; ``payload`` may be overridden by the caller's ``Assume``."""
    m.d.comb += [stream_.valid.eq(AnySeq(1)),
                 Value.cast(stream_.payload).eq(AnySeq(len(Value.cast(stream_.payload))))]
    source_rule(m, stream_, name)


def stream_env(m, dut):
    """The usual environment of a block: any beats on ``i`` (under the stream rule), any
    backpressure on ``o``."""
    any_stream(m, dut.i, "i")
    m.d.comb += dut.o.ready.eq(AnySeq(1))


def _held_while_stalled(m, s, name, check):
    """``check`` (``Assume`` or ``Assert``) the stream rule on ``s``: after a clock with
    ``valid & ~ready``, ``valid`` is high with the same payload."""
    ok = _once(m)
    held = past(m, s.valid & ~s.ready, name=f"{name}_held")
    payload = past(m, Value.cast(s.payload), name=f"{name}_payload_q")
    with m.If(ok & held):
        m.d.comb += check(s.valid & (Value.cast(s.payload) == payload))


def source_rule(m, s, name):
    """Assume the producer's side of the stream rule on an input stream ``s``."""
    _held_while_stalled(m, s, name, Assume)


def assert_stable(m, s, name):
    """Assert the consumer's side on an output stream ``s``: held while stalled."""
    _held_while_stalled(m, s, name, Assert)


def counter(m, event, width, name) -> Signal:
    """Transfers of ``event`` so far, modulo ``2^width``."""
    count = Signal(width, name=name)
    with m.If(event):
        m.d.sync += count.eq(count + 1)
    return count


# ---------------------------------------------------------------- StallPipeline

class PipelineSpec(Elaboratable):
    """:class:`hw.pipeline.StallPipeline` with ``stages`` registered stages carrying the
    payload unchanged.  Inputs carry sequence numbers; claims: every output transfer
    carries the next number (in order, none lost, none duplicated), the beats inside are
    exactly the numbers between the two counters (the inductive invariant), payload held
    while stalled, and ``i.ready`` whenever ``o.ready`` (one beat per clock).  ``broken``
    checks a false claim instead (the output carries the number plus one): it must fail
    with a counterexample."""

    WIDTH = 4

    def __init__(self, stages: int, *, broken: bool = False):
        self.stages = stages
        self.broken = broken

    def elaborate(self, platform):
        from quantrtl.hw.pipeline import StallPipeline
        m = Module()
        w = self.WIDTH
        i = SimpleNamespace(valid=Signal(name="i_valid"), ready=Signal(name="i_ready"),
                            payload=Signal(w, name="i_payload"))
        o = SimpleNamespace(valid=Signal(name="o_valid"), ready=Signal(name="o_ready"),
                            payload=Signal(w, name="o_payload"))
        pipe = StallPipeline(m, i, o)
        valid, values, held = i.valid, {"x": i.payload}, []
        for k in range(self.stages):
            valid, values = pipe.stage(valid, values, name=f"s{k}")
            held.append((valid, values["x"]))
        pipe.output(valid, values["x"])
        held.append((o.valid, o.payload))

        m.d.comb += [i.valid.eq(AnySeq(1)), o.ready.eq(AnySeq(1))]
        source_rule(m, i, "i")
        taken = counter(m, i.valid & i.ready, w, "taken")
        given = counter(m, o.valid & o.ready, w, "given")
        m.d.comb += i.payload.eq(taken)                     # the n-th beat carries n

        with m.If(o.valid & o.ready):
            m.d.comb += Assert(o.payload == (given + 1 if self.broken else given)[:w])
        assert_stable(m, o, "o")
        m.d.comb += Assert(~o.ready | i.ready)
        # Inductive invariant: from the output back, the valid registers hold given,
        # given + 1, ...; after the last one comes taken.
        expected = given
        for valid_q, value_q in reversed(held):
            with m.If(valid_q):
                m.d.comb += Assert(value_q == expected[:w])
            expected = (expected + valid_q)[:w]
        m.d.comb += Assert(taken == expected)
        return m


def _elaborated(m, name, dut, platform):
    """Add ``dut`` as submodule ``name``, elaborated here so that the objects its
    elaboration records (e.g. ``dut.pipeline``) are at hand for the claims."""
    _once(m)                                  # no reset after the initial state
    dut._MustUse__silence = True              # used, though not through Fragment.get
    m.submodules[name] = dut.elaborate(platform)
    return dut


def occupancy_claims(m, dut, width=4):
    """A 1:1 pipelined block: the transfers in minus out are the beats its
    :class:`hw.pipeline.StallPipeline` holds (none lost, none duplicated), and it takes a
    beat whenever the output is ready."""
    taken = counter(m, dut.i.valid & dut.i.ready, width, "taken")
    given = counter(m, dut.o.valid & dut.o.ready, width, "given")
    m.d.comb += Assert((taken - given)[:width] == dut.pipeline.occupancy())
    m.d.comb += Assert(~dut.o.ready | dut.i.ready)
    return taken, given


# ---------------------------------------------------------------- DqaJoin

class DqaJoinSpec(Elaboratable):
    """:class:`hw.dqa.DqaJoin`: every output is ``(q << m) + err`` of its pair (``err``
    only for an important beat), an error is consumed exactly with an important beat,
    one output per input beat (none lost or duplicated), held while stalled."""

    def __init__(self, n, m, *, broken=False):
        self.n, self.m, self.broken = n, m, broken

    def elaborate(self, platform):
        from quantrtl.hw.dqa import DqaJoin
        m = Module()
        dut = _elaborated(m, "dut", DqaJoin(n=self.n, m=self.m), platform)
        any_stream(m, dut.i, "i")
        any_stream(m, dut.e, "e")
        m.d.comb += dut.o.ready.eq(AnySeq(1))
        took_i = dut.i.valid & dut.i.ready
        important = dut.i.payload.important
        m.d.comb += Assert((dut.e.valid & dut.e.ready) == (took_i & important))
        expected = Signal(signed(self.n + self.m + 1), name="expected")
        with m.If(took_i):
            m.d.sync += expected.eq(dut.i.payload.q * (1 << self.m)
                                    + Mux(important, dut.e.payload, 0))
        with m.If(dut.o.valid):
            m.d.comb += Assert(dut.o.payload == expected + int(self.broken))
        taken = counter(m, took_i, 4, "taken")
        given = counter(m, dut.o.valid & dut.o.ready, 4, "given")
        m.d.comb += Assert((taken - given)[:4] == dut.o.valid)
        assert_stable(m, dut.o, "o")
        return m


# ---------------------------------------------------------------- requantizer

def _requant_reference(m, dut, acc, multiplier, shift, zero_point, qmin, qmax, rounding):
    """SPEC 2 as TFLite writes it, one case per shift (constant shifts: independent of the
    block's barrel shifter), with a 66-bit nudge adder and a 32-bit RoundingDivideByPOT
    (none of the block's rewriting).  The 32x32 product is the sum of the block's own
    products (:meth:`hw.requant.Requantizer.products`: the same cells after flattening): an
    SMT solver cannot compare two distinct multipliers."""
    scaled = Signal(signed(33), name="ref_scaled")

    def product_of(operand):
        return sum(p << offset for p, offset in dut.products(operand, multiplier))

    if rounding == "double":
        left = Mux(shift > 0, shift, 0).as_unsigned()[:5]
        product = product_of((acc << left)[:32].as_signed())
        # SaturatingRoundingDoublingHighMul: (ab + nudge) / 2^31, C division (toward 0);
        # M0 >= 2^30 or 0, so the INT32_MIN * INT32_MIN saturation never applies.
        nudged = Signal(signed(66), name="ref_nudged")
        m.d.comb += nudged.eq(product + Mux(product >= 0, 1 << 30, 1 - (1 << 30)))
        magnitude = Mux(nudged < 0, -nudged, nudged).as_unsigned() >> 31
        high = Signal(signed(32), name="ref_high")
        m.d.comb += high.eq(Mux(nudged < 0, -magnitude, magnitude)[:32].as_signed())
        with m.Switch(shift.as_unsigned()):
            for s in range(-31, 31):
                right = max(-s, 0)
                with m.Case(s & 0x3F):
                    if right == 0:
                        m.d.comb += scaled.eq(high)
                    else:
                        mask = (1 << right) - 1
                        remainder = high.as_unsigned() & mask
                        threshold = (mask >> 1) + high[-1]
                        m.d.comb += scaled.eq((high >> right) + (remainder > threshold))
    else:
        product = product_of(acc)
        with m.Switch(shift.as_unsigned()):
            for s in range(-31, 31):
                total = 31 - s
                with m.Case(s & 0x3F):
                    m.d.comb += scaled.eq(((product + (1 << (total - 1))) >> total)[:32]
                                          .as_signed())
    biased = scaled[:32].as_signed() + zero_point
    return Mux(biased < qmin, qmin, Mux(biased > qmax, qmax, biased))


class RequantSpec(Elaboratable):
    """:class:`hw.requant.Requantizer`: the stream contract (k-induction) and, with
    ``functional``, every output equal to the SPEC 2 reference of its input (a shadow
    buffer indexed by the transfer counters; BMC, or k-induction at latency 1).

    ``free_products``: the block's multiplier products (:meth:`Requantizer.products`) are
    free values in their contract ranges, which the block and the reference share -- a
    claim for every product value, the multiplier cells excepted (Yosys's ``$mul``), which
    keeps the solver out of a pipelined 32x32 multiplier."""

    def __init__(self, rounding, latency, *, functional, broken=False, split=True,
                 free_products=False):
        self.rounding, self.latency, self.functional = rounding, latency, functional
        self.broken, self.split, self.free_products = broken, split, free_products

    def _free_products(self, m, dut):
        """Replace ``dut.products`` by free signals in the ranges of ``acc * M0`` for every
        ``M0`` of the contract: ``|acc * M0_low| < 2^47``, ``|acc * M0_high| < 2^46``
        (split), and the whole product ``|acc * M0| <= 2^31 (2^31 - 1)``."""
        if dut.split:
            free = [(Signal(signed(48), name="free_product_low"), 0),
                    (Signal(signed(48), name="free_product_high"), 16)]
            bounds = ((1 << 47) - 1, (1 << 46) - 1)
        else:
            free = [(Signal(signed(63), name="free_product"), 0)]
            bounds = ((1 << 62) - (1 << 31),)
        for (value, _), bound in zip(free, bounds):
            m.d.comb += [value.eq(AnySeq(value.shape())),
                         Assume((value >= -bound) & (value <= bound))]
        whole = sum(value << offset for value, offset in free)
        limit = (1 << 62) - (1 << 31)
        m.d.comb += Assume((whole >= -limit) & (whole <= limit))
        dut.products = lambda operand, multiplier: list(free)

    def elaborate(self, platform):
        from quantrtl.hw.requant import Requantizer
        m = Module()
        dut = Requantizer(rounding=self.rounding, latency=self.latency, split=self.split)
        if self.free_products:
            self._free_products(m, dut)
        dut = _elaborated(m, "dut", dut, platform)
        stream_env(m, dut)
        beat = dut.i.payload
        m.d.comb += Assume((beat.shift >= -31) & (beat.shift <= 30))
        m.d.comb += Assume((beat.multiplier == 0) | (beat.multiplier >= (1 << 30)))
        for port in ("zero_point", "qmin", "qmax"):
            m.d.comb += getattr(dut, port).eq(AnyConst(signed(dut.out_width)))
        m.d.comb += Assume(dut.qmin <= dut.qmax)
        taken, given = occupancy_claims(m, dut)
        assert_stable(m, dut.o, "o")
        if self.functional:
            ref = _requant_reference(m, dut, beat.acc, beat.multiplier, beat.shift,
                                     dut.zero_point,
                                     dut.qmin, dut.qmax, self.rounding)
            took = dut.i.valid & dut.i.ready
            if self.latency == 1:           # one register: an inductive shadow
                expected = Signal(signed(dut.out_width), name="expected")
                with m.If(took):
                    m.d.sync += expected.eq(ref)
                with m.If(dut.o.valid):
                    m.d.comb += Assert(dut.o.payload == expected + int(self.broken))
            else:
                shadow = [Signal(signed(dut.out_width), name=f"expected{k}") for k in range(4)]
                with m.If(took):
                    with m.Switch(taken[:2]):
                        for k in range(4):
                            with m.Case(k):
                                m.d.sync += shadow[k].eq(ref)
                with m.If(dut.o.valid & dut.o.ready):
                    with m.Switch(given[:2]):
                        for k in range(4):
                            with m.Case(k):
                                m.d.comb += Assert(dut.o.payload == shadow[k])
        return m


# ---------------------------------------------------------------- DNA-TEQ encoder

class EncoderSpec(Elaboratable):
    """:class:`hw.dnaenc.DnaTeqEncoder`: the stream contract (threshold-load beats
    produce no output, every result beat exactly one)."""

    def __init__(self, n, width):
        self.n, self.width = n, width

    def elaborate(self, platform):
        from quantrtl.hw.dnaenc import DnaTeqEncoder
        m = Module()
        dut = _elaborated(m, "dut", DnaTeqEncoder(n=self.n, width=self.width), platform)
        stream_env(m, dut)
        taken = counter(m, dut.i.valid & dut.i.ready & ~dut.i.payload.load, 4, "taken")
        given = counter(m, dut.o.valid & dut.o.ready, 4, "given")
        m.d.comb += Assert((taken - given)[:4] == dut.pipeline.occupancy())
        m.d.comb += Assert(~dut.o.ready | dut.i.ready)
        assert_stable(m, dut.o, "o")
        return m


class StableSpec(Elaboratable):
    """Any block with streams ``i`` and ``o`` (``build()`` makes it): on any input beats
    and any output backpressure the output is held while stalled (k-induction).  For the
    blocks whose counting contract is not proved apart (the whole DNA-TEQ engine)."""

    def __init__(self, build):
        self.build = build

    def elaborate(self, platform):
        m = Module()
        dut = _elaborated(m, "dut", self.build(), platform)
        stream_env(m, dut)
        assert_stable(m, dut.o, "o")
        return m


class EngineCountSpec(Elaboratable):
    """:class:`hw.dnateq.DnaTeqDotProduct`: each completed dot product (a ``last`` pair
    beat) is handed to the post-processor as exactly ``pes`` last steps, one per PE: the
    dot products in times ``pes`` minus the last steps issued = those owed (``pes`` for a
    dot product held in the counters, ``pes - pe`` for the one being post-processed).
    With the post-processor's own count proof (results = last steps in - in flight) this
    is the engine's contract: one result per PE per dot product, none lost or repeated.
    k-induction."""

    def __init__(self, params):
        self.params = params

    def elaborate(self, platform):
        m = Module()
        dut = _elaborated(m, "dut", _dnateq(self.params), platform)
        stream_env(m, dut)
        probe, pes, width = dut.probes, dut.pes, 5
        dps = counter(m, probe.take & dut.i.payload.last, width, "dot_products")
        issued = counter(m, probe.last_issued, width, "last_steps")
        owed = Mux(probe.held, pes, 0) + Mux(probe.busy, pes - probe.pe, 0)
        m.d.comb += Assert(((dps * pes) - issued)[:width] == owed)
        m.d.comb += Assert(probe.pe < pes)
        with m.If(~probe.busy):
            m.d.comb += Assert((probe.pe == 0) & (probe.group == 0))
        return m


class BankSpec(Elaboratable):
    """:class:`hw.mac.ResultBank`: each set taken gives out its ``count`` results, in
    order, none lost or repeated (sets in x count - results out = ``count - index`` while
    a set is pending), held while stalled.  k-induction."""

    def __init__(self, count):
        self.count = count

    def elaborate(self, platform):
        from quantrtl.hw.mac import ResultBank
        m = Module()
        dut = _elaborated(m, "dut", ResultBank(self.count, unsigned(4)), platform)
        stream_env(m, dut)
        sets = counter(m, dut.i.valid & dut.i.ready, 5, "sets")
        given = counter(m, dut.o.valid & dut.o.ready, 5, "given")
        probe = dut.probes
        owed = Mux(probe.pending, self.count - probe.index, 0)
        m.d.comb += Assert(((sets * self.count) - given)[:5] == owed)
        m.d.comb += Assert(probe.index < self.count)
        with m.If(~probe.pending):
            m.d.comb += Assert(probe.index == 0)
        # In order: the result given is element `index` of the set taken last.
        last_set = Signal.like(Value.cast(dut.i.payload), name="last_set")
        with m.If(dut.i.valid & dut.i.ready):
            m.d.sync += last_set.eq(dut.i.payload)
        with m.If(probe.pending):            # the registers hold the set taken last
            for k, reg in enumerate(probe.results):
                m.d.comb += Assert(reg == last_set[4 * k:4 * k + 4])
        with m.If(dut.o.valid):
            with m.Switch(probe.index):
                for k in range(self.count):
                    with m.Case(k):
                        m.d.comb += Assert(dut.o.payload == last_set[4 * k:4 * k + 4])
        assert_stable(m, dut.o, "o")
        return m


# ---------------------------------------------------------------- Huffman decoder

class HuffmanSpec(Elaboratable):
    """:class:`hw.huffman.HuffmanDecoder` on any beats and any ``restart``:

    ``"error"``: in the error state every beat is accepted (the producer never waits);
    the error flag and kind stay until a restart; no symbol comes out after an error
    (``o.valid`` cannot rise, a pending beat is held); the output held while stalled (but
    for a restart, which drops it).
    ``"stall"``: with the output always ready and no restart, no beat waits more than
    ``capacity + 2`` clocks: the decoder never stalls its producer.  (k-induction at a depth
    past that bound: every path that long consumes a bit per clock or ends the packet.)
    """

    def __init__(self, params, claim, *, bound=None):
        self.params, self.claim, self.bound = params, claim, bound

    def elaborate(self, platform):
        from quantrtl.hw.huffman import HuffmanDecoder
        m = Module()
        dut = _elaborated(m, "dut", HuffmanDecoder(**self.params), platform)
        any_stream(m, dut.i, "i")
        ok = _once(m)
        if self.claim == "stall":
            m.d.comb += [dut.o.ready.eq(1), dut.restart.eq(0)]
            bound = self.bound or dut.capacity + 3
            stall = Signal(range(bound + 1), name="stall")
            with m.If(dut.i.valid & ~dut.i.ready):
                m.d.sync += stall.eq(Mux(stall == bound, bound, stall + 1))
            with m.Else():
                m.d.sync += stall.eq(0)
            m.d.comb += Assert(stall < bound)
            return m
        m.d.comb += [dut.o.ready.eq(AnySeq(1)), dut.restart.eq(AnySeq(1))]
        with m.If(dut.error):
            m.d.comb += Assert(dut.i.ready == ~dut.restart)
        was_error = past(m, dut.error, "was_error")
        was_kind = past(m, dut.error_kind, "was_kind")
        was_restart = past(m, dut.restart, "was_restart")
        was_valid = past(m, dut.o.valid, "was_valid")
        was_payload = past(m, Value.cast(dut.o.payload), "was_payload")
        with m.If(ok & was_error & ~was_restart):
            m.d.comb += Assert(dut.error & (dut.error_kind == was_kind))
            with m.If(dut.o.valid):
                m.d.comb += Assert(was_valid & (Value.cast(dut.o.payload) == was_payload))
        stalled = past(m, dut.o.valid & ~dut.o.ready, "was_stalled")
        with m.If(ok & stalled & ~was_restart):
            m.d.comb += Assert(dut.o.valid & (Value.cast(dut.o.payload) == was_payload))
        return m


# ---------------------------------------------------------------- MAC

def _shadow_write(m, regs, index, value):
    with m.Switch(index):
        for k, reg in enumerate(regs):
            with m.Case(k):
                m.d.sync += reg.eq(value)


def _shadow_check(m, regs, index, value, broken=False):
    """Assert ``value == regs[index]`` (``broken``: ``regs[index] + 1``, a false claim)."""
    with m.Switch(index):
        for k, reg in enumerate(regs):
            with m.Case(k):
                m.d.comb += Assert(value == reg + int(broken))


class MacSpec(Elaboratable):
    """:class:`hw.mac.DotProductUnit`: every result equals ``bias + sum (a + offset) * w``
    of its packet (per PE, in PE order), wrapped or saturated after every beat as
    :func:`golden.mac.dot_product`; BMC (packets as long as the depth allows).  With
    ``functional=False``, by k-induction: the output held while stalled, and the packets
    in minus the results (with several PEs: result sets handed to the bank) out = the
    packets in flight (none lost or repeated)."""

    def __init__(self, params, *, functional=True, broken=False):
        self.params, self.functional, self.broken = params, functional, broken

    def elaborate(self, platform):
        from quantrtl.hw.mac import DotProductUnit
        m = Module()
        dut = _elaborated(m, "dut", DotProductUnit(**self.params), platform)
        stream_env(m, dut)
        if dut.offset:
            m.d.comb += dut.input_offset.eq(AnyConst(signed(dut.width + 1)))
        assert_stable(m, dut.o, "o")
        if not self.functional:
            # One result set per packet, none lost or repeated: with one PE the results
            # themselves, with several the sets handed to the result bank (BankSpec proves
            # the bank gives each set out once, in order).
            sink = dut.pipeline.sink
            packets = counter(m, dut.i.valid & dut.i.ready & dut.i.payload.last, 4,
                              "packets")
            handed = counter(m, sink.valid & sink.ready, 4, "handed")
            m.d.comb += Assert((packets - handed)[:4] == dut.pipeline.occupancy("last"))
            return m
        beat, pes, aw = dut.i.payload, dut.pes, dut.acc_width
        took = dut.i.valid & dut.i.ready
        inside = Signal(name="inside")                    # a packet has begun
        with m.If(took):
            m.d.sync += inside.eq(~beat.last)
        lo, hi = -(1 << (aw - 1)), (1 << (aw - 1)) - 1
        acc = [Signal(signed(aw), name=f"ref_acc{p}") for p in range(pes)]
        totals = []
        for p in range(pes):
            w = beat.w if pes == 1 else beat.w[p]
            offset = dut.input_offset if dut.offset else 0
            term = sum((beat.a[l] + offset) * w[l] for l in range(dut.lanes))
            bias = (beat.bias if pes == 1 else beat.bias[p]) if dut.bias else 0
            wide = Mux(inside, acc[p], bias) + term
            if dut.overflow == "saturate":
                total = Mux(wide > hi, hi, Mux(wide < lo, lo, wide))[:aw].as_signed()
            else:
                total = wide[:aw].as_signed()
            totals.append(total)
            with m.If(took):
                m.d.sync += acc[p].eq(total)
        packets = counter(m, took & beat.last, 2, "packets")
        given = counter(m, dut.o.valid & dut.o.ready, 2 + (pes - 1).bit_length(), "given")
        shadow = [[Signal(signed(aw), name=f"ref{k}_{p}") for p in range(pes)]
                  for k in range(4)]
        with m.If(took & beat.last):
            for p in range(pes):
                _shadow_write(m, [row[p] for row in shadow], packets, totals[p])
        with m.If(dut.o.valid & dut.o.ready):
            flat = [shadow[k][p] for k in range(4) for p in range(pes)]
            if pes == 1:
                _shadow_check(m, flat, given, dut.o.payload, self.broken)
            else:                                   # given = packet * pes + pe
                index = Signal(range(4 * pes), name="out_index")
                m.d.comb += index.eq((given // pes) * pes + given % pes)
                _shadow_check(m, flat, index, dut.o.payload, self.broken)
        return m


# ---------------------------------------------------------------- DNA-TEQ

class CounterBankSpec(Elaboratable):
    """:class:`hw.dnateq.CounterBank` against the identity's counters (SPEC 3): each
    non-zero pair moves ``C0[fx + fw]``, ``C1[fx]``, ``C2[fw]`` and ``C3`` by its sign; a
    copy hands the counts to the snapshot and restarts from this clock's pair; every read
    of the snapshot, at any step, is the count (the folded ``C3``: 0).  BMC."""

    def __init__(self, *, broken=False, **params):
        self.params, self.broken = params, broken

    def elaborate(self, platform):
        from quantrtl.hw.dnateq import CounterBank
        m = Module()
        dut = _elaborated(m, "dut", CounterBank(**self.params), platform)
        n, width, pp = dut.n, dut.width, dut.pp
        pair, ctl = dut.pair, dut.ctl
        for port in (pair.live, pair.neg, pair.fx, pair.fw, ctl.copy, ctl.step):
            m.d.comb += port.eq(AnySeq(len(port)))
        m.d.comb += Assume(ctl.step < dut.steps)
        M = 1 << (n - 1)
        count = [Signal(signed(width), name=f"ref_cnt{e}") for e in range(4 * M)]
        snap = [Signal(signed(width), name=f"ref_snap{e}") for e in range(4 * M)]
        k = pair.fx + pair.fw
        for e in range(4 * M):
            if e < 2 * M - 1:
                hit = k == e
            elif e < 3 * M - 1:
                hit = pair.fx == e - (2 * M - 1)
            elif e < 4 * M - 1:
                hit = pair.fw == e - (3 * M - 1)
            else:
                hit = Const(1)
            move = Mux(pair.live & hit, Mux(pair.neg, -1, 1), 0)
            with m.If(ctl.copy):
                m.d.sync += [snap[e].eq(count[e]), count[e].eq(move)]
            with m.Else():
                m.d.sync += count[e].eq(count[e] + move)
        for j in range(pp):
            entries = [snap[e * pp + j] if e * pp + j < dut.counted else Const(0, signed(width))
                       for e in range(dut.steps)]
            want = Signal(signed(width), name=f"want{j}")
            with m.Switch(ctl.step):
                for step, value in enumerate(entries):
                    with m.Case(step):
                        m.d.comb += want.eq(value)
            mag, neg = dut.read.mag[j], dut.read.neg[j]
            m.d.comb += Assert(Mux(neg, -mag, mag) == want + int(self.broken))
        return m


class PostProcessorSpec(Elaboratable):
    """:class:`hw.dnateq.PostProcessor`: every result is ``sum of (+-) mag * lut`` over the
    steps of its dot product (``first`` .. ``last``; the step after a ``last`` is a
    ``first``, as the DNA-TEQ engine sends them), in order; BMC.  With
    ``functional=False``, by k-induction: the output held while stalled, the last steps
    in minus the results out = the last steps in flight, a step per clock."""

    def __init__(self, *, functional=True, broken=False, **params):
        self.params, self.functional, self.broken = params, functional, broken

    def elaborate(self, platform):
        from quantrtl.hw.dnateq import PostProcessor
        m = Module()
        dut = _elaborated(m, "dut", PostProcessor(**self.params), platform)
        stream_env(m, dut)
        assert_stable(m, dut.o, "o")
        if not self.functional:             # one result per last step: none lost or repeated
            lasts = counter(m, dut.i.valid & dut.i.ready & dut.i.payload.last, 4, "lasts")
            results = counter(m, dut.o.valid & dut.o.ready, 4, "results")
            m.d.comb += Assert((lasts - results)[:4] == dut.pipeline.occupancy("last"))
            m.d.comb += Assert(~dut.o.ready | dut.i.ready)
            return m
        step, rw = dut.i.payload, dut.result_width
        took = dut.i.valid & dut.i.ready
        # The protocol: a dot product's steps run from a first to a last step.
        starting = Signal(init=1, name="starting")
        with m.If(took):
            m.d.sync += starting.eq(step.last)
        with m.If(dut.i.valid & starting):
            m.d.comb += Assume(step.first)
        term = sum(Mux(step.neg[j], -(step.mag[j] * step.lut[j]), step.mag[j] * step.lut[j])
                   for j in range(dut.pp))
        acc = Signal(signed(rw), name="ref_acc")
        total = (Mux(step.first, 0, acc) + term)[:rw].as_signed()
        with m.If(took):
            m.d.sync += acc.eq(total)
        results = counter(m, took & step.last, 2, "results")
        given = counter(m, dut.o.valid & dut.o.ready, 2, "given")
        shadow = [Signal(signed(rw), name=f"ref{k}") for k in range(4)]
        with m.If(took & step.last):
            _shadow_write(m, shadow, results, total)
        with m.If(dut.o.valid & dut.o.ready):
            _shadow_check(m, shadow, given, dut.o.payload, self.broken)
        return m


# ---------------------------------------------------------------- the catalogue

HUFFMAN_PARAMS = ({"symbol_bits": 2, "max_length": 3, "word_width": 16},
                  {"symbol_bits": 2, "max_length": 3, "word_width": 16, "lanes": 2},
                  {"symbol_bits": 4, "max_length": 8, "word_width": 32})


MAC_PARAMS = ({"lanes": 1, "width": 3, "acc_width": 8},
              {"lanes": 2, "width": 3, "acc_width": 7, "zero_skip": False},
              {"lanes": 1, "width": 3, "acc_width": 7, "overflow": "saturate"},
              {"lanes": 1, "width": 3, "acc_width": 8, "pes": 2})
COUNTER_PARAMS = tuple({"n": 3, "width": 5, "pp_lanes": pp, "fold_c3": fold, "isolate": iso,
                        "counter": code}
                       for pp, fold, iso, code in ((1, True, True, "signmag"),
                                                   (2, False, False, "twos"),
                                                   (4, True, True, "twos")))


DNATEQ_PARAMS = ({"n": 3, "lanes": 1, "max_length": 8, "lut_width": 4, "frac_bits": 0,
                  "pp_lanes": 4},
                 {"n": 3, "lanes": 2, "pes": 2, "max_length": 8, "lut_width": 4,
                  "frac_bits": 0, "pp_lanes": 2})


def _dnateq(params):
    from quantrtl.hw.dnateq import DnaTeqDotProduct
    return DnaTeqDotProduct(**params)


def _label(params) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items())


def _capacity(params) -> int:
    return params["word_width"] + 2 * params.get("lanes", 1) * params["max_length"]


PROOFS = [
    *(Proof(f"pipeline/stages={k}", (lambda k=k: PipelineSpec(k)), "prove", 2,
            "StallPipeline: in order, none lost or duplicated, held while stalled, "
            "one beat per clock") for k in (1, 2, 3, 4)),
    *(Proof(f"dqa/n={n},m={mm}", (lambda n=n, mm=mm: DqaJoinSpec(n, mm)), "prove", 2,
            "DqaJoin: exact (q << m) + err, errors consumed with important beats only, "
            "1:1, held while stalled") for n, mm in ((2, 1), (4, 3), (8, 8))),
    *(Proof(f"requant/{r},latency={lat}/stream",
            (lambda r=r, lat=lat: RequantSpec(r, lat, functional=False)), "prove", 2,
            "requantizer: 1:1 (transfers = beats held), held while stalled, a beat per "
            "clock") for r in ("single", "double") for lat in (1, 2, 3)),
    *(Proof(f"requant/{r},latency=1,split={int(sp)}/exact",
            (lambda r=r, sp=sp: RequantSpec(r, 1, functional=True, split=sp)),
            "prove", 2, "requantizer = SPEC 2 reference (TFLite), every input, unbounded",
            engine="smtbmc boolector") for r in ("single", "double") for sp in (True, False)),
    *(Proof(f"requant/{r},latency={lat},split={int(sp)}/exact-free-products",
            (lambda r=r, lat=lat, sp=sp: RequantSpec(r, lat, functional=True, split=sp,
                                                     free_products=True)),
            "bmc", lat + 1, "requantizer = SPEC 2 reference (TFLite) for every product value "
            "(the multiplier cells excepted), bounded", engine="smtbmc boolector")
      for r in ("single", "double") for lat, sp in ((3, True),)),
    *(Proof(f"dnaenc/n={n}", (lambda n=n: EncoderSpec(n, 12)), "prove", 2,
            "DNA-TEQ encoder: 1:1 on result beats, loads give none, held while stalled")
      for n in (3, 5)),
    *(Proof(f"huffman/{_label(p)}/error", (lambda p=p: HuffmanSpec(p, "error")), "prove", 3,
            "Huffman: error sticky until restart, no symbol after it, input always "
            "accepted in it, output held while stalled") for p in HUFFMAN_PARAMS),
    *(Proof(f"huffman/{_label(p)}/never-stalls",
            (lambda p=p: HuffmanSpec(p, "stall")), "prove", _capacity(p) + 5,
            "Huffman: with the output ready no beat waits more than capacity + 2 clocks")
      for p in HUFFMAN_PARAMS[:2]),
    *(Proof(f"mac/{_label(p)}/exact", (lambda p=p: MacSpec(p)), "bmc",
            6 if p.get("pes", 1) > 1 else 7,
            "MAC: each result = bias + sum (a + offset) * w of its packet, per PE, bounded",
            engine="smtbmc boolector") for p in MAC_PARAMS),
    *(Proof(f"mac/{_label(p)}/stream", (lambda p=p: MacSpec(p, functional=False)), "prove",
            2, "MAC: one result (set) per packet, none lost or repeated; output held while "
            "stalled") for p in MAC_PARAMS),
    *(Proof(f"dnateq/counters/{_label(p)}", (lambda p=p: CounterBankSpec(**p)), "bmc", 10,
            "DNA-TEQ counters + snapshot = the identity's counts at every step, bounded",
            engine="smtbmc boolector") for p in COUNTER_PARAMS),
    *(Proof(f"dnateq/post/pp_lanes={pp}", (lambda pp=pp: PostProcessorSpec(
            pp_lanes=pp, count_width=3, lut_width=4, result_width=12)), "bmc", 7,
            "DNA-TEQ post-processor = sum of +-count * LUT per dot product, bounded",
            engine="smtbmc boolector") for pp in (1, 2)),
    *(Proof(f"dnateq/engine/{_label(p)}/count", (lambda p=p: EngineCountSpec(p)), "prove",
            2, "DNA-TEQ engine: pes last steps per dot product handed over, none lost or "
            "repeated") for p in DNATEQ_PARAMS),
    *(Proof(f"mac/result-bank/count={k}", (lambda k=k: BankSpec(k)), "prove", 2,
            "MAC result bank: each set given out in order, none lost or repeated, held "
            "while stalled") for k in (2, 3)),
    *(Proof(f"dnateq/engine/{_label(p)}/stream",
            (lambda p=p: StableSpec(lambda: _dnateq(p))), "prove", 2,
            "DNA-TEQ engine (whole block): output held while stalled") for p in DNATEQ_PARAMS),
    *(Proof(f"dnateq/post/pp_lanes={pp}/stream", (lambda pp=pp: PostProcessorSpec(
            functional=False, pp_lanes=pp, count_width=3, lut_width=4, result_width=12)),
            "prove", 2, "DNA-TEQ post-processor: one result per last step (none lost or "
            "repeated), held while stalled, a step per clock") for pp in (1, 2)),
]
