"""The golden model's input checks: NaN, infinity and complex input, bad quantization
parameters, integers beyond int64, Huffman streams that claim more than they hold, DQA's
``important``, DNA-TEQ's int64 bound.  Each bad value is a ``ValueError`` naming it."""

import tracemalloc

import numpy as np
import pytest

import quantrtl.experiments.dnateq_search as ds
from quantrtl.golden import dnateq as dnateq
from quantrtl.golden import dqa as dqa
from quantrtl.golden import fc as fc
from quantrtl.golden import huffman as huffman
from quantrtl.golden import quant as quant
from quantrtl.golden import requant as requant
from quantrtl.spec import check_array_range, check_integer_array, check_real_array

EXP = dnateq.ExpParams(1.5, 0.2, 0.01, 4)
QP = quant.calibrate(np.array([1.0, -2.0]), symmetric=True)

QUANTIZERS = {
    "quant.quantize": lambda x: quant.quantize(x, QP),
    "quant.calibrate": lambda x: quant.calibrate(x, symmetric=False),
    "dnateq.quantize": lambda x: dnateq.quantize(x, EXP),
    "dnateq_search.search_tensor": lambda x: ds.search_tensor(x, 4, 1.5),
    "dnateq_search.rounding_cost": lambda x: ds.rounding_cost(x, EXP),
    "dqa.quantize": lambda x: dqa.quantize(np.reshape(x, (1, -1)), 1.0, [0], 4, 3),
    "dqa.calibrate_scale": lambda x: dqa.calibrate_scale(np.reshape(x, (1, -1)), 4),
    "requant.quantize_multiplier": requant.quantize_multiplier,
}
BAD_REALS = {
    "nan": ([0.5, np.nan], r"\[(0, )?1\]=nan is not finite|real_multiplier=nan"),
    "inf": ([np.inf, 0.5], r"\[(0, )?0\]=inf is not finite|real_multiplier=inf"),
    "-inf": ([0.5, -np.inf], r"\[(0, )?1\]=-inf is not finite|real_multiplier=-inf"),
    "complex": ([0.5 + 1j, 0.25], "complex values"),
    "text": (["a", "b"], "real number"),
}


@pytest.mark.parametrize("bad", BAD_REALS)
@pytest.mark.parametrize("quantizer", QUANTIZERS)
def test_every_quantizer_rejects_nan_infinity_and_complex(quantizer, bad):
    value, message = BAD_REALS[bad]
    with pytest.raises(ValueError, match=message):
        QUANTIZERS[quantizer](np.array(value) if bad != "text" else value)


@pytest.mark.parametrize("scale, zero_point, message", [
    (0.0, 0, r"scale=0.0 is out of range: allowed finite and above 0"),
    (-1.0, 0, r"scale=-1.0 is out of range"),
    (np.nan, 0, r"scale=nan is not finite"),
    (np.inf, 0, r"scale=inf is not finite"),
    (1.0 + 2j, 0, "scale holds complex values"),
    (1.0, 200, r"zero_point=200 is out of range: allowed \[-127, 127\]"),
    (1.0, 0.5, "zero_point must hold integers"),
])
def test_quantization_parameters_are_validated(scale, zero_point, message):
    with pytest.raises(ValueError, match=message):
        quant.QuantParams(np.array(scale), np.array(zero_point), -127, 127)


def test_per_channel_parameters_must_match_the_tensor():
    p = quant.calibrate(np.ones((3, 4)), symmetric=True, axis=1)
    assert quant.quantize(np.ones((2, 4)), p).shape == (2, 4)
    with pytest.raises(ValueError, match="has 5 channels on axis 1, the parameters 4"):
        quant.quantize(np.ones((2, 5)), p)
    with pytest.raises(ValueError, match="qmin=5 and qmax=5"):
        quant.QuantParams(np.array(1.0), np.array(5), 5, 5)


@pytest.mark.parametrize("params", [(float("nan"), 0.2, 0.01), (1.5, float("inf"), 0.01),
                                    (1.5, 0.2, complex(1, 1)), (1.5, 0.0, 0.01),
                                    (1.0, 0.2, 0.01), (1.5, 0.2, -0.1)])
def test_exponential_parameters_are_validated(params):
    with pytest.raises(ValueError, match=r"(b|alpha|beta)=.* is (out of range|not a real)"):
        dnateq.ExpParams(*params, 4)


@pytest.mark.parametrize("value, message", [
    ([2**63], r"acc\[0\]=9223372036854775808 is out of range: allowed \[0, 10\]"),
    ([2**64], r"acc\[0\]=18446744073709551616 is out of range"),
    ([5, -2**64], r"acc\[1\]=-18446744073709551616 is out of range"),
    ([3, 2**63 + 5], r"acc\[1\]=9223372036854775813 is out of range"),      # not float64
    (np.array([2**63], dtype=np.uint64), r"acc\[0\]=9223372036854775808 is out"),
    (np.array([1e20]), r"acc\[0\]=1e\+20 is out of range"),
    (2**70, r"acc=1180591620717411303424 is out of range"),
    ([1, 2.5], r"acc must hold integers, got acc\[1\]=2.5"),
    ([[1], [1, 2]], "acc must hold integers"),
    (np.array([1 + 1j]), "acc must hold integers, got dtype complex128"),
])
def test_values_beyond_int64_are_reported_as_given(value, message):
    with pytest.raises(ValueError, match=message):
        check_array_range("acc", value, 0, 10)


def test_exact_integers_near_int64_are_kept():
    """A Python list of ints above 2^53 would become float64 in NumPy: kept exact."""
    big = [2**62 + 1, 2**63 - 1, -(2**63)]
    assert check_integer_array("v", big).tolist() == big
    assert check_array_range("v", [2**53 + 1], 0, 2**60).tolist() == [2**53 + 1]
    with pytest.raises(ValueError, match=r"v\[0\]=nan is not finite"):
        check_real_array("v", [float("nan")])


def test_requantizer_reports_a_huge_accumulator_as_given():
    with pytest.raises(ValueError, match=r"acc\[0\]=36893488147419103232 is out of range"):
        requant.requantize([2**65], 2**30, -1, 0, -128, 127)


def test_filter_scales_are_checked():
    with pytest.raises(ValueError, match="filter_scales"):
        fc.effective_multipliers(0.1, [0.1, np.nan], 0.2)
    with pytest.raises(ValueError, match="output_scale=0.0 is out of range"):
        fc.effective_multipliers(0.1, [0.1], 0.0)
    assert fc.effective_multipliers(0.1, [0.0, 0.1], 0.2)[0][0] == 0   # all-zero channel


CODE = huffman.build_code(np.array([0, 1, 1, 2, 2, 2]), 8, alphabet_size=16)


def test_huffman_decode_fails_fast_on_a_huge_claimed_count():
    """Memory follows the stream, not the claimed count (2^40 symbols from 10 words)."""
    enc = huffman.encode(np.array([0, 1, 2, 2] * 40), CODE, 64)
    tracemalloc.start()
    try:
        for decoder in (huffman.decode, huffman.decode_bitwise):
            with pytest.raises(huffman.HuffmanDecodeError, match="truncated") as err:
                decoder(enc.words, CODE, 2**40, 64)
            assert err.value.symbols.size < 1000
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 << 20, peak


def test_huffman_decode_needs_no_table_of_2_to_max_length():
    """``max_length = 32``: a 2^32-entry table would need 64 GiB; the canonical match needs
    memory linear in the stream."""
    code = huffman.CanonicalCode.from_lengths(np.array([1, 2, 3, 32, 32, 4, 5]), 32)
    symbols = np.array([3, 4, 0, 1, 2, 6, 5, 4, 3] * 7)
    enc = huffman.encode(symbols, code, 64)
    tracemalloc.start()
    try:
        out = huffman.decode(enc.words, code, enc.count, 64)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.array_equal(out, symbols) and peak < 5 << 20, peak
    assert np.array_equal(huffman.decode_bitwise(enc.words, code, enc.count, 64), symbols)


def test_decode_bitwise_is_exact_for_64_bit_python_lists():
    rng = np.random.default_rng(3)
    symbols = np.concatenate([np.full(64, 2), rng.integers(0, 3, 500)])   # word 0 is 0
    enc = huffman.encode(symbols, CODE, 64)
    as_list = [int(w) for w in enc.words]
    assert any(w >= 2**63 for w in as_list) and as_list[0] == 0   # NumPy: float64
    for decoder in (huffman.decode, huffman.decode_bitwise):
        assert np.array_equal(decoder(as_list, CODE, enc.count, 64), symbols)
        assert np.array_equal(decoder([np.uint64(w) for w in as_list], CODE, enc.count, 64),
                              symbols)
    with pytest.raises(ValueError, match=r"words\[0\]=18446744073709551616 is out of range"):
        huffman.decode_bitwise([2**64], CODE, 1, 64)
    with pytest.raises(ValueError, match=r"words\[1\]=-1 is out of range"):
        huffman.decode_bitwise([0, -1], CODE, 1, 64)
    with pytest.raises(ValueError, match=r"words\[0\]=True is not an integer"):
        huffman.decode([True], CODE, 1, 64)


@pytest.mark.parametrize("important", [[0.0], np.array([1.0, 0.0, 1.0]), ["0"],
                                       np.array([0.5])])
def test_dqa_important_rejects_floats_and_text(important):
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="important must be a boolean mask"):
        dqa.quantize(x, 1.0, important, 4, 3)


def test_dqa_important_mask_or_indices():
    x = np.array([[0.3, -0.7, 0.9]])
    mask = dqa.quantize(x, 0.1, np.array([True, False, True]), 4, 3)
    idx = dqa.quantize(x, 0.1, [2, 0], 4, 3)
    assert all(np.array_equal(a, b) for a, b in zip(mask, idx))
    assert np.array_equal(dqa.quantize(x, 0.1, [], 4, 3)[1], np.zeros((1, 3)))
    # a 0/1 integer array is indices, as documented, never a mask
    assert np.array_equal(dqa.quantize(x, 0.1, np.array([1, 0, 1]), 4, 3)[1] != 0,
                          dqa.quantize(x, 0.1, [0, 1], 4, 3)[1] != 0)
    with pytest.raises(ValueError, match=r"important\[0\]=3 is out of range"):
        dqa.quantize(x, 0.1, [3], 4, 3)
    with pytest.raises(ValueError, match=r"important mask must be \[3\]"):
        dqa.quantize(x, 0.1, np.array([True, False]), 4, 3)


def test_dnateq_dot_product_is_exact_or_errors():
    lut = np.full(dnateq.num_entries(4), 2**47)
    with pytest.raises(ValueError, match="may exceed int64"):
        # one activation code broadcast over a million weights: the bound is the
        # broadcast length, not cx's own
        dnateq.dot_product(np.array([1]), np.ones(10**6, dtype=np.int64), lut, n=4)
    cx = np.ones(2**13, dtype=np.int64)
    r = dnateq.dot_product(cx, cx, lut, n=4)
    counts = dnateq.counters(cx, cx, 4)
    assert int(r) == sum(int(c) * (2**47) for c in counts)        # exact in Python ints
