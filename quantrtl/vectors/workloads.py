"""Energy workloads: the vector sets streamed through each block's gate-level netlist.

A workload function takes the built component, a NumPy generator and the dot-product
length ``n`` (ignored by blocks that are not dot products) and returns
``(vectors, info)``: ``vectors`` in the format of :mod:`quantrtl.vectors.adapters` (so every
energy run is also checked against the golden model), ``info`` with ``ops`` (the operations the
energy is divided by), ``op`` (their name), ``dot_products``, ``length`` and
``skip_beats`` (leading set-up beats, e.g. a LUT load, kept out of the energy window).

Dot-product blocks share one synthetic layer (:func:`synthetic_layer`), so INT8 and DNA-TEQ
see the same real-valued tensors: weights ~ Laplace(0, 0.05) (the heavy-tailed shape of
trained weights) and ReLU activations max(0, N(0, 1)) (half of them exactly zero), each
dot product a fresh row.  INT8 quantizes them as TFLite does (symmetric per-tensor int8
weights; asymmetric activations with zero point -128, i.e. ``input_offset`` 128); DNA-TEQ
with :func:`quantrtl.experiments.dnateq_search.search_tensor` at each ``n`` and the best
shared base of a small grid.  A block gets energy figures by naming its workload in its
registry entry (:mod:`quantrtl.blocks`); the DNA-TEQ encoder's is in :mod:`.workload_dnaenc`.
"""

from __future__ import annotations

import numpy as np

from quantrtl.golden._ints import signed_range

__all__ = ["mac_workload", "requant_workload", "dnateq_workload", "dqa_workload",
           "huffman_workload", "ELEMENTS_PER_RUN", "synthetic_layer"]

ELEMENTS_PER_RUN = 1024     # operand pairs per energy run (at least 2 dot products)
BASES = (1.05, 1.1, 1.2, 1.35, 1.5, 2.0, 3.0)


def synthetic_layer(seed: int, count: int, n: int):
    """``(x, w)`` float64 ``[count, n]``: ReLU activations and Laplace weights."""
    rng = np.random.default_rng([seed, count, n])
    x = np.maximum(rng.normal(0.0, 1.0, size=(count, n)), 0.0)
    w = rng.laplace(0.0, 0.05, size=(count, n))
    return x, w


def _count(n):
    return max(2, ELEMENTS_PER_RUN // n)


def mac_workload(c, rng, n=64, seed=1):
    if n % c.lanes:
        raise ValueError(f"dot-product length n={n} is out of range: allowed a multiple of "
                         f"lanes={c.lanes}")
    pes = getattr(c, "pes", 1)
    count = max(2, _count(n) // pes)
    x, w = synthetic_layer(seed, count * pes, n)
    x = x[:count]
    lo, hi = signed_range(c.width)
    qmax_w = hi
    w_q = np.clip(np.round(w / (np.abs(w).max() / qmax_w)), -qmax_w, qmax_w).astype(np.int64)
    if pes > 1:                               # each activation row against P weight rows
        w_q = w_q.reshape(count, pes, n)
    levels = (1 << c.width) - 1
    a_q = np.clip(np.round(x / (x.max() / levels)), 0, levels).astype(np.int64) + lo
    vectors = {"a": a_q, "w": w_q}
    if c.bias:
        limit = 1 << min(12, c.acc_width - 2)
        vectors["bias"] = rng.integers(-limit, limit, size=(count, pes) if pes > 1 else count,
                                       endpoint=True)
    if c.offset:
        vectors["input_offset"] = np.int64(-lo)          # -zero_point, zero point = lo
    dots = count * pes
    return vectors, {"ops": dots * n, "op": "MAC", "dot_products": dots, "length": n,
                     "skip_beats": 0, "data": "synthetic layer (ReLU activations, "
                                              "Laplace weights), TFLite int8"}


def dnateq_workload(c, rng, n=64, seed=1):
    import quantrtl.experiments.dnateq_search as ds
    from quantrtl.golden import dnateq as g
    pes = getattr(c, "pes", 1)
    count = max(2, _count(n) // pes)
    x, w = synthetic_layer(seed, count * pes, n)
    x = x[:count]
    best = None
    for b in BASES:
        px, ex = ds.search_tensor(x, c.n, b)
        pw, ew = ds.search_tensor(w, c.n, b)
        try:
            g.make_lut(px, pw, frac_bits=c.frac_bits, lut_width=c.lut_width,
                       fold_c3=c.fold_c3)
        except ValueError:
            continue
        if best is None or ex + ew < best[0]:
            best = (ex + ew, b, px, pw, ex, ew)
    if best is None:
        raise ValueError(f"no base of {BASES} gives a LUT that fits lut_width={c.lut_width}")
    _, b, px, pw, ex, ew = best
    cw = g.quantize(w, pw)
    vectors = {"x": g.quantize(x, px), "w": cw.reshape(count, pes, n) if pes > 1 else cw,
               "b": np.float64(b),
               "alpha_x": np.float64(px.alpha), "beta_x": np.float64(px.beta),
               "alpha_w": np.float64(pw.alpha), "beta_w": np.float64(pw.beta)}
    return vectors, {"ops": count * pes * n, "op": "pair", "dot_products": count * pes,
                     "length": n, "skip_beats": int(c.entries), "rmae_x": round(ex, 4),
                     "rmae_w": round(ew, 4), "base": b,
                     "data": "synthetic layer (ReLU activations, Laplace weights), "
                             "DNA-TEQ codes"}


def requant_workload(c, rng, n=64, seed=1):
    from quantrtl.golden.requant import MULTIPLIER_MAX, MULTIPLIER_MIN
    count = 512
    lo, hi = signed_range(c.out_width)
    magnitude = rng.integers(0, 24, size=count)
    vectors = {
        "acc": rng.integers(-(1 << 31), (1 << 31) - 1, size=count, endpoint=True) >> magnitude,
        "multiplier": rng.integers(MULTIPLIER_MIN, MULTIPLIER_MAX, size=count, endpoint=True),
        "shift": rng.integers(-16, 0, size=count, endpoint=True),
        "zero_point": np.int64(rng.integers(lo, hi, endpoint=True)),
        "qmin": np.int64(lo), "qmax": np.int64(hi),
    }
    return vectors, {"ops": count, "op": "requantization", "dot_products": count,
                     "length": 1, "skip_beats": 0, "data": "random accumulators"}


def _dqa_tensor(seed, n, m, elements=ELEMENTS_PER_RUN, channels=64, ratio=0.4):
    """``(q, err, important)``: DQA-quantized ReLU activations of the synthetic layer,
    ``elements`` values in rows of ``channels``, a fraction ``ratio`` of channels
    important, per-tensor scale from the maximum (:mod:`golden.dqa`)."""
    from quantrtl.golden import dqa
    x, _ = synthetic_layer(seed, max(1, elements // channels), channels)
    important = np.random.default_rng([seed, channels]).random(channels) < ratio
    scale = dqa.calibrate_scale(x, n)
    q, err = dqa.quantize(x, scale, important, n, m)
    return q, err, important


def dqa_workload(c, rng, n=64, seed=1):
    from quantrtl.golden.dqa import M_BITS, N_BITS
    if c.n in range(N_BITS[0], N_BITS[1] + 1) and c.m in range(M_BITS[0], M_BITS[1] + 1):
        q, err, important = _dqa_tensor(seed, c.n, c.m)
        data = "synthetic ReLU activations, DQA-quantized (40 % important channels)"
    else:   # outside DQA's own ranges the block still joins: uniform random codes
        shape = (ELEMENTS_PER_RUN // 64, 64)
        lo, hi = signed_range(c.n)
        q = rng.integers(lo, hi, size=shape, endpoint=True)
        important = rng.random(64) < 0.4
        err = rng.integers(0, 1 << c.m, size=shape) * important
        data = "uniform random codes (40 % important channels)"
    vectors = {"q": q, "err": err, "important": important.astype(np.int64)}
    return vectors, {"ops": int(q.size), "op": "element", "dot_products": 0, "length": 1,
                     "skip_beats": 0, "data": data}


def huffman_workload(c, rng, n=64, seed=1):
    """DQA shifting errors (``m = min(symbol_bits, 4)`` bits, n = 4) of the synthetic
    activations, one stream with its own optimal code; the table load stays out of the
    window (``skip_beats``)."""
    from quantrtl.golden.dqa import error_stream
    from quantrtl.golden.huffman import build_code
    m = min(c.symbol_bits, 4)
    q, err, important = _dqa_tensor(seed, 4, m, elements=4 * ELEMENTS_PER_RUN)
    symbols = error_stream(err, important)[:ELEMENTS_PER_RUN]
    code = build_code(symbols, c.max_length, alphabet_size=1 << c.symbol_bits)
    table = c.max_length + len(code.symbols) + 1     # LEN beats, SYM beats, COUNT
    return {"symbols": symbols}, {
        "ops": int(symbols.size), "op": "symbol", "dot_products": 0, "length": 1,
        "skip_beats": table, "data": f"DQA shifting errors (m={m}) of synthetic ReLU "
                                     f"activations, one optimal length-limited code"}

