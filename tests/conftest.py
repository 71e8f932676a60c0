"""Simulator selection and shared fixtures of the pytest suite.

``QUANTRTL_SIMS`` (default ``verilator,icarus``) lists the simulators to run on.  A listed
simulator that is missing is skipped with its reason, unless it is also listed in
``QUANTRTL_REQUIRE_SIMS`` (as CI does), in which case its tests fail.  ``tech`` is the osu018
library (the tests that need it skip with the reason when it cannot be fetched);
``tiny_netlist`` builds a hand-written mapped netlist of library cells.
"""

import os

import pytest

from quantrtl.tb.runner import SIMULATORS, simulator_status


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
