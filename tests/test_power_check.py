"""``python -m quantrtl.synth.power_check``: the OpenSTA pricing of our energy, end to end."""

from __future__ import annotations

import json

import pytest

from quantrtl.synth.opensta import opensta_status
from quantrtl.synth.power_check import main


def test_power_check_writes_the_table(tech, tmp_path, capsys):
    available, reason = opensta_status()
    if not available:
        pytest.skip(reason)
    out = tmp_path / "reports"
    assert main(["--design", "add8", "--root", str(tmp_path / "synth"), "-o", str(out)]) == 0
    doc = json.loads((out / "opensta_power.json").read_text())
    (row,) = doc["rows"]
    assert row["design"] == "add8" and doc["meta"]["provenance"]["liberty_sha256"]
    # As installed, 2.0.17 charges rise + fall per transition; averaged, it agrees.
    assert 1.3 < row["ratio"] < 2.0
    assert 0.94 < row["ratio_cells"] < 1.06 and 0.99 < row["switching"] < 1.01
    assert "| add8 |" in (out / "opensta_power.md").read_text()


def test_power_check_rejects_an_unknown_design(tmp_path, capsys):
    if not opensta_status()[0]:
        pytest.skip("OpenSTA unavailable")
    assert main(["--design", "nope", "-o", str(tmp_path)]) == 2
    assert "--design 'nope' is not a default design" in capsys.readouterr().err
