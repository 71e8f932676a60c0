"""``python -m quantrtl.synth.power_check``: our energy figure priced a second time by OpenSTA.

For each design (the default set up to ``--max-cells`` standard cells, or ``--design``
labels of it), the native gate-level run of the energy model is repeated to keep its per-net
toggles (:func:`synth.opensta_power.simulate_activity`), and OpenSTA's ``report_power`` prices
the ungated netlist with exactly those activities (:func:`synth.opensta_power.opensta_power`),
twice: as this OpenSTA 2.0.17 is installed, and with the liberty's rise and fall internal
energies averaged (what upstream OpenSTA and our model do; see the module docstring of
:mod:`synth.opensta_power` for every difference).  The table gives both totals against ours,
and, for the averaged run, each component's ratio with the nets OpenSTA does not price (those
a primary input drives, the root clock net included) left out of ours.

Writes ``opensta_power.json`` (rows and ``meta.provenance``) and ``opensta_power.md`` to
``-o`` (default ``build/reports``).  Designs are synthesized (or taken from the cache) as by
``python -m quantrtl.synth``.  The gated view is not compared: OpenSTA runs every gated
clock each cycle.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from quantrtl.spec import check_writable_dir

from .config import default_designs
from .flow import DEFAULT_ROOT, synthesize
from .opensta import opensta_status
from .opensta_power import compare_energy, opensta_power, simulate_activity
from .progress import Progress
from .provenance import provenance
from .report import markdown_table

__all__ = ["cross_check", "main"]

MAX_CELLS = 20000       # default: skip designs with more standard cells (minutes of STA each)
COLUMNS = ["design", "ours_pj", "opensta_pj", "ratio", "opensta_mean_pj", "ratio_mean",
           "ratio_cells", "switching", "internal", "clock"]


def _row(design, act, installed: dict, mean: dict) -> dict:
    raw = compare_energy(act.energy, installed, unpriced_pj=act.unpriced_pj)
    avg = compare_energy(act.energy, mean, unpriced_pj=act.unpriced_pj)
    if "ratio" not in raw or "ratio" not in avg:
        return {"design": design.label, "error": installed.get("error") or mean.get("error")
                or installed.get("skipped")}
    r = avg["ratio"]
    return {"design": design.label, "cycles": act.cycles,
            "ours_pj": round(avg["ours"]["total"], 3),
            "opensta_pj": round(raw["opensta"]["total"], 3),
            "ratio": round(raw["ratio"]["total"], 3),
            "opensta_mean_pj": round(avg["opensta"]["total"], 3),
            "ratio_mean": round(r["total"], 3), "ratio_cells": round(r["total_cells"], 3),
            "switching": round(r["switching_cells"], 3), "internal": round(r["internal"], 3),
            "clock": round(r["clock_cells"], 3),
            "ours": avg["ours"], "opensta_installed": raw["opensta"],
            "opensta_mean": avg["opensta"]}


def cross_check(designs, *, root: Path = DEFAULT_ROOT, progress=None) -> list:
    """One row per design: ours and OpenSTA's pJ per cycle (ungated view, the energy
    model's workload at its defaults), their ratios, and every component."""
    from .tech import osu018
    lib_path, _ = osu018()
    rows = []
    with Progress(len(designs), "power", lines=progress) as tell:
        for design in designs:
            start = time.monotonic()
            synth = synthesize(design, root=root)
            act = simulate_activity(design, synth, gating="none")
            if act is None:
                tell(f"{design.label}: no energy workload", label=design.label)
                continue
            work = Path(synth["work"]) / "opensta-power"
            runs = [opensta_power(act.netlist_v, design.top, lib_path, work,
                                  period_ns=act.period_ns, activities=act.activities(),
                                  average_rise_fall=mean) for mean in (False, True)]
            row = _row(design, act, *runs)
            rows.append(row)
            text = (f"{row['error']}" if "error" in row else
                    f"ours {row['ours_pj']:.2f} pJ/cycle, OpenSTA {row['opensta_pj']:.2f} "
                    f"(x{row['ratio']:.3f}), mean rise/fall x{row['ratio_mean']:.3f}")
            tell(f"{design.label}: {text} ({time.monotonic() - start:.0f} s)",
                 label=design.label)
    return rows


def _selected(labels, max_cells: int, root: Path) -> list:
    designs = default_designs()
    if labels:
        known = {d.label: d for d in designs}
        unknown = [x for x in labels if x not in known]
        if unknown:
            raise ValueError(f"--design {unknown[0]!r} is not a default design: allowed "
                             f"{{{', '.join(known)}}}")
        return [known[x] for x in labels]
    return [d for d in designs
            if synthesize(d, root=root)["osu018"]["cells"] <= max_cells]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m quantrtl.synth.power_check",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", type=Path, default=Path("build") / "reports")
    ap.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    ap.add_argument("--design", action="append", help="a default design's label (repeatable)")
    ap.add_argument("--max-cells", type=int, default=MAX_CELLS,
                    help=f"without --design: the default designs up to this many standard "
                         f"cells (default {MAX_CELLS})")
    args = ap.parse_args(argv)
    available, reason = opensta_status()
    if not available:
        print(f"python -m quantrtl.synth.power_check: {reason}", file=sys.stderr)
        return 2
    try:
        check_writable_dir(args.out)
        designs = _selected(args.design, args.max_cells, args.root)
    except ValueError as exc:
        print(f"python -m quantrtl.synth.power_check: {exc}", file=sys.stderr)
        return 2
    rows = cross_check(designs, root=args.root)
    from .tech import osu018
    meta = {"provenance": provenance(parameters={"designs": [d.label for d in designs],
                                                 "view": "none", "n": 64, "seed": 1},
                                     liberty=osu018()[0])}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "opensta_power.json").write_text(
        json.dumps({"meta": meta, "rows": rows}, indent=1, sort_keys=True) + "\n")
    headers = ["design", "ours pJ/cycle", "OpenSTA 2.0.17", "ratio", "OpenSTA, mean rise/fall",
               "ratio", "ratio, priced nets", "switching", "internal", "clock"]
    table = markdown_table([r for r in rows if "error" not in r], COLUMNS, headers)
    (args.out / "opensta_power.md").write_text(
        "# Our energy priced by OpenSTA's report_power\n\n" + __doc__.split("\n\n")[1]
        + "\n\n" + table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
