"""``make bench`` (``python -m quantrtl.bench``): the shared mechanism of the suites (progress
lines, tables, CSV and JSON with provenance, the run and its summary table), bad options,
and a quick smoke run of the ``speed`` suite on Verilator.

The bench reports figures and never asserts wall-clock limits; these tests check the figures
that are properties of the design (one result per clock at every shift, latency equal to the
parameter), that the measured rates exist and are positive, and that the files are written
as their readers expect.
"""

import datetime
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from quantrtl.bench import common
from quantrtl.bench.__main__ import SUITES, main
from quantrtl.golden.requant import SHIFT_MAX, SHIFT_MIN
from quantrtl.tb.runner import simulator_status
from quantrtl.tb.tests.bench_throughput import shift_figures

ROOT = Path(__file__).resolve().parents[1]


def _listed(var, default):
    return [s.strip() for s in os.environ.get(var, default).split(",") if s.strip()]


def test_shift_figures_sees_bubbles_and_latency():
    """The per-shift arithmetic (no simulator): a bubble lowers the throughput of the shift
    it ends, and the latency is per beat."""
    shifts = np.repeat([-1, 0, 1], 4)
    accepted = np.arange(12)
    delivered = accepted + 2
    delivered[8:] += 1                      # one idle output cycle before shift 1's results
    figures = shift_figures(shifts, accepted, delivered)
    assert [f["shift"] for f in figures] == [-1, 0, 1]
    assert [f["throughput"] for f in figures] == [1.0, 0.8, 1.0]
    assert [(f["latency_min"], f["latency_max"]) for f in figures] == [(2, 2), (2, 2), (3, 3)]


# ------------------------------------------------------------------ the common mechanism


def test_progress_lines_name_the_suite_and_the_seconds():
    stream, now = io.StringIO(), iter([10.0, 12.5])
    tell = common.Progress("speed", stream=stream, clock=lambda: next(now), start=10.0)
    tell("building")
    tell("done")
    assert stream.getvalue().splitlines() == ["[bench speed    0.0s] building",
                                              "[bench speed    2.5s] done"]


def test_table_aligns_columns_and_refuses_ragged_rows():
    lines = common.table(["name", "value"], [["a", 1], ["longer", 1234]], right={1})
    assert lines == ["  name    value",
                     "  ------  -----",
                     "  a           1",
                     "  longer   1234"]
    assert common.table(["a", "bc"], []) == ["  a  bc", "  -  --"]     # no rows: no crash
    with pytest.raises(ValueError, match="row 1 has 1 cells, the header 2"):
        common.table(["a", "b"], [[1, 2], [3]])


def test_csv_round_trip_keeps_awkward_text_and_refuses_ragged_rows(tmp_path):
    header = ("section", "name", "params", "metric", "value", "unit")
    rows = [("hardware", "verilator", json.dumps({"lanes": 2, "ready": 0.5}),
             "symbols_per_clock", 1.25, "1/clk"),
            ("golden", 'a "quoted", name', "{}", "multi\nline", np.float64(0.1), "")]
    path = common.write_csv(tmp_path / "x.csv", header, rows)
    head, back = common.read_csv(path)
    assert head == list(header)
    assert back == [[str(c) for c in r] for r in rows]
    assert json.loads(back[0][2]) == {"lanes": 2, "ready": 0.5}
    with pytest.raises(ValueError, match="row 1 has 2 fields, the header 6"):
        common.write_csv(tmp_path / "bad.csv", header, [rows[0], ("a", "b")])
    assert not (tmp_path / "bad.csv").exists()          # nothing half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]


def test_json_round_trip_carries_the_provenance(tmp_path):
    prov = common.provenance(seed=7, quick=True, command="python -m quantrtl.bench --quick",
                             suites=["speed"])
    doc = {"quick": True, "rate": np.float32(2.5), "counts": np.arange(3),
           "path": tmp_path, "nested": {"n": np.int64(4)}}
    path = common.write_json(tmp_path / "fig.json", doc, prov)
    back = json.loads(path.read_text())
    assert back["quick"] is True and back["rate"] == 2.5 and back["counts"] == [0, 1, 2]
    assert back["path"] == str(tmp_path) and back["nested"] == {"n": 4}
    p = back["provenance"]
    assert p["seed"] == 7 and p["quick"] is True and p["suites"] == ["speed"]
    assert p["command"] == "python -m quantrtl.bench --quick"
    assert datetime.datetime.fromisoformat(p["date"]).tzinfo is not None
    assert p["versions"]["numpy"] == np.__version__ and p["versions"]["python"]
    assert p["cpus"] == os.cpu_count()
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head = None
    assert p["commit"] == head
    assert p["dirty"] in ((True, False) if head else (None,))
    # Without provenance the document is written as it is.
    assert "provenance" not in json.loads(common.write_json(tmp_path / "b.json", {}).read_text())


def test_write_figures_writes_both_files(tmp_path):
    prov = {"seed": 1}
    paths = common.write_figures(tmp_path, "suite", {"a": 1}, ["m", "v"], [["a", 1]], prov)
    assert [p.name for p in paths] == ["suite.json", "suite.csv"]
    assert json.loads(paths[0].read_text()) == {"a": 1, "provenance": {"seed": 1}}
    assert common.read_csv(paths[1]) == (["m", "v"], [["a", "1"]])


def _fake_suite(name, *, fail=False, calls=None):
    """A suite like :mod:`quantrtl.bench.speed`, without any simulation."""

    def add_arguments(group):
        group.add_argument(f"--{name}-size", type=int, default=3)

    def check(options):
        """Nothing to check."""

    def run(ctx):
        calls.append((name, ctx.quick, ctx.seed, ctx.provenance["seed"]))
        tell = common.Progress(name)
        tell(f"measuring {getattr(ctx.options, f'{name}_size')} things")
        if fail:
            raise common.BenchFailure(f"{name}: output 3 differs from the golden model\n  log")
        files = common.write_figures(ctx.out_dir, name, {"things": 3}, ["metric", "value"],
                                     [["things", 3]], ctx.provenance)
        return common.SuiteResult(name, files, f"{name} headline", f"{name} TABLE")

    return SimpleNamespace(NAME=name, DESCRIPTION=f"the {name} suite",
                           add_arguments=add_arguments, check=check, run=run)


def test_a_run_shows_progress_and_ends_with_the_summary_table(tmp_path, capsys):
    calls = []
    suites = {n: _fake_suite(n, fail=n == "bad", calls=calls) for n in ("one", "bad", "two")}
    status = main(["-o", str(tmp_path), "--quick", "--seed", "5", "--one-size", "9"],
                  suites=suites)
    assert status == 1                                   # a failed suite fails the run
    assert calls == [("one", True, 5, 5), ("bad", True, 5, 5), ("two", True, 5, 5)]
    captured = capsys.readouterr()
    out = captured.out
    assert "[bench one" in out and "measuring 9 things" in out and "suite 3/3: two" in out
    assert "bad: output 3 differs" in captured.err
    # Each suite's tables, then the summary table, at the very end.
    assert out.index("one TABLE") < out.index("two TABLE") < out.index("== bench summary")
    tail = out[out.index("== bench summary"):].splitlines()
    rows = [line.split() for line in tail if line.startswith("  ") and "---" not in line]
    assert [r[:2] for r in rows] == [["suite", "status"], ["one", "ok"], ["bad", "FAILED"],
                                     ["two", "ok"]]
    assert any(t.split()[0] == "one" and t.endswith("one.json, one.csv") for t in tail
               if t.strip())
    # The suites' files and the run's, with the provenance.
    assert json.loads((tmp_path / "one.json").read_text())["provenance"]["seed"] == 5
    run = json.loads((tmp_path / "run.json").read_text())
    assert [(s["suite"], s["ok"]) for s in run["suites"]] == [("one", True), ("bad", False),
                                                             ("two", True)]
    assert run["suites"][1]["error"] == "bad: output 3 differs from the golden model"
    assert run["provenance"]["command"].endswith(f"-o {tmp_path} --quick --seed 5 --one-size 9")
    header, csv_rows = common.read_csv(tmp_path / "run.csv")
    assert header == list(common.RUN_CSV_HEADER)
    assert [(r[0], r[1], r[8], r[9]) for r in csv_rows] == [
        ("one", "ok", "5", "True"), ("bad", "FAILED", "5", "True"), ("two", "ok", "5", "True")]


def test_chosen_suites_run_in_the_order_given(tmp_path, capsys):
    calls = []
    suites = {n: _fake_suite(n, calls=calls) for n in ("one", "two", "three")}
    assert main(["-o", str(tmp_path), "--suite", "three,one,three"], suites=suites) == 0
    assert [c[0] for c in calls] == ["three", "one"]
    assert not (tmp_path / "two.json").exists()
    assert [s["suite"] for s in json.loads((tmp_path / "run.json").read_text())["suites"]] \
        == ["three", "one"]


@pytest.mark.parametrize("args, message", [
    (["--suite", "nope"], "'nope' is not a suite: allowed {speed, dnateq, huffman, verification} or all"),
    (["--suite", "speed,"], "'' is not a suite"),
    (["--seed", "-1"], "--seed=-1 is out of range"),
    (["--seed", "x"], "argument --seed: invalid int value: 'x'"),
    (["--jobs", "0"], "--jobs=0 is out of range"),
    (["--thr-w", "0"], "--thr-w=0.0 is out of range: allowed (0.0, 10.0]"),
    (["--thr-act", "nan"], "--thr-act=nan is out of range"),
    (["--sims", "modelsim"], "argument --sims: invalid choice: 'modelsim'"),
    (["--sim", "modelsim"], "argument --sim: invalid choice: 'modelsim'"),
    (["--roundings", "up"], "argument --roundings: invalid choice: 'up'"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["-o", "{blocker}/out"], "is not a directory"),
    (["--build-root", "{blocker}/sim"], "is not a directory"),
])
def test_bad_options_get_one_line_before_any_work(tmp_path, capsys, args, message):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    args = [a.replace("{blocker}", str(blocker)) for a in args]
    out = tmp_path / "bench"
    full = args if "-o" in args else ["-o", str(out), *args]
    for run, prog in ((lambda: main(full), "python -m quantrtl.bench"),
                      (lambda: _cli(["bench", *full]), "quantrtl bench")):
        assert run() == 2
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1, captured.err
        assert "Traceback" not in captured.err and message in captured.err, captured.err
        assert captured.err.startswith(f"{prog}: error: ")
        assert not out.exists()


def _cli(argv):
    from quantrtl.cli import main as cli_main
    return cli_main(argv)


def test_list_and_help_exit_zero(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines() if not line.startswith("   ")] \
        == list(SUITES)
    assert _cli(["bench", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: quantrtl bench") and "--thr-w" in out and "--sims" in out


def test_speed_without_simulators_measures_the_golden_model(tmp_path, capsys):
    """``--no-sim``: the golden part only (fast), with its files and their columns."""
    assert main(["-o", str(tmp_path), "--suite", "speed", "--quick", "--no-sim"]) == 0
    out = capsys.readouterr().out
    assert "3. Golden requantize" in out and "(no simulator available)" in out
    report = json.loads((tmp_path / "bench.json").read_text())
    assert report["vectors_per_second"] == [] and report["requant_shift_sweep"] == []
    assert {s["reason"] for s in report["skipped"]} == {"--no-sim"}
    assert [e["rounding"] for e in report["golden_speed"]] == ["single", "double"]
    assert all(e["identical"] and e["speedup"] > 0 for e in report["golden_speed"])
    assert report["provenance"]["suites"] == ["speed"] and report["tools"]["numpy"]
    header, rows = common.read_csv(tmp_path / "bench.csv")
    assert header == ["section", "simulator", "block", "params", "shift", "metric", "value",
                      "unit"]
    assert {r[0] for r in rows} == {"golden_speed"}


def test_huffman_summary_without_hardware_figures():
    """The summary of a ``--no-sim`` run has no decoder table, and says why."""
    from quantrtl.bench import huffman
    report = {"hardware": [], "hardware_skipped": "--no-sim",
              "golden": {"mean_code_bits": 3.0, "encode_symbols_per_s": 1e7,
                         "decode_symbols_per_s": 2e7, "bitwise_decode_symbols_per_s": 1e6,
                         "decode_speedup": 20.0, "match": True},
              "compression": {"source": "synthetic", "n": 4, "important_ratio": 0.4,
                              "max_length": 8, "layers": [],
                              "totals": {3: {"errors": 10, "ratio": 1.5,
                                             "ratio_with_table": 1.2, "min_layer_ratio": 1.0,
                                             "max_layer_ratio": 2.0}}}}
    text = huffman.summary(report)
    assert "(skipped: --no-sim)" in text and "20x" in text
    assert huffman.headline(report) == "decode 20x bitwise; m=3 ratio 1.50"


# ------------------------------------------------------------------ a real run


@pytest.mark.sim
def test_bench_quick_on_verilator(tmp_path):
    if "verilator" not in _listed("QUANTRTL_SIMS", "verilator"):
        pytest.skip("verilator is not in QUANTRTL_SIMS")
    available, reason = simulator_status("verilator")
    if not available:
        if "verilator" in _listed("QUANTRTL_REQUIRE_SIMS", ""):
            pytest.fail(f"verilator is required (QUANTRTL_REQUIRE_SIMS) but unavailable: "
                        f"{reason}")
        pytest.skip(f"verilator unavailable: {reason}")

    proc = subprocess.run(
        [sys.executable, "-m", "quantrtl.bench", "--suite", "speed", "--quick", "--sims",
         "verilator", "-o", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"bench failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    assert "[bench speed" in proc.stdout                   # progress lines
    assert "Checked vectors per second" in proc.stdout   # the suite's tables were printed
    assert "== bench summary" in proc.stdout.split("Checked vectors per second")[-1]
    assert (tmp_path / "bench.csv").is_file() and (tmp_path / "run.csv").is_file()
    report = json.loads((tmp_path / "bench.json").read_text())
    assert report["quick"] is True
    assert report["provenance"]["command"].startswith("python -m quantrtl.bench --suite speed")

    # 1. checked vectors per second: both blocks, positive rates, every output checked.
    speed = {e["block"]: e for e in report["vectors_per_second"]}
    assert set(speed) == {"mac", "requant"}
    assert all(e["simulator"] == "verilator" for e in speed.values())
    for e in speed.values():
        assert e["outputs_checked"] > 0
        assert e["seconds"] > 0 and e["vectors_per_second"] > 0
    mac = speed["mac"]
    assert mac["dot_length"] == 16
    assert mac["dot_products_per_second"] > 0
    assert mac["macs_per_second"] == pytest.approx(16 * mac["dot_products_per_second"])

    # 2. the requantizer: every latency parameter, every shift, 1.0 result/clock, latency =
    # the parameter.
    sweep = report["requant_shift_sweep"]
    assert sorted(e["params"]["latency"] for e in sweep) == [1, 2, 3]
    for e in sweep:
        latency = e["params"]["latency"]
        assert e["latency_param"] == latency
        assert [s["shift"] for s in e["shifts"]] == list(range(SHIFT_MIN, SHIFT_MAX + 1))
        for s in e["shifts"]:
            assert s["throughput"] == 1.0, (latency, s)
            assert s["latency_min"] == s["latency_max"] == latency, (latency, s)
        assert e["one_per_clock_at_every_shift"] and e["latency_equals_param_at_every_shift"]

    # 3. the golden model: identical results, vectorised faster than the Python loop.
    golden = {e["rounding"]: e for e in report["golden_speed"]}
    assert set(golden) == {"single", "double"}
    for e in golden.values():
        assert e["identical"] is True
        assert e["speedup"] > 1


@pytest.mark.sim
def test_verification_suite_compares_player_and_cocotb(tmp_path, sim):
    """A quick run of the verification bench on one block: the three harnesses (player,
    plain player, cocotb) checked every output against golden, the rows and the ratios are
    written with their build times."""
    from quantrtl.bench import verification
    report = verification.run_bench(tmp_path, quick=True, simulators=(sim,),
                                    blocks=("requant",))
    rows = {r["harness"]: r for r in report["rows"]}
    assert set(rows) == {"player", "plain", "cocotb"}
    for r in rows.values():
        assert r["checked"] > 0 and r["checked_per_s"] > 0 and r["build_s"] >= 0
    assert rows["player"]["checked"] == rows["plain"]["checked"] > rows["cocotb"]["checked"]
    ratio = report["ratios"][0]
    assert ratio["block"] == "requant" and ratio["ratio"] > 0 and ratio["plain_ratio"] > 0
    assert "plain ratio" in verification.summary(report)
    doc = json.loads((tmp_path / "verification.json").read_text())
    assert doc["rows"] == json.loads(json.dumps(report["rows"]))
    assert (tmp_path / "verification.csv").read_text().startswith("harness,simulator")
