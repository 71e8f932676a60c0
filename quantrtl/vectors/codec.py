"""Stream payloads as integers: packing named field values into a payload word and back,
from the block's own Amaranth layout (one source of truth for every offset)."""

from __future__ import annotations

from amaranth.lib import data

from quantrtl.hw.component import layout_fields, shape_info

__all__ = ["PayloadCodec", "layout_fields", "shape_info"]


class PayloadCodec:
    """Packs named field values into a payload integer and back, from an Amaranth shape."""

    def __init__(self, shape):
        if isinstance(shape, data.Layout):
            self.fields = layout_fields(shape)
        else:
            self.fields = layout_fields(shape, prefix="value")
        self.width = max(f["offset"] + f["width"] for f in self.fields.values())

    def pack(self, values: dict) -> int:
        """One payload word; a value the field cannot hold is a ``ValueError`` naming the
        field (never a silent wrap)."""
        word = 0
        for name, field in self.fields.items():
            width, value = field["width"], int(values[name])
            lo, hi = (-(1 << width - 1), (1 << width - 1) - 1) if field["signed"] \
                else (0, (1 << width) - 1)
            if not lo <= value <= hi:
                raise ValueError(f"{name}={value} is out of range: allowed [{lo}, {hi}] "
                                 f"(a {width}-bit payload field)")
            word |= (value & ((1 << width) - 1)) << field["offset"]
        return word

    def pack_columns(self, columns: dict) -> list[int]:
        """Pack column arrays (``{"a[0]": array, ...}``, equal lengths) into payload words."""
        names = list(self.fields)
        missing = [n for n in names if n not in columns]
        if missing:
            raise KeyError(f"payload fields missing: {missing}")
        cols = [[int(v) for v in columns[n]] for n in names]
        specs = [(self.fields[n]["offset"], (1 << self.fields[n]["width"]) - 1) for n in names]
        words = []
        for row in zip(*cols):
            word = 0
            for value, (offset, mask) in zip(row, specs):
                word |= (value & mask) << offset
            words.append(word)
        return words

    def unpack(self, word: int) -> dict:
        values = {}
        for name, field in self.fields.items():
            value = (word >> field["offset"]) & ((1 << field["width"]) - 1)
            if field["signed"] and value >> (field["width"] - 1):
                value -= 1 << field["width"]
            values[name] = value
        return values

    def unpack_value(self, word: int) -> int:
        """Unpack a payload that is a single (non-struct) value."""
        return self.unpack(word)["value"]
