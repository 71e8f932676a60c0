"""``make fuzz``: the larger fuzzing and property runs, with counts.

Run as ``python -m quantrtl.fuzz [-o build/reports] [--cases N] [--examples N]
[--sims verilator,icarus] [--seed S]``.  Two parts, each bounded in ``make test`` and large
here:

1. **Huffman decoder RTL fuzz**: the cocotb test ``quantrtl.tb.tests.test_huffman.fuzz`` on
   the three parameter sets below on each simulator, ``--cases`` random
   cases each (:mod:`tb.huffman_fuzz`: good packets, corrupt tables, corrupt streams, huge
   and zero counts, garbage beats, table reuse); every case's symbols and error kind must
   equal the reference model's, a restart must recover, the input must never stall with
   the output ready.
2. **Property tests** (``tests/test_properties.py``) under the Hypothesis ``fuzz`` profile
   (``--examples`` random examples per property instead of the 60 derandomized ones of
   ``make test``).

Progress lines while it runs, a summary table at the end; figures go to
``<output>/fuzz.json`` (with provenance: commit, date, seeds, versions).  Exit status 1 if
any case or property failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .bench import common
from quantrtl.synth.provenance import command_line

__all__ = ["main"]

HUFFMAN_PARAMS = (
    {},
    {"lanes": 2, "symbol_bits": 3, "max_length": 12, "word_width": 16},
    {"lanes": 4, "symbol_bits": 2, "max_length": 3, "word_width": 64},
)


def _progress(message):
    print(f"[fuzz] {message}", flush=True)


def provenance(seed: int) -> dict:
    """Where the figures come from (the benches' record: commit, date, host, versions,
    command, seed) and the Hypothesis version."""
    import hypothesis
    return common.provenance(seed=seed, quick=False, command=command_line()) | {
        "hypothesis": hypothesis.__version__}


def fuzz_rtl(sims, cases: int, seed: int) -> list[dict]:
    """Part 1: one cocotb run per parameter set and simulator."""
    from quantrtl.tb.runner import SimulationError, simulate
    rows = []
    rng = random.Random(seed)
    for params in HUFFMAN_PARAMS:
        for sim in sims:
            run_seed = rng.getrandbits(31)
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "fuzz.json"
                t0 = time.perf_counter()
                try:
                    simulate("huffman", params, "quantrtl.tb.tests.test_huffman", sim=sim,
                             testcase="fuzz", seed=run_seed, extra_env={"QUANTRTL_FUZZ_CASES": cases,
                                                       "QUANTRTL_FUZZ_OUT": str(out)})
                    result = json.loads(out.read_text())
                    ok, error = True, None
                except SimulationError as exc:
                    result, ok, error = {"cases": cases, "beats": 0, "outcomes": {}}, False, \
                        str(exc)
            row = {"params": params, "sim": sim, "seed": run_seed, "ok": ok, "error": error,
                   "cases": result["cases"], "beats": result["beats"],
                   "outcomes": result["outcomes"], "seconds": time.perf_counter() - t0}
            rows.append(row)
            _progress(f"huffman {params or 'defaults'} on {sim}: {row['cases']} cases, "
                      f"{row['beats']} beats, {'ok' if ok else 'FAILED'} "
                      f"({row['seconds']:.1f} s, seed {run_seed})")
    return rows


def fuzz_properties(examples: int, seed: int) -> dict:
    """Part 2: the property tests under the ``fuzz`` profile."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        env = dict(os.environ, HYPOTHESIS_PROFILE="fuzz", QUANTRTL_FUZZ_EXAMPLES=str(examples))
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               f"--hypothesis-seed={seed}", f"--junitxml={report}",
                               "tests/test_properties.py"], env=env, capture_output=True,
                              text=True)
        import xml.etree.ElementTree as ET
        suite = ET.parse(report).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        tests, failures = int(suite.get("tests")), int(suite.get("failures")) + \
            int(suite.get("errors"))
    result = {"properties": tests, "failed": failures, "examples_per_property": examples,
              "seed": seed, "seconds": time.perf_counter() - t0, "ok": proc.returncode == 0}
    if not result["ok"]:
        result["output"] = proc.stdout[-4000:]
    _progress(f"properties: {tests} x {examples} examples, {failures} failed "
              f"({result['seconds']:.1f} s)")
    return result


def summary(report: dict) -> str:
    lines = ["| part | params | sim | cases | beats | outcomes (family:error) | result |",
             "|---|---|---|---|---|---|---|"]
    for row in report["rtl"]:
        params = ",".join(f"{k}={v}" for k, v in row["params"].items()) or "defaults"
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(row["outcomes"].items()))
        lines.append(f"| huffman RTL | {params} | {row['sim']} | {row['cases']:,} | "
                     f"{row['beats']:,} | {outcomes} | {'ok' if row['ok'] else 'FAILED'} |")
    p = report["properties"]
    verdict = "ok" if p["ok"] else f"{p['failed']} FAILED"
    lines.append(f"| properties | {p['properties']} properties | golden | "
                 f"{p['properties'] * p['examples_per_property']:,} examples | | | "
                 f"{verdict} |")
    total = sum(r["cases"] for r in report["rtl"])
    lines.append(f"\n{total:,} RTL fuzz cases and "
                 f"{p['properties'] * p['examples_per_property']:,} property examples in "
                 f"{report['seconds']:.0f} s")
    return "\n".join(lines)


def main(argv=None) -> int:
    from .spec import check_writable_dir
    parser = argparse.ArgumentParser(prog="python -m quantrtl.fuzz",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", default="build/reports")
    parser.add_argument("--cases", type=int, default=2000,
                        help="RTL fuzz cases per parameter set and simulator")
    parser.add_argument("--examples", type=int, default=2000,
                        help="Hypothesis examples per property")
    parser.add_argument("--sims", default="verilator,icarus")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        if args.cases < 1 or args.examples < 1:
            raise ValueError(f"--cases={args.cases} and --examples={args.examples}: allowed "
                             f"at least 1")
        sims = [s.strip() for s in args.sims.split(",") if s.strip()]
        from quantrtl.tb.runner import SIMULATORS
        for s in sims:
            if s not in SIMULATORS:
                raise ValueError(f"--sims: {s!r} is not a simulator: allowed "
                                 f"{list(SIMULATORS)}")
        out_dir = check_writable_dir(args.output)
    except ValueError as exc:
        print(f"quantrtl.fuzz: error: {exc}", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.SystemRandom().getrandbits(31)
    _progress(f"seed {seed} (reproduce with --seed {seed})")
    t0 = time.perf_counter()
    report = {"provenance": provenance(seed), "rtl": fuzz_rtl(sims, args.cases, seed)}
    report["properties"] = fuzz_properties(args.examples, seed)
    report["seconds"] = time.perf_counter() - t0
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "fuzz.json").write_text(json.dumps(report, indent=2) + "\n")
    print(summary(report))
    print(f"\nfigures: {out_dir / 'fuzz.json'}")
    ok = all(r["ok"] for r in report["rtl"]) and report["properties"]["ok"]
    if not report["properties"]["ok"]:
        print(report["properties"]["output"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
