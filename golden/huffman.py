"""Canonical, length-limited Huffman coding of small alphabets (SPEC 4).

The code of a block of symbols (DQA's shifting errors, ``m``-bit values) is built from their
histogram:

1. :func:`code_lengths` -- optimal code lengths under a maximum length ``max_length`` by
   package-merge (Larmore & Hirschberg): the lengths minimise ``sum(hist * length)`` among
   all prefix codes whose lengths are at most ``max_length``.  Symbols absent from the
   histogram get length 0 (no code); a histogram with one used symbol gives it length 1
   (the code ``0``); an all-zero histogram gives no codes (only the empty stream encodes).
2. :class:`CanonicalCode` -- the canonical code of those lengths (as DEFLATE and JPEG do):
   codes are assigned in order of (length, symbol), each the previous code plus one,
   shifted left when the length grows.  It is described by ``counts`` (``counts[l]`` codes
   of length ``l``, ``l = 1..max_length``) and ``symbols`` (the coded symbols in canonical
   order); :meth:`CanonicalCode.from_description` rebuilds it and validates the
   description (Kraft sum at most 1, distinct symbols in the alphabet).
3. :func:`encode` -- codes written MSB-first into ``word_width``-bit words (the first bit of
   the stream is bit ``word_width - 1`` of word 0); the last word is padded with zeros.
4. :func:`decode` -- exactly ``count`` symbols from the words.  Its error semantics are the
   hardware decoder's (:mod:`hw.huffman`): at a bit position with ``r`` stream bits left,
   if a code of length ``l <= r`` matches, it is the symbol; otherwise if
   ``r >= max_length`` the stream holds an *invalid* code, else it is *truncated*.  After
   the ``count``-th symbol, any whole word left over is *trailing* data.  Errors raise
   :class:`HuffmanDecodeError`, which carries the symbols decoded before it.

:func:`decode` is vectorised (the canonical match of every ``max_length``-bit window, one
length at a time, and pointer doubling along the chain of code starts; memory linear in the
stream, never in a claimed ``count`` or in ``2^max_length``); :func:`decode_bitwise` is the
plain-Python bit-by-bit reference decoder (the benchmark's baseline), with the same results
and errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from quantrtl.spec import (HUFFMAN_DECODE_ERRORS, HUFFMAN_MAX_CODE_LENGTH,
                           HUFFMAN_MAX_SYMBOL_BITS, check_array_range, check_int,
                           check_integer_array)

__all__ = ["MAX_CODE_LENGTH", "MAX_SYMBOL_BITS", "CanonicalCode", "HuffmanDecodeError",
           "Encoded", "code_lengths", "kraft_sum", "histogram", "build_code", "encode",
           "decode", "decode_bitwise", "compression_ratio", "words_to_bits", "check_words"]

MAX_CODE_LENGTH, MAX_SYMBOL_BITS = HUFFMAN_MAX_CODE_LENGTH, HUFFMAN_MAX_SYMBOL_BITS
ERROR_KINDS = HUFFMAN_DECODE_ERRORS


class HuffmanDecodeError(ValueError):
    """A bitstream that the code cannot decode.

    ``kind`` is ``"invalid"`` (no code matches ``max_length`` available bits),
    ``"truncated"`` (the stream ends inside a code, or before ``count`` symbols) or
    ``"trailing"`` (whole words left after the last symbol); ``position`` is the bit
    position of the failure, ``symbols`` the symbols decoded before it.
    """

    def __init__(self, kind: str, position: int, symbols, message: str):
        super().__init__(message)
        self.kind = kind
        self.position = int(position)
        self.symbols = np.asarray(symbols, dtype=np.int64)


def histogram(symbols, alphabet_size: int) -> np.ndarray:
    """Occurrences of each symbol ``0..alphabet_size-1`` in ``symbols`` (int64)."""
    alphabet_size = check_int("alphabet_size", alphabet_size, 1, 1 << MAX_SYMBOL_BITS)
    symbols = check_array_range("symbols", np.ravel(symbols), 0, alphabet_size - 1)
    return np.bincount(symbols, minlength=alphabet_size).astype(np.int64)


def kraft_sum(lengths) -> float:
    """``sum(2^-l)`` over the non-zero lengths (at most 1 for a prefix code)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    used = lengths[lengths > 0]
    return float(np.sum(np.ldexp(1.0, -used)))


def code_lengths(hist, max_length: int) -> np.ndarray:
    """Optimal prefix-code lengths (at most ``max_length``) for the counts ``hist``.

    Package-merge: ``max_length`` lists, each the leaves (symbols by weight) merged with the
    packages (pairs) of the previous list; the ``2n - 2`` lightest items of the last list
    give each symbol's length as the number of items it is in.  Optimal: minimises
    ``sum(hist * length)`` subject to Kraft's inequality and ``length <= max_length``.
    Ties are broken towards leaves and lower symbols, so the result is deterministic.
    """
    hist = check_integer_array("hist", hist)
    if hist.ndim != 1 or hist.size == 0:
        raise ValueError(f"hist must be a non-empty 1-d array of counts, got shape {hist.shape}")
    if hist.size > 1 << MAX_SYMBOL_BITS:
        raise ValueError(f"hist has {hist.size} symbols: allowed at most {1 << MAX_SYMBOL_BITS}")
    check_array_range("hist", hist, 0, 2**50)
    max_length = check_int("max_length", max_length, 1, MAX_CODE_LENGTH)
    used = np.nonzero(hist)[0]
    lengths = np.zeros(hist.size, dtype=np.int64)
    n = used.size
    if n == 0:
        return lengths
    if n == 1:
        lengths[used] = 1
        return lengths
    if n > 1 << max_length:
        raise ValueError(f"max_length={max_length} is out of range for {n} used symbols: "
                         f"allowed [{int(np.ceil(np.log2(n)))}, {MAX_CODE_LENGTH}]")
    order = used[np.argsort(hist[used], kind="stable")]
    leaf_w = hist[order]
    leaf_members = np.eye(n, dtype=np.int64)           # item -> occurrences of each leaf
    items_w, items_m = leaf_w, leaf_members
    for _ in range(max_length - 1):
        pairs = items_w.size // 2
        pack_w = items_w[0:2 * pairs:2] + items_w[1:2 * pairs:2]
        pack_m = items_m[0:2 * pairs:2] + items_m[1:2 * pairs:2]
        all_w = np.concatenate([leaf_w, pack_w])
        all_m = np.concatenate([leaf_members, pack_m])
        keep = np.argsort(all_w, kind="stable")
        items_w, items_m = all_w[keep], all_m[keep]
    lengths[order] = items_m[:2 * n - 2].sum(axis=0)
    return lengths


@dataclass(frozen=True, eq=False)
class CanonicalCode:
    """A canonical prefix code over the alphabet ``0..alphabet_size-1``.

    ``lengths[s]`` is the code length of symbol ``s`` (0: not coded), ``codes[s]`` its code
    (right-aligned).  The canonical description is ``counts`` (``counts[l]`` for
    ``l = 0..max_length``, ``counts[0] = 0``) and ``symbols`` (coded symbols ordered by
    length, then value).
    """

    alphabet_size: int
    max_length: int
    lengths: np.ndarray
    codes: np.ndarray = field(repr=False)
    counts: np.ndarray = field(repr=False)
    symbols: np.ndarray = field(repr=False)

    @classmethod
    def from_lengths(cls, lengths, max_length: int) -> "CanonicalCode":
        max_length = check_int("max_length", max_length, 1, MAX_CODE_LENGTH)
        lengths = check_array_range("lengths", lengths, 0, max_length)
        if lengths.ndim != 1 or not 1 <= lengths.size <= 1 << MAX_SYMBOL_BITS:
            raise ValueError(f"lengths must be 1-d with 1..{1 << MAX_SYMBOL_BITS} symbols, "
                             f"got shape {lengths.shape}")
        kraft = kraft_sum(lengths)
        if kraft > 1.0:
            raise ValueError(f"lengths have Kraft sum {kraft} > 1: not a prefix code")
        symbols = np.lexsort((np.arange(lengths.size), lengths))
        symbols = symbols[lengths[symbols] > 0]
        counts = np.bincount(lengths[symbols], minlength=max_length + 1).astype(np.int64)
        counts[0] = 0
        codes = np.zeros(lengths.size, dtype=np.int64)
        code, prev = 0, 0
        for s in symbols:          # at most 256 symbols: the canonical assignment
            length = int(lengths[s])
            code <<= length - prev
            codes[s] = code
            code += 1
            prev = length
        return cls(int(lengths.size), max_length, lengths, codes, counts,
                   symbols.astype(np.int64))

    @classmethod
    def from_description(cls, counts, symbols, alphabet_size: int,
                         max_length: int | None = None) -> "CanonicalCode":
        """Rebuild a code from ``counts`` (indexed by length, ``counts[0]`` must be 0) and
        ``symbols`` in canonical order; validates the description."""
        alphabet_size = check_int("alphabet_size", alphabet_size, 1, 1 << MAX_SYMBOL_BITS)
        counts = check_array_range("counts", counts, 0, alphabet_size)
        if counts.ndim != 1 or counts.size < 2 or counts[0] != 0:
            raise ValueError("counts must be [max_length + 1] with counts[0] = 0")
        if max_length is None:
            max_length = counts.size - 1
        if counts.size != max_length + 1:
            raise ValueError(f"counts has {counts.size} entries, max_length={max_length} "
                             f"needs {max_length + 1}")
        symbols = check_array_range("symbols", np.ravel(symbols), 0, alphabet_size - 1)
        if symbols.size != counts.sum():
            raise ValueError(f"symbols has {symbols.size} entries, counts sum to {counts.sum()}")
        if np.unique(symbols).size != symbols.size:
            raise ValueError("symbols must be distinct")
        lengths = np.zeros(alphabet_size, dtype=np.int64)
        lengths[symbols] = np.repeat(np.arange(counts.size), counts)
        for length in range(1, counts.size):  # canonical order within each length
            group = symbols[counts[:length].sum():counts[:length + 1].sum()]
            if np.any(np.diff(group) < 0):
                raise ValueError(f"symbols of length {length} are not in increasing order")
        return cls.from_lengths(lengths, max_length)

    def match(self, window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(symbol, length)`` of the code at the head of each ``max_length``-bit
        ``window`` (int64, MSB first; length 0: no code matches).

        Canonical decoding, one length at a time (puff.c's ``first``/``index``): the
        ``l``-bit prefix ``v`` is a code of length ``l`` iff ``0 <= v - first_l <
        counts[l]``.  Memory is linear in the windows and time in ``max_length`` -- no table
        of ``2^max_length`` entries."""
        window = np.asarray(window, dtype=np.int64)
        sym = np.zeros(window.shape, dtype=np.int64)
        length = np.zeros(window.shape, dtype=np.int64)
        open_ = np.ones(window.shape, dtype=bool)
        first = index = 0
        for l in range(1, self.max_length + 1):
            n = int(self.counts[l])
            if n:
                offset = (window >> (self.max_length - l)) - first
                hit = open_ & (offset >= 0) & (offset < n)
                sym[hit] = self.symbols[index + offset[hit]]
                length[hit] = l
                open_ &= ~hit
            index += n
            first = (first + n) << 1
        return sym, length

    def description_bits(self, symbol_bits: int) -> int:
        """Bits of the canonical description: ``max_length`` counts of ``symbol_bits + 1``
        bits and ``symbol_bits`` per coded symbol."""
        return self.max_length * (symbol_bits + 1) + int(self.symbols.size) * symbol_bits


def build_code(symbols_or_hist, max_length: int, *, alphabet_size: int | None = None,
               is_histogram: bool = False) -> CanonicalCode:
    """The optimal length-limited canonical code of a symbol sequence (or of a histogram)."""
    if is_histogram:
        hist = check_integer_array("hist", symbols_or_hist)
    else:
        if alphabet_size is None:
            raise ValueError("alphabet_size is needed to build a code from symbols")
        hist = histogram(symbols_or_hist, alphabet_size)
    return CanonicalCode.from_lengths(code_lengths(hist, max_length), max_length)


@dataclass(frozen=True)
class Encoded:
    """An encoded stream: ``words`` (uint64, MSB-first), ``nbits`` used bits, ``count``
    symbols, ``word_width`` bits per word."""

    words: np.ndarray
    nbits: int
    count: int
    word_width: int


def _check_word_width(word_width):
    return check_int("word_width", word_width, 1, 64)


def _bits_to_words(bits: np.ndarray, word_width: int) -> np.ndarray:
    nwords = -(-bits.size // word_width)
    padded = np.zeros(nwords * word_width, dtype=np.uint64)
    padded[:bits.size] = bits
    padded = padded.reshape(nwords, word_width)
    words = np.zeros(nwords, dtype=np.uint64)
    for k in range(word_width):
        words |= padded[:, k] << np.uint64(word_width - 1 - k)
    return words


def check_words(words, word_width: int) -> np.ndarray:
    """``words`` as a flat uint64 array, exactly: Python ints up to ``2^64 - 1`` (in a list,
    where NumPy alone could turn them to float64), every word non-negative and of at most
    ``word_width`` bits."""
    word_width = _check_word_width(word_width)
    hi = (1 << word_width) - 1

    def bad(i, w):
        return ValueError(f"words[{i}]={w} is out of range: allowed [0, {hi}] "
                          f"(word_width={word_width})")
    if isinstance(words, (list, tuple)):  # Python ints: NumPy may turn big ones to float
        words = np.array(words, dtype=object)
    words = np.asarray(words)
    flat = words.reshape(-1)
    if words.dtype == object:
        for i, w in enumerate(flat):
            if isinstance(w, (bool, np.bool_)) or not isinstance(w, (int, np.integer)):
                raise ValueError(f"words[{i}]={w!r} is not an integer")
            if not 0 <= int(w) <= hi:
                raise bad(i, int(w))
        return np.array([int(w) for w in flat], dtype=np.uint64)
    if flat.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if words.dtype.kind not in "iu":
        raise ValueError(f"words must hold integers, got dtype {words.dtype}")
    if words.dtype.kind == "i" and np.any(flat < 0):
        i = int(np.argmax(flat < 0))
        raise bad(i, int(flat[i]))
    flat = flat.astype(np.uint64)
    if word_width < 64 and np.any(flat >> np.uint64(word_width)):
        i = int(np.argmax(flat >> np.uint64(word_width) != 0))
        raise bad(i, int(flat[i]))
    return flat


def words_to_bits(words, word_width: int) -> np.ndarray:
    """The bits of ``words`` (MSB-first within each word) as a uint8 array."""
    words = check_words(words, word_width)
    shifts = np.arange(word_width - 1, -1, -1, dtype=np.uint64)
    return ((words[:, None] >> shifts[None, :]) & np.uint64(1)).astype(np.uint8).reshape(-1)


def encode(symbols, code: CanonicalCode, word_width: int = 32) -> Encoded:
    """The codes of ``symbols`` written MSB-first into ``word_width``-bit words.

    A symbol outside the alphabet or without a code (absent from the histogram) raises
    ``ValueError`` naming it and its index.
    """
    word_width = _check_word_width(word_width)
    symbols = check_array_range("symbols", np.ravel(symbols), 0, code.alphabet_size - 1)
    lengths = code.lengths[symbols]
    missing = np.nonzero(lengths == 0)[0]
    if missing.size:
        k = int(missing[0])
        raise ValueError(f"symbols[{k}]={int(symbols[k])} has no code: it is absent from the "
                         f"histogram the code was built from")
    codes = code.codes[symbols]
    lmax = code.max_length
    # Every code as lmax bits, MSB-aligned, then keep the first `length` bits of each row.
    shifts = np.arange(lmax - 1, -1, -1, dtype=np.int64)
    aligned = codes << (lmax - lengths)
    bitmat = ((aligned[:, None] >> shifts[None, :]) & 1).astype(np.uint8)
    keep = np.arange(lmax)[None, :] < lengths[:, None]
    bits = bitmat[keep]
    return Encoded(_bits_to_words(bits, word_width), int(bits.size), int(symbols.size),
                   word_width)


def _error(kind, position, symbols, count):
    text = {"invalid": "no code matches the bits", "truncated": "the stream ends inside a "
            "code or before the symbol count", "trailing": "whole words follow the last symbol"}
    return HuffmanDecodeError(kind, position, symbols,
                              f"{kind} Huffman stream at bit {position}: {text[kind]} "
                              f"({len(symbols)} of {count} symbols decoded)")


def decode(words, code: CanonicalCode, count: int, word_width: int = 32) -> np.ndarray:
    """Decode exactly ``count`` symbols from ``words`` (vectorised; see the module doc)."""
    word_width = _check_word_width(word_width)
    count = check_int("count", count, 0, 2**40)
    bits = words_to_bits(words, word_width)
    total = bits.size
    lmax = code.max_length
    # The lmax-bit window starting at every bit position (zeros past the end).
    padded = np.concatenate([bits, np.zeros(lmax, dtype=np.uint8)]).astype(np.int64)
    window = np.zeros(total + 1, dtype=np.int64)
    for k in range(lmax):
        window |= padded[k:k + total + 1] << (lmax - 1 - k)
    sym_tab, length = code.match(window)
    pos = np.arange(total + 1)
    ok = (length > 0) & (length <= total - pos)
    # Chain of code starts: next[p] = p + length; a failure goes to the sink total + 1.
    sink = total + 1
    nxt = np.concatenate([np.where(ok, pos + length, sink), [sink]])
    nxt[total] = sink  # no symbol starts at the end of the stream
    # Every code takes at least one bit: at most `total` symbols decode, so the first
    # min(count, total + 1) starts decide the outcome (memory linear in the stream, not in
    # the claimed count).
    chain = min(count, total + 1)
    starts = np.zeros(1, dtype=np.int64)
    jump = nxt
    while starts.size < chain:
        starts = np.concatenate([starts, jump[starts]])
        jump = jump[jump]
    starts = starts[:chain]
    # Symbol k decodes iff its start is inside the stream and a code fits there.
    good = np.zeros(chain, dtype=bool)
    inside = starts < total
    good[inside] = ok[starts[inside]]
    bad = np.nonzero(~good)[0]
    if bad.size:
        k = int(bad[0])
        p = int(starts[k])  # the symbol before it decoded, so this is a real position
        kind = "invalid" if total - p >= lmax and length[p] == 0 else "truncated"
        raise _error(kind, p, sym_tab[starts[:k]], count)
    out = sym_tab[starts]
    end = int(starts[-1] + length[starts[-1]]) if count else 0
    if total - end >= word_width:
        raise _error("trailing", end, out, count)
    return out


def decode_bitwise(words, code: CanonicalCode, count: int, word_width: int = 32) -> np.ndarray:
    """Plain-Python bit-by-bit canonical decoder (puff.c style): the benchmark baseline and
    an independent check of :func:`decode`; same results and errors."""
    word_width = _check_word_width(word_width)
    count = check_int("count", count, 0, 2**40)
    words = [int(w) for w in check_words(words, word_width)]
    counts = [int(c) for c in code.counts]
    symbols = [int(s) for s in code.symbols]
    lmax = code.max_length
    total = len(words) * word_width
    out = []
    pos = 0
    for _ in range(count):
        start = pos
        value = first = index = 0
        for length in range(1, lmax + 1):
            if pos >= total:
                raise _error("truncated", start, out, count)
            word = words[pos // word_width]
            value = (value << 1) | ((word >> (word_width - 1 - pos % word_width)) & 1)
            pos += 1
            n = counts[length]
            if value - first < n:
                out.append(symbols[index + value - first])
                break
            index += n
            first = (first + n) << 1
        else:
            raise _error("invalid", start, out, count)
    if total - pos >= word_width:
        raise _error("trailing", pos, out, count)
    return np.array(out, dtype=np.int64)


def compression_ratio(symbol_bits: int, count: int, nbits: int) -> float:
    """SPEC 4: ``(symbol_bits * count) / nbits`` (NaN for an empty stream)."""
    if nbits == 0:
        return float("nan")
    return symbol_bits * count / nbits
