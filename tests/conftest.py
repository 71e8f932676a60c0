"""Simulator selection and shared fixtures of the pytest suite.

``QUANTRTL_SIMS`` (default ``verilator,icarus``) lists the simulators to run on.  A listed
simulator that is missing is skipped with its reason, unless it is also listed in
``QUANTRTL_REQUIRE_SIMS`` (as CI does), in which case its tests fail.  ``tech`` is the osu018
library (the tests that need it skip with the reason when it cannot be fetched);
``tiny_netlist`` builds a hand-written mapped netlist of library cells.

Functional coverage (``tests/test_coverage.py``): each pytest session gets an id
(``QUANTRTL_TESTRUN``, shared with the xdist workers); every finished ``tests/test_sim.py``
case leaves a marker under ``build/coverage/.testrun/<id>/`` so that the coverage closure
tests, collected last, wait for the session's simulations of their block instead of running
them again; at the end of a session that simulated, the latest runs are merged into
``build/reports/coverage.json``.
"""

import hashlib
import os
import shutil
import uuid
from pathlib import Path

import pytest

from quantrtl.tb.runner import SIMULATORS, simulator_status

COVERAGE_DIR = Path("build") / "coverage"


def _listed(var, default):
    return [s.strip() for s in os.environ.get(var, default).split(",") if s.strip()]


def session_sims() -> list[str]:
    """The simulators of this session (``QUANTRTL_SIMS``) that are available here."""
    return [s for s in _listed("QUANTRTL_SIMS", ",".join(SIMULATORS))
            if simulator_status(s)[0]]


def pytest_generate_tests(metafunc):
    if "sim" in metafunc.fixturenames:
        sims = _listed("QUANTRTL_SIMS", ",".join(SIMULATORS))
        metafunc.parametrize("sim", sims, indirect=True)


@pytest.fixture
def sim(request):
    name = request.param
    available, reason = simulator_status(name)
    if not available:
        if name in _listed("QUANTRTL_REQUIRE_SIMS", ""):
            pytest.fail(f"{name} is required (QUANTRTL_REQUIRE_SIMS) but unavailable: {reason}")
        pytest.skip(f"{name} unavailable: {reason}")
    return name


@pytest.fixture(scope="module")
def tech():
    from quantrtl.synth.tech import TechError, osu018
    try:
        return osu018()
    except TechError as exc:
        pytest.skip(f"osu018 library unavailable: {exc}")


@pytest.fixture
def tiny_netlist(tech, tmp_path):
    """``build(cells, ports)``: a Yosys-JSON netlist of library cells, ``cells`` as
    ``{name: (type, {pin: bit})}``, loaded with the library attached."""
    import json

    from quantrtl.synth.liberty import load_library
    from quantrtl.synth.netlist import load_netlist
    lib = load_library(tech[0])

    def build(cells, ports):
        module = {"attributes": {"top": 1}, "ports": ports, "netnames": {},
                  "cells": {name: {"type": t,
                                   "connections": {p: [b] for p, b in conn.items()}}
                            for name, (t, conn) in cells.items()}}
        path = tmp_path / "tiny.json"
        path.write_text(json.dumps({"modules": {"tiny": module}}))
        return load_netlist(path, lib, "tiny")
    return build


def pytest_configure(config):
    config.addinivalue_line("markers", "closure: a coverage closure test (runs after the "
                            "simulations it merges)")
    if not hasattr(config, "workerinput"):          # the session's controller
        os.environ["QUANTRTL_TESTRUN"] = uuid.uuid4().hex
        if config.getvalue("dist") == "loadgroup" and _loadgroup_is_lost():
            raise pytest.UsageError(
                f"pytest {pytest.__version__} with pytest-xdist {_xdist_version()} ignores "
                f"xdist_group under --dist loadgroup (pytest-xdist issue 1386), which make "
                f"test relies on; pyproject.toml pins pytest below 9.2 (make venv)")


def _xdist_version() -> str:
    from importlib.metadata import version
    return version("pytest-xdist")


def _loadgroup_is_lost() -> bool:
    """pytest 9.2 keeps node IDs where pytest-xdist up to 3.8 writes the group suffix."""
    from packaging.version import Version
    return (Version(pytest.__version__) >= Version("9.2")
            and Version(_xdist_version()) <= Version("3.8.0"))


# The longest tests (DNA-TEQ builds and runs, up to a minute each on two busy cores) are
# handed out first, so that no worker is left with one of them while the other has
# finished (pytest-xdist sends the tests in this order).  Whole modules or fixture-free
# tests only: splitting a module would set its module fixtures up twice.  test_synth.py is
# one xdist group (one worker runs it all, about two minutes): it must not come last.
LONG_FIRST = ("test_sim.py::test_block[icarus-dnateq", "test_sim.py::test_block[verilator-dnateq",
              "test_player_bulk.py", "test_synth.py")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: (item.get_closest_marker("closure") is not None,
                                 not any(k in item.nodeid for k in LONG_FIRST)))


def testrun_marker(nodeid: str) -> Path:
    """The file that says test ``nodeid`` of this session has finished."""
    key = hashlib.sha1(nodeid.encode()).hexdigest()[:16]
    return COVERAGE_DIR / ".testrun" / os.environ.get("QUANTRTL_TESTRUN", "none") / key


def pytest_runtest_logfinish(nodeid, location):
    if nodeid.startswith("tests/test_sim.py::test_block["):
        marker = testrun_marker(nodeid)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(nodeid + "\n")


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):
        return
    done = COVERAGE_DIR / ".testrun" / os.environ.get("QUANTRTL_TESTRUN", "none")
    if not done.is_dir():
        return
    shutil.rmtree(done, ignore_errors=True)
    from quantrtl.tb.coverage import REPORT, merge, prune, suite_configs
    prune(COVERAGE_DIR)
    merge(directory=COVERAGE_DIR, out=REPORT, configs=suite_configs(), declare_runs=False)
