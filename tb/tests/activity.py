"""cocotb test that runs an energy workload on a (gate-level) design and records its window.

Two modes, chosen by ``QUANTRTL_WORKLOAD_MODE``:

``vectors``
    a registered block: the vector set in ``QUANTRTL_VECTORS`` (npz, the format of
    :mod:`quantrtl.vectors.adapters`) is streamed at full throughput (no input gaps, no
    backpressure)
    through :func:`tb.harness.run_vectors`, which also checks every result against the
    golden model -- the energy run is a verification run too;
``random``
    a helper design without streams: every input port named in ``QUANTRTL_INPUTS``
    (JSON ``{name: width}``) gets a fresh uniformly random value every clock for
    ``QUANTRTL_CYCLES`` cycles, from ``random.Random(QUANTRTL_INPUT_SEED)``.

The measurement window (start and end simulation time, clock period) is written as JSON
to ``QUANTRTL_WINDOW``.
"""

import json
import os
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge
from cocotb.utils import get_sim_time

from quantrtl.vectors import CLOCK_PERIOD_NS


def _write_window(t0, t1):
    with open(os.environ["QUANTRTL_WINDOW"], "w") as f:
        json.dump({"t0_ps": t0, "t1_ps": t1, "period_ps": CLOCK_PERIOD_NS * 1000}, f)


async def _after_transfers(dut, count, start):
    """Move the window start to the clock edge that accepts input beat number ``count``
    (set-up beats such as a LUT load stay out of the measurement).  Sampled at the falling
    edge, when valid and ready are settled for the next rising edge."""
    seen = 0
    while True:
        await FallingEdge(dut.clk)
        if dut.i__valid.value == 1 and dut.i__ready.value == 1:
            seen += 1
            if seen == count:
                start["t0"] = get_sim_time("ps") + CLOCK_PERIOD_NS * 500
                return


@cocotb.test()
async def workload(dut):
    mode = os.environ.get("QUANTRTL_WORKLOAD_MODE", "vectors")
    if mode == "vectors":
        from quantrtl.tb.env import start
        from quantrtl.tb.harness import run_vectors
        env = await start(dut)
        with np.load(os.environ["QUANTRTL_VECTORS"]) as npz:
            vectors = {k: npz[k] for k in npz.files}
        skip = int(os.environ.get("QUANTRTL_SKIP_BEATS", "0"))
        await RisingEdge(dut.clk)
        start = {"t0": get_sim_time("ps")}
        if skip:
            cocotb.start_soon(_after_transfers(dut, skip, start))
        await run_vectors(env, vectors, drain_cycles=0)
        _write_window(start["t0"], get_sim_time("ps"))
        return
    # The flow's seed, not cocotb's per-test one: the native simulator replays the same
    # sequence (synth.gatesim.run_random_workload).
    rng = random.Random(int(os.environ.get("QUANTRTL_INPUT_SEED", cocotb.RANDOM_SEED)))
    inputs = json.loads(os.environ["QUANTRTL_INPUTS"])
    cycles = int(os.environ.get("QUANTRTL_CYCLES", "1000"))
    cocotb.start_soon(Clock(dut.clk, CLOCK_PERIOD_NS, unit="ns").start())
    for name in inputs:
        getattr(dut, name).value = 0
    if hasattr(dut, "rst"):
        dut.rst.value = 1
        await ClockCycles(dut.clk, 2)
        dut.rst.value = 0
    await ClockCycles(dut.clk, 4)
    t0 = get_sim_time("ps")
    for _ in range(cycles):
        for name, width in inputs.items():
            getattr(dut, name).value = rng.getrandbits(width)
        await RisingEdge(dut.clk)
    _write_window(t0, get_sim_time("ps"))
