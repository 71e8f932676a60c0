"""golden.quant (uniform affine quantization), golden.mac (dot product), golden.fc."""

import numpy as np
import pytest

from quantrtl.golden.fc import activation_range, effective_multipliers
from quantrtl.golden.mac import dot_product
from quantrtl.golden.quant import calibrate, dequantize, quantize


def test_symmetric_per_tensor_weights():
    w = np.array([[-0.5, 0.25], [1.27, -1.0]])
    p = calibrate(w, symmetric=True)
    assert (p.qmin, p.qmax) == (-127, 127) and p.zero_point == 0
    assert p.scale == pytest.approx(1.27 / 127)
    q = quantize(w, p)
    assert q.tolist() == [[-50, 25], [127, -100]]
    assert np.max(np.abs(dequantize(q, p) - w)) <= p.scale / 2 + 1e-12


def test_symmetric_per_channel():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(8, 16)) * np.arange(1, 9)[:, None]
    p = calibrate(w, symmetric=True, axis=0)
    assert p.scale.shape == (8,)
    q = quantize(w, p)
    assert np.all(np.abs(q).max(axis=1) == 127)          # every channel uses its full range
    err = np.abs(dequantize(q, p) - w)
    assert np.all(err <= p.scale[:, None] / 2 + 1e-12)


def test_asymmetric_activations_represent_zero_exactly():
    x = np.array([0.1, 0.7, 2.3, 5.9])                    # all positive: range widened to 0
    p = calibrate(x, symmetric=False)
    assert (p.qmin, p.qmax) == (-128, 127)
    assert dequantize(quantize(np.zeros(3), p), p).tolist() == [0.0, 0.0, 0.0]
    assert quantize(np.array([0.0]), p)[0] == p.zero_point == -128
    err = np.abs(dequantize(quantize(x, p), p) - x)
    assert np.all(err <= p.scale / 2 + 1e-12)


def test_asymmetric_per_channel_and_saturation():
    x = np.stack([np.linspace(-1, 3, 50), np.linspace(-6, 0.5, 50)], axis=1)
    p = calibrate(x, symmetric=False, axis=1)
    assert p.zero_point.shape == (2,)
    assert quantize(np.array([[100.0, -100.0]]), p).tolist() == [[127, -128]]


def test_rounding_is_half_away_from_zero():
    p = calibrate(np.array([-127.0, 127.0]), symmetric=True)  # scale 1
    assert quantize(np.array([0.5, -0.5, 1.5, -2.5]), p).tolist() == [1, -1, 2, -3]


def test_all_zero_tensor():
    p = calibrate(np.zeros(4), symmetric=False)
    assert p.scale == 1.0 and dequantize(quantize(np.zeros(4), p), p).tolist() == [0.0] * 4


@pytest.mark.parametrize("kwargs, message", [
    ({"bits": 1}, r"bits=1 is out of range: allowed \[2, 16\]"),
    ({"axis": 3}, r"axis=3 is out of range: allowed \[-2, 1\]"),
    ({"symmetric": "yes"}, r"symmetric='yes' is not a boolean"),
])
def test_calibrate_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        calibrate(np.ones((2, 2)), **{"symmetric": True, **kwargs})


def test_dequantize_rejects_codes_outside_the_range():
    p = calibrate(np.ones(3), symmetric=True)
    with pytest.raises(ValueError, match=r"q\[1\]=-128 is out of range: allowed \[-127, 127\]"):
        dequantize(np.array([0, -128]), p)


# golden.mac --------------------------------------------------------------------------

def test_dot_product_exact():
    rng = np.random.default_rng(3)
    a = rng.integers(-128, 128, (50, 64))
    w = rng.integers(-128, 128, (50, 64))
    bias = rng.integers(-1000, 1000, 50)
    got = dot_product(a, w, input_offset=128, bias=bias)
    expected = [int(b) + sum((int(x) + 128) * int(y) for x, y in zip(ra, rw))
                for ra, rw, b in zip(a, w, bias)]
    assert got.tolist() == expected


def test_dot_product_wraps_and_saturates():
    a = np.full((1, 4), -128)
    w = np.full((1, 4), -128)                             # 4 * 16384 = 65536
    assert dot_product(a, w, acc_width=17).tolist() == [65536 - 2**17]
    assert dot_product(a, w, acc_width=17, overflow="saturate").tolist() == [2**16 - 1]
    # Saturation is per beat, so the grouping into lanes matters: one lane saturates after
    # the third product and then subtracts the fourth; four lanes saturate the whole sum.
    a2 = np.array([[127, 127, 127, -128]])
    w2 = np.array([[127, 127, 127, 127]])
    bias = 2**16 - 20000
    one = dot_product(a2, w2, bias=bias, acc_width=17, overflow="saturate", lanes=1)
    four = dot_product(a2, w2, bias=bias, acc_width=17, overflow="saturate", lanes=4)
    assert one.tolist() == [2**16 - 1 - 16256] and four.tolist() == [2**16 - 1]


@pytest.mark.parametrize("kwargs, message", [
    ({"a": [[128]]}, r"a\[0, 0\]=128 is out of range: allowed \[-128, 127\]"),
    ({"input_offset": 256}, r"input_offset=256 is out of range: allowed \[-256, 255\]"),
    ({"acc_width": 16}, r"acc_width=16 is out of range: allowed \[17, 64\]"),
    ({"lanes": 3}, r"length=4 is out of range: allowed a positive multiple of lanes=3"),
    ({"overflow": "clip"}, r"overflow='clip' is not allowed"),
    ({"bias": 2**31}, r"bias=2147483648 is out of range"),
])
def test_dot_product_errors(kwargs, message):
    args = {"a": [[1, 2, 3, 4]], "w": [[1, 2, 3, 4]], **kwargs}
    with pytest.raises(ValueError, match=message):
        dot_product(**args)


# golden.fc ---------------------------------------------------------------------------

def test_activation_ranges():
    assert activation_range("none", 0.1, 5) == (-128, 127)
    assert activation_range("relu", 0.1, 5) == (5, 127)
    assert activation_range("relu6", 0.1, -100) == (-100, -40)
    assert activation_range("relu6", 6 / 255, -128) == (-128, 127)
    with pytest.raises(ValueError, match="activation='gelu' is not allowed"):
        activation_range("gelu", 0.1, 0)


def test_effective_multipliers_use_float32_scales():
    m, s = effective_multipliers(0.5, [0.25, 0.125], 1.0)
    assert m.tolist() == [2**30, 2**30] and s.tolist() == [-2, -3]
