"""Unit tests of the DNA-TEQ research numerics (quantrtl/experiments/dnateq_search.py): the
offline search (Algorithm 1), the error studies and the distribution fit."""

import numpy as np
import pytest

import quantrtl.experiments.dnateq_search as ds
from quantrtl.golden import dnateq as g


def _params(n, b=1.4, alpha=0.01, beta=0.002):
    return g.ExpParams(b, alpha, beta, n)


def test_linear_rounding_costs_less_than_log_rounding():
    p = _params(4)
    cost = ds.rounding_cost(np.random.default_rng(0).laplace(0, 0.05, 10000), p)
    assert cost["linear"] < cost["log"]


def test_dot_errors_against_float_and_int8():
    rng = np.random.default_rng(5)
    x = np.maximum(rng.standard_normal((16, 256)), 0)
    w = rng.laplace(0, 0.05, size=(16, 256))
    res = ds.search_layer(w, x, thr_w=0.05, thr_act=0.05)
    e = ds.dot_errors(x, w, res.acts, res.weights, frac_bits=16)
    assert e["err_fixed_vs_dequant"] <= 2.0 ** -17 * 4 * 256
    assert 0 < e["err_int8_vs_float"] < 0.05
    assert 0 < e["err_exp_vs_float"] < 0.2


def test_search_small_tensors_meets_thresholds_and_prefers_fewer_bits():
    rng = np.random.default_rng(1)
    w = rng.laplace(0, 0.05, size=(64, 64))
    x = np.maximum(rng.standard_normal((32, 64)), 0)
    loose = ds.search_layer(w, x, thr_w=0.35, thr_act=0.35)
    tight = ds.search_layer(w, x, thr_w=0.06, thr_act=0.06)
    for r, thr in ((loose, 0.35), (tight, 0.06)):
        assert r.met and r.rmae_w <= thr and r.rmae_act <= thr
        assert r.weights.b == r.acts.b  # the base is shared
        # the reported RMAE is the real one
        assert r.rmae_w == pytest.approx(
            ds.rmae(w, g.dequantize(g.quantize(w, r.weights), r.weights)))
        # and every smaller n that was tried failed a threshold
        for n, rw, rx in r.tried[:-1]:
            assert rw > thr or rx > thr
    assert loose.n < tight.n
    # an impossible threshold ends at n_max, flagged
    r = ds.search_layer(w, x, thr_w=1e-6, thr_act=1e-6, n_max=4)
    assert r.n == 4 and not r.met
    model = ds.search_model([("a", w, x), ("b", w[:8], x)], thr_w=0.35, thr_act=0.35)
    assert model["compression"] == pytest.approx(1 - model["avg_bits"] / 8)


def test_search_beats_a_naive_choice():
    rng = np.random.default_rng(2)
    w = rng.laplace(0, 0.05, size=4096)
    naive = g.ExpParams(1.5, np.abs(w).max() / 1.5 ** 7, 0.0, 4)
    naive_err = ds.rmae(w, g.dequantize(g.quantize(w, naive), naive))
    p, err = ds.search_tensor(w, 4, 1.5)
    assert err <= naive_err and g.levels(p)[-1] == pytest.approx(np.abs(w).max())
    p, clipped = ds.search_tensor(w, 4, 1.5, clip=True)
    assert clipped < err and g.levels(p)[-1] < np.abs(w).max()


def test_distribution_fit_prefers_exponential_for_exponential_data():
    rng = np.random.default_rng(0)
    rss = ds.distribution_fit(rng.exponential(1.0, 20000))
    assert min(rss, key=rss.get) in ("expon", "gamma")
    assert rss["expon"] < rss["uniform"] and rss["expon"] < rss["norm"]
    rss_u = ds.distribution_fit(rng.uniform(0.1, 1.0, 20000))
    assert rss_u["uniform"] < rss_u["expon"]


@pytest.mark.parametrize("call,match", [
    (lambda: ds.search_layer(np.ones(4), np.ones(4), thr_w=0), r"thr_w=0 is out of range"),
    (lambda: ds.search_layer(np.ones(4), np.ones(4), n_min=5, n_max=4),
     r"n_max=4 is out of range: allowed \[5, 7\]"),
    (lambda: ds.search_tensor([], 4, 1.5), r"non-empty"),
    (lambda: ds.distribution_fit(np.zeros(100)), r"non-zero values"),
])
def test_parameter_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
