"""The DNA-TEQ exponent-domain dot-product datapath (SPEC 3).

No multiplier per element: each pair of ``n``-bit exponential codes (see
:mod:`golden.dnateq`: sign bit + ``n-1`` exponent bits, zero code ``2^(n-1)``) costs one
``(n-1)``-bit exponent adder and four signed counter updates; a post-processor turns the
counters into the dot product with a run-time loaded LUT after the last pair::

    R = sum_e counters[e] * lut[e]       e over [C0 | C1 | C2 | C3], E = 2^(n+1) entries

:func:`golden.dnateq.dot_product` is the bit-exact reference.

Stream ``i`` (one beat = ``lanes`` code pairs, or one LUT write)
    ``load = 0``: ``x[l]``, ``w[l]`` are the codes of ``lanes`` pairs; ``last`` ends the dot
    product.  Pairs where either code is the zero code are skipped (no counter moves), so a
    dot product whose length is not a multiple of ``lanes`` is padded with zero codes.
    ``load = 1``: writes ``lut[addr] = data`` (unsigned ``lut_width`` bits, fixed point with
    ``frac_bits`` fractional bits); the codes and ``last`` are ignored.  A LUT write is
    applied only once every dot product completed before it has been post-processed (until
    then it is held in a register and ``i.ready`` is low), so it applies exactly to the dot
    products whose ``last`` beat comes after it.  ``i.ready`` never depends on the payload.
Stream ``o``: ``R`` as ``signed(result_width)``, one per dot product, in order.

Datapath
    Counting: lane ``l`` updates its own bank of ``E`` signed counters (``bank_width``
    bits: a bank sees at most ``ceil(max_length / lanes)`` pairs, so it never overflows
    within ``max_length``; past it the counters wrap).  Per non-zero pair: ``k = fx + fw``;
    ``C0[k]``, ``C1[fx]``, ``C2[fw]`` and ``C3`` move by ``+1`` (signs equal) or ``-1``.
    Banks: ``lanes`` banks, so no two updates ever hit one counter in a clock; they are
    merged (summed) by the post-processor.  Two sets of banks (double buffering): the
    post-processor drains one set while the next dot product counts into the other.
    Post-processing: ``pp_lanes`` entries per clock, ``E / pp_lanes`` steps; each step reads
    and clears ``pp_lanes`` counters of every bank; pipeline registers: merged counts and
    LUT values | products | adder tree | accumulator/output.  It stalls only on the output
    (``advance = ~o.valid | o.ready``, a :class:`hw.pipeline.StallPipeline`).

Timing (``o.ready`` high): the input takes one beat (``lanes`` pairs) per clock while a set
of banks is free; the result of a dot product appears ``E / pp_lanes + 4`` clocks after its
last beat is accepted when the post-processor was idle.  Back to back, a dot product of
``N`` pairs costs ``max(ceil(N / lanes), E / pp_lanes)`` clocks: counting and
post-processing overlap completely (``cycles_per_dot_product``).
"""

from math import ceil
from types import SimpleNamespace

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from quantrtl.params import Param, check_choice, check_int
from .pipeline import StallPipeline, tree_sum

__all__ = ["DnaTeqDotProduct"]


def _select(values, index):
    """``values[index]`` as a tree of 2:1 multiplexers, one level per bit of ``index``
    (``len(values)`` a power of two).  Plain ``Mux`` expressions become continuous
    assignments in Verilog, which every simulator evaluates from time 0."""
    level = 0
    while len(values) > 1:
        values = [Mux(index[level], values[k + 1], values[k]) for k in range(0, len(values), 2)]
        level += 1
    return values[0]


class DnaTeqDotProduct(wiring.Component):
    """``lanes`` exponent-code pairs per clock into banked counters, LUT post-processor.

    Ports: ``i`` (stream of :attr:`input_layout`), ``o`` (stream of ``signed(result_width)``).
    """

    PARAMS = (
        Param("n", 5, "code bits (1 sign + n-1 exponent bits); narrower layers run with "
                      "widened codes", lo=3, hi=7),
        Param("lanes", 4, "code pairs per beat (exponent adders, counter banks)", lo=1, hi=32),
        Param("max_length", 1024, "longest dot product (pairs): sets the counter widths",
              lo=1, hi=1 << 20),
        Param("lut_width", 24, "bits of an unsigned LUT entry", lo=2, hi=40),
        Param("frac_bits", 16, "fractional bits F of the LUT entries and of the result; "
                               "range [0, lut_width]", lo=0, hi=40),
        Param("pp_lanes", 4, "LUT entries post-processed per clock: a power of two, at most "
                             "2^(n+1)", lo=1, hi=256),
    )
    LATENCY = None  # depends on the parameters: see ``latency``

    def __init__(self, *, n=5, lanes=4, max_length=1024, lut_width=24, frac_bits=16,
                 pp_lanes=4):
        self._MustUse__silence = True  # an instance that fails validation is not 'unused'
        spec = {p.name: p for p in self.PARAMS}
        self.n = spec["n"].check(n)
        self.lanes = spec["lanes"].check(lanes)
        self.max_length = spec["max_length"].check(max_length)
        self.lut_width = spec["lut_width"].check(lut_width)
        self.frac_bits = check_int("frac_bits", frac_bits, 0, self.lut_width)
        self.entries = 1 << (self.n + 1)
        powers = tuple(1 << k for k in range(self.n + 2))
        spec["pp_lanes"].check(pp_lanes)
        self.pp_lanes = check_choice("pp_lanes", pp_lanes, powers)
        self.m = 1 << (self.n - 1)
        self.zero_code = self.m
        self.offsets = (0, 2 * self.m - 1, 3 * self.m - 1, 4 * self.m - 1)
        self.steps = self.entries // self.pp_lanes
        self.bank_beats = ceil(self.max_length / self.lanes)
        self.bank_width = self.bank_beats.bit_length() + 1
        self.result_width = self.lut_width + (4 * self.max_length).bit_length() + 1
        self.latency = self.steps + 4
        self.LATENCY = self.latency

        self.input_layout = data.StructLayout({
            "x": data.ArrayLayout(unsigned(self.n), self.lanes),
            "w": data.ArrayLayout(unsigned(self.n), self.lanes),
            "last": 1,
            "load": 1,
            "addr": unsigned(self.n + 1),
            "data": unsigned(self.lut_width),
        })
        self.output_shape = signed(self.result_width)
        self._MustUse__silence = False
        super().__init__({
            "i": In(stream.Signature(self.input_layout)),
            "o": Out(stream.Signature(self.output_shape)),
        })

    def cycles_per_dot_product(self, length: int) -> int:
        """Clocks per dot product of ``length`` pairs, back to back, output always ready."""
        return max(ceil(length / self.lanes), self.steps)

    def elaborate(self, platform):
        m = Module()
        n, lanes, E, P, G = self.n, self.lanes, self.entries, self.pp_lanes, self.steps
        o0, o1, o2, o3 = self.offsets
        beat = self.i.payload

        # ---- the post-processor's pipeline control (stalls only on the output)
        pp_port = SimpleNamespace(ready=Signal(name="pp_ready"))
        pipe = StallPipeline(m, pp_port, self.o)

        wsel = Signal(name="count_set")        # set of banks being counted into
        rsel = Signal(name="pp_set")           # set of banks the post-processor drains
        full = [Signal(name=f"set{b}_full") for b in range(2)]
        step = Signal(range(max(G, 2)), name="pp_step")
        full_w = Mux(wsel, full[1], full[0])
        full_r = Mux(rsel, full[1], full[0])
        issue = Signal(name="pp_issue")
        m.d.comb += issue.eq(full_r & pp_port.ready)
        final_step = step == G - 1

        # ---- input
        # ready never depends on the payload; a LUT write that cannot be applied yet is held
        # (and the input with it) until no completed dot product waits for the LUT.
        pending = Signal(name="lut_pending")
        p_addr = Signal(n + 1, name="lut_pending_addr")
        p_data = Signal(self.lut_width, name="lut_pending_data")
        idle = ~full[0] & ~full[1]
        m.d.comb += self.i.ready.eq(~full_w & ~pending)
        take = Signal(name="take_pairs")
        load = Signal(name="take_lut")
        m.d.comb += [
            take.eq(self.i.valid & self.i.ready & ~beat.load),
            load.eq(self.i.valid & self.i.ready & beat.load),
        ]
        with m.If(load & ~idle):
            m.d.sync += [pending.eq(1), p_addr.eq(beat.addr), p_data.eq(beat.data)]
        with m.If(pending & idle):
            m.d.sync += pending.eq(0)

        # ---- LUT (run-time loaded registers)
        lut = [Signal(self.lut_width, name=f"lut{e}") for e in range(E)]
        w_en = ((load | pending) & idle)
        w_addr = Mux(pending, p_addr, beat.addr)
        w_data = Mux(pending, p_data, beat.data)
        for e in range(E):
            with m.If(w_en & (w_addr == e)):
                m.d.sync += lut[e].eq(w_data)

        # ---- exponent adders and banked counters
        cnt = [[[Signal(signed(self.bank_width), name=f"cnt{b}_{lane}_{e}") for e in range(E)]
                for lane in range(lanes)] for b in range(2)]
        for lane in range(lanes):
            cx, cw = beat.x[lane], beat.w[lane]
            live = Signal(name=f"live{lane}")
            neg = Signal(name=f"neg{lane}")
            fx, fw = cx[:n - 1], cw[:n - 1]
            k = Signal(n, name=f"k{lane}")  # exponent adder
            m.d.comb += [
                live.eq(take & (cx != self.zero_code) & (cw != self.zero_code)),
                neg.eq(cx[n - 1] ^ cw[n - 1]),
                k.eq(fx + fw),
            ]
            delta = Mux(neg, -1, 1)
            for e in range(E):
                if e < o1:
                    hit = k == e - o0
                elif e < o2:
                    hit = fx == e - o1
                elif e < o3:
                    hit = fw == e - o2
                else:
                    hit = 1
                for b in range(2):
                    c = cnt[b][lane][e]
                    with m.If(issue & (rsel == b) & (step == e // P)):
                        m.d.sync += c.eq(0)             # read and cleared by the post-processor
                    with m.Elif(live & (wsel == b) & hit):
                        m.d.sync += c.eq(c + delta)

        # ---- bank-set bookkeeping
        with m.If(take & beat.last):
            m.d.sync += wsel.eq(~wsel)
        for b in range(2):
            with m.If(take & beat.last & (wsel == b)):
                m.d.sync += full[b].eq(1)
            with m.Elif(issue & final_step & (rsel == b)):
                m.d.sync += full[b].eq(0)
        with m.If(issue):
            m.d.sync += [step.eq(Mux(final_step, 0, step + 1)), rsel.eq(rsel ^ final_step)]

        # ---- post-processor: merge banks | multiply by the LUT | adder tree | accumulate
        s1 = {"first": step == 0, "last": final_step}
        for p in range(P):
            group = range(G)
            per_bank = []
            for lane in range(lanes):
                sets = [_select([cnt[b][lane][g * P + p] for g in group], step)
                        for b in range(2)]
                per_bank.append(Mux(rsel, sets[1], sets[0]))
            s1[f"count{p}"] = tree_sum(per_bank)
            s1[f"lut{p}"] = _select([lut[g * P + p] for g in group], step)
        valid1, r1 = pipe.stage(issue, s1, name="merge")
        s2 = {"first": r1["first"], "last": r1["last"]}
        for p in range(P):
            s2[f"prod{p}"] = r1[f"count{p}"] * r1[f"lut{p}"]
        valid2, r2 = pipe.stage(valid1, s2, name="mul")
        valid3, r3 = pipe.stage(valid2, {"first": r2["first"], "last": r2["last"],
                                         "sum": tree_sum(r2[f"prod{p}"] for p in range(P))},
                                name="sum")
        acc = Signal(self.output_shape, name="acc")
        total = (Mux(r3["first"], 0, acc) + r3["sum"])[:self.result_width].as_signed()
        with m.If(pipe.advance & valid3):
            m.d.sync += acc.eq(total)
        pipe.output(valid3 & r3["last"], total)
        return m
