"""DNA-TEQ exponential quantization and its exponent-domain dot product (SPEC 3).

Code format (``n`` bits, ``n`` in 3..7, ``M = 2^(n-1)`` exponents)
    A code is an unsigned ``n``-bit word ``c = (s << (n-1)) | f``: sign bit ``s`` (1 =
    negative) and exponent field ``f`` in ``[0, M)``.  It stands for::

        x = (-1)^s * (alpha * b^f + beta)        with b > 1, alpha > 0, beta >= 0

    The exponent window is ``e = f`` in ``[0, M)``: any other window ``[e0, e0 + M)`` is the
    same set of values with ``alpha * b^e0`` in place of ``alpha``, so the offset is folded
    into ``alpha``.  **Exact zero** is the code ``ZERO = M`` (``s = 1, f = 0``, the pattern
    of a sign-magnitude "-0"): it takes the place of the *smallest negative* level, so
    positive values have ``M`` levels and negative values ``M - 1``.  That level is the one
    closest to zero, so giving it up costs least (and nothing on ReLU outputs).

Rounding (:func:`quantize`)
    ``rounding="linear"`` (the default) picks the level nearest to ``|x|`` in value, among
    ``{0} U {alpha*b^f + beta}`` of the value's sign; a value exactly half-way between two
    levels goes to the smaller magnitude.  ``rounding="log"`` rounds the exponent instead,
    ``f = clip(round_half_away(log_b((|x| - beta) / alpha)), f_min, M - 1)``, with the same
    zero threshold (half the smallest level); it is there to measure what it costs
    (:func:`rounding_cost`, ``docs/dnateq.md``).

Dot product in the exponent domain
    With the same base ``b`` for activations ``x`` (``alpha_x``, ``beta_x``) and weights ``w``
    (``alpha_w``, ``beta_w``), over the pairs where both codes are non-zero, with
    ``s_i = s_xi XOR s_wi`` counted as ``+1``/``-1``::

        sum_i x_i w_i = ax*aw * sum_k C0[k] b^k + ax*bw * sum_f C1[f] b^f
                      + bx*aw * sum_f C2[f] b^f + bx*bw * C3

    ``C0[k]`` sums ``s_i`` over the pairs with ``f_xi + f_wi = k`` (``k`` in
    ``[0, 2M - 2]``), ``C1[f]`` over ``f_xi = f``, ``C2[f]`` over ``f_wi = f``, ``C3`` over all.
    The counters live in one *entry space* of ``E = 2^(n+1)`` entries, the order of the
    hardware's counter banks and LUT::

        [C0[0 .. 2M-2] | C1[0 .. M-1] | C2[0 .. M-1] | C3]     (2M-1 + M + M + 1 = 4M)

    The post-processor multiplies each counter by a LUT entry
    ``lut[e] = round_half_away(coeff_e * b^k_e * 2^F)`` (unsigned, ``lut_width`` bits) and
    sums: ``R = sum_e counters[e] * lut[e]``, an exact integer (:func:`dot_product`, what the
    RTL computes), whose real value is ``R * 2^-F`` (:func:`dot_real`).  Each entry is off by
    at most ``2^-(F+1)``, so ``|R * 2^-F - sum x_hat_i w_hat_i| <= 2^-(F+1) * sum_e
    |counters[e]| <= 2^-(F+1) * 4 * N`` for ``N`` pairs.

    **Folded entry space** (``fold_c3=True``).  ``C3`` is derivable, ``C3 = sum_k C0[k]``, so
    its term can live in the ``C0`` entries instead of a counter of its own::

        bx*bw * C3 = sum_k C0[k] * bx*bw    ->    lut[k] = round_half_away((ax*aw*b^k + bx*bw) * 2^F)

    for ``k`` in ``[0, 2M-2]``; entry ``4M-1`` (``C3``) then has no counter and no LUT
    register: :func:`make_lut` gives it 0 and :func:`dot_product` ignores it.  The identity
    is exact; only the rounding of the folded entries differs (each folded entry is still
    off by at most ``2^-(F+1)``, and one entry fewer is rounded per dot product).

Offline search (:func:`search_layer`, :func:`search_model`): Algorithm 1 -- for each layer,
``n`` from 3 up to 7, a base shared by the weights and the activations and per-tensor
``alpha``, ``beta`` minimising RMAE ``= sum|x - x_hat| / sum|x|``; the smallest ``n`` with
weight RMAE ``<= thr_w`` and activation RMAE ``<= thr_act`` is kept.  RMAE of a candidate is
computed exactly from sorted magnitudes and prefix sums (no quantization pass per
candidate), so the whole grid of a layer costs a few thousand binary searches.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from quantrtl.spec import (DNATEQ_N_MAX, DNATEQ_N_MIN, DNATEQ_ROUNDINGS, check_array_range,
                           check_bool, check_choice, check_int, check_real, check_real_array)
from ._ints import round_half_away

__all__ = [
    "N_MIN", "N_MAX", "ROUNDINGS", "ExpParams", "zero_code", "num_entries", "entry_offsets",
    "levels", "quantize", "dequantize", "rmae", "widen_codes", "counters", "split_counters",
    "lut_coefficients", "make_lut", "dot_product", "dot_real", "dot_identity",
    "dot_errors", "search_tensor", "search_layer", "search_model", "LayerResult",
    "distribution_fit", "FIT_DISTRIBUTIONS", "rounding_cost",
]

N_MIN, N_MAX, ROUNDINGS = DNATEQ_N_MIN, DNATEQ_N_MAX, DNATEQ_ROUNDINGS


# --------------------------------------------------------------------------- parameters

@dataclass(frozen=True)
class ExpParams:
    """``x = (-1)^s * (alpha * b^f + beta)``, ``f`` in ``[0, 2^(n-1))``; zero code ``2^(n-1)``."""

    b: float
    alpha: float
    beta: float
    n: int

    def __post_init__(self):
        check_int("n", self.n, N_MIN, N_MAX)
        check_real("b", self.b, 1.0, 1e6, lo_open=True)
        check_real("alpha", self.alpha, 0.0, 1e30, lo_open=True)
        check_real("beta", self.beta, 0.0, 1e30)

    @property
    def m(self) -> int:
        return 1 << (self.n - 1)

    def as_dict(self) -> dict:
        return asdict(self)


def zero_code(n: int) -> int:
    """The code of exact zero: ``2^(n-1)`` (sign 1, exponent field 0)."""
    return 1 << (check_int("n", n, N_MIN, N_MAX) - 1)


def num_entries(n: int) -> int:
    """Counters / LUT entries of the ``n``-bit entry space: ``2^(n+1)``."""
    return 1 << (check_int("n", n, N_MIN, N_MAX) + 1)


def entry_offsets(n: int) -> tuple[int, int, int, int]:
    """First entry of C0, C1, C2 and C3 in the entry space: ``(0, 2M-1, 3M-1, 4M-1)``."""
    m = 1 << (check_int("n", n, N_MIN, N_MAX) - 1)
    return 0, 2 * m - 1, 3 * m - 1, 4 * m - 1


def levels(p: ExpParams) -> np.ndarray:
    """Magnitudes ``alpha * b^f + beta`` for ``f = 0 .. M-1`` (ascending)."""
    return p.alpha * np.power(p.b, np.arange(p.m, dtype=np.float64)) + p.beta


# --------------------------------------------------------------------------- quantization

def quantize(x, p: ExpParams, *, rounding: str = "linear") -> np.ndarray:
    """Codes (int64, ``[0, 2^n)``) of ``x``; see the module docstring for the rounding."""
    check_choice("rounding", rounding, ROUNDINGS)
    x = check_real_array("x", x)
    m, zero = p.m, p.m
    v = levels(p)
    mag = np.abs(x)
    neg = x < 0
    if rounding == "linear":
        # positive: levels [0, v0, ..., v_{M-1}] -> index 0 is zero, j >= 1 is f = j - 1
        mid_pos = np.concatenate(([v[0] / 2], (v[:-1] + v[1:]) / 2))
        mid_neg = np.concatenate(([v[1] / 2], (v[1:-1] + v[2:]) / 2))
        j_pos = np.searchsorted(mid_pos, mag, side="left")
        j_neg = np.searchsorted(mid_neg, mag, side="left")  # 0 -> zero, j -> f = j
        f = np.where(neg, j_neg, j_pos - 1)
        is_zero = np.where(neg, j_neg == 0, j_pos == 0)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            e = np.log(np.maximum(mag - p.beta, 0.0) / p.alpha) / np.log(p.b)
        e = np.where(np.isfinite(e), e, -1.0)
        f = np.clip(round_half_away(e), 0, m - 1).astype(np.int64)
        f = np.where(neg, np.maximum(f, 1), f)
        is_zero = mag <= np.where(neg, v[1], v[0]) / 2
    codes = (neg.astype(np.int64) << (p.n - 1)) | f.astype(np.int64)
    return np.where(is_zero, zero, codes).astype(np.int64)


def dequantize(codes, p: ExpParams) -> np.ndarray:
    """``x_hat`` (float64) of ``n``-bit codes; the zero code gives 0.0."""
    codes = check_array_range("codes", codes, 0, (1 << p.n) - 1)
    s = codes >> (p.n - 1)
    f = codes & (p.m - 1)
    mag = p.alpha * np.power(p.b, f.astype(np.float64)) + p.beta
    return np.where(codes == p.m, 0.0, np.where(s == 1, -mag, mag))


def rmae(x, x_hat) -> float:
    """``sum|x - x_hat| / sum|x|`` (0.0 for an all-zero ``x`` reproduced exactly)."""
    x = check_real_array("x", x)
    err = float(np.sum(np.abs(x - check_real_array("x_hat", x_hat))))
    total = float(np.sum(np.abs(x)))
    if total == 0.0:
        return 0.0 if err == 0.0 else math.inf
    return err / total


def widen_codes(codes, bits: int, n: int) -> np.ndarray:
    """``bits``-bit codes as ``n``-bit codes of the same value (``bits <= n``): the sign bit
    moves to bit ``n-1``, the exponent field is unchanged (so the zero code stays zero).
    This is how an ``n``-bit datapath runs a layer quantized at fewer bits."""
    n = check_int("n", n, N_MIN, N_MAX)
    bits = check_int("bits", bits, N_MIN, n)
    codes = check_array_range("codes", codes, 0, (1 << bits) - 1)
    s = codes >> (bits - 1)
    f = codes & ((1 << (bits - 1)) - 1)
    return (s << (n - 1)) | f


# --------------------------------------------------------------------------- dot product

def _check_pair(cx, cw, n):
    n = check_int("n", n, N_MIN, N_MAX)
    cx = check_array_range("cx", cx, 0, (1 << n) - 1)
    cw = check_array_range("cw", cw, 0, (1 << n) - 1)
    try:
        cx, cw = np.broadcast_arrays(cx, cw)
    except ValueError:
        raise ValueError(f"cx and cw must broadcast together, got {cx.shape} and {cw.shape}") \
            from None
    if cx.ndim == 0:
        raise ValueError("cx and cw need at least one axis (the dot-product axis)")
    return cx, cw, n


def counters(cx, cw, n: int) -> np.ndarray:
    """The merged counters of each dot product (last axis): int64 ``[..., 2^(n+1)]`` in
    entry-space order ``[C0 | C1 | C2 | C3]``.  Pairs with a zero code are skipped."""
    cx, cw, n = _check_pair(cx, cw, n)
    m = 1 << (n - 1)
    o0, o1, o2, o3 = entry_offsets(n)
    e_count = 4 * m
    lead = cx.shape[:-1]
    rows = int(np.prod(lead, dtype=np.int64))
    cx2 = cx.reshape(rows, -1)
    cw2 = cw.reshape(rows, -1)
    live = (cx2 != m) & (cw2 != m)
    sign = 1 - 2 * ((cx2 >> (n - 1)) ^ (cw2 >> (n - 1)))
    fx, fw = cx2 & (m - 1), cw2 & (m - 1)
    base = (np.arange(rows, dtype=np.int64) * e_count)[:, None]
    weights = np.where(live, sign, 0).ravel().astype(np.float64)
    out = np.zeros(rows * e_count, dtype=np.float64)
    for idx in (o0 + fx + fw, o1 + fx, o2 + fw, np.full_like(fx, o3)):
        out += np.bincount((base + idx).ravel(), weights=weights, minlength=rows * e_count)
    return out.astype(np.int64).reshape(*lead, e_count)


def split_counters(flat, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(C0, C1, C2, C3)`` views of entry-space counters."""
    o0, o1, o2, o3 = entry_offsets(n)
    flat = np.asarray(flat)
    return flat[..., o0:o1], flat[..., o1:o2], flat[..., o2:o3], flat[..., o3]


def lut_coefficients(px: ExpParams, pw: ExpParams, *, bits: int | None = None,
                     fold_c3: bool = False) -> np.ndarray:
    """Real LUT values ``coeff_e * b^k_e`` (float64 ``[2^(n+1)]``) of an ``n``-bit entry space
    (``n = px.n = pw.n``).  With ``bits < n`` (a narrower layer on an ``n``-bit datapath) only
    the entries a ``bits``-bit code can reach are filled; the others are 0.  With
    ``fold_c3`` the ``C3`` term ``bx*bw`` is added to every reachable ``C0`` entry and the
    ``C3`` entry is 0 (the folded entry space, see the module docstring)."""
    if px.n != pw.n:
        raise ValueError(f"px.n={px.n} and pw.n={pw.n} differ: one entry space per layer")
    if px.b != pw.b:
        raise ValueError(f"px.b={px.b} and pw.b={pw.b} differ: the base is shared by a layer")
    n, b = px.n, px.b
    bits = n if bits is None else check_int("bits", bits, N_MIN, n)
    mb = 1 << (bits - 1)
    m = 1 << (n - 1)
    o0, o1, o2, o3 = entry_offsets(n)
    out = np.zeros(4 * m, dtype=np.float64)
    k = np.arange(2 * mb - 1, dtype=np.float64)
    f = np.arange(mb, dtype=np.float64)
    out[o0:o0 + 2 * mb - 1] = px.alpha * pw.alpha * np.power(b, k)
    out[o1:o1 + mb] = px.alpha * pw.beta * np.power(b, f)
    out[o2:o2 + mb] = px.beta * pw.alpha * np.power(b, f)
    if fold_c3:
        out[o0:o0 + 2 * mb - 1] += px.beta * pw.beta
    else:
        out[o3] = px.beta * pw.beta
    return out


def make_lut(px: ExpParams, pw: ExpParams, *, frac_bits: int, lut_width: int,
             bits: int | None = None, fold_c3: bool = False) -> np.ndarray:
    """LUT entries ``round_half_away(coeff * b^k * 2^frac_bits)`` (int64), each checked to
    fit an unsigned ``lut_width``-bit entry (``ValueError`` naming the first that doesn't);
    ``fold_c3``: the folded entry space (module docstring)."""
    frac_bits = check_int("frac_bits", frac_bits, 0, 48)
    lut_width = check_int("lut_width", lut_width, 1, 48)
    real = lut_coefficients(px, pw, bits=bits, fold_c3=fold_c3) * float(2 ** frac_bits)
    hi = (1 << lut_width) - 1
    too_big = real + 0.5 > hi + 1  # round_half_away(real) > hi, without int overflow
    if np.any(too_big):
        e = int(np.argmax(too_big))
        raise ValueError(f"lut[{e}]={real[e]:.6g} is out of range: allowed [0, {hi}] "
                         f"(lut_width={lut_width}, frac_bits={frac_bits}; lower frac_bits "
                         f"or widen the LUT)")
    return round_half_away(real).astype(np.int64)


def dot_product(cx, cw, lut, *, n: int, fold_c3: bool = False) -> np.ndarray:
    """Exact integer post-processor result ``R = sum_e counters[e] * lut[e]`` per dot
    product (last axis), int64 -- what the RTL outputs.  ``fold_c3``: the folded entry space,
    whose ``C3`` entry has no counter (``lut[4M-1]`` is ignored).

    Exact or an error: ``|R| <= sum_e |counters[e]| * max(lut)`` (at most ``4 N max(lut)``)
    is checked against the int64 range before the product is formed."""
    n = check_int("n", n, N_MIN, N_MAX)
    check_bool("fold_c3", fold_c3)
    lut = check_array_range("lut", lut, 0, (1 << 48) - 1)
    if lut.shape != (num_entries(n),):
        raise ValueError(f"lut must have {num_entries(n)} entries for n={n}, got {lut.shape}")
    cnt = counters(cx, cw, n)
    if fold_c3:
        lut = lut.copy()
        lut[-1] = 0
    hits = int(np.abs(cnt).sum(axis=-1).max(initial=0))      # Python ints: exact
    if hits * int(lut.max(initial=0)) > (1 << 63) - 1:
        raise ValueError(f"a dot product of {hits} counter hits with LUT entries up to "
                         f"{int(lut.max())} may exceed int64: shorten it or narrow the LUT")
    return cnt @ lut


def dot_real(cx, cw, px: ExpParams, pw: ExpParams, *, frac_bits: int, lut_width: int = 48,
             bits: int | None = None, fold_c3: bool = False) -> np.ndarray:
    """The real-valued result ``R * 2^-frac_bits`` of the fixed-point post-processor."""
    lut = make_lut(px, pw, frac_bits=frac_bits, lut_width=lut_width, bits=bits,
                   fold_c3=fold_c3)
    return dot_product(cx, cw, lut, n=px.n, fold_c3=fold_c3) * 2.0 ** -frac_bits


def dot_identity(cx, cw, px: ExpParams, pw: ExpParams) -> np.ndarray:
    """The identity evaluated in float64 (counters times real LUT values), no rounding."""
    return counters(cx, cw, px.n) @ lut_coefficients(px, pw)


def dot_errors(x, w, px: ExpParams, pw: ExpParams, *, frac_bits: int = 16,
               lut_width: int = 48) -> dict:
    """Dot products of float ``x``, ``w`` (``[..., K]``) every way: float, exponent-domain
    fixed point (quantize, count, post-process), and INT8 (``golden.quant``: activations
    asymmetric per tensor, weights symmetric per tensor); with relative errors
    ``sum|y - y_float| / sum|y_float|``."""
    from . import quant

    x, w = check_real_array("x", x), check_real_array("w", w)
    ref = np.sum(x * w, axis=-1)
    cx, cw = quantize(x, px), quantize(w, pw)
    exp_fixed = dot_real(cx, cw, px, pw, frac_bits=frac_bits, lut_width=lut_width)
    exp_float = np.sum(dequantize(cx, px) * dequantize(cw, pw), axis=-1)
    qx = quant.calibrate(x, bits=8, symmetric=False)
    qw = quant.calibrate(w, bits=8, symmetric=True)
    ix = quant.quantize(x, qx) - qx.zero_point
    iw = quant.quantize(w, qw)
    int8 = np.sum(ix * iw, axis=-1) * float(qx.scale) * float(qw.scale)

    def rel(y):
        den = float(np.sum(np.abs(ref)))
        return float(np.sum(np.abs(y - ref))) / den if den else float(np.sum(np.abs(y - ref)))

    return {"float": ref, "exp_fixed": exp_fixed, "exp_dequant": exp_float, "int8": int8,
            "err_exp_vs_float": rel(exp_fixed), "err_int8_vs_float": rel(int8),
            "err_exp_vs_int8": float(np.sum(np.abs(exp_fixed - int8))) /
            max(float(np.sum(np.abs(int8))), 1e-300),
            "err_fixed_vs_dequant": float(np.max(np.abs(exp_fixed - exp_float)))}


# --------------------------------------------------------------------------- search

class _Mags:
    """Sorted magnitudes of one sign of a tensor, subsampled by quantiles, with prefix sums."""

    def __init__(self, mags: np.ndarray, weight: float, max_points: int, *, presorted=False):
        a = mags if presorted else np.sort(mags)
        if a.size > max_points:  # quantile subsample: every value stands for `step` values
            a = a[np.linspace(0, a.size - 1, max_points).round().astype(np.int64)]
        self.a = a
        self.scale = weight / max(a.size, 1)  # so that counts estimate the full tensor's
        self.prefix = np.concatenate(([0.0], np.cumsum(a)))

    def abs_error(self, lv: np.ndarray) -> np.ndarray:
        """Sum of |a - nearest level| for each row of ascending levels ``lv`` [G, K]
        (``lv[:, 0] == 0``), rounding to nearest with ties to the smaller level."""
        a, pre = self.a, self.prefix
        if a.size == 0:
            return np.zeros(lv.shape[0])
        g, k = lv.shape
        mids = (lv[:, :-1] + lv[:, 1:]) / 2
        inner = np.searchsorted(a, mids.ravel(), side="right").reshape(g, k - 1)
        lo = np.concatenate((np.zeros((g, 1), np.int64), inner), axis=1)
        hi = np.concatenate((inner, np.full((g, 1), a.size, np.int64)), axis=1)
        iv = np.clip(np.searchsorted(a, lv.ravel(), side="left").reshape(g, k), lo, hi)
        err = (lv * (iv - lo) - (pre[iv] - pre[lo]) + (pre[hi] - pre[iv]) - lv * (hi - iv))
        return err.sum(axis=1) * self.scale


class _TensorStats:
    def __init__(self, x, max_points: int):
        x = check_real_array("x", x).ravel()
        if x.size == 0:
            raise ValueError("x is empty: the search needs a non-empty tensor")
        pos, neg = np.sort(x[x > 0]), np.sort(-x[x < 0])
        total = max(pos.size + neg.size, 1)
        pts = max(16, max_points)
        self.pos = _Mags(pos, pos.size, max(8, int(pts * pos.size / total)), presorted=True)
        self.neg = _Mags(neg, neg.size, max(8, int(pts * neg.size / total)), presorted=True)
        self.sum_abs = float(np.sum(np.abs(x)))
        self.amax = float(np.max(np.abs(x)))
        self.x = x
        self._full = (pos, neg)

    def full_rmae(self, p: "ExpParams") -> float:
        """Exact RMAE of quantizing the whole tensor with ``p`` (sorted data, no subsample)."""
        if not isinstance(self._full[0], _Mags):
            self._full = tuple(_Mags(a, a.size, a.size + 1, presorted=True) for a in self._full)
        if self.sum_abs == 0.0:
            return 0.0
        v = levels(p)[None, :]
        err = self._full[0].abs_error(np.concatenate(([[0.0]], v), axis=1))
        err = err + self._full[1].abs_error(np.concatenate(([[0.0]], v[:, 1:]), axis=1))
        return float(err[0]) / self.sum_abs

    def rmae_grid(self, alpha, beta, b, m):
        """RMAE of candidates (``alpha``, ``beta`` [G]) at base ``b`` and ``m`` exponents."""
        v = alpha[:, None] * np.power(b, np.arange(m))[None, :] + beta[:, None]
        zero = np.zeros((v.shape[0], 1))
        err = self.pos.abs_error(np.concatenate((zero, v), axis=1))
        err = err + self.neg.abs_error(np.concatenate((zero, v[:, 1:]), axis=1))
        return err / self.sum_abs if self.sum_abs else err


# top level as a fraction of max|x| and beta as a fraction of the top level
_TOP_GRID = np.geomspace(0.15, 1.0, 14)
_BETA_GRID = np.array([0.0, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16])
_RANGE_GRID = np.geomspace(1.5, 3e4, 28)  # b^(M-1): dynamic range of the exponent levels


def _best_for_base(stats: _TensorStats, b: float, m: int, clip: bool = True):
    """Best (rmae, alpha, beta) over the top/beta grid at a fixed base (``clip=False``: the
    top level is max|x|)."""
    if stats.amax == 0.0:
        return 0.0, 1.0, 0.0
    top = stats.amax * (_TOP_GRID if clip else np.ones(1))
    t, r = np.meshgrid(top, _BETA_GRID, indexing="ij")
    beta = (t * r).ravel()
    alpha = ((t - t * r) / b ** (m - 1)).ravel()
    err = stats.rmae_grid(alpha, beta, b, m)
    j = int(np.argmin(err))
    return float(err[j]), float(alpha[j]), float(beta[j])


def _refine(stats: _TensorStats, b: float, m: int, alpha: float, beta: float, rounds=2,
            clip: bool = True):
    """Local multiplicative refinement of (alpha, beta) at base b."""
    best = (float(stats.rmae_grid(np.array([alpha]), np.array([beta]), b, m)[0]), alpha, beta)
    if not clip:
        return best
    step = 0.15
    for _ in range(rounds):
        fa = np.exp(np.linspace(-step, step, 9))
        a_c = best[1] * fa
        b_c = np.unique(np.concatenate(([0.0], best[2] * fa, [best[2] + stats.amax * 1e-3])))
        aa, bb = np.meshgrid(a_c, b_c, indexing="ij")
        err = stats.rmae_grid(aa.ravel(), bb.ravel(), b, m)
        j = int(np.argmin(err))
        if err[j] < best[0]:
            best = (float(err[j]), float(aa.ravel()[j]), float(bb.ravel()[j]))
        step /= 3
    return best


def search_tensor(x, n: int, b: float, *, max_points: int = 32768,
                  clip: bool = False) -> tuple[ExpParams, float]:
    """Best ``alpha``, ``beta`` for ``x`` at a given ``n`` and base ``b`` (``clip`` as in
    :func:`search_layer`); returns the parameters and the RMAE of quantizing all of ``x``."""
    n = check_int("n", n, N_MIN, N_MAX)
    b = check_real("b", b, 1.0, 1e6, lo_open=True)
    stats = _TensorStats(x, max_points)
    m = 1 << (n - 1)
    _, alpha, beta = _best_for_base(stats, b, m, clip)
    _, alpha, beta = _refine(stats, b, m, alpha, beta, clip=clip)
    p = ExpParams(b, alpha, beta, n)
    return p, stats.full_rmae(p)


@dataclass
class LayerResult:
    name: str
    n: int
    b: float
    weights: ExpParams
    acts: ExpParams
    rmae_w: float
    rmae_act: float
    met: bool          # both thresholds met (False: n = n_max, best effort)
    size_w: int
    size_act: int
    seconds: float
    tried: list        # per n tried: (n, rmae_w, rmae_act)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["weights"] = self.weights.as_dict()
        d["acts"] = self.acts.as_dict()
        return d


def search_layer(w, x, *, thr_w: float = 0.15, thr_act: float = 0.15, n_min: int = N_MIN,
                 n_max: int = N_MAX, name: str = "", max_points: int = 32768,
                 clip: bool = False) -> LayerResult:
    """Algorithm 1 for one layer: weights ``w``, calibration activations ``x``.

    For ``n = n_min .. n_max``: every base of a grid (the exponent levels' dynamic range
    ``b^(M-1)`` from 1.5 to 3e4) gets the best ``alpha``, ``beta`` of each tensor; the base
    minimising ``max(rmae_w / thr_w, rmae_act / thr_act)`` is refined on a finer grid, the
    full tensors are quantized with the result, and the first ``n`` meeting both thresholds
    is returned (else ``n_max`` with ``met=False``).  By default (``clip=False``) the top
    level is pinned at ``max|x|`` and ``beta`` and the base are searched; ``clip=True`` also
    searches the top level down to 0.15 max|x|.  RMAE alone favours clipping rare large
    values, which the dot products of a transformer do not forgive: on MiniLM clipping gives
    fewer bits at a threshold but far worse embeddings (``docs/dnateq.md``).
    """
    t0 = time.perf_counter()
    n_min = check_int("n_min", n_min, N_MIN, N_MAX)
    n_max = check_int("n_max", n_max, n_min, N_MAX)
    thr_w = check_real("thr_w", thr_w, 0.0, 10.0, lo_open=True)
    thr_act = check_real("thr_act", thr_act, 0.0, 10.0, lo_open=True)
    sw, sx = _TensorStats(w, max_points), _TensorStats(x, max_points)
    tried = []
    result = None
    for n in range(n_min, n_max + 1):
        m = 1 << (n - 1)
        bases = _RANGE_GRID ** (1.0 / (m - 1))

        def score(b):
            ew, aw, bw = _best_for_base(sw, b, m, clip)
            ex, ax, bx = _best_for_base(sx, b, m, clip)
            return max(ew / thr_w, ex / thr_act), (ew, aw, bw), (ex, ax, bx)

        scored = [score(b) for b in bases]
        j = int(np.argmin([s[0] for s in scored]))
        lo, hi = bases[max(j - 1, 0)], bases[min(j + 1, len(bases) - 1)]
        fine = np.geomspace(lo, hi, 7)
        cands = [(s, b) for s, b in zip(scored, bases)] + [(score(b), b) for b in fine]
        (s, (ew, aw, bw), (ex, ax, bx)), b = min(cands, key=lambda c: c[0][0])
        _, aw, bw = _refine(sw, b, m, aw, bw, clip=clip)
        _, ax, bx = _refine(sx, b, m, ax, bx, clip=clip)
        pw, px = ExpParams(b, aw, bw, n), ExpParams(b, ax, bx, n)
        rw, rx = sw.full_rmae(pw), sx.full_rmae(px)
        tried.append((n, rw, rx))
        met = rw <= thr_w and rx <= thr_act
        result = (n, b, pw, px, rw, rx, met)
        if met:
            break
    n, b, pw, px, rw, rx, met = result
    return LayerResult(name, n, float(b), pw, px, rw, rx, met, int(sw.x.size), int(sx.x.size),
                       time.perf_counter() - t0, tried)


def search_model(layers, *, thr_w: float = 0.15, thr_act: float = 0.15, **kw) -> dict:
    """Algorithm 1 over ``layers`` (iterable of ``(name, weights, activations)``).

    Returns ``{"layers": [LayerResult], "avg_bits", "compression"}`` where ``avg_bits`` is
    weighted by weight-tensor size (the stored model) and ``compression = 1 - avg_bits/8``
    (over INT8); ``avg_bits_all``/``compression_all`` weight weights and calibration
    activations together.
    """
    results = [search_layer(w, x, thr_w=thr_w, thr_act=thr_act, name=name, **kw)
               for name, w, x in layers]
    if not results:
        raise ValueError("layers is empty: the search needs at least one layer")
    sw = np.array([r.size_w for r in results], dtype=np.float64)
    sa = np.array([r.size_act for r in results], dtype=np.float64)
    bits = np.array([r.n for r in results], dtype=np.float64)
    avg = float(np.sum(bits * sw) / np.sum(sw))
    avg_all = float(np.sum(bits * (sw + sa)) / np.sum(sw + sa))
    return {"layers": results, "avg_bits": avg, "compression": 1 - avg / 8,
            "avg_bits_all": avg_all, "compression_all": 1 - avg_all / 8,
            "all_met": all(r.met for r in results)}


def rounding_cost(x, p: ExpParams) -> dict:
    """RMAE of ``x`` with linear-domain and log-domain rounding at the same parameters."""
    x = check_real_array("x", x)
    return {r: rmae(x, dequantize(quantize(x, p, rounding=r), p)) for r in ROUNDINGS}


# --------------------------------------------------------------------------- distribution fit

FIT_DISTRIBUTIONS = ("expon", "uniform", "norm", "laplace", "halfnorm", "lognorm", "gamma")


def distribution_fit(x, *, bins: int = 100, distributions=FIT_DISTRIBUTIONS,
                     max_points: int = 20000, seed: int = 0) -> dict:
    """Table I of the paper: residual sum of squares between the density histogram of
    ``|x| / mean|x|`` (the magnitude the quantizer encodes, normalised so that RSS compares
    across tensors) and each distribution fitted to it by maximum likelihood
    (``scipy.stats``; location and scale free).  Zeros are left out (they have their own
    code).  Returns ``{name: rss}``."""
    from scipy import stats as st

    bins = check_int("bins", bins, 4, 10000)
    x = np.abs(check_real_array("x", x).ravel())
    x = x[x > 0]
    if x.size < 8:
        raise ValueError(f"x has {x.size} non-zero values: the fit needs at least 8")
    if x.size > max_points:
        x = np.random.default_rng(seed).choice(x, max_points, replace=False)
    x = x / x.mean()
    dens, edges = np.histogram(x, bins=bins, density=True)
    centers = (edges[:-1] + edges[1:]) / 2
    out = {}
    for name in distributions:
        dist = getattr(st, check_choice("distribution", name, FIT_DISTRIBUTIONS))
        with np.errstate(all="ignore"):
            if name in ("lognorm", "gamma"):
                params = dist.fit(x, floc=0)
            else:
                params = dist.fit(x)
            pdf = np.nan_to_num(dist.pdf(centers, *params), nan=0.0, posinf=0.0)
        out[name] = float(np.sum((dens - pdf) ** 2))
    return out
