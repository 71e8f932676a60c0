"""Golden canonical Huffman coding: optimal length-limited lengths, canonical codes, round
trips, errors."""

import itertools

import numpy as np
import pytest

from quantrtl.golden.huffman import (CanonicalCode, HuffmanDecodeError, build_code, code_lengths,
                            compression_ratio, decode, decode_bitwise, encode, histogram,
                            kraft_sum)

RNG = np.random.default_rng(20261123)


def _brute_force_cost(hist, max_length):
    """Minimum sum(hist * length) over every length assignment in [1, max_length] with
    Kraft sum <= 1 (all symbols used)."""
    best = None
    for lengths in itertools.product(range(1, max_length + 1), repeat=len(hist)):
        if sum(2.0 ** -l for l in lengths) <= 1.0:
            cost = sum(h * l for h, l in zip(hist, lengths))
            best = cost if best is None else min(best, cost)
    return best


def _prefix_free(code):
    words = [format(int(code.codes[s]), f"0{int(code.lengths[s])}b") for s in code.symbols]
    return not any(a != b and b.startswith(a) for a in words for b in words)


@pytest.mark.parametrize("trial", range(60))
def test_optimal_against_brute_force(trial):
    rng = np.random.default_rng(trial)
    n = int(rng.integers(2, 7))
    hist = rng.integers(1, 100, size=n) if trial % 3 else 2 ** np.arange(n)[::-1]
    max_length = int(rng.integers(int(np.ceil(np.log2(n))), min(n, 6) + 1))
    lengths = code_lengths(hist, max_length)
    assert lengths.max() <= max_length and lengths.min() >= 1
    assert kraft_sum(lengths) <= 1.0
    assert int((lengths * hist).sum()) == _brute_force_cost(list(hist), max_length)


def test_unlimited_length_is_huffman():
    """With a generous limit the cost equals plain Huffman's (heap merge of two lightest)."""
    from reference import huffman_cost
    for trial in range(30):
        hist = RNG.integers(1, 1000, size=int(RNG.integers(2, 40)))
        assert int((code_lengths(hist, 32) * hist).sum()) == huffman_cost(hist)


def test_limit_binds():
    hist = 2 ** np.arange(10)[::-1]                     # Huffman would use length 9
    assert code_lengths(hist, 32).max() == 9
    limited = code_lengths(hist, 5)
    assert limited.max() == 5 and kraft_sum(limited) <= 1


@pytest.mark.parametrize("trial", range(40))
def test_canonical_code_prefix_free_and_described(trial):
    rng = np.random.default_rng(100 + trial)
    size = int(rng.integers(1, 17))
    hist = rng.integers(0, 50, size=size) * (rng.random(size) < 0.8)
    used = int(np.count_nonzero(hist))
    max_length = int(rng.integers(max(1, int(np.ceil(np.log2(max(used, 1))))), 12))
    code = build_code(hist, max_length, is_histogram=True)
    assert _prefix_free(code)
    assert kraft_sum(code.lengths) <= 1.0
    # canonical: codes increase along the canonical order, lengths non-decreasing
    assert np.all(np.diff(code.lengths[code.symbols]) >= 0)
    values = [int(code.codes[s]) << (max_length - int(code.lengths[s])) for s in code.symbols]
    assert values == sorted(values) and len(set(values)) == len(values)
    again = CanonicalCode.from_description(code.counts, code.symbols, size)
    assert np.array_equal(again.codes, code.codes) and np.array_equal(again.lengths, code.lengths)


def test_single_symbol_and_empty():
    code = build_code(np.full(10, 3), 4, alphabet_size=8)
    assert code.lengths.tolist() == [0, 0, 0, 1, 0, 0, 0, 0]
    enc = encode(np.full(10, 3), code, 8)
    assert enc.nbits == 10 and enc.words.tolist() == [0, 0]
    assert decode(enc.words, code, 10, 8).tolist() == [3] * 10
    empty = encode(np.zeros(0, np.int64), code, 8)
    assert empty.nbits == 0 and empty.words.size == 0
    assert decode(empty.words, code, 0, 8).size == 0
    assert decode_bitwise(empty.words, code, 0, 8).size == 0
    nothing = build_code(np.zeros(0, np.int64), 3, alphabet_size=4)
    assert nothing.lengths.tolist() == [0, 0, 0, 0]
    assert decode([], nothing, 0, 16).size == 0
    assert np.isnan(compression_ratio(3, 0, 0))


@pytest.mark.parametrize("word_width", [1, 7, 8, 16, 32, 63, 64])
def test_round_trips(word_width):
    for trial in range(25):
        size = int(RNG.integers(1, 33))
        probs = RNG.dirichlet(np.full(size, RNG.choice([0.05, 1.0, 20.0])))
        symbols = RNG.choice(size, size=int(RNG.integers(0, 3000)), p=probs)
        used = max(1, np.unique(symbols).size)
        max_length = int(RNG.integers(max(1, int(np.ceil(np.log2(used)))), 17))
        code = build_code(symbols, max_length, alphabet_size=size)
        enc = encode(symbols, code, word_width)
        assert enc.nbits == int(code.lengths[symbols].sum())
        assert enc.words.size == -(-enc.nbits // word_width)
        assert np.array_equal(decode(enc.words, code, symbols.size, word_width), symbols)
        if trial < 5:
            assert np.array_equal(decode_bitwise(enc.words, code, symbols.size, word_width),
                                  symbols)


def test_msb_first_layout():
    code = CanonicalCode.from_lengths([1, 2, 2], 2)       # 0: '0', 1: '10', 2: '11'
    assert code.codes.tolist() == [0, 2, 3]
    enc = encode([1, 0, 2, 2], code, 8)                    # 10 0 11 11 + pad -> 0b10011110
    assert enc.words.tolist() == [0b10011110] and enc.nbits == 7
    assert compression_ratio(2, 4, enc.nbits) == pytest.approx(8 / 7)


def test_absent_and_out_of_range_symbols_rejected():
    code = build_code([0, 1, 1], 4, alphabet_size=4)
    with pytest.raises(ValueError, match=r"symbols\[2\]=2 has no code"):
        encode([0, 1, 2], code, 16)
    with pytest.raises(ValueError, match=r"symbols\[1\]=4 is out of range"):
        encode([0, 4], code, 16)
    with pytest.raises(ValueError, match="max_length=2 is out of range"):
        code_lengths(np.ones(5), 2)
    with pytest.raises(ValueError, match="Kraft"):
        CanonicalCode.from_lengths([1, 1, 1], 3)
    with pytest.raises(ValueError, match="distinct"):
        CanonicalCode.from_description([0, 2], [1, 1], 4)
    with pytest.raises(ValueError, match="word_width=0 is out of range"):
        encode([0], code, 0)


def test_decode_errors_agree_with_bitwise():
    """Random words under random (often incomplete) codes: both decoders give the same
    symbols or the same error kind, position and prefix; every kind occurs."""
    kinds = set()
    for trial in range(1500):
        size = int(RNG.integers(1, 9))
        hist = RNG.integers(1, 50, size=size) * (RNG.random(size) < 0.7)
        hist[0] = max(hist[0], 1)
        used = int(np.count_nonzero(hist))
        code = build_code(hist, int(RNG.integers(max(1, int(np.ceil(np.log2(used)))), 8)),
                          is_histogram=True)
        width = int(RNG.choice([5, 8, 16, 64]))
        words = [int(w) for w in RNG.integers(0, 1 << width, size=int(RNG.integers(0, 5)),
                                              dtype=np.uint64)]
        count = int(RNG.integers(0, 16))
        results = []
        for fn in (decode, decode_bitwise):
            try:
                results.append(("ok", fn(words, code, count, width).tolist()))
            except HuffmanDecodeError as exc:
                results.append((exc.kind, exc.position, exc.symbols.tolist()))
        assert results[0] == results[1]
        kinds.add(results[0][0])
    assert kinds == {"ok", "invalid", "truncated", "trailing"}


def test_specific_errors():
    code = CanonicalCode.from_lengths([1, 2, 0, 0], 3)     # '0', '10'; '11x' is invalid
    with pytest.raises(HuffmanDecodeError) as exc:
        decode([0b0101100000000000], code, 5, 16)           # 0 10 then 110...
    assert exc.value.kind == "invalid" and exc.value.symbols.tolist() == [0, 1]
    with pytest.raises(HuffmanDecodeError) as exc:
        decode([0], code, 17, 16)                           # only 16 bits for 17 symbols
    assert exc.value.kind == "truncated" and exc.value.symbols.size == 16
    with pytest.raises(HuffmanDecodeError) as exc:
        decode([0, 0], code, 3, 16)                         # a whole word left over
    assert exc.value.kind == "trailing" and exc.value.symbols.tolist() == [0, 0, 0]


def test_histogram():
    assert histogram([0, 2, 2, 3], 4).tolist() == [1, 0, 2, 1]
    with pytest.raises(ValueError, match="out of range"):
        histogram([0, 4], 4)
