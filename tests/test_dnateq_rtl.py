"""In-process Amaranth simulations of the DNA-TEQ datapath (:mod:`hw.dnateq`) and its
sub-components against the golden model: fast, no HDL simulator (cocotb runs the whole
block on Verilator and Icarus in tests/test_sim_dnateq.py)."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from quantrtl.golden import dnateq as g
from quantrtl.hw.dnateq import CounterBank, DnaTeqDotProduct, PostProcessor
from quantrtl.blocks import adapter_for


def _simulate(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(10e-9)
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
            ctx.set(bank.live, int(live))
            ctx.set(bank.neg, (x >> (n - 1)) ^ (w >> (n - 1)))
            ctx.set(bank.fx, x & (m - 1))
            ctx.set(bank.fw, w & (m - 1))
            ctx.set(bank.copy, copy)
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
                ctx.set(bank.step, step)
                await ctx.delay(1e-9)
                for j in range(2):
                    e = step * 2 + j
                    mag = ctx.get(bank.read_mag[j])
                    value = -mag if ctx.get(bank.read_neg[j]) else mag
                    assert value == (counts[e] if e < bank.counted else 0), (e, value)
        ctx.set(bank.live, 0)
        await check_snapshot(want[0])
        ctx.set(bank.copy, 1)           # hand over the second part
        await ctx.tick()
        ctx.set(bank.copy, 0)
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
