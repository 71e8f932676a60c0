"""The INT8 MAC / dot-product unit (SPEC 1).

Streams of beats come in, each carrying ``lanes`` activation/weight pairs; a dot product is a
packet of beats ended by ``last``.  For each packet the unit emits one result::

    acc = bias + sum over its beats and lanes of (a + input_offset) * w

in an ``acc_width``-bit accumulator that wraps (``overflow="wrap"``, two's complement) or
saturates after every beat (``overflow="saturate"``) -- :func:`golden.mac.dot_product` is
the reference.  ``bias`` is read from the first beat of a packet (it is ignored on the
others); ``input_offset`` (TFLite's ``-input_zero_point``) is a port held constant while a
packet is in flight.

Timing: one beat per clock while ``o.ready`` is high; a result appears ``LATENCY`` (3)
clocks after its last beat is accepted.  Pipeline: offset-add and multiply | adder tree
(plus bias on a first beat) | accumulate into the output register.  All registers advance
together (:class:`hw.pipeline.StallPipeline`), so no beat is ever lost or duplicated.
"""

from amaranth import Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.mac import OVERFLOW_MODES
from quantrtl.params import Param, check_int
from .pipeline import StallPipeline, saturate, tree_sum

__all__ = ["DotProductUnit"]


class DotProductUnit(wiring.Component):
    """``lanes`` signed ``width``-bit multiply-accumulates per clock into ``acc_width`` bits.

    Ports: ``i`` (stream of :attr:`input_layout` beats), ``o`` (stream of ``signed(acc_width)``
    results), ``input_offset`` (``signed(width + 1)``, present if ``offset``).
    """

    PARAMS = (
        Param("lanes", 1, "products per beat (parallel multipliers)", lo=1, hi=64),
        Param("width", 8, "bits of the signed activations and weights", lo=2, hi=16),
        Param("acc_width", 32, "accumulator bits; range [2*width+1, 64]", lo=5, hi=64),
        Param("offset", True, "input_offset port added to activations", kind=bool),
        Param("bias", True, "bias field loaded on the first beat", kind=bool),
        Param("overflow", "wrap", "accumulator overflow", kind=str, choices=OVERFLOW_MODES),
    )
    LATENCY = 3

    def __init__(self, *, lanes=1, width=8, acc_width=32, offset=True, bias=True,
                 overflow="wrap"):
        self._MustUse__silence = True  # an instance that fails validation is not 'unused'
        spec = {p.name: p for p in self.PARAMS}
        self.lanes = spec["lanes"].check(lanes)
        self.width = spec["width"].check(width)
        self.acc_width = check_int("acc_width", acc_width, 2 * self.width + 1, 64)
        self.offset = spec["offset"].check(offset)
        self.bias = spec["bias"].check(bias)
        self.overflow = spec["overflow"].check(overflow)

        fields = {
            "a": data.ArrayLayout(signed(self.width), self.lanes),
            "w": data.ArrayLayout(signed(self.width), self.lanes),
        }
        if self.bias:
            fields["bias"] = signed(self.acc_width)
        fields["last"] = 1
        self.input_layout = data.StructLayout(fields)
        self.output_shape = signed(self.acc_width)

        members = {
            "i": In(stream.Signature(self.input_layout)),
            "o": Out(stream.Signature(self.output_shape)),
        }
        if self.offset:
            members["input_offset"] = In(signed(self.width + 1))
        self._MustUse__silence = False
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        pipe = StallPipeline(m, self.i, self.o)
        beat = self.i.payload

        # Is the beat at the input the first of its packet?
        first_in = Signal(init=1)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += first_in.eq(beat.last)

        # Stage 1: offset-add and multiply, one product per lane.
        products = {}
        for lane in range(self.lanes):
            a = beat.a[lane]
            if self.offset:
                a = a + self.input_offset
            products[f"p{lane}"] = a * beat.w[lane]
        stage1 = dict(products, first=first_in, last=beat.last)
        if self.bias:
            stage1["bias"] = beat.bias
        valid1, s1 = pipe.stage(self.i.valid, stage1, name="mul")

        # Stage 2: adder tree; a first beat also adds its bias here.
        beat_sum = tree_sum(s1[f"p{lane}"] for lane in range(self.lanes))
        if self.bias:
            beat_sum = beat_sum + Mux(s1["first"], s1["bias"], 0)
        valid2, s2 = pipe.stage(valid1, {"sum": beat_sum, "first": s1["first"],
                                         "last": s1["last"]}, name="sum")

        # Stage 3: accumulate; the last beat's total goes to the output register.
        acc = Signal(self.output_shape)
        total = Mux(s2["first"], 0, acc) + s2["sum"]
        if self.overflow == "saturate":
            result = saturate(total, self.output_shape)
        else:
            result = total[:self.acc_width].as_signed()
        with m.If(pipe.advance & valid2 & ~s2["last"]):
            m.d.sync += acc.eq(result)
        pipe.output(valid2 & s2["last"], result)
        return m
