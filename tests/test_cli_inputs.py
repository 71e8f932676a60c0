"""Bad input on the command line gets a one-line error and exit status 2, before any build;
valid input that used to time out finishes (the deadline follows the block's cycle model)."""

import numpy as np
import pytest

from quantrtl.cli import load_vectors, main


def _vector_files(tmp_path):
    ok = tmp_path / "ok.npz"
    np.savez(ok, acc=np.arange(4), multiplier=np.int64(1 << 30), shift=np.int64(-3))
    data = ok.read_bytes()
    files = {
        "missing": (tmp_path / "missing.npz", "no such vector file"),
        "directory": (tmp_path, "is a directory"),
        "empty": (tmp_path / "empty.npz", "is empty"),
        "text": (tmp_path / "text.npz", "not an npz vector file"),
        "npy": (tmp_path / "one.npy", r"a single \.npy array"),
        "pickled": (tmp_path / "obj.npz", "pickled objects"),
        "truncated": (tmp_path / "trunc.npz", "corrupt or truncated"),
    }
    files["empty"][0].write_bytes(b"")
    files["text"][0].write_text("acc,multiplier\n1,2\n")
    np.save(files["npy"][0], np.arange(3))
    np.savez(files["pickled"][0], acc=np.array([{"x": 1}], dtype=object))
    files["truncated"][0].write_bytes(data[: len(data) // 2])
    return ok, files


def test_load_vectors_reads_a_good_file(tmp_path):
    ok, _ = _vector_files(tmp_path)
    assert sorted(load_vectors(ok)) == ["acc", "multiplier", "shift"]


@pytest.mark.parametrize("case", ["missing", "directory", "empty", "text", "npy", "pickled",
                                  "truncated"])
def test_bad_vector_files_get_one_line(tmp_path, capsys, case):
    _, files = _vector_files(tmp_path)
    path, message = files[case]
    assert main(["run", "requant", str(path), "-o", str(tmp_path / "out.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert str(path) in err
    import re
    assert re.search(message, err), err


@pytest.mark.parametrize("option, value", [
    ("--valid-probability", "0"), ("--valid-probability", "-0.5"),
    ("--ready-probability", "1.5"), ("--ready-probability", "nan"),
])
def test_probabilities_are_checked_before_any_build(tmp_path, capsys, option, value):
    ok, _ = _vector_files(tmp_path)
    assert main(["run", "requant", str(ok), "-o", str(tmp_path / "out.npz"),
                 option, value]) == 2
    err = capsys.readouterr().err
    assert "is out of range: allowed (0, 1]" in err and err.count("\n") == 1


def test_unwritable_outputs_are_refused_before_the_work(tmp_path, capsys):
    ok, _ = _vector_files(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["run", "requant", str(ok), "-o", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["run", "requant", str(ok), "-o", str(blocker / "out.npz")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert main(["verilog", "dqa", "-o", str(blocker / "rtl")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert main(["synth", "--block", "dqa", "-o", str(blocker / "reports")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert main(["synth", "--block", "dqa", "--root", str(blocker / "work")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert not (tmp_path / "out.npz").exists() and not (tmp_path / "out.npz.npz").exists()


@pytest.mark.sim
def test_output_goes_to_exactly_the_path_given(tmp_path, capsys, sim):
    """``-o out`` writes ``out`` (numpy.savez alone would write ``out.npz``)."""
    ok, _ = _vector_files(tmp_path)
    out = tmp_path / "result"
    assert main(["run", "requant", str(ok), "-o", str(out), "--sim", sim]) == 0
    assert out.exists() and not (tmp_path / "result.npz").exists()
    assert str(out) in capsys.readouterr().out
    with np.load(out) as npz:
        assert npz["match"].all() and npz["y"].shape == (4,)


def _run(tmp_path, block, vectors, *options):
    path = tmp_path / f"{block}.npz"
    np.savez(path, **vectors)
    out = tmp_path / f"{block}-out.npz"
    status = main(["run", block, str(path), "-o", str(out), *options])
    with np.load(out) as npz:
        return status, npz["match"], int(npz["cycles"])


@pytest.mark.sim
def test_many_short_dnateq_dot_products_finish(tmp_path, sim):
    """Post-processing (``pes x steps`` clocks per group of results) is longer than a
    one-pair input: the deadline follows the block's cycles, not its input beats.  The
    configuration is the simulator matrix's n = 5 one, whose build the suite already has."""
    from quantrtl.blocks import BLOCKS, configure
    params = next(p for p in BLOCKS["dnateq"].sim_matrix(sim) if p.get("n") == 5)
    c = configure("dnateq", params).component
    assert c.steps > 1
    rng = np.random.default_rng(11)
    print("seed 11")
    rows = 64
    w = rng.integers(0, 8, (rows, c.pes, 1) if c.pes > 1 else (rows, 1))
    vectors = {"x": rng.integers(0, 8, (rows, 1)), "w": w,
               "lut": rng.integers(0, 1 << c.lut_width, c.entries)}
    options = [f for k, v in params.items() for f in (f"--{k.replace('_', '-')}", str(v))]
    status, match, cycles = _run(tmp_path, "dnateq", vectors, "--sim", sim, *options)
    assert status == 0 and match.all() and match.size == rows * c.pes
    assert cycles >= rows * c.pes * c.steps     # pp_lanes LUT entries per clock, per result


@pytest.mark.sim
def test_thousands_of_huffman_symbols_finish(tmp_path, sim):
    """A 64-bit word holds many symbols: a few thousand symbols are a few hundred beats."""
    rng = np.random.default_rng(12)
    print("seed 12")
    symbols = np.minimum(rng.geometric(0.6, 6000) - 1, 15)
    status, match, cycles = _run(tmp_path, "huffman", {"symbols": symbols}, "--sim", sim)
    assert status == 0 and match.all() and match.size == 6000
    assert cycles >= 6000


@pytest.mark.sim
def test_rare_ready_finishes(tmp_path, sim):
    """``--ready-probability 0.001`` is legitimate: about a thousand clocks per output."""
    vectors = {"acc": np.arange(-10, 10), "multiplier": np.int64(1 << 30), "shift": np.int64(-1)}
    status, match, cycles = _run(tmp_path, "requant", vectors, "--sim", sim,
                                 "--ready-probability", "0.001", "--seed", "5")
    assert status == 0 and match.all() and cycles > 10_000


CONFIGS = {
    "not-json.json": ("{not json", "not valid JSON: Expecting property name"),
    "list.json": ("[1, 2]", "a config is a JSON object"),
    "key.json": ('{"design": []}', "unknown key 'design'"),
    "designs.json": ('{"designs": 3}', "'designs' must be a list of objects"),
    "design.json": ('{"designs": [7]}', r"designs\[0\]: a design is an object"),
    "parms.json": ('{"designs": [{"block": "mac", "parms": {}}]}', "unknown key 'parms'"),
    "params.json": ('{"designs": [{"block": "mac", "params": [1]}]}', "'params' must be an"),
    "value.json": ('{"designs": [{"block": "mac", "params": {"lanes": "x"}}]}',
                   r"designs\[0\]: lanes='x' is not an integer"),
    "helper.json": ('{"designs": [{"helper": "mul", "width": 99}]}',
                    r"width=99 is out of range"),
    "sweeps.json": ('{"sweeps": [{"block": "mac"}]}', "'sweeps' must be a list of strings"),
    "sweep.json": ('{"sweeps": ["mac:lanes=q"]}', r"sweeps\[0\]: lanes='q' is not"),
    "lengths.json": ('{"lengths": ["a"]}', "'lengths' must be a non-empty list"),
    "binary.json": (b"\xff\xfe\x00", "not a text"),
}
SYNTH_ARGS = {
    "missing config": (["--config", "{tmp}/nope.json"], "no such config file"),
    "config dir": (["--config", "{tmp}"], "is a directory, not a config file"),
    "empty sweep": (["--sweep", "mac:lanes="], "is not param=v1,v2"),
    "no colon": (["--sweep", "mac"], "expected BLOCK:param=v1,v2"),
    "bad block": (["--sweep", "nope:x=1"], "block='nope' is not known"),
    "bad value": (["--sweep", "mac:lanes=a,b"], "lanes='a' is not an integer"),
    "bad param": (["--sweep", "mac:foo=1"], "has no parameter 'foo'"),
    "helper width": (["--sweep", "helper:mul=x"], "width='x' is not an integer"),
    "helper op": (["--sweep", "helper:foo=8"], "op='foo' is not allowed"),
    "param alone": (["--param", "lanes=2"], "--param needs --block"),
    "param form": (["--block", "mac", "--param", "lanes"], "expected NAME=VALUE"),
    "jobs": (["-j", "0"], "--jobs=0 is out of range"),
    "lengths": (["--lengths", "0"], "--lengths needs positive integers"),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_malformed_configs_get_one_line(tmp_path, capsys, name):
    text, message = CONFIGS[name]
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    assert main(["synth", "--config", str(path), "--list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and str(path) in err, err
    import re
    assert re.search(message, err), err


@pytest.mark.parametrize("case", SYNTH_ARGS)
def test_malformed_synth_options_get_one_line(tmp_path, capsys, case):
    args, message = SYNTH_ARGS[case]
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(["synth", *args, "--list", "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_a_good_config_lists_its_designs(tmp_path, capsys):
    path = tmp_path / "ok.json"
    path.write_text('{"designs": [{"block": "mac", "params": {"lanes": 2}}, '
                    '{"helper": "add", "width": 16}], "sweeps": ["dqa:m=2,3"], '
                    '"lengths": [8]}')
    assert main(["synth", "--config", str(path), "--no-default", "--list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and out[0].startswith("mac") and "'lanes': 2" in out[0]


@pytest.mark.parametrize("args, message", [
    (["--pes", "x"], "--pes='x': expected comma-separated integers"),
    (["--bits", "4,,x"], "--bits='4,,x': expected comma-separated integers"),
    (["--pes", "0"], "pes=0 is out of range"),
    (["--bits", "9"], "n=9 is out of range: allowed [3, 7]"),
    (["--lengths", "5"], "length=5 is out of range"),
    (["--workloads", "nope"], "workload='nope' is not allowed"),
    (["-j", "0"], "--jobs=0 is out of range"),
])
def test_malformed_headline_options_get_one_line(tmp_path, capsys, args, message):
    assert main(["headline", *args, "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "r").exists()


def test_headline_output_must_be_writable(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for option in ("-o", "--root"):
        assert main(["headline", option, str(blocker / "x")]) == 2
        assert "is not a directory" in capsys.readouterr().err


@pytest.mark.sim
@pytest.mark.parametrize("harness", ["player", "plain", "cocotb"])
def test_run_harnesses_give_the_same_result_file(tmp_path, capsys, sim, harness):
    """``quantrtl run --harness player|plain|cocotb``: every output matches golden on both, under
    backpressure; a large vector set takes the player by default (``auto``); waves with
    the player are a one-line error."""
    rng = np.random.default_rng(21)
    count = 5000
    vectors = {"acc": rng.integers(-2**31, 2**31, count), "multiplier": np.int64(1374389535),
               "shift": np.int64(-6), "zero_point": np.int64(-128)}
    status, match, cycles = _run(tmp_path, "requant", vectors, "--sim", sim,
                                 "--harness", harness, "--ready-probability", "0.8")
    assert status == 0 and match.all() and match.shape == (count,) and cycles >= count
    assert f"({harness})" in capsys.readouterr().out
    status, match, _ = _run(tmp_path, "requant", vectors, "--sim", sim)   # auto
    assert status == 0 and match.all() and "(player)" in capsys.readouterr().out
    assert main(["run", "requant", str(tmp_path / "requant.npz"), "-o",
                 str(tmp_path / "w.npz"), "--harness", "player", "--waves"]) == 2
