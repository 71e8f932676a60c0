"""Property-based tests (Hypothesis) of the golden models and the input validators.

Round trips, requantization against the scalar reference (``golden.scalar``), the MAC
against Python integers, Huffman optimality (brute force on small alphabets) and
prefix-freedom, the vectorised decoder against the bit-by-bit one, the beat-level
reference model against ``from_description``, and every validator naming the field of a
bad value.  The profile is ``ci`` (derandomized: the same examples every run, bounded for
``make test``) unless ``HYPOTHESIS_PROFILE=fuzz`` (``make fuzz``: many more, random; a
failure prints its ``@reproduce_failure`` blob).
"""

import itertools
import math
import os
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reference import huffman_cost
from quantrtl.golden import dnateq, dqa, huffman, mac, quant, requant, scalar
from quantrtl.blocks import BLOCKS
from quantrtl.spec import check_array_range, check_real_array

settings.register_profile("ci", max_examples=60, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", deadline=None, print_blob=True,
                          max_examples=int(os.environ.get("QUANTRTL_FUZZ_EXAMPLES", 2000)),
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

INT32 = st.integers(-(1 << 31), (1 << 31) - 1)


# ---- quantization round trips ----

@st.composite
def quant_params(draw):
    bits = draw(st.integers(2, 16))
    qmin, qmax = -(1 << bits - 1), (1 << bits - 1) - 1
    scale = draw(st.floats(1e-6, 1e3, allow_nan=False, allow_infinity=False))
    zero_point = draw(st.integers(qmin, qmax))
    return quant.QuantParams(np.array(scale), np.array(zero_point), qmin, qmax)


@given(quant_params(), st.data())
def test_quantize_dequantize_round_trip(p, data):
    """``quantize(dequantize(q)) == q`` for every code, and a real value inside the range
    comes back within half a step."""
    q = np.array(data.draw(st.lists(st.integers(p.qmin, p.qmax), min_size=1, max_size=50)))
    assert np.array_equal(quant.quantize(quant.dequantize(q, p), p), q)
    lo = (p.qmin - int(p.zero_point)) * float(p.scale)
    hi = (p.qmax - int(p.zero_point)) * float(p.scale)
    x = np.array(data.draw(st.lists(st.floats(lo, hi), min_size=1, max_size=50)))
    err = np.abs(quant.dequantize(quant.quantize(x, p), p) - x)
    assert np.all(err <= float(p.scale) * (0.5 + 1e-9) + 1e-12 * np.abs(x))


@given(st.integers(3, 5), st.integers(1, 4), st.data())
def test_dqa_join_round_trip(n, m, data):
    """DQA: ``(q << m) + err`` of the quantized value is the value at ``n + m`` bits,
    ``x_hat`` within half a fine step on important channels (inside the range)."""
    channels = data.draw(st.integers(1, 8))
    important = np.array(data.draw(st.lists(st.booleans(), min_size=channels,
                                            max_size=channels)))
    s = data.draw(st.floats(1e-3, 10))
    hi = ((1 << (n - 1)) - 1) * s
    x = np.array(data.draw(st.lists(st.floats(-hi, hi), min_size=channels,
                                    max_size=channels)))[None, :]
    q, err = dqa.quantize(x, s, important, n, m)
    x_hat = dqa.dequantize(q, err, s, important, n, m)
    step = np.where(important, s / (1 << m), s)
    assert np.all(np.abs(x_hat - x) <= step * (0.5 + 1e-9))


@given(st.integers(3, 7), st.data())
def test_dnateq_levels_round_trip(n, data):
    """DNA-TEQ: every code's level quantizes back to the same code (the zero code and the
    ``2^n - 1`` signed exponent levels), under the linear rounding."""
    alpha = data.draw(st.floats(1e-3, 10))
    beta = data.draw(st.floats(0, 1e-2))
    b = data.draw(st.floats(1.05, 3.0))
    p = dnateq.ExpParams(n=n, b=b, alpha=alpha, beta=beta)
    codes = np.arange(1 << n)
    assert np.array_equal(dnateq.quantize(dnateq.dequantize(codes, p), p), codes)


@given(st.integers(3, 6), st.data())
def test_dnateq_dot_product_is_the_counter_identity(n, data):
    """``dot_product`` = the counters times the LUT in Python integers (exact)."""
    length = data.draw(st.integers(1, 40))
    codes = st.lists(st.integers(0, (1 << n) - 1), min_size=length, max_size=length)
    cx, cw = np.array(data.draw(codes)), np.array(data.draw(codes))
    lut = [data.draw(st.integers(0, (1 << 48) - 1)) for _ in range(dnateq.num_entries(n))]
    cnt = dnateq.counters(cx, cw, n)
    want = sum(int(c) * v for c, v in zip(cnt, lut))
    got = dnateq.dot_product(cx, cw, np.array(lut), n=n)
    assert int(got) == want


# ---- requantizer and MAC ----

@given(st.lists(INT32, min_size=1, max_size=20),
       st.one_of(st.just(0), st.integers(1 << 30, (1 << 31) - 1)), st.integers(-31, 30),
       st.integers(-128, 127), st.sampled_from(["single", "double"]), st.data())
def test_requantize_matches_the_scalar_reference(acc, multiplier, shift, zero_point,
                                                 rounding, data):
    qmin = data.draw(st.integers(-(1 << 31), (1 << 31) - 1))
    qmax = data.draw(st.integers(qmin, (1 << 31) - 1))
    got = requant.requantize(np.array(acc), multiplier, shift, zero_point, qmin, qmax,
                             rounding)
    want = scalar.requantize_loop(acc, [multiplier] * len(acc), [shift] * len(acc),
                                  zero_point, qmin, qmax, rounding)
    assert got.tolist() == want


@given(st.integers(2, 12), st.data())
def test_mac_dot_product_matches_python_integers(width, data):
    """``bias + sum((a + offset) * w)`` wrapped to ``acc_width`` bits, as Python ints."""
    acc_width = data.draw(st.integers(2 * width + 1, 64))
    k = data.draw(st.integers(1, 16))
    lo, hi = -(1 << width - 1), (1 << width - 1) - 1
    vec = st.lists(st.integers(lo, hi), min_size=k, max_size=k)
    a, w = data.draw(vec), data.draw(vec)
    offset = data.draw(st.integers(-(1 << width), (1 << width) - 1))
    bias = data.draw(st.integers(-(1 << acc_width - 1), (1 << acc_width - 1) - 1))
    total = bias + sum((x + offset) * y for x, y in zip(a, w))
    total = (total + (1 << acc_width - 1)) % (1 << acc_width) - (1 << acc_width - 1)
    got = mac.dot_product(np.array(a), np.array(w), input_offset=offset, bias=bias,
                          width=width, acc_width=acc_width)
    assert int(got) == total


# ---- Huffman ----


HISTS = st.lists(st.integers(0, 1000), min_size=1, max_size=32).filter(lambda h: any(h))


@given(HISTS, st.integers(1, 16))
def test_code_lengths_are_optimal_and_prefix_free(hist, max_length):
    """Package-merge: Kraft <= 1, lengths <= max_length, a code for exactly the used
    symbols, cost equal to Huffman's when the limit does not bind, never below it; the
    canonical codes are prefix-free."""
    used = sum(1 for h in hist if h)
    assume(used <= 1 << max_length)
    lengths = huffman.code_lengths(np.array(hist), max_length)
    assert huffman.kraft_sum(lengths) <= 1
    assert lengths.max() <= max_length
    assert all((l > 0) == (h > 0) for l, h in zip(lengths, hist))
    cost = int(np.dot(hist, lengths))
    best = huffman_cost(hist)
    assert cost >= best
    unlimited = huffman.code_lengths(np.array(hist), 32) if used > 1 else lengths
    if unlimited.max() <= max_length:
        assert cost == best
    code = huffman.CanonicalCode.from_lengths(lengths, max_length)
    words = [format(int(code.codes[s]), f"0{int(code.lengths[s])}b")
             for s in range(len(hist)) if code.lengths[s]]
    for u, v in itertools.permutations(words, 2):
        assert not v.startswith(u)


@given(st.lists(st.integers(1, 200), min_size=2, max_size=5), st.integers(2, 4))
def test_code_lengths_beat_every_length_assignment(hist, max_length):
    """Brute force on small alphabets: no prefix code with lengths <= max_length costs
    less than package-merge's."""
    assume(len(hist) <= 1 << max_length)
    lengths = huffman.code_lengths(np.array(hist), max_length)
    best = min(sum(h * l for h, l in zip(hist, ls))
               for ls in itertools.product(range(1, max_length + 1), repeat=len(hist))
               if sum(2.0 ** -l for l in ls) <= 1)
    assert int(np.dot(hist, lengths)) == best


@given(st.lists(st.integers(0, 15), min_size=0, max_size=300), st.integers(1, 16),
       st.sampled_from([16, 32, 64]))
def test_encode_decode_round_trip(symbols, max_length, word_width):
    symbols = np.array(symbols, dtype=np.int64)
    assume(symbols.size == 0 or np.unique(symbols).size <= 1 << max_length)
    code = huffman.build_code(symbols if symbols.size else np.array([0]), max_length,
                              alphabet_size=16)
    enc = huffman.encode(symbols, code, word_width)
    assert np.array_equal(huffman.decode(enc.words, code, enc.count, word_width), symbols)
    assert np.array_equal(huffman.decode_bitwise(enc.words.tolist(), code, enc.count,
                                                 word_width), symbols)


def _outcome(decoder, *args):
    try:
        return decoder(*args).tolist(), None
    except huffman.HuffmanDecodeError as exc:
        return exc.symbols.tolist(), (exc.kind, exc.position)


@given(st.lists(st.integers(1, 6), min_size=1, max_size=10), st.data())
def test_decoders_agree_on_random_words(lengths, data):
    """The vectorised decoder and the bit-by-bit one: same symbols, same error kind and
    position, on random (mostly invalid or truncated) streams and counts."""
    assume(huffman.kraft_sum(lengths) <= 1)
    code = huffman.CanonicalCode.from_lengths(np.array(lengths), 6)
    width = data.draw(st.sampled_from([16, 32, 64]))
    words = data.draw(st.lists(st.integers(0, (1 << width) - 1), max_size=6))
    count = data.draw(st.integers(0, 80))
    assert _outcome(huffman.decode, words, code, count, width) == \
        _outcome(huffman.decode_bitwise, words, code, count, width)


@given(st.lists(st.integers(0, 4), min_size=5, max_size=5), st.data())
def test_reference_model_accepts_the_tables_from_description_accepts(counts, data):
    """A table loaded beat by beat is accepted by the decoder's model exactly when
    ``from_description`` (plus Kraft) accepts the same counts and symbols."""
    from quantrtl.vectors.huffman_model import PROTOCOL, reference_outcome
    counts = [0] + counts[1:]
    size = data.draw(st.one_of(st.just(sum(counts)), st.integers(0, 16)))
    symbols = data.draw(st.lists(st.integers(0, 15), min_size=size, max_size=size))
    beats = ([(1, l, c, 0) for l, c in enumerate(counts) if l]
             + [(2, k, s, 0) for k, s in enumerate(symbols)] + [(3, 0, 0, 1)])
    try:
        huffman.CanonicalCode.from_description(counts, symbols, 16, 4)
        want = 0
    except ValueError:
        want = PROTOCOL
    assert reference_outcome(beats, 4, 4, 32).kind == want


# ---- validators name the field ----

NAMES = st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True)


@given(NAMES, st.integers(-1000, 1000), st.integers(0, 100), st.data())
def test_out_of_range_elements_are_named(name, lo, span, data):
    hi = lo + span
    size = data.draw(st.integers(1, 20))
    values = data.draw(st.lists(st.integers(lo, hi), min_size=size, max_size=size))
    where = data.draw(st.integers(0, size - 1))
    bad = data.draw(st.one_of(st.integers(hi + 1, hi + (1 << 70)),
                              st.integers(lo - (1 << 70), lo - 1)))
    values[where] = bad
    first = next(k for k, v in enumerate(values) if not lo <= v <= hi)
    with pytest.raises(ValueError, match=re.escape(f"{name}[{first}]={values[first]} ")):
        check_array_range(name, values, lo, hi)


@given(NAMES, st.data())
def test_non_finite_reals_are_named(name, data):
    size = data.draw(st.integers(1, 20))
    values = data.draw(st.lists(st.floats(-1e6, 1e6), min_size=size, max_size=size))
    where = data.draw(st.integers(0, size - 1))
    values[where] = data.draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    with pytest.raises(ValueError, match=re.escape(f"{name}[{where}]=")):
        check_real_array(name, values)


@given(st.sampled_from([0.0, -1.0, -1e-300, math.nan, math.inf, -math.inf]))
def test_bad_scales_are_named(scale):
    with pytest.raises(ValueError, match="scale"):
        quant.QuantParams(np.array(scale), np.array(0), -128, 127)


PARAMS = [(block, p) for block in BLOCKS.values() for p in block.params if p.lo is not None]


@given(st.sampled_from(PARAMS), st.integers(1, 1 << 40), st.booleans())
def test_block_parameters_out_of_range_are_named(block_param, distance, above):
    """Every integer parameter of every block: a value outside ``[lo, hi]`` is a
    ``ValueError`` naming it, its value and the range, before elaboration."""
    block, p = block_param
    value = (p.hi + distance) if above and p.hi is not None else p.lo - distance
    with pytest.raises(ValueError, match=re.escape(f"{p.name}={value} is out of range")):
        block.build({p.name: value})
