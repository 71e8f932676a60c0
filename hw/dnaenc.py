"""The DNA-TEQ output encoder: a fixed-point result back to an ``n``-bit exponential code.

The dot-product block (:mod:`hw.dnateq`) outputs ``R`` (``signed(width)``, real value
``R * 2^-F``); the next layer takes its activations as ``n``-bit codes ``(s << (n-1)) | f``
(zero code ``M = 2^(n-1)``).  This block requantizes ``R`` with a run-time loaded table of
``2M - 1`` integer thresholds, the midpoints between the next layer's levels scaled by
``2^F`` and floored (:func:`golden.dnateq_encode.thresholds`), so that the code is exactly
``golden.dnateq.quantize(R * 2^-F, p)`` (linear rounding, ties to the smaller magnitude).
:func:`golden.dnateq_encode.encode` is the bit-exact reference::

    u = R if R >= 0 else ~R                   (= |R| - 1; width - 1 bits either way)
    R >= 0:  j = #(T_pos[k] <  u), k < M      code = M if j == 0 else j - 1
    R <  0:  j = #(T_neg[k] <= u), k < M - 1  code = M | j

Stream ``i`` (one beat = one result, or one table write; ``i.ready`` never depends on the
payload)
    ``load = 0``: encode ``r``; ``addr`` and ``data`` are ignored.
    ``load = 1``: ``threshold[addr] = data`` (unsigned ``width - 1`` bits; ``addr`` ``0 .. M-1``
    are ``T_pos[0 .. M-1]``, ``M .. 2M-2`` are ``T_neg[0 .. M-2]``; ``addr = 2M - 1`` writes
    nothing); ``r`` is ignored and no output is produced.  The table is read by the beat in
    the first pipeline register, in the same clock as that beat moves on, and a write is
    applied at the clock edge that accepts it, so a write applies exactly to the results
    whose beats come after it: a new layer's table can follow the previous layer's last
    result directly on the stream.  Each set of the table must be ascending (the golden
    model rejects other tables; for them the RTL gives some code, never an X).  The table
    resets to 0 (every result then encodes as its sign's largest code, 0 as the zero code).
Stream ``o``: one ``unsigned(n)`` code per ``load = 0`` beat, in order.

Pipeline (:class:`hw.pipeline.StallPipeline`: every register advances together when
``~o.valid | o.ready``): ``u`` and the sign | ``M`` comparators against the thresholds the
sign selects (:class:`ComparatorBank`), a thermometer-to-count encoder
(:class:`ThermometerCount`) and the code (:class:`CodeEncoder`) | output register.  One
result per clock while ``o.ready`` is high, ``LATENCY`` = 2 clocks from the accepted beat
to its code on ``o``.  Behind a dot-product engine it works once per dot product: the
pipeline is ``coarse``, so the flow's hierarchical clock gating stops its clock (table
included) while no beat is in flight.
"""

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream
from amaranth.lib.wiring import In, Out

from quantrtl.spec import DNATEQ_N_MAX, DNATEQ_N_MIN, Param
from .component import Component, Elaboratable
from .pipeline import StallPipeline

__all__ = ["DnaTeqEncoder", "ComparatorBank", "ThermometerCount", "CodeEncoder"]


class ComparatorBank(Elaboratable):
    """``M`` threshold comparators, ``T < |R|`` for the thresholds of ``R``'s sign.

    Inputs ``u`` (``unsigned(width - 1)``: ``R``, or ``~R`` for ``R < 0``), ``neg`` (the
    sign), ``t_pos[M]``, ``t_neg[M - 1]`` (``unsigned(width - 1)``).  Output ``above``
    (``M`` bits): ``above[k] = T_k < |R|`` with ``T_k = t_pos[k]`` for ``R >= 0``;
    for ``R < 0``, ``above[0] = 1`` and ``above[k] = t_neg[k - 1] < |R|`` (``k >= 1``).
    With ascending thresholds ``above`` is a thermometer code.

    ``T < |R|`` is ``T < u`` for ``R >= 0`` and ``T <= u`` for ``R < 0``: one comparator
    does both as ``2T < 2u + neg`` (``Cat(0, T) < Cat(neg, u)``), without forming ``|R|``.
    Comparator 0 only ever sees ``t_pos[0]``; the others take ``t_neg[k - 1]`` or
    ``t_pos[k]`` through a multiplexer on the sign.  Combinational.

    The inputs are the caller's signals (e.g. the registers that hold them), so that each
    net keeps one name, the register's, through the hierarchy into the netlist.
    """

    def __init__(self, u, neg, t_pos, t_neg):
        if len(t_neg) != len(t_pos) - 1:
            raise ValueError(f"t_neg has {len(t_neg)} entries: allowed len(t_pos) - 1 = "
                             f"{len(t_pos) - 1}")
        self.m = len(t_pos)
        self.u, self.neg = u, neg
        self.t_pos, self.t_neg = list(t_pos), list(t_neg)
        self.above = Signal(self.m)

    def elaborate(self, platform):
        m = Module()
        right = Cat(self.neg, self.u)
        m.d.comb += self.above[0].eq(self.neg | (Cat(Const(0, 1), self.t_pos[0]) < right))
        for k in range(1, self.m):
            threshold = Mux(self.neg, self.t_neg[k - 1], self.t_pos[k])
            m.d.comb += self.above[k].eq(Cat(Const(0, 1), threshold) < right)
        return m


class ThermometerCount(Elaboratable):
    """The number of ones of a ``2^q - 1``-bit thermometer code (``t[k] = 1`` for
    ``k < count``), as ``q`` bits, by binary search: the middle bit ``t[2^(q-1) - 1]`` is the
    count's top bit and selects (one 2:1 multiplexer per bit) the half that holds the rest,
    ``q`` levels, ``2^q - 1 - q`` multiplexers in all.  Input ``t``, output ``count``.
    Combinational; for a ``t`` that is not a thermometer code the count is unspecified."""

    def __init__(self, q: int):
        self.q = q
        self.t = Signal((1 << q) - 1)
        self.count = Signal(q)

    def elaborate(self, platform):
        m = Module()
        bits, level = [self.t[k] for k in range(len(self.t))], []
        while bits:
            half = len(bits) // 2
            top = bits[half]
            level.append(top)
            bits = [Mux(top, bits[half + 1 + k], bits[k]) for k in range(half)]
        m.d.comb += self.count.eq(Cat(*reversed(level)))
        return m


class CodeEncoder(Elaboratable):
    """``u``, ``neg`` and the table to the ``n``-bit code (the datapath between the first
    register and the output register, combinational).

    The comparators' ``above[1 .. M-1]`` count ``j' = j - 1`` for ``R >= 0`` (when
    ``above[0]`` is set) and ``j`` for ``R < 0``, so ``code = Cat(count(above[1:]),
    neg | ~above[0])``: for ``R >= 0`` with ``j = 0`` every comparator is clear and this is
    the zero code ``M``.  Inputs ``u``, ``neg``, ``t_pos``, ``t_neg`` as
    :class:`ComparatorBank` (``M = len(t_pos)``, ``n = log2(M) + 1``); output ``code``
    (``unsigned(n)``)."""

    def __init__(self, u, neg, t_pos, t_neg):
        self.n = len(t_pos).bit_length()
        if len(t_pos) != 1 << (self.n - 1):
            raise ValueError(f"len(t_pos)={len(t_pos)} is not allowed: allowed a power of two")
        self.bank = ComparatorBank(u, neg, t_pos, t_neg)
        self.count = ThermometerCount(self.n - 1)
        self.neg = neg
        self.code = Signal(self.n)

    def elaborate(self, platform):
        m = Module()
        m.submodules.bank = bank = self.bank
        m.submodules.thermometer = count = self.count
        m.d.comb += [
            count.t.eq(bank.above[1:]),
            self.code.eq(Cat(count.count, self.neg | ~bank.above[0])),
        ]
        return m


class DnaTeqEncoder(Component):
    """Signed fixed-point results in, ``n``-bit DNA-TEQ codes out, one per clock; thresholds
    loaded in-band.  See the module docstring for the protocol, the formula and the timing.

    Parameters: ``n`` (code bits, 3..7), ``width`` (bits of ``r``, 8..64).

    Members: ``i`` (stream of :attr:`input_layout`: ``r``, ``load``, ``addr``, ``data``),
    ``o`` (stream of ``unsigned(n)``).
    """

    PARAMS = (
        Param("n", 5, "code bits of the output (1 sign + n-1 exponent bits)",
              lo=DNATEQ_N_MIN, hi=DNATEQ_N_MAX),
        Param("width", 38, "bits of the signed result r (the dnateq block's result_width at "
                           "its defaults: lut_width + bitlen(4 max_length) + 1 = 38)",
              lo=8, hi=64),
    )
    LATENCY = 2
    # Energy breakdown (synth.components): the table, the datapath registers; the rest
    # (valid bits) is control.
    ENERGY_COMPONENTS = (("encoder table", r"^thr\d"),
                         ("encoder", r"^(mag_u|mag_neg|o__payload)"))

    def __init__(self, *, n=5, width=38):
        self.check_params(n=n, width=width)
        self.m = 1 << (self.n - 1)
        self.zero_code = self.m
        self.entries = 2 * self.m - 1
        self.magnitude_width = self.width - 1
        self.input_layout = data.StructLayout({
            "r": signed(self.width),
            "load": 1,
            "addr": unsigned(self.entries.bit_length()),
            "data": unsigned(self.magnitude_width),
        })
        self.output_shape = unsigned(self.n)
        super().__init__({
            "i": In(stream.Signature(self.input_layout)),
            "o": Out(stream.Signature(self.output_shape)),
        })

    def _table(self, m, write):
        """The ``2M - 1`` threshold registers (reset to 0), written by ``load`` beats."""
        beat = self.i.payload
        table = [Signal(self.magnitude_width, name=f"thr{k}") for k in range(self.entries)]
        for k, reg in enumerate(table):
            with m.If(write & (beat.addr == k)):
                m.d.sync += reg.eq(beat.data)
        return table

    def elaborate(self, platform):
        m = Module()
        beat = self.i.payload
        pipe = StallPipeline(m, self.i, self.o, coarse=True)
        self.pipeline = pipe  # of the latest elaboration: proofs read its occupancy
        accepted = self.i.valid & self.i.ready
        table = self._table(m, accepted & beat.load)

        # stage 1: u = R or ~R (= |R| - 1), and the sign
        neg = beat.r[-1]
        u = beat.r[:self.magnitude_width] ^ neg.replicate(self.magnitude_width)
        valid1, s1 = pipe.stage(self.i.valid & ~beat.load, {"u": u, "neg": neg}, name="mag")

        # stage 2: comparators, thermometer count, code -> output register
        m.submodules.encoder = enc = CodeEncoder(s1["u"], s1["neg"], table[:self.m],
                                                 table[self.m:])
        pipe.output(valid1, enc.code)
        return m
