"""Vector sets, packets and a stream harness for the Huffman decoder (``hw.huffman``).

Vector set of ``quantrtl run huffman`` (npz):

``symbols``
    ``[N]`` integers in ``[0, 2^symbol_bits)``: the symbols to encode and decode.
``lengths`` (optional)
    ``[S]`` non-negative stream lengths summing to ``N``: the symbols are split into ``S``
    streams, each coded with the optimal length-limited canonical code of its own histogram
    (``max_length`` of the block) and preceded by a table reload.  Default: one stream.
``word_width`` is the block's.  Output: ``symbols`` ``[N]``, the decoded symbols; the
golden result is :func:`golden.huffman.decode` of :func:`golden.huffman.encode`.

:func:`packet_beats` turns a code and an encoded stream into input beats (table beats, a
``COUNT`` beat, ``DATA`` words); :func:`run_packets` drives beats into the decoder and
collects symbols (any ``lanes``), the error flag and kind; :class:`HuffmanAdapter` plugs the
block into :func:`tb.harness.run_vectors` (``quantrtl run``), for any ``lanes``.
"""

from __future__ import annotations

import numpy as np

from golden.huffman import CanonicalCode, HuffmanDecodeError, build_code, decode, encode
from quantrtl.params import check_array_range
from .streams import PayloadCodec

__all__ = ["HuffmanAdapter", "packet_beats", "table_beats", "expected_outcome",
           "ERROR_CODES", "run_packets", "split_streams"]

KIND = {"DATA": 0, "LEN": 1, "SYM": 2, "COUNT": 3}
ERROR_CODES = {None: 0, "invalid": 1, "truncated": 2, "trailing": 3}


def table_beats(codec: PayloadCodec, component, code: CanonicalCode) -> list[int]:
    """``LEN`` beats for every length of the block, then ``SYM`` beats of the code."""
    if code.max_length > component.max_length:
        raise ValueError(f"code max_length={code.max_length} is out of range: allowed "
                         f"[1, {component.max_length}] (the block's max_length)")
    beats = []
    for length in range(1, component.max_length + 1):
        count = int(code.counts[length]) if length <= code.max_length else 0
        beats.append(codec.pack({"data": count, "index": length, "kind": KIND["LEN"],
                                 "last": 0}))
    for k, s in enumerate(code.symbols):
        beats.append(codec.pack({"data": int(s), "index": k, "kind": KIND["SYM"], "last": 0}))
    return beats


def packet_beats(codec: PayloadCodec, component, code: CanonicalCode | None, words,
                 count: int) -> list[int]:
    """One packet: the table (if ``code``), ``COUNT``, then the words (``last`` on the final
    beat of the packet)."""
    beats = table_beats(codec, component, code) if code is not None else []
    # (not np.asarray on a list: Python ints of 64 bits would become float64)
    words = [int(w) for w in (words if isinstance(words, (list, tuple))
                              else np.asarray(words).reshape(-1))]
    beats.append(codec.pack({"data": count, "index": 0, "kind": KIND["COUNT"],
                             "last": int(not words)}))
    for k, w in enumerate(words):
        beats.append(codec.pack({"data": w, "index": 0, "kind": KIND["DATA"],
                                 "last": int(k == len(words) - 1)}))
    return beats


def expected_outcome(code: CanonicalCode, words, count: int, word_width: int):
    """``(symbols, error_code)`` of :func:`golden.huffman.decode` (error 0 if none)."""
    try:
        return decode(words, code, count, word_width), 0
    except HuffmanDecodeError as exc:
        return exc.symbols, ERROR_CODES[exc.kind]


def split_streams(vectors, component):
    """``[(symbols, code, encoded)]`` per stream of a vector set (validated)."""
    unknown = sorted(set(vectors) - {"symbols", "lengths"})
    if "symbols" not in vectors or unknown:
        problem = "missing field 'symbols'" if "symbols" not in vectors \
            else f"unknown field {unknown[0]!r}"
        raise ValueError(f"huffman vectors: {problem}: fields are ['symbols'] and "
                         f"optionally ['lengths']")
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


class HuffmanAdapter:
    """``quantrtl run`` / :func:`tb.harness.run_vectors` adapter (any ``lanes``)."""

    output = "symbols"
    required = ("symbols",)
    optional = ("lengths",)

    def __init__(self, component):
        self.c = component
        self.codec = PayloadCodec(component.input_layout)
        self.out_codec = PayloadCodec(component.output_shape)

    def config(self, vectors) -> dict:
        split_streams(vectors, self.c)
        return {"restart": 0}

    def encode(self, vectors) -> list[int]:
        beats = []
        for part, code, enc in split_streams(vectors, self.c):
            beats += packet_beats(self.codec, self.c, code, enc.words, enc.count)
        return beats

    def golden(self, vectors) -> np.ndarray:
        out = [decode(enc.words, code, enc.count, self.c.word_width)
               for part, code, enc in split_streams(vectors, self.c)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def count(self, vectors) -> int:
        return int(np.asarray(vectors["symbols"]).size)

    def cycles(self, vectors) -> int:
        """Clocks at full throughput: every input beat (tables, counts, words) and the
        symbols, ``lanes`` per clock at best (a word holds many symbols)."""
        beats = len(self.encode(vectors))
        return beats + -(-self.count(vectors) // self.c.lanes)

    def decode_output(self, word: int) -> list[int]:
        """The symbols of one output beat (1..lanes of them)."""
        if self.c.lanes == 1:
            return [self.out_codec.unpack_value(word)]
        fields = self.out_codec.unpack(word)
        n = fields["n"]
        if not 1 <= n <= self.c.lanes:
            raise AssertionError(f"output beat with n={n} symbols (allowed 1..{self.c.lanes})")
        return [fields[f"sym[{k}]"] for k in range(n)]


async def run_packets(env, beats, *, expected, error=0, valid_probability=1.0,
                      ready_probability=1.0, drain_cycles=64):
    """Drive ``beats`` into the decoder; check the symbols against ``expected`` and the
    final ``error_kind`` against ``error``.  Works for any ``lanes``; fails on a missing,
    extra or wrong symbol, a protocol violation or a timeout (never hangs).

    Returns ``(symbols, monitor)``; ``monitor.transfer_cycles`` are the output beats'
    cycles and ``monitor.received`` their symbol lists.
    """
    from cocotb.triggers import ClockCycles, RisingEdge, with_timeout

    from .env import CLOCK_PERIOD_NS
    from .streams import Scoreboard, StreamDriver, StreamMonitor

    dut, c = env.dut, env.component
    unpack = HuffmanAdapter(c).decode_output
    expected = [int(v) for v in expected]
    monitor = StreamMonitor(dut, "o", dut.clk, rng=env.random,
                            ready_probability=ready_probability, decode=unpack).start()
    driver = StreamDriver(dut, "i", dut.clk, rng=env.random,
                          valid_probability=valid_probability)

    def symbols():
        return [s for beat in monitor.received for s in beat]

    rate = max(min(valid_probability, ready_probability), 0.01)
    timeout = int((len(beats) + len(expected)) / rate * 4) + 400
    await with_timeout(driver.send(beats), timeout * CLOCK_PERIOD_NS, "ns")
    waited = 0
    while len(symbols()) < len(expected):
        if waited >= timeout:
            raise AssertionError(f"timeout: {len(symbols())} of {len(expected)} symbols after "
                                 f"{waited} cycles")
        await RisingEdge(dut.clk)
        waited += 1
    await ClockCycles(dut.clk, drain_cycles)
    monitor.stop()
    Scoreboard(f"{env.block.name}.symbols", env.log).check(expected, symbols())
    kind = int(dut.error_kind.value)
    if kind != error or int(dut.error.value) != int(error != 0):
        raise AssertionError(f"error_kind={kind} (error={int(dut.error.value)}), "
                             f"expected {error}")
    return symbols(), monitor
