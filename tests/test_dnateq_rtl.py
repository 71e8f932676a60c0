"""In-process Amaranth simulations of the DNA-TEQ datapath (:mod:`hw.dnateq`) and its
sub-components against the golden model: fast, no HDL simulator (cocotb runs the whole
block on Verilator and Icarus in tests/test_sim_dnateq.py)."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from quantrtl.golden import dnateq as g
from quantrtl.hw.dnateq import (CounterBank, DnaTeqDotProduct, HandOver, Lut, LutWritePort,
                              PairDecoder, PostProcessor, StepMerge)
from quantrtl.blocks import adapter_for


def _simulate(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(10e-9, if_exists=True)   # combinational parts have no clock
    sim.add_testbench(bench)
    sim.run()


def _stream(dut, words, expected, *, rng, valid_p=1.0, ready_p=1.0, limit=20000):
    """Drive ``words`` into ``dut.i`` under random gaps, collect ``dut.o`` under random
    backpressure, checking the stream rule (a stalled output holds its payload)."""
    got = []

    async def bench(ctx):
        k, held = 0, None
        for _ in range(limit):
            offer = k < len(words) and rng.random() < valid_p
            ctx.set(dut.i.valid, int(offer))
            if offer:
                ctx.set(dut.i.payload.as_value(), words[k])
            ready = int(rng.random() < ready_p)
            ctx.set(dut.o.ready, ready)
            await ctx.delay(1e-9)
            if offer and ctx.get(dut.i.ready):
                k += 1
            if ctx.get(dut.o.valid):
                payload = ctx.get(dut.o.payload)
                if held is not None:
                    assert payload == held, "payload changed while stalled"
                if ready:
                    got.append(payload)
                    held = None
                else:
                    held = payload
            else:
                assert held is None, "valid dropped without a transfer"
            await ctx.tick()
            if len(got) >= len(expected) and k == len(words):
                break
    _simulate(dut, bench)
    return got


@pytest.mark.parametrize("params, valid_p, ready_p", [
    ({"n": 3, "lanes": 2, "pp_lanes": 2, "max_length": 64}, 1.0, 1.0),
    ({"n": 4, "lanes": 1, "pp_lanes": 4, "max_length": 64, "pes": 3}, 0.6, 0.5),
    ({"n": 5, "lanes": 1, "pp_lanes": 64, "max_length": 40, "pes": 5}, 1.0, 1.0),
    ({"n": 3, "lanes": 3, "pp_lanes": 1, "max_length": 64, "pes": 2, "counter": "twos",
      "isolate": False, "fold_c3": False}, 0.6, 0.5),
], ids=["n3-lanes2", "n4-pes3-stalls", "n5-pes5-pp64", "n3-twos-unfolded-stalls"])
def test_block_matches_golden(params, valid_p, ready_p):
    """Random codes (zeros on both sides) and lengths, a random LUT, random gaps and
    backpressure: every result of every PE equals golden.dnateq.dot_product."""
    dut = DnaTeqDotProduct(**params)
    adapter = adapter_for("dnateq", dut)
    rng = np.random.default_rng(len(str(params)))
    rows, k = 8, 24
    vectors = {"x": rng.integers(0, 1 << dut.n, size=(rows, k)),
               "w": rng.integers(0, 1 << dut.n, size=(rows, k) if dut.pes == 1
                                 else (rows, dut.pes, k)),
               "lut": rng.integers(0, 1 << dut.lut_width, size=dut.entries),
               "length": rng.integers(1, k, size=rows, endpoint=True)}
    vectors["x"][rng.random((rows, k)) < 0.25] = dut.zero_code
    expected = np.asarray(adapter.golden(vectors)).reshape(-1)
    got = _stream(dut, adapter.encode(vectors), expected, rng=rng, valid_p=valid_p,
                  ready_p=ready_p)
    assert got == expected.tolist()


@pytest.mark.parametrize("counter", ["signmag", "twos"])
def test_counter_bank_counts_and_snapshots(counter):
    """One bank against golden.dnateq.counters: pairs counted, a copy hands the counts to
    the snapshot (read back in sign-magnitude, entry by entry) and restarts the counters at
    the copy's own pair."""
    n, width = 4, 8
    bank = CounterBank(n=n, width=width, pp_lanes=2, fold_c3=True, isolate=True,
                       counter=counter)
    rng = np.random.default_rng(3)
    m = 1 << (n - 1)
    pairs = [(int(rng.integers(0, 2 * m)), int(rng.integers(0, 2 * m))) for _ in range(60)]
    first, second = pairs[:40], pairs[40:]
    want = [g.counters(np.array([[x for x, _ in part]]), np.array([[w for _, w in part]]), n)[0]
            for part in (first, second)]

    async def bench(ctx):
        def drive(x, w, copy=0):
            live = x != m and w != m
            ctx.set(bank.pair.live, int(live))
            ctx.set(bank.pair.neg, (x >> (n - 1)) ^ (w >> (n - 1)))
            ctx.set(bank.pair.fx, x & (m - 1))
            ctx.set(bank.pair.fw, w & (m - 1))
            ctx.set(bank.ctl.copy, copy)
        for x, w in first:
            drive(x, w)
            await ctx.tick()
        # The copy clock also counts the second part's first pair.
        drive(*second[0], copy=1)
        await ctx.tick()
        for x, w in second[1:]:
            drive(x, w)
            await ctx.tick()
        async def check_snapshot(counts):
            for step in range(bank.steps):
                ctx.set(bank.ctl.step, step)
                await ctx.delay(1e-9)
                for j in range(2):
                    e = step * 2 + j
                    mag = ctx.get(bank.read.mag[j])
                    value = -mag if ctx.get(bank.read.neg[j]) else mag
                    assert value == (counts[e] if e < bank.counted else 0), (e, value)
        ctx.set(bank.pair.live, 0)
        await check_snapshot(want[0])
        ctx.set(bank.ctl.copy, 1)           # hand over the second part
        await ctx.tick()
        ctx.set(bank.ctl.copy, 0)
        await check_snapshot(want[1])
    _simulate(bank, bench)


def test_post_processor_sums_counts_times_lut_and_skips_zeros():
    """Steps of sign-magnitude counts (half of them zero) and LUT entries: each result is
    the exact sum of count x entry over its steps, under backpressure."""
    pp = PostProcessor(pp_lanes=2, count_width=6, lut_width=10, result_width=24)
    rng = np.random.default_rng(9)
    words, expected, layout = [], [], pp.step_layout
    for _ in range(12):
        steps = int(rng.integers(1, 5))
        total = 0
        for s in range(steps):
            mag = rng.integers(0, 40, size=2) * (rng.random(2) < 0.5)
            neg = rng.integers(0, 2, size=2)
            lut = rng.integers(0, 1 << 10, size=2)
            total += int(np.sum(np.where(neg == 1, -mag, mag) * lut))
            value = layout.const({"mag": mag.tolist(), "neg": neg.tolist(), "lut": lut.tolist(),
                                 "first": int(s == 0), "last": int(s == steps - 1)})
            words.append(value.as_value().value)
        expected.append(total)
    got = _stream(pp, words, expected, rng=rng, ready_p=0.6)
    assert got == expected


def test_fold_c3_is_the_same_dot_product():
    """The folded entry space gives the same real result as the unfolded one (within the
    LUT rounding), and the unfolded counters' C3 is what folding removes."""
    rng = np.random.default_rng(4)
    px, pw = g.ExpParams(1.4, 0.05, 0.01, 4), g.ExpParams(1.4, 0.002, 0.0005, 4)
    cx, cw = rng.integers(0, 16, size=(20, 50)), rng.integers(0, 16, size=(20, 50))
    plain = g.dot_real(cx, cw, px, pw, frac_bits=20)
    folded = g.dot_real(cx, cw, px, pw, frac_bits=20, fold_c3=True)
    exact = g.dot_identity(cx, cw, px, pw)
    bound = 2.0 ** -21 * 4 * 50
    assert np.all(np.abs(plain - exact) <= bound) and np.all(np.abs(folded - exact) <= bound)
    lut = g.make_lut(px, pw, frac_bits=20, lut_width=40, fold_c3=True)
    unfolded = g.make_lut(px, pw, frac_bits=20, lut_width=40)
    assert lut[-1] == 0 and unfolded[-1] > 0 and np.all(lut[:7] >= unfolded[:7])
    # A raw LUT's C3 entry is ignored in the folded space.
    raw = lut.copy()
    raw[-1] = 12345
    assert np.array_equal(g.dot_product(cx, cw, raw, n=4, fold_c3=True),
                          g.dot_product(cx, cw, lut, n=4, fold_c3=True))
    with pytest.raises(ValueError, match="may exceed int64"):
        g.dot_product(np.zeros((1, 1 << 17), int), np.zeros((1, 1 << 17), int),
                      np.full(32, (1 << 48) - 1), n=4)


def _one_pair_counts(dut, ctx, p, lane, n):
    """The entry-space counts of the pair ``pairs[p][lane]`` of a :class:`PairDecoder`
    (as a counter bank moves them: C0[fx+fw], C1[fx], C2[fw], C3 by the sign product)."""
    m = 1 << (n - 1)
    pair = dut.pairs[p][lane]
    counts = np.zeros(4 * m, dtype=np.int64)
    if ctx.get(pair.live):
        sign = -1 if ctx.get(pair.neg) else 1
        fx, fw = ctx.get(pair.fx), ctx.get(pair.fw)
        for e in (fx + fw, 2 * m - 1 + fx, 3 * m - 1 + fw, 4 * m - 1):
            counts[e] += sign
    return counts


@pytest.mark.parametrize("pes", [1, 3])
def test_pair_decoder_moves_the_golden_counters(pes):
    """Every code pair (zero codes included) decodes to the counter moves of
    golden.dnateq.counters of that single pair; nothing moves when the beat is not taken."""
    n, lanes = 4, 2
    dut = PairDecoder(n=n, lanes=lanes, pes=pes)
    rng = np.random.default_rng(11)

    async def bench(ctx):
        for trial in range(200):
            take = int(trial % 7 != 0)
            x = rng.integers(0, 1 << n, size=lanes)
            w = rng.integers(0, 1 << n, size=(pes, lanes))
            x[rng.random(lanes) < 0.2] = 1 << (n - 1)
            ctx.set(dut.take, take)
            for lane in range(lanes):
                ctx.set(dut.x[lane], int(x[lane]))
                for p in range(pes):
                    port = dut.w[lane] if pes == 1 else dut.w[p][lane]
                    ctx.set(port, int(w[p, lane]))
            await ctx.delay(1e-9)
            for p in range(pes):
                for lane in range(lanes):
                    want = g.counters(x[None, lane:lane + 1], w[None, p, lane:lane + 1], n)[0]
                    got = _one_pair_counts(dut, ctx, p, lane, n)
                    assert np.array_equal(got, want * take), (trial, p, lane)
    _simulate(dut, bench)


def test_step_merge_sums_lanes_per_pe():
    """Entry counts of every lane's snapshot (sign-magnitude) merge to the golden counters
    of all the lanes' pairs together, for the PE selected, at every step."""
    n, lanes, pes, pp = 3, 3, 2, 4
    width = 7
    dut = StepMerge(pes=pes, lanes=lanes, bank_width=width, count_width=8, pp_lanes=pp)
    rng = np.random.default_rng(5)
    m = 1 << (n - 1)
    entries = 4 * m

    async def bench(ctx):
        for trial in range(20):
            x = rng.integers(0, 2 * m, size=(pes, lanes, 20))
            w = rng.integers(0, 2 * m, size=(pes, lanes, 20))
            per_lane = np.array([[g.counters(x[p, lane][None], w[p, lane][None], n)[0]
                                  for lane in range(lanes)] for p in range(pes)])
            want = [g.counters(x[p].reshape(1, -1), w[p].reshape(1, -1), n)[0]
                    for p in range(pes)]
            for step in range(entries // pp):
                for p in range(pes):
                    for lane in range(lanes):
                        bank = dut.banks[p][lane]
                        for j in range(pp):
                            v = int(per_lane[p, lane, step * pp + j])
                            ctx.set(bank.mag[j], abs(v))
                            ctx.set(bank.neg[j], int(v < 0))
                pe = int(rng.integers(0, pes))
                ctx.set(dut.pe, pe)
                await ctx.delay(1e-9)
                for j in range(pp):
                    mag, neg = ctx.get(dut.mag[j]), ctx.get(dut.neg[j])
                    assert (-mag if neg else mag) == want[pe][step * pp + j], (trial, step, j)
    _simulate(dut, bench)


def test_lut_and_write_port_hold_writes_until_idle():
    """The LUT reads back what was written (the folded C3 entry as 0, its writes ignored);
    a write while the engine is busy is held (``pending``) and lands in the first idle
    clock, so the table a dot product uses is golden.dnateq.dot_product's ``lut``."""
    n, pp, width = 3, 4, 10
    entries = g.num_entries(n)
    port, lut = LutWritePort(entries=entries, width=width), Lut(
        entries=entries, counted=entries - 1, width=width, pp_lanes=pp)
    from amaranth import Module
    from amaranth.lib import wiring
    top = Module()
    top.submodules.port, top.submodules.lut = port, lut
    wiring.connect(top, port.w, lut.w)
    rng = np.random.default_rng(8)
    table = np.zeros(entries, dtype=np.int64)

    async def bench(ctx):
        async def read_all():
            out = []
            for step in range(entries // pp):
                ctx.set(lut.step, step)
                await ctx.delay(1e-9)
                out += [ctx.get(lut.read[j]) for j in range(pp)]
            return np.array(out)
        for trial in range(60):
            addr, value = int(rng.integers(0, entries)), int(rng.integers(0, 1 << width))
            busy = trial % 3 == 0
            ctx.set(port.idle, int(not busy))
            ctx.set(port.load, 1)
            ctx.set(port.addr, addr)
            ctx.set(port.data, value)
            await ctx.tick()
            ctx.set(port.load, 0)
            if busy:                     # held: the table has not changed yet
                assert ctx.get(port.pending) == 1
                assert np.array_equal(await read_all(), table)
                for _ in range(int(rng.integers(0, 3))):
                    await ctx.tick()     # still busy, still held
                    assert ctx.get(port.pending) == 1
                ctx.set(port.idle, 1)
                await ctx.tick()
            assert ctx.get(port.pending) == 0
            if addr != entries - 1:      # folded C3: no register, the write is ignored
                table[addr] = value
            assert np.array_equal(await read_all(), table), trial
        # The table read is golden's: a dot product through it matches dot_product.
        cx = rng.integers(0, 8, size=(4, 10))
        cw = rng.integers(0, 8, size=(4, 10))
        assert np.array_equal(g.dot_product(cx, cw, await read_all(), n=n, fold_c3=True),
                              g.dot_product(cx, cw, table, n=n, fold_c3=True))
    _simulate(top, bench)


@pytest.mark.parametrize("pes, steps", [(1, 4), (3, 2), (2, 1)])
def test_hand_over_schedule(pes, steps):
    """Completed dot products (beats of ``i``, held until copied) under random step
    acceptance: each is copied once the snapshot is free and post-processed as ``pes x
    steps`` steps in PE-major order, ``first``/``last`` marking each PE's steps; none lost,
    none repeated (a reference model of the schedule the golden cycle model assumes:
    ``cycles_per_dot_product``)."""
    dut = HandOver(steps=steps, pes=pes)
    rng = np.random.default_rng(pes * 10 + steps)

    async def bench(ctx):
        copies, offered, held, issued = 0, 0, 0, []
        for cycle in range(600):
            accept = int(rng.random() < 0.7)
            busy = ctx.get(dut.busy)
            ctx.set(dut.issue, int(busy and accept))
            # The counters fill with a completed dot product now and then and hold it
            # (the stream rule) until it is copied.
            if not held and rng.random() < 0.15:
                held, offered = 1, offered + 1
            ctx.set(dut.i.valid, held)
            await ctx.delay(1e-9)
            assert ctx.get(dut.idle) == int(not held and not busy)
            copy = ctx.get(dut.ctl.copy)
            assert copy == (held and ctx.get(dut.i.ready))
            # The snapshot is free at once when idle, else in the final step's clock.
            final = busy and accept and ctx.get(dut.last) and ctx.get(dut.pe) == pes - 1
            assert ctx.get(dut.i.ready) == int(not busy or final)
            if busy and accept:
                issued.append((ctx.get(dut.pe), ctx.get(dut.ctl.step),
                               ctx.get(dut.first), ctx.get(dut.last)))
            if copy:
                copies, held = copies + 1, 0
            await ctx.tick()
        whole = len(issued) // (pes * steps) * (pes * steps)
        want = [(p, s, int(s == 0), int(s == steps - 1)) for _ in range(whole // (pes * steps))
                for p in range(pes) for s in range(steps)]
        assert issued[:whole] == want and copies >= whole // (pes * steps)
        assert offered - copies in (0, 1) and offered > 10
    _simulate(dut, bench)
