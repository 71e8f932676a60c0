"""The DNA-TEQ cocotb testbench (tb/test_dnateq.py) on both simulators.

Each simulator builds three parameter sets; together they build every ``n`` from 3 to 7
natively, and every set also runs every narrower code width (3..n) through widened codes,
so each simulator checks every code width on the n = 7 build.
"""

import numpy as np
import pytest

from tb.runner import simulate

DNATEQ_PARAMS = {
    "verilator": [
        {"n": 3, "lanes": 1, "max_length": 64, "lut_width": 12, "frac_bits": 8, "pp_lanes": 2},
        {"n": 5, "lanes": 2, "max_length": 150, "pp_lanes": 8},
        {"n": 7, "lanes": 1, "max_length": 64, "lut_width": 20, "frac_bits": 12,
         "pp_lanes": 64},
    ],
    "icarus": [
        {"n": 4, "lanes": 4, "max_length": 256, "lut_width": 16, "frac_bits": 10,
         "pp_lanes": 32},
        {"n": 6, "lanes": 2, "max_length": 48, "pp_lanes": 8},
        {"n": 7, "lanes": 1, "max_length": 64, "lut_width": 24, "frac_bits": 16,
         "pp_lanes": 16},
    ],
}


@pytest.mark.sim
@pytest.mark.parametrize("index", range(3))
def test_dnateq(sim, index):
    params = DNATEQ_PARAMS.get(sim, DNATEQ_PARAMS["verilator"])[index]
    simulate("dnateq", params, "tb.test_dnateq", sim=sim)


# ---- no simulator needed: parameter and vector-set checks of the block and its adapter

from golden import dnateq as g  # noqa: E402
from hw.dnateq import DnaTeqDotProduct  # noqa: E402
from tb.adapters import adapter_for  # noqa: E402


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
    want = [g.dot_product(wide_x[r, :n], wide_w[r, :n], vectors["lut"], n=5)
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
    assert np.array_equal(a.lut(vectors), g.make_lut(px, pw, frac_bits=10, lut_width=20))


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
