"""The DNA-TEQ output encoder: golden exactness against golden.dnateq.quantize, parameter and
vector errors, and in-process Amaranth simulations of its sub-components and of the block."""

import numpy as np
import pytest
from amaranth import Signal
from amaranth.sim import Simulator

from quantrtl.golden import dnateq as g
from quantrtl.golden import dnateq_encode as enc
from quantrtl.hw.dnaenc import CodeEncoder, ComparatorBank, DnaTeqEncoder, ThermometerCount
from quantrtl.blocks import adapter_for


def _random_params(rng, n):
    b = float(rng.uniform(1.01, 3.0))
    top = float(10 ** rng.uniform(-2, 3))
    beta = float(top * rng.choice([0.0, 0.001, 0.05, 0.2]))
    return g.ExpParams(b, (top - beta) / b ** ((1 << (n - 1)) - 1), beta, n)


def _probes(rng, thr, width, count=300):
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    near = [s * (int(t) + d) for t in thr for d in (-1, 0, 1) for s in (1, -1)]
    edges = [0, 1, -1, lo, lo + 1, hi, hi - 1]
    fixed = np.array([v for v in near + edges if lo <= v <= hi], dtype=np.int64)
    span = min(2 * int(thr.max()) + 2, hi)
    return np.concatenate([fixed, rng.integers(-span, span, size=count, endpoint=True),
                           rng.integers(lo, hi, size=count // 4, endpoint=True)])


# ---------------------------------------------------------------- golden: exactness

@pytest.mark.parametrize("n", range(3, 8))
def test_encode_equals_quantize(n):
    """encode(R, thresholds(p, F)) == quantize(R * 2^-F, p) exactly, on every threshold and
    its neighbours of both signs, 0, the extremes and random R, for many p, F and widths."""
    rng = np.random.default_rng(n)
    checked = 0
    for _ in range(40):
        p = _random_params(rng, n)
        width = int(rng.integers(8, 55))                 # R * 2^-F exact in float64
        top = float(np.max(np.concatenate(enc.midpoints(p))))
        frac_bits = int(np.clip(np.floor(np.log2(2.0 ** (width - 1) / top)), 0, 63))
        frac_bits = int(rng.integers(max(0, frac_bits - 6), frac_bits + 1))
        thr = enc.thresholds(p, frac_bits=frac_bits, width=width)
        r = _probes(rng, thr, width)
        got = enc.encode(r, thr, n=n, width=width)
        want = g.quantize(r.astype(np.float64) * 2.0 ** -frac_bits, p)
        assert np.array_equal(got, want), (p, width, frac_bits, r[got != want][:5])
        checked += r.size
    assert checked > 40 * 300


def test_encode_at_64_bits():
    """width = 64: R = -2^63 (|R| needs 64 bits) and 2^63 - 1 against full tables; and
    agreement with quantize wherever R * 2^-F is exact in float64."""
    n, width = 5, 64
    hi = (1 << 63) - 1
    full = np.full(31, hi, np.int64)
    codes = enc.encode([-(1 << 63), hi, -hi, 0], full, n=n, width=width)
    assert codes.tolist() == [31, 16, 16, 16]     # only |R| = 2^63 exceeds 2^63 - 1
    assert enc.encode([-(1 << 63), hi, 1, -1], np.zeros(31, np.int64), n=n,
                      width=width).tolist() == [31, 15, 15, 31]
    rng = np.random.default_rng(9)
    p = _random_params(rng, n)
    thr = enc.thresholds(p, frac_bits=40, width=width)
    r = _probes(rng, thr, width)
    exact = np.abs(r.astype(np.float64)) <= 2.0 ** 53
    assert np.array_equal(enc.encode(r, thr, n=n, width=width)[exact],
                          g.quantize(r[exact].astype(np.float64) * 2.0 ** -40, p))


def test_thresholds_and_codes_by_hand():
    """b = 2, alpha = 1, beta = 0, n = 3: levels 1, 2, 4, 8; mid_pos = .5, 1.5, 3, 6,
    mid_neg = 1, 3, 6; at F = 1: T = [1, 3, 6, 12 | 2, 6, 12]."""
    p = g.ExpParams(2.0, 1.0, 0.0, 3)
    thr = enc.thresholds(p, frac_bits=1, width=8)
    assert thr.tolist() == [1, 3, 6, 12, 2, 6, 12]
    r = [0, 1, 2, 3, 4, 100, -1, -2, -3, -6, -7, -100]
    # x = r / 2: 0 -> zero; 0.5 tie -> zero; 1 -> f0; 1.5 tie -> f0; 2 -> f1; 50 -> f3;
    # -0.5, -1 (tie) -> zero; -1.5 -> -f1; -3 (tie) -> -f1; -3.5 -> -f2; -50 -> -f3
    want = [4, 4, 0, 0, 1, 3, 4, 4, 5, 5, 6, 7]
    assert enc.encode(r, thr, n=3, width=8).tolist() == want
    assert g.quantize(np.array(r) / 2.0, p).tolist() == want


def test_table_size_and_order():
    for n in range(3, 8):
        p = _random_params(np.random.default_rng(n), n)
        thr = enc.thresholds(p, frac_bits=8, width=64)
        assert thr.shape == (enc.table_size(n),) == ((1 << n) - 1,)
        m = 1 << (n - 1)
        assert np.all(np.diff(thr[:m]) >= 0) and np.all(np.diff(thr[m:]) >= 0)
        # mid_neg[k] = mid_pos[k + 1] for k >= 1; mid_neg[0] = v1 / 2 lies in the first gap
        assert np.array_equal(thr[m + 1:], thr[2:m])
        assert thr[0] <= thr[m] <= thr[1]


# ---------------------------------------------------------------- golden: errors

@pytest.mark.parametrize("call,match", [
    (lambda: enc.thresholds(g.ExpParams(1.5, 100.0, 0.0, 5), frac_bits=16, width=16),
     r"thresholds\[0\]=3.2768e\+06 \(positive, between zero and f=0\) is out of range: "
     r"allowed \[0, 32767\] \(width=16, frac_bits=16"),
    (lambda: enc.thresholds(g.ExpParams(2.0, 1.0, 0.0, 3), frac_bits=5, width=8),
     r"thresholds\[3\]=192 \(positive, between f=2 and f=3\) is out of range: allowed \[0, 127\]"),
    (lambda: enc.thresholds(g.ExpParams(2.0, 1.0, 0.0, 3), frac_bits=64, width=8),
     r"frac_bits=64 is out of range: allowed \[0, 63\]"),
    (lambda: enc.thresholds(g.ExpParams(2.0, 1.0, 0.0, 3), frac_bits=1, width=65),
     r"width=65 is out of range: allowed \[2, 64\]"),
    (lambda: enc.encode([0], np.zeros(7, int), n=8, width=8),
     r"n=8 is out of range: allowed \[3, 7\]"),
    (lambda: enc.encode([128], np.zeros(7, int), n=3, width=8),
     r"r\[0\]=128 is out of range: allowed \[-128, 127\]"),
    (lambda: enc.encode([0], np.zeros(8, int), n=3, width=8),
     r"thr must have 2\^n - 1 = 7 entries for n=3"),
    (lambda: enc.encode([0], [0, 0, 0, 128, 0, 0, 0], n=3, width=8),
     r"thr\[3\]=128 is out of range: allowed \[0, 127\]"),
    (lambda: enc.encode([0], [0, 5, 4, 6, 0, 0, 0], n=3, width=8),
     r"thr\[2\]=4 is out of range: allowed \[thr\[1\]=5, 127\] \(the positive thresholds"),
    (lambda: enc.encode([0], [0, 1, 2, 3, 9, 1, 10], n=3, width=8),
     r"thr\[5\]=1 is out of range: allowed \[thr\[4\]=9, 127\] \(the negative thresholds"),
    (lambda: enc.encode([0.5], np.zeros(7, int), n=3, width=8), r"r must hold integers"),
])
def test_golden_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_negative_set_starts_after_the_positive_one():
    """Entry M belongs to the negative set: a drop from thr[M-1] to thr[M] is allowed."""
    assert enc.encode([-3, 3], [5, 6, 7, 8, 1, 2, 3], n=3, width=8).tolist() == [4 | 2, 4]


# ---------------------------------------------------------------- block parameters

@pytest.mark.parametrize("params,match", [
    ({"n": 2}, r"n=2 is out of range: allowed \[3, 7\]"),
    ({"n": 8}, r"n=8 is out of range: allowed \[3, 7\]"),
    ({"width": 7}, r"width=7 is out of range: allowed \[8, 64\]"),
    ({"width": 65}, r"width=65 is out of range: allowed \[8, 64\]"),
    ({"n": True}, r"n=True is not an integer"),
])
def test_block_parameter_errors(params, match):
    with pytest.raises(ValueError, match=match):
        DnaTeqEncoder(**params)


def test_block_layout_and_latency():
    c = DnaTeqEncoder(n=6, width=40)
    c._MustUse__silence = True
    fields = {name: (f.offset, f.width) for name, f in c.input_layout}
    assert fields == {"r": (0, 40), "load": (40, 1), "addr": (41, 6), "data": (47, 39)}
    assert c.output_shape.width == 6 and c.latency == 2 and c.entries == 63
    assert DnaTeqEncoder.PARAMS[1].default == 24 + (4 * 1024).bit_length() + 1


def test_sub_component_errors():
    with pytest.raises(ValueError, match=r"t_neg has 3 entries: allowed len\(t_pos\) - 1 = 1"):
        ComparatorBank(Signal(4), Signal(), [Signal(4)] * 2, [Signal(4)] * 3)
    with pytest.raises(ValueError, match=r"len\(t_pos\)=3 is not allowed: allowed a power"):
        CodeEncoder(Signal(4), Signal(), [Signal(4)] * 3, [Signal(4)] * 2)


# ---------------------------------------------------------------- in-process simulation

def _run(dut, bench):
    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.parametrize("q", range(1, 7))
def test_thermometer_count_every_code(q):
    dut = ThermometerCount(q)
    length = (1 << q) - 1

    async def bench(ctx):
        for count in range(length + 1):
            ctx.set(dut.t, (1 << count) - 1)
            assert ctx.get(dut.count) == count

    _run(dut, bench)


def _encoder(n, magnitude_width):
    m = 1 << (n - 1)
    return CodeEncoder(Signal(magnitude_width), Signal(),
                       [Signal(magnitude_width) for _ in range(m)],
                       [Signal(magnitude_width) for _ in range(m - 1)])


@pytest.mark.parametrize("n,width", [(3, 8), (4, 12), (5, 16), (6, 20), (7, 24)])
def test_code_encoder_against_golden(n, width):
    """The comparator bank + thermometer count + code against golden encode: random
    ascending tables (with repeats), every threshold +-1 of both signs, 0, extremes."""
    rng = np.random.default_rng(width)
    dut = _encoder(n, width - 1)
    bank = dut.bank
    m = 1 << (n - 1)
    checked = []

    async def bench(ctx):
        for trial in range(6):
            top = (1 << (width - 1)) - 1 if trial % 2 else int(rng.integers(1, 64))
            pos = np.sort(rng.integers(0, top, size=m, endpoint=True))
            neg = np.sort(rng.integers(0, top, size=m - 1, endpoint=True))
            if trial == 0:
                pos[1:3] = pos[1]                           # repeated thresholds
            thr = np.concatenate([pos, neg])
            for sig, value in zip(bank.t_pos + bank.t_neg, thr):
                ctx.set(sig, int(value))
            r = _probes(rng, thr, width, count=40)
            want = enc.encode(r, thr, n=n, width=width)
            for value, code in zip(r.tolist(), want.tolist()):
                negative = value < 0
                ctx.set(bank.u, (~value if negative else value) & ((1 << (width - 1)) - 1))
                ctx.set(bank.neg, int(negative))
                assert ctx.get(dut.code) == code, (thr.tolist(), value)
                checked.append(value)

    _run(dut, bench)
    assert len(checked) > 6 * 40


def test_block_stream_in_process():
    """The whole block on a stream: table load, results, a reload; o.ready low over the
    reload and over results (the input stalls whatever its payload), codes in order,
    LATENCY clocks each while the output is ready."""
    c = DnaTeqEncoder(n=3, width=8)
    rng = np.random.default_rng(3)
    tables = [np.array([1, 3, 6, 12, 2, 6, 12]), np.array([0, 10, 20, 30, 5, 15, 25])]
    batches = [rng.integers(-128, 128, size=20) for _ in tables]
    beats = []
    for thr, r in zip(tables, batches):
        beats += [{"load": 1, "addr": k, "data": int(t), "r": 0} for k, t in enumerate(thr)]
        beats += [{"load": 0, "addr": 0, "data": 0, "r": int(v)} for v in r]
    want = np.concatenate([enc.encode(r, t, n=3, width=8) for t, r in zip(tables, batches)])
    got, sent_at, got_at, stalled = [], [], [], []

    async def bench(ctx):
        ctx.set(c.o.ready, 1)
        cycle, k = 0, 0
        while len(got) < len(want):
            stall = 28 <= cycle < 34 or 45 <= cycle < 50     # over the reload, over results
            ctx.set(c.o.ready, 0 if stall else 1)
            if k < len(beats):
                ctx.set(c.i.valid, 1)
                ctx.set(c.i.payload, beats[k])
            else:
                ctx.set(c.i.valid, 0)
            if stall and ctx.get(c.o.valid):
                stalled.append(beats[k]["load"] if k < len(beats) else None)
                assert ctx.get(c.i.ready) == 0            # stalled for load and r beats alike
            accepted = k < len(beats) and ctx.get(c.i.ready)
            if ctx.get(c.o.valid) and ctx.get(c.o.ready):
                got.append(ctx.get(c.o.payload))
                got_at.append(cycle)
            if accepted:
                if not beats[k]["load"]:
                    sent_at.append(cycle)
                k += 1
            await ctx.tick()
            cycle += 1
            assert cycle < 500

    sim = Simulator(c)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert got == want.tolist()
    assert 0 in stalled and 1 in stalled                # both kinds of beat were held
    latency = np.array(got_at) - np.array(sent_at)
    assert latency.min() == c.latency and np.mean(latency == c.latency) > 0.6


# ---------------------------------------------------------------- adapter and workload

def _adapter(**params):
    c = DnaTeqEncoder(**params)
    c._MustUse__silence = True
    return adapter_for("dnaenc", c)


def test_adapter_stream_is_table_then_results():
    a = _adapter(n=3, width=16)
    thr = np.array([1, 3, 6, 12, 2, 6, 12])
    vectors = {"r": np.array([5, -5, 0, 32767, -32768]), "thresholds": thr}
    words = a.encode(vectors)
    assert len(words) == 7 + 5
    assert [a.codec.unpack(w)["data"] for w in words[:7]] == thr.tolist()
    assert [a.codec.unpack(w)["addr"] for w in words[:7]] == list(range(7))
    assert all(a.codec.unpack(w)["load"] == 1 for w in words[:7])
    assert [a.codec.unpack(w)["r"] for w in words[7:]] == vectors["r"].tolist()
    assert all(a.codec.unpack(w)["load"] == 0 for w in words[7:])
    assert a.golden(vectors).tolist() == enc.encode(vectors["r"], thr, n=3, width=16).tolist()
    assert a.count(vectors) == 5 and a.output == "codes"


def test_adapter_thresholds_from_parameters():
    a = _adapter(n=4, width=24)
    p = g.ExpParams(1.5, 0.02, 0.001, 4)
    vectors = {"r": np.array([0, 1000, -1000]), "b": 1.5, "alpha": 0.02, "beta": 0.001,
               "frac_bits": np.int64(12)}
    assert np.array_equal(a.thresholds(vectors), enc.thresholds(p, frac_bits=12, width=24))
    assert np.array_equal(a.golden(vectors), g.quantize(vectors["r"] * 2.0 ** -12, p))


@pytest.mark.parametrize("change,match", [
    ({"q": 1}, r"unknown field 'q'"),
    ({"r": None}, r"missing field 'r'"),
    ({"r": np.zeros((2, 2), int)}, r"r must be one-dimensional \[N\], got shape \(2, 2\)"),
    ({"r": np.array([1 << 15])}, r"r\[0\]=32768 is out of range: allowed \[-32768, 32767\]"),
    ({"r": np.array([0.5])}, r"r must hold integers"),
    ({"thresholds": np.zeros(6, int)}, r"thresholds must have 2\^n - 1 = 7 entries"),
    ({"thresholds": np.array([0, 0, 0, 0, 0, 0, -1])},
     r"thresholds\[6\]=-1 is out of range: allowed \[0, 32767\]"),
    ({"thresholds": np.array([0, 2, 1, 3, 0, 0, 0])}, r"thresholds\[2\]=1 is out of range"),
    ({"b": 1.5}, r"either thresholds or"),
    ({"thresholds": None, "b": 1.5}, r"missing field 'alpha'"),
    ({"thresholds": None, "b": 1.5, "alpha": 0.1, "beta": 0.0, "frac_bits": 1.5},
     r"frac_bits must hold integers"),
    ({"thresholds": None, "b": 1.5, "alpha": 0.1, "beta": 0.0, "frac_bits": np.arange(2)},
     r"frac_bits must be a scalar"),
    ({"thresholds": None, "b": 0.5, "alpha": 0.1, "beta": 0.0, "frac_bits": 3},
     r"b=0.5 is out of range"),
    ({"thresholds": None, "b": 1.5, "alpha": 100.0, "beta": 0.0, "frac_bits": 16},
     r"thresholds\[0\]=.* is out of range: allowed \[0, 32767\]"),
])
def test_adapter_errors(change, match):
    a = _adapter(n=3, width=16)
    vectors = {"r": np.array([1, 2]), "thresholds": np.zeros(7, int)}
    vectors.update(change)
    vectors = {k: v for k, v in vectors.items() if v is not None}
    with pytest.raises(ValueError, match=match):
        a.encode(vectors)


@pytest.mark.parametrize("n,width", [(3, 16), (5, 38), (7, 40), (5, 8)])
def test_workload_results_and_table(n, width):
    from quantrtl.blocks import get_block
    a = _adapter(n=n, width=width)
    vectors, info = get_block("dnaenc").workload(a.c, np.random.default_rng(1))
    assert info["ops"] == vectors["r"].size == 512 and info["skip_beats"] == (1 << n) - 1
    assert info["op"] == "result" and info["dot_products"] == 0 and info["length"] == 1
    assert np.abs(vectors["r"]).max() < 1 << (width - 1)
    codes = a.golden(vectors)
    p = g.ExpParams(float(vectors["b"]), float(vectors["alpha"]), float(vectors["beta"]), n)
    real = vectors["r"] * 2.0 ** -int(vectors["frac_bits"])
    assert np.array_equal(codes, g.quantize(real, p))
    assert len(np.unique(codes)) > (1 << n) // 2          # the codes are spread, both signs
    assert np.any(codes >> (n - 1) & (codes != 1 << (n - 1))) and np.any(codes < 1 << (n - 1))
