"""The fixed-point requantizer ``M = M0 * 2^shift`` (SPEC 2), bit-exact with TFLite.

Each input beat carries an int32 accumulator and its (per-channel) ``multiplier`` ``M0`` and
``shift``; the output is::

    y = clamp(MultiplyByQuantizedMultiplier(acc, M0, shift) + zero_point, qmin, qmax)

with the rounding of ``rounding`` (``"double"``: gemmlowp's SaturatingRoundingDoublingHighMul
then RoundingDivideByPOT; ``"single"``: ``(acc * M0 + 2^(30 - shift)) >> (31 - shift)``) --
:func:`golden.requant.requantize` is the reference, including its stated 32-bit wraps.
``zero_point``, ``qmin`` and ``qmax`` are per-tensor ports, held constant while results are
in flight.  Inputs outside the contract (``shift`` of -32 or 31, ``M0`` outside
``{0} U [2^30, 2^31 - 1]``) give unspecified results; the golden model rejects them.

Both variable shifts are barrel shifters, so every shift costs the same: one result per
clock at every shift.  ``latency`` (1 to 3) places the pipeline registers: always one at the
output (after the zero point and clamp), with 2 also one after the 32x32 multiplier, and
with 3 also one after the rounding shift.

Behind a dot-product engine the requantizer works once per dot product: its pipeline is
``coarse`` (:class:`hw.pipeline.StallPipeline`), so the flow's hierarchical clock gating
stops its whole clock while no beat is in flight.
"""

from amaranth import Const, Module, Mux, signed, unsigned
from amaranth.lib import data, stream
from amaranth.lib.wiring import In, Out

from quantrtl.spec import ROUNDING_MODES, Param, RoundingMode
from .component import Component
from .pipeline import StallPipeline

__all__ = ["Requantizer"]


class Requantizer(Component):
    """int32 accumulator in, ``out_width``-bit requantized value out, one per clock.

    Ports: ``i`` (stream of :attr:`input_layout`: ``acc``, ``multiplier``, ``shift``),
    ``o`` (stream of ``signed(out_width)``), ``zero_point``, ``qmin``, ``qmax``
    (``signed(out_width)`` each).
    """

    PARAMS = (
        Param("rounding", "single", "MultiplyByQuantizedMultiplier rounding", kind=str,
              choices=ROUNDING_MODES),
        Param("latency", 2, "clocks from input to output (pipeline registers)", lo=1, hi=3),
        Param("out_width", 8, "bits of the output, zero point and clamp bounds", lo=2, hi=32),
    )

    # Energy breakdown (synth.components): the whole pipeline is the requantizer.
    ENERGY_COMPONENTS = (("requantizer", ""),)

    def __init__(self, *, rounding="single", latency=2, out_width=8):
        self.check_params(rounding=str(rounding), latency=latency, out_width=out_width)
        self.rounding = RoundingMode(self.rounding)
        self.input_layout = data.StructLayout({
            "acc": signed(32),
            "multiplier": signed(32),
            "shift": signed(6),
        })
        self.output_shape = signed(self.out_width)
        super().__init__({
            "i": In(stream.Signature(self.input_layout)),
            "o": Out(stream.Signature(self.output_shape)),
            "zero_point": In(signed(self.out_width)),
            "qmin": In(signed(self.out_width)),
            "qmax": In(signed(self.out_width)),
        })

    def elaborate(self, platform):
        m = Module()
        pipe = StallPipeline(m, self.i, self.o, coarse=True)
        self.pipeline = pipe  # of the latest elaboration: proofs read its occupancy
        acc, multiplier, shift = self.i.payload.acc, self.i.payload.multiplier, self.i.payload.shift

        # Stage A: the 32x32 multiply (after the double mode's wrapping left shift).
        if self.rounding is RoundingMode.DOUBLE:
            left = Mux(shift > 0, shift, 0).as_unsigned()[:5]
            operand = (acc << left)[:32].as_signed()
        else:
            operand = acc
        product = operand * multiplier  # signed(64), |product| <= 2^62
        valid_a, sa = pipe.stage(self.i.valid, {"product": product, "shift": shift},
                                 name="mul", registered=self.latency >= 2)

        # Stage B: rounding shift(s).
        product, shift = sa["product"], sa["shift"]
        if self.rounding is RoundingMode.DOUBLE:
            # SaturatingRoundingDoublingHighMul: (product + nudge) / 2^31, truncating.
            nudged = product + Mux(product >= 0, 1 << 30, 1 - (1 << 30))
            floor_q = nudged >> 31
            inexact = nudged[:31].any()
            high = (floor_q + (nudged[-1] & inexact))[:32].as_signed()
            # RoundingDivideByPOT(high, right): round half away from zero.
            right = Mux(shift < 0, -shift, 0).as_unsigned()[:5]
            mask = ((Const(1, unsigned(33)) << right) - 1)[:32]
            remainder = (high.as_unsigned() & mask)
            threshold = (mask >> 1) + high[-1]
            scaled = ((high >> right) + (remainder > threshold))[:32].as_signed()
        else:
            total = (31 - shift).as_unsigned()[:6]           # 1 .. 62
            rounder = (Const(1, unsigned(63)) << (30 - shift).as_unsigned()[:6])[:63]
            scaled = ((product + rounder) >> total)[:32].as_signed()
        valid_b, sb = pipe.stage(valid_a, {"scaled": scaled}, name="round",
                                 registered=self.latency >= 3)

        # Output: zero point and clamp, exact (33-bit sum).
        biased = sb["scaled"] + self.zero_point
        clamped = Mux(biased < self.qmin, self.qmin, Mux(biased > self.qmax, self.qmax, biased))
        pipe.output(valid_b, clamped[:self.out_width].as_signed())
        return m
