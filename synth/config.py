"""What ``python -m synth`` runs by default, and how sweeps are described.

A new block joins the default set and the sweeps by appearing in the registry
(``quantrtl.blocks.BLOCKS``) with an energy workload (:data:`synth.workloads.WORKLOADS`);
nothing else needs to change.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from .flow import Design

__all__ = ["default_designs", "parse_sweep", "load_config", "DEFAULT_LENGTHS", "registered",
           "estimated_cost"]

DEFAULT_LENGTHS = (64,)                # dot-product lengths N of the dot-product blocks' runs
HELPERS = (("mul", 8), ("add", 8), ("add", 32), ("mul", 4))


def registered(name: str) -> bool:
    from quantrtl.blocks import BLOCKS
    return name in BLOCKS


def default_designs() -> list:
    """Every registered block at its defaults, the MAC also at 4 lanes and as a 16-PE
    array, and the calibration helpers; longest first.  (The INT8 vs DNA-TEQ comparison
    is :mod:`quantrtl.headline`.)"""
    from quantrtl.blocks import BLOCKS
    designs = [Design.block(name, {}) for name in BLOCKS]
    designs += [Design.block("mac", {"lanes": 4}), Design.block("mac", {"pes": 16})]
    designs += [Design.helper(op, w) for op, w in HELPERS]
    return sorted(designs, key=estimated_cost, reverse=True)


def estimated_cost(design: Design) -> float:
    """A rough relative run time of the flow on ``design`` (for scheduling only): DNA-TEQ
    grows with its counters (2^(n+1) per lane), the requantizer's 64-bit multiplier and
    the Huffman decoder's tables are mid-sized, the rest is small."""
    p = design.param_dict
    if design.kind == "helper":
        return p["width"] / 8
    if design.name == "dnateq":
        return 20.0 * (1 << (p.get("n", 5) + 1)) * p.get("lanes", 1) * p.get("pes", 1)
    return {"requant": 300.0, "huffman": 100.0,
            "mac": 10.0 * p.get("lanes", 1) * p.get("pes", 1)}.get(design.name, 5.0)


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
            "lengths": tuple(data.get("lengths", DEFAULT_LENGTHS))}
