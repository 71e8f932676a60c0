"""Run a vector set through the design under test and check it against the golden model."""

from __future__ import annotations

from cocotb.triggers import ClockCycles, gather, with_timeout

from .adapters import adapter_for, input_streams, output_decoder
from .env import CLOCK_PERIOD_NS
from .streams import Scoreboard, StreamDriver, StreamMonitor

__all__ = ["run_vectors", "deadline", "read_status"]


def read_status(adapter, dut) -> dict:
    """The result fields an adapter derives from status ports at the end of a run (e.g.
    the Huffman decoder's ``error`` and ``error_kind``); empty for most blocks."""
    ports = getattr(adapter, "status_ports", ())
    if not ports:
        return {}
    return adapter.status({p: int(getattr(dut, p).value) for p in ports})


def deadline(adapter, component, vectors, streams, count, valid_probability,
             ready_probability) -> int:
    """Clock cycles a valid run may take before it counts as a hang.

    The block's own clocks (the adapter's ``cycles(vectors)``, its cycle model at full
    throughput: several symbols per input word, a post-processor slower than the input;
    else one per input beat), plus the input beats stretched by the input gaps and the
    output transfers by the backpressure, plus the latency; four times that and a margin.
    Any valid vector set finishes well within it, a hang is still caught."""
    beats = max(len(w) for w in streams.values())
    model = adapter.cycles(vectors) if hasattr(adapter, "cycles") else beats
    latency = getattr(component, "LATENCY", None) or 4
    expected = (beats / valid_probability + count / ready_probability + model + latency)
    return int(4 * expected) + 1000


async def run_vectors(env, vectors, *, valid_probability=1.0, ready_probability=1.0,
                      check=True, name="o", drain_cycles=None):
    """Drive ``vectors`` into ``i``, collect ``o``, compare with the golden model.

    An adapter with ``side_streams(vectors) -> {port: words}`` (e.g. DQA's error stream
    ``e``) has those streams driven concurrently, with the same ``valid_probability``.

    Returns ``(received, monitor)``.  Fails on a mismatch (of the outputs, and of the
    status fields of an adapter with ``status_ports``), a missing or an extra transfer
    (the output is watched for ``drain_cycles`` after the last expected one), a stream
    protocol violation, or a timeout -- never hangs.
    """
    dut, c = env.dut, env.component
    adapter = adapter_for(env.block.name, c)
    for port, value in adapter.config(vectors).items():
        getattr(dut, port).value = value
    streams = input_streams(adapter, vectors)
    expected = adapter.golden(vectors) if check else None
    count = adapter.count(vectors)

    # An adapter whose output beats carry several items (e.g. symbols) says how to unpack.
    decode, flatten = output_decoder(adapter, c)
    monitor = StreamMonitor(dut, "o", dut.clk, rng=env.random,
                            ready_probability=ready_probability,
                            decode=decode, flatten=flatten).start()
    drivers = {port: StreamDriver(dut, port, dut.clk, rng=env.random,
                                  valid_probability=valid_probability) for port in streams}
    slack = 4 * ((getattr(c, "LATENCY", None) or 4) + 4)
    timeout = deadline(adapter, c, vectors, streams, count, valid_probability,
                       ready_probability)
    sends = [drivers[port].send(w) for port, w in streams.items()]
    await with_timeout(gather(*sends), timeout * CLOCK_PERIOD_NS, "ns")
    await monitor.wait_for(count, timeout_cycles=timeout)
    await ClockCycles(dut.clk, drain_cycles if drain_cycles is not None else slack)
    monitor.stop()
    status = read_status(adapter, dut)
    if check and status:
        want = adapter.golden_status(vectors)
        if status != want:
            raise AssertionError(f"{env.block.name} status {status}, golden {want}")
    if check:
        Scoreboard(f"{env.block.name}.{adapter.output}", env.log).check(
            expected, monitor.received,
            context=lambda k: {n: v[k] for n, v in vectors.items() if getattr(v, "ndim", 0)})
    elif len(monitor.received) != count:
        raise AssertionError(f"expected {count} transfers, received {len(monitor.received)}")
    return monitor.received, monitor
