"""The INT8 MAC / dot-product unit (SPEC 1): one processing element or an output-stationary
array of ``pes`` of them.

Streams of beats come in, each carrying ``lanes`` activations ``a`` and, for each of the
``pes`` PEs, ``lanes`` weights ``w``; a dot product is a packet of beats ended by ``last``.
For each packet and PE ``p`` the unit computes::

    acc[p] = bias[p] + sum over its beats and lanes of (a + input_offset) * w[p]

in an ``acc_width``-bit accumulator that wraps (``overflow="wrap"``, two's complement) or
saturates after every beat (``overflow="saturate"``) -- :func:`golden.mac.dot_product` is
the reference.  ``bias`` is read from the first beat of a packet (it is ignored on the
others); ``input_offset`` (TFLite's ``-input_zero_point``) is a port held constant while a
packet is in flight.  The PEs share the activations and the offset addition (done once per
lane); each has its own weights, bias and accumulator.

Output: one ``signed(acc_width)`` result per transfer; the ``pes`` results of a packet come
out one per clock, in PE order (so one requantizer downstream can take them).

Pipeline (all registers advance together, :class:`hw.pipeline.StallPipeline`, so no beat is
ever lost or duplicated):

1. offset-add; with ``zero_skip`` the operand registers of each (PE, lane), loaded only for
   a pair whose offset-added activation and weight are both non-zero (they hold their last
   values otherwise, so the multiplier behind them does not toggle), and a ``zero`` flag per
   pair; without ``zero_skip`` the multipliers and the product registers;
2. (the multipliers, with ``zero_skip``) and the adder tree of each PE, zero lanes masked,
   into a sum register that loads only when some lane of the PE is non-zero;
3. the accumulator of each PE: ``Mux(first, bias, acc) + sum``.  The bias travels down the
   pipeline in registers that load only on first beats, so it needs no adder of its own.
   With ``zero_skip`` a beat whose lanes are all zero leaves the adder's inputs unchanged and
   the accumulator unloaded (a first beat still loads the bias, a last beat still produces
   the output).  ``pes = 1``: the last beat's total goes to the output register.
   ``pes > 1``: it goes to a :class:`ResultBank` of ``pes`` result registers (loaded once
   per dot product), which a counter drains one per clock while the accumulators already
   take the next dot product; a last beat that finds the bank still draining stalls the
   pipeline (and the input) until the bank's last result leaves.

Timing: one beat per clock while the output keeps up; the first result of a packet appears
:attr:`DotProductUnit.LATENCY` (3) clocks after its last beat is accepted, PE ``p``'s
``p`` clocks later.  With ``pes > 1`` a dot product occupies the output for ``pes`` clocks,
so packets of fewer than ``pes`` beats are output-bound (``pes`` clocks each).
``i.ready`` depends on registers and ``o.ready`` only, never on the payload.
"""

from types import SimpleNamespace

from amaranth import Cat, Module, Mux, Signal
from amaranth import signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from quantrtl.spec import OVERFLOW_MODES, Param, check_int
from .component import Component
from .pipeline import StallPipeline, register, saturate, select, tree_sum

__all__ = ["DotProductUnit", "ResultBank"]


class ResultBank(Component):
    """``count`` results taken in one transfer, given out one per transfer, in order.

    Ports: ``i`` (stream of ``ArrayLayout(shape, count)``), ``o`` (stream of ``shape``).

    A serializer (:class:`hw.pipeline.StallPipeline` with ``beats=count``): a transfer on
    ``i`` loads the ``count`` result registers (``result0`` ..); the pipeline's counter
    (``index``) then presents them on ``o`` one per transfer; ``o.payload`` is a
    multiplexer of the registers, so the first result is on ``o`` the clock after its set
    was taken.  ``i.ready = ~o.valid | (o.ready & index == count - 1)``: the next set is
    taken in the clock the last result of the previous one leaves, so sets stream back to
    back at one result per clock; it never depends on ``i.payload``.
    """

    def __init__(self, count, shape):
        self.count = count
        self.shape = shape
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(shape, count))),
            "o": Out(stream.Signature(shape)),
        })

    def elaborate(self, platform):
        m = Module()
        pipe = StallPipeline(m, self.i, self.o, beats=self.count)
        take = pipe.advance & pipe.valid
        results = [pipe.register(self.i.payload[k], take, name=f"result{k}")
                   for k in range(self.count)]
        pipe.output(pipe.valid)
        index = pipe.index[0]
        m.d.comb += self.o.payload.eq(select(results, index))
        # What proofs read (tb.proofs): a set is pending while the output is valid.
        self.probes = SimpleNamespace(pending=self.o.valid, index=index, results=results)
        return m


class DotProductUnit(Component):
    """``pes`` x ``lanes`` signed ``width``-bit multiply-accumulates per clock into
    ``acc_width`` bits.

    Ports: ``i`` (stream of :attr:`input_layout` beats), ``o`` (stream of
    ``signed(acc_width)`` results, ``pes`` per packet), ``input_offset``
    (``signed(width + 1)``, present if ``offset``).

    Payload fields: ``a: ArrayLayout(signed(width), lanes)``; ``w`` the same with
    ``pes == 1``, else ``ArrayLayout(ArrayLayout(signed(width), lanes), pes)`` (``w[p][l]``);
    ``bias`` (if ``bias``): ``signed(acc_width)`` with ``pes == 1``, else
    ``ArrayLayout(signed(acc_width), pes)``; ``last``.
    """

    PARAMS = (
        Param("lanes", 1, "products per beat (parallel multipliers)", lo=1, hi=64),
        Param("width", 8, "bits of the signed activations and weights", lo=2, hi=16),
        Param("acc_width", 32, "accumulator bits; range [2*width+1, 64]", lo=5, hi=64),
        Param("offset", True, "input_offset port added to activations", kind=bool),
        Param("bias", True, "bias field loaded on the first beat", kind=bool),
        Param("overflow", "wrap", "accumulator overflow", kind=str, choices=OVERFLOW_MODES),
        Param("zero_skip", True, "zero-operand isolation: a pair with a zero operand "
                                 "toggles neither its multiplier nor the accumulator",
              kind=bool),
        Param("pes", 1, "processing elements sharing the activations (output-stationary "
                        "array); their results come out one per clock", lo=1, hi=64),
    )
    # Clocks from the last beat of a packet to its (first PE's) result, for every parameter
    # set: zero_skip moves the multiplier behind the operand registers instead of adding a
    # stage, and the result bank is the output register of an array.
    LATENCY = 3
    # Energy breakdown (synth.components): every arithmetic register; the rest (valid bits,
    # first/last/zero flags, the bank's counter) is control.
    ENERGY_COMPONENTS = (
        ("mac datapath",
         r"(^|\.)(mul_(p\d|bias)|op_(a|w|bias)|sum_(sum|bias)|acc|result\d|o__payload)"),
    )

    def __init__(self, *, lanes=1, width=8, acc_width=32, offset=True, bias=True,
                 overflow="wrap", zero_skip=True, pes=1):
        self.check_params(lanes=lanes, width=width, acc_width=acc_width, offset=offset,
                          bias=bias, overflow=overflow, zero_skip=zero_skip, pes=pes)

        operands = data.ArrayLayout(signed(self.width), self.lanes)
        self.output_shape = signed(self.acc_width)
        fields = {
            "a": operands,
            "w": operands if self.pes == 1 else data.ArrayLayout(operands, self.pes),
        }
        if self.bias:
            fields["bias"] = self.output_shape if self.pes == 1 else \
                data.ArrayLayout(self.output_shape, self.pes)
        fields["last"] = 1
        self.input_layout = data.StructLayout(fields)

        members = {
            "i": In(stream.Signature(self.input_layout)),
            "o": Out(stream.Signature(self.output_shape)),
        }
        if self.offset:
            members["input_offset"] = In(signed(self.width + 1))
        super().__init__(members)

    def validate(self):
        check_int("acc_width", self.acc_width, 2 * self.width + 1, 64)

    def cycles_per_dot_product(self, length: int) -> int:
        """Clocks per group of ``pes`` dot products of ``length`` pairs, back to back,
        output always ready (``length / lanes`` beats; the ``pes`` results leave one per
        clock meanwhile)."""
        return max(-(-length // self.lanes), self.pes)

    # -- names and field access --------------------------------------------------------

    def _name(self, base, pe, lane=None):
        """Register name: ``base`` + PE index (arrays only) + lane index (if given)."""
        parts = ([str(pe)] if self.pes > 1 else []) + ([str(lane)] if lane is not None else [])
        return base + "_".join(parts)

    def _weight(self, beat, pe, lane):
        return beat.w[lane] if self.pes == 1 else beat.w[pe][lane]

    def _pe_bias(self, bias, pe):
        """PE ``pe``'s bias from a bias field (or register), 0 without a bias field."""
        if not self.bias:
            return 0
        return bias if self.pes == 1 else bias[pe]

    def _hold_bias(self, m, name, value, enable):
        """A bias register (loaded on first beats only); ``None`` without a bias field."""
        if not self.bias:
            return None
        return register(m, value, enable, name=name, shape=self.input_layout["bias"].shape)

    def _beat_bias(self):
        return self.i.payload.bias if self.bias else None

    # -- pipeline stages ---------------------------------------------------------------

    def _first_beat(self, m):
        """1 while the beat at the input is the first of its packet."""
        first = Signal(init=1, name="first_in")
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += first.eq(self.i.payload.last)
        return first

    def _offset_activations(self):
        """``a + input_offset`` per lane, computed once for all PEs (exact width)."""
        beat = self.i.payload
        return [beat.a[lane] + self.input_offset if self.offset else beat.a[lane]
                for lane in range(self.lanes)]

    def _product_stage(self, m, pipe, first):
        """Stage 1 without zero_skip: the products of every (PE, lane) registered."""
        beat, x = self.i.payload, self._offset_activations()
        products = {self._name("p", pe, lane): x[lane] * self._weight(beat, pe, lane)
                    for pe in range(self.pes) for lane in range(self.lanes)}
        bias = self._hold_bias(m, "mul_bias", self._beat_bias(),
                               pipe.advance & self.i.valid & first)
        valid, q = pipe.stage(self.i.valid, {"first": first, "last": beat.last, **products},
                              name="mul")
        terms = [[q[self._name("p", pe, lane)] for lane in range(self.lanes)]
                 for pe in range(self.pes)]
        return valid, {"first": q["first"], "last": q["last"], "bias": bias, "terms": terms}

    def _operand_stage(self, m, pipe, first):
        """Stage 1 with zero_skip: per (PE, lane) operand registers loaded only for a
        non-zero pair, and the pairs' zero flags."""
        beat, x = self.i.payload, self._offset_activations()
        take = pipe.advance & self.i.valid
        x_zero = [value == 0 for value in x]       # once per lane, shared by the PEs
        zeros, operands = [], []
        for pe in range(self.pes):
            row = []
            for lane in range(self.lanes):
                w = self._weight(beat, pe, lane)
                zero = x_zero[lane] | (w == 0)
                load = take & ~zero
                row.append((register(m, x[lane], load, name=self._name("op_a", pe, lane)),
                            register(m, w, load, name=self._name("op_w", pe, lane))))
                zeros.append(zero)
            operands.append(row)
        bias = self._hold_bias(m, "op_bias", self._beat_bias(), take & first)
        valid, q = pipe.stage(self.i.valid, {"first": first, "last": beat.last,
                                             "zero": Cat(*zeros)}, name="op")
        zero = [[q["zero"][pe * self.lanes + lane] for lane in range(self.lanes)]
                for pe in range(self.pes)]
        return valid, {"first": q["first"], "last": q["last"], "bias": bias,
                       "operands": operands, "zero": zero}

    def _pe_beat_sum(self, s, pe):
        """``(sum of PE pe's lane terms, skip)``: with zero_skip the operands are multiplied
        here, zero lanes masked out, and ``skip`` is 1 when every lane is zero."""
        if not self.zero_skip:
            return tree_sum(s["terms"][pe]), None
        products = [a * w for a, w in s["operands"][pe]]
        zero = s["zero"][pe]
        if self.lanes > 1:  # lanes == 1: a zero beat is skipped whole, no mask needed
            products = [Mux(z, 0, p) for z, p in zip(zero, products)]
        return tree_sum(products), Cat(*zero).all()

    def _sum_stage(self, m, pipe, valid, s):
        """Stage 2: each PE's beat sum into its sum register (held on skipped beats); the
        bias moves on with first beats."""
        take = pipe.advance & valid
        sums, skips = [], []
        for pe in range(self.pes):
            total, skip = self._pe_beat_sum(s, pe)
            load = take if skip is None else take & ~skip
            sums.append(register(m, total, load, name=self._name("sum_sum", pe)))
            skips.append(skip)
        bias = self._hold_bias(m, "sum_bias", s["bias"], take & s["first"])
        flags = {"first": s["first"], "last": s["last"]}
        if self.zero_skip:
            flags["skip"] = Cat(*skips)
        valid, q = pipe.stage(valid, flags, name="sum")
        skip = [q["skip"][pe] if self.zero_skip else None for pe in range(self.pes)]
        return valid, {"first": q["first"], "last": q["last"], "bias": bias, "sums": sums,
                       "skip": skip}

    def _wrap_or_saturate(self, value):
        if self.overflow == "saturate":
            return saturate(value, self.output_shape)
        return value[:self.acc_width].as_signed()

    def _accumulate(self, m, pipe, valid, s):
        """Stage 3: every PE's ``Mux(first, bias, acc) + sum``, kept in its accumulator on a
        non-last beat; returns the PEs' totals (the results on a last beat)."""
        results = []
        for pe in range(self.pes):
            acc = Signal(self.output_shape, name=self._name("acc", pe), reset_less=True)
            base = Mux(s["first"], self._pe_bias(s["bias"], pe), acc)
            total = self._wrap_or_saturate(base + s["sums"][pe])
            load = pipe.advance & valid & ~s["last"]
            skip = s["skip"][pe]
            if skip is not None:
                # A skipped beat adds nothing: the total is the base, and (but on a first
                # beat) neither input of the adder has changed since the last loaded beat.
                total = Mux(skip, base, total)
                load &= s["first"] | ~skip
            with m.If(load):
                m.d.sync += acc.eq(total)
            results.append(total)
        return results

    def elaborate(self, platform):
        m = Module()
        if self.pes == 1:
            sink = self.o
        else:
            m.submodules.bank = bank = ResultBank(self.pes, self.output_shape)
            wiring.connect(m, bank.o, wiring.flipped(self.o))
            sink = bank.i
        pipe = StallPipeline(m, self.i, sink)
        self.pipeline = pipe  # of the latest elaboration: proofs read its occupancy
        first = self._first_beat(m)
        stage1 = self._operand_stage if self.zero_skip else self._product_stage
        valid1, s1 = stage1(m, pipe, first)
        valid2, s2 = self._sum_stage(m, pipe, valid1, s1)
        results = self._accumulate(m, pipe, valid2, s2)
        done = valid2 & s2["last"]
        if self.pes == 1:
            pipe.output(done, results[0])
        else:
            m.d.comb += sink.valid.eq(done)
            m.d.comb += [sink.payload[pe].eq(r) for pe, r in enumerate(results)]
        return m
