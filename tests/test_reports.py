"""The reports (issue 14): one provenance record in every JSON report, the JSON Schemas of
``synth.json`` and ``headline.json`` (real reports validate, broken ones fail saying where),
OpenSTA's fmax in the synthesis tables, and the self-contained HTML page (well-formed, and
rendered by a real headless Chromium when there is one)."""

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jschon import JSON, URI, JSONSchema, LocalSource, create_catalog

import quantrtl
from quantrtl.synth import provenance as prov
from quantrtl.synth.report_html import main as html_main
from quantrtl.synth.report_html import write_html
from quantrtl.synth import report

# jschon's URI checks call a deprecated rfc3986 method on every reference.
pytestmark = pytest.mark.filterwarnings("ignore:Please use rfc3986:DeprecationWarning")

SCHEMAS = Path(quantrtl.__file__).parent / "schemas"
BASE = "https://quantrtl.local/schemas/"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


@pytest.fixture(scope="module")
def schemas():
    catalog = create_catalog("2020-12", name="quantrtl-reports")
    catalog.add_uri_source(URI(BASE), LocalSource(SCHEMAS.resolve(), suffix=""))
    return {name: JSONSchema.loadf(SCHEMAS / f"{name}.schema.json", catalog="quantrtl-reports")
            for name in ("synth", "headline", "provenance")}


def problems(schema, doc) -> list[str]:
    """``"location: message"`` of every failing leaf; empty when ``doc`` is valid."""
    result = schema.evaluate(JSON(json.loads(json.dumps(doc))))
    if result.valid:
        return []
    errors = result.output("basic")["errors"]
    leaves = [e for e in errors
              if not any(o is not e and o["instanceLocation"].startswith(e["instanceLocation"])
                         and o["keywordLocation"].startswith(e["keywordLocation"])
                         for o in errors)]
    return [f"{e['instanceLocation'] or '/'}: {e['error']}" for e in leaves]


def test_the_schemas_are_valid_2020_12(schemas):
    for name, schema in schemas.items():
        assert schema.validate().valid, name
        assert json.loads((SCHEMAS / f"{name}.schema.json").read_text())["$schema"] \
            == "https://json-schema.org/draft/2020-12/schema"


# --------------------------------------------------------------------------- provenance

def test_provenance_has_every_required_key(schemas):
    p = prov.provenance(parameters={"jobs": 2}, liberty=SCHEMAS / "synth.schema.json",
                        seed=3)
    assert set(prov.REQUIRED) <= set(p) and p["seed"] == 3 and p["parameters"] == {"jobs": 2}
    assert problems(schemas["provenance"], p) == []
    assert len(p["liberty_sha256"]) == 64 and p["python_version"] and p["numpy_version"]
    assert p["amaranth_version"] and p["verilator_version"]
    assert prov.provenance()["liberty_sha256"] is None            # no liberty used


def test_provenance_survives_missing_and_hanging_tools(monkeypatch, schemas):
    def hang(argv, **kwargs):
        raise subprocess.TimeoutExpired(argv, kwargs.get("timeout"))

    prov._program_version.cache_clear()
    monkeypatch.setattr(prov.subprocess, "run", hang)
    monkeypatch.setattr("quantrtl.synth.opensta.opensta_status", lambda: (False, "missing"))
    try:
        p = prov.provenance(liberty="/nonexistent.lib")
    finally:
        prov._program_version.cache_clear()
    assert p["git_sha"] is None and p["git_dirty"] is None
    for key in ("yosys_version", "nextpnr_version", "iverilog_version", "opensta_version",
                "liberty_sha256"):
        assert p[key] is None, key
    assert problems(schemas["provenance"], p) == []


def test_bench_and_fuzz_use_the_shared_record():
    from quantrtl import fuzz
    from quantrtl.bench import common
    p = common.provenance(seed=1, quick=True, command="python -m quantrtl.bench", suites=["x"])
    assert set(prov.REQUIRED) <= set(p)
    assert (p["commit"], p["dirty"]) == (p["git_sha"], p["git_dirty"])
    assert p["versions"]["yosys"] == p["yosys_version"] and p["suites"] == ["x"]
    f = fuzz.provenance(5)
    assert set(prov.REQUIRED) <= set(f) and f["seed"] == 5 and f["hypothesis"]


# --------------------------------------------------------------------------- synth.json

@pytest.fixture(scope="module")
def synth_reports(tech, tmp_path_factory):
    """A real ``python -m quantrtl.synth`` run on one small design (no energy)."""
    from quantrtl.synth.__main__ import main
    work = tmp_path_factory.mktemp("reports")
    out = work / "reports"
    assert main(["--block", "mac", "--param", "width=4", "--param", "acc_width=12",
                 "--no-energy", "--root", str(work / "synth"), "-o", str(out), "-j", "1"]) == 0
    return out


def test_real_synth_report_validates(synth_reports, schemas):
    doc = json.loads((synth_reports / "synth.json").read_text())
    assert problems(schemas["synth"], doc) == []
    p = doc["meta"]["provenance"]
    assert p["parameters"]["designs"] == ["mac(acc_width=12,width=4)"]
    assert len(p["liberty_sha256"]) == 64 and p["yosys_version"].startswith("Yosys")


def test_synth_rows_carry_opensta_fmax(synth_reports):
    from quantrtl.synth.opensta import opensta_status
    doc = json.loads((synth_reports / "synth.json").read_text())
    (row,) = doc["designs"]
    (result,) = doc["results"]
    timing = result["synth"]["timing_opensta"]
    md = (synth_reports / "synth.md").read_text()
    assert "fmax MHz (OpenSTA)" in md and "fmax MHz (ours)" in md and "figure of record" in md
    if opensta_status()[0]:
        assert row["fmax_mhz_opensta"] == timing["fmax_mhz_opensta"] > 0
        assert row["fmax_icg_mhz_opensta"] > 0 and "opensta_note" not in row
    else:
        assert row["fmax_mhz_opensta"] is None and row["opensta_note"]
    assert (synth_reports / "index.html").exists()


def test_opensta_columns_are_blank_when_skipped_or_failed():
    ok = {"fmax_mhz_opensta": 123.4, "worst_slack_ns": 1.0}
    assert report.opensta_columns({"timing_opensta": ok, "timing_icg_opensta": ok}) == {
        "fmax_mhz_opensta": 123.4, "fmax_icg_mhz_opensta": 123.4}
    cols = report.opensta_columns({"timing_opensta": {"skipped": "OpenSTA is not installed"},
                                   "timing_icg_opensta": {"error": "sta crashed"}})
    assert cols == {"fmax_mhz_opensta": None, "fmax_icg_mhz_opensta": None,
                    "opensta_note": "OpenSTA is not installed; sta crashed"}
    table = report.markdown_table([{"design": "d", **cols}], ["design", "fmax_mhz_opensta"])
    assert table.splitlines()[-1] == "| d |  |"


def test_the_schema_row_is_the_report_row():
    schema = json.loads((SCHEMAS / "synth.schema.json").read_text())
    assert set(schema["$defs"]["row"]["properties"]) == set(report.ROW_FIELDS)


# --------------------------------------------------------------------------- headline.json

@pytest.fixture(scope="module")
def headline_doc(tmp_path_factory):
    from test_headline import LENGTH, _fake_results

    from quantrtl import headline as h
    out = tmp_path_factory.mktemp("headline")
    rows = h.headline_rows(_fake_results(), lengths=(LENGTH,), workloads=("minilm",))
    meta = {"seconds": 1.0, "designs": 4, "jobs": 1, "method": h.METHOD, "glitch": [],
            "pes": [1], "bits": [3], "lengths": [LENGTH], "workloads": ["minilm"]}
    h.write_reports(out, rows, _fake_results(), meta)
    return out, json.loads((out / "headline.json").read_text())


def test_headline_report_validates(headline_doc, schemas):
    out, doc = headline_doc
    assert problems(schemas["headline"], doc) == []
    assert doc["meta"]["provenance"]["parameters"] == {"pes": [1], "bits": [3],
                                                       "lengths": [384],
                                                       "workloads": ["minilm"], "jobs": 1}
    assert (out / "index.html").exists()


def test_broken_reports_fail_saying_where(headline_doc, schemas):
    _, doc = headline_doc
    broken = json.loads(json.dumps(doc))
    del broken["meta"]["provenance"]["yosys_version"]
    broken["rows"][0]["energy_pj"] = "a lot"
    broken["meta"]["provenance"]["git_dirty"] = "yes"
    found = problems(schemas["headline"], broken)
    assert any(m.startswith("/meta/provenance:") and "yosys_version" in m for m in found), found
    assert any(m.startswith("/rows/0/energy_pj:") and "number" in m for m in found), found
    assert any(m.startswith("/meta/provenance/git_dirty:") for m in found), found
    assert problems(schemas["headline"], {**doc, "extra": 1})      # the top level is ours
    synth = {"meta": {"designs": 0, "jobs": 1, "seconds": 0.0,
                      "provenance": doc["meta"]["provenance"]}, "assumptions": {},
             "designs": [{"design": "x", "kind": "block", "block": "x", "params": "{}",
                          "fmax_mhz_opensta": "fast"}], "sanity": [], "sweep": [],
             "results": [{"design": {"kind": "block", "label": "x", "name": "x",
                                     "params": {}},
                          "synth": {"generic": {}, "osu018": {}, "osu018_icg": {},
                                    "timing": {}, "timing_icg": {}, "ice40": {},
                                    "timing_opensta": {"fmax_mhz_opensta": 1.0}}}]}
    found = problems(schemas["synth"], synth)
    assert any(m.startswith("/designs/0/fmax_mhz_opensta:") for m in found), found
    assert any(m.startswith("/results/0/synth/timing_opensta") for m in found), found


# --------------------------------------------------------------------------- HTML

class _Page(HTMLParser):
    """Tags, unclosed ones and resources of a page (well-formed: every non-void tag closed
    in order)."""

    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.errors, self.sources, self.text = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.sources += [v for k, v in attrs if k in ("src", "href")]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"</{tag}> out of order")

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture
def reports_dir(tmp_path, headline_doc):
    (tmp_path / "headline.json").write_text(json.dumps(headline_doc[1]))
    (tmp_path / "synth.json").write_text(json.dumps({
        "meta": {"provenance": {"date": "2026-01-01T00:00:00+00:00", "git_sha": None}},
        "designs": [{"design": "mul8 <&>", "fmax_mhz": 100.0, "fmax_mhz_opensta": 95.5}]}))
    (tmp_path / "blocks.png").write_bytes(PNG)
    return tmp_path


def test_html_page_is_well_formed_and_self_contained(reports_dir):
    path = write_html(reports_dir)
    page = _Page()
    page.feed(path.read_text())
    page.close()
    assert not page.errors and not page.stack, (page.errors, page.stack)
    assert page.tags.count("table") == 2 and page.tags.count("img") == 1
    assert page.sources and all(s.startswith("data:image/png;base64,") for s in page.sources)
    text = "".join(page.text)
    assert "mul8 <&>" in text and "95.5" in text and "fmax MHz (OpenSTA)" in text
    assert html_main([str(reports_dir)]) == 0
    assert html_main([str(reports_dir / "nope")]) == 2


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="no chromium/chromium-browser on PATH "
                    "(make browser installs it)")
def test_html_page_renders_in_headless_chromium(reports_dir, tmp_path):
    path = write_html(reports_dir)
    shot = tmp_path / "page.png"
    args = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(args + ["--dump-dom", path.as_uri()], capture_output=True,
                         text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<table>" in dom.stdout and "mul8 &lt;&amp;&gt;" in dom.stdout
    assert "fmax MHz (OpenSTA)" in dom.stdout
    subprocess.run(args + [f"--screenshot={shot}", "--window-size=1200,900", path.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == PNG[:8]
