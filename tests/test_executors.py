"""Where a sweep runs (``synth/executors.py``) and how it shows progress (``synth/progress.py``):
a Dask LocalCluster gives the process pool's results, a second run from the same root is
all cached, a missing Dask or an unreachable scheduler is one line; progress is one line per
design off a terminal and a tqdm bar on one."""

import contextlib
import io
import json
import socket
import sys
import warnings

import pytest

from quantrtl.synth.__main__ import main, run_all
from quantrtl.synth.executors import ExecutorError, open_executor
from quantrtl.synth.flow import Design
from quantrtl.synth.progress import Progress

DESIGNS = [Design.block("mac", {"lanes": 1, "width": 4, "acc_width": 12}),
           Design.helper("add", 8)]
RUN = {"energy": True, "lengths": (16,), "fresh": False, "ice40": "auto"}


def _figures(results) -> dict:
    """What a design's result says, without where and when it was computed."""
    out = {}
    for r in results:
        assert "error" not in r, r.get("traceback")
        s = r["synth"]
        energy = {n: {g: run["pj_per_op"] for g, run in runs.items()}
                  for n, runs in r["energy"].items()}
        out[r["design"]["label"]] = (s["osu018"]["area_um2"], s["osu018_icg"]["area_um2"],
                                     s["timing"]["fmax_mhz"], s["ice40"]["lut4"], energy)
    return out


def _cached(results) -> list:
    return [r["synth"]["cached"] and all(run["cached"] for runs in r["energy"].values()
                                         for run in runs.values()) for r in results]


@pytest.fixture(scope="module")
def pooled(tech, tmp_path_factory):
    lines = []
    results = run_all(DESIGNS, jobs=2, root=tmp_path_factory.mktemp("pool"), **RUN,
                      progress=lines.append)
    return results, lines


def test_the_process_pool_prints_one_line_per_design(pooled):
    results, lines = pooled
    assert len(lines) == 2 and all(line.startswith("[synth ") for line in lines)
    assert {line.split("]")[0].split()[1] for line in lines} == {"1/2", "2/2"}
    assert not any(_cached(results))


def test_a_dask_local_cluster_gives_the_pools_results_and_reruns_from_the_cache(
        pooled, tmp_path):
    """One LocalCluster of two workers; its executor plugs into run_all as any
    concurrent.futures executor; the second run from the same (shared) root is all cached.
    With Dask's default HTTP port taken, as by another cluster, the cluster warns of nothing
    (its scheduler serves on a free loopback port, not 8787)."""
    root = tmp_path / "shared"
    with _holding(8787), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with open_executor("dask", jobs=2) as pool:
            first = run_all(DESIGNS, jobs=2, root=root, **RUN, executor=pool,
                            progress=[].append)
            second = run_all(DESIGNS, jobs=2, root=root, **RUN, executor=pool,
                             progress=[].append)
    assert not [str(w.message) for w in caught if "in use" in str(w.message)]
    assert _figures(first) == _figures(pooled[0])
    assert {r["pid"] for r in first}.isdisjoint({r["pid"] for r in pooled[0]})
    assert not any(_cached(first)) and all(_cached(second))
    assert _figures(second) == _figures(first)


def test_the_cli_runs_on_dask_and_reruns_from_the_root_in_the_environment(
        tech, tmp_path, monkeypatch, capsys):
    """``--executor dask`` without a scheduler (a LocalCluster of -j workers), the root from
    ``QUANTRTL_SYNTH_ROOT``; the second run reports every design taken from the cache."""
    monkeypatch.setenv("QUANTRTL_SYNTH_ROOT", str(tmp_path / "shared"))
    argv = ["--no-default", "--sweep", "helper:add=4,8", "--no-energy", "-j", "2",
            "--executor", "dask"]
    for k in range(2):
        assert main(argv + ["-o", str(tmp_path / f"out{k}")]) == 0
        meta = json.loads((tmp_path / f"out{k}" / "synth.json").read_text())["meta"]
        assert meta["designs"] == 2 and meta["cached"] == 2 * k
    out = capsys.readouterr().out
    assert out.count("[synth ") == 4 and "(a Dask LocalCluster)" in out
    assert (tmp_path / "shared" / "rtl").is_dir()


@contextlib.contextmanager
def _holding(port: int):
    """Listen on 127.0.0.1:``port`` for the duration (if something else already does,
    it is taken all the same)."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            pass
        yield


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line(tmp_path, capsys):
    address = f"tcp://127.0.0.1:{_free_port()}"
    assert main(["--block", "mac", "--no-energy", "-o", str(tmp_path / "out"),
                 "--root", str(tmp_path / "work"), "--executor", "dask",
                 "--scheduler", address, "--scheduler-timeout", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"python -m quantrtl.synth: cannot reach the Dask scheduler at "
                          f"{address} within 1 s")


def test_missing_dask_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)      # import fails
    with pytest.raises(ExecutorError, match=r"needs dask and distributed \(pip install"):
        with open_executor("dask", jobs=1):
            pass
    assert main(["--block", "mac", "--no-energy", "-o", str(tmp_path / "out"),
                 "--root", str(tmp_path / "work"), "--executor", "dask"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "quantrtl[cluster]" in err


def test_executor_options_are_checked_before_any_work(tmp_path, capsys):
    assert main(["--block", "mac", "--scheduler", "tcp://127.0.0.1:1",
                 "-o", str(tmp_path / "out")]) == 2
    assert "--scheduler needs --executor dask" in capsys.readouterr().err
    assert main(["--block", "mac", "--executor", "dask", "--scheduler-timeout", "0",
                 "-o", str(tmp_path / "out")]) == 2
    assert "--scheduler-timeout=0.0 is out of range" in capsys.readouterr().err


def test_progress_is_lines_off_a_terminal_and_a_bar_on_one(capsys, monkeypatch):
    with Progress(2, "synth") as tell:            # pytest's stderr is not a terminal
        tell("[synth 1/2] a", label="a")
        tell("[synth 2/2] b", label="b")
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["[synth 1/2] a", "[synth 2/2] b"]
    assert captured.err == ""

    terminal = io.StringIO()
    terminal.isatty = lambda: True
    monkeypatch.setattr(sys, "stderr", terminal)
    with Progress(2, "synth") as tell:
        tell("[synth 1/2] a", label="a")
        tell("[synth 2/2] b ERROR x", label="b", keep=True)
    bar = terminal.getvalue()
    assert "synth: 100%" in bar and "2/2" in bar and "[synth 2/2] b ERROR x" in bar
    assert "[synth 1/2] a" not in bar and capsys.readouterr().out == ""
