"""Cycle models: how many clocks a valid run of a block may take (timeouts, the player)."""

from __future__ import annotations

__all__ = ["deadline"]


def deadline(adapter, component, vectors, streams, count, valid_probability,
             ready_probability) -> int:
    """Clock cycles a valid run may take before it counts as a hang.

    The block's own clocks (the adapter's ``cycles(vectors)``, its cycle model at full
    throughput: several symbols per input word, a post-processor slower than the input;
    else one per input beat), plus the input beats stretched by the input gaps and the
    output transfers by the backpressure, plus the latency; four times that and a margin.
    Any valid vector set finishes well within it, a hang is still caught."""
    beats = max(len(w) for w in streams.values())
    model = adapter.cycles(vectors)
    model = beats if model is None else model
    latency = component.latency or 4
    expected = (beats / valid_probability + count / ready_probability + model + latency)
    return int(4 * expected) + 1000
