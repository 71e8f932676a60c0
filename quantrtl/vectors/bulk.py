"""Bulk vector sets: the large, systematic stimulus the vector player checks at simulator
speed (:mod:`quantrtl.tb.player`), where the cocotb harness keeps the protocol and corner
tests.  Each function takes the block's component (its parameters) and a NumPy generator
and returns a vector set in the block adapter's format (:mod:`quantrtl.vectors.adapters`).

- :func:`mac_all_products`: every ``width x width``-bit product, each alone in its dot
  product;
- :func:`requant_shift_sweep`: every shift from ``SHIFT_MIN`` to ``SHIFT_MAX`` with
  accumulators of every magnitude, the INT32 extremes and the multiplier extremes;
- :func:`dnateq_random_codes`: random exponential codes of one code width, random lengths
  up to the block's ``max_length`` and a random LUT;
- :func:`huffman_round_trips`: streams under skewed, flat and single-symbol histograms,
  each with its own code (a table reload before every stream);
- :func:`dqa_every_pair`: every ``(q, err)`` pair of a DQA dequantizer, on an important
  and an ordinary channel.
"""

from __future__ import annotations

import numpy as np

from quantrtl.golden._ints import INT32_MAX, INT32_MIN, signed_range
from quantrtl.spec import MULTIPLIER_MAX, MULTIPLIER_MIN, SHIFT_MAX, SHIFT_MIN
from .random_sets import signed_values

__all__ = ["mac_all_products", "requant_shift_sweep", "dnateq_random_codes",
           "huffman_round_trips", "huffman_histogram", "every_pair", "pair_extremes",
           "dqa_every_pair"]


def _single_product_rows(c, rng, a_values, w_values) -> dict:
    """Dot products of one beat, each with exactly one product per PE: the activation in a
    rotating lane (random activations, weight 0, in the other lanes), PE ``p`` the
    ``p``-th of the weights that go with that activation (0 where fewer than ``pes``
    remain)."""
    order = np.argsort(a_values, kind="stable")
    a_values, w_values = a_values[order], w_values[order]
    starts = np.flatnonzero(np.r_[True, a_values[1:] != a_values[:-1]])
    group = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, a_values.size]))
    rank = np.arange(a_values.size) - starts[group]        # position within its activation
    rows_per_group = -(-np.diff(np.r_[starts, a_values.size]) // c.pes)
    first_row = np.r_[0, np.cumsum(rows_per_group)[:-1]]
    row = first_row[group] + rank // c.pes
    n = int(rows_per_group.sum())
    lane = np.arange(n) % c.lanes
    a = signed_values(rng, c.width, (n, c.lanes))
    a[row, lane[row]] = a_values
    w = np.zeros((n, c.pes, c.lanes), dtype=np.int64)
    w[row, rank % c.pes, lane[row]] = w_values
    vectors = {"a": a, "w": w[:, 0] if c.pes == 1 else w}
    if c.bias:
        vectors["bias"] = np.zeros(n if c.pes == 1 else (n, c.pes), dtype=np.int64)
    if c.offset:
        vectors["input_offset"] = np.int64(0)
    return vectors


def mac_all_products(c, rng) -> dict:
    """Every ``c.width``-bit x ``c.width``-bit product (65,536 at 8 bits) as one-beat dot
    products, zero offset and bias: golden ``dot_product`` equals the product itself."""
    lo, hi = signed_range(c.width)
    a, w = np.meshgrid(np.arange(lo, hi + 1), np.arange(lo, hi + 1), indexing="ij")
    return _single_product_rows(c, rng, a.ravel(), w.ravel())


def requant_shift_sweep(c, rng, per_shift: int = 4096) -> dict:
    """Every shift in ``[SHIFT_MIN, SHIFT_MAX]``, ``per_shift`` vectors each: accumulators
    whose magnitude is uniform in bits (``x >> u``, ``u`` in 0..31), among them the INT32
    extremes, 0 and +-1; multipliers uniform in the allowed range and its two extremes; a
    random zero point and the full output range as the clamp."""
    if per_shift < 16:
        raise ValueError(f"per_shift={per_shift} is out of range: allowed [16, inf)")
    shifts = np.arange(SHIFT_MIN, SHIFT_MAX + 1)
    n = shifts.size * per_shift
    acc = signed_values(rng, 32, n) >> rng.integers(0, 32, size=n)
    mult = rng.integers(MULTIPLIER_MIN, MULTIPLIER_MAX, size=n, endpoint=True)
    edge = np.array([INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX])
    block = np.arange(shifts.size)[:, None] * per_shift
    acc[(block + np.arange(edge.size)).ravel()] = np.tile(edge, shifts.size)
    mult[(block + edge.size + np.arange(4)).ravel()] = np.tile(
        [MULTIPLIER_MIN, MULTIPLIER_MIN, MULTIPLIER_MAX, MULTIPLIER_MAX], shifts.size)
    acc[(block + edge.size + np.arange(4)).ravel()] = np.tile(
        [INT32_MIN, INT32_MAX, INT32_MIN, INT32_MAX], shifts.size)
    lo, hi = signed_range(c.out_width)
    return {"acc": acc, "multiplier": mult, "shift": np.repeat(shifts, per_shift),
            "zero_point": np.int64(rng.integers(lo // 2, hi // 2, endpoint=True)),
            "qmin": np.int64(lo), "qmax": np.int64(hi)}


def dnateq_random_codes(c, rng, count: int, bits: int, *, zero_x: float = 0.3,
                        zero_w: float = 0.1) -> dict:
    """``count`` dot products of random ``bits``-bit codes (a fraction ``zero_x`` /
    ``zero_w`` of them the zero code), random lengths in ``[1, max_length]``, the
    weights drawn afresh per PE, and a random LUT."""
    if not 3 <= bits <= c.n:
        raise ValueError(f"bits={bits} is out of range: allowed [3, {c.n}] (the block's n)")
    k = c.max_length

    def codes(shape, zero):
        values = rng.integers(0, 1 << bits, size=shape)
        values[rng.random(shape) < zero] = 1 << (bits - 1)
        return values

    return {"x": codes((count, k), zero_x),
            "w": codes((count, k) if c.pes == 1 else (count, c.pes, k), zero_w),
            "length": rng.integers(1, k, size=count, endpoint=True),
            "bits": np.int64(bits),
            "lut": rng.integers(0, 1 << c.lut_width, size=c.entries)}


def every_pair(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Every ``(q, err)`` of a DQA dequantizer: ``q`` over signed(``n``), ``err`` over
    ``[0, 2^m)``, ``q``-major; two arrays of ``2^(n + m)``."""
    lo, hi = signed_range(n)
    q, err = np.meshgrid(np.arange(lo, hi + 1), np.arange(1 << m), indexing="ij")
    return q.ravel(), err.ravel()


def pair_extremes(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The corners of :func:`every_pair`: every ``q`` with ``err`` 0 and ``2^m - 1``, and
    every ``err`` with ``q`` at the signed(``n``) extremes, -1, 0 and 1; each pair once."""
    lo, hi = signed_range(n)
    qs, es = np.arange(lo, hi + 1), np.arange(1 << m)
    corners = np.unique([lo, -1, 0, 1, hi])
    q = np.r_[np.repeat(qs, 2), np.repeat(corners, es.size)]
    err = np.r_[np.tile([0, es[-1]], qs.size), np.tile(es, corners.size)]
    pairs = np.unique(np.stack([q, err], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def dqa_every_pair(c, rng) -> dict:
    """Every ``(q, err)`` pair of ``c`` (:func:`every_pair`, 65,536 at n = m = 8) in a
    random order, a row each: channel 0 important (the pair), channel 1 ordinary (the same
    ``q``, error 0)."""
    q, err = every_pair(c.n, c.m)
    order = rng.permutation(q.size)
    q, err = q[order], err[order]
    return {"q": np.stack([q, q], axis=1), "err": np.stack([err, np.zeros_like(err)], axis=1),
            "important": np.array([1, 0])}


def huffman_histogram(rng, size: int, kind: str) -> np.ndarray:
    """Symbol probabilities over ``size`` symbols: ``single`` (one symbol), ``flat`` (a
    random subset, equal) or ``skewed`` (a random subset, halving)."""
    used = int(rng.integers(1, size + 1))
    symbols = rng.permutation(size)[:used]
    probs = np.zeros(size)
    if kind == "single":
        probs[symbols[0]] = 1.0
    elif kind == "flat":
        probs[symbols] = 1.0
    else:
        probs[symbols] = 0.5 ** np.arange(used) + 1e-3
    return probs / probs.sum()


def huffman_round_trips(c, rng, streams: int, max_symbols: int) -> dict:
    """``streams`` streams of 0..``max_symbols`` symbols (empty ones included), cycling
    through skewed, flat and single-symbol histograms; the adapter builds each stream's
    code (a table reload before every stream)."""
    size = 1 << c.symbol_bits
    limit = min(max_symbols, (1 << c.count_bits) - 1)
    parts, lengths = [], rng.integers(0, limit, size=streams, endpoint=True)
    for k, length in enumerate(lengths):
        probs = huffman_histogram(rng, size, ("skewed", "flat", "single")[k % 3])
        parts.append(rng.choice(size, size=int(length), p=probs))
    return {"symbols": np.concatenate(parts).astype(np.int64), "lengths": lengths}
