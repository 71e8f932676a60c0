"""How each block's vectors become stream beats, config-port values and golden results.

A *vector set* is a dict of NumPy arrays -- the format of ``quantrtl run`` npz files:

``mac``
    ``a``, ``w``: ``[D, K]`` signed ``width``-bit integers (one dot product per row);
    ``length`` (optional, ``[D]``): the length used of each row, a positive multiple of
    ``lanes`` (default: all ``K``, which must then be a multiple of ``lanes``);
    ``bias`` (optional, ``[D]``, needs ``bias=True``); ``input_offset`` (optional scalar,
    needs ``offset=True``).  Output: ``acc`` ``[D]``.
``requant``
    ``acc``: ``[N]`` int32; ``multiplier``, ``shift``: ``[N]`` or scalars;
    ``zero_point``, ``qmin``, ``qmax``: optional scalars (defaults 0 and the full
    ``out_width`` range).  Output: ``y`` ``[N]``.
"""

from __future__ import annotations

import numpy as np

from quantrtl.golden._ints import signed_range
from quantrtl.golden.mac import dot_product
from quantrtl.golden.requant import requantize
from quantrtl.spec import check_array_range, check_integer_array
from .base import Adapter
from .codec import PayloadCodec

__all__ = ["MacAdapter", "RequantAdapter", "input_streams", "output_decoder"]


class MacAdapter(Adapter):
    """``mac`` vectors to beats and golden results.

    ``pes == 1``: ``a``, ``w`` ``[D, K]``, ``bias`` ``[D]`` (or a scalar); output ``acc``
    ``[D]``.  ``pes > 1``: ``a`` ``[D, K]`` (shared by the PEs), ``w`` ``[D, P, K]`` or
    ``[P, K]`` (the same weights for every row), ``bias`` ``[D, P]`` or ``[P]`` (or a
    scalar); output ``acc`` ``[D, P]``, which the block delivers one result per transfer in
    row-then-PE order: :meth:`golden` returns it flattened in that order and :meth:`count`
    is ``D * P``.  ``length`` ``[D]`` and ``input_offset`` (scalar) as for ``pes == 1``.
    """

    block = "mac"
    output = "acc"
    required = ("a", "w")
    optional = ("length", "bias", "input_offset")

    def _weights(self, a, w):
        """``w`` as ``[D, K]`` (``pes == 1``) or ``[D, P, K]``."""
        (d, k), p = a.shape, self.c.pes
        if p == 1:
            if w.shape != a.shape:
                raise ValueError(f"a and w must both be [D, K], got {a.shape} and {w.shape}")
            return w
        if w.shape == (p, k):
            return np.broadcast_to(w, (d, p, k))
        if w.shape != (d, p, k):
            raise ValueError(f"w must be [D, P, K]={[d, p, k]} or [P, K]={[p, k]} "
                             f"(pes={p}), got {list(w.shape)}")
        return w

    def _bias(self, vectors, d):
        """``bias`` as ``[D]`` (``pes == 1``) or ``[D, P]``."""
        c, p = self.c, self.c.pes
        bias = check_array_range("bias", vectors.get("bias", 0), *signed_range(c.acc_width))
        try:
            return np.broadcast_to(bias, (d,) if p == 1 else (d, p))
        except ValueError:
            allowed = "[D]" if p == 1 else "[D, P] or [P]"
            raise ValueError(f"bias must be {allowed} (D={d}, P={p}) or a scalar, got "
                             f"{list(bias.shape)}") from None

    def _rows(self, vectors):
        self.check_fields(vectors)
        c = self.c
        lo, hi = signed_range(c.width)
        a = check_array_range("a", vectors["a"], lo, hi)
        w = check_array_range("w", vectors["w"], lo, hi)
        if a.ndim != 2:
            raise ValueError(f"a must be [D, K], got {a.shape}")
        w = self._weights(a, w)
        if "length" in vectors:
            length = check_array_range("length", vectors["length"], 1, a.shape[1])
            if length.shape != (a.shape[0],):
                raise ValueError(f"length must be [D]={a.shape[0]}, got {length.shape}")
        else:
            length = np.full(a.shape[0], a.shape[1], dtype=np.int64)
        bad = np.nonzero(length % c.lanes)[0]
        if bad.size:
            raise ValueError(f"length[{bad[0]}]={length[bad[0]]} is out of range: allowed a "
                             f"positive multiple of lanes={c.lanes}")
        if "bias" in vectors and not c.bias:
            raise ValueError("bias given but the block was built with bias=False")
        if "input_offset" in vectors and not c.offset:
            raise ValueError("input_offset given but the block was built with offset=False")
        return a, w, length, self._bias(vectors, a.shape[0])

    def config(self, vectors) -> dict:
        if not self.c.offset:
            return {}
        return {"input_offset": self.port_value(vectors, "input_offset", 0,
                                        *signed_range(self.c.width + 1))}

    def _field_names(self):
        """``(a names [lane], w names [pe][lane], bias names [pe])`` of the payload."""
        lanes, pes = range(self.c.lanes), range(self.c.pes)
        if self.c.pes == 1:
            return ([f"a[{k}]" for k in lanes], [[f"w[{k}]" for k in lanes]], ["bias"])
        return ([f"a[{k}]" for k in lanes], [[f"w[{p}][{k}]" for k in lanes] for p in pes],
                [f"bias[{p}]" for p in pes])

    def encode(self, vectors) -> list[int]:
        """Row ``d``'s first ``length[d] / lanes`` beats, row after row, ``last`` on each
        row's final beat, the bias repeated on every beat of its row (vectorised: the rows'
        beats are selected by one mask over ``[D, K / lanes]``)."""
        a, w, length, bias = self._rows(vectors)
        lanes, pes = self.c.lanes, self.c.pes
        a_names, w_names, bias_names = self._field_names()
        d, k = a.shape
        beats = length // lanes
        used = np.arange(k // lanes)[None, :] < beats[:, None]          # [D, K / lanes]
        a_beats = a.reshape(d, k // lanes, lanes)[used]                  # [B, lanes]
        w_beats = w.reshape(d, pes, k // lanes, lanes).transpose(0, 2, 1, 3)[used]
        cols = {a_names[j]: a_beats[:, j] for j in range(lanes)}
        for p in range(pes):
            cols.update({w_names[p][j]: w_beats[:, p, j] for j in range(lanes)})
        if self.c.bias:
            bias_beats = np.repeat(np.asarray(bias).reshape(d, pes), beats, axis=0)
            cols.update({bias_names[p]: bias_beats[:, p] for p in range(pes)})
        last = np.zeros(a_beats.shape[0], dtype=np.int64)
        last[np.cumsum(beats) - 1] = 1
        cols["last"] = last
        return self.codec.pack_columns(cols)

    def golden(self, vectors) -> np.ndarray:
        """The results in output order: ``[D]``, or ``[D, P]`` flattened row by row."""
        a, w, length, bias = self._rows(vectors)
        c = self.c
        offset = self.config(vectors).get("input_offset", 0)
        out = np.empty(bias.shape, dtype=np.int64)
        if c.pes > 1:
            a = a[:, None, :]                           # shared by the PEs: [D, 1, K]
        for n in np.unique(length):  # rows of equal length vectorise together
            rows = np.nonzero(length == n)[0]
            out[rows] = dot_product(a[rows, ..., :n], w[rows, ..., :n], input_offset=offset,
                                    bias=bias[rows], width=c.width, acc_width=c.acc_width,
                                    lanes=c.lanes, overflow=c.overflow)
        return out.reshape(-1)

    def cycles(self, vectors) -> int:
        """Clocks at full throughput: each row's beats, or its results, whichever is
        longer (the block's cycle model)."""
        lengths, rows = np.unique(self._rows(vectors)[2], return_counts=True)
        return sum(int(r) * self.c.cycles_per_dot_product(int(n))
                   for n, r in zip(lengths, rows))

    def count(self, vectors) -> int:
        return self._rows(vectors)[0].shape[0] * self.c.pes


class RequantAdapter(Adapter):
    block = "requant"
    output = "y"
    required = ("acc", "multiplier", "shift")
    optional = ("zero_point", "qmin", "qmax")

    def _columns(self, vectors):
        self.check_fields(vectors)
        acc = check_integer_array("acc", vectors["acc"])
        if acc.ndim != 1:
            raise ValueError(f"acc must be one-dimensional [N], got shape {acc.shape}")
        acc, multiplier, shift = np.broadcast_arrays(
            acc, check_integer_array("multiplier", vectors["multiplier"]),
            check_integer_array("shift", vectors["shift"]))
        return acc, multiplier, shift

    def config(self, vectors) -> dict:
        self.check_fields(vectors)
        lo, hi = signed_range(self.c.out_width)
        config = {"zero_point": self.port_value(vectors, "zero_point", 0, lo, hi),
                  "qmin": self.port_value(vectors, "qmin", lo, lo, hi),
                  "qmax": self.port_value(vectors, "qmax", hi, lo, hi)}
        if config["qmin"] > config["qmax"]:
            raise ValueError(f"qmin={config['qmin']} is out of range: allowed "
                             f"[{lo}, qmax={config['qmax']}]")
        return config

    def encode(self, vectors) -> list[int]:
        self.golden(vectors)  # validates every value against the contract first
        acc, multiplier, shift = self._columns(vectors)
        return self.codec.pack_columns({"acc": acc, "multiplier": multiplier, "shift": shift})

    def golden(self, vectors) -> np.ndarray:
        acc, multiplier, shift = self._columns(vectors)
        return requantize(acc, multiplier, shift, rounding=self.c.rounding, **self.config(vectors))

    def count(self, vectors) -> int:
        return self._columns(vectors)[0].shape[0]


def input_streams(adapter, vectors) -> dict:
    """``{port: payload words}`` of a vector set: ``i``, then the side streams the adapter
    declares with ``side_streams(vectors)`` (e.g. DQA's error stream ``e``)."""
    streams = {"i": adapter.encode(vectors)}
    if hasattr(adapter, "side_streams"):
        streams.update(adapter.side_streams(vectors))
    return streams


def output_decoder(adapter, component):
    """``(decode, flatten)`` for the output stream: ``decode(word)`` is the adapter's
    ``decode_output`` (a list of items per beat, ``flatten=True``) where it has one, else
    the single value of the output shape."""
    decode = getattr(adapter, "decode_output", None)
    if decode is not None:
        return decode, True
    return PayloadCodec(component.output_shape).unpack_value, False
