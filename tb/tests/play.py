"""cocotb test behind the vector player (:mod:`quantrtl.tb.player`).

The stimulus, the valid/ready patterns, the capture and the end of the run all live in the
generated wrapper ``quantrtl_player``; this test only starts the clock (cocotb's C-side GPI
clock where the simulator has it), resets, sets the configuration ports, waits -- on one
edge of ``player_finished``, bounded in simulated time -- and writes what it reads at the end
(the wrapper's flags, its cycle count and the block's status ports) as JSON.

``QUANTRTL_PLAYER`` names a JSON file: ``{"config": {port: value}, "status": [port, ...],
"flags": [name, ...] (read from ports ``player_<name>``), "limit": cycles, "period_ns": clock
period, "result": path}``.  (Nothing of quantrtl is
imported: the simulator's start-up stays short.)
"""

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout

RESET_CYCLES = 2
# Simulated cycles beyond the wrapper's own limit before this test gives up on it.
MARGIN_CYCLES = 1000


def _clock(dut, period_ns):
    """The fastest clock the simulator offers: cocotb's GPI (C++) clock, else the default."""
    try:
        return Clock(dut.clk, period_ns, unit="ns", impl="gpi")
    except (TypeError, ValueError):
        return Clock(dut.clk, period_ns, unit="ns")


@cocotb.test()
async def play(dut):
    with open(os.environ["QUANTRTL_PLAYER"]) as f:
        spec = json.load(f)
    dut.rst.value = 1
    for port, value in spec["config"].items():
        getattr(dut, port).value = value
    _clock(dut, spec["period_ns"]).start()
    await ClockCycles(dut.clk, RESET_CYCLES)
    dut.rst.value = 0
    if not int(dut.player_finished.value):
        await with_timeout(RisingEdge(dut.player_finished),
                           (spec["limit"] + MARGIN_CYCLES) * spec["period_ns"], "ns")
    result = {name: int(getattr(dut, f"player_{name}").value) for name in spec["flags"]}
    result["status"] = {port: int(getattr(dut, port).value) for port in spec["status"]}
    with open(spec["result"], "w") as f:
        json.dump(result, f)
