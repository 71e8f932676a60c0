"""golden.requant: TFLite's QuantizeMultiplier and MultiplyByQuantizedMultiplier."""

import math

import numpy as np
import pytest

from quantrtl.golden.requant import (MULTIPLIER_MAX, MULTIPLIER_MIN, RoundingMode,
                            multiply_by_quantized_multiplier, quantize_multiplier, requantize)
from quantrtl.golden.scalar import requantize_loop

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
MODES = ["double", "single"]


def _tflite_quantize_multiplier(real):
    """QuantizeMultiplier written from TFLite's C++ with math.frexp (for the single build)."""
    if real == 0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(math.floor(abs(q * 2**31) + 0.5)) * (1 if q >= 0 else -1)
    if q_fixed == 2**31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        return 2**31 - 1, 30
    return q_fixed, shift


@pytest.mark.parametrize("real, expected", [
    (0.0, (0, 0)),
    (0.5, (2**30, 0)),
    (1.0, (2**30, 1)),
    (0.01, (1374389535, -6)),                    # the course slides' example, rounded
    (1 - 2**-40, (2**30, 1)),                    # q rounds up to 2^31: halve and bump shift
    (2**-31, (2**30, -30)),
    (2**-32, (2**30, -31)),                      # smallest representable
    (2**-33, (0, 0)),                            # shift < -31: flushed to zero
    (1e-300, (0, 0)),
    (2**30 * 0.75, (3 * 2**29, 30)),             # largest shift
])
def test_quantize_multiplier_edge_cases(real, expected):
    assert quantize_multiplier(real, "double") == expected
    assert quantize_multiplier(real, "single") == expected


def test_quantize_multiplier_large():
    # shift > 30: the single-rounding build saturates, the double one cannot be applied.
    assert quantize_multiplier(2.0**31, "single") == (2**31 - 1, 30)
    assert quantize_multiplier(1e12, "single") == (2**31 - 1, 30)
    with pytest.raises(ValueError, match=r"real_multiplier=.* out of range"):
        quantize_multiplier(2.0**31, "double")


@pytest.mark.parametrize("bad", [-0.5, float("nan"), float("inf")])
def test_quantize_multiplier_rejects(bad):
    with pytest.raises(ValueError, match="real_multiplier"):
        quantize_multiplier(bad)


def test_quantize_multiplier_matches_cpp_transcription():
    rng = np.random.default_rng(7)
    reals = np.concatenate([np.exp(rng.uniform(-25, 5, 20000)), rng.uniform(0, 1, 5000),
                            2.0 ** np.arange(-34, 30)])
    m, s = quantize_multiplier(reals, "single")
    expected = np.array([_tflite_quantize_multiplier(float(r)) for r in reals])
    assert np.array_equal(m, expected[:, 0]) and np.array_equal(s, expected[:, 1])
    nonzero = m != 0
    assert np.all((m[nonzero] >= MULTIPLIER_MIN) & (m[nonzero] <= MULTIPLIER_MAX))
    # M0 * 2^(shift - 31) approximates the real to within half a unit of M0.
    approx = m[nonzero] * 2.0 ** (s[nonzero] - 31.0)
    assert np.all(np.abs(approx - reals[nonzero]) <= 2.0 ** (s[nonzero] - 32.0) * 1.0000001)


def _corner_and_random(rng, n=20000):
    accs = np.array([INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX])
    mults = np.array([0, MULTIPLIER_MIN, MULTIPLIER_MIN + 1, MULTIPLIER_MAX])
    shifts = np.arange(-31, 31)
    grid = [g.ravel() for g in np.meshgrid(accs, mults, shifts, indexing="ij")]
    rand = [rng.integers(INT32_MIN, INT32_MAX, n, endpoint=True) >> rng.integers(0, 32, n),
            rng.integers(MULTIPLIER_MIN, MULTIPLIER_MAX, n, endpoint=True),
            rng.integers(-31, 31, n)]
    return [np.concatenate([g, r]) for g, r in zip(grid, rand)]


@pytest.mark.parametrize("mode", MODES)
def test_requantize_matches_scalar_transcription(mode):
    """The vectorised model equals the line-by-line C++ transcription on corners (every
    shift, INT32 extremes, multiplier extremes and 0) and random vectors."""
    acc, mult, shift = _corner_and_random(np.random.default_rng(11))
    for zp, qmin, qmax in [(0, INT32_MIN, INT32_MAX), (-128, -128, 127), (5, -3, 9)]:
        got = requantize(acc, mult, shift, zp, qmin, qmax, mode)
        assert got.tolist() == requantize_loop(acc, mult, shift, zp, qmin, qmax, mode)


def test_rounding_ties():
    # M = 0.25.  5 * 0.25 = 1.25: double rounding rounds 2.5 up to 3, then 1.5 away from
    # zero to 2; -6 * 0.25 = -1.5: a tie, away from zero (double) or toward +inf (single).
    acc = np.array([5, -5, 3, -3, 6, -6])
    assert requantize(acc, 2**30, -1, rounding="double").tolist() == [2, -1, 1, -1, 2, -2]
    assert requantize(acc, 2**30, -1, rounding="single").tolist() == [1, -1, 1, -1, 2, -1]
    # Exact halves: single rounds ties toward +inf, double's final shift away from zero.
    half = np.array([1, -1, 3, -3])  # x * 0.5 with shift 0 -> +-0.5, +-1.5
    assert multiply_by_quantized_multiplier(half, 2**30, 0, "single").tolist() == [1, 0, 2, -1]
    assert multiply_by_quantized_multiplier(half, 2**30, 0, "double").tolist() == [1, 0, 2, -1]
    quarter = np.array([2, -2, 6, -6])  # x * 0.5 * 2^-1 -> +-0.5, +-1.5 via the final shift
    assert multiply_by_quantized_multiplier(quarter, 2**30, -1, "double").tolist() == [1, -1, 2, -2]
    assert multiply_by_quantized_multiplier(quarter, 2**30, -1, "single").tolist() == [1, 0, 2, -1]


def test_overflow_wraps_are_stated():
    # double: x << 30 wraps in 32 bits before the multiply; single: the result wraps.
    assert multiply_by_quantized_multiplier(3, 2**30, 30, "double") == \
        multiply_by_quantized_multiplier(((3 << 30) + 2**31) % 2**32 - 2**31, 2**30, 0, "double")
    big = multiply_by_quantized_multiplier(INT32_MAX, MULTIPLIER_MAX, 30, "single")
    assert INT32_MIN <= big <= INT32_MAX
    exact = (INT32_MAX * MULTIPLIER_MAX + 1) >> 1
    assert big == ((exact + 2**31) % 2**32) - 2**31


def test_requantize_broadcasts_per_channel():
    acc = np.arange(-600, 600, 7).reshape(-1, 4)
    m, s = quantize_multiplier(np.array([0.01, 0.02, 0.5, 0.003]))
    per_channel = requantize(acc, m, s, 3, -128, 127)
    for c in range(4):
        assert np.array_equal(per_channel[:, c], requantize(acc[:, c], m[c], s[c], 3, -128, 127))
    assert per_channel.shape == acc.shape


@pytest.mark.parametrize("kwargs, message", [
    ({"acc": 2**31}, r"acc=2147483648 is out of range: allowed \[-2147483648, 2147483647\]"),
    ({"multiplier": 2**30 - 1}, r"multiplier=1073741823 is out of range: allowed 0 or"),
    ({"multiplier": -5}, r"multiplier=-5 is out of range"),
    ({"shift": 31}, r"shift=31 is out of range: allowed \[-31, 30\]"),
    ({"shift": np.array([0, -32])}, r"shift\[1\]=-32 is out of range: allowed \[-31, 30\]"),
    ({"qmin": 10, "qmax": 5}, r"qmin=10 is out of range: allowed \[-2147483648, qmax=5\]"),
    ({"rounding": "nearest"}, r"rounding='nearest' is not allowed: allowed \{double, single\}"),
    ({"acc": 1.5}, r"acc must hold integers"),
])
def test_requantize_errors_name_the_parameter(kwargs, message):
    args = {"acc": 100, "multiplier": 2**30, "shift": -3, **kwargs}
    with pytest.raises(ValueError, match=message):
        requantize(**args)


def test_rounding_mode_enum():
    assert RoundingMode("double") is RoundingMode.DOUBLE and str(RoundingMode.SINGLE) == "single"
