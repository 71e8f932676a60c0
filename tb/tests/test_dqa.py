"""cocotb tests of the DQA dequantizer (``hw.dqa``) against :func:`golden.dqa.join`.

Activations are quantized by :func:`golden.dqa.quantize` with a random set of important
channels; ``i`` carries every ``q`` with its channel's flag, ``e`` the shifting errors of the
important elements (:func:`golden.dqa.error_stream`), each stream with its own random gaps,
and ``o`` is read under random backpressure.
"""

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, gather, with_timeout

from quantrtl.golden.dqa import error_stream, join, quantize
from quantrtl.vectors.bulk import every_pair, pair_extremes
from .. import coverage
from ..env import CLOCK_PERIOD_NS, start
from ..harness import cover_config
from ..streams import PayloadCodec, Scoreboard, StreamSource, StreamSink


def _vectors(env, tokens, channels, ratio):
    """Random q and err directly in the block's ranges (n, m may exceed golden.dqa's
    activation-side limits), plus a real quantization when n, m are DQA's."""
    c, rng = env.component, env.rng
    mask = rng.random(channels) < ratio
    if 3 <= c.n <= 5 and 1 <= c.m <= 4:
        x = rng.standard_normal((tokens, channels)) * rng.uniform(0.1, 3.0, channels)
        x[rng.random(x.shape) < 0.02] *= 8  # outliers saturate
        scale = np.abs(x).max() / ((1 << (c.n - 1)) - 1) * rng.uniform(0.5, 1.0)
        q, err = quantize(x, scale, mask, c.n, c.m)
    else:
        q = rng.integers(-(1 << (c.n - 1)), 1 << (c.n - 1), size=(tokens, channels))
        err = rng.integers(0, 1 << c.m, size=(tokens, channels)) * mask
    return q, err, mask


async def _stream_through(env, q, err, mask, *, valid_i, valid_e, ready):
    dut, c = env.dut, env.component
    in_codec = PayloadCodec(c.input_layout)
    flags = np.broadcast_to(mask, q.shape).reshape(-1)
    beats = in_codec.pack_columns({"q": q.reshape(-1), "important": flags.astype(int)})
    errors = [int(v) for v in error_stream(err, mask)]
    expected = join(q, err, mask, c.n, c.m).reshape(-1)
    out_codec = PayloadCodec(c.output_shape)
    monitor = StreamSink(dut, "o", dut.clk, rng=env.random, ready_probability=ready,
                            decode=out_codec.unpack_value).start()
    drv_i = StreamSource(dut, "i", dut.clk, rng=env.random, valid_probability=valid_i)
    drv_e = StreamSource(dut, "e", dut.clk, rng=env.random, valid_probability=valid_e)
    timeout = int(len(beats) / max(min(valid_i, valid_e, ready), 0.01) * 6) + 200
    await with_timeout(gather(drv_i.send(beats), drv_e.send(errors)),
                       timeout * CLOCK_PERIOD_NS, "ns")
    await monitor.wait_for(len(expected), timeout_cycles=timeout)
    await ClockCycles(dut.clk, 16)
    monitor.stop()
    Scoreboard("dqa.y", env.log).check(expected, monitor.received)
    coverage.sample(cover_config(env), {"q": q, "err": err, "important": mask.astype(int)},
                    monitor.received, coverage.stream_trace(drv_i, monitor))
    return monitor


@cocotb.test()
async def random_activations(dut):
    """Random activations and important sets (none, some, all) under random gaps on both
    inputs and random backpressure."""
    env = await start(dut)
    patterns = ((1.0, 1.0, 1.0), (0.5, 0.9, 0.6), (1.0, 0.3, 1.0), (0.8, 0.8, 0.3))
    for ratio in (0.0, 0.4, 1.0):
        for valid_i, valid_e, ready in patterns:
            q, err, mask = _vectors(env, 12, 24, ratio)
            await _stream_through(env, q, err, mask, valid_i=valid_i, valid_e=valid_e,
                                  ready=ready)


EVERY_PAIR_MAX = 4096       # (q, err) pairs streamed here; wider ranges: the vector player


@cocotb.test()
async def extremes(dut):
    """Every (q, err) pair of the block's ranges, important and ordinary, where there are
    at most :data:`EVERY_PAIR_MAX` of them; else every q with the error extremes and every
    error with the q extremes (every pair of the widest blocks goes through the vector
    player: ``tests/test_player_bulk.py::test_dqa_every_pair``)."""
    env = await start(dut)
    c = env.component
    if (1 << (c.n + c.m)) <= EVERY_PAIR_MAX:
        q, err = every_pair(c.n, c.m)
    else:
        q, err = pair_extremes(c.n, c.m)
    q, err = q[:, None].repeat(2, axis=1), err[:, None].repeat(2, axis=1)
    mask = np.array([True, False])
    err[:, 1] = 0
    await _stream_through(env, q, err, mask, valid_i=0.9, valid_e=0.7, ready=0.8)


@cocotb.test()
async def throughput(dut):
    """One value per clock with every input valid and the output ready."""
    env = await start(dut)
    q, err, mask = _vectors(env, 40, 16, 0.5)
    monitor = await _stream_through(env, q, err, mask, valid_i=1.0, valid_e=1.0, ready=1.0)
    span = monitor.transfer_cycles[-1] - monitor.transfer_cycles[0] + 1
    env.log.info("%d values in %d cycles", q.size, span)
    assert span == q.size, f"{q.size} values took {span} cycles"
