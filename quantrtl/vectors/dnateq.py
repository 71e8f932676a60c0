"""Vector-set adapter of the DNA-TEQ dot-product block (``dnateq``, :mod:`hw.dnateq`).

A vector set is one layer's worth of dot products sharing one LUT:

``x``, ``w``
    ``[D, K]`` exponential codes of ``bits`` bits (sign bit + ``bits-1`` exponent bits,
    zero code ``2^(bits-1)``, see :mod:`golden.dnateq`); one dot product per row.  With
    ``pes = P > 1`` (an array: each activation row against ``P`` weight rows), ``w`` is
    ``[D, P, K]``, or ``[P, K]`` for the same ``P`` weight rows against every activation row,
    and the output ``r`` is ``[D, P]``.
``length`` (optional, ``[D]``)
    pairs used of each row, in ``[1, min(K, max_length)]`` (default ``K``).
``bits`` (optional scalar, ``[3, n]``, default ``n``)
    code width of the layer; narrower codes are widened to the block's ``n`` bits (sign bit
    moved up), which is how an ``n``-bit datapath runs a layer searched at fewer bits.
``lut`` (optional, ``[2^(n+1)]`` unsigned ``lut_width``-bit integers)
    the post-processor's table, raw (with the block's ``fold_c3``, in the folded entry
    space: entry ``2^(n+1) - 1`` is not stored); or else the layer's parameters
``b``, ``alpha_x``, ``beta_x``, ``alpha_w``, ``beta_w`` (scalars)
    from which the LUT is :func:`golden.dnateq.make_lut` with the block's ``frac_bits``,
    ``lut_width`` and ``fold_c3``.

Stream: the ``2^(n+1)`` LUT writes first, then each row as ``ceil(length / lanes)`` beats
(the last one padded with zero codes, which the block skips).  Output ``r`` ``[D]`` (or
``[D, P]``, PE order within a row): the post-processor's exact integer (real value
``r * 2^-frac_bits``).
"""

from __future__ import annotations

import numpy as np

from quantrtl.golden import dnateq as g
from quantrtl.spec import check_array_range, check_int
from .base import Adapter

__all__ = ["DnaTeqAdapter"]

_PARAM_FIELDS = ("b", "alpha_x", "beta_x", "alpha_w", "beta_w")


class DnaTeqAdapter(Adapter):
    block = "dnateq"
    output = "r"
    required = ("x", "w")
    optional = ("length", "bits", "lut") + _PARAM_FIELDS

    def lut(self, vectors) -> np.ndarray:
        c = self.c
        bits = self.bits(vectors)
        if "lut" in vectors:
            given = [f for f in _PARAM_FIELDS if f in vectors]
            if given:
                raise ValueError(f"give either lut or {list(_PARAM_FIELDS)}, not both "
                                 f"({given[0]!r} given with lut)")
            lut = check_array_range("lut", vectors["lut"], 0, (1 << c.lut_width) - 1)
            if lut.shape != (c.entries,):
                raise ValueError(f"lut must have {c.entries} entries for n={c.n}, "
                                 f"got shape {lut.shape}")
            return lut
        missing = [f for f in _PARAM_FIELDS if f not in vectors]
        if missing:
            raise ValueError(f"dnateq vectors: missing field {missing[0]!r}: give lut or all "
                             f"of {list(_PARAM_FIELDS)}")
        v = {f: float(self.scalar(vectors, f)) for f in _PARAM_FIELDS}
        px = g.ExpParams(v["b"], v["alpha_x"], v["beta_x"], c.n)
        pw = g.ExpParams(v["b"], v["alpha_w"], v["beta_w"], c.n)
        return g.make_lut(px, pw, frac_bits=c.frac_bits, lut_width=c.lut_width, bits=bits,
                          fold_c3=c.fold_c3)

    def bits(self, vectors) -> int:
        if "bits" not in vectors:
            return self.c.n
        return check_int("bits", int(check_array_range("bits", vectors["bits"], 3, self.c.n)
                                     .reshape(-1)[0]), 3, self.c.n)

    def _rows(self, vectors):
        """Codes widened to ``n`` bits, zero codes past each row's length, ``w`` as
        ``[D, P, K]``; and lengths."""
        self.check_fields(vectors)
        c = self.c
        bits = self.bits(vectors)
        x = check_array_range("x", vectors["x"], 0, (1 << bits) - 1)
        w = check_array_range("w", vectors["w"], 0, (1 << bits) - 1)
        if x.ndim != 2 or x.shape[1] == 0:
            raise ValueError(f"x must be [D, K] with K >= 1, got shape {x.shape}")
        if c.pes == 1:
            if w.shape != x.shape:
                raise ValueError(f"w must be [D, K] = {list(x.shape)} like x, got shape "
                                 f"{w.shape}")
            w = w[:, None, :]
        else:
            if w.ndim == 2:
                w = np.broadcast_to(w, (x.shape[0],) + w.shape)
            if w.shape != (x.shape[0], c.pes, x.shape[1]):
                raise ValueError(f"w must be [D, P, K] = {[x.shape[0], c.pes, x.shape[1]]} or "
                                 f"[P, K] (pes={c.pes}), got shape {np.shape(vectors['w'])}")
        k = x.shape[1]
        if "length" in vectors:
            length = check_array_range("length", vectors["length"], 1, min(k, c.max_length))
            if length.shape != (x.shape[0],):
                raise ValueError(f"length must be [D]={x.shape[0]}, got {length.shape}")
        else:
            if k > c.max_length:
                raise ValueError(f"dot-product length={k} is out of range: allowed "
                                 f"[1, max_length={c.max_length}]")
            length = np.full(x.shape[0], k, dtype=np.int64)
        x, w = g.widen_codes(x, bits, c.n), g.widen_codes(w, bits, c.n)
        past = np.arange(k)[None, :] >= length[:, None]
        x = np.where(past, c.zero_code, x)
        w = np.where(past[:, None, :], c.zero_code, w)
        return x, w, length

    def config(self, vectors) -> dict:
        return {}

    def encode(self, vectors) -> list[int]:
        c = self.c
        x, w, length = self._rows(vectors)
        lut = self.lut(vectors)
        lanes = c.lanes
        beats_per_row = -(-length // lanes)
        total = c.entries + int(beats_per_row.sum())
        names = [f"x[{k}]" for k in range(lanes)] + [self._w_field(p, k) for p in range(c.pes)
                                                    for k in range(lanes)]
        cols = {name: np.full(total, c.zero_code, dtype=np.int64) for name in names}
        cols["last"] = np.zeros(total, dtype=np.int64)
        cols["load"] = np.zeros(total, dtype=np.int64)
        cols["addr"] = np.zeros(total, dtype=np.int64)
        cols["data"] = np.zeros(total, dtype=np.int64)
        cols["load"][:c.entries] = 1
        cols["addr"][:c.entries] = np.arange(c.entries)
        cols["data"][:c.entries] = lut
        pos = c.entries
        for row in range(x.shape[0]):
            beats = int(beats_per_row[row])
            span = beats * lanes
            n = min(span, x.shape[1])
            rx = np.full(span, c.zero_code, dtype=np.int64)
            rx[:n] = x[row, :n]
            rx = rx.reshape(beats, lanes)
            for k in range(lanes):
                cols[f"x[{k}]"][pos:pos + beats] = rx[:, k]
            for p in range(c.pes):
                rw = np.full(span, c.zero_code, dtype=np.int64)
                rw[:n] = w[row, p, :n]
                rw = rw.reshape(beats, lanes)
                for k in range(lanes):
                    cols[self._w_field(p, k)][pos:pos + beats] = rw[:, k]
            cols["last"][pos + beats - 1] = 1
            pos += beats
        return self.codec.pack_columns(cols)

    def _w_field(self, p, k):
        return f"w[{k}]" if self.c.pes == 1 else f"w[{p}][{k}]"

    def golden(self, vectors) -> np.ndarray:
        """``r`` ``[D]`` (``pes = 1``) or ``[D, P]``, in output order when flattened."""
        x, w, _ = self._rows(vectors)
        r = g.dot_product(x[:, None, :], w, self.lut(vectors), n=self.c.n,
                          fold_c3=self.c.fold_c3)
        return r[:, 0] if self.c.pes == 1 else r

    def cycles(self, vectors) -> int:
        """Clocks at full throughput (the block's cycle model): the LUT load, then each
        group's counting or post-processing, whichever is longer."""
        _, _, length = self._rows(vectors)
        return self.c.entries + sum(self.c.cycles_per_dot_product(int(n)) for n in length)

    def count(self, vectors) -> int:
        """Output transfers: one per row and PE."""
        return self._rows(vectors)[0].shape[0] * self.c.pes
