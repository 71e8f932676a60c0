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
    (``rounding_cost`` of :mod:`quantrtl.experiments.dnateq_search`, ``docs/dnateq.md``).

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

        bx*bw * C3 = sum_k C0[k] * bx*bw   ->   lut[k] = round_half_away((ax*aw*b^k + bx*bw) * 2^F)

    for ``k`` in ``[0, 2M-2]``; entry ``4M-1`` (``C3``) then has no counter and no LUT
    register: :func:`make_lut` gives it 0 and :func:`dot_product` ignores it.  The identity
    is exact; only the rounding of the folded entries differs (each folded entry is still
    off by at most ``2^-(F+1)``, and one entry fewer is rounded per dot product).

The offline search (Algorithm 1), the error studies and the distribution fit are research
code, not reference: :mod:`quantrtl.experiments.dnateq_search`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from quantrtl.spec import (DNATEQ_N_MAX, DNATEQ_N_MIN, DNATEQ_ROUNDINGS, check_array_range,
                           check_bool, check_choice, check_int, check_operands, check_real,
                           check_real_array)
from ._ints import round_half_away

__all__ = [
    "N_MIN", "N_MAX", "ROUNDINGS", "ExpParams", "zero_code", "num_entries", "entry_offsets",
    "levels", "quantize", "dequantize", "widen_codes", "counters", "split_counters",
    "lut_coefficients", "make_lut", "dot_product", "dot_real", "dot_identity",
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
    cx, cw = check_operands(("cx", "cw"), cx, cw, 0, (1 << n) - 1)
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
    """The real-valued result ``R * 2^-frac_bits`` of the fixed-point post-processor, with
    ``R = dot_product(cx, cw, make_lut(px, pw, ...))`` (the LUT rounded half away from zero,
    so ``R * 2^-frac_bits`` is within ``2^-(frac_bits+1) * sum_e |counters[e]|`` of
    :func:`dot_identity`); float64, exact while ``|R| < 2^53``."""
    lut = make_lut(px, pw, frac_bits=frac_bits, lut_width=lut_width, bits=bits,
                   fold_c3=fold_c3)
    return dot_product(cx, cw, lut, n=px.n, fold_c3=fold_c3) * 2.0 ** -frac_bits


def dot_identity(cx, cw, px: ExpParams, pw: ExpParams) -> np.ndarray:
    """The identity evaluated in float64, ``sum_e counters[e] * coeff_e * b^k_e`` (counters
    times :func:`lut_coefficients`, unfolded), with no fixed-point rounding: equal to
    ``sum_i x_hat_i w_hat_i`` of the dequantized codes up to float64 rounding."""
    return counters(cx, cw, px.n) @ lut_coefficients(px, pw)
