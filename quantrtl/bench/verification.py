"""Suite ``verification``: checked vectors per second of the vector player against the
cocotb harness, every block on both simulators, measured in one run.

It reports figures, it does not assert them; it fails if any output differs from the golden
model.  For each simulator and block (the parameters of :data:`CASES`) it plays one random
vector set (:func:`quantrtl.vectors.random_sets.random_vectors`) through

- the **cocotb** harness (:func:`quantrtl.tb.runner.run_block`: drivers, monitors and the
  scoreboard, beat by beat), once on a small set (the build) and timed on the measured
  set, end to end (simulator start, the run, the comparison);
- the **player** (:func:`quantrtl.tb.player.play`: stimulus in memories inside a generated
  wrapper, vectorised check), whose build is timed apart and whose figure is end to end
  without it (packing the beats, the run, reading and checking the outputs);
- the player as a **plain** run (``host="plain"``: the simulator's own main runs the
  wrapper, no cocotb and no Python in the simulator), the same beats, timed the same way.

``checked_per_s`` counts the outputs compared with the golden model per second.  Figures go
to ``<output>/verification.json`` (``{"rows": [{"harness": "player" | "plain" | "cocotb",
"simulator", "block", "params", "checked", "seconds", "checked_per_s", "build_s"}],
"ratios": [{"simulator", "block", "ratio", "plain_ratio"}]}``: player and plain against
cocotb) and ``<output>/verification.csv``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .common import (BenchFailure, Context, Progress, SuiteResult, choose_sizes, provenance,
                     table, write_figures)

__all__ = ["run_bench", "CASES"]

NAME = "verification"
DESCRIPTION = ("vector player vs cocotb harness: checked vectors/s and build seconds, every "
               "block on both simulators (verification.json, verification.csv)")
# block: parameters measured (small builds of every block; requant and mac at defaults)
CASES = {
    "requant": {},
    "mac": {},
    "dnateq": {"n": 3, "lanes": 1, "max_length": 64, "lut_width": 12, "frac_bits": 8,
               "pp_lanes": 2},
    "huffman": {},
    "dqa": {},
    "dnaenc": {"n": 3, "width": 16},
}
# input beats: (full, quick) per simulator and harness
SIZES = {
    "verilator": {"player": (1_000_000, 20_000), "plain": (1_000_000, 20_000),
                  "cocotb": (40_000, 2_000)},
    "icarus": {"player": (200_000, 10_000), "plain": (200_000, 10_000),
               "cocotb": (20_000, 1_000)},
}
HARNESSES = ("cocotb", "player", "plain")
SCALE = {"dnateq": 0.25, "huffman": 0.25}     # slower per beat: fewer beats
CSV_HEADER = ("harness", "simulator", "block", "params", "checked", "seconds",
              "checked_per_s", "build_s")

progress = Progress(NAME)


def _beats(sim: str, harness: str, block: str, quick: bool) -> int:
    full, small = SIZES[sim][harness]
    return max(200, int((small if quick else full) * SCALE.get(block, 1.0)))


def _measure_cocotb(block, params, component, sim, beats, seed, build_root):
    from quantrtl.tb.runner import run_block
    from quantrtl.vectors.random_sets import random_vectors
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    warm = random_vectors(block, component, rng, 200)
    run_block(block, params, warm, sim=sim, seed=seed, build_root=build_root)
    build_s = time.perf_counter() - t0
    vectors = random_vectors(block, component, rng, beats)
    t0 = time.perf_counter()
    result = run_block(block, params, vectors, sim=sim, seed=seed, build_root=build_root)
    seconds = time.perf_counter() - t0
    if not (np.shape(result.rtl) == np.shape(result.expected)
            and np.array_equal(result.rtl, result.expected)
            and result.status == result.golden_status):
        raise BenchFailure(f"cocotb {sim} {block}: the RTL differs from the golden model")
    return int(np.size(result.expected)), seconds, build_s


def _measure_player(block, params, component, sim, beats, seed, build_root, host="cocotb"):
    from quantrtl.tb.player import play
    from quantrtl.vectors.random_sets import random_vectors
    vectors = random_vectors(block, component, np.random.default_rng(seed + 1), beats)
    result = play(block, params, vectors, sim=sim, seed=seed, build_root=build_root,
                  host=host)
    seconds = result.prepare_seconds + result.run_seconds + result.check_seconds
    return int(result.checked), seconds, result.build_seconds


def run_bench(out_dir: Path, *, quick: bool = False, simulators=("verilator", "icarus"),
              blocks=tuple(CASES), seed: int = 1, build_root: Path | None = None,
              prov: dict | None = None) -> dict:
    """Every (simulator, block, harness) of the run; writes ``verification.json`` and
    ``verification.csv``; returns the report."""
    from quantrtl.blocks import configure
    from quantrtl.tb.runner import simulator_status
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, skipped = [], {}
    for sim in simulators:
        available, reason = simulator_status(sim)
        if not available:
            skipped[sim] = reason
            progress(f"{sim} skipped: {reason}")
            continue
        for block in blocks:
            params = CASES[block]
            component = configure(block, params).component
            for harness in HARNESSES:
                beats = _beats(sim, harness, block, quick)
                progress(f"{sim} {block} {harness}: {beats} input beats")
                if harness == "cocotb":
                    measured = _measure_cocotb(block, params, component, sim, beats, seed,
                                               build_root)
                else:
                    measured = _measure_player(block, params, component, sim, beats, seed,
                                               build_root, "plain" if harness == "plain"
                                               else "cocotb")
                checked, seconds, build_s = measured
                rows.append({"harness": harness, "simulator": sim, "block": block,
                             "params": params, "checked": checked,
                             "seconds": round(seconds, 3),
                             "checked_per_s": round(checked / max(seconds, 1e-9), 1),
                             "build_s": round(build_s, 2)})
    ratios = []
    for sim in simulators:
        for block in blocks:
            pair = {r["harness"]: r for r in rows if r["simulator"] == sim and
                    r["block"] == block}
            if len(pair) == len(HARNESSES):
                base = pair["cocotb"]["checked_per_s"]
                ratios.append({"simulator": sim, "block": block,
                               "ratio": round(pair["player"]["checked_per_s"] / base, 2),
                               "plain_ratio": round(pair["plain"]["checked_per_s"] / base, 2)})
    report = {"quick": quick, "rows": rows, "ratios": ratios, "skipped": skipped,
              "sizes": {s: choose_sizes(v, quick) for s, v in SIZES.items()}}
    if prov is None:
        prov = provenance(seed=seed, quick=quick,
                          command="quantrtl.bench.verification.run_bench", suites=[NAME])
    write_figures(out_dir, NAME, report, CSV_HEADER, csv_rows(report), prov)
    return report


def csv_rows(report: dict) -> list[list]:
    return [[r["harness"], r["simulator"], r["block"],
             ",".join(f"{k}={v}" for k, v in r["params"].items()), r["checked"], r["seconds"],
             r["checked_per_s"], r["build_s"]] for r in report["rows"]]


def summary(report: dict) -> str:
    by = {(r["simulator"], r["block"], r["harness"]): r for r in report["rows"]}

    def rate(x, harness):
        return f"{by[(x['simulator'], x['block'], harness)]['checked_per_s']:,.0f}"

    def build(x, harness):
        return f"{by[(x['simulator'], x['block'], harness)]['build_s']:.1f}"

    lines = table(("simulator", "block", "player checked/s", "plain checked/s",
                   "cocotb checked/s", "player ratio", "plain ratio", "player build s",
                   "plain build s"),
                  [(x["simulator"], x["block"], rate(x, "player"), rate(x, "plain"),
                    rate(x, "cocotb"), f"{x['ratio']:.1f}x", f"{x['plain_ratio']:.1f}x",
                    build(x, "player"), build(x, "plain"))
                   for x in report["ratios"]], right=(2, 3, 4, 5, 6, 7, 8))
    return "\n".join(lines)


def headline(report: dict) -> str:
    parts = [f"{x['block']}@{x['simulator']} {x['ratio']:.0f}x (plain {x['plain_ratio']:.0f}x)"
             for x in report["ratios"] if x["block"] in ("requant", "mac")]
    return "player vs cocotb: " + (", ".join(parts) or "no simulator")


def add_arguments(group) -> None:
    group.add_argument("--player-sims", default="verilator,icarus", metavar="SIMS",
                       help="simulators of the player/cocotb comparison (default "
                            "%(default)s)")


def check(options) -> None:
    from quantrtl.tb.runner import SIMULATORS
    sims = [s.strip() for s in options.player_sims.split(",") if s.strip()]
    bad = [s for s in sims if s not in SIMULATORS]
    if bad or not sims:
        raise ValueError(f"--player-sims={options.player_sims!r}: allowed a comma-separated "
                         f"list of {{{', '.join(SIMULATORS)}}}")
    options.player_sims = sims


def run(ctx: Context) -> SuiteResult:
    simulators = () if ctx.no_sim else tuple(ctx.options.player_sims)
    build_root = getattr(ctx.options, "build_root", None)     # --build-root (speed's option)
    report = run_bench(ctx.out_dir, quick=ctx.quick, simulators=simulators, seed=ctx.seed,
                       build_root=None if build_root is None else Path(build_root).resolve(),
                       prov=ctx.provenance)
    out_dir = Path(ctx.out_dir).resolve()
    return SuiteResult(NAME, [out_dir / f"{NAME}.json", out_dir / f"{NAME}.csv"],
                       headline(report), summary(report), report=report)
