"""cocotb tests of the DNA-TEQ dot-product block against :func:`golden.dnateq.dot_product`.

Every test drives vector sets through :func:`tb.harness.run_vectors` (the LUT writes, then
the code pairs) except ``lut_reload``, which streams two layers back to back with the shared
drivers and monitor to check that a LUT write never overtakes a dot product.  Knobs:
``QUANTRTL_COUNT`` (random dot products per code width), ``QUANTRTL_BENCH_OUT`` (the
``throughput`` test writes its cycle figures there as JSON, for the benchmark).
"""

import json
import os

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge, with_timeout

import quantrtl.experiments.dnateq_search as ds
from quantrtl.golden import dnateq as g
from quantrtl.blocks import adapter_for
from .. import coverage
from ..env import CLOCK_PERIOD_NS, start
from ..harness import cover_config, run_vectors
from ..streams import PayloadCodec, Scoreboard, StreamSource, StreamSink

STALLS = ((1.0, 1.0), (0.6, 0.5), (0.3, 0.9))


def _random_codes(rng, shape, bits, zero_fraction):
    codes = rng.integers(0, 1 << bits, size=shape)
    codes[rng.random(shape) < zero_fraction] = 1 << (bits - 1)
    return codes


def _random_lut(env):
    c = env.component
    return env.rng.integers(0, 1 << c.lut_width, size=c.entries)


def _max_k(env):
    return min(env.component.max_length, 96)


def _per_pe(env, make):
    """Weight codes for every PE: ``make()`` -> ``[D, K]``; ``[D, P, K]`` (a fresh draw
    per PE) when the block has ``pes > 1``."""
    if env.component.pes == 1:
        return make()
    return np.stack([make() for _ in range(env.component.pes)], axis=1)


def _tile_pe(env, w):
    """The same ``[D, K]`` weight codes on every PE."""
    if env.component.pes == 1:
        return w
    return np.repeat(w[:, None, :], env.component.pes, axis=1)


def _flat(values):
    return np.asarray(values).reshape(-1)


@cocotb.test()
async def random_codes(dut):
    """Every code width from 3 to n (narrower ones widened), random codes, lengths and LUTs,
    under random input gaps and output backpressure."""
    env = await start(dut)
    c, rng = env.component, env.rng
    count = env.option("count", 8)          # the bulk: tests/test_player_bulk.py
    k = _max_k(env)
    for bits in range(3, c.n + 1):
        # every stall pattern at the native width, one (rotating) for the narrower ones
        for valid_p, ready_p in STALLS if bits == c.n else STALLS[bits % 3:bits % 3 + 1]:
            vectors = {
                "x": _random_codes(rng, (count, k), bits, 0.3),
                "w": _per_pe(env, lambda: _random_codes(rng, (count, k), bits, 0.1)),
                "length": rng.integers(1, k, size=count, endpoint=True),
                "bits": np.int64(bits),
                "lut": _random_lut(env),
            }
            await run_vectors(env, vectors, valid_probability=valid_p,
                              ready_probability=ready_p)


@cocotb.test()
async def real_parameters(dut):
    """A layer quantized with golden parameters (LUT from b, alpha, beta, frac_bits)."""
    env = await start(dut)
    c, rng = env.component, env.rng
    k = _max_k(env)
    xf = np.maximum(rng.standard_normal((40, k)), 0) * 2.0   # ReLU-like activations
    wf = rng.laplace(0, 0.05, size=(40, k))
    p, _ = ds.search_tensor(wf, c.n, 1.25)
    px, _ = ds.search_tensor(xf, c.n, 1.25)
    px = g.ExpParams(p.b, px.alpha, px.beta, c.n)
    vectors = {"x": g.quantize(xf, px), "w": _tile_pe(env, g.quantize(wf, p)),
               "b": np.float64(p.b),
               "alpha_x": np.float64(px.alpha), "beta_x": np.float64(px.beta),
               "alpha_w": np.float64(p.alpha), "beta_w": np.float64(p.beta)}
    received, _ = await run_vectors(env, vectors, valid_probability=0.8, ready_probability=0.7)
    real = np.array(received).reshape(40, c.pes) * 2.0 ** -c.frac_bits
    ref = g.dot_identity(vectors["x"], g.quantize(wf, p), px, p)[:, None]
    bound = 2.0 ** -(c.frac_bits + 1) * 4 * k
    assert np.all(np.abs(real - ref) <= bound), "RTL result outside the LUT rounding bound"


@cocotb.test()
async def zeros(dut):
    """All-zero dot products, one zero operand per pair (either side), and mixtures."""
    env = await start(dut)
    c, rng = env.component, env.rng
    k = _max_k(env)
    z = c.zero_code
    rows = 12
    rand = lambda: rng.integers(0, 1 << c.n, size=(rows, k))  # noqa: E731
    x_zero, w_zero = np.full((rows, k), z), np.full((rows, k), z)
    xs = [x_zero, x_zero, rand(), _random_codes(rng, (rows, k), c.n, 0.9)]
    ws = [w_zero, rand(), w_zero, _random_codes(rng, (rows, k), c.n, 0.9)]
    # alternate zeros: each pair has exactly one zero operand
    alt_x, alt_w = rand(), rand()
    alt_x[:, ::2] = z
    alt_w[:, 1::2] = z
    xs.append(alt_x)
    ws.append(alt_w)
    vectors = {"x": np.concatenate(xs), "w": _tile_pe(env, np.concatenate(ws)),
               "length": rng.integers(1, k, size=rows * len(xs), endpoint=True),
               "lut": _random_lut(env)}
    expected = adapter_for("dnateq", c).golden(vectors)
    assert np.count_nonzero(expected[:3 * rows]) == 0
    await run_vectors(env, vectors, valid_probability=0.7, ready_probability=0.6)


def _one_counter_rows(env, length, lut_max=False):
    """Rows whose every pair is the same (x, w) code pair: all lanes hit the same counters of
    their banks on every beat.  Covers C0 at k = 0, the middle and 2M-2 (so C1/C2 at both
    ends) with both product signs."""
    c = env.component
    mm = c.m - 1
    sign = c.m  # sign bit
    pairs = []
    for fx, fw in ((0, 0), (mm, mm), (mm, 0), (0, mm), (mm // 2, (mm + 1) // 2)):
        for sx, sw in ((0, 0), (sign, 0), (sign, sign), (0, sign)):
            if (sx and fx == 0) or (sw and fw == 0):
                continue  # that code is the zero code
            pairs.append((sx | fx, sw | fw))
    x = np.array([[px] * length for px, _ in pairs])
    w = np.array([[pw] * length for _, pw in pairs])
    lut = (np.full(c.entries, (1 << c.lut_width) - 1) if lut_max else _random_lut(env))
    return {"x": x, "w": _tile_pe(env, w), "lut": lut}


@cocotb.test()
async def one_counter(dut):
    """Every pair of a dot product hits one counter (per array), both signs."""
    env = await start(dut)
    vectors = _one_counter_rows(env, _max_k(env))
    await run_vectors(env, vectors, ready_probability=0.5)


@cocotb.test()
async def max_length(dut):
    """Dot products of max_length pairs: one counter per bank driven to +-ceil(max_length /
    lanes) (its full width) with every LUT entry at its maximum (the result's full width);
    then random max-length rows."""
    env = await start(dut)
    c, rng = env.component, env.rng
    vectors = _one_counter_rows(env, c.max_length, lut_max=True)
    expected = adapter_for("dnateq", c).golden(vectors)
    counters_per_pair = 3 if c.fold_c3 else 4
    bound = counters_per_pair * c.max_length * ((1 << c.lut_width) - 1)
    assert np.max(np.abs(expected)) == bound, "the test does not reach the result's limit"
    assert bound < 1 << (c.result_width - 1)
    bank_peak = -(-c.max_length // c.lanes)
    assert bank_peak <= (1 << (c.bank_width - 1)) - 1 and bank_peak * 2 > (1 << (c.bank_width - 2))
    await run_vectors(env, vectors, valid_probability=0.9, ready_probability=0.8)
    rows = 6
    vectors = {"x": _random_codes(rng, (rows, c.max_length), c.n, 0.2),
               "w": _per_pe(env, lambda: _random_codes(rng, (rows, c.max_length), c.n, 0.2)),
               "lut": _random_lut(env)}
    await run_vectors(env, vectors)


@cocotb.test()
async def lut_reload(dut):
    """Two layers back to back on one stream (LUT A, dot products, LUT B, dot products) under
    gaps and backpressure: the second LUT must wait until every first-layer dot product has
    been post-processed."""
    env = await start(dut)
    c, rng = env.component, env.rng
    adapter = adapter_for("dnateq", c)
    k = _max_k(env)
    sets = []
    for _ in range(3):
        sets.append({"x": _random_codes(rng, (8, k), c.n, 0.2),
                     "w": _per_pe(env, lambda: _random_codes(rng, (8, k), c.n, 0.2)),
                     "length": rng.integers(1, min(k, 2 * c.lanes), size=8, endpoint=True),
                     "lut": _random_lut(env)})
    words = [word for v in sets for word in adapter.encode(v)]
    expected = np.concatenate([_flat(adapter.golden(v)) for v in sets])
    codec = PayloadCodec(c.output_shape)
    monitor = StreamSink(dut, "o", dut.clk, rng=env.random, ready_probability=0.3,
                            decode=codec.unpack_value).start()
    driver = StreamSource(dut, "i", dut.clk, rng=env.random, valid_probability=0.8)
    timeout = 40 * (len(words) + len(expected) * (c.steps + 8))  # len(expected): rows x PEs
    await with_timeout(driver.send(words), timeout * CLOCK_PERIOD_NS, "ns")
    await monitor.wait_for(len(expected), timeout_cycles=timeout)
    await ClockCycles(dut.clk, 4 * c.latency)
    monitor.stop()
    Scoreboard("dnateq.r", env.log).check(expected, monitor.received)
    coverage.sample(cover_config(env), sets, monitor.received,
                    coverage.stream_trace(driver, monitor))


@cocotb.test()
async def every_counter(dut):
    """The exponent pairs (f, f) and (f, f + 1) for every f, shuffled, with random signs
    (never the zero code), in rows of max_length pairs: every counter entry of the entry
    space counts some pair (C0 at each exponent sum 0 .. 2M - 2, C1 and C2 at each
    exponent); and a dot product of a single pair."""
    env = await start(dut)
    c, rng = env.component, env.rng
    f = np.arange(c.m)
    fx = np.concatenate([f, f[:-1]])
    fw = np.concatenate([f, f[:-1] + 1])
    order = rng.permutation(fx.size)
    fx, fw = fx[order], fw[order]
    sx = rng.integers(0, 2, size=fx.size) * (fx > 0)      # f = 0 with the sign is zero
    sw = rng.integers(0, 2, size=fw.size) * (fw > 0)
    x, w = (sx << (c.n - 1)) | fx, (sw << (c.n - 1)) | fw
    k = min(c.max_length, x.size)
    rows = -(-x.size // k)
    pad = rows * k - x.size
    x = np.concatenate([x, np.full(pad, c.zero_code)]).reshape(rows, k)
    w = np.concatenate([w, np.full(pad, c.zero_code)]).reshape(rows, k)
    x, w = np.concatenate([x, x[:1]]), np.concatenate([w, w[:1]])
    length = np.concatenate([np.full(rows, k), [1]])
    vectors = {"x": x, "w": _tile_pe(env, w), "length": length, "lut": _random_lut(env)}
    await run_vectors(env, vectors, valid_probability=0.9, ready_probability=0.8)


@cocotb.test()
async def throughput(dut):
    """Back-to-back dot products with the output always ready: after the first, one group
    of ``pes`` results every max(ceil(N / lanes), pes * 2^(n+1) / pp_lanes) clocks, for short
    and long N, the results of a group 2^(n+1)/pp_lanes clocks apart; the first result
    2^(n+1)/pp_lanes + 4 clocks after its last beat."""
    env = await start(dut)
    c, rng = env.component, env.rng
    figures = []
    lengths = sorted({1, c.lanes, c.steps * c.lanes, min(c.max_length, 4 * c.steps * c.lanes),
                      c.max_length})
    for length in lengths:
        rows = 6
        vectors = {"x": _random_codes(rng, (rows, length), c.n, 0.2),
                   "w": _per_pe(env, lambda: _random_codes(rng, (rows, length), c.n, 0.2)),
                   "lut": _random_lut(env)}
        accepted = []

        async def watch():
            cycle = 0
            while True:
                await ReadOnly()
                last_bit = c.n * c.lanes * (1 + c.pes)
                if dut.i__valid.value == 1 and dut.i__ready.value == 1 \
                        and (dut.i__payload.value.to_unsigned() >> last_bit) & 1:
                    accepted.append(cycle)  # a beat with last = 1
                await RisingEdge(dut.clk)
                cycle += 1

        task = cocotb.start_soon(watch())
        _, monitor = await run_vectors(env, vectors)
        task.cancel()
        out = np.array(monitor.transfer_cycles).reshape(rows, c.pes)
        gaps = np.diff(out[:, 0])
        within = np.diff(out, axis=1)
        expected = c.cycles_per_dot_product(length)
        latency = int(out[0, 0] - accepted[0])
        env.log.info("N=%d: group gaps %s (expected %d), first latency %d (expected %d)",
                     length, gaps.tolist(), expected, latency, c.latency)
        assert np.all(gaps == expected), f"N={length}: gaps {gaps.tolist()} != {expected}"
        assert np.all(within == c.steps), f"N={length}: PE results {within.tolist()} apart"
        assert latency == c.latency, f"latency {latency} != {c.latency}"
        figures.append({"length": length, "cycles_per_dot_product": int(gaps.max()),
                        "latency": latency, "post_process_cycles": c.steps,
                        "count_cycles": -(-length // c.lanes)})
    path = os.environ.get("QUANTRTL_BENCH_OUT")
    if path:
        with open(path, "w") as fh:
            json.dump({"params": env.params, "figures": figures}, fh)
