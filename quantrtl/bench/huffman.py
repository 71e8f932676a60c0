"""Suite ``huffman``: DQA's Huffman coding: decoder throughput, golden speed, compression.

It reports figures, it does not assert wall-clock limits; it fails if a simulated stream
differs from the golden model or the two golden decoders disagree.  Three parts:

1. **Decoded symbols per clock** of ``hw.huffman`` (default parameters, ``lanes`` 1, 2 and
   4) with a word offered every clock and the output ready with probability 1.0, 0.75,
   0.5, 0.25: the cocotb test ``quantrtl.tb.tests.test_huffman.throughput`` (skewed
   16-symbol streams, codes of at most 4 bits), every symbol checked against the golden
   model (``--sim`` picks the simulator, ``--no-sim`` skips this part).
2. **Golden speed**: :func:`golden.huffman.encode` and :func:`golden.huffman.decode`
   (vectorised) against :func:`golden.huffman.decode_bitwise` (plain Python, bit by bit),
   symbols per second on the DQA shifting errors of part 3.
3. **Compression ratio of DQA shifting errors on real activations**: the inputs of the 36
   linear layers of the pretrained all-MiniLM-L6-v2 (:mod:`quantrtl.models.minilm`,
   ``SENTENCES``; query/key/value read one input, ranked and counted once), quantized at
   ``n = 4`` bits with ``m = 1..4`` extra bits on 40 % of the channels, ranked by the
   greedy search (:func:`golden.dqa.rank_channels`, loss: the layers' output error on a
   subsample of tokens and output rows, an eighth of the channels per round); each input's
   errors coded with the optimal code of ``max_length`` 8.  The ratio is SPEC 4's
   ``m * errors / encoded bits``; with the table description counted it is reported apart.
   Without the model (not installed), synthetic Laplacian activations are used and said so.

Figures go to ``<output>/huffman.json`` and ``<output>/huffman.csv`` (section, name, params,
metric, value, unit).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .common import (Context, Progress, SuiteResult, best_time, choose_sizes, provenance,
                     simulate_figures, table, write_figures)

__all__ = ["run_bench", "summary"]

NAME = "huffman"
DESCRIPTION = ("Huffman decoder symbols per clock, golden coder speed, compression of DQA "
               "shifting errors on MiniLM (huffman.json, huffman.csv)")
READY_LEVELS = (1.0, 0.75, 0.5, 0.25)
LANES = (1, 2, 4)
N_BITS, M_BITS, RATIO, MAX_LENGTH = 4, (1, 2, 3, 4), 0.4, 8
SIZES = {  # name: (full, quick)
    "hw_symbols": (2000, 400),
    "golden_symbols": (1_000_000, 100_000),
    "bitwise_symbols": (30_000, 5_000),
    "rank_tokens": (128, 48),
    "layers": (36, 6),
}
CSV_HEADER = ("section", "name", "params", "metric", "value", "unit")

progress = Progress(NAME)


def _activations(sizes: dict):
    """``({layer: activations [tokens, in]}, {layer: weight [out, in]}, source)``."""
    layers = sizes["layers"]
    try:
        from quantrtl.models.minilm import SENTENCES, MiniLM
        model = MiniLM.load()
        _, acts = model.forward(SENTENCES, capture=True)
        names = model.linear_layers()[:layers]
        return ({n: np.asarray(acts[n], np.float64) for n in names},
                {n: np.asarray(model.weight(n), np.float64) for n in names},
                f"all-MiniLM-L6-v2, {len(SENTENCES)} sentences")
    except Exception as exc:  # the model is optional: say so and go on
        progress(f"MiniLM unavailable ({exc}); using synthetic Laplacian activations")
        rng = np.random.default_rng(0)
        acts = {f"synthetic.{k}": rng.laplace(size=(500, 384)) * rng.uniform(0.2, 3, 384)
                for k in range(layers)}
        return acts, {k: rng.standard_normal((384, 384)) for k in acts}, "synthetic"


def _input_groups(acts: dict) -> list[list[str]]:
    """Layers reading the same input (query/key/value) form one group: one ranking (loss on
    all their weights), one error stream, counted once."""
    groups: list[list[str]] = []
    for name in acts:
        if groups and np.array_equal(acts[groups[-1][0]], acts[name]):
            groups[-1].append(name)
        else:
            groups.append([name])
    return groups


def bench_compression(sizes: dict, seed: int = 1):
    from quantrtl.golden import dqa
    from quantrtl.golden.huffman import build_code, encode

    acts, weights, source = _activations(sizes)
    rng = np.random.default_rng(seed)
    rows, streams = [], {m: [] for m in M_BITS}
    groups = _input_groups(acts)
    for k, members in enumerate(groups):
        name, x = "+".join(members), acts[members[0]]
        channels = x.shape[1]
        sub = x[rng.choice(x.shape[0], min(sizes["rank_tokens"], x.shape[0]), replace=False)]
        w = np.concatenate([weights[n][rng.choice(weights[n].shape[0],
                                                  min(64 // len(members) + 1,
                                                      weights[n].shape[0]), replace=False)]
                            for n in members])
        order = dqa.rank_channels(sub, dqa.output_error_loss(sub, w), N_BITS, 3,
                                  step=max(1, channels // 8),
                                  limit=int(round(RATIO * channels)))
        mask = dqa.important_channels(order, RATIO, channels)
        scale = dqa.calibrate_scale(x, N_BITS)
        for m in M_BITS:
            q, err = dqa.quantize(x, scale, mask, N_BITS, m)
            errors = dqa.error_stream(err, mask)
            code = build_code(errors, MAX_LENGTH, alphabet_size=1 << m)
            enc = encode(errors, code, 32)
            streams[m].append(errors)
            table_bits = code.description_bits(m)
            rows.append({"layer": name, "tokens": x.shape[0], "channels": channels, "m": m,
                         "errors": int(errors.size), "encoded_bits": enc.nbits,
                         "table_bits": table_bits,
                         "ratio": m * errors.size / enc.nbits,
                         "ratio_with_table": m * errors.size / (enc.nbits + table_bits),
                         "entropy_bound": m / max(_entropy(errors, 1 << m), 1e-12)})
        progress(f"compression {k + 1}/{len(groups)} {name}: ratio at m=3 "
                 f"{rows[-2]['ratio']:.3f}")
    totals = {}
    for m in M_BITS:
        sel = [r for r in rows if r["m"] == m]
        errors = sum(r["errors"] for r in sel)
        totals[m] = {"errors": errors, "ratio": m * errors / sum(r["encoded_bits"] for r in sel),
                     "ratio_with_table": m * errors / sum(r["encoded_bits"] + r["table_bits"]
                                                          for r in sel),
                     "min_layer_ratio": min(r["ratio"] for r in sel),
                     "max_layer_ratio": max(r["ratio"] for r in sel)}
    return {"source": source, "n": N_BITS, "important_ratio": RATIO,
            "max_length": MAX_LENGTH, "layers": rows, "totals": totals}, streams


def _entropy(symbols, size):
    p = np.bincount(symbols, minlength=size) / max(symbols.size, 1)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def bench_golden(streams, sizes: dict, seed: int = 1):
    from quantrtl.golden.huffman import build_code, decode, decode_bitwise, encode

    m = 3
    pool = np.concatenate(streams[m]) if streams[m] else np.zeros(0, np.int64)
    if pool.size == 0:
        pool = np.random.default_rng(seed + 1).geometric(0.4, 100_000).clip(1, 8) - 1
    n = sizes["golden_symbols"]
    symbols = np.resize(pool, n)
    code = build_code(symbols, MAX_LENGTH, alphabet_size=1 << m)
    t_enc, enc = best_time(lambda: encode(symbols, code, 32), 3)
    t_dec, out = best_time(lambda: decode(enc.words, code, n, 32), 3)
    ok = bool(np.array_equal(out, symbols))
    nb = sizes["bitwise_symbols"]
    small = encode(symbols[:nb], code, 32)
    t_bit, out_bit = best_time(lambda: decode_bitwise(small.words, code, nb, 32), 2)
    ok = ok and bool(np.array_equal(out_bit, symbols[:nb]))
    return {"symbols": n, "mean_code_bits": enc.nbits / n,
            "encode_symbols_per_s": n / t_enc, "decode_symbols_per_s": n / t_dec,
            "bitwise_symbols": nb, "bitwise_decode_symbols_per_s": nb / t_bit,
            "decode_speedup": (n / t_dec) / (nb / t_bit), "match": ok}


def _unavailable(sim: str) -> str | None:
    """Why ``sim`` cannot run here (``None``: it can)."""
    from quantrtl.tb.runner import simulator_status

    ok, reason = simulator_status(sim)
    if not ok:
        progress(f"skipping the decoder's symbols per clock: {sim}: {reason}")
    return None if ok else f"{sim}: {reason}"


def bench_hardware(sim: str, sizes: dict, out_dir: Path, *, seed: int = 1,
                   verbose: bool = False):
    results = []
    for lanes in LANES:
        progress(f"{sim}: huffman lanes={lanes}, ready levels {READY_LEVELS}")
        fig = simulate_figures(
            f"huffman-lanes{lanes}-{sim}", "huffman", {"lanes": lanes},
            "quantrtl.tb.tests.test_huffman", out_dir=out_dir, sim=sim, seed=seed,
            testcase="throughput", verbose=verbose,
            env={"QUANTRTL_READY_LEVELS": ",".join(map(str, READY_LEVELS)),
                 "QUANTRTL_THROUGHPUT_SYMBOLS": sizes["hw_symbols"]})
        for r in fig["results"]:
            results.append({"sim": sim, "lanes": lanes, **r})
        shown = ", ".join(f"{r['symbols_per_clock']:.3f}" for r in fig["results"])
        progress(f"{sim}: lanes={lanes}: {shown} symbols/clock "
                 f"({fig['wall_seconds_with_build']:.1f} s with build)")
    return results


def summary(report) -> str:
    out = ["Huffman decoder: symbols per clock (words always offered, short codes)"]
    hw = report["hardware"]
    if hw:
        out += table(["lanes", *[f"ready {p}" for p in READY_LEVELS]],
                     [[lanes, *[f"{r['symbols_per_clock']:.3f}" for r in hw
                                if r["lanes"] == lanes]]
                      for lanes in LANES if any(r["lanes"] == lanes for r in hw)],
                     right=range(len(READY_LEVELS) + 1))
    else:
        out.append(f"  (skipped: {report.get('hardware_skipped', 'no simulation')})")
    g = report["golden"]
    out += ["", "Golden model speed (symbols/s, DQA m=3 errors, "
            f"{g['mean_code_bits']:.2f} bits/symbol)"]
    out += table(["encode", "decode (vectorised)", "decode (bit-by-bit)", "speed-up",
                  "identical"],
                 [[f"{g['encode_symbols_per_s']:.3g}", f"{g['decode_symbols_per_s']:.3g}",
                   f"{g['bitwise_decode_symbols_per_s']:.3g}", f"{g['decode_speedup']:.0f}x",
                   "yes" if g["match"] else "NO"]], right=range(4))
    c = report["compression"]
    out += ["", f"DQA shifting errors, {c['source']}: n={c['n']}, "
            f"{int(c['important_ratio'] * 100)} % important channels, max_length "
            f"{c['max_length']}"]
    out += table(["m", "errors", "ratio", "ratio incl. table", "layer min", "layer max"],
                 [[m, t["errors"], f"{t['ratio']:.3f}", f"{t['ratio_with_table']:.3f}",
                   f"{t['min_layer_ratio']:.3f}", f"{t['max_layer_ratio']:.3f}"]
                  for m, t in c["totals"].items()], right=range(6))
    return "\n".join(out)


def headline(report) -> str:
    parts = []
    ready = [r for r in report["hardware"] if r["ready_probability"] == 1.0]
    if ready:
        parts.append("/".join(f"{r['symbols_per_clock']:.2f}" for r in ready)
                     + f" symbols/clk (lanes {'/'.join(str(r['lanes']) for r in ready)})")
    g = report["golden"]
    parts.append(f"decode {g['decode_speedup']:.0f}x bitwise")
    totals = report["compression"]["totals"]
    if 3 in totals:
        parts.append(f"m=3 ratio {totals[3]['ratio']:.2f}")
    return "; ".join(parts)


def csv_rows(report):
    for r in report["hardware"]:
        params = json.dumps({"lanes": r["lanes"], "ready": r["ready_probability"]})
        yield ("hardware", r["sim"], params, "symbols_per_clock", r["symbols_per_clock"], "1/clk")
    for k, v in report["golden"].items():
        yield ("golden", "huffman", "{}", k, v, "symbols/s" if k.endswith("_per_s") else "")
    for r in report["compression"]["layers"]:
        params = json.dumps({"m": r["m"], "n": report["compression"]["n"]})
        for k in ("ratio", "ratio_with_table", "entropy_bound", "errors", "encoded_bits"):
            yield ("compression", r["layer"], params, k, r[k], "")
    for m, t in report["compression"]["totals"].items():
        for k, v in t.items():
            yield ("compression", "all layers", json.dumps({"m": m}), k, v, "")


def run_bench(out_dir: Path, *, quick: bool = False, sim: str | None = "verilator",
              seed: int = 1, verbose: bool = False, prov: dict | None = None) -> dict:
    """All three parts (``sim=None``: no simulation); writes ``huffman.json`` and
    ``huffman.csv``; returns the report."""
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = choose_sizes(SIZES, quick)
    t0 = time.perf_counter()
    skipped = "--no-sim" if sim is None else _unavailable(sim)
    hardware = [] if skipped else bench_hardware(sim, sizes, out_dir, seed=seed,
                                                 verbose=verbose)
    progress("compression of DQA shifting errors")
    compression, streams = bench_compression(sizes, seed)
    progress("golden encoder/decoder speed")
    golden = bench_golden(streams, sizes, seed)
    report = {"quick": quick, "seconds": time.perf_counter() - t0, "hardware": hardware,
              "golden": golden, "compression": compression, "sizes": sizes}
    if skipped:
        report["hardware_skipped"] = skipped
    if prov is None:
        prov = provenance(seed=seed, quick=quick, command="quantrtl.bench.huffman.run_bench",
                          suites=[NAME])
    write_figures(out_dir, "huffman", report, CSV_HEADER, csv_rows(report), prov)
    return report


# ---------------------------------------------------------------------------------------------
# the suite's options


def add_arguments(group) -> None:
    from quantrtl.tb.runner import SIMULATORS

    group.add_argument("--sim", default="verilator", choices=SIMULATORS,
                       help="simulator of the decoder's symbols per clock (default "
                            "%(default)s)")


def check(options) -> None:
    """Nothing to check beyond argparse's choices."""


def run(ctx: Context) -> SuiteResult:
    report = run_bench(ctx.out_dir, quick=ctx.quick,
                       sim=None if ctx.no_sim else ctx.options.sim, seed=ctx.seed,
                       verbose=ctx.verbose, prov=ctx.provenance)
    out_dir = Path(ctx.out_dir).resolve()
    ok = report["golden"]["match"]
    return SuiteResult(NAME, [out_dir / "huffman.json", out_dir / "huffman.csv"],
                       headline(report), summary(report), ok=ok,
                       error=None if ok else "the golden decoders disagree with the symbols",
                       report=report)
