""":class:`hw.pipeline.StallPipeline`'s serializer (``beats``), ``stall`` and ``flush`` modes.

In-process Amaranth simulations against a golden model of the stream transfers (every
input beat given out ``prod(beats)`` times, in order, with its index digits; none lost or
repeated; the output held while stalled; ``i.ready`` as the contract states it, never a
function of the payload), under random ``valid``/``ready``/``stall`` patterns; a
``flush`` empties the stages, the output register and the index, the rest flowing as
before.  The seed is printed; ``QUANTRTL_SEED=<n>`` repeats a run with it.

Then the equivalence of the places routed through these modes with the hand-written
logic they replaced (kept here only as the miters' references): :class:`hw.mac.ResultBank`,
the DNA-TEQ engine's input and hand-over control (:func:`hw.dnateq.input_stage` with
:class:`hw.dnateq.HandOver`) and the Huffman decoder's lanes and output register
(:class:`hw.huffman.LaneDecoder`, a 1:1 pipeline with ``flush``), each an Amaranth miter
proved by k-induction with SymbiYosys for every input sequence (no environment
assumptions at all).
"""

import os
import random
from math import prod
from types import SimpleNamespace

import pytest
from amaranth import (Cat, Const, Elaboratable, Module, Mux, ResetSignal, Signal, Value,
                      signed, unsigned)
from amaranth.asserts import AnySeq
from amaranth.hdl import Assert, Assume
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from quantrtl.hw.component import Component
from quantrtl.hw.dnateq import HandOver, handover_signature, input_stage
from quantrtl.hw.huffman import CodeMatch, LaneDecoder
from quantrtl.hw.mac import ResultBank
from quantrtl.hw.pipeline import StallPipeline, select
from quantrtl.tb.formal import Proof, run_proof, sby_available

WIDTH = 8          # bits of a test beat (its sequence value)
DIGIT = 4          # bits of each index digit in the test output payload


def _seed(case: str) -> int:
    """The run's seed: ``QUANTRTL_SEED`` if set, else a fixed one per case; printed."""
    env = os.environ.get("QUANTRTL_SEED")
    seed = int(env) if env else sum(map(ord, case)) * 7919
    print(f"{case}: seed {seed} (QUANTRTL_SEED={seed} repeats it)")
    return seed


class Serializer(Elaboratable):
    """``stages`` registered stages, then the serializing output register: ``o.payload`` is
    ``Cat(beat, index digits)``, each digit in ``DIGIT`` bits."""

    def __init__(self, beats, stages=0, stall=False, flush=False):
        self.beats, self.stages, self.use_stall, self.use_flush = beats, stages, stall, flush
        self.i = SimpleNamespace(valid=Signal(name="i_valid"), ready=Signal(name="i_ready"),
                                 payload=Signal(WIDTH, name="i_payload"))
        digits = len(beats) if isinstance(beats, tuple) else 1
        self.o = SimpleNamespace(valid=Signal(name="o_valid"), ready=Signal(name="o_ready"),
                                 payload=Signal(WIDTH + DIGIT * digits, name="o_payload"))
        self.stall = Signal(name="stall")
        self.flush = Signal(name="flush")
        self.final = Signal(name="final")
        self.occupancy = Signal(8, name="occupancy")

    def elaborate(self, platform):
        m = Module()
        pipe = StallPipeline(m, self.i, self.o, beats=self.beats,
                             stall=self.stall if self.use_stall else None,
                             flush=self.flush if self.use_flush else None)
        valid, values = pipe.valid, {"x": self.i.payload}
        for k in range(self.stages):
            valid, values = pipe.stage(valid, values, name=f"s{k}")
        held = pipe.register(values["x"], pipe.advance & valid, name="held")
        pipe.output(valid)
        digits = []
        for d, digit in enumerate(pipe.index):
            wide = Signal(DIGIT, name=f"digit{d}")
            m.d.comb += wide.eq(digit)
            digits.append(wide)
        radices = pipe.beats
        m.d.comb += [self.occupancy.eq(pipe.occupancy()),
                     self.o.payload.eq(Cat(held, *digits)),
                     self.final.eq(Cat(*(dig == r - 1 for dig, r in zip(digits, radices)))
                                   .all())]
        return m


def _digits(t, radices):
    """Output transfer ``t`` of a beat as mixed-radix digits, least significant first."""
    out = []
    for r in radices:
        out.append(t % r)
        t //= r
    return tuple(out)


def _unpack(payload, ndigits):
    return (payload & ((1 << WIDTH) - 1),
            tuple((payload >> (WIDTH + DIGIT * d)) & ((1 << DIGIT) - 1) for d in range(ndigits)))


def _run(dut, beats_in, *, seed, valid_p, ready_p, stall_p=0.0, limit=4000):
    """Feed ``beats_in`` through ``dut`` under random patterns; return the per-cycle record
    ``(took, gave, o_payload)`` and the transfers out, checking the stream rules and the
    ready contract on the way."""
    rng = random.Random(seed)
    radices = dut.beats if isinstance(dut.beats, tuple) else (dut.beats,)
    n_out = prod(radices) * len(beats_in)
    records, got = [], []

    async def bench(ctx):
        k, stalled = 0, None
        for cycle in range(limit):
            if k == len(beats_in) and len(got) == n_out:
                break
            # A source under the stream rule: once offered, a beat stays until taken.
            offer = k < len(beats_in) and (records and records[-1][3] or rng.random() < valid_p)
            ready = rng.random() < ready_p
            stall = rng.random() < stall_p
            ctx.set(dut.i.valid, int(offer))
            ctx.set(dut.o.ready, int(ready))
            ctx.set(dut.stall, int(stall))
            # i.ready never depends on the payload: the same with a different one.
            ctx.set(dut.i.payload, rng.randrange(1 << WIDTH))
            other = ctx.get(dut.i.ready)
            if offer:
                ctx.set(dut.i.payload, beats_in[k])
            i_ready = ctx.get(dut.i.ready)
            assert i_ready == other, f"i.ready depends on the payload (seed {seed})"
            o_valid, payload = ctx.get(dut.o.valid), ctx.get(dut.o.payload)
            # The contract: advance = ~o.valid | (o.ready & final), held back by stall.
            final = ctx.get(dut.final)
            want = (not o_valid or (ready and final)) and not (dut.use_stall and stall)
            assert i_ready == int(want), f"cycle {cycle}: i.ready off contract (seed {seed})"
            if stalled is not None:
                assert o_valid and payload == stalled, \
                    f"cycle {cycle}: o changed while stalled (seed {seed})"
            took, gave = bool(offer and i_ready), bool(o_valid and ready)
            stalled = payload if o_valid and not ready else None
            if took:
                k += 1
            if gave:
                got.append(_unpack(payload, len(radices)))
            records.append((took, gave, payload, offer and not took))
            await ctx.tick()
        ctx.set(dut.i.valid, 0)
        ctx.set(dut.o.ready, 1)
        for _ in range(dut.stages + 2 * prod(radices)):  # nothing comes after the last
            assert not ctx.get(dut.o.valid), f"an extra output beat (seed {seed})"
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return records, got, radices


CASES = [((3,), 0), (3, 0), (4, 2), ((2, 3), 0), ((3, 1, 2), 1), ((1, 4), 0), (1, 2), (5, 3)]


@pytest.mark.parametrize("beats, stages", CASES, ids=lambda v: str(v).replace(" ", ""))
@pytest.mark.parametrize("valid_p, ready_p, stall_p", [(0.7, 0.5, 0.0), (0.9, 0.8, 0.3),
                                                       (0.3, 0.9, 0.5)])
def test_serializer_against_the_transfer_model(beats, stages, valid_p, ready_p, stall_p):
    """Every beat taken is given out ``prod(beats)`` times, in order, with its index
    digits counting 0 .. in mixed radix; none lost, none repeated, none taken in a
    stalled clock; the output held while stalled; ``i.ready`` the contract's."""
    seed = _seed(f"serializer beats={beats} stages={stages} {valid_p}/{ready_p}/{stall_p}")
    rng = random.Random(seed)
    beats_in = [rng.randrange(1 << WIDTH) for _ in range(40)]
    dut = Serializer(beats, stages, stall=stall_p > 0)
    _, got, radices = _run(dut, beats_in, seed=seed, valid_p=valid_p, ready_p=ready_p,
                           stall_p=stall_p)
    want = [(v, _digits(t, radices)) for v in beats_in for t in range(prod(radices))]
    assert got == want, f"seed {seed}"


@pytest.mark.parametrize("beats, stages", [(3, 0), ((2, 3), 0), (4, 2), (1, 1)])
def test_serializer_full_rate_and_latency(beats, stages):
    """Beats always offered and the output always ready: one output transfer per clock,
    back to back across beats, the first ``stages + 1`` clocks after the first beat is
    taken; the input takes a beat every ``prod(beats)`` clocks."""
    seed = _seed(f"full rate beats={beats} stages={stages}")
    beats_in = [random.Random(seed).randrange(1 << WIDTH) for _ in range(12)]
    records, got, radices = _run(Serializer(beats, stages), beats_in, seed=seed,
                                 valid_p=1.0, ready_p=1.0)
    n = prod(radices)
    gave = [t for t, r in enumerate(records) if r[1]]
    took = [t for t, r in enumerate(records) if r[0]]
    assert gave == list(range(stages + 1, stages + 1 + n * len(beats_in)))
    assert took == [min(t, stages) + max(t - stages, 0) * n for t in range(len(beats_in))]
    assert len(got) == n * len(beats_in)


def test_one_beat_is_the_one_to_one_pipeline():
    """``beats=1``: no counter, ``advance = ~o.valid | o.ready`` (the index is the
    constant 0)."""
    dut = Serializer(1, 2)
    _, got, _ = _run(dut, list(range(30)), seed=_seed("beats=1"), valid_p=0.6, ready_p=0.6)
    assert got == [(v, (0,)) for v in range(30)]


@pytest.mark.parametrize("beats, stages", [(1, 0), (1, 2), (3, 1), ((2, 3), 2)])
def test_flush_empties_the_pipeline(beats, stages):
    """``flush``: the clock after it every stage and the output register are empty and the
    index is 0; the beats in flight (and one taken in the flush clock) are dropped, the
    rest given out whole and in order; ``i.ready`` is as without it."""
    seed = _seed(f"flush beats={beats} stages={stages}")
    rng = random.Random(seed)
    dut = Serializer(beats, stages, flush=True)
    radices = beats if isinstance(beats, tuple) else (beats,)
    n = prod(radices)

    async def bench(ctx):
        flight, sent, value = [], 0, 0     # beats in flight (oldest first), transfers of it
        for cycle in range(600):
            offer, ready = rng.random() < 0.8, rng.random() < 0.6
            flush = rng.random() < 0.08
            ctx.set(dut.i.valid, int(offer))
            ctx.set(dut.i.payload, value)
            ctx.set(dut.o.ready, int(ready))
            ctx.set(dut.flush, int(flush))
            o_valid, final = ctx.get(dut.o.valid), ctx.get(dut.final)
            assert ctx.get(dut.i.ready) == int(not o_valid or (ready and final)), cycle
            if o_valid and ready:
                assert flight, f"cycle {cycle}: a transfer with nothing in flight (seed {seed})"
                assert _unpack(ctx.get(dut.o.payload), len(radices)) == \
                    (flight[0], _digits(sent, radices)), f"cycle {cycle} (seed {seed})"
                sent += 1
                if sent == n:
                    flight.pop(0)
                    sent = 0
            if offer and ctx.get(dut.i.ready):
                flight.append(value)
                value = (value + 1) % (1 << WIDTH)
            await ctx.tick()
            if flush:
                flight, sent = [], 0
                assert not ctx.get(dut.o.valid) and ctx.get(dut.occupancy) == 0, cycle
                assert _unpack(ctx.get(dut.o.payload), len(radices))[1] == (0,) * len(radices)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


def test_parameter_errors():
    m = Module()
    m._MustUse__silence = True
    i = SimpleNamespace(valid=Signal(), ready=Signal(), payload=Signal(4))
    o = SimpleNamespace(valid=Signal(), ready=Signal(), payload=Signal(4))
    with pytest.raises(ValueError, match=r"beats=0 is out of range: allowed at least 1"):
        StallPipeline(m, i, o, beats=0)
    with pytest.raises(ValueError, match=r"beats=0 is out of range"):
        StallPipeline(m, i, o, beats=(2, 0))
    for bad in ("2", 2.0, True, (), (2, "x")):
        with pytest.raises(TypeError, match=r"is not an int or a non-empty tuple of ints"):
            StallPipeline(m, i, o, beats=bad)
    pipe = StallPipeline(m, i, o, beats=2)
    with pytest.raises(ValueError, match=r"takes no payload with beats > 1"):
        pipe.output(pipe.valid, i.payload)


# ---------------------------------------------------------------- equivalence miters

class OldResultBank(Component):
    """The reference: :class:`hw.mac.ResultBank` as it was written by hand, before the
    serializer mode (``mutate``: its ready without the ``at_last`` term, a false
    reference the miter must reject)."""

    def __init__(self, count, shape, mutate=False):
        self.count, self.shape, self.mutate = count, shape, mutate
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(shape, count))),
            "o": Out(stream.Signature(shape)),
        })

    def elaborate(self, platform):
        m = Module()
        results = [Signal(self.shape, name=f"result{k}", reset_less=True)
                   for k in range(self.count)]
        index = Signal(range(self.count), name="index")
        pending = Signal(name="pending")
        at_last = index == self.count - 1
        m.d.comb += [
            self.o.valid.eq(pending),
            self.o.payload.eq(select(results, index)),
            self.i.ready.eq(~pending | (self.o.ready & (1 if self.mutate else at_last))),
        ]
        self.probes = SimpleNamespace(pending=pending, index=index, results=results)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [r.eq(self.i.payload[k]) for k, r in enumerate(results)]
            m.d.sync += [pending.eq(1), index.eq(0)]
        with m.Elif(self.o.valid & self.o.ready):
            m.d.sync += [pending.eq(~at_last), index.eq(Mux(at_last, 0, index + 1))]
        return m


class OldHandOver(Component):
    """The reference: :class:`hw.dnateq.HandOver` as it was written by hand, with the
    engine's hand-written ``i.ready = ~(held & ~copy) & ~pending`` beside it
    (:func:`old_engine_input`).  ``mutate``: no copy in the final step's clock."""

    def __init__(self, *, steps, pes, mutate=False):
        self.steps, self.pes, self.mutate = steps, pes, mutate
        super().__init__({
            "done": In(1), "issue": In(1),
            "held": Out(1), "busy": Out(1), "idle": Out(1),
            "pe": Out(range(max(pes, 2))), "ctl": Out(handover_signature(steps)),
            "first": Out(1), "last": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        group, pe, copy = self.ctl.step, self.pe, self.ctl.copy
        final_step = self.last & (pe == self.pes - 1)
        free = ~self.busy if self.mutate else ~self.busy | (self.issue & final_step)
        m.d.comb += [
            self.first.eq(group == 0),
            self.last.eq(group == self.steps - 1),
            self.idle.eq(~self.held & ~self.busy),
            copy.eq(self.held & free),
        ]
        m.d.sync += self.held.eq(self.done | (self.held & ~copy))
        with m.If(copy):
            m.d.sync += self.busy.eq(1)
        with m.Elif(self.issue & final_step):
            m.d.sync += self.busy.eq(0)
        with m.If(self.issue):
            m.d.sync += group.eq(Mux(self.last, 0, group + 1))
            if self.pes > 1:
                with m.If(self.last):
                    m.d.sync += pe.eq(Mux(pe == self.pes - 1, 0, pe + 1))
        return m


def _free(m, width, name):
    """A free input of the miter, shared by both sides (one ``AnySeq``)."""
    sig = Signal(width, name=name)
    m.d.comb += sig.eq(AnySeq(width))
    return sig


def _elaborated(m, name, dut, platform):
    """``dut`` elaborated here, so that its probes are at hand."""
    dut._MustUse__silence = True
    m.submodules[name] = dut.elaborate(platform)
    return dut


class BankMiter(Elaboratable):
    """Old and new :class:`hw.mac.ResultBank` on the same free inputs (any ``i.valid``,
    ``i.payload`` and ``o.ready`` in every clock, no stream rule assumed): ``i.ready``,
    ``o.valid`` and ``o.payload`` equal in every clock; the registers equal too (the
    inductive invariant), with the index in range and 0 while no set is pending."""

    def __init__(self, count, shape, mutate=False):
        self.count, self.shape, self.mutate = count, shape, mutate

    def elaborate(self, platform):
        m = Module()
        m.d.comb += Assume(~ResetSignal())
        old = _elaborated(m, "old", OldResultBank(self.count, self.shape, self.mutate),
                          platform)
        new = _elaborated(m, "new", ResultBank(self.count, self.shape), platform)
        width = len(old.i.payload.as_value())
        valid, payload, ready = (_free(m, 1, "i_valid"), _free(m, width, "i_payload"),
                                 _free(m, 1, "o_ready"))
        for dut in (old, new):
            m.d.comb += [dut.i.valid.eq(valid), dut.i.payload.as_value().eq(payload),
                         dut.o.ready.eq(ready)]
        m.d.comb += [Assert(old.i.ready == new.i.ready), Assert(old.o.valid == new.o.valid),
                     Assert(Value.cast(old.o.payload) == Value.cast(new.o.payload))]
        po, pn = old.probes, new.probes
        m.d.comb += [Assert(po.pending == pn.pending), Assert(po.index == pn.index),
                     Assert(po.index < self.count)]
        m.d.comb += [Assert(a == b) for a, b in zip(po.results, pn.results)]
        with m.If(~po.pending):
            m.d.comb += Assert(po.index == 0)
        return m


def old_engine_input(m, valid, beat, pending, ctrl):
    """The reference engine input: ``i.ready`` and the pair beat taken, by hand."""
    ready, take = Signal(name="old_ready"), Signal(name="old_take")
    m.d.comb += [ready.eq(~(ctrl.held & ~ctrl.ctl.copy) & ~pending),
                 take.eq(valid & ready & ~beat.load),
                 ctrl.done.eq(take & beat.last)]
    return ready, take


class HandOverMiter(Elaboratable):
    """The DNA-TEQ engine's control, old and new, on the same free inputs: any input
    ``valid``, ``load`` and ``last``, any ``pending`` LUT write and any post-processor
    ``ready`` in every clock (a superset of what the engine feeds them).  Everything the
    rest of the engine reads of it is equal in every clock: ``i.ready``, the pair beat
    taken, ``copy``, ``step``, ``pe``, ``first``, ``last``, ``busy`` (the step stream's
    valid), ``idle``, ``held``.  The rest of the engine is the same code on both sides, a
    function of these, so the engines are cycle-equivalent."""

    def __init__(self, steps, pes, mutate=False):
        self.steps, self.pes, self.mutate = steps, pes, mutate

    def elaborate(self, platform):
        m = Module()
        m.d.comb += Assume(~ResetSignal())
        valid, pending, post_ready = (_free(m, 1, "i_valid"), _free(m, 1, "pending"),
                                      _free(m, 1, "post_ready"))
        beat = Signal(data.StructLayout({"load": 1, "last": 1}), name="i_payload")
        m.d.comb += beat.as_value().eq(AnySeq(2))

        old = _elaborated(m, "old", OldHandOver(steps=self.steps, pes=self.pes,
                                                mutate=self.mutate), platform)
        old_ready, old_take = old_engine_input(m, valid, beat, pending, old)
        m.d.comb += old.issue.eq(old.busy & post_ready)

        new = _elaborated(m, "new", HandOver(steps=self.steps, pes=self.pes), platform)
        i = SimpleNamespace(valid=valid, ready=Signal(name="new_ready"), payload=beat)
        taken = input_stage(m, i, new.i, pending)
        m.d.comb += new.issue.eq(new.busy & post_ready)

        pairs = [(old_ready, i.ready), (old_take, taken & ~beat.load),
                 (old.held, new.i.valid), (old.busy, new.busy), (old.idle, new.idle),
                 (old.ctl.copy, new.ctl.copy), (old.ctl.step, new.ctl.step),
                 (old.pe, new.pe), (old.first, new.first), (old.last, new.last)]
        m.d.comb += [Assert(a == b) for a, b in pairs]
        m.d.comb += [Assert(old.pe < self.pes), Assert(old.ctl.step < self.steps)]
        with m.If(~old.busy):
            m.d.comb += Assert((old.pe == 0) & (old.ctl.step == 0))
        return m


class OldLaneDecoder(LaneDecoder):
    """The reference: :class:`hw.huffman.LaneDecoder`'s elaboration as it was written by
    hand, with its own ``advance = ~o.valid | o.ready`` and ``flush`` (``mutate``: the
    advance without its ``~o.valid`` term, a false reference the miter must reject)."""

    def __init__(self, mutate=False, **params):
        self.mutate = mutate
        super().__init__(**params)

    def elaborate(self, platform):
        m = Module()
        L, K = self.max_length, self.lanes
        head, decode = self.head, self.decode
        lanes = [CodeMatch(symbol_bits=self.symbol_bits, max_length=L) for _ in range(K)]
        for k, lane in enumerate(lanes):
            m.submodules[f"match{k}"] = lane
        wiring.connect(m, wiring.flipped(self.code.canonical), *(lane.code for lane in lanes))
        advance = Signal()
        m.d.comb += advance.eq(self.o.ready if self.mutate else ~self.o.valid | self.o.ready)
        shift = Const(0, range(K * L + 1))
        oks, prev_ok = [], decode.enable
        for k, lane in enumerate(lanes):
            ok = Signal(name=f"ok{k}")
            m.d.comb += [lane.window.eq((head.bits << shift)[K * L - L:K * L]),
                         self.code.index[k].eq(lane.index),
                         ok.eq(prev_ok & lane.found & (shift + lane.length <= head.nbits)
                               & (decode.remaining > k))]
            oks.append(ok)
            shift = Mux(ok, shift + lane.length, shift)
            prev_ok = ok
        m.d.comb += [head.consumed.eq(Mux(advance, shift, 0)),
                     decode.emitted.eq(Mux(advance, sum(oks), 0))]
        lane0 = lanes[0]
        fits0 = lane0.found & (lane0.length <= head.nbits)
        m.d.comb += [decode.invalid.eq((head.nbits >= L) & ~lane0.found),
                     decode.truncated.eq(head.last & (head.nbits < L) & ~fits0)]

        with m.If(advance):
            m.d.sync += self.o.valid.eq(decode.emitted != 0)
            if K == 1:
                m.d.sync += self.o.payload.eq(self.code.symbol[0])
            else:
                m.d.sync += self.o.payload.n.eq(decode.emitted)
                for k in range(K):
                    m.d.sync += self.o.payload.sym[k].eq(self.code.symbol[k])
        with m.If(self.flush):
            m.d.sync += self.o.valid.eq(0)
        return m


class LaneMiter(Elaboratable):
    """Old and new :class:`hw.huffman.LaneDecoder` on the same free inputs: any head bits,
    ``nbits`` and ``last``, any canonical code (counts, first codes, offsets) and symbols
    looked up, any ``enable``/``remaining``, ``flush`` and ``o.ready`` in every clock (a
    superset of what the decoder feeds them).  Equal in every clock: what the rest of the
    decoder reads (``consumed``, ``emitted``, ``invalid``, ``truncated``, the lanes' table
    indices) and ``o.valid``; ``o.payload`` whenever ``o.valid`` is high.  (Only a payload
    nobody may read differs: the old register loaded on every advance, the pipeline's only
    with a decoded beat.)  These are the inductive invariant too: the output register is
    the only state."""

    def __init__(self, params, mutate=False):
        self.params, self.mutate = params, mutate

    def elaborate(self, platform):
        m = Module()
        m.d.comb += Assume(~ResetSignal())
        old = _elaborated(m, "old", OldLaneDecoder(self.mutate, **self.params), platform)
        new = _elaborated(m, "new", LaneDecoder(**self.params), platform)
        ins = {"bits": lambda d: d.head.bits, "nbits": lambda d: d.head.nbits,
               "last": lambda d: d.head.last,
               "counts": lambda d: d.code.canonical.counts,
               "first": lambda d: d.code.canonical.first,
               "offset": lambda d: d.code.canonical.offset,
               "symbol": lambda d: d.code.symbol,
               "enable": lambda d: d.decode.enable, "remaining": lambda d: d.decode.remaining,
               "flush": lambda d: d.flush, "o_ready": lambda d: d.o.ready}
        for name, port in ins.items():
            width = len(Value.cast(port(old)))
            value = _free(m, width, name)
            m.d.comb += [Value.cast(port(dut)).eq(value) for dut in (old, new)]
        outs = [lambda d: d.head.consumed, lambda d: d.decode.emitted,
                lambda d: d.decode.invalid, lambda d: d.decode.truncated,
                lambda d: d.code.index, lambda d: d.o.valid]
        m.d.comb += [Assert(Value.cast(port(old)) == Value.cast(port(new))) for port in outs]
        with m.If(old.o.valid):
            m.d.comb += Assert(Value.cast(old.o.payload) == Value.cast(new.o.payload))
        return m


LANE_PARAMS = [dict(symbol_bits=2, max_length=3, word_width=16, lanes=1),
               dict(symbol_bits=3, max_length=4, word_width=16, lanes=2),
               dict(symbol_bits=2, max_length=2, word_width=16, lanes=3)]


MITERS = {
    "bank count=2 unsigned(4)": lambda: BankMiter(2, unsigned(4)),
    "bank count=3 signed(5)": lambda: BankMiter(3, signed(5)),
    "bank count=5 signed(3)": lambda: BankMiter(5, signed(3)),
    "hand-over steps=4 pes=1": lambda: HandOverMiter(4, 1),
    "hand-over steps=2 pes=3": lambda: HandOverMiter(2, 3),
    "hand-over steps=1 pes=2": lambda: HandOverMiter(1, 2),
    **{"huffman lanes " + ",".join(f"{k}={v}" for k, v in p.items()): (lambda p=p: LaneMiter(p))
       for p in LANE_PARAMS},
}

needs_sby = pytest.mark.skipif(not sby_available()[0], reason=sby_available()[1])


@needs_sby
@pytest.mark.parametrize("name", list(MITERS))
def test_routed_logic_is_equivalent_to_the_hand_written(tmp_path, name):
    """k-induction: the old and new logic agree in every clock, on every input sequence."""
    result = run_proof(Proof(name, MITERS[name], "prove", 2, "old == new"), tmp_path)
    assert result["status"] == "pass", result


@needs_sby
@pytest.mark.parametrize("build", [lambda: BankMiter(3, signed(5), mutate=True),
                                   lambda: HandOverMiter(2, 3, mutate=True),
                                   lambda: LaneMiter(LANE_PARAMS[1], mutate=True)],
                         ids=["bank", "hand-over", "huffman-lanes"])
def test_miters_reject_a_changed_reference(tmp_path, build):
    """A reference one term off (the ready without its final-transfer term, the lanes'
    advance without ``~o.valid``) is told apart: the miters compare what they claim to."""
    result = run_proof(Proof("mutated", build, "bmc", 8, "old != new"), tmp_path)
    assert result["status"] == "fail", result
