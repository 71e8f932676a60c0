"""Simulator selection for the pytest suite.

``QUANTRTL_SIMS`` (default ``verilator,icarus``) lists the simulators to run on.  A listed
simulator that is missing is skipped with its reason, unless it is also listed in
``QUANTRTL_REQUIRE_SIMS`` (as CI does), in which case its tests fail.
"""

import os

import pytest

from tb.runner import SIMULATORS, simulator_status


def _listed(var, default):
    return [s.strip() for s in os.environ.get(var, default).split(",") if s.strip()]


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
