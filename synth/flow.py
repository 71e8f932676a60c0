"""The per-design flow: RTL -> Yosys (generic, osu018, iCE40) -> STA -> gate-level energy.

A :class:`Design` is a registered quantrtl block with parameters, or a helper
(:mod:`synth.helpers`).  :func:`run_point` runs everything for one design and returns a
JSON-serialisable dict; results are cached in the design's work directory
(``build/synth/<label>-<hash>/``) keyed by the RTL bytes, the flow version, the library
and the workload, so a repeated ``make synth`` only redoes what changed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quantrtl.spec import Param

from .energy import bit_toggles, energy_from_toggles, horowitz_scaled
from .liberty import load_library
from .netlist import OUTPUT_LOAD_PF, WIRE_CAP_PER_FANOUT_PF, load_netlist
from .opensta import opensta_status, opensta_timing
from .sta import CLOCK_SLEW_NS, INPUT_SLEW_NS, analyze
from .tech import NODE_NM, osu018, simulation_models
from .vcd import toggle_counts
from .yosys import SCRIPT_VERSION, run_flows

__all__ = ["Design", "FLOW_PARAMS", "resolve_flow", "run_point", "rtl", "FLOW_VERSION",
           "DEFAULT_ROOT", "assumptions"]

FLOW_VERSION = 7     # energy results are keyed on it
SYNTH_VERSION = 5    # synthesis + STA results are keyed on it
OPENSTA_VERSION = 1  # OpenSTA results (opensta.json, beside them) are keyed on it
DEFAULT_ROOT = Path("build") / "synth"


FLOW_PARAMS = (
    Param("booth", False, "radix-4 Booth-encoded multipliers (Yosys synth -booth) in the "
          "standard-cell views", kind=bool),
)


def flow_param(name: str) -> Param:
    for p in FLOW_PARAMS:
        if p.name == name:
            return p
    names = ", ".join(p.name for p in FLOW_PARAMS)
    raise ValueError(f"no flow option {name!r}: allowed {{{names}}}")


def resolve_flow(block: str | None = None, flow: dict | None = None) -> dict:
    """Every flow option: the flow's defaults, then the block's (its registry record's
    ``synth_flow``), then ``flow`` (values, or text parsed by the option's spec)."""
    out = {p.name: p.default for p in FLOW_PARAMS}
    if block is not None:
        from quantrtl.blocks import get_block
        out.update(get_block(block).synth_flow)
    for name, value in dict(flow or {}).items():
        spec = flow_param(name)
        out[name] = spec.check(spec.parse(value) if isinstance(value, str) else value)
    return out


@dataclass(frozen=True)
class Design:
    kind: str            # "block" | "helper"
    name: str            # block name, or helper op ("mul", "add")
    params: tuple        # sorted (name, value) pairs
    flow: tuple = ()     # sorted (option, value) pairs that differ from the flow's defaults

    @classmethod
    def block(cls, name: str, params: dict | None = None,
              flow: dict | None = None) -> "Design":
        """A block at ``params`` (values, or text to parse), validated now, not in a worker;
        ``flow``: flow options (:data:`FLOW_PARAMS`) over the block's own."""
        from quantrtl.blocks import configure
        config = configure(name, params)
        return cls("block", name, config.params, _flow_pairs(resolve_flow(name, flow)))

    @property
    def flow_dict(self) -> dict:
        """Every flow option of this design."""
        return {**resolve_flow(), **dict(self.flow)}

    @property
    def config(self):
        """The block's resolved :class:`quantrtl.blocks.Config` (blocks only)."""
        from quantrtl.blocks import get_block
        return get_block(self.name).configure(self.param_dict)

    @classmethod
    def helper(cls, op: str, width: int, flow: dict | None = None) -> "Design":
        from .helpers import _Registered
        _Registered(op, width)._MustUse__silence = True   # validates; never elaborated
        return cls("helper", op, (("width", width),), _flow_pairs(resolve_flow(None, flow)))

    @property
    def param_dict(self) -> dict:
        return dict(self.params)

    @property
    def changed(self) -> dict:
        """The parameters that differ from the block's defaults (for labels)."""
        if self.kind == "helper":
            return self.param_dict
        return self.config.changed

    @property
    def label(self) -> str:
        """The block's label (``mac(lanes=4)``), with ``[booth=on]`` etc. for each flow
        option that differs from the block's own."""
        if self.kind == "helper":
            base, own = f"{self.name}{self.param_dict['width']}", resolve_flow()
        else:
            base, own = self.config.label, resolve_flow(self.name)
        shown = {k: v for k, v in self.flow_dict.items() if own[k] != v}
        return base + "".join(f"[{k}={_flow_text(v)}]" for k, v in sorted(shown.items()))

    @property
    def top(self) -> str:
        if self.kind == "helper":
            from .helpers import helper_top
            return helper_top(self.name, self.param_dict["width"])
        return f"quantrtl_{self.name}"

    def verilog(self) -> str:
        if self.kind == "helper":
            from .helpers import helper_verilog
            return helper_verilog(self.name, self.param_dict["width"])
        return self.config.verilog()

    def as_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "params": self.param_dict,
                "flow": self.flow_dict, "label": self.label}


def _flow_pairs(values: dict) -> tuple:
    defaults = resolve_flow()
    return tuple(sorted((k, v) for k, v in values.items() if v != defaults[k]))


def _flow_text(value) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)


def assumptions() -> dict:
    from .clockgate import MIN_GROUP
    from .cts import BUFFER, MAX_FANOUT
    return {
        "library": "OSU 0.18 um standard cells (Debian qflow-tech-osu018), typical, 1.8 V, 25 C; "
                   "the LATCH cell's area set to its LEF size, 56 um^2 (0 in the package)",
        "mapping": "yosys synth -flatten -noabc; dfflibmap; abc -D 10000 -constr -liberty "
                   "(delay-target mapping with buffering and gate sizing; INVX1 input "
                   "drivers, 10 fF output loads); generic: abc onto Yosys gates, "
                   "dfflegalize, stat -tech cmos; iCE40: synth_ice40 (no DSP)",
        "clock_gating": f"icg view: register groups of >= {MIN_GROUP} flip-flops sharing an "
                        f"enable get a latch + AND2 clock-gating cell (Yosys clockgate after "
                        f"folding synchronous resets into the enables); the none view keeps "
                        f"enable multiplexers",
        "clock_tree": f"both views: every clock net drives at most {MAX_FANOUT} pins through "
                      f"{BUFFER} buffers; the root clock is an ideal source",
        "sta": f"own NLDM STA over the mapped netlist: ideal root clock (slew {CLOCK_SLEW_NS} "
               f"ns) with the clock tree's and gating cells' delays as latency, inputs at 0 ns "
               f"with slew {INPUT_SLEW_NS} ns, outputs required at the next edge, worse of "
               f"rise/fall per arc",
        "wire_load": f"{WIRE_CAP_PER_FANOUT_PF * 1000:g} fF per fan-out pin; "
                     f"{OUTPUT_LOAD_PF * 1000:g} fF per primary output",
        "energy": "zero-delay, cycle-based simulation of the mapped netlist from the "
                  "liberty cell functions (synth.gatesim; equal to Icarus with the library's "
                  "cell models, tested) under the full-throughput workload, every output "
                  "checked against the golden model; settled toggles per data net (no "
                  "glitches), both edges of every clock pulse, x (1/2 C V^2 + liberty "
                  "internal energy); flip-flop clock pins per pulse; leakage at the 10 ns "
                  "testbench clock",
        "gating_models": "none: the ungated netlist; icg: the gated netlist, its gating cells "
                         "priced like every cell; ideal: the gated netlist with each "
                         "flip-flop clocked only in the cycles its output changes and the "
                         "gating cells free",
        "sanity": "Horowitz ISSCC 2014 45 nm / 0.9 V figures scaled by (180/45) x (1.8/0.9)^2",
    }


_SOURCES: dict = {}


def _source_digest() -> str:
    """A hash of everything a design's Verilog depends on: the hardware, registry and
    parameter modules and the Amaranth version."""
    if "digest" not in _SOURCES:
        import amaranth

        import quantrtl
        from quantrtl import hw
        from . import helpers
        files = sorted(Path(hw.__file__).parent.glob("*.py"))
        files += [Path(quantrtl.__file__).parent / f for f in ("blocks.py", "spec.py")]
        files += [Path(helpers.__file__)]
        h = hashlib.sha256(amaranth.__version__.encode())
        for f in files:
            h.update(f.name.encode())
            h.update(f.read_bytes())
        _SOURCES["digest"] = h.hexdigest()[:16]
    return _SOURCES["digest"]


def rtl(design: "Design", root: Path = DEFAULT_ROOT) -> str:
    """The design's Verilog, kept under ``root/rtl/`` keyed by its parameters and the
    sources that generate it (elaborating a large array takes a minute; a second run of the
    flow finds it here)."""
    path = Path(root) / "rtl" / f"{design.top}-{_hash(design.params, _source_digest())}.v"
    if path.exists():
        return path.read_text()
    text = design.verilog()
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, text)
    return text


def _write_atomic(path: Path, text: str) -> None:
    """Write ``path`` through a temporary file renamed over it: a reader (another worker,
    on this machine or on another one sharing the folder) never sees half a file."""
    tmp = path.with_name(f".{path.name}.{socket.gethostname()}.{os.getpid()}."
                         f"{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


@contextmanager
def _locked(work: Path):
    """Hold ``work/.lock`` (``flock``: local disks and NFSv4; Lustre needs ``-o flock``):
    two runs of one design on a shared cache folder take turns, and the second finds the
    first one's results cached.  Never nested (a process locking it twice would wait on
    itself)."""
    work.mkdir(parents=True, exist_ok=True)
    with open(work / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _hash(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:12]


def _work_dir(design: Design, root: Path, verilog: str) -> Path:
    safe = design.label
    for a, b in (("(", "-"), (")", ""), (",", "-"), ("=", ""), ("[", "-"), ("]", "")):
        safe = safe.replace(a, b)
    return Path(root) / f"{safe}-{_hash(verilog, *_flow_key(design))[:8]}"


def _flow_key(design: Design) -> tuple:
    """What the flow options add to a design's cache keys: nothing at the flow's defaults
    (so results cached before an option existed stay valid)."""
    return (design.flow,) if design.flow else ()


def _cached(path: Path, key: str):
    """The result cached in ``path`` under ``key`` (marked ``cached``), else ``None``."""
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:
            return None
        if data.pop("key", None) == key:
            return {**data, "cached": True}
    return None


def _save(path: Path, key: str, data: dict) -> None:
    _write_atomic(path, json.dumps({**data, "key": key}, indent=1, sort_keys=True) + "\n")


def synthesize(design: Design, *, root: Path = DEFAULT_ROOT, fresh: bool = False,
               ice40: str = "auto") -> dict:
    """Yosys flows + STA + OpenSTA (cached); returns the synthesis part of a result.
    ``ice40``: see :func:`synth.yosys.run_flows`.  ``timing``/``timing_icg`` are our STA's
    (:mod:`synth.sta`, whose slews the energy model uses), ``timing_opensta``/
    ``timing_icg_opensta`` OpenSTA's (:mod:`synth.opensta`; ``{"skipped": reason}`` without
    it, ``{"error": message}`` if it failed, then nothing is cached)."""
    lib_path, _ = osu018()
    verilog = rtl(design, root)
    work = _work_dir(design, root, verilog)
    with _locked(work):
        return _synthesize(design, work, verilog, lib_path, fresh, ice40)


def _synthesize(design: Design, work: Path, verilog: str, lib_path: Path, fresh: bool,
                ice40: str) -> dict:
    key = _hash(verilog, SCRIPT_VERSION, SYNTH_VERSION, lib_path.stat().st_size, ice40,
                *_flow_key(design))
    cache = work / "synth.json"
    if not fresh and (hit := _cached(cache, key)) is not None and (work / "netlist.v").exists():
        timing, seconds = _opensta_views(design, work, lib_path, fresh)
        pnr, pnr_seconds = _ice40_pnr_view(design, work, hit["ice40"], fresh)
        return {**hit, **timing, "ice40_pnr": pnr, "seconds": {
            **hit.get("seconds", {}), "opensta": seconds, "ice40_pnr": pnr_seconds},
            "work": str(work)}
    start = time.monotonic()
    stats = run_flows(work, design.top, verilog, lib_path, ice40=ice40,
                      booth=design.flow_dict["booth"])
    t_yosys = time.monotonic() - start
    views = {}
    for gating, path in (("none", stats["netlist_json"]), ("icg", stats["netlist_icg_json"])):
        net = _load_netlist(Path(path), lib_path, design.top)
        timing = analyze(net)
        views[gating] = (net, timing)
        _write_atomic(work / SLEWS[gating], json.dumps({str(k): v for k, v in
                                                        timing.slews.items()}))
    t_sta = time.monotonic() - start - t_yosys
    generic, ice = stats["generic"], stats["ice40"]
    gen_types = generic["num_cells_by_type"]
    ice_types = ice.get("num_cells_by_type")
    result = {
        "generic": {
            "cells": generic["num_cells"], "by_type": gen_types,
            "transistors": int(generic.get("estimated_num_transistors", 0)),
            "flip_flops": sum(v for k, v in gen_types.items() if "DFF" in k),
        },
        "osu018": _osu_view(stats["osu018"], *views["none"]),
        "osu018_icg": _osu_view(stats["osu018_icg"], *views["icg"]),
        "timing": views["none"][1].as_dict(),
        "timing_icg": views["icg"][1].as_dict(),
        "ice40": ({"skipped": ice["skipped"], "cells": None, "by_type": {}, "lut4": None,
                   "carry": None, "ff": None} if "skipped" in ice else {
            "cells": ice["num_cells"], "by_type": ice_types,
            "lut4": ice_types.get("SB_LUT4", 0), "carry": ice_types.get("SB_CARRY", 0),
            "ff": sum(v for k, v in ice_types.items() if k.startswith("SB_DFF")),
        }),
        "seconds": {"yosys": round(t_yosys, 2), "sta": round(t_sta, 2)},
    }
    _save(cache, key, result)
    timing, seconds = _opensta_views(design, work, lib_path, fresh)
    pnr, pnr_seconds = _ice40_pnr_view(design, work, result["ice40"], fresh)
    return {**result, **timing, "ice40_pnr": pnr, "seconds": {
        **result["seconds"], "opensta": seconds, "ice40_pnr": pnr_seconds},
        "work": str(work), "cached": False}


def _opensta_views(design: Design, work: Path, lib_path: Path, fresh: bool) -> tuple:
    """``({"timing_opensta": ..., "timing_icg_opensta": ...}, seconds)``: OpenSTA's timing
    of the ungated and the gated netlist (:func:`synth.opensta.opensta_timing`), cached in
    ``opensta.json`` apart from the Yosys results, keyed on both netlists, the liberty and
    OpenSTA's version (so a synthesis cached before OpenSTA was there is timed without
    running Yosys again).  ``{"skipped": reason}`` without ``sta``; ``{"error": message}``
    if it failed (then nothing is cached)."""
    names = {"none": "timing_opensta", "icg": "timing_icg_opensta"}
    available, status = opensta_status()
    if not available:
        return {name: {"skipped": status} for name in names.values()}, 0.0
    netlists = {gating: work / NETLISTS[gating][1] for gating in names}
    key = _hash(OPENSTA_VERSION, status, lib_path.stat().st_size,
                *(path.read_text() for path in netlists.values()))
    cache = work / "opensta.json"
    if not fresh and (hit := _cached(cache, key)) is not None:
        return {name: hit[name] for name in names.values()}, 0.0
    start = time.monotonic()
    views = {names[g]: opensta_timing(path, design.top, lib_path, work)
             for g, path in netlists.items()}
    if not any("error" in view for view in views.values()):
        _save(cache, key, views)
    return views, round(time.monotonic() - start, 2)


def _ice40_pnr_view(design: Design, work: Path, ice40: dict, fresh: bool) -> tuple:
    """``(result, seconds)``: nextpnr's place and route of the iCE40 view
    (:func:`synth.ice40_pnr.ice40_pnr`), cached in ``ice40_pnr.json`` apart from the Yosys
    results, keyed on the iCE40 netlist and nextpnr's version.  A work directory
    synthesized before the iCE40 step wrote its netlist gets that step alone again
    (:func:`synth.yosys.ice40_netlist`).  ``{"skipped": reason}`` where the iCE40 view was
    not mapped or without nextpnr; ``{"error": message}`` if it failed (then nothing is
    cached)."""
    from .ice40_pnr import PNR_VERSION, ice40_pnr, nextpnr_status
    from .yosys import ICE40_NETLIST, YosysError, ice40_netlist
    if "skipped" in ice40:
        return {"skipped": f"iCE40 view {ice40['skipped']}"}, 0.0
    available, status = nextpnr_status()
    if not available:
        return {"skipped": status}, 0.0
    start = time.monotonic()
    netlist = work / ICE40_NETLIST
    try:
        if not netlist.exists():
            ice40_netlist(work, design.top)
    except YosysError as exc:
        return {"error": f"YosysError: {exc}"}, round(time.monotonic() - start, 2)
    key = _hash(PNR_VERSION, status, netlist.read_text())
    cache = work / "ice40_pnr.json"
    if not fresh and (hit := _cached(cache, key)) is not None:
        return hit, 0.0
    view = ice40_pnr(netlist, design.top, work, version=status)
    if "error" not in view:
        _save(cache, key, view)
    return view, round(time.monotonic() - start, 2)


NETLISTS = {"none": ("netlist.json", "netlist.v"), "icg": ("netlist-icg.json", "netlist-icg.v")}
SLEWS = {"none": "slews.json", "icg": "slews-icg.json"}
GATINGS = tuple(NETLISTS)


def _osu_view(stat: dict, net, timing) -> dict:
    """Area, cells and clock gating of one osu018 netlist (``stat``: Yosys's figures)."""
    from .clockgate import is_icg_instance
    from .cts import CTS_PREFIX
    area, seq_area = net.area()
    gated_clocks = net.clock.gated_bits(net)
    gated = sum(1 for i in net.instances if i.cell.ff
                and i.inputs.get(i.clock_pin) in gated_clocks)
    view = {
        "cells": stat["num_cells"], "by_type": stat["num_cells_by_type"],
        "area_um2": round(float(stat.get("area", area)), 1),
        "sequential_area_um2": round(seq_area, 1),
        "sequential_share": round(seq_area / area, 4) if area else 0.0,
        "flip_flops": sum(1 for i in net.instances if i.cell.ff),
        "gated_flip_flops": gated,
        "icg_cells": len(net.clock.latches),
        "icg_area_um2": round(sum(i.cell.area for i in net.instances
                                  if is_icg_instance(i.name)), 1),
        "clock_buffers": sum(1 for i in net.instances if i.name.startswith(CTS_PREFIX)),
        "clock_tree_area_um2": round(sum(i.cell.area for i in net.instances
                                         if i.name.startswith(CTS_PREFIX)), 1),
        "leakage_nw": round(sum(i.cell.leakage for i in net.instances), 3),
    }
    if abs(area - float(stat.get("area", area))) > 1e-6 * max(area, 1):
        view["area_check"] = f"netlist sum {area} differs from yosys stat"
    return view


def _workload(design: Design, n: int, seed: int):
    """``(mode, env, info)`` for the energy testbench :mod:`quantrtl.tb.tests.activity`."""
    if design.kind == "helper":
        from .helpers import helper_inputs
        cycles = 1024
        op = {"mul": f"INT{design.param_dict['width']} multiply",
              "add": f"INT{design.param_dict['width']} add"}[design.name]
        inputs = helper_inputs(design.name, design.param_dict["width"])
        env = {"QUANTRTL_INPUTS": json.dumps(inputs), "QUANTRTL_CYCLES": cycles,
               "QUANTRTL_INPUT_SEED": seed}
        return "random", env, {"ops": cycles, "op": op, "dot_products": 0, "length": 1}
    config = design.config
    if config.block.workload is None:
        return None, None, None
    vectors, info = config.block.workload(config.component, np.random.default_rng(seed), n,
                                          seed=seed)
    return "vectors", vectors, info


ENERGY_SIMULATORS = ("native",)    # or a netlist runner: see measure_energy


def energy_inputs(design, synth: dict, gating: str, workload, n: int, seed: int):
    """What an energy run of ``design`` reads: ``(liberty, cell models, work directory,
    (netlist JSON, netlist Verilog) of the ``gating`` view, mode, payload, info)`` with the
    workload given (``(vectors, info)``) or the design's own at length ``n`` (mode ``None``:
    the block has none)."""
    if gating not in GATINGS:
        raise ValueError(f"gating={gating!r} is out of range: allowed {list(GATINGS)}")
    lib_path, cells = osu018()
    work = Path(synth["work"]).resolve()
    if workload is not None:
        mode, (payload, info) = "vectors", workload
    else:
        mode, payload, info = _workload(design, n, seed)
    return lib_path, cells, work, NETLISTS[gating], mode, payload, info


def vectors_digest(vectors: dict) -> str:
    """A stable hash of a vector set (array names, dtypes, shapes and bytes)."""
    h = hashlib.sha256()
    for name in sorted(vectors):
        arr = np.ascontiguousarray(np.asarray(vectors[name]))
        h.update(f"{name}:{arr.dtype.str}:{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()[:16]


def measure_energy(design: Design, synth: dict, *, n: int = 64, seed: int = 1,
                   fresh: bool = False, keep_vcd: bool = False,
                   simulator="native", gating: str = "none",
                   workload: tuple | None = None) -> dict | None:
    """Gate-level simulation of the workload with toggle counting; energy per operation.
    ``None`` if the block has no workload yet.

    ``workload``: ``(vectors, info)`` to measure instead of the block's own synthetic
    workload (its registry entry's ``workload``): a vector set in the format of
    :mod:`quantrtl.vectors.adapters` and its ``info`` (``ops``, ``op``, ``dot_products``,
    ``length``, ``skip_beats``, ``data``); the cache is keyed on the vectors' contents.

    ``gating``: ``"none"`` (the netlist without clock gating) or ``"icg"`` (the clock-gated
    netlist; its result also carries the ``ideal`` bound).  ``simulator``: ``"native"``
    (:mod:`synth.gatesim`, the netlist evaluated from the liberty's cell functions, ~10x
    faster) or a netlist runner such as :data:`quantrtl.tb.gate_level.icarus_activity` (the
    library's Verilog cell models in Icarus under the cocotb harness, toggles from a VCD;
    passed in, since synthesis does not import the testbenches); both check every output
    against the golden model and count the same toggles."""
    if simulator not in ENERGY_SIMULATORS and not callable(simulator):
        raise ValueError(f"simulator={simulator!r} is out of range: allowed "
                         f"{list(ENERGY_SIMULATORS)} or a netlist runner "
                         f"(quantrtl.tb.gate_level.icarus_activity)")
    sim_name = simulator if isinstance(simulator, str) else simulator.name
    lib_path, cells, work, (json_name, verilog_name), mode, payload, info = \
        energy_inputs(design, synth, gating, workload, n, seed)
    if mode is None:
        return None
    tag = f"w{vectors_digest(payload)}" if workload is not None else f"n{n}-s{seed}"
    key = _hash(FLOW_VERSION, (work / verilog_name).read_text(), mode, n, seed, sim_name,
                json.dumps(info, sort_keys=True), json.dumps(energy_components(design)), tag)
    cache = work / f"energy-{gating}-{tag}-{sim_name}.json"
    if not fresh and (hit := _cached(cache, key)) is not None:
        return hit
    start = time.monotonic()
    net = _load_netlist(work / json_name, lib_path, design.top)
    if simulator == "native":
        per_bit, cycles = _native_activity(design, net, mode, payload, info, seed)
    else:
        per_bit, cycles = _vcd_activity(simulator, design, net, work, cells, mode, payload,
                                        info, n, seed, keep_vcd, gating)
    t_sim = time.monotonic() - start
    slews = {int(k): v for k, v in json.loads((work / SLEWS[gating]).read_text()).items()}
    from .components import attribute
    owners = attribute(net, energy_components(design))
    from quantrtl.vectors import CLOCK_PERIOD_NS
    report = energy_from_toggles(net, per_bit, cycles, CLOCK_PERIOD_NS, slews,
                                 component=lambda inst: owners[id(inst)])
    ops = info["ops"]
    result = {
        "workload": info, "seed": seed, "simulator": sim_name, "gating": gating,
        **report.as_dict(),
        "pj_per_op": round(report.total_pj / ops, 4),
        "pj_per_op_ideal": round(report.ideal_pj / ops, 4),
        "pj_per_op_datapath": round((report.switching_pj + report.internal_comb_pj) / ops, 4),
        "cycles_per_op": round(cycles / ops, 4),
        "seconds": {"simulation": round(t_sim, 2),
                    "toggles_energy": round(time.monotonic() - start - t_sim, 2)},
    }
    if info.get("dot_products"):
        dots = info["dot_products"]
        result["pj_per_dot_product"] = round(report.total_pj / dots, 3)
        result["pj_per_dot_product_ideal"] = round(report.ideal_pj / dots, 3)
        result["cycles_per_dot_product"] = round(cycles / dots, 3)
    _save(cache, key, result)
    return {**result, "cached": False}


def energy_components(design: Design) -> list:
    """The design's ``(component, regex)`` rules for the energy breakdown
    (:mod:`synth.components`): the hardware class's ``ENERGY_COMPONENTS``; a helper is all
    ``datapath``; a block that declares none is all its own name."""
    if design.kind == "helper":
        return [["datapath", ""]]
    groups = getattr(design.config.block.component, "ENERGY_COMPONENTS", None)
    return [list(g) for g in groups] if groups else [[design.name, ""]]


def _load_netlist(path: Path, lib_path: Path, top: str):
    """The parsed netlist, kept for the next calls on the same file (a design's energy runs
    at several lengths share it, and its simulator); the two views of one design fit."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, str(lib_path), top)
    if key not in _NETLISTS:
        if len(_NETLISTS) >= 2:
            _NETLISTS.pop(next(iter(_NETLISTS)))
        _NETLISTS[key] = load_netlist(path, load_library(lib_path), top)
    return _NETLISTS[key]


_NETLISTS: dict = {}
_SIMS: dict = {}


def _gate_sim(net):
    from .gatesim import GateLevelSim
    if id(net) not in _SIMS or _SIMS[id(net)][0] is not net:
        if len(_SIMS) >= 2:
            _SIMS.pop(next(iter(_SIMS)))
        _SIMS[id(net)] = (net, GateLevelSim(net))
    return _SIMS[id(net)][1]


def _native_activity(design, net, mode, payload, info, seed, sim=None):
    """``(toggles per bit, cycles)`` from :mod:`synth.gatesim` (or ``sim``, a simulator of
    ``net`` with its interface); outputs checked."""
    import random

    from .gatesim import GateSimError, run_random_workload, run_stream_workload
    sim = sim or _gate_sim(net)
    if mode == "random":
        cycles = run_random_workload(sim, json.loads(payload["QUANTRTL_INPUTS"]),
                                     int(payload["QUANTRTL_CYCLES"]), random.Random(seed))
        return sim.bit_toggles(), cycles
    from quantrtl.vectors.adapters import input_streams, output_decoder
    config = design.config
    component, adapter = config.component, config.adapter
    expected = [int(v) for v in np.asarray(adapter.golden(payload)).reshape(-1)]
    decode, flatten = output_decoder(adapter, component)
    got, cycles = run_stream_workload(
        sim, input_streams(adapter, payload), config=adapter.config(payload),
        expected_items=adapter.count(payload),
        decode=decode if flatten else (lambda word: [decode(word)]),
        skip_beats=info.get("skip_beats", 0), gap=info.get("gap", 0))
    got = [int(v) for v in got]
    if got != expected:
        k = next((k for k, (a, b) in enumerate(zip(got, expected)) if a != b),
                 min(len(got), len(expected)))
        raise GateSimError(f"gate-level netlist of {design.label} disagrees with the golden "
                           f"model at output {k}: got {got[k:k + 4]}, expected "
                           f"{expected[k:k + 4]} ({len(got)} vs {len(expected)} outputs)")
    return sim.bit_toggles(), cycles


def _vcd_activity(run, design, net, work, cells, mode, payload, info, n, seed, keep_vcd,
                  gating="none"):
    """``(toggles per bit, cycles)`` from an HDL simulation of the netlist with the cell
    models that writes a VCD and the window to count in (``run``: e.g. Icarus under the
    cocotb harness, which checks the outputs against the golden model)."""
    gl = work / f"gl-{gating}-n{n}"
    gl.mkdir(parents=True, exist_ok=True)
    vcd, window = gl / "activity.vcd", gl / "window.json"
    window.unlink(missing_ok=True)
    env = {"QUANTRTL_WORKLOAD_MODE": mode, "QUANTRTL_WINDOW": window}
    if mode == "vectors":
        np.savez(gl / "vectors.npz", **payload)
        env["QUANTRTL_VECTORS"] = gl / "vectors.npz"
        env["QUANTRTL_SKIP_BEATS"] = info.get("skip_beats", 0)
    else:
        env.update(payload)
    run(work / NETLISTS[gating][1], simulation_models(cells), design.top,
        block=design.name if design.kind == "block" else None,
        params=design.param_dict if design.kind == "block" else None,
        build_dir=gl, seed=seed, vcd=vcd, extra_env=env)
    w = json.loads(window.read_text())
    toggles, _ = toggle_counts(vcd, w["t0_ps"], w["t1_ps"])
    if not keep_vcd:
        vcd.unlink(missing_ok=True)
    return bit_toggles(net, toggles), round((w["t1_ps"] - w["t0_ps"]) / w["period_ps"])


def run_point(design: Design, *, energy: bool = True, lengths=(64,), seed: int = 1,
              root: Path = DEFAULT_ROOT, fresh: bool = False, ice40: str = "auto") -> dict:
    """Everything for one design; never raises (errors are recorded in the result)."""
    start = time.monotonic()
    out = {"design": design.as_dict(), "pid": os.getpid()}
    try:
        out["synth"] = synthesize(design, root=root, fresh=fresh, ice40=ice40)
        if energy:
            out["energy"] = {}
            if not (design.kind == "block" and design.config.block.uses_length):
                lengths = tuple(lengths)[:1]
            for n in lengths:
                runs = {g: measure_energy(design, out["synth"], n=n, seed=seed, fresh=fresh,
                                          gating=g) for g in GATINGS}
                if all(e is not None for e in runs.values()):
                    out["energy"][str(n)] = runs
    except Exception as exc:  # reported, not fatal for the other points of a sweep
        import traceback
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc()[-3000:]
    out["seconds"] = round(time.monotonic() - start, 2)
    return out


def sanity_reference() -> dict:
    lib_path, _ = osu018()
    return horowitz_scaled(NODE_NM, load_library(lib_path).voltage)
