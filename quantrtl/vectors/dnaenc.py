"""Vector-set adapter of the DNA-TEQ output encoder (``dnaenc``, :mod:`hw.dnaenc`).

A vector set is a batch of results encoded with one table:

``r``
    ``[N]`` signed ``width``-bit integers: fixed-point results (real value
    ``r * 2^-frac_bits``), e.g. the ``r`` outputs of the ``dnateq`` block.
``thresholds`` (optional, ``[2^n - 1]`` unsigned ``width - 1``-bit integers)
    the encoder table, raw: the ``M`` positive thresholds then the ``M - 1`` negative ones,
    each set ascending (:func:`golden.dnateq_encode.check_thresholds`); or else the next
    layer's activation parameters
``b``, ``alpha``, ``beta`` (scalars) and ``frac_bits`` (integer scalar)
    from which the table is :func:`golden.dnateq_encode.thresholds` at the block's ``n`` and
    ``width``.

Stream: the ``2^n - 1`` table writes first (``addr`` 0, 1, ...), then one beat per ``r``.
Output ``codes`` ``[N]``: the ``n``-bit codes, as ``golden.dnateq.quantize(r * 2^-frac_bits,
p)`` (:func:`golden.dnateq_encode.encode`).
"""

from __future__ import annotations

import numpy as np

from quantrtl.golden import dnateq as g
from quantrtl.golden import dnateq_encode as enc
from quantrtl.spec import check_array_range
from .base import Adapter

__all__ = ["DnaTeqEncoderAdapter"]

_PARAM_FIELDS = ("b", "alpha", "beta", "frac_bits")


class DnaTeqEncoderAdapter(Adapter):
    block = "dnaenc"
    output = "codes"
    required = ("r",)
    optional = ("thresholds",) + _PARAM_FIELDS

    def thresholds(self, vectors) -> np.ndarray:
        """The table of the vector set: given, or computed from the layer's parameters."""
        self.check_fields(vectors)
        c = self.c
        if "thresholds" in vectors:
            given = [f for f in _PARAM_FIELDS if f in vectors]
            if given:
                raise ValueError(f"give either thresholds or {list(_PARAM_FIELDS)}, not both "
                                 f"({given[0]!r} given with thresholds)")
            return enc.check_thresholds(vectors["thresholds"], n=c.n, width=c.width,
                                        name="thresholds")
        missing = [f for f in _PARAM_FIELDS if f not in vectors]
        if missing:
            raise ValueError(f"dnaenc vectors: missing field {missing[0]!r}: give thresholds "
                             f"or all of {list(_PARAM_FIELDS)}")
        frac_bits = int(self.scalar({"frac_bits": check_array_range(
            "frac_bits", vectors["frac_bits"], 0, enc.FRAC_BITS_MAX)}, "frac_bits"))
        v = {f: float(self.scalar(vectors, f)) for f in ("b", "alpha", "beta")}
        p = g.ExpParams(v["b"], v["alpha"], v["beta"], c.n)
        return enc.thresholds(p, frac_bits=frac_bits, width=c.width)

    def _results(self, vectors) -> np.ndarray:
        self.check_fields(vectors)
        w = self.c.width
        r = check_array_range("r", vectors["r"], -(1 << (w - 1)), (1 << (w - 1)) - 1)
        if r.ndim != 1:
            raise ValueError(f"r must be one-dimensional [N], got shape {r.shape}")
        return r

    def config(self, vectors) -> dict:
        return {}

    def encode(self, vectors) -> list[int]:
        c = self.c
        r, thr = self._results(vectors), self.thresholds(vectors)
        total = thr.size + r.size
        cols = {name: np.zeros(total, dtype=np.int64) for name in ("r", "load", "addr", "data")}
        cols["load"][:thr.size] = 1
        cols["addr"][:thr.size] = np.arange(thr.size)
        cols["data"][:thr.size] = thr
        cols["r"][thr.size:] = r
        assert thr.size == c.entries
        return self.codec.pack_columns(cols)

    def golden(self, vectors) -> np.ndarray:
        c = self.c
        return enc.encode(self._results(vectors), self.thresholds(vectors), n=c.n,
                          width=c.width)

    def count(self, vectors) -> int:
        return self._results(vectors).size
