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

``coarse=True`` is for a pipeline that is idle most of the time (a post-processor that
runs once per dot product, a requantizer behind a dot-product engine): it names a
``clock_gate`` signal, high while a beat is at the input, in a stage or at the output.  No
register of the pipeline changes while it is low, which is the contract the flow's
hierarchical clock gating relies on (:mod:`synth.clockgate`): one gating cell clocks the
whole pipeline, register groups and their own gating cells included, only while a beat is
in flight, so the idle pipeline costs no clock at all.
"""

from amaranth import Cat, Const, Mux, Signal, Value
from amaranth.hdl import Shape

__all__ = ["StallPipeline", "CLOCK_GATE", "register", "select", "tree_sum", "saturate"]

CLOCK_GATE = "clock_gate"      # the name the flow's hierarchical clock gating looks for


def register(m, value, load, *, name: str, shape=None, reset_less: bool = True) -> Signal:
    """A register ``name`` (reset-less by default) that loads ``value`` when ``load`` and
    holds it otherwise: one clean clock-gating group.  ``shape`` (a shape or a layout)
    defaults to the value's."""
    if shape is None:
        shape = Shape.cast(Value.cast(value).shape())
    reg = Signal(shape, name=name, reset_less=reset_less)      # a layout gives a view
    with m.If(load):
        m.d.sync += reg.eq(value)
    return reg


class StallPipeline:
    """Registers of a global-stall pipeline between stream ``i`` and stream ``o``.

    ``side=(stream, needed)`` joins a second input stream: a beat of ``i`` for which
    ``needed`` holds is taken together with one beat of ``stream`` (both transfer in the
    same clock), any other beat of ``i`` alone; ``valid`` is the joint beat's valid.
    """

    def __init__(self, m, i, o, *, coarse: bool = False, side=None):
        self.advance = Signal()
        m.d.comb += self.advance.eq(~o.valid | o.ready)
        if side is None:
            self.valid = i.valid
            m.d.comb += i.ready.eq(self.advance)
        else:
            stream, needed = side
            have = ~needed | stream.valid
            self.valid = i.valid & have
            m.d.comb += [i.ready.eq(self.advance & have),
                         stream.ready.eq(self.advance & i.valid & needed)]
        self._m = m
        self._o = o
        self.coarse = coarse
        self._valids = [self.valid]
        self._stages = []
        self._registered_output = False
        if coarse:
            self.clock_gate = Signal(name=CLOCK_GATE, attrs={"keep": 1})

    def register(self, value, load, *, name: str, reset_less: bool = True) -> Signal:
        """A register of ``value`` that loads when ``load`` (:func:`register`)."""
        return register(self._m, value, load, name=name, reset_less=reset_less)

    def load(self, reg, value, load):
        """Load ``reg`` (a register of the caller's) with ``value`` when ``load``.  With
        ``coarse`` the caller promises that ``reg`` keeps its value while no beat is in
        flight."""
        with self._m.If(load):
            self._m.d.sync += reg.eq(value)

    def stage(self, valid, values: dict, *, name: str, registered: bool = True):
        """Optionally register ``valid`` and ``values`` (a dict of expressions).

        Returns ``(valid, values)`` after the stage; with ``registered=False`` they pass
        through unchanged, which is how latency parameters remove stages.
        """
        if not registered:
            return valid, values
        valid_q = self.register(valid, self.advance, name=f"{name}_valid", reset_less=False)
        self._valids.append(valid_q)
        values_q = {key: self.register(value, self.advance & valid, name=f"{name}_{key}")
                    for key, value in values.items()}
        self._stages.append((valid_q, values_q))
        return valid_q, values_q

    def occupancy(self, flag: str | None = None) -> Value:
        """The valid beats held in the stages and the output register: what a proof
        relates to the transfers in and out (an expression; nothing is added to the
        design unless it is used).  With ``flag``, only the stage beats whose value
        ``flag`` is set (e.g. ``"last"``: the dot products in flight, each of which will
        load the output register once)."""
        held = [v if flag is None else v & values[flag] for v, values in self._stages]
        # The output register, when :meth:`output` drives one (not a combinational sink).
        out = [self._o.valid] if self._registered_output else []
        return sum(held + out, Const(0, 1))

    @property
    def sink(self):
        """The stream the pipeline delivers into (its ``o``)."""
        return self._o

    def output(self, valid, payload):
        """Drive the output register: loaded with ``payload`` whenever the pipeline advances."""
        m, o = self._m, self._o
        self._registered_output = True
        if self.coarse:
            m.d.comb += self.clock_gate.eq(Cat(*self._valids, o.valid).any())
        self.load(o.valid, valid, self.advance)
        self.load(o.payload, payload, self.advance & valid)


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


def select(values, index):
    """``values[index]`` (``index < len(values)``) as a tree of 2:1 multiplexers, one level
    per bit of ``index``.  Plain ``Mux`` expressions become continuous assignments in
    Verilog, which every simulator evaluates from time 0."""
    values = list(values)
    level = 0
    while len(values) > 1:
        pairs = [values[k:k + 2] for k in range(0, len(values), 2)]
        values = [Mux(index[level], p[1], p[0]) if len(p) == 2 else p[0] for p in pairs]
        level += 1
    return values[0]
