"""The package as users get it: a wheel built from this tree installs into a fresh venv
outside the checkout with only ``quantrtl`` at top level, and its ``quantrtl verilog``
writes the Verilog, Amaranth's interface metadata and a FuseSoC core; the metadata validates
against Amaranth's schemas and the core is read by FuseSoC itself."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from amaranth.lib import wiring

import quantrtl
from quantrtl.blocks import BLOCKS

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_written_once():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    from importlib.metadata import version
    assert version("quantrtl") == quantrtl.__version__


@pytest.fixture(scope="module")
def emitted(tmp_path_factory):
    """Every block emitted at its defaults, each into a folder of its own."""
    root = tmp_path_factory.mktemp("emitted")
    for block in BLOCKS.values():
        block.emit(root / block.name)
    return root


def test_the_metadata_is_amaranths_with_the_block_annotation(emitted):
    for name, block in BLOCKS.items():
        out = emitted / name
        doc = json.loads((out / f"{block.top}.metadata.json").read_text())
        wiring.ComponentMetadata.validate(doc)            # Amaranth's own schema
        (annotation,) = [v for k, v in doc["interface"]["annotations"].items()
                         if "quantrtl" in k]
        component = block.build()
        assert annotation["latency"] == component.latency
        assert annotation["params"] == block.defaults()
        # The sidecar is derived from it: every payload field where the layout has it.
        side = json.loads((out / f"{block.top}.json").read_text())
        assert side["ports"]["i__payload"]["fields"] == \
            annotation["layouts"]["i__payload"]["fields"]
        assert side["latency"] == component.latency


def test_fusesoc_reads_every_core(emitted):
    pytest.importorskip("fusesoc", reason="fusesoc is not installed (pip install '.[test]')")
    fusesoc = str(Path(sys.executable).parent / "fusesoc")
    for block in BLOCKS.values():
        proc = subprocess.run([fusesoc, "--cores-root", str(emitted), "core", "show",
                               f"quantrtl:blocks:{block.name}"], capture_output=True,
                              text=True, cwd=emitted)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert f"quantrtl:blocks:{block.name}:{quantrtl.__version__}" in proc.stdout
    from fusesoc.capi2.coreparser import Core2Parser
    from fusesoc.core import Core
    for block in BLOCKS.values():
        core = Core(Core2Parser(), str(emitted / block.name / f"{block.top}.core"))
        flags = {"is_toplevel": True, "target": "default"}
        assert core.get_files(flags) == [{"file_type": "verilogSource",
                                          "name": f"{block.top}.v"}]
        assert core.get_toplevel(flags) == block.top


def test_a_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    """pip wheel . (no build isolation: the venv's setuptools), a fresh venv that sees
    the dependencies but not this checkout, then ``quantrtl verilog`` from /tmp."""
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "--no-build-isolation", "-w", str(dist), str(ROOT)],
                           check=True, capture_output=True, text=True)
    # setuptools warns of data directories missing from `packages` ("Package would be
    # ignored"): a later setuptools may leave them out of the wheel
    assert "would be ignored" not in built.stdout + built.stderr, built.stderr
    (wheel,) = dist.glob("quantrtl-*.whl")
    import zipfile
    tops = {n.split("/")[0] for n in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith((".dist-info", ".data"))} == {"quantrtl"}
    names = zipfile.ZipFile(wheel).namelist()
    assert "quantrtl/py.typed" in names and "quantrtl/tb/tests/test_mac.py" in names
    data = {"quantrtl/schemas/" + p.name for p in (ROOT / "quantrtl" / "schemas").glob("*.json")}
    data |= {"quantrtl/synth/sweeps/" + p.name for p in (ROOT / "synth" / "sweeps").glob("*.json")}
    assert len(data) >= 5 and data <= set(names), sorted(data - set(names))
    assert not any(n.startswith("quantrtl/tests/") for n in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # The dependencies from this venv (offline), but not its editable quantrtl: a path
    # line in a .pth adds the directory without running the .pth files inside it.
    Path(site, "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True)
    out = tmp_path / "rtl"
    proc = subprocess.run([venv / "bin" / "quantrtl", "verilog", "mac", "--lanes", "2",
                           "-o", str(out)], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in out.iterdir()} == {
        "quantrtl_mac.v", "quantrtl_mac.json", "quantrtl_mac.metadata.json",
        "quantrtl_mac.core"}
    where = subprocess.run([py, "-c", "import quantrtl.hw.mac as m, quantrtl.synth.tech as t; "
                            "print(m.__file__); print(t.__file__)"], cwd=tmp_path,
                           check=True, capture_output=True, text=True).stdout.split()
    assert all(w.startswith(site) for w in where), where
