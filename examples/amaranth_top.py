"""Using quantrtl blocks inside your own Amaranth design.

``QuantizedDot`` is a user's component: a 4-lane INT8 dot-product unit (``quantrtl.hw.mac``)
whose accumulator stream feeds a TFLite requantizer (``quantrtl.hw.requant``) with a
multiplier and shift from the user's own ports -- an int8 fully connected neuron,
int8 in, int8 out.  The stream interfaces are joined with ``wiring.connect``; the glue
between the two payloads is three assignments.

    python examples/amaranth_top.py            # writes quantized_dot.v
"""

from amaranth import Module, signed
from amaranth.back import verilog
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from quantrtl.hw.mac import DotProductUnit
from quantrtl.hw.requant import Requantizer


class QuantizedDot(wiring.Component):
    """``i``: MAC beats (``a``, ``w``: 4 int8 lanes, ``bias``, ``last``); ``o``: one int8
    result per dot product, ``requantize(dot + bias, multiplier, shift)`` clamped to
    ``[qmin, qmax]`` around ``zero_point``."""

    def __init__(self, lanes=4):
        self.mac = DotProductUnit(lanes=lanes, offset=True, bias=True)
        self.requant = Requantizer(rounding="single", latency=2, out_width=8)
        super().__init__({
            "i": In(stream.Signature(self.mac.input_layout)),
            "o": Out(stream.Signature(signed(8))),
            "input_offset": In(signed(9)),
            "multiplier": In(signed(32)),
            "shift": In(signed(6)),
            "zero_point": In(signed(8)),
            "qmin": In(signed(8)),
            "qmax": In(signed(8)),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.mac = mac = self.mac
        m.submodules.requant = rq = self.requant
        wiring.connect(m, wiring.flipped(self.i), mac.i)
        wiring.connect(m, rq.o, wiring.flipped(self.o))
        # The accumulator stream becomes the requantizer's input stream.
        m.d.comb += [
            rq.i.payload.acc.eq(mac.o.payload),
            rq.i.payload.multiplier.eq(self.multiplier),
            rq.i.payload.shift.eq(self.shift),
            rq.i.valid.eq(mac.o.valid),
            mac.o.ready.eq(rq.i.ready),
            mac.input_offset.eq(self.input_offset),
            rq.zero_point.eq(self.zero_point),
            rq.qmin.eq(self.qmin),
            rq.qmax.eq(self.qmax),
        ]
        return m


if __name__ == "__main__":
    top = QuantizedDot()
    with open("quantized_dot.v", "w") as f:
        f.write(verilog.convert(top, name="quantized_dot", emit_src=False))
    print("wrote quantized_dot.v")
