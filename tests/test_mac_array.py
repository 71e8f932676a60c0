"""The MAC array (``hw.mac``: ``pes``, ``zero_skip``, the result bank) in the Amaranth
simulator, in process: results against :func:`golden.mac.dot_product`, nothing lost or
duplicated under random gaps and backpressure, the stream rules, throughput and latency,
the vector adapter's formats and the parameter errors."""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator

from quantrtl.golden._ints import signed_range
from quantrtl.golden.mac import dot_product
from quantrtl.hw.mac import DotProductUnit, ResultBank
from quantrtl.vectors.adapters import MacAdapter


def _stream_run(dut, feed, *, expected_count, valid_p=1.0, ready_p=1.0, seed=0,
                config=None, max_cycles=20000, probe=None):
    """Drive the payload values ``feed`` into ``dut.i`` and collect ``dut.o``.

    Each cycle, ``i.valid`` is raised with probability ``valid_p`` (held until accepted,
    payload stable) and ``o.ready`` with probability ``ready_p``.  Checks the stream rule on
    ``o`` (a stalled transfer keeps ``valid`` and its payload).  ``probe(ctx)`` is called in
    every cycle after the handshake signals are set.  Returns ``(received, records)`` with
    ``records`` = per cycle ``(i_accepted, o_delivered)``.
    """
    rng = random.Random(seed)
    received, records = [], []

    async def bench(ctx):
        for port, value in (config or {}).items():
            ctx.set(getattr(dut, port), value)
        pending, stalled = None, None
        k = 0
        for _ in range(max_cycles):
            if len(received) >= expected_count and k >= len(feed):
                break
            offer = k < len(feed) and (pending is not None or rng.random() < valid_p)
            if offer:
                pending = feed[k]
                target = dut.i.payload.as_value() if isinstance(pending, int) else dut.i.payload
                ctx.set(target, pending)
            ctx.set(dut.i.valid, int(offer))
            ready = rng.random() < ready_p
            ctx.set(dut.o.ready, int(ready))
            if probe is not None:
                probe(ctx)
            o_valid, payload = ctx.get(dut.o.valid), ctx.get(dut.o.payload)
            if stalled is not None:
                assert o_valid and payload == stalled, "o changed while stalled"
            took = offer and ctx.get(dut.i.ready)
            gave = o_valid and ready
            stalled = payload if o_valid and not ready else None
            if gave:
                received.append(payload)
            if took:
                k, pending = k + 1, None
            records.append((bool(took), bool(gave)))
            await ctx.tick()
        for _ in range(8):  # nothing extra after the expected results
            ctx.set(dut.i.valid, 0)
            ctx.set(dut.o.ready, 1)
            if ctx.get(dut.o.valid):
                received.append(ctx.get(dut.o.payload))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return received, records


def _unit_run(unit, vectors, **kwargs):
    """``(received, expected, records)`` of a vector set through a DotProductUnit, beats from
    :class:`tb.adapters.MacAdapter` (so the adapter's packing is exercised too)."""
    adapter = MacAdapter(unit)
    words = adapter.encode(vectors)
    expected = adapter.golden(vectors)
    received, records = _stream_run(unit, words, expected_count=adapter.count(vectors),
                                    config=adapter.config(vectors), **kwargs)
    return received, expected, records


def _relu_vectors(c, rng, count, max_beats, zeros, single_beat=0.0):
    """Activations with a fraction ``zeros`` of offset-added zeros (ReLU-like), some zero
    weights, random lengths (a fraction ``single_beat`` of one beat), biases, offset."""
    lo, hi = signed_range(c.width)
    k = max_beats * c.lanes
    offset = int(rng.integers(*signed_range(c.width + 1), endpoint=True)) if c.offset else 0
    a = rng.integers(lo, hi, size=(count, k), endpoint=True)
    if -offset in range(lo, hi + 1):
        a[rng.random((count, k)) < zeros] = -offset
    w = rng.integers(lo, hi, size=(count, c.pes, k), endpoint=True)
    w[rng.random(w.shape) < 0.2] = 0
    beats = rng.integers(1, max_beats, size=count, endpoint=True)
    beats[rng.random(count) < single_beat] = 1
    vectors = {"a": a, "w": w if c.pes > 1 else w[:, 0], "length": beats * c.lanes}
    if c.bias:
        blo, bhi = signed_range(min(c.acc_width, 2 * c.width + 4))
        vectors["bias"] = rng.integers(blo, bhi, size=(count, c.pes) if c.pes > 1 else count,
                                       endpoint=True)
    if c.offset:
        vectors["input_offset"] = np.int64(offset)
    return vectors


ARRAYS = [
    {"pes": 3, "lanes": 2},
    {"pes": 3, "lanes": 1, "width": 4, "acc_width": 10, "overflow": "saturate"},
    {"pes": 4, "lanes": 2, "zero_skip": False},
    {"pes": 1, "lanes": 3},
    {"pes": 2, "lanes": 1, "bias": False, "offset": False},
]


def _built(**params):
    """A unit used only for its layouts and the adapter (never simulated)."""
    unit = DotProductUnit(**params)
    unit._MustUse__silence = True
    return unit


def _id(params):
    return ",".join(f"{k}={v}" for k, v in params.items())


@pytest.mark.parametrize("params", ARRAYS, ids=_id)
@pytest.mark.parametrize("valid_p, ready_p", [(1.0, 1.0), (0.6, 0.4)])
def test_array_matches_golden_without_loss(params, valid_p, ready_p):
    """Random packets, 70 % zero activations and 20 % zero weights, a third of them one
    beat long (the result bank stalls the input), under random gaps and backpressure."""
    unit = DotProductUnit(**params)
    rng = np.random.default_rng(len(_id(params)))
    vectors = _relu_vectors(unit, rng, 40, 6, zeros=0.7, single_beat=0.35)
    received, expected, _ = _unit_run(unit, vectors, valid_p=valid_p, ready_p=ready_p,
                                      seed=int(valid_p * 10))
    assert received == expected.tolist()


def test_saturating_array_crosses_its_limits():
    """Saturation happens per PE and per beat, as in the golden model, zero beats included."""
    unit = DotProductUnit(pes=3, lanes=2, width=4, acc_width=9, overflow="saturate")
    rng = np.random.default_rng(3)
    vectors = _relu_vectors(unit, rng, 30, 8, zeros=0.5)
    lo, hi = signed_range(4)
    vectors["a"][:10], vectors["w"][:10] = lo, lo                # large positive products
    vectors["w"][10:20] = hi                                     # and negative ones
    vectors["input_offset"] = np.int64(0)
    exact = ((vectors["a"][:, None, :] * vectors["w"]).sum(axis=-1) + vectors["bias"])
    assert np.any(exact > 255) and np.any(exact < -256)
    received, expected, _ = _unit_run(unit, vectors, ready_p=0.7)
    assert received == expected.tolist()


@pytest.mark.parametrize("pes", [1, 3])
def test_full_rate_and_latency(pes):
    """Packets of at least ``pes`` beats stream at one beat per clock; the first result of a
    packet leaves LATENCY clocks after its last beat, the others one per clock after it."""
    unit = DotProductUnit(pes=pes, lanes=2)
    rng = np.random.default_rng(pes)
    vectors = _relu_vectors(unit, rng, 12, 5, zeros=0.5)
    vectors["length"] = np.maximum(vectors["length"], 2 * pes)
    received, expected, records = _unit_run(unit, vectors)
    assert received == expected.tolist()
    accepted = [t for t, (took, _) in enumerate(records) if took]
    delivered = [t for t, (_, gave) in enumerate(records) if gave]
    assert accepted == list(range(accepted[0], accepted[0] + len(accepted)))  # no stall
    ends = np.cumsum(vectors["length"] // unit.lanes) - 1
    for row, end in enumerate(ends):
        first = delivered[row * pes]
        assert first - accepted[end] == unit.latency
        assert delivered[row * pes:(row + 1) * pes] == list(range(first, first + pes))


def test_single_beat_packets_are_output_bound():
    """One-beat dot products on 4 PEs: 4 clocks each (the bank drains one result per clock
    and the next last beat waits for it), no result lost."""
    unit = DotProductUnit(pes=4)
    rng = np.random.default_rng(9)
    vectors = _relu_vectors(unit, rng, 20, 1, zeros=0.3)
    received, expected, records = _unit_run(unit, vectors)
    assert received == expected.tolist()
    accepted = [t for t, (took, _) in enumerate(records) if took]
    assert np.all(np.diff(accepted)[2:] == 4)


@pytest.mark.parametrize("params", [{"pes": 3, "lanes": 2}, {"pes": 1}], ids=_id)
def test_input_ready_ignores_the_payload(params):
    """``i.ready`` is the same whatever the payload (checked in every cycle of a run with
    backpressure by swapping in random payloads)."""
    unit = DotProductUnit(**params)
    rng = np.random.default_rng(1)
    vectors = _relu_vectors(unit, rng, 12, 3, zeros=0.5, single_beat=0.5)
    words = MacAdapter(unit).encode(vectors)
    width = unit.input_layout.size
    swap = random.Random(2)

    def probe(ctx):
        saved, ready = ctx.get(unit.i.payload.as_value()), ctx.get(unit.i.ready)
        for _ in range(3):
            ctx.set(unit.i.payload.as_value(), swap.getrandbits(width))
            assert ctx.get(unit.i.ready) == ready
        ctx.set(unit.i.payload.as_value(), saved)

    received, _ = _stream_run(unit, words, expected_count=MacAdapter(unit).count(vectors),
                              config=MacAdapter(unit).config(vectors), ready_p=0.5,
                              probe=probe)
    assert received == MacAdapter(unit).golden(vectors).tolist()


def test_zero_skip_is_invisible():
    """zero_skip changes no result: both variants agree with each other and with golden on
    all-zero packets, zero first and last beats, and isolated non-zero pairs."""
    rng = np.random.default_rng(4)
    base = _built(pes=2, lanes=2, zero_skip=False)
    vectors = _relu_vectors(base, rng, 30, 4, zeros=0.9)
    vectors["a"][:5] = -int(vectors["input_offset"])             # whole packets of zeros
    results = [_unit_run(DotProductUnit(pes=2, lanes=2, zero_skip=z), vectors, ready_p=0.6)
               for z in (False, True)]
    for received, expected, _ in results:
        assert received == expected.tolist()


def test_result_bank_serializes_in_order():
    """ResultBank alone: sets of 3 in, one result per transfer out in order, nothing lost
    under random gaps and backpressure; back to back at one result per clock."""
    from amaranth import signed
    bank = ResultBank(3, signed(12))
    rng = np.random.default_rng(0)
    sets = rng.integers(-2048, 2048, size=(30, 3))
    feed = [bank.i.payload.shape().const([int(v) for v in s]) for s in sets]
    received, _ = _stream_run(bank, feed, expected_count=sets.size, valid_p=0.7, ready_p=0.5)
    assert received == sets.reshape(-1).tolist()
    received, records = _stream_run(bank, feed, expected_count=sets.size)
    delivered = [t for t, (_, gave) in enumerate(records) if gave]
    assert received == sets.reshape(-1).tolist()
    assert delivered == list(range(delivered[0], delivered[0] + sets.size))


# -- the vector format ---------------------------------------------------------------------

def test_adapter_broadcasts_weights_and_bias():
    unit = _built(pes=3, lanes=2)
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, size=(5, 4))
    w = rng.integers(-128, 128, size=(3, 4))
    bias = np.array([7, -8, 9])
    adapter = MacAdapter(unit)
    got = adapter.golden({"a": a, "w": w, "bias": bias})
    want = dot_product(a[:, None, :], w[None], bias=bias, lanes=2)
    assert got.tolist() == want.reshape(-1).tolist() and adapter.count({"a": a, "w": w}) == 15
    full = {"a": a, "w": np.broadcast_to(w, (5, 3, 4)), "bias": np.tile(bias, (5, 1))}
    assert adapter.encode(full) == adapter.encode({"a": a, "w": w, "bias": bias})


@pytest.mark.parametrize("vectors, message", [
    ({"a": np.zeros((5, 4)), "w": np.zeros((5, 4))}, r"w must be \[D, P, K\]=\[5, 3, 4\] or "
                                                     r"\[P, K\]=\[3, 4\]"),
    ({"a": np.zeros((5, 4)), "w": np.zeros((5, 2, 4))}, r"w must be \[D, P, K\]"),
    ({"a": np.zeros((5, 4)), "w": np.zeros((3, 4)), "bias": np.zeros(5)},
     r"bias must be \[D, P\] or \[P\] \(D=5, P=3\)"),
    ({"a": np.zeros((5, 4, 1)), "w": np.zeros((3, 4))}, r"a must be \[D, K\]"),
])
def test_adapter_rejects_bad_shapes(vectors, message):
    with pytest.raises(ValueError, match=message):
        MacAdapter(_built(pes=3, lanes=2)).encode(vectors)


def test_adapter_single_pe_format_is_unchanged():
    adapter = MacAdapter(_built(lanes=2))
    with pytest.raises(ValueError, match=r"a and w must both be \[D, K\]"):
        adapter.encode({"a": np.zeros((2, 4)), "w": np.zeros((2, 1, 4))})
    with pytest.raises(ValueError, match=r"bias must be \[D\] \(D=2, P=1\)"):
        adapter.encode({"a": np.zeros((2, 4)), "w": np.zeros((2, 4)), "bias": np.zeros(3)})
    assert adapter.golden({"a": np.ones((2, 4)), "w": np.ones((2, 4)),
                           "bias": np.array([1, 2])}).tolist() == [5, 6]


# -- parameters ----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"pes": 0}, r"pes=0 is out of range: allowed \[1, 64\]"),
    ({"pes": 65}, r"pes=65 is out of range: allowed \[1, 64\]"),
    ({"pes": 2.0}, r"pes=2.0 is not an integer"),
    ({"zero_skip": "yes"}, r"zero_skip='yes' is not a boolean"),
])
def test_parameter_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DotProductUnit(**kwargs)


def test_payload_layouts():
    one, four = _built(lanes=2), _built(lanes=2, pes=4)
    assert [n for n, _ in one.input_layout] == ["a", "w", "bias", "last"]
    assert one.input_layout["w"].shape.length == 2 and one.input_layout.size == 2 * 16 + 33
    assert four.input_layout["w"].shape.length == 4
    assert four.input_layout["bias"].shape.length == 4
    assert four.input_layout.size == 16 + 4 * 16 + 4 * 32 + 1
    assert four.output_shape == one.output_shape
