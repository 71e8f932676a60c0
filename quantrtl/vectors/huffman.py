"""Vector sets, packets and a stream harness for the Huffman decoder (``hw.huffman``).

``quantrtl run huffman`` takes a vector set (npz) in one of two forms.

Symbols to encode:

``symbols``
    ``[N]`` integers in ``[0, 2^symbol_bits)``: the symbols to encode and decode.
``lengths`` (optional)
    ``[S]`` non-negative stream lengths summing to ``N``: the symbols are split into ``S``
    streams, each coded with the optimal length-limited canonical code of its own histogram
    (``max_length`` of the block) and preceded by a table reload.  Default: one stream.

A stream of your own (corrupt ones included: that is what this form is for), one packet:

``counts``
    ``[max_length + 1]`` (or shorter, up to 256 entries) code counts per length,
    ``counts[0] = 0``: sent as ``LEN`` beats ``1..`` (``counts[0]`` as a ``LEN`` beat of
    length 0 when it is not 0).
``code_symbols``
    ``[n]`` symbols in canonical order (``n <= 256``): ``SYM`` beats ``0..n-1``.
``words``
    ``[W]`` bitstream words (uint64, MSB first, each below ``2^word_width``).
``count``
    the number of symbols claimed (a scalar below ``2^word_width``).

Whatever the table and the words hold goes through the decoder; only a malformed file
(missing or unknown fields, non-integers, wrong shapes, values the beat fields cannot
carry) is refused.  The output npz holds ``symbols`` (those delivered), ``error`` (bool)
and ``error_kind`` (``"none"``, ``"invalid"``, ``"truncated"``, ``"protocol"``), each beside
the golden one: the outcome :func:`quantrtl.vectors.huffman_model.reference_outcome` gives
for the beats (golden ``from_description`` for the table, :func:`golden.huffman.decode` for
the words).

:func:`packet_beats` turns a code and an encoded stream into input beats (table beats, a
``COUNT`` beat, ``DATA`` words); :func:`run_packets` drives beats into the decoder and
collects symbols (any ``lanes``), the error flag and kind; :class:`HuffmanAdapter` plugs the
block into :func:`tb.harness.run_vectors` (``quantrtl run``), for any ``lanes``.
"""

from __future__ import annotations

import numpy as np

from quantrtl.golden.huffman import CanonicalCode, build_code, check_words, encode
from quantrtl.spec import INT64_MAX, check_array_range, check_fields
from .huffman_model import ERROR_NAMES, KIND, Outcome, reference_outcome
from .base import Adapter
from .codec import PayloadCodec

__all__ = ["HuffmanAdapter", "packet_beats", "packet_tuples", "table_tuples",
           "expected_outcome", "split_streams", "own_stream_tuples"]

OWN_FIELDS = ("counts", "code_symbols", "words", "count")


def table_tuples(component, code: CanonicalCode) -> list[tuple]:
    """``(kind, index, data, last)`` of the ``LEN`` beats of every length of the block,
    then the ``SYM`` beats of the code."""
    if code.max_length > component.max_length:
        raise ValueError(f"code max_length={code.max_length} is out of range: allowed "
                         f"[1, {component.max_length}] (the block's max_length)")
    counts = [int(code.counts[l]) if l <= code.max_length else 0
              for l in range(component.max_length + 1)]
    return _table(counts, code.symbols)


def _table(counts, symbols) -> list[tuple]:
    beats = [(KIND["LEN"], 0, int(counts[0]), 0)] if counts[0] else []
    beats += [(KIND["LEN"], l, int(c), 0) for l, c in enumerate(counts) if l]
    return beats + [(KIND["SYM"], k, int(s), 0) for k, s in enumerate(symbols)]


def packet_tuples(component, code: CanonicalCode | None, words, count: int) -> list[tuple]:
    """One packet as ``(kind, index, data, last)``: the table (if ``code``), ``COUNT``,
    then the words (``last`` on the final beat of the packet)."""
    beats = table_tuples(component, code) if code is not None else []
    return beats + _stream(words, count)


def _stream(words, count) -> list[tuple]:
    # (not np.asarray on a list: Python ints of 64 bits would become float64)
    words = [int(w) for w in (words if isinstance(words, (list, tuple))
                              else np.asarray(words).reshape(-1))]
    beats = [(KIND["COUNT"], 0, int(count), int(not words))]
    return beats + [(KIND["DATA"], 0, w, int(k == len(words) - 1)) for k, w in enumerate(words)]


def pack(codec: PayloadCodec, tuples) -> list[int]:
    """Payload words of ``(kind, index, data, last)`` beats."""
    return [codec.pack({"kind": k, "index": i, "data": d, "last": t}) for k, i, d, t in tuples]


def packet_beats(codec: PayloadCodec, component, code: CanonicalCode | None, words,
                 count: int) -> list[int]:
    """:func:`packet_tuples` as payload words."""
    return pack(codec, packet_tuples(component, code, words, count))


def table_beats(codec: PayloadCodec, component, code: CanonicalCode) -> list[int]:
    """:func:`table_tuples` as payload words."""
    return pack(codec, table_tuples(component, code))


def outcome_of(component, tuples) -> Outcome:
    """The reference outcome of beats on this decoder."""
    return reference_outcome(tuples, component.symbol_bits, component.max_length,
                             component.word_width)


def expected_outcome(component, code: CanonicalCode | None, words, count: int):
    """``(symbols, error_code)`` of a packet (exact: a well-formed packet)."""
    outcome = outcome_of(component, packet_tuples(component, code, words, count))
    return outcome.symbols, outcome.kind


def own_stream_tuples(vectors, component) -> list[tuple]:
    """The beats of an own-stream vector set (:data:`OWN_FIELDS`), validated as a file:
    every field present, integer, of the shape and within what the beat fields carry."""
    check_fields("huffman vectors (own stream)", vectors, OWN_FIELDS)
    top = (1 << component.word_width) - 1
    counts = check_array_range("counts", vectors["counts"], 0, min(top, INT64_MAX))
    if counts.ndim != 1 or not 1 <= counts.size <= 256:
        raise ValueError(f"counts must be one-dimensional [max_length + 1] with 1..256 "
                         f"entries (one LEN beat each), got shape {counts.shape}")
    symbols = check_array_range("code_symbols", vectors["code_symbols"], 0,
                                min(top, INT64_MAX))
    if symbols.ndim != 1 or symbols.size > 256:
        raise ValueError(f"code_symbols must be one-dimensional [n] with at most 256 "
                         f"entries (one SYM beat each), got shape {symbols.shape}")
    words = np.asarray(vectors["words"])
    if words.ndim != 1:
        raise ValueError(f"words must be one-dimensional [W], got shape {words.shape}")
    words = check_words(words, component.word_width)
    count = check_array_range("count", vectors["count"], 0, min(top, INT64_MAX))
    if count.size != 1:
        raise ValueError(f"count must be a scalar, got shape {count.shape}")
    return _table([int(c) for c in counts], symbols.tolist()) + \
        _stream(words, int(count.reshape(())))


def split_streams(vectors, component):
    """``[(symbols, code, encoded)]`` per stream of a symbols vector set (validated)."""
    check_fields("huffman vectors", vectors, ("symbols",), ("lengths",))
    alphabet = 1 << component.symbol_bits
    symbols = check_array_range("symbols", vectors["symbols"], 0, alphabet - 1)
    if symbols.ndim != 1:
        raise ValueError(f"symbols must be one-dimensional [N], got shape {symbols.shape}")
    lengths = check_array_range("lengths", vectors.get("lengths", [symbols.size]), 0,
                                symbols.size)
    if lengths.ndim != 1 or int(lengths.sum()) != symbols.size:
        raise ValueError(f"lengths must be [S] and sum to len(symbols)={symbols.size}, "
                         f"got {lengths.tolist()[:8]}")
    limit = (1 << component.count_bits) - 1
    if lengths.size and int(lengths.max()) > limit:
        raise ValueError(f"lengths holds a stream of {int(lengths.max())} symbols: allowed "
                         f"[0, {limit}] (word_width={component.word_width})")
    streams = []
    for part in np.split(symbols, np.cumsum(lengths)[:-1]):
        code = build_code(part, component.max_length, alphabet_size=alphabet)
        streams.append((part, code, encode(part, code, component.word_width)))
    return streams


class HuffmanAdapter(Adapter):
    """``quantrtl run`` / :func:`tb.harness.run_vectors` adapter (any ``lanes``), for both
    forms of vector set; the status (``error``, ``error_kind``) is part of the result."""

    block = "huffman"
    output = "symbols"
    required = ("symbols",)
    optional = ("lengths",)

    def __init__(self, component):
        super().__init__(component)
        self.out_codec = PayloadCodec(component.output_shape)

    def tuples(self, vectors) -> list[tuple]:
        """The beats of either form (validated)."""
        if set(vectors) & set(OWN_FIELDS):
            return own_stream_tuples(vectors, self.c)
        return [t for part, code, enc in split_streams(vectors, self.c)
                for t in packet_tuples(self.c, code, enc.words, enc.count)]

    def config(self, vectors) -> dict:
        self.tuples(vectors)
        return {"restart": 0}

    def encode(self, vectors) -> list[int]:
        return pack(self.codec, self.tuples(vectors))

    def outcome(self, vectors) -> Outcome:
        return outcome_of(self.c, self.tuples(vectors))

    def golden(self, vectors) -> np.ndarray:
        return self.outcome(vectors).symbols

    def count(self, vectors) -> int:
        return int(self.golden(vectors).size)

    status_ports = ("error", "error_kind")

    def status(self, values: dict) -> dict:
        """Result fields from the status ports' final values."""
        return {"error": np.bool_(values["error"]),
                "error_kind": np.str_(ERROR_NAMES[values["error_kind"]])}

    def golden_status(self, vectors) -> dict:
        kind = self.outcome(vectors).kind
        return {"error": np.bool_(kind != 0), "error_kind": np.str_(ERROR_NAMES[kind])}

    def cycles(self, vectors) -> int:
        """Clocks at full throughput: every input beat (tables, counts, words) and the
        symbols, ``lanes`` per clock at best (a word holds many symbols)."""
        return len(self.tuples(vectors)) + -(-self.count(vectors) // self.c.lanes)

    def decode_output(self, word: int) -> list[int]:
        """The symbols of one output beat (1..lanes of them)."""
        if self.c.lanes == 1:
            return [self.out_codec.unpack_value(word)]
        fields = self.out_codec.unpack(word)
        n = fields["n"]
        if not 1 <= n <= self.c.lanes:
            raise AssertionError(f"output beat with n={n} symbols (allowed 1..{self.c.lanes})")
        return [fields[f"sym[{k}]"] for k in range(n)]

