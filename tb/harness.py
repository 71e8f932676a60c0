"""Run a vector set through the design under test and check it against the golden model."""

from __future__ import annotations

from cocotb.triggers import ClockCycles, gather, with_timeout

from quantrtl.vectors import CLOCK_PERIOD_NS
from quantrtl.vectors.adapters import input_streams, output_decoder
from quantrtl.vectors.codec import PayloadCodec
from quantrtl.vectors.cycles import deadline
from . import coverage
from .streams import Scoreboard, StreamSink, StreamSource

__all__ = ["run_beats", "run_vectors", "run_packets", "read_status", "cover_config"]


def read_status(adapter, dut) -> dict:
    """The result fields an adapter derives from status ports at the end of a run (e.g.
    the Huffman decoder's ``error`` and ``error_kind``); empty for most blocks."""
    ports = adapter.status_ports
    if not ports:
        return {}
    return adapter.status({p: int(getattr(dut, p).value) for p in ports})


def cover_config(env):
    """The configuration :mod:`tb.coverage` samples a test's runs under."""
    return (env.block.name, env.component)


async def run_beats(env, streams, *, expected, decode=int, flatten=False, timeout,
                    count=None, valid_probability=1.0, ready_probability=1.0,
                    drain_cycles=64, expected_status=None, context=None, name="o",
                    cover=None):
    """Drive the payload words of ``streams`` (``{port: words}``, concurrently) into the
    design, collect the output stream ``o`` and check it against ``expected``, in order.

    ``decode`` unpacks an output word (a list of items per beat with ``flatten``);
    ``expected_status`` (``{port: value}``) is compared with those ports after the run
    (e.g. the Huffman decoder's ``error_kind``); ``expected=None`` checks nothing but the
    protocol (and waits for ``count`` transfers).  Fails on a mismatch, a missing or an
    extra transfer (the output is watched for ``drain_cycles`` after the last expected one),
    a stream protocol violation, or
    more than ``timeout`` cycles -- never hangs.  ``cover(sink, sources)`` is called once the
    run has passed its checks (functional coverage sampling).  Returns the sink
    (``received``, ``transfer_cycles``)."""
    dut = env.dut
    sink = StreamSink(dut, "o", dut.clk, rng=env.random, ready_probability=ready_probability,
                      decode=decode, flatten=flatten).start()
    sources = {port: StreamSource(dut, port, dut.clk, rng=env.random,
                                  valid_probability=valid_probability) for port in streams}
    sends = [sources[port].send(words) for port, words in streams.items()]
    await with_timeout(gather(*sends), timeout * CLOCK_PERIOD_NS, "ns")
    count = len(expected) if count is None else count
    await sink.wait_for(count, timeout_cycles=timeout)
    await ClockCycles(dut.clk, drain_cycles)
    sink.stop()
    if expected_status:
        status = {p: int(getattr(dut, p).value) for p in expected_status}
        if status != dict(expected_status):
            raise AssertionError(f"{env.block.name} status {status}, expected "
                                 f"{dict(expected_status)}")
    if expected is not None:
        Scoreboard(f"{env.block.name}.{name}", env.log).check(expected, sink.received,
                                                             context=context)
    if cover is not None:
        cover(sink, sources)
    return sink


async def run_vectors(env, vectors, *, valid_probability=1.0, ready_probability=1.0,
                      check=True, name="o", drain_cycles=None):
    """Drive ``vectors`` (a vector set of the block's adapter) into ``i``, collect ``o``,
    compare with the golden model: :func:`run_beats` on the adapter's beats.

    An adapter with ``side_streams(vectors) -> {port: words}`` (e.g. DQA's error stream
    ``e``) has those streams driven concurrently, with the same ``valid_probability``;
    one with ``status_ports`` has them compared with its golden status.  A run that gets
    through its checks is sampled for functional coverage (:func:`tb.coverage.sample`: the
    vector set, the outputs, the input and output transfer cycles, idles and waits).

    Returns ``(received, sink)``.
    """
    dut, c = env.dut, env.component
    adapter = env.block.adapter(c)
    for port, value in adapter.config(vectors).items():
        getattr(dut, port).value = value
    streams = input_streams(adapter, vectors)
    count = adapter.count(vectors)
    decode, flatten = output_decoder(adapter, c)
    slack = 4 * ((c.latency or 4) + 4)
    traces = []
    timeout = deadline(adapter, c, vectors, streams, count, valid_probability,
                       ready_probability)
    sink = await run_beats(
        env, streams, expected=adapter.golden(vectors) if check else None, count=count,
        decode=decode, flatten=flatten, timeout=timeout, valid_probability=valid_probability,
        ready_probability=ready_probability,
        drain_cycles=drain_cycles if drain_cycles is not None else slack, name=adapter.output,
        context=lambda k: {n: v[k] for n, v in vectors.items() if getattr(v, "ndim", 0)},
        cover=lambda sink, sources: traces.append(coverage.stream_trace(sources["i"], sink)))
    if check and adapter.status_ports:
        status, want = read_status(adapter, dut), adapter.golden_status(vectors)
        if status != want:
            raise AssertionError(f"{env.block.name} status {status}, golden {want}")
    if not check and len(sink.received) != count:
        raise AssertionError(f"expected {count} transfers, received {len(sink.received)}")
    coverage.sample(cover_config(env), vectors, sink.received, traces[0])
    return sink.received, sink


async def run_packets(env, beats, *, expected, error=0, valid_probability=1.0,
                      ready_probability=1.0, drain_cycles=64):
    """Drive Huffman decoder input ``beats`` into the decoder: :func:`run_beats` checking
    the symbols against ``expected`` and the final ``error_kind`` (and ``error``) against
    ``error``.  Works for any ``lanes``.  Returns ``(symbols, sink)``;
    ``sink.transfer_cycles`` are the output beats' cycles."""
    from quantrtl.vectors.huffman import HuffmanAdapter
    expected = [int(v) for v in expected]
    rate = max(min(valid_probability, ready_probability), 0.01)
    codec = PayloadCodec(env.component.input_layout)

    def cover(sink, sources):
        tuples = [tuple(codec.unpack(word)[f] for f in ("kind", "index", "data", "last"))
                  for word in beats]
        trace = dict(coverage.stream_trace(sources["i"], sink), error_kind=error)
        coverage.sample(cover_config(env), tuples, sink.received, trace)
    sink = await run_beats(
        env, {"i": beats}, expected=expected, flatten=True,
        decode=HuffmanAdapter(env.component).decode_output,
        timeout=int((len(beats) + len(expected)) / rate * 4) + 400,
        valid_probability=valid_probability, ready_probability=ready_probability,
        drain_cycles=drain_cycles, name="symbols",
        expected_status={"error_kind": error, "error": int(error != 0)}, cover=cover)
    return list(sink.received), sink
