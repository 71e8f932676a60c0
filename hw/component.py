"""The base of quantrtl's hardware blocks and their parts.

:class:`Component` (a :class:`wiring.Component`) checks the values of a block's ``PARAMS``
(:meth:`Component.check_params`), offers :meth:`Component.validate` for the rules between
parameters, and gives every block a ``latency``.  :class:`Elaboratable` is the same quiet
base for the parts that are not components.

Amaranth warns about an elaboratable that is created and never elaborated.  An instance
whose constructor raises (a parameter out of range) was never meant to be elaborated, so
both bases silence that warning until the constructor has returned -- here, once, for every
subclass.
"""

from __future__ import annotations

import functools

from amaranth.hdl import Elaboratable as _Elaboratable
from amaranth.lib import wiring

__all__ = ["Component", "Elaboratable"]


class _QuietUntilBuilt:
    """Wraps each subclass's ``__init__``: no 'never elaborated' warning for an instance
    whose constructor raised."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None or getattr(init, "_quiet_until_built", False):
            return

        @functools.wraps(init)
        def __init__(self, *args, **kw):
            self._MustUse__silence = True
            init(self, *args, **kw)
            if type(self).__init__ is __init__:      # the outermost constructor returned
                self._MustUse__silence = False

        __init__._quiet_until_built = True
        cls.__init__ = __init__


class Elaboratable(_QuietUntilBuilt, _Elaboratable):
    """An elaboratable part of a block (not a component)."""


class Component(_QuietUntilBuilt, wiring.Component):
    """A quantrtl block: ``PARAMS`` (:class:`quantrtl.spec.Param` specs) and a latency.

    A subclass's constructor calls :meth:`check_params` with its keyword arguments before
    it builds its signature; the checked values become attributes of the same names.

    ``latency``: clocks from an accepted input beat to its result at the output -- the
    class's ``LATENCY``, or a per-instance value where a parameter sets it (the
    requantizer's ``latency``) or the structure does (the DNA-TEQ engine's post-processor
    steps); each block's docstring states which.
    """

    PARAMS: tuple = ()
    LATENCY: int | None = None

    def check_params(self, **values) -> None:
        """Check each value against its spec (``ValueError`` naming the parameter, the value
        and the allowed range), set it as an attribute, then run :meth:`validate`."""
        specs = {p.name: p for p in self.PARAMS}
        unknown = sorted(set(values) - set(specs))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no parameter {unknown[0]!r}")
        for name, value in values.items():
            setattr(self, name, specs[name].check(value))
        self.validate()

    def validate(self) -> None:
        """Rules between parameters (a range that depends on another parameter); raise
        ``ValueError`` naming the parameter, its value and the allowed range."""

    @property
    def latency(self) -> int | None:
        return self.__dict__.get("_latency", self.LATENCY)

    @latency.setter
    def latency(self, value: int) -> None:
        self._latency = value
