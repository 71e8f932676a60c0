"""Stream payloads as integers: packing named field values into a payload word and back,
from the block's own Amaranth layout (one source of truth for every offset).

Payload words come in two forms: Python integers (one per beat, any width: what the cocotb
drivers assign) and *chunk arrays*, ``[N, ceil(width / 32)]`` ``uint32`` arrays with chunk 0
holding bits 0..31 (what the vector player writes into and reads out of its memories).
:meth:`PayloadCodec.pack_array` and :meth:`PayloadCodec.unpack_array` pack and unpack whole
columns at once; :func:`words_to_chunks` and :func:`chunks_to_words` convert between the
two forms.
"""

from __future__ import annotations

from itertools import repeat

import numpy as np
from amaranth.lib import data

from quantrtl.hw.component import layout_fields, shape_info

__all__ = ["PayloadCodec", "layout_fields", "shape_info", "CHUNK_BITS", "chunk_count",
           "words_to_chunks", "chunks_to_words", "PackedWords"]

CHUNK_BITS = 32
_CHUNK_MASK = np.uint64((1 << CHUNK_BITS) - 1)


def chunk_count(width: int) -> int:
    """32-bit chunks of a ``width``-bit payload (at least one)."""
    return max(1, -(-width // CHUNK_BITS))


def _pieces(values, width: int) -> list:
    """``values`` modulo ``2^width`` as ``chunk_count(width)`` uint64 arrays of 32-bit
    pieces, piece 0 the lowest (two's complement for negative values, as a payload field
    holds them)."""
    array = np.asarray(values)
    if array.ndim == 0:
        array = array.reshape(1)
    count = chunk_count(width)
    if array.dtype.kind in "iub" and width <= 64:
        bits = array.astype(np.uint64)                  # int64 -> uint64: modulo 2^64
        if width < 64:
            bits &= np.uint64((1 << width) - 1)
        if count == 1:
            return [bits]
        return [bits & _CHUNK_MASK, bits >> np.uint64(CHUNK_BITS)]
    # Python integers of any size (object arrays, fields wider than 64 bits), floats
    mask = (1 << width) - 1
    ints = [int(v) & mask for v in array.reshape(-1)]
    return [np.array([(v >> (CHUNK_BITS * k)) & 0xFFFFFFFF for v in ints], dtype=np.uint64)
            for k in range(count)]


def _column(values) -> np.ndarray:
    """A column of field values as a one-dimensional array: an integer array as it is,
    anything else (a list of Python ints) as int64, or as an object array when a value does
    not fit (never float64, which would round)."""
    if isinstance(values, np.ndarray):
        return values.reshape(-1) if values.ndim == 0 else values
    try:
        array = np.array(values, dtype=np.int64)
    except (OverflowError, TypeError, ValueError):
        array = np.array(values, dtype=object)
    return array.reshape(-1) if array.ndim == 0 else array


def words_to_chunks(words, width: int) -> np.ndarray:
    """Payload words (non-negative integers below ``2^width``: a list of Python ints or an
    integer array) as a ``[N, chunk_count(width)]`` uint32 chunk array."""
    count = chunk_count(width)
    if isinstance(words, PackedWords) and words.chunks is not None and \
            words.chunks.shape[1] == count:
        return words.chunks
    if width <= 64:
        array = words if isinstance(words, np.ndarray) and words.dtype.kind in "iu" else \
            np.array(list(words), dtype=np.uint64)
        return np.stack(_pieces(array, width), axis=1).astype(np.uint32)
    words = list(words)
    size = CHUNK_BITS // 8 * count
    raw = b"".join(int(w).to_bytes(size, "little") for w in words)
    return np.frombuffer(raw, dtype="<u4").reshape(len(words), count).astype(np.uint32)


def chunks_to_words(chunks) -> list[int]:
    """A ``[N, C]`` chunk array as a list of Python-int payload words."""
    chunks = np.asarray(chunks)
    if chunks.ndim != 2:
        raise ValueError(f"chunks must be [N, C], got shape {chunks.shape}")
    if chunks.shape[1] <= 2:
        wide = chunks.astype(np.uint64)
        if chunks.shape[1] == 2:
            wide = wide[:, :1] | (wide[:, 1:] << np.uint64(CHUNK_BITS))
        return wide[:, 0].tolist() if chunks.shape[1] else [0] * chunks.shape[0]
    # Each row as one little-endian bytes object (NumPy's "S" strips trailing NULs: the
    # high-order zero bytes), each made an int in C.
    rows = np.ascontiguousarray(chunks, dtype="<u4").view(f"S{4 * chunks.shape[1]}")
    return list(map(int.from_bytes, rows.reshape(-1).tolist(), repeat("little")))


class PackedWords(list):
    """Payload words (a ``list`` of Python ints, what :meth:`PayloadCodec.pack_columns`
    returns) that also keep the ``[N, C]`` chunk array they were made from, so that the
    vector player need not convert them back.  Any change to the list drops the array."""

    def __init__(self, words=(), chunks=None):
        super().__init__(words)
        self._chunks = chunks

    @property
    def chunks(self):
        """The chunk array, or ``None`` once the list was changed."""
        return self._chunks


def _dropping_chunks(method):
    def changed(self, *args, **kwargs):
        self._chunks = None
        return method(self, *args, **kwargs)
    changed.__name__ = method.__name__
    return changed


for _mutator in ("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend",
                 "insert", "pop", "remove", "clear", "sort", "reverse"):
    setattr(PackedWords, _mutator, _dropping_chunks(getattr(list, _mutator)))


class PayloadCodec:
    """Packs named field values into a payload integer and back, from an Amaranth shape."""

    def __init__(self, shape):
        if isinstance(shape, data.Layout):
            self.fields = layout_fields(shape)
        else:
            self.fields = layout_fields(shape, prefix="value")
        self.width = max(f["offset"] + f["width"] for f in self.fields.values())

    @property
    def chunks(self) -> int:
        """32-bit chunks of a payload word (the width of :meth:`pack_array`'s result)."""
        return chunk_count(self.width)

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
        """Pack column arrays (``{"a[0]": array, ...}``, equal lengths) into payload words
        (each value modulo its field width, as :meth:`pack_array`): a
        :class:`PackedWords` list."""
        chunks = self.pack_array(columns)
        return PackedWords(chunks_to_words(chunks), chunks)

    def pack_array(self, columns: dict) -> np.ndarray:
        """Pack column arrays (``{"a[0]": array, ...}``, equal lengths; each value taken
        modulo ``2^width`` of its field, i.e. two's complement) into a ``[N, chunks]``
        uint32 chunk array, vectorised."""
        names = list(self.fields)
        missing = [n for n in names if n not in columns]
        if missing:
            raise KeyError(f"payload fields missing: {missing}")
        arrays = {n: _column(columns[n]) for n in names}
        rows = min(a.shape[0] for a in arrays.values())
        out = np.zeros((rows, self.chunks), dtype=np.uint64)
        for name in names:
            field = self.fields[name]
            for k, piece in enumerate(_pieces(arrays[name][:rows], field["width"])):
                index, shift = divmod(field["offset"] + CHUNK_BITS * k, CHUNK_BITS)
                out[:, index] |= (piece << np.uint64(shift)) & _CHUNK_MASK
                if shift and index + 1 < self.chunks:
                    out[:, index + 1] |= piece >> np.uint64(CHUNK_BITS - shift)
        return out.astype(np.uint32)

    def unpack(self, word: int) -> dict:
        values = {}
        for name, field in self.fields.items():
            value = (word >> field["offset"]) & ((1 << field["width"]) - 1)
            if field["signed"] and value >> (field["width"] - 1):
                value -= 1 << field["width"]
            values[name] = value
        return values

    def unpack_array(self, chunks) -> dict:
        """Unpack a ``[N, chunks]`` chunk array into ``{field: [N] values}``, vectorised:
        int64 arrays (uint64 for an unsigned 64-bit field; object arrays of Python ints for
        a field wider than 64 bits), signed fields sign-extended."""
        chunks = np.asarray(chunks, dtype=np.uint64)
        if chunks.ndim != 2 or chunks.shape[1] < self.chunks:
            raise ValueError(f"chunks must be [N, {self.chunks}], got shape {chunks.shape}")
        values = {}
        for name, field in self.fields.items():
            offset, width = field["offset"], field["width"]
            if width > 64:
                words = chunks_to_words(chunks)
                values[name] = np.array([self.unpack(w)[name] for w in words], dtype=object)
                continue
            value = np.zeros(chunks.shape[0], dtype=np.uint64)
            for index in range(offset // CHUNK_BITS, (offset + width - 1) // CHUNK_BITS + 1):
                start = CHUNK_BITS * index
                piece = chunks[:, index]
                value |= (piece >> np.uint64(offset - start)) if start < offset \
                    else (piece << np.uint64(start - offset))
            if width < 64:
                value &= np.uint64((1 << width) - 1)
            if field["signed"]:
                value = value.view(np.int64)
                if width < 64:
                    sign = np.int64(1 << (width - 1))
                    value = (value ^ sign) - sign
            elif width < 64:
                value = value.view(np.int64)
            values[name] = value
        return values

    def unpack_value(self, word: int) -> int:
        """Unpack a payload that is a single (non-struct) value."""
        return self.unpack(word)["value"]
