"""Block parameters, Verilog emission and the command line (no simulator needed)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from quantrtl.hw.mac import DotProductUnit
from quantrtl.hw.requant import Requantizer
from quantrtl.blocks import BLOCKS, get_block
from quantrtl.cli import main


@pytest.mark.parametrize("cls, kwargs, message", [
    (DotProductUnit, {"lanes": 0}, r"lanes=0 is out of range: allowed \[1, 64\]"),
    (DotProductUnit, {"lanes": 65}, r"lanes=65 is out of range: allowed \[1, 64\]"),
    (DotProductUnit, {"width": 17}, r"width=17 is out of range: allowed \[2, 16\]"),
    (DotProductUnit, {"acc_width": 16}, r"acc_width=16 is out of range: allowed \[17, 64\]"),
    (DotProductUnit, {"width": 4, "acc_width": 8}, r"acc_width=8 .* allowed \[9, 64\]"),
    (DotProductUnit, {"overflow": "clip"}, r"overflow='clip' is not allowed: allowed \{wrap, saturate\}"),
    (DotProductUnit, {"offset": 1}, r"offset=1 is not a boolean"),
    (DotProductUnit, {"lanes": 2.0}, r"lanes=2.0 is not an integer"),
    (Requantizer, {"latency": 0}, r"latency=0 is out of range: allowed \[1, 3\]"),
    (Requantizer, {"latency": 4}, r"latency=4 is out of range: allowed \[1, 3\]"),
    (Requantizer, {"rounding": "nearest"}, r"rounding='nearest' is not allowed: allowed \{double, single\}"),
    (Requantizer, {"out_width": 33}, r"out_width=33 is out of range: allowed \[2, 32\]"),
])
def test_elaboration_errors_name_the_parameter(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


# The configuration each block's reproducibility is checked on: the default, but DNA-TEQ at
# n = 3 (its elaboration takes 15 s at the default n = 5, through the same code).
REPRODUCED = {name: ({"n": 3} if name == "dnateq" else {}) for name in BLOCKS}


def test_verilog_is_reproducible(tmp_path, monkeypatch):
    """Every block's emitted files (Verilog, metadata, sidecar, core) are byte-identical
    between this interpreter and another one with a different hash seed, both converting
    (no Verilog cache), and name no local path."""
    monkeypatch.setenv("QUANTRTL_VERILOG_CACHE", "0")
    script = ("import sys, json\n"
              "from quantrtl.blocks import get_block\n"
              "for name, params in json.loads(sys.argv[2]).items():\n"
              "    get_block(name).emit(sys.argv[1] + '/' + name, params)\n")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "QUANTRTL_VERILOG_CACHE": "0"}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "b"), json.dumps(REPRODUCED)],
                   check=True, env=env, capture_output=True, text=True)
    for name, params in REPRODUCED.items():
        block = get_block(name)
        first = block.emit(tmp_path / "a" / name, params)
        for suffix in (".v", ".metadata.json", ".json", ".core"):
            a = first.with_name(block.top + suffix).read_bytes()
            b = (tmp_path / "b" / name / (block.top + suffix)).read_bytes()
            assert a == b, f"{name}: {block.top}{suffix} differs between interpreters"
        text = first.read_text()
        assert f"module {block.top}(" in text
        for forbidden in ("/" + "work/", "/" + "tmp/", "/" + "home/", "/" + "root/", ".py:"):
            assert forbidden not in text, f"{forbidden!r} in the emitted Verilog of {name}"


def test_converted_verilog_is_cached_by_code_and_parameters(tmp_path, monkeypatch):
    """The Verilog cache: a conversion is written once and read back by the next process
    asking for the same block and parameters; other parameters or other code miss; a
    folder that cannot be written converts every time; ``0`` is no cache."""
    from quantrtl import blocks
    monkeypatch.setenv("QUANTRTL_VERILOG_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(blocks, "_CONVERTED", {})
    block = get_block("requant")
    text = block.verilog({"latency": 2})
    files = list((tmp_path / "cache").glob("requant-*.v"))
    assert len(files) == 1 and files[0].read_text() == text
    # A new process reads the file: the component is not built again.
    blocks._CONVERTED.clear()
    monkeypatch.setattr(type(block), "build", lambda self, params: pytest.fail("converted"))
    assert block.verilog({"latency": 2}) == text
    monkeypatch.undo()
    monkeypatch.setenv("QUANTRTL_VERILOG_CACHE", str(tmp_path / "cache"))
    blocks._CONVERTED.clear()
    assert get_block("requant").verilog({"latency": 1}) != text          # other parameters
    assert len(list((tmp_path / "cache").glob("requant-*.v"))) == 2
    monkeypatch.setattr(blocks, "source_digest", lambda: "other code")
    blocks._CONVERTED.clear()
    assert get_block("requant").verilog({"latency": 2}) == text          # converted again
    assert len(list((tmp_path / "cache").glob("requant-*.v"))) == 3
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("QUANTRTL_VERILOG_CACHE", str(blocked / "cache"))  # not a folder
    blocks._CONVERTED.clear()
    assert get_block("requant").verilog({"latency": 2}) == text
    monkeypatch.setenv("QUANTRTL_VERILOG_CACHE", "0")
    assert blocks.verilog_cache() is None


def test_port_map_sidecar(tmp_path):
    get_block("mac").emit(tmp_path, {"lanes": 2})
    info = json.loads((tmp_path / "quantrtl_mac.json").read_text())
    fields = info["ports"]["i__payload"]["fields"]
    assert fields["a[1]"] == {"offset": 8, "width": 8, "signed": True}
    assert fields["last"]["offset"] == 64 and info["latency"] == 3
    assert info["ports"]["o__payload"] == {"direction": "out", "width": 32, "signed": True}


def test_cli_verilog_all(tmp_path, capsys):
    assert main(["verilog", "all", "-o", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.v")) == sorted(f"quantrtl_{b}.v" for b in BLOCKS)


def test_cli_verilog_params(tmp_path):
    assert main(["verilog", "mac", "--lanes", "4", "--overflow=saturate", "--offset", "false",
                 "-o", str(tmp_path)]) == 0
    params = json.loads((tmp_path / "quantrtl_mac.json").read_text())["params"]
    assert params["lanes"] == 4 and params["overflow"] == "saturate" and not params["offset"]


@pytest.mark.parametrize("argv, message", [
    (["verilog", "mac", "--lanes", "0"], "lanes=0 is out of range: allowed [1, 64]"),
    (["verilog", "mac", "--lanes", "four"], "lanes='four' is not an integer"),
    (["verilog", "mac", "--rounding", "single"], "has no parameter 'rounding'"),
    (["verilog", "requant", "--latency"], "--latency needs a value"),
    (["verilog", "all", "--lanes", "2"], "parameters need a single block"),
])
def test_cli_errors(tmp_path, capsys, argv, message):
    assert main(argv + ["-o", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.glob("*.v"))


def test_cli_help_lists_blocks_and_ranges():
    out = subprocess.run([sys.executable, "-m", "quantrtl", "verilog", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for text in ("mac:", "requant:", "--lanes", "[1, 64]", "--rounding", "{double, single}",
                 "--latency", "[1, 3]"):
        assert text in out


def test_run_rejects_bad_vectors_before_simulating(tmp_path, capsys):
    vectors = tmp_path / "v.npz"
    np.savez(vectors, acc=np.array([1, 2]), multiplier=np.int64(2**30), shift=np.int64(31))
    assert main(["run", "requant", str(vectors), "-o", str(tmp_path / "o.npz")]) == 2
    assert "shift[0]=31 is out of range: allowed [-31, 30]" in capsys.readouterr().err
    np.savez(vectors, a=np.ones((2, 3)), w=np.ones((2, 3)))
    assert main(["run", "mac", str(vectors), "-o", str(tmp_path / "o.npz"), "--lanes", "2"]) == 2
    assert "length[0]=3 is out of range: allowed a positive multiple of lanes=2" in \
        capsys.readouterr().err
    np.savez(vectors, a=np.ones((2, 2)), w=np.ones((2, 2)), bais=np.ones(2))
    assert main(["run", "mac", str(vectors), "-o", str(tmp_path / "o.npz")]) == 2
    assert "unknown field 'bais'" in capsys.readouterr().err


@pytest.mark.sim
def test_cli_run_writes_rtl_and_golden_outputs(sim, tmp_path):
    rng = np.random.default_rng(5)
    vectors = tmp_path / "v.npz"
    np.savez(vectors, a=rng.integers(-128, 128, (20, 12)), w=rng.integers(-128, 128, (20, 12)),
             length=np.array([4, 8, 12, 12] * 5), bias=rng.integers(-99, 99, 20),
             input_offset=np.int64(-3))
    out = tmp_path / "o.npz"
    assert main(["run", "mac", str(vectors), "-o", str(out), "--lanes", "4", "--sim", sim,
                 "--ready-probability", "0.5", "--valid-probability", "0.5"]) == 0
    with np.load(out) as npz:
        assert npz["acc"].shape == (20,) and np.all(npz["match"])
        assert np.array_equal(npz["acc"], npz["golden_acc"]) and npz["cycles"] > 0
