"""The batch vector player (:mod:`quantrtl.tb.player`): every registered block on each
simulator, random vector sets with input gaps and backpressure checked against golden; a
wrong expectation, a missing output, a timeout and an unstable output each reported; the
vectorised packing and parsing against :class:`PayloadCodec`'s per-word methods.

Every play of a block configuration uses the same memory depth (:data:`DEPTH`), so each
(simulator, block, parameters) is built once and reused by all its tests.
"""

import dataclasses

import numpy as np
import pytest

from quantrtl.blocks import BLOCKS, configure
from quantrtl.tb import player
from quantrtl.tb.runner import DEFAULT_BUILD_ROOT
from quantrtl.tb.player import (CountError, MismatchError, PlayerTimeout, StabilityError,
                                StatusError, play, play_beats)
from quantrtl.vectors.adapters import input_streams
from quantrtl.vectors.random_sets import GENERATORS as VECTORS, signed_values
from quantrtl.vectors.codec import (PackedWords, PayloadCodec, chunks_to_words,
                                    words_to_chunks)

DEPTH = 4096          # one build per (simulator, block, parameters)


# (block, parameters, input beats, valid probability, ready probability)
CASES = [
    ("mac", {"lanes": 2}, 3000, 0.8, 0.7),
    ("mac", {"pes": 3, "lanes": 2, "width": 6, "acc_width": 14, "overflow": "saturate"},
     3000, 0.7, 0.6),
    ("requant", {}, 4000, 0.75, 0.6),
    ("dnateq", {"n": 3, "lanes": 1, "max_length": 64, "lut_width": 12, "frac_bits": 8,
                "pp_lanes": 2}, 700, 0.7, 0.6),
    ("huffman", {"lanes": 2, "symbol_bits": 3, "max_length": 12, "word_width": 16}, 600,
     0.7, 0.5),
    ("dqa", {}, 4000, 0.7, 0.6),
    ("dnaenc", {"n": 3, "width": 16}, 3000, 0.8, 0.6),
]


def _id(case):
    block, params = case[:2]
    return block + "".join(f",{k}={v}" for k, v in params.items())


def test_cases_cover_every_block():
    assert {case[0] for case in CASES} == set(BLOCKS)
    assert any(case[0] == "mac" and case[1].get("pes", 1) > 1 for case in CASES)


@pytest.mark.sim
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_random_vectors_match_golden(sim, case):
    """A random vector set with input gaps and output backpressure: every output checked,
    every input beat transferred once, gaps and stalls actually exercised."""
    block, params, beats, valid_p, ready_p = case
    config = configure(block, params)
    vectors = VECTORS[block](config.component, np.random.default_rng(7), beats)
    result = play(block, params, vectors, sim=sim, seed=11, valid_probability=valid_p,
                  ready_probability=ready_p, depth=DEPTH)
    adapter = config.adapter
    golden = adapter.golden(vectors)
    assert result.checked == np.size(golden) == adapter.count(vectors) > 100
    assert np.array_equal(np.asarray(result.outputs).reshape(-1),
                          np.asarray(golden).reshape(-1))
    streams = input_streams(adapter, vectors)
    for port, words in streams.items():
        accepted = result.input_cycles[port]
        assert accepted.size == len(words)
        gaps = np.diff(accepted)
        assert (gaps >= 1).all() and (gaps > 1).any()        # input gaps happened
    assert (np.diff(result.output_cycles) >= 1).all()
    assert (np.diff(result.output_cycles) > 1).any()         # backpressure happened
    assert result.items_per_beat.sum() == result.checked
    assert result.cycles > max(len(w) for w in streams.values())
    assert result.flags == {"done": 1, "timeout": 0, "unstable": 0, "unstable_cycle": 0}
    assert result.status == result.golden_status


def _corrupt(block, golden_fn):
    """The registry with ``block``'s adapter replaced by one whose golden is
    ``golden_fn(true golden)``."""
    base = BLOCKS[block].adapter

    class Corrupt(base):
        def golden(self, vectors):
            return golden_fn(super().golden(vectors))

        def count(self, vectors):
            return int(np.size(self.golden(vectors)))

    return dataclasses.replace(BLOCKS[block], adapter=Corrupt)


REQUANT = CASES[2][1]


@pytest.mark.sim
def test_wrong_expectation_names_the_first_failing_vector(sim, monkeypatch):
    """One golden value changed: the error names its index, its inputs, the expected and
    actual values and the cycle of the output beat."""
    config = configure("requant", REQUANT)
    vectors = VECTORS["requant"](config.component, np.random.default_rng(3), 2000)
    good = play("requant", REQUANT, vectors, sim=sim, seed=5, valid_probability=0.9,
                depth=DEPTH)
    k = 1234

    def flip(golden):
        golden = golden.copy()
        golden[k] = golden[k] + 1 if golden[k] < 127 else golden[k] - 1
        golden[k + 7] ^= 1                                   # a later one too
        return golden

    monkeypatch.setitem(BLOCKS, "requant", _corrupt("requant", flip))
    with pytest.raises(MismatchError) as info:
        play("requant", REQUANT, vectors, sim=sim, seed=5, valid_probability=0.9,
             depth=DEPTH)
    error = info.value
    assert error.index == k
    assert error.actual == good.outputs[k] != error.expected == flip(good.expected)[k]
    assert error.cycle == good.output_cycles[k] > k
    assert error.inputs["acc"] == vectors["acc"][k]
    assert error.inputs["multiplier"] == vectors["multiplier"][k]
    assert error.inputs["shift"] == vectors["shift"][k]
    message = str(error)
    assert "\n" not in message
    for text in (f"y[{k}]", f"at cycle {error.cycle}", f"expected {error.expected}",
                 f"got {error.actual}", f"acc={vectors['acc'][k]}",
                 f"shift={vectors['shift'][k]}", "2 of 2000 compared outputs differ"):
        assert text in message, text


@pytest.mark.sim
def test_unchecked_run_returns_what_run_block_returns(sim, monkeypatch):
    """``check=False`` raises on no mismatch (the caller compares, as with ``run_block``),
    and :meth:`PlayResult.as_run_result` is the cocotb harness's result: the same outputs,
    golden and status fields (Huffman: several symbols per beat, ``error_kind``)."""
    from quantrtl.tb.runner import run_block
    config = configure("huffman", HUFFMAN)
    vectors = VECTORS["huffman"](config.component, np.random.default_rng(12), 300)
    played = play("huffman", HUFFMAN, vectors, sim=sim, seed=8, valid_probability=0.8,
                  ready_probability=0.6, check=False, depth=DEPTH).as_run_result()
    harness = run_block("huffman", HUFFMAN, vectors, sim=sim, seed=8,
                        valid_probability=0.8, ready_probability=0.6)
    assert np.array_equal(played.rtl, harness.rtl) and np.array_equal(played.expected,
                                                                      harness.expected)
    assert played.status == harness.status == played.golden_status == harness.golden_status
    monkeypatch.setitem(BLOCKS, "huffman", _corrupt("huffman", lambda g: g[::-1].copy()))
    wrong = play("huffman", HUFFMAN, vectors, sim=sim, seed=8, check=False, depth=DEPTH)
    assert wrong.checked == 0 and not np.array_equal(wrong.outputs, wrong.expected)


@pytest.mark.sim
def test_missing_output_is_a_count_error(sim, monkeypatch):
    """Golden one output longer than the RTL delivers: the run ends after the settle
    window, and the error says how many were expected and received."""
    config = configure("requant", REQUANT)
    vectors = VECTORS["requant"](config.component, np.random.default_rng(4), 500)
    monkeypatch.setitem(BLOCKS, "requant", _corrupt("requant",
                                                    lambda g: np.append(g, 0)))
    with pytest.raises(CountError, match="expected 501 outputs, received 500") as info:
        play("requant", REQUANT, vectors, sim=sim, seed=6, ready_probability=0.5,
             depth=DEPTH)
    assert (info.value.expected, info.value.received) == (501, 500)


@pytest.mark.sim
def test_extra_outputs_are_a_count_error(sim):
    """More output beats than expected (raw beats, a short expectation): reported with the
    first extra one's cycle."""
    config = configure("requant", REQUANT)
    vectors = VECTORS["requant"](config.component, np.random.default_rng(5), 300)
    adapter = config.adapter
    golden = adapter.golden(vectors)
    with pytest.raises(CountError, match=r"expected 299 outputs, received 300 \(the first "
                                         r"extra: -?\d+ at cycle \d+\)"):
        play_beats(config, input_streams(adapter, vectors),
                   config_ports=adapter.config(vectors), expected_beats=299,
                   expected=golden[:299], sim=sim, seed=1, depth=DEPTH)


@pytest.mark.sim
def test_no_backpressure_release_times_out(sim):
    """ready never high: the wrapper's cycle limit ends the run with a timeout error (no
    hang), naming the limit and what was transferred."""
    config = configure("requant", REQUANT)
    vectors = VECTORS["requant"](config.component, np.random.default_rng(6), 200)
    with pytest.raises(PlayerTimeout, match=r"timeout: the cycle limit \d+ was reached "
                                            r"with input beats consumed \{'i': \d+\} of "
                                            r"\{'i': 200\} and 0 of 200 expected output"):
        play("requant", REQUANT, vectors, sim=sim, seed=2, ready_probability=0.0,
             depth=DEPTH)


HUFFMAN = CASES[4][1]


@pytest.mark.sim
def test_huffman_packets_as_beat_lists(sim):
    """Raw Huffman packets (table, count, words) through :func:`play_beats`: the symbols
    checked (several per beat) and the final error status; a truncated stream reports
    its error kind, and a wrong expected status is a status error."""
    from quantrtl.golden.huffman import build_code, encode
    from quantrtl.vectors.huffman import expected_outcome, packet_beats
    from quantrtl.vectors.huffman_model import TRUNCATED

    config = configure("huffman", HUFFMAN)
    c, adapter = config.component, config.adapter
    rng = np.random.default_rng(8)
    symbols = np.minimum(rng.geometric(0.3, size=400), 8) - 1
    code = build_code(symbols, c.max_length, alphabet_size=1 << c.symbol_bits)
    enc = encode(symbols, code, c.word_width)
    beats = packet_beats(adapter.codec, c, code, enc.words, enc.count)
    expected, kind = expected_outcome(c, code, enc.words, enc.count)
    assert kind == 0 and np.array_equal(expected, symbols)
    common = dict(config_ports={"restart": 0}, decode=adapter.decode_output, flatten=True,
                  sim=sim, seed=3, valid_probability=0.6, ready_probability=0.7, depth=DEPTH)
    result = play_beats(config, {"i": beats}, expected=expected,
                        expected_status={"error": 0, "error_kind": 0}, **common)
    assert result.checked == 400 and (result.items_per_beat > 1).any()
    assert result.item_cycles.size == 400

    short = packet_beats(adapter.codec, c, code, enc.words[:-2], enc.count)   # truncated
    expected, kind = expected_outcome(c, code, enc.words[:-2], enc.count)
    assert kind == TRUNCATED and len(expected) < 400
    result = play_beats(config, {"i": short}, expected=expected,
                        expected_status={"error": 1, "error_kind": kind}, **common)
    with pytest.raises(StatusError, match=r"status \{'error_kind': \d\}, expected "
                                          r"\{'error_kind': 0\}"):
        play_beats(config, {"i": short}, expected=expected, expected_status={
            "error_kind": 0}, **common)


@pytest.mark.sim
def test_plain_run_equals_the_cocotb_run(sim):
    """``host="plain"`` (the simulator's own main, no cocotb) plays the same run as the
    cocotb host: the same outputs, transfer cycles, flags and cycle count for the same
    seed, signed configuration ports (the requantizer's zero point and clamp) and status
    ports (a truncated Huffman stream's error) included; a run that cannot end is a
    timeout, as under cocotb."""
    from quantrtl.vectors.huffman import expected_outcome, packet_beats
    from quantrtl.vectors.huffman_model import TRUNCATED
    from quantrtl.golden.huffman import build_code, encode

    config = configure("requant", REQUANT)
    vectors = VECTORS["requant"](config.component, np.random.default_rng(12), 1500)
    vectors.update(zero_point=-7, qmin=-100, qmax=90)
    # (depth 8192: the builds of `quantrtl run`'s 5,000-vector tests, test_cli_inputs.py)
    runs = {host: play("requant", REQUANT, vectors, sim=sim, seed=5, valid_probability=0.7,
                       ready_probability=0.6, depth=8192, host=host)
            for host in player.HOSTS}
    cocotb, plain = runs["cocotb"], runs["plain"]
    assert plain.checked == cocotb.checked == 1500 and (plain.outputs == -100).any()
    assert np.array_equal(plain.outputs, cocotb.outputs)
    assert np.array_equal(plain.output_cycles, cocotb.output_cycles)
    assert np.array_equal(plain.input_cycles["i"], cocotb.input_cycles["i"])
    assert (plain.flags, plain.cycles) == (cocotb.flags, cocotb.cycles)

    config = configure("huffman", HUFFMAN)
    c, adapter = config.component, config.adapter
    symbols = np.minimum(np.random.default_rng(13).geometric(0.3, size=300), 8) - 1
    code = build_code(symbols, c.max_length, alphabet_size=1 << c.symbol_bits)
    enc = encode(symbols, code, c.word_width)
    short = packet_beats(adapter.codec, c, code, enc.words[:-2], enc.count)
    expected, kind = expected_outcome(c, code, enc.words[:-2], enc.count)
    assert kind == TRUNCATED
    common = dict(config_ports={"restart": 0}, decode=adapter.decode_output, flatten=True,
                  sim=sim, seed=3, valid_probability=0.6, ready_probability=0.7, depth=DEPTH,
                  host="plain")
    result = play_beats(config, {"i": short}, expected=expected,
                        expected_status={"error": 1, "error_kind": kind}, **common)
    assert result.status_ports["error"] == 1 and result.checked == len(expected)
    with pytest.raises(PlayerTimeout, match=r"timeout: the cycle limit 3000 was reached"):
        play_beats(config, {"i": short}, **{**common, "ready_probability": 0.0,
                                            "limit": 3000})
    with pytest.raises(ValueError, match=r"host='vpi' is not allowed: allowed "
                                         r"\{cocotb, plain\}"):
        play_beats(config, {"i": short}, **{**common, "host": "vpi"})


@pytest.mark.sim
def test_unstable_output_is_caught_by_the_wrapper(sim, monkeypatch):
    """A block whose output payload changes while stalled (a hand-written stand-in for the
    requantizer's Verilog, built apart from the real one): the wrapper's stability check
    fires and names the cycle."""
    config = configure("requant", REQUANT)
    bad = """module quantrtl_requant(input clk, input rst, input i__valid, output i__ready,
  input [69:0] i__payload, output o__valid, input o__ready, output [7:0] o__payload,
  input [7:0] zero_point, input [7:0] qmin, input [7:0] qmax);
  reg [7:0] count;
  reg [3:0] taken;
  assign i__ready = 1'b1;
  assign o__valid = taken != 0;
  assign o__payload = count;           // changes every cycle, stalled or not
  always @(posedge clk) begin
    if (rst) begin count <= 8'd0; taken <= 4'd0; end
    else begin
      count <= count + 8'd1;
      taken <= taken + (i__valid ? 4'd1 : 4'd0) - (o__valid && o__ready ? 4'd1 : 4'd0);
    end
  end
endmodule
"""
    monkeypatch.setattr(player, "_block_verilog", lambda config: bad)
    vectors = VECTORS["requant"](config.component, np.random.default_rng(9), 8)
    with pytest.raises(StabilityError, match=r"changed while stalled \(valid & ~ready\) at "
                                             r"cycle \d+") as info:
        play("requant", REQUANT, vectors, sim=sim, seed=4, ready_probability=0.3,
             build_root=DEFAULT_BUILD_ROOT / "stand-in")
    assert info.value.cycle > 0


# --------------------------------------------------------------- packing, without a simulator

def _layout(rng):
    from amaranth.hdl import signed, unsigned
    from amaranth.lib import data
    widths = rng.choice([1, 3, 8, 13, 31, 32, 33, 47, 63, 64], size=int(rng.integers(1, 9)))
    return data.StructLayout({f"f{k}": (signed if rng.random() < 0.5 else unsigned)(int(w))
                              for k, w in enumerate(widths)})


def _columns(rng, codec, rows):
    cols = {}
    for name, field in codec.fields.items():
        width = field["width"]
        lo, hi = (-(1 << (width - 1)), (1 << (width - 1)) - 1) if field["signed"] else \
            (0, (1 << width) - 1)
        values = [int(v) for v in rng.integers(0, 1 << 62, size=rows)]
        values = [lo + v % (hi - lo + 1) for v in values]
        values[:2] = [lo, hi][:rows]
        cols[name] = np.array(values, dtype=np.int64) if width < 64 or field["signed"] \
            else values
    return cols


def test_vectorised_packing_matches_pack():
    """``pack_array`` (and ``pack_columns``, the memory file, the chunk conversions) against
    :meth:`PayloadCodec.pack` word by word, on random layouts up to several hundred bits
    (fields up to 64 bits, extremes included)."""
    rng = np.random.default_rng(0)
    for trial in range(60):
        codec = PayloadCodec(_layout(rng))
        rows = int(rng.integers(1, 50))
        cols = _columns(rng, codec, rows)
        want = [codec.pack({n: cols[n][r] for n in cols}) for r in range(rows)]
        chunks = codec.pack_array(cols)
        assert chunks.dtype == np.uint32 and chunks.shape == (rows, codec.chunks)
        assert chunks_to_words(chunks) == want
        words = codec.pack_columns(cols)
        assert isinstance(words, PackedWords) and words == want
        assert np.array_equal(words_to_chunks(want, codec.width), chunks)
        assert np.array_equal(words_to_chunks(words, codec.width), chunks)
        size = -(-codec.width // 8)
        assert player.memory_bytes(chunks, codec.width) == \
            b"".join(w.to_bytes(size, "big") for w in want)
        unpacked = codec.unpack_array(chunks)
        for r in (0, rows - 1):
            assert {n: int(unpacked[n][r]) for n in cols} == codec.unpack(want[r])
    assert any(PayloadCodec(_layout(np.random.default_rng(s))).width > 64 for s in range(9))


def test_wide_payloads_and_wrapping():
    """A 289-bit payload (a 16-lane mac beat) and values outside a field wrap as the
    per-word loop did; a word wider than the memory is refused."""
    config = configure("mac", {"lanes": 16})
    codec = config.adapter.codec
    assert codec.width > 256
    rng = np.random.default_rng(1)
    cols = {n: signed_values(rng, f["width"] + 1, 40) for n, f in codec.fields.items()}
    mask = {n: (1 << f["width"]) - 1 for n, f in codec.fields.items()}
    want = [sum((int(cols[n][r]) & mask[n]) << f["offset"] for n, f in codec.fields.items())
            for r in range(40)]
    assert chunks_to_words(codec.pack_array(cols)) == want
    assert words_to_chunks(want, codec.width).shape == (40, 10)
    with pytest.raises(ValueError, match=r"payload word 1 is out of range: allowed "
                                         r"\[0, 2\^8\)"):
        player.memory_bytes(words_to_chunks([5, 256], 16), 8)


def test_packed_words_drop_their_chunks_when_changed():
    codec = PayloadCodec(configure("requant", {}).component.input_layout)
    words = codec.pack_columns({"acc": [1, 2], "multiplier": [3, 4], "shift": [5, 6]})
    assert words.chunks is not None
    words[0] = 7
    assert words.chunks is None
    assert words_to_chunks(words, codec.width)[0, 0] == 7


def test_capture_parsing():
    """The wrapper's capture lines (``%h`` of the cycle and of the payload) back into
    cycles and chunks, x/z digits flagged; malformed files refused."""
    rng = np.random.default_rng(2)
    for width in (1, 5, 8, 32, 38, 70, 289):
        digits = -(-width // 4)
        words = [int(v) % (1 << width) for v in rng.integers(0, 1 << 62, size=20)]
        words = [w | (int(rng.integers(0, 1 << 30)) << max(0, width - 31)) % (1 << width)
                 for w in words]
        cycles = np.cumsum(rng.integers(1, 1000, size=20))
        text = b"".join(b"%08x %0*x\n" % (int(c), digits, w) for c, w in zip(cycles, words))
        got_cycles, chunks, unknown = player.parse_captures(text, width)
        assert np.array_equal(got_cycles, cycles) and not unknown.any()
        assert chunks_to_words(chunks) == words
    text = b"00000003 1x\n00000004 2a\n"
    assert player.parse_captures(text, 8)[2].tolist() == [True, False]
    with pytest.raises(player.PlayerError, match="malformed"):
        player.parse_captures(b"00000003 1a\n0004 2a\n", 8)


def test_transfer_log_parsing():
    """The run-length coded transfer log (a ``<cycle> <index>`` line per run of
    consecutive transfers, then the closing cycle and the count) back into every
    transfer's cycle, for random gap patterns; a log that does not add up is refused."""
    rng = np.random.default_rng(3)
    for beats in (0, 1, 2, 50, 1000):
        cycles = np.cumsum(rng.choice([1, 1, 1, 2, 5], size=beats)) + 7
        starts = [k for k in range(beats) if k == 0 or cycles[k] != cycles[k - 1] + 1]
        lines = [(int(cycles[k]), k) for k in starts]
        lines.append((int(cycles[-1]) + 30 if beats else 40, beats))
        text = b"".join(b"%08x %08x\n" % line for line in lines)
        assert np.array_equal(player._parse_log(text), cycles)
    for bad in (b"", b"00000003 00000001\n",                     # no run before the count
                b"00000003 00000000\n00000004 00000000\n",      # an empty run
                b"00000003 00000000\n00000004 00000005\n",      # 5 transfers in 1 cycle
                b"00000003 0000000\n", b"00000003 0000000x\n"):
        with pytest.raises(player.PlayerError, match="malformed"):
            player._parse_log(bad)


def test_verilator_optimisation_levels(monkeypatch):
    """-O2 models, -O0 for a block of more than a megabyte of Verilog (DNA-TEQ at n >= 5),
    QUANTRTL_PLAYER_OPT over both; each level its own build directory."""
    from quantrtl.tb.runner import LARGE_MODEL_BYTES, player_build_dir, player_opt
    monkeypatch.delenv("QUANTRTL_PLAYER_OPT", raising=False)
    assert player_opt("verilator", None, 5000) == "-O2"
    assert player_opt("verilator", None, LARGE_MODEL_BYTES + 1) == "-O0"
    assert player_opt("verilator", "-O3", LARGE_MODEL_BYTES + 1) == "-O3"
    assert player_opt("icarus", None, 5000) == ""
    monkeypatch.setenv("QUANTRTL_PLAYER_OPT", "-O1")
    assert player_opt("verilator", None, 5000) == "-O1"
    with pytest.raises(ValueError, match=r"opt='-O9' is not allowed: allowed \{-O0, "):
        player_opt("verilator", "-O9")
    config = configure("requant", {})
    assert player_build_dir("verilator", config, 4096, opt="-O2").name.endswith("-d4096-O2")
    assert player_build_dir("verilator", config, 4096, opt="-O0") != \
        player_build_dir("verilator", config, 4096, opt="-O2")



def test_verilator_builds_compile_through_ccache(monkeypatch, tmp_path):
    """Where ccache is on PATH, Verilator builds use it (OBJCACHE) with the project's cache
    folder unless CCACHE_DIR names another; QUANTRTL_CCACHE=0 or no ccache: plain builds."""
    import shutil

    from quantrtl.tb import runner
    monkeypatch.delenv("CCACHE_DIR", raising=False)
    monkeypatch.delenv("QUANTRTL_CCACHE", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    assert runner.objcache_env() == {"OBJCACHE": "ccache",
                                     "CCACHE_DIR": str(runner.CCACHE_DIR.resolve())}
    monkeypatch.setenv("CCACHE_DIR", str(tmp_path))
    assert runner.objcache_env()["CCACHE_DIR"] == str(tmp_path)
    monkeypatch.setenv("QUANTRTL_CCACHE", "0")
    assert runner.objcache_env() == {}
    monkeypatch.delenv("QUANTRTL_CCACHE")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert runner.objcache_env() == {}


def test_the_runtime_is_made_first_under_the_cache_lock(monkeypatch, tmp_path):
    """With ccache, a Verilator build's make runs first for the runtime objects alone, under
    the cache's lock (builds starting together compile the runtime once); without, the make
    alone.  The lock holds the first command back until it is released."""
    import fcntl
    import shutil
    import subprocess
    import time

    from quantrtl.tb import runner
    monkeypatch.setenv("CCACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("QUANTRTL_CCACHE", raising=False)
    if shutil.which("ccache") is None:
        monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    log = tmp_path / "made"
    make = ["sh", "-c", f'echo "$@" >> {log}', "make"]
    rules = str(tmp_path / "cache" / "quantrtl-runtime.mk")
    first, second = runner.runtime_first(make)
    assert second == make and first[-3:] == ["-f", rules, "quantrtl-runtime"]
    assert (tmp_path / "cache" / "quantrtl-runtime.mk").read_text() == runner.RUNTIME_MK
    with open(tmp_path / "cache" / runner.RUNTIME_LOCK, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = subprocess.Popen(first)
        time.sleep(1.0)
        assert proc.poll() is None and not log.exists()        # waits for the lock
        fcntl.flock(held, fcntl.LOCK_UN)
        assert proc.wait(timeout=30) == 0
    assert log.read_text().split() == ["-f", rules, "quantrtl-runtime"]
    monkeypatch.setenv("QUANTRTL_CCACHE", "0")
    assert runner.runtime_first(make) == [make]


def test_arguments_are_checked_before_any_simulator():
    config = configure("requant", {})
    with pytest.raises(ValueError, match=r"valid_probability=1.5 is out of range: allowed "
                                         r"\[0, 1\]"):
        play_beats(config, {"i": [0]}, valid_probability=1.5)
    with pytest.raises(ValueError, match=r"streams must be \{i\}: unknown \['e'\]"):
        play_beats(config, {"i": [0], "e": [0]})
    with pytest.raises(ValueError, match=r"depth=1000 is out of range: allowed a power of two "
                                         r"in \[1, 4194304\]"):
        play_beats(config, {"i": [0]}, depth=1000)
    with pytest.raises(ValueError, match=r"depth=1024 is out of range: allowed a power of "
                                         r"two >= 2000"):
        play_beats(config, {"i": [0] * 2000}, depth=1024)
    with pytest.raises(ValueError, match=r"acc must be one-dimensional"):
        play("requant", {}, {"acc": np.zeros((2, 2), int), "multiplier": 1 << 30, "shift": 0})
    assert player.depth_bucket(0) == player.depth_bucket(1024) == 1024
    assert player.depth_bucket(1025) == 2048


def test_results_are_read_under_the_build_lock(monkeypatch):
    """Two runs in one build directory (the bulk tests' shared player builds, on two
    workers) take turns under its lock, and the next run starts by deleting the results
    file: a run reads its results before it lets the next one in."""
    import fcntl

    from quantrtl.tb import runner
    available, reason = runner.simulator_status("icarus")
    if not available:
        pytest.skip(reason)
    read = []

    def get_results(path):
        with open(path.parent / ".lock", "w") as other:
            with pytest.raises(BlockingIOError):        # still held by this run
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        read.append(path)
        return original(path)

    original = runner.get_results
    monkeypatch.setattr(runner, "get_results", get_results)
    config = configure("requant", REQUANT)
    vectors = VECTORS["requant"](config.component, np.random.default_rng(4), 300)
    assert play("requant", REQUANT, vectors, sim="icarus", seed=1, depth=DEPTH).checked == 300
    assert len(read) == 1
