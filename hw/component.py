"""The base of quantrtl's hardware blocks and their parts.

:class:`Component` (a :class:`wiring.Component`) checks the values of a block's ``PARAMS``
(:meth:`Component.check_params`), offers :meth:`Component.validate` for the rules between
parameters, gives every block a ``latency``, and annotates its signature with a
:class:`BlockAnnotation` (class, parameters, latency, payload layouts) that Amaranth's
:class:`wiring.ComponentMetadata` carries into the interface JSON.  :class:`Elaboratable`
is the same quiet base for the parts that are not components.

Amaranth warns about an elaboratable that is created and never elaborated.  An instance
whose constructor raises (a parameter out of range) was never meant to be elaborated, so
both bases silence that warning until the constructor has returned -- here, once, for every
subclass.
"""

from __future__ import annotations

import functools

from amaranth.hdl import Elaboratable as _Elaboratable
from amaranth.hdl import Shape
from amaranth.lib import data, meta, wiring

__all__ = ["Component", "Elaboratable", "BlockAnnotation", "BlockSignature", "layout_fields",
           "shape_info"]


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

    def __init__(self, members):
        """``members``: the signature's members (a dict), annotated with the block's
        :class:`BlockAnnotation` in the interface metadata."""
        if isinstance(members, dict):
            members = BlockSignature(members, self)
        super().__init__(members)

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


# ---------------------------------------------------------------- layouts and metadata

def layout_fields(layout, prefix: str = "", offset: int = 0) -> dict:
    """Flatten a struct/array layout into ``{"a[0]": {"offset", "width", "signed"}, ...}``."""
    fields = {}
    if isinstance(layout, data.StructLayout):
        items = ((name, field) for name, field in layout)
        sep = "."
    elif isinstance(layout, data.ArrayLayout):
        items = ((f"[{k}]", layout[k]) for k in range(layout.length))
        sep = ""
    else:
        shape = Shape.cast(layout)
        return {prefix: {"offset": offset, "width": shape.width, "signed": shape.signed}}
    for name, field in items:
        key = f"{prefix}{sep if prefix else ''}{name}" if sep else f"{prefix}{name}"
        fields.update(layout_fields(field.shape, key, offset + field.offset))
    return fields


def shape_info(shape) -> dict:
    """``{"width", "fields"}`` of a layout, ``{"width", "signed"}`` of a plain shape."""
    if isinstance(shape, data.Layout):
        return {"width": shape.size, "fields": layout_fields(shape)}
    shape = Shape.cast(shape)
    return {"width": shape.width, "signed": shape.signed}


_FIELD = {"type": "object", "required": ["offset", "width", "signed"],
          "properties": {"offset": {"type": "integer", "minimum": 0},
                         "width": {"type": "integer", "minimum": 0},
                         "signed": {"type": "boolean"}}}


class BlockAnnotation(meta.Annotation):
    """What a quantrtl block adds to Amaranth's interface metadata
    (:class:`wiring.ComponentMetadata`): its class and parameters, its latency, and the
    bit layout of every port whose shape is a layout (stream payloads), so that a user of
    the emitted Verilog can pack and unpack them."""

    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://quantrtl.github.io/schema/0.1/block.json",
        "type": "object",
        "required": ["class", "params", "latency", "layouts"],
        "properties": {
            "class": {"type": "string"},
            "params": {"type": "object"},
            "latency": {"type": ["integer", "null"], "minimum": 0},
            "layouts": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["width", "fields"],
                "properties": {"width": {"type": "integer", "minimum": 0},
                               "fields": {"type": "object",
                                          "additionalProperties": _FIELD}}}},
        },
        "additionalProperties": False,
    }

    def __init__(self, component):
        self._component = component

    @property
    def origin(self):
        return self._component

    def as_json(self) -> dict:
        c = self._component
        layouts = {}
        for path, member, _ in c.signature.flatten(c):
            if isinstance(member.shape, data.Layout):
                layouts["__".join(map(str, path))] = shape_info(member.shape)
        params = {p.name: _json_value(getattr(c, p.name)) for p in c.PARAMS}
        return {"class": f"{type(c).__module__}.{type(c).__qualname__}", "params": params,
                "latency": c.latency, "layouts": layouts}


def _json_value(value):
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return str(value.value if hasattr(value, "value") else value)


class BlockSignature(wiring.Signature):
    """A block's signature: its members, annotated with :class:`BlockAnnotation`."""

    def __init__(self, members, component):
        self._component = component
        super().__init__(members)

    def annotations(self, obj, /):
        return (*super().annotations(obj), BlockAnnotation(self._component))
