"""The Huffman decoder's parts (:mod:`hw.huffman`), each simulated in-process against the
golden model (:mod:`quantrtl.golden.huffman`) or the beat-level reference
(:class:`quantrtl.vectors.huffman_model.ReferenceDecoder`) -- fast, no HDL simulator (the
whole block runs on Verilator and Icarus in tests/test_sim_huffman.py and in-process in
tests/test_huffman_rtl.py)."""

from types import SimpleNamespace

import numpy as np
import pytest
from amaranth import Array, Const, Elaboratable, Module
from amaranth.sim import Simulator

from quantrtl.golden.huffman import (CanonicalCode, HuffmanDecodeError, build_code, decode,
                                     encode, kraft_sum, words_to_bits)
from quantrtl.hw.huffman import (BitBuffer, CanonicalOffsets, CodeMatch, CodeTable,
                                 HuffmanDecoder, LaneDecoder, PacketControl)
from quantrtl.tb.huffman_fuzz import FAMILIES, fuzz_case
from quantrtl.vectors.huffman import packet_tuples
from quantrtl.vectors.huffman_model import (ERROR_CODES, INVALID, KIND, NONE, PROTOCOL,
                                            TRUNCATED, ReferenceDecoder)

LEN, SYM, COUNT, DATA = KIND["LEN"], KIND["SYM"], KIND["COUNT"], KIND["DATA"]


def simulate(dut, bench, *, clock=True):
    sim = Simulator(dut)
    if clock:
        sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


def random_code(rng, symbol_bits, max_length, size=None) -> CanonicalCode:
    """The golden code of a random draw of symbols (skewed, some of the alphabet)."""
    alphabet = 1 << symbol_bits
    used = int(rng.integers(1, min(alphabet, 1 << max_length) + 1))
    p = rng.dirichlet(np.full(used, 0.4))
    symbols = rng.choice(rng.permutation(alphabet)[:used], size=size or 200, p=p)
    return build_code(symbols, max_length, alphabet_size=alphabet)


def counts_of(code: CanonicalCode, max_length: int) -> list[int]:
    return [int(c) for c in code.counts] + [0] * (max_length + 1 - code.counts.size)


def first_codes(code: CanonicalCode, max_length: int) -> dict[int, int]:
    """The golden canonical code of the first symbol of each length that has codes."""
    counts = counts_of(code, max_length)
    return {l: int(code.codes[code.symbols[sum(counts[1:l])]])
            for l in range(1, max_length + 1) if counts[l]}


# ---------------------------------------------------------------- CanonicalOffsets

@pytest.mark.parametrize("symbol_bits, max_length", [(2, 3), (4, 8), (8, 16), (1, 2)])
def test_canonical_offsets_give_the_golden_first_codes(symbol_bits, max_length):
    """For golden codes: ``first[l]`` is the canonical code of the first symbol of length
    ``l``, ``offset[l]``/``starts[l]`` its canonical index; never over-subscribed.  For any
    counts (``0..2^symbol_bits`` each): ``starts`` exact and ``oversubscribed`` exactly when
    the golden Kraft sum is above 1."""
    dut = CanonicalOffsets(symbol_bits=symbol_bits, max_length=max_length)
    L, S = max_length, symbol_bits
    rng = np.random.default_rng(symbol_bits * 100 + max_length)
    codes = [random_code(rng, S, L) for _ in range(25)]
    anything = [[0] + [int(c) for c in rng.integers(0, (1 << S) + 1, L)] for _ in range(40)]
    anything += [[0] + [0] * (L - 1) + [1 << S], [0] * (L + 1), [0, 2, 1] + [0] * (L - 2)]
    checked = {"first": 0, "over": 0}

    async def bench(ctx):
        for code in codes:
            counts = counts_of(code, L)
            for l in range(L + 1):
                ctx.set(dut.counts[l], counts[l])
            assert not ctx.get(dut.oversubscribed)
            for l, first in first_codes(code, L).items():
                assert ctx.get(dut.first[l]) == first, (l, counts)
                assert ctx.get(dut.offset[l]) == ctx.get(dut.starts[l]) == sum(counts[1:l])
                checked["first"] += 1
            assert ctx.get(dut.starts[L + 1]) == code.symbols.size
        for counts in anything:
            for l in range(L + 1):
                ctx.set(dut.counts[l], counts[l])
            lengths = np.repeat(np.arange(L + 1), counts)
            over = kraft_sum(lengths) > 1
            assert ctx.get(dut.oversubscribed) == over, counts
            checked["over"] += over
            for l in range(1, L + 2):
                assert ctx.get(dut.starts[l]) == sum(counts[1:l])
                if l <= L:
                    assert ctx.get(dut.offset[l]) == sum(counts[1:l]) % (1 << (S + 1))

    simulate(dut, bench, clock=False)
    assert checked["first"] >= len(codes) and checked["over"] > 0


# ---------------------------------------------------------------- CodeMatch

@pytest.mark.parametrize("symbol_bits, max_length", [(2, 3), (3, 5), (4, 8)])
def test_code_match_is_the_golden_match_on_every_window(symbol_bits, max_length):
    """Every ``max_length``-bit window of golden codes: found, length and canonical index as
    :meth:`CanonicalCode.match` says (``first``/``offset`` of lengths without codes are
    random: they must not matter)."""
    dut = CodeMatch(symbol_bits=symbol_bits, max_length=max_length)
    L, S = max_length, symbol_bits
    rng = np.random.default_rng(7 + L)
    codes = [random_code(rng, S, L) for _ in range(8)]
    windows = np.arange(1 << L)

    async def bench(ctx):
        for code in codes:
            counts, firsts = counts_of(code, L), first_codes(code, L)
            for l in range(1, L + 1):
                ctx.set(dut.code.counts[l], counts[l])
                ctx.set(dut.code.first[l], firsts.get(l, int(rng.integers(1 << (L + 2)))))
                ctx.set(dut.code.offset[l], sum(counts[1:l]) if counts[l] else
                        int(rng.integers(1 << (S + 1))))
            sym, length = code.match(windows)
            for w in windows:
                ctx.set(dut.window, int(w))
                assert ctx.get(dut.found) == (length[w] > 0)
                assert ctx.get(dut.length) == length[w], (int(w), counts)
                if length[w]:
                    assert code.symbols[ctx.get(dut.index)] == sym[w]

    simulate(dut, bench, clock=False)


# ---------------------------------------------------------------- CodeTable

TABLE_PARAMS = [dict(symbol_bits=2, max_length=3, word_width=16, lanes=2),
                dict(symbol_bits=4, max_length=8, word_width=32, lanes=1)]


def _table_beats(rng, params):
    """The table beats of a fuzz case (good or corrupt tables, garbage)."""
    shape = SimpleNamespace(**params)
    family = str(rng.choice(["good", "table", "table", "garbage"]))
    _, beats = fuzz_case(rng, shape, family)
    return [b for b in beats if b[0] in (LEN, SYM)]


@pytest.mark.parametrize("params", TABLE_PARAMS, ids=lambda p: f"S{p['symbol_bits']}")
def test_code_table_loads_as_the_reference_model(params):
    """Loads of good and corrupt tables, beat by beat: ``ok`` for every beat and ``bad`` at
    the end as the reference (golden ``from_description``) says; loads that run on without
    a ``done``; once accepted, counts, ``first``/``offset`` (after ``LATENCY`` clocks) and
    the symbol of every canonical index are the golden code's."""
    dut = CodeTable(**params)
    L, K = dut.max_length, dut.lanes
    rng = np.random.default_rng(dut.symbol_bits)
    loads = [_table_beats(rng, params) for _ in range(40)]
    ref = ReferenceDecoder(dut.symbol_bits, L, dut.word_width)
    seen = {"accepted": 0, "refused": 0, "beats refused": 0}

    async def bench(ctx):
        for n, beats in enumerate(loads):
            for kind, index, value, _ in beats:
                ctx.set(dut.load.beat.kind, kind)
                ctx.set(dut.load.beat.index, index)
                ctx.set(dut.load.beat.data, value)
                ctx.set(dut.load.write, 1)
                want = ref.table_beat(kind, index, value)
                assert ctx.get(dut.load.ok) == want, (n, beats, (kind, index, value))
                seen["beats refused"] += not want
                await ctx.tick()
            ctx.set(dut.load.write, 0)
            bad = ctx.get(dut.load.bad)
            assert bad == ref.table_bad(), (n, beats)
            if n % 5 == 4:
                continue                  # no COUNT: the next beats extend this load
            ctx.set(dut.load.done, 1)
            assert (ref.count_beat(0, True) == PROTOCOL) == bad
            await ctx.tick()              # CodeTable.LATENCY clocks after the last beat
            ctx.set(dut.load.done, 0)
            seen["refused" if bad else "accepted"] += 1
            if bad:
                continue
            code = ref.code()
            counts, firsts = counts_of(code, L), first_codes(code, L)
            for l in range(1, L + 1):
                assert ctx.get(dut.code.canonical.counts[l]) == counts[l]
                if counts[l]:
                    assert ctx.get(dut.code.canonical.first[l]) == firsts[l]
                    assert ctx.get(dut.code.canonical.offset[l]) == sum(counts[1:l])
            for j, symbol in enumerate(code.symbols):
                ctx.set(dut.code.index[j % K], j)
                assert ctx.get(dut.code.symbol[j % K]) == symbol

    simulate(dut, bench)
    assert CodeTable.LATENCY == 2
    assert min(seen.values()) > 0, seen


# ---------------------------------------------------------------- BitBuffer

BUFFER_PARAMS = [dict(word_width=16, max_length=3, lanes=2),
                 dict(word_width=32, max_length=8, lanes=1),
                 dict(word_width=17, max_length=5, lanes=4)]


@pytest.mark.parametrize("params", BUFFER_PARAMS, ids=lambda p: f"W{p['word_width']}")
def test_bit_buffer_holds_the_golden_bitstream(params):
    """Golden-encoded streams in, random gaps and random consumption: every clock the head
    is the golden bitstream (:func:`words_to_bits`) at the consumed position, zeros past
    ``nbits``; words taken exactly when they fit and the final word is not in; ``drained``
    as the bits left say; ``clear`` empties it; a word is at the head ``LATENCY`` clocks
    after it is taken."""
    dut = BitBuffer(**params)
    W, head = dut.word_width, dut.lanes * dut.max_length
    rng = np.random.default_rng(W)
    streams = []
    for _ in range(12):
        code = random_code(rng, 4, 8)
        symbols = rng.choice(code.symbols, size=int(rng.integers(1, 80)))
        streams.append(encode(symbols, code, W).words)

    async def bench(ctx):
        for n, words in enumerate(streams):
            bits = np.concatenate([words_to_bits(words, W), np.zeros(head, dtype=np.uint8)])
            taken, pos, last = 0, 0, False
            cut = int(rng.integers(len(words) + 1)) if n % 4 == 3 else None
            while pos < len(words) * W or taken < len(words):
                nbits = taken * W - pos
                assert ctx.get(dut.head.nbits) == nbits and ctx.get(dut.head.last) == last
                want = int("".join(map(str, bits[pos:pos + min(nbits, head)])) or "0", 2)
                want <<= head - min(nbits, head)
                assert ctx.get(dut.head.bits) == want, (n, pos, nbits)
                offer = taken < len(words) and rng.random() < 0.6
                if offer:
                    ctx.set(dut.words.payload.data, int(words[taken]))
                    ctx.set(dut.words.payload.last, int(taken == len(words) - 1))
                ctx.set(dut.words.valid, int(offer))
                ready = ctx.get(dut.words.ready)
                assert ready == (not last and nbits <= dut.capacity - W)
                used = int(rng.integers(0, min(nbits, head) + 1))
                ctx.set(dut.head.consumed, used)
                take = offer and ready
                left = nbits - used + W * take
                final = last or (take and taken == len(words) - 1)
                assert ctx.get(dut.drained) == (final and left < W)
                clear = cut is not None and taken >= cut
                ctx.set(dut.clear, int(clear))
                await ctx.tick()
                if clear:
                    break
                taken, pos, last = taken + take, pos + used, final
            ctx.set(dut.clear, 0)
            ctx.set(dut.words.valid, 0)
            ctx.set(dut.head.consumed, 0)
            if cut is not None:
                assert ctx.get(dut.head.nbits) == 0 and ctx.get(dut.head.bits) == 0
                assert not ctx.get(dut.head.last) and ctx.get(dut.words.ready)
            else:
                assert ctx.get(dut.head.nbits) == 0 and last
                ctx.set(dut.clear, 1)     # between packets the control clears it
                await ctx.tick()
                ctx.set(dut.clear, 0)

    simulate(dut, bench)
    assert BitBuffer.LATENCY == 1


# ---------------------------------------------------------------- LaneDecoder

class _LanesOnRom(Elaboratable):
    """A :class:`LaneDecoder` reading a golden code as constants (counts, first codes,
    offsets, the symbol list)."""

    def __init__(self, code: CanonicalCode, params):
        self.code, self.lanes = code, LaneDecoder(**params)

    def elaborate(self, platform):
        m = Module()
        m.submodules.lanes = lanes = self.lanes
        L, S = lanes.max_length, lanes.symbol_bits
        counts, firsts = counts_of(self.code, L), first_codes(self.code, L)
        canonical = lanes.code.canonical
        for l in range(1, L + 1):
            m.d.comb += [canonical.counts[l].eq(counts[l]),
                         canonical.first[l].eq(firsts.get(l, 0)),
                         canonical.offset[l].eq(sum(counts[1:l]) % (1 << (S + 1)))]
        rom = Array(Const(int(s), S) for s in self.code.symbols)
        for k in range(lanes.lanes):
            m.d.comb += lanes.code.symbol[k].eq(rom[lanes.code.index[k]])
        return m


def _lane_cases(rng, S, L, W):
    """``(code, words, count)``: good streams, streams with bits flipped, cut short or
    claiming more symbols than they hold, and streams of random words."""
    cases = []
    for n in range(10):
        code = random_code(rng, S, L)
        symbols = rng.choice(code.symbols, size=int(rng.integers(1, 70)))
        enc = encode(symbols, code, W)
        words, count = [int(w) for w in enc.words], enc.count
        how = n % 5
        if how == 1:
            for _ in range(2):
                k = int(rng.integers(len(words)))
                words[k] ^= 1 << int(rng.integers(W))
        elif how == 2:
            count += int(rng.integers(1, 5))
        elif how == 3:
            words = [int(w) for w in rng.integers(0, 1 << min(W, 62), len(words))]
        cases.append((code, words, count))
    return cases


LANE_PARAMS = [dict(symbol_bits=2, max_length=3, word_width=16, lanes=1),
               dict(symbol_bits=4, max_length=8, word_width=32, lanes=2),
               dict(symbol_bits=3, max_length=5, word_width=17, lanes=4)]


@pytest.mark.parametrize("params", LANE_PARAMS, ids=lambda p: f"K{p['lanes']}")
def test_lane_decoder_decodes_as_golden(params):
    """Streams fed from a model bit buffer (words arriving in random gaps), output with
    random backpressure: the symbols delivered are :func:`golden.huffman.decode`'s, the bits
    consumed its positions; where golden raises, the lanes stop at its position with its
    symbols and show its error (*invalid* or *truncated*); a symbol decoded is on ``o``
    ``LATENCY`` clocks later; ``flush`` drops the pending output."""
    S, L, W, K = (params[k] for k in ("symbol_bits", "max_length", "word_width", "lanes"))
    rng = np.random.default_rng(K)
    capacity = W + 2 * K * L
    for code, words, count in _lane_cases(rng, S, L, W):
        top = _LanesOnRom(code, params)
        dut = top.lanes
        try:
            want, kind, at = decode(words, code, count, W), None, None
        except HuffmanDecodeError as exc:
            want, kind, at = exc.symbols, ERROR_CODES[exc.kind], exc.position
        got = []

        async def bench(ctx):
            bits = np.concatenate([words_to_bits(words, W), np.zeros(K * L, dtype=np.uint8)])
            total = len(words) * W
            arrived, pos, stuck, pending = 0, 0, 0, None
            ctx.set(dut.decode.enable, 1)
            while stuck < 6:
                nbits = min(arrived * W, total) - pos
                window = int("".join(map(str, bits[pos:pos + K * L])), 2)
                window &= ~((1 << max(K * L - nbits, 0)) - 1) & ((1 << K * L) - 1)
                ctx.set(dut.head.bits, window)
                ctx.set(dut.head.nbits, nbits)
                ctx.set(dut.head.last, int(arrived == len(words)))
                ctx.set(dut.decode.remaining, count - len(got) - (pending or 0))
                ready = int(rng.random() < 0.7)
                ctx.set(dut.o.ready, ready)
                valid = ctx.get(dut.o.valid)
                assert valid == (pending is not None)
                if valid and ready:
                    if K == 1:
                        got.append(ctx.get(dut.o.payload))
                    else:
                        n = ctx.get(dut.o.payload.n)
                        assert n == pending
                        got.extend(ctx.get(dut.o.payload.sym[k]) for k in range(n))
                    pending = None
                # The SPEC's rule at the head (golden match of its first max_length bits).
                length = code.match(np.array([window >> (K * L - L)]))[1][0]
                assert ctx.get(dut.decode.invalid) == (nbits >= L and length == 0)
                assert ctx.get(dut.decode.truncated) == (
                    arrived == len(words) and nbits < L and not 0 < length <= nbits)
                emitted, used = ctx.get(dut.decode.emitted), ctx.get(dut.head.consumed)
                assert (emitted == 0) == (used == 0)
                if emitted:
                    pending = emitted
                can_grow = arrived < len(words) and nbits <= capacity - W
                grows = can_grow and rng.random() < 0.5
                moving = emitted or valid or can_grow
                stuck = 0 if moving else stuck + 1
                if stuck and count > len(got) + (pending or 0) and not valid:
                    assert pos == at
                    assert ctx.get(dut.decode.invalid) == (kind == INVALID)
                    assert ctx.get(dut.decode.truncated) == (kind == TRUNCATED)
                await ctx.tick()
                pos += used
                arrived += grows
            assert pending is None
            if kind is None:
                assert pos == sum(code.lengths[want])
            ctx.set(dut.decode.remaining, 1)
            ctx.set(dut.o.ready, 0)
            ctx.set(dut.head.bits, 0)
            ctx.set(dut.head.nbits, K * L)
            await ctx.tick()
            has_zero = code.match(np.array([0]))[1][0] > 0
            assert ctx.get(dut.o.valid) == has_zero  # the all-zero window decodes, or not
            ctx.set(dut.flush, 1)
            await ctx.tick()
            assert not ctx.get(dut.o.valid)

        simulate(top, bench)
        assert got == [int(s) for s in want], (count, kind)
    assert LaneDecoder.LATENCY == 1


# ---------------------------------------------------------------- PacketControl

class _Neighbours:
    """The table, the bit buffer and the lanes around a :class:`PacketControl`, as the
    reference model sees them: the table's verdicts are the reference's, the words of a
    packet decode (one clock after they are taken) as :func:`golden.huffman.decode` says,
    up to ``lanes`` symbols a clock."""

    def __init__(self, params, lanes):
        self.table = ReferenceDecoder(params["symbol_bits"], params["max_length"],
                                      params["word_width"])
        self.lanes, self.word_width = lanes, params["word_width"]
        self.clear()

    def clear(self):
        self.words, self.final, self.delivered = [], False, 0

    def decoded(self, words, final):
        """Symbols the words decode to and the error they show (reference kinds)."""
        return self.table.finish(words, final)

    def lanes_now(self, enable, remaining):
        """``(emitted, invalid, truncated)`` this clock."""
        if not enable:
            return 0, 0, 0
        symbols, err = self.decoded(self.words, self.final)
        left = len(symbols) - self.delivered
        emitted = min(self.lanes, left, remaining)
        stuck = left == 0 and remaining > 0
        return (emitted, int(stuck and err == INVALID),
                int(stuck and self.final and err == TRUNCATED))

    def drained(self, word, take):
        """After this clock: the final word in, nothing but its padding left."""
        words = self.words + [word[0]] * take
        final = self.final or (take and word[1])
        return int(final and self.decoded(words, True)[1] is None)


def _control_cases(rng, params, n):
    """The fuzz families, then: an invalid code (a one-symbol table, words of ones), a
    count and no words, words and no count, a count too wide (or 0 with words), a table
    beat breaking into a packet."""
    shape = SimpleNamespace(**params)
    W = params["word_width"]
    cases = [fuzz_case(rng, shape, FAMILIES[k % len(FAMILIES)])[1] for k in range(n)]
    cases.append([(LEN, 1, 1, 0), (SYM, 0, 1, 0), (COUNT, 0, 3, 0), (DATA, 0, (1 << W) - 1, 1)])
    cases.append([(COUNT, 0, 3, 1)])
    cases.append([(DATA, 0, 5, 1)])
    cases.append([(COUNT, 0, (1 << 32) + 3, 0)] if W > 32 else [(COUNT, 0, 0, 0), (DATA, 0, 1, 1)])
    code = random_code(rng, params["symbol_bits"], params["max_length"])
    enc = encode(rng.choice(code.symbols, size=30), code, W)
    beats = packet_tuples(shape, code, enc.words, enc.count)
    at = [b[0] for b in beats].index(COUNT) + 3
    cases.append(beats[:at] + [(LEN, 1, 1, 0)] + beats[at:])
    return cases


CONTROL_PARAMS = [(dict(symbol_bits=2, max_length=3, word_width=16), 1),
                  (dict(symbol_bits=4, max_length=8, word_width=40), 2)]


@pytest.mark.parametrize("params, lanes", CONTROL_PARAMS, ids=("K1", "K2-W40"))
def test_packet_control_reaches_the_reference_outcome(params, lanes):
    """The fuzz families (good packets, corrupt tables, streams and counts, garbage, table
    reuse) and a few edge cases, random gaps, a restart between cases: with its neighbours
    as the reference sees them, the control lets through the symbols and ends in the error
    kind of :class:`ReferenceDecoder`; ``busy`` inside a packet, every beat accepted in
    the error state, none at a restart."""
    dut = PacketControl(word_width=params["word_width"], lanes=lanes)
    rng = np.random.default_rng(lanes)
    cases = _control_cases(rng, params, 30)
    ref = ReferenceDecoder(params["symbol_bits"], params["max_length"], params["word_width"])
    near = _Neighbours(params, lanes)
    kinds = []

    async def bench(ctx):
        for n, beats in enumerate(cases):
            want = ref.feed(beats)
            got, k, quiet = [], 0, 0
            while k < len(beats) or quiet < 4:
                offer = k < len(beats) and rng.random() < 0.7
                kind, index, value, last = beats[k] if offer else (0, 0, 0, 0)
                for field, v in zip(("kind", "index", "data", "last"), beats[k] if offer
                                    else (0, 0, 0, 0)):
                    ctx.set(getattr(dut.i.payload, field), v)
                ctx.set(dut.i.valid, int(offer))
                ctx.set(dut.words.ready, int(not near.final))
                busy, error = ctx.get(dut.busy), ctx.get(dut.error)
                emitted, invalid, truncated = near.lanes_now(busy, ctx.get(dut.decode.remaining))
                ctx.set(dut.decode.emitted, emitted)
                ctx.set(dut.decode.invalid, invalid)
                ctx.set(dut.decode.truncated, truncated)
                ctx.set(dut.load.bad, int(near.table.table_bad()))
                ready = ctx.get(dut.i.ready)
                assert ready == 1 if error or not busy else ready == int(not near.final)
                take = offer and ready
                if ctx.get(dut.load.write):
                    ctx.set(dut.load.ok, int(near.table.table_beat(kind, index, value)))
                take_word = ctx.get(dut.words.valid) and ctx.get(dut.words.ready)
                assert take_word == (take and busy and kind == DATA)
                ctx.set(dut.drained, near.drained((value, last), take_word) if busy else 0)
                clear = ctx.get(dut.clear)
                assert clear or busy or error  # between packets the buffer is kept empty
                await ctx.tick()
                if emitted:
                    symbols, _ = near.decoded(near.words, near.final)
                    got += symbols[near.delivered:near.delivered + emitted]
                    near.delivered += emitted
                if take_word:
                    near.words.append(value)
                    near.final = near.final or bool(last)
                if take and not busy and not error and kind == COUNT:
                    near.table.count_beat(value, bool(last))
                if clear:
                    near.clear()
                k += take
                quiet = 0 if emitted else quiet + (k == len(beats))
            kind = ctx.get(dut.error_kind).value
            assert ctx.get(dut.error) == (kind != NONE)
            assert want.admits(got, kind), (n, beats[:12], got, kind, want)
            kinds.append(kind)
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.restart, 1)
            assert not ctx.get(dut.i.ready)
            assert ctx.get(dut.clear) and ctx.get(dut.load.done)
            await ctx.tick()
            ctx.set(dut.restart, 0)
            ref.restart()
            near.table.restart()
            near.clear()
            assert not ctx.get(dut.error) and not ctx.get(dut.busy)

    simulate(dut, bench)
    assert {NONE, INVALID, TRUNCATED, PROTOCOL} <= set(kinds), kinds


# ---------------------------------------------------------------- the parts, joined

def test_the_decoder_is_its_parts():
    """The submodules the decoder joins, and their parameters checked with the one
    wording (a part takes only the parameters it uses)."""
    from amaranth.hdl import Fragment
    dut = HuffmanDecoder(symbol_bits=2, max_length=3, word_width=16, lanes=2)
    parts = {name: sub.origins[0] for sub, name, _ in Fragment.get(dut, None).subfragments}
    assert {name: type(part) for name, part in parts.items()} == {
        "control": PacketControl, "table": CodeTable, "buffer": BitBuffer, "lanes": LaneDecoder}
    assert parts["buffer"].capacity == dut.capacity
    assert parts["control"].count_bits == dut.count_bits
    with pytest.raises(ValueError, match=r"lanes=5 is out of range: allowed \[1, 4\]"):
        LaneDecoder(lanes=5)
    with pytest.raises(ValueError, match=r"max_length=0 is out of range: allowed \[1, 16\]"):
        CodeMatch(max_length=0)
    with pytest.raises(ValueError, match=r"word_width=8 is out of range: allowed \[16, 64\]"):
        BitBuffer(word_width=8)
    with pytest.raises(ValueError, match=r"word_width=65 is out of range: allowed \[16, 64\]"):
        PacketControl(word_width=65)
