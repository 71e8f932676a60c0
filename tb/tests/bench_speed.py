"""cocotb module behind ``make bench``: checked vectors per second through the testbench.

Drives ``QUANTRTL_BENCH_COUNT`` random vectors (``mac``: dot products of
``QUANTRTL_BENCH_DOT_LENGTH`` pairs; ``requant``: single accumulators) through
:func:`tb.harness.run_vectors` -- which compares every output with the golden model and
fails on any mismatch -- with the input offered every cycle and the output always ready.
The wall time of just that call (``time.perf_counter`` around it, inside the simulation, so
no build or simulator start-up) and the clock cycles it took are written as JSON to
``QUANTRTL_BENCH_OUT``.
"""

import json
import os
import time

import cocotb
import numpy as np

from quantrtl.golden._ints import INT32_MAX, INT32_MIN, signed_range
from quantrtl.golden.requant import MULTIPLIER_MAX, MULTIPLIER_MIN, SHIFT_MAX, SHIFT_MIN
from ..env import start
from ..harness import run_vectors


def mac_vectors(env, count: int, length: int) -> dict:
    c, rng = env.component, env.rng
    if length % c.lanes:
        raise ValueError(f"dot length {length} is not a multiple of lanes={c.lanes}")
    lo, hi = signed_range(c.width)
    vectors = {"a": rng.integers(lo, hi, size=(count, length), endpoint=True),
               "w": rng.integers(lo, hi, size=(count, length), endpoint=True)}
    if c.bias:
        vectors["bias"] = rng.integers(*signed_range(min(c.acc_width, 2 * c.width + 4)),
                                       size=count, endpoint=True)
    if c.offset:
        vectors["input_offset"] = np.int64(rng.integers(*signed_range(c.width + 1),
                                                        endpoint=True))
    return vectors


def requant_vectors(env, count: int, shifts=None) -> dict:
    """Random accumulators of every magnitude, multipliers and shifts (``shifts``: an array,
    else uniform over [-31, 30]), a random zero point and the full output range."""
    rng = env.rng
    lo, hi = signed_range(env.component.out_width)
    acc = rng.integers(INT32_MIN, INT32_MAX, size=count, endpoint=True) >> rng.integers(
        0, 32, size=count)
    if shifts is None:
        shifts = rng.integers(SHIFT_MIN, SHIFT_MAX, size=count, endpoint=True)
    return {"acc": acc,
            "multiplier": rng.integers(MULTIPLIER_MIN, MULTIPLIER_MAX, size=count, endpoint=True),
            "shift": np.asarray(shifts, dtype=np.int64),
            "zero_point": np.int64(rng.integers(lo, hi, endpoint=True)),
            "qmin": np.int64(lo), "qmax": np.int64(hi)}


def _vectors(env, count: int, length: int) -> dict:
    if env.block.name == "mac":
        return mac_vectors(env, count, length)
    if env.block.name == "requant":
        return requant_vectors(env, count)
    raise ValueError(f"no bench vectors for block {env.block.name!r}")


@cocotb.test()
async def vectors_per_second(dut):
    """Checked outputs per second of wall time through run_vectors."""
    env = await start(dut)
    count = env.option("bench_count", 2000)
    length = env.option("bench_dot_length", 16)
    # A short warm-up run first, so one-off costs (imports, first calls) are not timed.
    await run_vectors(env, _vectors(env, 8, length))
    vectors = _vectors(env, count, length)
    start_time = time.perf_counter()
    received, monitor = await run_vectors(env, vectors)
    seconds = time.perf_counter() - start_time
    if env.block.name == "mac":
        beats = int(vectors["a"].size) // env.component.lanes
    else:
        beats = len(vectors["acc"])
    figure = {
        "block": env.block.name,
        "params": env.params,
        "outputs": len(received),
        "beats": beats,
        "dot_length": length if env.block.name == "mac" else None,
        "seconds": seconds,
        "cycles": monitor.cycles,
        "seed": env.seed,
    }
    env.log.info("bench: %d checked outputs in %.3f s (%d clock cycles)", len(received),
                 seconds, monitor.cycles)
    with open(os.environ["QUANTRTL_BENCH_OUT"], "w") as f:
        json.dump(figure, f, indent=2)
