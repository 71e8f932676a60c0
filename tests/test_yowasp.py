"""The YoWASP tools' first run (:mod:`quantrtl.synth.yowasp`): processes starting a tool
whose code is not cached yet compile it once between them, not once each; a held lock
delays a caller by a bounded wait only; no lock (an unwritable cache) still runs the tool."""

import os
import subprocess
import sys
import time

import pytest

from quantrtl.synth import yowasp

# A stand-in for a YoWASP tool: the first run "compiles" (one line in the log, one second)
# and caches; later runs load the cache.  Like the runtime, it takes no lock.
FAKE_TOOL = """#!/bin/sh
if [ ! -e "$FAKE_CACHE/fake.bin" ]; then
  echo compile >> "$FAKE_LOG"
  sleep 1
  touch "$FAKE_CACHE/fake.bin"
fi
echo "Fake tool 1.0"
"""


@pytest.fixture
def tool(tmp_path, monkeypatch):
    path = tmp_path / "yowasp-fake"
    path.write_text(FAKE_TOOL)
    path.chmod(0o755)
    log = tmp_path / "compiles.log"
    monkeypatch.setenv("YOWASP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.setenv("FAKE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    return path, log


def _compiles(log) -> int:
    return len(log.read_text().split()) if log.exists() else 0


def _together(argvs) -> list[str]:
    procs = [subprocess.Popen(a, stdout=subprocess.PIPE, text=True, env=os.environ)
             for a in argvs]
    return [p.communicate(timeout=60)[0].strip() for p in procs]


def test_concurrent_first_runs_compile_once(tool, tmp_path):
    path, log = tool
    # Without the lock, two first runs both compile (the race this module exists for).
    assert _together([[str(path)], [str(path)]]) == ["Fake tool 1.0"] * 2
    assert _compiles(log) == 2
    (tmp_path / "cache" / "fake.bin").unlink()
    log.unlink()
    script = "import sys; from quantrtl.synth.yowasp import prepare; print(prepare(sys.argv[1]))"
    out = _together([[sys.executable, "-c", script, str(path)]] * 3)
    assert out == ["Fake tool 1.0"] * 3
    assert _compiles(log) == 1


def test_prepare_runs_once_per_process_and_reports_failures(tool, tmp_path):
    path, log = tool
    yowasp.prepare.cache_clear()
    try:
        assert yowasp.prepare(str(path)) == "Fake tool 1.0"
        (tmp_path / "cache" / "fake.bin").unlink()
        assert yowasp.prepare(str(path)) == "Fake tool 1.0"      # not run again
        assert _compiles(log) == 1
        assert yowasp.prepare(str(tmp_path / "missing")) is None
        failing = tmp_path / "yowasp-failing"
        failing.write_text("#!/bin/sh\necho broken\nexit 3\n")
        failing.chmod(0o755)
        assert yowasp.prepare(str(failing)) is None
    finally:
        yowasp.prepare.cache_clear()


def test_a_held_lock_delays_by_the_bounded_wait_only(tool):
    with yowasp.compile_lock("yowasp-fake"):
        t0 = time.monotonic()
        with yowasp.compile_lock("yowasp-fake", wait_s=0.3):
            waited = time.monotonic() - t0
    assert 0.3 <= waited < 5
    t0 = time.monotonic()
    with yowasp.compile_lock("yowasp-fake", wait_s=0.3):      # released: no wait
        assert time.monotonic() - t0 < 0.3


def test_an_unwritable_cache_runs_the_tool_without_a_lock(tool, tmp_path, monkeypatch):
    path, log = tool
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("YOWASP_CACHE_DIR", str(blocked / "cache"))   # a folder under a file
    assert yowasp.cache_dir() == blocked / "cache"
    yowasp.prepare.cache_clear()
    try:
        assert yowasp.prepare(str(path)) == "Fake tool 1.0"
    finally:
        yowasp.prepare.cache_clear()
    assert _compiles(log) == 1
