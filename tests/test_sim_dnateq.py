"""The DNA-TEQ block's parameter and vector-set checks (no simulator needed); its cocotb
testbench runs over the registered matrix in test_sim.py: together the two simulators
build every ``n`` from 3 to 7 natively, and every set also runs every narrower code width
(3..n) through widened codes."""

import numpy as np
import pytest

from quantrtl.blocks import adapter_for
from quantrtl.golden import dnateq as g
from quantrtl.hw.dnateq import DnaTeqDotProduct


@pytest.mark.parametrize("params,match", [
    ({"n": 2}, r"n=2 is out of range: allowed \[3, 7\]"),
    ({"n": 8}, r"n=8 is out of range: allowed \[3, 7\]"),
    ({"lanes": 0}, r"lanes=0 is out of range: allowed \[1, 32\]"),
    ({"max_length": 0}, r"max_length=0 is out of range"),
    ({"lut_width": 1}, r"lut_width=1 is out of range: allowed \[2, 40\]"),
    ({"lut_width": 12, "frac_bits": 13}, r"frac_bits=13 is out of range: allowed \[0, 12\]"),
    ({"pp_lanes": 3}, r"pp_lanes=3 is not allowed"),
    ({"n": 3, "pp_lanes": 32}, r"pp_lanes=32 is not allowed: allowed \{1, 2, 4, 8, 16\}"),
    ({"n": True}, r"n=True is not an integer"),
    ({"pes": 0}, r"pes=0 is out of range: allowed \[1, 64\]"),
    ({"counter": "gray"}, r"counter='gray' is not allowed: allowed \{signmag, twos\}"),
    ({"isolate": 1}, r"isolate=1 is not a boolean"),
    ({"fold_c3": "yes"}, r"fold_c3='yes' is not a boolean"),
])
def test_block_parameter_errors(params, match):
    with pytest.raises(ValueError, match=match):
        DnaTeqDotProduct(**params)


def _adapter(**params):
    c = DnaTeqDotProduct(**params)
    c._MustUse__silence = True
    return adapter_for("dnateq", c)


def test_adapter_encodes_lut_then_padded_beats():
    a = _adapter(n=5, lanes=3, max_length=64)
    rng = np.random.default_rng(0)
    vectors = {"x": rng.integers(0, 16, size=(4, 10)), "w": rng.integers(0, 16, size=(4, 10)),
               "length": np.array([1, 3, 7, 10]), "bits": np.int64(4),
               "lut": rng.integers(0, 1 << 24, size=64)}
    words = a.encode(vectors)
    assert len(words) == 64 + 1 + 1 + 3 + 4
    wide_x = g.widen_codes(vectors["x"], 4, 5)
    wide_w = g.widen_codes(vectors["w"], 4, 5)
    want = [g.dot_product(wide_x[r, :n], wide_w[r, :n], vectors["lut"], n=5, fold_c3=True)
            for r, n in enumerate(vectors["length"])]
    assert np.array_equal(a.golden(vectors), want)
    # the last beat of row 2 (7 pairs, 3 lanes) carries 2 zero codes and last = 1
    fields = a.codec.unpack(words[64 + 1 + 1 + 2])
    assert fields["last"] == 1 and fields["x[1]"] == fields["x[2]"] == 16


def test_adapter_lut_from_parameters():
    a = _adapter(n=4, lanes=1, max_length=16, lut_width=20, frac_bits=10)
    px, pw = g.ExpParams(1.5, 0.2, 0.01, 4), g.ExpParams(1.5, 0.01, 0.001, 4)
    vectors = {"x": np.array([[1, 2, 8]]), "w": np.array([[3, 12, 1]]), "b": 1.5,
               "alpha_x": 0.2, "beta_x": 0.01, "alpha_w": 0.01, "beta_w": 0.001}
    assert np.array_equal(a.lut(vectors), g.make_lut(px, pw, frac_bits=10, lut_width=20,
                                                     fold_c3=True))
    a = _adapter(n=4, lanes=1, max_length=16, lut_width=20, frac_bits=10, fold_c3=False)
    assert np.array_equal(a.lut(vectors), g.make_lut(px, pw, frac_bits=10, lut_width=20))


def test_adapter_for_an_array():
    """``pes = 3``: weights ``[D, P, K]`` or ``[P, K]``, results ``[D, P]``, and the beats
    carry every PE's weight codes beside the shared activation codes."""
    a = _adapter(n=4, lanes=2, max_length=16, pes=3)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 16, size=(5, 7))
    w = rng.integers(0, 16, size=(3, 7))
    lut = rng.integers(0, 1 << 24, size=32)
    shared = a.golden({"x": x, "w": w, "lut": lut})
    full = a.golden({"x": x, "w": np.broadcast_to(w, (5, 3, 7)), "lut": lut})
    assert shared.shape == (5, 3) and np.array_equal(shared, full)
    want = np.array([[g.dot_product(x[d], w[p], lut, n=4, fold_c3=True) for p in range(3)]
                     for d in range(5)])
    assert np.array_equal(shared, want) and a.count({"x": x, "w": w, "lut": lut}) == 15
    words = a.encode({"x": x, "w": w, "lut": lut})
    beat = a.codec.unpack(words[32])
    assert beat["x[1]"] == x[0, 1] and beat["w[2][1]"] == w[2, 1] and beat["last"] == 0
    with pytest.raises(ValueError, match=r"w must be \[D, P, K\] = \[5, 3, 7\]"):
        a.encode({"x": x, "w": w[:2], "lut": lut})


@pytest.mark.parametrize("change,match", [
    ({"y": 1}, r"unknown field 'y'"),
    ({"x": None}, r"missing field 'x'"),
    ({"x": np.full((2, 4), 32)}, r"x\[0, 0\]=32 is out of range: allowed \[0, 31\]"),
    ({"length": np.array([5, 1])}, r"length\[0\]=5 is out of range: allowed \[1, 4\]"),
    ({"bits": np.int64(6)}, r"bits=6 is out of range: allowed \[3, 5\]"),
    ({"lut": np.zeros(10, int)}, r"lut must have 64 entries"),
    ({"lut": np.full(64, 1 << 24)}, r"lut\[0\]=16777216 is out of range"),
    ({"b": 1.5}, r"either lut or"),
])
def test_adapter_errors(change, match):
    a = _adapter(n=5, lanes=2, max_length=8)
    vectors = {"x": np.zeros((2, 4), int), "w": np.zeros((2, 4), int),
               "lut": np.zeros(64, int)}
    vectors.update(change)
    vectors = {k: v for k, v in vectors.items() if v is not None}
    with pytest.raises(ValueError, match=match):
        a.encode(vectors)


def test_adapter_rejects_rows_beyond_max_length():
    a = _adapter(n=5, lanes=2, max_length=8)
    with pytest.raises(ValueError, match=r"length=9 is out of range: allowed \[1, max_length=8\]"):
        a.encode({"x": np.zeros((1, 9), int), "w": np.zeros((1, 9), int),
                  "lut": np.zeros(64, int)})
