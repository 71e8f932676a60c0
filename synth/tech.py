"""Where the standard-cell library lives, fetched on first use by ``tools/fetch-osu018.sh``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

__all__ = ["TechError", "osu018", "NODE_NM"]

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
    if not (lib.exists() and cells.exists()):
        script = _ROOT / "tools" / "fetch-osu018.sh"
        proc = subprocess.run(["bash", str(script), str(tech_dir)], capture_output=True,
                              text=True)
        if proc.returncode or not lib.exists():
            raise TechError(f"the osu018 standard-cell library is missing and could not be "
                            f"fetched: {proc.stderr.strip()}")
    return lib.resolve(), cells.resolve()
