"""Where the standard-cell library lives, fetched on first use by :func:`fetch_osu018`
(``python -m quantrtl.synth.tech [DIR]``; part of the package, so it works from a wheel).

The fetch corrects one figure of the package's liberty file: the LATCH cell's area,
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

A latch is an ``always_latch`` block (SystemVerilog; cocotb's Icarus runs use ``-g2012``),
which runs once at time zero: a latch that is transparent from the start passes its input
at once, as the cell does.  With ``always @(CLK or D)`` it waited for the first change of
either, which never came when both settled at time zero before the block started waiting:
a clock-gating cell nested in an idle gated domain (its latch transparent and its enable
high from time zero, :func:`synth.clockgate.nest_clock_gates`) then held a stale 0 and
swallowed its domain's first clock pulse, the first beat of a latency-3 requantizer lost.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["TechError", "osu018", "fetch_osu018", "simulation_models", "NODE_NM"]

NODE_NM = 180          # OSU 0.18 um (TSMC 0.18 um rules), typical corner, 1.8 V
PACKAGE = "qflow-tech-osu018"
LATCH_AREA_UM2 = 56    # the LATCH macro's LEF size, 5.6 x 10 um


class TechError(RuntimeError):
    pass


def osu018(tech_dir: Path | None = None) -> tuple[Path, Path]:
    """``(liberty, verilog cell models)`` of osu018, fetched into ``tech_dir`` (default
    ``$QUANTRTL_TECH_DIR`` or ``build/tech``) when missing (:func:`fetch_osu018`)."""
    tech_dir = Path(tech_dir or os.environ.get("QUANTRTL_TECH_DIR") or Path("build") / "tech")
    lib, cells = fetch_osu018(tech_dir)
    return lib.resolve(), cells.resolve()


def fetch_osu018(tech_dir: Path) -> tuple[Path, Path]:
    """Fetch Debian's ``qflow-tech-osu018`` into ``tech_dir`` unless it is there:
    ``apt-get download`` the .deb (no root needed; an ``apt-get update`` first where root
    or passwordless sudo allows) and ``dpkg -x`` it, keeping ``osu018/osu018_stdcells.lib``
    and ``osu018/osu018_stdcells.v``; then set the LATCH cell's area (see the module
    docstring).  Nothing is installed.  :class:`TechError` says why when it cannot."""
    tech_dir = Path(tech_dir)
    out = tech_dir / "osu018"
    lib, cells = out / "osu018_stdcells.lib", out / "osu018_stdcells.v"
    if not (lib.exists() and cells.exists()):
        for tool in ("apt-get", "dpkg"):
            if shutil.which(tool) is None:
                raise TechError(f"{tool} is not available: fetch Debian's {PACKAGE} by hand "
                                f"and put osu018_stdcells.lib and osu018_stdcells.v into "
                                f"{out}/")
        deb_dir = tech_dir / "deb"
        deb_dir.mkdir(parents=True, exist_ok=True)
        print(f"quantrtl: fetching {PACKAGE} (apt-get download) into {tech_dir}",
              file=sys.stderr, flush=True)
        if not list(deb_dir.glob(f"{PACKAGE}_*.deb")) and not _apt_download(deb_dir):
            raise TechError(f"apt-get download {PACKAGE} failed (no network, or no "
                            f"Debian/Ubuntu repository that has it?)")
        root = deb_dir / "root"
        shutil.rmtree(root, ignore_errors=True)
        deb = sorted(deb_dir.glob(f"{PACKAGE}_*.deb"))[-1]
        proc = subprocess.run(["dpkg", "-x", str(deb), str(root)], capture_output=True,
                              text=True)
        src = root / "usr" / "share" / "qflow" / "tech" / "osu018"
        if proc.returncode or not (src / lib.name).exists():
            raise TechError(f"dpkg -x {deb.name} failed: {proc.stderr.strip()}")
        out.mkdir(parents=True, exist_ok=True)
        for f in (lib, cells):
            shutil.copyfile(src / f.name, f)
        print(f"quantrtl: osu018 standard cells in {out}", file=sys.stderr, flush=True)
    _fix_latch_area(lib)
    return lib, cells


def _apt_download(deb_dir: Path) -> bool:
    def download():
        return subprocess.run(["apt-get", "download", PACKAGE], cwd=deb_dir,
                              capture_output=True).returncode == 0
    if download():
        return True
    if os.geteuid() == 0:
        update = ["apt-get", "update", "-qq"]
    elif shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"],
                                                 capture_output=True).returncode == 0:
        update = ["sudo", "-n", "apt-get", "update", "-qq"]
    else:
        return False
    subprocess.run(update, capture_output=True)
    return download()


def _fix_latch_area(lib: Path) -> None:
    """The package's LATCH has ``area : 0;``: set its LEF size (idempotent)."""
    text = lib.read_text()
    fixed = re.sub(r"(cell \(LATCH\) \{\s*\n\s*area : )0;", rf"\g<1>{LATCH_AREA_UM2};", text,
                   count=1)
    if fixed != text:
        lib.write_text(fixed)
    if not re.search(rf"cell \(LATCH\) \{{\s*\n\s*area : {LATCH_AREA_UM2};", fixed):
        raise TechError(f"could not set the LATCH area in {lib}")


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
        r"reg \1_q = 1'b0; always_latch if (\3) \1_q <= \2; assign \1 = \1_q;",
        text)
    if not flops or not latches:
        raise TechError(f"{cells}: found {flops} flip-flop and {latches} latch primitives "
                        f"to rewrite (expected the osu018 models)")
    out = cells.with_name(cells.stem + "_sim.v")
    if not out.exists() or out.read_text() != text:
        out.write_text(text)
    return out


def main(argv=None) -> int:
    """``python -m quantrtl.synth.tech [DIR]``: fetch osu018 into DIR (default build/tech)."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        lib, cells = fetch_osu018(Path(argv[0] if argv else Path("build") / "tech"))
    except TechError as exc:
        print(f"quantrtl: {exc}", file=sys.stderr)
        return 1
    print(f"{lib}\n{cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
