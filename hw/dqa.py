"""The DQA dequantizer: joins ``n``-bit values with their decoded shifting errors (SPEC 4).

Stream ``i`` carries the stored activations in row-major order, each an ``n``-bit signed
``q`` with a flag ``important`` (its channel was quantized at ``n + m`` bits); stream ``e``
carries the shifting errors of the important elements only, in the same order (the output
of :class:`hw.huffman.HuffmanDecoder`).  For every ``i`` beat the block emits::

    y = (q << m) + err      if important (one err consumed from e)
    y = q << m              otherwise

a signed ``n + m``-bit integer on the scale ``s / 2^m`` (``x_hat = y * s / 2^m``), as
:func:`golden.dqa.join`.  An important beat waits for its error; an ordinary beat never
consumes one.  One output register, ``LATENCY`` 1, one value per clock while the output is
ready and the needed inputs are valid; nothing is lost or repeated under any valid/ready
pattern.
"""

from amaranth import Module, signed, unsigned
from amaranth.lib import data, stream
from amaranth.lib.wiring import In, Out

from quantrtl.spec import DQA_JOIN_M_BITS, DQA_JOIN_N_BITS, Param
from .component import Component
from .pipeline import StallPipeline

__all__ = ["DqaJoin"]


class DqaJoin(Component):
    """``(q << m) + err`` on streams.  Ports: ``i`` (:attr:`input_layout`), ``e``
    (``unsigned(m)``), ``o`` (``signed(n + m)``)."""

    PARAMS = (
        Param("n", 4, "bits of the stored activations q",
              lo=DQA_JOIN_N_BITS[0], hi=DQA_JOIN_N_BITS[1]),
        Param("m", 3, "extra bits of the important channels (bits of err)",
              lo=DQA_JOIN_M_BITS[0], hi=DQA_JOIN_M_BITS[1]),
    )
    LATENCY = 1

    def __init__(self, *, n=4, m=3):
        self.check_params(n=n, m=m)
        self.input_layout = data.StructLayout({"q": signed(self.n), "important": 1})
        self.error_shape = unsigned(self.m)
        self.output_shape = signed(self.n + self.m)
        super().__init__({
            "i": In(stream.Signature(self.input_layout)),
            "e": In(stream.Signature(self.error_shape)),
            "o": Out(stream.Signature(self.output_shape)),
        })

    def elaborate(self, platform):
        m = Module()
        important = self.i.payload.important
        # An important channel's beat is taken together with its error beat.
        pipe = StallPipeline(m, self.i, self.o, side=(self.e, important))
        err = self.e.payload & important.replicate(self.m)
        pipe.output(pipe.valid, (self.i.payload.q << self.m) | err)
        return m
