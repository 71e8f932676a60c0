"""cocotb tests of the DNA-TEQ output encoder against :func:`golden.dnateq_encode.encode`.

Every test but ``reset_table`` and ``table_reload`` drives vector sets through
:func:`tb.harness.run_vectors` (the table writes, then the results); those two stream words
themselves with the shared drivers and monitor: ``reset_table`` encodes with the table as it
comes out of reset, ``table_reload`` sends several batches with their tables back to back.
Knob: ``QUANTRTL_COUNT`` (random results per vector set).
"""

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge, with_timeout

from quantrtl.golden import dnateq as g
from quantrtl.golden import dnateq_encode as enc
from quantrtl.blocks import adapter_for
from .. import coverage
from ..env import CLOCK_PERIOD_NS, start
from ..harness import cover_config, run_vectors
from ..streams import PayloadCodec, Scoreboard, StreamSource, StreamSink

STALLS = ((1.0, 1.0), (0.6, 0.5), (0.3, 0.9))


def _limits(c):
    return -(1 << (c.width - 1)), (1 << (c.width - 1)) - 1


def _random_table(env, top=None, bottom=0):
    """A random table (each set ascending, with repeated entries now and then) whose entries
    lie in ``[bottom, top]`` (default: the full ``width - 1``-bit range)."""
    c, rng = env.component, env.rng
    top = _limits(c)[1] if top is None else top
    sets = []
    for size in (c.m, c.m - 1):
        t = np.sort(rng.integers(bottom, top, size=size, endpoint=True))
        if rng.random() < 0.5 and size > 1:
            k = int(rng.integers(1, size))
            t[k] = t[k - 1]                              # two equal thresholds
        sets.append(t)
    return np.concatenate(sets)


def _probes(env, thr, count):
    """Results around the table: every threshold, +-1 of it, of both signs (the exact ties
    of both sets), 0, +-1, the extremes of signed(width), and random values near and far."""
    c, rng = env.component, env.rng
    lo, hi = _limits(c)
    near = [s * (int(t) + d) for t in thr for d in (-2, -1, 0, 1, 2) for s in (1, -1)]
    edges = [0, 1, -1, 2, -2, lo, lo + 1, hi, hi - 1]
    fixed = np.array([v for v in near + edges if lo <= v <= hi], dtype=np.int64)
    span = min(max(int(thr.max()) * 2, 4), hi)
    r = np.concatenate([fixed, rng.integers(-span, span, size=count, endpoint=True),
                        rng.integers(lo, hi, size=count // 4, endpoint=True)])
    return rng.permutation(r)


@cocotb.test()
async def near_thresholds(dut):
    """Random tables, results on, around and between the thresholds of both signs, zeros
    and the extremes, under every stall pattern."""
    env = await start(dut)
    count = env.option("count", 200)
    for valid_p, ready_p in STALLS:
        for top in (None, 1 << min(12, env.component.width - 2)):
            thr = _random_table(env, top)
            vectors = {"r": _probes(env, thr, count), "thresholds": thr}
            await run_vectors(env, vectors, valid_probability=valid_p,
                              ready_probability=ready_p)


def _layer(env):
    """A realistic next-layer quantizer ``p`` and the largest ``frac_bits <= 40`` at which its
    table fits ``width``."""
    c, rng = env.component, env.rng
    b = float(rng.uniform(1.05, 2.5))
    top = float(10 ** rng.uniform(-1, 2))                 # largest level
    beta = float(top * rng.choice([0.0, 0.01, 0.08]))
    p = g.ExpParams(b, (top - beta) / b ** (c.m - 1), beta, c.n)
    top_mid = float(np.max(np.concatenate(enc.midpoints(p))))
    frac_bits = int(np.clip(np.floor(np.log2(2.0 ** (c.width - 2) / top_mid)), 0, 40))
    return p, frac_bits


@cocotb.test()
async def layer_parameters(dut):
    """Tables from a layer's b, alpha, beta and frac_bits (the adapter computes them); the
    codes are those of golden.dnateq.quantize on the real values R * 2^-F."""
    env = await start(dut)
    c = env.component
    count = env.option("count", 200)
    for _ in range(3):
        p, frac_bits = _layer(env)
        thr = enc.thresholds(p, frac_bits=frac_bits, width=c.width)
        r = _probes(env, thr, count)
        vectors = {"r": r, "b": np.float64(p.b), "alpha": np.float64(p.alpha),
                   "beta": np.float64(p.beta), "frac_bits": np.int64(frac_bits)}
        received, _ = await run_vectors(env, vectors, valid_probability=0.8,
                                        ready_probability=0.7)
        exact = np.abs(r) <= 1 << 53                     # R * 2^-F exact in float64
        real = r[exact].astype(np.float64) * 2.0 ** -frac_bits
        assert np.array_equal(np.array(received)[exact], g.quantize(real, p)), \
            "RTL codes differ from golden.dnateq.quantize(R * 2^-F)"


@cocotb.test()
async def extreme_tables(dut):
    """All-zero and all-maximum tables, and one with both sets spanning [0, max], against the
    extremes of signed(width)."""
    env = await start(dut)
    c = env.component
    lo, hi = _limits(c)
    r = np.array([0, 1, -1, 2, -2, lo, lo + 1, lo + 2, hi, hi - 1, hi - 2] * 3)
    spread = np.array([hi * k // (size - 1) for size in (c.m, c.m - 1) for k in range(size)],
                      dtype=np.int64)              # each set from 0 to max, evenly
    for thr in (np.zeros(c.entries, np.int64), np.full(c.entries, hi, np.int64), spread):
        await run_vectors(env, {"r": r, "thresholds": thr}, ready_probability=0.5)


async def _stream(env, words, expected, *, valid_probability, ready_probability, sets=None):
    """Send raw input words, check the codes received against ``expected``, in order; the
    vector ``sets`` they encode (if given) are sampled for coverage."""
    dut, c = env.dut, env.component
    monitor = StreamSink(dut, "o", dut.clk, rng=env.random,
                            ready_probability=ready_probability,
                            decode=PayloadCodec(c.output_shape).unpack_value).start()
    driver = StreamSource(dut, "i", dut.clk, rng=env.random,
                          valid_probability=valid_probability)
    timeout = int(len(words) / (valid_probability * ready_probability)) * 4 + 200
    await with_timeout(driver.send(words), timeout * CLOCK_PERIOD_NS, "ns")
    await monitor.wait_for(len(expected), timeout_cycles=timeout)
    await ClockCycles(dut.clk, 4 * (c.latency + 4))
    monitor.stop()
    Scoreboard("dnaenc.codes", env.log).check(expected, monitor.received)
    if sets is not None:
        coverage.sample(cover_config(env), sets, monitor.received,
                        coverage.stream_trace(driver, monitor))
    return monitor


@cocotb.test()
async def reset_table(dut):
    """Results straight after reset, no table written: every threshold is 0 (no X on any
    simulator), so 0 is the zero code and every other value its sign's largest code."""
    env = await start(dut)
    c = env.component
    adapter = adapter_for("dnaenc", c)
    zeros = np.zeros(c.entries, np.int64)
    vectors = {"r": _probes(env, _random_table(env), 100), "thresholds": zeros}
    words = adapter.encode(vectors)[c.entries:]          # the results only
    expected = adapter.golden(vectors)
    assert set(expected.tolist()) <= {c.zero_code, c.m - 1, 2 * c.m - 1}
    await _stream(env, words, expected, valid_probability=0.9, ready_probability=0.8)


@cocotb.test()
async def table_reload(dut):
    """Batches with their own tables back to back on one stream, under gaps and heavy
    backpressure, then at full speed: a table write applies exactly to the results after
    it.  The tables alternate between entries in [0, L] and in [2L, 4L], and each batch
    starts with +-(2L - 1), which lies above every entry of a low table and below every
    entry of a high one, so any entry still stale (or written early) when the first results
    of a batch are encoded changes their codes."""
    env = await start(dut)
    c = env.component
    adapter = adapter_for("dnaenc", c)
    low = 1 << min(9, c.width - 4)
    between = np.array([-(2 * low - 1), 2 * low - 1] * 2)
    sets = []
    for k in range(6):
        thr = _random_table(env, low) if k % 2 == 0 else _random_table(env, 4 * low, 2 * low)
        sets.append({"r": np.concatenate([between, _probes(env, thr, 40)[:60]]),
                     "thresholds": thr})
    words = [word for v in sets for word in adapter.encode(v)]
    expected = np.concatenate([adapter.golden(v) for v in sets])
    # the tables differ enough that a result encoded with a neighbour's table would show
    for a, b in zip(sets, sets[1:]):
        other = enc.encode(b["r"], a["thresholds"], n=c.n, width=c.width)
        assert np.any(other != adapter.golden(b)), "the test's tables do not tell batches apart"
    await _stream(env, words, expected, valid_probability=0.8, ready_probability=0.3,
                  sets=sets)
    await _stream(env, words, expected, valid_probability=1.0, ready_probability=1.0,
                  sets=sets)


@cocotb.test()
async def throughput(dut):
    """Output always ready: one code per clock, each LATENCY clocks after its beat."""
    env = await start(dut)
    c = env.component
    thr = _random_table(env)
    vectors = {"r": _probes(env, thr, 200), "thresholds": thr}
    load_bit = c.input_layout["load"].offset
    accepted = []

    async def watch():
        cycle = 0
        while True:
            await ReadOnly()
            if dut.i__valid.value == 1 and dut.i__ready.value == 1 \
                    and not (dut.i__payload.value.to_unsigned() >> load_bit) & 1:
                accepted.append(cycle)  # a result beat
            await RisingEdge(dut.clk)
            cycle += 1

    task = cocotb.start_soon(watch())
    _, monitor = await run_vectors(env, vectors)
    task.cancel()
    out = np.array(monitor.transfer_cycles)
    latency = out - np.array(accepted)
    assert len(out) == len(vectors["r"]) and np.all(np.diff(out) == 1), "not one per clock"
    assert np.all(latency == c.latency), f"latencies {sorted(set(latency.tolist()))}"
    env.log.info("%d results in %d clocks, latency %d", len(out), out[-1] - out[0] + 1,
                 c.latency)
