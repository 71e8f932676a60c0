"""The beat-level reference model of the Huffman decoder (``hw.huffman``).

:func:`reference_outcome` replays a sequence of input beats (any beats: good packets,
corrupt tables, garbage) through the decoder's protocol -- table loads, ``COUNT``, words,
the sticky error -- and says what the decoder must deliver: the symbols and the final
error kind.  The numbers come from the golden model: a table is accepted iff
:meth:`golden.huffman.CanonicalCode.from_description` accepts it (checked beat by beat
as the hardware does, and once more at the end), a stream decodes as
:func:`golden.huffman.decode` says.

Most outcomes are exact.  One is timing dependent: a table beat or ``COUNT`` that breaks
into a packet.  The decoder accepts words ahead of the symbols it delivers, so when the
intruding beat arrives it may have delivered any prefix of the symbols the words so far
hold; that outcome is ``exact=False``: the symbols delivered are a prefix of
``symbols``, and the error is one of ``kinds``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quantrtl.spec import HuffmanError, HuffmanKind
from quantrtl.golden.huffman import CanonicalCode, HuffmanDecodeError, decode, kraft_sum

__all__ = ["Outcome", "ReferenceDecoder", "reference_outcome", "ERROR_CODES", "ERROR_NAMES"]

KIND = {k.name: k.value for k in HuffmanKind}
ERROR_NAMES = tuple(e.name.lower() for e in HuffmanError)
NONE, INVALID, TRUNCATED, PROTOCOL = (int(e) for e in HuffmanError)
# The golden decoder's exception kinds as the decoder reports them (trailing words are a
# beat of the wrong kind).
ERROR_CODES = {None: NONE, "invalid": INVALID, "truncated": TRUNCATED, "trailing": PROTOCOL}


@dataclass(frozen=True)
class Outcome:
    """What the decoder delivers for a beat sequence: ``symbols`` (int64), the final error
    ``kinds`` it may show (one, when ``exact``), and whether the symbols are exact or an
    upper bound (a prefix of them is delivered)."""
    symbols: np.ndarray
    kinds: frozenset
    exact: bool = True

    @property
    def kind(self) -> int:
        """The error kind of an exact outcome."""
        assert self.exact and len(self.kinds) == 1
        return next(iter(self.kinds))

    def admits(self, symbols, kind: int) -> bool:
        """``symbols`` and ``kind`` observed on the decoder are this outcome."""
        symbols = [int(s) for s in symbols]
        want = [int(s) for s in self.symbols]
        same = symbols == want if self.exact else symbols == want[:len(symbols)]
        return same and kind in self.kinds


class _Decoder:
    """The decoder's protocol state, one beat at a time."""

    def __init__(self, symbol_bits: int, max_length: int, word_width: int):
        self.S, self.L, self.W = symbol_bits, max_length, word_width
        self.nsym = 1 << symbol_bits
        self.count_limit = 1 << min(word_width, 32)
        self.counts = [0] * (max_length + 1)
        self.symtab = [0] * self.nsym
        self.loading, self.loaded, self.used, self.prev = False, 0, set(), 0
        self.decoding, self.count, self.words = False, 0, []
        self.symbols: list[int] = []

    def starts(self) -> list[int]:
        """``starts[l]``: codes shorter than ``l``, for ``l = 1..max_length + 1``."""
        return [int(np.sum(self.counts[1:l])) for l in range(1, self.L + 2)]

    def table_bad(self) -> bool:
        lengths = np.repeat(np.arange(self.L + 1), self.counts)
        return sum(self.counts) != self.loaded or kraft_sum(lengths) > 1

    def code(self) -> CanonicalCode:
        return CanonicalCode.from_description(self.counts, self.symtab[:self.loaded],
                                              self.nsym, self.L)

    def table_beat(self, kind: int, index: int, value: int) -> bool:
        """Apply a ``LEN``/``SYM`` beat between packets; False: a protocol error."""
        if not self.loading:                      # the first beat of a load
            self.loading = True
            self.counts = [0] * (self.L + 1)
            self.loaded, self.used = 0, set()
        if kind == KIND["LEN"]:
            if not (1 <= index <= self.L and value <= self.nsym and self.loaded == 0):
                return False
            self.counts[index] = value
            return True
        group_start = index in self.starts()
        if not (index == self.loaded and index < self.nsym and value < self.nsym
                and value not in self.used and (group_start or value > self.prev)):
            return False
        self.symtab[index] = value
        self.loaded += 1
        self.used.add(value)
        self.prev = value
        return True

    def count_beat(self, value: int, last: bool) -> int | None:
        """Apply a ``COUNT`` beat; the error kind it raises, or None."""
        self.loading = False
        if self.table_bad() or value >= self.count_limit:
            return PROTOCOL
        if last:
            return TRUNCATED if value else None
        if value == 0:
            return PROTOCOL
        self.decoding, self.count, self.words, self.delivered = True, value, [], 0
        return None

    def finish(self, words, final: bool) -> tuple[list[int], int | None]:
        """Symbols and error of the packet's ``words`` (``final``: the last one is in)."""
        try:
            out = decode(words, self.code(), self.count, self.W)
        except HuffmanDecodeError as exc:
            kind = ERROR_CODES[exc.kind]
            if not final and kind == TRUNCATED:   # not an error yet: more words may come
                kind = None
            return [int(s) for s in exc.symbols], kind
        return [int(s) for s in out], None if final else PROTOCOL


class ReferenceDecoder(_Decoder):
    """The reference model as an object with the decoder's state: :meth:`feed` beats (the
    state carries over, table included, as in the hardware), :meth:`restart`."""

    def __init__(self, symbol_bits: int, max_length: int, word_width: int):
        super().__init__(symbol_bits, max_length, word_width)
        self.error = frozenset()       # the error kinds the decoder may be showing

    def restart(self) -> None:
        """``restart``: the packet and the error go, the table stays, a load ends."""
        self.decoding, self.loading, self.error = False, False, frozenset()

    def feed(self, beats) -> Outcome:
        """The outcome of ``beats`` (``(kind, index, data, last)`` tuples, kinds as
        :class:`hw.huffman.Kind`) from the current state; see the module doc.  A packet
        left open at the end (no final word yet) delivers what its words so far decode;
        its error is the one they already show (an invalid code, or the count reached
        before the final word).  After an error, beats are dropped until a restart."""
        self.symbols = []
        if self.error:
            return Outcome(np.zeros(0, dtype=np.int64), self.error)
        for kind, index, value, last in beats:
            outcome = self._beat(int(kind), int(index), int(value), bool(last))
            if outcome is not None:
                self.error = outcome.kinds
                return outcome
        if self.decoding:
            got, err = self.finish(self.words, final=False)
            got, self.delivered = got[self.delivered:], len(got)
            if err is not None:
                self.error = frozenset({err})
            return _outcome(self.symbols + got, NONE if err is None else err)
        return _outcome(self.symbols, NONE)

    def _beat(self, kind, index, value, last) -> Outcome | None:
        """One beat; an outcome when it ends in an error."""
        if self.decoding:
            if kind != KIND["DATA"]:              # a beat breaking into the packet
                got, err = self.finish(self.words, final=False)
                got = got[self.delivered:]
                kinds = {PROTOCOL} | ({err} if err is not None else set())
                return Outcome(np.array(self.symbols + got, dtype=np.int64),
                               frozenset(kinds), exact=False)
            self.words.append(value)
            if last:                              # an error inside the words shows here
                got, err = self.finish(self.words, final=True)   # too, at its position
                self.symbols += got[self.delivered:]
                self.decoding = False
                if err is not None:
                    return _outcome(self.symbols, err)
            return None
        if kind in (KIND["LEN"], KIND["SYM"]):
            if not self.table_beat(kind, index, value):
                return _outcome(self.symbols, PROTOCOL)
        elif kind == KIND["COUNT"]:
            err = self.count_beat(value, last)
            if err is not None:
                return _outcome(self.symbols, err)
        else:                                     # DATA outside a packet
            return _outcome(self.symbols, PROTOCOL)
        return None


def reference_outcome(beats, symbol_bits: int, max_length: int, word_width: int) -> Outcome:
    """The outcome of ``beats`` on a decoder of these parameters just out of reset (no
    codes in its table): :meth:`ReferenceDecoder.feed`."""
    return ReferenceDecoder(symbol_bits, max_length, word_width).feed(beats)


def _outcome(symbols, kind) -> Outcome:
    return Outcome(np.array(symbols, dtype=np.int64), frozenset({kind}))
