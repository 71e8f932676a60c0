"""Figures of DQA's Huffman coding: decoder throughput, golden speed, compression ratio.

Run as ``python -m quantrtl.bench_huffman [--quick] [-o build/bench] [--sim verilator]``.
It reports figures, it does not assert wall-clock limits; it fails (exit 1) if a simulated
stream differs from the golden model or the two golden decoders disagree.  Three parts:

1. **Decoded symbols per clock** of ``hw.huffman`` (default parameters, ``lanes`` 1, 2 and
   4) with a word offered every clock and the output ready with probability 1.0, 0.75,
   0.5, 0.25: the cocotb test ``quantrtl.tb.tests.test_huffman.throughput`` (skewed 16-symbol streams,
   codes of at most 4 bits), every symbol checked against the golden model.
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

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["main"]

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


def _progress(message):
    print(f"[bench_huffman] {message}", flush=True)


def _activations(quick: bool):
    """``({layer: activations [tokens, in]}, {layer: weight [out, in]}, source)``."""
    layers = SIZES["layers"][quick]
    try:
        from quantrtl.models.minilm import SENTENCES, MiniLM
        model = MiniLM.load()
        _, acts = model.forward(SENTENCES, capture=True)
        names = model.linear_layers()[:layers]
        return ({n: np.asarray(acts[n], np.float64) for n in names},
                {n: np.asarray(model.weight(n), np.float64) for n in names},
                f"all-MiniLM-L6-v2, {len(SENTENCES)} sentences")
    except Exception as exc:  # the model is optional: say so and go on
        _progress(f"MiniLM unavailable ({exc}); using synthetic Laplacian activations")
        rng = np.random.default_rng(0)
        acts = {f"synthetic.{k}": rng.laplace(size=(500, 384)) * rng.uniform(0.2, 3, 384)
                for k in range(layers)}
        return acts, {k: rng.standard_normal((384, 384)) for k in acts}, "synthetic"


def bench_compression(quick: bool):
    from quantrtl.golden import dqa
    from quantrtl.golden.huffman import build_code, encode

    acts, weights, source = _activations(quick)
    rng = np.random.default_rng(1)
    rows, streams = [], {m: [] for m in M_BITS}
    # Layers reading the same input (query/key/value) form one group: one ranking (loss on
    # all their weights), one error stream, counted once.
    groups: list[list[str]] = []
    for name in acts:
        if groups and np.array_equal(acts[groups[-1][0]], acts[name]):
            groups[-1].append(name)
        else:
            groups.append([name])
    for k, members in enumerate(groups):
        name, x = "+".join(members), acts[members[0]]
        channels = x.shape[1]
        sub = x[rng.choice(x.shape[0], min(SIZES["rank_tokens"][quick], x.shape[0]),
                           replace=False)]
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
            rows.append({"layer": name, "tokens": x.shape[0], "channels": channels, "m": m,
                         "errors": int(errors.size), "encoded_bits": enc.nbits,
                         "table_bits": code.description_bits(m),
                         "ratio": m * errors.size / enc.nbits,
                         "ratio_with_table": m * errors.size / (enc.nbits
                                                                + code.description_bits(m)),
                         "entropy_bound": m / max(_entropy(errors, 1 << m), 1e-12)})
        _progress(f"compression {k + 1}/{len(groups)} {name}: ratio at m=3 "
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


def _best(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def bench_golden(streams, quick: bool):
    from quantrtl.golden.huffman import build_code, decode, decode_bitwise, encode

    m = 3
    pool = np.concatenate(streams[m]) if streams[m] else np.zeros(0, np.int64)
    if pool.size == 0:
        pool = np.random.default_rng(2).geometric(0.4, 100_000).clip(1, 8) - 1
    n = SIZES["golden_symbols"][quick]
    symbols = np.resize(pool, n)
    code = build_code(symbols, MAX_LENGTH, alphabet_size=1 << m)
    t_enc, enc = _best(lambda: encode(symbols, code, 32), 3)
    t_dec, out = _best(lambda: decode(enc.words, code, n, 32), 3)
    ok = bool(np.array_equal(out, symbols))
    nb = SIZES["bitwise_symbols"][quick]
    small = encode(symbols[:nb], code, 32)
    t_bit, out_bit = _best(lambda: decode_bitwise(small.words, code, nb, 32), 2)
    ok = ok and bool(np.array_equal(out_bit, symbols[:nb]))
    return {"symbols": n, "mean_code_bits": enc.nbits / n,
            "encode_symbols_per_s": n / t_enc, "decode_symbols_per_s": n / t_dec,
            "bitwise_symbols": nb, "bitwise_decode_symbols_per_s": nb / t_bit,
            "decode_speedup": (n / t_dec) / (nb / t_bit), "match": ok}


def bench_hardware(sim: str, quick: bool, out_dir: Path):
    from quantrtl.tb.runner import simulate
    results = []
    for lanes in LANES:
        params = {"lanes": lanes}
        with tempfile.TemporaryDirectory() as tmp:
            figure = Path(tmp) / "figure.json"
            _progress(f"{sim}: huffman lanes={lanes}, ready levels {READY_LEVELS}")
            log = out_dir / "logs" / f"huffman-lanes{lanes}-{sim}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            import contextlib
            import os
            sys.stdout.flush()
            saved = os.dup(1), os.dup(2)
            ok = True
            try:
                with open(log, "w") as fh:
                    os.dup2(fh.fileno(), 1)
                    os.dup2(fh.fileno(), 2)
                    try:
                        simulate("huffman", params, "quantrtl.tb.tests.test_huffman", sim=sim,
                                 testcase="throughput", seed=1, extra_env={
                                     "QUANTRTL_BENCH_OUT": str(figure),
                                     "QUANTRTL_READY_LEVELS": ",".join(map(str, READY_LEVELS)),
                                     "QUANTRTL_THROUGHPUT_SYMBOLS": SIZES["hw_symbols"][quick]})
                    except Exception as exc:  # reported below, after the output is restored
                        ok = exc
            finally:
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                for fd in saved:
                    os.close(fd)
            if ok is not True:
                raise RuntimeError(f"simulation failed ({ok}); log: {log}")
            fig = json.loads(figure.read_text())
            del contextlib
        for r in fig["results"]:
            results.append({"sim": sim, "lanes": lanes, **r})
    return results


def _table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[k])) for r in rows)) for k, h in enumerate(headers)]
    line = lambda cells: "  ".join(str(c).rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    return [line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows]


def summary(report) -> str:
    out = ["", "Huffman decoder: symbols per clock (words always offered, short codes)"]
    hw = report["hardware"]
    out += _table(["lanes", *[f"ready {p}" for p in READY_LEVELS]],
                  [[lanes, *[f"{r['symbols_per_clock']:.3f}" for r in hw if r["lanes"] == lanes]]
                   for lanes in LANES if any(r["lanes"] == lanes for r in hw)])
    g = report["golden"]
    out += ["", "Golden model speed (symbols/s, DQA m=3 errors, "
            f"{g['mean_code_bits']:.2f} bits/symbol)"]
    out += _table(["encode", "decode (vectorised)", "decode (bit-by-bit)", "speed-up"],
                  [[f"{g['encode_symbols_per_s']:.3g}", f"{g['decode_symbols_per_s']:.3g}",
                    f"{g['bitwise_decode_symbols_per_s']:.3g}", f"{g['decode_speedup']:.0f}x"]])
    c = report["compression"]
    out += ["", f"DQA shifting errors, {c['source']}: n={c['n']}, "
            f"{int(c['important_ratio'] * 100)} % important channels, max_length "
            f"{c['max_length']}"]
    out += _table(["m", "errors", "ratio", "ratio incl. table", "layer min", "layer max"],
                  [[m, t["errors"], f"{t['ratio']:.3f}", f"{t['ratio_with_table']:.3f}",
                    f"{t['min_layer_ratio']:.3f}", f"{t['max_layer_ratio']:.3f}"]
                   for m, t in c["totals"].items()])
    return "\n".join(out)


def _csv_rows(report):
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m quantrtl.bench_huffman",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("-o", "--output", default="build/bench")
    parser.add_argument("--sim", default="verilator", choices=["verilator", "icarus"])
    parser.add_argument("--no-sim", action="store_true", help="skip the RTL figures")
    args = parser.parse_args(argv)
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    hardware = [] if args.no_sim else bench_hardware(args.sim, args.quick, out_dir)
    _progress("compression of DQA shifting errors")
    compression, streams = bench_compression(args.quick)
    _progress("golden encoder/decoder speed")
    golden = bench_golden(streams, args.quick)
    report = {"quick": args.quick, "seconds": time.perf_counter() - t0, "hardware": hardware,
              "golden": golden, "compression": compression}
    (out_dir / "huffman.json").write_text(json.dumps(report, indent=2) + "\n")
    with open(out_dir / "huffman.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["section", "name", "params", "metric", "value", "unit"])
        writer.writerows(_csv_rows(report))
    print(summary(report))
    print(f"\nfigures: {out_dir / 'huffman.json'}, {out_dir / 'huffman.csv'}")
    return 0 if golden["match"] else 1


if __name__ == "__main__":
    sys.exit(main())
