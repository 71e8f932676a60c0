"""nextpnr place and route of the iCE40 view (:mod:`synth.ice40_pnr`)."""

from __future__ import annotations

import json

import pytest

from quantrtl.synth import ice40_pnr as pnr
from quantrtl.synth.flow import Design, synthesize
from quantrtl.synth.yosys import ICE40_NETLIST

MAC1 = Design.block("mac", {"lanes": 1, "width": 4, "acc_width": 12})


def _require_nextpnr():
    available, reason = pnr.nextpnr_status()
    if not available:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("synth")


@pytest.fixture(scope="module")
def mac1(tech, root):
    _require_nextpnr()
    return synthesize(MAC1, root=root)


def test_tiny_design_is_placed_and_routed(mac1):
    """A positive post-route fmax on the smallest device that holds the design, its
    logic cells within the device and between what Yosys's counts allow."""
    got, ice = mac1["ice40_pnr"], mac1["ice40"]
    assert "error" not in got and "skipped" not in got, got
    assert got["fmax_mhz_ice40_pnr"] > 0 and got["target_mhz"] == pnr.TARGET_MHZ
    device = next(d for d in pnr.DEVICES if d[0] == got["device"])
    assert (got["package"], got["logic_cells_available"]) == (device[1], device[2])
    assert 0 < got["ice40_logic_cells"] <= got["logic_cells_available"]
    assert pnr.choose_device(got["ice40_logic_cells"], got["rams"]) == device
    assert max(ice["lut4"], ice["ff"]) <= got["design_logic_cells"] \
        <= ice["lut4"] + ice["ff"] + ice["carry"]
    assert got["wrapper_logic_cells"] == got["input_bits"] + got["output_bits"]
    assert got["nextpnr_version"] == pnr.nextpnr_status()[1]
    assert mac1["seconds"]["ice40_pnr"] > 0


def test_result_is_cached_and_rebuilt_for_old_work_dirs(mac1, root):
    """A second run reads ``ice40_pnr.json``; a work directory from before the iCE40 step
    wrote its netlist gets that step again, and the same netlist, so the same result."""
    again = synthesize(MAC1, root=root)
    assert again["cached"] and again["ice40_pnr"] == {**mac1["ice40_pnr"], "cached": True}
    assert again["seconds"]["ice40_pnr"] == 0.0
    work = pnr.Path(mac1["work"])
    netlist = (work / ICE40_NETLIST).read_text()
    (work / ICE40_NETLIST).unlink()
    old = synthesize(MAC1, root=root)
    assert (work / ICE40_NETLIST).read_text() == netlist
    assert old["ice40_pnr"] == again["ice40_pnr"]


def test_wrapper_registers_every_port(mac1):
    """Three pins; one flip-flop per input bit (the clock aside) and per output bit."""
    work = pnr.Path(mac1["work"])
    netlist = json.loads((work / ICE40_NETLIST).read_text())
    top = MAC1.top
    ports = netlist["modules"][top]["ports"]
    wrapped, counts = pnr.wrap(netlist, top)
    module = wrapped["modules"][top]
    assert {k: v["direction"] for k, v in module["ports"].items()} == \
        {"clk": "input", "si": "input", "so": "output"}
    assert counts["input_bits"] == sum(len(p["bits"]) for n, p in ports.items()
                                       if p["direction"] == "input" and n != "clk")
    assert counts["output_bits"] == sum(len(p["bits"]) for p in ports.values()
                                        if p["direction"] == "output")
    types = [c["type"] for n, c in module["cells"].items() if n.startswith("$wrap$")]
    assert types.count("SB_DFF") == counts["wrapper_logic_cells"]
    assert types.count("SB_LUT4") == counts["output_bits"]
    assert len(module["cells"]) == len(netlist["modules"][top]["cells"]) + len(types)


def test_device_choice():
    """The smallest part by logic cells (then block RAMs); none past the HX8K."""
    assert pnr.choose_device(1)[:2] == ("lp384", "qn32")
    assert pnr.choose_device(384)[0] == "lp384"
    assert pnr.choose_device(385)[0] == "u1k"
    assert pnr.choose_device(1200)[0] == "hx1k"
    assert pnr.choose_device(3000)[0] == "hx4k"
    assert pnr.choose_device(5000)[:2] == ("up5k", "sg48")
    assert pnr.choose_device(7680)[:2] == ("hx8k", "ct256")
    assert pnr.choose_device(10, rams=1)[0] == "u1k"
    assert pnr.choose_device(10, rams=31)[0] == "hx8k"
    assert pnr.choose_device(7681) is None and pnr.choose_device(10, rams=33) is None
    sizes = [d[2] for d in pnr.DEVICES]
    assert sizes == sorted(sizes)


def test_unmapped_view_and_oversized_design_are_skipped(tech, root, monkeypatch):
    """No iCE40 view (``ice40="never"``, or "auto" for a design past the HX8K): skipped
    with its reason; a wrapped netlist that packs into more cells than the HX8K has:
    skipped, not placed."""
    got = synthesize(Design.helper("add", 8), root=root, ice40="never")["ice40_pnr"]
    assert got == {"skipped": "iCE40 view not mapped (--ice40 never)"}
    _require_nextpnr()
    # synthesized (and placed) before the stand-in: on a worker that has not synthesized
    # MAC1 yet, synthesize() would call it too
    work = pnr.Path(synthesize(MAC1, root=root)["work"])
    calls = []

    def packed(work, netlist, top, device, package, tag, **kw):
        calls.append(tag)
        return {"utilization": {"ICESTORM_LC": {"used": 9000, "available": 7680}}}

    monkeypatch.setattr(pnr, "run_nextpnr", packed)
    got = pnr.ice40_pnr(work / ICE40_NETLIST, MAC1.top, work)
    assert "9,000 logic cells" in got["skipped"] and "fit no iCE40" in got["skipped"]
    assert calls == ["pack"]


def test_missing_nextpnr_is_skipped(tech, root, monkeypatch):
    monkeypatch.setattr(pnr, "nextpnr_executable", lambda: None)
    monkeypatch.setattr(pnr, "_STATUS", {})
    got = synthesize(Design.helper("mul", 4), root=root)["ice40_pnr"]
    assert "not installed" in got["skipped"]


def test_failure_is_an_error_not_an_exception(tmp_path):
    got = pnr.ice40_pnr(tmp_path / "missing.json", "top", tmp_path)
    assert "error" in got and "missing.json" in got["error"]
