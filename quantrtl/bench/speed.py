"""Suite ``speed``: measured figures of quantrtl's testbenches, RTL timing and golden model.

It reports figures; it never asserts wall-clock limits.  It fails if any simulated output
differs from the golden model, or if the vectorised and the plain-Python golden models
disagree.  Three parts:

1. **Checked vectors per second through cocotb**, per available simulator, for ``mac`` (dot
   products of 16 pairs: dot products/s and MACs/s) and ``requant`` (single accumulators),
   both with default parameters: the wall time, measured inside the simulation, of one
   :func:`tb.harness.run_vectors` call that compares every output with the golden model
   (``tb/tests/bench_speed.py``).  Building the RTL and starting the simulator are excluded.
2. **The requantizer's latency and throughput at every shift** from -31 to 30, for each
   ``latency`` parameter 1 to 3 and each rounding mode, with an input beat offered every
   cycle and the output always ready (``tb/tests/bench_throughput.py``).
3. **Golden-model speed**: the vectorised :func:`golden.requant.requantize` against the
   plain-Python loop :func:`golden.scalar.requantize_loop` on the same data, both rounding
   modes, elements per second and speed-up; the two results must be identical.

The builds and the shift sweeps (whose figures are clock cycles) run first, on ``--jobs``
processes; then the timed vectors/s runs one at a time, with nothing else of the bench
running; then the golden-model timings.  Figures go to ``<output>/bench.json`` and
``<output>/bench.csv`` (one tidy row per figure: section, simulator, block, params, shift,
metric, value, unit); each simulation's log to ``<output>/logs/``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from quantrtl.spec import check_int, check_writable_dir

from .common import (BenchFailure, Context, Progress, SuiteResult, best_time, choose_sizes,
                     provenance, simulate_figures, table, write_figures)

__all__ = ["run_bench", "format_summary", "csv_rows"]

NAME = "speed"
DESCRIPTION = ("checked vectors/s through cocotb per simulator and block, the requantizer's "
               "latency and throughput at every shift, the golden model's vectorised vs "
               "plain-Python speed (bench.json, bench.csv)")
DOT_LENGTH = 16
ROUNDINGS = ("single", "double")
LATENCIES = (1, 2, 3)
CSV_HEADER = ("section", "simulator", "block", "params", "shift", "metric", "value", "unit")

# name: (full run, --quick)
SIZES = {
    "mac_dot_products": (4000, 200),          # x DOT_LENGTH beats each
    "requant_values": (50000, 2000),
    "beats_per_shift": (64, 16),
    "golden_vector_elements": (1_000_000, 100_000),
    "golden_vector_repeats": (5, 3),
    "golden_loop_elements": (20_000, 2_000),
    "golden_loop_repeats": (3, 2),
}

progress = Progress(NAME)


def _simulate_job(job: dict) -> dict:
    """Run one bench simulation (``job`` from :meth:`_Sims.job`); returns its figures.
    A module-level function so that a worker process can run it."""
    return simulate_figures(job["name"], job["block"], job["params"], job["module"],
                            out_dir=job["out_dir"], sim=job["sim"], seed=job["seed"],
                            env=job["env"], build_root=job["build_root"],
                            verbose=job["verbose"])


class _Sims:
    """Runs cocotb bench modules, one log per run, one at a time (:meth:`run`) or on
    ``jobs`` worker processes (:meth:`run_parallel`)."""

    def __init__(self, out_dir: Path, *, seed: int, build_root: Path | None, verbose: bool,
                 jobs: int):
        self.out_dir = out_dir
        self.seed = seed
        self.build_root = None if build_root is None else Path(build_root).resolve()
        self.verbose = verbose
        self.jobs = max(1, jobs)

    def job(self, sim: str, block: str, params: dict, module: str, name: str,
            env: dict) -> dict:
        return {"sim": sim, "block": block, "params": params, "module": module, "name": name,
                "env": {k: str(v) for k, v in env.items()}, "seed": self.seed,
                "build_root": self.build_root, "verbose": self.verbose,
                "out_dir": self.out_dir}

    def run(self, job: dict) -> dict:
        return _simulate_job(job)

    def run_parallel(self, jobs: list[dict], done) -> list[dict]:
        """Run ``jobs`` (no two of which may share a build, i.e. simulator, block and
        parameters) on up to ``self.jobs`` processes; ``done(job, figure)`` is called as each
        finishes.  Returns the figures in the order of ``jobs``."""
        keys = [_build_key(j) for j in jobs]
        if len(set(keys)) != len(keys):
            raise ValueError("parallel bench jobs must not share a build directory")
        if self.jobs == 1 or len(jobs) <= 1:
            figures = []
            for job in jobs:
                figures.append(self.run(job))
                done(job, figures[-1])
            return figures
        import concurrent.futures
        import multiprocessing

        sys.stdout.flush()
        sys.stderr.flush()
        figures: list = [None] * len(jobs)
        pool = concurrent.futures.ProcessPoolExecutor(
            max_workers=min(self.jobs, len(jobs)),
            mp_context=multiprocessing.get_context("fork"))
        try:
            futures = {pool.submit(_simulate_job, job): k for k, job in enumerate(jobs)}
            for future in concurrent.futures.as_completed(futures):
                k = futures[future]
                figures[k] = future.result()  # re-raises a job's BenchFailure
                done(jobs[k], figures[k])
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return figures


def _build_key(job: dict) -> tuple:
    """What picks a job's build directory: simulator, block, resolved parameters."""
    from quantrtl.blocks import get_block

    params = get_block(job["block"]).resolve(job["params"])
    return job["sim"], job["block"], json.dumps(params, sort_keys=True)


def _params_text(params: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(params.items()))


# ---------------------------------------------------------------------------------------------
# 1. checked vectors per second

SPEED_RUNS = (("mac", "mac_dot_products", f"dot products of {DOT_LENGTH}"),
              ("requant", "requant_values", "requantized values"))


def _speed_job(sims: _Sims, sim: str, block: str, count: int, name: str) -> dict:
    from quantrtl.blocks import get_block

    return sims.job(sim, block, get_block(block).defaults(), "quantrtl.tb.tests.bench_speed",
                    name, {"QUANTRTL_BENCH_COUNT": count,
                           "QUANTRTL_BENCH_DOT_LENGTH": DOT_LENGTH})


def build_jobs(sims: _Sims, sim: str, taken: set) -> list[dict]:
    """Tiny runs of the vectors/s benches, only to build their RTL ahead of the timed runs
    (alongside other builds); skipped for a build that another parallel job makes."""
    jobs = [_speed_job(sims, sim, block, 1, f"build-{sim}-{block}")
            for block, _, _ in SPEED_RUNS]
    return [j for j in jobs if _build_key(j) not in taken]


def bench_vectors_per_second(sims: _Sims, sim: str, sizes: dict) -> list[dict]:
    """The timed runs, one at a time (nothing else of the bench runs meanwhile)."""
    results = []
    for block, size, what in SPEED_RUNS:
        count = sizes[size]
        progress(f"{sim} {block}: {count} random {what} through run_vectors (timed) ...")
        fig = sims.run(_speed_job(sims, sim, block, count, f"speed-{sim}-{block}"))
        if fig["outputs"] != count:
            raise BenchFailure(f"{sim} {block}: {fig['outputs']} outputs checked, "
                               f"{count} expected")
        seconds = fig["seconds"]
        entry = {
            "simulator": sim, "block": block, "params": fig["params"],
            "outputs_checked": fig["outputs"], "beats": fig["beats"],
            "clock_cycles": fig["cycles"], "seconds": seconds,
            "vectors_per_second": fig["outputs"] / seconds,
            "beats_per_second": fig["beats"] / seconds,
            "cycles_per_second": fig["cycles"] / seconds,
            "seed": fig["seed"], "log": fig["log"],
        }
        if block == "mac":
            entry["dot_length"] = fig["dot_length"]
            entry["dot_products_per_second"] = entry["vectors_per_second"]
            entry["macs_per_second"] = fig["outputs"] * fig["dot_length"] / seconds
            shown = (f"{entry['dot_products_per_second']:,.0f} dot products/s = "
                     f"{entry['macs_per_second']:,.0f} MACs/s")
        else:
            shown = f"{entry['vectors_per_second']:,.0f} values/s"
        progress(f"{sim} {block}: {fig['outputs']} outputs checked in {seconds:.3f} s: "
                 f"{shown} ({fig['wall_seconds_with_build']:.1f} s with start-up)")
        results.append(entry)
    return results


# ---------------------------------------------------------------------------------------------
# 2. requantizer latency and throughput at every shift


def sweep_jobs(sims: _Sims, sim: str, roundings, beats_per_shift: int) -> list[dict]:
    return [sims.job(sim, "requant", {"rounding": rounding, "latency": latency},
                     "quantrtl.tb.tests.bench_throughput",
                     f"shifts-{sim}-{rounding}-latency{latency}",
                     {"QUANTRTL_BENCH_BEATS_PER_SHIFT": beats_per_shift})
            for rounding in roundings for latency in LATENCIES]


def sweep_entry(sim: str, fig: dict) -> dict:
    shifts = fig["shifts"]
    lat = [s["latency_min"] for s in shifts] + [s["latency_max"] for s in shifts]
    thr = [s["throughput"] for s in shifts]
    return {
        "simulator": sim, "block": "requant", "params": fig["params"],
        "latency_param": fig["latency_param"],
        "beats_per_shift": fig["beats_per_shift"],
        "results_checked": fig["results"],
        "shift_count": len(shifts),
        "latency_min": min(lat), "latency_max": max(lat),
        "throughput_min": min(thr), "throughput_max": max(thr),
        "overall_throughput": fig["overall_throughput"],
        "latency_equals_param_at_every_shift": min(lat) == max(lat) == fig["latency_param"],
        "one_per_clock_at_every_shift": all(t == 1.0 for t in thr),
        "shifts": shifts, "seed": fig["seed"], "log": fig["log"],
    }


def _job_done(job: dict, fig: dict) -> None:
    if job["module"] == "quantrtl.tb.tests.bench_throughput":
        e = sweep_entry(job["sim"], fig)
        progress(f"{job['sim']} requant {_params_text(job['params'])}: latency "
                 f"{e['latency_min']}..{e['latency_max']} cycles, "
                 f"{e['throughput_min']:.3f}..{e['throughput_max']:.3f} results/clock over "
                 f"{e['shift_count']} shifts ({fig['wall_seconds_with_build']:.1f} s with "
                 "build)")
    else:
        progress(f"{job['sim']} {job['block']}: built "
                 f"({fig['wall_seconds_with_build']:.1f} s)")


# ---------------------------------------------------------------------------------------------
# 3. golden model speed


def golden_data(n: int, seed: int):
    """Random int32 accumulators of every magnitude, per-element multipliers and shifts over
    the whole contract; scalars zero point and int8 clamp."""
    from quantrtl.golden.requant import MULTIPLIER_MAX, MULTIPLIER_MIN, SHIFT_MAX, SHIFT_MIN

    rng = np.random.default_rng(seed)
    acc = rng.integers(-(1 << 31), (1 << 31) - 1, size=n, endpoint=True) >> rng.integers(
        0, 32, size=n)
    multiplier = rng.integers(MULTIPLIER_MIN, MULTIPLIER_MAX, size=n, endpoint=True)
    multiplier[rng.random(n) < 0.01] = 0
    shift = rng.integers(SHIFT_MIN, SHIFT_MAX, size=n, endpoint=True)
    return acc, multiplier, shift, {"zero_point": -3, "qmin": -128, "qmax": 127}


def bench_golden(sizes: dict, seed: int) -> list[dict]:
    from quantrtl.golden.requant import requantize
    from quantrtl.golden.scalar import requantize_loop

    n_vec, n_loop = sizes["golden_vector_elements"], sizes["golden_loop_elements"]
    acc, multiplier, shift, scalars = golden_data(max(n_vec, n_loop), seed)
    # The loop gets Python ints (converted outside the timing): its best case.
    loop_args = (acc[:n_loop].tolist(), multiplier[:n_loop].tolist(), shift[:n_loop].tolist())
    results = []
    for rounding in ROUNDINGS:
        progress(f"golden requantize, rounding={rounding}: NumPy on {n_vec:,} elements "
                 f"(best of {sizes['golden_vector_repeats']}), plain-Python loop on "
                 f"{n_loop:,} (best of {sizes['golden_loop_repeats']}) ...")
        t_vec, y_vec = best_time(
            lambda: requantize(acc[:n_vec], multiplier[:n_vec], shift[:n_vec],
                               rounding=rounding, **scalars), sizes["golden_vector_repeats"])
        t_loop, y_loop = best_time(
            lambda: requantize_loop(*loop_args, scalars["zero_point"], scalars["qmin"],
                                    scalars["qmax"], rounding), sizes["golden_loop_repeats"])
        # Correctness, not timing: both models on the same data must agree exactly.
        y_same = requantize(acc[:n_loop], multiplier[:n_loop], shift[:n_loop],
                            rounding=rounding, **scalars)
        differ = np.flatnonzero(np.asarray(y_loop, dtype=np.int64) != y_same)
        if len(y_loop) != n_loop or differ.size:
            k = int(differ[0]) if differ.size else -1
            raise BenchFailure(
                f"golden models disagree (rounding={rounding}): {differ.size} of {n_loop} "
                f"elements differ; first at {k}: acc={acc[k]} multiplier={multiplier[k]} "
                f"shift={shift[k]}: requantize {y_same[k]}, requantize_loop {y_loop[k]}")
        if n_vec >= n_loop and not np.array_equal(y_vec[:n_loop], y_same):
            raise BenchFailure(f"requantize is not deterministic (rounding={rounding})")
        entry = {
            "rounding": rounding,
            "vectorised": {"function": "golden.requant.requantize", "elements": n_vec,
                           "repeats": sizes["golden_vector_repeats"], "best_seconds": t_vec,
                           "elements_per_second": n_vec / t_vec},
            "loop": {"function": "golden.scalar.requantize_loop", "elements": n_loop,
                     "repeats": sizes["golden_loop_repeats"], "best_seconds": t_loop,
                     "elements_per_second": n_loop / t_loop},
            "compared_elements": n_loop,
            "identical": True,
        }
        entry["speedup"] = (entry["vectorised"]["elements_per_second"]
                            / entry["loop"]["elements_per_second"])
        progress(f"golden rounding={rounding}: NumPy "
                 f"{entry['vectorised']['elements_per_second']:,.0f} elements/s, loop "
                 f"{entry['loop']['elements_per_second']:,.0f} elements/s: "
                 f"{entry['speedup']:.1f}x; identical on {n_loop:,} elements")
        results.append(entry)
    return results


# ---------------------------------------------------------------------------------------------
# report


def format_summary(report: dict, per_shift: bool = False) -> str:
    out = [f"quantrtl {report['quantrtl']} bench{' (--quick)' if report['quick'] else ''}: "
           f"seed {report['seed']}, {report['host']['cpus']} CPUs, "
           f"{report['elapsed_seconds']:.0f} s"]
    for skip in report["skipped"]:
        out.append(f"  skipped {skip['simulator']}: {skip['reason']}")

    speed = report["vectors_per_second"]
    out += ["", "1. Checked vectors per second through cocotb (every output compared with the "
            "golden model;", "   input every cycle, output always ready; build and start-up "
            "excluded)"]
    if speed:
        rows = []
        for e in speed:
            unit = (f"dot product (K={e['dot_length']})" if e["block"] == "mac"
                    else "requantized value")
            macs = f"{e['macs_per_second']:,.0f}" if "macs_per_second" in e else "-"
            rows.append([e["simulator"], e["block"], unit, f"{e['outputs_checked']:,}",
                         f"{e['seconds']:.3f}", f"{e['vectors_per_second']:,.0f}", macs,
                         f"{e['cycles_per_second']:,.0f}"])
        out += table(["simulator", "block", "output", "checked", "seconds", "outputs/s",
                      "MACs/s", "clocks/s"], rows, right={3, 4, 5, 6, 7})
    else:
        out.append("  (no simulator available)")

    sweep = report["requant_shift_sweep"]
    beats = report["sizes"]["beats_per_shift"]
    out += ["", f"2. Requantizer latency and throughput at every shift -31..30 ({beats} beats "
            "per shift,", "   an input beat offered every cycle, output always ready)"]
    if sweep:
        rows = []
        for e in sweep:
            rows.append([e["simulator"], e["params"]["rounding"], e["latency_param"],
                         e["shift_count"],
                         f"{e['latency_min']}..{e['latency_max']}",
                         f"{e['throughput_min']:.3f}..{e['throughput_max']:.3f}",
                         "yes" if e["latency_equals_param_at_every_shift"] else "NO",
                         "yes" if e["one_per_clock_at_every_shift"] else "NO"])
        out += table(["simulator", "rounding", "latency param", "shifts", "latency (clk)",
                      "results/clock", "latency = param", "1.0/clock at all"], rows,
                     right={2, 3})
        if per_shift:
            out += ["", "   per shift: latency (cycles) / results per clock"]
            out += _per_shift_table(sweep)
    else:
        out.append("  (no simulator available)")

    out += ["", "3. Golden requantize: vectorised NumPy vs plain-Python loop "
            "(same data, identical results)"]
    rows = []
    for e in report["golden_speed"]:
        v, lp = e["vectorised"], e["loop"]
        rows.append([e["rounding"], f"{v['elements']:,}", f"{v['elements_per_second']:,.0f}",
                     f"{lp['elements']:,}", f"{lp['elements_per_second']:,.0f}",
                     f"{e['speedup']:.1f}x", "yes" if e["identical"] else "NO"])
    out += table(["rounding", "NumPy elements", "NumPy elements/s", "loop elements",
                  "loop elements/s", "speed-up", "identical"], rows, right={1, 2, 3, 4, 5})
    return "\n".join(out)


def _per_shift_table(sweep: list[dict]) -> list[str]:
    labels = [f"{e['simulator'][:4]} {e['params']['rounding'][:3]} L{e['latency_param']}"
              for e in sweep]
    rows = []
    for k, s in enumerate(sweep[0]["shifts"]):
        cells = []
        for e in sweep:
            f = e["shifts"][k]
            span = ("" if f["latency_min"] == f["latency_max"] else f"..{f['latency_max']}")
            cells.append(f"{f['latency_min']}{span} / {f['throughput']:.3f}")
        rows.append([s["shift"], *cells])
    return table(["shift"] + labels, rows, right=set(range(len(labels) + 1)))


def headline(report: dict) -> str:
    """One line for the run table."""
    parts = []
    speed = report["vectors_per_second"]
    if speed:  # the first simulator's (the tables above have them all)
        sim = speed[0]["simulator"]
        parts.append(f"{sim} " + ", ".join(f"{e['block']} {e['vectors_per_second']:,.0f}/s"
                                           for e in speed if e["simulator"] == sim))
    sweep = report["requant_shift_sweep"]
    if sweep:
        ok = all(e["one_per_clock_at_every_shift"] and e["latency_equals_param_at_every_shift"]
                 for e in sweep)
        parts.append(f"shifts 1/clk: {'yes' if ok else 'NO'}")
    if report["golden_speed"]:
        parts.append("golden " + "/".join(f"{e['speedup']:.0f}x"
                                          for e in report["golden_speed"]))
    return "; ".join(parts)


def csv_rows(report: dict) -> list[list]:
    """Tidy rows: section, simulator, block, params, shift, metric, value, unit."""
    rows = []
    for e in report["vectors_per_second"]:
        base = ["vectors_per_second", e["simulator"], e["block"], _params_text(e["params"]), ""]
        rows.append(base + ["outputs_checked", e["outputs_checked"], "outputs"])
        rows.append(base + ["seconds", e["seconds"], "s"])
        rows.append(base + ["vectors_per_second", e["vectors_per_second"], "outputs/s"])
        rows.append(base + ["cycles_per_second", e["cycles_per_second"], "clocks/s"])
        if "macs_per_second" in e:
            rows.append(base + ["dot_products_per_second", e["dot_products_per_second"],
                                f"dot products of {e['dot_length']}/s"])
            rows.append(base + ["macs_per_second", e["macs_per_second"], "MACs/s"])
    for e in report["requant_shift_sweep"]:
        params = _params_text(e["params"])
        for s in e["shifts"]:
            base = ["requant_shift_sweep", e["simulator"], "requant", params, s["shift"]]
            rows.append(base + ["latency_min", s["latency_min"], "cycles"])
            rows.append(base + ["latency_max", s["latency_max"], "cycles"])
            rows.append(base + ["throughput", s["throughput"], "results/clock"])
    for e in report["golden_speed"]:
        base = ["golden_speed", "", "requant", f"rounding={e['rounding']}", ""]
        rows.append(base + ["numpy_elements_per_second",
                            e["vectorised"]["elements_per_second"], "elements/s"])
        rows.append(base + ["loop_elements_per_second", e["loop"]["elements_per_second"],
                            "elements/s"])
        rows.append(base + ["speedup", e["speedup"], "x"])
    return rows


# ---------------------------------------------------------------------------------------------
# the run


def _simulators(simulators, no_sim: bool, report: dict) -> list[str]:
    """The simulators to use; the others are recorded in the report with the reason."""
    from quantrtl.tb.runner import simulator_status

    available = []
    for sim in simulators:
        ok, reason = (False, "--no-sim") if no_sim else simulator_status(sim)
        report["simulators"][sim] = {"available": ok, "reason": reason}
        if ok:
            available.append(sim)
        else:
            report["skipped"].append({"simulator": sim, "reason": reason})
            progress(f"skipping {sim}: {reason}")
    return available


def run_bench(out_dir: Path, *, quick: bool = False, simulators=("verilator", "icarus"),
              roundings=None, seed: int = 1, build_root: Path | None = None,
              verbose: bool = False, jobs: int | None = None, no_sim: bool = False,
              prov: dict | None = None) -> dict:
    """Run all three parts, write ``bench.json`` and ``bench.csv``; returns the report.

    Order: (a) the RTL builds and the shift sweeps, on ``jobs`` processes (default: one per
    CPU; their figures are clock cycles, not wall time); (b) the timed vectors/s runs, one at
    a time with nothing else of the bench running; (c) the golden-model timings.
    ``no_sim`` skips (a) and (b).  ``prov`` is the run's provenance (made here if ``None``).
    """
    from quantrtl import __version__

    started = time.perf_counter()
    out_dir = Path(out_dir).resolve()  # the simulators run in their build directories
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = choose_sizes(SIZES, quick)
    if roundings is None:
        roundings = ("single",) if quick else ROUNDINGS
    if os.environ.get("WAVES", "0") not in ("", "0"):
        progress(f"ignoring WAVES={os.environ['WAVES']}: traced builds would distort the "
                 "figures")
        os.environ["WAVES"] = "0"
    if jobs is None:
        jobs = 1 if verbose else (os.cpu_count() or 1)
    sims = _Sims(out_dir, seed=seed, build_root=build_root, verbose=verbose, jobs=jobs)
    if prov is None:
        prov = provenance(seed=seed, quick=quick, command="quantrtl.bench.speed.run_bench",
                          suites=[NAME])

    report = {
        "quantrtl": __version__, "created": prov["date"],
        "quick": quick, "seed": seed, "jobs": sims.jobs, "sizes": sizes,
        "roundings_swept": list(roundings),
        "host": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "tools": prov["versions"],
        "simulators": {}, "skipped": [],
        "vectors_per_second": [], "requant_shift_sweep": [], "golden_speed": [],
    }
    available = _simulators(simulators, no_sim, report)
    progress(f"simulators: {', '.join(available) or 'none'}; output {out_dir}"
             f"{' (--quick)' if quick else ''}")

    # (a) builds and shift sweeps, in parallel; Verilator's slow builds first.
    sweeps, builds = [], []
    for sim in available:
        sweeps += sweep_jobs(sims, sim, roundings, sizes["beats_per_shift"])
    taken = {_build_key(j) for j in sweeps}
    for sim in available:
        builds += build_jobs(sims, sim, taken)
    first = [j for j in builds + sweeps if j["sim"] == "verilator"]
    phase_a = first + [j for j in builds + sweeps if j["sim"] != "verilator"]
    if phase_a:
        progress(f"{len(phase_a)} RTL builds, {len(sweeps)} of them with the requantizer's "
                 f"shift sweep ({'/'.join(roundings)} rounding x latency "
                 f"{'/'.join(map(str, LATENCIES))} x {'/'.join(available)}, "
                 f"{sizes['beats_per_shift']} beats per shift -31..30), on {sims.jobs} "
                 f"process{'es' if sims.jobs > 1 else ''} ...")
    figures = dict(zip((j["name"] for j in phase_a), sims.run_parallel(phase_a, _job_done)))
    report["requant_shift_sweep"] = [sweep_entry(j["sim"], figures[j["name"]])
                                     for j in sweeps]
    # (b) the timed runs, one at a time.
    for sim in available:
        report["vectors_per_second"] += bench_vectors_per_second(sims, sim, sizes)
    # (c) the golden model.
    report["golden_speed"] = bench_golden(sizes, seed)

    report["elapsed_seconds"] = time.perf_counter() - started
    json_path, csv_path = out_dir / "bench.json", out_dir / "bench.csv"
    report["files"] = {"json": str(json_path), "csv": str(csv_path)}
    write_figures(out_dir, "bench", report, CSV_HEADER, csv_rows(report), prov)
    return report


# ---------------------------------------------------------------------------------------------
# the suite's options


def add_arguments(group) -> None:
    from quantrtl.tb.runner import SIMULATORS

    group.add_argument("--sims", nargs="+", choices=SIMULATORS, default=list(SIMULATORS),
                       metavar="SIM", help="simulators to use, of {%(choices)s} "
                       "(default: all; an unavailable one is skipped with its reason)")
    group.add_argument("--roundings", nargs="+", choices=ROUNDINGS, default=None,
                       metavar="MODE", help="rounding modes of the shift sweep, of "
                       "{%(choices)s} (default: both; with --quick: single)")
    group.add_argument("-j", "--jobs", type=int, default=None,
                       help="processes for the builds and shift sweeps (default: one per "
                            "CPU; the timed vectors/s runs always run alone)")
    group.add_argument("--build-root", type=Path, default=None,
                       help="where the simulators' builds are cached, for this suite and "
                            "verification (default build/sim)")
    group.add_argument("--per-shift", action="store_true",
                       help="also print the per-shift latency/throughput table")


def check(options) -> None:
    """Bad values are a ``ValueError`` before any work; repeated names count once."""
    options.sims = list(dict.fromkeys(options.sims))
    if options.roundings is not None:
        options.roundings = list(dict.fromkeys(options.roundings))
    if options.jobs is not None:
        check_int("--jobs", options.jobs, 1, 4096)
    if options.build_root is not None:
        check_writable_dir(options.build_root)


def run(ctx: Context) -> SuiteResult:
    o = ctx.options
    report = run_bench(ctx.out_dir, quick=ctx.quick, simulators=o.sims, roundings=o.roundings,
                       seed=ctx.seed, build_root=o.build_root, verbose=ctx.verbose,
                       jobs=o.jobs, no_sim=ctx.no_sim, prov=ctx.provenance)
    files = [Path(report["files"]["json"]), Path(report["files"]["csv"])]
    return SuiteResult(NAME, files, headline(report),
                       format_summary(report, per_shift=o.per_shift), report=report)
