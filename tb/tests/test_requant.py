"""cocotb tests of the requantizer against :func:`golden.requant.requantize`."""

import cocotb
import numpy as np

from quantrtl.golden._ints import INT32_MAX, INT32_MIN, signed_range
from quantrtl.golden.requant import (MULTIPLIER_MAX, MULTIPLIER_MIN, SHIFT_MAX, SHIFT_MIN,
                            RoundingMode, requantize)
from ..env import start
from ..harness import run_vectors

SHIFTS = np.arange(SHIFT_MIN, SHIFT_MAX + 1)


def _clamp_configs(out_width):
    lo, hi = signed_range(out_width)
    return [
        {"zero_point": 0, "qmin": lo, "qmax": hi},
        {"zero_point": lo, "qmin": lo, "qmax": hi},           # int8 ReLU output zp = -128
        {"zero_point": hi, "qmin": 0, "qmax": hi},
        {"zero_point": 3, "qmin": -5, "qmax": 6},             # narrow clamp
        {"zero_point": -1, "qmin": 2, "qmax": 2},             # single-value clamp
    ]


@cocotb.test()
async def corner_vectors(dut):
    """INT32_MIN/MAX and neighbours x every shift from -31 to 30 x multiplier extremes and 0,
    under every clamp configuration."""
    env = await start(dut)
    accs = np.array([INT32_MIN, INT32_MIN + 1, -(1 << 30), -12345, -1, 0, 1, 12345,
                     1 << 30, INT32_MAX - 1, INT32_MAX], dtype=np.int64)
    multipliers = np.array([0, MULTIPLIER_MIN, MULTIPLIER_MIN + 1, 1518500250,
                            MULTIPLIER_MAX - 1, MULTIPLIER_MAX], dtype=np.int64)
    acc, mult, shift = (g.ravel() for g in np.meshgrid(accs, multipliers, SHIFTS, indexing="ij"))
    for config in _clamp_configs(env.component.out_width):
        vectors = {"acc": acc, "multiplier": mult, "shift": shift,
                   **{k: np.int64(v) for k, v in config.items()}}
        await run_vectors(env, vectors, ready_probability=0.9)


def _ties(rng, count_per_shift=24):
    """Accumulators whose exact product x * M0 * 2^(shift - 31) lies exactly halfway between
    two integers (and their neighbours), for every right shift, with M0 = 2^30 (0.5) and
    M0 = 3 * 2^29 (0.75); at these the two rounding modes and their tie rules differ.  And
    for every left shift s, with M0 = 2^30 + 1: x = (2j + 1) * 2^(30 - s) is a tie of the
    single rounding (x * M0 = x mod 2^(31 - s)) and of the double rounding's high multiply
    (x << s wraps to +-2^30)."""
    acc, mult, shift = [], [], []
    for s in range(1, SHIFT_MAX + 1):
        unit = 1 << (30 - s)
        limit = INT32_MAX // unit
        base = (2 * rng.integers(-limit // 2, limit // 2, size=count_per_shift // 3) + 1) * unit
        for delta in (0, -1, 1):
            x = np.clip(base + delta, INT32_MIN, INT32_MAX)
            acc.append(x)
            mult.append(np.full_like(x, (1 << 30) + 1))
            shift.append(np.full_like(x, s))
    for s in range(SHIFT_MIN, 1):
        for m0, denominator_bits in ((1 << 30, 1 - s), (3 << 29, 2 - s)):
            # x * m0 / 2^(31 - s) = x * k / 2^d with k odd: ties when x = (2j + 1) * 2^(d - 1).
            if denominator_bits - 1 > 30:
                continue
            unit = 1 << (denominator_bits - 1)
            limit = INT32_MAX // unit
            j = rng.integers(-limit // 2, limit // 2, size=count_per_shift)
            base = (2 * j + 1) * unit
            for delta in (0, -1, 1):
                x = np.clip(base + delta, INT32_MIN, INT32_MAX)
                acc.append(x); mult.append(np.full_like(x, m0)); shift.append(np.full_like(x, s))
    return (np.concatenate(acc), np.concatenate(mult), np.concatenate(shift))


@cocotb.test()
async def rounding_ties(dut):
    """Exact ties of both rounding modes at every shift."""
    env = await start(dut)
    acc, mult, shift = _ties(env.rng)
    double = requantize(acc, mult, shift, 0, INT32_MIN, INT32_MAX, RoundingMode.DOUBLE)
    single = requantize(acc, mult, shift, 0, INT32_MIN, INT32_MAX, RoundingMode.SINGLE)
    differ = int(np.sum(double != single))
    assert differ > 0, "the tie vectors do not separate the two rounding modes"
    env.log.info("%d tie vectors, %d where double and single rounding differ", len(acc), differ)
    lo, hi = signed_range(env.component.out_width)
    # Scale the results into the output range so the ties are visible, not clamped away.
    vectors = {"acc": acc, "multiplier": mult, "shift": shift,
               "zero_point": np.int64(0), "qmin": np.int64(lo), "qmax": np.int64(hi)}
    await run_vectors(env, vectors)
    small = np.abs(single) <= hi
    await run_vectors(env, {k: (v[small] if np.ndim(v) else v) for k, v in vectors.items()})


@cocotb.test()
async def random_backpressure(dut):
    """Random accumulators, multipliers and shifts under random input gaps and output
    backpressure, including a nearly stalled output."""
    env = await start(dut)
    rng = env.rng
    n = env.option("count", 1000)           # the bulk: tests/test_player_bulk.py
    lo, hi = signed_range(env.component.out_width)
    magnitude = rng.integers(0, 32, size=n)
    acc = rng.integers(INT32_MIN, INT32_MAX, size=n, endpoint=True) >> magnitude
    vectors = {
        "acc": acc,
        "multiplier": rng.integers(MULTIPLIER_MIN, MULTIPLIER_MAX, size=n, endpoint=True),
        "shift": np.where(rng.random(n) < 0.7, rng.integers(-16, 1, size=n),
                          rng.integers(SHIFT_MIN, SHIFT_MAX, size=n, endpoint=True)),
        "zero_point": np.int64(rng.integers(lo, hi, endpoint=True)),
        "qmin": np.int64(lo), "qmax": np.int64(hi),
    }
    for valid_p, ready_p in ((1.0, 1.0), (0.7, 0.5), (1.0, 0.1), (0.2, 1.0)):
        await run_vectors(env, vectors, valid_probability=valid_p, ready_probability=ready_p)
