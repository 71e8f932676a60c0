"""A global-stall pipeline for stream-to-stream datapaths.

Every register of the pipeline advances together, when the output register is empty or is
being read (``advance = ~o.valid | o.ready``), and the input is ready exactly then.  A
transfer accepted at the input therefore moves one stage per advance and leaves the output
exactly once: no transfer is lost or duplicated under any pattern of ``valid`` and
``ready``, and with ``o.ready`` held high the pipeline takes one beat per clock.

A stage's data registers are reset-less and load only a valid beat (``advance & valid``):
they hold their value through bubbles, so an idle pipeline does not toggle, and their
enable is a clean clock-gating condition (:mod:`synth.clockgate`).  Only the ``valid``
bits are reset.  The data of a stage is meaningful only while its ``valid`` is high.
"""

from amaranth import Signal, Value
from amaranth.hdl import Shape

__all__ = ["StallPipeline"]


class StallPipeline:
    """Registers of a global-stall pipeline between stream ``i`` and stream ``o``."""

    def __init__(self, m, i, o):
        self.advance = Signal()
        m.d.comb += [
            self.advance.eq(~o.valid | o.ready),
            i.ready.eq(self.advance),
        ]
        self._m = m
        self._o = o

    def stage(self, valid, values: dict, *, name: str, registered: bool = True):
        """Optionally register ``valid`` and ``values`` (a dict of expressions).

        Returns ``(valid, values)`` after the stage; with ``registered=False`` they pass
        through unchanged, which is how latency parameters remove stages.
        """
        if not registered:
            return valid, values
        m = self._m
        valid_q = Signal(name=f"{name}_valid")
        values_q = {}
        for key, value in values.items():
            value = Value.cast(value)
            values_q[key] = Signal(Shape.cast(value.shape()), name=f"{name}_{key}",
                                   reset_less=True)
        with m.If(self.advance):
            m.d.sync += valid_q.eq(valid)
        with m.If(self.advance & valid):
            m.d.sync += [values_q[k].eq(values[k]) for k in values]
        return valid_q, values_q

    def output(self, valid, payload):
        """Drive the output register: loaded with ``payload`` whenever the pipeline advances."""
        m, o = self._m, self._o
        with m.If(self.advance):
            m.d.sync += o.valid.eq(valid)
            with m.If(valid):
                m.d.sync += o.payload.eq(payload)


def saturate(value, shape):
    """``value`` clamped to the range of ``shape`` (a signed shape)."""
    from amaranth import Mux, Const
    shape = Shape.cast(shape)
    lo = Const(-(1 << (shape.width - 1)), shape)
    hi = Const((1 << (shape.width - 1)) - 1, shape)
    return Mux(value > hi, hi, Mux(value < lo, lo, value[:shape.width].as_signed()))


def tree_sum(values):
    """Sum of ``values`` as a balanced adder tree (exact: each addition widens by one bit)."""
    values = list(values)
    while len(values) > 1:
        paired = [values[k] + values[k + 1] for k in range(0, len(values) - 1, 2)]
        if len(values) % 2:
            paired.append(values[-1])
        values = paired
    return values[0]
