"""Functional coverage: the vectorised sampler on hand-made cases (each bin hit exactly when
it should be), the cocotb-coverage side agreeing with it, the run files, the merge and its
JSON; and the closure of every block's declared bins over the suite's default run.

The closure tests (``closure`` marker, collected last) merge the coverage that the default
run of each block's cocotb module over its simulator matrix recorded -- the runs of
``tests/test_sim.py`` in the same session (waited for, under pytest-xdist, through the
markers ``tests/conftest.py`` leaves), or else the latest run of the same sources from an
earlier session; a configuration with neither is simulated here (reusing its build).
"""

import json
import os
import time

import numpy as np
import pytest

from quantrtl.blocks import BLOCKS, configure
from quantrtl.golden.huffman import CanonicalCode, encode
from quantrtl.tb import coverage as tcov
from quantrtl.vectors import coverage as cov
from quantrtl.vectors.huffman import expected_outcome, packet_tuples


def hit(hits, prefix):
    """The bins of one point (``prefix/``) and their hits, zeros left out."""
    return {k.split("/", 1)[1]: v for k, v in hits.items() if k.startswith(prefix + "/") and v}


# -- declaration ---------------------------------------------------------------------------

def test_every_configuration_of_the_matrix_declares_unique_bins():
    for block in BLOCKS.values():
        for sim in ("verilator", "icarus"):
            for params in block.sim_matrix(sim):
                names = cov.declared(block.configure(params))
                assert names and len(names) == len(set(names)), (block.name, params)


def test_bins_depend_on_the_configuration():
    small, big = configure("dnateq", {"n": 3, "max_length": 64}), configure("dnateq", {"n": 6})
    assert "counter[n=3]/C0[6]" in cov.declared(small)
    assert not any(b.startswith("counter[n=3]/C0[7]") for b in cov.declared(small))
    assert "counter[n=6]/C0[62]" in cov.declared(big)
    assert "counter[n=6]/C3" not in cov.declared(big)                  # fold_c3 by default
    assert "counter[n=6]/C3" in cov.declared(configure("dnateq", {"n": 6, "fold_c3": False}))
    plain = cov.declared(configure("mac", {"offset": False, "bias": False}))
    assert not any(b.startswith(("input_offset/", "bias/")) for b in plain)
    assert "acc_crossing[overflow=saturate]/high" in cov.declared(
        configure("mac", {"overflow": "saturate"}))
    requant = cov.declared(configure("requant", {}))
    assert len([b for b in requant if b.startswith("rounding_tie[rounding=single]/")]) == 62 * 2
    assert cov.declared(configure("huffman", {"lanes": 4, "symbol_bits": 2, "max_length": 3,
                                              "word_width": 64}))[:4] == [
        "code_length[max_length=3,symbol_bits=2]/1", "code_length[max_length=3,symbol_bits=2]/2",
        "code_length[max_length=3,symbol_bits=2]/3", "error/none"]
    # 8 symbols: no code is longer than 7 bits, whatever max_length allows
    assert "code_length[max_length=12,symbol_bits=3]/7" in cov.declared(configure(
        "huffman", {"lanes": 2, "symbol_bits": 3, "max_length": 12, "word_width": 16}))
    assert not any(b.startswith("code_length[max_length=12,symbol_bits=3]/8") for b in
                   cov.declared(configure("huffman", {"symbol_bits": 3, "max_length": 12})))


def test_a_config_or_a_name_and_component_pair():
    config = configure("dqa", {"n": 3, "m": 1})
    assert cov.declared(config) == cov.declared(("dqa", config.component))
    with pytest.raises(ValueError, match="no coverage model"):
        cov.model(("nosuch", config.component))


# -- the vectorised sampler, block by block ------------------------------------------------

def test_requant_ties_depend_on_the_rounding_mode():
    acc = np.array([2, 3, 1, 3, 4, 1 << 29])
    shift = np.array([-1, -1, 0, -2, -3, 1])
    mult = np.array([1 << 30] * 5 + [(1 << 30) + 1])
    v = {"acc": acc, "multiplier": mult, "shift": shift}
    single = cov.sample(configure("requant", {}), v)
    double = cov.sample(configure("requant", {"rounding": "double", "latency": 1}), v)
    # single: 0.5 tie, 0.75, 0.5 tie, 0.375, 0.25, left-shift tie
    assert hit(single, "rounding_tie[rounding=single]") == {
        "-1,tie": 1, "-1,non_tie": 1, "0,tie": 1, "-2,non_tie": 1, "-3,non_tie": 1, "1,tie": 1}
    # double: 3 * 2^30 / 2^31 = 1.5 is a tie of the doubling high multiply (shift -1, -2)
    assert hit(double, "rounding_tie[rounding=double]") == {
        "-1,tie": 2, "0,tie": 1, "-2,tie": 1, "-3,non_tie": 1, "1,tie": 1}
    assert hit(single, "tie") == {"tie": 3, "non_tie": 3}
    assert not any(k.startswith("rounding_tie[rounding=double]") for k in single)


def test_requant_clamp_and_extremes():
    config = configure("requant", {})
    v = {"acc": np.array([-10, 0, 10, -(1 << 31), (1 << 31) - 1]),
         "multiplier": np.array([1 << 30, 1 << 30, 1 << 30, 0, (1 << 31) - 1]),
         "shift": np.array([1, 1, 1, 1, -20]), "zero_point": np.int64(-128),
         "qmin": np.int64(-5), "qmax": np.int64(6)}
    hits = cov.sample(config, v)
    # MBQM = acc for the first three, 0, 2048; + zp: -138, -128, -118, -128 low; 1920 high
    assert hit(hits, "clamp") == {"low": 4, "high": 1}
    assert hit(hits, "acc") == {"int32_min": 1, "int32_max": 1, "zero": 1}
    assert hit(hits, "zero_point") == {"min": 5}
    assert hit(hits, "multiplier") == {"zero": 1, "min": 3, "max": 1}
    v.update(zero_point=np.int64(0))
    assert hit(cov.sample(config, v), "clamp") == {"low": 1, "inside": 2, "high": 2}


def test_mac_accumulator_crossing_per_overflow_mode():
    hi = (1 << 31) - 1
    v = {"a": np.array([[4], [4], [4]]), "w": np.array([[4], [-4], [4]]),
         "bias": np.array([hi - 10, -hi + 5, 0])}
    hits = cov.sample(configure("mac", {}), v)
    assert hit(hits, "acc_crossing[overflow=wrap]") == {"high": 1, "low": 1}
    assert hit(hits, "bias") == {}
    sat = configure("mac", {"lanes": 2, "width": 6, "acc_width": 14, "overflow": "saturate"})
    v = {"a": np.array([[1, 1, -10, -10], [1, 0, 0, 0], [-32, -32, 0, 0]]),
         "w": np.array([[1, 1, 10, 10], [1, 0, 0, 0], [31, 31, 0, 0]]),
         "bias": np.array([8190, 8190, -8192])}
    hits = cov.sample(sat, v)
    # row 0 saturates high then comes back; row 1 ends at 8191 (no crossing); row 2 low
    assert hit(hits, "acc_crossing[overflow=saturate]") == {"high": 1, "low": 1}
    assert hit(hits, "bias") == {"min": 1}


def test_mac_lengths_offset_and_zero_beats():
    config = configure("mac", {"lanes": 3, "width": 4, "acc_width": 12, "offset": False,
                               "bias": False})
    a = np.ones((3, 9), dtype=np.int64)
    v = {"a": a, "w": np.ones_like(a), "length": np.array([3, 6, 9])}
    # K_safe = 2^(12 - 8 - 1) = 8 pairs: the 9-pair row is "max"
    assert hit(cov.sample(config, v), "length") == {"1": 1, "max": 1}
    default = configure("mac", {})
    a = np.array([[5, 0, 5], [0, 0, 0], [1, 2, 3]])
    v = {"a": a, "w": np.array([[1, 1, 0], [1, 1, 1], [1, 1, 1]]),
         "input_offset": np.int64(-256)}
    hits = cov.sample(default, v)
    assert hit(hits, "input_offset") == {"min": 3}
    v["input_offset"] = np.int64(0)
    # row 0: beats 1 and 2 have a zero operand, beat 0 not; row 1: every beat zero
    assert hit(cov.sample(default, v), "zero_skip") == {"beat": 1, "packet": 1}


def test_mac_stalls_come_from_the_trace():
    config = configure("mac", {})
    v = {"a": np.ones((4, 3), dtype=np.int64), "w": np.ones((4, 3), dtype=np.int64),
         "length": np.array([3, 3, 3, 1])}
    trace = {"i": [0, 1, 2, 5, 7, 8, 9, 12, 13, 20],
             "i_idle": [0, 0, 0, 2, 1, 0, 0, 0, 0, 4],
             "i_wait": [0, 0, 0, 0, 0, 0, 0, 2, 0, 0],
             "o_wait": [0, 1, 2, 5]}
    hits = cov.sample(config, v, trace=trace)
    assert hit(hits, "in_stall") == {"back_to_back": 1, "gap_1": 1, "gap_2+": 1,
                                     "valid_drop": 1, "ready_low": 1}
    assert hit(hits, "o_stall") == {"none": 1, "1": 1, "2+": 2}
    assert hit(cov.sample(config, v), "in_stall") == {}                 # no trace, no stalls
    short = dict(trace, i=trace["i"][:-1])
    assert hit(cov.sample(config, v, trace=short), "in_stall") == {}    # not this stream's


def test_dnateq_counters_zeros_and_reloads():
    config = configure("dnateq", {"n": 3, "lanes": 1, "max_length": 64, "lut_width": 12,
                                  "frac_bits": 8, "pp_lanes": 2})
    c = config.component
    z = c.zero_code                                 # 4
    v = {"x": np.array([[2, 1, z], [z, 3, z]]), "w": np.array([[7, z, 1], [1, z, z]]),
         "length": np.array([1, 3]), "lut": np.zeros(c.entries, dtype=np.int64)}
    hits = cov.sample(config, v)
    # row 0: the one pair (f 2, f 3): C0[5], C1[2], C2[3]; row 1 has no pair of non-zeros
    assert hit(hits, "counter[n=3]") == {"C0[5]": 1, "C1[2]": 1, "C2[3]": 1}
    assert hit(hits, "zero_skip") == {"x_zero": 1, "w_zero": 1, "both_zero": 1,
                                      "all_zero": 1}
    assert hit(hits, "length[max_length=64]") == {"1": 1}
    assert hit(hits, "lut") == {"load": 1}
    assert hit(cov.sample(config, [v, v]), "lut") == {"load": 1, "reload": 1}
    unfolded = configure("dnateq", {"n": 3, "lanes": 1, "max_length": 64, "lut_width": 12,
                                    "frac_bits": 8, "pp_lanes": 2, "fold_c3": False})
    v["lut"] = np.zeros(unfolded.component.entries, dtype=np.int64)
    assert hit(cov.sample(unfolded, v), "counter[n=3]") == {"C0[5]": 1, "C1[2]": 1,
                                                            "C2[3]": 1, "C3": 1}


def test_dnaenc_ties_codes_and_extremes():
    config = configure("dnaenc", {"n": 3, "width": 16})
    v = {"r": np.array([10, -15, 11, 0, -32768, 32767, -10]),
         "thresholds": np.array([10, 20, 30, 40, 15, 25, 35])}
    hits = cov.sample(config, v)
    assert hit(hits, "threshold") == {"pos_tie": 1, "neg_tie": 1}
    assert hit(hits, "r") == {"min": 1, "max": 1, "zero": 1}
    codes = hit(hits, "code[n=3]")
    assert sum(codes.values()) == 7 and codes["4"] == 4     # 0, 10, -10, -15: the zero code
    assert hit(cov.sample(config, v, outputs=[0] * 7), "code[n=3]") == {"0": 7}


def test_dqa_errors_and_channels():
    config = configure("dqa", {})
    v = {"q": np.array([[1, -8], [7, 0]]), "err": np.array([[5, 0], [2, 0]]),
         "important": np.array([1, 0])}
    hits = cov.sample(config, v)
    assert hit(hits, "err[m=3]") == {"5": 1, "2": 1}
    assert hit(hits, "channel") == {"important": 2, "ordinary": 2}
    assert hit(hits, "channel_q") == {"important,max": 1, "ordinary,min": 1,
                                      "ordinary,zero": 1}


def _huffman_code():
    lengths = np.zeros(16, dtype=np.int64)
    lengths[[0, 1, 2, 3]] = [1, 2, 3, 3]
    return CanonicalCode.from_lengths(lengths, 8)


def test_huffman_code_lengths_tables_and_errors():
    config = configure("huffman", {})
    c = config.component
    code = _huffman_code()
    symbols = np.array([0, 1, 2, 3, 3])
    enc = encode(symbols, code, c.word_width)
    beats = (packet_tuples(c, code, enc.words, enc.count)
             + packet_tuples(c, code, enc.words, enc.count)
             + packet_tuples(c, None, enc.words, enc.count))
    hits = cov.sample(config, beats)
    lengths = "code_length[max_length=8,symbol_bits=4]"
    assert hit(hits, lengths) == {"1": 3, "2": 3, "3": 9}
    assert hit(hits, "table") == {"load": 1, "reload": 1, "reuse": 1}
    assert hit(hits, "error") == {"none": 1}
    # the outputs delivered so far: only their code lengths count
    assert hit(cov.sample(config, beats, outputs=[0, 1]), lengths) == {"1": 1, "2": 1}
    truncated = packet_tuples(c, code, enc.words, enc.count + 30)   # more than 32 bits hold
    assert expected_outcome(c, code, enc.words, enc.count + 30)[1] == 2
    assert hit(cov.sample(config, truncated), "error") == {"truncated": 1}
    assert hit(cov.sample(config, {"symbols": np.array([1, 1, 2])}), "table") == {"load": 1}


def test_huffman_beats_and_restarts_come_from_the_trace():
    config = configure("huffman", {"lanes": 2, "symbol_bits": 3, "max_length": 12,
                                   "word_width": 16})
    hits = cov.sample(config, None, trace={"o_items": [1, 2, 2, 1], "restart": [0, 2, 1, 1]})
    assert hit(hits, "symbols_per_clock[lanes=2]") == {"1": 2, "2": 2}
    assert hit(hits, "restart") == {"idle": 1, "busy": 2, "error": 1}
    assert sum(cov.sample(config, None).values()) == 0


# -- the cocotb-coverage side ---------------------------------------------------------------

@pytest.fixture
def fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("QUANTRTL_COVERAGE_DIR", str(tmp_path))
    tcov.reset()
    yield tmp_path
    tcov.reset()


def _requant_vectors(n=500, seed=0):
    rng = np.random.default_rng(seed)
    return {"acc": rng.integers(-1000, 1000, size=n), "multiplier": np.int64(1 << 30),
            "shift": rng.integers(-4, 2, size=n)}


def test_cocotb_coverage_counts_what_the_vectorised_sampler_counts(fresh):
    from cocotb_coverage.coverage import coverage_db
    for params in ({}, {"rounding": "double", "latency": 1}):
        config = configure("requant", params)
        v = _requant_vectors()                   # many repeated transactions
        got = tcov.sample(config, v)
        assert got == cov.sample(config, v) == tcov.hits(config)
        root = tcov.declare(config).root
        assert coverage_db[f"{root}.shift"].detailed_coverage["-4"] == got["shift/-4"] > 0
        tcov.sample(config, v)
        assert tcov.hits(config) == {k: 2 * n for k, n in got.items()}
    mac = configure("mac", {"pes": 3, "lanes": 2, "width": 6, "acc_width": 14,
                            "overflow": "saturate"})
    rng = np.random.default_rng(1)
    v = {"a": rng.integers(-32, 31, size=(30, 8)), "w": rng.integers(-32, 31, size=(30, 3, 8)),
         "length": rng.integers(1, 5, size=30) * 2}
    trace = {"i": np.arange(int(v["length"].sum()) // 2) * 2, "o_wait": np.arange(90) % 3}
    assert tcov.sample(mac, v, trace=trace) == cov.sample(mac, v, trace=trace) == \
        tcov.hits(mac)


def test_record_adds_bulk_hits(fresh):
    config = configure("dqa", {})
    v = {"q": np.array([[1, -8]]), "err": np.array([[5, 0]]), "important": np.array([1, 0])}
    tcov.sample(config, v)
    bulk = cov.sample(config, v)
    tcov.record(config, bulk, "player")
    assert tcov.hits(config) == {k: 2 * n for k, n in bulk.items()}
    with pytest.raises(ValueError, match="not declared"):
        tcov.record(config, {"err[m=3]/9": 1}, "player")
    doc = json.loads(tcov.run_file(config).read_text())
    assert doc["sources"]["player"]["hits"]["err[m=3]/5"] == 1
    assert doc["sources"]["cocotb"]["transactions"] == 2
    assert doc["hits"]["channel_q/ordinary,min"] == 2


def test_run_files_name_their_run(fresh, monkeypatch):
    monkeypatch.setenv("COCOTB_TEST_MODULES", "quantrtl.tb.tests.test_dqa")
    monkeypatch.setenv("QUANTRTL_COUNT", "5")
    for where in ("QUANTRTL_VERILOG_CACHE", "QUANTRTL_CCACHE", "QUANTRTL_SYNTH_ROOT"):
        monkeypatch.setenv(where, "0")          # build and cache settings are not knobs
    config = configure("dqa", {"n": 3, "m": 1})
    tcov.sample(config, {"q": np.array([[1]]), "err": np.array([[1]]),
                         "important": np.array([1])})
    (path,) = tcov.run_files(fresh)
    doc = json.loads(path.read_text())
    meta = doc["meta"]
    assert meta["block"] == "dqa" and meta["params"] == {"m": 1, "n": 3}
    assert meta["test_module"] == "quantrtl.tb.tests.test_dqa" and meta["filter"] is None
    assert meta["knobs"] == {"QUANTRTL_COUNT": "5"}
    assert meta["digest"] == tcov.source_digest("quantrtl.tb.tests.test_dqa")
    assert path.name.startswith(f"dqa-None-{tcov.params_key(meta['params'])}-test_dqa-")
    assert doc["declared"] == cov.declared(config) and doc["hits"]["err[m=1]/1"] == 1


def test_stream_trace_of_a_source_and_a_sink():
    class Source:
        transfer_cycles, idles, waits = [0, 2], [0, 1], [0, 0]

    class Sink:
        transfer_cycles, waits, flatten, beats = [4, 5], [0, 3], True, [[1, 2], [3]]
    trace = tcov.stream_trace(Source(), Sink())
    assert trace == {"i": [0, 2], "i_idle": [0, 1], "i_wait": [0, 0], "o": [4, 5],
                     "o_wait": [0, 3], "o_items": [2, 1]}
    Sink.flatten = False
    assert set(tcov.stream_trace(None, Sink())) == {"o", "o_wait"}


def test_toggle_coverage_merges_verilator_coverage_files(tmp_path):
    a, b = tmp_path / "a.dat", tmp_path / "b.dat"
    a.write_text("# SystemC::Coverage-3\nC 'f\x01x.v\x01l\x0110\x01o\x01s:0->1' 0\n"
                 "C 'f\x01x.v\x01l\x0110\x01o\x01s:1->0' 2\n")
    b.write_text("# SystemC::Coverage-3\nC 'f\x01x.v\x01l\x0110\x01o\x01s:0->1' 1\n"
                 "C 'f\x01x.v\x01l\x0111\x01o\x01t:0->1' 0\n")
    assert tcov.toggle_coverage([a]) == {"points": 2, "hit": 1}
    assert tcov.toggle_coverage([a, b]) == {"points": 3, "hit": 2}


# -- merging ---------------------------------------------------------------------------------

def _run_doc(block, params, hits, *, sim="verilator", started=None, module=None,
             knobs=None):
    module = module or BLOCKS[block].test_module
    params = BLOCKS[block].resolve(params)
    config = configure(block, params)
    meta = {"format": tcov.FORMAT, "block": block, "params": params,
            "label": cov.model(config).label, "sim": sim, "test_module": module,
            "filter": None, "knobs": knobs or {}, "seed": 1, "testrun": None,
            "digest": tcov.source_digest(module), "pid": 1,
            "started": time.time() if started is None else started}
    full = dict.fromkeys(cov.declared(config), 0)
    full.update(hits)
    return {"meta": meta, "declared": list(full), "hits": full,
            "sources": {"cocotb": {"calls": 1, "transactions": 1, "hits": hits}}}


def _write(directory, name, doc):
    path = directory / name
    path.write_text(json.dumps(doc))
    return path


def test_merge_shape_latest_runs_and_union_of_declared_bins(tmp_path):
    small = {"n": 3, "m": 1}
    _write(tmp_path, "a.json", _run_doc("dqa", small, {"err[m=1]/0": 4}, started=1.0))
    _write(tmp_path, "b.json", _run_doc("dqa", small, {"err[m=1]/1": 2}, started=2.0))
    _write(tmp_path, "c.json", _run_doc("dqa", {}, {"channel/ordinary": 3}, sim="icarus"))
    _write(tmp_path, "d.json", _run_doc("dqa", small, {"q/min": 1}, knobs={"QUANTRTL_X": "1"}))
    (tmp_path / "junk.json").write_text("{not json")
    out = tmp_path / "reports" / "coverage.json"
    report = tcov.merge(directory=tmp_path, out=out)
    assert json.loads(out.read_text()) == report
    assert set(report) == {"meta", "blocks"} and set(report["blocks"]) == {"dqa"}
    entry = report["blocks"]["dqa"]
    assert {"declared", "hit", "bins"} <= set(entry)
    union = set(cov.declared(configure("dqa", small))) | set(cov.declared(configure("dqa", {})))
    assert set(entry["bins"]) == union and entry["declared"] == len(union)
    # a.json is superseded by b.json (same run, later); d.json is another run (a knob)
    assert entry["bins"]["err[m=1]/0"] == 0 and entry["bins"]["err[m=1]/1"] == 2
    assert entry["bins"]["channel/ordinary"] == 3 and entry["bins"]["q/min"] == 1
    assert entry["hit"] == 3 and entry["runs"] == 3
    assert report["meta"]["runs"] == 3 and report["meta"]["simulators"] == ["icarus",
                                                                            "verilator"]
    everything = tcov.merge(directory=tmp_path, latest=False)
    assert everything["blocks"]["dqa"]["bins"]["err[m=1]/0"] == 4
    assert tcov.unhit(report, "dqa")[0] in union
    assert tcov.prune(tmp_path) == 1 and not (tmp_path / "a.json").exists()


def test_merge_declares_configurations_without_runs(tmp_path):
    report = tcov.merge(directory=tmp_path, configs=[("huffman", {})])
    entry = report["blocks"]["huffman"]
    assert entry["hit"] == 0 and entry["declared"] == len(cov.declared(configure("huffman",
                                                                                    {})))
    assert "huffman" in "\n".join(tcov.table(report))


def test_merge_over_the_suite_model_counts_other_runs_as_hits_only(tmp_path):
    """Without ``declare_runs`` the declared bins are the given configurations' (the suite's
    matrices, :func:`tcov.suite_configs`): a run of another configuration adds its hits to
    the bins they share and declares none of its own."""
    small = {"n": 3, "m": 1}
    _write(tmp_path, "a.json", _run_doc("dqa", {}, {"channel/ordinary": 2}))
    _write(tmp_path, "b.json", _run_doc("dqa", small, {"channel/ordinary": 5,
                                                       "err[m=1]/0": 4}))
    report = tcov.merge(directory=tmp_path, configs=[("dqa", {})], declare_runs=False)
    bins = report["blocks"]["dqa"]["bins"]
    assert set(bins) == set(cov.declared(configure("dqa", {})))
    assert bins["channel/ordinary"] == 7 and "err[m=1]/0" not in bins
    assert report["meta"]["undeclared_hits"] >= 1
    matrix = tcov.suite_configs()
    assert ("dqa", small) in matrix and ("mac", {"lanes": 8}) in matrix


def test_default_run_is_the_latest_of_the_current_sources(tmp_path):
    old = _run_doc("dqa", {}, {"q/min": 1}, started=1.0)
    new = _run_doc("dqa", {}, {"q/max": 1}, started=2.0)
    stale = _run_doc("dqa", {}, {"q/zero": 1}, started=3.0)
    stale["meta"]["digest"] = "0" * 16
    key = tcov.params_key(BLOCKS["dqa"].resolve({}))
    for name, doc in (("old", old), ("new", new), ("stale", stale)):
        _write(tmp_path, f"dqa-verilator-{key}-test_dqa-{name}.json", doc)
    path, doc = tcov.default_run("dqa", {}, "verilator", directory=tmp_path)
    assert path.name.endswith("-new.json")
    assert tcov.default_run("dqa", {}, "icarus", directory=tmp_path) is None


# -- closure over the suite's default run --------------------------------------------------

def _sims():
    from quantrtl.tb.runner import simulator_status
    listed = [s.strip() for s in os.environ.get("QUANTRTL_SIMS", "verilator,icarus").split(",")
              if s.strip()]
    return [s for s in listed if simulator_status(s)[0]]


def _session_cases(session) -> dict:
    """``{(sim, block, index): nodeid}`` of the ``tests/test_sim.py`` cases collected."""
    cases = {}
    for item in session.items:
        if item.nodeid.startswith("tests/test_sim.py::test_block["):
            p = item.callspec.params
            cases[(p["sim"], p["name"], p["index"])] = item.nodeid
    return cases


def _wait_for(nodeid, timeout=3600.0):
    """Until this session's ``nodeid`` has finished (on any xdist worker)."""
    from conftest import testrun_marker
    deadline = time.monotonic() + timeout
    while not testrun_marker(nodeid).exists() and time.monotonic() < deadline:
        time.sleep(0.5)


@pytest.mark.sim
@pytest.mark.closure
@pytest.mark.parametrize("name", list(BLOCKS))
def test_every_declared_bin_is_hit_by_the_default_run(name, request):
    """Every bin that a configuration of ``name``'s simulator matrix declares is hit by
    the default run of the block's cocotb module over that matrix, on every simulator of
    ``QUANTRTL_SIMS`` that is available."""
    from conftest import testrun_marker
    from quantrtl.tb.runner import simulate
    sims = _sims()
    if not sims:
        pytest.skip("no simulator available")
    block = BLOCKS[name]
    testrun_marker("closure").parent.mkdir(parents=True, exist_ok=True)  # merge at the end
    digest = tcov.source_digest(block.test_module)
    cases = _session_cases(request.session)
    files, configs = [], []
    for sim in sims:
        for index, params in enumerate(block.sim_matrix(sim)):
            configs.append((name, params))
            if (sim, name, index) in cases:
                _wait_for(cases[(sim, name, index)])
            found = tcov.default_run(name, params, sim, digest=digest)
            if found is None:
                simulate(name, params, block.test_module, sim=sim)
                found = tcov.default_run(name, params, sim, digest=digest)
            assert found is not None, f"{sim} {name} {params}: the run recorded no coverage"
            files.append(found[0])
    report = tcov.merge(files, configs=configs)
    entry = report["blocks"][name]
    missing = tcov.unhit(report, name)
    print(f"{name}: {entry['hit']} of {entry['declared']} bins hit over {len(files)} runs")
    assert not missing, (f"{len(missing)} of {entry['declared']} declared bins of {name} are "
                         f"never hit by the default run: {missing[:40]}")


@pytest.mark.sim
def test_toggle_coverage_on_request(monkeypatch, tmp_path):
    """``COVERAGE=1``: a Verilator build with toggle coverage (its own build directory)
    writes a coverage file whose toggle points the summary counts; cocotb is not asked for
    Python coverage."""
    import glob

    from quantrtl.tb.coverage import toggle_coverage
    from quantrtl.tb.runner import simulate, simulator_status
    available, reason = simulator_status("verilator")
    if not available:
        pytest.skip(reason)
    monkeypatch.setenv("COVERAGE", "1")
    simulate("dqa", {}, "quantrtl.tb.tests.test_dqa", sim="verilator", testcase="throughput",
             build_root=tmp_path)
    files = glob.glob(str(tmp_path / "verilator" / "*-cov" / "coverage-test_dqa.dat"))
    assert len(files) == 1
    counts = toggle_coverage(files)
    assert counts["points"] > 50 and 0 < counts["hit"] <= counts["points"]


def test_cross_counts_fast_path_equals_the_product_count():
    """Crosses of points that mark at most one bin per sample are counted by joint index;
    the result equals the general product count (einsum), and a multi-bin point still goes
    the general way."""
    rng = np.random.default_rng(17)
    sizes = (5, 3, 4)
    mats = []
    for k in sizes:
        pick = rng.integers(0, k, size=500)
        m = np.zeros((500, k), bool)
        m[np.arange(500), pick] = True
        m[rng.random(500) < 0.2] = False          # samples the point does not mark
        mats.append(m)
    cross = cov.Cross("x", ("a", "b", "c"), "sample", ())
    marks = dict(zip(("a", "b", "c"), mats))
    want = np.einsum("za,zb,zc->abc", *(m.astype(np.int64) for m in mats)).reshape(-1)
    assert np.array_equal(cov.cross_counts(cross, marks), want)
    multi = mats[0].copy()
    multi[:, 0] = True                           # two bins in one sample: the general path
    marks["a"] = multi
    want = np.einsum("za,zb,zc->abc", *(m.astype(np.int64) for m in (multi, *mats[1:])))
    assert np.array_equal(cov.cross_counts(cross, marks), want.reshape(-1))


def test_one_bin_marks_count_as_their_matrices():
    """A :class:`OneBin` point (bin indices, -1 for none: how the bulk player keeps a
    million-sample point) counts, crosses and converts exactly as its bool matrix, alone
    or mixed with matrices; ``_onehot`` leaves values that are no choice unmarked."""
    rng = np.random.default_rng(19)
    values = rng.integers(-3, 9, size=2000)
    one = cov._onehot(values, np.arange(0, 6))
    mat = values.reshape(-1, 1) == np.arange(0, 6).reshape(1, -1)
    assert np.array_equal(one.matrix(), mat) and len(one) == 2000
    assert np.array_equal(one.counts(), mat.sum(axis=0))
    flags = rng.random(2000) < 0.5
    assert np.array_equal(one.where(flags).matrix(), mat & flags[:, None])
    other = cov._onehot(rng.integers(0, 3, size=2000), np.arange(3))
    cross = cov.Cross("x", ("a", "b"), "sample", ())
    want = np.einsum("za,zb->ab", mat.astype(np.int64), other.matrix().astype(np.int64))
    for marks in ({"a": one, "b": other}, {"a": mat, "b": other},
                  {"a": one, "b": other.matrix()}):
        assert np.array_equal(cov.cross_counts(cross, marks), want.reshape(-1))
    joined = cov._cat([one, cov._onehot([2, 7], np.arange(0, 6))])
    assert joined.index.tolist()[-2:] == [2, -1] and len(joined) == 2002
    with pytest.raises(ValueError, match="ascending"):
        cov._onehot(values, [3, 1])


@pytest.mark.parametrize("block", ["requant", "dqa", "dnaenc"])
def test_sample_equals_the_classified_matrices(block):
    """:func:`sample` (the player's path, :class:`OneBin` points kept as indices) gives the
    hits that :func:`classify`'s bool matrices give."""
    from quantrtl.blocks import configure
    from quantrtl.vectors.random_sets import random_vectors
    config = configure(block, {})
    vectors = random_vectors(block, config.component, np.random.default_rng(23), 3000)
    assert cov.sample(config, vectors) == cov.counts(cov.model(config),
                                                     cov.classify(config, vectors))
