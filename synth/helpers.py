"""Small reference designs for calibrating the flow: a registered multiplier and adder.

``a`` and ``b`` are registered, combined, and the result registered again, so the
combinational operator sits between two flip-flop stages as in a pipeline.  They are not
quantrtl blocks (no streams); they exist to check the flow's orderings (a multiplier is
larger than an adder of the same width) and to compare the measured energy of one INT8
multiply or INT32 add with Horowitz's figures.
"""

from __future__ import annotations

from amaranth import Module, Signal, signed
from amaranth.back import verilog

from quantrtl.hw.component import Elaboratable
from quantrtl.spec import check_choice, check_int

__all__ = ["HELPERS", "helper_verilog", "helper_inputs"]

HELPERS = ("mul", "add")


class _Registered(Elaboratable):
    def __init__(self, op, width):
        self.op = check_choice("op", op, HELPERS)
        self.width = check_int("width", width, 2, 64)
        self.a = Signal(signed(width))
        self.b = Signal(signed(width))
        out = 2 * width if op == "mul" else width
        self.y = Signal(signed(out))

    def elaborate(self, platform):
        m = Module()
        ra, rb = Signal.like(self.a, name="ra"), Signal.like(self.b, name="rb")
        m.d.sync += [ra.eq(self.a), rb.eq(self.b)]
        if self.op == "mul":
            m.d.sync += self.y.eq(ra * rb)
        else:
            m.d.sync += self.y.eq((ra + rb)[:self.width])   # wraps, as an INTn add
        return m


def helper_top(op: str, width: int) -> str:
    return f"quantrtl_helper_{op}{width}"


def helper_verilog(op: str, width: int) -> str:
    d = _Registered(op, width)
    return verilog.convert(d, name=helper_top(op, width), ports=[d.a, d.b, d.y],
                           emit_src=False)


def helper_inputs(op: str, width: int) -> dict:
    return {"a": width, "b": width}
