"""One self-contained HTML page of the reports: ``<reports>/index.html``.

``python -m quantrtl.synth.report_html [build/reports]`` (and the end of ``make synth`` and
``make headline``, through their ``write_reports``) reads ``synth.json`` and
``headline.json`` when they are there, and every PNG plot of the directory, and writes one
page: the tables, each report's provenance, and the plots embedded as base64 ``<img>``.
No scripts, no style sheets or fonts from elsewhere: the file opens offline and can be
mailed as it is.
"""

from __future__ import annotations

import base64
import json
import sys
from html import escape
from pathlib import Path

__all__ = ["write_html", "render_html", "SYNTH_COLUMNS", "HEADLINE_COLUMNS", "main"]

SYNTH_COLUMNS = (
    ("design", "design"), ("transistors", "transistors"), ("flip_flops", "FFs"),
    ("area_um2", "area um^2"), ("area_icg_um2", "area gated"),
    ("fmax_mhz_opensta", "fmax MHz (OpenSTA)"), ("fmax_icg_mhz_opensta", "fmax gated (OpenSTA)"),
    ("fmax_mhz", "fmax MHz (ours)"), ("fmax_icg_mhz", "fmax gated (ours)"),
    ("ice40_lut4", "LUT4"), ("ice40_ff", "iCE40 FF"), ("op", "operation"),
    ("pj_per_op", "pJ/op none"), ("pj_per_op_icg", "pJ/op icg"),
    ("pj_per_op_ideal", "pJ/op ideal"), ("error", "error"))
HEADLINE_COLUMNS = (
    ("datapath", "datapath"), ("n", "n"), ("pes", "P"), ("length", "N"),
    ("workload", "workload"), ("gating", "gating"), ("scope", "scope"),
    ("area_um2", "area um^2"), ("energy_pj", "pJ / dot product"), ("energy_ratio", "x INT8"),
    ("cycles_per_dot_product", "cycles / dot product"), ("fmax_mhz", "fmax MHz"),
    ("edp_ratio", "EDP x INT8"), ("error", "error"))
PROVENANCE_KEYS = ("date", "git_sha", "git_dirty", "command", "yosys_version",
                   "opensta_version", "nextpnr_version", "liberty_sha256")
STYLE = """body{font-family:sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:90%}
th,td{border:1px solid #bbb;padding:2px 6px;text-align:right}
th{background:#eee}td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #ddd;margin:0.5em 0}"""


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def html_table(rows: list, columns) -> str:
    """A ``<table>`` of ``rows`` (dicts), ``columns`` as ``(key, header)`` pairs."""
    head = "".join(f"<th>{escape(h)}</th>" for _, h in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(_cell(r.get(k)))}</td>" for k, _ in columns)
                   + "</tr>\n" for r in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def _provenance(doc: dict) -> str:
    prov = (doc.get("meta") or {}).get("provenance") or {}
    if not prov:
        return "<p>No provenance recorded.</p>"
    items = "".join(f"<li><b>{escape(k)}</b>: {escape(_cell(prov.get(k)))}</li>"
                    for k in PROVENANCE_KEYS if k in prov)
    return f"<ul class=\"provenance\">{items}</ul>"


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    name = escape(path.stem)
    return (f"<figure><img alt=\"{name}\" src=\"data:image/png;base64,{data}\">"
            f"<figcaption>{escape(path.name)}</figcaption></figure>")


def render_html(reports: Path) -> str:
    """The page's text for the reports in ``reports``."""
    reports = Path(reports)
    parts = ["<h1>quantrtl reports</h1>"]
    synth = _load(reports / "synth.json")
    if synth is not None:
        parts += ["<h2>Synthesis (synth.json)</h2>",
                  "<p>The OpenSTA columns are the figure of record; <i>ours</i> is the flow's "
                  "own STA (synth.sta), whose slews the energy model uses.  An empty OpenSTA "
                  "cell: OpenSTA was skipped or failed for that design.</p>",
                  html_table(synth.get("designs", []), SYNTH_COLUMNS)]
        if synth.get("sweep"):
            parts += ["<h3>Sweep</h3>", html_table(synth["sweep"], SYNTH_COLUMNS)]
        parts += ["<h3>Provenance</h3>", _provenance(synth)]
    headline = _load(reports / "headline.json")
    if headline is not None:
        parts += ["<h2>INT8 vs DNA-TEQ (headline.json)</h2>",
                  html_table(headline.get("rows", []), HEADLINE_COLUMNS),
                  "<h3>Provenance</h3>", _provenance(headline)]
    if synth is None and headline is None:
        parts.append("<p>No synth.json or headline.json in this directory.</p>")
    plots = sorted(reports.glob("*.png"))
    if plots:
        parts += ["<h2>Plots</h2>"] + [_image(p) for p in plots]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>quantrtl reports</title>\n<style>\n" + STYLE + "\n</style>\n</head>\n"
            "<body>\n" + "\n".join(parts) + "\n</body>\n</html>\n")


def write_html(reports: Path) -> Path:
    """Write ``reports/index.html`` (:func:`render_html`); returns its path."""
    path = Path(reports) / "index.html"
    path.write_text(render_html(reports))
    return path


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) > 1 or args[:1] in (["-h"], ["--help"]):
        print("usage: python -m quantrtl.synth.report_html [REPORTS_DIR]  (default build/reports)",
              file=sys.stderr if len(args) > 1 else sys.stdout)
        return 2 if len(args) > 1 else 0
    reports = Path(args[0] if args else Path("build") / "reports")
    if not reports.is_dir():
        print(f"python -m quantrtl.synth.report_html: {reports} is not a directory",
              file=sys.stderr)
        return 2
    print(write_html(reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
