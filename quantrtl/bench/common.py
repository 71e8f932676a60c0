"""What every bench suite shares, written once: progress lines, the table printer, the
figure writers (JSON with provenance, tidy CSV), the provenance itself, timing, and running a
cocotb bench module with its output sent to a log.

A suite (:mod:`quantrtl.bench.speed`, ``dnateq``, ``huffman``) is a module with ``NAME``,
``DESCRIPTION``, ``add_arguments(group)``, ``check(options)`` (raises ``ValueError`` for bad
input, before any work) and ``run(ctx) -> SuiteResult``; :mod:`quantrtl.bench.__main__` runs
them in one process and ends with :func:`run_table`.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence, TextIO

from quantrtl.synth.provenance import git_state, tool_versions
from quantrtl.synth.provenance import provenance as shared_provenance

__all__ = ["BenchFailure", "OneLineParser", "Progress", "Context", "SuiteResult", "table",
           "format_table", "write_json", "write_csv", "write_figures", "read_csv",
           "provenance", "tool_versions", "git_state", "choose_sizes", "best_time",
           "output_to", "simulate_figures", "run_table", "run_rows", "RUN_CSV_HEADER"]

_STARTED = time.monotonic()                  # progress lines count from the first import


class BenchFailure(RuntimeError):
    """A figure could not be trusted: a simulation failed (an output differs from the golden
    model, a crash) or two golden models disagree.  The suite is reported FAILED."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (``prog: error: ...``), exit status 2,
    without the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


# ------------------------------------------------------------------------------ progress


class Progress:
    """``progress("message")`` prints ``[bench NAME  12.3s] message`` at once (flushed);
    the seconds count from ``start`` (default: when the bench was imported)."""

    def __init__(self, name: str, *, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic, start: float | None = None):
        self.name = name
        self.stream = stream
        self.clock = clock
        self.start = _STARTED if start is None else start

    def line(self, message: str) -> str:
        return f"[bench {self.name} {self.clock() - self.start:6.1f}s] {message}"

    def __call__(self, message: str) -> None:
        print(self.line(message), file=self.stream or sys.stdout, flush=True)


# ------------------------------------------------------------------------------ tables


def table(headers: Sequence, rows: Iterable[Sequence], right: Iterable[int] = ()) -> list[str]:
    """Lines of a plain-text table: a header, a rule, one line per row, columns two spaces
    apart, indented by two; columns whose index is in ``right`` are right-aligned.  A table
    without rows is its header and rule; a row of the wrong length is a ``ValueError``."""
    rows = [[str(c) for c in r] for r in rows]
    headers = [str(h) for h in headers]
    for k, r in enumerate(rows):
        if len(r) != len(headers):
            raise ValueError(f"table row {k} has {len(r)} cells, the header {len(headers)}")
    right = set(right)
    widths = [max(len(c) for c in col) for col in zip(headers, *rows)]

    def line(cells):
        return "  " + "  ".join(c.rjust(w) if k in right else c.ljust(w)
                                for k, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]


def format_table(headers, rows, right=()) -> str:
    return "\n".join(table(headers, rows, right))


# ------------------------------------------------------------------------------ provenance


def provenance(*, seed: int, quick: bool, command: str, suites: Sequence[str] = (),
               versions: dict | None = None, git: dict | None = None) -> dict:
    """Where the figures come from: the shared record (:func:`quantrtl.synth.provenance.provenance`:
    commit, date, tools, command...) with the bench's run (``seed``, ``quick``, ``suites``),
    and the commit, tree state and versions also under the bench's own names ``commit``,
    ``dirty`` and ``versions`` (``run.csv`` and the suites read them)."""
    git = git_state() if git is None else git
    versions = tool_versions() if versions is None else versions
    run = {"seed": seed, "quick": quick, "suites": list(suites)}
    record = shared_provenance(command=command, parameters=run, git=git, versions=versions,
                               **run)
    return {**record, "commit": git["commit"], "dirty": git["dirty"], "versions": versions}


# ------------------------------------------------------------------------------ writers


def _jsonable(value):
    """NumPy scalars and arrays, paths and sets as JSON."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _replace(path: Path, text: str, newline: str | None = None) -> Path:
    """Write ``text`` to ``path`` through a temporary file, so that a crash leaves the old
    file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", newline=newline) as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path


def write_json(path: Path, doc: dict, provenance: dict | None = None) -> Path:
    """``doc`` as indented JSON; with ``provenance``, under the key ``"provenance"`` (the
    document's own keys are kept as they are)."""
    if provenance is not None:
        doc = {**doc, "provenance": provenance}
    return _replace(path, json.dumps(doc, indent=2, default=_jsonable) + "\n")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence]) -> Path:
    """A tidy CSV: ``header``, then one line per row; a row whose length differs from the
    header's is a ``ValueError`` (nothing is written)."""
    header = list(header)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for k, row in enumerate(rows):
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"{Path(path).name}: row {k} has {len(row)} fields, the header "
                             f"{len(header)} ({', '.join(header)})")
        writer.writerow(row)
    return _replace(path, buf.getvalue(), newline="")


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """``(header, rows)`` of a CSV written by :func:`write_csv` (values as text)."""
    with open(path, newline="") as fh:
        header, *rows = list(csv.reader(fh))
    return header, rows


def write_figures(out_dir: Path, stem: str, report: dict, header: Sequence[str],
                  rows: Iterable[Sequence], provenance: dict | None) -> list[Path]:
    """A suite's two figure files, ``<stem>.json`` (the report, with its provenance) and
    ``<stem>.csv`` (tidy rows); returns their paths."""
    out_dir = Path(out_dir)
    csv_path = write_csv(out_dir / f"{stem}.csv", header, rows)
    return [write_json(out_dir / f"{stem}.json", report, provenance), csv_path]


# ------------------------------------------------------------------------------ running


@dataclass
class Context:
    """What a suite's ``run`` gets: the shared options and this run's provenance; the
    suite's own options are in ``options`` (the parsed command line)."""

    out_dir: Path
    quick: bool = False
    seed: int = 1
    verbose: bool = False
    no_sim: bool = False
    provenance: dict | None = None
    options: argparse.Namespace = field(default_factory=argparse.Namespace)


@dataclass
class SuiteResult:
    """One suite's outcome: its files, a one-line headline of its figures for the run
    table, its own summary tables, and whether every figure could be trusted."""

    name: str
    files: list[Path]
    headline: str
    summary: str
    ok: bool = True
    error: str | None = None
    seconds: float = 0.0
    report: dict | None = None

    @property
    def status(self) -> str:
        return "ok" if self.ok else "FAILED"


def choose_sizes(sizes: dict, quick: bool) -> dict:
    """``{name: (full, quick)}`` -> ``{name: the one for this run}``."""
    return {name: pair[1 if quick else 0] for name, pair in sizes.items()}


def best_time(fn: Callable, repeats: int):
    """``(best seconds of repeats calls, the last result)``."""
    best, result = float("inf"), None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


@contextlib.contextmanager
def output_to(log_path: Path | None):
    """Send this process's and its children's stdout/stderr (file descriptors 1 and 2) to
    ``log_path``, so the simulators' chatter lands in a log; ``None`` leaves them alone."""
    if log_path is None:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    try:
        with open(log_path, "w") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                yield
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
    finally:
        os.close(saved[0])
        os.close(saved[1])


def simulate_figures(name: str, block: str, params: dict, module: str, *, out_dir: Path,
                     sim: str, seed: int, env: dict | None = None, testcase: str | None = None,
                     build_root: Path | None = None, verbose: bool = False) -> dict:
    """Run the cocotb ``module`` on ``block`` and return the figures it wrote as JSON to
    ``QUANTRTL_BENCH_OUT`` (kept as ``<out_dir>/raw/<name>.json``), with
    ``wall_seconds_with_build`` and ``log`` added.  The simulator's output goes to
    ``<out_dir>/logs/<name>.log`` unless ``verbose``; a failed run prints the log's tail and
    raises :class:`BenchFailure`.
    """
    from quantrtl.tb.runner import SimulationError, simulate

    out_dir = Path(out_dir)
    figure_path, log_path = out_dir / "raw" / f"{name}.json", out_dir / "logs" / f"{name}.log"
    figure_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    figure_path.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        with output_to(None if verbose else log_path):
            simulate(block, params, module, sim=sim, seed=seed, testcase=testcase,
                     build_root=None if build_root is None else Path(build_root).resolve(),
                     extra_env={"QUANTRTL_BENCH_OUT": str(figure_path),
                                **{k: str(v) for k, v in (env or {}).items()}})
    except (SimulationError, RuntimeError) as exc:  # a crash may surface as RuntimeError
        if not verbose:
            tail = log_path.read_text(errors="replace").splitlines()[-40:]
            print("\n".join(tail), file=sys.stderr, flush=True)
        raise BenchFailure(f"{name}: {exc}\n  full log: {log_path}") from None
    if not figure_path.exists():
        raise BenchFailure(f"{name}: the simulation wrote no figures to {figure_path}; "
                           f"log: {log_path}")
    figure = json.loads(figure_path.read_text())
    figure["wall_seconds_with_build"] = time.perf_counter() - started
    figure["log"] = str(log_path)
    return figure


# ------------------------------------------------------------------------------ the run


RUN_CSV_HEADER = ("suite", "status", "seconds", "figures", "files", "commit", "dirty", "date",
                  "seed", "quick", "command")


def run_table(results: Sequence[SuiteResult], out_dir: Path) -> str:
    """The table that ends a run: each suite's status, seconds, headline and files."""
    rows = [[r.name, r.status, f"{r.seconds:.1f}", r.headline if r.ok else r.error or "",
             ", ".join(_relative(f, out_dir) for f in r.files)] for r in results]
    return format_table(["suite", "status", "seconds", "figures", "files"], rows, right={2})


def run_rows(results: Sequence[SuiteResult], prov: dict, out_dir: Path) -> list[list]:
    """Rows of ``run.csv`` (:data:`RUN_CSV_HEADER`): one per suite, with the provenance."""
    return [[r.name, r.status, round(r.seconds, 3), r.headline if r.ok else r.error or "",
             " ".join(_relative(f, out_dir) for f in r.files), prov["commit"] or "",
             "" if prov["dirty"] is None else prov["dirty"], prov["date"], prov["seed"],
             prov["quick"], prov["command"]] for r in results]


def _relative(path: Path, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(base).resolve()))
    except ValueError:
        return str(path)
