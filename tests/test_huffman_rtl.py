"""In-process Amaranth simulations of the Huffman decoder (:mod:`hw.huffman`) against the
beat-level reference model (:mod:`quantrtl.vectors.huffman_model`): table consistency,
arithmetic that
could wrap, the fuzz families -- fast, no HDL simulator (cocotb runs the whole block on
Verilator and Icarus in tests/test_sim_huffman.py)."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from quantrtl.golden.huffman import CanonicalCode, build_code, encode
from quantrtl.hw.huffman import HuffmanDecoder
from quantrtl.tb.huffman_fuzz import FAMILIES, fuzz_case
from quantrtl.vectors.huffman_model import KIND, PROTOCOL, ReferenceDecoder, reference_outcome

LEN, SYM, COUNT, DATA = KIND["LEN"], KIND["SYM"], KIND["COUNT"], KIND["DATA"]


def run_cases(dut, cases, *, seed=0, ready_p=1.0, valid_p=1.0, stall_limit=None):
    """Drive each case's beats (restart between cases); per case the symbols delivered
    and the final error kind (read once the output has been idle for a while).  With the
    output always ready no beat waits more than ``stall_limit`` clocks (the decoder never
    stalls its producer)."""
    rng = np.random.default_rng(seed)
    results = []
    lanes = dut.lanes
    stall_limit = stall_limit or 4 * (dut.capacity + 4)

    def symbols_of(ctx):
        if lanes == 1:
            return [ctx.get(dut.o.payload)]
        n = ctx.get(dut.o.payload.n)
        return [ctx.get(dut.o.payload.sym[k]) for k in range(n)]

    async def bench(ctx):
        for beats in cases:
            got, k, waited, quiet = [], 0, 0, 0
            while k < len(beats) or quiet < 2 * dut.capacity + 8:
                offer = k < len(beats) and rng.random() < valid_p
                if offer:
                    kind, index, data, last = beats[k]
                    ctx.set(dut.i.payload.kind, kind)
                    ctx.set(dut.i.payload.index, index)
                    ctx.set(dut.i.payload.data, data)
                    ctx.set(dut.i.payload.last, last)
                ctx.set(dut.i.valid, int(offer))
                ready = int(rng.random() < ready_p)
                ctx.set(dut.o.ready, ready)
                await ctx.delay(1e-9)
                if offer and ctx.get(dut.i.ready):
                    k, waited = k + 1, 0
                elif offer:
                    waited += 1
                    assert ready_p < 1 or waited < stall_limit, \
                        f"input stalled {waited} clocks with the output ready"
                if ctx.get(dut.o.valid) and ready:
                    got += symbols_of(ctx)
                quiet = 0 if ctx.get(dut.o.valid) else quiet + (k == len(beats))
                await ctx.tick()
            results.append((got, ctx.get(dut.error_kind).value))
            ctx.set(dut.i.valid, 0)
            ctx.set(dut.restart, 1)
            await ctx.tick()
            ctx.set(dut.restart, 0)

    sim = Simulator(dut)
    sim.add_clock(10e-9)
    sim.add_testbench(bench)
    sim.run()
    return results


def check_against_model(dut, cases, **kw):
    """Run ``cases`` and compare each with the reference model (state carried over)."""
    model = ReferenceDecoder(dut.symbol_bits, dut.max_length, dut.word_width)
    results = run_cases(dut, cases, **kw)
    for n, (beats, (got, kind)) in enumerate(zip(cases, results)):
        want = model.feed(beats)
        model.restart()
        assert want.admits(got, kind), (
            f"case {n}: RTL delivered {len(got)} symbols {got[:12]} with error_kind={kind}; "
            f"the model {len(want.symbols)} {want.symbols[:12].tolist()} with "
            f"{sorted(want.kinds)} ({'exact' if want.exact else 'a prefix'}); beats "
            f"{beats[:40]}")
    return results


def _table(counts, symbols):
    return ([(LEN, l, c, 0) for l, c in enumerate(counts) if l]
            + [(SYM, k, s, 0) for k, s in enumerate(symbols)])


def _words(symbols, code, width):
    enc = encode(np.asarray(symbols), code, width)
    return [(COUNT, 0, enc.count, int(not len(enc.words)))] + \
        [(DATA, 0, int(w), int(k == len(enc.words) - 1)) for k, w in enumerate(enc.words)]


@pytest.fixture(scope="module")
def dec():
    return HuffmanDecoder()                           # 4-bit symbols, L 8, 32-bit words


def test_inconsistent_tables_raise_protocol_before_any_symbol(dec):
    """The issue's defect: counts summing to more or fewer than the symbols loaded, more
    codes than the alphabet at a length -- protocol error, nothing emitted; the model
    (golden ``from_description``) agrees on each; a good table afterwards decodes."""
    code = build_code(np.array([0, 1, 1, 2, 2, 2, 3, 3, 3, 3]), 8, alphabet_size=16)
    counts = [int(c) for c in code.counts] + [0] * (8 + 1 - code.counts.size)
    syms = [int(s) for s in code.symbols]
    stream = _words([3, 2, 1, 0, 3, 3], code, 32)
    more = list(counts)
    more[4] += 1                                      # counts sum to one more
    fewer = list(counts)
    fewer[code.lengths[syms[-1]]] -= 1                # one fewer: last symbol has no code
    cases = {
        "more codes than symbols": _table(more, syms) + stream,
        "fewer codes than symbols": _table(fewer, syms) + stream,
        "fewer symbols than codes": _table(counts, syms[:-1]) + stream,
        "more codes than the alphabet at a length": _table([0, 0, 0, 0, 17], []) + stream,
        "over-subscribed": _table([0, 2, 1], syms[:3]) + stream,
        "repeated symbol": _table(counts, syms[:-1] + syms[:1]) + stream,
        "out of canonical order": _table(counts, syms[:-2] + syms[:-3:-1]) + stream,
        "symbol outside the alphabet": _table(counts, syms[:-1] + [16]) + stream,
        "SYM out of index order": _table(counts, []) + [(SYM, 1, syms[0], 0)] + stream,
        "LEN after SYM": _table(counts, syms) + [(LEN, 8, 0, 0)] + stream,
        "count 0 with words": _table(counts, syms) + [(COUNT, 0, 0, 0), (DATA, 0, 7, 1)],
    }
    for name, beats in cases.items():
        want = reference_outcome(beats, 4, 8, 32)
        assert want.exact and want.kind == PROTOCOL and want.symbols.size == 0, name
    good = _table(counts, syms) + stream
    results = check_against_model(dec, list(cases.values()) + [good])
    assert [kind for _, kind in results[:-1]] == [PROTOCOL] * len(cases)
    assert all(got == [] for got, _ in results[:-1])
    assert results[-1] == ([3, 2, 1, 0, 3, 3], 0)


def test_the_table_offsets_cannot_wrap():
    """8-bit symbols, 16-bit codes: counts of 256 at lengths 11..14 sum to 1024 (zero in
    the 10 bits the offsets once had) + 1 code of length 1 -- a table of 1025 codes with
    one symbol loaded must be refused, and is, before any symbol."""
    dut = HuffmanDecoder(symbol_bits=8, max_length=16, word_width=32)
    counts = [0] * 17
    counts[1] = 1
    for l in range(11, 15):
        counts[l] = 256
    beats = _table(counts, [5]) + [(COUNT, 0, 3, 0), (DATA, 0, 0, 1)]
    assert reference_outcome(beats, 8, 16, 32).kind == PROTOCOL
    [(got, kind)] = check_against_model(dut, [beats])
    assert (got, kind) == ([], PROTOCOL)


def test_a_count_beyond_its_32_bits_is_a_protocol_error():
    """64-bit words carry counts of 64 bits; the decoder counts 32: a larger count is a
    protocol error, not a silent wrap (2^32 + 2 would otherwise read as 2)."""
    dut = HuffmanDecoder(word_width=64)
    code = build_code(np.array([0, 1]), 8, alphabet_size=16)
    table = _table([int(c) for c in code.counts], [0, 1])
    cases = [table + [(COUNT, 0, (1 << 32) + 2, 0), (DATA, 0, 0x4 << 60, 1)],
             table + [(COUNT, 0, 2, 0), (DATA, 0, 0x4 << 60, 1)]]
    results = check_against_model(dut, cases)
    assert results == [([], PROTOCOL), ([0, 1], 0)]


@pytest.mark.parametrize("params, seed, ready_p, valid_p", [
    ({}, 1, 1.0, 1.0),
    ({"lanes": 2, "symbol_bits": 3, "max_length": 6, "word_width": 16}, 2, 0.6, 0.8),
    ({"symbol_bits": 2, "max_length": 3, "word_width": 64}, 3, 1.0, 0.7),
], ids=["defaults", "lanes2", "w64"])
def test_fuzz_families_match_the_model(params, seed, ready_p, valid_p):
    """Every fuzz family (corrupt tables, corrupt streams, huge and zero counts, garbage,
    table reuse) on the RTL equals the model; restart recovers each time (the next case is
    checked from the state the model carries); never a stall with the output ready."""
    dut = HuffmanDecoder(**params)
    rng = np.random.default_rng(seed)
    cases = [fuzz_case(rng, dut, FAMILIES[k % len(FAMILIES)])[1] for k in range(36)]
    check_against_model(dut, cases, seed=seed, ready_p=ready_p, valid_p=valid_p)


def test_model_agrees_with_from_description_on_random_tables():
    """The model accepts a table loaded beat by beat exactly when golden
    ``from_description`` accepts the same counts and symbols (plus Kraft): 2,000 random
    near-canonical tables."""
    rng = np.random.default_rng(5)
    accepted = 0
    for trial in range(2000):
        counts = [0] + [int(v) for v in rng.integers(0, 4, size=4)]
        size = sum(counts) if rng.random() < 0.7 else int(rng.integers(0, 9))
        syms = [int(s) for s in rng.permutation(8)[:size]]
        if rng.random() < 0.7:                        # mostly canonical order per length
            cut = np.cumsum(counts)
            syms = [s for a, b in zip(cut[:-1], cut[1:]) for s in sorted(syms[a:b])] \
                + syms[cut[-1]:]
        beats = _table(counts, syms) + [(COUNT, 0, 0, 1)]
        model = reference_outcome(beats, 3, 4, 16).kind
        try:
            CanonicalCode.from_description(counts, syms, 8, 4)
            golden = 0
        except ValueError:
            golden = PROTOCOL
        assert model == golden, (counts, syms)
        accepted += golden == 0
    assert 50 < accepted < 1950
