"""The summary printed at the end of ``make all``: emitted RTL, simulation results, functional
coverage and the synthesis headline."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree


def _build_params(build_dir: Path, block: str) -> str:
    """The parameters recorded in the header of the build's Verilog."""
    source = build_dir / f"quantrtl_{block}.v"
    if source.exists():
        for line in source.read_text().splitlines()[:3]:
            if line.startswith("// parameters: "):
                params = json.loads(line.removeprefix("// parameters: "))
                return " ".join(f"{k}={v}" for k, v in params.items())
    return build_dir.name


def _results(sim_dir: Path):
    rows = []
    for xml in sorted(sim_dir.glob("*/*/results-*.xml")):
        sim, build = xml.parent.parent.name, xml.parent.name
        block = build.split("-", 1)[0]
        root = ElementTree.parse(xml).getroot()
        tests = failed = 0
        for suite in root.iter("testsuite"):
            tests += int(suite.get("tests", 0))
            failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        rows.append((sim, block, xml.stem.removeprefix("results-"), tests, failed,
                     _build_params(xml.parent, block)))
    return rows


def _synthesis(reports: Path) -> list:
    doc_path = reports / "synth.json"
    out = ["", f"synthesis reports in {reports}/ (synth.md, CSV, JSON, PNG):"]
    if not doc_path.exists():
        return out + ["  none yet: run 'make synth'"]
    doc = json.loads(doc_path.read_text())
    meta = doc.get("meta", {})
    out.append(f"  {meta.get('designs')} designs in {meta.get('seconds')} s"
               f" ({meta.get('cached', 0)} of them from the cache)")
    head_path = reports / "headline.json"
    if not head_path.exists():
        return out + ["  INT8 vs DNA-TEQ: none yet: run 'make headline'"]
    head = json.loads(head_path.read_text())
    rows = [r for r in head.get("rows", []) if "error" not in r and r["gating"] == "icg"
            and r["workload"] == "minilm" and r["scope"] == "datapath" and r["pes"] == 1]
    if rows:
        n = min(r["length"] for r in rows)
        out.append(f"  headline (icg gating, MiniLM, P=1, N={n}; energy per dot product, "
                   f"vs INT8):")
        for r in rows:
            if r["length"] == n:
                label = "INT8 MAC + requant" if r["datapath"] == "int8" else \
                    f"DNA-TEQ n={r['n']}"
                out.append(f"    {label:<24} {r['area_um2']:>12,.0f} um^2 "
                           f"{r['energy_pj']:>10,.1f} pJ {r.get('energy_ratio', 1.0):>7.2f}x")
    return out


def _coverage(reports: Path, sim_dir: Path) -> list:
    """The functional coverage table: ``reports/coverage.json`` (written at the end of a
    pytest session that simulated), else a merge of the run files beside ``sim_dir``."""
    from quantrtl.tb.coverage import merge, run_files, table
    path = reports / "coverage.json"
    runs = sim_dir.parent / "coverage"
    if path.exists():
        report, where = json.loads(path.read_text()), str(path)
    elif run_files(runs):
        report, where = merge(directory=runs), f"{runs}/ (not merged yet)"
    else:
        return ["", "functional coverage: none yet: run 'make sim' or 'make test'"]
    meta = report.get("meta", {})
    out = ["", f"functional coverage in {where}: {meta.get('runs', 0)} runs on "
               f"{', '.join(meta.get('simulators', [])) or '-'} (latest run of each):"]
    return out + table(report)


def summarise(rtl_dir: Path, sim_dir: Path, reports: Path | None = None) -> str:
    out = ["", "== quantrtl summary ==", "", f"RTL in {rtl_dir}/:"]
    out.append(f"  {'block':<10} {'file':<24} {'lines':>6} {'latency':>8}  parameters")
    for meta in sorted(rtl_dir.glob("quantrtl_*.json")):
        if meta.name.endswith(".metadata.json"):      # Amaranth's interface metadata
            continue
        info = json.loads(meta.read_text())
        v = meta.with_suffix(".v")
        lines = len(v.read_text().splitlines()) if v.exists() else 0
        out.append(f"  {info['block']:<10} {v.name:<24} {lines:>6} {str(info['latency']):>8}  "
                   f"{json.dumps(info['params'], sort_keys=True)}")
    rows = _results(sim_dir)
    out += ["", f"cocotb results in {sim_dir}/ (latest run of each build):"]
    if not rows:
        out.append("  none yet: run 'make sim'")
    else:
        out.append(f"  {'simulator':<10} {'block':<10} {'testbench':<18} {'tests':>6} "
                   f"{'failed':>7}  parameters")
        for sim, block, tb, tests, failed, key in rows:
            out.append(f"  {sim:<10} {block:<10} {tb:<18} {tests:>6} {failed:>7}  {key}")
        total = sum(r[3] for r in rows)
        bad = sum(r[4] for r in rows)
        out.append(f"  total: {total} cocotb tests, {bad} failed")
    if reports is not None:
        out += _coverage(reports, sim_dir)
        out += _synthesis(reports)
    return "\n".join(out)
