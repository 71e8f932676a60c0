# amaranth: UnusedElaboratable=no
"""In-process Amaranth simulation of :class:`hw.requant.Requantizer` against the golden model.

Fast checks of the datapath's rewriting (one shift with the rounding bit as the zero-point
adder's carry, the narrowed clamp, the split multiply) on every rounding, latency and split,
with random stalls on both sides; the cocotb and player suites check the emitted Verilog on
both simulators, and the formal proofs every input.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from amaranth.sim import Simulator

from quantrtl.golden.requant import requantize
from quantrtl.hw.requant import Requantizer

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def _wrap_vectors(count: int, rng) -> tuple:
    """Single rounding's wrap case: ``a = (P >> T) = INT32_MAX`` (mod 2^32) with the
    rounding bit ``P[T-1]`` set, so ``a + 1`` wraps to INT32_MIN (T = 1 and 2)."""
    acc, m0, shift = [], [], []
    while len(acc) < count:
        t = int(rng.integers(1, 3))
        mult = int(rng.integers(1 << 29, 1 << 30)) * 2 + 1          # odd, in [2^30, 2^31)
        modulus = 1 << (t + 32)
        target = ((1 << 31) - 1) * (1 << t) + (1 << (t - 1)) + int(rng.integers(0, 1 << (t - 1))
                                                                     if t > 1 else 0)
        x = target * pow(mult, -1, modulus) % modulus
        x = x - modulus if x >= modulus // 2 else x
        if INT32_MIN <= x <= INT32_MAX:
            acc.append(x)
            m0.append(mult)
            shift.append(31 - t)
    return np.array(acc), np.array(m0), np.array(shift)


def _vectors(count: int, rng) -> tuple:
    acc = rng.integers(INT32_MIN, INT32_MAX + 1, count)
    small = rng.random(count) < 0.4
    acc[small] = rng.integers(-1000, 1000, int(small.sum()))
    acc[:7] = [INT32_MIN, INT32_MAX, 0, 1, -1, 1 << 30, -(1 << 30)]
    m0 = rng.integers(1 << 30, 1 << 31, count)
    for value, share in ((0, 0.05), (INT32_MAX, 0.05), (1 << 30, 0.05)):
        m0[rng.random(count) < share] = value
    shift = rng.integers(-31, 31, count)
    w_acc, w_m0, w_shift = _wrap_vectors(16, rng)
    return (np.concatenate([acc, w_acc]), np.concatenate([m0, w_m0]),
            np.concatenate([shift, w_shift]))


def _simulate(dut, acc, m0, shift, zero_point, qmin, qmax, rng) -> np.ndarray:
    """Stream every vector through ``dut`` (random input gaps and output stalls); the
    outputs in order."""
    count, got = len(acc), []
    valid_pattern = rng.random(4 * count + 64) < 0.8
    ready_pattern = rng.random(8 * count + 64) < 0.7
    sim = Simulator(dut)
    sim.add_clock(1e-8)

    async def bench(ctx):
        ctx.set(dut.zero_point, zero_point)
        ctx.set(dut.qmin, qmin)
        ctx.set(dut.qmax, qmax)
        sent = cycle = 0
        while len(got) < count:
            offer = sent < count and valid_pattern[cycle % len(valid_pattern)]
            ctx.set(dut.i.valid, int(offer))
            if offer:
                ctx.set(dut.i.payload, {"acc": int(acc[sent]), "multiplier": int(m0[sent]),
                                        "shift": int(shift[sent])})
            ctx.set(dut.o.ready, int(ready_pattern[cycle % len(ready_pattern)]))
            await ctx.delay(1e-9)
            if ctx.get(dut.o.valid) and ctx.get(dut.o.ready):
                got.append(ctx.get(dut.o.payload))
            took = ctx.get(dut.i.valid) and ctx.get(dut.i.ready)
            await ctx.tick()
            sent += int(took)
            cycle += 1
            assert cycle < 20 * count + 100, "the requantizer stopped giving results"

    sim.add_testbench(bench)
    sim.run()
    return np.array(got)


CONFIGS = [
    {},                                                    # single, latency 3, split
    {"rounding": "double"},
    {"latency": 2, "split": False},
    {"rounding": "double", "latency": 2, "split": False},
    {"latency": 1},
    {"rounding": "double", "latency": 1, "split": False},
    {"out_width": 16, "latency": 2},
    {"out_width": 30, "rounding": "double"},
    {"out_width": 31, "split": False},
    {"out_width": 32, "rounding": "double", "latency": 1},
    {"out_width": 2},
]


@pytest.mark.parametrize("index", range(len(CONFIGS)), ids=[",".join(
    f"{k}={v}" for k, v in sorted(p.items())) or "default" for p in CONFIGS])
def test_requantizer_matches_golden(index):
    params = CONFIGS[index]
    seed = int(os.environ.get("QUANTRTL_SEED", 1000 + index))
    print(f"requantizer {params}: seed {seed} (QUANTRTL_SEED={seed} repeats it)")
    rng = np.random.default_rng(seed)
    dut = Requantizer(**params)
    acc, m0, shift = _vectors(400, rng)
    ow = dut.out_width
    lo, hi = -(1 << (ow - 1)), (1 << (ow - 1)) - 1
    zero_point = int(rng.integers(lo, hi + 1))
    if rng.random() < 0.5:
        qmin, qmax = lo, hi
    else:
        qmin, qmax = sorted(int(v) for v in rng.integers(lo, hi + 1, 2))
    got = _simulate(dut, acc, m0, shift, zero_point, qmin, qmax, rng)
    expected = requantize(acc, m0, shift, zero_point, qmin, qmax, rounding=dut.rounding.value)
    bad = np.nonzero(got != expected)[0]
    if len(bad):
        k = int(bad[0])
        pytest.fail(f"{len(bad)} of {len(acc)} differ (seed {seed}); first: vector {k}: "
                    f"acc={acc[k]} M0={m0[k]} shift={shift[k]} zero_point={zero_point} "
                    f"qmin={qmin} qmax={qmax}: expected {expected[k]}, got {got[k]}")


def test_wrap_vectors_reach_the_wrap():
    """The wrap vectors are what they claim: golden's unwrapped result is beyond INT32."""
    rng = np.random.default_rng(5)
    acc, m0, shift = _wrap_vectors(8, rng)
    total = 31 - shift
    exact = [((int(a) * int(m) + (1 << (int(t) - 1))) >> int(t))
             for a, m, t in zip(acc, m0, total)]
    assert all(e % (1 << 32) == 1 << 31 for e in exact)
    assert np.all(requantize(acc, m0, shift, 0, -128, 127) == -128)


def test_clamp_bits():
    assert Requantizer(out_width=8).clamp_bits == 10
    assert Requantizer(out_width=30).clamp_bits == 32
    assert Requantizer(out_width=32).clamp_bits == 32
