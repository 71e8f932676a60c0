"""Energy workload of the DNA-TEQ output encoder (``dnaenc``): real dot-product results.

The results are what the ``dnateq`` block outputs on the shared synthetic layer
(:func:`quantrtl.vectors.workloads.synthetic_layer`: ReLU activations x Laplace weights, dot
products of :data:`LENGTH` pairs), DNA-TEQ-quantized at the encoder's ``n`` with the best base
of :data:`quantrtl.vectors.workloads.BASES`, through the post-processor's fixed point
(:func:`golden.dnateq.dot_product`, LUT at ``frac_bits`` up to 16, lowered until the results
fit the encoder's ``width``).  The table is that of the next layer's activation quantizer,
fitted by :func:`quantrtl.experiments.dnateq_search.search_tensor` on the real-valued results
(both signs) at the best base of the same grid: what an accelerator would load to requantize
this layer's output.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dnaenc_workload", "RESULTS", "LENGTH"]

RESULTS = 512        # encoded results per energy run
LENGTH = 384         # pairs per dot product (MiniLM's hidden size)
FRAC_BITS = 16       # the dnateq block's default
LUT_WIDTH = 48       # no LUT limit here: the results must fit the encoder's width


def _codes(x, w, n):
    """DNA-TEQ parameters and codes of ``x`` and ``w`` at the base of the grid with the
    smallest summed RMAE."""
    import quantrtl.experiments.dnateq_search as ds
    from quantrtl.golden import dnateq as g
    from .workloads import BASES
    fits = []
    for b in BASES:
        px, ex = ds.search_tensor(x, n, b)
        pw, ew = ds.search_tensor(w, n, b)
        fits.append((ex + ew, b, px, pw))
    _, b, px, pw = min(fits, key=lambda f: f[0])
    return px, pw, g.quantize(x, px), g.quantize(w, pw)


def _results(cx, cw, px, pw, width):
    """``(R, frac_bits)``: the post-processor's results at the largest ``frac_bits <= 16``
    whose results fit a signed ``width``-bit integer."""
    from quantrtl.golden import dnateq as g
    frac_bits = FRAC_BITS
    while True:
        lut = g.make_lut(px, pw, frac_bits=frac_bits, lut_width=LUT_WIDTH)
        r = g.dot_product(cx, cw, lut, n=px.n)
        peak = int(np.max(np.abs(r))) if r.size else 0
        if peak < 1 << (width - 1) or frac_bits == 0:
            break
        frac_bits -= max(1, peak.bit_length() - (width - 1))
        frac_bits = max(frac_bits, 0)
    if peak >= 1 << (width - 1):
        raise ValueError(f"width={width} is out of range for this workload: the results need "
                         f"{peak.bit_length() + 1} bits even at frac_bits=0")
    return r, frac_bits


def dnaenc_workload(c, rng, n=64, seed=1):
    """``(vectors, info)`` of :data:`RESULTS` results (``n``, the dot-product length of the
    other workloads, is not used: the results always come from :data:`LENGTH`-pair dot
    products)."""
    import quantrtl.experiments.dnateq_search as ds
    from quantrtl.golden.dnateq_encode import thresholds
    from .workloads import BASES, synthetic_layer
    x, w = synthetic_layer(seed, RESULTS, LENGTH)
    px, pw, cx, cw = _codes(x, w, c.n)
    r, frac_bits = _results(cx, cw, px, pw, c.width)
    y = r * 2.0 ** -frac_bits
    fits = [ds.search_tensor(y, c.n, b) for b in BASES]
    p, err = min(fits, key=lambda f: f[1])
    thresholds(p, frac_bits=frac_bits, width=c.width)   # fits (raises otherwise)
    vectors = {"r": r, "b": np.float64(p.b), "alpha": np.float64(p.alpha),
               "beta": np.float64(p.beta), "frac_bits": np.int64(frac_bits)}
    return vectors, {"ops": int(r.size), "op": "result", "dot_products": 0, "length": 1,
                     "skip_beats": int(c.entries), "frac_bits": frac_bits,
                     "rmae_next_layer": round(float(err), 4), "base": p.b,
                     "data": f"dnateq results of the synthetic layer ({LENGTH}-pair dot "
                             f"products, n={c.n} codes), requantized with an activation "
                             f"quantizer fitted on them"}
