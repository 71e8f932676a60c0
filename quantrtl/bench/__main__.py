"""``python -m quantrtl.bench`` (``quantrtl bench``, ``make bench``): run the bench suites in
one process, with progress lines, each suite's tables, and a summary table at the end.

``python -m quantrtl.bench -o build/bench [--suite speed,dnateq,huffman] [--quick]
[--seed 1] [--no-sim] [-v]`` plus each suite's own options (``--help``).  Exit status 0 when
every figure could be trusted, 1 when a suite failed (a simulated output differs from the
golden model, two golden models disagree, a simulation crashed; the other suites still
run), 2 for bad options (one line on stderr, before any work), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import textwrap
import time
from pathlib import Path

from quantrtl.spec import check_int, check_writable_dir

from . import dnateq, huffman, speed, verification
from .common import (RUN_CSV_HEADER, BenchFailure, Context, OneLineParser, Progress,
                     SuiteResult, provenance, run_rows, run_table, write_csv, write_json)

__all__ = ["main", "SUITES", "build_parser"]

SUITES = {suite.NAME: suite for suite in (speed, dnateq, huffman, verification)}
SEED_MAX = (1 << 32) - 1
PROG = "python -m quantrtl.bench"


def listing_of(suites: dict) -> str:
    """The suites, one paragraph each: name and description."""
    return "\n".join(textwrap.fill(s.DESCRIPTION, 88, initial_indent=f"  {name:<13}",
                                   subsequent_indent=" " * 15) for name, s in suites.items())


def build_parser(prog: str = PROG, suites: dict = SUITES) -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Measure quantrtl's figures; report them, never assert timing.  "
                    "Suites:\n" + listing_of(suites),
        epilog="Exit status 1 if a suite failed (an output differs from the golden model,\n"
               "the golden models disagree, a simulation crashed), 2 for bad options.")
    run = parser.add_argument_group("the run")
    run.add_argument("-o", "--output", default="build/bench",
                     help="directory for the figures (<suite>.json/.csv, run.json, run.csv), "
                          "logs/ and raw/ (default %(default)s)")
    run.add_argument("--suite", default=",".join(suites), metavar="NAMES",
                     help="comma-separated suites to run, in that order, of "
                          f"{{{','.join(suites)}}} or 'all' (default: all)")
    run.add_argument("--quick", action="store_true",
                     help="small sizes, a smoke run (each suite says what it cuts)")
    run.add_argument("--seed", type=int, default=1,
                     help="seed of the random vectors and samples (default %(default)s)")
    run.add_argument("--no-sim", action="store_true",
                     help="skip the HDL simulations (the golden-model and model parts run)")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="show the simulators' output instead of logging it to "
                          "<output>/logs/")
    run.add_argument("--list", action="store_true", help="list the suites and exit")
    for name, suite in suites.items():
        suite.add_arguments(parser.add_argument_group(f"suite {name}"))
    return parser


def parse_suites(text: str, suites: dict) -> list[str]:
    """``"speed,huffman"`` -> ``["speed", "huffman"]`` (``all``: every suite; a name given
    twice runs once); an unknown or empty name is a ``ValueError``."""
    names = [n.strip() for n in text.split(",")]
    if names == ["all"]:
        return list(suites)
    for n in names:
        if n not in suites:
            raise ValueError(f"--suite={text!r}: {n!r} is not a suite: allowed "
                             f"{{{', '.join(suites)}}} or all")
    return list(dict.fromkeys(names))


def _checked(args, suites: dict) -> tuple[list[str], Path]:
    names = parse_suites(args.suite, suites)
    check_int("--seed", args.seed, 0, SEED_MAX)
    out_dir = check_writable_dir(Path(args.output))
    for name in names:
        suites[name].check(args)
    return names, out_dir.resolve()


def _run_suite(suite, ctx: Context, tell: Progress) -> SuiteResult:
    t0 = time.perf_counter()
    try:
        result = suite.run(ctx)
    except BenchFailure as exc:
        print(f"[bench] {suite.NAME} FAILED: {exc}", file=sys.stderr, flush=True)
        result = SuiteResult(suite.NAME, [], "", "", ok=False,
                             error=str(exc).splitlines()[0])
    result.seconds = time.perf_counter() - t0
    tell(f"{suite.NAME}: {result.status} in {result.seconds:.1f} s")
    return result


def _finish(results: list[SuiteResult], suites: dict, prov: dict, out_dir: Path,
            elapsed: float) -> None:
    """Each suite's tables, then the run table; ``run.json`` and ``run.csv``."""
    for r in results:
        if r.summary:
            print(f"\n== {r.name} ==\n")
            print(r.summary)
    json_path, csv_path = out_dir / "run.json", out_dir / "run.csv"
    write_json(json_path, {
        "elapsed_seconds": elapsed,
        "suites": [{"suite": r.name, "status": r.status, "ok": r.ok, "seconds": r.seconds,
                    "figures": r.headline, "error": r.error,
                    "files": [str(f) for f in r.files]} for r in results]}, prov)
    write_csv(csv_path, RUN_CSV_HEADER, run_rows(results, prov, out_dir))
    commit = (prov["commit"] or "no git checkout")[:12]
    dirty = " (with uncommitted changes)" if prov["dirty"] else ""
    print(f"\n== bench summary: {len(results)} suite{'s' if len(results) != 1 else ''} in "
          f"{elapsed:.0f} s{' (--quick)' if prov['quick'] else ''}, seed {prov['seed']}, "
          f"commit {commit}{dirty}; figures in {out_dir}/ ==\n")
    print(run_table(results, out_dir))
    print("\n(run.json, run.csv: this table with the provenance)", flush=True)


def main(argv=None, prog: str = PROG, suites: dict | None = None) -> int:
    """Run the chosen suites; returns the exit status (see the module's docstring)."""
    suites = SUITES if suites is None else suites
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(prog, suites)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:        # --help, or a one-line argparse error
        return exc.code if isinstance(exc.code, int) else 2
    if args.list:
        print(listing_of(suites))
        return 0
    try:
        names, out_dir = _checked(args, suites)
    except ValueError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2

    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    prov = provenance(seed=args.seed, quick=args.quick, suites=names,
                      command=f"{prog} {shlex.join(argv)}".strip())
    tell = Progress("run")
    tell(f"{len(names)} suite{'s' if len(names) != 1 else ''} ({', '.join(names)}), output "
         f"{out_dir}, seed {args.seed}{', --quick' if args.quick else ''}"
         f"{', --no-sim' if args.no_sim else ''}; commit {(prov['commit'] or '?')[:12]}")
    results = []
    try:
        for k, name in enumerate(names, 1):
            tell(f"suite {k}/{len(names)}: {name} ...")
            ctx = Context(out_dir, quick=args.quick, seed=args.seed, verbose=args.verbose,
                          no_sim=args.no_sim, provenance=prov, options=args)
            results.append(_run_suite(suites[name], ctx, tell))
    except KeyboardInterrupt:
        print(f"\n[bench] interrupted after {len(results)} of {len(names)} suites",
              file=sys.stderr, flush=True)
        return 130
    _finish(results, suites, prov, out_dir, time.perf_counter() - started)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
