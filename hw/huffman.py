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

Datapath: a bit buffer of ``word_width + 2 * lanes * max_length`` bits, MSB aligned; a word
is appended whenever it fits (``nbits <= capacity - word_width``), so with the output ready
``lanes`` symbols leave every clock as long as the words bring bits fast enough
(``word_width >= lanes * code length``).  Each lane decodes the canonical code at the top
of the buffer (shifted by the previous lanes' lengths) in one clock: for every length
``l``, ``code_l - first[l] < count[l]`` selects the length, ``offset[l] + code_l -
first[l]`` the table index.  ``first``/``offset`` are registered from the counts, and
the table is checked at the ``COUNT`` beat, which may follow the last table beat
immediately.
"""

import types

from amaranth import Array, Cat, Const, Module, Mux, Signal, unsigned
from amaranth.hdl import Assert
from amaranth.lib import data, enum, stream
from amaranth.lib.wiring import In, Out

from quantrtl.spec import HuffmanError, HuffmanKind, Param
from .component import Component

__all__ = ["HuffmanDecoder", "Kind", "ErrorKind"]


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


class HuffmanDecoder(Component):
    """Canonical Huffman decoder with a run-time table, ``lanes`` symbols per clock.

    Ports: ``i`` (stream of :attr:`input_layout`), ``o`` (stream of :attr:`output_shape`),
    ``error``, ``error_kind`` (out), ``busy`` (out: inside a packet), ``restart`` (in).
    """

    PARAMS = (
        Param("symbol_bits", 4, "bits per symbol (table of up to 2^symbol_bits symbols)",
              lo=1, hi=8),
        Param("max_length", 8, "longest code length", lo=1, hi=16),
        Param("word_width", 32, "bits per bitstream word", lo=16, hi=64),
        Param("lanes", 1, "symbols decoded per clock (at most)", lo=1, hi=4),
    )
    # No fixed latency: a symbol leaves a variable number of clocks after the word that
    # holds it (words are taken ahead while the bit buffer has room).
    LATENCY = None

    def __init__(self, *, symbol_bits=4, max_length=8, word_width=32, lanes=1):
        self.check_params(symbol_bits=symbol_bits, max_length=max_length,
                          word_width=word_width, lanes=lanes)
        self.count_bits = min(self.word_width, 32)
        self.capacity = self.word_width + 2 * self.lanes * self.max_length
        self.input_layout = data.StructLayout({
            "data": unsigned(self.word_width),
            "index": unsigned(8),
            "kind": Kind,
            "last": 1,
        })
        if self.lanes == 1:
            self.output_shape = unsigned(self.symbol_bits)
        else:
            self.output_shape = data.StructLayout({
                "sym": data.ArrayLayout(unsigned(self.symbol_bits), self.lanes),
                "n": range(self.lanes + 1),
            })
        super().__init__({
            "i": In(stream.Signature(self.input_layout)),
            "o": Out(stream.Signature(self.output_shape)),
            "error": Out(1),
            "error_kind": Out(ErrorKind),
            "busy": Out(1),
            "restart": In(1),
        })

    def _canonical(self, m, counts, first, offset):
        """Register ``first``/``offset`` from ``counts``; return the (combinational)
        over-subscription flag and ``starts[l]`` = codes shorter than ``l`` (exact, for
        ``l = 1..max_length + 1``)."""
        L, S = self.max_length, self.symbol_bits
        wide = S + (L + 1).bit_length() + 1
        f, off, bad = Const(0, L + 2), Const(0, wide), Const(0, 1)
        starts = [None, off]
        for l in range(1, L + 1):
            m.d.sync += [first[l].eq(f), offset[l].eq(off[:S + 1])]
            top = f + counts[l]
            bad = bad | (top > (1 << l))
            off = (off + counts[l])[:wide]
            f = (top << 1)[:L + 2]
            starts.append(off)
        oversubscribed = Signal()
        m.d.comb += oversubscribed.eq(bad)
        return oversubscribed, starts

    def elaborate(self, platform):
        m = Module()
        L, S, W, K = self.max_length, self.symbol_bits, self.word_width, self.lanes
        BUF = self.capacity
        nsym = 1 << S

        # ---- the table: counts per length, symbols in canonical order ----
        counts = [Signal(S + 1, name=f"count{l}") for l in range(L + 1)]  # counts[0] unused
        symtab = Array(Signal(S, name=f"sym{k}") for k in range(nsym))
        # first code and table offset of every length, registered from the counts
        first = [Signal(L + 2, name=f"first{l}") for l in range(L + 1)]
        offset = [Signal(S + 1, name=f"offset{l}") for l in range(L + 1)]
        # The load in progress: symbols written so far (in index order), which symbols they
        # are, the last one.  A load is a run of table beats; a COUNT beat ends it.
        loading = Signal()
        loaded = Signal(S + 1)
        used = Signal(nsym)
        prev_sym = Signal(S)
        # Canonical first codes and offsets (puff.c): top = first + count <= 2^l for every
        # length is Kraft's inequality; the offsets are wide enough never to wrap (up to
        # max_length * 2^symbol_bits codes).
        oversubscribed, starts = self._canonical(m, counts, first, offset)
        total = starts[L + 1]
        # ---- packet state ----
        state = Signal(_State)
        remaining = Signal(self.count_bits)
        buf = Signal(BUF)
        nbits = Signal(range(BUF + 1))
        last_seen = Signal()
        error_kind = Signal(ErrorKind)
        m.d.comb += [self.error.eq(error_kind != ErrorKind.NONE),
                     self.error_kind.eq(error_kind),
                     self.busy.eq(state == _State.DECODE)]

        # ---- lane decoders ----
        advance = Signal()
        m.d.comb += advance.eq(~self.o.valid | self.o.ready)
        top_bits = buf[BUF - K * L:]
        shift = Const(0, range(K * L + 1))
        lane_ok, lane_len, lane_sym, lane_match = [], [], [], []
        prev_ok = state == _State.DECODE
        for k in range(K):
            window = Signal(L, name=f"window{k}")
            m.d.comb += window.eq((top_bits << shift)[K * L - L:K * L])
            match = Signal(L + 1, name=f"match{k}")  # match[l]: a code of length l matches
            index = []
            for l in range(1, L + 1):
                diff = window[L - l:] - first[l]
                m.d.comb += match[l].eq((diff >= 0) & (diff < counts[l]))
                index.append((offset[l] + diff)[:S])
            length = Signal(range(L + 1), name=f"len{k}")
            idx = Signal(S, name=f"idx{k}")
            for l in reversed(range(1, L + 1)):  # the shortest matching length wins
                with m.If(match[l]):
                    m.d.comb += [length.eq(l), idx.eq(index[l - 1])]
            found = match[1:].any()
            ok = Signal(name=f"ok{k}")
            m.d.comb += ok.eq(prev_ok & found & (shift + length <= nbits) & (remaining > k))
            lane_ok.append(ok)
            lane_len.append(length)
            lane_sym.append(symtab[idx])
            lane_match.append(found)
            shift = Mux(ok, shift + length, shift)
            prev_ok = ok
        consumed = Signal(range(K * L + 1))
        emitted = Signal(range(K + 1))
        m.d.comb += [consumed.eq(Mux(advance, shift, 0)),
                     emitted.eq(Mux(advance, sum(lane_ok), 0))]

        # Lane 0 cannot decode: an invalid code (max_length bits there and no match) or a
        # truncated stream (final word in, fewer bits than max_length, no code fits).
        fits0 = lane_match[0] & (lane_len[0] <= nbits)
        invalid = (nbits >= L) & ~lane_match[0]
        truncated = last_seen & (nbits < L) & ~fits0

        # ---- input ----
        beat = self.i.payload
        room = nbits <= BUF - W
        with m.Switch(state):
            with m.Case(_State.IDLE, _State.ERROR):
                m.d.comb += self.i.ready.eq(~self.restart)
            with m.Case(_State.DECODE):
                m.d.comb += self.i.ready.eq(~self.restart & ~last_seen & room)
        take = self.i.valid & self.i.ready
        take_word = take & (state == _State.DECODE) & (beat.kind == Kind.DATA)

        # ---- bit buffer: drop the consumed bits, append an accepted word ----
        kept = Signal(range(BUF + 1))
        m.d.comb += kept.eq(nbits - consumed)
        shifted = (buf << consumed)[:BUF]
        appended = (Cat(Const(0, BUF - W), beat.data) >> kept)[:BUF]
        nbits_next = Mux(take_word, kept + W, kept)
        last_next = last_seen | (take_word & beat.last)
        remaining_next = remaining - emitted
        m.d.sync += [buf.eq(Mux(take_word, shifted | appended, shifted)),
                     nbits.eq(nbits_next),
                     remaining.eq(remaining_next),
                     last_seen.eq(last_next)]

        # ---- output register ----
        with m.If(advance):
            m.d.sync += self.o.valid.eq(emitted != 0)
            if K == 1:
                m.d.sync += self.o.payload.eq(lane_sym[0])
            else:
                m.d.sync += self.o.payload.n.eq(emitted)
                for k in range(K):
                    m.d.sync += self.o.payload.sym[k].eq(lane_sym[k])

        def fail(kind):
            m.d.sync += [error_kind.eq(kind), state.eq(_State.ERROR)]

        # ---- control ----
        # The load a table beat belongs to: a table beat outside a load starts one (every
        # count back to 0, no symbol loaded).
        loaded_now = Mux(loading, loaded, 0)
        used_now = Mux(loading, used, 0)
        group_start = Signal()  # the SYM beat's index starts a length's group of codes
        m.d.comb += group_start.eq(Cat(Mux(loading, starts[l], 0) == beat.index
                                       for l in range(1, L + 2)).any())
        sym_ok = ((beat.index == loaded_now) & (beat.index < nsym) & (beat.data < nsym)
                  & ~(used_now >> beat.data[:S])[0]
                  & (group_start | (beat.data > prev_sym)))
        len_ok = (beat.index != 0) & (beat.index <= L) & (beat.data <= nsym) & (loaded_now == 0)
        table_bad = oversubscribed | (total != loaded)
        count_wide = (beat.data[self.count_bits:] != 0) if W > self.count_bits else Const(0)
        with m.Switch(state):
            with m.Case(_State.IDLE):
                # Bits below the valid region are kept zero: words are ORed in.
                m.d.sync += [buf.eq(0), nbits.eq(0), last_seen.eq(0)]
                with m.If(take & ((beat.kind == Kind.LEN) | (beat.kind == Kind.SYM))):
                    m.d.sync += loading.eq(1)
                    with m.If(~loading):
                        m.d.sync += [c.eq(0) for c in counts[1:]]
                        m.d.sync += [loaded.eq(0), used.eq(0)]
                with m.If(take):
                    with m.Switch(beat.kind):
                        with m.Case(Kind.LEN):
                            with m.If(~len_ok):
                                fail(ErrorKind.PROTOCOL)
                            with m.Else():
                                for l in range(1, L + 1):
                                    with m.If(beat.index == l):
                                        m.d.sync += counts[l].eq(beat.data)
                        with m.Case(Kind.SYM):
                            with m.If(~sym_ok):
                                fail(ErrorKind.PROTOCOL)
                            with m.Else():
                                m.d.sync += [symtab[beat.index[:S]].eq(beat.data),
                                             loaded.eq(loaded_now + 1),
                                             used.eq(used_now | (1 << beat.data[:S])),
                                             prev_sym.eq(beat.data)]
                        with m.Case(Kind.COUNT):
                            m.d.sync += [remaining.eq(beat.data), loading.eq(0)]
                            with m.If(table_bad | count_wide):
                                fail(ErrorKind.PROTOCOL)
                            with m.Elif(beat.last):
                                with m.If(beat.data != 0):
                                    fail(ErrorKind.TRUNCATED)
                            with m.Elif(beat.data == 0):
                                fail(ErrorKind.PROTOCOL)  # a packet of words and no symbol
                            with m.Else():
                                m.d.sync += state.eq(_State.DECODE)
                        with m.Case(Kind.DATA):
                            fail(ErrorKind.PROTOCOL)
            with m.Case(_State.DECODE):
                with m.If(take & (beat.kind != Kind.DATA)):
                    fail(ErrorKind.PROTOCOL)
                with m.Elif((remaining != 0) & invalid):
                    fail(ErrorKind.INVALID)
                with m.Elif((remaining != 0) & truncated):
                    fail(ErrorKind.TRUNCATED)
                with m.Elif(remaining_next == 0):
                    # Stream complete: only the final word's padding may be left.
                    with m.If(~last_next | (nbits_next >= W)):
                        fail(ErrorKind.PROTOCOL)
                    with m.Else():
                        m.d.sync += [state.eq(_State.IDLE), buf.eq(0), nbits.eq(0),
                                     last_seen.eq(0)]

        with m.If(self.restart):
            m.d.sync += [state.eq(_State.IDLE), buf.eq(0), nbits.eq(0), last_seen.eq(0),
                         remaining.eq(0), error_kind.eq(ErrorKind.NONE), self.o.valid.eq(0),
                         loading.eq(0)]
        if platform == "formal":
            # Invariants of these registers, proved with the block's claims (tb.proofs).
            m.d.comb += [Assert(state.as_value() != 3),
                         Assert(nbits <= BUF),
                         Assert((error_kind != ErrorKind.NONE) == (state == _State.ERROR))]
        return m
