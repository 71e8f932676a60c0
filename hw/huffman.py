"""The streaming canonical Huffman decoder (SPEC 4).

One input stream ``i`` carries *beats* of four kinds (field ``kind``); a *packet* is the
beats of one encoded stream, optionally preceded by table beats:

``LEN`` (1)
    ``index`` = a code length ``l`` (1..``max_length``), ``data`` = the number of codes of
    that length (0..``2^symbol_bits``).
``SYM`` (2)
    ``index`` = a position in canonical order, ``data`` = the symbol there.
``COUNT`` (3)
    ``data`` = the number of symbols of the stream that follows (``< 2^min(word_width,
    32)``).  ``last`` on it means the bitstream is empty (then ``data`` must be 0: a
    ``COUNT`` above 0 without words is a truncated stream, one of 0 with words a protocol
    error).
``DATA`` (0)
    a ``word_width``-bit word of the bitstream, MSB first; ``last`` marks the final word
    (the *final-word marker*; with the count it delimits the stream exactly).

A *table load* is a run of table beats between packets: its first beat sets every count
to 0 and empties the symbol list, then its ``LEN`` beats set counts (the last write of a
length wins) and its ``SYM`` beats follow them in index order ``0, 1, 2, ...``.  The table
persists until the next load (a packet without table beats reuses it; ``restart`` ends a
load but keeps the table).  A table is accepted only as :meth:`golden.huffman.CanonicalCode
.from_description` would accept it: at the beat, a length outside ``1..max_length``, a
count above ``2^symbol_bits``, a ``LEN`` after a ``SYM`` of the same load, a ``SYM`` out of
index order, a symbol outside the alphabet, a repeated symbol or one not above its
predecessor of the same length; at the ``COUNT`` beat, counts whose sum differs from the
number of symbols loaded, or an over-subscribed table (Kraft sum above 1).  Each is a
protocol error raised before any symbol of the packet.

Symbols come out on ``o`` (``unsigned(symbol_bits)``; with ``lanes > 1`` a struct of
``lanes`` symbols ``sym[k]`` and their number ``n``, 1..``lanes``).

Errors (sticky ``error`` flag and ``error_kind``): 1 *invalid* -- ``max_length`` bits
match no code; 2 *truncated* -- the final word went by with fewer than ``count`` symbols
decoded (or inside a code); 3 *protocol* -- a whole word after the count-th symbol, a
table beat or ``COUNT`` inside a packet, ``DATA`` without a ``COUNT``, a ``COUNT`` of
``2^min(word_width, 32)`` or more, or a table the rules above reject.  Symbols decoded
before an error are delivered, none after it.  In the error state every input beat is
accepted and dropped, so the producer never stalls; ``restart`` (one clock, synchronous)
clears the bit buffer, the pending output, the error and the packet state -- the table is
kept.  :class:`quantrtl.vectors.huffman_model.ReferenceDecoder` (golden ``from_description`` and
:func:`golden.huffman.decode`) defines the same outcomes for any beat sequence.

Datapath, one part each (:class:`HuffmanDecoder` joins them with :func:`wiring.connect`):

:class:`PacketControl`
    the packet state, the symbol count, the error kinds and ``restart``; it routes each
    input beat to the table (:class:`LoadSignature`) or the bit buffer (a stream of words).
:class:`CodeTable`
    counts per length and symbols in canonical order, loaded beat by beat and checked as
    the load goes; :class:`CanonicalOffsets` computes ``first``/``offset`` from the counts
    (registered) and the checks at the ``COUNT`` beat, which may follow the last table beat
    immediately.
:class:`BitBuffer`
    ``word_width + 2 * lanes * max_length`` bits, MSB aligned; a word is appended whenever
    it fits (``nbits <= capacity - word_width``), so with the output ready ``lanes`` symbols
    leave every clock as long as the words bring bits fast enough (``word_width >= lanes *
    code length``).
:class:`LaneDecoder`
    ``lanes`` code matchers (:class:`CodeMatch`), each decoding the canonical code at the
    top of the buffer (shifted by the previous lanes' lengths) in one clock: for every
    length ``l``, ``code_l - first[l] < count[l]`` selects the length, ``offset[l] + code_l
    - first[l]`` the table index; and the output register, a 1:1
    :class:`hw.pipeline.StallPipeline` (``restart`` is its ``flush``).
"""

import types

from amaranth import Array, Cat, Const, Module, Mux, Signal, unsigned
from amaranth.hdl import Assert
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.wiring import In, Out

from quantrtl.spec import HuffmanError, HuffmanKind, Param
from .component import Component
from .pipeline import StallPipeline

__all__ = ["HuffmanDecoder", "Kind", "ErrorKind", "PacketControl", "CodeTable",
           "CanonicalOffsets", "BitBuffer", "CodeMatch", "LaneDecoder", "LoadSignature",
           "CanonicalSignature", "CodeSignature", "HeadSignature", "DecodeSignature"]


def _hardware_enum(name, spec_enum, shape):
    """An Amaranth enum with the members of one of the spec's (values written once)."""
    members = {m.name: m.value for m in spec_enum}
    cls = types.new_class(name, (enum.Enum,), {"shape": shape}, lambda ns: ns.update(members))
    cls.__module__ = __name__
    return cls


Kind = _hardware_enum("Kind", HuffmanKind, 2)                # the input beat's kind field
ErrorKind = _hardware_enum("ErrorKind", HuffmanError, 2)     # the error_kind output


class _State(enum.Enum, shape=2):
    IDLE = 0
    DECODE = 1
    ERROR = 2


# The decoder's parameters; each part checks the ones it takes against the same specs.
_SYMBOL_BITS = Param("symbol_bits", 4, "bits per symbol (table of up to 2^symbol_bits "
                     "symbols)", lo=1, hi=8)
_MAX_LENGTH = Param("max_length", 8, "longest code length", lo=1, hi=16)
_WORD_WIDTH = Param("word_width", 32, "bits per bitstream word", lo=16, hi=64)
_LANES = Param("lanes", 1, "symbols decoded per clock (at most)", lo=1, hi=4)


def beat_layout(word_width: int) -> data.StructLayout:
    """The input beat: ``data``, ``index``, ``kind`` (:class:`Kind`), ``last``."""
    return data.StructLayout({"data": unsigned(word_width), "index": unsigned(8), "kind": Kind,
                              "last": 1})


def word_layout(word_width: int) -> data.StructLayout:
    """A bitstream word on its way to the bit buffer: ``data``, ``last`` (the final word)."""
    return data.StructLayout({"data": unsigned(word_width), "last": 1})


def output_shape(symbol_bits: int, lanes: int):
    """``unsigned(symbol_bits)``; with ``lanes > 1`` the struct of ``sym[lanes]`` and ``n``."""
    if lanes == 1:
        return unsigned(symbol_bits)
    return data.StructLayout({"sym": data.ArrayLayout(unsigned(symbol_bits), lanes),
                              "n": range(lanes + 1)})


def count_bits(word_width: int) -> int:
    """Bits of the symbol count: a ``COUNT`` is below ``2^min(word_width, 32)``."""
    return min(word_width, 32)


def capacity(word_width: int, max_length: int, lanes: int) -> int:
    """Bits of the bit buffer: a word plus two lanes' worth of the longest codes."""
    return word_width + 2 * lanes * max_length


# ---------------------------------------------------------------- the interfaces

class LoadSignature(wiring.Signature):
    """A table load, as :class:`PacketControl` drives it (:class:`CodeTable` takes it
    flipped).

    Members
    -------
    beat : Out(beat_layout(word_width))
        The input beat (its ``kind``, ``index`` and ``data`` are read).
    write : Out(1)
        A ``LEN``/``SYM`` beat accepted between packets: apply it (the first beat of a load
        empties the table first).
    done : Out(1)
        The load ends (a ``COUNT`` beat accepted, or ``restart``).
    ok : In(1)
        The beat obeys the load rules (of a ``LEN`` beat if ``kind`` is ``LEN``, else of a
        ``SYM`` beat).
    bad : In(1)
        The table loaded is refused: counts that sum to other than the symbols loaded, or
        over-subscribed.
    """

    def __init__(self, word_width: int):
        super().__init__({"beat": Out(beat_layout(word_width)), "write": Out(1),
                          "done": Out(1), "ok": In(1), "bad": In(1)})


class CanonicalSignature(wiring.Signature):
    """The canonical code of a table, as the table drives it: ``counts``, ``first`` and
    ``offset``, each ``[max_length + 1]`` (index 0 unused, 0).

    Members
    -------
    counts : Out(ArrayLayout(unsigned(symbol_bits + 1), max_length + 1))
        Codes of each length.
    first : Out(ArrayLayout(unsigned(max_length + 2), max_length + 1))
        The first code of each length (puff.c's ``first``).
    offset : Out(ArrayLayout(unsigned(symbol_bits + 1), max_length + 1))
        The canonical index of that first code (codes shorter than the length).
    """

    def __init__(self, symbol_bits: int, max_length: int):
        S, L = symbol_bits, max_length
        super().__init__({"counts": Out(data.ArrayLayout(unsigned(S + 1), L + 1)),
                          "first": Out(data.ArrayLayout(unsigned(L + 2), L + 1)),
                          "offset": Out(data.ArrayLayout(unsigned(S + 1), L + 1))})


class CodeSignature(wiring.Signature):
    """The code table, as :class:`CodeTable` drives it (:class:`LaneDecoder` takes it
    flipped).

    Members
    -------
    canonical : Out(CanonicalSignature(symbol_bits, max_length))
        The canonical code.
    index : In(ArrayLayout(unsigned(symbol_bits), lanes))
        A canonical index per lane.
    symbol : Out(ArrayLayout(unsigned(symbol_bits), lanes))
        The symbol at each lane's index.
    """

    def __init__(self, symbol_bits: int, max_length: int, lanes: int):
        S = symbol_bits
        super().__init__({"canonical": Out(CanonicalSignature(S, max_length)),
                          "index": In(data.ArrayLayout(unsigned(S), lanes)),
                          "symbol": Out(data.ArrayLayout(unsigned(S), lanes))})


class HeadSignature(wiring.Signature):
    """The head of the bit buffer, as :class:`BitBuffer` drives it (:class:`LaneDecoder`
    takes it flipped).

    Members
    -------
    bits : Out(lanes * max_length)
        The first ``lanes * max_length`` buffered bits, the first one the MSB (zeros past
        ``nbits``).
    nbits : Out(range(capacity + 1))
        Bits buffered.
    last : Out(1)
        The final word is in the buffer.
    consumed : In(range(lanes * max_length + 1))
        Bits to drop from the head at this clock.
    """

    def __init__(self, word_width: int, max_length: int, lanes: int):
        head = lanes * max_length
        super().__init__({"bits": Out(head),
                          "nbits": Out(range(capacity(word_width, max_length, lanes) + 1)),
                          "last": Out(1), "consumed": In(range(head + 1))})


class DecodeSignature(wiring.Signature):
    """Decoding, as :class:`PacketControl` drives it (:class:`LaneDecoder` takes it
    flipped).

    Members
    -------
    enable : Out(1)
        Inside a packet: the lanes may decode.
    remaining : Out(count_bits(word_width))
        Symbols of the packet still to decode (lane ``k`` decodes only while ``remaining >
        k``).
    emitted : In(range(lanes + 1))
        Symbols decoded and handed to the output register at this clock.
    invalid : In(1)
        Lane 0 holds ``max_length`` bits that match no code.
    truncated : In(1)
        The final word is in and no code fits the fewer than ``max_length`` bits left.
    """

    def __init__(self, word_width: int, lanes: int):
        super().__init__({"enable": Out(1), "remaining": Out(count_bits(word_width)),
                          "emitted": In(range(lanes + 1)), "invalid": In(1),
                          "truncated": In(1)})


# ---------------------------------------------------------------- the code table

class CanonicalOffsets(Component):
    """The canonical arithmetic of a table (puff.c), combinational.

    ``top = first[l] + counts[l] <= 2^l`` for every length is Kraft's inequality; the
    starts are wide enough never to wrap (up to ``max_length * 2^symbol_bits`` codes)::

        first[1] = 0;  first[l + 1] = (first[l] + counts[l]) << 1
        starts[l] = counts[1] + ... + counts[l - 1];  offset[l] = starts[l]

    Parameters
    ----------
    symbol_bits, max_length : int
        As :class:`HuffmanDecoder`.

    Members
    -------
    counts : In(ArrayLayout(unsigned(symbol_bits + 1), max_length + 1))
        Codes of each length (``counts[0]`` ignored).
    first, offset : Out(...)
        As :class:`CanonicalSignature` (``offset`` is ``starts`` cut to ``symbol_bits + 1``
        bits).
    starts : Out(ArrayLayout(unsigned(wide), max_length + 2))
        Codes shorter than ``l``, exact, for ``l = 1..max_length + 1`` (``starts[max_length
        + 1]`` is the number of codes); ``wide = symbol_bits + bit_length(max_length + 1) +
        1``.
    oversubscribed : Out(1)
        The Kraft sum is above 1.
    """

    PARAMS = (_SYMBOL_BITS, _MAX_LENGTH)
    LATENCY = 0  # combinational

    def __init__(self, *, symbol_bits=4, max_length=8):
        self.check_params(symbol_bits=symbol_bits, max_length=max_length)
        S, L = self.symbol_bits, self.max_length
        self.wide = S + (L + 1).bit_length() + 1
        canonical = CanonicalSignature(S, L).members
        super().__init__({
            "counts": In(canonical["counts"].shape),
            "first": Out(canonical["first"].shape),
            "offset": Out(canonical["offset"].shape),
            "starts": Out(data.ArrayLayout(unsigned(self.wide), L + 2)),
            "oversubscribed": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        L, S = self.max_length, self.symbol_bits
        f, off, bad = Const(0, L + 2), Const(0, self.wide), Const(0, 1)
        m.d.comb += self.starts[1].eq(off)
        for l in range(1, L + 1):
            m.d.comb += [self.first[l].eq(f), self.offset[l].eq(off[:S + 1])]
            top = f + self.counts[l]
            bad = bad | (top > (1 << l))
            off = (off + self.counts[l])[:self.wide]
            f = (top << 1)[:L + 2]
            m.d.comb += self.starts[l + 1].eq(off)
        m.d.comb += self.oversubscribed.eq(bad)
        return m


class CodeTable(Component):
    """Counts per length and symbols in canonical order, loaded beat by beat; their
    canonical code for the lanes.

    A load is a run of ``write`` beats ended by ``done``; its first beat sets every count
    to 0 and empties the symbol list.  ``ok`` says whether the beat offered obeys the rules
    of the module doc (:meth:`golden.huffman.CanonicalCode.from_description`'s, beat by
    beat); a beat that breaks them changes nothing but the start of the load.  ``bad``
    (from the counts and the symbols loaded) is the check at the ``COUNT`` beat.

    Parameters
    ----------
    symbol_bits, max_length, word_width, lanes : int
        As :class:`HuffmanDecoder`.

    Members
    -------
    load : In(LoadSignature(word_width))
        The table beats.
    code : Out(CodeSignature(symbol_bits, max_length, lanes))
        The counts, the registered ``first``/``offset``, a symbol lookup per lane.
    """

    PARAMS = (_SYMBOL_BITS, _MAX_LENGTH, _WORD_WIDTH, _LANES)
    # Clocks from an accepted LEN beat to its count in the registered first/offset (the
    # count register, then theirs); the COUNT check reads the counts one clock after it.
    LATENCY = 2

    def __init__(self, *, symbol_bits=4, max_length=8, word_width=32, lanes=1):
        self.check_params(symbol_bits=symbol_bits, max_length=max_length,
                          word_width=word_width, lanes=lanes)
        super().__init__({
            "load": In(LoadSignature(self.word_width)),
            "code": Out(CodeSignature(self.symbol_bits, self.max_length, self.lanes)),
        })

    def elaborate(self, platform):
        m = Module()
        L, S = self.max_length, self.symbol_bits
        m.submodules.canonical = canon = CanonicalOffsets(symbol_bits=S, max_length=L)
        counts = [Signal(S + 1, name=f"count{l}") for l in range(L + 1)]  # counts[0] unused
        symtab = Array(Signal(S, name=f"sym{k}") for k in range(1 << S))
        self._canonical_code(m, canon, counts, symtab)
        # The load in progress: symbols written so far (in index order), which symbols they
        # are, the last one.  A beat outside a load starts one.
        loading = Signal()
        loaded = Signal(S + 1)
        used = Signal(1 << S)
        prev_sym = Signal(S)
        loaded_now = Mux(loading, loaded, 0)
        used_now = Mux(loading, used, 0)
        beat = self.load.beat
        len_ok, sym_ok = self._rules(m, canon.starts, loading, loaded_now, used_now, prev_sym)
        is_len = beat.kind == Kind.LEN
        m.d.comb += [self.load.ok.eq(Mux(is_len, len_ok, sym_ok)),
                     self.load.bad.eq(canon.oversubscribed | (canon.starts[L + 1] != loaded))]

        with m.If(self.load.write):
            m.d.sync += loading.eq(1)
            with m.If(~loading):
                m.d.sync += [c.eq(0) for c in counts[1:]]
                m.d.sync += [loaded.eq(0), used.eq(0)]
            with m.If(is_len & len_ok):
                for l in range(1, L + 1):
                    with m.If(beat.index == l):
                        m.d.sync += counts[l].eq(beat.data)
            with m.If(~is_len & sym_ok):
                m.d.sync += [symtab[beat.index[:S]].eq(beat.data),
                             loaded.eq(loaded_now + 1),
                             used.eq(used_now | (1 << beat.data[:S])),
                             prev_sym.eq(beat.data)]
        with m.If(self.load.done):
            m.d.sync += loading.eq(0)
        return m

    def _canonical_code(self, m, canon, counts, symtab):
        """Drive ``code``: the counts, ``first``/``offset`` registered from them, the symbol
        at each lane's index."""
        L, S = self.max_length, self.symbol_bits
        first = [Signal(L + 2, name=f"first{l}") for l in range(L + 1)]
        offset = [Signal(S + 1, name=f"offset{l}") for l in range(L + 1)]
        code = self.code.canonical
        for l in range(1, L + 1):
            m.d.comb += [canon.counts[l].eq(counts[l]), code.counts[l].eq(counts[l]),
                         code.first[l].eq(first[l]), code.offset[l].eq(offset[l])]
            m.d.sync += [first[l].eq(canon.first[l]), offset[l].eq(canon.offset[l])]
        for k in range(self.lanes):
            m.d.comb += self.code.symbol[k].eq(symtab[self.code.index[k]])

    def _rules(self, m, starts, loading, loaded_now, used_now, prev_sym):
        """``(len_ok, sym_ok)``: the beat obeys the rules of a ``LEN`` beat -- a length in
        ``1..max_length``, a count up to the alphabet, no symbol loaded yet -- or of a
        ``SYM`` beat -- the next index, a symbol of the alphabet not loaded yet and, inside a
        length's group of codes, above its predecessor."""
        L, S = self.max_length, self.symbol_bits
        nsym, beat = 1 << S, self.load.beat
        group_start = Signal()  # the SYM beat's index starts a length's group of codes
        m.d.comb += group_start.eq(Cat(Mux(loading, starts[l], 0) == beat.index
                                       for l in range(1, L + 2)).any())
        sym_ok = ((beat.index == loaded_now) & (beat.index < nsym) & (beat.data < nsym)
                  & ~(used_now >> beat.data[:S])[0]
                  & (group_start | (beat.data > prev_sym)))
        len_ok = (beat.index != 0) & (beat.index <= L) & (beat.data <= nsym) & (loaded_now == 0)
        return len_ok, sym_ok


# ---------------------------------------------------------------- the bit buffer

class BitBuffer(Component):
    """The bitstream between its words and the lanes: ``capacity`` bits, MSB aligned.

    Each clock drops the ``head.consumed`` bits at the head and appends the word accepted
    (if any) behind the bits kept; a word is accepted whenever it fits and the final word
    is not in yet.  Bits below the valid region are kept zero (words are ORed in).
    ``clear`` empties the buffer (and forgets the final word), whatever else happens.

    Parameters
    ----------
    word_width, max_length, lanes : int
        As :class:`HuffmanDecoder`.

    Members
    -------
    words : In(stream.Signature(word_layout(word_width)))
        The bitstream's words (``last``: the final word).
    clear : In(1)
        Empty the buffer at this clock.
    head : Out(HeadSignature(word_width, max_length, lanes))
        The bits at the head, for the lanes.
    drained : Out(1)
        After this clock the final word is in and fewer than ``word_width`` bits are left
        (only its padding can be).
    """

    PARAMS = (_WORD_WIDTH, _MAX_LENGTH, _LANES)
    LATENCY = 1  # a word accepted at one clock is at the head from the next

    def __init__(self, *, word_width=32, max_length=8, lanes=1):
        self.check_params(word_width=word_width, max_length=max_length, lanes=lanes)
        self.capacity = capacity(self.word_width, self.max_length, self.lanes)
        super().__init__({
            "words": In(stream.Signature(word_layout(self.word_width))),
            "clear": In(1),
            "head": Out(HeadSignature(self.word_width, self.max_length, self.lanes)),
            "drained": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        BUF, W = self.capacity, self.word_width
        buf = Signal(BUF)
        nbits = Signal(range(BUF + 1))
        last_seen = Signal()
        word, consumed = self.words.payload, self.head.consumed
        take = self.words.valid & self.words.ready
        kept = Signal(range(BUF + 1))
        m.d.comb += kept.eq(nbits - consumed)
        shifted = (buf << consumed)[:BUF]
        appended = (Cat(Const(0, BUF - W), word.data) >> kept)[:BUF]
        nbits_next = Mux(take, kept + W, kept)
        last_next = last_seen | (take & word.last)
        # Not a StallPipeline: a variable-rate buffer, whose ready is its free space.  A
        # word is taken whenever its W bits fit behind the bits held (nbits <= BUF - W)
        # and the final word is not in yet, whatever the lanes consume at this clock; the
        # lanes drop 0 .. lanes * max_length bits a clock, so words in and bits out move
        # at unrelated rates and no register here advances with the output's ready (a
        # global stall, ready = ~o.valid | o.ready, would take a word only as one leaves).
        # From registers only: never a function of consumed, o.ready or the payload.
        m.d.comb += [self.words.ready.eq(~last_seen & (nbits <= BUF - W)),
                     self.head.bits.eq(buf[BUF - len(self.head.bits):]),
                     self.head.nbits.eq(nbits),
                     self.head.last.eq(last_seen),
                     self.drained.eq(last_next & (nbits_next < W))]
        with m.If(self.clear):
            m.d.sync += [buf.eq(0), nbits.eq(0), last_seen.eq(0)]
        with m.Else():
            m.d.sync += [buf.eq(Mux(take, shifted | appended, shifted)),
                         nbits.eq(nbits_next),
                         last_seen.eq(last_next)]
        if platform == "formal":
            m.d.comb += Assert(nbits <= BUF)  # proved with the block's claims (tb.proofs)
        return m


# ---------------------------------------------------------------- the lanes

class CodeMatch(Component):
    """The canonical code at the head of a ``max_length``-bit window, combinational
    (:meth:`golden.huffman.CanonicalCode.match`)::

        v = window >> (max_length - l)                    # the l-bit prefix
        match[l] = 0 <= v - first[l] < counts[l]
        length = the shortest l that matches;  index = offset[l] + v - first[l]

    Parameters
    ----------
    symbol_bits, max_length : int
        As :class:`HuffmanDecoder`.

    Members
    -------
    code : In(CanonicalSignature(symbol_bits, max_length))
        The canonical code.
    window : In(max_length)
        The bits, the first one the MSB.
    found : Out(1)
        A code matches.
    length : Out(range(max_length + 1))
        Its length (0 if none).
    index : Out(unsigned(symbol_bits))
        Its canonical index (0 if none).
    """

    PARAMS = (_SYMBOL_BITS, _MAX_LENGTH)
    LATENCY = 0  # combinational

    def __init__(self, *, symbol_bits=4, max_length=8):
        self.check_params(symbol_bits=symbol_bits, max_length=max_length)
        super().__init__({
            "code": In(CanonicalSignature(self.symbol_bits, self.max_length)),
            "window": In(self.max_length),
            "found": Out(1),
            "length": Out(range(self.max_length + 1)),
            "index": Out(unsigned(self.symbol_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        L, S, code = self.max_length, self.symbol_bits, self.code
        match = Signal(L + 1)  # match[l]: a code of length l matches
        index = []
        for l in range(1, L + 1):
            diff = self.window[L - l:] - code.first[l]
            m.d.comb += match[l].eq((diff >= 0) & (diff < code.counts[l]))
            index.append((code.offset[l] + diff)[:S])
        for l in reversed(range(1, L + 1)):  # the shortest matching length wins
            with m.If(match[l]):
                m.d.comb += [self.length.eq(l), self.index.eq(index[l - 1])]
        m.d.comb += self.found.eq(match[1:].any())
        return m


class LaneDecoder(Component):
    """Up to ``lanes`` symbols per clock from the head of the bit buffer, into the output
    register.

    Lane ``k`` matches the code behind the previous lanes' codes; it decodes if they all
    did, the code fits in ``nbits`` and ``remaining > k``.  The lanes feed the output
    register through a 1:1 :class:`hw.pipeline.StallPipeline`: when it can advance (empty
    or taken, ``~o.valid | o.ready``), the symbols decoded go into it and their bits are
    consumed (``consumed`` and ``emitted`` are 0 in any other clock).  Lane 0's window also
    tells the control why nothing decodes: an *invalid* code (``max_length`` bits there and
    no match) or a *truncated* stream (final word in, fewer bits than ``max_length``, no
    code fits).  ``flush`` empties the output register (the pipeline's ``flush``).  The
    output payload loads only with a decoded beat and holds through bubbles.

    Parameters
    ----------
    symbol_bits, max_length, word_width, lanes : int
        As :class:`HuffmanDecoder`.

    Members
    -------
    head : In(HeadSignature(word_width, max_length, lanes))
        The bit buffer.
    code : In(CodeSignature(symbol_bits, max_length, lanes))
        The code table.
    decode : In(DecodeSignature(word_width, lanes))
        The control.
    flush : In(1)
        Drop the pending output (``restart``).
    o : Out(stream.Signature(output_shape(symbol_bits, lanes)))
        The symbols.
    """

    PARAMS = (_SYMBOL_BITS, _MAX_LENGTH, _WORD_WIDTH, _LANES)
    LATENCY = 1  # the symbols at the head at one clock are on ``o`` from the next

    def __init__(self, *, symbol_bits=4, max_length=8, word_width=32, lanes=1):
        self.check_params(symbol_bits=symbol_bits, max_length=max_length,
                          word_width=word_width, lanes=lanes)
        S, L, W, K = self.symbol_bits, self.max_length, self.word_width, self.lanes
        super().__init__({
            "head": In(HeadSignature(W, L, K)),
            "code": In(CodeSignature(S, L, K)),
            "decode": In(DecodeSignature(W, K)),
            "flush": In(1),
            "o": Out(stream.Signature(output_shape(S, K))),
        })

    def elaborate(self, platform):
        m = Module()
        L, K = self.max_length, self.lanes
        head, decode = self.head, self.decode
        lanes = [CodeMatch(symbol_bits=self.symbol_bits, max_length=L) for _ in range(K)]
        for k, lane in enumerate(lanes):
            m.submodules[f"match{k}"] = lane
        wiring.connect(m, wiring.flipped(self.code.canonical), *(lane.code for lane in lanes))
        # The lanes into the output register: a 1:1 StallPipeline whose input beat is the
        # symbols decoded at this clock (valid: lane 0 decodes), taken while the register is
        # empty or being read; ``flush`` empties it.
        decoded = types.SimpleNamespace(valid=Signal(name="decoded_valid"),
                                        ready=Signal(name="decoded_ready"),
                                        payload=Signal(output_shape(self.symbol_bits, K),
                                                       name="decoded"))
        pipe = StallPipeline(m, decoded, self.o, flush=self.flush)
        shift = Const(0, range(K * L + 1))
        oks, prev_ok = [], decode.enable
        for k, lane in enumerate(lanes):
            ok = Signal(name=f"ok{k}")
            m.d.comb += [lane.window.eq((head.bits << shift)[K * L - L:K * L]),
                         self.code.index[k].eq(lane.index),
                         ok.eq(prev_ok & lane.found & (shift + lane.length <= head.nbits)
                               & (decode.remaining > k))]
            oks.append(ok)
            shift = Mux(ok, shift + lane.length, shift)
            prev_ok = ok
        # Lane k decodes only if lane k - 1 did: the beat is valid iff lane 0 decodes.
        m.d.comb += [decoded.valid.eq(oks[0]),
                     head.consumed.eq(Mux(decoded.ready, shift, 0)),
                     decode.emitted.eq(Mux(decoded.ready, sum(oks), 0))]
        if K == 1:
            m.d.comb += decoded.payload.eq(self.code.symbol[0])
        else:
            m.d.comb += decoded.payload.n.eq(sum(oks))
            m.d.comb += [decoded.payload.sym[k].eq(self.code.symbol[k]) for k in range(K)]
        pipe.output(pipe.valid, decoded.payload)
        lane0 = lanes[0]
        fits0 = lane0.found & (lane0.length <= head.nbits)
        m.d.comb += [decode.invalid.eq((head.nbits >= L) & ~lane0.found),
                     decode.truncated.eq(head.last & (head.nbits < L) & ~fits0)]
        return m


# ---------------------------------------------------------------- the control

class PacketControl(Component):
    """The packet state (between packets, decoding, error), the symbols still to decode,
    the error kinds and ``restart``.

    Between packets a table beat goes to the table (a protocol error if it breaks the load
    rules) and a ``COUNT`` beat starts a packet (a protocol error if the table is refused,
    the count is too wide, or words follow a count of 0; truncated if it claims symbols
    and no words follow).  In a packet words go to the bit buffer (``i.ready`` is its
    ``words.ready``); any other beat, an invalid or a truncated code, or the count reached
    with more than the final word's padding left, is an error; the count reached with the
    buffer ``drained`` ends the packet.  In the error state every beat is accepted and
    dropped.  ``restart`` takes no beat, clears the error and the packet state, ends a load
    and empties the buffer; ``clear`` empties it between packets too.

    Parameters
    ----------
    word_width, lanes : int
        As :class:`HuffmanDecoder`.

    Members
    -------
    i : In(stream.Signature(beat_layout(word_width)))
        The decoder's input.
    restart : In(1)
        The decoder's ``restart``.
    load : Out(LoadSignature(word_width))
        To the table.
    words : Out(stream.Signature(word_layout(word_width)))
        To the bit buffer.
    clear : Out(1)
        Empty the bit buffer.
    drained : In(1)
        From the bit buffer.
    decode : Out(DecodeSignature(word_width, lanes))
        To the lanes.
    error, error_kind, busy : Out
        The decoder's.
    """

    PARAMS = (_WORD_WIDTH, _LANES)
    LATENCY = 1  # an accepted beat's error or packet state shows from the next clock

    def __init__(self, *, word_width=32, lanes=1):
        self.check_params(word_width=word_width, lanes=lanes)
        self.count_bits = count_bits(self.word_width)
        W = self.word_width
        super().__init__({
            "i": In(stream.Signature(beat_layout(W))),
            "restart": In(1),
            "load": Out(LoadSignature(W)),
            "words": Out(stream.Signature(word_layout(W))),
            "clear": Out(1),
            "drained": In(1),
            "decode": Out(DecodeSignature(W, self.lanes)),
            "error": Out(1),
            "error_kind": Out(ErrorKind),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        state = Signal(_State)
        remaining = Signal(self.count_bits)
        error_kind = Signal(ErrorKind)
        decoding = state == _State.DECODE
        m.d.comb += [self.error.eq(error_kind != ErrorKind.NONE),
                     self.error_kind.eq(error_kind),
                     self.busy.eq(decoding),
                     self.decode.enable.eq(decoding),
                     self.decode.remaining.eq(remaining)]
        take = self._route(m, state)
        remaining_next = remaining - self.decode.emitted
        m.d.sync += remaining.eq(remaining_next)

        def fail(kind):
            m.d.sync += [error_kind.eq(kind), state.eq(_State.ERROR)]

        with m.Switch(state):
            with m.Case(_State.IDLE):
                m.d.comb += self.clear.eq(1)
                with m.If(take):
                    self._between_packets(m, state, remaining, fail)
            with m.Case(_State.DECODE):
                self._in_packet(m, state, take, remaining, remaining_next, fail)
        with m.If(self.restart):
            m.d.comb += self.clear.eq(1)
            m.d.sync += [state.eq(_State.IDLE), remaining.eq(0), error_kind.eq(ErrorKind.NONE)]
        if platform == "formal":
            # Invariants of these registers, proved with the block's claims (tb.proofs).
            m.d.comb += [Assert(state.as_value() != 3),
                         Assert((error_kind != ErrorKind.NONE) == (state == _State.ERROR))]
        return m

    def _route(self, m, state):
        """``i.ready`` and where the beat goes (a word to the buffer, a table beat to the
        table); return whether a beat is taken."""
        beat, restart = self.i.payload, self.restart
        idle, decoding = state == _State.IDLE, state == _State.DECODE
        # Not a StallPipeline: a router, with no register on the beat's path.  Each beat
        # goes, in the clock it is offered, to the sink of the state: the control and the
        # table between packets and in the error state, which take any beat, and inside a
        # packet the bit buffer (words, passed through combinationally), whose ready is
        # its free space (BitBuffer: a variable-rate buffer).  i.ready is that sink's
        # ready, low in a restart clock; no output register empties or is read to advance
        # anything here (there is no ~o.valid | o.ready), so a StallPipeline would be one
        # without registers, all of it stall = restart | decoding & ~words.ready.
        with m.Switch(state):
            with m.Case(_State.IDLE, _State.ERROR):
                m.d.comb += self.i.ready.eq(~restart)
            with m.Case(_State.DECODE):
                m.d.comb += self.i.ready.eq(~restart & self.words.ready)
        take = self.i.valid & self.i.ready
        table_beat = (beat.kind == Kind.LEN) | (beat.kind == Kind.SYM)
        m.d.comb += [self.words.valid.eq(self.i.valid & ~restart & decoding
                                         & (beat.kind == Kind.DATA)),
                     self.words.payload.data.eq(beat.data),
                     self.words.payload.last.eq(beat.last),
                     self.load.beat.eq(beat),
                     self.load.write.eq(take & idle & table_beat),
                     self.load.done.eq(take & idle & (beat.kind == Kind.COUNT) | restart)]
        return take

    def _between_packets(self, m, state, remaining, fail):
        """A beat taken between packets: a table beat that breaks the load rules, a
        ``COUNT`` that cannot start a packet, a word."""
        beat, C = self.i.payload, self.count_bits
        count_wide = (beat.data[C:] != 0) if self.word_width > C else Const(0)
        with m.Switch(beat.kind):
            with m.Case(Kind.LEN, Kind.SYM):
                with m.If(~self.load.ok):
                    fail(ErrorKind.PROTOCOL)
            with m.Case(Kind.COUNT):
                m.d.sync += remaining.eq(beat.data)
                with m.If(self.load.bad | count_wide):
                    fail(ErrorKind.PROTOCOL)
                with m.Elif(beat.last):
                    with m.If(beat.data != 0):
                        fail(ErrorKind.TRUNCATED)
                with m.Elif(beat.data == 0):
                    fail(ErrorKind.PROTOCOL)      # a packet of words and no symbol
                with m.Else():
                    m.d.sync += state.eq(_State.DECODE)
            with m.Case(Kind.DATA):
                fail(ErrorKind.PROTOCOL)

    def _in_packet(self, m, state, take, remaining, remaining_next, fail):
        """A clock inside a packet: a beat that is not a word, a code the lanes cannot
        decode, the count reached (only the final word's padding may be left)."""
        with m.If(take & (self.i.payload.kind != Kind.DATA)):
            fail(ErrorKind.PROTOCOL)
        with m.Elif((remaining != 0) & self.decode.invalid):
            fail(ErrorKind.INVALID)
        with m.Elif((remaining != 0) & self.decode.truncated):
            fail(ErrorKind.TRUNCATED)
        with m.Elif(remaining_next == 0):
            with m.If(~self.drained):
                fail(ErrorKind.PROTOCOL)
            with m.Else():
                m.d.sync += state.eq(_State.IDLE)
                m.d.comb += self.clear.eq(1)


# ---------------------------------------------------------------- the decoder

class HuffmanDecoder(Component):
    """Canonical Huffman decoder with a run-time table, ``lanes`` symbols per clock.

    Ports: ``i`` (stream of :attr:`input_layout`), ``o`` (stream of :attr:`output_shape`),
    ``error``, ``error_kind`` (out), ``busy`` (out: inside a packet), ``restart`` (in).

    Parts (submodules): ``control`` (:class:`PacketControl`), ``table``
    (:class:`CodeTable`), ``buffer`` (:class:`BitBuffer`), ``lanes``
    (:class:`LaneDecoder`).
    """

    PARAMS = (_SYMBOL_BITS, _MAX_LENGTH, _WORD_WIDTH, _LANES)
    # No fixed latency: a symbol leaves a variable number of clocks after the word that
    # holds it (words are taken ahead while the bit buffer has room) -- at the earliest
    # BitBuffer.LATENCY + LaneDecoder.LATENCY.
    LATENCY = None

    def __init__(self, *, symbol_bits=4, max_length=8, word_width=32, lanes=1):
        self.check_params(symbol_bits=symbol_bits, max_length=max_length,
                          word_width=word_width, lanes=lanes)
        self.count_bits = count_bits(self.word_width)
        self.capacity = capacity(self.word_width, self.max_length, self.lanes)
        self.input_layout = beat_layout(self.word_width)
        self.output_shape = output_shape(self.symbol_bits, self.lanes)
        super().__init__({
            "i": In(stream.Signature(self.input_layout)),
            "o": Out(stream.Signature(self.output_shape)),
            "error": Out(1),
            "error_kind": Out(ErrorKind),
            "busy": Out(1),
            "restart": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        params = {"symbol_bits": self.symbol_bits, "max_length": self.max_length,
                  "word_width": self.word_width, "lanes": self.lanes}
        m.submodules.control = control = PacketControl(word_width=self.word_width,
                                                       lanes=self.lanes)
        m.submodules.table = table = CodeTable(**params)
        m.submodules.buffer = buffer = BitBuffer(word_width=self.word_width,
                                                 max_length=self.max_length, lanes=self.lanes)
        m.submodules.lanes = lanes = LaneDecoder(**params)
        wiring.connect(m, wiring.flipped(self.i), control.i)
        wiring.connect(m, control.load, table.load)
        wiring.connect(m, control.words, buffer.words)
        wiring.connect(m, control.decode, lanes.decode)
        wiring.connect(m, table.code, lanes.code)
        wiring.connect(m, buffer.head, lanes.head)
        wiring.connect(m, lanes.o, wiring.flipped(self.o))
        m.d.comb += [control.restart.eq(self.restart), lanes.flush.eq(self.restart),
                     buffer.clear.eq(control.clear), control.drained.eq(buffer.drained),
                     self.error.eq(control.error), self.error_kind.eq(control.error_kind),
                     self.busy.eq(control.busy)]
        return m
