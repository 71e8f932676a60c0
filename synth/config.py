"""What ``python -m quantrtl.synth`` runs by default, and how sweeps are described.

A new block joins the default set and the sweeps by appearing in the registry
(``quantrtl.blocks.BLOCKS``) with an energy workload; nothing else needs to change.
Parameter values of sweeps and config files are parsed by the block's parameter specs
(:meth:`quantrtl.blocks.Block.resolve`), as the CLI's are.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from .flow import FLOW_PARAMS, Design

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
    """A rough relative run time of the flow on ``design`` (for scheduling only): the
    block's registered ``cost`` (DNA-TEQ grows with its counters, 2^(n+1) per lane; the
    requantizer's multiplier and the Huffman decoder's tables are mid-sized)."""
    if design.kind == "helper":
        return design.param_dict["width"] / 8
    return design.config.block.cost(design.param_dict)


def _width(op: str, text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise ValueError(f"helper {op} width={text!r} is not an integer") from None


def parse_sweep(spec: str) -> list:
    """``"mac:lanes=1,2,4;width=4,8"`` -> the cartesian product as Designs (each value
    parsed by the parameter's spec, as on the command line). ``"helper:mul=4,8,16"`` sweeps
    a helper's width.  A name that is not one of the block's parameters but a flow option
    (:data:`synth.flow.FLOW_PARAMS`, e.g. ``booth=off,on``) sweeps that option."""
    if ":" not in spec:
        raise ValueError(f"sweep {spec!r}: expected BLOCK:param=v1,v2[;param=...]")
    block, _, rest = spec.partition(":")
    axes = {}
    for part in filter(None, rest.split(";")):
        name, eq, values = part.partition("=")
        if not eq or not values:
            raise ValueError(f"sweep {spec!r}: {part!r} is not param=v1,v2,...")
        axes[name.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    flow_names = {p.name for p in FLOW_PARAMS}
    if block == "helper":
        flows = _flow_combos({k: v for k, v in axes.items() if k in flow_names})
        return [Design.helper(op, _width(op, w), flow) for op, ws in axes.items()
                if op not in flow_names for w in ws for flow in flows]
    from quantrtl.blocks import get_block
    own = {p.name for p in get_block(block).params}      # an unknown block: its error
    flow_axes = {k: v for k, v in axes.items() if k in flow_names and k not in own}
    names = [n for n in axes if n not in flow_axes]
    return [Design.block(block, dict(zip(names, combo)), flow)
            for combo in itertools.product(*(axes[n] for n in names))
            for flow in _flow_combos(flow_axes)]


def _flow_combos(axes: dict) -> list:
    """The cartesian product of flow-option axes as dicts (``[{}]`` without any)."""
    names = list(axes)
    return [dict(zip(names, combo)) for combo in itertools.product(*(axes[n] for n in names))]


CONFIG_KEYS = ("designs", "sweeps", "lengths")


def _config_list(where: str, data: dict, key: str, kind, what: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
        raise ValueError(f"{where}: {key!r} must be a list of {what}, got "
                         f"{json.dumps(value)[:80]}")
    return value


def _config_design(where: str, d) -> Design:
    if not isinstance(d, dict):
        raise ValueError(f"{where}: a design is an object {{'block': ..., 'params': {{...}}}} "
                         f"or {{'helper': ..., 'width': ...}}, got {json.dumps(d)[:60]}")
    keys = ("helper", "width", "flow") if "helper" in d else ("block", "params", "flow")
    unknown = sorted(set(d) - set(keys))
    if unknown or keys[0] not in d:
        problem = f"unknown key {unknown[0]!r}" if unknown else f"missing key {keys[0]!r}"
        raise ValueError(f"{where}: {problem}: a design has the keys {list(keys)}")
    flow = d.get("flow", {})
    if not isinstance(flow, dict):
        raise ValueError(f"{where}: 'flow' must be an object of OPTION: value, got "
                         f"{json.dumps(flow)[:60]}")
    if "helper" in d:
        return Design.helper(d["helper"], d.get("width", 8), flow)
    params = d.get("params", {})
    if not isinstance(params, dict):
        raise ValueError(f"{where}: 'params' must be an object of NAME: value, got "
                         f"{json.dumps(params)[:60]}")
    return Design.block(d["block"], params, flow)


def load_config(path: Path) -> dict:
    """A JSON config: ``{"designs": [{"block": "mac", "params": {...}}, {"helper": "mul",
    "width": 8}, ...], "sweeps": ["mac:lanes=1,2,4", ...], "lengths": [64, 256]}`` (every
    key optional).  Anything else -- a missing or unreadable file, invalid JSON, an unknown
    key, a value of the wrong type -- is a one-line ``ValueError`` naming the file and the
    place."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such config file")
    if path.is_dir():
        raise ValueError(f"{path}: is a directory, not a config file")
    try:
        data = json.loads(path.read_text())
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text (JSON) file") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column "
                         f"{exc.colno}") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config is a JSON object with the keys "
                         f"{list(CONFIG_KEYS)}, got a {type(data).__name__}")
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown key {unknown[0]!r}: allowed {list(CONFIG_KEYS)}")
    designs = []
    for k, d in enumerate(_config_list(str(path), data, "designs", object, "objects")):
        try:
            designs.append(_config_design(f"{path}: designs[{k}]", d))
        except ValueError as exc:
            text = str(exc)
            raise ValueError(text if text.startswith(str(path)) else
                             f"{path}: designs[{k}]: {text}") from None
    sweeps = []
    for k, spec in enumerate(_config_list(str(path), data, "sweeps", str, "strings "
                                          "'BLOCK:param=v1,v2'")):
        try:
            sweeps += parse_sweep(spec)
        except ValueError as exc:
            raise ValueError(f"{path}: sweeps[{k}]: {exc}") from None
    lengths = data.get("lengths", list(DEFAULT_LENGTHS))
    if not isinstance(lengths, list) or not lengths or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in lengths):
        raise ValueError(f"{path}: 'lengths' must be a non-empty list of positive integers, "
                         f"got {json.dumps(lengths)[:80]}")
    return {"designs": designs, "sweeps": sweeps, "lengths": tuple(lengths)}
