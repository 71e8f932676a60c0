"""The DNA-TEQ output encoder: a fixed-point result back to an ``n``-bit exponential code.

The exponent-domain dot product (:func:`golden.dnateq.dot_product`) outputs an integer ``R``
whose real value is ``x = R * 2^-F`` (``F`` = ``frac_bits``).  The next layer needs ``x`` as
an ``n``-bit code of its activation parameters ``p = ExpParams(b, alpha, beta, n)``, exactly
as :func:`golden.dnateq.quantize` (``rounding="linear"``) would quantize it.  This module
does that on the integer ``R``, with no floating point per value.

Rounding (the one of ``quantize``)
    With levels ``v[f] = alpha * b^f + beta`` (``f`` in ``[0, M)``, ``M = 2^(n-1)``),
    ``quantize`` picks for ``|x|`` the nearest of ``{0} U {v[f]}`` of the value's sign, ties to
    the smaller magnitude: with the midpoints (float64, computed exactly as ``quantize`` does)::

        mid_pos = [v[0]/2, (v[0]+v[1])/2, ..., (v[M-2]+v[M-1])/2]      M values   (x >= 0)
        mid_neg = [v[1]/2, (v[1]+v[2])/2, ..., (v[M-2]+v[M-1])/2]      M-1 values (x <  0)

    ``j = #(mid < |x|)`` (``searchsorted(mid, |x|, side="left")``) and the code is the zero
    code ``M`` if ``j == 0``, else ``j - 1`` for ``x >= 0`` and ``M | j`` for ``x < 0`` (the
    negative ``f = 0`` level is the zero code's, so negative values start at ``f = 1``).

Integer thresholds (:func:`thresholds`)
    ``T = floor(mid * 2^F)``.  ``mid * 2^F`` is exact in float64 (a power-of-two scaling)
    and, for a real ``y`` and an integer ``a``, ``y < a`` if and only if ``floor(y) < a``,
    so ``mid < |R| * 2^-F``  <=>  ``T < |R|``: the encoder counts the thresholds below
    ``|R|``.  The table is ``[T_pos[0 .. M-1] | T_neg[0 .. M-2]]`` (``2M - 1`` entries,
    each ascending), every entry an unsigned ``width - 1``-bit integer.

Encoding (:func:`encode`, what the RTL computes)
    Without ever forming ``|R|`` (which needs ``width`` bits for ``R = -2^(width-1)``): with
    ``u = R`` for ``R >= 0`` and ``u = ~R = |R| - 1`` for ``R < 0`` (``width - 1`` bits either
    way), ``T < |R|`` is ``T < u`` for ``R >= 0`` and ``T <= u`` for ``R < 0``::

        j = #(T_pos < u)  (R >= 0)        code = M if j == 0 else j - 1
        j = #(T_neg <= u) (R <  0)        code = M | j          (j == 0: the zero code M)

    ``encode(R, thresholds(p, frac_bits=F, width=w), n=p.n, width=w)`` equals
    ``quantize(R * 2^-F, p)`` for every ``R`` whose ``R * 2^-F`` float64 represents exactly
    (``|R| <= 2^53``, which covers every ``R`` when ``width <= 54``); beyond, the integer
    comparison is the exact one and ``quantize`` sees ``R`` already rounded to float64.
"""

from __future__ import annotations

import numpy as np

from quantrtl.spec import check_array_range, check_int
from .dnateq import N_MAX, N_MIN, ExpParams, levels

__all__ = ["WIDTH_MIN", "WIDTH_MAX", "FRAC_BITS_MAX", "table_size", "midpoints",
           "thresholds", "check_thresholds", "encode"]

WIDTH_MIN, WIDTH_MAX = 2, 64      # bits of the signed result R
FRAC_BITS_MAX = 63


def table_size(n: int) -> int:
    """Thresholds of an ``n``-bit encoder: ``2M - 1 = 2^n - 1``."""
    return (1 << check_int("n", n, N_MIN, N_MAX)) - 1


def midpoints(p: ExpParams) -> tuple[np.ndarray, np.ndarray]:
    """``(mid_pos [M], mid_neg [M-1])``: the decision points of ``quantize``, float64, in
    the same operations as :func:`golden.dnateq.quantize`."""
    v = levels(p)
    mid_pos = np.concatenate(([v[0] / 2], (v[:-1] + v[1:]) / 2))
    mid_neg = np.concatenate(([v[1] / 2], (v[1:-1] + v[2:]) / 2))
    return mid_pos, mid_neg


def _between(k: int, m: int) -> str:
    """Which two levels table entry ``k`` separates (for error messages)."""
    if k < m:
        return f"positive, between {'zero' if k == 0 else f'f={k - 1}'} and f={k}"
    i = k - m
    return f"negative, between {'zero' if i == 0 else f'f={i}'} and f={i + 1}"


def thresholds(p: ExpParams, *, frac_bits: int, width: int) -> np.ndarray:
    """The encoder table ``floor(mid * 2^frac_bits)`` (int64 ``[2M - 1]``): the ``M``
    positive thresholds, then the ``M - 1`` negative ones, each ascending.

    ``ValueError`` naming the first threshold that does not fit an unsigned ``width - 1``-bit
    entry (the magnitude range of a signed ``width``-bit result)."""
    frac_bits = check_int("frac_bits", frac_bits, 0, FRAC_BITS_MAX)
    width = check_int("width", width, WIDTH_MIN, WIDTH_MAX)
    mid_pos, mid_neg = midpoints(p)
    scaled = np.concatenate((mid_pos, mid_neg)) * float(2 ** frac_bits)  # exact
    limit = float(2 ** (width - 1))             # floor(s) <= 2^(w-1) - 1  <=>  s < 2^(w-1)
    too_big = ~(scaled < limit)
    if np.any(too_big):
        k = int(np.argmax(too_big))
        raise ValueError(f"thresholds[{k}]={scaled[k]:.6g} ({_between(k, p.m)}) is out of "
                         f"range: allowed [0, {2 ** (width - 1) - 1}] (width={width}, "
                         f"frac_bits={frac_bits}; lower frac_bits or widen the result)")
    return np.floor(scaled).astype(np.int64)


def check_thresholds(thr, *, n: int, width: int, name: str = "thr") -> np.ndarray:
    """``thr`` as int64 ``[2M - 1]`` after checking its shape, that every entry is an unsigned
    ``width - 1``-bit integer and that both sets are ascending (``ValueError`` naming
    ``name``, the entry, its value and the allowed range)."""
    n = check_int("n", n, N_MIN, N_MAX)
    width = check_int("width", width, WIDTH_MIN, WIDTH_MAX)
    size, m = table_size(n), 1 << (n - 1)
    thr = check_array_range(name, thr, 0, (1 << (width - 1)) - 1)
    if thr.shape != (size,):
        raise ValueError(f"{name} must have 2^n - 1 = {size} entries for n={n} (M positive, "
                         f"M - 1 negative thresholds), got shape {thr.shape}")
    for lo, hi, kind in ((0, m, "positive"), (m, size, "negative")):
        drop = np.nonzero(np.diff(thr[lo:hi]) < 0)[0]
        if drop.size:
            k = lo + int(drop[0]) + 1
            raise ValueError(f"{name}[{k}]={thr[k]} is out of range: allowed "
                             f"[{name}[{k - 1}]={thr[k - 1]}, {(1 << (width - 1)) - 1}] (the "
                             f"{kind} thresholds {name}[{lo}:{hi}] must be ascending)")
    return thr


def encode(r, thr, *, n: int, width: int) -> np.ndarray:
    """Codes (int64, ``[0, 2^n)``) of the signed ``width``-bit results ``r`` with the table
    ``thr`` (see the module docstring: ``j = #(T_pos < u)`` or ``#(T_neg <= u)``)."""
    thr = check_thresholds(thr, n=n, width=width)
    r = check_array_range("r", r, -(1 << (width - 1)), (1 << (width - 1)) - 1)
    m = 1 << (n - 1)
    neg = r < 0
    u = np.where(neg, ~r, r)                                   # |R| - 1 for R < 0
    j_pos = np.searchsorted(thr[:m], u, side="left")           # #(T_pos <  u)
    j_neg = np.searchsorted(thr[m:], u, side="right")          # #(T_neg <= u)
    pos_code = np.where(j_pos == 0, m, j_pos - 1)
    return np.where(neg, m | j_neg, pos_code).astype(np.int64)
