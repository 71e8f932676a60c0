"""The ``quantrtl`` command line: emit RTL, run vectors through it, summarise a build."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .blocks import BLOCKS, get_block
from .spec import check_probability, check_writable_dir, check_writable_file

# Above this many outputs `quantrtl run` uses the vector player (`--harness auto`).
PLAYER_THRESHOLD = 4096

__all__ = ["main"]


def _blocks_help() -> str:
    lines = ["blocks and their parameters (--name value):"]
    for block in BLOCKS.values():
        lines.append(f"  {block.name}: {block.summary}")
        for p in block.params:
            lines.append(f"      --{p.name.replace('_', '-'):<12} {p.allowed:<20} "
                         f"default {json.dumps(p.default)}: {p.doc}")
    return "\n".join(lines)


def _parse_block_params(block, tokens: list[str]) -> dict:
    """``["--lanes", "4", "--overflow=saturate"]`` -> ``{"lanes": 4, "overflow": "saturate"}``."""
    texts, k = {}, 0
    while k < len(tokens):
        token = tokens[k]
        if not token.startswith("--"):
            raise ValueError(f"unexpected argument {token!r}: parameters are --name value")
        name, eq, value = token[2:].partition("=")
        name = name.replace("-", "_")
        spec = block.param(name)                 # an unknown name is an error here
        if not eq:
            k += 1
            if k >= len(tokens):
                raise ValueError(f"--{name} needs a value: allowed {spec.allowed}")
            value = tokens[k]
        texts[name] = value
        k += 1
    resolved = block.resolve(texts)              # the one parser: Param.parse, then check
    return {name: resolved[name] for name in texts}


def cmd_verilog(args, extra) -> int:
    out = check_writable_dir(Path(args.output))
    if args.block == "all":
        if extra:
            raise ValueError("parameters need a single block, not 'all'")
        names = list(BLOCKS)
        params = {}
    else:
        names = [args.block]
        params = _parse_block_params(get_block(args.block), extra)
    for name in names:
        block = get_block(name)
        block.build(params)  # validates before anything is written
        path = block.emit(out, params)
        print(f"{path}  ({block.name} {json.dumps(block.resolve(params), sort_keys=True)})")
    return 0


def load_vectors(path) -> dict:
    """The arrays of a vector file (npz, no pickled objects); a missing, empty, truncated,
    corrupt or non-npz file, or one holding pickled objects, is a one-line ``ValueError``
    naming the file and the problem."""
    import zipfile

    import numpy as np
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such vector file")
    if path.is_dir():
        raise ValueError(f"{path}: is a directory, not a vector file")
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if not magic:
        raise ValueError(f"{path}: the vector file is empty")
    if not magic.startswith(b"PK\x03\x04"):
        kind = "a single .npy array" if magic.startswith(b"\x93NUMPY") else "not a zip archive"
        raise ValueError(f"{path}: not an npz vector file ({kind}); write one with "
                         f"numpy.savez")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object arrays" in str(exc).lower():
            raise ValueError(f"{path}: holds pickled objects, which are not loaded: save "
                             f"plain numeric arrays") from None
        raise ValueError(f"{path}: not a readable npz vector file ({exc})") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
        raise ValueError(f"{path}: corrupt or truncated npz vector file ({exc})") from None


def cmd_run(args, extra) -> int:
    import numpy as np

    from quantrtl.tb.runner import run_block

    block = get_block(args.block)
    params = block.resolve(_parse_block_params(block, extra))
    check_probability("valid_probability", args.valid_probability)
    check_probability("ready_probability", args.ready_probability)
    out_path = check_writable_file(args.output)
    vectors = load_vectors(args.vectors)
    harness = args.harness
    if harness == "auto":     # the batch player where a run is large (and no waves wanted)
        adapter = block.adapter(block.build(params))
        adapter.encode(vectors)             # validates before anything is built
        harness = ("player" if adapter.count(vectors) > PLAYER_THRESHOLD and not args.waves
                   else "cocotb")
    if harness in ("player", "plain"):
        if args.waves:
            raise ValueError("--waves needs --harness cocotb (the player records no waves)")
        from quantrtl.tb.player import play
        result = play(block.name, params, vectors, sim=args.sim, seed=args.seed,
                      valid_probability=args.valid_probability,
                      ready_probability=args.ready_probability, check=False,
                      host="plain" if harness == "plain" else "cocotb").as_run_result()
    else:
        result = run_block(
            block.name, params, vectors, sim=args.sim, seed=args.seed, waves=args.waves,
            valid_probability=args.valid_probability,
            ready_probability=args.ready_probability)
    rtl, expected = result.rtl, result.expected
    output = block.adapter(block.build(params)).output
    same_size = rtl.shape == np.shape(expected)
    match = rtl == expected if same_size else np.zeros(max(rtl.size, np.size(expected)), bool)
    status_ok = result.status == result.golden_status
    fields = {output: rtl, f"golden_{output}": expected, "match": match,
              "cycles": np.int64(result.cycles)}
    for name, value in result.status.items():
        fields[name], fields[f"golden_{name}"] = value, result.golden_status[name]
    with open(out_path, "wb") as fh:        # exactly the path given (savez adds .npz)
        np.savez(fh, **fields)
    bad = int(np.sum(~match))
    status = "".join(f", {name}={value} (golden {result.golden_status[name]})"
                     for name, value in result.status.items())
    count = "" if same_size else f" (golden: {np.size(expected)})"
    print(f"{block.name} on {args.sim} ({harness}): {rtl.size} outputs{count} in "
          f"{result.cycles} cycles, "
          f"{rtl.size - bad if same_size else 0} match the golden model, "
          f"{bad if same_size else 'all'} differ{status} -> {out_path}")
    return 0 if same_size and bad == 0 and status_ok else 1


def cmd_summary(args, extra) -> int:
    from .summary import summarise
    print(summarise(Path(args.rtl), Path(args.sim_dir), Path(args.reports)))
    return 0


def cmd_synth(args, extra) -> int:
    from quantrtl.synth.__main__ import main as synth_main
    return synth_main(extra)


def cmd_headline(args, extra) -> int:
    from .headline import main as headline_main
    return headline_main(extra)


def cmd_bench(args, extra) -> int:
    from .bench import main as bench_main
    return bench_main(extra, prog="quantrtl bench")


def cmd_experiment(args, extra) -> int:
    from .experiments.run import EXPERIMENTS, run_experiment
    names = EXPERIMENTS if args.experiment == "all" else [args.experiment]
    workloads = ["minilm", "digits"] if args.workload == "all" else [args.workload]
    for workload in workloads:
        for name in names:
            if name == "dqa" and workload == "minilm" and args.workload == "all":
                continue  # DQA's accuracy table is the digits network's (see the README)
            kwargs = {"m": args.m, "ratio": args.ratio} if name == "dqa" else {}
            run_experiment(name, workload=workload, out=Path(args.output), size=args.size,
                           **kwargs)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quantrtl", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="RTL generator and verification framework for quantized NN arithmetic.",
        epilog=_blocks_help())
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("verilog", help="emit the Verilog of a block (or of all blocks)",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=_blocks_help(),
                       usage="quantrtl verilog {all," + ",".join(BLOCKS) + "} "
                             "[--param value ...] [-o DIR]")
    p.add_argument("block", choices=["all", *BLOCKS])
    p.add_argument("-o", "--output", default="build/rtl", help="output directory")
    p.set_defaults(func=cmd_verilog)

    p = sub.add_parser("run", help="run an npz of input vectors through a block's RTL",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=_blocks_help() + "\n\nvector files: see README, 'quantrtl run'",
                       usage="quantrtl run BLOCK vectors.npz -o out.npz [--param value ...]")
    p.add_argument("block", choices=list(BLOCKS))
    p.add_argument("vectors", help="input npz (field names in the README)")
    p.add_argument("-o", "--output", required=True, help="output npz")
    p.add_argument("--sim", default="verilator", choices=["verilator", "icarus"])
    p.add_argument("--waves", action="store_true", help="record a waveform in the build dir")
    p.add_argument("--seed", type=int, default=None, help="seed of the random stalls")
    p.add_argument("--valid-probability", type=float, default=1.0,
                   help="chance per cycle that an input beat is offered (input gaps)")
    p.add_argument("--harness", default="auto",
                   choices=["auto", "player", "plain", "cocotb"],
                   help=f"player: stimulus in memories inside a generated wrapper, checked "
                        f"at the end (fast); plain: the player run by the simulator's own "
                        f"main, without cocotb (no start-up cost); cocotb: beat by beat "
                        f"through the drivers; auto (default): the player above "
                        f"{PLAYER_THRESHOLD} outputs")
    p.add_argument("--ready-probability", type=float, default=1.0,
                   help="chance per cycle that the output is ready (backpressure)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("synth", add_help=False,
                       help="Yosys area/timing/energy reports (options: quantrtl synth --help)")
    p.set_defaults(func=cmd_synth)
    p = sub.add_parser("headline", add_help=False,
                       help="INT8 vs DNA-TEQ on MiniLM (options: quantrtl headline --help)")
    p.set_defaults(func=cmd_headline)
    p = sub.add_parser("bench", add_help=False,
                       help="measured figures into build/bench (options: quantrtl bench --help)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("experiment", help="quantization experiments on real models "
                       "(tables and plots into build/reports/experiments)")
    p.add_argument("experiment", choices=["all", "fit", "dnateq", "dqa"])
    p.add_argument("--workload", default="all", choices=["all", "minilm", "digits"])
    p.add_argument("--size", type=int, default=None,
                   help="limit the sentences (minilm) or samples (digits), for quick runs")
    p.add_argument("--m", type=int, default=2, help="DQA: extra bits of important channels")
    p.add_argument("--ratio", type=float, default=0.25,
                   help="DQA: share of channels that are important")
    p.add_argument("-o", "--output", default="build/reports/experiments")
    p.set_defaults(func=cmd_experiment)

    p = sub.add_parser("summary", help="summarise emitted RTL, simulation and synthesis results")
    p.add_argument("--rtl", default="build/rtl")
    p.add_argument("--sim-dir", default="build/sim")
    p.add_argument("--reports", default="build/reports", help="where make synth wrote")
    p.set_defaults(func=cmd_summary)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in ("verilog", "run", "synth", "headline", "bench"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args, extra)
    except ValueError as exc:
        print(f"quantrtl: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
