"""cocotb tests of the MAC / dot-product unit against :func:`golden.mac.dot_product`.

Every test runs for any ``pes``: the PEs share the activations ``a`` [D, K]; weights are
[D, P, K] and biases [D, P] (see :class:`tb.adapters.MacAdapter`), [D, K] and [D] for one PE.
"""

import cocotb
import numpy as np

from quantrtl.golden._ints import signed_range
from quantrtl.vectors.bulk import mac_all_products
from ..env import start
from ..harness import run_vectors


def _per_pe(c, rows):
    """``rows`` [D, P, ...] as the vector format of the block ([D, ...] for one PE)."""
    return rows[:, 0] if c.pes == 1 else rows


def _random_weights(env, count, k):
    lo, hi = signed_range(env.component.width)
    return env.rng.integers(lo, hi, size=(count, env.component.pes, k), endpoint=True)


def _random_bias(env, count):
    c = env.component
    blo, bhi = signed_range(min(c.acc_width, 2 * c.width + 4))
    return _per_pe(c, env.rng.integers(blo, bhi, size=(count, c.pes), endpoint=True))


def _random_offset(env):
    return np.int64(env.rng.integers(*signed_range(env.component.width + 1), endpoint=True))


@cocotb.test()
async def all_products(dut):
    """Every width-bit x width-bit product of a narrow block (4 and 6 bits), zero offset and
    bias.  The 8-bit sweep (65,536 products) runs in the vector player:
    ``tests/test_player_bulk.py``."""
    env = await start(dut)
    if env.component.width >= 8:
        env.log.info("width %d: the exhaustive products run in the vector player",
                     env.component.width)
        return
    await run_vectors(env, mac_all_products(env.component, env.rng))


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
        "w": _per_pe(c, _random_weights(env, count, max_beats * c.lanes)),
        "length": rng.integers(1, max_beats, size=count, endpoint=True) * c.lanes,
    }
    if c.bias:
        vectors["bias"] = _random_bias(env, count)
    if c.offset:
        vectors["input_offset"] = _random_offset(env)
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
    # PE p takes the weights and bias of the row p rows further on (sharing this row's
    # activations), so the PEs of one dot product cross different limits.
    rows_w, biases = np.array(rows_w), np.array(biases)
    pick = (np.arange(len(rows_w))[:, None] + np.arange(c.pes)[None, :]) % len(rows_w)
    vectors = {"a": np.array(rows_a), "w": rows_w[pick]}
    if c.bias:
        vectors["bias"] = biases[pick]
    else:
        # Without a bias field, reach the limit through length: the longest run that fits.
        n = min(4096, (1 << (c.acc_width - 2 * c.width + 1)) + 4) // c.lanes * c.lanes
        extremes = np.stack([np.full(n, lo), np.full(n, hi)])
        pick = (np.arange(2)[:, None] + np.arange(c.pes)[None, :]) % 2
        vectors = {"a": np.full((2, n), lo), "w": extremes[pick]}
    # The test is only meaningful if some dot products really leave the accumulator range.
    exact = (vectors["a"][:, None, :] * vectors["w"]).sum(axis=-1) + vectors.get("bias", 0)
    vectors = {name: _per_pe(c, v) if name != "a" else v for name, v in vectors.items()}
    if c.offset:
        vectors["input_offset"] = np.int64(0)
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
                   "w": _per_pe(c, _random_weights(env, 64, k)),
                   "input_offset": np.int64(offset)}
        vectors["a"][:4] = lo  # extreme operands
        vectors["a"][4:8] = hi
        await run_vectors(env, vectors, valid_probability=0.8, ready_probability=0.8)


@cocotb.test()
async def relu_zeros(dut):
    """ReLU-like operands: 50 % to 90 % of the offset-added activations zero (whole zero
    beats and packets among them) and 10 % zero weights, under random gaps and
    backpressure (zero_skip must not change a result)."""
    env = await start(dut)
    c, rng = env.component, env.rng
    count, max_beats = env.option("count", 400) // 2, 16
    k = max_beats * c.lanes
    lo, hi = signed_range(c.width)
    # TFLite's activations: input_offset = -zero_point, so a zero activation is zero_point.
    zero = int(rng.integers(lo, hi, endpoint=True)) if c.offset else 0
    a = rng.integers(lo, hi, size=(count, k), endpoint=True)
    fraction = rng.uniform(0.5, 0.9, size=(count, 1))
    a[rng.random((count, k)) < fraction] = zero
    a[:4] = zero                                                 # all-zero packets
    w = _random_weights(env, count, k)
    w[rng.random(w.shape) < 0.1] = 0
    vectors = {"a": a, "w": _per_pe(c, w),
               "length": rng.integers(1, max_beats, size=count, endpoint=True) * c.lanes}
    if c.bias:
        vectors["bias"] = _random_bias(env, count)
    if c.offset:
        vectors["input_offset"] = np.int64(-zero)
    env.log.info("%.0f %% of the activations are zero", 100 * np.mean(a == zero))
    for valid_p, ready_p in ((1.0, 1.0), (0.7, 0.5)):
        await run_vectors(env, vectors, valid_probability=valid_p, ready_probability=ready_p)


@cocotb.test()
async def single_beat_packets(dut):
    """Dot products of one beat (length = lanes), back to back and under random gaps and
    backpressure: with pes > 1 every last beat meets a result bank that is still draining,
    so the input stalls; nothing may be lost or duplicated."""
    env = await start(dut)
    c, rng = env.component, env.rng
    count = env.option("count", 400)
    lo, hi = signed_range(c.width)
    vectors = {"a": rng.integers(lo, hi, size=(count, c.lanes), endpoint=True),
               "w": _per_pe(c, _random_weights(env, count, c.lanes))}
    vectors["a"][rng.random(vectors["a"].shape) < 0.3] = 0
    if c.bias:
        vectors["bias"] = _random_bias(env, count)
    if c.offset:
        vectors["input_offset"] = np.int64(0)
    for valid_p, ready_p in ((1.0, 1.0), (0.8, 0.6), (0.4, 0.9), (1.0, 0.3)):
        await run_vectors(env, vectors, valid_probability=valid_p, ready_probability=ready_p)


@cocotb.test()
async def longest_packet(dut):
    """A dot product of the longest length SPEC 1 guarantees free of overflow on any
    operands, 2^(acc_width - 2*width - 1) pairs (rounded up to whole beats): PE 0 with every
    product the largest, (-2^(width-1))^2, so its accumulator climbs to 2^(acc_width - 3);
    PE p with weights alternating between -2^(width-1) and 2^(width-1) - 1 every p + 1
    pairs."""
    env = await start(dut)
    c = env.component
    lo, hi = signed_range(c.width)
    beats = -(-(1 << max(c.acc_width - 2 * c.width - 1, 0)) // c.lanes)
    k = beats * c.lanes
    flip = (np.arange(k)[None, :] // (np.arange(c.pes)[:, None] + 1)) % 2 == 1
    flip[0] = False
    vectors = {"a": np.full((1, k), lo), "w": _per_pe(c, np.where(flip, hi, lo)[None])}
    if c.offset:
        vectors["input_offset"] = np.int64(0)
    env.log.info("%d pairs (%d beats) per dot product", k, beats)
    await run_vectors(env, vectors)
