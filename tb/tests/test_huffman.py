"""cocotb tests of the streaming Huffman decoder against :mod:`golden.huffman`.

Every expected symbol sequence and error kind comes from the beat-level reference model
(:func:`quantrtl.vectors.huffman_model.reference_outcome`: golden ``from_description`` and
:func:`golden.huffman.decode`) of the beats sent.
"""

import json
import os

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge, with_timeout

from quantrtl.golden.huffman import CanonicalCode, build_code, code_lengths, encode
from quantrtl.vectors.bulk import huffman_histogram
from quantrtl.vectors.huffman import expected_outcome, packet_beats
from .. import coverage
from ..harness import cover_config, run_packets
from ..env import CLOCK_PERIOD_NS, start
from ..streams import PayloadCodec

PATTERNS = ((1.0, 1.0), (0.5, 1.0), (1.0, 0.3), (0.7, 0.6))


async def _start(dut):
    env = await start(dut)
    dut.restart.value = 0
    return env


async def _restart(env):
    """Pulse ``restart``; the state it finds (idle, busy, error) is sampled for coverage."""
    dut = env.dut
    dut.restart.value = 1
    await ReadOnly()                    # (restart acts on the coming edge)
    state = 2 if int(dut.error.value) else int(dut.busy.value)
    await RisingEdge(dut.clk)
    coverage.sample(cover_config(env), None, trace={"restart": [state]})
    dut.restart.value = 0
    await RisingEdge(dut.clk)
    assert int(dut.error.value) == 0 and int(dut.busy.value) == 0, "restart left state behind"


def _histogram(env, kind):
    """A random histogram over the block's alphabet: skewed, flat or single-symbol."""
    return huffman_histogram(env.rng, 1 << env.component.symbol_bits, kind)


def _stream(env, kind, count, max_length=None):
    """Random symbols of a ``kind`` histogram and their code under a random length limit."""
    c, rng = env.component, env.rng
    probs = _histogram(env, kind)
    symbols = rng.choice(probs.size, size=count, p=probs)
    used = max(1, np.unique(symbols).size)
    lo = max(1, int(np.ceil(np.log2(used))))
    if max_length is None:
        max_length = int(rng.integers(lo, c.max_length + 1))
    code = build_code(symbols, max(lo, max_length), alphabet_size=probs.size)
    return symbols, code


@cocotb.test()
async def round_trips(dut):
    """Random streams under skewed, flat and single-symbol histograms, every maximum code
    length, a table reload before each stream, random input gaps and backpressure."""
    env = await _start(dut)
    c, rng = env.component, env.rng
    codec = PayloadCodec(c.input_layout)
    size = 1 << c.symbol_bits
    lengths = list(range(1, c.max_length + 1))
    for valid_p, ready_p in PATTERNS:
        beats, expected = [], []
        for k, L in enumerate(lengths):
            kind = ("skewed", "flat", "single")[k % 3]
            count = int(rng.integers(0, env.option("stream_symbols", 120) + 1))
            symbols, code = _stream(env, kind, count,
                                    max_length=max(L, int(np.ceil(np.log2(size)))))
            enc = encode(symbols, code, c.word_width)
            beats += packet_beats(codec, c, code, enc.words, enc.count)
            expected += list(symbols)
        env.log.info("valid %.1f ready %.1f: %d streams, %d symbols", valid_p, ready_p,
                     len(lengths), len(expected))
        await run_packets(env, beats, expected=expected, valid_probability=valid_p,
                          ready_probability=ready_p)


@cocotb.test()
async def every_max_length(dut):
    """Codes whose longest code is exactly each length 1..max_length (single symbol, two
    symbols, then geometric histograms that reach the limit), one table kept for two
    streams (no reload) and reloaded for the next."""
    env = await _start(dut)
    c, rng = env.component, env.rng
    codec = PayloadCodec(c.input_layout)
    size = 1 << c.symbol_bits
    beats, expected = [], []
    for L in range(1, c.max_length + 1):
        used = min(size, L + 1)
        hist = np.zeros(size, dtype=np.int64)
        hist[rng.permutation(size)[:used]] = 2 ** np.arange(used)[::-1]
        code = CanonicalCode.from_lengths(code_lengths(hist, L), L)
        longest = int(code.lengths.max())
        assert longest == min(L, used - 1) or used == 1, (L, code.lengths)
        for reload in (True, False):
            # every used symbol (so every code length) once, then random ones
            symbols = rng.permutation(np.concatenate([
                np.nonzero(hist)[0],
                rng.choice(np.nonzero(hist)[0], size=int(rng.integers(0, 60)))]))
            enc = encode(symbols, code, c.word_width)
            beats += packet_beats(codec, c, code if reload else None, enc.words, enc.count)
            expected += list(symbols)
    await run_packets(env, beats, expected=expected, valid_probability=0.8,
                      ready_probability=0.7)


@cocotb.test()
async def edge_streams(dut):
    """Empty streams (count 0, no words), a one-symbol alphabet, one-symbol streams, a
    stream ending exactly on a word boundary."""
    env = await _start(dut)
    c = env.component
    codec = PayloadCodec(c.input_layout)
    beats, expected = [], []
    single = build_code(np.array([3 % (1 << c.symbol_bits)]), 1,
                        alphabet_size=1 << c.symbol_bits)
    cases = [np.zeros(0, np.int64), np.full(1, 3 % (1 << c.symbol_bits)),
             np.full(c.word_width, 3 % (1 << c.symbol_bits)),   # 1 bit each: a full word
             np.full(2 * c.word_width + 1, 3 % (1 << c.symbol_bits)), np.zeros(0, np.int64)]
    for symbols in cases:
        enc = encode(symbols, single, c.word_width)
        beats += packet_beats(codec, c, single, enc.words, enc.count)
        expected += list(symbols)
    await run_packets(env, beats, expected=expected, ready_probability=0.5)


async def _check_outcome(env, code, words, count, *, reload=True, patterns=PATTERNS):
    """Send one packet, compare symbols and error kind with the golden model, restart, then
    check a good stream still decodes.  Returns the error code."""
    c = env.component
    codec = PayloadCodec(c.input_layout)
    expected, error = expected_outcome(c, code, words, count)  # (the table loaded is code)
    valid_p, ready_p = patterns[int(env.rng.integers(len(patterns)))]
    beats = packet_beats(codec, c, code if reload else None, words, count)
    await run_packets(env, beats, expected=expected, error=error, valid_probability=valid_p,
                      ready_probability=ready_p, drain_cycles=24)
    await _restart(env)
    return error


@cocotb.test()
async def invalid_and_truncated(dut):
    """Incomplete tables on random words (invalid codes), streams cut short or with a wrong
    count (truncated), extra words (trailing, a protocol error): the flag is raised with the
    golden kind, exactly the golden prefix is emitted, nothing after, no hang; after a
    restart a good stream decodes."""
    env = await _start(dut)
    c, rng = env.component, env.rng
    seen = {}
    for trial in range(env.option("error_trials", 40)):
        symbols, code = _stream(env, ("skewed", "flat")[trial % 2], int(rng.integers(4, 80)))
        enc = encode(symbols, code, c.word_width)
        words, count = [int(w) for w in enc.words], enc.count
        how = trial % 5
        if how == 0 and code.symbols.size > 1:   # drop a symbol from the table: incomplete
            lengths = code.lengths.copy()
            lengths[code.symbols[-1]] = 0
            code = CanonicalCode.from_lengths(lengths, code.max_length)
            words = [int(w) for w in rng.integers(0, 1 << c.word_width, size=len(words) + 2,
                                                  dtype=np.uint64)]
        elif how == 1:                            # cut the stream short
            words = words[:int(rng.integers(0, len(words)))]
        elif how == 2:                            # claim more symbols than were encoded
            count += int(rng.integers(1, 40))
        elif how == 3:                            # a word too many / count too small
            if rng.random() < 0.5:
                words.append(int(rng.integers(0, 1 << 16)))
            else:
                count = int(rng.integers(0, count))
        error = await _check_outcome(env, code, words, count)
        seen[error] = seen.get(error, 0) + 1
    env.log.info("outcomes (error code: streams): %s", seen)
    assert {1, 2, 3} <= set(seen) or c.max_length < 2 and {2, 3} <= set(seen), \
        f"not every error kind was exercised: {seen}"
    # A good stream after all that.
    symbols, code = _stream(env, "skewed", 50)
    enc = encode(symbols, code, c.word_width)
    assert await _check_outcome(env, code, enc.words, enc.count) == 0


@cocotb.test()
async def protocol_errors(dut):
    """Data before a count, a table beat inside a packet, an over-subscribed table, a table
    entry out of range: error 3, nothing emitted, input still accepted, restart recovers."""
    env = await _start(dut)
    c = env.component
    codec = PayloadCodec(c.input_layout)
    symbols, code = _stream(env, "skewed", 40)
    enc = encode(symbols, code, c.word_width)
    good = packet_beats(codec, c, code, enc.words, enc.count)
    data = codec.pack({"data": 5, "index": 0, "kind": 0, "last": 1})
    count_beat = codec.pack({"data": 3, "index": 0, "kind": 3, "last": 0})
    over = [codec.pack({"data": 2 if l == 1 else 1, "index": l, "kind": 1, "last": 0})
            for l in range(1, c.max_length + 1)]  # 2 codes of length 1, then more
    bad_len = [codec.pack({"data": 1, "index": c.max_length + 1, "kind": 1, "last": 0})]
    cases = {
        "data without count": [data, *good],
        "table beat inside a packet": [count_beat, over[0], data],
        "over-subscribed table": [*over, count_beat, data],
        "length out of range": [*bad_len, *good],
    }
    for name, beats in cases.items():
        env.log.info("case: %s", name)
        await run_packets(env, beats, expected=[], error=3, drain_cycles=16)
        await _restart(env)
    await run_packets(env, good, expected=list(symbols))


@cocotb.test()
async def restart_mid_stream(dut):
    """A restart in the middle of a packet (output stalled) drops it cleanly: what was
    emitted before is a prefix of the stream, the next packet decodes exactly."""
    env = await _start(dut)
    c, rng = env.component, env.rng
    codec = PayloadCodec(c.input_layout)
    from ..streams import StreamSource
    for trial in range(4):
        symbols, code = _stream(env, "flat", 200)
        enc = encode(symbols, code, c.word_width)
        beats = packet_beats(codec, c, code, enc.words, enc.count)
        driver = StreamSource(dut, "i", dut.clk, rng=env.random)
        dut.o__ready.value = 0
        # The table, the count and one word: the output stalls with the packet half done.
        await with_timeout(driver.send(beats[:len(beats) - len(enc.words) + 1]),
                           2000 * CLOCK_PERIOD_NS, "ns")
        await ClockCycles(dut.clk, int(rng.integers(0, 5)))
        assert int(dut.busy.value) == 1
        await _restart(env)
        symbols2, code2 = _stream(env, "skewed", 100)
        enc2 = encode(symbols2, code2, c.word_width)
        await run_packets(env, packet_beats(codec, c, code2, enc2.words, enc2.count),
                          expected=list(symbols2), ready_probability=0.6)


@cocotb.test()
async def throughput(dut):
    """Symbols per clock with words always offered, per output-ready probability
    (``QUANTRTL_READY_LEVELS``); steady state from the first to the last output beat.
    Short codes (at most ``word_width / lanes`` bits).  With the output always ready the
    decoder must sustain at least one symbol per clock.  Figures go to
    ``QUANTRTL_BENCH_OUT`` (JSON) when set."""
    env = await _start(dut)
    c, rng = env.component, env.rng
    codec = PayloadCodec(c.input_layout)
    count = env.option("throughput_symbols", 600)
    levels = [float(v) for v in env.option("ready_levels", "1.0,0.75,0.5,0.25").split(",")]
    size = 1 << c.symbol_bits
    limit = min(c.max_length, max(int(np.ceil(np.log2(size))), 1))
    results = []
    for ready_p in levels:
        probs = 0.6 ** np.arange(size)
        symbols = rng.choice(size, size=count, p=probs / probs.sum())
        code = build_code(symbols, limit, alphabet_size=size)
        enc = encode(symbols, code, c.word_width)
        beats = packet_beats(codec, c, code, enc.words, enc.count)
        _, sink = await run_packets(env, beats, expected=symbols, ready_probability=ready_p)
        cycles = sink.transfer_cycles[-1] - sink.transfer_cycles[0] + 1
        per_clock = (count - len(sink.beats[0])) / max(cycles - 1, 1)
        results.append({"ready_probability": ready_p, "symbols": count,
                        "cycles": cycles, "symbols_per_clock": per_clock,
                        "mean_code_bits": enc.nbits / count,
                        "output_beats": len(sink.beats)})
        env.log.info("lanes %d ready %.2f: %.3f symbols/clock (%d symbols, %d cycles, mean "
                     "code %.2f bits)", c.lanes, ready_p, per_clock, count, cycles,
                     enc.nbits / count)
        if ready_p >= 1.0:
            assert per_clock >= 1.0, f"{per_clock:.3f} symbols per clock with the output ready"
    out = os.environ.get("QUANTRTL_BENCH_OUT")
    if out:
        with open(out, "w") as fh:
            json.dump({"params": env.params, "results": results}, fh)


@cocotb.test()
async def fuzz(dut):
    """Random cases of every family (:mod:`tb.huffman_fuzz`: corrupt tables and streams,
    huge and zero counts, garbage beats, table reuse) under random gaps and backpressure:
    the symbols and the error kind are the reference model's for each case (its state --
    the table -- carried over), a restart after each recovers, and with the output ready
    no beat waits long (the producer is never stalled).  ``QUANTRTL_FUZZ_CASES`` cases
    (``make fuzz`` runs thousands); the outcome counts go to ``QUANTRTL_FUZZ_OUT``."""
    from ..huffman_fuzz import FAMILIES, fuzz_case
    from quantrtl.vectors.huffman_model import ERROR_NAMES, ReferenceDecoder
    from quantrtl.vectors.huffman import HuffmanAdapter, pack
    from ..streams import StreamSource, StreamSink

    env = await _start(dut)
    c, rng = env.component, env.rng
    codec = PayloadCodec(c.input_layout)
    model = ReferenceDecoder(c.symbol_bits, c.max_length, c.word_width)
    unpack = HuffmanAdapter(c).decode_output
    counts, beats_sent = {}, 0
    cases = env.option("fuzz_cases", 60)
    for case in range(cases):
        family, tuples = fuzz_case(rng, c, FAMILIES[case % len(FAMILIES)])
        valid_p, ready_p = PATTERNS[case % len(PATTERNS)]
        want = model.feed(tuples)
        monitor = StreamSink(dut, "o", dut.clk, rng=env.random, ready_probability=ready_p,
                                decode=unpack, flatten=True).start()
        driver = StreamSource(dut, "i", dut.clk, rng=env.random, valid_probability=valid_p)
        budget = int((len(tuples) / valid_p + want.symbols.size / ready_p) * 4) + 200
        await with_timeout(driver.send(pack(codec, tuples)), budget * CLOCK_PERIOD_NS, "ns")
        # Every symbol the model allows, then a drain (stalled output: long enough to drain
        # the bit buffer at the ready rate), so an extra symbol or a late error shows.
        await monitor.wait_for(want.symbols.size if want.exact else 0, timeout_cycles=budget)
        await ClockCycles(dut.clk, int((2 * c.capacity + 16) / ready_p))
        monitor.stop()
        kind = int(dut.error_kind.value)
        coverage.sample(cover_config(env), tuples, monitor.received,
                        dict(coverage.stream_trace(driver, monitor), error_kind=kind))
        assert want.admits(monitor.received, kind), (
            f"case {case} ({family}): RTL {len(monitor.received)} symbols "
            f"{monitor.received[:12]}, error_kind={kind}; model {want.symbols.size} "
            f"{want.symbols[:12].tolist()}, {sorted(want.kinds)} "
            f"({'exact' if want.exact else 'prefix'}); beats {tuples[:30]}")
        key = f"{family}:{ERROR_NAMES[kind]}"
        counts[key] = counts.get(key, 0) + 1
        beats_sent += len(tuples)
        await _restart(env)
        model.restart()
    env.log.info("fuzz: %d cases, %d beats; outcomes %s", cases, beats_sent,
                 dict(sorted(counts.items())))
    out = os.environ.get("QUANTRTL_FUZZ_OUT")
    if out:
        with open(out, "w") as fh:
            json.dump({"params": env.params, "cases": cases, "beats": beats_sent,
                       "outcomes": counts}, fh)
