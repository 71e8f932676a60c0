"""Where the standard-cell library lives, fetched on first use by ``tools/fetch-osu018.sh``.

The fetch script corrects one figure of the package's liberty file: the LATCH cell's area,
0 there, is set to its LEF macro's 56 um^2 (5.6 x 10 um, the width x height rule every
other cell's area follows); the clock-gating cells are built from latches.

:func:`simulation_models` derives the cell models used for gate-level simulation from the
library's own Verilog models: the combinational cells unchanged, the flip-flops and latches
with their user-defined primitives replaced by the same behaviour written as nonblocking
``always`` blocks.  A zero-delay simulation with gated clocks needs that: a gated clock
reaches its flip-flops through clock-gating cells a few delta cycles after the clock edge,
and with the primitives' immediate outputs the ungated flip-flops' new values could race
into the gated ones' data inputs; nonblocking updates make every flip-flop sample before
any flip-flop output moves, as the library's real clock-to-Q delays do in silicon.  They
also start at 0 (as the native simulator's do, :mod:`synth.gatesim`) instead of X: a
synthesized reset can reach a register through logic that a four-valued simulation cannot
resolve while its own state is X (X-pessimism: a counter whose next state is ``rst ? 0 :
f(state)``, restructured by the mapper, stays X through reset), which silicon, where every
register holds some 0 or 1, never sees.  The reset still has to bring every register to its
defined state from there, which the testbenches check.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

__all__ = ["TechError", "osu018", "simulation_models", "NODE_NM"]

NODE_NM = 180          # OSU 0.18 um (TSMC 0.18 um rules), typical corner, 1.8 V
_ROOT = Path(__file__).resolve().parents[1]


class TechError(RuntimeError):
    pass


def osu018(tech_dir: Path | None = None) -> tuple[Path, Path]:
    """``(liberty, verilog cell models)`` of osu018, fetched into ``tech_dir`` (default
    ``$QUANTRTL_TECH_DIR`` or ``build/tech``) when missing."""
    tech_dir = Path(tech_dir or os.environ.get("QUANTRTL_TECH_DIR") or Path("build") / "tech")
    lib = tech_dir / "osu018" / "osu018_stdcells.lib"
    cells = tech_dir / "osu018" / "osu018_stdcells.v"
    if not (lib.exists() and cells.exists()) or not _latch_area_fixed(lib):
        script = _ROOT / "tools" / "fetch-osu018.sh"
        proc = subprocess.run(["bash", str(script), str(tech_dir)], capture_output=True,
                              text=True)
        if proc.returncode or not lib.exists():
            raise TechError(f"the osu018 standard-cell library is missing and could not be "
                            f"fetched: {proc.stderr.strip()}")
    return lib.resolve(), cells.resolve()


def _latch_area_fixed(lib: Path) -> bool:
    text = lib.read_text()
    at = text.find("cell (LATCH) {")
    return at < 0 or "area : 0;" not in text[at:at + 40]


_UDP_DFF = re.compile(r"udp_dff \((\w+), (\w+), (\w+), 1'B0, 1'B0, NOTIFIER\);")
_UDP_TLAT = re.compile(r"udp_tlat \((\w+), (\w+), (\w+), 1'B0, 1'B0, NOTIFIER\);")


def simulation_models(cells: Path) -> Path:
    """The gate-level simulation models derived from ``cells`` (the library's Verilog
    models; see the module docstring), written beside it as ``<name>_sim.v``."""
    cells = Path(cells)
    text = cells.read_text()
    text, flops = _UDP_DFF.subn(
        r"reg \1_q = 1'b0; always @(posedge \3) \1_q <= \2; assign \1 = \1_q;", text)
    text, latches = _UDP_TLAT.subn(
        r"reg \1_q = 1'b0; always @(\3 or \2) if (\3) \1_q <= \2; assign \1 = \1_q;",
        text)
    if not flops or not latches:
        raise TechError(f"{cells}: found {flops} flip-flop and {latches} latch primitives "
                        f"to rewrite (expected the osu018 models)")
    out = cells.with_name(cells.stem + "_sim.v")
    if not out.exists() or out.read_text() != text:
        out.write_text(text)
    return out
