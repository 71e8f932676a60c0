"""The headline comparison (:mod:`quantrtl.headline`): the designs it compares keep the same
pace, its rows add up the engine, the post unit at its duty cycle and the SRAM traffic, the
breakdown sums to the energy, the targets name what holds them back; and its workloads are
the real MiniLM layers quantized both ways."""

import json

import numpy as np
import pytest

from quantrtl import headline as h

LENGTH = 384


def _run(wl, rate, gating, total, ideal, cycles, ops, dots, parts, gap=0):
    ideal_parts = dict(parts, clock=parts["clock"] - (total - ideal))
    return {"workload": wl, "length": LENGTH, "rate": rate, "gating": gating,
            "info": {"ops": ops, "dot_products": dots, "gap": gap}, "total_pj": total,
            "ideal_pj": ideal, "cycles": cycles, "breakdown_pj": parts,
            "ideal_breakdown_pj": ideal_parts, "clock_pj": parts["clock"], "cached": True}


def _result(key, role, runs, area=100.0, fmax=100.0):
    return {"key": list(key), "role": role, "design": {"label": f"{key}-{role}"},
            "runs": runs, "cycles_per_group": {str(LENGTH): LENGTH},
            "synth": {"osu018": {"area_um2": area}, "osu018_icg": {"area_um2": area * 0.9},
                      "timing": {"fmax_mhz": fmax}, "timing_icg": {"fmax_mhz": fmax}}}


def _fake_results():
    """INT8 and DNA-TEQ n=3 at P = 1, 6 dot products each, made-up energies."""
    dots = 6
    results = []
    for key, e_none, e_icg in ((("int8", 8, 1), 60000.0, 30000.0),
                               (("dnateq", 3, 1), 90000.0, 12000.0)):
        engine = [_run("minilm", "full", g, e, e * 0.5, dots * LENGTH, dots * LENGTH, dots,
                       {"clock": e * 0.6, "logic": e * 0.4})
                  for g, e in (("none", e_none), ("icg", e_icg))]
        post = []
        for g, scale in (("none", 2.0), ("icg", 1.0)):
            # 64 results: 100 pJ each at full rate; the gap run adds 15 idle clocks each,
            # 0.5 pJ per idle clock (none) / 0.25 (icg).
            full = 64 * 100.0 * scale
            idle = 64 * 15 * 0.25 * scale
            post.append(_run("minilm", "full", g, full, full * 0.8, 64, 64, 0,
                             {"clock": full * 0.5, "post": full * 0.5}))
            post.append(_run("minilm", "gap", g, full + idle, (full + idle) * 0.8, 64 * 16,
                             64, 0, {"clock": full * 0.5 + idle, "post": full * 0.5}, gap=15))
        results += [_result(key, "engine", engine), _result(key, "post", post, area=50.0)]
    return results


def test_rows_add_engine_post_and_traffic():
    rows = h.headline_rows(_fake_results(), lengths=(LENGTH,), workloads=("minilm",))
    by = {(r["datapath"], r["gating"], r["scope"]): r for r in rows}
    idle = LENGTH - 1                                    # one result every N / P clocks
    int8 = by[("int8", "icg", "datapath")]
    assert int8["energy_pj"] == pytest.approx(30000 / 6 + 100 + 0.25 * idle, abs=0.01)
    dna = by[("dnateq", "icg", "datapath")]
    assert dna["energy_pj"] == pytest.approx(12000 / 6, abs=0.01)  # no encoder on the datapath
    assert dna["energy_ratio"] == pytest.approx(dna["energy_pj"] / int8["energy_pj"], abs=1e-3)
    system = by[("dnateq", "icg", "system")]
    sram = LENGTH * 2 * 3 * h.SRAM_PJ_PER_BIT
    assert system["energy_pj"] == pytest.approx(12000 / 6 + 100 + 0.25 * idle + sram, abs=0.01)
    assert by[("int8", "icg", "system")]["breakdown_pj"]["sram"] == pytest.approx(
        LENGTH * 2 * 8 * h.SRAM_PJ_PER_BIT)
    for r in rows:
        assert sum(r["breakdown_pj"].values()) == pytest.approx(r["energy_pj"], rel=1e-3), r
        assert {"datapath", "n", "pes", "length", "gating", "workload", "area_um2",
                "energy_pj", "cycles", "fmax_mhz", "breakdown_pj"} <= set(r)
    # The ideal bound and the ungated netlist bracket the gated one.
    for dp in ("int8", "dnateq"):
        e = {g: by[(dp, g, "datapath")]["energy_pj"] for g in h.GATINGS}
        assert e["ideal"] < e["icg"] < e["none"], dp
    assert int8["area_um2"] == pytest.approx(90 + 45)    # engine + requantizer, gated view
    assert by[("int8", "none", "datapath")]["area_um2"] == pytest.approx(150)


def test_targets_name_the_component_that_holds_them_back():
    rows = h.headline_rows(_fake_results(), lengths=(LENGTH,), workloads=("minilm",))
    (t3,) = h.target_report(rows)
    assert t3["n"] == 3 and t3["target"] == 0.4
    assert t3["met"] is (t3["ratio"] <= 0.4)
    if not t3["met"]:
        assert t3["held_back_by"]["component"] == "clock"


def test_missing_design_gives_an_error_row_not_a_crash():
    results = [r for r in _fake_results() if r["key"][0] == "int8" or r["role"] == "engine"]
    rows = h.headline_rows(results, lengths=(LENGTH,), workloads=("minilm",))
    bad = [r for r in rows if r["datapath"] == "dnateq"]
    assert bad and all("error" in r for r in bad)


@pytest.mark.parametrize("pes", [1, 4, 16])
def test_dnateq_keeps_the_int8_pace(pes):
    """Every DNA-TEQ design of the plan post-processes its PEs' counters within the N clocks
    of counting (one pair per clock per PE, like the MAC array), with the fewest lanes."""
    plan = h.headline_plan((pes,), h.BITS, h.LENGTHS)
    for (dp, n, p), designs in plan.items():
        d = designs["engine"].param_dict
        if dp == "int8":
            assert d["lanes"] == 1 and d["pes"] == p and d["zero_skip"]
            continue
        assert p == min(pes, h.MAX_PES.get(n, pes)) and d["pes"] == p and d["lanes"] == 1
        entries = 1 << (n + 1)
        steps = p * entries // d["pp_lanes"]
        assert steps <= min(h.LENGTHS)
        assert d["pp_lanes"] == 1 or p * entries // (d["pp_lanes"] // 2) > min(h.LENGTHS)
        assert designs["post"].param_dict["n"] == n


def test_minilm_vectors_are_the_layers_own_codes():
    """The INT8 and DNA-TEQ vectors of the same selected dot products: INT8 per TFLite (the
    accumulators are the integer dot products plus bias), DNA-TEQ from the search at n (the
    encoder's inputs are the post-processor's results)."""
    from quantrtl.golden import dnateq as g
    from quantrtl.golden.mac import dot_product
    from quantrtl.headline_workloads import (dnateq_vectors, int8_vectors, minilm_layer,
                                             select_rows)
    layer = minilm_layer(384)
    assert layer.x.shape[1] == 384 and layer.w.shape == (1536, 384)
    tokens, channels = select_rows(layer, 3, 4)
    assert channels.shape == (3, 4) and len(set(channels[0])) == 4
    mac, requant, facts = int8_vectors(layer, tokens, channels)
    assert mac["w"].shape == (3, 4, 384) and mac["bias"].shape == (3, 4)
    acc = dot_product(mac["a"][:, None, :], mac["w"], input_offset=int(mac["input_offset"]),
                      bias=mac["bias"])
    assert np.array_equal(acc.reshape(-1), requant["acc"])
    assert 0 <= facts["activation_zeros"] < 1
    engine, encoder, facts = dnateq_vectors(layer, 4, tokens, channels)
    assert engine["x"].shape == (3, 384) and engine["w"].shape == (3, 4, 384)
    assert engine["x"].max() < 16 and encoder["r"].shape == (12,)
    assert encoder["thresholds"].shape == (2 * 8 - 1,)
    assert facts["rmae_w"] < 0.5 and facts["base"] > 1
    px = g.ExpParams(float(engine["b"]), float(engine["alpha_x"]), float(engine["beta_x"]), 4)
    assert np.array_equal(g.quantize(layer.x[tokens], px), engine["x"])


def test_cli_rejects_bad_options(capsys):
    assert h.main(["--lengths", "100"]) == 2
    assert "length=100 is out of range" in capsys.readouterr().err
    assert h.main(["--workloads", "imagenet"]) == 2
    assert h.main(["--pes", "x"]) == 2


def test_reports_from_rows(tmp_path):
    rows = h.headline_rows(_fake_results(), lengths=(LENGTH,), workloads=("minilm",))
    meta = {"seconds": 1.0, "designs": 4, "jobs": 1, "method": h.METHOD, "glitch": []}
    doc = h.write_reports(tmp_path, rows, _fake_results(), meta)
    saved = json.loads((tmp_path / "headline.json").read_text())
    assert saved["rows"] == json.loads(json.dumps(rows)) and saved["targets"] == doc["targets"]
    text = (tmp_path / "headline.md").read_text()
    assert "DNA-TEQ n=3" in text and "INT8 MAC + requant" in text and "Targets" in text
    assert (tmp_path / "headline.csv").read_text().count("\n") == len(rows) + 1
