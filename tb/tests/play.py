"""cocotb test behind the vector player (:mod:`quantrtl.tb.player`).

The clock, the reset, the stimulus, the valid/ready patterns, the capture and the end of
the run all live in the generated wrapper ``quantrtl_player``; this test only sets the
configuration ports at time zero, waits -- on one edge of ``player_finished``, bounded in
simulated time -- and writes what it reads at the end (the wrapper's flags, its cycle count
and the block's status ports) as JSON.

``QUANTRTL_PLAYER`` names a JSON file: ``{"config": {port: value}, "status": [port, ...],
"flags": [name, ...] (read from ports ``player_<name>``), "limit": cycles, "margin": cycles
beyond the limit (and the reset) before this test gives up, "period_ns": clock period,
"result": path}``.  (Nothing of quantrtl is
imported: the simulator's start-up stays short.)
"""

import json
import os

import cocotb
from cocotb.triggers import RisingEdge, with_timeout



@cocotb.test()
async def play(dut):
    with open(os.environ["QUANTRTL_PLAYER"]) as f:
        spec = json.load(f)
    for port, value in spec["config"].items():
        getattr(dut, port).value = value
    # (player_finished is low through the reset, so its rising edge is still to come)
    await with_timeout(RisingEdge(dut.player_finished),
                       (spec["limit"] + spec["margin"]) * spec["period_ns"], "ns")
    result = {name: int(getattr(dut, f"player_{name}").value) for name in spec["flags"]}
    result["status"] = {port: int(getattr(dut, port).value) for port in spec["status"]}
    with open(spec["result"], "w") as f:
        json.dump(result, f)
