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

``beats=N`` makes the output register a serializer (one beat in, ``N`` beats out): it
gives every beat it takes out as ``N`` consecutive transfers on ``o``, counted by
:attr:`StallPipeline.index`, and the pipeline advances only when the output register is
empty or its final transfer is being made (``advance = ~o.valid | (o.ready & final)``).
``stall`` is a condition under which the input takes nothing though the pipeline advances
(a resource behind the pipeline is busy).  ``flush`` empties the pipeline (a synchronous
abort, a decoder's ``restart``).  Through these, the ``i.ready`` and the ``valid``
registers of every global-stall pipeline are this module's: no block writes its own.  A
ready that is not a global stall stays with its block: a variable-rate buffer's (its free
space, :class:`hw.huffman.BitBuffer`) and a router's in front of one (the ready of the
beat's sink, :class:`hw.huffman.PacketControl`).
"""

from math import prod

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

    ``i`` and ``o`` are anything with ``valid``, ``ready`` and ``payload`` (streams, or
    plain signals gathered in a namespace); the pipeline drives ``i.ready`` and, through
    :meth:`output`, ``o.valid``.

    ``side=(stream, needed)`` joins a second input stream: a beat of ``i`` for which
    ``needed`` holds is taken together with one beat of ``stream`` (both transfer in the
    same clock), any other beat of ``i`` alone; ``valid`` is the joint beat's valid.

    ``stall`` (an expression of registers and of signals other than the input's payload)
    keeps the input from taking a beat while it is high: ``i.ready`` (and a side stream's)
    is low and a bubble enters (``valid`` is low), while the registers behind the input
    advance as usual.  It is for a resource the input's beats need that is still busy
    (a held table write, say); ``i.ready`` is then ``advance & ~stall``.

    ``beats`` (an ``int`` ``N``, or a tuple of them for a mixed-radix count) makes the
    output register a *serializer*.  Contract:

    * every beat the output register takes is given out as ``N = prod(beats)`` transfers
      on ``o``, back to back while ``o.ready`` is high; :attr:`index` counts them: a
      tuple of digits, least significant first (``index[0]`` runs ``0 .. beats[0] - 1``,
      then ``index[1]`` steps, ...), all 0 on the first transfer of a beat and whenever
      ``o.valid`` is low; a digit of radix 1 is the constant 0;
    * the pipeline advances (so the input is ready, but for ``stall`` and a side stream)
      only when the output register is empty or makes its final transfer:
      ``advance = ~o.valid | (o.ready & final)``, ``final`` = every digit at its last
      value.  The next beat is thus taken in the clock the final transfer of the one
      before is made, so beats stream at one output transfer per clock, and ``i.ready``
      depends on registers and ``o.ready`` only;
    * :meth:`output` drives ``o.valid`` (held from the beat's first transfer to its
      final one); ``o.payload`` is the caller's, an expression of :attr:`index` and of
      registers loaded with ``advance & valid`` (:meth:`register`, :meth:`load`), which
      therefore hold still while the beat is given out.

    ``beats=1`` (the default) is the 1:1 pipeline, ``advance = ~o.valid | o.ready``.

    ``flush`` (an expression) empties the pipeline: in a clock where it is high every
    ``valid`` register -- the stages' (:meth:`stage`) and the output register's
    (:meth:`output`) -- loads 0 and the :attr:`index` digits load 0, whatever else
    happens; the data registers keep their values.  It does not touch ``advance`` or
    ``i.ready``: a beat taken in that clock is dropped with the rest (pass the same
    condition as ``stall`` as well to keep it out).  Only registers that are not already
    empty change, so a ``coarse`` pipeline's clock-gating contract holds.
    """

    def __init__(self, m, i, o, *, coarse: bool = False, side=None, stall=None, beats=1,
                 flush=None):
        self.beats = _check_beats(beats)
        self._m = m
        self._o = o
        self._flush = flush
        self.index, final = self._beat_counter(m, o)
        self.advance = Signal()
        m.d.comb += self.advance.eq(~o.valid | (o.ready & final))
        free = Const(1, 1) if stall is None else ~stall
        if side is None:
            self.valid = i.valid if stall is None else i.valid & free
            m.d.comb += i.ready.eq(self.advance & free)
        else:
            stream, needed = side
            have = (~needed | stream.valid) & free
            self.valid = i.valid & have
            m.d.comb += [i.ready.eq(self.advance & have),
                         stream.ready.eq(self.advance & i.valid & needed & free)]
        self.coarse = coarse
        self._valids = [self.valid]
        self._stages = []
        self._registered_output = False
        if coarse:
            self.clock_gate = Signal(name=CLOCK_GATE, attrs={"keep": 1})

    @property
    def serial(self) -> bool:
        """Whether the output register gives each beat out more than once."""
        return prod(self.beats) > 1

    def _beat_counter(self, m, o):
        """The digits of the output transfer of the held beat, and whether it is the
        final one.  A digit steps on an output transfer when every lower digit is at its
        last value, and wraps to 0 from its own last value."""
        digits, final = [], Const(1, 1)
        transfer = o.valid & o.ready
        single = len(self.beats) == 1
        for d, radix in enumerate(self.beats):
            if radix == 1:
                digits.append(Const(0, 1))
                continue
            digit = Signal(range(radix), name="index" if single else f"index{d}")
            at_last = digit == radix - 1
            with m.If(transfer & final):
                m.d.sync += digit.eq(Mux(at_last, 0, digit + 1))
            self._flushed(digit)
            digits.append(digit)
            final = final & at_last
        return tuple(digits), final

    def _flushed(self, reg):
        """``reg`` (a ``valid`` register or an index digit) loads 0 while ``flush``; the
        statement comes after the register's own, so it wins."""
        if self._flush is not None:
            with self._m.If(self._flush):
                self._m.d.sync += reg.eq(0)

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
        self._flushed(valid_q)
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

    def output(self, valid, payload=None):
        """Drive the output register: ``o.valid`` loaded with ``valid`` whenever the pipeline
        advances (0 while ``flush``), ``o.payload`` with ``payload`` on a valid beat
        (``advance & valid``: it holds through bubbles).  ``payload=None``: the
        output carries no payload of the pipeline's (a stream without one, or a
        serializer, whose ``o.payload`` the caller drives from :attr:`index`)."""
        m, o = self._m, self._o
        if payload is not None and self.serial:
            raise ValueError("a serializer's o.payload is the caller's (from index): "
                             "output() takes no payload with beats > 1")
        self._registered_output = True
        if self.coarse:
            m.d.comb += self.clock_gate.eq(Cat(*self._valids, o.valid).any())
        self.load(o.valid, valid, self.advance)
        self._flushed(o.valid)
        if payload is not None:
            self.load(o.payload, payload, self.advance & valid)


def _check_beats(beats) -> tuple:
    """``beats`` as a tuple of radices (each an ``int`` >= 1)."""
    radices = (beats,) if isinstance(beats, int) and not isinstance(beats, bool) \
        else tuple(beats) if isinstance(beats, (tuple, list)) else None
    if not radices or any(not isinstance(r, int) or isinstance(r, bool) for r in radices):
        raise TypeError(f"beats={beats!r} is not an int or a non-empty tuple of ints")
    for r in radices:
        if r < 1:
            raise ValueError(f"beats={r} is out of range: allowed at least 1")
    return radices


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
