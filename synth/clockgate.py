"""Clock gating: the integrated clock-gating cell built from osu018 cells, and the Yosys steps
that insert it.

OSU018 has no integrated clock-gating (ICG) cell, so :data:`ICG_VERILOG` builds the standard
latch-based one from three library cells, as a real cell in the netlist::

    CLK --+------------------------ AND2X2 --- GCLK
          |                           |
          +-- INVX1 -- LATCH(CLK) --- + (Q)
                        D = E

The latch is transparent while ``CLK`` is low (its enable is the inverted clock), so the
enable ``E`` is captured as the clock rises and held through the high phase: ``GCLK`` is the
clock while ``E`` was high at the rising edge, and low otherwise, without glitches.  Its area,
timing and energy are those of its three cells, priced from the liberty like every other cell
(the cells' instance names start with the ICG's, ``icg_<k>.``).

Insertion (:data:`GATING_STEPS`, run on the coarse netlist before technology mapping):
Amaranth gives its registers a synchronous reset that takes priority over their enable
(``$_SDFFE_``), which Yosys's ``clockgate`` pass cannot gate.  ``dfflegalize`` first rewrites
every such flip-flop into the enable-over-reset form (``$_SDFFCE_``) with the reset folded
into the enable (``E' = E | rst``), ``opt_merge`` shares the identical enables of a register
group, then ``clockgate`` gives every group of at least :data:`MIN_GROUP` flip-flops that
share a clock and an enable one ICG and drops their enables.  The synchronous reset of a
gated flip-flop still works: its enable includes the reset, so its clock runs during reset.

Group size: a gating cell costs about as much clock energy per cycle as 1.7 flip-flops
(its inverter and AND are two loads on the clock tree, and its latch is clocked every
cycle), so a group of three or more flip-flops that is idle about half the time or more
pays for its gate; smaller groups keep their enable multiplexers.
"""

from __future__ import annotations

__all__ = ["ICG_CELL", "ICG_PREFIX", "ICG_VERILOG", "MIN_GROUP", "GATING_STEPS",
           "INSTANCE_STEPS", "is_icg_instance"]

ICG_CELL = "QUANTRTL_ICG"
ICG_PREFIX = "icg_"
MIN_GROUP = 3        # flip-flops per enable group worth a gating cell (see the module docstring)

ICG_VERILOG = f"""// Integrated clock-gating cell from osu018 cells (quantrtl synth.clockgate)
module {ICG_CELL} (CLK, E, GCLK);
  input CLK, E;
  output GCLK;
  wire clk_n, enable;
  INVX1 inv (.A(CLK), .Y(clk_n));
  LATCH latch (.CLK(clk_n), .D(E), .Q(enable));
  AND2X2 gate (.A(CLK), .B(enable), .Y(GCLK));
endmodule
"""

GATING_STEPS = f"""
dfflegalize -cell $_SDFFCE_PP0P_ 01 -cell $_SDFFCE_PP1P_ 01 -cell $_DFFE_PP_ 01 -cell $_DFF_P_ 01 -cell $_SDFF_PP0_ 01 -cell $_SDFF_PP1_ 01
opt_merge
opt_clean
clockgate -pos {ICG_CELL} E:CLK:GCLK -min_net_size {MIN_GROUP}
rename -enumerate -pattern {ICG_PREFIX}% t:{ICG_CELL}
"""

# After technology mapping: the ICG cells become their three library cells.
INSTANCE_STEPS = """
read_verilog -overwrite icg.v
hierarchy -top {top}
flatten
"""


def is_icg_instance(name: str) -> bool:
    """Whether a flattened netlist instance belongs to a clock-gating cell."""
    return name.startswith(ICG_PREFIX) and "." in name
