"""What ``python -m synth`` runs by default, and how sweeps and the headline are described.

Everything is configuration: a new block joins the default set, the sweeps and the headline
comparison by appearing in the registry (``quantrtl.blocks.BLOCKS``) with an energy
workload (:data:`synth.workloads.WORKLOADS`); nothing else needs to change.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from .flow import Design

__all__ = ["default_designs", "parse_sweep", "load_config", "HEADLINE_LENGTHS",
           "HEADLINE_LANES", "DNATEQ_BITS", "dnateq_params", "headline_designs",
           "headline_members", "registered", "estimated_cost"]

HEADLINE_LENGTHS = (64, 256, 1024)     # dot-product lengths N of the headline comparison
HEADLINE_LANES = (1,)                  # lanes of the INT8 MAC (DNA-TEQ gets the same throughput)
DNATEQ_BITS = (3, 4, 5, 6, 7)
HELPERS = (("mul", 8), ("add", 8), ("add", 32), ("mul", 4))


def registered(name: str) -> bool:
    from quantrtl.blocks import BLOCKS
    return name in BLOCKS


def _param_names(block: str) -> set:
    from quantrtl.blocks import get_block
    return {p.name for p in get_block(block).params}


def dnateq_params(bits: int, lanes: int, min_length: int = min(HEADLINE_LENGTHS)) -> dict:
    """DNA-TEQ block parameters for ``bits`` (n) and ``lanes``, whatever the block calls
    them (the first of ``n``/``bits``/``width`` it declares).

    Same throughput as an INT8 MAC of ``lanes`` lanes: ``lanes`` code pairs per clock, and
    the fewest post-processor lanes (``pp_lanes``, a power of two) whose ``2^(n+1) /
    pp_lanes`` clocks per dot product hide behind the ``min_length / lanes`` clocks of
    counting -- the cheapest DNA-TEQ datapath that keeps pace at every headline length."""
    names = _param_names("dnateq")
    params = {}
    for candidate in ("n", "bits", "width", "n_bits"):
        if candidate in names:
            params[candidate] = bits
            break
    else:
        raise ValueError(f"the dnateq block declares none of n/bits/width: {sorted(names)}")
    if "lanes" in names:
        params["lanes"] = lanes
    if "pp_lanes" in names:
        entries = 1 << (bits + 1)
        need = max(1, -(-entries * lanes // min_length))
        params["pp_lanes"] = min(entries, 1 << (need - 1).bit_length())
    return params


def headline_designs(lanes=HEADLINE_LANES, bits=DNATEQ_BITS,
                     min_length: int = min(HEADLINE_LENGTHS)) -> dict:
    """``{lanes: {"int8": [Design...], "dnateq": {n: [Design...]}}}`` (DNA-TEQ only if
    registered): per lane count, the INT8 MAC + requantizer and the DNA-TEQ datapaths."""
    if isinstance(lanes, int):
        lanes = (lanes,)
    head = {}
    for L in lanes:
        int8 = [Design.block("mac", {"lanes": L}), Design.block("requant", {})]
        dnateq = {}
        if registered("dnateq"):
            for n in bits:
                dnateq[n] = [Design.block("dnateq", dnateq_params(n, L, min_length))]
        head[L] = {"int8": int8, "dnateq": dnateq}
    return head


def headline_members(head: dict) -> list:
    """Every design of a headline comparison, once."""
    out = []
    for group in head.values():
        for d in group["int8"] + [d for ds in group["dnateq"].values() for d in ds]:
            if d not in out:
                out.append(d)
    return out


def default_designs(lanes=HEADLINE_LANES, bits=DNATEQ_BITS,
                    min_length: int = min(HEADLINE_LENGTHS)) -> list:
    designs = [Design.block("mac", {}), Design.block("mac", {"lanes": 4}),
               Design.block("requant", {})]
    designs += [Design.block(name, {}) for name in ("huffman", "dqa") if registered(name)]
    designs += [Design.helper(op, w) for op, w in HELPERS]
    for d in headline_members(headline_designs(lanes, bits, min_length)):
        if d not in designs:
            designs.append(d)
    # Longest first, so that the parallel jobs finish together.
    return sorted(designs, key=estimated_cost, reverse=True)


def estimated_cost(design: Design) -> float:
    """A rough relative run time of the flow on ``design`` (for scheduling only): DNA-TEQ
    grows with its counters (2^(n+1) per lane), the requantizer's 64-bit multiplier and
    the Huffman decoder's tables are mid-sized, the rest is small."""
    p = design.param_dict
    if design.kind == "helper":
        return p["width"] / 8
    if design.name == "dnateq":
        return 20.0 * (1 << (p.get("n", 5) + 1)) * p.get("lanes", 1)
    return {"requant": 300.0, "huffman": 100.0, "mac": 10.0 * p.get("lanes", 1)}.get(
        design.name, 5.0)


def _value(text: str):
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_sweep(spec: str) -> list:
    """``"mac:lanes=1,2,4;width=4,8"`` -> the cartesian product as Designs.
    ``"helper:mul=4,8,16"`` sweeps a helper's width."""
    if ":" not in spec:
        raise ValueError(f"sweep {spec!r}: expected BLOCK:param=v1,v2[;param=...]")
    block, _, rest = spec.partition(":")
    axes = {}
    for part in filter(None, rest.split(";")):
        name, eq, values = part.partition("=")
        if not eq or not values:
            raise ValueError(f"sweep {spec!r}: {part!r} is not param=v1,v2,...")
        axes[name.strip()] = [_value(v.strip()) for v in values.split(",") if v.strip()]
    if block == "helper":
        return [Design.helper(op, int(w)) for op, ws in axes.items() for w in ws]
    names = list(axes)
    return [Design.block(block, dict(zip(names, combo)))
            for combo in itertools.product(*(axes[n] for n in names))]


def load_config(path: Path) -> dict:
    """A JSON config: ``{"designs": [{"block": "mac", "params": {...}}, ...],
    "sweeps": ["mac:lanes=1,2,4", ...], "lengths": [64, 256]}``."""
    data = json.loads(Path(path).read_text())
    designs = []
    for d in data.get("designs", []):
        if "helper" in d:
            designs.append(Design.helper(d["helper"], int(d.get("width", 8))))
        else:
            designs.append(Design.block(d["block"], d.get("params", {})))
    sweeps = [x for s in data.get("sweeps", []) for x in parse_sweep(s)]
    return {"designs": designs, "sweeps": sweeps,
            "lengths": tuple(data.get("lengths", HEADLINE_LENGTHS))}
