"""cocotb tests of the MAC / dot-product unit against :func:`golden.mac.dot_product`."""

import itertools

import cocotb
import numpy as np

from golden._ints import signed_range
from .env import start
from .harness import run_vectors


def _single_product_rows(env, a_values, w_values):
    """One dot product of ``lanes`` pairs per (a, w): the pair in a rotating lane, zeros
    (w = 0) elsewhere, so every result is exactly one product."""
    lanes = env.component.lanes
    n = len(a_values)
    a = env.rng.integers(*signed_range(env.component.width), size=(n, lanes), endpoint=True)
    w = np.zeros((n, lanes), dtype=np.int64)
    lane = np.arange(n) % lanes
    a[np.arange(n), lane] = a_values
    w[np.arange(n), lane] = w_values
    return {"a": a, "w": w}


@cocotb.test()
async def all_products(dut):
    """Every width-bit x width-bit product (all 65,536 at 8 bits), zero offset and bias."""
    env = await start(dut)
    lo, hi = signed_range(env.component.width)
    pairs = np.array(list(itertools.product(range(lo, hi + 1), repeat=2)), dtype=np.int64)
    vectors = _single_product_rows(env, pairs[:, 0], pairs[:, 1])
    await run_vectors(env, vectors)


@cocotb.test()
async def random_dot_products(dut):
    """Random lengths, operands, biases and offset under random input gaps and backpressure."""
    env = await start(dut)
    c, rng = env.component, env.rng
    count = env.option("count", 400)
    max_beats = 24
    lo, hi = signed_range(c.width)
    vectors = {
        "a": rng.integers(lo, hi, size=(count, max_beats * c.lanes), endpoint=True),
        "w": rng.integers(lo, hi, size=(count, max_beats * c.lanes), endpoint=True),
        "length": rng.integers(1, max_beats, size=count, endpoint=True) * c.lanes,
    }
    if c.bias:
        blo, bhi = signed_range(min(c.acc_width, 2 * c.width + 4))
        vectors["bias"] = rng.integers(blo, bhi, size=count, endpoint=True)
    if c.offset:
        vectors["input_offset"] = np.int64(rng.integers(*signed_range(c.width + 1), endpoint=True))
    for valid_p, ready_p in ((1.0, 1.0), (0.6, 0.4), (0.3, 0.9)):
        await run_vectors(env, vectors, valid_probability=valid_p, ready_probability=ready_p)


@cocotb.test()
async def accumulator_boundary(dut):
    """Dot products that cross the accumulator's positive and negative limits (wrap or
    saturate, per the block's ``overflow``), from a bias next to the limit and from long
    runs of extreme products."""
    env = await start(dut)
    c, rng = env.component, env.rng
    acc_lo, acc_hi = signed_range(c.acc_width)
    lo, hi = signed_range(c.width)
    beats = 8
    k = beats * c.lanes
    rows_a, rows_w, biases = [], [], []
    for sign in (+1, -1):
        for margin in (0, 1, 2, 100, 1 << (2 * c.width - 1)):
            a = np.full(k, lo); w = np.full(k, lo if sign > 0 else hi)  # products of sign
            rows_a.append(a); rows_w.append(w)
            biases.append(acc_hi - margin if sign > 0 else acc_lo + margin)
    for _ in range(40):  # random operands from a bias within one beat of a limit
        rows_a.append(rng.integers(lo, hi, size=k, endpoint=True))
        rows_w.append(rng.integers(lo, hi, size=k, endpoint=True))
        edge = acc_hi if rng.random() < 0.5 else acc_lo
        biases.append(int(np.clip(edge - int(rng.integers(-(1 << 2 * c.width), 1 << 2 * c.width)),
                                  acc_lo, acc_hi)))
    vectors = {"a": np.array(rows_a), "w": np.array(rows_w)}
    if c.bias:
        vectors["bias"] = np.array(biases)
    else:
        # Without a bias field, reach the limit through length: the longest run that fits.
        n = min(4096, (1 << (c.acc_width - 2 * c.width + 1)) + 4) // c.lanes * c.lanes
        vectors = {"a": np.full((2, n), lo), "w": np.stack([np.full(n, lo), np.full(n, hi)])}
    if c.offset:
        vectors["input_offset"] = np.int64(0)
    # The test is only meaningful if some dot products really leave the accumulator range.
    offset = int(vectors.get("input_offset", 0))
    exact = ((vectors["a"] + offset) * vectors["w"]).sum(axis=1) + vectors.get("bias", 0)
    crossed = int(np.sum((exact > acc_hi) | (exact < acc_lo)))
    assert crossed > 0, "no dot product crossed the accumulator limits"
    env.log.info("%d of %d dot products cross the %d-bit limits (%s)", crossed, len(exact),
                 c.acc_width, c.overflow)
    await run_vectors(env, vectors, ready_probability=0.7)


@cocotb.test()
async def input_offset_extremes(dut):
    """The input offset at its extremes and at TFLite's int8 values (-zero_point)."""
    env = await start(dut)
    c, rng = env.component, env.rng
    if not c.offset:
        env.log.info("block built without an input offset: nothing to test")
        return
    olo, ohi = signed_range(c.width + 1)
    lo, hi = signed_range(c.width)
    for offset in sorted({olo, olo + 1, -hi, -1, 0, 1, -lo, ohi}):
        k = 4 * c.lanes
        vectors = {"a": rng.integers(lo, hi, size=(64, k), endpoint=True),
                   "w": rng.integers(lo, hi, size=(64, k), endpoint=True),
                   "input_offset": np.int64(offset)}
        vectors["a"][:4] = lo  # extreme operands
        vectors["a"][4:8] = hi
        await run_vectors(env, vectors, valid_probability=0.8, ready_probability=0.8)
