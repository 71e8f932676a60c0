"""The experiments of ``quantrtl experiment`` / ``make experiments``.

- ``fit``: the paper's Table I: which distribution fits each tensor best (RSS, lower wins);
- ``dnateq``: Algorithm-1 search per layer (bits, RMAE, base) and the end metric at several
  thresholds, against the paper's 40% average compression over INT8;
- ``dqa``: activations at n = 3, 4, 5 bits, directly and with DQA (m extra bits on the
  important channels, ranked greedily on calibration data), the end metric, and the Huffman
  compression ratio of the shifting errors, against the paper's summary (up to 29% better
  accuracy at 3 bits, compression up to 1.12);
- INT8 (per-channel symmetric weights, per-tensor asymmetric activations) is the baseline row
  of every table.

Calibration inputs fit the quantizers; the metric uses disjoint evaluation inputs.  Each
experiment prints progress, ends with a Markdown table, and writes ``<name>.csv``,
``<name>.md``, ``<name>.json`` (and a PNG plot) into the output directory.
"""

from __future__ import annotations

import csv
import json
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

import quantrtl.experiments.dnateq_search as ds
from quantrtl.golden import dnateq as dt
from quantrtl.golden import dqa
from quantrtl.golden import huffman
from quantrtl.spec import check_choice
from quantrtl.synth.progress import Progress
from .int8 import int8_transform
from .workloads import load_workload

__all__ = ["EXPERIMENTS", "run_experiment"]

EXPERIMENTS = ("fit", "dnateq", "dqa")


def _log(msg):
    print(f"[experiment] {msg}", flush=True)


@contextmanager
def _steps(total: int, desc: str):
    """``tell(msg)`` once per step of an experiment: a bar on a terminal, else the
    ``[experiment] msg`` line (:class:`quantrtl.synth.progress.Progress`)."""
    with Progress(total, desc, unit="step") as tell:
        yield lambda msg: tell(f"[experiment] {msg}", label=msg.split(":")[0])


def _write(out: Path, name: str, rows: list[dict], summary: dict, title: str) -> str:
    out.mkdir(parents=True, exist_ok=True)
    cols = list(rows[0]) if rows else []
    with open(out / f"{name}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=cols)
        writer.writeheader()
        writer.writerows(rows)

    def fmt(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    md = [f"## {title}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(fmt(r[c]) for c in cols) + " |" for r in rows]
    md += [""] + [f"- {k}: {fmt(v)}" for k, v in summary.items()]
    text = "\n".join(md) + "\n"
    (out / f"{name}.md").write_text(text)
    (out / f"{name}.json").write_text(json.dumps({"rows": rows, "summary": summary},
                                                 indent=2, default=float) + "\n")
    return text


def _plot(path: Path, xs, series: dict, xlabel: str, ylabel: str, title: str):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, ys in series.items():
        ax.plot(xs, ys, marker="o", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fit_layer(workload, acts, name) -> list:
    rows = []
    for kind, tensor in (("weights", workload.model.weight(name)), ("activations", acts[name])):
        rss = ds.distribution_fit(tensor)
        best = min(rss, key=rss.get)
        rows.append({"layer": name, "tensor": kind, "best": best,
                     **{f"rss_{d}": float(v) for d, v in rss.items()}})
    return rows


def experiment_fit(workload, out: Path, layers=None) -> str:
    acts = workload.activations()
    rows = []
    names = list(layers or workload.layers())
    with _steps(len(names), f"fit {workload.name}") as tell:
        for name in names:
            rows += _fit_layer(workload, acts, name)
            tell(f"fit {workload.name} {name}: weights {rows[-2]['best']}, "
                 f"activations {rows[-1]['best']}")
    wins = {}
    for r in rows:
        wins[r["best"]] = wins.get(r["best"], 0) + 1
    expon_beats = sum(r["rss_expon"] < min(r["rss_uniform"], r["rss_norm"], r["rss_laplace"])
                      for r in rows)
    summary = {"tensors": len(rows), "best fit counts": json.dumps(wins, sort_keys=True),
               "exponential beats uniform, normal and Laplace on": f"{expon_beats} of {len(rows)}"}
    return _write(out, f"fit_{workload.name}", rows, summary,
                  f"Distribution fit per tensor ({workload.name}; paper Table I)")


def _dnateq_transform(results):
    params = {r.name: r for r in results}

    def transform(name, x, w):
        r = params.get(name)
        if r is None:
            return x, w
        return (dt.dequantize(dt.quantize(x, r.acts), r.acts).astype(x.dtype),
                dt.dequantize(dt.quantize(w, r.weights), r.weights).astype(w.dtype))
    return transform


def experiment_dnateq(workload, out: Path, thresholds=(0.05, 0.10, 0.15, 0.20, 0.30),
                      layers=None) -> str:
    acts = workload.activations()
    names = layers or workload.layers()
    int8 = workload.metric(int8_transform(workload))
    rows = [{"scheme": "INT8", "threshold": "-", "avg_bits": 8.0, "compression": 0.0,
             "metric": int8, "search_s": 0.0}]
    per_layer = None
    with _steps(len(thresholds), f"dnateq {workload.name}") as tell:
        for thr in thresholds:
            t0 = time.perf_counter()
            res = ds.search_model(((n, workload.model.weight(n), acts[n]) for n in names),
                                  thr_w=thr, thr_act=thr)
            seconds = time.perf_counter() - t0
            metric = workload.metric(_dnateq_transform(res["layers"]))
            rows.append({"scheme": "DNA-TEQ", "threshold": thr, "avg_bits": res["avg_bits"],
                         "compression": res["compression"], "metric": metric,
                         "search_s": seconds})
            tell(f"dnateq {workload.name} thr {thr}: {res['avg_bits']:.2f} bits, "
                 f"{100 * res['compression']:.1f}% compression, "
                 f"{workload.metric_name} {metric:.4f}, search {seconds:.1f} s")
            if abs(thr - 0.15) < 1e-9 or per_layer is None:
                per_layer = res["layers"]
    layer_rows = [{"layer": r.name, "bits": r.n, "base": r.b, "rmae_w": r.rmae_w,
                   "rmae_act": r.rmae_act, "met": r.met, "seconds": r.seconds}
                  for r in per_layer]
    _write(out, f"dnateq_layers_{workload.name}", layer_rows, {},
           f"DNA-TEQ per layer ({workload.name})")
    dn = [r for r in rows if r["scheme"] == "DNA-TEQ"]
    _plot(out / f"dnateq_{workload.name}.png", [r["avg_bits"] for r in dn],
          {"DNA-TEQ": [r["metric"] for r in dn],
           "INT8 (8 bits)": [int8] * len(dn)},
          "average bits", workload.metric_name, f"DNA-TEQ on {workload.name}")
    summary = {"metric": workload.metric_name, "float metric": workload.metric(),
               "paper": "40% average compression over INT8 with negligible loss"}
    return _write(out, f"dnateq_{workload.name}", rows, summary,
                  f"DNA-TEQ bits and end metric ({workload.name})")


def _dqa_plan(workload, n, m, ratio, step):
    """Per layer: scale, important-channel mask, from the calibration activations."""
    acts = workload.activations()
    plan = {}
    for name in workload.layers():
        x = acts[name]
        scale = dqa.calibrate_scale(x, n)
        important = np.zeros(x.shape[-1], dtype=bool)
        if ratio > 0:
            loss = dqa.output_error_loss(x, workload.model.weight(name))
            order = dqa.rank_channels(x, loss, n, m, scale=scale, step=step)
            important = dqa.important_channels(order, ratio, x.shape[-1])
        plan[name] = (scale, important)
    return plan


def _dqa_transform(plan, n, m):
    def transform(name, x, w):
        scale, important = plan[name]
        q, err = dqa.quantize(x, scale, important, n, m)
        return dqa.dequantize(q, err, scale, important, n, m).astype(x.dtype), w
    return transform


def experiment_dqa(workload, out: Path, bits=(3, 4, 5), m: int = 2, ratio: float = 0.25,
                   step: int = 4, max_length: int = 8) -> str:
    """Activations only are quantized (weights stay float), so the table isolates what
    DQA changes."""
    m = dqa._check_nm(bits[0], m)[1]
    if not 0.0 <= float(ratio) <= 1.0:
        raise ValueError(f"ratio={ratio} is out of range: allowed [0, 1]")
    int8 = workload.metric(int8_transform(workload))
    rows = [{"n": 8, "scheme": "INT8 (weights and activations)", "metric": int8,
             "errors": 0, "huffman_ratio": "-"}]
    direct_metric, dqa_metric = [], []
    with _steps(len(bits), f"dqa {workload.name}") as tell:
        for n in bits:
            direct = _dqa_plan(workload, n, m, 0.0, step)
            d = workload.metric(_dqa_transform(direct, n, m))
            t0 = time.perf_counter()
            plan = _dqa_plan(workload, n, m, ratio, step)
            rank_s = time.perf_counter() - t0
            q = workload.metric(_dqa_transform(plan, n, m))
            stream = np.concatenate([dqa.error_stream(dqa.quantize(x, *plan[name], n, m)[1],
                                                      plan[name][1])
                                     for name, x in workload.activations().items()])
            if stream.size:
                code = huffman.build_code(stream, max_length, alphabet_size=1 << m)
                enc = huffman.encode(stream, code)
                ratio_h = huffman.compression_ratio(m, stream.size, enc.nbits)
            else:
                ratio_h = float("nan")
            rows.append({"n": n, "scheme": "direct", "metric": d, "errors": 0,
                         "huffman_ratio": "-"})
            rows.append({"n": n, "scheme": f"DQA (m={m}, {ratio:.0%} important)", "metric": q,
                         "errors": int(stream.size), "huffman_ratio": ratio_h})
            direct_metric.append(d)
            dqa_metric.append(q)
            tell(f"dqa {workload.name} n={n}: direct {d:.4f}, DQA {q:.4f} "
                 f"(ranking {rank_s:.1f} s), Huffman ratio of {stream.size} errors {ratio_h:.3f}")
    _plot(out / f"dqa_{workload.name}.png", list(bits),
          {"direct": direct_metric, f"DQA m={m}": dqa_metric, "INT8": [int8] * len(bits)},
          "activation bits n", workload.metric_name, f"DQA on {workload.name}")
    summary = {"metric": workload.metric_name, "float metric": workload.metric(),
               "paper": "up to 29% better accuracy at 3 bits, Huffman compression up to 1.12"}
    return _write(out, f"dqa_{workload.name}", rows, summary,
                  f"DQA vs direct activation quantization ({workload.name})")


def run_experiment(name: str, *, workload: str, out: Path, size: int | None = None,
                   **kwargs) -> str:
    check_choice("experiment", name, EXPERIMENTS)
    t0 = time.perf_counter()
    wl = load_workload(workload, size)
    fn = {"fit": experiment_fit, "dnateq": experiment_dnateq, "dqa": experiment_dqa}[name]
    Path(out).mkdir(parents=True, exist_ok=True)
    text = fn(wl, Path(out), **kwargs)
    _log(f"{name} on {workload}: {time.perf_counter() - t0:.1f} s")
    print(text)
    return text
