"""``python -m synth``: synthesis, timing and energy reports of quantrtl's blocks.

    python -m synth                          # default set + headline -> build/reports/
    python -m synth --sweep mac:lanes=1,2,4,8 --sweep requant:latency=1,2,3
    python -m synth --config sweep.json      # designs/sweeps/lengths from a JSON file
    python -m synth --block mac --param lanes=4 --no-energy   # one design
    python -m synth --list                   # what the default set contains

Designs run in parallel (``--jobs``, default: the machine's cores); every design's
results are cached under ``build/synth/`` (``--fresh`` recomputes).  The summary table is
printed at the end; JSON, CSV, Markdown and PNG go to ``--out``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from .config import (DNATEQ_BITS, HEADLINE_LANES, HEADLINE_LENGTHS, default_designs,
                     estimated_cost, headline_designs, headline_members, load_config,
                     parse_sweep)
from .flow import DEFAULT_ROOT, Design, assumptions, run_point, sanity_reference


def _parse_params(items):
    from .config import _value
    params = {}
    for item in items or ():
        name, eq, value = item.partition("=")
        if not eq:
            raise SystemExit(f"--param {item!r}: expected NAME=VALUE")
        params[name] = _value(value)
    return params


def _lengths_for(design, head_labels, lengths):
    return tuple(lengths) if design.label in head_labels else (64,)


def run_all(designs, *, jobs, energy, lengths, head_labels, fresh, root, ice40="auto",
            progress=print):
    results = [None] * len(designs)
    start = time.monotonic()
    if jobs <= 1 or len(designs) == 1:
        for k, d in enumerate(designs):
            results[k] = run_point(d, energy=energy, lengths=_lengths_for(d, head_labels, lengths),
                                   fresh=fresh, root=root, ice40=ice40)
            _progress(progress, k, len(designs), results[k], start)
        return results
    # Longest first (an estimate), so that the workers finish together.
    order = sorted(range(len(designs)), key=lambda k: estimated_cost(designs[k]), reverse=True)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run_point, designs[k], energy=energy,
                               lengths=_lengths_for(designs[k], head_labels, lengths),
                               fresh=fresh, root=root, ice40=ice40): k for k in order}
        for done, fut in enumerate(as_completed(futures)):
            k = futures[fut]
            results[k] = fut.result()
            _progress(progress, done, len(designs), results[k], start)
    return results


def _progress(progress, k, total, r, start):
    label = r["design"]["label"]
    if "error" in r:
        status = "ERROR " + r["error"].splitlines()[0][:160]
    else:
        s = r["synth"]
        status = (f"{s['osu018']['area_um2']:>10,.0f} um^2  {s['timing']['fmax_mhz']:7.1f} MHz"
                  f"{'  (cached)' if s.get('cached') else ''}")
        for n, e in (r.get("energy") or {}).items():
            status += f"  N={n}: {e['pj_per_op']:.2f} pJ/{e['workload']['op']}"
    progress(f"[synth {k + 1}/{total} {time.monotonic() - start:6.1f}s] {label:<28} {status}",
             flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m synth", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--out", type=Path, default=Path("build") / "reports")
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="work directories")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--sweep", action="append", default=[],
                    help="BLOCK:param=v1,v2[;param=...] (repeatable; 'helper:mul=4,8')")
    ap.add_argument("--config", type=Path, help="JSON: designs, sweeps, lengths")
    ap.add_argument("--block", help="run only this block (with --param)")
    ap.add_argument("--param", action="append", help="NAME=VALUE for --block")
    ap.add_argument("--lengths", default=",".join(map(str, HEADLINE_LENGTHS)),
                    help="dot-product lengths N of the headline comparison")
    ap.add_argument("--bits", default=",".join(map(str, DNATEQ_BITS)),
                    help="DNA-TEQ code widths n of the headline comparison")
    ap.add_argument("--lanes", default=",".join(map(str, HEADLINE_LANES)),
                    help="lane counts of the headline comparison (INT8 MAC lanes; DNA-TEQ "
                         "gets the same pairs per clock)")
    ap.add_argument("--no-energy", action="store_true", help="skip gate-level simulations")
    ap.add_argument("--no-default", action="store_true",
                    help="with --sweep/--config: run only those, not the default set")
    ap.add_argument("--fresh", action="store_true", help="ignore cached results")
    ap.add_argument("--ice40", choices=("auto", "always", "never"), default="auto",
                    help="iCE40 mapping: auto skips designs with more flip-flops than the "
                         "largest iCE40 (HX8K) has logic cells")
    ap.add_argument("--list", action="store_true", help="list the default designs and exit")
    args = ap.parse_args(argv)
    try:
        lengths = tuple(int(x) for x in args.lengths.split(",") if x)
        bits = tuple(int(x) for x in args.bits.split(",") if x)
        lanes = tuple(int(x) for x in args.lanes.split(",") if x)
    except ValueError:
        print("python -m synth: --lengths, --bits and --lanes take comma-separated integers",
              file=sys.stderr)
        return 2
    if not lengths or not bits or not lanes:
        print("python -m synth: --lengths, --bits and --lanes need at least one value",
              file=sys.stderr)
        return 2

    try:
        head = headline_designs(lanes, bits, min(lengths))
        if args.block:
            designs, head = [Design.block(args.block, _parse_params(args.param))], None
        elif args.no_default:
            designs, head = [], None
        else:
            designs = default_designs(lanes, bits, min(lengths))
        sweep = [d for s in args.sweep for d in parse_sweep(s)]
        if args.config:
            cfg = load_config(args.config)
            designs += [d for d in cfg["designs"] if d not in designs]
            sweep += cfg["sweeps"]
            lengths = cfg["lengths"]
    except ValueError as exc:
        print(f"python -m synth: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for d in designs + sweep:
            print(d.label, d.param_dict)
        return 0
    head_labels = set()
    if head:   # the dot-product engines are measured at every length
        head_labels = {d.label for d in headline_members(head) if d.name in ("mac", "dnateq")}
    sweep = [d for d in dict.fromkeys(sweep) if d not in designs]
    start = time.monotonic()
    all_results = run_all(designs + sweep, jobs=max(1, args.jobs), energy=not args.no_energy,
                          lengths=lengths, head_labels=head_labels, fresh=args.fresh,
                          root=args.root, ice40=args.ice40)
    seconds = round(time.monotonic() - start, 1)
    results, sweep_results = all_results[:len(designs)], all_results[len(designs):]

    from .plots import make_plots
    from .report import design_row, headline_rows, markdown_table, write_reports
    rows = [design_row(r) for r in results]
    head_rows = headline_rows(results, head, lengths) if head else []
    plots = make_plots(args.out if args.out.mkdir(parents=True, exist_ok=True) is None
                       else args.out, rows, head_rows, [design_row(r) for r in sweep_results])
    cached = sum(1 for r in all_results if (r.get("synth") or {}).get("cached"))
    meta = {"designs": len(designs) + len(sweep), "jobs": args.jobs, "seconds": seconds,
            "cached": cached, "lengths": list(lengths), "energy": not args.no_energy}
    doc = write_reports(args.out, results, head=head, lengths=lengths, sweep=sweep_results,
                        assumptions=assumptions(), sanity=sanity_reference(), meta=meta,
                        plots=plots)
    print()
    print(markdown_table(doc["designs"] + doc["sweep"], [
        "design", "transistors", "area_um2", "seq_share", "fmax_mhz", "ice40_lut4",
        "ice40_carry", "ice40_ff", "op", "pj_per_op"]))
    if doc["headline"]:
        print()
        print(markdown_table(doc["headline"], ["datapath", "lanes", "n", "area_um2", "energy_pj",
                                               "cycles", "edp_pj_ns", "energy_saving",
                                               "memory_saving", "error"]))
    if doc["sanity"]:
        print()
        print(markdown_table(doc["sanity"], ["operation", "measured_pj", "horowitz_scaled_pj",
                                             "ratio"]))
    print(f"\n[synth] {meta['designs']} designs ({cached} synthesized before, from the cache) "
          f"in {seconds} s on {args.jobs} jobs; reports in "
          f"{args.out}/ (synth.md, synth.json, synth.csv{', headline.csv' if head_rows else ''}"
          f"{', sweep.csv' if sweep_results else ''}{', PNG plots' if plots else ''})")
    failed = [r for r in all_results if "error" in r]
    for r in failed:
        print(f"[synth] ERROR {r['design']['label']}: {r['error']}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
