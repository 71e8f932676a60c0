"""Vector-set adapter of the DQA dequantizer (``dqa``, :mod:`hw.dqa`).

A vector set is one activation tensor of ``T`` tokens x ``C`` channels:

``q``
    ``[T, C]`` signed ``n``-bit stored activations;
``err``
    ``[T, C]`` shifting errors in ``[0, 2^m)`` (only the important channels' are used; the
    others must be 0, as :func:`golden.dqa.quantize` makes them);
``important``
    ``[C]`` 0/1 flags: the channels quantized at ``n + m`` bits.

Streams: ``i`` carries every ``q`` (row-major) with its channel's flag; ``e`` (a side
stream, driven concurrently) carries the errors of the important elements in the same
order, :func:`golden.dqa.error_stream`.  Output ``y`` ``[T * C]``: :func:`golden.dqa.join`,
``(q << m) + err`` on important channels and ``q << m`` elsewhere.
"""

from __future__ import annotations

import numpy as np

from quantrtl.golden._ints import signed_range
from quantrtl.golden.dqa import error_stream, join
from quantrtl.spec import check_array_range
from .base import Adapter

__all__ = ["DqaAdapter"]


class DqaAdapter(Adapter):
    block = "dqa"
    output = "y"
    required = ("q", "err", "important")
    optional = ()

    def _fields(self, vectors):
        self.check_fields(vectors)
        c = self.c
        q = check_array_range("q", vectors["q"], *signed_range(c.n))
        err = check_array_range("err", vectors["err"], 0, (1 << c.m) - 1)
        important = check_array_range("important", vectors["important"], 0, 1)
        if q.ndim != 2 or err.shape != q.shape:
            raise ValueError(f"q and err must both be [T, C], got {q.shape} and {err.shape}")
        if important.shape != (q.shape[1],):
            raise ValueError(f"important must be [C]={q.shape[1]}, got {important.shape}")
        mask = important.astype(bool)
        stray = np.nonzero(err[:, ~mask])
        if stray[0].size:
            t, k = stray[0][0], np.flatnonzero(~mask)[stray[1][0]]
            raise ValueError(f"err[{t}, {k}]={err[t, k]} is out of range: allowed 0 on an "
                             f"ordinary channel (important[{k}]=0)")
        return q, err, mask

    def config(self, vectors) -> dict:
        self._fields(vectors)
        return {}

    def encode(self, vectors) -> list[int]:
        q, _, mask = self._fields(vectors)
        flags = np.broadcast_to(mask, q.shape).reshape(-1).astype(np.int64)
        return self.codec.pack_columns({"q": q.reshape(-1), "important": flags})

    def side_streams(self, vectors) -> dict:
        """Words of the other input streams, driven alongside ``i``: ``{"e": errors}``."""
        _, err, mask = self._fields(vectors)
        return {"e": [int(v) for v in error_stream(err, mask)]}

    def golden(self, vectors) -> np.ndarray:
        q, err, mask = self._fields(vectors)
        return join(q, err, mask, self.c.n, self.c.m).reshape(-1)

    def count(self, vectors) -> int:
        return int(np.asarray(vectors["q"]).size)
