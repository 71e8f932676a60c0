"""``python -m quantrtl.formal`` (``make formal``): the SymbiYosys proofs of
:mod:`quantrtl.tb.proofs` run by :mod:`quantrtl.tb.formal`, in parallel, with a summary
table and ``formal.json``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from .spec import check_writable_dir
from .tb.formal import run_proof, sby_available, summary
from .tb.proofs import PROOFS

__all__ = ["main"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quantrtl.formal",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", default="build/formal")
    parser.add_argument("--only", default=None,
                        help="run the proofs whose name contains this text")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--list", action="store_true", help="list the proofs and exit")
    args = parser.parse_args(argv)
    proofs = [p for p in PROOFS if args.only is None or args.only in p.name]
    if args.list:
        for p in PROOFS:
            print(f"{p.name:32} {p.mode:5} depth {p.depth:3}  {p.claim}")
        return 0
    try:
        if not proofs:
            raise ValueError(f"--only={args.only!r} matches no proof (see --list)")
        if args.jobs < 1:
            raise ValueError(f"--jobs={args.jobs} is out of range: allowed at least 1")
        out = check_writable_dir(args.output)
        ok, reason = sby_available()
        if not ok:
            raise ValueError(reason)
    except ValueError as exc:
        print(f"quantrtl.formal: error: {exc}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results = []

    def one(proof):
        result = run_proof(proof, out)
        results.append(result)
        print(f"[formal {len(results)}/{len(proofs)} {time.perf_counter() - t0:6.1f}s] "
              f"{proof.name:32} {result['status'].upper():7} {result['seconds']:6.1f}s",
              flush=True)
        return result

    # The solver-heavy proofs (boolector: arithmetic) first, so that the rest fill in.
    ordered = sorted(proofs, key=lambda p: ("boolector" not in p.engine, -p.depth))
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, ordered))
    order = {p.name: k for k, p in enumerate(proofs)}
    results.sort(key=lambda r: order[r["name"]])
    (out / "formal.json").write_text(json.dumps(
        {"seconds": time.perf_counter() - t0, "results": results}, indent=2) + "\n")
    print(summary(results))
    failed = [r for r in results if r["status"] != "pass"]
    for r in failed:
        print(f"\n{r['name']}: {r['status']} (log {r['log']}, trace {r['trace']})\n"
              f"{r.get('detail', '')}")
    print(f"\n{len(results) - len(failed)} of {len(results)} proofs pass in "
          f"{time.perf_counter() - t0:.0f} s; results in {out / 'formal.json'}")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
