"""Synthesis-flow options (``synth.flow.FLOW_PARAMS``: Booth multipliers): parsing, labels,
cache keys, the Yosys script, and a Booth netlist checked against the golden model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quantrtl.synth.__main__ import main as synth_main
from quantrtl.synth.config import load_config, parse_sweep
from quantrtl.synth.flow import Design, _flow_key, measure_energy, resolve_flow, synthesize
from quantrtl.synth.yosys import _scripts
from quantrtl.tb.runner import simulator_status

SMALL_MAC = {"lanes": 1, "width": 4, "acc_width": 12}


def test_flow_defaults_leave_keys_unchanged():
    """A design at the flow's defaults adds nothing to its cache keys (results cached
    before the option existed stay valid); one that differs does."""
    assert resolve_flow() == {"booth": False}
    mac = Design.block("mac", SMALL_MAC)
    assert mac.flow == () and _flow_key(mac) == () and mac.label == "mac(acc_width=12,width=4)"
    booth = Design.block("mac", SMALL_MAC, {"booth": True})
    assert booth.flow == (("booth", True),) and _flow_key(booth)
    assert booth.label == "mac(acc_width=12,width=4)[booth=on]" and booth != mac
    assert booth.as_dict()["flow"] == {"booth": True}


def test_block_default_flow():
    """The requantizer's registry record turns Booth on; its label shows a difference
    from its own default, not from the flow's."""
    requant = Design.block("requant")
    assert requant.flow_dict == {"booth": True} and requant.label == "requant"
    off = Design.block("requant", {}, {"booth": "off"})
    assert off.flow_dict == {"booth": False} and off.label == "requant[booth=off]"


def test_sweep_and_config_take_flow_options(tmp_path):
    labels = [d.label for d in parse_sweep("mac:lanes=1,2;booth=off,on")]
    assert labels == ["mac", "mac[booth=on]", "mac(lanes=2)", "mac(lanes=2)[booth=on]"]
    assert [d.label for d in parse_sweep("helper:mul=8;booth=0,1")] == ["mul8", "mul8[booth=on]"]
    with pytest.raises(ValueError, match="booth='maybe' is not a boolean"):
        parse_sweep("mac:booth=maybe")
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"designs": [{"block": "mac", "params": SMALL_MAC,
                                             "flow": {"booth": True}}]}))
    (design,) = load_config(path)["designs"]
    assert design.flow_dict == {"booth": True}
    path.write_text(json.dumps({"designs": [{"block": "mac", "flow": {"retime": True}}]}))
    with pytest.raises(ValueError, match="no flow option 'retime'"):
        load_config(path)
    path.write_text(json.dumps({"designs": [{"block": "mac", "flow": [1]}]}))
    with pytest.raises(ValueError, match="'flow' must be an object"):
        load_config(path)


def test_flow_option_errors_on_the_command_line(capsys):
    assert synth_main(["--flow", "booth=on", "--list"]) == 2
    assert "--flow needs --block" in capsys.readouterr().err
    assert synth_main(["--block", "mac", "--flow", "booth=perhaps", "--list"]) == 2
    assert "booth='perhaps' is not a boolean" in capsys.readouterr().err
    assert synth_main(["--block", "mac", "--flow", "booth=on", "--list"]) == 0
    assert capsys.readouterr().out.startswith("mac[booth=on]")


def test_booth_is_in_the_base_script_only():
    off, on = _scripts("top", "rtl.v", "lib", 10000), _scripts("top", "rtl.v", "lib", 10000,
                                                                booth=True)
    assert "-booth" not in off["base"] and "synth -flatten -noabc -booth -top top" in on["base"]
    assert on["ice40"] == off["ice40"] and on["osu018"] == off["osu018"]


@pytest.mark.sim
def test_booth_netlist_matches_golden(tech, tmp_path):
    """A Booth-encoded MAC synthesizes to a different netlist whose energy run (every
    output checked against the golden model) passes."""
    available, reason = simulator_status("icarus")
    if not available:
        pytest.skip(f"icarus unavailable: {reason}")
    plain = Design.block("mac", SMALL_MAC)
    booth = Design.block("mac", SMALL_MAC, {"booth": True})
    s_plain, s_booth = synthesize(plain, root=tmp_path), synthesize(booth, root=tmp_path)
    assert s_plain["work"] != s_booth["work"]
    assert "-booth" in (Path(s_booth["work"]) / "base.ys").read_text()
    assert s_plain["osu018"]["by_type"] != s_booth["osu018"]["by_type"]
    energy = measure_energy(booth, s_booth, n=16, fresh=True)
    assert energy["workload"]["ops"] > 0 and energy["pj_per_op"] > 0
