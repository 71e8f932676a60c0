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

The datapath (docs/requantizer.md has the sweep that chose it):

* **One product, one shift, one adder.**  Both roundings are a single right shift of
  ``Q = operand * M0 (+ 2^30)`` by ``T`` with the bit below it as the rounding increment:
  ``(P + 2^(T-1)) >> T == (P >> T) + P[T-1]``.  Single rounding: ``Q = acc * M0``,
  ``T = 31 - shift``.  Double rounding: ``Q = wrap32(acc << max(shift, 0)) * M0 + 2^30``
  (SRDHM without its unreachable saturation is ``Q >> 31``: ties toward +infinity), ``T =
  31 + max(-shift, 0)``, and RoundingDivideByPOT's increment ``Q[T-1]`` is dropped for a
  negative tie (no set bit of ``Q >> 31`` below it).  The nudge ``2^30`` joins the
  multiplier's adder tree; the increment is the carry into the zero-point adder.  There is
  no 63-bit rounding adder.
* **Narrowed after the shift, not before.**  The product cannot lose a bit (at ``shift =
  30`` the increment is ``P[0]``), but the clamp only tells ``out_width + 2``-bit values
  apart (:attr:`Requantizer.clamp_bits`): the shifted value is saturated to them, and the
  zero-point adder and the clamp comparators are that wide instead of 33 bits.  The single
  rounding's 32-bit wrap of ``a + 1`` (``a = INT32_MAX``) is one flag that selects ``qmin``.
* **Split multiply** (``split``, the default): two 32x16 products (the multiplier's low half
  unsigned, its high half signed) are registered apart and summed in the next stage, so
  neither stage holds a whole 32x32 multiplier.

Every shift costs the same: one result per clock at every shift.  ``latency`` (1 to 3)
places the pipeline registers: always one at the output (after the zero point and clamp),
with 2 also one after the multiply, and with 3 also one after the shift (the narrowed
value, its increment and the wrap flag: ``clamp_bits + 2`` flip-flops).  With ``latency =
1`` a split multiply is summed in the same clock.

Behind a dot-product engine the requantizer works once per dot product: its pipeline is
``coarse`` (:class:`hw.pipeline.StallPipeline`), so the flow's hierarchical clock gating
stops its whole clock while no beat is in flight.
"""

from amaranth import Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream
from amaranth.lib.wiring import In, Out

from quantrtl.spec import ROUNDING_MODES, Param, RoundingMode
from .component import Component
from .pipeline import StallPipeline

__all__ = ["Requantizer", "PRODUCT_BITS"]

PRODUCT_BITS = 63   # |acc * M0 + 2^30| < 2^62 for every M0 of the contract


class Requantizer(Component):
    """int32 accumulator in, ``out_width``-bit requantized value out, one per clock.

    Ports: ``i`` (stream of :attr:`input_layout`: ``acc``, ``multiplier``, ``shift``),
    ``o`` (stream of ``signed(out_width)``), ``zero_point``, ``qmin``, ``qmax``
    (``signed(out_width)`` each).
    """

    PARAMS = (
        Param("rounding", "single", "MultiplyByQuantizedMultiplier rounding", kind=str,
              choices=ROUNDING_MODES),
        Param("latency", 3, "clocks from input to output (pipeline registers)", lo=1, hi=3),
        Param("out_width", 8, "bits of the output, zero point and clamp bounds", lo=2, hi=32),
        Param("split", True, "the 32x32 multiply as two 32x16 products, summed in the "
              "next stage", kind=bool),
    )

    # Energy breakdown (synth.components): the whole pipeline is the requantizer.
    ENERGY_COMPONENTS = (("requantizer", ""),)

    def __init__(self, *, rounding="single", latency=3, out_width=8, split=True):
        self.check_params(rounding=str(rounding), latency=latency, out_width=out_width,
                          split=split)
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
        beat = self.i.payload
        double = self.rounding is RoundingMode.DOUBLE

        # Stage A: the 32x32 multiply (after the double mode's wrapping left shift) as one
        # or two products, and the right shift ``down = T - 1`` in [0, 61].
        products = self.products(self.operand(beat.acc, beat.shift), beat.multiplier)
        if double:
            # SRDHM's nudge, folded into the (first) product's adder tree.
            products[0] = (products[0][0] + (1 << 30), products[0][1])
            down = 30 + Mux(beat.shift < 0, -beat.shift, 0).as_unsigned()[:5]
        else:
            down = (30 - beat.shift).as_unsigned()[:6]
        values = {f"p{k}": p for k, (p, _) in enumerate(products)}
        valid_a, sa = pipe.stage(self.i.valid, {**values, "down": down}, name="mul",
                                 registered=self.latency >= 2)

        # Stage B: one right shift of Q by T - 1 gives a = Q >> T (wrapped to 32 bits) and
        # the rounding bit Q[T - 1].
        # Q and the shifted window are named signals: without them the emitted Verilog
        # repeats the adder and the 63-bit shift in every expression that reads them, which
        # Icarus evaluates copy by copy (Yosys and Verilator merge the copies).
        q = Signal(signed(PRODUCT_BITS), name="q")
        m.d.comb += q.eq(sum(sa[f"p{k}"] << offset for k, (_, offset) in enumerate(products)))
        down = sa["down"]
        window = Signal(33, name="window")
        m.d.comb += window.eq(q >> down)
        a, round_bit = window[1:33].as_signed(), window[0]
        if double:
            # RoundingDivideByPOT(high, r), high = Q >> 31: a negative tie rounds toward 0.
            right = (down - 30).as_unsigned()[:5]
            below = ((Const(1, unsigned(33)) << (right - 1).as_unsigned()[:5]) - 1)[:32]
            sticky = (q[31:63] & below).any()
            round_bit = round_bit & right.any() & (~q[-1] | sticky)
        stage_b = {"a": a, "round": round_bit}
        bits = self.clamp_bits
        if bits < 32:
            # The clamp only tells values of ``bits`` bits apart: saturate a to them; a + 1
            # wrapping to INT32_MIN (single rounding) always clamps to qmin.
            stage_b["wrapped"] = (a == (1 << 31) - 1) & round_bit
            top = a[bits - 1:]
            fits = (top == 0) | (top == (1 << len(top)) - 1)
            low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            stage_b["a"] = Mux(fits, a[:bits], Mux(a[-1], low, high))[:bits].as_signed()
        valid_b, sb = pipe.stage(valid_a, stage_b, name="round", registered=self.latency >= 3)

        # Output: the zero point and the rounding increment in one adder, then the clamp.
        if bits < 32:
            biased = sb["a"] + self.zero_point + sb["round"]
        else:
            biased = (sb["a"] + sb["round"])[:32].as_signed() + self.zero_point
        clamped = Mux(biased < self.qmin, self.qmin, Mux(biased > self.qmax, self.qmax, biased))
        if bits < 32:
            clamped = Mux(sb["wrapped"], self.qmin, clamped)
        pipe.output(valid_b, clamped[:self.out_width].as_signed())
        return m

    @property
    def clamp_bits(self) -> int:
        """Bits of the saturated scaled value the clamp needs: ``out_width + 2`` (at most
        32): any value beyond them lies beyond ``qmin - zero_point`` or ``qmax -
        zero_point`` for every zero point of ``out_width`` bits."""
        return min(self.out_width + 2, 32)

    def operand(self, acc, shift):
        """The multiplier's left operand: ``acc``, or with double rounding ``wrap32(acc *
        2^max(shift, 0))``."""
        if self.rounding is RoundingMode.DOUBLE:
            left = Mux(shift > 0, shift, 0).as_unsigned()[:5]
            return (acc << left)[:32].as_signed()
        return acc

    def products(self, operand, multiplier) -> list:
        """``[(product, offset), ...]`` with ``sum(product << offset) == operand *
        multiplier``: one 32x32 product, or with ``split`` the products of the multiplier's
        low 16 bits (unsigned) and high 16 bits (signed), 48 bits each.  The formal
        reference (:mod:`quantrtl.tb.proofs`) sums the same expressions, so that its
        products are the block's own multiplier cells."""
        if self.split:
            return [((operand * multiplier[:16])[:48].as_signed(), 0),
                    ((operand * multiplier[16:32].as_signed())[:48].as_signed(), 16)]
        return [((operand * multiplier)[:PRODUCT_BITS].as_signed(), 0)]
