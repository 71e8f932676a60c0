"""Tables from flow results: per-design rows under the three gating models, the Horowitz
sanity check, JSON/CSV/Markdown (and the HTML page, :mod:`quantrtl.synth.report_html`).

``synth.json`` carries ``meta.provenance`` (:func:`quantrtl.synth.provenance.provenance`) and
follows ``quantrtl/schemas/synth.schema.json``.  Timing has two sources: our STA
(:mod:`synth.sta`, ``fmax_mhz``: the one the energy model's slews come from) and OpenSTA
(:mod:`synth.opensta`, ``fmax_mhz_opensta``: the figure of record; blank when it was
skipped or failed)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from quantrtl.synth.provenance import provenance
from quantrtl.synth.report_html import write_html

from .tech import TechError, osu018

__all__ = ["design_row", "write_reports", "markdown_table"]

ROW_FIELDS = ["design", "kind", "block", "params", "flow", "generic_cells", "transistors",
              "flip_flops", "osu_cells", "area_um2", "area_icg_um2", "gated_flip_flops",
              "icg_cells", "seq_share", "critical_path_ns", "fmax_mhz", "fmax_icg_mhz",
              "fmax_mhz_opensta", "fmax_icg_mhz_opensta", "opensta_note",
              "logic_depth", "ice40_lut4", "ice40_carry", "ice40_ff", "ice40_note",
              "ice40_device", "fmax_mhz_ice40_pnr", "ice40_logic_cells", "ice40_pnr_note", "op",
              "length", "pj_per_op", "pj_per_op_icg", "pj_per_op_ideal", "pj_per_op_datapath",
              "clock_share", "clock_share_icg", "toggle_rate", "pj_per_dot_product",
              "cycles_per_dot_product", "error"]


def design_row(result: dict, length: str | None = None) -> dict:
    d = result["design"]
    row = {"design": d["label"], "kind": d["kind"], "block": d["name"],
           "params": json.dumps(d["params"], sort_keys=True),
           "flow": json.dumps(d.get("flow", {}), sort_keys=True)}
    if "error" in result:
        row["error"] = result["error"].splitlines()[0][:200]
    s = result.get("synth")
    if s:
        icg = s["osu018_icg"]
        row.update(generic_cells=s["generic"]["cells"], transistors=s["generic"]["transistors"],
                   flip_flops=s["generic"]["flip_flops"], osu_cells=s["osu018"]["cells"],
                   area_um2=s["osu018"]["area_um2"], area_icg_um2=icg["area_um2"],
                   gated_flip_flops=icg["gated_flip_flops"], icg_cells=icg["icg_cells"],
                   seq_share=s["osu018"]["sequential_share"],
                   critical_path_ns=s["timing"]["critical_path_ns"],
                   fmax_mhz=s["timing"]["fmax_mhz"], fmax_icg_mhz=s["timing_icg"]["fmax_mhz"],
                   logic_depth=s["timing"]["logic_depth"],
                   ice40_lut4=s["ice40"]["lut4"], ice40_carry=s["ice40"]["carry"],
                   ice40_ff=s["ice40"]["ff"])
        if s["ice40"].get("skipped"):
            row["ice40_note"] = s["ice40"]["skipped"]
        row.update(opensta_columns(s), **ice40_pnr_columns(s))
    energies = result.get("energy") or {}
    if energies:
        key = length if length in energies else next(iter(energies))
        e, g = energies[key]["none"], energies[key]["icg"]
        row.update(op=e["workload"]["op"], length=e["workload"].get("length"),
                   pj_per_op=e["pj_per_op"], pj_per_op_icg=g["pj_per_op"],
                   pj_per_op_ideal=g["pj_per_op_ideal"],
                   pj_per_op_datapath=e["pj_per_op_datapath"],
                   clock_share=round(e["clock_pj"] / e["total_pj"], 3) if e["total_pj"] else 0,
                   clock_share_icg=(round(g["clock_pj"] / g["total_pj"], 3)
                                    if g["total_pj"] else 0),
                   toggle_rate=e["toggle_rate"],
                   pj_per_dot_product=e.get("pj_per_dot_product"),
                   cycles_per_dot_product=e.get("cycles_per_dot_product"))
    return row


def ice40_pnr_columns(synth: dict) -> dict:
    """The iCE40 place and route (:mod:`synth.ice40_pnr`): ``ice40_device`` (device and
    package), ``fmax_mhz_ice40_pnr`` (post-route), ``ice40_logic_cells`` (the wrapper's
    included); blank with ``ice40_pnr_note`` where it was skipped or failed."""
    pnr = synth.get("ice40_pnr") or {"skipped": "not run"}
    if "fmax_mhz_ice40_pnr" not in pnr:
        return {"ice40_pnr_note": pnr.get("skipped") or pnr.get("error") or "not run"}
    return {"ice40_device": f"{pnr['device']}/{pnr['package']}",
            "fmax_mhz_ice40_pnr": pnr["fmax_mhz_ice40_pnr"],
            "ice40_logic_cells": pnr["ice40_logic_cells"]}


def opensta_columns(synth: dict) -> dict:
    """``fmax_mhz_opensta`` and ``fmax_icg_mhz_opensta`` from OpenSTA's timing of the two
    netlists (``None``, a blank cell, when it was skipped or failed; ``opensta_note`` says
    why)."""
    out, notes = {}, []
    for view, column in (("timing_opensta", "fmax_mhz_opensta"),
                         ("timing_icg_opensta", "fmax_icg_mhz_opensta")):
        timing = synth.get(view) or {"skipped": "not run"}
        out[column] = timing.get("fmax_mhz_opensta")
        why = timing.get("skipped") or timing.get("error")
        if why and why not in notes:
            notes.append(why)
    if notes:
        out["opensta_note"] = "; ".join(notes)[:200]
    return out


def markdown_table(rows: list, columns: list, headers: list | None = None) -> str:
    headers = headers or columns
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c, "")
            if c.endswith("_saving") and isinstance(v, (int, float)) \
                    and not isinstance(v, bool):
                v = f"{v:+.0%}" if v else "0"
            elif isinstance(v, float):
                v = f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
            elif isinstance(v, int) and not isinstance(v, bool):
                v = f"{v:,}"
            cells.append(str(v) if v is not None else "")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def _write_csv(path: Path, rows: list, fields: list) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def write_reports(out: Path, results: list, *, sweep: list, assumptions: dict, sanity: dict,
                  meta: dict, plots: list) -> dict:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [design_row(r) for r in results]
    sweep_rows = [design_row(r) for r in sweep]
    sanity_rows = sanity_check(results, sanity)
    labels = [r["design"]["label"] for r in results + sweep]
    meta = {**meta, "provenance": report_provenance(
        results + sweep, {"designs": labels, "jobs": meta.get("jobs")})}
    doc = {"meta": meta, "assumptions": assumptions, "designs": rows,
           "sanity": sanity_rows, "sweep": sweep_rows, "results": results + sweep}
    (out / "synth.json").write_text(json.dumps(doc, indent=1, sort_keys=True, default=str) + "\n")
    _write_csv(out / "synth.csv", rows, ROW_FIELDS)
    if sweep_rows:
        _write_csv(out / "sweep.csv", sweep_rows, ROW_FIELDS)
    (out / "synth.md").write_text(_markdown(rows, sanity_rows, sweep_rows, assumptions, meta,
                                            plots))
    write_html(out)
    return doc


def report_provenance(results: list, parameters: dict) -> dict:
    """``meta.provenance`` of a synthesis report (``synth.json``, ``headline.json``): the
    shared record, with the liberty the designs were mapped onto (when any was) and the
    run's ``parameters``."""
    liberty = None
    if any(r.get("synth") for r in results):
        try:
            liberty = osu018()[0]
        except TechError:
            pass
    return provenance(liberty=liberty, parameters=parameters)


def sanity_check(results: list, ref: dict) -> list:
    """Measured datapath energy (switching + combinational internal, no flip-flops or
    clock) of the helper multiplier/adder against Horowitz's scaled figures, plus the
    INT8 MAC block's full energy per MAC against mul + add."""
    checks = []
    pairs = {"mul8": ("int8_mul_pj", "INT8 multiply"), "add32": ("int32_add_pj", "INT32 add"),
             "add8": ("int8_add_pj", "INT8 add")}
    for r in results:
        label = r["design"]["label"]
        runs = next(iter((r.get("energy") or {}).values()), None)
        if runs is None:
            continue
        e = runs["none"]
        if r["design"]["kind"] == "helper" and label in pairs:
            key, what = pairs[label]
            checks.append({"operation": what, "design": label,
                           "measured_pj": e["pj_per_op_datapath"],
                           "measured_with_registers_pj": e["pj_per_op"],
                           "horowitz_scaled_pj": round(ref[key], 3),
                           "ratio": round(e["pj_per_op_datapath"] / ref[key], 2)})
        if r["design"]["kind"] == "block" and r["design"]["name"] == "mac" \
                and r["design"]["params"].get("lanes") == 1 \
                and r["design"]["params"].get("pes", 1) == 1:
            checks.append({"operation": "INT8 MAC (mul + INT32 add)", "design": label,
                           "measured_pj": e["pj_per_op_datapath"],
                           "measured_with_registers_pj": e["pj_per_op"],
                           "horowitz_scaled_pj": round(ref["int8_mac_pj"], 3),
                           "ratio": round(e["pj_per_op_datapath"] / ref["int8_mac_pj"], 2)})
    return checks


def _markdown(rows, sanity_rows, sweep_rows, assumptions, meta, plots) -> str:
    parts = ["# quantrtl synthesis report", "",
             f"Generated by `python -m quantrtl.synth` ({meta.get('designs')} designs, "
             f"{meta.get('cached', 0)} of them synthesized before and taken from the cache, "
             f"{meta.get('jobs')} parallel jobs, {meta.get('seconds')} s).  The INT8 vs "
             f"DNA-TEQ comparison is `python -m quantrtl.headline` (headline.md).", ""]
    parts += ["## Designs", "", markdown_table(rows, [
        "design", "transistors", "flip_flops", "area_um2", "area_icg_um2", "gated_flip_flops",
        "icg_cells", "fmax_mhz_opensta", "fmax_icg_mhz_opensta", "fmax_mhz", "fmax_icg_mhz",
        "ice40_lut4", "ice40_carry", "ice40_ff", "ice40_device", "fmax_mhz_ice40_pnr",
        "ice40_logic_cells", "op", "pj_per_op", "pj_per_op_icg",
        "pj_per_op_ideal", "clock_share", "clock_share_icg"], [
        "design", "transistors (cmos)", "FFs", "area um^2", "area gated", "gated FFs", "ICGs",
        "fmax MHz (OpenSTA)", "fmax gated (OpenSTA)", "fmax MHz (ours)", "fmax gated (ours)",
        "LUT4", "carry", "iCE40 FF", "iCE40 device", "iCE40 fmax (routed)", "iCE40 cells",
        "operation", "pJ/op none", "pJ/op icg", "pJ/op ideal",
        "clock share", "clock share icg"]), ""]
    parts += ["Timing: the OpenSTA columns are the figure of record (OpenSTA on the mapped "
              "netlist with the liberty's delay tables, `synth.opensta`); the `ours` columns "
              "are the flow's own STA (`synth.sta`), whose slews the energy model uses.", ""]
    skipped = {}
    for r in rows + sweep_rows:
        if r.get("opensta_note"):
            skipped.setdefault(r["opensta_note"], []).append(r["design"])
    if skipped:
        parts += ["OpenSTA columns left empty:", ""] + [f"- {', '.join(designs)}: {why}"
                                                        for why, designs in skipped.items()]
        parts += [""]
    unmapped = [r for r in rows + sweep_rows if r.get("ice40_note")]
    if unmapped:
        parts += ["iCE40 columns left empty:", ""] + [f"- {r['design']}: {r['ice40_note']}"
                                                      for r in unmapped] + [""]
    unrouted = [r for r in rows + sweep_rows
                if r.get("ice40_pnr_note") and not r.get("ice40_note")]
    if unrouted:
        parts += ["iCE40 place and route left empty:", ""] + [
            f"- {r['design']}: {r['ice40_pnr_note']}" for r in unrouted] + [""]
    parts += ["iCE40: `nextpnr-ice40` places and routes each design on the smallest iCE40 "
              "that holds it (in a three-pin wrapper that registers every port: one logic "
              "cell per port bit, counted in the cells), at `--freq 100 --seed 1`; the fmax "
              "is post-route.", ""]
    errors = [r for r in rows + sweep_rows if r.get("error")]
    if errors:
        parts += ["Errors:", ""] + [f"- {r['design']}: {r['error']}" for r in errors] + [""]
    parts += ["Gating models: `none` is the netlist without clock gating; `icg` the netlist "
              "with integrated clock-gating cells (built from the library's latch and AND) "
              "for register groups that share an enable, priced like every other cell; "
              "`ideal` the gated netlist with every flip-flop clocked only when it changes and "
              "the gating cells free.  Both netlists have the same clock tree.", ""]
    parts += ["## Sanity check against Horowitz (ISSCC 2014)", "",
              "45 nm / 0.9 V figures scaled to 180 nm / 1.8 V by (180/45) x (1.8/0.9)^2 = "
              "16 (E ~ C V^2, C ~ feature size).  'Measured' is the combinational datapath "
              "only (switching + internal energy of the logic gates), which is what "
              "Horowitz's figures price; 'with registers' adds flip-flops and clock.", ""]
    if sanity_rows:
        parts += [markdown_table(sanity_rows, ["operation", "design", "measured_pj",
                                               "measured_with_registers_pj",
                                               "horowitz_scaled_pj", "ratio"]), ""]
    if sweep_rows:
        parts += ["## Sweep", "", markdown_table(sweep_rows, [
            "design", "transistors", "area_um2", "area_icg_um2", "fmax_mhz_opensta",
            "fmax_mhz", "ice40_lut4", "ice40_carry", "ice40_ff", "pj_per_op", "pj_per_op_icg",
            "pj_per_op_ideal"]), ""]
    parts += ["## Method and assumptions", ""]
    parts += [f"- **{k}**: {v}" for k, v in assumptions.items()]
    if plots:
        parts += ["", "## Plots", ""] + [f"![{Path(p).stem}]({Path(p).name})" for p in plots]
    return "\n".join(parts) + "\n"
