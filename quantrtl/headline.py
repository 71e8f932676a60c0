"""``python -m quantrtl.headline`` (``make headline``): INT8 against DNA-TEQ on MiniLM's own
dot products, on real clock-gated netlists.

For every datapath -- the lean INT8 MAC (zero-operand isolation, bias in the accumulator)
with the requantizer, and DNA-TEQ at n = 3..7 -- at ``pes`` = 1 and 16 dot products in
parallel (an output-stationary array: P MAC PEs sharing one requantizer, P DNA-TEQ
counter sets sharing the activation decode, one LUT and one post-processor), the flow
(:mod:`synth.flow`) synthesizes the design twice (without and with clock gating), and
simulates each gate-level netlist on the same dot products (:mod:`quantrtl.headline_workloads`:
two layers of all-MiniLM-L6-v2, N = 384 and 1536, and a synthetic layer as a second row
set), every output checked against the golden model.  Both sides run at the same pace:
one pair per clock per PE (DNA-TEQ with the fewest post-processor lanes that keep up).

Rows (``build/reports/headline.json``), one per datapath, pes, length, workload, gating
model (``none`` / ``icg`` / ``ideal``, :mod:`synth.energy`) and scope:

* ``datapath``: the engine, plus for INT8 the requantizer that turns its accumulators into
  int8 codes (one requantization per dot product, priced at its real duty cycle: active
  once every ``N / pes`` clocks);
* ``system``: the datapath, plus DNA-TEQ's output encoder back to n-bit codes (at its duty
  cycle, like the requantizer), plus the operand traffic: every activation and weight code
  read once from on-chip SRAM at :data:`SRAM_PJ_PER_BIT`.

The run prints progress per design and ends with the summary table; JSON, CSV, Markdown and
PNG go to ``--out``.  Every result is cached by the flow, so a second run takes seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import as_completed
from pathlib import Path

from .spec import check_writable_dir
from .synth.executors import open_executor
from .synth.progress import Progress


__all__ = ["main", "headline_plan", "SRAM_PJ_PER_BIT", "SRAM_SOURCE"]

LENGTHS = (384, 1536)
PES = (1, 16)
# The largest array per code width that fits the time budget of ``make headline``: at 16
# PEs the n = 6 and 7 arrays hold 49k and 98k flip-flops, whose synthesis and gate-level
# runs alone would take an hour on two cores; they run at 4 PEs (INT8 too, for them).
MAX_PES = {6: 4, 7: 4}
BITS = (3, 4, 5, 6, 7)
WORKLOADS = ("minilm", "synthetic")
GATINGS = ("none", "icg", "ideal")
GROUPS = {1: 6, 16: 2}          # dot-product groups measured per run (P dot products each)
RATE_GAP = 15                   # idle clocks between beats in the duty-cycle runs
# Operand reads from on-chip SRAM: Horowitz, "Computing's energy problem (and what we can
# do about it)", ISSCC 2014: an 8 KB SRAM reads 64 bits for 10 pJ at 45 nm / 0.9 V;
# scaled to 180 nm / 1.8 V by (180/45) x (1.8/0.9)^2 = 16, the same constant-field rule
# as the flow's sanity check (synth.energy.horowitz_scaled): 2.5 pJ per bit.
SRAM_PJ_PER_BIT = 10.0 / 64 * 16
SRAM_SOURCE = ("Horowitz, ISSCC 2014: 8 KB SRAM, 10 pJ per 64-bit read at 45 nm / 0.9 V, "
               "scaled x16 to 180 nm / 1.8 V (C ~ feature size, E ~ C V^2)")
TARGETS = {3: 0.4, 4: 0.6}     # DNA-TEQ / INT8 energy per dot product (icg, MiniLM, P = 1)


def _pp_lanes(n: int, pes: int, length: int) -> int:
    """The fewest post-processor lanes (a power of two) whose ``pes * 2^(n+1) / pp``
    clocks hide behind the ``length`` clocks of counting."""
    entries = 1 << (n + 1)
    need = max(1, -(-entries * pes // length))
    return min(entries, 1 << (need - 1).bit_length())


def headline_plan(pes=PES, bits=BITS, lengths=LENGTHS):
    """``{(datapath, n, pes): {"engine": Design, "post": Design}}``: the designs compared."""
    from quantrtl.synth.flow import Design
    from .headline_workloads import FRAC_BITS, LUT_WIDTH, MAX_LENGTH, result_width
    plan = {}
    int8_pes = sorted({min(p, MAX_PES.get(n, p)) for p in pes for n in bits})
    for p in int8_pes:
        plan[("int8", 8, p)] = {
            "engine": Design.block("mac", {"lanes": 1, "pes": p, "zero_skip": True}, FLOW),
            "post": Design.block("requant", {}, FLOW)}
    for requested in pes:
        for n in bits:
            p = min(requested, MAX_PES.get(n, requested))
            pp = _pp_lanes(n, p, min(lengths))
            plan[("dnateq", n, p)] = {
                "engine": Design.block("dnateq", {"n": n, "lanes": 1, "pes": p,
                                                  "max_length": MAX_LENGTH,
                                                  "lut_width": LUT_WIDTH,
                                                  "frac_bits": FRAC_BITS, "pp_lanes": pp},
                                       FLOW),
                "post": Design.block("dnaenc", {"n": n, "width": result_width(MAX_LENGTH)},
                                     FLOW)}
    return plan


# One flow for both sides: no Booth multipliers (the requantizer's own default has them; the
# MAC's and DNA-TEQ's multipliers would shrink with them too: docs/requantizer.md).
FLOW = {"booth": False}


def _layer(workload: str, length: int):
    from .headline_workloads import minilm_layer, synthetic_layer
    return minilm_layer(length) if workload == "minilm" else synthetic_layer(length)


def _runs_for(key, designs, lengths, workloads):
    key = tuple(key)[:3]
    """The energy runs of one datapath: ``[(role, workload, length, rate, vectors, info)]``
    (``rate``: "full" for the engine; "full" and "gap" for the post unit, whose idle
    energy per clock comes from their difference)."""
    from .headline_workloads import dnateq_vectors, int8_vectors, select_rows
    datapath, n, pes = key
    runs = []
    for wl in workloads:
        for length in lengths:
            layer = _layer(wl, length)
            tokens, channels = select_rows(layer, GROUPS.get(pes, 2), pes)
            if datapath == "int8":
                engine, post, facts = int8_vectors(layer, tokens, channels)
                skip_engine, skip_post = 0, 0
            else:
                engine, post, facts = dnateq_vectors(layer, n, tokens, channels)
                skip_engine = 1 << (n + 1)                    # the LUT load
                skip_post = 2 * (1 << (n - 1)) - 1           # the threshold table
            dots = len(tokens) * pes
            base = {"length": length, "dot_products": dots, "data": layer.source,
                    "workload": wl, **{k: (round(v, 4) if isinstance(v, float) else v)
                                       for k, v in facts.items()}}
            runs.append(("engine", wl, length, "full", engine,
                         {**base, "ops": dots * length, "op": "pair", "skip_beats": skip_engine}))
            for rate, gap in (("full", 0), ("gap", RATE_GAP)):
                runs.append(("post", wl, length, rate, post,
                             {**base, "ops": dots, "op": "result", "dot_products": 0,
                              "skip_beats": skip_post, "gap": gap}))
    return runs


def _measure_design(design, uses, fresh, root):
    """Synthesis and the energy runs of one design (a worker process).  ``uses``:
    ``[(key, role, runs)]``, every comparison the design serves (the requantizer serves
    every INT8 array); one result per use."""
    from quantrtl.blocks import get_block
    from quantrtl.synth.flow import measure_energy, synthesize
    t0 = time.monotonic()
    outs = [{"key": list(key), "role": role, "design": design.as_dict(), "runs": []}
            for key, role, _ in uses]
    try:
        component = get_block(design.name).build(design.param_dict)
        s = synthesize(design, root=root, fresh=fresh, ice40="never")
        view = {k: s[k] for k in ("osu018", "osu018_icg", "work", "cached")}
        for t in ("timing", "timing_icg"):
            view[t] = {k: s[t][k] for k in ("fmax_mhz", "critical_path_ns")}
            sta = s.get(f"{t}_opensta", {})
            view[t]["fmax_mhz_opensta"] = sta.get("fmax_mhz_opensta")
        for out, (_, _, runs) in zip(outs, uses):
            out["synth"] = view
            if hasattr(component, "cycles_per_dot_product"):
                out["cycles_per_group"] = {str(r[2]): component.cycles_per_dot_product(r[2])
                                           for r in runs}
            for _, wl, length, rate, vectors, info in runs:
                for gating in ("none", "icg"):
                    e = measure_energy(design, s, gating=gating, fresh=fresh,
                                       workload=(vectors, info))
                    keep = ("total_pj", "ideal_pj", "cycles", "breakdown_pj",
                            "ideal_breakdown_pj", "clock_pj", "cached")
                    out["runs"].append({"workload": wl, "length": length, "rate": rate,
                                        "gating": gating, "info": info,
                                        **{k: e[k] for k in keep}})
    except Exception as exc:                      # reported, the other designs go on
        import traceback
        for out in outs:
            out["error"] = f"{type(exc).__name__}: {exc}"
            out["traceback"] = traceback.format_exc()[-3000:]
    for out in outs:
        out["seconds"] = round(time.monotonic() - t0, 1)
    return outs


def _cost(design) -> float:
    p = design.param_dict
    if design.name == "dnateq":
        return (1 << (p["n"] + 1)) * p["pes"] * 10.0
    if design.name == "mac":
        return 30.0 * p.get("pes", 1)
    return 100.0


def run(plan, *, lengths, workloads, jobs, fresh, root, progress=None, executor="process"):
    """Every design of ``plan`` measured; ``executor`` and ``progress`` as in
    :func:`quantrtl.synth.__main__.run_all` (a bar on a terminal, else one line per design)."""
    # One task per distinct design (a design shared by several comparisons, such as the
    # requantizer, is synthesized once: two workers must never share its directory).
    tasks = {}
    for key, designs in plan.items():
        runs = _runs_for(key, designs, lengths, workloads)
        for role in ("engine", "post"):
            mine = [r for r in runs if r[0] == role]
            tasks.setdefault(designs[role], []).append((key, role, mine))
    order = sorted(tasks, key=_cost, reverse=True)
    results, start = [], time.monotonic()
    with Progress(len(order), "headline", lines=progress) as tell, \
            open_executor(executor, jobs=jobs) as pool:
        futures = [pool.submit(_measure_design, d, tasks[d], fresh, root) for d in order]
        for done, fut in enumerate(as_completed(futures), 1):
            outs = fut.result()
            results += outs
            r = outs[0]
            status = r.get("error", "ok").splitlines()[0][:120]
            cached = " (cached)" if r.get("synth", {}).get("cached") else ""
            tell(f"[headline {done}/{len(order)} {time.monotonic() - start:6.1f}s] "
                 f"{r['design']['label']:<44} {r['seconds']:7.1f}s {status}{cached}",
                 label=r["design"]["label"], keep="error" in r)
    return results


# ---------------------------------------------------------------------------- rows

def _pick(result, wl, length, rate, gating):
    for r in result["runs"]:
        if (r["workload"], r["length"], r["rate"], r["gating"]) == (wl, length, rate, gating):
            return r
    raise KeyError(f"no run {wl} N={length} {rate} {gating} for {result['design']['label']}")


def _energy(run, model):
    """``(total pJ, breakdown)`` of a run under a gating model (``ideal`` from the gated
    netlist's run)."""
    if model == "ideal":
        return run["ideal_pj"], run["ideal_breakdown_pj"]
    return run["total_pj"], run["breakdown_pj"]


def _post_per_result(result, wl, length, pes, model):
    """Energy of the requantizer / encoder per result at its duty cycle: one result every
    ``length / pes`` clocks.  The active part is the full-rate run per result; the idle
    clocks are priced from the gap run (its extra clocks over the full-rate run)."""
    net = "none" if model == "none" else "icg"
    full, gap = (_pick(result, wl, length, rate, net) for rate in ("full", "gap"))
    e_full, b_full = _energy(full, model)
    e_gap, b_gap = _energy(gap, model)
    ops = full["info"]["ops"]
    idle_cycles = gap["cycles"] - full["cycles"]
    per_idle = (e_gap - e_full) / idle_cycles if idle_cycles > 0 else 0.0
    idle = max(0.0, length / pes - 1)
    scale_idle = idle / idle_cycles * 1.0 if idle_cycles > 0 else 0.0
    energy = e_full / ops + per_idle * idle
    breakdown = {k: b_full.get(k, 0.0) / ops
                 + (b_gap.get(k, 0.0) - b_full.get(k, 0.0)) * scale_idle
                 for k in set(b_full) | set(b_gap)}
    return energy, breakdown


def _merge(*parts):
    out = {}
    for part, weight in parts:
        for k, v in part.items():
            out[k] = out.get(k, 0.0) + v * weight
    return {k: round(v, 3) for k, v in sorted(out.items())}


def headline_rows(results, *, lengths, workloads) -> list:
    by = {(tuple(r["key"]), r["role"]): r for r in results}
    rows = []
    keys = sorted({tuple(r["key"]) for r in results}, key=lambda k: (k[2], k[0] != "int8", k[1]))
    for key in keys:
        datapath, n, pes = key
        engine, post = by.get((key, "engine")), by.get((key, "post"))
        for wl in workloads:
            for length in lengths:
                for model in GATINGS:
                    rows += _rows_for(key, engine, post, wl, length, model)
    _add_ratios(rows)
    return rows


def _rows_for(key, engine, post, wl, length, model):
    datapath, n, pes = key
    base = {"datapath": datapath, "n": n, "pes": pes, "length": length, "gating": model,
            "workload": wl}
    missing = [r for r in (engine, post) if r is None or "error" in r]
    if missing:
        why = "; ".join((r or {}).get("error", "not run") for r in missing)[:300]
        return [{**base, "scope": s, "error": why} for s in ("datapath", "system")]
    net = "none" if model == "none" else "icg"
    run = _pick(engine, wl, length, "full", net)
    dots = run["info"]["dot_products"]
    e_engine, b_engine = _energy(run, model)
    # Throughput: the engine's cycle model (checked by its testbenches); the measured
    # window also holds the fill and the last group's drain.
    cycles_group = engine["cycles_per_group"][str(length)]
    e_post, b_post = _post_per_result(post, wl, length, pes, model)
    view = "osu018" if model == "none" else "osu018_icg"
    timing = engine["synth"]["timing" if model == "none" else "timing_icg"]
    # OpenSTA's fmax is the figure of record; our STA's where OpenSTA is not installed.
    fmax = timing.get("fmax_mhz_opensta") or timing["fmax_mhz"]
    fmax_source = "opensta" if timing.get("fmax_mhz_opensta") else "ours"
    area_engine = engine["synth"][view]["area_um2"]
    area_post = post["synth"][view]["area_um2"]
    bits = n if datapath == "dnateq" else 8
    traffic_bits = length * (1 + 1) * bits          # one activation and one weight per pair
    rows = []
    for scope in ("datapath", "system"):
        with_post = datapath == "int8" or scope == "system"
        energy = e_engine / dots + (e_post if with_post else 0.0)
        breakdown = _merge((b_engine, 1 / dots), (b_post, 1.0 if with_post else 0.0))
        area = area_engine + (area_post if with_post else 0.0)
        if scope == "system":
            sram = traffic_bits * SRAM_PJ_PER_BIT
            energy += sram
            breakdown["sram"] = round(sram, 3)
        delay_ns = cycles_group / pes * 1e3 / fmax
        rows.append({**base, "scope": scope, "area_um2": round(area, 1),
                     "energy_pj": round(energy, 2), "cycles": round(cycles_group, 2),
                     "cycles_per_dot_product": round(cycles_group / pes, 3),
                     "fmax_mhz": fmax, "fmax_source": fmax_source,
                     "edp_pj_ns": round(energy * delay_ns, 1),
                     "breakdown_pj": breakdown, "traffic_bits": traffic_bits,
                     "dot_products_measured": dots, "window_cycles": run["cycles"],
                     "engine": engine["design"]["label"], "post": post["design"]["label"],
                     "facts": {k: v for k, v in run["info"].items()
                               if k in ("activation_zeros", "weight_zeros", "base",
                                        "rmae_w", "rmae_x", "input_zero_point")}})
    return rows


def _add_ratios(rows):
    ref = {(r["pes"], r["length"], r["gating"], r["workload"], r["scope"]): r
           for r in rows if r["datapath"] == "int8" and "error" not in r}
    for r in rows:
        base = ref.get((r["pes"], r["length"], r["gating"], r["workload"], r["scope"]))
        if base is None or "error" in r:
            continue
        r["energy_ratio"] = round(r["energy_pj"] / base["energy_pj"], 3)
        r["edp_ratio"] = round(r["edp_pj_ns"] / base["edp_pj_ns"], 3)
        r["area_ratio"] = round(r["area_um2"] / base["area_um2"], 3)


def target_report(rows) -> list:
    """The issue's targets (icg, MiniLM, P = 1, datapath scope, both lengths): met or not,
    and the component that holds a missed one back."""
    out = []
    for n, target in TARGETS.items():
        for r in rows:
            if (r["datapath"], r["n"], r["pes"], r["gating"], r["workload"], r["scope"]) != \
                    ("dnateq", n, 1, "icg", "minilm", "datapath") or "energy_ratio" not in r:
                continue
            entry = {"n": n, "length": r["length"], "ratio": r["energy_ratio"],
                     "target": target, "met": r["energy_ratio"] <= target}
            if not entry["met"]:
                top = max(r["breakdown_pj"].items(), key=lambda kv: kv[1])
                entry["held_back_by"] = {"component": top[0], "pj": top[1],
                                         "share": round(top[1] / r["energy_pj"], 3)}
            out.append(entry)
    return out


# ---------------------------------------------------------------------------- reports

TABLE_COLUMNS = ["datapath", "n", "pes", "length", "gating", "area_um2", "energy_pj",
                 "energy_ratio", "cycles", "fmax_mhz", "edp_ratio"]


def _label(r):
    return "INT8 MAC + requant" if r["datapath"] == "int8" else f"DNA-TEQ n={r['n']}"


def markdown(rows, *, scope="datapath", workload="minilm", gatings=GATINGS, length=None):
    from quantrtl.synth.report import markdown_table
    sel = [dict(r, datapath_label=_label(r)) for r in rows
           if r["scope"] == scope and r["workload"] == workload and r["gating"] in gatings
           and (length is None or r["length"] == length) and "error" not in r]
    return markdown_table(sel, ["datapath_label", "pes", "length", "gating", "area_um2",
                                "energy_pj", "energy_ratio", "cycles", "fmax_mhz",
                                "edp_ratio"],
                          ["datapath", "P", "N", "gating", "area um^2", "pJ / dot product",
                           "x INT8", "cycles / group", "fmax MHz", "EDP x INT8"])


def breakdown_table(rows, *, pes=1, length=384, gating="icg", workload="minilm"):
    from quantrtl.synth.report import markdown_table
    sel = [r for r in rows if r["scope"] == "datapath" and r["workload"] == workload
           and r["gating"] == gating and r["pes"] == pes and r["length"] == length
           and "error" not in r]
    comps = sorted({k for r in sel for k in r["breakdown_pj"]})
    table = [{"datapath": _label(r), **{c: r["breakdown_pj"].get(c, 0.0) for c in comps},
              "total": r["energy_pj"]} for r in sel]
    return markdown_table(table, ["datapath"] + comps + ["total"])


def write_reports(out: Path, rows, results, meta) -> dict:
    """``headline.json`` (with ``meta.provenance``; ``quantrtl/schemas/headline.schema.json``),
    ``headline.csv``, ``headline.md``, ``headline.png`` and the HTML page ``index.html``."""
    import csv

    from quantrtl.synth.report_html import write_html
    from quantrtl.synth.report import report_provenance
    out.mkdir(parents=True, exist_ok=True)
    parameters = {k: meta[k] for k in ("pes", "bits", "lengths", "workloads", "jobs")
                  if k in meta}
    meta = {**meta, "provenance": report_provenance(results, parameters)}
    doc = {"meta": meta, "rows": rows, "targets": target_report(rows),
           "designs": [{k: r[k] for k in ("key", "role", "design", "seconds")
                        if k in r} | {"synth": r.get("synth"), "error": r.get("error")}
                       for r in results]}
    (out / "headline.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    fields = ["datapath", "n", "pes", "length", "workload", "gating", "scope", "area_um2",
              "energy_pj", "energy_ratio", "cycles", "cycles_per_dot_product", "fmax_mhz",
              "edp_pj_ns", "edp_ratio", "area_ratio", "traffic_bits", "error"]
    with open(out / "headline.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields + ["breakdown_pj"], extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({**r, "breakdown_pj": json.dumps(r.get("breakdown_pj", {}),
                                                        sort_keys=True)})
    md = ["# INT8 vs DNA-TEQ on MiniLM's own dot products", "",
          f"Generated by `python -m quantrtl.headline` in {meta['seconds']} s "
          f"({meta['designs']} designs, {meta['jobs']} jobs).", "",
          "## Datapath energy per dot product (MiniLM)", "", markdown(rows), "",
          "## System: + DNA-TEQ's output encoder + operand SRAM reads (MiniLM)", "",
          markdown(rows, scope="system"), "",
          "## Synthetic layer (datapath)", "", markdown(rows, workload="synthetic"), "",
          "## Per-component energy, pJ per dot product (icg, MiniLM, P = 1, N = 384)", "",
          breakdown_table(rows), "",
          "## Targets", ""]
    for t in doc["targets"]:
        held = t.get("held_back_by")
        md.append(f"- DNA-TEQ n={t['n']}, N={t['length']}: {t['ratio']:.3f}x INT8 (target "
                  f"<= {t['target']}): {'met' if t['met'] else 'missed'}"
                  + (f"; held back by {held['component']} ({held['pj']:.1f} pJ, "
                     f"{held['share']:.0%})" if held else ""))
    md += ["", "## Method", "", meta["method"], "", f"SRAM: {SRAM_SOURCE}."]
    if meta.get("glitch"):
        md += ["", "## Glitch bound", "", glitch_table(meta["glitch"])]
    (out / "headline.md").write_text("\n".join(md) + "\n")
    _plot(out, rows)
    write_html(out)
    return doc


def glitch_table(glitch) -> str:
    from quantrtl.synth.report import markdown_table
    return markdown_table(glitch, ["design", "gating", "delays", "zero_delay_pj",
                                   "timed_pj", "glitch_share", "glitch_share_logic"],
                          ["design", "gating", "delays", "zero-delay pJ / dot product",
                           "timed pJ / dot product", "glitch share", "share of logic"])


def _plot(out: Path, rows):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    sel = [r for r in rows if r["scope"] == "datapath" and r["workload"] == "minilm"
           and "energy_ratio" in r and r["datapath"] == "dnateq"]
    if not sel:
        return
    combos = sorted({(r["pes"], r["length"]) for r in sel})
    fig, axes = plt.subplots(1, len(combos), figsize=(4 * len(combos), 3.6), squeeze=False)
    for ax, (p, length) in zip(axes[0], combos):
        for model, style in zip(GATINGS, ("o-", "s-", "^--")):
            pts = sorted((r["n"], r["energy_ratio"]) for r in sel
                         if r["pes"] == p and r["length"] == length and r["gating"] == model)
            if pts:
                ax.plot(*zip(*pts), style, label=model)
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_title(f"P={p}, N={length}")
        ax.set_xlabel("DNA-TEQ bits n")
        ax.set_ylabel("energy / dot product, x INT8")
        ax.set_yscale("log")
        ax.legend()
    fig.suptitle("DNA-TEQ vs INT8 on MiniLM (OSU 0.18 um, gate-level)")
    fig.tight_layout()
    fig.savefig(out / "headline.png", dpi=110)
    plt.close(fig)


METHOD = (
    "Each design is synthesized by Yosys onto the OSU 0.18 um cells twice: without clock "
    "gating, and with an integrated clock-gating cell (a latch and an AND of the library) "
    "for every group of at least three flip-flops that share an enable; both netlists get "
    "the same clock tree (BUFX4, at most eight loads per net).  Each netlist is simulated "
    "cycle by cycle (synth.gatesim) on the same dot products, every output checked "
    "against the golden model, and every net's toggles are priced from the liberty "
    "(switching 1/2 C V^2, internal energy, clock pins, leakage).  none = the ungated "
    "netlist; icg = the gated netlist with its gating cells priced like any cell; ideal = "
    "the gated netlist with each flip-flop clocked only when it changes and the gating "
    "cells free.  Both sides take one pair per clock per PE; INT8 pays one requantization "
    "per dot product and DNA-TEQ's system row one output encoding, each at its real duty "
    "cycle (one result every N / P clocks).  Energies are zero-delay (glitches excluded; "
    "the glitch bound says how much that misses).")


ABLATION = (
    ("two's-complement counters, every counter sees each pair's sign, C3 counter",
     {"isolate": False, "fold_c3": False, "counter": "twos"}),
    ("+ operand isolation", {"isolate": True, "fold_c3": False, "counter": "twos"}),
    ("+ C3 folded into the C0 LUT entries", {"isolate": True, "fold_c3": True,
                                             "counter": "twos"}),
    ("+ sign-magnitude counters (the default)", {"isolate": True, "fold_c3": True,
                                                  "counter": "signmag"}),
)


def ablation(*, bits=(3, 5), length=384, jobs=2, root=Path("build") / "synth",
             fresh=False, progress=None) -> list:
    """What each DNA-TEQ technique saves: the P = 1 datapath on MiniLM's dot products of
    ``length``, one technique added at a time (:data:`ABLATION`), under the three gating
    models; INT8 alongside."""
    from quantrtl.synth.flow import Design
    base_plan = headline_plan((1,), bits, (length,))
    plan = {("int8", 8, 1): base_plan[("int8", 8, 1)]}
    for n in bits:
        engine = base_plan[("dnateq", n, 1)]["engine"]
        for k, (_, change) in enumerate(ABLATION):
            plan[("dnateq", n, 1, k)] = {
                "engine": Design.block("dnateq", {**engine.param_dict, **change}, FLOW),
                "post": base_plan[("dnateq", n, 1)]["post"]}
    results = run(plan, lengths=(length,), workloads=("minilm",), jobs=jobs, fresh=fresh,
                  root=root, progress=progress)
    rows = []
    by = {(tuple(r["key"]), r["role"]): r for r in results}
    for key in plan:
        for model in GATINGS:
            for r in _rows_for(key[:3], by.get((key, "engine")), by.get((key, "post")),
                               "minilm", length, model):
                if r["scope"] == "datapath":
                    r["variant"] = ABLATION[key[3]][0] if len(key) > 3 else "INT8"
                    r["step"] = key[3] if len(key) > 3 else -1
                    rows.append(r)
    _add_ratios(rows)
    return rows


def _int_list(option: str, text: str) -> tuple:
    """``"1,4,16"`` -> ``(1, 4, 16)``; anything else is a one-line ``ValueError``."""
    try:
        values = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ValueError(f"{option}={text!r}: expected comma-separated integers") from None
    if not values:
        raise ValueError(f"{option}={text!r}: expected comma-separated integers")
    return values


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m quantrtl.headline",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--out", type=Path, default=Path("build") / "reports")
    ap.add_argument("--root", type=Path, default=Path("build") / "synth")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--pes", default=",".join(map(str, PES)))
    ap.add_argument("--bits", default=",".join(map(str, BITS)))
    ap.add_argument("--lengths", default=",".join(map(str, LENGTHS)))
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--no-glitch", action="store_true", help="skip the glitch bound")
    ap.add_argument("--fresh", action="store_true", help="ignore cached results")
    ap.add_argument("--ablation", action="store_true",
                    help="what each DNA-TEQ technique saves (n = 3 and 5, P = 1, N = 384) "
                         "-> ablation.json/.md")
    args = ap.parse_args(argv)
    if args.ablation:
        try:
            check_writable_dir(args.out)
            check_writable_dir(args.root)
        except ValueError as exc:
            print(f"python -m quantrtl.headline: {exc}", file=sys.stderr)
            return 2
        from quantrtl.synth.report import markdown_table
        t0 = time.monotonic()
        rows = ablation(jobs=args.jobs, root=args.root, fresh=args.fresh)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "ablation.json").write_text(json.dumps(
            {"meta": {"seconds": round(time.monotonic() - t0, 1), "method": METHOD},
             "rows": rows}, indent=1, sort_keys=True) + "\n")
        table = markdown_table(sorted(rows, key=lambda r: (r["n"], r["step"], r["gating"])),
                               ["n", "variant", "gating", "area_um2", "energy_pj",
                                "energy_ratio"],
                               ["n", "DNA-TEQ datapath", "gating", "area um^2",
                                "pJ / dot product", "x INT8"])
        (args.out / "ablation.md").write_text("# What each DNA-TEQ technique saves\n\n"
                                              + table + "\n")
        print(table)
        return 0
    try:
        pes, bits, lengths = (_int_list(f"--{name}", getattr(args, name))
                              for name in ("pes", "bits", "lengths"))
        if args.jobs < 1:
            raise ValueError(f"--jobs={args.jobs} is out of range: allowed [1, ...]")
        check_writable_dir(args.out)
        check_writable_dir(args.root)
        workloads = tuple(w for w in args.workloads.split(",") if w)
        bad = [w for w in workloads if w not in WORKLOADS]
        if bad:
            raise ValueError(f"workload={bad[0]!r} is not allowed: allowed {set(WORKLOADS)}")
        from .headline_workloads import MINILM_LAYERS
        bad = [n for n in lengths if n not in MINILM_LAYERS]
        if bad:
            raise ValueError(f"length={bad[0]} is out of range: allowed "
                             f"{sorted(MINILM_LAYERS)}")
        plan = headline_plan(pes, bits, lengths)
    except ValueError as exc:
        print(f"python -m quantrtl.headline: {exc}", file=sys.stderr)
        return 2
    start = time.monotonic()
    results = run(plan, lengths=lengths, workloads=workloads, jobs=args.jobs,
                  fresh=args.fresh, root=args.root)
    rows = headline_rows(results, lengths=lengths, workloads=workloads)
    glitch = [] if args.no_glitch else glitch_bounds(plan, results, args.root)
    meta = {"seconds": round(time.monotonic() - start, 1), "designs": len(results),
            "jobs": args.jobs, "pes": list(pes), "bits": list(bits),
            "lengths": list(lengths), "workloads": list(workloads),
            "groups": {str(k): v for k, v in GROUPS.items()},
            "sram_pj_per_bit": SRAM_PJ_PER_BIT, "sram_source": SRAM_SOURCE,
            "method": METHOD, "glitch": glitch}
    doc = write_reports(args.out, rows, results, meta)
    print()
    print(markdown(rows, gatings=("icg",), workload=workloads[0]))
    for t in doc["targets"]:
        print(f"target n={t['n']} N={t['length']}: {t['ratio']}x (<= {t['target']}): "
              f"{'met' if t['met'] else 'missed'}")
    print(f"\n[headline] {len(results)} designs in {meta['seconds']} s; reports in "
          f"{args.out}/ (headline.json, headline.csv, headline.md, headline.png)")
    failed = [r for r in results if "error" in r]
    for r in failed:
        print(f"[headline] ERROR {r['design']['label']}: {r['error']}", file=sys.stderr)
    return 1 if failed else 0


def glitch_bounds(plan, results, root, *, dots: int = 2) -> list:
    """The glitch bound (:mod:`synth.glitch`, liberty delays) of the P = 1 engines, gated,
    on ``dots`` MiniLM dot products of the shortest length: how much the zero-delay energy
    underestimates, with transport delay (an upper estimate of the glitching) and with
    inertial delay (pulses shorter than a gate's delay swallowed: the realistic one)."""
    from quantrtl.synth.flow import synthesize
    from quantrtl.synth.glitch import measure_glitch
    out = []
    length = min(LENGTHS)
    for key, designs in plan.items():
        if key[2] != 1:
            continue
        d = designs["engine"]
        runs = _runs_for(key, designs, (length,), ("minilm",))
        _, _, _, _, vectors, info = next(r for r in runs if r[0] == "engine")
        s = synthesize(d, root=root, ice40="never")
        for inertial in (False, True):
            g = measure_glitch(d, s, gating="icg", delays="liberty", inertial=inertial,
                               workload=(vectors, info), max_ops=dots * length)
            out.append({"design": d.label, "datapath": key[0], "n": key[1], "gating": "icg",
                        "delays": "liberty " + ("inertial" if inertial else "transport"),
                        "zero_delay_pj": round(g["per_op"]["zero_delay_pj"] * length, 1),
                        "timed_pj": round(g["per_op"]["timed_pj"] * length, 1),
                        "glitch_share": round(g["glitch_share"], 4),
                        "glitch_share_logic": round(g["glitch_share_logic"], 4)})
    return out


if __name__ == "__main__":
    sys.exit(main())
