"""The integration examples of examples/: a quantrtl block inside a user's own Amaranth
design (simulated in-process) and inside a plain Verilog top (Icarus), both checked against
the golden model."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from amaranth.sim import Simulator

from quantrtl.blocks import get_block
from quantrtl.golden.mac import dot_product
from quantrtl.golden.requant import quantize_multiplier, requantize
from quantrtl.vectors.codec import PayloadCodec

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_a_users_amaranth_design_with_a_mac_and_a_requantizer():
    top = _load("amaranth_top").QuantizedDot(lanes=4)
    rng = np.random.default_rng(5)
    rows, beats = 6, 3                                   # 6 dot products of 12 pairs
    a = rng.integers(-128, 128, (rows, 4 * beats))
    w = rng.integers(-128, 128, (rows, 4 * beats))
    bias = rng.integers(-5000, 5000, rows)
    offset, zp = 128, -7
    m0, shift = quantize_multiplier(0.0007)
    acc = dot_product(a, w, input_offset=offset, bias=bias, lanes=4)
    want = requantize(acc, m0, shift, zero_point=zp, qmin=-128, qmax=127)
    got = []

    async def bench(ctx):
        ctx.set(top.input_offset, offset)
        ctx.set(top.multiplier, int(m0))
        ctx.set(top.shift, int(shift))
        ctx.set(top.zero_point, zp)
        ctx.set(top.qmin, -128)
        ctx.set(top.qmax, 127)
        ctx.set(top.o.ready, 1)
        for r in range(rows):
            for b in range(beats):
                lanes = slice(4 * b, 4 * b + 4)
                ctx.set(top.i.payload, {"a": list(map(int, a[r, lanes])),
                                        "w": list(map(int, w[r, lanes])),
                                        "bias": int(bias[r]), "last": int(b == beats - 1)})
                ctx.set(top.i.valid, 1)
                await ctx.tick().until(top.i.ready)
        ctx.set(top.i.valid, 0)

    async def collect(ctx):
        while len(got) < rows:
            _, _, valid, payload = await ctx.tick().sample(top.o.valid, top.o.payload)
            if valid:
                got.append(int(payload))

    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.add_testbench(collect, background=True)
    sim.run_until(1e-5)
    assert got == [int(v) for v in want]


def test_a_plain_verilog_top_instantiates_the_emitted_requantizer(tmp_path):
    if shutil.which("iverilog") is None:
        pytest.skip("Icarus Verilog is not installed (make icarus)")
    block = get_block("requant")
    block.emit(tmp_path)
    codec = PayloadCodec(block.build().input_layout)
    rng = np.random.default_rng(9)
    count = 300
    acc = rng.integers(-(1 << 31), 1 << 31, count)
    mult = rng.integers(1 << 30, 1 << 31, count)
    shift = rng.integers(-31, 31, count)
    words = codec.pack_columns({"acc": acc, "multiplier": mult, "shift": shift})
    (tmp_path / "in.hex").write_text("".join(f"{w:018x}\n" for w in words))
    top = EXAMPLES / "verilog_top" / "top.v"
    subprocess.run(["iverilog", "-g2012", "-o", str(tmp_path / "top"), str(top),
                    str(tmp_path / "quantrtl_requant.v")], check=True)
    subprocess.run(["vvp", "-n", str(tmp_path / "top"), f"+vectors={tmp_path / 'in.hex'}",
                    f"+out={tmp_path / 'out.txt'}", f"+count={count}"], check=True,
                   capture_output=True, timeout=120)
    got = [int(v) for v in (tmp_path / "out.txt").read_text().split()]
    want = requantize(acc, mult, shift, zero_point=3, qmin=-128, qmax=127)
    assert got == [int(v) for v in want]
