"""Common set-up of a quantrtl cocotb test: the block and its parameters, clock, reset, RNG."""

from __future__ import annotations

import json
import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from quantrtl.blocks import get_block
from quantrtl.vectors import CLOCK_PERIOD_NS

__all__ = ["TestEnv", "start", "idle_streams", "CLOCK_PERIOD_NS"]


class TestEnv:
    """What a testbench needs to know about the design under test."""

    def __init__(self, dut):
        self.dut = dut
        self.block = get_block(os.environ["QUANTRTL_BLOCK"])
        self.params = self.block.resolve(json.loads(os.environ.get("QUANTRTL_PARAMS", "{}")))
        self.component = self.block.build(self.params)
        self.seed = int(cocotb.RANDOM_SEED)
        self.rng = np.random.default_rng(self.seed)
        self.random = random.Random(self.seed)
        self.log = dut._log
        self.log.info("block %s params %s; test seed %d, derived by cocotb from the run's "
                      "seed and the test name", self.block.name, self.params, self.seed)

    def option(self, name: str, default):
        """A test knob from the environment (``QUANTRTL_<NAME>``), e.g. vector counts."""
        value = os.environ.get(f"QUANTRTL_{name.upper()}")
        return type(default)(value) if value is not None else default


def idle_streams(dut, component) -> None:
    """``valid = 0`` on every input stream and ``ready = 0`` on every output stream of the
    component's signature (so no port is left undriven during reset)."""
    from amaranth.lib.wiring import In
    for name, member in component.signature.members.items():
        if not member.is_signature or "valid" not in member.signature.members:
            continue
        getattr(dut, f"{name}__valid" if member.flow == In else f"{name}__ready").value = 0


async def start(dut) -> TestEnv:
    """Start the clock, reset the design for two cycles, return the test environment."""
    env = TestEnv(dut)
    cocotb.start_soon(Clock(dut.clk, CLOCK_PERIOD_NS, unit="ns").start())
    dut.rst.value = 1
    idle_streams(dut, env.component)
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    return env
