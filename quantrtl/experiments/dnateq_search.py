"""DNA-TEQ research numerics: the offline search, the error studies, the distribution fit.

Not reference code (ARCHITECTURE.md: research code lives with the experiments), but pure
NumPy numerics on top of the bit-exact model :mod:`quantrtl.golden.dnateq`; it imports
only NumPy (SciPy lazily, for the fit), :mod:`quantrtl.spec` and :mod:`quantrtl.golden`, so
the vector layer's energy workloads and the cocotb tests may use it too.

Offline search (:func:`search_layer`, :func:`search_model`): Algorithm 1 -- for each layer,
``n`` from 3 up to 7, a base shared by the weights and the activations and per-tensor
``alpha``, ``beta`` minimising RMAE ``= sum|x - x_hat| / sum|x|`` (:func:`rmae`); the
smallest ``n`` with weight RMAE ``<= thr_w`` and activation RMAE ``<= thr_act`` is kept.
RMAE of a candidate is computed exactly from sorted magnitudes and prefix sums (no
quantization pass per candidate), so the whole grid of a layer costs a few thousand binary
searches.

Error studies: :func:`rounding_cost` (linear- against log-domain rounding of
:func:`quantrtl.golden.dnateq.quantize`), :func:`dot_errors` (exponent-domain fixed point
and INT8 dot products against float).  Distribution fit: :func:`distribution_fit` (Table I
of the paper, ``docs/dnateq.md``).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from quantrtl.golden import quant
from quantrtl.golden.dnateq import (N_MAX, N_MIN, ROUNDINGS, ExpParams, dequantize, dot_real,
                                    levels, quantize)
from quantrtl.spec import check_choice, check_int, check_real, check_real_array

__all__ = [
    "rmae", "rounding_cost", "dot_errors", "search_tensor", "search_layer", "search_model",
    "LayerResult", "distribution_fit", "FIT_DISTRIBUTIONS",
]


# --------------------------------------------------------------------------- error studies

def rmae(x, x_hat) -> float:
    """``sum|x - x_hat| / sum|x|`` (0.0 for an all-zero ``x`` reproduced exactly)."""
    x = check_real_array("x", x)
    err = float(np.sum(np.abs(x - check_real_array("x_hat", x_hat))))
    total = float(np.sum(np.abs(x)))
    if total == 0.0:
        return 0.0 if err == 0.0 else math.inf
    return err / total


def rounding_cost(x, p: ExpParams) -> dict:
    """RMAE of ``x`` with linear-domain and log-domain rounding at the same parameters."""
    x = check_real_array("x", x)
    return {r: rmae(x, dequantize(quantize(x, p, rounding=r), p)) for r in ROUNDINGS}


def dot_errors(x, w, px: ExpParams, pw: ExpParams, *, frac_bits: int = 16,
               lut_width: int = 48) -> dict:
    """Dot products of float ``x``, ``w`` (``[..., K]``) every way: float, exponent-domain
    fixed point (quantize, count, post-process), and INT8 (``golden.quant``: activations
    asymmetric per tensor, weights symmetric per tensor); with relative errors
    ``sum|y - y_float| / sum|y_float|``."""
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
