"""Unit tests of the DNA-TEQ golden model (golden/dnateq.py); the search, the error
studies and the distribution fit are in test_dnateq_search.py."""

import itertools

import numpy as np
import pytest

import quantrtl.experiments.dnateq_search as ds
from quantrtl.golden import dnateq as g


def _params(n, b=1.4, alpha=0.01, beta=0.002):
    return g.ExpParams(b, alpha, beta, n)


@pytest.mark.parametrize("n", range(3, 8))
def test_every_code_round_trips(n):
    p = _params(n)
    codes = np.arange(1 << n)
    values = g.dequantize(codes, p)
    assert values[g.zero_code(n)] == 0.0
    assert np.array_equal(g.quantize(values, p), codes)
    m = 1 << (n - 1)
    # positive levels f = 0..M-1, negative f = 1..M-1, zero once: 2^n distinct values
    assert len(np.unique(values)) == 1 << n
    assert np.allclose(values[:m], p.alpha * p.b ** np.arange(m) + p.beta)
    assert np.allclose(values[m + 1:], -(p.alpha * p.b ** np.arange(1, m) + p.beta))


@pytest.mark.parametrize("n", (3, 5, 7))
def test_linear_rounding_is_nearest_level(n):
    p = _params(n)
    rng = np.random.default_rng(n)
    x = rng.standard_normal(5000) * 0.05
    q = g.dequantize(g.quantize(x, p), p)
    every = g.dequantize(np.arange(1 << n), p)
    nearest = every[np.argmin(np.abs(x[:, None] - every[None, :]), axis=1)]
    assert np.allclose(np.abs(x - q), np.abs(x - nearest))
    # zero is exact, ReLU zeros stay zero
    assert np.all(g.quantize(np.zeros(7), p) == g.zero_code(n))


def test_ties_go_to_the_smaller_magnitude_and_log_rounding_differs():
    p = _params(4)
    v = g.levels(p)
    mids = (v[:-1] + v[1:]) / 2
    assert np.array_equal(g.quantize(mids, p), np.arange(len(mids)))
    assert g.quantize(v[0] / 2, p) == g.zero_code(4)
    # between the log-domain midpoint b^2.5 and the (higher) linear midpoint
    x = ((v[2] + v[3]) / 2 + p.alpha * p.b ** 2.5 + p.beta) / 2
    assert g.quantize(x, p, rounding="linear") == 2
    assert g.quantize(x, p, rounding="log") == 3


def test_widen_codes_keeps_values():
    p4, p7 = _params(4), _params(7)
    codes = np.arange(16)
    wide = g.widen_codes(codes, 4, 7)
    assert np.array_equal(g.dequantize(codes, p4), g.dequantize(wide, p7))
    assert wide[g.zero_code(4)] == g.zero_code(7)


@pytest.mark.parametrize("n", range(3, 8))
def test_counters_by_brute_force(n):
    rng = np.random.default_rng(10 + n)
    cx = rng.integers(0, 1 << n, size=(6, 50))
    cw = rng.integers(0, 1 << n, size=(6, 50))
    cx[:, :10] = g.zero_code(n)
    got = g.counters(cx, cw, n)
    m = 1 << (n - 1)
    o0, o1, o2, o3 = g.entry_offsets(n)
    want = np.zeros_like(got)
    for r, i in itertools.product(range(6), range(50)):
        a, b = int(cx[r, i]), int(cw[r, i])
        if a == m or b == m:
            continue
        s = 1 - 2 * ((a >> (n - 1)) ^ (b >> (n - 1)))
        fx, fw = a & (m - 1), b & (m - 1)
        for e in (o0 + fx + fw, o1 + fx, o2 + fw, o3):
            want[r, e] += s
    assert np.array_equal(got, want)
    assert g.num_entries(n) == got.shape[-1] == 4 * m


@pytest.mark.parametrize("n,frac_bits", [(3, 4), (4, 8), (5, 12), (6, 16), (7, 20)])
def test_dot_product_identity(n, frac_bits):
    """The identity is exact in float; the fixed-point post-processor is within
    2^-(F+1) per counted unit, so at most 2^-(F+1) * 4 * N of the float dot product of the
    dequantized tensors."""
    rng = np.random.default_rng(n)
    k = 300
    xf = np.maximum(rng.standard_normal((20, k)), 0) * 3
    wf = rng.laplace(0, 0.05, size=(20, k))
    pw, _ = ds.search_tensor(wf, n, 1.2)
    px0, _ = ds.search_tensor(xf, n, 1.2)
    px = g.ExpParams(pw.b, px0.alpha, px0.beta, n)
    cx, cw = g.quantize(xf, px), g.quantize(wf, pw)
    ref = np.sum(g.dequantize(cx, px) * g.dequantize(cw, pw), axis=-1)
    assert np.allclose(g.dot_identity(cx, cw, px, pw), ref, rtol=1e-12, atol=1e-12)
    real = g.dot_real(cx, cw, px, pw, frac_bits=frac_bits)
    counted = np.abs(g.counters(cx, cw, n)).sum(axis=-1)
    bound = 2.0 ** -(frac_bits + 1) * counted
    assert np.all(np.abs(real - ref) <= bound + 1e-12)
    assert np.all(counted <= 4 * k)
    # the fixed point really rounds, and more finely with more fractional bits
    assert np.any(real != ref)
    finer = g.dot_real(cx, cw, px, pw, frac_bits=frac_bits + 6)
    assert np.max(np.abs(finer - ref)) < np.max(np.abs(real - ref))


def test_lut_entries_and_limits():
    px, pw = _params(4, alpha=0.5, beta=0.25), _params(4, alpha=0.125, beta=0.0625)
    lut = g.make_lut(px, pw, frac_bits=8, lut_width=24)
    o0, o1, o2, o3 = g.entry_offsets(4)
    assert lut[o0] == round(0.5 * 0.125 * 256)
    assert lut[o0 + 3] == round(0.5 * 0.125 * 1.4 ** 3 * 256)
    assert lut[o1 + 2] == round(0.5 * 0.0625 * 1.4 ** 2 * 256)
    assert lut[o2 + 1] == round(0.25 * 0.125 * 1.4 * 256)
    assert lut[o3] == round(0.25 * 0.0625 * 256)
    narrow = g.make_lut(px, pw, frac_bits=8, lut_width=24, bits=3)
    assert narrow[o0 + 7] == 0 and narrow[o1 + 4] == 0 and narrow[o0 + 6] == lut[o0 + 6]
    with pytest.raises(ValueError, match=r"lut\[\d+\].*out of range.*lut_width=4"):
        g.make_lut(px, pw, frac_bits=8, lut_width=4)


def test_dot_product_matches_counters_and_checks_lut():
    rng = np.random.default_rng(3)
    cx = rng.integers(0, 32, size=(4, 40))
    cw = rng.integers(0, 32, size=(4, 40))
    lut = rng.integers(0, 1 << 20, size=64)
    assert np.array_equal(g.dot_product(cx, cw, lut, n=5), g.counters(cx, cw, 5) @ lut)
    with pytest.raises(ValueError, match="lut must have 64 entries"):
        g.dot_product(cx, cw, lut[:10], n=5)
    with pytest.raises(ValueError, match=r"cx\[0, 0\]=32 is out of range: allowed \[0, 31\]"):
        g.dot_product(np.full((1, 2), 32), cw[:1, :2], lut, n=5)


@pytest.mark.parametrize("call,match", [
    (lambda: g.ExpParams(1.0, 1.0, 0.0, 4), r"b=1.0 is out of range: allowed \(1.0"),
    (lambda: g.ExpParams(2.0, 0.0, 0.0, 4), r"alpha=0.0 is out of range"),
    (lambda: g.ExpParams(2.0, 1.0, -1.0, 4), r"beta=-1.0 is out of range"),
    (lambda: g.ExpParams(2.0, 1.0, 0.0, 8), r"n=8 is out of range: allowed \[3, 7\]"),
    (lambda: g.zero_code(2), r"n=2 is out of range"),
    (lambda: g.quantize([1.0], _params(4), rounding="round"), r"rounding='round' is not allowed"),
    (lambda: g.quantize([np.nan], _params(4)), r"NaN"),
    (lambda: g.dequantize([16], _params(4)), r"codes\[0\]=16 is out of range: allowed \[0, 15\]"),
    (lambda: g.widen_codes([1], 5, 4), r"bits=5 is out of range: allowed \[3, 4\]"),
    (lambda: g.counters(np.zeros((2, 3), int), np.zeros((2, 4), int), 4), r"broadcast"),
    (lambda: g.lut_coefficients(_params(4), _params(5)), r"px.n=4 and pw.n=5 differ"),
    (lambda: g.lut_coefficients(_params(4, b=1.3), _params(4)), r"base is shared"),
    (lambda: g.make_lut(_params(4), _params(4), frac_bits=49, lut_width=24),
     r"frac_bits=49 is out of range"),
])
def test_parameter_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
