"""The registry of quantrtl's hardware blocks: names, parameters, Verilog emission.

Each block has a fixed Verilog top-level name (``quantrtl_<block>``) whatever its
parameters, and a JSON sidecar that records the parameters and the bit layout of every port,
so that RTL users (and the testbenches) can pack and unpack stream payloads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from amaranth.back import verilog
from amaranth.hdl import Shape
from amaranth.lib import data, wiring

from . import __version__
from .params import Param

__all__ = ["Block", "BLOCKS", "get_block", "layout_fields"]


@dataclass(frozen=True)
class Block:
    name: str
    summary: str
    module: str      # "hw.mac"
    cls: str         # "DotProductUnit"

    @property
    def top(self) -> str:
        return f"quantrtl_{self.name}"

    @property
    def component_class(self):
        import importlib
        return getattr(importlib.import_module(self.module), self.cls)

    @property
    def params(self) -> tuple[Param, ...]:
        return self.component_class.PARAMS

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def resolve(self, params: dict | None = None) -> dict:
        """Defaults overridden by ``params``; unknown names raise ``ValueError``."""
        params = dict(params or {})
        known = {p.name for p in self.params}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"block {self.name!r} has no parameter {unknown[0]!r}: "
                             f"allowed {{{', '.join(sorted(known))}}}")
        return {**self.defaults(), **params}

    def build(self, params: dict | None = None):
        component = self.component_class(**self.resolve(params))
        # Components are also built just to read their layouts; don't warn that those
        # were never elaborated.
        component._MustUse__silence = True
        return component

    def verilog(self, params: dict | None = None) -> str:
        params = self.resolve(params)
        component = self.build(params)
        text = verilog.convert(component, name=self.top, emit_src=False)
        header = (f"// quantrtl {__version__}: block {self.name}\n"
                  f"// parameters: {json.dumps(params, sort_keys=True)}\n")
        return header + text

    def describe(self, params: dict | None = None) -> dict:
        """Parameters and the bit layout of every port (JSON-serialisable)."""
        params = self.resolve(params)
        component = self.build(params)
        ports = {}
        for path, member, _ in component.signature.flatten(component):
            ports["__".join(map(str, path))] = {
                "direction": "in" if member.flow == wiring.In else "out",
                **_shape_info(member.shape),
            }
        return {"block": self.name, "top": self.top, "quantrtl": __version__,
                "params": params, "latency": getattr(component, "LATENCY", None),
                "ports": ports}

    def emit(self, out_dir: Path, params: dict | None = None) -> Path:
        """Write ``<top>.v`` and ``<top>.json`` into ``out_dir``; returns the ``.v`` path."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{self.top}.v"
        path.write_text(self.verilog(params))
        (out_dir / f"{self.top}.json").write_text(
            json.dumps(self.describe(params), indent=2, sort_keys=True) + "\n")
        return path


def _shape_info(shape) -> dict:
    if isinstance(shape, data.Layout):
        return {"width": shape.size, "fields": layout_fields(shape)}
    shape = Shape.cast(shape)
    return {"width": shape.width, "signed": shape.signed}


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


BLOCKS = {
    "mac": Block("mac", "INT8 multiply-accumulate / dot-product unit (SPEC 1)",
                 "hw.mac", "DotProductUnit"),
    "requant": Block("requant", "TFLite-exact fixed-point requantizer, M = M0 * 2^shift "
                     "(SPEC 2)", "hw.requant", "Requantizer"),
    "dnateq": Block("dnateq", "DNA-TEQ exponent-domain dot product: exponent adders, banked "
                    "counters, LUT post-processor (SPEC 3)", "hw.dnateq", "DnaTeqDotProduct"),
    "huffman": Block("huffman", "streaming canonical Huffman decoder with a run-time table "
                     "(SPEC 4)", "hw.huffman", "HuffmanDecoder"),
    "dqa": Block("dqa", "DQA dequantizer: (q << m) + shifting error on streams (SPEC 4)",
                 "hw.dqa", "DqaJoin"),
    "dnaenc": Block("dnaenc", "DNA-TEQ output encoder: a fixed-point result back to an "
                    "n-bit exponential code (SPEC 3)", "hw.dnaenc", "DnaTeqEncoder"),
}


def get_block(name: str) -> Block:
    if name not in BLOCKS:
        raise ValueError(f"block={name!r} is not known: allowed {{{', '.join(BLOCKS)}}}")
    return BLOCKS[name]
