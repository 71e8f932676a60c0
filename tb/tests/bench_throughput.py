"""cocotb module behind ``make bench``: the requantizer's latency and throughput at every shift.

Streams ``QUANTRTL_BENCH_BEATS_PER_SHIFT`` random beats for each shift from -31 to 30, in one
unbroken stream ordered by shift, with an input beat offered every cycle and the output
always ready, through :func:`tb.harness.run_vectors` (so every result is also checked
against the golden model).  A small coroutine of this module watches the input stream and
records the cycle at which each beat is accepted; the output transfers come from the
harness's :class:`tb.streams.StreamSink`.  Per shift it reports

``latency``
    cycles from the acceptance of a beat to the transfer of its result (min and max);
``throughput``
    results per clock in the steady state: the shift's results divided by the cycles from
    its first result to the next shift's first result (to its own last result + 1 for the
    last shift), so a bubble inside a segment or at its end shows.

The figures go as JSON to ``QUANTRTL_BENCH_OUT``; the bench reports them, it does not
assert timing.
"""

import json
import os

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge
import numpy as np

from quantrtl.golden.requant import SHIFT_MAX, SHIFT_MIN
from .bench_speed import requant_vectors
from ..env import start
from ..harness import run_vectors
from ..streams import BackgroundProcess

SHIFTS = np.arange(SHIFT_MIN, SHIFT_MAX + 1)


class HandshakeRecorder(BackgroundProcess):
    """Cycle numbers of every transfer on the ``i`` and ``o`` streams, counted like
    :class:`tb.streams.StreamSink` does (one per rising edge from the cycle it starts in,
    handshakes sampled in ``ReadOnly``).  Start it in the same time step as the monitor."""

    def __init__(self, dut):
        self.dut = dut
        self.accepted: list[int] = []
        self.delivered: list[int] = []
        self.cycles = 0

    async def _run(self):
        dut = self.dut
        while True:
            await ReadOnly()
            if dut.i__valid.value == 1 and dut.i__ready.value == 1:
                self.accepted.append(self.cycles)
            if dut.o__valid.value == 1 and dut.o__ready.value == 1:
                self.delivered.append(self.cycles)
            await RisingEdge(dut.clk)
            self.cycles += 1


def shift_figures(shifts, accepted, delivered) -> list[dict]:
    """Per-shift latency and throughput from the per-beat accept and transfer cycles
    (``shifts[k]`` is the shift of beat ``k``; beats of one shift are contiguous)."""
    shifts = np.asarray(shifts)
    accepted = np.asarray(accepted, dtype=np.int64)
    delivered = np.asarray(delivered, dtype=np.int64)
    latency = delivered - accepted
    starts = np.flatnonzero(np.r_[True, shifts[1:] != shifts[:-1]])
    ends = np.r_[starts[1:], len(shifts)]
    figures = []
    for k, (lo, hi) in enumerate(zip(starts, ends)):
        span_end = delivered[hi] if hi < len(shifts) else delivered[hi - 1] + 1
        span = int(span_end - delivered[lo])
        accept_span = int((accepted[hi] if hi < len(shifts) else accepted[hi - 1] + 1)
                          - accepted[lo])
        figures.append({
            "shift": int(shifts[lo]),
            "results": int(hi - lo),
            "cycles": span,
            "throughput": float((hi - lo) / span),
            "accept_rate": float((hi - lo) / accept_span),
            "latency_min": int(latency[lo:hi].min()),
            "latency_max": int(latency[lo:hi].max()),
            "latency_mean": float(latency[lo:hi].mean()),
        })
    return figures


@cocotb.test()
async def latency_and_throughput_per_shift(dut):
    """Every shift from -31 to 30: latency and results per clock, output always ready."""
    env = await start(dut)
    per_shift = env.option("bench_beats_per_shift", 64)
    shifts = np.repeat(SHIFTS, per_shift)
    vectors = requant_vectors(env, len(shifts), shifts)

    recorder = HandshakeRecorder(dut).start()  # same time step as run_vectors' monitor
    received, monitor = await run_vectors(env, vectors, valid_probability=1.0,
                                          ready_probability=1.0)
    recorder.stop()

    delivered = list(monitor.transfer_cycles)
    # The recorder's and the monitor's cycle counts must line up, or the latencies are wrong.
    if recorder.delivered != delivered:
        raise AssertionError("cycle counts of the recorder and the StreamSink disagree: "
                             f"{recorder.delivered[:5]} vs {delivered[:5]}")
    if len(recorder.accepted) != len(shifts):
        raise AssertionError(f"{len(recorder.accepted)} beats accepted, {len(shifts)} sent")
    figures = shift_figures(shifts, recorder.accepted, delivered)
    total_cycles = delivered[-1] - delivered[0] + 1
    result = {
        "block": env.block.name,
        "params": env.params,
        "latency_param": env.component.latency,
        "beats_per_shift": per_shift,
        "results": len(received),
        "overall_throughput": len(received) / total_cycles,
        "shifts": figures,
        "seed": env.seed,
    }
    lat = sorted({f["latency_min"] for f in figures} | {f["latency_max"] for f in figures})
    env.log.info("bench: %d shifts x %d beats: latency %s cycles, throughput %.4f..%.4f "
                 "results/clock", len(figures), per_shift, lat,
                 min(f["throughput"] for f in figures), max(f["throughput"] for f in figures))
    with open(os.environ["QUANTRTL_BENCH_OUT"], "w") as f:
        json.dump(result, f, indent=2)
