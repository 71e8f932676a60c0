"""Run cocotb test modules on a synthesized gate-level netlist in Icarus Verilog.

The netlist written by :mod:`synth.yosys` keeps the block's top-level ports, so the same
testbenches (``quantrtl.tb.tests.test_mac``, ``quantrtl.tb.tests.test_requant``, ...) run
on it unchanged; the standard cells come from the library's Verilog models
(``osu018_stdcells.v``, simulated without
their ``specify`` delays: zero-delay).  Optionally every net of the top scope is dumped to
a VCD file (for switching-activity energy estimates, :mod:`synth.energy`).
"""

from __future__ import annotations

import json
from pathlib import Path

from cocotb_tools.runner import Icarus

from .runner import SimulationError, launch, simulator_status

__all__ = ["simulate_netlist", "IcarusActivity", "icarus_activity"]

_DUMP_MODULE = "quantrtl_vcd_dump"


class _IcarusVcd(Icarus):
    """cocotb's Icarus runner passes vvp ``-none`` (no dumps at all) unless it dumps FST
    waves itself; our own VCD dump module needs ``-vcd`` instead."""

    def _test_command(self):
        return [["-vcd" if arg == "-none" else arg for arg in cmd]
                for cmd in super()._test_command()]


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def simulate_netlist(netlist: Path, cells: Path, top: str, test_module: str, *,
                     block: str | None, params: dict | None = None,
                     build_dir: Path, testcase: str | None = None, seed: int | None = None,
                     vcd: Path | None = None, extra_env: dict | None = None,
                     verbose: bool = False) -> Path:
    """Build ``netlist`` + the cell models ``cells`` for Icarus and run ``test_module``.

    ``block``/``params`` reach the testbench as ``QUANTRTL_BLOCK``/``QUANTRTL_PARAMS``
    (as in :func:`tb.runner.simulate`).  With ``vcd``, the nets of the top module (one
    level: the flattened netlist's nets, not the cells' insides) are dumped there.
    ``testcase``: one test or several, comma-separated (one build runs them all; all of
    ``test_module`` without it).  Returns the results XML; raises :class:`SimulationError`
    if any test failed.
    """
    available, reason = simulator_status("icarus")
    if not available:
        raise SimulationError(f"icarus is not available: {reason}")
    build_dir = Path(build_dir).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    sources = [Path(netlist).resolve(), Path(cells).resolve()]
    build_args = []
    if vcd is not None:
        dump = build_dir / f"{_DUMP_MODULE}.v"
        _write_if_changed(dump, (
            f"module {_DUMP_MODULE}();\n"
            f"  initial begin\n"
            f"    $dumpfile(\"{Path(vcd).resolve()}\");\n"
            f"    $dumpvars(1, {top});\n"
            f"  end\n"
            f"endmodule\n"))
        sources.append(dump)
        build_args += ["-s", _DUMP_MODULE]
    env = {**({"QUANTRTL_BLOCK": block} if block else {}),
           "QUANTRTL_PARAMS": json.dumps(params or {}, sort_keys=True),
           **{k: str(v) for k, v in (extra_env or {}).items()}}
    return launch(_IcarusVcd() if vcd is not None else Icarus(), sources=sources, top=top,
                  build_dir=build_dir, test_module=test_module, env=env, seed=seed,
                  testcase=testcase, build_args=build_args, always=True, verbose=verbose,
                  what=f"icarus gate-level {top} {json.dumps(params or {}, sort_keys=True)}")


class IcarusActivity:
    """A netlist runner for :func:`quantrtl.synth.flow.measure_energy` (``simulator=``):
    the netlist and the cell models in Icarus under the activity testbench
    (:mod:`quantrtl.tb.tests.activity`, which checks the outputs against the golden model
    and records the energy window), every net dumped to ``vcd``."""

    name = "icarus"
    test_module = "quantrtl.tb.tests.activity"

    def __call__(self, netlist: Path, cells: Path, top: str, *, block, params, build_dir,
                 seed, vcd, extra_env) -> Path:
        return simulate_netlist(netlist, cells, top, self.test_module, block=block,
                                params=params, build_dir=build_dir, seed=seed, vcd=vcd,
                                extra_env=extra_env)


icarus_activity = IcarusActivity()
