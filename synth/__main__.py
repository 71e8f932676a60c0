"""``python -m quantrtl.synth``: synthesis, timing and energy reports of quantrtl's blocks.

    python -m quantrtl.synth                          # the default set -> build/reports/
    python -m quantrtl.synth --sweep mac:lanes=1,2,4,8 --sweep requant:latency=1,2,3
    python -m quantrtl.synth --config sweep.json      # designs/sweeps/lengths from a JSON file
    python -m quantrtl.synth --block mac --param lanes=4 --no-energy   # one design
    python -m quantrtl.synth --no-default --sweep "requant:split=off,on;booth=off,on"
    python -m quantrtl.synth --list                   # what the default set contains

Designs run in parallel (``--jobs``, default: the machine's cores) in local processes, or
as tasks on a Dask cluster (``--executor dask [--scheduler ADDRESS]``: docs/cluster.md);
every design's results are cached under ``--root`` (``$QUANTRTL_SYNTH_ROOT``, else
``build/synth/``; ``--fresh`` recomputes), which may be a folder the workers share.  Every
design's energy is measured under the three gating models (``none``, ``icg``, ``ideal``:
:mod:`synth.energy`).  Progress is a bar on a terminal, one line per design elsewhere.
The summary table is printed at the end; JSON, CSV, Markdown and PNG go to ``--out``.  The
INT8 vs DNA-TEQ comparison is ``python -m quantrtl.headline``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import as_completed
from pathlib import Path

from quantrtl.spec import check_writable_dir

from .config import DEFAULT_LENGTHS, default_designs, estimated_cost, load_config, parse_sweep
from .executors import (DEFAULT_TIMEOUT, ExecutorError, add_executor_options,
                        check_executor_options, open_executor)
from .flow import DEFAULT_ROOT, Design, assumptions, run_point, sanity_reference
from .progress import Progress

ROOT_VARIABLE = "QUANTRTL_SYNTH_ROOT"      # the default --root (a shared cache folder)


def _parse_params(items, what="--param"):
    """``--param NAME=VALUE`` items as text, parsed by the block's specs in Design.block."""
    from quantrtl.blocks import parse_assignments
    return parse_assignments(items, what)


def run_all(designs, *, jobs, energy, lengths, fresh, root, ice40="auto", progress=None,
            executor="process", scheduler=None, timeout=DEFAULT_TIMEOUT):
    """Every design's :func:`run_point` result, in the order of ``designs``.  ``executor``:
    ``process``, ``dask`` or a ``concurrent.futures`` executor (:mod:`synth.executors`);
    ``progress``: a callable of one line per design (default: a bar on a terminal, else
    the lines on stdout: :class:`synth.progress.Progress`)."""
    results = [None] * len(designs)
    start = time.monotonic()
    local = executor == "process"
    if not local:                       # the workers may not share our working directory
        root = Path(root).resolve()
    kwargs = {"energy": energy, "lengths": lengths, "fresh": fresh, "root": root,
              "ice40": ice40}
    with Progress(len(designs), "synth", lines=progress) as tell:
        if local and (jobs <= 1 or len(designs) == 1):
            for k, d in enumerate(designs):
                results[k] = run_point(d, **kwargs)
                _progress(tell, k, len(designs), results[k], start)
            return results
        # Longest first (an estimate), so that the workers finish together.
        order = sorted(range(len(designs)), key=lambda k: estimated_cost(designs[k]),
                       reverse=True)
        with open_executor(executor, jobs=jobs, scheduler=scheduler, timeout=timeout) as pool:
            futures = {pool.submit(run_point, designs[k], **kwargs): k for k in order}
            for done, fut in enumerate(as_completed(futures)):
                k = futures[fut]
                results[k] = fut.result()
                _progress(tell, done, len(designs), results[k], start)
    return results


def _progress(tell, k, total, r, start):
    label = r["design"]["label"]
    if "error" in r:
        status = "ERROR " + r["error"].splitlines()[0][:160]
    else:
        s = r["synth"]
        status = (f"{s['osu018']['area_um2']:>10,.0f} um^2  {s['timing']['fmax_mhz']:7.1f} MHz"
                  f"{'  (cached)' if s.get('cached') else ''}")
        for n, runs in (r.get("energy") or {}).items():
            e, g = runs["none"], runs["icg"]
            status += (f"  N={n}: {e['pj_per_op']:.2f} / {g['pj_per_op']:.2f} / "
                       f"{g['pj_per_op_ideal']:.2f} pJ/{e['workload']['op']} "
                       f"(none/icg/ideal)")
    tell(f"[synth {k + 1}/{total} {time.monotonic() - start:6.1f}s] {label:<28} {status}",
         label=label, keep="error" in r)


def _where(args) -> str:
    if args.scheduler:
        return f"the Dask cluster at {args.scheduler}"
    return f"{args.jobs} jobs" + (" (a Dask LocalCluster)" if args.executor == "dask" else "")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m quantrtl.synth",
                                 description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--out", type=Path, default=Path("build") / "reports")
    ap.add_argument("--root", type=Path,
                    default=Path(os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT),
                    help=f"work directories and the result cache; a folder every worker sees "
                         f"for --executor dask (default: ${ROOT_VARIABLE}, else {DEFAULT_ROOT})")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--sweep", action="append", default=[],
                    help="BLOCK:param=v1,v2[;param=...] (repeatable; 'helper:mul=4,8')")
    ap.add_argument("--config", type=Path, help="JSON: designs, sweeps, lengths")
    ap.add_argument("--block", help="run only this block (with --param)")
    ap.add_argument("--param", action="append", help="NAME=VALUE for --block")
    ap.add_argument("--flow", action="append", metavar="OPTION=VALUE",
                    help="a flow option for --block (booth=on|off; sweeps take it as an "
                         "axis: 'requant:booth=off,on')")
    ap.add_argument("--lengths", default=",".join(map(str, DEFAULT_LENGTHS)),
                    help="dot-product lengths N of the dot-product blocks' energy runs")
    ap.add_argument("--no-energy", action="store_true", help="skip gate-level simulations")
    ap.add_argument("--no-default", action="store_true",
                    help="with --sweep/--config: run only those, not the default set")
    ap.add_argument("--fresh", action="store_true", help="ignore cached results")
    ap.add_argument("--ice40", choices=("auto", "always", "never"), default="auto",
                    help="iCE40 mapping: auto skips designs with more flip-flops than the "
                         "largest iCE40 (HX8K) has logic cells")
    ap.add_argument("--list", action="store_true", help="list the default designs and exit")
    add_executor_options(ap)
    args = ap.parse_args(argv)
    try:
        lengths = tuple(int(x) for x in args.lengths.split(",") if x)
    except ValueError:
        print("python -m quantrtl.synth: --lengths takes comma-separated integers", file=sys.stderr)
        return 2
    if not lengths or min(lengths) < 1:
        print("python -m quantrtl.synth: --lengths needs positive integers", file=sys.stderr)
        return 2

    try:
        if args.param and not args.block:
            raise ValueError("--param needs --block (the block whose parameter it sets)")
        if args.flow and not args.block:
            raise ValueError("--flow needs --block (the design whose flow it sets)")
        if args.jobs < 1:
            raise ValueError(f"--jobs={args.jobs} is out of range: allowed [1, ...]")
        check_executor_options(args.executor, args.scheduler, args.scheduler_timeout)
        if args.block:
            designs = [Design.block(args.block, _parse_params(args.param),
                                    _parse_params(args.flow, "--flow"))]
        elif args.no_default:
            designs = []
        else:
            designs = default_designs()
        sweep = [d for s in args.sweep for d in parse_sweep(s)]
        if args.config:
            cfg = load_config(args.config)
            designs += [d for d in cfg["designs"] if d not in designs]
            sweep += cfg["sweeps"]
            lengths = cfg["lengths"]
    except ValueError as exc:
        print(f"python -m quantrtl.synth: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for d in designs + sweep:
            print(d.label, d.param_dict)
        return 0
    try:                                # before any synthesis: the reports must land
        check_writable_dir(args.out)
        check_writable_dir(args.root)
    except ValueError as exc:
        print(f"python -m quantrtl.synth: {exc}", file=sys.stderr)
        return 2
    sweep = [d for d in dict.fromkeys(sweep) if d not in designs]
    start = time.monotonic()
    try:
        all_results = run_all(designs + sweep, jobs=max(1, args.jobs),
                              energy=not args.no_energy, lengths=lengths, fresh=args.fresh,
                              root=args.root, ice40=args.ice40, executor=args.executor,
                              scheduler=args.scheduler, timeout=args.scheduler_timeout)
    except ExecutorError as exc:
        print(f"python -m quantrtl.synth: {exc}", file=sys.stderr)
        return 2
    seconds = round(time.monotonic() - start, 1)
    results, sweep_results = all_results[:len(designs)], all_results[len(designs):]

    from .plots import make_plots
    from .report import design_row, markdown_table, write_reports
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [design_row(r) for r in results]
    plots = make_plots(args.out, rows, [design_row(r) for r in sweep_results])
    cached = sum(1 for r in all_results if (r.get("synth") or {}).get("cached"))
    meta = {"designs": len(designs) + len(sweep), "jobs": args.jobs, "seconds": seconds,
            "cached": cached, "lengths": list(lengths), "energy": not args.no_energy}
    doc = write_reports(args.out, results, sweep=sweep_results, assumptions=assumptions(),
                        sanity=sanity_reference(), meta=meta, plots=plots)
    print()
    print(markdown_table(doc["designs"] + doc["sweep"], [
        "design", "area_um2", "area_icg_um2", "fmax_mhz", "ice40_lut4", "op", "pj_per_op",
        "pj_per_op_icg", "pj_per_op_ideal"]))
    if doc["sanity"]:
        print()
        print(markdown_table(doc["sanity"], ["operation", "measured_pj", "horowitz_scaled_pj",
                                             "ratio"]))
    print(f"\n[synth] {meta['designs']} designs ({cached} synthesized before, from the cache) "
          f"in {seconds} s on {_where(args)}; reports in "
          f"{args.out}/ (synth.md, synth.json, synth.csv"
          f"{', sweep.csv' if sweep_results else ''}{', PNG plots' if plots else ''})")
    failed = [r for r in all_results if "error" in r]
    for r in failed:
        print(f"[synth] ERROR {r['design']['label']}: {r['error']}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
