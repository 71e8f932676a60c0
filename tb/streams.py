"""Stream sources, sinks, passive monitors and a scoreboard for Amaranth ``valid``/``ready``
streams (named by role, as in cocotbext-axi: a source drives ``valid``, a sink drives
``ready``, a monitor drives nothing).

A stream named ``i`` of a quantrtl block appears in its Verilog as ``i__payload``,
``i__valid`` and ``i__ready``.  Payloads are packed and unpacked with :class:`PayloadCodec`,
which reads field offsets from the block's own Amaranth layout (one source of truth).

Handshakes are sampled in the ``ReadOnly`` phase of each cycle, after all writes of the
cycle have settled, so the testbench sees exactly the ``valid``/``ready`` pair that the
next rising edge acts on, on any simulator.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from quantrtl.vectors.codec import PayloadCodec

__all__ = ["PayloadCodec", "StreamSource", "StreamSink", "StreamMonitor", "Scoreboard",
           "ProtocolError", "BackgroundProcess"]


class BackgroundProcess:
    """A coroutine ``self._run()`` started with :meth:`start` and cancelled with :meth:`stop`."""

    _task = None

    def start(self):
        self._task = cocotb.start_soon(self._run())
        return self

    def stop(self):
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self):
        raise NotImplementedError


class ProtocolError(AssertionError):
    """A stream broke the valid/ready rules (payload changed or valid dropped while stalled)."""


class StreamSource:
    """Drives payload words into a stream (``valid`` and the payload), with random idle
    cycles between beats.

    ``valid_probability`` is the chance that a beat is offered in a cycle when one is
    waiting; 1.0 offers a beat every cycle.  Once ``valid`` is raised the payload is held
    until the beat is accepted (the stream rule).
    """

    def __init__(self, dut, name: str, clock, *, rng: random.Random | None = None,
                 valid_probability: float = 1.0):
        self.valid = getattr(dut, f"{name}__valid")
        self.ready = getattr(dut, f"{name}__ready")
        self.payload = getattr(dut, f"{name}__payload")
        self.clock = clock
        self.rng = rng or random.Random(0)
        self.valid_probability = valid_probability
        self.sent = 0
        # Per accepted beat: its transfer cycle (counted in the clocks spent sending),
        # the cycles valid was held low before it, the cycles it waited for ready.
        self.cycles = 0
        self.transfer_cycles: list[int] = []
        self.idles: list[int] = []
        self.waits: list[int] = []
        self.valid.value = 0

    async def send(self, words) -> None:
        """Send every word of ``words``; returns once the last one is accepted."""
        for word in words:
            idle = wait = 0
            while self.valid_probability < 1.0 and self.rng.random() >= self.valid_probability:
                self.valid.value = 0
                await RisingEdge(self.clock)
                self.cycles += 1
                idle += 1
            self.payload.value = word
            self.valid.value = 1
            while True:
                await ReadOnly()
                accepted = bool(self.ready.value)
                cycle = self.cycles
                await RisingEdge(self.clock)
                self.cycles += 1
                if accepted:
                    break
                wait += 1
            self.sent += 1
            self.transfer_cycles.append(cycle)
            self.idles.append(idle)
            self.waits.append(wait)
        self.valid.value = 0


class StreamMonitor(BackgroundProcess):
    """Watches a stream without driving it: records every transfer (payload decoded, and
    its cycle) and checks the stream rules -- while ``valid`` is high and ``ready`` low,
    neither ``valid`` nor the payload may change.  With ``flatten=True``, ``decode``
    returns a list of items per beat (e.g. several symbols) and ``received`` holds the
    items."""

    def __init__(self, dut, name: str, clock, *, decode=int, flatten: bool = False):
        self.valid = getattr(dut, f"{name}__valid")
        self.ready = getattr(dut, f"{name}__ready")
        self.payload = getattr(dut, f"{name}__payload")
        self.clock = clock
        self.decode = decode
        self.flatten = flatten
        self.received: list = []
        self.beats: list = []           # decode(word) of each transfer (items per beat)
        self.cycles = 0
        self.transfer_cycles: list[int] = []
        self.waits: list[int] = []      # cycles each transfer waited with ready low

    def _drive(self) -> None:
        """Set this cycle's inputs of the stream (a passive monitor sets none)."""

    async def _run(self):
        stalled_word = None
        stalled = 0
        while True:
            self._drive()
            await ReadOnly()
            valid = bool(self.valid.value)
            ready = bool(self.ready.value)
            word = self.payload.value.to_unsigned() if valid else None
            if stalled_word is not None:
                if not valid:
                    raise ProtocolError(f"valid dropped without a transfer at cycle {self.cycles}")
                if word != stalled_word:
                    raise ProtocolError(f"payload changed while stalled at cycle {self.cycles}")
            if valid and ready:
                value = self.decode(word)
                self.beats.append(value)
                if self.flatten:
                    self.received.extend(value)
                else:
                    self.received.append(value)
                self.transfer_cycles.append(self.cycles)
                self.waits.append(stalled)
                stalled_word, stalled = None, 0
            elif valid:
                stalled_word = word
                stalled += 1
            else:
                stalled_word, stalled = None, 0
            await RisingEdge(self.clock)
            self.cycles += 1

    async def wait_for(self, count: int, *, timeout_cycles: int) -> None:
        """Wait until ``count`` transfers have arrived; fail (never hang) after the timeout."""
        waited = 0
        while len(self.received) < count:
            if waited >= timeout_cycles:
                raise AssertionError(
                    f"timeout: {len(self.received)} of {count} transfers after {waited} cycles")
            await RisingEdge(self.clock)
            waited += 1


class StreamSink(StreamMonitor):
    """Accepts transfers from a stream: drives ``ready`` (high with ``ready_probability``
    in each cycle: random backpressure) and records and checks what it sees, as a
    :class:`StreamMonitor` does."""

    def __init__(self, dut, name: str, clock, *, rng: random.Random | None = None,
                 ready_probability: float = 1.0, decode=int, flatten: bool = False):
        super().__init__(dut, name, clock, decode=decode, flatten=flatten)
        self.rng = rng or random.Random(1)
        self.ready_probability = ready_probability

    def _drive(self) -> None:
        self.ready.value = int(self.ready_probability >= 1.0
                               or self.rng.random() < self.ready_probability)

    def stop(self):
        super().stop()
        self.ready.value = 0


class Scoreboard:
    """Compares received transfers with the golden model's, in order, after a run."""

    def __init__(self, name: str, log):
        self.name = name
        self.log = log

    def check(self, expected, received, *, context=None, limit: int = 10) -> None:
        expected = [int(v) for v in np.asarray(expected).reshape(-1)]
        received = [int(v) for v in received]
        mismatches = [k for k, (e, r) in enumerate(zip(expected, received)) if e != r]
        for k in mismatches[:limit]:
            try:
                extra = f" inputs={context(k)}" if context else ""
            except IndexError:     # several outputs per input row: no one-to-one context
                extra = ""
            self.log.error("%s[%d]: expected %d, got %d%s", self.name, k, expected[k],
                           received[k], extra)
        if len(received) != len(expected):
            raise AssertionError(f"{self.name}: expected {len(expected)} transfers, "
                                 f"received {len(received)}")
        if mismatches:
            raise AssertionError(f"{self.name}: {len(mismatches)} of {len(expected)} "
                                 f"transfers differ from the golden model")
        self.log.info("%s: %d transfers match the golden model", self.name, len(expected))
