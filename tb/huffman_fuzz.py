"""Random beat sequences for fuzzing the Huffman decoder (``hw.huffman``).

:func:`fuzz_case` draws one case of a named family -- a good packet, a corrupt table, a
corrupt stream, a huge or zero count, garbage beats -- as ``(kind, index, data, last)``
tuples; the expected outcome of any case is
:class:`quantrtl.vectors.huffman_model.ReferenceDecoder`'s.
The same cases drive the in-process fuzz (``tests/test_huffman_rtl.py``) and the cocotb
fuzz on Verilator and Icarus (``tb/tests/test_huffman.py::fuzz``, ``make fuzz``).
"""

from __future__ import annotations

import numpy as np

from quantrtl.golden.huffman import build_code, encode
from quantrtl.vectors.huffman import packet_tuples
from quantrtl.vectors.huffman_model import KIND

__all__ = ["FAMILIES", "fuzz_case"]

FAMILIES = ("good", "table", "stream", "count", "garbage", "reuse")


def _pick(rng, options) -> int:
    """One of ``options`` (Python ints of any size: ``rng.choice`` would make floats)."""
    return int(options[int(rng.integers(len(options)))])


def _good(rng, c, size=None):
    """Symbols, their code and its encoding: a packet that decodes."""
    alphabet = 1 << c.symbol_bits
    size = int(rng.integers(1, 60)) if size is None else size
    used = int(rng.integers(1, alphabet + 1))
    p = rng.dirichlet(np.full(used, 0.5))
    symbols = rng.choice(rng.permutation(alphabet)[:used], size=size, p=p)
    code = build_code(symbols, c.max_length, alphabet_size=alphabet)
    return symbols, code, encode(symbols, code, c.word_width)


def _table_mutation(rng, c, beats):
    """A corrupt table: one count, symbol or beat changed, dropped, repeated or moved."""
    beats = list(beats)
    table = [k for k, b in enumerate(beats) if b[0] in (KIND["LEN"], KIND["SYM"])]
    lens = [k for k in table if beats[k][0] == KIND["LEN"]]
    syms = [k for k in table if beats[k][0] == KIND["SYM"]]
    nsym = 1 << c.symbol_bits
    how = int(rng.integers(8))
    if how == 0:                                  # a count off by one either way
        k = int(rng.choice(lens))
        kind, index, value, last = beats[k]
        beats[k] = (kind, index, max(value + int(rng.choice([-1, 1])), 0), last)
    elif how == 1:                                # a count beyond the alphabet or random
        k = int(rng.choice(lens))
        kind, index, _, last = beats[k]
        beats[k] = (kind, index, _pick(rng, [nsym + 1, rng.integers(0, nsym + 1),
                                             (1 << c.word_width) - 1]), last)
    elif how == 2 and syms:                       # a symbol dropped or repeated
        k = int(rng.choice(syms))
        beats.insert(k, beats[k]) if rng.random() < 0.5 else beats.pop(k)
    elif how == 3 and len(syms) > 1:              # two symbols swapped (out of order)
        j, k = rng.choice(syms, 2, replace=False)
        beats[j], beats[k] = (*beats[j][:2], beats[k][2], 0), (*beats[k][:2], beats[j][2], 0)
    elif how == 4 and syms:                       # a symbol replaced (duplicate, outside)
        k = int(rng.choice(syms))
        value = _pick(rng, [rng.integers(0, nsym), nsym, beats[syms[0]][2]])
        beats[k] = (*beats[k][:2], value, 0)
    elif how == 5:                                # a length outside 1..max_length
        k = int(rng.choice(lens))
        beats[k] = (KIND["LEN"], _pick(rng, [0, c.max_length + 1, 255]), 1, 0)
    elif how == 6 and syms:                       # a LEN beat after the symbols
        beats.insert(syms[-1] + 1, beats[int(rng.choice(lens))])
    else:                                         # a SYM index out of order
        k = int(rng.choice(syms or lens))
        beats[k] = (KIND["SYM"], int(rng.integers(0, 256)), beats[k][2], 0)
    return beats


def _stream_mutation(rng, c, beats):
    """A corrupt stream: bits flipped, words cut, added or without the final marker."""
    beats = list(beats)
    data = [k for k, b in enumerate(beats) if b[0] == KIND["DATA"]]
    how = int(rng.integers(5))
    if how == 0 and data:                         # flipped bits
        for _ in range(int(rng.integers(1, 4))):
            k = int(rng.choice(data))
            kind, index, value, last = beats[k]
            beats[k] = (kind, index, value ^ (1 << int(rng.integers(c.word_width))), last)
    elif how == 1 and data:                       # cut short
        beats = beats[:int(rng.choice(data))]
        if beats and beats[-1][0] == KIND["DATA"]:
            beats[-1] = (*beats[-1][:3], 1)
    elif how == 2 and data:                       # a word too many
        beats[-1] = (*beats[-1][:3], 0)
        beats.append((KIND["DATA"], 0, int(rng.integers(0, 1 << min(c.word_width, 62))), 1))
    elif how == 3 and data:                       # no final-word marker: the packet stays open
        beats[-1] = (*beats[-1][:3], 0)
    else:                                         # random words instead
        words = rng.integers(0, 1 << min(c.word_width, 62), size=len(data) + 1)
        count = next(b for b in beats if b[0] == KIND["COUNT"])[2]
        beats = [b for b in beats if b[0] in (KIND["LEN"], KIND["SYM"])]
        beats += packet_tuples(c, None, [int(w) for w in words], count)
    return beats


def _count_mutation(rng, c, beats):
    """A huge, zero, or slightly wrong count, with or without words."""
    beats = list(beats)
    k = next(k for k, b in enumerate(beats) if b[0] == KIND["COUNT"])
    kind, index, value, last = beats[k]
    limit = 1 << min(c.word_width, 32)
    choices = [0, value + 1, max(value - 1, 0), limit - 1, min(1 << 20, limit - 1)]
    if c.word_width > 32:
        choices.append(limit)                     # beyond the count's range: protocol
    beats[k] = (kind, index, _pick(rng, choices), last if rng.random() < 0.7 else 1)
    return beats


def _garbage(rng, c):
    """Random beats, fields biased towards small and boundary values."""
    beats = []
    for _ in range(int(rng.integers(1, 40))):
        kind = int(rng.integers(4))
        index = _pick(rng, [0, 1, rng.integers(0, 1 << c.symbol_bits), c.max_length,
                            rng.integers(0, 256)])
        data = _pick(rng, [0, 1, rng.integers(0, 1 << c.symbol_bits), 1 << c.symbol_bits,
                           rng.integers(0, 1 << min(c.word_width, 62)),
                           (1 << c.word_width) - 1])
        beats.append((kind, index, data, int(rng.random() < 0.3)))
    return beats


def fuzz_case(rng, component, family: str | None = None) -> tuple[str, list[tuple]]:
    """``(family, beats)`` of one random case (a family from :data:`FAMILIES`, or drawn)."""
    c = component
    family = family or str(rng.choice(FAMILIES))
    symbols, code, enc = _good(rng, c)
    good = packet_tuples(c, code, enc.words, enc.count)
    if family == "good":
        return family, good
    if family == "table":
        return family, _table_mutation(rng, c, good)
    if family == "stream":
        return family, _stream_mutation(rng, c, good)
    if family == "count":
        return family, _count_mutation(rng, c, good)
    if family == "garbage":
        return family, _garbage(rng, c)
    if family == "reuse":                         # a second packet on the table loaded
        symbols2 = rng.choice(np.unique(symbols), size=int(rng.integers(0, 40)))
        enc2 = encode(symbols2, code, c.word_width)
        return family, good + packet_tuples(c, None, enc2.words, enc2.count)
    raise ValueError(f"family={family!r} is not a fuzz family: allowed {list(FAMILIES)}")
